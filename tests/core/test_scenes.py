"""Digit scenes: deterministic, non-overlapping, masks and boxes that agree, disjoint digits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.adapt import BatchPreparer
from core.data.augmentation import Augmentation
from core.data.datasets import DataError, load_dataset
from core.data.scenes import SceneOptions, _digit_pools, make_scenes, parse_options
from core.tasks import task_for


def test_scenes_are_deterministic_by_seed() -> None:
    options = SceneOptions(n=20)
    a, b = make_scenes(20, 0, options, 5), make_scenes(20, 0, options, 5)
    c = make_scenes(20, 0, options, 6)
    assert torch.equal(a.images, b.images) and torch.equal(a.boxes, b.boxes)
    assert not torch.equal(a.images, c.images)


def test_masks_boxes_and_labels_agree_and_digits_never_overlap() -> None:
    options = SceneOptions(n=200, min=1, max=4)
    scenes = make_scenes(200, 0, options, 1)
    assert scenes.images.shape == (200, 1, 64, 64) and scenes.masks.shape == (200, 64, 64)
    counts = (scenes.boxes[..., 0] >= 0).sum(1)
    assert counts.min() >= 1 and counts.max() <= 4 and counts.float().mean() > 1.5
    for n in range(200):
        mask = scenes.masks[n]
        valid = scenes.boxes[n][scenes.boxes[n, :, 0] >= 0]
        covered = torch.zeros_like(mask, dtype=torch.bool)
        for label, x1, y1, x2, y2 in valid.long().tolist():
            inside = mask[y1:y2, x1:x2]
            assert (inside == label + 1).any()  # the digit's strokes are in its box
            assert not covered[y1:y2, x1:x2].any()  # boxes never overlap
            covered[y1:y2, x1:x2] = True
            assert 2 <= x2 - x1 <= 32 and 8 <= y2 - y1 <= 32  # a "1" is narrow
        assert not mask[~covered].any()  # no mask pixel outside every box
        assert int(scenes.labels[n]) == int(valid[0, 0])


def test_test_scenes_use_digit_images_never_used_in_training() -> None:
    train, _, test = _digit_pools()
    train_rows = {row.tobytes() for row in train[0]}
    assert not any(row.tobytes() in train_rows for row in test[0])


def test_the_dataset_argument_sets_count_size_and_digits() -> None:
    data = load_dataset("digit-scenes:n=40,size=48,max=1,seed=3", (1, 48, 48))
    assert len(data.train) == 40 and data.image_shape == (1, 48, 48)
    assert data.train.boxes is not None and data.train.boxes.shape[1] == 1
    assert len(load_dataset("digit-scenes:100").train) == 100
    assert load_dataset("digit-scenes", (1, 96, 96)).image_shape == (1, 96, 96)


@pytest.mark.parametrize(("text", "message"), [
    ("digit-scenes:colour=3", 'unknown option "colour"'),
    ("digit-scenes:n=many", "n must be a whole number"),
    ("digit-scenes:size=8", "size must be 32–512"),
    ("digit-scenes:min=3,max=2", "1 ≤ min ≤ max ≤ 8"),
])
def test_bad_options_are_one_clear_message(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        parse_options(text)


def test_augmentation_moves_masks_and_boxes_with_the_image() -> None:
    data = load_dataset("digit-scenes:n=32", (1, 64, 64))
    prepare = BatchPreparer(data, (1, 64, 64), Augmentation(flip=True, crop=6, rotation=0))
    torch.manual_seed(0)
    for task in (task_for("segmentation"), task_for("detection")):
        targets = task.targets(data.train, data)
        images = data.train.images
        # the raw image (not normalised) is what we compare: undo the normalisation
        x, y = prepare.with_targets(images, targets, task)
        raw = x * prepare.std[:, None, None] + prepare.mean[:, None, None]
        moved = 0
        for n in range(len(images)):
            if task.name == "segmentation":
                strokes = raw[n, 0][y[n] > 0]
                assert y[n].shape == (64, 64) and y[n].dtype == torch.uint8
                # mask pixels stay on bright stroke pixels after flip and crop
                assert float((strokes > 0.2).float().mean()) > 0.95
                moved += int(not torch.equal(y[n], targets[n]))
            else:
                for label, x1, y1, x2, y2 in y[n][y[n][:, 0] >= 0].tolist():
                    box = raw[n, 0, int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))]
                    assert float(box.max()) > 0.4 and 0 <= label <= 9
                moved += int(not torch.equal(y[n], targets[n]))
        assert moved > len(images) // 2


def test_box_labels_sit_on_a_solid_patch_of_the_class_colour() -> None:
    from core.inspect.scenes import boxes_picture, class_colour
    from core.tasks.detection import Detections

    display = np.full((1, 64, 64), 0.5, dtype=np.float32)  # mid grey: coloured text got lost
    found = Detections(torch.tensor([[8.0, 8.0, 56.0, 56.0], [30.0, 30.0, 60.0, 60.0]]),
                       torch.tensor([0.91, 0.5]), torch.tensor([3, 10]))
    picture = boxes_picture(display, found, [str(i) for i in range(12)])
    assert picture.shape == (512, 512, 3)  # drawn large so the labels stay sharp in a pane
    # class 3 is red (white text reads best on it), class 10 gold (black text)
    for (x, y), label, text_colour in (((8, 8), 3, 255), ((30, 30), 10, 0)):
        colour = np.array(class_colour(label + 1))
        patch = picture[y * 8 + 5:y * 8 + 30, x * 8 + 5:x * 8 + 60].reshape(-1, 3).astype(int)
        assert (patch == colour).all(1).mean() > 0.4  # a solid patch in the box's colour
        text = np.abs(patch - text_colour).max(1) < 30
        assert text.mean() > 0.05  # ... with the label written on it in black or white

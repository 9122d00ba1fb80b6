"""Vertical flip, zoom and elastic warping: masks and boxes stay on the digits (issue 20 item 5)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.adapt import BatchPreparer
from core.data.augmentation import Augmentation
from core.data.datasets import DataError, load_dataset
from core.tasks import task_for
from core.train.settings import TrainingError, TrainingSettings


@pytest.mark.parametrize("aug", [Augmentation(vflip=True), Augmentation(zoom=0.3),
                                 Augmentation(elastic=30.0)], ids=["vflip", "zoom", "elastic"])
def test_new_augmentations_keep_masks_and_boxes_on_the_digits(aug: Augmentation) -> None:
    data = load_dataset("digit-scenes:n=24,max=2", (1, 64, 64))
    prepare = BatchPreparer(data, (1, 64, 64), aug)
    torch.manual_seed(0)
    for task in (task_for("segmentation"), task_for("detection")):
        targets = task.targets(data.train, data)
        images = data.train.images
        x, y = prepare.with_targets(images, targets, task)
        raw = x * prepare.std[:, None, None] + prepare.mean[:, None, None]
        moved = 0
        for n in range(len(images)):
            if task.name == "segmentation":
                assert y[n].shape == (64, 64) and y[n].dtype == torch.uint8
                strokes = raw[n, 0][y[n] > 0]
                assert set(y[n].unique().tolist()) <= set(targets[n].unique().tolist())
                assert float((strokes > 0.2).float().mean()) > 0.9
            else:
                for label, x1, y1, x2, y2 in y[n][y[n][:, 0] >= 0].tolist():
                    box = raw[n, 0, int(y1):int(np.ceil(y2)), int(x1):int(np.ceil(x2))]
                    assert box.numel() and float(box.max()) > 0.4 and 0 <= label <= 9
            moved += int(not torch.equal(y[n], targets[n]))
        assert moved > len(images) // 3


def test_vertical_flip_mirrors_the_mask_rows_exactly() -> None:
    data = load_dataset("digit-scenes:n=16", (1, 64, 64))
    prepare = BatchPreparer(data, (1, 64, 64), Augmentation(vflip=True))
    task = task_for("segmentation")
    targets = task.targets(data.train, data)
    torch.manual_seed(1)
    _, y = prepare.with_targets(data.train.images, targets, task)
    flipped = [torch.equal(y[n], targets[n].flip(0)) for n in range(len(y))]
    assert all(f or torch.equal(y[n], targets[n]) for n, f in enumerate(flipped))
    assert 0 < sum(flipped) < len(y)


def test_new_augmentation_settings_are_checked() -> None:
    settings = TrainingSettings.from_dict({"augmentation": {"vflip": True, "zoom": 0.2,
                                                            "elastic": 40}})
    assert settings.augmentation.active and settings.augmentation.zoom == 0.2
    assert TrainingSettings.from_dict(settings.to_dict()) == settings
    with pytest.raises(TrainingError, match="zoom"):
        TrainingSettings.from_dict({"augmentation": {"zoom": 2}})
    with pytest.raises(TrainingError, match="elastic"):
        TrainingSettings.from_dict({"augmentation": {"elastic": -1}})
    with pytest.raises(DataError, match=r"zoom must be 0–0\.9"):
        Augmentation(zoom=1.5).check()
    assert not Augmentation().active


@pytest.mark.parametrize("side", [4, 8, 28, 41])
def test_elastic_warping_works_on_small_images(side: int) -> None:
    """The 8×8 digits (the default model's input) once failed: the field's Gaussian kernel was
    wider than the image."""
    from core.data.adapt import augmentation_transform

    transform = augmentation_transform(Augmentation(elastic=40.0), (side, side), 1)
    torch.manual_seed(0)
    image = torch.rand(1, side, side)
    warped = transform(image)
    assert warped.shape == image.shape and not torch.equal(warped, image)

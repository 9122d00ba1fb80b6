"""The label set's files: COCO JSON (read back by ConvScope, pycocotools and the COCO training
loader), the VOC folder (torchvision's VOCSegmentation and ConvScope's VOC loader), EXIF
orientation, class edits, and bad files as one line each with the good labels still open."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.annotated import load_coco, load_voc
from core.labels.label_folder import LABEL_FILE, VOC_FOLDER, open_labels, save_labels
from core.labels.label_set import Box, LabelError

SIZES = {"a.png": (30, 40), "b.jpg": (24, 32), "c.png": (20, 20), "d.png": (26, 34),
         "e.png": (30, 30)}


def _folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for name, (h, w) in SIZES.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(tmp_path / name)
    return tmp_path


def _labelled(tmp_path: Path):
    labels = open_labels(_folder(tmp_path))
    labels.add_class("leaf")
    labels.add_class("coin", (1, 2, 3))
    for k, item in enumerate(labels.images.values()):
        item.boxes.append(Box(k % 2, 2, 3, 12 + k, 15))
        mask = item.mask_or_empty()
        mask[4:10, 5:12] = 1
        mask[12:18, 2:6 + k] = 2
        item.touch()
    labels.images["b.jpg"].status = "reviewed"
    return labels


def test_coco_round_trip_through_convscope_and_pycocotools(tmp_path: Path) -> None:
    labels = _labelled(tmp_path)
    save_labels(labels)
    again = open_labels(tmp_path)
    assert again.problems == []
    assert [(c.name, c.colour) for c in again.classes] == [(c.name, c.colour)
                                                          for c in labels.classes]
    for name, item in labels.images.items():
        back = again.images[name]
        assert back.status == item.status
        assert [(b.label, b.x1, b.y1, b.x2, b.y2) for b in back.boxes] == [
            (b.label, b.x1, b.y1, b.x2, b.y2) for b in item.boxes]
        assert np.array_equal(back.mask, item.mask)
    from pycocotools.coco import COCO

    coco = COCO(str(tmp_path / LABEL_FILE))
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["coin", "leaf"]
    image = next(i for i in coco.loadImgs(coco.getImgIds()) if i["file_name"] == "a.png")
    regions = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
               if "segmentation" in a]
    leaf = next(a for a in regions if a["category_id"] == 1)
    assert np.array_equal(coco.annToMask(leaf).astype(bool), labels.images["a.png"].mask == 1)
    data = load_coco(tmp_path / LABEL_FILE, (16, 16), 3)  # the training loader reads it too
    assert data.classes == ["leaf", "coin"]
    assert sum(len(s) for s in (data.train, data.val, data.test)) == len(SIZES)


def test_unlabelled_images_are_left_out_of_the_training_file(tmp_path: Path) -> None:
    labels = _labelled(tmp_path)
    labels.images["c.png"].boxes.clear()
    labels.images["c.png"].mask = None
    labels.images["c.png"].touch()
    save_labels(labels)
    listed = json.loads((tmp_path / LABEL_FILE).read_text())["images"]
    assert sorted(i["file_name"] for i in listed) == ["a.png", "b.jpg", "d.png", "e.png"]
    assert open_labels(tmp_path).images["c.png"].status == "unlabelled"


def test_voc_folder_is_read_by_torchvision_and_convscope(tmp_path: Path) -> None:
    images = tmp_path / "photos"
    images.mkdir()
    labels = _labelled(images)
    save_labels(labels)
    voc = images / VOC_FOLDER
    root = tmp_path / "tv"
    (root / "VOCdevkit").mkdir(parents=True)
    (root / "VOCdevkit" / "VOC2012").symlink_to(voc)
    from torchvision.datasets import VOCSegmentation

    dataset = VOCSegmentation(str(root), year="2012", image_set="train")
    assert len(dataset) == len(SIZES)
    image, target = dataset[0]
    assert np.array_equal(np.array(target), labels.images["a.png"].mask)
    assert image.size == (40, 30)
    assert target.getpalette()[3:6] == list(labels.classes[0].colour)
    data = load_voc(voc, (16, 16), 3)
    assert data.classes == ["leaf", "coin"]
    reopened = open_labels(voc)  # an existing VOC folder opens for editing
    assert reopened.problems == []
    assert np.array_equal(reopened.images["a.jpg"].mask, labels.images["a.png"].mask)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # turned a quarter: shown 30 wide and 40 high
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(tmp_path / "turned.jpg",
                                                           exif=exif.tobytes())
    labels = open_labels(tmp_path)
    item = labels.images["turned.jpg"]
    assert (item.height, item.width) == (40, 30)
    labels.add_class("x")
    item.mask_or_empty()[1:5, 1:5] = 1
    item.touch()
    save_labels(labels, voc=False)
    assert np.array_equal(open_labels(tmp_path).images["turned.jpg"].mask, item.mask)


def test_delete_class_says_what_it_affects_and_shifts_the_rest(tmp_path: Path) -> None:
    labels = _labelled(tmp_path)
    usage = labels.usage(0)
    assert usage.boxes == 3 and usage.images == len(SIZES) and usage.pixels == 42 * len(SIZES)
    assert "3 boxes" in usage.words()
    labels.delete_class(0)
    item = labels.images["a.png"]
    assert set(np.unique(item.mask)) == {0, 1}
    assert all(b.label == 0 for i in labels.images.values() for b in i.boxes)
    with pytest.raises(LabelError, match="exists already"):
        labels.add_class("coin")


def _write(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document))


def test_bad_coco_labels_are_one_line_each_and_the_good_ones_open(tmp_path: Path) -> None:
    labels = _labelled(tmp_path)
    save_labels(labels, voc=False)
    document = json.loads((tmp_path / LABEL_FILE).read_text())
    document["images"].append({"id": 99, "file_name": "gone.png", "height": 5, "width": 5})
    document["annotations"].append({"id": 500, "image_id": 77, "category_id": 1,
                                    "bbox": [0, 0, 2, 2]})
    region = next(a for a in document["annotations"] if "segmentation" in a
                  and a["image_id"] == 1)
    region["segmentation"]["size"] = [3, 3]  # an RLE of the wrong size
    _write(tmp_path / LABEL_FILE, document)
    opened = open_labels(tmp_path)
    assert len(opened.problems) == 3
    assert all("\n" not in p and LABEL_FILE in p for p in opened.problems)
    assert any("gone.png" in p for p in opened.problems)
    assert any("77" in p for p in opened.problems)
    assert any("RLE of 3×3" in p for p in opened.problems)
    assert opened.images["b.jpg"].status == "reviewed"  # the rest opened
    assert np.array_equal(opened.images["b.jpg"].mask, labels.images["b.jpg"].mask)
    assert len(opened.images["a.png"].boxes) == 1


def test_unreadable_coco_file_opens_the_images_unlabelled(tmp_path: Path) -> None:
    _folder(tmp_path)
    (tmp_path / LABEL_FILE).write_text("{not json")
    opened = open_labels(tmp_path)
    assert len(opened.images) == len(SIZES)
    assert len(opened.problems) == 1 and "not valid JSON" in opened.problems[0]


def test_palette_png_of_another_size_is_one_line(tmp_path: Path) -> None:
    images = tmp_path / "photos"
    images.mkdir()
    labels = _labelled(images)
    save_labels(labels)
    voc = images / VOC_FOLDER
    Image.fromarray(np.zeros((5, 5), np.uint8), mode="P").save(voc / "SegmentationClass" /
                                                               "c.png")
    opened = open_labels(voc)
    assert len(opened.problems) == 1 and "c.png" in opened.problems[0]
    assert "5×5" in opened.problems[0]
    assert opened.images["a.jpg"].mask is not None


def test_a_failed_save_leaves_the_old_file(tmp_path: Path, monkeypatch) -> None:
    labels = _labelled(tmp_path)
    save_labels(labels, voc=False)
    before = (tmp_path / LABEL_FILE).read_bytes()
    labels.images["a.png"].boxes.append(Box(0, 1, 1, 5, 5))
    import core.labels.coco_labels as coco_labels

    def broken(document: object, separators: object = None) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(coco_labels.json, "dumps", broken)
    with pytest.raises(OSError, match="disk full"):
        save_labels(labels, voc=False)
    assert (tmp_path / LABEL_FILE).read_bytes() == before


def test_mask_edits_are_patches_that_undo() -> None:
    from core.labels import mask_edits

    mask = np.zeros((40, 50), np.uint8)
    patch = mask_edits.stroke(mask, [(5, 5), (30, 5)], 3, 2)
    assert patch is not None
    patch.apply(mask)
    assert mask[5, 5] == 2 and mask[5, 30] == 2 and mask[5, 40] == 0 and mask[20, 20] == 0
    patch.apply(mask, undo=True)
    assert not mask.any()
    square = mask_edits.polygon(mask, [(10, 10), (20, 10), (20, 20), (10, 20)], 1)
    assert square is not None
    square.apply(mask)
    assert mask[15, 15] == 1 and mask[25, 25] == 0
    hole = mask_edits.fill(mask, 0, 0, 3)
    assert hole is not None
    hole.apply(mask)
    assert mask[0, 0] == 3 and mask[15, 15] == 1
    image = np.zeros((40, 50, 3), np.uint8)
    image[:, 25:] = 200
    grown = mask_edits.grow(image, np.zeros((40, 50), np.uint8), 30, 5, 10, 1)
    assert grown is not None and grown.rect == (25, 0, 25, 40)
    found = mask_edits.superpixels(image, 4)
    region = found.region((40, 50), [(40.0, 20.0)])
    assert region[20, 40] and not region[20, 5]


def test_suggestions_from_a_segmentation_and_a_detection_model() -> None:
    from core.labels.suggest import model_helper, suggest
    from core.presets import load_preset

    image = np.random.default_rng(1).integers(0, 255, (48, 80, 3), dtype=np.uint8)
    seg = model_helper(load_preset("fcn_small"), None, None)
    found = suggest(seg, image)
    assert found.mask is not None and found.mask.shape == (48, 80)
    assert 0 <= found.uncertainty <= 1 and found.classes
    det = model_helper(load_preset("grid_detector_digits"), None, None)
    boxes = suggest(det, image)
    assert boxes.mask is None and 0 <= boxes.uncertainty <= 1
    assert all(0 <= b.x1 <= b.x2 <= 80 and 0 <= b.y1 <= b.y2 <= 48 for b in boxes.boxes)
    with pytest.raises(LabelError, match="segmentation or detection"):
        model_helper(load_preset("digits_small"), None, None)


def test_uncertainty_order_puts_the_most_uncertain_first(tmp_path: Path) -> None:
    from core.labels.suggest import model_helper, uncertainty_order
    from core.presets import load_preset

    _folder(tmp_path)
    helper = model_helper(load_preset("fcn_small"), None, None)
    order = uncertainty_order(helper, sorted(tmp_path.glob("*.png")))
    assert len(order) == 4 and [u for _n, u in order] == sorted((u for _n, u in order),
                                                                reverse=True)


def test_a_suggestion_splits_into_one_proposal_per_box_and_region() -> None:
    from core.labels.label_set import Box
    from core.labels.proposals import MAX_REGIONS, split

    mask = np.zeros((60, 80), np.uint8)
    mask[5:15, 5:25] = 1    # a leaf, 200 px
    mask[5:15, 26:30] = 1   # another leaf beside it (not touching), 40 px
    mask[40:50, 40:44] = 2  # a stem, 40 px
    found = split(mask, [Box(1, 1, 2, 3, 4)])
    assert [(p.label, p.box is not None, p.pixels) for p in found] == [
        (1, True, 0), (0, False, 200), (0, False, 40), (1, False, 40)]
    painted = np.zeros_like(mask)
    for p in found[1:]:
        patch = p.mask_patch(painted, p.label + 1)
        assert patch is not None
        patch.apply(painted)
    assert np.array_equal(painted, mask)  # accepting all writes the model's mask
    assert found[1].contains(10, 10) and not found[1].contains(27, 10)
    specks = np.zeros((100, 100), np.uint8)
    specks[::3, ::3] = 1  # 1,156 one-pixel regions: past the limit they gather
    many = split(specks, [])
    assert len(many) == MAX_REGIONS + 1 and many[-1].pieces == 34 * 34 - MAX_REGIONS
    assert "scattered pieces" in many[-1].words(["leaf"])
    assert sum(p.pixels for p in many) == int(specks.sum())

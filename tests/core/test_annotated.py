"""Pascal VOC, COCO JSON and images + masks folders, on tiny files the tests write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import DataError, load_dataset

N = 12  # enough images to split three ways


def _photo(path: Path, width: int = 40, height: int = 30) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height, width, 3), 90, np.uint8)).save(path)


def _palette_mask(path: Path, values: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(values.astype(np.uint8), mode="P")
    image.putpalette([0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (253 * 3))
    image.save(path)


def _voc(root: Path, bad: str = "") -> Path:
    for i in range(N):
        _photo(root / "JPEGImages" / f"{i:04d}.jpg")
        mask = np.zeros((30, 40), np.uint8)
        mask[5:15, 10:30] = 12  # dog
        mask[15, 10:30] = 255  # VOC border
        _palette_mask(root / "SegmentationClass" / f"{i:04d}.png",
                      mask if not (bad == "size" and i == 3) else mask[:20])
        name = "dgo" if bad == "class" and i == 5 else "dog"
        xmax = 60 if bad == "outside" and i == 7 else 30
        (root / "Annotations").mkdir(exist_ok=True)
        (root / "Annotations" / f"{i:04d}.xml").write_text(
            f"<annotation><object><name>{name}</name><bndbox><xmin>11</xmin><ymin>6</ymin>"
            f"<xmax>{xmax}</xmax><ymax>15</ymax></bndbox></object></annotation>")
    return root


def test_voc_masks_and_boxes_are_read_at_the_model_size(tmp_path: Path) -> None:
    data = load_dataset(str(_voc(tmp_path / "voc")), (3, 60, 80))
    assert data.classes[11] == "dog" and data.image_shape == (3, 60, 80)
    split = data.train
    assert split.masks is not None and split.boxes is not None
    assert set(split.masks.unique().tolist()) == {0, 12}  # border read as background
    assert split.masks.shape[1:] == (60, 80)
    # VOC's 1-based (11, 6)–(30, 15) is (10, 5)–(30, 15) in pixel edges, ×2 for 80×60
    assert split.boxes[0, 0].tolist() == pytest.approx([11, 20, 10, 60, 30])


@pytest.mark.parametrize(("bad", "message"), [
    ("size", r"0003.png: the mask is 40×20 but its image 0003.jpg is 40×30"),
    ("class", r'0005.xml: unknown class "dgo"'),
    ("outside", r"0007.xml: the box of dog .* lies outside its 40×30 image"),
])
def test_bad_voc_data_is_one_message_naming_the_file(tmp_path: Path, bad: str,
                                                     message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_dataset(str(_voc(tmp_path / "voc", bad)), (3, 30, 40))


def test_an_empty_voc_folder_is_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "voc" / "JPEGImages").mkdir(parents=True)
    with pytest.raises(DataError, match="no images found with masks or boxes"):
        load_dataset(str(tmp_path / "voc"), (3, 30, 40))


def _coco(root: Path, bad: str = "") -> Path:
    images, annotations = [], []
    for i in range(N):
        _photo(root / "images" / f"{i}.png")
        images.append({"id": i, "file_name": f"{i}.png", "width": 40, "height": 30})
        polygon = [[10, 5, 30, 5, 30, 15, 10, 15]]
        annotations.append({"id": 100 + i, "image_id": i, "category_id": 7,
                            "bbox": [10, 5, 20, 10], "segmentation": polygon})
        rle = {"size": [30, 40], "counts": [30 * 35, 30 * 5]}  # last 5 columns, uncompressed
        annotations.append({"id": 200 + i, "image_id": i,
                            "category_id": 9 if bad == "category" and i == 2 else 3,
                            "bbox": [35, 0, 5, 30 if bad != "outside" else 40],
                            "segmentation": rle})
    categories = [{"id": 3, "name": "cat"}, {"id": 7, "name": "dog"}]
    path = root / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": categories}))
    return path


def test_coco_boxes_and_masks_from_polygons_and_rle(tmp_path: Path) -> None:
    data = load_dataset(str(_coco(tmp_path / "coco")), (3, 30, 40))
    assert data.classes == ["cat", "dog"]
    split = data.train
    assert split.boxes is not None and split.masks is not None
    assert split.boxes[0].tolist() == [[1, 10, 5, 30, 15], [0, 35, 0, 40, 30]]
    mask = split.masks[0]
    assert (mask[6:14, 11:29] == 2).all()  # the polygon: dog
    assert (mask[:, 35:] == 1).all() and (mask[:, :34][mask[:, :34] != 2] == 0).all()


@pytest.mark.parametrize(("bad", "message"), [
    ("category", r"instances.json: annotation 202 names unknown category 9"),
    ("outside", r"instances.json: the box of annotation 200 \(0.png\) .* lies outside"),
])
def test_bad_coco_data_is_one_message_naming_the_file(tmp_path: Path, bad: str,
                                                      message: str) -> None:
    with pytest.raises(DataError, match=message):
        load_dataset(str(_coco(tmp_path / "coco", bad)), (3, 30, 40))


def test_image_and_mask_folder_pair(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    for i in range(N):
        _photo(root / "images" / f"{i}.jpg")
        mask = np.zeros((30, 40), np.uint8)
        mask[:10] = 2
        mask[20:] = 1
        (root / "masks").mkdir(exist_ok=True)
        Image.fromarray(mask if i != 4 else mask[:, :20]).save(root / "masks" / f"{i}.png")
    with pytest.raises(DataError, match=r"4.png: the mask is 20×30 but its image 4.jpg"):
        load_dataset(str(root), (1, 30, 40))
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(root / "masks" / "4.png")
    data = load_dataset(str(root), (1, 15, 20))
    assert data.classes == ["1", "2"] and data.train.masks is not None
    assert data.train.masks.shape[1:] == (15, 20)
    assert set(data.train.masks.unique().tolist()) <= {0, 1, 2}

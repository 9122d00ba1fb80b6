"""Hostile annotation files, masks and special files: one DataError line each, never a
traceback, never a wait (issue 25: COCO, VOC, mask folders, image folders)."""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import DataError, load_dataset
from tests.core.test_annotated import N, _coco, _photo, _voc


def _refused(path: Path, shape: tuple[int, int, int] = (3, 30, 40)) -> str:
    """load_dataset's one-line refusal, from a thread that must answer within 30 s."""
    result: list[BaseException | None] = []

    def load() -> None:
        try:
            load_dataset(str(path), shape)
            result.append(None)
        except BaseException as exc:  # the test reports what it was
            result.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(30)
    assert result, f"{path}: loading hung"
    error = result[0]
    assert isinstance(error, DataError), repr(error)
    message = str(error)
    assert "\n" not in message and message, message
    return message


def _edit_coco(path: Path, change: Callable[[dict[str, Any]], Any]) -> Path:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


def _first(key: str, index: int = 0) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: data[key][index]


def _nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


COCO_CASES: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("box of strings", lambda d: d["annotations"][0].update(bbox=["a", "b", "c", "d"]),
     "annotation 100.bbox must be four numbers"),
    ("box of two numbers", lambda d: d["annotations"][0].update(bbox=[1, 2]),
     "annotation 100.bbox must be four numbers"),
    ("box of NaN", lambda d: d["annotations"][0].update(bbox=[1, 2, float("nan"), 3]),
     "bbox must be four numbers"),
    ("no bbox", lambda d: d["annotations"][0].pop("bbox"), "bbox must be four numbers (x, y, "
     "width, height) and it is missing"),
    ("zero-width box", lambda d: d["annotations"][0].update(bbox=[1, 2, 0, 3]),
     "larger than 0"),
    ("box outside", lambda d: d["annotations"][0].update(bbox=[30, 2, 20, 3]), "lies outside"),
    ("no image_id", lambda d: d["annotations"][0].pop("image_id"), "annotation 100.image_id must "
     "be a whole number"),
    ("unknown image_id", lambda d: d["annotations"][0].update(image_id=999),
     "annotation 100 is of image 999, which images does not list"),
    ("string category", lambda d: d["annotations"][0].update(category_id="7"),
     "category_id must be a whole number"),
    ("unknown category", lambda d: d["annotations"][0].update(category_id=99),
     "names unknown category 99"),
    ("no file_name", lambda d: d["images"][0].pop("file_name"),
     "images[0].file_name must be a file name"),
    ("file_name outside", lambda d: d["images"][0].update(file_name="../../etc/passwd"),
     "leads outside the images folder"),
    ("absolute file_name", lambda d: d["images"][0].update(file_name="/etc/passwd"),
     "leads outside the images folder"),
    ("height a string", lambda d: d["images"][0].update(height="30"),
     'images[0].height must be a whole number from 1 to 1,000,000, found "30"'),
    ("height wrong", lambda d: d["images"][0].update(height=31), "is 40×30 but"),
    ("annotations not a list", lambda d: d.update(annotations={"a": 1}),
     "annotations must be a list"),
    ("images missing", lambda d: d.pop("images"), "images is missing"),
    ("image not an object", lambda d: d["images"].append(3), "images[12] must be an object"),
    ("duplicate image id", lambda d: d["images"].append(dict(d["images"][0])),
     "image id 0 is listed twice"),
    ("duplicate category", lambda d: d["categories"].append({"id": 3, "name": "x"}),
     "category id 3 is listed twice"),
    ("deep nesting", lambda d: d.update(info=_nested(50)), "nested more than 12 deep"),
    ("RLE of another size", lambda d: d["annotations"][1]["segmentation"].update(size=[31, 40]),
     "is an RLE of 40×31 but its image is 40×30"),
    ("RLE counts too few", lambda d: d["annotations"][1]["segmentation"].update(counts=[5, 5]),
     "its run lengths cover 10 pixels, its 40×30 image has 1,200"),
    ("RLE counts negative", lambda d: d["annotations"][1]["segmentation"].update(
        counts=[-5, 1205]), "counts must be run lengths"),
    ("garbage RLE string", lambda d: d["annotations"][1]["segmentation"].update(
        counts="\x01garbage~~~"), "counts is not a compressed COCO RLE"),
    ("RLE string of no pixels", lambda d: d["annotations"][1]["segmentation"].update(
        counts="0" * 100), "its run lengths cover 0 pixels"),
    ("polygon of strings", lambda d: d["annotations"][0].update(segmentation=[["a"] * 6]),
     "must be polygons"),
    ("polygon too short", lambda d: d["annotations"][0].update(segmentation=[[1, 2, 3, 4]]),
     "must be polygons"),
    ("polygon far outside", lambda d: d["annotations"][0].update(
        segmentation=[[0, 0, 1e9, 0, 1e9, 1e9]]), "has a polygon point far outside its 40×30"),
    ("polygons too long", lambda d: d["annotations"][0].update(
        segmentation=[[0, 0, 80, 60] * 100_000]), "more than the 10,000,000"),
    ("segmentation a number", lambda d: d["annotations"][0].update(segmentation=5),
     "must be polygons or an RLE"),
    ("top level a list", lambda d: None, "not a COCO annotation file"),
]


@pytest.mark.parametrize(("case", "change", "words"), COCO_CASES,
                         ids=[case for case, _, _ in COCO_CASES])
def test_a_hostile_coco_file_is_one_data_error(tmp_path: Path, case: str,
                                               change: Callable[[dict[str, Any]], Any],
                                               words: str) -> None:
    path = _coco(tmp_path / "coco")
    if case == "top level a list":
        path.write_text("[1, 2]")
    else:
        _edit_coco(path, change)
    message = _refused(path)
    assert words in message, message
    assert str(path) in message or "instances.json" in message or "0.png" in message, message


def test_a_compressed_rle_is_decoded_as_pycocotools_does(tmp_path: Path) -> None:
    """The Python decoder of COCO's compressed RLE agrees with pycocotools on a real mask."""
    from pycocotools import mask as coco_mask

    from core.data.annotation_checks import _rle_counts, _runs_to_mask

    rng = np.random.default_rng(0)
    truth = np.asfortranarray(rng.random((30, 40)) > 0.6).astype(np.uint8)
    encoded = coco_mask.encode(truth)
    counts = _rle_counts(encoded["counts"].decode("ascii"))
    assert counts is not None and sum(counts) == 1200
    assert (_runs_to_mask(counts, 30, 40) == truth.astype(bool)).all()
    path = _coco(tmp_path / "coco")
    _edit_coco(path, lambda d: d["annotations"][1].update(segmentation={
        "size": [30, 40], "counts": encoded["counts"].decode("ascii")}))
    data = load_dataset(str(path), (3, 30, 40))
    assert data.train.masks is not None


def test_a_very_deep_coco_file_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    assert "nested more than" in _refused(path) or "not a COCO" in _refused(path)


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    os.mkfifo(path)


def _png_claiming(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width × height pixels (its data is a few bytes)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_fifo_as_the_coco_file_is_refused_without_waiting(tmp_path: Path) -> None:
    path = tmp_path / "instances.json"
    _fifo(path)
    assert "not a regular file" in _refused(path)


def test_a_fifo_or_bomb_as_a_coco_image_is_refused(tmp_path: Path) -> None:
    path = _coco(tmp_path / "coco")
    _fifo(tmp_path / "coco" / "images" / "3.png")
    assert "3.png is not a regular file" in _refused(path)
    (tmp_path / "coco" / "images" / "3.png").unlink()
    _png_claiming(tmp_path / "coco" / "images" / "3.png", 30_000, 30_000)
    message = _refused(path)
    assert "more than the 178,956,970 pixels" in message, message


VOC_CASES: list[tuple[str, str]] = [
    ("mask class 99", "class 99 is not a VOC class"),
    ("fifo mask", "0002.png is not a regular file"),
    ("fifo xml", "0002.xml is not a regular file"),
    ("fifo image", "0002.jpg is not a regular file"),
    ("bomb image", "more than the 178,956,970 pixels"),
    ("bomb mask", "more than the 178,956,970 pixels"),
    ("doctype", "DOCTYPE or entity declaration"),
    ("deep xml", "nested more than 16 deep"),
    ("huge xml", "more than the 1,048,576"),
    ("broken xml", "not readable VOC XML"),
    ("box of words", "has no valid bndbox"),
    ("empty box", "lies outside its 40×30 image or is empty"),
    ("no bndbox", "has no valid bndbox"),
]


@pytest.mark.parametrize(("case", "words"), VOC_CASES, ids=[c for c, _ in VOC_CASES])
def test_a_hostile_voc_folder_is_one_data_error(tmp_path: Path, case: str, words: str) -> None:
    root = _voc(tmp_path / "voc")
    xml = root / "Annotations" / "0002.xml"
    box = "<bndbox><xmin>11</xmin><ymin>6</ymin><xmax>30</xmax><ymax>15</ymax></bndbox>"
    if case == "mask class 99":
        values = np.zeros((30, 40), np.uint8)
        values[3:6, 3:6] = 99
        Image.fromarray(values, mode="L").save(root / "SegmentationClass" / "0002.png")
    elif case.startswith("fifo"):
        where = {"mask": root / "SegmentationClass" / "0002.png", "xml": xml,
                 "image": root / "JPEGImages" / "0002.jpg"}[case.split()[1]]
        _fifo(where)
    elif case == "bomb image":
        (root / "JPEGImages" / "0002.jpg").unlink()
        _png_claiming(root / "JPEGImages" / "0002.jpg", 30_000, 30_000)  # PIL reads by content
    elif case == "bomb mask":
        _png_claiming(root / "SegmentationClass" / "0002.png", 30_000, 30_000)
    elif case == "doctype":
        xml.write_text('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx">]>'
                       "<annotation>&x;</annotation>")
    elif case == "deep xml":
        xml.write_text("<annotation>" + "<a>" * 100_000 + "</a>" * 100_000 + "</annotation>")
    elif case == "huge xml":
        xml.write_text("<annotation>" + " " * (2 << 20) + "</annotation>")
    elif case == "broken xml":
        xml.write_text("<annotation><object>")
    elif case == "box of words":
        xml.write_text("<annotation><object><name>dog</name><bndbox><xmin>a</xmin><ymin>6"
                       "</ymin><xmax>30</xmax><ymax>15</ymax></bndbox></object></annotation>")
    elif case == "empty box":
        xml.write_text("<annotation><object><name>dog</name>" + box.replace(
            "<xmax>30</xmax>", "<xmax>11</xmax>").replace("<xmin>11</xmin>", "<xmin>12</xmin>")
            + "</object></annotation>")
    elif case == "no bndbox":
        xml.write_text("<annotation><object><name>dog</name></object></annotation>")
    message = _refused(root)
    assert words in message, message


def test_a_hostile_mask_folder_is_one_data_error(tmp_path: Path) -> None:
    root = tmp_path / "pairs"
    for i in range(N):
        _photo(root / "images" / f"{i}.png")
        (root / "masks").mkdir(exist_ok=True)
        Image.fromarray(np.zeros((30, 40), np.uint8)).save(root / "masks" / f"{i}.png")
    _fifo(root / "masks" / "4.png")
    assert "4.png is not a regular file" in _refused(root)
    _png_claiming(root / "masks" / "4.png.tmp", 30_000, 30_000)
    os.replace(root / "masks" / "4.png.tmp", root / "masks" / "4.png")
    assert "more than the 178,956,970 pixels" in _refused(root)
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(root / "masks" / "4.png")
    _fifo(root / "images" / "5.png")
    assert "5.png is not a regular file" in _refused(root)


def test_a_fifo_and_a_bomb_in_an_image_folder_are_skipped_without_waiting(
        tmp_path: Path) -> None:
    root = tmp_path / "folder"
    for label in ("a", "b"):
        for i in range(10):
            _photo(root / label / f"{i}.png", 8, 8)
    _fifo(root / "a" / "pipe.png")
    _png_claiming(root / "b" / "bomb.png", 30_000, 30_000)
    os.symlink("/dev/zero", root / "a" / "zero.png")
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(load_dataset(str(root), (1, 8, 8))),
                              daemon=True)
    worker.start()
    worker.join(30)
    assert result, "the image folder hung on a FIFO or device"
    assert any("skipped 3 unreadable files" in note for note in result[0].notes), result[0].notes


def test_the_pixel_limit_is_read_from_the_header(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import core.data.images

    monkeypatch.setattr(core.data.images, "MAX_PIXELS", 1000)
    message = _refused(_coco(tmp_path / "coco"))
    assert "0.png: 40×30 is more than the 1,000 pixels an image may have" in message, message


def test_an_input_image_that_is_a_fifo_or_a_bomb_is_refused_without_waiting(
        tmp_path: Path) -> None:
    from core.inspect.inputs import read_image

    _fifo(tmp_path / "pipe.png")
    _png_claiming(tmp_path / "bomb.png", 30_000, 30_000)
    for name, words in (("pipe.png", "is not a regular file"),
                        ("bomb.png", "more than the 178,956,970 pixels")):
        result: list[BaseException] = []

        def read(name: str = name, result: list[BaseException] = result) -> None:
            try:
                read_image(tmp_path / name)
            except BaseException as exc:  # the test reports what it was
                result.append(exc)

        worker = threading.Thread(target=read, daemon=True)
        worker.start()
        worker.join(30)
        assert result, f"{name}: read_image hung"
        assert isinstance(result[0], DataError) and words in str(result[0]), repr(result[0])

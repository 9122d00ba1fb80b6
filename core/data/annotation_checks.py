"""The field-by-field checks of annotation files: Pascal VOC XML read bounded and checked
object by object, every field of a COCO JSON file checked before a loader uses it, and COCO's
masks (polygons and RLE, with a compressed-RLE decoder) checked against their image.

Any problem is one DataError naming the file and the field.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from core.data.errors import DataError
from core.regular_files import NotARegularFile, read_regular_bytes, read_regular_text

VOC_CLASSES = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor"]


def _check_box(path: Path, name: str, box: list[float], width: int, height: int) -> None:
    x1, y1, x2, y2 = box
    if not (0 <= x1 < x2 <= width and 0 <= y1 < y2 <= height):
        raise DataError(f"{path}: the box of {name} ({x1:g}, {y1:g}, {x2:g}, {y2:g}) lies "
                        f"outside its {width}×{height} image or is empty")


# -- Pascal VOC ----------------------------------------------------------------------------------

XML_FILE_LIMIT = 1 << 20
"""The largest VOC annotation file read (VOC's own are about 1 kB)."""
XML_DEPTH_LIMIT = 16
"""VOC annotations nest 3 deep (annotation, object, bndbox): deeper is no VOC file."""


def _voc_root(path: Path) -> ET.Element:
    """The parsed XML, read bounded, nested at most XML_DEPTH_LIMIT deep and without DOCTYPE
    or entity declarations (no entity expansion, nothing fetched)."""
    try:
        data = read_regular_bytes(path, XML_FILE_LIMIT)
    except NotARegularFile as exc:
        raise DataError(f"{path.parent / str(exc)}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or type(exc).__name__})"
                        ) from None
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise DataError(f"{path}: has a DOCTYPE or entity declaration, which VOC annotations "
                        "never have; remove it")
    parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    root: ET.Element | None = None
    try:
        for at in range(0, len(data) + 1, 4096):  # in small chunks: a deep file stops early
            parser.feed(data[at:at + 4096])
            if at + 4096 > len(data):
                parser.close()
            for event, element in cast(Iterator[tuple[str, Any]], parser.read_events()):
                depth += 1 if event == "start" else -1
                if root is None and isinstance(element, ET.Element):
                    root = element
                if depth > XML_DEPTH_LIMIT:
                    raise DataError(f"{path}: nested more than {XML_DEPTH_LIMIT} deep; not a "
                                    "VOC annotation")
    except ET.ParseError as exc:
        raise DataError(f"{path}: not readable VOC XML ({exc})") from None
    if not isinstance(root, ET.Element):
        raise DataError(f"{path}: not readable VOC XML (no root element)")
    return root


def _voc_boxes(path: Path, width: int, height: int) -> torch.Tensor:
    root = _voc_root(path)
    rows: list[list[float]] = []
    for obj in root.iter("object"):
        if len(rows) >= MAX_BOXES:
            raise DataError(f"{path}: more than {MAX_BOXES:,} objects in one image")
        name = (obj.findtext("name") or "").strip()
        if name not in VOC_CLASSES:
            raise DataError(f'{path}: unknown class "{name[:40]}"; VOC classes are '
                            f'{", ".join(VOC_CLASSES)}')
        bnd = obj.find("bndbox")
        try:
            if bnd is None:
                raise ValueError
            # VOC's pixel coordinates are 1-based and inclusive
            box = [float((bnd.findtext(k) or "")[:40]) for k in ("xmin", "ymin", "xmax", "ymax")]
        except ValueError:
            raise DataError(f"{path}: an object {name} has no valid bndbox (xmin, ymin, xmax, "
                            "ymax: four numbers)") from None
        box = [box[0] - 1, box[1] - 1, box[2], box[3]]
        _check_box(path, name, box, width, height)
        rows.append([VOC_CLASSES.index(name), *box])
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)


# -- COCO ----------------------------------------------------------------------------------------

COCO_FILE_LIMIT = 1 << 30
"""The largest COCO JSON read (COCO 2017's instances_train2017.json is 448 MB)."""
COCO_DEPTH_LIMIT = 12
"""COCO nests 5 deep (annotations, an annotation, segmentation, a polygon, its numbers)."""
MAX_BOXES = 1_000
"""Objects per image (COCO's busiest image has under 100)."""
MAX_POLYGON_VALUES = 1_000_000
"""Polygon coordinates per annotation."""
MAX_POLYGON_LENGTH = 10_000_000
"""The total edge length of one annotation's polygons, in pixels."""
MAX_RLE_TEXT = 1 << 24
"""Characters of one compressed RLE."""
MAX_MASK_CLASSES = 254
"""Masks hold 0 (background) and 1 + class in a byte, 255 unused."""


def _depth(value: Any, limit: int) -> bool:
    """True when ``value`` nests at most ``limit`` deep (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            if level > limit:
                return False
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children
                         if isinstance(child, dict | list))
    return True


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _whole(value: Any, low: int, high: int) -> bool:
    return (_is_number(value) and float(value).is_integer()
            and low <= value <= high)


def _show(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "…"


@dataclass(frozen=True)
class _CocoImage:
    id: int
    file_name: str
    height: int | None
    width: int | None


@dataclass(frozen=True)
class _CocoObject:
    where: str
    """How a message names it: 'annotation 12' (its id) or 'annotations[3]'."""
    image_id: int
    label: int
    box: tuple[float, float, float, float]
    segmentation: Any


@dataclass
class _CocoFile:
    classes: list[str]
    images: list[_CocoImage]
    objects: dict[int, list[_CocoObject]]
    with_masks: bool


def _coco_field(path: Path, where: str, item: dict[str, Any], key: str, ok: bool,
                words: str) -> None:
    if not ok:
        found = f", found {_show(item[key])}" if key in item else " and it is missing"
        raise DataError(f"{path}: {where}.{key} must be {words}{found}; fix the file")


def _check_coco(path: Path, coco: Any) -> _CocoFile:
    """Every field a loader reads, its presence and type, checked before any is used."""
    if not isinstance(coco, dict):
        raise DataError(f"{path}: not a COCO annotation file (it must hold an object with "
                        "images, annotations and categories)")
    for key in ("images", "categories", "annotations"):
        if key not in coco and key != "annotations":
            raise DataError(f"{path}: not a COCO annotation file ({key} is missing)")
        if not isinstance(coco.get(key, []), list):
            raise DataError(f"{path}: {key} must be a list, found {_show(coco[key])}")
    if not _depth(coco, COCO_DEPTH_LIMIT):
        raise DataError(f"{path}: nested more than {COCO_DEPTH_LIMIT} deep; not a COCO "
                        "annotation file")
    big = 2**63 - 1
    index: dict[int, int] = {}
    classes: list[str] = []
    categories = coco["categories"]
    for i, c in enumerate(categories):
        where = f"categories[{i}]"
        if not isinstance(c, dict):
            raise DataError(f"{path}: {where} must be an object, found {_show(c)}")
        _coco_field(path, where, c, "id", _whole(c.get("id"), -big, big), "a whole number")
        _coco_field(path, where, c, "name", isinstance(c.get("name", ""), str), "a string")
        if int(c["id"]) in index:
            raise DataError(f"{path}: category id {int(c['id'])} is listed twice")
        index[int(c["id"])] = i
    order = sorted(index)
    labels = {cid: k for k, cid in enumerate(order)}
    classes = [str(categories[index[cid]].get("name", cid)) for cid in order]
    if not classes:
        raise DataError(f"{path}: categories is empty; list the classes")
    images: list[_CocoImage] = []
    ids: set[int] = set()
    for i, entry in enumerate(coco["images"]):
        where = f"images[{i}]"
        if not isinstance(entry, dict):
            raise DataError(f"{path}: {where} must be an object, found {_show(entry)}")
        _coco_field(path, where, entry, "id", _whole(entry.get("id"), -big, big),
                    "a whole number")
        name = entry.get("file_name")
        _coco_field(path, where, entry, "file_name", isinstance(name, str) and bool(name),
                    "a file name")
        parts = Path(str(name)).parts
        if Path(str(name)).is_absolute() or ".." in parts or "\\" in str(name) or "\0" in str(name):
            raise DataError(f"{path}: {where}.file_name {_show(name)} leads outside the images "
                            "folder; give a name inside it")
        for key in ("height", "width"):
            if key in entry:
                _coco_field(path, where, entry, key, _whole(entry[key], 1, 10**6),
                            "a whole number from 1 to 1,000,000")
        if int(entry["id"]) in ids:
            raise DataError(f"{path}: image id {int(entry['id'])} is listed twice")
        ids.add(int(entry["id"]))
        images.append(_CocoImage(int(entry["id"]), str(name),
                                 int(entry["height"]) if "height" in entry else None,
                                 int(entry["width"]) if "width" in entry else None))
    objects: dict[int, list[_CocoObject]] = {}
    with_masks = False
    for i, a in enumerate(coco.get("annotations", [])):
        if not isinstance(a, dict):
            raise DataError(f"{path}: annotations[{i}] must be an object, found {_show(a)}")
        where = (f"annotation {a['id']}" if _whole(a.get("id"), -big, big)
                 else f"annotations[{i}]")
        _coco_field(path, where, a, "image_id", _whole(a.get("image_id"), -big, big),
                    "a whole number (the id of an image)")
        _coco_field(path, where, a, "category_id", _whole(a.get("category_id"), -big, big),
                    "a whole number (the id of a category)")
        box = a.get("bbox")
        _coco_field(path, where, a, "bbox", isinstance(box, list) and len(box) == 4
                    and all(_is_number(v) for v in box),
                    "four numbers (x, y, width, height)")
        image_id, category = int(a["image_id"]), int(a["category_id"])
        if image_id not in ids:
            raise DataError(f"{path}: {where} is of image {image_id}, which images does not "
                            "list")
        if category not in labels:
            raise DataError(f"{path}: {where} names unknown category {category}; categories "
                            f"are {', '.join(str(c) for c in order[:10])}")
        assert isinstance(box, list)
        x, y, w, h = (float(v) for v in box)
        if w <= 0 or h <= 0:
            raise DataError(f"{path}: {where}.bbox has a width and height of {w:g} and {h:g}; "
                            "a box must be larger than 0 both ways")
        with_masks = with_masks or "segmentation" in a
        found = objects.setdefault(image_id, [])
        if len(found) >= MAX_BOXES:
            raise DataError(f"{path}: more than {MAX_BOXES:,} annotations of image {image_id}")
        found.append(_CocoObject(where, image_id, labels[category], (x, y, w, h),
                                 a.get("segmentation")))
    if with_masks and len(classes) > MAX_MASK_CLASSES:
        raise DataError(f"{path}: {len(classes)} categories with masks; a mask holds at most "
                        f"{MAX_MASK_CLASSES}")
    return _CocoFile(classes, images, objects, with_masks)


def _rle_counts(text: str) -> list[int] | None:
    """The run lengths of a compressed COCO RLE (pycocotools' rleFrString, in Python, so a
    garbage string is refused here and never decoded past its image); None if malformed."""
    counts: list[int] = []
    p = 0
    n = len(text)
    while p < n:
        x, k, more = 0, 0, True
        while more:
            if p >= n or k > 12:
                return None
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                return None
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(counts) > 2:
            x += counts[-2]
        if x < 0:
            return None
        counts.append(x)
    return counts


def _runs_to_mask(counts: list[int], height: int, width: int) -> np.ndarray:
    """Alternating runs of 0 and 1 down the columns (COCO's order), as an (H, W) bool mask."""
    values = np.zeros(len(counts), bool)
    values[1::2] = True
    flat = np.repeat(values, np.asarray(counts, np.int64))
    return flat.reshape(width, height).T


def _coco_mask(path: Path, item: _CocoObject, height: int, width: int) -> np.ndarray | None:
    """The object's mask at the image's size; None for an empty polygon list. Every RLE's size
    and run lengths are checked against the image before anything is decoded."""
    segmentation = item.segmentation
    bad = f"{path}: {item.where}.segmentation"
    if isinstance(segmentation, list):  # polygons
        if not segmentation:
            return None
        if not all(isinstance(poly, list) and len(poly) >= 6 and len(poly) % 2 == 0
                   and all(_is_number(v) for v in poly) for poly in segmentation):
            raise DataError(f"{bad} must be polygons: lists of at least 3 x, y pairs of numbers")
        if sum(len(poly) for poly in segmentation) > MAX_POLYGON_VALUES:
            raise DataError(f"{bad} has more than {MAX_POLYGON_VALUES:,} polygon coordinates")
        length = 0.0  # pycocotools rasterises each edge point by point: bound the work
        for poly in segmentation:
            points = np.asarray(poly, np.float64).reshape(-1, 2)
            if not ((points[:, 0] >= -width).all() and (points[:, 0] <= 2 * width).all()
                    and (points[:, 1] >= -height).all() and (points[:, 1] <= 2 * height).all()):
                raise DataError(f"{bad} has a polygon point far outside its {width}×{height} "
                                "image")
            steps = np.abs(np.diff(np.vstack([points, points[:1]]), axis=0))
            length += float(np.maximum(steps[:, 0], steps[:, 1]).sum())
        if length > MAX_POLYGON_LENGTH:
            raise DataError(f"{bad}: its polygons are {length:,.0f} pixels long, more than the "
                            f"{MAX_POLYGON_LENGTH:,} an annotation may have")
        from pycocotools import mask as coco_mask

        rle = coco_mask.merge(coco_mask.frPyObjects(
            [[float(v) for v in poly] for poly in segmentation], height, width))
        decoded: np.ndarray = coco_mask.decode(rle)
        return decoded.astype(bool)
    if not isinstance(segmentation, dict):
        raise DataError(f"{bad} must be polygons or an RLE ({{\"size\": [h, w], \"counts\": "
                        f"…}}), found {_show(segmentation)}")
    rle_size, counts = segmentation.get("size"), segmentation.get("counts")
    if not (isinstance(rle_size, list) and len(rle_size) == 2
            and all(_whole(v, 0, 10**6) for v in rle_size)):
        raise DataError(f'{bad}.size must be [height, width], found {_show(rle_size)}')
    if [int(v) for v in rle_size] != [height, width]:
        raise DataError(f"{bad} is an RLE of {int(rle_size[1])}×{int(rle_size[0])} but its image "
                        f"is {width}×{height}")
    if isinstance(counts, str):
        runs = _rle_counts(counts) if len(counts) <= MAX_RLE_TEXT else None
        if runs is None:
            raise DataError(f"{bad}.counts is not a compressed COCO RLE")
    elif isinstance(counts, list) and len(counts) <= height * width + 1 and all(
            _whole(v, 0, height * width) for v in counts):
        runs = [int(v) for v in counts]
    else:
        raise DataError(f"{bad}.counts must be run lengths (whole numbers ≥ 0) or a compressed "
                        "RLE string")
    if sum(runs) != height * width:
        raise DataError(f"{bad}: its run lengths cover {sum(runs):,} pixels, its "
                        f"{width}×{height} image has {height * width:,}; the RLE is damaged")
    return _runs_to_mask(runs, height, width)


def _read_coco(path: Path) -> Any:
    try:
        text = read_regular_text(path, COCO_FILE_LIMIT)
    except NotARegularFile as exc:
        raise DataError(f"{path.parent / str(exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({type(exc).__name__})") from None
    try:
        return json.loads(text)
    except RecursionError:
        raise DataError(f"{path}: nested more than {COCO_DEPTH_LIMIT} deep; not a COCO "
                        "annotation file") from None
    except ValueError as exc:
        raise DataError(f"{path}: not valid JSON ({str(exc).splitlines()[0][:80]})") from None

"""Datasets with masks and boxes in the formats users have: Pascal VOC, COCO JSON, and a folder
pair of images + masks.

Everything is read once into memory at the model's input size: images resized (antialiased),
masks resized by nearest neighbour, boxes scaled. Any problem is one DataError naming the file:
a mask of another size than its image, a box outside its image, an unknown class, an empty set.
"""

from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from core.data.dataset import IMAGE_SUFFIXES, Dataset, Split, split_three_ways
from core.data.errors import DataError
from core.data.images import ImageTooLarge, fit_images, open_image, pil_array, uint8_chw
from core.regular_files import NotARegularFile, read_regular_bytes, read_regular_text

VOC_CLASSES = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair",
               "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
               "sheep", "sofa", "train", "tvmonitor"]
VOC_VOID = 255
"""VOC marks object borders 255 ('void'); they are read as background."""
MAX_IMAGES = 20_000


@dataclass
class _Samples:
    """Images with their masks and / or boxes, collected before splitting."""

    images: list[torch.Tensor] = field(default_factory=list)
    masks: list[torch.Tensor] = field(default_factory=list)
    boxes: list[torch.Tensor] = field(default_factory=list)  # (G, 5) each

    def dataset(self, name: str, classes: list[str], source: Path, size: tuple[int, int],
                notes: list[str]) -> Dataset:
        if not self.images:
            raise DataError(f"{source}: no images found with masks or boxes; check the layout "
                            "(see the README's dataset section)")
        n = len(self.images)
        images = torch.stack(self.images)
        masks = torch.stack(self.masks) if self.masks else None
        boxes = None
        if self.boxes:
            most = max(1, max(len(b) for b in self.boxes))
            boxes = torch.full((n, most, 5), -1.0)
            for i, b in enumerate(self.boxes):
                boxes[i, :len(b)] = b
        index = torch.arange(n)
        parts = split_three_ways(index, index, 0.15, 0.15)
        splits = [Split(images[p.labels], _first_labels(boxes, masks, p.labels),
                        None if masks is None else masks[p.labels],
                        None if boxes is None else boxes[p.labels]) for p in parts]
        if min(len(s) for s in splits) == 0:
            raise DataError(f"{source}: {n} images are too few to split into training, "
                            "validation and test sets; add more (a few dozen)")
        data = Dataset(name, classes, splits[0], splits[1], splits[2])
        data.notes += [f"images resized to {size[0]}×{size[1]}", *notes]
        return data


def _first_labels(boxes: torch.Tensor | None, masks: torch.Tensor | None,
                  index: torch.Tensor) -> torch.Tensor:
    """A class per image (its first box, else its most common non-background pixel class)."""
    if boxes is not None:
        return boxes[index, 0, 0].clamp_min(0).long()
    labels = torch.zeros(len(index), dtype=torch.long)
    if masks is not None:
        for k, i in enumerate(index.tolist()):
            values = masks[i][masks[i] > 0]
            labels[k] = int(values.long().mode().values) - 1 if len(values) else 0
    return labels


def _read_image(path: Path, size: tuple[int, int]) -> tuple[torch.Tensor, tuple[int, int]]:
    """The image (reduced by a whole factor when much larger than ``size``, as the image-folder
    loader does) and its own (height, width), under the same file and bomb limits."""
    from PIL import Image

    try:
        with open_image(path) as image:
            return uint8_chw(pil_array(image, size)), (image.height, image.width)
    except FileNotFoundError:
        raise DataError(f"{path}: missing") from None
    except (NotARegularFile, ImageTooLarge) as exc:
        raise DataError(f"{path.parent / str(exc)}") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path}: not a readable image ({type(exc).__name__})") from None


def _read_mask(path: Path) -> np.ndarray:
    """Class indices per pixel: a palette PNG's indices, or a grey image's values."""
    from PIL import Image

    try:
        with open_image(path) as image:
            if image.mode not in ("P", "L", "1", "I", "I;16"):
                raise DataError(f"{path}: a mask must be a palette or greyscale image of class "
                                f"numbers, got mode {image.mode}")
            mask = np.array(image)
    except FileNotFoundError:
        raise DataError(f"{path}: missing") from None
    except (NotARegularFile, ImageTooLarge) as exc:
        raise DataError(f"{path.parent / str(exc)}") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path}: not a readable mask ({type(exc).__name__})") from None
    return mask if mask.dtype == np.uint8 else mask.astype(np.int32)


def _fit(image: torch.Tensor, dims: tuple[int, int], mask: np.ndarray | None,
         boxes: torch.Tensor | None, channels: int, size: tuple[int, int]
         ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """The image, mask and boxes at the model's ``size``; ``dims`` is the image's own (height,
    width), which the mask has and the boxes are in (the image may arrive reduced)."""
    height, width = dims
    fitted = fit_images(image, channels, size)
    fitted_mask = None
    if mask is not None:
        rows = (torch.arange(size[0]) * height // size[0]).long()
        cols = (torch.arange(size[1]) * width // size[1]).long()
        fitted_mask = torch.from_numpy(mask[rows.numpy()][:, cols.numpy()].astype(np.uint8))
    if boxes is not None and len(boxes):
        scale = torch.tensor([size[1] / width, size[0] / height] * 2)
        boxes = torch.cat([boxes[:, :1], boxes[:, 1:] * scale], dim=1)
    return fitted, fitted_mask, boxes


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


def _listing(folder: Path, suffixes: set[str] | tuple[str, ...]) -> list[Path]:
    """The folder's entries with these suffixes, sorted, at most MAX_IMAGES (a folder with more
    is cut, as before, and said by the caller's count)."""
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in suffixes)[:MAX_IMAGES]


def load_voc(folder: Path, size: tuple[int, int], channels: int) -> Dataset:
    """VOC layout: JPEGImages/*.jpg with SegmentationClass/*.png (palette indices = classes,
    255 borders read as background) and / or Annotations/*.xml (boxes)."""
    images_dir, masks_dir, xml_dir = (folder / "JPEGImages", folder / "SegmentationClass",
                                      folder / "Annotations")
    has_masks, has_boxes = masks_dir.is_dir(), xml_dir.is_dir()
    samples = _Samples()
    stems = [p.stem for p in _listing(masks_dir if has_masks else xml_dir, (".png", ".xml"))]
    for stem in stems:
        image_path = images_dir / f"{stem}.jpg"
        if not image_path.exists():
            raise DataError(f"{image_path}: missing (its {'mask' if has_masks else 'annotation'}"
                            " exists)")
        image, (height, width) = _read_image(image_path, size)
        mask = None
        if has_masks:
            mask_path = masks_dir / f"{stem}.png"
            mask = _read_mask(mask_path)
            if mask.shape != (height, width):
                raise DataError(f"{mask_path}: the mask is {mask.shape[1]}×{mask.shape[0]} but "
                                f"its image {image_path.name} is {width}×{height}")
            mask[mask == VOC_VOID] = 0
            if mask.max() > len(VOC_CLASSES):
                raise DataError(f"{mask_path}: class {mask.max()} is not a VOC class (1–"
                                f"{len(VOC_CLASSES)}, 0 background, 255 borders); the mask is "
                                "not a VOC SegmentationClass mask")
        xml_path = xml_dir / f"{stem}.xml"
        boxes = _voc_boxes(xml_path, width, height) if has_boxes and (
            os.path.lexists(xml_path)) else (torch.zeros(0, 5) if has_boxes else None)
        fitted, fitted_mask, fitted_boxes = _fit(image, (height, width), mask, boxes, channels,
                                                 size)
        samples.images.append(fitted)
        if fitted_mask is not None:
            samples.masks.append(fitted_mask)
        if fitted_boxes is not None:
            samples.boxes.append(fitted_boxes)
    return samples.dataset(str(folder.resolve()), list(VOC_CLASSES), folder, size,
                           ["VOC borders (255) read as background"] if has_masks else [])


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


def load_coco(path: Path, size: tuple[int, int], channels: int,
              images_dir: Path | None = None) -> Dataset:
    """A COCO JSON file: boxes from ``bbox`` (x, y, width, height), masks from polygons or RLE.
    Images are found next to the file or in its ``images`` folder. Every field is checked
    (_check_coco, _coco_mask) before it is used: one DataError naming the file and the field."""
    coco = _check_coco(path, _read_coco(path))
    folders = [images_dir] if images_dir else [path.parent / "images", path.parent]
    samples = _Samples()
    for entry in coco.images[:MAX_IMAGES]:
        found = next((f / entry.file_name for f in folders
                      if os.path.lexists(f / entry.file_name)), None)
        if found is None:
            raise DataError(f"{path}: image {entry.file_name} not found in "
                            f"{' or '.join(str(f) for f in folders)}")
        image, (height, width) = _read_image(found, size)
        if (entry.height or height, entry.width or width) != (height, width):
            raise DataError(f"{found}: is {width}×{height} but {path.name} says "
                            f"{entry.width}×{entry.height}")
        rows = []
        mask = np.zeros((height, width), np.uint8) if coco.with_masks else None
        for item in coco.objects.get(entry.id, []):
            x, y, w, h = item.box
            _check_box(path, f"{item.where} ({entry.file_name})", [x, y, x + w, y + h], width,
                       height)
            rows.append([item.label, x, y, x + w, y + h])
            if mask is not None and item.segmentation is not None:
                drawn = _coco_mask(path, item, height, width)
                if drawn is not None:
                    mask[drawn] = item.label + 1
        boxes = torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)
        fitted, fitted_mask, fitted_boxes = _fit(image, (height, width), mask, boxes, channels,
                                                 size)
        samples.images.append(fitted)
        samples.boxes.append(fitted_boxes if fitted_boxes is not None else boxes)
        if fitted_mask is not None:
            samples.masks.append(fitted_mask)
    return samples.dataset(str(path.resolve()), coco.classes, path, size, [])


# -- a folder pair of images + masks -------------------------------------------------------------

def load_mask_folder(folder: Path, size: tuple[int, int], channels: int) -> Dataset:
    """``images/`` and ``masks/`` with the same file names; a mask holds class numbers
    (0 background, 1, 2 …); the classes are named 1 … the largest number found."""
    images_dir, masks_dir = folder / "images", folder / "masks"
    samples = _Samples()
    largest = 0
    for image_path in _listing(images_dir, IMAGE_SUFFIXES):
        matches = [masks_dir / f"{image_path.stem}{s}" for s in (".png", image_path.suffix)]
        mask_path = next((m for m in matches if os.path.lexists(m)), None)
        if mask_path is None:
            raise DataError(f"{image_path}: no mask with the same name in {masks_dir}")
        image, (height, width) = _read_image(image_path, size)
        mask = _read_mask(mask_path)
        if mask.shape != (height, width):
            raise DataError(f"{mask_path}: the mask is {mask.shape[1]}×{mask.shape[0]} but "
                            f"its image {image_path.name} is {width}×{height}")
        if mask.min() < 0 or mask.max() > 254:
            raise DataError(f"{mask_path}: class numbers must be 0–254, found "
                            f"{mask.min()}–{mask.max()}")
        largest = max(largest, int(mask.max()))
        fitted, fitted_mask, _ = _fit(image, (height, width), mask, None, channels, size)
        samples.images.append(fitted)
        assert fitted_mask is not None
        samples.masks.append(fitted_mask)
    return samples.dataset(str(folder.resolve()),
                           [str(i) for i in range(1, max(largest, 1) + 1)], folder, size, [])


def annotated_format(path: Path) -> str | None:
    """Which loader reads ``path``: voc, coco, masks, or None (not an annotated dataset)."""
    if path.suffix.lower() == ".json" and os.path.lexists(path) and not path.is_dir():
        return "coco"  # a FIFO or device named .json is refused by the loader, not waited on
    if (path / "JPEGImages").is_dir():
        return "voc"
    if (path / "images").is_dir() and (path / "masks").is_dir():
        return "masks"
    return None


def load_annotated(path: Path, size: tuple[int, int], channels: int) -> Dataset:
    kind = annotated_format(path)
    if kind == "coco":
        return load_coco(path, size, channels)
    if kind == "voc":
        return load_voc(path, size, channels)
    if kind == "masks":
        return load_mask_folder(path, size, channels)
    raise DataError(f"{path}: not a VOC folder, COCO JSON file or images + masks folder pair")

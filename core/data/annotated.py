"""Datasets with masks and boxes in the formats users have: Pascal VOC, COCO JSON, and a folder
pair of images + masks.

Everything is read once into memory at the model's input size: images resized (antialiased),
masks resized by nearest neighbour, boxes scaled. Any problem is one DataError naming the file:
a mask of another size than its image, a box outside its image, an unknown class, an empty set.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.data.dataset import IMAGE_SUFFIXES, Dataset, Split, split_three_ways
from core.data.errors import DataError
from core.data.images import fit_images, pil_array, uint8_chw

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


def _read_image(path: Path) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            return uint8_chw(pil_array(image))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable image ({type(exc).__name__})") from None


def _read_mask(path: Path) -> np.ndarray:
    """Class indices per pixel: a palette PNG's indices, or a grey image's values."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            if image.mode not in ("P", "L", "1", "I", "I;16"):
                raise DataError(f"{path}: a mask must be a palette or greyscale image of class "
                                f"numbers, got mode {image.mode}")
            return np.array(image).astype(np.int64)
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: not a readable mask ({type(exc).__name__})") from None


def _fit(image: torch.Tensor, mask: np.ndarray | None, boxes: torch.Tensor | None,
         channels: int, size: tuple[int, int]
         ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    height, width = image.shape[-2:]
    fitted = fit_images(image, channels, size)
    fitted_mask = None
    if mask is not None:
        rows = (torch.arange(size[0]) * height // size[0]).long()
        cols = (torch.arange(size[1]) * width // size[1]).long()
        fitted_mask = torch.from_numpy(mask)[rows][:, cols].to(torch.uint8)
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

def _voc_boxes(path: Path, width: int, height: int) -> torch.Tensor:
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise DataError(f"{path}: not readable VOC XML ({exc})") from None
    rows = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        if name not in VOC_CLASSES:
            raise DataError(f'{path}: unknown class "{name}"; VOC classes are '
                            f'{", ".join(VOC_CLASSES)}')
        bnd = obj.find("bndbox")
        try:
            assert bnd is not None
            # VOC's pixel coordinates are 1-based and inclusive
            box = [float(bnd.findtext(k) or "") for k in ("xmin", "ymin", "xmax", "ymax")]
        except (AssertionError, ValueError):
            raise DataError(f"{path}: an object {name} has no valid bndbox") from None
        box = [box[0] - 1, box[1] - 1, box[2], box[3]]
        _check_box(path, name, box, width, height)
        rows.append([VOC_CLASSES.index(name), *box])
    return torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)


def load_voc(folder: Path, size: tuple[int, int], channels: int) -> Dataset:
    """VOC layout: JPEGImages/*.jpg with SegmentationClass/*.png (palette indices = classes,
    255 borders read as background) and / or Annotations/*.xml (boxes)."""
    images_dir, masks_dir, xml_dir = (folder / "JPEGImages", folder / "SegmentationClass",
                                      folder / "Annotations")
    has_masks, has_boxes = masks_dir.is_dir(), xml_dir.is_dir()
    samples = _Samples()
    stems = sorted(p.stem for p in (masks_dir if has_masks else xml_dir).glob("*")
                   if p.suffix.lower() in (".png", ".xml"))[:MAX_IMAGES]
    for stem in stems:
        image_path = images_dir / f"{stem}.jpg"
        if not image_path.is_file():
            raise DataError(f"{image_path}: missing (its {'mask' if has_masks else 'annotation'}"
                            " exists)")
        image = _read_image(image_path)
        height, width = image.shape[-2:]
        mask = None
        if has_masks:
            mask_path = masks_dir / f"{stem}.png"
            mask = _read_mask(mask_path)
            if mask.shape != (height, width):
                raise DataError(f"{mask_path}: the mask is {mask.shape[1]}×{mask.shape[0]} but "
                                f"its image {image_path.name} is {width}×{height}")
            mask[mask == VOC_VOID] = 0
            if mask.max() > len(VOC_CLASSES):
                raise DataError(f"{mask_path}: class {mask.max()} is not a VOC class (1–20)")
        boxes = _voc_boxes(xml_dir / f"{stem}.xml", width, height) if has_boxes and (
            xml_dir / f"{stem}.xml").is_file() else (torch.zeros(0, 5) if has_boxes else None)
        fitted, fitted_mask, fitted_boxes = _fit(image, mask, boxes, channels, size)
        samples.images.append(fitted)
        if fitted_mask is not None:
            samples.masks.append(fitted_mask)
        if fitted_boxes is not None:
            samples.boxes.append(fitted_boxes)
    return samples.dataset(folder.name, list(VOC_CLASSES), folder, size,
                           ["VOC borders (255) read as background"] if has_masks else [])


# -- COCO ----------------------------------------------------------------------------------------

def _coco_mask(path: Path, annotation: dict[str, Any], height: int, width: int) -> np.ndarray:
    from pycocotools import mask as coco_mask

    segmentation = annotation.get("segmentation")
    try:
        if isinstance(segmentation, list):  # polygons
            rles = coco_mask.frPyObjects(segmentation, height, width)
            rle = coco_mask.merge(rles)
        elif isinstance(segmentation, dict) and isinstance(segmentation.get("counts"), list):
            rle = coco_mask.frPyObjects(segmentation, height, width)  # uncompressed RLE
        elif isinstance(segmentation, dict):
            rle = segmentation
        else:
            raise TypeError("no segmentation")
        decoded: np.ndarray = coco_mask.decode(rle)
    except (TypeError, ValueError, KeyError) as exc:
        raise DataError(f"{path}: annotation {annotation.get('id')} has an unreadable "
                        f"segmentation ({exc})") from None
    return decoded.astype(bool)


def load_coco(path: Path, size: tuple[int, int], channels: int,
              images_dir: Path | None = None) -> Dataset:
    """A COCO JSON file: boxes from ``bbox`` (x, y, width, height), masks from polygons or RLE
    (pycocotools). Images are found next to the file or in its ``images`` folder."""
    try:
        coco = json.loads(path.read_text(encoding="utf-8"))
        categories = sorted(coco["categories"], key=lambda c: c["id"])
        entries = coco["images"]
        annotations = coco.get("annotations", [])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path}: not a COCO annotation file ({type(exc).__name__}: {exc})"
                        ) from None
    index = {int(c["id"]): i for i, c in enumerate(categories)}
    classes = [str(c.get("name", c["id"])) for c in categories]
    by_image: dict[int, list[dict[str, Any]]] = {}
    for a in annotations:
        by_image.setdefault(int(a["image_id"]), []).append(a)
    folders = [images_dir] if images_dir else [path.parent / "images", path.parent]
    with_masks = any("segmentation" in a for a in annotations)
    samples = _Samples()
    for entry in entries[:MAX_IMAGES]:
        found = next((f / entry["file_name"] for f in folders if (f / entry["file_name"]
                                                                  ).is_file()), None)
        if found is None:
            raise DataError(f"{path}: image {entry['file_name']} not found in "
                            f"{' or '.join(str(f) for f in folders)}")
        image = _read_image(found)
        height, width = image.shape[-2:]
        if (int(entry.get("height", height)), int(entry.get("width", width))) != (height, width):
            raise DataError(f"{found}: is {width}×{height} but {path.name} says "
                            f"{entry.get('width')}×{entry.get('height')}")
        rows = []
        mask = np.zeros((height, width), np.int64) if with_masks else None
        for a in by_image.get(int(entry["id"]), []):
            if int(a["category_id"]) not in index:
                raise DataError(f"{path}: annotation {a.get('id')} of {entry['file_name']} "
                                f"names unknown category {a['category_id']}")
            label = index[int(a["category_id"])]
            x, y, w, h = (float(v) for v in a["bbox"])
            _check_box(path, f"annotation {a.get('id')} ({entry['file_name']})",
                       [x, y, x + w, y + h], width, height)
            rows.append([label, x, y, x + w, y + h])
            if mask is not None and "segmentation" in a:
                mask[_coco_mask(path, a, height, width)] = label + 1
        boxes = torch.tensor(rows, dtype=torch.float32).reshape(-1, 5)
        fitted, fitted_mask, fitted_boxes = _fit(image, mask, boxes, channels, size)
        samples.images.append(fitted)
        samples.boxes.append(fitted_boxes if fitted_boxes is not None else boxes)
        if fitted_mask is not None:
            samples.masks.append(fitted_mask)
    return samples.dataset(path.stem, classes, path, size, [])


# -- a folder pair of images + masks -------------------------------------------------------------

def load_mask_folder(folder: Path, size: tuple[int, int], channels: int) -> Dataset:
    """``images/`` and ``masks/`` with the same file names; a mask holds class numbers
    (0 background, 1, 2 …); the classes are named 1 … the largest number found."""
    images_dir, masks_dir = folder / "images", folder / "masks"
    paths = sorted(p for p in images_dir.glob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    samples = _Samples()
    largest = 0
    for image_path in paths[:MAX_IMAGES]:
        matches = [masks_dir / f"{image_path.stem}{s}" for s in (".png", image_path.suffix)]
        mask_path = next((m for m in matches if m.is_file()), None)
        if mask_path is None:
            raise DataError(f"{image_path}: no mask with the same name in {masks_dir}")
        image = _read_image(image_path)
        mask = _read_mask(mask_path)
        height, width = image.shape[-2:]
        if mask.shape != (height, width):
            raise DataError(f"{mask_path}: the mask is {mask.shape[1]}×{mask.shape[0]} but "
                            f"its image {image_path.name} is {width}×{height}")
        if mask.min() < 0 or mask.max() > 254:
            raise DataError(f"{mask_path}: class numbers must be 0–254")
        largest = max(largest, int(mask.max()))
        fitted, fitted_mask, _ = _fit(image, mask, None, channels, size)
        samples.images.append(fitted)
        assert fitted_mask is not None
        samples.masks.append(fitted_mask)
    return samples.dataset(folder.name, [str(i) for i in range(1, max(largest, 1) + 1)],
                           folder, size, [])


def annotated_format(path: Path) -> str | None:
    """Which loader reads ``path``: voc, coco, masks, or None (not an annotated dataset)."""
    if path.is_file() and path.suffix.lower() == ".json":
        return "coco"
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

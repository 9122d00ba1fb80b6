"""Datasets with masks and boxes in the formats users have: Pascal VOC, COCO JSON, and a folder
pair of images + masks.

Everything is read once into memory at the model's input size: images resized (antialiased),
masks resized by nearest neighbour, boxes scaled. Any problem is one DataError naming the file:
a mask of another size than its image, a box outside its image, an unknown class, an empty set.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.data.annotation_checks import (
    VOC_CLASSES,
    _check_box,
    _check_coco,
    _coco_mask,
    _read_coco,
    _voc_boxes,
)
from core.data.dataset import IMAGE_SUFFIXES, Dataset, Split, split_three_ways
from core.data.errors import DataError
from core.data.images import (
    ImageTooLarge,
    fit_images,
    open_image,
    oriented_size,
    pil_array,
    uint8_chw,
)
from core.regular_files import NotARegularFile

VOC_VOID = 255
"""VOC marks object borders 255 ('void'); they are read as background."""
MAX_IMAGES = 20_000
CLASS_NAMES = "class_names.txt"
"""A VOC folder's own class names, one a line (a folder labelled in ConvScope has one)."""


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
    loader does) and its own (height, width) as shown (EXIF orientation applied), under the same
    file and bomb limits."""
    from PIL import Image

    try:
        with open_image(path) as image:
            return uint8_chw(pil_array(image, size)), oriented_size(image)
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


def _listing(folder: Path, suffixes: set[str] | tuple[str, ...]) -> list[Path]:
    """The folder's entries with these suffixes, sorted, at most MAX_IMAGES (a folder with more
    is cut, as before, and said by the caller's count)."""
    return sorted(p for p in folder.glob("*") if p.suffix.lower() in suffixes)[:MAX_IMAGES]


def voc_class_names(folder: Path) -> list[str]:
    """The class names a VOC folder's class_names.txt lists, else VOC's own 20."""
    path = folder / CLASS_NAMES
    if not path.is_file():
        return list(VOC_CLASSES)
    try:
        names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot be read ({type(exc).__name__})") from None
    return names or list(VOC_CLASSES)


def load_voc(folder: Path, size: tuple[int, int], channels: int) -> Dataset:
    """VOC layout: JPEGImages/*.jpg with SegmentationClass/*.png (palette indices = classes,
    255 borders read as background) and / or Annotations/*.xml (boxes)."""
    images_dir, masks_dir, xml_dir = (folder / "JPEGImages", folder / "SegmentationClass",
                                      folder / "Annotations")
    has_masks, has_boxes = masks_dir.is_dir(), xml_dir.is_dir()
    classes = voc_class_names(folder)
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
            if mask.max() > len(classes):
                raise DataError(f"{mask_path}: class {mask.max()} is not a VOC class (1–"
                                f"{len(classes)}, 0 background, 255 borders); the mask is "
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
    return samples.dataset(str(folder.resolve()), classes, folder, size,
                           ["VOC borders (255) read as background"] if has_masks else [])


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

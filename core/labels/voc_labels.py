"""A label set's masks as a VOC-style folder: JPEGImages/*.jpg, SegmentationClass/*.png (palette
PNGs: index 0 background, 1 + class, the class colours as the palette), the image list in
ImageSets/Segmentation/ and the class names in class_names.txt. torchvision's VOCSegmentation
and ConvScope's VOC loader read it; it is written whole into a new folder and swapped in, so a
failed write leaves the old folder as it was.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from core.data.annotated import CLASS_NAMES, VOC_VOID, _read_mask, voc_class_names
from core.data.errors import DataError
from core.labels.images import read_rgb
from core.labels.label_set import PALETTE, ImageLabels, LabelClass, LabelError, LabelSet

VOID_COLOUR = (224, 224, 192)
"""The colour of VOC's 255 ('void', object borders)."""


def palette(classes: list[LabelClass]) -> list[int]:
    colours = [(0, 0, 0)] + [c.colour for c in classes]
    colours += [(0, 0, 0)] * (255 - len(colours)) + [VOID_COLOUR]
    return [v for colour in colours for v in colour]


def _write_into(labels: LabelSet, items: list[ImageLabels], folder: Path) -> None:
    from PIL import Image

    for sub in ("JPEGImages", "SegmentationClass", "ImageSets/Segmentation"):
        (folder / sub).mkdir(parents=True)
    flat = palette(labels.classes)
    for item in items:
        stem = Path(item.file_name).stem
        Image.fromarray(read_rgb(labels.images_dir / item.file_name)).save(
            folder / "JPEGImages" / f"{stem}.jpg", quality=95)
        mask = Image.fromarray(np.asarray(item.mask, np.uint8), mode="P")
        mask.putpalette(flat)
        mask.save(folder / "SegmentationClass" / f"{stem}.png")
    names = "".join(f"{Path(i.file_name).stem}\n" for i in items)
    for split in ("train", "trainval"):
        (folder / "ImageSets" / "Segmentation" / f"{split}.txt").write_text(names)
    (folder / CLASS_NAMES).write_text("".join(f"{c.name}\n" for c in labels.classes))


def write_voc(labels: LabelSet, folder: Path) -> int:
    """The painted, labelled images as a VOC folder at ``folder``; returns how many."""
    items = [i for i in labels.labelled() if i.mask is not None and i.mask.any()]
    stems = [Path(i.file_name).stem for i in items]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise LabelError(f"{labels.images_dir}: {', '.join(twice[:3])} name more than one image "
                         "(another suffix); VOC names files by stem, rename one")
    fresh = folder.with_name(folder.name + ".new")
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(fresh, ignore_errors=True)
    try:
        _write_into(labels, items, fresh)
        if folder.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
        os.replace(fresh, folder)
    except OSError as exc:
        raise LabelError(f"{folder}: cannot be written ({exc.strerror or type(exc).__name__})"
                         ) from None
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return len(items)


def read_voc_into(labels: LabelSet, folder: Path) -> None:
    """Masks from ``folder``/SegmentationClass for the listed images (JPEGImages); a mask of
    another size, of unknown classes or unreadable is one line in ``labels.problems``."""
    from PIL import Image

    try:
        names = voc_class_names(folder)
    except DataError as exc:
        labels.problems.append(str(exc))
        return
    labels.classes = [LabelClass(n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)]
    masks = folder / "SegmentationClass"
    first = next(iter(sorted(masks.glob("*.png"))), None) if masks.is_dir() else None
    if first is not None:  # the palette's colours, when the masks carry them
        try:
            with Image.open(first) as image:
                colours = image.getpalette() or []
            for i, c in enumerate(labels.classes):
                if len(colours) >= 3 * (i + 2):
                    c.colour = (colours[3 * i + 3], colours[3 * i + 4], colours[3 * i + 5])
        except (OSError, ValueError):
            pass
    for item in labels.images.values():
        path = masks / f"{Path(item.file_name).stem}.png"
        if not path.exists():
            continue
        try:
            mask = _read_mask(path)
        except DataError as exc:
            labels.problems.append(str(exc).splitlines()[0])
            continue
        if mask.shape != (item.height, item.width):
            labels.problems.append(f"{path}: the mask is {mask.shape[1]}×{mask.shape[0]} but "
                                   f"its image {item.file_name} is {item.width}×{item.height}; "
                                   "left out")
            continue
        mask = mask.astype(np.int64)
        mask[mask == VOC_VOID] = 0
        if mask.max() > len(names):
            labels.problems.append(f"{path}: class {mask.max()} is not one of the "
                                   f"{len(names)} classes; left out")
            continue
        item.mask = mask.astype(np.uint8)
        item.status = "labelled" if item.mask.any() else "unlabelled"

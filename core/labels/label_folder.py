"""Opening a folder to label (a folder of images, a COCO JSON file or a VOC folder) and saving
its labels: COCO JSON beside the images (all-or-nothing) and, for masks, a VOC folder."""

from __future__ import annotations

import os
from pathlib import Path

from core.labels.coco_labels import read_coco_into, write_coco
from core.labels.images import image_files, image_size
from core.labels.label_set import ImageLabels, LabelError, LabelSet
from core.labels.voc_labels import read_voc_into, write_voc

LABEL_FILE = "labels.coco.json"
"""The COCO file a label folder keeps beside its images; the Train tab reads it as a dataset."""
VOC_FOLDER = "labels-voc"
"""The VOC folder of the painted masks, beside the images."""


def _list_images(labels: LabelSet) -> None:
    for path in image_files(labels.images_dir):
        try:
            height, width = image_size(path)
        except LabelError as exc:
            labels.problems.append(str(exc))
            continue
        labels.images[path.name] = ImageLabels(path.name, height, width)


def open_labels(path: Path) -> LabelSet:
    """The label set of ``path``: a folder of images (with its labels.coco.json when there is
    one), a COCO JSON file (images beside it or in its images/ folder) or a VOC folder
    (JPEGImages with SegmentationClass). Bad labels are lines in ``problems``; the rest open."""
    if path.suffix.lower() == ".json" and not path.is_dir():
        images_dir = path.parent / "images" if (path.parent / "images").is_dir() else path.parent
        labels = LabelSet(images_dir, path)
        _list_images(labels)
        read_coco_into(labels, path)
        return labels
    if (path / "JPEGImages").is_dir():
        labels = LabelSet(path / "JPEGImages", path / LABEL_FILE)
        _list_images(labels)
        if os.path.lexists(labels.coco_path):
            read_coco_into(labels, labels.coco_path)
        else:
            read_voc_into(labels, path)
        return labels
    labels = LabelSet(path, path / LABEL_FILE)
    _list_images(labels)
    if os.path.lexists(labels.coco_path):
        read_coco_into(labels, labels.coco_path)
    if not labels.images and not labels.problems:
        raise LabelError(f"{path}: no images to label (png, jpg, bmp, gif, tif or webp)")
    return labels


def save_labels(labels: LabelSet, voc: bool = True) -> list[Path]:
    """COCO JSON (always) and, when any image is painted and ``voc``, the VOC folder."""
    written = [write_coco(labels)]
    if voc and any(i.mask is not None and i.mask.any() for i in labels.labelled()):
        folder = labels.coco_path.parent / VOC_FOLDER
        write_voc(labels, folder)
        written.append(folder)
    return written

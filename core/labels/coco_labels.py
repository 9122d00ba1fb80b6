"""A label set as COCO JSON: boxes as ``bbox``, each class's painted region of an image as one
annotation with a compressed RLE (pycocotools), and the image's status as an extra field.

Reading goes through core.data.annotation_checks, the same checks the COCO training loader
uses; a problem with one image or one annotation is one line naming the file, and the rest of
the labels still open.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from core.data.annotation_checks import _check_box, _check_coco, _coco_mask, _read_coco
from core.data.errors import DataError
from core.labels.label_set import PALETTE, Box, ImageLabels, LabelClass, LabelSet
from core.regular_files import write_atomic

REGION = "convscope_region"
"""Marks an annotation that is a class's painted region (its bbox is no drawn box)."""
STATUS = "convscope_status"
COLOUR = "convscope_colour"


def _rle(region: np.ndarray) -> dict[str, Any]:
    from pycocotools import mask as coco_mask

    rle = coco_mask.encode(np.asfortranarray(region.astype(np.uint8)))
    counts = rle["counts"]
    return {"size": [int(v) for v in rle["size"]],
            "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts}


def coco_document(labels: LabelSet) -> dict[str, Any]:
    """The COCO JSON of the labelled and reviewed images (unlabelled ones are left out, so a
    training run splits the labelled images only)."""
    from pycocotools import mask as coco_mask

    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for item in labels.labelled():
        image_id = len(images) + 1
        images.append({"id": image_id, "file_name": item.file_name, "height": item.height,
                       "width": item.width, STATUS: item.status})
        for box in item.boxes:
            w, h = box.x2 - box.x1, box.y2 - box.y1
            annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                "category_id": box.label + 1, "iscrowd": 0,
                                "bbox": [round(box.x1, 2), round(box.y1, 2), round(w, 2),
                                         round(h, 2)], "area": round(w * h, 2)})
        if item.mask is not None:
            for value in np.unique(item.mask):
                if value == 0 or value > len(labels.classes):
                    continue
                rle = _rle(item.mask == value)
                x, y, w, h = (float(v) for v in coco_mask.toBbox(
                    {"size": rle["size"], "counts": rle["counts"].encode("ascii")}))
                annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                                    "category_id": int(value), "iscrowd": 0, REGION: True,
                                    "segmentation": rle, "bbox": [x, y, w, h],
                                    "area": int((item.mask == value).sum())})
    categories = [{"id": i + 1, "name": c.name, "supercategory": "object",
                   COLOUR: list(c.colour)} for i, c in enumerate(labels.classes)]
    return {"info": {"description": "labelled in ConvScope"}, "images": images,
            "annotations": annotations, "categories": categories}


def write_coco(labels: LabelSet, path: Path | None = None) -> Path:
    """Write the labels all-or-nothing (core.regular_files.write_atomic); returns the path."""
    target = path or labels.coco_path
    text = json.dumps(coco_document(labels), separators=(",", ":"))
    write_atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return target


def _usable(path: Path, raw: dict[str, Any], present: dict[str, ImageLabels],
            problems: list[str]) -> dict[str, Any]:
    """``raw`` without the images the folder lacks and the annotations of images not listed,
    each said in ``problems``; what remains is checked whole by _check_coco."""
    images, kept_ids = [], set()
    for entry in raw.get("images", []) if isinstance(raw.get("images"), list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("file_name"), str) and (
                entry["file_name"] not in present):
            problems.append(f"{path}: image {entry['file_name'][:80]} is not in "
                            f"{path.parent}; its labels are left out")
            continue
        images.append(entry)
        if isinstance(entry, dict):
            kept_ids.add(entry.get("id"))
    annotations, missing = [], set()
    for a in raw.get("annotations", []) if isinstance(raw.get("annotations"), list) else []:
        if isinstance(a, dict) and a.get("image_id") not in kept_ids:
            missing.add(str(a.get("image_id"))[:20])
            continue
        annotations.append(a)
    if missing:
        shown = ", ".join(sorted(missing)[:5])
        problems.append(f"{path}: annotations name image {shown}, which it does not list (or "
                        "the folder lacks); they are left out")
    return {**raw, "images": images, "annotations": annotations}


def read_coco_into(labels: LabelSet, path: Path) -> None:
    """Fill ``labels`` (its images already listed from the folder) from a COCO file: classes,
    boxes, masks and status. Problems go to ``labels.problems``, one line each."""
    try:
        raw = _read_coco(path)
        if isinstance(raw, dict):
            raw = _usable(path, raw, labels.images, labels.problems)
        coco = _check_coco(path, raw)
    except DataError as exc:
        labels.problems.append(str(exc).splitlines()[0])
        return
    colours: dict[str, Any] = {}
    for c in raw.get("categories", []):
        colour = c.get(COLOUR)
        if isinstance(colour, list) and len(colour) == 3 and all(
                isinstance(v, int) and 0 <= v <= 255 for v in colour):
            colours[str(c.get("name"))] = tuple(colour)
    labels.classes = [LabelClass(name, colours.get(name, PALETTE[i % len(PALETTE)]))
                      for i, name in enumerate(coco.classes)]
    statuses = {int(e["id"]): e.get(STATUS) for e in raw["images"]}
    regions = {id(a.get("segmentation")) for a in raw["annotations"] if a.get(REGION) is True}
    for entry in coco.images:
        item = labels.images[entry.file_name]
        if (entry.height or item.height, entry.width or item.width) != (item.height,
                                                                         item.width):
            labels.problems.append(f"{path}: {entry.file_name} is {item.width}×{item.height} "
                                   f"but the file says {entry.width}×{entry.height}; its "
                                   "labels are left out")
            continue
        for obj in coco.objects.get(entry.id, []):
            region = id(obj.segmentation) in regions and obj.segmentation is not None
            try:
                if not region:
                    x, y, w, h = obj.box
                    _check_box(path, f"{obj.where} ({entry.file_name})", [x, y, x + w, y + h],
                               item.width, item.height)
                    item.boxes.append(Box(obj.label, x, y, x + w, y + h))
                if obj.segmentation is not None:
                    drawn = _coco_mask(path, obj, item.height, item.width)
                    if drawn is not None:
                        item.mask_or_empty()[drawn] = obj.label + 1
            except DataError as exc:
                labels.problems.append(str(exc).splitlines()[0] + "; left out")
        status = statuses.get(entry.id)
        item.status = status if status in ("labelled", "reviewed") else "labelled"
        if not item.has_labels():
            item.status = "unlabelled"

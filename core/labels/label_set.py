"""The labels of one folder of images: classes, and per image its boxes, its mask and its status.

A mask is one byte per pixel at the image's own size as shown (EXIF orientation applied):
0 background, 1 + the class index elsewhere, as ConvScope's segmentation datasets hold it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.data.errors import DataError

STATUSES = ("unlabelled", "labelled", "reviewed")
"""An image's status: nothing drawn yet, drawn, checked by a second look."""
MAX_CLASSES = 254
"""A mask byte holds 0 (background) and 1 + class, 255 unused (as core.data's masks)."""
PALETTE = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
           (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212),
           (0, 128, 128), (220, 190, 255), (170, 110, 40), (128, 0, 0), (170, 255, 195)]
"""Distinct colours for new classes (Sasha Trubetskoy's list), repeated past its end."""


class LabelError(DataError):
    """A label file or edit is refused; one line naming the file or the class."""


@dataclass
class LabelClass:
    name: str
    colour: tuple[int, int, int]


@dataclass
class Box:
    """A box in the image's pixels (x1, y1) to (x2, y2), of class ``label``."""

    label: int
    x1: float
    y1: float
    x2: float
    y2: float

    def clipped(self, width: int, height: int) -> Box:
        x1, x2 = sorted((min(max(self.x1, 0.0), width), min(max(self.x2, 0.0), width)))
        y1, y2 = sorted((min(max(self.y1, 0.0), height), min(max(self.y2, 0.0), height)))
        return Box(self.label, x1, y1, x2, y2)

    def is_empty(self) -> bool:
        return self.x2 - self.x1 < 1 or self.y2 - self.y1 < 1


@dataclass
class ImageLabels:
    """One image's labels; ``mask`` is None until something is painted."""

    file_name: str
    height: int
    width: int
    boxes: list[Box] = field(default_factory=list)
    mask: np.ndarray | None = None
    status: str = "unlabelled"

    def has_labels(self) -> bool:
        return bool(self.boxes) or (self.mask is not None and bool(self.mask.any()))

    def mask_or_empty(self) -> np.ndarray:
        if self.mask is None:
            self.mask = np.zeros((self.height, self.width), np.uint8)
        return self.mask

    def touch(self) -> None:
        """After an edit: labelled when something is drawn, unlabelled when all is erased."""
        if self.has_labels():
            if self.status == "unlabelled":
                self.status = "labelled"
        else:
            self.status = "unlabelled"


@dataclass(frozen=True)
class ClassUsage:
    """What deleting a class affects: its boxes, its painted pixels, the images holding them."""

    boxes: int
    pixels: int
    images: int

    def words(self) -> str:
        return (f"{self.boxes} box{'es' if self.boxes != 1 else ''} and {self.pixels:,} painted "
                f"pixel{'s' if self.pixels != 1 else ''} in {self.images} "
                f"image{'s' if self.images != 1 else ''}")


@dataclass
class LabelSet:
    """The classes and the labels of every image of ``images_dir`` (by file name, sorted)."""

    images_dir: Path
    coco_path: Path
    classes: list[LabelClass] = field(default_factory=list)
    images: dict[str, ImageLabels] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """One line per label that could not be read (naming its file); the rest opened."""

    def names(self) -> list[str]:
        return list(self.images)

    def labelled(self) -> list[ImageLabels]:
        return [i for i in self.images.values() if i.status != "unlabelled" and i.has_labels()]

    # -- classes --------------------------------------------------------------------------------
    def _check_name(self, name: str, skip: int | None = None) -> str:
        name = name.strip()
        if not name:
            raise LabelError("a class needs a name")
        if any(c.name == name for i, c in enumerate(self.classes) if i != skip):
            raise LabelError(f'a class "{name}" exists already; give another name')
        return name

    def add_class(self, name: str, colour: tuple[int, int, int] | None = None) -> int:
        if len(self.classes) >= MAX_CLASSES:
            raise LabelError(f"at most {MAX_CLASSES} classes fit in a mask")
        name = self._check_name(name)
        self.classes.append(LabelClass(name, colour or PALETTE[len(self.classes) % len(PALETTE)]))
        return len(self.classes) - 1

    def rename_class(self, index: int, name: str) -> None:
        self.classes[index].name = self._check_name(name, index)

    def recolour_class(self, index: int, colour: tuple[int, int, int]) -> None:
        self.classes[index].colour = colour

    def usage(self, index: int) -> ClassUsage:
        boxes = pixels = images = 0
        for item in self.images.values():
            b = sum(1 for box in item.boxes if box.label == index)
            p = int((item.mask == index + 1).sum()) if item.mask is not None else 0
            boxes, pixels, images = boxes + b, pixels + p, images + (1 if b or p else 0)
        return ClassUsage(boxes, pixels, images)

    def delete_class(self, index: int) -> ClassUsage:
        """Remove the class, its boxes and its pixels (back to background); later classes move
        down one, in boxes and masks alike."""
        used = self.usage(index)
        del self.classes[index]
        for item in self.images.values():
            item.boxes = [Box(b.label - (b.label > index), b.x1, b.y1, b.x2, b.y2)
                          for b in item.boxes if b.label != index]
            if item.mask is not None:
                mask = item.mask
                mask[mask == index + 1] = 0
                mask[mask > index + 1] -= 1
            item.touch()
        return used

    def set_status(self, name: str, status: str) -> None:
        if status not in STATUSES:
            raise LabelError(f'unknown status "{status}"; use one of {", ".join(STATUSES)}')
        self.images[name].status = status

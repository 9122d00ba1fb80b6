"""The model's suggestion cut into proposals a person accepts or rejects one at a time: each
proposed box, and each connected region of a proposed mask (one class, 8-connected).

A mask of a few hundred specks would make a list nobody reads, so past ``MAX_REGIONS`` the
smallest regions of each class are gathered into one proposal ("scattered pieces"); accepting
every proposal still writes exactly the model's mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.labels.label_set import Box
from core.labels.mask_edits import Patch

MAX_REGIONS = 40
"""Regions listed one by one; smaller ones past these gather per class."""


@dataclass
class Proposal:
    """One box (``box``) or one mask region (``region``, a boolean array whose top-left pixel
    is (``x0``, ``y0``) of the image); ``label`` is the model's class (0-based, no background)."""

    label: int
    box: Box | None = None
    x0: int = 0
    y0: int = 0
    region: np.ndarray | None = None
    pieces: int = 1
    """How many connected regions this proposal holds (more than one: scattered pieces)."""

    @property
    def pixels(self) -> int:
        return int(self.region.sum()) if self.region is not None else 0

    def bounds(self) -> tuple[float, float, float, float]:
        """(x1, y1, x2, y2) in the image's pixels."""
        if self.box is not None:
            return self.box.x1, self.box.y1, self.box.x2, self.box.y2
        assert self.region is not None
        h, w = self.region.shape
        return float(self.x0), float(self.y0), float(self.x0 + w), float(self.y0 + h)

    def contains(self, x: float, y: float) -> bool:
        """Whether the image pixel (x, y) is inside the box, or one of the region's pixels."""
        if self.box is not None:
            return self.box.x1 <= x <= self.box.x2 and self.box.y1 <= y <= self.box.y2
        assert self.region is not None
        col, row = int(x) - self.x0, int(y) - self.y0
        h, w = self.region.shape
        return 0 <= row < h and 0 <= col < w and bool(self.region[row, col])

    def words(self, classes: list[str]) -> str:
        name = classes[self.label] if 0 <= self.label < len(classes) else f"class {self.label + 1}"
        if self.box is not None:
            b = self.box
            return f"{name}: box {b.x2 - b.x1:.0f}×{b.y2 - b.y1:.0f} at ({b.x1:.0f}, {b.y1:.0f})"
        what = "region" if self.pieces == 1 else f"{self.pieces} scattered pieces"
        return f"{name}: {what}, {self.pixels:,} px"

    def mask_patch(self, mask: np.ndarray, value: int) -> Patch | None:
        """The patch that paints this region into ``mask`` with ``value``; None if it changes
        nothing."""
        assert self.region is not None
        h, w = self.region.shape
        before = mask[self.y0:self.y0 + h, self.x0:self.x0 + w].copy()
        after = np.where(self.region, np.uint8(value), before).astype(np.uint8)
        if np.array_equal(before, after):
            return None
        return Patch(self.y0, self.x0, before, after)


def _union(parts: list[tuple[int, int, np.ndarray]], label: int) -> Proposal:
    """One proposal of the regions ``(y0, x0, region)``, in their joint bounding box."""
    y0 = min(p[0] for p in parts)
    x0 = min(p[1] for p in parts)
    y1 = max(p[0] + p[2].shape[0] for p in parts)
    x1 = max(p[1] + p[2].shape[1] for p in parts)
    region = np.zeros((y1 - y0, x1 - x0), bool)
    for y, x, part in parts:
        region[y - y0:y - y0 + part.shape[0], x - x0:x - x0 + part.shape[1]] |= part
    return Proposal(label, x0=x0, y0=y0, region=region, pieces=len(parts))


def split(mask: np.ndarray | None, boxes: list[Box]) -> list[Proposal]:
    """The proposals of a suggestion: its boxes in order, then its mask's regions, largest
    first. ``mask`` holds 0 for background and 1 + the model's class elsewhere."""
    proposals = [Proposal(b.label, box=Box(b.label, b.x1, b.y1, b.x2, b.y2)) for b in boxes]
    if mask is None or not mask.any():
        return proposals
    from skimage.measure import label as connected  # loaded by the worker that suggests
    from skimage.measure import regionprops

    found: list[tuple[int, int, int, int, np.ndarray]] = []  # pixels, class, y0, x0, region
    for value in (int(v) for v in np.unique(mask) if v):
        parts = connected(mask == value, connectivity=2)  # type: ignore[no-untyped-call]
        for part in regionprops(parts):  # type: ignore[no-untyped-call]
            y0, x0 = int(part.bbox[0]), int(part.bbox[1])
            found.append((int(part.area), value - 1, y0, x0, np.asarray(part.image, bool)))
    found.sort(key=lambda f: -f[0])
    kept, rest = found[:MAX_REGIONS], found[MAX_REGIONS:]
    proposals += [Proposal(label, x0=x0, y0=y0, region=region)
                  for _n, label, y0, x0, region in kept]
    for label in sorted({f[1] for f in rest}):
        proposals.append(_union([(f[2], f[3], f[4]) for f in rest if f[1] == label], label))
    return proposals

"""Mask edits as patches: what a brush stroke, a polygon, a fill or a grown region changes.

Each edit returns a :class:`Patch` (the changed rectangle before and after), so the Label tab
applies it, undoes it and redraws only that rectangle; none touches more than its bounding box
of the full-resolution mask, except a fill or a grown region, which run on the worker.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Patch:
    """Rows y0.., columns x0.. of a mask: ``before`` and ``after`` (same shape)."""

    y0: int
    x0: int
    before: np.ndarray
    after: np.ndarray

    def apply(self, mask: np.ndarray, undo: bool = False) -> None:
        h, w = self.before.shape
        mask[self.y0:self.y0 + h, self.x0:self.x0 + w] = self.before if undo else self.after

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """(x, y, width, height) in the mask's pixels."""
        return self.x0, self.y0, self.before.shape[1], self.before.shape[0]


def _patch(mask: np.ndarray, y0: int, x0: int, region: np.ndarray, value: int) -> Patch | None:
    h, w = region.shape
    before = mask[y0:y0 + h, x0:x0 + w].copy()
    after = before.copy()
    after[region] = value
    if np.array_equal(before, after):
        return None
    return Patch(y0, x0, before, after)


def stroke(mask: np.ndarray, points: list[tuple[float, float]], radius: float,
           value: int) -> Patch | None:
    """A brush (value = 1 + class) or an eraser (value = 0) of ``radius`` pixels along the
    polyline ``points`` (x, y in the mask's pixels)."""
    height, width = mask.shape
    r = max(0.5, radius)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = max(0, int(np.floor(min(xs) - r))), min(width, int(np.ceil(max(xs) + r)) + 1)
    y0, y1 = max(0, int(np.floor(min(ys) - r))), min(height, int(np.ceil(max(ys) + r)) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    gy, gx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    gx += 0.5
    gy += 0.5
    region = np.zeros((y1 - y0, x1 - x0), bool)
    pairs = list(itertools.pairwise(points)) or [(points[0], points[0])]
    for (ax, ay), (bx, by) in pairs:
        dx, dy = bx - ax, by - ay
        length = dx * dx + dy * dy
        t = np.zeros_like(gx) if length == 0 else np.clip(
            ((gx - ax) * dx + (gy - ay) * dy) / length, 0, 1)
        region |= (gx - ax - t * dx) ** 2 + (gy - ay - t * dy) ** 2 <= r * r
    return _patch(mask, y0, x0, region, value)


def polygon(mask: np.ndarray, points: list[tuple[float, float]], value: int) -> Patch | None:
    """The polygon's inside (x, y vertices in the mask's pixels) set to ``value``."""
    from skimage.draw import polygon as draw_polygon

    if len(points) < 3:
        return None
    height, width = mask.shape
    xs = np.array([p[0] for p in points])
    ys = np.array([p[1] for p in points])
    rows, cols = draw_polygon(ys, xs, shape=(height, width))  # type: ignore[no-untyped-call]
    if not len(rows):
        return None
    y0, x0 = int(rows.min()), int(cols.min())
    region = np.zeros((int(rows.max()) - y0 + 1, int(cols.max()) - x0 + 1), bool)
    region[rows - y0, cols - x0] = True
    return _patch(mask, y0, x0, region, value)


def _bounded(mask: np.ndarray, region: np.ndarray, value: int) -> Patch | None:
    if not region.any():
        return None
    rows = np.flatnonzero(region.any(axis=1))
    cols = np.flatnonzero(region.any(axis=0))
    y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return _patch(mask, y0, x0, region[y0:y1, x0:x1], value)


def fill(mask: np.ndarray, x: int, y: int, value: int) -> Patch | None:
    """The connected area of the mask's value at (x, y) (a hole, the background around) set
    to ``value`` (skimage's flood fill)."""
    from skimage.segmentation import flood

    region = flood(mask, (y, x), connectivity=1)  # type: ignore[no-untyped-call]
    return _bounded(mask, region, value)


def grow(image: np.ndarray, mask: np.ndarray, x: int, y: int, tolerance: float,
         value: int) -> Patch | None:
    """The pixels connected to (x, y) whose colour is within ``tolerance`` (0–255 per channel)
    of the seed's, set to ``value``: skimage's flood with a tolerance, on the image's grey."""
    from skimage.segmentation import flood

    grey = image.mean(axis=2, dtype=np.float32) if image.ndim == 3 else image.astype(np.float32)
    region = flood(grey, (y, x), tolerance=float(tolerance))  # type: ignore[no-untyped-call]
    return _bounded(mask, region, value)


SUPERPIXEL_SIDE = 512
"""SLIC runs on the image reduced to at most this many pixels a side (a 12-megapixel photo in
a fraction of a second); its superpixels are scaled back to the mask."""


@dataclass(frozen=True)
class Superpixels:
    """SLIC superpixels of an image at ``scale`` (labels on the reduced image)."""

    labels: np.ndarray
    scale: float

    def region(self, mask_shape: tuple[int, int], points: list[tuple[float, float]]
               ) -> np.ndarray:
        """The full-size region of every superpixel under the (x, y) ``points``."""
        h, w = self.labels.shape
        ids = {int(self.labels[min(h - 1, int(py * self.scale)), min(w - 1, int(px * self.scale))])
               for px, py in points}
        small = np.isin(self.labels, list(ids))
        rows = np.minimum((np.arange(mask_shape[0]) * self.scale).astype(int), h - 1)
        cols = np.minimum((np.arange(mask_shape[1]) * self.scale).astype(int), w - 1)
        region: np.ndarray = small[rows][:, cols]
        return region


def superpixels(image: np.ndarray, count: int = 400) -> Superpixels:
    """scikit-image's SLIC on the image reduced to SUPERPIXEL_SIDE a side at most."""
    from skimage.segmentation import slic

    side = max(image.shape[:2])
    step = max(1, int(np.ceil(side / SUPERPIXEL_SIDE)))
    small = image[::step, ::step]
    labels = slic(small, n_segments=count, compactness=10, start_label=0,
                  channel_axis=-1 if small.ndim == 3 else None)
    return Superpixels(labels.astype(np.int32), 1.0 / step)


def superpixel_patch(found: Superpixels, mask: np.ndarray, points: list[tuple[float, float]],
                     value: int) -> Patch | None:
    return _bounded(mask, found.region(mask.shape, points), value)

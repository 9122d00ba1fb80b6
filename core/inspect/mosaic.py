"""Tiling many small maps into one image (what the GUI shows as a grid), with a cell lookup."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mosaic:
    """``image`` is (H, W) or (H, W, 3) float with NaN between cells; cells[i] = (row, col) of
    tile i's top-left pixel; ``tile`` = (h, w)."""

    image: np.ndarray
    cells: tuple[tuple[int, int], ...]
    tile: tuple[int, int]
    columns: int

    def cell_at(self, row: float, col: float) -> tuple[int, int, int] | None:
        """(tile index, row, col inside the tile) under an image position, or None."""
        for index, (top, left) in enumerate(self.cells):
            r, c = int(row) - top, int(col) - left
            if 0 <= r < self.tile[0] and 0 <= c < self.tile[1]:
                return index, r, c
        return None


def tile(maps: np.ndarray, columns: int | None = None, pad: int = 1,
         fill: float = np.nan) -> Mosaic:
    """Tile (N, h, w) maps or (N, 3, h, w) colour tiles into one image; ``fill`` goes between
    tiles (0 for filters, the neutral colour of a diverging map)."""
    color = maps.ndim == 4
    n = maps.shape[0]
    h, w = maps.shape[-2:]
    if columns is None:
        columns = max(1, math.ceil(math.sqrt(n * h / max(w, 1) * 1.5)))
    rows = math.ceil(n / columns) if n else 1
    shape = (rows * (h + pad) - pad, columns * (w + pad) - pad)
    image = np.full((*shape, 3) if color else shape, fill, dtype=np.float32)
    cells = []
    for i in range(n):
        top, left = (i // columns) * (h + pad), (i % columns) * (w + pad)
        image[top:top + h, left:left + w] = maps[i].transpose(1, 2, 0) if color else maps[i]
        cells.append((top, left))
    return Mosaic(image, tuple(cells), (h, w), columns)

"""Where the step-through's grids go, and what its input map shows.

``GridArea`` places the input map, one row of patch × kernel = products per input channel and
the output map in fixed shares of its width; ``input_plane`` gives the input channel with its
padding ring and the cells the window reads.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QFont, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.classroom.grids import MAP_READ_CELLS, READABLE_FROM_BACK, NumberGrid
from core.classroom.step import Step

MAP_SHARE = 0.225
"""The width each map a class reads keeps beside the rows (the rows take up to 55 %)."""
PICTURE_SHARE = 0.12
"""The width a map drawn as a picture (its numbers too small to read) keeps where the rows need
more: a 5×5 kernel's rows take up to 76 % of the width beside two pictures."""
OUTPUT_LEAST = 150
"""The least width an output map drawn as a picture is shown at beside the input map's lens:
narrower, its share goes to the lens and it is hidden (the step's result is in the formula
below the rows, and a sliver of a picture under a shrunken title reads from nowhere)."""


def padding_ring(step: Step, module: object) -> tuple[int, int]:
    """The padding ring the input map draws, in cells (rows, columns): the layer's padding;
    0 where it is not a number, and for a transposed convolution (whose input is not padded)."""
    if step.kind == "transposed":
        return 0, 0
    padding = getattr(module, "padding", 0)
    if isinstance(padding, int):
        return padding, padding
    if isinstance(padding, tuple | list) and all(isinstance(p, int) for p in padding):
        return (int(padding[-2]), int(padding[-1])) if len(padding) >= 2 else \
            (0, int(padding[0]))
    return 0, 0


def input_plane(step: Step, plane: np.ndarray, index: int,
                 ring: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray,
                                                          list[tuple[int, int]], int, int]:
    """The input channel with room for the layer's padding ring (``ring``, drawn at every
    position so the map keeps its size) and the window's cells, and the cells read."""
    height, width = plane.shape
    rows, cols = step.input_rows, step.input_cols
    read = ~step.padding[index]
    if step.kind == "transposed":
        rows_all, cols_all = rows[read], cols[read]
        r0, c0 = 0, 0
        r1, c1 = height - 1, width - 1
    else:
        rows_all, cols_all = rows, cols
        r0, c0 = min(-ring[0], int(rows.min())), min(-ring[1], int(cols.min()))
        r1 = max(height - 1 + ring[0], int(rows.max()))
        c1 = max(width - 1 + ring[1], int(cols.max()))
    values = np.full((r1 - r0 + 1, c1 - c0 + 1), np.nan)
    values[-r0:-r0 + height, -c0:-c0 + width] = plane
    pad = np.isnan(values)
    if step.kind != "transposed":
        for (i, j), value in np.ndenumerate(step.patch[index]):
            values[rows[i, j] - r0, cols[i, j] - c0] = value
    values = np.where(np.isnan(values), 0.0, values)
    window = [(int(r) - r0, int(c) - c0) for r, c in zip(rows_all.ravel(), cols_all.ravel(),
                                                         strict=True)]
    return values, pad, window, r0, c0



class GridArea(QWidget):
    """The input map, per input channel a row of patch × kernel = products, and the output
    map, placed in fixed shares of the width: the maps keep their size from step to step (a
    box layout sized them by the middle column's hints, which changed with the layer), and
    the rows share the height (hidden rows make room for the others)."""

    resized = Signal()
    LARGE_MAP_SHARE = 0.27
    """A map drawn as an image (too many cells for numbers) takes this share of the width."""
    GAP = 8

    def __init__(self, input_grid: NumberGrid, rows: list[tuple[NumberGrid, ...]],
                 output_grid: NumberGrid) -> None:
        super().__init__()
        self.input_grid, self.rows, self.output_grid = input_grid, rows, output_grid
        for grid in (input_grid, output_grid, *(g for row in rows for g in row)):
            grid.setParent(self)
        self.needs = (0, 0, 0)
        """The widths the input map, the rows and the output map need for body-size numbers
        (set per layer from shapes, not values, so nothing moves from position to
        position); the width is shared in proportion to them."""
        self.least_rows = 0
        """The rows' width for numbers of READABLE_FROM_BACK pixels at large type (0: not
        measured): taken where the body-size ``needs[1]`` does not fit (a 5×5 kernel)."""
        self.pictures = (False, False)
        """Whether the input and output maps are pictures (more than MAP_READ_CELLS cells):
        then the rows may take more of the width."""
        self.lens_width = 0
        """The width the input map needs for the magnifier's lens beside its picture (0: no
        lens); taken from the rows' share."""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 90)

    def sizeHint(self) -> QSize:
        return QSize(900, 400)

    def rows_that_fit(self, row_height: int) -> int:
        """How many channel rows of ``row_height`` fit in the area's height (at least one)."""
        return max(1, (self.height() + self.GAP) // max(1, row_height + self.GAP))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.place()
        self.resized.emit()

    def middle_share(self) -> float:
        """The most of the width the rows take: 55 % beside maps a class reads, more beside
        pictures (each keeps PICTURE_SHARE)."""
        shares = [PICTURE_SHARE if picture else MAP_SHARE for picture in self.pictures]
        if self.lens_width:  # the lens's room, out of what the rows leave at their least
            room = max(1, self.width() - 2 * self.GAP)
            rows = (self.least_rows or self.needs[1]) / room
            lens = self.lens_width / room
            if self.pictures[1] and lens <= 1 - rows:  # an output picture gives its share
                shares = [max(shares[0], lens), max(0.0, min(shares[1], 1 - lens - rows))]
            else:
                shares[0] = max(shares[0], min(lens, 1 - shares[1] - rows))
        return 1 - sum(shares)

    def rows_at_body(self) -> bool:
        """Whether the rows get body-size numbers (else READABLE_FROM_BACK: at large type,
        where three body-size 5×5 grids are wider than the rows' share)."""
        room = max(1, self.width() - 2 * self.GAP)
        return not self.least_rows or self.needs[1] <= int(room * self.middle_share())

    def place(self) -> None:
        width, height, gap = self.width(), self.height(), self.GAP
        room = max(1, width - 2 * gap)
        share = self.middle_share()
        rows_need = self.needs[1] if self.rows_at_body() else self.least_rows
        needs = [min(need, int(room * part)) or int(room * self.LARGE_MAP_SHARE)
                 for need, part in zip((self.needs[0], rows_need, self.needs[2]),
                                       (0.4, share, 0.4), strict=True)]
        if not any(self.needs):
            needs = [1, 1, 1]
        # the rows first (their numbers are the arithmetic), the maps share what is left
        middle = min(needs[1], int(room * share)) if any(self.needs) else room // 3
        if sum(needs) <= room:  # room to spare: shared in proportion to the needs
            middle = room * needs[1] // sum(needs)
        middle = max(middle, int(room * 0.45))  # as the box layout gave them before
        rest = room - middle
        input_width = rest * needs[0] // max(1, needs[0] + needs[2])
        # an output picture beside a lens that fits in what the rows leave
        gives = bool(self.lens_width) and self.pictures[1] and rest >= self.lens_width
        input_width = max(input_width, min(self.lens_width, rest if gives else rest * 3 // 4))
        if gives and rest - input_width < OUTPUT_LEAST:  # its share to the lens
            input_width = rest
        output_width = rest - input_width
        self.output_grid.setVisible(output_width > 0)
        map_width = input_width
        self.input_grid.setGeometry(0, 0, input_width, height)
        self.output_grid.setGeometry(width - output_width, 0, output_width, height)
        column = max(1, (middle - 2 * gap) // 3)
        shown = [row for row in self.rows if not row[0].isHidden()]
        row_height = max(1, (height - gap * (len(shown) - 1)) // max(1, len(shown)))
        for index, row in enumerate(shown):
            top = index * (row_height + gap)
            grids = [grid for grid in row if not grid.isHidden()]
            left = map_width + gap + (0 if len(grids) == len(row) else
                                      (middle - column * len(grids)) // 2)
            for grid in grids:
                grid.setGeometry(left, top, column, row_height)
                left += column + gap

    def measure(self, step: Step, index: int, input_shape: tuple[int, ...],
                output_shape: tuple[int, ...], ring: tuple[int, int], font: QFont,
                map_pixels: int | None = None, compact: bool = False) -> int:
        """Set the widths the rows need for numbers in ``font`` and the maps for numbers of
        ``map_pixels`` (default: the font's; see ``needs``) and return the height a channel
        row needs, judged by channel ``index``'s grids. ``compact``: the rows' grids write
        compact numbers and may draw them at READABLE_FROM_BACK (see ``least_rows``)."""
        probe = NumberGrid()
        probe.setFont(font)
        # a row's width from the kernel's size and four-character values: the same for every
        # position of the layer, so the maps beside the rows keep their size
        probe.set_data(np.full(step.patch[index].shape, -888.0))
        column = probe.readable_size().width()
        # at READABLE_FROM_BACK: room for the widest compact value (five characters, −0.04)
        probe.set_data(np.full(step.patch[index].shape, -8.88))
        least = probe.readable_size(READABLE_FROM_BACK).width()
        maps, pictures = [], []
        for shape, extra in ((input_shape, 2 * ring[1]), (output_shape, 0)):
            rows, cols = (1, shape[-1]) if len(shape) == 2 else shape[-2:]
            probe.set_data(np.full((rows, cols + extra), -888.0))  # the input's padding ring
            maps.append(probe.readable_size(map_pixels).width())
            pictures.append(rows * (cols + extra) > MAP_READ_CELLS)
        self.pictures = (pictures[0], pictures[1])
        self.needs = (maps[0], 3 * column + 2 * self.GAP, maps[1])
        body = probe.fontInfo().pixelSize()
        self.least_rows = 3 * least + 2 * self.GAP if compact and body > READABLE_FROM_BACK \
            else 0
        pixels = None if self.rows_at_body() else READABLE_FROM_BACK
        probe.compact = compact
        need = 0
        for values in (step.patch[index], step.kernel, step.products):
            if values is not None:
                probe.set_data(values if values is step.patch[index] else values[index])
                need = max(need, probe.readable_size(pixels).height())
        return need

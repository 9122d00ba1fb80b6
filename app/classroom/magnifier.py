"""A magnifier over a feature map whose numbers are too small to read from the back of a room.

At large type (projector text, present mode) a map of many cells (a 28×28 digit) draws its
numbers a few pixels tall, or as an image. The magnifier then shows, over the map, the cells the
step's window reads and a margin of one or two cells, with numbers at least READABLE_FROM_BACK
pixels, the window outlined as on the map and its rows and columns in the title; a dashed
outline on the map, joined to the lens by two lines, shows where it looks. It follows the map:
every new position (stepping, playing) and every new size.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.classroom.grids import READABLE_FROM_BACK, WIDTH_SHARE, NumberGrid

MARGINS = (2, 1)
"""The margins around the window the lens tries, in cells: the widest that fits the map."""
WIDEST_VALUE = "−888"
"""The lens's columns are at least this value's width: it keeps its size from step to step
while the values it shows change (a wider one widens it)."""
FRAME = 3
"""The lens's frame, in pixels."""


def _span(first: int, last: int) -> str:
    """Rows or columns ``first`` to ``last`` as the title says them."""
    if first == last:
        return str(first)
    joint = " to " if first < 0 else "–"
    return f"{first}{joint}{last}".replace("-", "−")


class Magnifier(QWidget):
    """Drawn over ``map_grid`` (its child, as large as it, transparent to the mouse): the lens
    with the window's cells and a margin, and the lens's outline on the map. Shown where the
    map's numbers would be drawn under READABLE_FROM_BACK pixels while the text is at least
    that large; the map's ``row_offset`` and ``col_offset`` give the input's row and column
    of its first cell, for the title."""

    def __init__(self, map_grid: NumberGrid) -> None:
        super().__init__(map_grid)
        self.map = map_grid
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.grid = NumberGrid("", self)
        self.grid.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.cells: tuple[int, int, int, int] | None = None
        """The map's cells the lens shows: first row, first column, last row, last column."""
        self.lens = QRectF()
        """The lens's frame in the map's coordinates."""
        self._corner = 0
        map_grid.changed.connect(self.refit)
        map_grid.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.map and event.type() in (QEvent.Type.Resize,
                                                    QEvent.Type.FontChange):
            self.refit()
        return False

    def wanted(self) -> bool:
        """At large type, with a window on a map whose numbers would be too small to read."""
        grid = self.map
        return (grid.values is not None and bool(grid.window_cells)
                and grid.fontInfo().pixelSize() >= READABLE_FROM_BACK
                and grid.drawn_number_pixels() < READABLE_FROM_BACK)

    # -- geometry ---------------------------------------------------------------------------
    def refit(self) -> None:
        """Follow the map: its values and window (a new position) and its size."""
        if not self.wanted():
            self.cells = None
            self.hide()
            return
        grid = self.map
        assert grid.values is not None
        rows, cols = grid.values.shape
        window = [(r, c) for r, c in grid.window_cells if 0 <= r < rows and 0 <= c < cols]
        if not window:
            self.hide()
            return
        top, left = min(r for r, _ in window), min(c for _, c in window)
        bottom, right = max(r for r, _ in window), max(c for _, c in window)
        area = QRectF(0, grid.title_height(), grid.width(), grid.height() - grid.title_height())
        chosen: tuple[tuple[int, int, int, int], QRectF] | None = None
        for margin in MARGINS:
            cells = (max(0, top - margin), max(0, left - margin), min(rows - 1, bottom + margin),
                     min(cols - 1, right + margin))
            self._show_cells(cells)
            size = self._lens_size(cells)
            if size[0] > area.width() or size[1] > area.height():
                continue
            chosen = cells, self._place(size, area, self._outline(cells),
                                        self._outline((top, left, bottom, right)))
            break
        if chosen is None:  # too large for the map even with one cell around: as large as it
            cells = (max(0, top - 1), max(0, left - 1), min(rows - 1, bottom + 1),
                     min(cols - 1, right + 1))
            self._show_cells(cells)
            width, height = self._lens_size(cells)
            chosen = cells, self._place((min(width, area.width()), min(height, area.height())),
                                        area, self._outline(cells),
                                        self._outline((top, left, bottom, right)))
        self.cells, self.lens = chosen
        self.setGeometry(grid.rect())
        self.grid.setGeometry(self.lens.adjusted(FRAME, FRAME, -FRAME, -FRAME).toRect())
        self.show()
        self.raise_()
        self.update()

    def _show_cells(self, cells: tuple[int, int, int, int]) -> None:
        grid = self.map
        assert grid.values is not None
        r0, c0, r1, c1 = cells
        padding = None if grid.padding is None else grid.padding[r0:r1 + 1, c0:c1 + 1]
        window = [(r - r0, c - c0) for r, c in grid.window_cells
                  if r0 <= r <= r1 and c0 <= c <= c1]
        rows = sorted({r + grid.row_offset for r, _ in grid.window_cells})
        cols = sorted({c + grid.col_offset for _, c in grid.window_cells})
        title = (f"row{'s' if len(rows) > 1 else ''} {_span(rows[0], rows[-1])}, "
                 f"col{'s' if len(cols) > 1 else ''} {_span(cols[0], cols[-1])}")
        self.grid.set_data(grid.values[r0:r1 + 1, c0:c1 + 1], title, padding, window=window)

    def _lens_size(self, cells: tuple[int, int, int, int]) -> tuple[float, float]:
        """The lens's frame with numbers of READABLE_FROM_BACK pixels (one more: the font's
        size is rounded down when drawn) and the title at the grid's own size."""
        pixels = READABLE_FROM_BACK + 1
        need = self.grid.readable_size(pixels)
        font = QFont(self.grid.font())
        font.setBold(True)
        font.setPixelSize(pixels)
        least = QFontMetricsF(font).horizontalAdvance(WIDEST_VALUE) / WIDTH_SHARE + 1
        title = QFontMetricsF(self.grid.font()).horizontalAdvance(self.grid.title) + 12
        width = max(need.width(), least * (cells[3] - cells[1] + 1) + 9, title)
        return width + 2 * FRAME, need.height() + 2 * FRAME

    def _outline(self, cells: tuple[int, int, int, int]) -> QRectF:
        """Cells ``cells`` on the map, in the map's coordinates."""
        return self.map.cell_rect(cells[0], cells[1]).united(
            self.map.cell_rect(cells[2], cells[3]))

    def _place(self, size: tuple[float, float], area: QRectF, marker: QRectF,
               window: QRectF) -> QRectF:
        """The lens in a corner of ``area``: the one it is in while that leaves the marker
        (or else the window) in view, or the farthest that does; the farthest otherwise."""
        width, height = size
        corners = [QRectF(x, y, width, height)
                   for y in (area.top(), area.bottom() - height)
                   for x in (area.left(), area.right() - width)]

        def distance(rect: QRectF) -> float:
            offset = rect.center() - marker.center()
            return offset.x() ** 2 + offset.y() ** 2

        for avoid in (marker, window):
            free = [i for i, rect in enumerate(corners) if not rect.intersects(avoid)]
            if free:
                if self._corner not in free:
                    self._corner = max(free, key=lambda i: distance(corners[i]))
                return corners[self._corner]
        self._corner = max(range(len(corners)), key=lambda i: distance(corners[i]))
        return corners[self._corner]

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        if self.cells is None:
            return
        look = self.map.look
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        marker = self._outline(self.cells)
        lens = self.lens
        pen = QPen(QColor(look.ink))
        pen.setWidthF(max(1.5, look.line))
        painter.setPen(pen)
        # two lines from the marker to the lens, along the sides that face each other
        offset = lens.center() - marker.center()
        if offset.x() * offset.y() >= 0:
            pairs = ((marker.topRight(), lens.topRight()), (marker.bottomLeft(),
                                                              lens.bottomLeft()))
        else:
            pairs = ((marker.topLeft(), lens.topLeft()), (marker.bottomRight(),
                                                            lens.bottomRight()))
        for start, end in pairs:
            painter.drawLine(QPointF(start), QPointF(end))
        painter.fillRect(lens, QColor(look.background))
        frame = QPen(QColor(look.ink))
        frame.setWidthF(FRAME - 1)
        painter.setPen(frame)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        half = FRAME / 2
        painter.drawRect(lens.adjusted(half, half, -half, -half))
        dashed = QPen(QColor(look.mark))
        dashed.setWidthF(max(2.0, look.line))
        dashed.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        painter.drawRect(marker)
        painter.end()

    def shown_values(self) -> np.ndarray | None:
        """The values the lens shows (rows, columns), None when hidden."""
        return None if self.isHidden() else self.grid.values

"""A magnifier beside a feature map whose numbers are too small to read from the back of a room.

At large type (projector text, present mode) a map of many cells (a 28×28 digit) draws its
numbers a few pixels tall, or as an image. The magnifier then keeps room at the map's right (the
map shrinks to a picture beside it, at least PICTURE pixels wide) for a lens: the cells the
step's window reads and a margin of one or two cells, numbers at least READABLE_FROM_BACK
pixels, the window outlined as on the map, each row and column labelled with its place in the
input at READABLE_FROM_BACK pixels. A dashed outline on the map,
joined to the lens by two lines, shows where it looks. It follows the map: every new position
(stepping, playing) and every new size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from app.classroom.grids import READABLE_FROM_BACK, WIDTH_SHARE, NumberGrid

MARGINS = (2, 1)
"""The margins around the window the lens tries, in cells: the widest that fits beside the
map."""
NARROWEST = 0.75
"""The lens's cells are at least this share of their height wide (narrower than square where
the values are short: "0" and "1" in a digit)."""
PICTURE = 150
"""The least width and height of the map's picture beside the lens: a class sees the digit and
where the lens looks."""
LABEL_SHARE = 0.8
"""The most of a column's width its label takes."""
FRAME = 3
"""The lens's frame, in pixels."""
GAP = 10
"""Between the map's cells and the lens, for the lines that join them."""


class LensGrid(NumberGrid):
    """The lens's grid: each row labelled at its left and each column above it with its place
    in the input (``first_row``, ``first_col``: the input's row and column of the first cell),
    at READABLE_FROM_BACK pixels; no title."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.first_row = 0
        self.first_col = 0
        self.label_pixels = 0.0
        """The smallest label's font size in pixels at the last paint (0: none drawn)."""

    def label_font(self) -> QFont:
        font = QFont(self.font())
        font.setPixelSize(READABLE_FROM_BACK)
        return font

    def labels(self) -> tuple[list[str], list[str]]:
        """The rows' and the columns' labels: their places in the input."""
        if self.values is None:
            return [], []
        rows, cols = self.values.shape
        return ([str(self.first_row + r).replace("-", "−") for r in range(rows)],
                [str(self.first_col + c).replace("-", "−") for c in range(cols)])

    def label_width(self) -> float:
        """The room at the left for the rows' labels."""
        metrics = QFontMetricsF(self.label_font())
        return max((metrics.horizontalAdvance(t) for t in self.labels()[0]), default=0.0) + 8

    def cell_size(self) -> QSizeF:
        size = super().cell_size()
        if self.values is None:
            return size
        # across the width beside the rows' labels (the magnifier sizes the lens for its
        # cells: wide enough for the columns' labels)
        return QSizeF(max(0.0, (self.width() - self.label_width() - 8) / self.values.shape[1]),
                      size.height())

    def title_lines(self) -> list[str]:
        return [""]  # no title: the columns' labels in its place

    def title_height(self, lines: int | None = None) -> float:
        return QFontMetricsF(self.label_font()).height() + 6  # the columns' labels

    def cells_origin(self) -> QPointF:
        cols = 0 if self.values is None else self.values.shape[1]
        label = self.label_width()
        return QPointF(label + (self.width() - label - self.cell_size().width() * cols) / 2,
                       self.title_height() + 4)

    def paintEvent(self, event: object) -> None:
        super().paintEvent(event)
        if self.values is None:
            return
        painter = QPainter(self)
        painter.setPen(QColor(self.look.ink))
        rows, cols = self.labels()
        size, origin = self.cell_size(), self.cells_origin()
        font = self.label_font()
        painter.setFont(font)
        for r, text in enumerate(rows):
            painter.drawText(QRectF(0, origin.y() + r * size.height(), origin.x() - 4,
                                    size.height()),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        # the columns' labels smaller where two-digit ones would touch in narrow cells
        widest = max((QFontMetricsF(font).horizontalAdvance(t) for t in cols), default=1.0)
        if widest > size.width() * LABEL_SHARE:
            font.setPixelSize(max(1, int(font.pixelSize() * size.width() * LABEL_SHARE
                                         / widest)))
            painter.setFont(font)
        self.label_pixels = float(font.pixelSize()) if rows else 0.0
        for c, text in enumerate(cols):
            painter.drawText(QRectF(origin.x() + c * size.width(), 0, size.width(),
                                    origin.y() - 2),
                             Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, text)
        painter.end()


class Magnifier(QWidget):
    """Drawn over ``map_grid`` (its child, as large as it, transparent to the mouse): the lens
    at the map's right, with the window's cells and a margin, and the lens's outline on the
    map. Shown where the map's numbers would be drawn under READABLE_FROM_BACK pixels while
    the text is at least that large and the lens has room for numbers that size (the patch
    beside the map shows the window's values in any case); the map's ``row_offset`` and
    ``col_offset`` give the input's row and column of its first cell, for the labels."""

    def __init__(self, map_grid: NumberGrid) -> None:
        super().__init__(map_grid)
        self.map = map_grid
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.grid = LensGrid(self)
        self.grid.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.cells: tuple[int, int, int, int] | None = None
        """The map's cells the lens shows: first row, first column, last row, last column."""
        self.lens = QRectF()
        """The lens's frame in the map's coordinates."""
        map_grid.changed.connect(self.refit)
        map_grid.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.map and event.type() in (QEvent.Type.Resize,
                                                    QEvent.Type.FontChange):
            self.refit()
        return False

    def wanted(self) -> bool:
        """At large type, with a window on a map whose numbers would be too small to read
        (judged at the map's whole width, the lens's room not kept)."""
        grid = self.map
        if grid.values is None or not grid.window_cells or \
                grid.fontInfo().pixelSize() < READABLE_FROM_BACK:
            return False
        aside, grid.aside = grid.aside, 0
        small = grid.drawn_number_pixels() < READABLE_FROM_BACK
        grid.aside = aside
        return small

    def needed_size(self) -> tuple[int, int]:
        """The room the map needs beside its picture for the lens with one cell around the
        window at READABLE_FROM_BACK pixels (0, 0: no lens wanted); the step view asks the
        layout for it."""
        grid = self.map
        window = self._window()
        if not window or not self.wanted():
            return 0, 0
        assert grid.values is not None
        rows, cols = grid.values.shape
        cells = (max(0, min(r for r, _ in window) - 1), max(0, min(c for _, c in window) - 1),
                 min(rows - 1, max(r for r, _ in window) + 1),
                 min(cols - 1, max(c for _, c in window) + 1))
        self._show_cells(cells)
        width, height = self._lens_size(cells)
        # below the map's title (one line over the whole width) or beside it (the title over
        # the picture, in as many lines as keep it at the body text's size)
        metrics = QFontMetricsF(grid.font())
        title = [grid.title]
        if metrics.horizontalAdvance(grid.title) > width + GAP + PICTURE:
            title = grid.wrapped_title(width + GAP + PICTURE)
        below = grid.title_height(len(title)) + max(height, PICTURE + 8)
        beside = max(height, grid.title_height(len(grid.wrapped_title(PICTURE))) + PICTURE + 8)
        return int(width) + GAP + PICTURE + 9, int(min(below, beside)) + 1

    def _window(self) -> list[tuple[int, int]]:
        grid = self.map
        return [] if grid.values is None else [
            (r, c) for r, c in grid.window_cells
            if 0 <= r < grid.values.shape[0] and 0 <= c < grid.values.shape[1]]

    # -- geometry ---------------------------------------------------------------------------
    def refit(self) -> None:
        """Follow the map: its values and window (a new position) and its size."""
        grid = self.map
        window = self._window()
        if not window or not self.wanted():
            self._hide()
            return
        assert grid.values is not None
        rows, cols = grid.values.shape
        top, left = min(r for r, _ in window), min(c for _, c in window)
        bottom, right = max(r for r, _ in window), max(c for _, c in window)
        # below the map's title, or beside it where that leaves too little height (the title
        # then goes over the picture alone); first where the picture keeps PICTURE pixels
        tries = [(whole, m, beside) for whole in (True, False) for m in MARGINS
                 for beside in (False, True)]
        for whole, margin, beside in tries:
            grid.title_aside = False
            top_of_lens = 0.0 if beside else grid.title_height()
            cells = (max(0, top - margin), max(0, left - margin),
                     min(rows - 1, bottom + margin), min(cols - 1, right + margin))
            self._show_cells(cells)
            width, height = self._lens_size(cells)
            grid.title_aside, grid.aside = beside, int(width + GAP)
            picture = grid.cell_size().width() * cols
            lens_room = grid.width() - GAP - 8 - (PICTURE if whole else 0)
            if width <= lens_room and height <= grid.height() - top_of_lens and \
                    (picture >= PICTURE or not whole):
                area = QRectF(0, top_of_lens, width, height)
                break
        else:  # no room for readable numbers even with one cell around (a squeezed area):
            self._hide()  # the patch beside the map shows the window's values
            return
        self.cells = cells
        self.lens = QRectF(grid.width() - width, area.top(), width, height)
        grid.update()
        self.setGeometry(grid.rect())
        self.grid.setGeometry(self.lens.adjusted(FRAME, FRAME, -FRAME, -FRAME).toRect())
        self.show()
        self.raise_()
        self.update()

    def _hide(self) -> None:
        self.cells = None
        self.map.title_aside = False
        if self.map.aside:
            self.map.aside = 0  # the map across its width again
            self.map.update()
        self.hide()

    def _show_cells(self, cells: tuple[int, int, int, int]) -> None:
        grid = self.map
        assert grid.values is not None
        r0, c0, r1, c1 = cells
        padding = None if grid.padding is None else grid.padding[r0:r1 + 1, c0:c1 + 1]
        window = [(r - r0, c - c0) for r, c in grid.window_cells
                  if r0 <= r <= r1 and c0 <= c <= c1]
        self.grid.first_row, self.grid.first_col = r0 + grid.row_offset, c0 + grid.col_offset
        self.grid.set_data(grid.values[r0:r1 + 1, c0:c1 + 1], "", padding, window=window)

    def _lens_size(self, cells: tuple[int, int, int, int]) -> tuple[float, float]:
        """The lens's frame with numbers of READABLE_FROM_BACK pixels (one more: the font's
        size is rounded down when drawn), the cells at least as wide as the map's widest value
        needs (the lens keeps its size from step to step) and NARROWEST of their height."""
        pixels = READABLE_FROM_BACK + 1
        need = self.grid.readable_size(pixels)
        rows, cols = cells[2] - cells[0] + 1, cells[3] - cells[1] + 1
        font = QFont(self.grid.font())
        font.setBold(True)
        font.setPixelSize(pixels)
        metrics = QFontMetricsF(font)
        widest = max((metrics.horizontalAdvance(t) for t in set(self.map.texts)),
                     default=0.0)
        tall = (need.height() - self.grid.title_height() - 9) / rows
        # the columns' labels (the input's places, two digits on a 28×28 map) at their size
        labels = QFontMetricsF(self.grid.label_font())
        label = max(labels.horizontalAdvance(str(n).replace("-", "−"))
                    for n in (self.map.col_offset, self.map.col_offset + self.map.values.shape[1]
                              - 1)) if self.map.values is not None else 0.0
        wide = max((need.width() - 9) / cols, widest / WIDTH_SHARE + 1, tall * NARROWEST,
                   label / LABEL_SHARE + 1)
        return (wide * cols + 9 + self.grid.label_width() + 2 * FRAME,
                need.height() + 2 * FRAME)

    def _outline(self, cells: tuple[int, int, int, int]) -> QRectF:
        """Cells ``cells`` on the map, in the map's coordinates."""
        return self.map.cell_rect(cells[0], cells[1]).united(
            self.map.cell_rect(cells[2], cells[3]))

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        if self.cells is None:
            return
        look = self.map.look
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        marker, lens = self.marker(), self.lens
        rows, cols = self.map.values.shape if self.map.values is not None else (1, 1)
        edge = QPen(QColor(look.ink))  # the map's edge: a picture's zeros are the background
        edge.setWidthF(1.0)
        painter.setPen(edge)
        painter.drawRect(self._outline((0, 0, rows - 1, cols - 1)))
        line = QPen(QColor(look.mark))
        line.setWidthF(max(1.5, look.line))
        painter.setPen(line)
        # from the marker's right corners to the lens's left ones
        painter.drawLine(marker.topRight(), lens.topLeft())
        painter.drawLine(marker.bottomRight(), lens.bottomLeft())
        painter.fillRect(lens, QColor(look.mark))  # the lens's frame, in the marker's colour
        dashed = QPen(QColor(look.mark))
        dashed.setWidthF(max(2.0, look.line))
        dashed.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(dashed)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(marker)
        painter.end()

    def marker(self) -> QRectF:
        """The lens's outline on the map, in the map's coordinates (empty when hidden)."""
        return QRectF() if self.cells is None else self._outline(self.cells)

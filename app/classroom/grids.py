"""A grid of numbers drawn with QPainter: the patch, kernel, products and feature maps.

Cells are tinted by sign and size, padding cells are grey and hatched, marked cells get a thick
outline. Small grids show every number; large maps (a 224×224 activation) are drawn as an image
with the marks on top. ``Look`` holds the colours and line widths, so presentation mode can
switch every grid to large type, thick lines and a high-contrast palette at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.classroom.text import number

IMAGE_ABOVE = 1600
"""Grids with more cells than this are drawn as an image (numbers would not fit)."""
SMALLEST_NUMBER_PIXELS = 7
"""Numbers that would be drawn smaller than this are left out (the cells' tints remain)."""
READABLE_FROM_BACK = 24
"""At large type (projector text, present mode) the numbers a class reads are at least this
many pixels tall (the font's pixel size), where a 1920×1080 screen has the room."""
MAP_READ_CELLS = 100
"""Maps up to this many cells (a lesson's own example, 10×10 with its padding ring) get room
for numbers readable from the back of a room at large type; larger ones are pictures."""
LINE_SHARE = 0.9
"""The most of a cell's height a line of numbers takes (digits have no descenders: their ink
is about two thirds of the line, so this still leaves a margin above and below)."""
WIDTH_SHARE = 0.9
"""The most of a cell's width the widest number takes."""


@dataclass(frozen=True)
class Look:
    background: str
    ink: str
    positive: str
    negative: str
    padding: str
    mark: str
    window: str
    line: float
    mark_line: float


NORMAL = Look("#ffffff", "#1a1a1a", "#e8743b", "#3b82c4", "#c8c8c8", "#d62828", "#2a9d8f",
              1.0, 3.0)
PRESENT = Look("#000000", "#ffffff", "#ff9f1c", "#2ec4ff", "#5a5a5a", "#ffe600", "#00ff88",
               2.5, 7.0)
"""High contrast for a projector: white on black, saturated tints, thick yellow outlines."""


COMPACT_CHARS = 5
"""A compact grid's numbers are at most this many characters (a sign, a digit, a point and
two decimals): a 5×5 row of them fits a 1920 px screen at READABLE_FROM_BACK pixels."""


def cell_text(value: float) -> str:
    """A value as its cell shows it: at most five characters where possible."""
    text = number(value)
    return f"{value:.3g}".replace("-", "−") if len(text) > 5 else text


def compact_text(value: float, chars: int = COMPACT_CHARS) -> str:
    """``value`` in at most ``chars`` characters where it can be: as ``number`` writes it,
    else with fewer significant digits (−0.0445 as −0.04), else fewer decimals (−0.000865 as
    −0.00); the shortest of those where none is short enough (−123456 as −1e+05)."""
    if not np.isfinite(value):
        return number(value)
    candidates = [number(value), *(f"{value:.{d}g}" for d in (3, 2, 1)),
                  *(f"{value:.{d}f}" for d in (3, 2, 1, 0))]
    texts = [t.replace("-", "−") for t in candidates]
    return next((t for t in texts if len(t) <= chars), min(texts, key=len))


def _shrunk(pixels: float, wide: float, cell_width: float) -> float:
    """A number's size in pixels: the grid's, or smaller where the value is wider than the
    rest and would not fit its cell at that size."""
    if wide > cell_width * WIDTH_SHARE:
        return int(pixels * cell_width * WIDTH_SHARE / wide)
    return pixels


class NumberGrid(QWidget):
    """A titled grid of values; ``marks`` are outlined cells, ``window`` cells a second colour.

    Numbers are drawn bold in one size per grid: the largest at which the widest value fits
    its cell, but not below the body text's size (a value wider than that shrinks alone).
    Cells are square where that leaves the numbers at least the body text's size; otherwise
    they widen or heighten (up to the room there is) until it does, so a squeezed grid keeps
    readable numbers. ``readable_size`` is the room that takes, for the layout.
    """

    changed = Signal()
    """New values (``set_data``): a view drawn over the grid (the magnifier) follows them."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.values: np.ndarray | None = None
        self.padding: np.ndarray | None = None
        self.marks: list[tuple[int, int]] = []
        self.window_cells: list[tuple[int, int]] = []
        """The kernel's window (not ``window``: that is QWidget.window(), the top-level)."""
        self.look = NORMAL
        self.row_offset = 0
        self.col_offset = 0
        """The input's row and column of the first cell (negative in a padding ring)."""
        self.aside = 0
        """Pixels kept free at the right of the cells (the magnifier's lens is drawn there)."""
        self.title_aside = False
        """Whether the title keeps out of ``aside`` too (the lens beside it, not below)."""
        self._image: QImage | None = None
        self._texts: list[str] = []
        self.number_pixels = 0.0
        """The smallest number's font size in pixels at the last paint (0: none drawn)."""
        self.title_pixels = 0.0
        """The title's font size in pixels at the last paint (smaller than the body text's
        where a long title shrinks to the grid's width)."""
        self.compact = False
        """Numbers in at most COMPACT_CHARS characters, all in one size that may go below the
        body text's down to READABLE_FROM_BACK (the step-through's rows at large type: a
        5×5 kernel's random weights at body size would not fit the screen's width)."""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(20, 20)  # placed by the step view, which sizes the rows

    def sizeHint(self) -> QSize:
        return QSize(220, 220)

    def set_look(self, look: Look) -> None:
        self.look = look
        self._image = None
        self.update()

    def set_data(self, values: np.ndarray | None, title: str | None = None,
                 padding: np.ndarray | None = None, marks: list[tuple[int, int]] | None = None,
                 window: list[tuple[int, int]] | None = None) -> None:
        """``values`` (rows, cols); ``padding`` True where a cell is padding."""
        self.values = None if values is None else np.atleast_2d(np.asarray(values, float))
        self.padding = None if padding is None else np.atleast_2d(padding)
        self.marks = list(marks or [])
        self.window_cells = list(window or [])
        if title is not None:
            self.title = title
        self._image = None
        write = compact_text if self.compact else cell_text
        self._texts = ([] if self.values is None or self.values.size > IMAGE_ABOVE else
                       [write(float(v)) for v in self.values.ravel()])
        self.update()
        self.changed.emit()

    @property
    def texts(self) -> list[str]:
        """The cells' texts, row by row (empty for a map drawn as an image)."""
        return list(self._texts)

    @property
    def shows_numbers(self) -> bool:
        """Whether the grid writes numbers in its cells (not only tints)."""
        return any(self._texts)

    @property
    def rounded(self) -> bool:
        """Whether a compact grid shows a value shorter than ``number`` writes it."""
        return self.compact and self.values is not None and any(
            text != number(float(v)) for text, v in zip(self._texts, self.values.ravel(),
                                                        strict=False))

    # -- geometry ---------------------------------------------------------------------------
    def _number_font(self) -> QFont:
        font = QFont(self.font())
        font.setBold(True)
        return font

    def title_lines(self) -> list[str]:
        """The title as drawn: one line, or for a picture (more than MAP_READ_CELLS cells,
        its numbers not read) two, broken at a space, where one line would shrink below 80 %
        of the body text's size (a 5×5 kernel's rows leave the maps beside them narrow)."""
        metrics = QFontMetricsF(self.font())
        room = self.width() - self.title_aside * self.aside - 4  # beside a lens: the picture's
        if self.title_aside:  # over the picture beside a lens: as many lines as keep its size
            return self.wrapped_title(room)
        if self.values is None or self.values.size <= MAP_READ_CELLS or room <= 0 or \
                metrics.horizontalAdvance(self.title) * 0.8 <= room or " " not in self.title:
            return [self.title]
        words = self.title.split(" ")
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        return list(min(splits, key=lambda pair: max(metrics.horizontalAdvance(t)
                                                     for t in pair)))

    def wrapped_title(self, room: float) -> list[str]:
        """The title broken at spaces into lines that each fit ``room`` pixels at the body
        text's size (a word wider than that alone on its line)."""
        metrics = QFontMetricsF(self.font())
        lines: list[str] = []
        for word in self.title.split(" "):
            if lines and metrics.horizontalAdvance(f"{lines[-1]} {word}") <= room:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines or [""]

    def title_height(self, lines: int | None = None) -> float:
        """The title's height: ``lines`` lines (default: as drawn, ``title_lines``)."""
        count = len(self.title_lines()) if lines is None else lines
        return QFontMetricsF(self.font()).height() * count + 6

    def _readable_cell(self, pixels: int | None = None) -> QSizeF:
        """A cell that holds the widest number at ``pixels`` (the body text's size)."""
        font = self._number_font()
        font.setPixelSize(pixels or self.fontInfo().pixelSize())
        metrics = QFontMetricsF(font)
        widest = max((metrics.horizontalAdvance(t) for t in self._texts), default=0.0)
        return QSizeF(widest / WIDTH_SHARE + 1, metrics.height() / LINE_SHARE + 1)

    def readable_size(self, pixels: int | None = None) -> QSize:
        """The room the grid needs to show its numbers at ``pixels`` (the body text's size)."""
        if self.values is None or not self._texts:
            return QSize(0, 0)
        rows, cols = self.values.shape
        cell = self._readable_cell(pixels)
        return QSize(int(cell.width() * cols + 9), int(cell.height() * rows
                                                       + self.title_height(1) + 9))

    def cell_size(self) -> QSizeF:
        """The cells' width and height in the widget as it is now."""
        if self.values is None or self.values.size == 0:
            return QSizeF(0, 0)
        rows, cols = self.values.shape
        width = max(0.0, (self.width() - self.aside - 8) / cols)
        height = max(0.0, (self.height() - self.title_height() - 8) / rows)
        square = min(width, height)
        if self._is_picture():
            return QSizeF(square, square)
        need = self._readable_cell()
        return QSizeF(min(width, max(square, need.width())), min(height, max(square,
                                                                            need.height())))

    def _is_picture(self) -> bool:
        """Drawn as an image: too many cells for numbers, or a lens beside it shows them."""
        return not self._texts or self.aside > 0

    def cells_origin(self) -> QPointF:
        """Where the first cell's top left corner is drawn in the widget as it is now."""
        cols = 0 if self.values is None else self.values.shape[1]
        return QPointF((self.width() - self.aside - self.cell_size().width() * cols) / 2,
                       self.title_height() + 4)

    def cell_rect(self, row: int, col: int) -> QRectF:
        """Where cell (``row``, ``col``) is drawn in the widget as it is now."""
        size, origin = self.cell_size(), self.cells_origin()
        return QRectF(origin.x() + col * size.width(), origin.y() + row * size.height(),
                      size.width(), size.height())

    def drawn_number_pixels(self) -> float:
        """The smallest number's size in pixels a paint at the grid's size now draws (0: none,
        as for a map drawn as an image): ``number_pixels`` before the paint."""
        size = self.cell_size()
        if self._is_picture() or size.width() <= 0 or size.height() <= 0:
            return 0.0
        font = self._fitted_font(size)
        if font is None:
            return 0.0
        metrics = QFontMetricsF(font)
        sizes = [_shrunk(float(font.pixelSize()), metrics.horizontalAdvance(text), size.width())
                 for text in set(self._texts)]
        return min((p for p in sizes if p >= SMALLEST_NUMBER_PIXELS), default=0.0)

    def _fitted_font(self, cell: QSizeF) -> QFont | None:
        """The numbers' font: the body text's size, or larger in large cells (36 % of the
        cell's height), as large as the widest value allows while that stays at least the
        body text's size (wider values then shrink one by one, see paintEvent); None when
        even a line of text does not fit."""
        font = self._number_font()
        font.setPixelSize(100)
        metrics = QFontMetricsF(font)
        widest = max((metrics.horizontalAdvance(t) for t in self._texts), default=1.0) / 100
        line = metrics.height() / 100
        body = float(self.fontInfo().pixelSize())
        pixels = min(max(body, cell.height() * 0.36), cell.height() * LINE_SHARE / line)
        least = min(body, READABLE_FROM_BACK) if self.compact else body
        pixels = min(pixels, max(min(least, pixels),
                                 cell.width() * WIDTH_SHARE / max(widest, 1e-6)))
        if pixels < SMALLEST_NUMBER_PIXELS:
            return None
        font.setPixelSize(int(pixels))
        return font

    # -- painting ---------------------------------------------------------------------------
    def _cell_colour(self, value: float, limit: float) -> QColor:
        if not np.isfinite(value):
            return QColor(self.look.padding)
        base = QColor(self.look.positive if value > 0 else self.look.negative)
        strength = 0.0 if limit == 0 else min(1.0, abs(value) / limit)
        background = QColor(self.look.background)
        mix = 0.15 + 0.85 * strength if value != 0 else 0.0
        return QColor(int(background.red() + (base.red() - background.red()) * mix),
                      int(background.green() + (base.green() - background.green()) * mix),
                      int(background.blue() + (base.blue() - background.blue()) * mix))

    def _as_image(self, limit: float) -> QImage:
        assert self.values is not None
        rows, cols = self.values.shape
        image = QImage(cols, rows, QImage.Format.Format_RGB32)
        for (r, c), value in np.ndenumerate(self.values):
            image.setPixelColor(c, r, self._cell_colour(float(value), limit))
        return image

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), QColor(self.look.background))
        title_font = QFont(self.font())
        lines = self.title_lines()
        wide = max(QFontMetricsF(title_font).horizontalAdvance(line) for line in lines)
        room = self.width() - self.title_aside * self.aside  # beside a lens: over the picture
        self.title_pixels = float(self.fontInfo().pixelSize())
        if wide > room - 4 > 0:  # a long title shrinks to the grid's width, not cut
            title_font.setPointSizeF(max(1.0, title_font.pointSizeF() * (room - 4) / wide))
            self.title_pixels *= (room - 4) / wide
        painter.setFont(title_font)
        painter.setPen(QColor(self.look.ink))
        title_height = self.title_height(len(lines))
        painter.drawText(QRectF(0, 0, room, title_height),
                         Qt.AlignmentFlag.AlignCenter, "\n".join(lines))
        self.number_pixels = 0.0
        if self.values is None or self.values.size == 0:
            return
        rows, cols = self.values.shape
        size = self.cell_size()
        cell_w, cell_h = size.width(), size.height()
        if cell_w <= 0 or cell_h <= 0:
            return
        origin = self.cells_origin()
        left, top = origin.x(), origin.y()
        finite = self.values[np.isfinite(self.values)]
        limit = float(np.abs(finite).max()) if finite.size else 0.0
        if self._is_picture():  # a large map: one image
            if self._image is None:
                self._image = self._as_image(limit)
            painter.drawImage(QRectF(left, top, cell_w * cols, cell_h * rows), self._image)
        else:
            grid_pen = QPen(QColor(self.look.ink))
            grid_pen.setWidthF(min(self.look.line, max(0.5, min(cell_w, cell_h) * 0.06)))
            number_font = self._fitted_font(size)
            smallest = float("inf")
            if number_font is not None:
                painter.setFont(number_font)
                metrics = QFontMetricsF(number_font)
            for (r, c), value in np.ndenumerate(self.values):
                rect = QRectF(left + c * cell_w, top + r * cell_h, cell_w, cell_h)
                is_pad = self.padding is not None and bool(self.padding[r, c])
                colour = QColor(self.look.padding) if is_pad else self._cell_colour(
                    float(value), limit)
                painter.fillRect(rect, colour)
                if is_pad:
                    painter.fillRect(rect, QBrush(QColor(self.look.ink),
                                                  Qt.BrushStyle.BDiagPattern))
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if number_font is not None:
                    text = self._texts[r * cols + c]
                    # a wider value than the rest: shrunk alone
                    pixels = _shrunk(float(number_font.pixelSize()),
                                     metrics.horizontalAdvance(text), cell_w)
                    if pixels < SMALLEST_NUMBER_PIXELS:
                        continue
                    smallest = min(smallest, pixels)
                    painter.setPen(QColor(self.look.ink))
                    if pixels != number_font.pixelSize():
                        fitted = QFont(number_font)
                        fitted.setPixelSize(int(pixels))
                        painter.setFont(fitted)
                        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
                        painter.setFont(number_font)
                    else:
                        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            self.number_pixels = 0.0 if smallest == float("inf") else smallest
        small = min(cell_w, cell_h) < 18
        for cells, outline, line in ((self.window_cells, self.look.window, self.look.mark_line),
                                     (self.marks, self.look.mark, self.look.mark_line)):
            pen = QPen(QColor(outline))
            pen.setWidthF(min(line, max(1.5, min(cell_w, cell_h) * 0.18)))
            painter.setPen(pen)
            fill = QColor(outline)
            fill.setAlpha(70 if small else 0)  # tiny cells: tint them, outlines vanish
            painter.setBrush(fill if small else Qt.BrushStyle.NoBrush)
            for r, c in cells:
                if 0 <= r < rows and 0 <= c < cols:
                    painter.drawRect(QRectF(left + c * cell_w, top + r * cell_h, cell_w,
                                            cell_h))
        painter.end()

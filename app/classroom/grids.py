"""A grid of numbers drawn with QPainter: the patch, kernel, products and feature maps.

Cells are tinted by sign and size, padding cells are grey and hatched, marked cells get a thick
outline. Small grids show every number; large maps (a 224×224 activation) are drawn as an image
with the marks on top. ``Look`` holds the colours and line widths, so presentation mode can
switch every grid to large type, thick lines and a high-contrast palette at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.classroom.text import number

IMAGE_ABOVE = 1600
"""Grids with more cells than this are drawn as an image (numbers would not fit)."""


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
    title_points: float


NORMAL = Look("#ffffff", "#1a1a1a", "#e8743b", "#3b82c4", "#c8c8c8", "#d62828", "#2a9d8f",
              1.0, 3.0, 10.0)
PRESENT = Look("#000000", "#ffffff", "#ff9f1c", "#2ec4ff", "#5a5a5a", "#ffe600", "#00ff88",
               2.5, 7.0, 20.0)
"""High contrast for a projector: white on black, saturated tints, thick yellow outlines."""


class NumberGrid(QWidget):
    """A titled grid of values; ``marks`` are outlined cells, ``window`` cells a second colour."""

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
        self._image: QImage | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(90, 90)

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
        self.update()

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
        title_font.setPointSizeF(self.look.title_points)
        painter.setFont(title_font)
        painter.setPen(QColor(self.look.ink))
        title_height = painter.fontMetrics().height() + 6
        painter.drawText(QRectF(0, 0, self.width(), title_height),
                         Qt.AlignmentFlag.AlignCenter, self.title)
        if self.values is None or self.values.size == 0:
            return
        rows, cols = self.values.shape
        cell = min((self.width() - 8) / cols, (self.height() - title_height - 8) / rows)
        if cell <= 0:
            return
        left = (self.width() - cell * cols) / 2
        top = title_height + 4
        finite = self.values[np.isfinite(self.values)]
        limit = float(np.abs(finite).max()) if finite.size else 0.0
        big = rows * cols > IMAGE_ABOVE
        if big:
            if self._image is None:
                self._image = self._as_image(limit)
            painter.drawImage(QRectF(left, top, cell * cols, cell * rows), self._image)
        else:
            grid_pen = QPen(QColor(self.look.ink))
            grid_pen.setWidthF(min(self.look.line, max(0.5, cell * 0.06)))
            number_font = QFont(self.font())
            number_font.setPointSizeF(max(5.0, cell * 0.26))
            number_font.setBold(True)
            painter.setFont(number_font)
            for (r, c), value in np.ndenumerate(self.values):
                rect = QRectF(left + c * cell, top + r * cell, cell, cell)
                is_pad = self.padding is not None and bool(self.padding[r, c])
                colour = QColor(self.look.padding) if is_pad else self._cell_colour(
                    float(value), limit)
                painter.fillRect(rect, colour)
                if is_pad:
                    painter.fillRect(rect, QBrush(QColor(self.look.ink),
                                                  Qt.BrushStyle.BDiagPattern))
                painter.setPen(grid_pen)
                painter.drawRect(rect)
                if cell >= 18:
                    painter.setPen(QColor(self.look.ink))
                    text = number(float(value))
                    if len(text) > 5:
                        text = f"{value:.3g}".replace("-", "−")
                    width = painter.fontMetrics().horizontalAdvance(text)
                    if width > cell * 0.92:  # shrink this number to fit its cell
                        fitted = QFont(number_font)
                        fitted.setPointSizeF(max(4.0, number_font.pointSizeF() * cell * 0.92
                                                 / width))
                        painter.setFont(fitted)
                        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
                        painter.setFont(number_font)
                    else:
                        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        for cells, outline, line in ((self.window_cells, self.look.window, self.look.mark_line),
                                     (self.marks, self.look.mark, self.look.mark_line)):
            pen = QPen(QColor(outline))
            pen.setWidthF(min(line, max(1.5, cell * 0.18)))
            painter.setPen(pen)
            fill = QColor(outline)
            fill.setAlpha(70 if cell < 18 else 0)  # tiny cells: tint them, outlines vanish
            painter.setBrush(fill if cell < 18 else Qt.BrushStyle.NoBrush)
            for r, c in cells:
                if 0 <= r < rows and 0 <= c < cols:
                    painter.drawRect(QRectF(left + c * cell, top + r * cell, cell, cell))
        painter.end()

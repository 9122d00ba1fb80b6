"""A pyqtgraph image with a colour bar, a value readout on hover and click positions."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QResizeEvent

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)
GREY, DIVERGING = "CET-L1", "CET-D1"  # pyqtgraph's bundled grey and blue-white-red maps
EMPTY_RANGE = (0.0, 1.0)
"""An emptied pane's view range on both axes (not the last picture's size)."""


class ImagePane(pg.GraphicsLayoutWidget):
    """Shows one 2-D (colour-mapped) or RGB image; emits hovered / clicked image positions."""

    hovered = Signal(int, int)
    clicked = Signal(int, int)

    def __init__(self, title: str = "", colorbar: bool = True) -> None:
        super().__init__()
        self.setBackground(None)
        self.plot = self.addPlot()
        self._title = ""
        self.set_title(title)
        self.plot.setAspectLocked(True)
        self.plot.invertY(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.overlay = pg.ImageItem()
        self.overlay.setZValue(10)
        self.overlay.setOpacity(0.6)
        self.plot.addItem(self.overlay)
        self.box = pg.RectROI([0, 0], [1, 1], pen=pg.mkPen("#ff3030", width=2), movable=False,
                              resizable=False, rotatable=False)
        self.box.setZValue(20)
        self.box.hide()
        self.plot.addItem(self.box)
        self.bar: pg.ColorBarItem | None = None
        if colorbar:
            self.bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"),
                                       interactive=False, width=14)
            self.bar.setImageItem(self.image, insert_in=self.plot)
            self.set_title(title)
        self.data: np.ndarray | None = None
        self.scene().sigMouseMoved.connect(self._moved)
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_title(self, title: str) -> None:
        """The pane's title, in the window's text size (projector text scales it)."""
        self._title = title
        size = max(8, self.font().pointSize())
        self.plot.setTitle(self._fitted(title, size), size=f"{size}pt",
                           color=self.palette().text().color())
        self.setToolTip(title)
        bar = getattr(self, "bar", None)  # None until __init__ made it
        if bar is not None:  # the colour scale's numbers in the same text size
            bar.axis.setStyle(tickFont=self.font(), autoExpandTextSpace=True)
            bar.axis.setWidth(None)  # as wide as its numbers (else big text hides them)
            bar.axis.setTextPen(self.palette().text().color())

    def _fitted(self, title: str, size: int) -> str:
        """The title cut to the pane's width with "…" (the whole title is the tooltip): a
        title wider than the pane (projector text) widened the plot past the pane's edges,
        pushing the picture off centre and cutting its side off."""
        if self.width() < 60:  # not laid out yet: cut when it is (resizeEvent)
            return title
        font = QFont(self.font())
        font.setPointSize(size)
        return QFontMetrics(font).elidedText(title, Qt.TextElideMode.ElideRight,
                                             self.width() - 24)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if getattr(self, "_title", None) is not None:
            self.set_title(self._title)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        title = getattr(self, "_title", None)  # None: still inside __init__
        if title is not None and event.type() in (QEvent.Type.FontChange,
                                                  QEvent.Type.PaletteChange):
            self.set_title(title)

    def show_map(self, data: np.ndarray, levels: tuple[float, float] | None = None,
                 cmap: str = "viridis") -> None:
        """A 2-D array through a colour map, or (H, W, 3) RGB in 0..1."""
        self.data = data
        if data.ndim == 3:
            # NaN (between and after the tiles of a mosaic) is transparent, not a colour that
            # could be read as data
            rgba = np.empty((*data.shape[:2], 4), dtype=np.uint8)
            rgba[..., :3] = (np.nan_to_num(np.clip(data, 0, 1), nan=0.0) * 255).astype(np.uint8)
            rgba[..., 3] = np.where(np.isnan(data).any(axis=2), 0, 255)
            self.image.setImage(rgba, levels=(0, 255))
            if self.bar is not None:
                self.bar.hide()
        else:
            finite = data[np.isfinite(data)]
            lo, hi = levels if levels else ((float(finite.min()), float(finite.max()))
                                            if finite.size else (0.0, 1.0))
            if hi <= lo:
                hi = lo + 1e-6
            self.image.setImage(data, levels=(lo, hi))  # NaN: transparent (pyqtgraph)
            if self.bar is not None:
                self.bar.show()
                self.bar.setColorMap(pg.colormap.get(cmap))
                self.bar.setLevels((lo, hi))
            else:
                self.image.setColorMap(pg.colormap.get(cmap))
        self.plot.autoRange(padding=0.02)

    def clear_picture(self) -> None:
        """Nothing shown (a new model, weights or input): no picture, overlay or box.
        (Not ``clear``: GraphicsLayoutWidget forwards that name to its layout, which would
        remove the plot itself.)"""
        self.data = None
        self.image.clear()
        self.overlay.clear()
        self.box.hide()
        if self.bar is not None:
            self.bar.hide()
        self.plot.vb.setRange(xRange=EMPTY_RANGE, yRange=EMPTY_RANGE, padding=0)

    def show_overlay(self, heat: np.ndarray | None) -> None:
        if heat is None:
            self.overlay.clear()
            return
        self.overlay.setImage(heat, levels=(0, 1))
        self.overlay.setColorMap(pg.colormap.get("inferno"))

    def show_box(self, top: float, left: float, height: float, width: float) -> None:
        self.box.setPos(QPointF(left, top))
        self.box.setSize([width, height])
        self.box.show()

    def hide_box(self) -> None:
        self.box.hide()

    def _position(self, scene_pos: QPointF) -> tuple[int, int] | None:
        if self.data is None or not self.plot.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < self.data.shape[0] and 0 <= col < self.data.shape[1]:
            return row, col
        return None

    def _moved(self, scene_pos: QPointF) -> None:
        pos = self._position(scene_pos)
        if pos is not None:
            self.hovered.emit(*pos)

    def _clicked(self, event: object) -> None:
        pos = self._position(event.scenePos())  # type: ignore[attr-defined]
        if pos is not None:
            self.clicked.emit(*pos)

    def value_at(self, row: int, col: int) -> float | None:
        if self.data is None or self.data.ndim != 2:
            return None
        value = float(self.data[row, col])
        return None if np.isnan(value) else value


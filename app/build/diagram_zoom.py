"""A graphics view that zooms within readable limits and opens a new drawing at a readable
size: Ctrl+wheel, − and +, Fit (the whole drawing), and a first view of each model."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

MIN_SCALE, MAX_SCALE = 0.25, 2.0
READABLE = 0.85
"""The smallest scale at which a block's labels stay readable."""


class ZoomableView(QGraphicsView):
    """The zoom of app.build.diagram.DiagramView."""

    zoom_changed = Signal(float)
    """The view's scale after a zoom or fit (1.0 = 100 %)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._fit_pending = True

    def has_drawing(self) -> bool:
        return bool(self.scene() and self.scene().items())

    def show_readable(self, item: QGraphicsItem) -> None:
        """Centre ``item``, zoomed in to a readable size if the view is smaller."""
        if self.transform().m11() < 0.6:
            self.resetTransform()
            self.scale(READABLE, READABLE)
            self.zoom_changed.emit(READABLE)
        self.centerOn(item)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom(1.15 if event.angleDelta().y() > 0 else 1 / 1.15)
            return
        super().wheelEvent(event)

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` around the view's centre, within readable limits."""
        current = self.transform().m11()
        target = max(MIN_SCALE, min(MAX_SCALE, current * factor))
        self.scale(target / current, target / current)
        self.zoom_changed.emit(target)

    def fit(self) -> None:
        """Show the whole model (however small that makes it)."""
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.transform().m11())

    def fit_model(self) -> None:
        """A newly opened model's view: the whole model when it fits at a readable size,
        otherwise readable-size blocks from the input on (scroll or Fit for the rest)."""
        self._fit_pending = False
        rect = self.scene().sceneRect()
        view = self.viewport().size()
        if rect.isEmpty() or view.width() < 50:
            self._fit_pending = True
            return
        scale = min(view.width() / rect.width(), view.height() / rect.height(), MAX_SCALE)
        scale = max(scale, READABLE)  # readable labels; a long model scrolls (Fit shows it all)
        self.resetTransform()
        self.scale(scale, scale)
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().minimum())
        self.verticalScrollBar().setValue(self.verticalScrollBar().minimum())
        self.zoom_changed.emit(scale)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self._fit_pending and self.has_drawing():
            self.fit_model()

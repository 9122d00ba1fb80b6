"""A graphics view that zooms within readable limits and opens a new drawing at a readable
size: Ctrl+wheel, − and +, Fit (the whole drawing), and a first view of each model."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPaintEvent, QWheelEvent
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
        self._painted = False
        self._fitted_unpainted = False
        """Fitted before the view's first paint: at a size the window's layout was passing
        through while it showed (a 54 px high view at projector text), where showing the
        selected block scrolled it; a resize before the first paint starts it at the input
        again (else the first view started 39 px down, the blocks' tops cut)."""

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
        self._fitted_unpainted = not self._painted
        rect = self.scene().sceneRect()
        view = self.viewport().size()
        if rect.isEmpty() or view.width() < 50:
            self._fit_pending = True
            return
        scale = min(view.width() / rect.width(), view.height() / rect.height(), MAX_SCALE)
        scale = max(scale, READABLE)  # readable labels; a long model scrolls (Fit shows it all)
        self.resetTransform()
        self.scale(scale, scale)
        self._to_start()
        self.zoom_changed.emit(scale)

    def _to_start(self) -> None:
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().minimum())
        self.verticalScrollBar().setValue(self.verticalScrollBar().minimum())

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        if self._fit_pending and self.has_drawing():
            self.fit_model()
        elif self._fitted_unpainted and not self._painted:
            self._to_start()  # the fit's scale stays; its view starts at the input again

    def paintEvent(self, event: QPaintEvent) -> None:
        self._painted = True
        super().paintEvent(event)

"""The diagram's minimap: the whole model in a corner, with the part in view outlined.

Shown only while the model does not fit in the view at its zoom (ResNet-152, DenseNet-201,
any long model zoomed in). Clicking or dragging in it moves the view there. It paints the
blocks' rectangles in their colours itself (a second QGraphicsView of the same scene would draw
every item again on every repaint of an edit); the rectangles are read again a moment after
the diagram redrew, so an edit costs the diagram nothing more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from app.build.diagram import DiagramView

SIDE = 180
"""The minimap's longer side in pixels."""
MARGIN = 8
REREAD_MS = 120
MIN_VIEW = (360, 160)
"""A viewport smaller than this (width, height) shows no minimap: it would cover the model."""


class DiagramMinimap(QWidget):
    """A corner of ``view`` showing the whole scene; ``blocks`` the rectangles drawn."""

    def __init__(self, view: DiagramView) -> None:
        super().__init__(view)
        self.view = view
        self.blocks: list[tuple[QRectF, QColor]] = []
        self._picture: tuple[object, QPixmap] | None = None
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole model: click or drag to move the view there (Fit, Ctrl+0, "
                        "shows it all)")
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, False)
        self._reread = QTimer(self)
        self._reread.setSingleShot(True)
        self._reread.setInterval(REREAD_MS)
        self._reread.timeout.connect(self.reread)
        view.rebuilt.connect(self._reread.start)
        view.zoom_changed.connect(lambda _scale: self.follow())
        view.horizontalScrollBar().valueChanged.connect(lambda _v: self.follow())
        view.verticalScrollBar().valueChanged.connect(lambda _v: self.follow())
        view.installEventFilter(self)
        self.hide()
        self.reread()

    # -- what it shows ------------------------------------------------------------------------
    def reread(self) -> None:
        """Read the blocks' rectangles and colours from the diagram."""
        self.blocks = [(block.rect(), block.brush().color()) for block in
                       self.view.blocks.values()]
        self._picture = None
        self.follow()

    def _scene(self) -> QRectF:
        return self.view.scene_.sceneRect()

    def visible_part(self) -> QRectF:
        """The part of the scene the view shows now."""
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def needed(self) -> bool:
        """Whether the model does not fit in the view (then the minimap shows), in a view
        large enough to leave room beside it."""
        room = self.view.viewport().size()
        if room.width() < MIN_VIEW[0] or room.height() < MIN_VIEW[1]:
            return False  # a squeezed diagram (projector text on a small screen): no room
        scene, shown = self._scene(), self.visible_part()
        return bool(self.blocks) and not scene.isEmpty() and (
            shown.width() + 1 < scene.width() or shown.height() + 1 < scene.height())

    def follow(self) -> None:
        """Show or hide, size and place in the view's corner, repaint the outline."""
        if not self.needed():
            self.hide()
            return
        scene = self._scene()
        ratio = scene.width() / max(scene.height(), 1.0)
        width, height = (SIDE, max(24, round(SIDE / ratio))) if ratio >= 1 else \
            (max(24, round(SIDE * ratio)), SIDE)
        room = self.view.viewport().geometry()
        width, height = min(width, room.width() // 2), min(height, room.height() // 2)
        self.setGeometry(room.right() - width - MARGIN, room.bottom() - height - MARGIN,
                         width, height)
        self.show()
        self.raise_()
        self.update()

    def _mapping(self) -> tuple[float, float, float]:
        """(scale, x offset, y offset) from scene to minimap pixels (aspect kept, centred)."""
        scene = self._scene()
        scale = min((self.width() - 4) / max(scene.width(), 1.0),
                    (self.height() - 4) / max(scene.height(), 1.0))
        ox = (self.width() - scene.width() * scale) / 2 - scene.left() * scale
        oy = (self.height() - scene.height() * scale) / 2 - scene.top() * scale
        return scale, ox, oy

    def _draw_blocks(self) -> QPixmap:
        """The blocks at the minimap's scale, drawn once per reread, size and palette: the
        minimap is repainted whenever the diagram under it is (every edit), and filling each
        block's rectangle in Python took a millisecond on ResNet-152. (Between an edit and
        the reread a moment later the blocks are those read before, as they were.)"""
        key = (self.size(), self.palette().cacheKey())  # and reread() starts afresh
        if self._picture is not None and self._picture[0] == key:
            return self._picture[1]
        ratio = self.devicePixelRatioF()
        picture = QPixmap(self.size() * ratio)
        picture.setDevicePixelRatio(ratio)
        picture.fill(Qt.GlobalColor.transparent)
        painter = QPainter(picture)
        back = QColor(self.palette().base().color())
        back.setAlpha(225)
        painter.fillRect(self.rect(), back)
        painter.setPen(QPen(self.palette().mid().color(), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        scale, ox, oy = self._mapping()
        painter.setPen(Qt.PenStyle.NoPen)
        for rect, color in self.blocks:
            painter.fillRect(QRectF(ox + rect.left() * scale, oy + rect.top() * scale,
                                    max(1.0, rect.width() * scale),
                                    max(1.0, rect.height() * scale)), color)
        painter.end()
        self._picture = (key, picture)
        return picture

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        base = self.palette().base().color()
        painter.drawPixmap(0, 0, self._draw_blocks())
        scale, ox, oy = self._mapping()
        shown = self.visible_part()
        outline = QColor("#ffffff") if base.lightness() < 100 else QColor("#111111")
        painter.setPen(QPen(outline, 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(ox + shown.left() * scale, oy + shown.top() * scale,
                                shown.width() * scale, shown.height() * scale))
        painter.end()

    # -- moving the view ------------------------------------------------------------------------
    def scene_point(self, point: QPointF) -> QPointF:
        """The scene point under the minimap's pixel ``point``."""
        scale, ox, oy = self._mapping()
        return QPointF((point.x() - ox) / scale, (point.y() - oy) / scale)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.view.centerOn(self.scene_point(event.position()))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.scene_point(event.position()))
        event.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            QTimer.singleShot(0, self.follow)  # after the view laid out its viewport
        return False

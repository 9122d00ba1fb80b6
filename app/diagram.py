"""The model diagram: one block per layer, left to right, sized by its output tensor.

A block's height follows the feature map's spatial size and its width the number of channels
(both on a log scale, so ResNet and LeNet both fit); its colour is the layer's group. Skip
connections are drawn as arcs above the blocks. Clicking a block selects the layer.
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetricsF,
    QImage,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPen,
    QWheelEvent,
)
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from app.document import ModelDocument
from app.palette import TYPE_MIME
from app.style import ERROR_COLOR, group_color
from core.analysis.summary import shape_text
from core.model.catalog import CATALOG
from core.model.spec import INPUT

GAP = 14.0
BASELINE = 150.0


def block_size(shape: tuple[int, ...] | None) -> tuple[float, float]:
    """(width, height) of a block for an output ``shape`` (log scales; flat vectors are thin)."""
    if not shape:
        return 18.0, 40.0
    channels = shape[0]
    spatial = math.prod(shape[1:]) ** (1 / max(1, len(shape) - 1)) if len(shape) > 1 else 1
    if len(shape) == 1:
        return 10.0, 24.0 + 10.0 * math.log2(1 + shape[0])
    return 10.0 + 5.0 * math.log2(1 + channels), 16.0 + 22.0 * math.log2(1 + spatial)


class DiagramView(QGraphicsView):
    """Draws the document's model; ``blocks`` maps layer names to their rectangles."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scene_ = QGraphicsScene(self)
        self.setScene(self.scene_)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setToolTip("Click a block to select its layer; drop a layer from the palette to "
                        "insert it there; Ctrl+wheel zooms.")
        self.setAcceptDrops(True)
        self.blocks: dict[str, QGraphicsRectItem] = {}
        document.changed.connect(self.rebuild)
        document.current_changed.connect(lambda _n: self._highlight())
        self.rebuild()

    def rebuild(self) -> None:
        if not self.isVisible() and self.blocks:
            self._stale = True
            return
        self._stale = False
        spec, analysis = self.document.spec, self.document.analysis
        structure = (spec.input_shape != (), tuple(
            (layer.name, layer.type, spec.inputs_of(i)) for i, layer in enumerate(spec.layers)))
        # Same layers and connections: move and resize the existing items (an edit of one
        # value); otherwise draw afresh. Recreating hundreds of items per keystroke was the
        # slowest part of an edit on ResNet-34.
        fresh = structure != getattr(self, "_structure", None)
        self._structure = structure
        if fresh:
            self.scene_.clear()
            self.blocks = {}
            self.labels: dict[str, tuple[QGraphicsSimpleTextItem, QGraphicsSimpleTextItem]] = {}
        for arc in getattr(self, "arcs", []) if not fresh else []:
            self.scene_.removeItem(arc)
        self.arcs: list[QGraphicsPathItem] = []
        label_font = QFont(self.font())
        label_font.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.8))
        text_color = self.palette().text().color()
        # rotated labels need room: the gap between blocks follows the font
        gap = max(GAP, QFontMetricsF(label_font).height() * 1.15)
        x = 0.0
        centers: dict[str, QPointF] = {}
        width, height = block_size(spec.input_shape)
        centers[INPUT] = QPointF(x + width / 2, BASELINE)
        self._place(INPUT, x, width, height, QColor("#bbbbbb"), "input",
                    shape_text(spec.input_shape), label_font, text_color, Qt.PenStyle.SolidLine)
        x += width + gap
        for index, layer in enumerate(spec.layers):
            info = analysis.layers[index] if index < len(analysis.layers) else None
            error = analysis.error is not None and analysis.error.layer == layer.name
            width, height = block_size(info.output_shape if info else None)
            color = group_color(CATALOG[layer.type].group)
            style = Qt.PenStyle.SolidLine
            if info is None:
                color = QColor(ERROR_COLOR) if error else QColor("#cfcfcf")
                style = Qt.PenStyle.SolidLine if error else Qt.PenStyle.DashLine
            shape = shape_text(info.output_shape) if info else ("error" if error else "—")
            self._place(layer.name, x, width, height, color, layer.name, shape, label_font,
                        text_color, style)
            centers[layer.name] = QPointF(x + width / 2, BASELINE)
            previous = spec.layers[index - 1].name if index else INPUT
            for source in spec.inputs_of(index):
                if source != previous and source in centers:
                    self._add_skip(centers[source], centers[layer.name])
            x += width + gap
        self._highlight()
        self.scene_.setSceneRect(self.scene_.itemsBoundingRect().adjusted(-20, -20, 20, 20))

    def _place(self, name: str, x: float, width: float, height: float, color: QColor,
               label: str, shape: str, font: QFont, text_color: QColor,
               style: Qt.PenStyle) -> None:
        """Create the block of ``name``, or move and restyle the one drawn before."""
        rect = self.blocks.get(name)
        if rect is None:
            rect = QGraphicsRectItem()
            rect.setData(0, name)
            self.scene_.addItem(rect)
            self.blocks[name] = rect
            texts = []
            for row, text in enumerate((label, shape)):
                item = QGraphicsSimpleTextItem(text)
                item.setFont(font)
                item.setBrush(QBrush(text_color if row == 0 else QColor("#888888")))
                item.setRotation(60)
                item.setData(0, name)
                self.scene_.addItem(item)
                texts.append(item)
            self.labels[name] = (texts[0], texts[1])
        rect.setRect(QRectF(x, BASELINE - height / 2, width, height))
        fill = QColor(color)
        fill.setAlpha(210)
        rect.setBrush(QBrush(fill))
        rect.setPen(QPen(color.darker(140), 1.2, style))
        rect.setToolTip(f"{label}: {shape}")
        name_item, shape_item = self.labels[name]
        line = QFontMetricsF(name_item.font()).height()
        name_item.setPos(x + width / 2 - 2, BASELINE + height / 2 + 6)
        if shape_item.text() != shape:
            shape_item.setText(shape)
        shape_item.setPos(x + width / 2 - 2 + line * 0.87, BASELINE + height / 2 + 6 - line * 0.5)

    def _add_skip(self, start: QPointF, end: QPointF) -> None:
        lift = min(60.0, 12.0 + (end.x() - start.x()) * 0.08)
        top = BASELINE - 62
        path = QPainterPath(QPointF(start.x(), top))
        path.cubicTo(start.x(), top - lift, end.x(), top - lift, end.x(), top)
        path.moveTo(end.x() - 4, top - 8)
        path.lineTo(end.x(), top)
        path.lineTo(end.x() + 4, top - 8)
        item = QGraphicsPathItem(path)
        item.setPen(QPen(QColor("#c8553d"), 1.6))
        item.setZValue(-1)
        self.scene_.addItem(item)
        self.arcs.append(item)

    def _highlight(self) -> None:
        for name, rect in self.blocks.items():
            pen = rect.pen()
            selected = name == self.document.current
            pen.setWidthF(3.5 if selected else 1.2)
            pen.setColor(QColor("#111111") if selected and not self._dark() else
                         QColor("#ffffff") if selected else rect.brush().color().darker(140))
            rect.setPen(pen)
        block = self.blocks.get(self.document.current)
        if block is not None:
            self.ensureVisible(block, 40, 20)

    def _dark(self) -> bool:
        return self.palette().base().color().lightness() < 100

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if getattr(self, "_stale", False):
            self.rebuild()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        item = self.itemAt(event.position().toPoint())
        name = item.data(0) if item is not None else None
        if name and name != INPUT:
            self.document.select(name)
        super().mousePressEvent(event)

    # -- palette types dropped on the diagram insert after the block under the cursor ---------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasFormat(TYPE_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(TYPE_MIME):
            super().dropEvent(event)
            return
        type_name = bytes(event.mimeData().data(TYPE_MIME).data()).decode()
        self.insert_at(type_name, self.mapToScene(event.position().toPoint()).x())
        event.acceptProposedAction()

    def insert_at(self, type_name: str, scene_x: float) -> None:
        """Insert a layer after the last block that starts left of ``scene_x``."""
        names = [layer.name for layer in self.document.spec.layers]
        index = 0
        for position, name in enumerate(names):
            block = self.blocks.get(name)
            if block is not None and block.rect().left() <= scene_x:
                index = position + 1
        self.document.add_layer(type_name, index)

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
            self.scale(factor, factor)
            return
        super().wheelEvent(event)

    def fit(self) -> None:
        self.fitInView(self.scene_.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def export(self, path: Path, scale: float = 2.0) -> None:
        """Save the whole diagram as PNG (at ``scale``) or SVG, by the file's extension."""
        if getattr(self, "_stale", False):
            self.rebuild()
        rect = self.scene_.sceneRect()
        if path.suffix.lower() == ".svg":
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            generator.setSize(QSize(int(rect.width()), int(rect.height())))
            generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
            generator.setTitle(self.document.spec.name)
            painter = QPainter(generator)
            self.scene_.render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
            painter.end()
            return
        image = QImage(int(rect.width() * scale), int(rect.height() * scale),
                       QImage.Format.Format_ARGB32)
        image.fill(self.palette().base().color())
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.scene_.render(painter, QRectF(0, 0, image.width(), image.height()), rect)
        painter.end()
        if not image.save(str(path)):
            raise OSError(f"could not write {path}")

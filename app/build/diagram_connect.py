"""Editing on the diagram: connecting blocks by dragging from a block's output port to another
block, and where a palette item dropped on it goes.

The port is a dot on the exit side of the block under the pointer (or the selected one). Pressing
on it and releasing on a later block connects the two through the document (one undo step,
shapes checked first): onto an Add, Concat or Mul it adds an input; onto a block that reads one
layer it asks whether to merge with Add or Concat and creates that layer. A refused connection
says why at the pointer, and the model stays as it was. A palette item dropped on a connection
is inserted on it, on a block right after it, on empty space as a branch from the selected block.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QDragMoveEvent, QDropEvent, QPainterPath, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QMessageBox,
    QToolTip,
    QWidget,
)

from app.build.palette import TYPE_MIME
from app.document import ModelDocument
from core.model.catalog import CATALOG


class DiagramView(Protocol):
    """What the port needs of app.build.diagram.DiagramView (which imports this module)."""

    scene_: QGraphicsScene
    blocks: dict[str, QGraphicsRectItem]
    members: dict[str, tuple[str, ...]]
    arcs: list[QGraphicsPathItem]
    edge_names: list[tuple[str, str]]
    document: ModelDocument
    refused: str

    @property
    def direction(self) -> str: ...

    def viewport(self) -> QWidget: ...

PORT_RADIUS = 6.0


class PortDrag:
    """The port dot and the line that follows the pointer while a connection is dragged."""

    def __init__(self, view: DiagramView) -> None:
        self.view = view
        self.source = ""
        """The block the port is on ("" when hidden)."""
        self.active = False
        self.port = QGraphicsEllipseItem()
        self.line = QGraphicsPathItem()
        self.reset()

    def reset(self) -> None:
        """New items after the scene was cleared (a fresh drawing)."""
        self.port = QGraphicsEllipseItem(QRectF(-PORT_RADIUS, -PORT_RADIUS, 2 * PORT_RADIUS,
                                                2 * PORT_RADIUS))
        self.port.setBrush(QBrush(QColor("#ffffff")))
        self.port.setPen(QPen(QColor("#c8553d"), 2))
        self.port.setZValue(5)
        self.port.setToolTip("Drag from here onto another block to connect them")
        self.port.hide()
        self.line = QGraphicsPathItem()
        self.line.setPen(QPen(QColor("#c8553d"), 2, Qt.PenStyle.DashLine))
        self.line.setZValue(4)
        self.line.hide()
        self.view.scene_.addItem(self.port)
        self.view.scene_.addItem(self.line)
        self.source, self.active = "", False

    def exit_point(self, name: str) -> QPointF | None:
        block = self.view.blocks.get(name)
        if block is None:
            return None
        rect = block.rect()
        if self.view.direction == "down":
            return QPointF(rect.center().x(), rect.bottom())
        return QPointF(rect.right(), rect.center().y())

    def show_on(self, name: str) -> None:
        """Put the port on block ``name`` (hidden for "" or a block not drawn)."""
        point = self.exit_point(name) if name else None
        if point is None:
            self.port.hide()
            self.source = ""
            return
        self.source = name
        self.port.setPos(point)
        self.port.show()

    def hits(self, scene_pos: QPointF) -> bool:
        if not self.source or not self.port.isVisible():
            return False
        offset = scene_pos - self.port.pos()
        return offset.x() ** 2 + offset.y() ** 2 <= (PORT_RADIUS + 3) ** 2

    def start(self) -> None:
        self.active = True
        self.line.setPath(QPainterPath())
        self.line.show()

    def follow(self, scene_pos: QPointF) -> None:
        path = QPainterPath(self.port.pos())
        path.lineTo(scene_pos)
        self.line.setPath(path)

    def finish(self, scene_pos: QPointF, global_pos: QPoint) -> None:
        """Release: connect the port's block to the block under the pointer, if any."""
        self.active = False
        self.line.hide()
        target = ""
        for item in self.view.scene_.items(scene_pos):
            name = item.data(0)
            if name and name in self.view.blocks:
                target = str(name)
                break
        if target and target != self.source:
            members = self.view.members
            if len(members.get(target, ())) > 1:
                refuse(self.view, f"Not connected: {target} is a group; open it (double-click) "
                       "to connect to one of its layers", global_pos)
                return
            source = (members.get(self.source) or (self.source,))[-1]
            connect_blocks(self.view, source, target, global_pos)


def connect_blocks(view: DiagramView, source: str, target: str, global_pos: QPoint) -> str | None:
    """Connect ``source`` to ``target``, asking Add or Concat when ``target`` reads one layer;
    returns why it was refused (also shown at ``global_pos``), or None."""
    document = view.document
    if target not in {layer.name for layer in document.spec.layers}:
        reason: str | None = "the input reads nothing: connect it to a later layer"
    else:
        merge = None
        if not CATALOG[document.spec.layer(target).type].merge:
            merge = ask_merge(view, source, target)
            if merge is None:
                return "cancelled"
        reason = document.connect_layers(source, target, merge)
    if reason is not None:
        refuse(view, f"Not connected: {reason}", global_pos)
    return reason


def ask_merge(view: DiagramView, source: str, target: str) -> str | None:
    """Add or Concat (or None: cancelled) for a connection onto a one-input block."""
    box = QMessageBox(QMessageBox.Icon.Question, "Connect layers",
                      f"{target} reads one layer. Merge {source} with it using:",
                      parent=view.viewport())
    add = box.addButton("Add (same shape)", QMessageBox.ButtonRole.AcceptRole)
    concat = box.addButton("Concat (channels side by side)", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(add)
    box.exec()
    clicked = box.clickedButton()
    return "Add" if clicked is add else "Concat" if clicked is concat else None


def refuse(view: DiagramView, text: str, global_pos: QPoint) -> None:
    QToolTip.showText(global_pos, text, view.viewport())
    view.document.message.emit(text)
    view.refused = text


def accept_palette(event: QDragMoveEvent | QDropEvent) -> bool:
    """Accept a palette item dragged over (or dropped on) the diagram; False for anything else."""
    if not event.mimeData().hasFormat(TYPE_MIME):
        return False
    event.acceptProposedAction()
    return True


def insert_by_position(view: DiagramView, type_name: str, along: float) -> None:
    """Insert a layer after the last block that starts before ``along`` on the flow's axis
    (x going right, y going down)."""
    names = [layer.name for layer in view.document.spec.layers]
    index = 0
    for position, name in enumerate(names):
        block = view.blocks.get(name)
        if block is None:
            continue
        start = block.rect().left() if view.direction == "right" else block.rect().top()
        if start <= along:
            index = position + 1
    view.document.add_layer(type_name, index)


def drop_type(view: DiagramView, type_name: str, point: QPointF, global_pos: QPoint) -> None:
    """A palette type dropped at scene ``point``: on a connection, inserted on it; on a block,
    right after it; on empty space, a branch from the selected block (else by position)."""
    document = view.document
    edge = edge_at(view, point)
    if edge is not None:
        reason = document.insert_on_edge(type_name, *edge)
        if reason is not None:
            refuse(view, f"Not inserted: {reason}", global_pos)
        return
    block = next((str(item.data(0)) for item in view.scene_.items(point)
                  if isinstance(item, QGraphicsRectItem) and item.data(0)), "")
    names = [layer.name for layer in document.spec.layers]
    if block in names:
        document.add_layer(type_name, names.index(block) + 1)
    elif not block and document.current in names:
        document.start_branch(type_name, document.current)
    elif view.members.get(block):  # a collapsed group: after it
        document.add_layer(type_name, names.index(view.members[block][-1]) + 1)
    else:
        insert_by_position(view, type_name, point.x() if view.direction == "right" else point.y())


def edge_at(view: DiagramView, point: QPointF) -> tuple[str, str] | None:
    """(source, target) of the connection within a few pixels of ``point``, if any."""
    area = QRectF(point.x() - 4, point.y() - 4, 8, 8)
    index = {id(arc): i for i, arc in enumerate(view.arcs)}
    for item in view.scene_.items(area):
        if isinstance(item, QGraphicsRectItem) and item.data(0):
            return None  # on a block: the block's drop
        position = index.get(id(item))
        if position is not None and position < len(view.edge_names):
            return view.edge_names[position]
    return None

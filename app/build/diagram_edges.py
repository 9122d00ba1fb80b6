"""The diagram's connections drawn as paths: curves along the flow with an arrowhead; on an
edit only the connections that moved are reshaped."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from core.analysis.graph_layout import Direction


def edge_path(points: tuple[tuple[float, float], ...], direction: Direction) -> QPainterPath:
    """A connection from the source block's border through its route to the target's border,
    each leg a curve that leaves and arrives along the flow, with an arrowhead."""
    path = QPainterPath(QPointF(*points[0]))
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        if direction == "down":
            mid = (ay + by) / 2
            path.cubicTo(ax, mid, bx, mid, bx, by)
        else:
            mid = (ax + bx) / 2
            path.cubicTo(mid, ay, mid, by, bx, by)
    x, y = points[-1]
    if direction == "down":
        path.moveTo(x - 4, y - 7)
        path.lineTo(x, y)
        path.lineTo(x + 4, y - 7)
    else:
        path.moveTo(x - 7, y - 4)
        path.lineTo(x, y)
        path.lineTo(x - 7, y + 4)
    return path


Route = tuple[tuple[float, float], ...]


def update_arcs(scene: QGraphicsScene, arcs: list[QGraphicsPathItem], drawn: list[Route],
                paths: list[Route], direction: Direction) -> None:
    """Reshape the connections in ``arcs`` (drawn along ``drawn``) that moved, add or remove
    the rest (the items stay), so that they follow ``paths``."""
    for arc in arcs[len(paths):]:
        scene.removeItem(arc)
    del arcs[len(paths):]
    for index, points in enumerate(paths):
        if index >= len(arcs):
            item = QGraphicsPathItem(edge_path(points, direction))
            item.setPen(QPen(QColor("#c8553d"), 1.6))
            item.setZValue(-1)
            scene.addItem(item)
            arcs.append(item)
        elif index >= len(drawn) or drawn[index] != points:
            arcs[index].setPath(edge_path(points, direction))

"""The diagram's connections drawn as paths: curves along the flow with an arrowhead."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

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

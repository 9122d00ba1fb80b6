"""An edit or a new selection on the builder is painted once, after the views' layouts settle.

A QGraphicsScene takes in its moved and restyled items in a queued call that paints the whole
window there and then (QGraphicsView dispatches the window's update request in it). The diagram
follows the document first, so that call came before what the other views posted while
following the same change: the properties' layout requests for the form they show, the
deferred updates of its newly shown fields, the diagram's own scroll bars shown or hidden for
the new scene rect. The window was painted with those widgets where they were, then a second
time where they went (a delete on ResNet-152: a second pass of about 2 ms, and one frame with
the properties half laid out). Delivering those few posted events once every view has
followed the change leaves the scene's paint the only one.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QWidget

from app.document import ModelDocument


def settle_layouts(diagram: QWidget) -> None:
    """Deliver the layout requests and deferred updates posted so far, and the diagram's
    queued scroll-bar layout, before the event loop paints."""
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.UpdateLater)
    QCoreApplication.sendPostedEvents(diagram, QEvent.Type.MetaCall)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # (what those asked)


def paint_changes_once(document: ModelDocument, diagram: QWidget) -> None:
    """Settle the layouts after every view followed a change of the model or of its current
    layer: connect this after the views (their slots run in the order connected)."""
    document.changed.connect(lambda: settle_layouts(diagram))
    document.current_changed.connect(lambda _name: settle_layouts(diagram))

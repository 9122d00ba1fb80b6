"""Editing on the diagram: connecting blocks by dragging from a block's output port onto another
block, and dropping a palette item on a connection, through the window (issue 19, item 2, part)."""

from __future__ import annotations

import time

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from app import warm_up
from app.build.palette import TYPE_MIME
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.presets import load_preset
from tests.app.waits import settle
from tests.app.window_driver import Answerer


def open_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(load_preset("resnet18"))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.resize(1600, 900)
    window.show()
    settle()
    # the layered layout replaces the provisional one when the warm-up has loaded igraph: the
    # blocks move then (in the full suite a drag hovered conv1 where layer1_0_relu1 had been)
    warm_up.when_ready(lambda: None, start_now=True)
    qtbot.waitUntil(lambda: window.diagram._graph is not None
                    and window.diagram._graph.layout.exact, timeout=60_000)
    settle()
    return window


def _where(view: object, source: str) -> str:
    """What the pointer met, for a failed hover (seen only in the full suite)."""
    from PySide6.QtGui import QCursor

    block = view.blocks[source]  # type: ignore[attr-defined]
    center = view.mapFromScene(block.rect().center())  # type: ignore[attr-defined]
    item = view.itemAt(center)  # type: ignore[attr-defined]
    port = view.viewport()  # type: ignore[attr-defined]
    under = QApplication.widgetAt(port.mapToGlobal(center))
    return (f"block {block.rect()} scene {view.sceneRect()} "  # type: ignore[attr-defined]
            f"transform {view.transform().m11():.3f} "  # type: ignore[attr-defined]
            f"center {center} item {item and item.data(0)!r} ({type(item).__name__}) "
            f"viewport {port.geometry()} visible {port.isVisible()} "
            f"widget under {type(under).__name__} top {QApplication.topLevelWidgets()[:6]} "
            f"cursor {QCursor.pos()} grabber {QWidget.mouseGrabber()} "
            f"buttons {QApplication.mouseButtons()} conv1 {view.blocks['conv1'].rect()}"
            )  # type: ignore[attr-defined]


def drag(window: MainWindow, source: str, target: str) -> None:
    """Hover ``source`` (its port appears), press on the port, move onto ``target``, release."""
    view = window.diagram
    port = view.viewport()
    view.centerOn(view.blocks[source])
    settle()

    def at(point: QPointF) -> QPoint:
        return view.mapFromScene(point)

    def hover() -> bool:
        """The pointer onto the block where it is drawn now (a late resize of the window's
        docks recentres a drawing that fits: in the full suite a hover met conv1)."""
        center = at(view.blocks[source].rect().center())
        QTest.mouseMove(port, center + QPoint(3, 3))  # the pointer enters the view, the block
        QTest.mouseMove(port, center)
        settle(2)
        return bool(view.ports.source == source and view.ports.port.isVisible())

    deadline = time.monotonic() + 30
    while not hover() and time.monotonic() < deadline:
        QApplication.processEvents()
    assert view.ports.source == source and view.ports.port.isVisible(), _where(view, source)
    start = at(view.ports.port.pos())
    QTest.mousePress(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    end = at(view.blocks[target].rect().center())
    QTest.mouseMove(port, (start + end) / 2)
    assert view.ports.active and view.ports.line.isVisible()
    QTest.mouseMove(port, end)
    QTest.mouseRelease(port, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    settle()


def test_a_drag_onto_an_add_gives_it_one_more_input_in_one_undo_step(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    before = document.spec
    drag(window, "layer1_0_relu1", "layer1_0_add")
    assert document.spec.layer("layer1_0_add").inputs == ("layer1_0_bn2", "maxpool",
                                                           "layer1_0_relu1")
    assert document.analysis.ok
    assert len(window.diagram.arcs) == sum(len(document.spec.inputs_of(i))
                                           for i in range(len(document.spec.layers)))
    document.undo_stack.undo()
    assert document.spec == before


def test_a_drag_onto_a_one_input_block_asks_add_or_concat_and_creates_the_merge(
        qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document

    def concat(box: QWidget, _answerer: Answerer) -> None:
        assert isinstance(box, QMessageBox)
        next(b for b in box.buttons() if b.text().startswith("Concat")).click()

    with Answerer(handlers=[(QMessageBox, concat)]) as answerer:
        drag(window, "layer1_0_relu1", "layer1_0_bn2")
    assert answerer.seen and "layer1_0_bn2 reads one layer" in answerer.seen[0][1]
    spec = document.spec
    merge = spec.layers[spec.index("layer1_0_bn2") - 1]
    assert merge.type == "Concat" and merge.inputs == ("layer1_0_conv2", "layer1_0_relu1")
    assert spec.layer("layer1_0_bn2").inputs == (merge.name,)
    assert merge.name in window.diagram.blocks and document.current == merge.name
    document.undo_stack.undo()  # one step: the merge and the rewiring go together
    assert "Concat" not in {layer.type for layer in document.spec.layers}


def test_an_invalid_connection_is_refused_with_the_reason_and_the_model_unchanged(
        qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    before, steps = document.spec, document.undo_stack.count()
    with Answerer():  # the default answer: Add
        drag(window, "conv1", "layer1_0_conv2")  # 64×112×112 + 64×56×56 cannot be added
    assert document.spec == before and document.undo_stack.count() == steps
    assert window.diagram.refused.startswith("Not connected:") and "add" in \
        window.diagram.refused.lower()
    drag(window, "maxpool", "layer1_0_add")  # it reads maxpool already
    assert document.spec == before
    assert "already reads maxpool" in window.diagram.refused


def drop_on_edge(window: MainWindow, type_name: str, source: str, target: str) -> None:
    """A palette item dropped on the middle of the connection ``source`` → ``target``."""
    view = window.diagram
    arc = view.arcs[view.edge_names.index((source, target))]
    drop_at(window, type_name, arc.path().pointAtPercent(0.45))


def drop_at(window: MainWindow, type_name: str, point: QPointF) -> None:
    view = window.diagram
    view.centerOn(point)
    settle()
    mime = QMimeData()
    mime.setData(TYPE_MIME, type_name.encode())
    at = view.mapFromScene(point)
    buttons, keys = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(at, Qt.DropAction.CopyAction, mime, buttons, keys),
                  QDragMoveEvent(at, Qt.DropAction.CopyAction, mime, buttons, keys),
                  QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime, buttons, keys)):
        QApplication.sendEvent(view.viewport(), event)  # as a drag from the palette sends
    settle()


def test_a_palette_item_dropped_on_a_connection_is_inserted_on_it(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    before = document.spec
    # the downsample branch: maxpool-sized input → 1×1 conv; a BatchNorm inserted on it
    drop_on_edge(window, "BatchNorm2d", "layer1_1_relu2", "layer2_0_downsample")
    spec = document.spec
    name = document.current
    assert spec.layer(name).type == "BatchNorm2d"
    assert spec.layer(name).inputs == ("layer1_1_relu2",)
    assert spec.inputs_of(spec.index("layer2_0_downsample")) == (name,)
    assert spec.layer("layer2_0_conv1").inputs == ("layer1_1_relu2",)  # the other branch kept
    assert document.analysis.ok
    document.undo_stack.undo()
    assert document.spec == before
    # a merge dropped on a connection would read one layer: refused, the model unchanged
    drop_on_edge(window, "Add", "layer1_1_relu2", "layer2_0_downsample")
    assert document.spec == before and window.diagram.refused.startswith("Not inserted:")


def test_a_palette_item_dropped_on_empty_space_starts_a_branch_from_the_selected_block(
        qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    document.select("layer1_1_relu2")
    block = window.diagram.blocks["layer1_1_relu2"].rect()
    below = QPointF(block.center().x() + 30, block.bottom() + 400)  # empty, below the lanes
    assert not window.diagram.scene_.items(below)
    drop_at(window, "Conv2d", below)
    spec = document.spec
    name = document.current
    assert spec.layer(name).type == "Conv2d"
    assert spec.inputs_of(spec.index(name)) == ("layer1_1_relu2",)
    # what read the block before still does: the new layer is a branch beside it
    assert spec.inputs_of(spec.index("layer2_0_conv1")) == ("layer1_1_relu2",)
    layout_lanes = {window.diagram.blocks[n].rect().center().y() for n in (name, "layer2_0_conv1")}
    assert len(layout_lanes) == 2
    # dropped on a block: right after it, in its chain
    drop_at(window, "ReLU", window.diagram.blocks["layer2_0_bn1"].rect().center())
    names = [layer.name for layer in document.spec.layers]
    assert document.spec.layer(names[names.index("layer2_0_bn1") + 1]).type == "ReLU"


def click_edge(window: MainWindow, source: str, target: str) -> None:
    view = window.diagram
    arc = view.arcs[view.edge_names.index((source, target))]
    point = arc.path().pointAtPercent(0.45)
    view.centerOn(point)
    settle()
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view.mapFromScene(point))
    settle(2)


def test_a_connection_clicked_and_deleted_goes_and_undo_brings_it_back(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    before = document.spec
    click_edge(window, "maxpool", "layer1_0_add")  # the first block's identity skip
    assert window.diagram.selected_edge == ("maxpool", "layer1_0_add")
    window.diagram.setFocus()
    QTest.keyClick(window.diagram, Qt.Key.Key_Delete)
    settle()
    spec = document.spec
    # the add merged two layers: left with one, it goes, and its reader reads bn2
    assert "layer1_0_add" not in {layer.name for layer in spec.layers}
    assert spec.layer("layer1_0_relu2").inputs == ("layer1_0_bn2",)
    assert len(spec.layers) == len(before.layers) - 1 and document.analysis.ok
    document.undo_stack.undo()
    assert document.spec == before
    # a layer's only input cannot be deleted: said, and the model kept
    click_edge(window, "layer1_0_conv1", "layer1_0_bn1")
    QTest.keyClick(window.diagram, Qt.Key.Key_Delete)
    settle()
    assert document.spec == before
    assert "only input" in window.statusBar().currentMessage()

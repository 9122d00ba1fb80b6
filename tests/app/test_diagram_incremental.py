"""An edit changes the table rows and diagram items it concerns and nothing else, and what the
incremental path shows is exactly what a fresh build of the same model shows (issue 24)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.build.diagram import DiagramView
from app.build.layer_table import COLUMNS, LayerTableModel
from app.document import ModelDocument
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.presets import load_preset

ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.UserRole, Qt.ItemDataRole.ForegroundRole,
         Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.TextAlignmentRole)


def open_window(qtbot: QtBot, preset: str) -> MainWindow:
    window = MainWindow(load_preset(preset))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)  # normal text, whatever ran before
    window.resize(1600, 900)
    window.show()
    QApplication.processEvents()
    return window


@pytest.fixture
def resnet(qtbot: QtBot) -> MainWindow:
    return open_window(qtbot, "resnet18")


def drawing(view: DiagramView) -> dict[str, Any]:
    """Everything the diagram shows, without the items' identities."""
    blocks = {}
    for name, rect in view.blocks.items():
        label, shape = view.labels[name]
        pen = rect.pen()
        blocks[name] = (rect.rect().getRect(), rect.brush().color().name(QColor.NameFormat.HexArgb),
                        pen.color().name(), pen.widthF(), pen.style(), rect.toolTip(),
                        label.text(), label.pos().toTuple(), shape.text(), shape.pos().toTuple(),
                        label.font().pointSizeF(), label.brush().color().name())
    arcs = sorted(tuple((e.x, e.y) for e in (arc.path().elementAt(i)
                                             for i in range(arc.path().elementCount())))
                  for arc in view.arcs)
    return {"blocks": blocks, "arcs": arcs, "rect": view.scene_.sceneRect().getRect(),
            "items": len(view.scene_.items())}


def cell(value: Any) -> Any:
    return value.color().name() if isinstance(value, QBrush) else value


def table(model: LayerTableModel) -> list[list[tuple[Any, ...]]]:
    return [[tuple(cell(model.index(row, col).data(role)) for role in ROLES)
             for col in range(len(COLUMNS))] for row in range(model.rowCount())]


def fresh_views(window: MainWindow) -> tuple[DiagramView, LayerTableModel, ModelDocument]:
    """A diagram and a table model built from nothing on the same model (a new document, so
    a fresh analysis too)."""
    document = ModelDocument(window.document.spec)
    document.current = window.document.current
    view = DiagramView(document)
    view.setFont(window.diagram.font())
    view.setPalette(window.diagram.palette())
    view.new_model()
    view.blocks = {}  # not shown: draw now rather than when first shown
    view.rebuild()
    return view, LayerTableModel(document), document


def assert_as_fresh(window: MainWindow, step: str) -> None:
    view, model, document = fresh_views(window)
    try:
        assert drawing(window.diagram) == drawing(view), step
        assert table(window.table.table_model) == table(model), step
    finally:
        view.deleteLater()
        document.deleteLater()


def random_edit(window: MainWindow, rng: random.Random, step: int) -> str:
    document = window.document
    layers = document.spec.layers
    layer = rng.choice(layers)
    kind = rng.choice(["param", "param", "trainable", "rename", "remove", "add", "move",
                       "duplicate", "undo", "undo", "redo", "input"])
    if kind == "param":
        convs = [x for x in layers if x.type in ("Conv2d", "Linear")]
        if convs:
            target = rng.choice(convs)
            key = "out_channels" if target.type == "Conv2d" else "out_features"
            document.set_param(target.name, key, rng.choice([4, 8, 16, 64]))
            return f"{kind} {target.name}"
    if kind == "trainable":
        document.set_trainable(layer.name, not layer.trainable)
    elif kind == "rename":
        document.rename_layer(layer.name, f"{layer.name}_r{step}")
    elif kind == "remove" and len(layers) > 2:
        document.remove_layers([layer.name])
    elif kind == "add":
        document.add_layer(rng.choice(["ReLU", "BatchNorm2d", "Conv2d", "Dropout", "Flatten"]),
                           rng.randrange(len(layers) + 1))
    elif kind == "move":
        document.move_layer(layer.name, rng.randrange(len(layers)))
    elif kind == "duplicate":
        document.duplicate_layer(layer.name)
    elif kind == "undo":
        document.undo_stack.undo()
    elif kind == "redo":
        document.undo_stack.redo()
    elif kind == "input":
        shape = document.spec.input_shape
        document.set_input_shape((shape[0], *(rng.choice([28, 32, 64]) for _ in shape[1:])))
    return f"{kind} {layer.name}"


@pytest.mark.parametrize("preset", ["resnet18", "digits_small", "unet_small", "fcn_skips_digits"])
def test_random_edits_show_what_a_fresh_build_shows(qtbot: QtBot, preset: str) -> None:
    window = open_window(qtbot, preset)
    rng = random.Random(preset)
    done = []
    for step in range(40):
        done.append(random_edit(window, rng, step))
        window.document.select(rng.choice(window.document.spec.layers).name)
        assert_as_fresh(window, " → ".join(done))
    while window.document.undo_stack.canUndo():
        window.document.undo_stack.undo()
    assert_as_fresh(window, "all undone")


def test_undo_of_a_row_count_change_removes_and_inserts_one_row(resnet: MainWindow) -> None:
    model = resnet.table.table_model
    events: list[tuple[str, int, int]] = []
    model.modelReset.connect(lambda: events.append(("reset", -1, -1)))
    model.rowsRemoved.connect(lambda _p, a, b: events.append(("removed", a, b)))
    model.rowsInserted.connect(lambda _p, a, b: events.append(("inserted", a, b)))
    resnet.document.select("layer2_0_relu1")
    QApplication.processEvents()
    row = resnet.document.spec.index("layer2_0_relu1")
    resnet.table.verticalScrollBar().setValue(row - 4)  # the layer in the middle of the view
    scrolled = resnet.table.verticalScrollBar().value()
    resnet.document.remove_layers(["layer2_0_relu1"])
    resnet.document.undo_stack.undo()
    assert resnet.document.current == "layer2_0_relu1"
    assert events == [("removed", row, row), ("inserted", row, row)]
    assert (resnet.table.verticalScrollBar().value(), scrolled) == (scrolled, scrolled)
    assert model.rowCount() == len(resnet.document.spec.layers)
    assert model.index(row, 1).data() == "layer2_0_relu1"
    assert model.index(row, 0).data() == str(row + 1)


def rows_read(window: MainWindow, layer: str, edit: Any) -> tuple[set[int], set[int]]:
    """The rows announced by ``dataChanged`` for ``edit`` of ``layer`` (selected before, as
    the property editor's edits are) and the rows whose data() the view read while
    repainting after it."""
    window.document.select(layer)
    model = window.table.table_model
    announced: set[int] = set()
    read: set[int] = set()

    def changed(a: QModelIndex, b: QModelIndex, _roles: object = ()) -> None:
        announced.update(range(a.row(), b.row() + 1))

    model.dataChanged.connect(changed)
    real = model.data

    def spy(index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        read.add(index.row())
        return real(index, role)

    QTest.qWait(200)  # the selection's repaint, scroll and the views' delayed layouts
    size = window.table.viewport().size()
    model.data = spy  # type: ignore[method-assign]
    try:
        edit()
        QApplication.processEvents()  # the event loop repaints what the edit made dirty
    finally:
        model.data = real  # type: ignore[method-assign]
        model.dataChanged.disconnect(changed)
    if window.table.viewport().size() != size:
        # the window's layout gave the table another size (a longer totals line wrapped, as
        # after the projector-text tests' saved dock sizes): a resize repaints it whole
        read = set()
    return announced, read


@pytest.mark.parametrize("preset", ["resnet18", "resnet34"])
def test_a_one_layer_edit_announces_and_repaints_only_its_row(qtbot: QtBot, preset: str) -> None:
    window = open_window(qtbot, preset)
    document = window.document
    name = next(x.name for x in document.spec.layers[8:] if x.type == "Conv2d")
    row = document.spec.index(name)
    window.table.scrollTo(window.table.table_model.index(row, 0))
    last = len(document.spec.layers) - 1
    for layer, edit, target in (
            (name, lambda: document.set_param(name, "bias", True), row),
            ("fc", lambda: document.set_trainable("fc", False), last),
            ("fc", lambda: document.rename_layer("fc", "fd"), last)):
        announced, read = rows_read(window, layer, edit)
        assert announced == {target}, (layer, target)
        # the row, and a neighbour its update rectangle touches by a pixel (not the ~25 rows
        # on screen a reset or a whole-model read repaints)
        assert read <= {target - 1, target, target + 1}, (layer, target)


def test_the_diagram_keeps_its_items_across_structural_edits(resnet: MainWindow) -> None:
    view = resnet.diagram
    ids = {name: (id(block), id(view.labels[name][0])) for name, block in view.blocks.items()}
    arcs = [id(arc) for arc in view.arcs]
    document = resnet.document
    document.rename_layer("fc", "classifier")
    document.remove_layers(["layer4_1_relu2"])
    document.add_layer("Dropout", document.spec.index("avgpool"))
    document.undo_stack.undo()
    document.undo_stack.undo()
    kept = {name for name, key in ids.items() if name in view.blocks and
            (id(view.blocks[name]), id(view.labels[name][0])) == key}
    assert kept == set(ids) - {"fc", "layer4_1_relu2"}
    # the connections' items are reshaped, not drawn anew: a layer removed and one added
    # replace at most the last two
    now = [id(arc) for arc in view.arcs]
    assert len(now) == len(arcs) and sum(a == b for a, b in zip(now, arcs, strict=True)) >= \
        len(arcs) - 2
    assert "classifier" in view.blocks and "fc" not in view.blocks
    assert_as_fresh(resnet, "rename, remove, add, undo ×2")

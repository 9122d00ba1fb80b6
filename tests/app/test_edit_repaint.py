"""An edit repaints what it changed (issue 24): the properties keep their built forms and touch
only the fields whose values changed; the views see the layer an edit selects at once; the
table's rows follow a delete by the rows between what stayed."""

from __future__ import annotations

import difflib
import random
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QSpinBox, QWidget
from pytestqt.qtbot import QtBot

from app.build.layer_table import row_edits
from app.build.property_editor import FORMS_KEPT
from app.build.property_fields import ScalarField, SizeField
from app.main_window import MainWindow
from core.presets import load_preset
from tests.app.waits import settle


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow(load_preset("resnet18"))
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def click_row(window: MainWindow, name: str) -> None:
    """Click the layer's row in the table, as a user selects it."""
    table = window.table
    index = table.table_model.index(window.document.spec.index(name), 1)
    table.scrollTo(index)
    settle()
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton,
                     pos=table.visualRect(index).center())
    assert window.document.current == name


def test_a_delete_and_its_undo_show_the_kept_forms_again(window: MainWindow,
                                                          qtbot: QtBot) -> None:
    """Deleting a ReLU selects the conv after it and undoing selects the ReLU again: both
    forms are the ones built before, the same widgets (a rebuilt form cost a third of a
    delete's time on ResNet-152 and lost the fields' state)."""
    editor = window.editor
    click_row(window, "layer1_0_relu1")
    relu = editor.form_widget
    click_row(window, "layer1_0_conv2")
    conv, conv_fields = editor.form_widget, dict(editor.fields)
    click_row(window, "layer1_0_relu1")
    assert editor.form_widget is relu
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert "layer1_0_relu1" not in {layer.name for layer in window.document.spec.layers}
    assert window.document.current == "layer1_0_conv2"
    assert editor.form_widget is conv and editor.fields == conv_fields
    assert all(editor.fields[k] is conv_fields[k] for k in conv_fields)
    assert conv.isVisible() and not relu.isVisible()
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.current == "layer1_0_relu1"
    assert editor.form_widget is relu and relu.isVisible() and not conv.isVisible()
    assert editor.name_edit.text() == "layer1_0_relu1"
    # the panel is as large as the form it shows, not the largest form kept
    assert editor.body.minimumSizeHint().height() < conv.sizeHint().height() + \
        editor.explanation.minimumHeight() + editor.title.sizeHint().height() + 60


def test_an_undo_sets_only_the_field_it_changes(window: MainWindow, qtbot: QtBot,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    click_row(window, "layer1_0_conv1")
    box = window.editor.fields["out_channels"].widget  # type: ignore[union-attr]
    assert isinstance(box, QSpinBox)
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "32")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert window.document.spec.layer("layer1_0_conv1").params["out_channels"] == 32
    set_fields: list[str] = []
    for cls in (SizeField, ScalarField):
        real = cls.set_value

        def spy(field: Any, value: Any, real: Any = real) -> None:
            set_fields.append(field.spec.name)
            real(field, value)

        monkeypatch.setattr(cls, "set_value", spy)
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.spec.layer("layer1_0_conv1").params["out_channels"] == 64
    assert box.value() == 64
    # not kernel_size, stride, padding, dilation, groups, bias and padding_mode again
    assert set_fields == ["out_channels"]
    # another conv of the same kind shows its own values in the same fields
    kernel = window.editor.fields["kernel_size"]
    click_row(window, "conv1")
    assert window.editor.fields["kernel_size"] is kernel
    assert kernel.value() == 7 and box.value() == 64


def test_the_views_see_the_layer_an_edit_selects(window: MainWindow, qtbot: QtBot) -> None:
    """While the views follow an edit they see the layer it selects (the undo of a delete
    selects the restored layer): each draws the new model with its selection once."""
    document = window.document
    seen: list[str] = []
    document.changed.connect(lambda: seen.append(document.current))
    click_row(window, "layer1_0_relu1")
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert seen == ["layer1_0_conv2", "layer1_0_relu1"]
    assert window.table.currentIndex().row() == document.spec.index("layer1_0_relu1")
    assert window.editor.name_edit.text() == "layer1_0_relu1"
    assert window.diagram._selected == "layer1_0_relu1"


def test_the_forms_kept_are_bounded(window: MainWindow) -> None:
    """Layers of more kinds than are kept: the least recently shown forms go."""
    document = window.document
    kinds = ["Dropout", "GELU", "Sigmoid", "Tanh", "LeakyReLU", "Identity", "SiLU", "ELU"]
    for kind in kinds:
        assert document.add_layer(kind, document.spec.index("fc"))
    for layer in document.spec.layers[-len(kinds) - 8:]:
        click_row(window, layer.name)
    editor = window.editor
    assert len(editor._forms) == FORMS_KEPT
    assert editor.form_widget in [form.widget for form in editor._forms.values()]
    QApplication.sendPostedEvents(None, 52)  # QEvent.DeferredDelete: the dropped forms go
    containers = [w for w in editor.body.children() if isinstance(w, QWidget) and
                  w.layout() is not None and w.layout().objectName() == "" and
                  w is not editor.explanation and w.findChild(QWidget) is not None]
    assert len(containers) <= FORMS_KEPT + 1  # and the empty form shown with no layer
    document.undo_stack.setClean()


def test_row_edits_turn_the_old_rows_into_the_new() -> None:
    """What the table removes and inserts on an edit turns the old names into the new ones,
    as difflib's full comparison does."""
    rng = random.Random(24)
    for _ in range(500):
        old = [f"l{i}" for i in range(rng.randint(0, 14))]
        new = list(old)
        for _ in range(rng.randint(0, 3)):
            step = rng.random()
            if step < 0.35 and new:
                del new[rng.randrange(len(new))]
            elif step < 0.7:
                new.insert(rng.randint(0, len(new)), f"x{rng.randint(0, 99)}")
            elif new:
                new[rng.randrange(len(new))] = f"r{rng.randint(0, 99)}"
        edits = row_edits(old, new)
        rows = list(old)
        for _tag, i1, i2, j1, j2 in reversed(edits):
            rows[i1:i2] = new[j1:j2]
        assert rows == new, (old, new, edits)
        full = [op for op in difflib.SequenceMatcher(None, old, new, autojunk=False)
                .get_opcodes() if op[0] != "equal"]
        assert len(edits) <= max(1, len(full))


def test_a_value_edit_restyles_its_block_and_places_nothing(window: MainWindow, qtbot: QtBot,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Toggling a conv's bias keeps every block's size: no block is placed or moved again,
    and the drawing is what a fresh one shows."""
    import app.build.diagram as diagram_module
    from tests.app.test_diagram_incremental import assert_as_fresh

    click_row(window, "layer1_0_conv1")
    placements: list[int] = []
    real_place = diagram_module.graph_layout.place
    monkeypatch.setattr(diagram_module.graph_layout, "place",
                        lambda *a, **k: placements.append(1) or real_place(*a, **k))
    view = window.diagram
    before = {name: (block.rect(), view.labels[name][0].pos()) for name, block in
              view.blocks.items()}
    bias = window.editor.fields["bias"].widget  # type: ignore[union-attr]
    qtbot.mouseClick(bias, Qt.MouseButton.LeftButton, pos=QPoint(8, bias.height() // 2))
    assert window.document.spec.layer("layer1_0_conv1").params["bias"] is True
    assert placements == []
    after = {name: (block.rect(), view.labels[name][0].pos()) for name, block in
             view.blocks.items()}
    assert after == before
    assert_as_fresh(window, "bias on")
    placements.clear()  # (the fresh drawing placed its blocks)
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.spec.layer("layer1_0_conv1").params["bias"] is False
    assert placements == []
    window.document.set_param("layer1_0_conv1", "out_channels", 80)  # a wider block
    assert placements == [1]
    assert_as_fresh(window, "out_channels 80")
    window.document.undo_stack.setClean()


def test_a_delete_is_painted_once_with_the_layouts_settled(window: MainWindow,
                                                           qtbot: QtBot) -> None:
    """Deleting a ReLU shows the conv's form, rewrites the totals and shortens the diagram:
    each of them is painted once, where the layouts put it (the diagram's scene painted the
    window before the properties' layout requests were taken in, then again after: a second
    paint pass, ~2 ms on ResNet-152, and a frame with the properties half laid out)."""
    from PySide6.QtCore import QEvent, QObject

    click_row(window, "layer1_0_relu1")
    click_row(window, "layer1_0_conv2")  # the conv's form is built, then hidden again
    click_row(window, "layer1_0_relu1")
    settle()
    diagram, editor = window.diagram, window.editor
    painted: dict[QObject, int] = {}

    class Paints(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                painted[watched] = painted.get(watched, 0) + 1
            return False

    paints = Paints()
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(paints)
    try:
        qtbot.keyClick(window.table, Qt.Key.Key_Delete)
        for _ in range(3):  # the event loop's turns that paint what the delete changed
            QApplication.processEvents()
    finally:
        app.removeEventFilter(paints)
    assert window.document.current == "layer1_0_conv2"
    watched = {"totals": window.totals, "properties' name": editor.name_edit,
               "properties' inputs": editor.inputs_edit,
               "diagram's scroll bar": diagram.horizontalScrollBar()}
    assert {name: painted.get(widget, 0) for name, widget in watched.items()} == \
        dict.fromkeys(watched, 1)
    window.document.undo_stack.setClean()

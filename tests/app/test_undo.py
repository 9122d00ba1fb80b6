"""Undo that always works: from any focus, every view follows, distinct edits stay distinct."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox
from pytestqt.qtbot import QtBot

from app.build.property_fields import SizeField
from app.main_window import MainWindow
from core.presets import load_preset


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.document.select("conv1")
    return w


def kernel_box(window: MainWindow) -> QSpinBox:
    field = window.editor.fields["kernel_size"]
    assert isinstance(field, SizeField)
    return field.boxes[0]  # type: ignore[return-value]


def type_value(qtbot: QtBot, box: QSpinBox, text: str) -> None:
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)


def test_ctrl_z_in_a_focused_field_undoes_the_document(window: MainWindow, qtbot: QtBot) -> None:
    box = kernel_box(window)
    type_value(qtbot, box, "5")
    assert window.document.spec.layer("conv1").params["kernel_size"] == 5
    assert box.hasFocus() or box.lineEdit().hasFocus()
    steps = window.document.undo_stack.index()
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.document.spec.layer("conv1").params["kernel_size"] == 3
    # the document's undo ran (not the text box's own, which would add a new edit)
    assert window.document.undo_stack.index() == steps - 1
    assert box.value() == 3
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.document.spec.layer("conv1").params["kernel_size"] == 5
    assert window.document.undo_stack.index() == steps


def test_the_focused_field_shows_the_undone_value(window: MainWindow, qtbot: QtBot) -> None:
    box = kernel_box(window)
    type_value(qtbot, box, "7")
    assert box.value() == 7
    window.undo_action.trigger()  # Edit → Undo while the field keeps the focus
    assert window.document.spec.layer("conv1").params["kernel_size"] == 3
    assert box.value() == 3
    window.redo_action.trigger()
    assert box.value() == 7


def test_input_shape_fields_follow_undo(window: MainWindow, qtbot: QtBot) -> None:
    height = window.shape_bar.spins[1]
    type_value(qtbot, height, "12")
    assert window.document.spec.input_shape == (1, 12, 8)
    window.undo_action.trigger()
    assert window.document.spec.input_shape == (1, 8, 8)
    assert height.value() == 8


def test_distinct_edits_of_one_field_are_distinct_undo_steps(window: MainWindow,
                                                             qtbot: QtBot) -> None:
    box = window.editor.fields["out_channels"].widget  # type: ignore[union-attr]
    assert box.value() == 16
    type_value(qtbot, box, "3")
    box.editingFinished.emit()  # Enter (or leaving the field) ends the edit
    type_value(qtbot, box, "40")  # two keystrokes: one step
    box.editingFinished.emit()
    type_value(qtbot, box, "3")
    box.editingFinished.emit()
    stack = window.document.undo_stack
    window.undo_action.trigger()
    assert window.document.spec.layer("conv1").params["out_channels"] == 40
    assert box.value() == 40
    window.undo_action.trigger()
    assert window.document.spec.layer("conv1").params["out_channels"] == 3
    window.undo_action.trigger()
    assert window.document.spec.layer("conv1").params.get("out_channels") == 16
    assert not stack.canUndo()


def test_an_edit_typed_back_to_its_start_leaves_no_empty_step(window: MainWindow,
                                                              qtbot: QtBot) -> None:
    box = window.editor.fields["out_channels"].widget  # type: ignore[union-attr]
    type_value(qtbot, box, "160")  # 1 → 16 → 160, then back to 16: nothing changed
    box.lineEdit().backspace()
    assert window.document.spec.layer("conv1").params["out_channels"] == 16
    assert not window.document.undo_stack.canUndo()

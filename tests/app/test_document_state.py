"""One owner of the current model, its weights and its run: every view follows it."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.main_window import MainWindow


def test_opening_a_preset_while_the_name_field_has_focus_keeps_the_preset_name(
        qtbot: QtBot) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    name = w.shape_bar.name
    name.setFocus()
    qtbot.waitUntil(name.hasFocus, timeout=2000)
    w.open_preset("lenet5")  # File → Presets → lenet-5, the field still focused
    w.table.setFocus()  # focus leaves the field: editingFinished
    qtbot.waitUntil(lambda: not name.hasFocus(), timeout=2000)
    assert w.document.spec.name == "lenet-5"
    assert name.text() == "lenet-5"
    assert not w.document.dirty
    assert w.windowTitle() == "ConvScope — lenet-5"


def test_typing_a_name_still_renames_the_model(qtbot: QtBot) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    name = w.shape_bar.name
    qtbot.keyClicks(name, "-v2")
    name.editingFinished.emit()
    assert w.document.spec.name.endswith("-v2")
    assert w.document.dirty

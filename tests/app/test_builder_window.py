"""The builder window, driven through its real widgets offscreen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.build.layer_table import LAYER_MIME
from app.build.palette import TYPE_MIME
from app.build.property_fields import ScalarField, SizeField
from app.main_window import MainWindow
from core.model.editing import empty_model
from core.model.spec import load_model
from core.presets import load_preset


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow(empty_model("mnist", (1, 28, 28)))
    qtbot.addWidget(w)
    w.show()
    return w


def add_from_palette(window: MainWindow, type_name: str) -> None:
    """Double-click-equivalent: activate the palette item of ``type_name``."""
    tree = window.palette_widget.tree
    for i in range(tree.topLevelItemCount()):
        top = tree.topLevelItem(i)
        for j in range(top.childCount()):
            if top.child(j).text(0) == type_name:
                tree.itemActivated.emit(top.child(j), 0)
                return
    raise AssertionError(type_name)


def set_field(window: MainWindow, key: str, value: int | float) -> None:
    field = window.editor.fields[key]
    if isinstance(field, SizeField):
        field.boxes[0].setValue(value)
    else:
        assert isinstance(field, ScalarField)
        field.widget.setValue(value)  # type: ignore[attr-defined]


def build_keras_mnist(window: MainWindow) -> None:
    steps = [("Conv2d", {"out_channels": 32, "kernel_size": 3}), ("ReLU", {}),
             ("MaxPool2d", {"kernel_size": 2}), ("Conv2d", {"out_channels": 64,
                                                            "kernel_size": 3}),
             ("ReLU", {}), ("MaxPool2d", {"kernel_size": 2}), ("Flatten", {}),
             ("Dropout", {"p": 0.5}), ("Linear", {"out_features": 10})]
    for type_name, values in steps:
        add_from_palette(window, type_name)
        for key, value in values.items():
            set_field(window, key, value)


def test_keras_mnist_built_through_the_ui_has_34826_parameters(window: MainWindow) -> None:
    build_keras_mnist(window)
    assert "Parameters 34,826" in window.totals.text()
    assert "trainable 34,826" in window.totals.text()
    model = window.table.table_model
    assert model.rowCount() == 9
    assert model.index(3, 4).data() == "64×11×11"
    assert model.index(3, 5).data() == "18,496"
    assert window.windowTitle() == "ConvScope — mnist*"


def test_invalid_kernel_is_marked_on_its_layer_and_fixing_clears_it(window: MainWindow) -> None:
    build_keras_mnist(window)
    window.document.select("conv2")
    set_field(window, "kernel_size", 15)
    model = window.table.table_model
    assert model.row_state(3) == "error"
    assert "15×15 kernel is larger than its 13×13 input" in model.index(3, 6).data()
    assert model.index(5, 6).data() == "not analysed"
    assert "larger than its 13×13 input" in window.editor.error.text()
    assert "⚠ conv2" in window.totals.text()
    # the rest stays editable: change a later layer while conv2 is invalid
    window.document.select("fc1")
    set_field(window, "out_features", 5)
    assert window.document.spec.layer("fc1").params["out_features"] == 5
    window.document.select("conv2")
    set_field(window, "kernel_size", 3)
    assert window.document.analysis.ok
    assert model.index(3, 6).data() == ""
    assert "Parameters 26,821" in window.totals.text()


def test_undo_and_redo_round_trip(window: MainWindow) -> None:
    build_keras_mnist(window)
    final = window.document.spec
    stack = window.document.undo_stack
    assert window.undo_action.text() == "&Undo Add Linear fc1"
    window.document.select("conv1")
    set_field(window, "out_channels", 8)
    assert window.undo_action.text() == "&Undo Change out_channels of conv1"
    set_field(window, "out_channels", 32)
    while stack.canUndo():
        window.undo_action.trigger()
    assert window.document.spec.layers == ()
    assert not window.document.dirty
    while stack.canRedo():
        window.redo_action.trigger()
    assert window.document.spec == final
    assert "Parameters 34,826" in window.totals.text()


def test_typing_in_a_spin_box_is_one_undo_step(window: MainWindow, qtbot: QtBot) -> None:
    add_from_palette(window, "Conv2d")
    box = window.editor.fields["out_channels"].widget  # type: ignore[union-attr]
    box.selectAll()
    qtbot.keyClicks(box, "128")
    assert window.document.spec.layers[0].params["out_channels"] == 128
    window.undo_action.trigger()
    assert window.document.spec.layers[0].params["out_channels"] == 16


def test_save_reopen_gives_the_identical_model(window: MainWindow, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    build_keras_mnist(window)
    target = tmp_path / "mine.json"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "mine"), ""))
    assert window.files.save()
    assert window.windowTitle() == "ConvScope — mnist"
    assert json.loads(target.read_text())["format"] == "convscope.model/1"
    saved = window.document.spec
    window.files.new_model()
    assert window.document.spec.layers == ()
    assert window.open_file(target)
    assert window.document.spec == saved == load_model(target)
    assert target.resolve() in window.settings.recent_files()


def test_a_bad_file_gets_a_message_and_keeps_the_model(window: MainWindow, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    build_keras_mnist(window)
    before = window.document.spec
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    shown = []
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.warning",
                        lambda _p, title, text: shown.append(text))
    discard = QMessageBox.StandardButton.Discard
    monkeypatch.setattr(window.files, "ask_save_changes", lambda: discard)
    assert not window.open_file(bad)
    assert "not valid JSON" in shown[0]
    assert window.document.spec == before


def test_closing_with_unsaved_changes_asks(window: MainWindow,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    add_from_palette(window, "ReLU")
    asked = []

    def cancel() -> QMessageBox.StandardButton:
        asked.append(1)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(window.files, "ask_save_changes", cancel)
    assert not window.close()
    assert asked and window.isVisible()
    discard = QMessageBox.StandardButton.Discard
    monkeypatch.setattr(window.files, "ask_save_changes", lambda: discard)
    assert window.close()


def test_autosave_is_offered_after_a_crash(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    crashed = MainWindow(empty_model("lost-work"))
    qtbot.addWidget(crashed)
    add_from_palette(crashed, "Conv2d")
    add_from_palette(crashed, "ReLU")
    crashed.unsaved_work.write()
    assert crashed.unsaved_work.autosave.path.exists()
    expected = crashed.document.spec
    crashed.unsaved_work.timer.stop()  # the process "dies": no close event, the autosave stays
    crashed.unsaved_work.autosave.release_lock()  # and the OS drops its lock

    restarted = MainWindow()
    qtbot.addWidget(restarted)
    offered = []
    monkeypatch.setattr(restarted.unsaved_work, "ask_restore", lambda r: offered.append(r) or True)
    restarted.unsaved_work.offer_recovery()
    assert offered and offered[0].spec == expected
    assert restarted.document.spec == expected
    assert restarted.document.dirty
    assert restarted.unsaved_work.autosave.pending() == []
    crashed.document.undo_stack.setClean()


def test_keyboard_delete_duplicate_and_move(window: MainWindow, qtbot: QtBot) -> None:
    build_keras_mnist(window)
    window.document.select("conv2")
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    names = [layer.name for layer in window.document.spec.layers]
    assert names[3:5] == ["conv2", "conv3"]
    assert window.document.current == "conv3"
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert "conv3" not in [layer.name for layer in window.document.spec.layers]
    window.document.select("dropout1")
    qtbot.keyClick(window.table, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    names = [layer.name for layer in window.document.spec.layers]
    assert names.index("dropout1") < names.index("flatten1")


def test_drag_from_palette_and_reorder_by_drop(window: MainWindow) -> None:
    build_keras_mnist(window)
    model = window.table.table_model
    data = QMimeData()
    data.setData(TYPE_MIME, b"BatchNorm2d")
    model.dropMimeData(data, Qt.DropAction.CopyAction, 1, 0, model.index(-1, -1))
    assert window.document.spec.layers[1].type == "BatchNorm2d"
    assert window.document.analysis.ok
    move = QMimeData()
    move.setData(LAYER_MIME, b"fc1")
    model.dropMimeData(move, Qt.DropAction.CopyAction, 0, 0, model.index(-1, -1))
    assert window.document.spec.layers[0].name == "fc1"
    # a Linear layer on an image acts on its last dimension: 1×28×28 → 1×28×10
    assert model.index(0, 4).data() == "1×28×10"


def test_a_palette_type_dropped_on_the_diagram_inserts_there(window: MainWindow) -> None:
    build_keras_mnist(window)
    from app.build.diagram_connect import insert_by_position

    view = window.diagram
    centre = view.blocks["pool1"].rect().center()
    insert_by_position(view, "BatchNorm2d", centre.x() if view.direction == "right" else centre.y())
    names = [layer.name for layer in window.document.spec.layers]
    assert names[names.index("pool1") + 1] == "bn1"
    assert window.document.analysis.ok


def test_palette_search_filters(window: MainWindow) -> None:
    window.palette_widget.search.setText("pool")
    visible = window.palette_widget.visible_types()
    assert "MaxPool2d" in visible and "Conv2d" not in visible
    window.palette_widget.search.setText("")
    assert "Conv2d" in window.palette_widget.visible_types()


def test_rename_updates_references_and_refuses_duplicates(qtbot: QtBot) -> None:
    w = MainWindow(load_preset("resnet18"))
    qtbot.addWidget(w)
    w.document.select("maxpool")
    w.editor.name_edit.setText("stem_pool")
    w.editor.name_edit.editingFinished.emit()
    assert w.document.spec.layer("layer1_0_add").inputs == ("layer1_0_bn2", "stem_pool")
    w.editor.name_edit.setText("conv1")
    w.editor.name_edit.editingFinished.emit()
    assert "already used" in w.statusBar().currentMessage()
    assert w.document.current == "stem_pool"


def test_diagram_draws_skip_connections_selects_and_exports(qtbot: QtBot, tmp_path: Path) -> None:
    w = MainWindow(load_preset("resnet18"))
    qtbot.addWidget(w)
    w.show()
    assert len(w.diagram.blocks) == len(w.document.spec.layers) + 1
    spec = w.document.spec
    # every connection is drawn; a downsample branch runs beside the block's main path, and
    # the add that merges them comes after both
    assert len(w.diagram.arcs) == sum(len(spec.inputs_of(i)) for i in range(len(spec.layers)))
    down, main = (w.diagram.blocks[n].rect() for n in ("layer2_0_downsample", "layer2_0_conv1"))
    assert down.center().x() == main.center().x() and down.center().y() != main.center().y()
    assert w.diagram.blocks["layer2_0_add"].rect().left() > max(
        w.diagram.blocks[n].rect().right() for n in ("layer2_0_bn2", "layer2_0_downsample_bn"))
    block = w.diagram.blocks["layer2_0_conv1"]
    w.diagram.centerOn(block)
    point = w.diagram.mapFromScene(block.sceneBoundingRect().center())
    qtbot.mouseClick(w.diagram.viewport(), Qt.MouseButton.LeftButton, pos=point)
    assert w.document.current == "layer2_0_conv1"
    w.diagram.export(tmp_path / "d.png")
    w.diagram.export(tmp_path / "d.svg")
    assert (tmp_path / "d.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "d.svg").read_text()


def test_input_shape_edit_reanalyses(window: MainWindow) -> None:
    build_keras_mnist(window)
    window.shape_bar.spins[1].setValue(32)
    window.shape_bar.spins[2].setValue(32)
    assert window.document.spec.input_shape == (1, 32, 32)
    assert window.table.table_model.index(6, 4).data() == "2304"
    assert window.diagram.labels["flatten1"][1].text() == "2304"  # redrawn in place


def test_copy_summary_and_font_size(window: MainWindow) -> None:
    from PySide6.QtGui import QGuiApplication

    build_keras_mnist(window)
    window.edits.copy_markdown()
    assert "| conv1 (Conv2d) | 32×26×26 | 320 |" in QGuiApplication.clipboard().text()
    window.edits.copy_text()
    assert "Total params: 34,826" in QGuiApplication.clipboard().text()
    window.set_font_size(0, 24)
    assert window.font().pointSize() == 24
    assert window.table.font().pointSize() == 24
    window.set_font_size(0, 10)


def test_default_window_opens_the_digits_preset(qtbot: QtBot) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    assert w.windowTitle() == "ConvScope — digits-small"
    assert w.document.analysis.ok


def test_convscope_without_a_command_opens_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.main
    from app.launcher import main

    opened = []
    monkeypatch.setattr(app.main, "run_gui", lambda args: opened.append(args) or 0)
    assert main([]) == 0 and opened
    assert main(["model.json"]) == 0 and opened[-1].model_file == "model.json"


def test_a_half_connected_model_saves_and_reopens(window: MainWindow, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    add_from_palette(window, "Conv2d")
    add_from_palette(window, "Add")  # only one layer above: the Add cannot merge yet
    assert window.table.table_model.row_state(1) == "error"
    assert "merges two or more layers" in window.document.analysis.error.reason
    target = tmp_path / "half.json"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(target), ""))
    assert window.files.save()
    window.files.new_model()
    assert window.open_file(target)
    assert window.document.analysis.error.layer == "add1"


def test_out_of_range_values_in_a_file_do_not_break_the_editor(window: MainWindow,
                                                               tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({
        "format": "convscope.model/1", "name": "huge", "input": {"shape": [1, 3000000000, 8]},
        "layers": [{"name": "c", "type": "Conv2d", "out_channels": 3000000000,
                    "kernel_size": 3}]}))
    assert window.open_file(path)
    window.document.select("c")
    window.editor.refresh()
    window.shape_bar.refresh()
    assert "out_channels must be" in window.document.analysis.error.reason

"""The diagram's block edits from the Edit menu (enabled only when they apply), renaming a group
(F2, a double-click on its name, the right-click menu) and groups that are not runs of the file:
parallel branches (issue 19, item 2)."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QToolTip, QWidget
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.model.spec import load_model
from core.presets import load_preset
from tests.app.test_diagram_editing import (
    BLOCK,
    LEFT,
    NONE,
    at,
    click,
    shift_click_all,
)
from tests.app.test_diagram_editing import open_window as open_resnet
from tests.app.waits import settle
from tests.app.window_driver import Answerer, menu_action

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "inception_module.json"
B2 = ["b2_reduce", "b2_relu", "b2"]
B4 = ["b4_pool", "b4"]
MENU = ("Edit → Copy Layers", "Edit → Paste Layers", "Edit → Group Layers…", "Edit → Ungroup",
        "Edit → Rename Group…")


def answer(text: str) -> Answerer:
    """Answers the name dialog (Group… or Rename Group…) with ``text``."""
    def fill(dialog: QWidget, _answerer: Answerer) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue(text)
        dialog.accept()
    return Answerer(handlers=[(QInputDialog, fill)])


def key(window: MainWindow, key_: Qt.Key,
        keys: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
        widget: QWidget | None = None) -> None:
    """A key pressed on the diagram (or ``widget``), the window active as after a dialog
    closes (the offscreen platform leaves it inactive, and a window's shortcuts need it)."""
    target = widget or window.diagram
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    target.setFocus()
    QTest.keyClick(target, key_, keys)
    settle()


def right_click(window: MainWindow, name: str, choose: str) -> list[str]:
    """Right-click block ``name`` and pick the item ``choose`` (the menu closed, and nothing
    picked, when it has no such item); returns the menu's items."""
    view = window.diagram
    point = at(window, name)
    seen: list[str] = []

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, pick)
            return
        seen.extend(a.text() for a in menu.actions())
        chosen = [a for a in menu.actions() if a.text().split("\t")[0] == choose]
        menu.close()
        if chosen:
            chosen[0].trigger()

    QTimer.singleShot(20, pick)
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, point, view.viewport().mapToGlobal(point)))
    settle()
    return seen


def enabled(window: MainWindow) -> dict[str, bool]:
    return {path.split(" → ")[1]: menu_action(window, path).isEnabled() for path in MENU}


def test_the_edit_menu_copies_pastes_groups_and_ungroups_the_selection_one_step_each(
        qtbot: QtBot) -> None:
    QGuiApplication.clipboard().clear()
    window = open_resnet(qtbot)
    document, view = window.document, window.diagram
    before, steps = document.spec, document.undo_stack.count()
    click(window, "conv1")
    assert enabled(window) == {"Copy Layers": True, "Paste Layers": False,
                               "Group Layers…": False, "Ungroup": False,
                               "Rename Group…": False}
    shift_click_all(window, BLOCK)
    assert enabled(window)["Group Layers…"]
    with answer("block_a"):
        menu_action(window, "Edit → Group Layers…").trigger()
        settle()
    assert [(g.name, g.layers) for g in document.spec.groups] == [("block_a", tuple(BLOCK))]
    assert view.editor.selection == ["block_a"] and "block_a" in view.blocks
    assert document.undo_stack.count() == steps + 1
    assert enabled(window)["Ungroup"] and enabled(window)["Rename Group…"]
    menu_action(window, "Edit → Copy Layers").trigger()
    settle()
    assert enabled(window)["Paste Layers"]  # the clipboard holds layers now
    menu_action(window, "Edit → Paste Layers").trigger()
    settle()
    assert len(document.spec.layers) == len(before.layers) + len(BLOCK)
    assert len(document.spec.groups) == 2  # the copied group came with its layers
    pasted = document.spec.groups[1].name
    assert view.editor.selection == [pasted] and document.undo_stack.count() == steps + 2
    menu_action(window, "Edit → Ungroup").trigger()
    settle()
    assert [g.name for g in document.spec.groups] == ["block_a"]
    assert document.undo_stack.count() == steps + 3
    assert not enabled(window)["Ungroup"]  # the selection is the pasted layers, no group
    for _ in range(3):
        document.undo_stack.undo()
    assert document.spec == before


def test_ctrl_c_and_ctrl_v_in_the_layer_list_stay_the_lists_own(qtbot: QtBot) -> None:
    """The menu's keys act on the diagram: Ctrl+V in the layer list pastes no layers."""
    window = open_resnet(qtbot)
    document = window.document
    click(window, "conv1")
    menu_action(window, "Edit → Copy Layers").trigger()
    count = len(document.spec.layers)
    key(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier, window.table)
    assert len(document.spec.layers) == count
    key(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # on the diagram it does
    assert len(document.spec.layers) == count + 1


def name_point(window: MainWindow, name: str) -> QPoint:
    """Where the group's name is drawn, on the viewport."""
    view = window.diagram
    at(window, name)
    label = view.labels[name][0]
    return view.mapFromScene(label.mapToScene(label.boundingRect().center()))


def test_a_group_is_renamed_by_f2_a_double_click_on_its_name_and_the_right_click_menu(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = open_resnet(qtbot)
    document, view = window.document, window.diagram
    shift_click_all(window, BLOCK)
    with answer("block_a"):
        key(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    steps = document.undo_stack.count()
    click(window, "block_a")
    with answer("stage_one"):
        key(window, Qt.Key.Key_F2)
    assert [g.name for g in document.spec.groups] == ["stage_one"], view.refused
    assert view.labels["stage_one"][0].text() == "stage_one (7 layers)"
    assert "layer1_0_relu2" in {layer.name for layer in document.spec.layers}  # no layer renamed
    with answer("stage_two"):
        QTest.mouseDClick(view.viewport(), LEFT, NONE, name_point(window, "stage_one"))
        settle()
    assert [g.name for g in document.spec.groups] == ["stage_two"]
    assert "stage_two" in view.blocks  # still one block: the double-click renamed, not opened
    with answer("stage_3"):
        items = right_click(window, "stage_two", "Rename Group…")
    assert "Rename Group…\tF2" in items
    assert [g.name for g in document.spec.groups] == ["stage_3"]
    assert document.undo_stack.count() == steps + 3  # one step each
    path = tmp_path / "renamed.json"
    document.save(path)
    data = json.loads(path.read_text())
    assert data["groups"] == [{"name": "stage_3", "layers": BLOCK}]
    assert [layer["name"] for layer in data["layers"]] == \
        [layer.name for layer in load_preset("resnet18").layers]
    assert load_model(path) == document.spec
    # refused at the pointer, the model unchanged: empty, taken by a layer, badly formed
    spec = document.spec
    for bad, reason in (("", "a group needs a name"), ("conv1", '"conv1" is already used'),
                        ("2nd stage", "is not allowed")):
        click(window, "stage_3")
        with answer(bad):
            key(window, Qt.Key.Key_F2)
        assert reason in view.refused and view.refused.startswith("Not renamed")
        assert QToolTip.isVisible() and QToolTip.text() == view.refused
        assert document.spec == spec and document.undo_stack.count() == steps + 3
    document.undo_stack.undo()
    assert [g.name for g in document.spec.groups] == ["stage_two"]


def test_a_layer_in_an_open_group_renames_its_group_from_the_right_click_menu(
        qtbot: QtBot) -> None:
    window = open_resnet(qtbot)
    document, view = window.document, window.diagram
    shift_click_all(window, BLOCK)
    view.editor.group("block_a")
    QTest.mouseDClick(view.viewport(), LEFT, NONE, at(window, "block_a"))  # opened
    settle()
    assert "layer1_0_bn1" in view.blocks
    with answer("opened_block"):
        right_click(window, "layer1_0_bn1", "Rename Group…")
    assert [g.name for g in document.spec.groups] == ["opened_block"]
    assert "layer1_0_bn1" in view.blocks and "opened_block" in view.expanded  # stays open


def open_inception(qtbot: QtBot) -> MainWindow:
    window = MainWindow(load_model(FIXTURE))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.resize(1600, 900)
    window.show()
    settle()
    return window


def test_two_parallel_branches_apart_in_the_file_are_grouped_by_ctrl_g(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = open_inception(qtbot)
    document, view = window.document, window.diagram
    before = document.spec
    shift_click_all(window, [*B4, *B2])  # b3's layers sit between them in the file
    with answer("two_branches"):
        key(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert [(g.name, g.layers) for g in document.spec.groups] == [
        ("two_branches", (*B2, *B4))], view.refused
    assert "two_branches" in view.blocks and not {*B2, *B4} & set(view.blocks)
    assert ("stem_relu", "two_branches") in view.edge_names
    assert ("two_branches", "concat") in view.edge_names
    assert ("stem_relu", "b3_reduce") in view.edge_names  # the branch between stays open
    path = tmp_path / "grouped.json"
    document.save(path)
    data = json.loads(path.read_text())
    assert data["layers"] == before.to_dict()["layers"]  # flat, in the file's order
    assert data["groups"] == [{"name": "two_branches", "layers": [*B2, *B4]}]
    assert load_model(path) == document.spec
    QTest.mouseDClick(view.viewport(), LEFT, NONE, at(window, "two_branches"))
    settle()
    assert {*B2, *B4} <= set(view.blocks)  # opened into its layers
    document.undo_stack.undo()
    assert document.spec == before


def test_a_selection_that_leaves_out_a_layer_on_its_paths_is_refused_at_the_pointer(
        qtbot: QtBot) -> None:
    window = open_inception(qtbot)
    document, view = window.document, window.diagram
    before, steps = document.spec, document.undo_stack.count()
    shift_click_all(window, ["stem_relu", "b1", "concat"])
    with answer("not_a_group"):  # answered, should a name be asked
        menu_action(window, "Edit → Group Layers…").trigger()
        settle()
    assert "b2_reduce lies on the way from stem_relu to concat" in view.refused
    assert QToolTip.isVisible() and QToolTip.text() == view.refused
    assert document.spec == before and document.undo_stack.count() == steps

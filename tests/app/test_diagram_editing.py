"""Selecting and editing blocks on the diagram with the mouse and keys: Shift+click and a
rubber band, Delete, Ctrl+C / Ctrl+V, Ctrl+G groups, right-click freezing (issue 19, items 2
and 5)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMenu, QWidget
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.analysis.summary import format_count
from core.model.spec import load_model
from core.presets import load_preset
from tests.app.waits import settle
from tests.app.window_driver import Answerer

BLOCK = ["layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1", "layer1_0_conv2", "layer1_0_bn2",
         "layer1_0_add", "layer1_0_relu2"]
SHIFT, NONE = Qt.KeyboardModifier.ShiftModifier, Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton


def open_window(qtbot: QtBot, preset: str = "resnet18") -> MainWindow:
    window = MainWindow(load_preset(preset))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.resize(1600, 900)
    window.show()
    settle()
    return window


def at(window: MainWindow, name: str) -> QPoint:
    """The block's centre on the viewport, scrolled into view."""
    view = window.diagram
    view.centerOn(view.blocks[name])
    settle(2)
    return view.mapFromScene(view.blocks[name].rect().center())


def click(window: MainWindow, name: str, keys: Qt.KeyboardModifier = NONE) -> None:
    QTest.mouseClick(window.diagram.viewport(), LEFT, keys, at(window, name))
    settle(2)


def key(window: MainWindow, key_: Qt.Key, keys: Qt.KeyboardModifier = NONE) -> None:
    window.diagram.setFocus()
    QTest.keyClick(window.diagram, key_, keys)
    settle()


def shift_click_all(window: MainWindow, names: list[str]) -> None:
    click(window, names[0])
    for name in names[1:]:
        click(window, name, SHIFT)


def test_shift_click_selects_several_blocks_and_delete_removes_them_in_one_step(
        qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document, view = window.document, window.diagram
    before = document.spec
    shift_click_all(window, ["layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1"])
    assert view.editor.selection == ["layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1"]
    thick = {name for name, block in view.blocks.items() if block.pen().widthF() > 3}
    assert thick == {"layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1"}
    click(window, "layer1_0_bn1", SHIFT)  # Shift+click again: it leaves the selection
    assert view.editor.selection == ["layer1_0_conv1", "layer1_0_relu1"]
    click(window, "layer1_0_bn1", SHIFT)
    key(window, Qt.Key.Key_Delete)
    names = {layer.name for layer in document.spec.layers}
    assert not names & {"layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1"}
    assert document.spec.inputs_of(document.spec.index("layer1_0_conv2")) == ("maxpool",)
    document.undo_stack.undo()
    assert document.spec == before


def test_a_shift_dragged_rubber_band_selects_the_blocks_it_touches(qtbot: QtBot) -> None:
    window = open_window(qtbot, "digits_small")
    view = window.diagram
    names = [layer.name for layer in window.document.spec.layers]
    wanted = names[1:3]
    rects = [view.blocks[n].rect() for n in wanted]
    top = min(r.top() for r in rects) - 12
    start = QPointF(rects[0].left() + 2, top)
    end = QPointF(rects[-1].right() - 2, max(r.bottom() for r in rects) - 2)
    view.centerOn((start + end) / 2)
    settle()
    assert view.itemAt(view.mapFromScene(start)) is None  # empty space: no block, no label
    port = view.viewport()
    QTest.mousePress(port, LEFT, SHIFT, view.mapFromScene(start))
    QTest.mouseMove(port, view.mapFromScene((start + end) / 2))
    QTest.mouseMove(port, view.mapFromScene(end))
    QTest.mouseRelease(port, LEFT, SHIFT, view.mapFromScene(end))
    settle()
    assert view.editor.selection == wanted
    assert view.dragMode() == view.DragMode.ScrollHandDrag  # plain drags pan again
    QTest.mouseClick(port, LEFT, NONE, view.mapFromScene(start))  # empty space clears
    settle()
    assert view.editor.selection == []


def test_a_resnet_block_copied_and_pasted_three_times_is_renamed_and_wired(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window(qtbot)
    document, view = window.document, window.diagram
    before = document.spec
    shift_click_all(window, BLOCK)
    key(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    click(window, "layer1_0_relu2")  # paste after the block's output
    steps = document.undo_stack.count()
    pasted = []
    for _ in range(3):
        key(window, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
        pasted.append(view.editor.selection)  # the pasted blocks are the selection
        assert len(pasted[-1]) == len(BLOCK)
        click(window, pasted[-1][-1])
    assert document.undo_stack.count() == steps + 3 and document.analysis.ok
    spec = document.spec
    assert len(spec.layers) == len(before.layers) + 3 * len(BLOCK)
    for names in pasted:
        assert not set(names) & set(BLOCK)
        add = spec.layer(names[5])
        assert add.type == "Add" and add.inputs[0] == names[4]  # the inner connection
    assert spec.inputs_of(spec.index(pasted[1][0])) == (pasted[0][-1],)
    assert pasted[2][-1] in spec.layer("layer1_1_add").inputs  # the next block's skip
    path = tmp_path / "pasted.json"
    document.save(path)
    saved = load_model(path)
    assert [layer.name for layer in saved.layers] == [layer.name for layer in spec.layers]
    document.undo_stack.undo()
    assert len(document.spec.layers) == len(before.layers) + 2 * len(BLOCK)


def test_ctrl_g_groups_the_selection_into_one_named_block_and_double_click_opens_it(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = open_window(qtbot)
    document, view = window.document, window.diagram
    before = document.spec
    shift_click_all(window, BLOCK)

    def name_it(dialog: QWidget, _answerer: Answerer) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue("stem_block")
        dialog.accept()

    with Answerer(handlers=[(QInputDialog, name_it)]):
        key(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert [g.name for g in document.spec.groups] == ["stem_block"]
    assert "stem_block" in view.blocks and not set(BLOCK) & set(view.blocks)
    assert view.labels["stem_block"][0].text() == "stem_block (7 layers)"
    # one block, wired as the block was: maxpool → group → the next block's conv and skip
    assert ("maxpool", "stem_block") in view.edge_names
    assert ("stem_block", "layer1_1_conv1") in view.edge_names
    assert ("stem_block", "layer1_1_add") in view.edge_names
    path = tmp_path / "grouped.json"
    document.save(path)
    data = json.loads(path.read_text())
    assert data["groups"] == [{"name": "stem_block", "layers": BLOCK}]
    assert [layer["name"] for layer in data["layers"]] == [layer.name for layer in before.layers]
    QTest.mouseDClick(view.viewport(), LEFT, NONE, at(window, "stem_block"))
    settle()
    assert "stem_block" not in view.blocks and set(BLOCK) <= set(view.blocks)
    QTest.mouseDClick(view.viewport(), LEFT, NONE, at(window, "layer1_0_bn1"))
    settle()
    assert "stem_block" in view.blocks  # closed again
    document.undo_stack.undo()
    assert document.spec == before and set(BLOCK) <= set(view.blocks)


def right_click(window: MainWindow, name: str, choose: str) -> list[str]:
    """Right-click block ``name`` and pick the menu item starting with ``choose``; returns
    the menu's items."""
    view = window.diagram
    point = at(window, name)
    seen: list[str] = []

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            QTimer.singleShot(20, pick)
            return
        seen.extend(a.text() for a in menu.actions())
        action = next(a for a in menu.actions() if a.text().startswith(choose))
        menu.close()
        action.trigger()

    QTimer.singleShot(20, pick)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                              view.viewport().mapToGlobal(point))
    QApplication.sendEvent(view.viewport(), event)
    settle()
    return seen


def test_right_click_freezes_up_to_here_and_unfreezes_all_and_the_totals_follow(
        qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    assert document.analysis.non_trainable_params == 0
    items = right_click(window, "layer1_0_add", "Freeze up to")
    assert items[0] == "Freeze up to layer1_0_add" and "Unfreeze all" in items
    frozen = [layer.name for layer in document.spec.layers if not layer.trainable]
    assert frozen == ["conv1", "bn1", "relu", "maxpool", *BLOCK[:6]]
    expected = sum(info.params for info in document.analysis.layers if info.name in frozen)
    assert document.analysis.non_trainable_params == expected > 0
    assert f"frozen {format_count(expected)}" in window.totals.text()
    assert window.diagram.labels["layer1_0_add"][0].text() == "layer1_0_add ❄"  # in the picture
    assert window.diagram.labels["layer1_0_relu2"][0].text() == "layer1_0_relu2"
    right_click(window, "fc", "Unfreeze all")
    assert all(layer.trainable for layer in document.spec.layers)
    document.undo_stack.undo()  # one step each
    assert len([layer for layer in document.spec.layers if not layer.trainable]) == 10


def test_right_click_freezes_a_group(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    document = window.document
    shift_click_all(window, BLOCK)
    window.diagram.editor.group("block_a")
    items = right_click(window, "block_a", "Freeze this group")
    assert "Freeze this group (block_a)" in items
    assert [layer.name for layer in document.spec.layers if not layer.trainable] == BLOCK
    assert window.diagram.labels["block_a"][0].text() == "block_a (7 layers) ❄"


def test_the_kernel_grid_typed_and_painted_is_saved_in_the_weights_in_one_undo_step(
        qtbot: QtBot) -> None:
    window = open_window(qtbot, "digits_small")
    document, view = window.document, window.diagram
    assert document.weights is None
    right_click(window, "conv1", "Edit Kernel Values")
    dialog = view.editor.kernel_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.weight is not None, timeout=60000)
    dialog.out_box.setValue(3)
    grid = dialog.grid
    assert (grid.rowCount(), grid.columnCount()) == (3, 3)

    def cell_point(row: int, column: int) -> QPoint:
        return grid.visualItemRect(grid.item(row, column)).center()

    # paint the left column 1 and the middle 0 by pressing and dragging down it
    dialog.paint.setChecked(True)
    for value, column in ((1.0, 0), (0.0, 1)):
        dialog.paint_value.setValue(value)
        for row in range(3):  # a press paints the cell under the pointer
            QTest.mousePress(grid.viewport(), LEFT, NONE, cell_point(row, column))
            QTest.mouseRelease(grid.viewport(), LEFT, NONE, cell_point(row, column))
    dialog.paint.setChecked(False)
    # type −1 into the right column
    for row in range(3):
        grid.setCurrentCell(row, 2)
        grid.editItem(grid.item(row, 2))
        editor = QApplication.focusWidget()
        assert editor is not None
        QTest.keyClicks(editor, "-1")
        QTest.keyClick(editor, Qt.Key.Key_Return)
        settle()
    edge = np.array([[1, 0, -1]] * 3, dtype=np.float32)
    np.testing.assert_array_equal(dialog.kernel()[0], edge)
    grid.setCurrentCell(0, 0)  # a bad value is refused, the cell keeps its own
    grid.editItem(grid.item(0, 0))
    QTest.keyClicks(QApplication.focusWidget(), "abc")
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    settle()
    assert "not a number" in dialog.status.text() and dialog.kernel()[0, 0, 0] == 1
    steps = document.undo_stack.count()
    QTest.mouseClick(dialog.apply_button, LEFT)
    qtbot.waitUntil(lambda: document.weights is not None, timeout=60000)
    assert document.undo_stack.count() == steps + 1
    from core.weights import read_weights

    saved = read_weights(document.weights).get("conv1.weight")
    assert saved is not None
    np.testing.assert_array_equal(saved[3, 0].numpy(), edge)
    document.undo_stack.undo()
    assert document.weights is None
    document.undo_stack.redo()
    assert document.weights == dialog.applied
    dialog.close()


def test_random_edits_with_groups_paste_and_opening_show_what_a_fresh_build_shows(
        qtbot: QtBot) -> None:
    import random

    from app.build.diagram import DiagramView
    from app.document import ModelDocument
    from core.model.clipboard import copy_layers
    from tests.app.test_diagram_incremental import drawing, random_edit

    window = open_window(qtbot)
    document, view = window.document, window.diagram
    rng = random.Random(19)
    done = []
    collapsed_seen = opened_seen = False
    for step in range(30):
        spec = document.spec
        names = [layer.name for layer in spec.layers]
        kind = rng.choice(["group", "group", "paste", "toggle", "ungroup", "other", "other"])
        start = rng.randrange(max(1, len(names) - 4))
        if kind == "group":
            document.group_layers(names[start:start + rng.randint(2, 4)], f"g{step}")
        elif kind == "paste":
            document.paste_layers(copy_layers(spec, names[start:start + 3]), names[start])
        elif kind == "toggle" and spec.groups:
            view.editor.toggle_group(rng.choice(spec.groups).name)
        elif kind == "ungroup" and spec.groups:
            document.ungroup(rng.choice(spec.groups).name)
        else:
            kind = random_edit(window, rng, step)
        done.append(kind)
        fresh_document = ModelDocument(document.spec)
        fresh_document.current = document.current
        fresh = DiagramView(fresh_document)
        fresh.setFont(view.font())
        fresh.setPalette(view.palette())
        fresh.expanded = set(view.expanded)
        fresh.editor.selection = list(view.editor.selection)
        fresh.new_model()
        fresh.expanded = set(view.expanded)
        fresh.editor.selection = list(view.editor.selection)
        fresh.blocks = {}
        fresh.rebuild()
        groups = {g.name for g in document.spec.groups}
        collapsed_seen = collapsed_seen or bool(groups & set(view.blocks))
        opened_seen = opened_seen or bool(groups & view.expanded)
        try:
            assert drawing(view) == drawing(fresh), " → ".join(done)
        finally:
            fresh.deleteLater()
            fresh_document.deleteLater()
    assert collapsed_seen and opened_seen  # the drawings compared had groups, shut and open

"""The diagram's layered layout in the window: the flow's direction toggled and remembered, Fit
showing the whole graph, Ctrl+F jumping to a layer by name (issue 19)."""

from __future__ import annotations

import igraph  # noqa: F401  (loaded as after the warm-up: the layered layout is drawn)
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.presets import load_preset
from tests.app.waits import settle
from tests.app.window_driver import menu_action


def open_window(qtbot: QtBot, preset: str = "resnet18") -> MainWindow:
    window = MainWindow(load_preset(preset))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.resize(1600, 900)
    window.show()
    settle()
    return window


def center(window: MainWindow, name: str) -> tuple[float, float]:
    point = window.diagram.blocks[name].rect().center()
    return point.x(), point.y()


def test_the_direction_toggle_flows_down_and_is_remembered(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    pane = window.diagram_pane
    assert window.diagram.direction == "right" and not pane.down_button.isChecked()
    (ax, ay), (bx, by) = center(window, "layer1_0_conv1"), center(window, "layer1_0_bn1")
    assert bx > ax and by == ay
    qtbot.mouseClick(pane.down_button, Qt.MouseButton.LeftButton)
    settle()
    assert window.diagram.direction == "down"
    (ax, ay), (bx, by) = center(window, "layer1_0_conv1"), center(window, "layer1_0_bn1")
    assert by > ay and bx == ax
    # the downsample branch beside the block's main path, in the other lane
    (dx, dy), (mx, my) = center(window, "layer2_0_downsample"), center(window, "layer2_0_conv1")
    assert dy == my and dx != mx
    # every connection ends lower than it starts
    for arc in window.diagram.arcs:
        path = arc.path()
        first, last = path.elementAt(0), path.elementAt(path.elementCount() - 4)
        assert last.y > first.y
    window.close()
    again = open_window(qtbot, "lenet5")
    assert again.diagram.direction == "down" and again.diagram_pane.down_button.isChecked()
    qtbot.mouseClick(again.diagram_pane.down_button, Qt.MouseButton.LeftButton)
    assert again.settings.get("diagram_direction", "") == "right"


def visible(window: MainWindow, name: str) -> bool:
    view = window.diagram
    box = view.mapFromScene(view.blocks[name].sceneBoundingRect()).boundingRect()
    return view.viewport().rect().contains(box)


def test_fit_shows_the_whole_graph(qtbot: QtBot) -> None:
    window = open_window(qtbot, "resnet34")
    view = window.diagram
    last = window.document.spec.layers[-1].name
    assert not visible(window, last)  # opened readable from its input: the end scrolls
    menu_action(window, "View → Fit Diagram").trigger()
    settle()
    whole = view.mapFromScene(view.scene_.sceneRect()).boundingRect()
    assert view.viewport().rect().adjusted(-2, -2, 2, 2).contains(whole)
    assert visible(window, last) and visible(window, "conv1")


def test_ctrl_f_jumps_to_a_layer_by_name(qtbot: QtBot) -> None:
    window = open_window(qtbot, "resnet34")
    search = window.diagram_pane.search
    QTest.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    settle()
    assert search.hasFocus()
    assert not visible(window, "layer4_2_conv2")
    QTest.keyClicks(search, "layer4_2_conv2")
    QTest.keyClick(search, Qt.Key.Key_Return)
    settle()
    assert window.document.current == "layer4_2_conv2"
    assert visible(window, "layer4_2_conv2")
    # part of a name, any case: the first layer whose name contains it
    search.clear()
    QTest.keyClicks(search, "LAYER3_1_BN")
    QTest.keyClick(search, Qt.Key.Key_Return)
    assert window.document.current == "layer3_1_bn1" and visible(window, "layer3_1_bn1")
    search.clear()
    QTest.keyClicks(search, "no_such_layer")
    QTest.keyClick(search, Qt.Key.Key_Return)
    assert window.document.current == "layer3_1_bn1"  # nothing else selected
    assert "no_such_layer" in search.toolTip()

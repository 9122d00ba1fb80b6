"""Seeing inside, in the picture (issue 19, items 3 and 4): the Thumbnails toggle draws each
block's output for the Inspect tab's input, computed on the inspection worker, redrawn after an
edit and after new weights (each epoch while training); a click on one opens that layer in
Inspect → Activations. A long model shows a minimap that moves the view."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from app import warm_up
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.presets import load_preset
from tests.app.waits import CEILING_MS, settle


def open_window(qtbot: QtBot, preset: str) -> MainWindow:
    window = MainWindow(load_preset(preset))
    qtbot.addWidget(window)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.resize(1600, 900)
    window.show()
    qtbot.waitUntil(warm_up.is_ready, timeout=CEILING_MS)
    settle()
    return window


def turn_on(qtbot: QtBot, window: MainWindow) -> None:
    thumbnails = window.thumbnails
    with qtbot.waitSignal(thumbnails.filled, timeout=CEILING_MS):
        qtbot.mouseClick(thumbnails.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not thumbnails.busy(), timeout=CEILING_MS)


def pixels(window: MainWindow, name: str) -> np.ndarray:
    image = window.thumbnails.picture_of(name).toImage().convertToFormat(
        QImage.Format.Format_RGBA8888)
    return np.array(image.constBits(), dtype=np.uint8).copy()


def test_every_block_shows_its_output_and_a_click_opens_it_in_activations(
        qtbot: QtBot) -> None:
    window = open_window(qtbot, "digits_small")
    turn_on(qtbot, window)
    view, thumbnails = window.diagram, window.thumbnails
    names = ["input", *(layer.name for layer in window.document.spec.layers)]
    assert set(thumbnails.items) == set(names)
    for name in names:  # inside its block, centred
        item, block = thumbnails.items[name], view.blocks[name].rect()
        shown = item.sceneBoundingRect()
        assert block.contains(shown), name
        assert abs(shown.center().x() - block.center().x()) < 1
    conv = next(layer.name for layer in window.document.spec.layers if layer.type == "Conv2d")
    assert not np.all(pixels(window, conv) == pixels(window, conv)[0])  # a picture, not flat
    view.centerOn(thumbnails.items[conv])
    settle()
    point = view.mapFromScene(thumbnails.items[conv].sceneBoundingRect().center())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, point)
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.inspect, timeout=CEILING_MS)
    activations = window.inspect.view("Activations")
    assert window.inspect.current_view() is activations
    assert activations.act_layer.currentText() == conv  # type: ignore[attr-defined]
    window.inspect.queue.shutdown()


def test_a_drag_on_a_thumbnail_pans_and_opens_nothing(qtbot: QtBot) -> None:
    window = open_window(qtbot, "digits_small")
    turn_on(qtbot, window)
    view = window.diagram
    opened: list[str] = []
    window.thumbnails.opened.connect(opened.append)
    name = window.document.spec.layers[0].name
    start = view.mapFromScene(window.thumbnails.items[name].sceneBoundingRect().center())
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view.viewport(), start + QPoint(30, 0))
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier, start + QPoint(30, 0))
    settle()
    assert opened == [] and window.tabs.currentIndex() == 0
    window.inspect.queue.shutdown()


def test_an_edit_and_new_weights_redraw_them_and_the_toggle_takes_them_away(
        qtbot: QtBot, trained_run: Callable[[str], Path]) -> None:
    window = open_window(qtbot, "digits_small")
    turn_on(qtbot, window)
    thumbnails, document = window.thumbnails, window.document
    conv = next(layer for layer in document.spec.layers if layer.type == "Conv2d")
    before = thumbnails.items[conv.name].sceneBoundingRect()
    old = pixels(window, conv.name)
    with qtbot.waitSignal(thumbnails.filled, timeout=CEILING_MS):
        assert document.set_param(conv.name, "out_channels", 2)  # fewer maps to show
    qtbot.waitUntil(lambda: not thumbnails.busy(), timeout=CEILING_MS)
    assert thumbnails.items[conv.name].sceneBoundingRect() != before
    assert window.diagram.blocks[conv.name].rect().contains(
        thumbnails.items[conv.name].sceneBoundingRect())
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: not thumbnails.busy(), timeout=CEILING_MS)
    random = pixels(window, conv.name)
    assert np.array_equal(random, old)  # the same random weights, the same picture
    from core.train.checkpoint import open_run

    run = open_run(trained_run("digits_small"))
    with qtbot.waitSignal(thumbnails.filled, timeout=CEILING_MS):
        document.use_weights(run.weights, run.run_dir)  # what each epoch's end does
    qtbot.waitUntil(lambda: not thumbnails.busy(), timeout=CEILING_MS)
    assert not np.array_equal(pixels(window, conv.name), random)
    qtbot.mouseClick(thumbnails.button, Qt.MouseButton.LeftButton)
    assert thumbnails.items == {}
    assert not any(type(item).__name__ == "QGraphicsPixmapItem"
                   for item in window.diagram.scene_.items())
    window.inspect.queue.shutdown()


def test_a_long_model_shows_a_minimap_that_moves_the_view_and_fit_hides_it(
        qtbot: QtBot) -> None:
    window = open_window(qtbot, "resnet18")
    minimap, view = window.minimap, window.diagram
    qtbot.waitUntil(minimap.isVisible, timeout=CEILING_MS)
    assert len(minimap.blocks) == len(window.document.spec.layers) + 1
    shown = minimap.visible_part()
    target = QPoint(minimap.width() - 6, minimap.height() // 2)  # the far end of the model
    QTest.mouseClick(minimap, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     target)
    settle()
    moved = minimap.visible_part()
    assert moved.center().x() > shown.center().x() + shown.width() / 2
    assert moved.contains(minimap.scene_point(target.toPointF())) or \
        moved.right() >= view.scene_.sceneRect().right() - 1
    window.diagram.fit()
    settle()
    qtbot.waitUntil(lambda: not minimap.isVisible(), timeout=CEILING_MS)


def test_an_invalid_edit_takes_them_away_and_says_why(qtbot: QtBot) -> None:
    window = open_window(qtbot, "digits_small")
    turn_on(qtbot, window)
    thumbnails, document = window.thumbnails, window.document
    conv = next(layer for layer in document.spec.layers if layer.type == "Conv2d")
    assert document.set_param(conv.name, "kernel_size", 99)  # larger than the 8×8 input
    assert not document.analysis.ok
    qtbot.waitUntil(lambda: not thumbnails.busy(), timeout=CEILING_MS)
    assert thumbnails.items == {} and "valid model" in thumbnails.message
    with qtbot.waitSignal(thumbnails.filled, timeout=CEILING_MS):
        document.undo_stack.undo()
    assert set(thumbnails.items) >= {conv.name}
    window.inspect.queue.shutdown()


def test_when_the_inspect_tab_drops_every_job_they_are_asked_for_again(qtbot: QtBot) -> None:
    window = open_window(qtbot, "digits_small")
    thumbnails = window.thumbnails
    with qtbot.waitSignal(thumbnails.filled, timeout=CEILING_MS):
        qtbot.mouseClick(thumbnails.button, Qt.MouseButton.LeftButton)
        assert window.inspect.queue.busy("thumbnails")
        window.inspect.queue.cancel()  # what the tab does when its model changes
    assert thumbnails.items
    window.inspect.queue.shutdown()

"""The Dream and Style views of the Inspect tab, driven as a user does: choose the input and
settings, press the button, see the pictures and the plain word about random weights; Cancel
stops the work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w.inspect)
    return w


def show(qtbot: QtBot, window: MainWindow, title: str) -> Any:
    tab = window.inspect
    view = tab.view(title)
    tab.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    return view


def test_a_dream_starts_from_the_chosen_digit_and_says_the_weights_are_random(
        qtbot: QtBot, window: MainWindow) -> None:
    tab = window.inspect
    tab.input_kind.setCurrentText("digits test image")
    tab.digit_index.setValue(3)
    view = show(qtbot, window, "Dream")
    assert view.layer.currentText() == "relu2"  # an activation two thirds of the way in
    view.channel.setValue(view.channel.minimum())
    assert view.channel.text() == "the layer's norm"
    view.steps.setValue(20)
    view.run_button.click()
    assert not view.run_button.isEnabled() and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert tab.message.text() == ""
    start, dream = view.start_pane.data, view.dream_pane.data
    assert start is not None and dream is not None and dream.shape == start.shape == (8, 8)
    assert np.abs(dream - start).mean() > 0.01
    assert "RANDOM weights" in view.notes.text() and "the layer's norm" in view.notes.text()


def test_cancel_stops_a_long_dream(qtbot: QtBot, window: MainWindow) -> None:
    view = show(qtbot, window, "Dream")
    view.steps.setValue(500)
    view.octaves.setValue(8)
    view.run_button.click()
    worker = window.inspect.queue.current("dream")
    assert worker is not None
    view.cancel_button.click()
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not window.inspect.queue.busy("dream"), timeout=CEILING_MS)
    assert view.dream_pane.data is None  # a cancelled dream draws nothing


def test_the_channel_box_follows_the_layer(qtbot: QtBot, window: MainWindow) -> None:
    view = show(qtbot, window, "Dream")
    view.layer.setCurrentText("relu1")
    assert view.channel.maximum() == 15  # the layer's own channels
    view.layer.setCurrentText("relu2")
    assert view.channel.maximum() == 31


def test_style_transfers_a_chosen_file_onto_the_input(qtbot: QtBot, window: MainWindow,
                                                      tmp_path: Path) -> None:
    stripes = np.zeros((32, 32), np.uint8)
    stripes[:, ::4] = 255
    Image.fromarray(stripes).save(tmp_path / "stripes.png")
    view = show(qtbot, window, "Style")
    assert view.content_layer.currentText() == "relu3"
    assert view.style_layers.text() == "relu1, relu3"
    view.set_style_file(tmp_path / "stripes.png")
    view.steps.setValue(15)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert window.inspect.message.text() == ""
    for pane in (view.content_pane, view.style_pane, view.result_pane):
        assert pane.data is not None and pane.data.shape == (8, 8)
    assert "style loss" in view.notes.text() and "RANDOM weights" in view.notes.text()
    view.style_layers.setText("relu1, fc")
    view.run_button.click()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert '"fc" is not a layer with feature maps' in window.inspect.message.text()

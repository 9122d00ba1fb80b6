"""The Inspect tab on a video model: its input is a moving-digits clip, activations and Conv3d
filters are shown one frame at a time (issue 20 §2)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=60_000)


def show(qtbot: QtBot, window: MainWindow, view: str) -> Any:
    views = window.inspect.views
    views.setCurrentIndex([views.tabText(i) for i in range(views.count())].index(view))
    window.inspect.refresh()
    idle(qtbot, window)
    assert window.inspect.message.text() == ""
    return window.inspect.view(view)


def test_activations_and_filters_of_a_video_model_frame_by_frame(qtbot: QtBot) -> None:
    window = MainWindow(load_preset("moving_digits_3d"))
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.inspect)
    qtbot.waitUntil(lambda: window.inspect.task_dataset == "moving-digits", timeout=60_000)
    acts = show(qtbot, window, "Activations")
    acts.act_layer.setCurrentText("relu1")
    idle(qtbot, window)
    assert acts.act_frame.isVisible() and acts.act_frame.maximum() == 7
    assert acts.act_frame.value() == 3  # the middle frame first
    assert "moving-digits test clip" in window.inspect.input_note.text()
    middle = acts._act_values.copy()
    picture = acts.act_input.data.copy()
    acts.act_frame.setValue(0)
    idle(qtbot, window)
    assert acts.act_frame_label.text() == "frame 0 of 8"
    assert not np.array_equal(acts._act_values, middle)  # the digit moved
    assert not np.array_equal(acts.act_input.data, picture)  # the input frame follows
    acts.act_layer.setCurrentText("fc")  # one value per class: no frames
    idle(qtbot, window)
    assert not acts.act_frame.isVisible() and acts.act_bars.isVisible()

    filters = show(qtbot, window, "Filters")
    filters.filter_layer.setCurrentText("conv1")
    idle(qtbot, window)
    assert filters.filter_frame.isVisible() and filters.filter_frame.maximum() == 2
    assert filters._filter_grid.frame == 1  # the kernels' middle frame
    first = filters._filter_grid.kernels.copy()
    filters.filter_frame.setValue(0)
    idle(qtbot, window)
    assert filters._filter_grid.frame == 0
    assert not np.array_equal(filters._filter_grid.kernels, first)

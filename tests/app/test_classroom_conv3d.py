"""The Classroom steps through a Conv3d one output frame at a time (issue 20 §2): the frame
box, the input frames its kernel reads, and the output frame's map, driven by the keyboard."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.presets import load_preset

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow(load_preset("moving_digits_3d"))
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w.classroom.panel)
    yield w
    w.classroom.stop()


def test_a_conv3d_steps_frame_by_frame(window: MainWindow, qtbot: QtBot) -> None:
    view = window.classroom.panel.step_view
    qtbot.waitUntil(lambda: view.step_result is not None, timeout=60_000)
    assert view.step_result.layer == "conv1" and view.step_result.layer_type == "Conv3d"
    frame = view.controls.frame
    output = view.session.output("conv1").numpy()
    assert frame.isVisible() and frame.maximum() == output.shape[1] - 1
    frame.setValue(2)
    qtbot.waitUntil(lambda: view.step_result.position[1] == 2, timeout=60_000)
    step = view.step_result
    c, t, y, x = step.position
    assert step.value == pytest.approx(float(output[c, t, y, x]), abs=1e-5)
    assert "output frame 2 reads frames 1, 2, 3" in view.notes.text()
    assert "frame 2" in view.output_grid.title  # the output frame's map
    assert np.allclose(view.output_grid.values, output[c, 2])
    assert "frame 1" in view.input_grid.title  # the first kernel frame's input
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)  # the arrows step within the frame
    qtbot.waitUntil(lambda: view.step_result.position == (c, 2, y, x + 1), timeout=60_000)
    assert view.step_result.value == pytest.approx(float(output[c, 2, y, x + 1]), abs=1e-5)
    frame.setValue(0)  # the first frame's kernel reads padding before the clip
    qtbot.waitUntil(lambda: view.step_result.position[1] == 0, timeout=60_000)
    assert view.step_result.padding[0].all()
    assert "outside the clip" in view.step_result.channel_labels[0]
    assert view.controls.layer.findText("pool1") < 0  # MaxPool3d is not stepped through
    view.controls.layer.setCurrentText("conv2")
    qtbot.waitUntil(lambda: view.step_result.layer == "conv2", timeout=60_000)
    assert frame.isVisible() and frame.maximum() == view.session.output("conv2").shape[1] - 1
    window.document.load(load_preset("digits_small"), None)  # a 2-D model: no frame box
    qtbot.waitUntil(lambda: view.step_result is not None and len(view.step_result.position)
                    == 3, timeout=60_000)
    assert not frame.isVisible()

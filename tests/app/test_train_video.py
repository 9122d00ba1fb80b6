"""The Train tab trains a video model on the bundled moving digits, and its 2-D baseline on the
same clips, through the window (issue 20 §2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.presets import load_preset
from core.train.settings import Finished
from tests.app.window_driver import menu_action

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
PRESETS = "File → Presets → Sequences and video → "


def _train_one_epoch(qtbot: QtBot, window: MainWindow) -> Finished:
    panel = window.training
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=180_000) as finished:
        panel.controls.start_button.click()
    event = finished.args[0]
    assert isinstance(event, Finished), panel.log.toPlainText()
    return event


@pytest.mark.slow
def test_a_video_preset_trains_on_moving_digits_and_the_2d_baseline_cannot(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    panel = window.training
    panel.out_dir = tmp_path / "runs"
    window.show()
    window.tabs.setCurrentWidget(panel)
    assert panel.form.dataset.currentText() == "digits"
    menu_action(window, PRESETS + "moving-digits-3d").trigger()
    assert tuple(window.document.spec.input_shape) == (1, 8, 32, 32)
    qtbot.waitUntil(lambda: panel.form.dataset.currentText() == "moving-digits",
                    timeout=60_000)  # a video model's data, chosen for it
    three = _train_one_epoch(qtbot, window)
    assert three.test_acc is not None and three.test_acc >= 0.9
    assert "clips of 8 frames" in panel.log.toPlainText()

    menu_action(window, PRESETS + "moving-digits-2d").trigger()
    qtbot.waitUntil(lambda: panel.form.dataset.currentText() == "digits", timeout=60_000)
    panel.form.use_dataset("moving-digits")  # the baseline on the same clips
    two = _train_one_epoch(qtbot, window)
    assert two.test_acc is not None and two.test_acc < 0.45  # chance is 0.25
    assert "middle frame" in panel.log.toPlainText()

"""The pre-flight estimate beside Start: shown, updated, and a run that cannot fit asks first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.train import preflight
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.training.out_dir = tmp_path / "runs"
    w.resize(1920, 1080)
    w.show()
    w.tabs.setCurrentWidget(w.training)
    return w


def test_the_estimate_is_shown_beside_start_and_a_run_that_cannot_fit_asks(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    panel = window.training
    qtbot.waitUntil(lambda: panel.estimate.text().startswith("Needs ~"), timeout=CEILING_MS)
    assert "free on this machine" in panel.estimate.text()
    assert panel.estimate.parentWidget() is panel.controls.start_button.parentWidget()

    monkeypatch.setattr(preflight, "free_memory", lambda device="cpu": 80_000_000)
    panel.form.batch.setValue(4096)
    qtbot.waitUntil(lambda: "has 80.0 MB free: lower the batch to" in panel.estimate.text(),
                    timeout=CEILING_MS)
    asked: list[str] = []
    monkeypatch.setattr(panel, "ask_train_anyway", lambda text: asked.append(text) or False)
    panel.controls.start_button.click()
    assert asked and asked[0].startswith("needs ~")
    assert panel.job is None  # declined: nothing started

"""Closing the window never waits on the UI thread: it asks every job to stop, hides at once,
and closes for good when they have reported their end (app.workers.Closing)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app import workers
from app.main_window import MainWindow
from core.train.settings import Finished, Started, TrainingControl
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.training.out_dir = tmp_path / "runs"
    w.show()
    w.tabs.setCurrentWidget(w.training)
    return w


def test_an_idle_window_closes_at_once(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.closing.idle(), timeout=CEILING_MS)  # the tab's preview
    with qtbot.waitSignal(window.closed, timeout=0) as closed:
        assert window.close()
    assert closed.args == [True] and window.isHidden()


def test_close_while_training_returns_at_once_and_the_run_ends_as_stop_does(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's thread is held after the stop until close() has returned: a close that waited
    for the run (it did, up to 10 s) cannot return early, whatever the machine's speed."""
    gate = threading.Event()
    real = workers._training_events

    def held(spec: Any, dataset: str, settings: Any, out_dir: Path, control: TrainingControl,
             *rest: Any) -> Iterator[object]:
        for event in real(spec, dataset, settings, out_dir, control, *rest):
            if control.stop_requested:
                gate.wait(CEILING_MS / 1e3)
            yield event

    monkeypatch.setattr(workers, "_training_events", held)
    panel = window.training
    panel.form.epochs.setValue(500)
    panel.form.batch.setValue(8)
    events: list[object] = []
    panel.event_seen.connect(events.append)
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: len(panel.curves.series["batch_loss"][0]) > 0, timeout=CEILING_MS)
    started = next(e for e in events if isinstance(e, Started))

    began, cpu = time.perf_counter(), time.thread_time()
    closed_now = window.close()
    spent, cpu_spent = time.perf_counter() - began, time.thread_time() - cpu
    try:
        assert not closed_now and window.isHidden()  # hidden at once, closed once jobs end
        assert panel.running  # the run still ends its batch: nobody waited for it
        assert spent < 1.0 and cpu_spent < 0.1, (spent, cpu_spent)
        assert window.close() is False  # a second close while stopping: still hidden, no wait
    finally:
        gate.set()
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS) as closed:
        pass
    assert closed.args == [True]
    assert window.closing.idle() and not panel.running  # its run's thread has ended
    final = events[-1]
    assert isinstance(final, Finished) and final.stopped  # stopped as the Stop button does

    from core.train.checkpoint import open_run

    run = open_run(Path(started.run_dir))  # a consistent run folder: it opens
    assert run is not None


def test_a_preview_finishing_after_close_reaches_no_deleted_window(
        qtbot: QtBot, tmp_path: Path, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The Train tab's preview and estimate are computing when the window closes and it is
    deleted at once: their Workers outlive it and report to nobody (no "Signal source has been
    deleted", no crash)."""
    import threading

    from PySide6.QtCore import QCoreApplication, QEvent

    from app.train import preview

    # the preview is held until the window has closed (with its dataset cached by an earlier
    # test, it could finish between two looks and the test would wait for it for ever)
    closed_now = threading.Event()
    real_grid = preview._preview_grid

    def held_grid(*args: object) -> object:
        closed_now.wait(CEILING_MS / 1000)
        return real_grid(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(preview, "_preview_grid", held_grid)
    w = MainWindow()
    w.training.out_dir = tmp_path / "runs"
    w.show()
    w.tabs.setCurrentWidget(w.training)
    qtbot.waitUntil(lambda: w.training.form.preview._worker is not None, timeout=CEILING_MS)
    with qtbot.waitSignal(w.closed, timeout=CEILING_MS) as closed:
        w.close()
    closed_now.set()
    assert closed.args == [True]
    w.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    ending = workers.Closing(lambda: [], every_worker=True)  # as the application exits
    with qtbot.waitSignal(ending.ended, timeout=CEILING_MS) as ended:
        if ending.begin():
            ending.ended.emit(True)
    assert ended.args == [True] and workers.running_workers() == 0
    assert "Signal source has been deleted" not in capfd.readouterr().err

"""The Inspect tab never computes on the UI thread, shows progress and Cancel for slow work,
and follows the document's model, weights and run."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

import app.inspect.session as session_module
from app.main_window import MainWindow


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=60_000)


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def test_showing_the_tab_builds_the_model_on_the_worker_with_progress_and_cancel(
        qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    built_on: list[threading.Thread] = []
    release = threading.Event()
    real_build = session_module._build

    def slow_build(key: Any) -> Any:
        built_on.append(threading.current_thread())
        release.wait(10)  # a big model: the window must keep running meanwhile
        return real_build(key)

    monkeypatch.setattr(session_module, "_build", slow_build)
    start = time.perf_counter()
    window.tabs.setCurrentWidget(window.inspect)
    assert time.perf_counter() - start < 1.0  # returned at once, nothing computed here
    tab = window.inspect
    assert tab.busy
    qtbot.waitUntil(lambda: tab.busy_row.isVisible(), timeout=2000)  # after ~200 ms
    assert tab.cancel_button.isVisible()
    tab.cancel_button.click()
    assert not tab.busy and not tab.busy_row.isVisible()
    assert tab.view("Filters").filter_pane.data is None  # the cancelled result never shows
    release.set()
    tab.refresh()
    idle(qtbot, window)
    assert built_on and all(t is not threading.main_thread() for t in built_on)
    assert tab.view("Filters").filter_pane.data is not None
    tab.stop_workers()

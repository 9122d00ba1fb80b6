from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def convscope_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test gets its own settings, recent files and autosave folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("CONVSCOPE_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def collect_garbage_on_the_ui_thread() -> Iterator[None]:
    """Collect dead widgets on the UI thread before and after each test.

    Python's collector runs on whichever thread happens to allocate. When a worker thread (slide
    writing, an inspection) collects an earlier test's window wrappers, shiboken defers their
    deletion to the UI thread, and destroying them there deadlocked against the worker (seen:
    QObject::~QObject waiting on a Qt mutex while the worker waited for the GIL).
    """
    gc.collect()
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def delete_the_previous_tests_widgets(qapp: object) -> None:
    """Delete the widgets earlier tests closed (qtbot.addWidget calls deleteLater).

    Deferred deletes are delivered only by an event loop running at the level they were
    posted from, never by pytest-qt's processEvents() between tests: without this, 20 builder
    tests left 58,000 live widgets (7,700 windows) and a later font change re-polished them
    all for minutes on the UI thread."""
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves Python threads running (e.g. a training worker)."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()
                and not t.daemon]
    assert not leftover, f"threads left running: {leftover}"


@pytest.fixture(autouse=True)
def no_modal_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modal questions would block offscreen; tests that care replace these on the instance."""
    from PySide6.QtWidgets import QMessageBox

    from app.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_save_changes",
                        lambda self: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, recovery: False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "allow_ui_stalls: the UI-thread watchdog does not watch "
                                       "this test (it measures or provokes stalls itself)")


@pytest.fixture(scope="session", autouse=True)
def heavy_modules_loaded() -> None:
    """Load torch and the modules on it once, before the GUI tests, as the app's warm-up does.

    In the app a worker imports them after the first paint while the UI shows a busy cursor
    (app.warm_up); a test process loads them up front, so the watchdog below sees what the
    window does once they are loaded. The cold start has its own test in a fresh process
    (test_ui_stalls.py). gc.freeze keeps them out of full collections, as app.workers does
    for the app (whose collector runs on a UI-thread timer)."""
    from app.warm_up import _import_all

    _import_all()
    gc.freeze()


@pytest.fixture(autouse=True)
def ui_watchdog(request: pytest.FixtureRequest, qapp: object) -> Iterator[None]:
    """Fail a GUI test whose event loop did not answer for longer than the threshold (see
    tests/app/ui_watchdog.py for how stalls are told from test code and machine load)."""
    from app.warm_up import first_import_active
    from tests.app.ui_watchdog import UiWatchdog, threshold_ms

    limit = threshold_ms()
    if limit <= 0 or request.node.get_closest_marker("allow_ui_stalls"):
        yield
        return
    watchdog = UiWatchdog(limit / 1e3, excused=first_import_active)
    with watchdog.patched():
        watchdog.start()
        try:
            yield
        finally:
            watchdog.stop()
    if watchdog.stalls:
        pytest.fail(f"{len(watchdog.stalls)} UI-thread stall(s) (load average "
                    f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores); the first:\n"
                    + watchdog.stalls[0], pytrace=False)

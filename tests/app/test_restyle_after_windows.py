"""A text-size or present-mode switch after several windows were opened and closed restyles only
the window that is open: the closed windows, their views and their plots' menus are gone.

An application-wide font or palette change (View → Projector Text, present mode) re-polishes
every live widget. Closed windows kept alive (by a worker whose slots held their views, and
through them pyqtgraph's parentless menus) made that switch cost 370 ms on the UI thread after a
few test files, against 6 ms in a fresh process."""

from __future__ import annotations

import gc
import time
from collections import Counter

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from tests.app.waits import CEILING_MS

RESTYLE_CPU_S = 0.25
"""The UI thread's CPU time one switch may take (the watchdog's 250 ms, as CPU time: what
other processes take from this one on a loaded machine does not count)."""


def _use_every_inspect_view(qtbot: QtBot, window: MainWindow) -> None:
    """What leaves jobs and plots behind: each Inspect view clicked, its job run."""
    tab = window.inspect
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    for button in tab.views.bar.buttons:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    window.tabs.setCurrentWidget(window.training)


def _open_use_and_close(qtbot: QtBot) -> None:
    """A window opened, its Inspect views used, closed by the user, then deleted (as qtbot
    does after a test, sooner; not registered with it, so that it is not closed twice)."""
    window = MainWindow()
    window.show()
    _use_every_inspect_view(qtbot, window)
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS):
        window.close()
    QCoreApplication.processEvents()  # its zero timers run (as pytest-qt lets them after close)
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


def _live_widgets() -> Counter[str]:
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    return Counter(type(w).__name__ for w in QApplication.allWidgets())


def _cpu_of(action: object) -> float:
    started = time.thread_time()
    action.trigger()  # type: ignore[attr-defined]
    return time.thread_time() - started


def test_projector_text_and_present_mode_after_closed_windows_restyle_only_the_open_one(
        qtbot: QtBot) -> None:
    before = _live_widgets()
    for _ in range(3):
        _open_use_and_close(qtbot)
        try:  # what its timers and jobs still hold goes once they have run
            qtbot.waitUntil(lambda: not _live_widgets() - before, timeout=CEILING_MS)
        except qtbot.TimeoutError:
            left = _live_widgets() - before
            raise AssertionError(f"a closed window's widgets live on: "
                                 f"{dict(left.most_common(8))}") from None

    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    _use_every_inspect_view(qtbot, window)
    view = {a.text(): a for a in window.menuBar().actions()}["&View"].menu()
    assert view is not None
    actions = {a.text(): a for a in view.actions()}
    projector, normal = actions["&Projector Text (24 pt)"], actions["&Normal Text"]
    try:
        projector_cpu = _cpu_of(projector)
        assert QApplication.font().pointSize() == 24
        normal_cpu = _cpu_of(normal)
        assert QApplication.font().pointSize() == BASE_POINT_SIZE
        present = window.classroom.present_action
        enter_cpu = _cpu_of(present)
        assert window.classroom.present.active
        qtbot.waitUntil(lambda: window.isFullScreen(), timeout=CEILING_MS)
        leave_cpu = _cpu_of(present)
        assert not window.classroom.present.active
    finally:
        window.classroom.stop()
        window.set_font_size(0, BASE_POINT_SIZE)
    spent = {"projector text": projector_cpu, "normal text": normal_cpu,
             "present mode": enter_cpu, "leaving it": leave_cpu}
    slow = {k: f"{v * 1e3:.0f} ms" for k, v in spent.items() if v > RESTYLE_CPU_S}
    assert not slow, f"restyling took the UI thread {slow} with {len(QApplication.allWidgets())} " \
                     "live widgets"
    assert all(isinstance(w, QWidget) for w in QApplication.topLevelWidgets())

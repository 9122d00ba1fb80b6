"""The UI-thread watchdog itself: a blocking slot is caught, test code between spins is not."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from tests.app.ui_watchdog import UiWatchdog


def _blocking_slot() -> None:
    time.sleep(0.6)


@pytest.mark.allow_ui_stalls
def test_a_blocking_slot_is_caught_with_its_stack_and_test_code_is_not(qtbot: QtBot) -> None:
    watchdog = UiWatchdog(0.25)
    with watchdog.patched():
        watchdog.start()
        time.sleep(0.5)  # test code between event-loop spins: not a stall
        qtbot.wait(50)
        assert not watchdog.stalls
        QTimer.singleShot(0, _blocking_slot)
        qtbot.wait(900)
        watchdog.stop()
    assert len(watchdog.stalls) == 1, watchdog.stalls
    assert "_blocking_slot" in watchdog.stalls[0]
    assert 0.5 < watchdog.longest < 2.0


@pytest.mark.allow_ui_stalls
def test_a_marked_first_import_is_allowed(qtbot: QtBot) -> None:
    marked = [False]
    watchdog = UiWatchdog(0.25, excused=lambda: marked[0])

    def first_import() -> None:
        marked[0] = True
        time.sleep(0.6)
        marked[0] = False

    with watchdog.patched():
        watchdog.start()
        QTimer.singleShot(0, first_import)
        qtbot.wait(900)
        watchdog.stop()
    assert not watchdog.stalls


@pytest.mark.parametrize(("load_per_core", "expected"), [(0.3, 250.0), (1.0, 250.0),
                                                         (2.0, 500.0), (9.0, 1000.0)])
def test_the_gate_is_250_ms_scaled_by_the_load_per_core_up_to_1_s(
        monkeypatch: pytest.MonkeyPatch, load_per_core: float, expected: float) -> None:
    from tests.app import ui_watchdog

    monkeypatch.delenv("CONVSCOPE_UI_WATCHDOG_MS", raising=False)
    monkeypatch.setattr(ui_watchdog.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(ui_watchdog.os, "getloadavg",
                        lambda: (2 * load_per_core, 0.0, 0.0))
    assert ui_watchdog.threshold_ms() == pytest.approx(expected)

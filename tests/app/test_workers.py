"""The one worker mechanism: off the UI thread, latest wins, stale results dropped, cancel."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread
from pytestqt.qtbot import QtBot

from app.workers import Task, Worker, WorkerQueue
from tests.app.waits import CEILING_MS


def test_a_generator_runs_off_the_ui_thread_and_reports_on_it(qtbot: QtBot) -> None:
    ran_on: list[threading.Thread] = []
    heard_on: list[threading.Thread] = []
    values: list[int] = []

    def count() -> Iterator[int]:
        ran_on.append(threading.current_thread())
        yield from range(3)
        return 42  # type: ignore[return-value]

    worker = Worker(count)
    worker.yielded.connect(lambda v: (values.append(v),
                                      heard_on.append(threading.current_thread())))
    with qtbot.waitSignal(worker.returned, timeout=60_000) as returned:  # imports torch
        worker.start()
    qtbot.waitUntil(lambda: worker.is_done, timeout=CEILING_MS)
    assert returned.args == [42]
    assert values == [0, 1, 2]
    assert ran_on[0] is not threading.main_thread()
    assert all(t is threading.main_thread() for t in heard_on)


def test_the_latest_request_wins_and_the_stale_result_is_dropped(qtbot: QtBot) -> None:
    queue = WorkerQueue()
    release = threading.Event()
    shown: list[str] = []

    def slow(task: Task) -> str:
        while not release.wait(0.01):
            pass  # ignores cancel on purpose: its result must still be dropped
        return "old"

    first = queue.submit("view", slow)
    first.returned.connect(shown.append)
    second = queue.submit("view", lambda: "new")
    second.returned.connect(shown.append)
    assert first.abort_requested
    with qtbot.waitSignals([first.aborted, second.returned], timeout=CEILING_MS):
        release.set()
    assert shown == ["new"]
    assert not queue.busy()
    queue.shutdown()


def test_cancel_stops_a_cooperative_job_and_errors_arrive_as_a_signal(qtbot: QtBot) -> None:
    queue = WorkerQueue()
    steps: list[int] = []

    def endless(task: Task) -> None:
        for step in range(10**9):
            steps.append(step)
            task.progress(step, 10**9)
            threading.Event().wait(0.001)

    worker = queue.submit("dream", endless)
    qtbot.waitUntil(lambda: len(steps) > 3, timeout=CEILING_MS)
    with qtbot.waitSignal(worker.aborted, timeout=CEILING_MS):
        queue.cancel("dream")
    count = len(steps)
    qtbot.wait(50)
    assert len(steps) == count  # it stopped

    def broken() -> None:
        raise ValueError("no such layer")

    failing = queue.submit("view", broken)
    with qtbot.waitSignal(failing.errored, timeout=CEILING_MS) as errored:
        pass
    assert isinstance(errored.args[0], ValueError)
    assert queue.shutdown(CEILING_MS)


def test_different_keys_do_not_cancel_each_other(qtbot: QtBot) -> None:
    queue = WorkerQueue()
    results: list[str] = []
    one = queue.submit("view", lambda: "one")
    one.returned.connect(results.append)
    two = queue.submit("confusion", lambda: "two")
    two.returned.connect(results.append)
    qtbot.waitUntil(lambda: not queue.busy(), timeout=CEILING_MS)
    assert sorted(results) == ["one", "two"]
    queue.shutdown()


def test_with_automatic_collection_off_the_first_torch_import_freezes_what_is_loaded(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The app collects on a UI-thread timer; torch's ~400k objects are frozen once so a full
    collection there does not scan them every time (~290 ms)."""
    import gc

    import app.workers as workers

    monkeypatch.setattr(workers, "_frozen", False)
    gc.disable()
    try:
        workers.import_torch()
        assert gc.get_freeze_count() > 100_000
    finally:
        gc.unfreeze()
        gc.enable()
    monkeypatch.setattr(workers, "_frozen", False)
    workers.import_torch()  # automatic collection on (tests, scripts): nothing frozen
    assert gc.get_freeze_count() == 0


def test_closing_asks_every_job_to_stop_and_reports_when_they_have_ended(qtbot: QtBot) -> None:
    from app.workers import Closing

    queue = WorkerQueue()
    steps: list[int] = []

    def endless(task: Task) -> None:
        for step in range(10**9):
            steps.append(step)
            task.progress(step, 10**9)
            threading.Event().wait(0.001)

    worker = queue.submit("dream", endless)
    qtbot.waitUntil(lambda: len(steps) > 3, timeout=CEILING_MS)
    closing = Closing(lambda: [queue.pool])
    with qtbot.waitSignal(closing.ended, timeout=CEILING_MS) as ended:
        assert closing.begin() is False  # a job runs: nothing waited for here
        assert worker.abort_requested
    assert ended.args == [True] and closing.clean is True and closing.idle()


def test_closing_gives_up_after_its_cap_on_a_job_that_does_not_end(qtbot: QtBot) -> None:
    from app.workers import Closing

    release, entered = threading.Event(), threading.Event()

    def stubborn() -> None:  # ignores cancel
        entered.set()
        release.wait(CEILING_MS / 1e3)

    queue = WorkerQueue()
    queue.submit("stubborn", stubborn)
    qtbot.waitUntil(entered.is_set, timeout=CEILING_MS)
    closing = Closing(lambda: [queue.pool], cap_s=0.05)
    try:
        with qtbot.waitSignal(closing.ended, timeout=CEILING_MS) as ended:
            assert closing.begin() is False
        assert ended.args == [False] and closing.clean is False
    finally:
        release.set()
        assert queue.shutdown(CEILING_MS)


def test_a_short_job_runs_while_long_ones_hold_as_many_threads_as_there_are_cores(
        qtbot: QtBot) -> None:
    """On a 2-core machine the warm-up and an import held Qt's default pool (one thread per
    core) and the Import dialog's check of one model never started: the dialog waited with no
    end. One-off jobs now share a pool with more threads than cores."""
    release = threading.Event()
    cores = max(QThread.idealThreadCount(), 2)  # Qt's default pool size: one per core
    long_jobs = [Worker(release.wait, 600) for _ in range(cores)]
    try:
        for job in long_jobs:
            job.start()
        short = Worker(lambda: "checked")
        with qtbot.waitSignal(short.returned, timeout=60_000) as got:
            short.start()
        assert got.args == ["checked"]
    finally:
        release.set()
    qtbot.waitUntil(lambda: all(job.is_done for job in long_jobs), timeout=CEILING_MS)


def test_cancel_except_keeps_the_jobs_of_the_current_tag(qtbot: QtBot) -> None:
    queue = WorkerQueue()
    gate = threading.Event()

    def wait_then(text: str) -> str:
        gate.wait(CEILING_MS / 1000)
        return text

    old = queue.submit("view", wait_then, "old model")
    old.tag = 1
    kept = queue.submit("dream", wait_then, "new model")
    kept.tag = 2
    heard: list[str] = []
    old.aborted.connect(lambda: heard.append("aborted"))
    old.returned.connect(heard.append)
    kept.returned.connect(heard.append)
    queue.cancel_except(2)
    assert not queue.busy("view") and queue.busy("dream")
    gate.set()
    qtbot.waitUntil(lambda: len(heard) == 2, timeout=CEILING_MS)
    assert heard == ["aborted", "new model"]
    assert queue.shutdown(CEILING_MS)

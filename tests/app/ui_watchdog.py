"""A UI-thread watchdog for the GUI tests: a slot that keeps the event loop from answering for
longer than a threshold fails the test, with the UI thread's stack at that moment.

How it tells a stall from test code. A test blocks the UI thread legitimately whenever its own
code runs between event-loop spins; only time *inside* the event loop is measured. The watchdog
counts the event-loop depth by wrapping the ways in: ``QEventLoop.exec`` (every pytest-qt wait:
waitUntil, waitSignal, wait), ``QDialog.exec`` and ``QCoreApplication.processEvents`` (but
not pytest-qt's own call after each test phase, which runs what test code left pending). While the
depth is above zero, a 10 ms heartbeat QTimer stamps the time; a watcher thread looks every
10 ms and, when the last stamp (or the loop's entry) is older than the threshold, takes the UI
thread's stack (sys._current_frames) and records a stall once the loop answers again.

How it avoids false alarms on a busy machine. On Linux the UI thread's run-queue wait (the
time it was ready but another process had the core, /proc/self/task/<tid>/schedstat) is
subtracted from the gap: load from other processes does not count; the UI thread blocked on a
lock, a thread join, the GIL or its own computation does. So is the time of Python's garbage
collections on the UI thread (gc.callbacks): a test process holds more than the app, and its
full collections say nothing about the app, whose collector runs on a timer over a frozen heap
(app.main, app.workers); the GUI tests collect the same way (conftest ``collect_as_the_app``), so
no worker thread collects while holding the GIL. What remains under load is the GIL: a worker
preempted by another process while it holds the GIL keeps the UI thread waiting, asleep, not
in the run queue. So the threshold, 250 ms (a user notices a frozen window well before; far
above the 10 ms tick and the app's 1 ms GIL switch), grows with the machine's load: times the
1-minute load average per core when that is above 1, at most 4× (1 s).
``CONVSCOPE_UI_WATCHDOG_MS`` sets it outright (0 turns the watchdog off). Gaps while the app marks
a first import (app.warm_up: busy cursor and status line showing) are allowed; a test marked
``allow_ui_stalls`` is not watched.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer
from PySide6.QtWidgets import QDialog

DEFAULT_THRESHOLD_MS = 250.0
"""The issue's target, and the suite's gate (SUITE_THRESHOLD_MS)."""
SUITE_THRESHOLD_MS = DEFAULT_THRESHOLD_MS
"""What the suite fails on, times the load per core (at most 4×). It was 500 ms while two
stalls remained, both gone: 370 ms of Qt re-polishing when present mode or Projector Text
changed the application's font and palette, in a test process that still held earlier tests'
windows (workers whose slots held their views kept them, and pyqtgraph's parentless menus,
alive: tests/app/conftest.py now fails a test that leaves a window or top-level widget
behind); and 250–280 ms "GIL waits" while a worker rendered an export with matplotlib, which
were garbage collections on that worker (the GUI tests now collect on the UI thread, as the
app does) and a GIL held across 5 ms switch intervals (the app and the tests switch every
1 ms: benchmarks/bench_export_gil.py)."""
MAX_LOAD_FACTOR = 4.0


def threshold_ms() -> float:
    """The stall threshold now: the environment's, or 250 ms scaled by the load per core."""
    if "CONVSCOPE_UI_WATCHDOG_MS" in os.environ:
        return float(os.environ["CONVSCOPE_UI_WATCHDOG_MS"])
    try:
        per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    except OSError:
        per_core = 1.0
    return SUITE_THRESHOLD_MS * min(max(per_core, 1.0), MAX_LOAD_FACTOR)


class UiWatchdog:
    def __init__(self, threshold_s: float, excused: Callable[[], bool] = lambda: False) -> None:
        self.threshold = threshold_s
        self.excused = excused
        self.depth = 0
        self.stalls: list[str] = []
        self.longest = 0.0
        self._main = threading.main_thread().ident
        tid = threading.get_native_id()
        path = f"/proc/self/task/{tid}/schedstat"
        self._schedstat = path if os.path.exists(path) else None
        self._gc_total = 0.0
        """Seconds the UI thread spent in garbage collections (ended ones)."""
        self._gc_started = 0.0
        self._ref = (time.perf_counter(), self._run_queue_wait(), 0.0)
        """(time, the UI thread's run-queue wait, its gc time) at the last heartbeat."""
        self.heartbeat = QTimer()
        self.heartbeat.setInterval(10)
        self.heartbeat.timeout.connect(self._beat)
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="ui-watchdog", daemon=True)

    def _run_queue_wait(self) -> float:
        if self._schedstat is None:
            return 0.0
        try:
            with open(self._schedstat) as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def _beat(self) -> None:
        self._ref = (time.perf_counter(), self._run_queue_wait(), self._gc_total)

    def _gc(self, phase: str, _info: dict[str, int]) -> None:
        if threading.get_ident() != self._main:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
        elif self._gc_started:
            self._gc_total += time.perf_counter() - self._gc_started
            self._gc_started = 0.0

    def _gc_time(self) -> float:
        started = self._gc_started
        return self._gc_total + (time.perf_counter() - started if started else 0.0)

    # -- the event-loop depth, on the UI thread ---------------------------------------------
    def enter(self) -> None:
        if self.depth == 0:
            self._beat()
        self.depth += 1

    def leave(self) -> None:
        self.depth -= 1
        self._beat()

    @contextmanager
    def patched(self) -> Iterator[None]:
        """Count event-loop depth through every way in; restore them after."""
        originals: list[tuple[type, str, Any]] = []

        def wrap(cls: type, name: str) -> None:
            original = cls.__dict__[name]
            watchdog = self

            def spin(*args: Any, **kwargs: Any) -> Any:
                if sys._getframe(1).f_globals.get("__name__") == "pytestqt.plugin":
                    # pytest-qt's own processEvents after each test phase runs what the test
                    # code left pending (a window's first layout and paint, deferred deletes)
                    return original(*args, **kwargs)
                watchdog.enter()
                try:
                    return original(*args, **kwargs)
                finally:
                    watchdog.leave()

            originals.append((cls, name, original))
            setattr(cls, name, staticmethod(spin) if name == "processEvents" else spin)

        wrap(QEventLoop, "exec")
        wrap(QDialog, "exec")
        wrap(QCoreApplication, "processEvents")
        try:
            yield
        finally:
            for cls, name, original in originals:
                setattr(cls, name, original)

    # -- the watcher thread -----------------------------------------------------------------
    def start(self) -> None:
        gc.callbacks.append(self._gc)
        self.heartbeat.start()
        self._watcher.start()

    def stop(self) -> None:
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        self.heartbeat.stop()
        self._stop.set()
        self._watcher.join(5)

    def _watch(self) -> None:
        stalled: tuple[float, float, str] | None = None  # (ref time, busy s, UI stack)
        excused_ref = -1.0
        while not self._stop.wait(0.01):
            ref, ref_wait, ref_gc = self._ref
            if stalled is not None and (ref != stalled[0] or self.depth == 0):
                self._record(*stalled)
                stalled = None
            if self.depth == 0:
                continue
            if self.excused():
                excused_ref = ref
            if ref == excused_ref:
                continue
            gap = time.perf_counter() - ref
            if gap < self.threshold:
                continue
            busy = gap - (self._run_queue_wait() - ref_wait) - (self._gc_time() - ref_gc)
            if busy < self.threshold:
                continue
            stack = self._stacks() if stalled is None else stalled[2]
            stalled = (ref, busy, stack)
        if stalled is not None:
            self._record(*stalled)

    def _stacks(self) -> str:
        """The UI thread's stack, and the other threads' innermost frames (the UI thread may
        be waiting for the GIL that one of them holds, e.g. while it loads a library)."""
        frames = sys._current_frames()
        frame = frames.get(self._main)  # type: ignore[arg-type]
        if frame is None:
            return "(no stack)"
        stack = "".join(traceback.format_stack(frame))
        others = [f"--- thread {ident}:\n" + "".join(traceback.format_stack(f)[-3:])
                  for ident, f in frames.items()
                  if ident not in (self._main, threading.get_ident())]
        return (stack + "(its innermost frame may call C code: Qt, or a wait for the GIL that "
                "another thread holds) the other threads' innermost frames:\n"
                + "\n".join(others))

    def _record(self, _ref: float, busy: float, stack: str) -> None:
        self.longest = max(self.longest, busy)
        self.stalls.append(f"the UI thread did not answer for {busy * 1e3:.0f} ms (threshold "
                           f"{self.threshold * 1e3:.0f} ms; run-queue wait and garbage "
                           "collection excluded); its stack "
                           f"when the stall passed the threshold:\n{stack}")

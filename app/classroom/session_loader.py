"""Step sessions built on a worker thread, latest request wins.

A session (the model built with its weights, one forward pass capturing every layer's input)
takes seconds; only the newest request's result reaches the view, so an edit made while an
older session is building replaces it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Done(QObject):
    finished = Signal(int, object)


def _released() -> None:
    return None


class _Job(QRunnable):
    def __init__(self, request: int, work: Callable[[], Any], done: _Done) -> None:
        super().__init__()
        self.request, self.work, self.done = request, work, done
        # Python owns the job (released on the UI thread once its result arrived): a
        # pool-deleted runnable whose wrapper is collected later can crash the collector
        self.setAutoDelete(False)

    def run(self) -> None:
        from app.workers import import_torch

        try:
            import_torch()
            result = self.work()
        except Exception as exc:  # shown in the view, never lost
            result = exc
        self.work = _released  # the work's closure (figures, models) goes with this thread
        self.done.finished.emit(self.request, result)


class SessionLoader(QObject):
    """Builds step sessions on a worker thread; only the latest request's result is delivered."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.request = 0
        self._done = _Done(self)
        self._done.finished.connect(self._finished)
        self._jobs: dict[int, _Job] = {}

    def load(self, work: Callable[[], Any]) -> None:
        self.request += 1
        job = _Job(self.request, work, self._done)
        self._jobs[self.request] = job
        self.pool.start(job)

    @property
    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def _finished(self, request: int, result: object) -> None:
        self._jobs.pop(request, None)
        if request != self.request:
            return  # an older request: the model changed since
        if isinstance(result, Exception):
            self.failed.emit(str(result) or type(result).__name__)
        else:
            self.loaded.emit(result)

    def stop(self) -> None:
        """Drop every pending result; never waits (a session being built ends by itself, and
        closing the window waits for this pool on a timer: app.workers.Closing)."""
        self.request += 1


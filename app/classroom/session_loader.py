"""Step sessions built on a worker thread, latest request wins.

A session (the model built with its weights, one forward pass capturing every layer's input)
takes seconds; only the newest request's result reaches the view, so an edit made while an
older session is building replaces it.

Each request runs on the one worker mechanism (app.workers.Worker) on a pool of one thread
owned by the loader. A Worker lives until its last signal has reached the UI thread, whatever
becomes of the loader: a view closed (and deleted) while a session builds is never sent a
result from a deleted object ("Signal source has been deleted"), and nobody waits for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal

from app.workers import Worker


class SessionLoader(QObject):
    """Builds step sessions on a worker thread; only the latest request's result is delivered."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.request = 0

    def load(self, work: Callable[[], Any]) -> None:
        self.request += 1
        worker = Worker(work)
        worker.key = str(self.request)
        # bound slots, not lambdas: a deleted loader is disconnected before a late result
        worker.returned.connect(self._finished)
        worker.errored.connect(self._finished)
        worker.start(self.pool)

    @property
    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def _finished(self, result: object) -> None:
        sender = self.sender()
        if not isinstance(sender, Worker) or sender.key != str(self.request):
            return  # an older request: the model changed since
        if isinstance(result, Exception):
            self.failed.emit(str(result) or type(result).__name__)
        else:
            self.loaded.emit(result)

    def stop(self) -> None:
        """Drop every pending result; never waits (a session being built ends by itself, and
        closing the window waits for this pool on a timer: app.workers.Closing)."""
        self.request += 1

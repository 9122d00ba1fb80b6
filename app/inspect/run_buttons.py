"""A view's Run and Cancel buttons for one long job on the Inspect tab's queue (the dream, the
style transfer): Run starts it, Cancel and the job's end put the buttons back, and a job the
tab cancelled for a new model, weights or input says so."""

from __future__ import annotations

import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtWidgets import QLabel, QPushButton

from app.workers import Worker, WorkerQueue


class RunButtons:
    def __init__(self, run_text: str, key: str, queue: Callable[[], WorkerQueue],
                 notes: QLabel, what: str) -> None:
        self.run_button = QPushButton(run_text)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.key, self._queue, self.notes, self.what = key, queue, notes, what
        self.worker: Worker | None = None

    def started(self, worker: Worker) -> None:
        """``worker`` runs the job: Run waits, Cancel is offered, until it ends."""
        # by weak reference: a slot on the worker's own signal holding the worker is a cycle
        # through Qt's connection that Python's collector cannot see (app.workers.WorkerQueue)
        alive = weakref.ref(worker)
        worker.finished.connect(lambda: self._ended(alive()))
        worker.aborted.connect(self._aborted)
        self.worker = worker
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)

    def _alive(self) -> bool:
        """False once the view's widgets are gone (a job ending after its window closed)."""
        return all(shiboken6.isValid(w) for w in (self.notes, self.run_button,
                                                  self.cancel_button))

    def _aborted(self) -> None:
        if self._alive():
            self.notes.setText(f"The {self.what} was cancelled (Cancel, or the model, weights "
                               "or input changed): press the button again.")

    def _ended(self, worker: Worker | None) -> None:
        if worker is None or worker is not self.worker:
            return
        self.worker = None  # also when the view is gone: it must not hold the worker
        if self._alive():
            self.idle()

    def cancel(self) -> None:
        self._queue().cancel(self.key)
        self.idle()

    def idle(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.worker = None

"""The Label tab's work off the UI thread: the jobs (reading a folder, an image, thumbnails,
saving, the model's suggestions and its uncertainty order) and :class:`LabelJobs`, which runs
them on the tab's worker queue (latest request of a kind wins) and shows progress and Cancel
for any that takes over 200 ms.

The jobs import what they use there: the label files' readers and the model's helper import
torch (core.data, core.inspect), which the window's start-up and UI thread never do
(tests/app/test_startup.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QProgressBar, QPushButton

from app.label.canvas import pyramid
from app.label.thumbnails import THUMB
from app.workers import WorkerQueue

if TYPE_CHECKING:
    from core.labels.label_set import LabelSet
    from core.labels.proposals import Proposal
    from core.labels.suggest import Suggestion

PROGRESS_AFTER_MS = 200


def open_job(path: Path) -> Any:
    from core.labels.label_folder import open_labels

    return open_labels(path)


def image_job(path: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    from core.labels.images import read_rgb

    image = read_rgb(path)
    return image, pyramid(image)


def thumbnails_job(folder: Path, names: list[str], task: Any) -> Any:
    from core.labels.images import read_rgb

    for done, name in enumerate(names):
        task.check()
        try:
            yield name, read_rgb(folder / name, (THUMB, THUMB))[::2, ::2]
        except ValueError:
            continue
        task.progress(done + 1, len(names))


def save_job(labels: LabelSet, voc: bool) -> list[Path]:
    from core.labels.label_folder import save_labels

    return save_labels(labels, voc)


def suggest_job(spec: Any, weights: Path | None, run: Path | None,
                image: np.ndarray) -> tuple[Suggestion, list[Proposal]]:
    """The model's suggestion and its proposals, one per box and per mask region."""
    from core.labels.proposals import split
    from core.labels.suggest import model_helper, suggest

    found = suggest(model_helper(spec, weights, run), image)
    return found, split(found.mask, found.boxes)


def order_job(spec: Any, weights: Path | None, run: Path | None, paths: list[Path],
              task: Any) -> list[tuple[str, float]]:
    from core.labels.suggest import model_helper, uncertainty_order

    helper = model_helper(spec, weights, run)
    return uncertainty_order(helper, paths, lambda d, t: task.progress(d, t) or task.check())


class _Reply(QObject):
    """Hands a job's result to ``done`` while its tab lives (Qt drops the connection with it)."""

    def __init__(self, parent: QObject, done: Callable[[Any], None]) -> None:
        super().__init__(parent)
        self.done = done

    @Slot(object)
    def returned(self, value: Any) -> None:
        self.done(value)


class LabelJobs(QObject):
    """Runs the tab's jobs; a failure's first line goes to ``say``."""

    def __init__(self, tab: QObject, say: Callable[[str], None]) -> None:
        super().__init__(tab)
        self.tab, self.say = tab, say
        self.queue = WorkerQueue(tab)
        self.progress = QProgressBar()
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(lambda: self.queue.cancel())
        self.progress.hide()
        self.cancel.hide()

    def run(self, key: str, what: str, function: Callable[..., Any], *args: Any,
            done: Callable[[Any], None], quiet: bool = False) -> Any:
        worker = self.queue.submit(key, function, *args)
        reply = _Reply(self.tab, done)  # a child: a result after the tab is gone reaches no one
        worker.returned.connect(reply.returned)
        worker.finished.connect(reply.deleteLater)
        worker.errored.connect(self._failed)
        if quiet:
            return worker
        worker.progress.connect(self._progress)
        self.progress.setFormat(f"{what} %p%")

        def reveal() -> None:
            if not worker.is_done:
                self.progress.setRange(0, 0)
                self.progress.show()
                self.cancel.show()

        QTimer.singleShot(PROGRESS_AFTER_MS, self, reveal)
        worker.finished.connect(self.ended)
        return worker

    def _failed(self, exc: BaseException) -> None:
        self.say(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def ended(self) -> None:
        if not self.queue.busy():
            self.progress.hide()
            self.cancel.hide()

"""A view's Run, Cancel and Export PNG… buttons and its notes line, for one long job on the
Inspect tab's queue (the dream, the style transfer): Run starts it, Cancel and the job's end
put the buttons back, a job the tab cancelled for a new model, weights or input says so, and
Export writes the finished result as the figure ``convscope render`` writes, on the worker."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import shiboken6
from PySide6.QtWidgets import QLabel, QPushButton

if TYPE_CHECKING:
    from app.inspect.base import Context, InspectView
    from app.workers import Task, Worker


class Made(Protocol):
    """A finished result: its notes (weights, settings), and its figure as the command line
    draws it (called on the worker thread)."""

    @property
    def notes(self) -> list[str]: ...

    def figure(self, model_name: str) -> Any: ...


def notes_html(notes: list[str]) -> str:
    """The result's notes, a random-weights warning in bold."""
    return "<br>".join(f"<b>{note}</b>" if note.startswith("these are RANDOM") else note
                       for note in notes)


def write_figure(_context: Context, parameters: tuple[Made, str, Path], _task: Task) -> Path:
    """Worker: draw ``made``'s figure and write it all-or-nothing; a file that cannot be
    written is one line (InspectError), not a traceback."""
    from core.inspect import render
    from core.inspect.inspector import InspectError

    made, model_name, path = parameters
    try:
        return render.save_png(made.figure(model_name), path)
    except OSError as exc:
        raise InspectError(f"cannot write {path}: {exc.strerror or exc}") from exc


class RunButtons:
    def __init__(self, view: InspectView, run_text: str, key: str, what: str) -> None:
        self.view, self.key, self.what = view, key, what
        self.run_button = QPushButton(run_text)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton("Export PNG…")
        self.export_button.setToolTip(f"Write the {what} as a PNG figure (the same as "
                                      f"convscope render {key})")
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(self.export)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.worker: Worker | None = None
        self.made: Made | None = None
        """The last finished result (None until there is one, and after a reset)."""

    def start(self, compute: Any, parameters: Any, show: Callable[[Any], None],
              label: str) -> Worker:
        """Run ``compute(context, parameters, task)`` on the tab's queue; the :class:`Made` it
        returns is drawn by ``show`` (the view's panes), its notes below, and can be exported."""
        worker = self.view.tab.run(self.view, self.key, compute, parameters,
                                   lambda made, _parameters: self._finished(made, show),
                                   label=label)
        # by weak reference: a slot on the worker's own signal holding the worker is a cycle
        # through Qt's connection that Python's collector cannot see (app.workers.WorkerQueue)
        alive = weakref.ref(worker)
        worker.finished.connect(lambda: self._ended(alive()))
        worker.aborted.connect(self._aborted)
        self.worker = worker
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        return worker

    def _finished(self, made: Made, show: Callable[[Any], None]) -> None:
        show(made)
        self.notes.setText(notes_html(made.notes))
        self.made = made
        self.export_button.setEnabled(True)

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
        self.view.tab.queue.cancel(self.key)
        self.idle()

    def idle(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.worker = None

    def reset(self) -> None:
        """The pictures were cleared (another model, weights or input): nothing to export."""
        self.made = None
        self.export_button.setEnabled(False)
        self.notes.setText("")

    # -- export -------------------------------------------------------------------------------
    def export(self) -> None:
        tab = self.view.tab
        name = tab.document.spec.name
        path = tab.save_path("Export PNG", f"{name}-{self.key}.png", "PNG image (*.png)")
        if path is not None:
            self.export_to(path)

    def export_to(self, path: Path) -> Worker | None:
        """Write the finished result to ``path`` (.png added) on the worker; the status line
        says where it went, the tab's message line why it could not."""
        if self.made is None:
            return None
        if path.suffix.lower() != ".png":
            path = path.with_suffix(path.suffix + ".png")
        tab = self.view.tab
        return tab.run(self.view, f"{self.key}-export", write_figure,
                       (self.made, tab.document.spec.name, path), tab.exported,
                       uses_input=False, label="exporting…")

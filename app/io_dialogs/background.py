"""What the import and export dialogs share: a dialog whose OK runs a job off the UI thread,
with a busy bar and Cancel (a cancelled job's result is dropped), and their small widgets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app import warm_up
from app.style import error_html
from app.workers import Worker
from core.model.errors import ModelError


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ModelError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _BackgroundDialog(QDialog):
    """A dialog whose OK runs a function off the UI thread, with a busy bar and Cancel.

    The job is an app.workers Worker: it reports on the UI thread and its pool thread ends by
    itself, so the dialog closes the moment the job reports and never joins a thread (a join
    on the UI thread froze the dialog for 60 s: the thread's quit was queued to the very
    thread that waited)."""

    def __init__(self, parent: QWidget | None, title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._worker: Worker | None = None
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.cancel)

    @property
    def running(self) -> bool:
        """A job is running whose result the dialog still waits for."""
        return self._worker is not None and not self._worker.is_done

    def start(self) -> None:  # overridden: build the work, then call self._run(work)
        raise NotImplementedError

    def _run(self, work: Callable[[], Any], what: str,
             first_imports: tuple[str, ...] = ()) -> None:
        """Run ``work`` on a worker. While it imports ``first_imports`` for the first time
        (onnx: a large library whose loading holds the GIL, so the UI thread waits) it is a
        marked first import: busy cursor and status line (app.warm_up)."""
        if self._worker is not None:
            self._worker.quit()  # a newer job: the older one's result is dropped
        self.status.setText(what)
        self.busy.show()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        worker = Worker(work)
        # bound slots, not lambdas: a closed dialog is disconnected before a late result comes
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        self._worker = worker
        if warm_up.missing(first_imports):
            warm_up.begin_first_import(what)
            worker.finished.connect(warm_up.end_first_import)
        worker.start()

    def _returned(self, result: Any) -> None:
        self._finished(self.sender(), result, "")

    def _errored(self, exc: BaseException) -> None:
        self._finished(self.sender(), None, _error_text(exc))

    def _finished(self, worker: object, result: Any, error: str) -> None:
        if worker is not self._worker:
            return  # cancelled or replaced: drop it
        self._worker = None
        self.busy.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        if error:
            self.status.setText(error_html(f"⚠ {error}"))
        else:
            self.succeeded(result)

    def succeeded(self, result: Any) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        if self.running:
            self._drop_job()
            self.busy.hide()
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
            self.status.setText("Cancelled.")
            return
        self.reject()

    def _drop_job(self) -> None:
        if self._worker is not None:
            self._worker.quit()  # the result, when it comes, is dropped
            self._worker = None

    def done(self, code: int) -> None:
        """Close now; a job still running finishes on its own and its result is dropped."""
        self._drop_job()
        super().done(code)


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    font = label.font()
    font.setItalic(True)  # quieter than the choices, still readable when projected
    label.setFont(font)
    return label


def _path_row(edit: QLineEdit, browse: Callable[[], None]) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row.addWidget(button)
    return row

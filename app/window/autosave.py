"""Unsaved work: an autosave a few seconds behind the edits, and at start-up the offer to
restore what a crashed session left (core.workspace.Autosave keeps the files)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox

from app.document import ModelDocument
from core.workspace import Autosave, Recovery

AUTOSAVE_MS = 3000


class UnsavedWork:
    """The window's autosave (written while there are unsaved changes) and its recovery."""

    def __init__(self, window: QMainWindow, document: ModelDocument,
                 restored: Callable[[], None]) -> None:
        self.window = window
        self.document = document
        self.restored = restored
        """Called once restored work is loaded (the title shows it unsaved)."""
        self.autosave = Autosave()
        self._autosaved_index = -1
        self.timer = QTimer(window)
        self.timer.timeout.connect(self.write)
        self.timer.start(AUTOSAVE_MS)

    def _say(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    def write(self) -> None:
        """Keep an autosave while there are unsaved changes (at most a few seconds behind)."""
        index = self.document.undo_stack.index()
        if not self.document.dirty:
            self.autosave.discard()
            self._autosaved_index = -1
            return
        if index == self._autosaved_index:
            return
        try:
            self.autosave.write(self.document.spec, self.document.path)
            self._autosaved_index = index
        except OSError as exc:
            self._say(f"Autosave failed: {exc}", 8000)

    def ask_restore(self, recovery: Recovery) -> bool:
        answer = QMessageBox.question(
            self.window, "Restore unsaved work?",
            f"ConvScope did not close normally last time. Restore {recovery.describe()}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def offer_recovery(self) -> None:
        """At start-up: offer to restore what a crashed session left."""
        pending = self.autosave.pending()  # only autosaves whose window is gone; never raises
        if self.autosave.set_aside:
            self._say("; ".join(self.autosave.set_aside), 15000)
        for index, recovery in enumerate(pending):
            if not self.ask_restore(recovery):
                recovery.remove()  # declined
                continue
            recovery.claim()  # renamed aside, not deleted, until the model has loaded
            try:
                self.document.load(recovery.spec, recovery.source)
            except Exception as exc:  # whatever the model does, start-up must reach the window
                message = recovery.failed(str(exc).splitlines()[0] if str(exc)
                                          else type(exc).__name__)
                self._say(message, 30000)
                continue
            recovery.remove()
            # restored work is unsaved until the user saves it
            self.document.undo_stack.resetClean()
            self.restored()
            self._say(f"Restored {recovery.describe()}", 10000)
            for later in pending[index + 1:]:
                later.keep()  # offered at a later start
            break

    def close(self) -> None:
        """The window closes normally: no autosave is left for a later start to offer."""
        self.timer.stop()
        self.autosave.close()

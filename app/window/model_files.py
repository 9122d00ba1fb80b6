"""File → New, Open, Open Recent, Presets, Save and Save As: the model file the document holds."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from app.document import ModelDocument
from core.model.editing import empty_model
from core.model.errors import ModelError
from core.model.spec import load_model
from core.presets import load_preset
from core.workspace import Autosave, Settings

MODEL_FILTER = "ConvScope models (*.json)"


class ModelFiles:
    """Opening and saving the document's model; every action asks before unsaved work goes."""

    def __init__(self, window: QMainWindow, document: ModelDocument, settings: Settings,
                 autosave: Autosave) -> None:
        self.window = window
        self.document = document
        self.settings = settings
        self.autosave = autosave

    def refused_while_training(self) -> bool:
        """True (after saying why) while a run trains: the model must not change under it."""
        if self.document.locked_reason:
            QMessageBox.information(self.window, "Training", self.document.locked_reason)
            return True
        return False

    def may_replace(self) -> bool:
        """Whether another model may replace this one now: not while training, and not before
        the user has saved or discarded unsaved changes."""
        return not self.refused_while_training() and self.maybe_save()

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self.window, "Unsaved changes",
            f'"{self.document.spec.name}" has unsaved changes. Save them first?',
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)

    def maybe_save(self) -> bool:
        """True when it is fine to throw the current model away."""
        if not self.document.dirty:
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -- opening ----------------------------------------------------------------------------
    def new_model(self) -> None:
        if self.may_replace():
            self.document.load(empty_model(), None)

    def open_preset(self, key: str) -> None:
        if self.may_replace():
            self.document.load(load_preset(key), None)

    def open_dialog(self) -> None:
        if not self.may_replace():
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", str(Path.cwd()),
                                              f"{MODEL_FILTER};;All files (*)")
        if path:
            self.open_file(Path(path), ask=False)

    def open_file(self, path: Path, ask: bool = True) -> bool:
        if self.refused_while_training() or (ask and not self.maybe_save()):
            return False
        try:
            spec = load_model(path, strict=False)  # connection problems are shown on the layer
        except ModelError as exc:
            QMessageBox.warning(self.window, "Cannot open model", str(exc))
            return False
        self.document.load(spec, path)
        self.settings.add_recent(path)
        return True

    def fill_recent(self, menu: QMenu,
                    action: Callable[[str, Callable[..., object]], QAction]) -> None:
        """The recent files that still exist, newest first (``action`` makes a menu action)."""
        menu.clear()
        files = [p for p in self.settings.recent_files() if p.exists()]
        for path in files:
            menu.addAction(action(str(path), lambda _c=False, p=path: self.open_file(p)))
        if not files:
            menu.addAction("(none)").setEnabled(False)

    # -- saving -----------------------------------------------------------------------------
    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        start = str(self.document.path or Path.cwd() / f"{self.document.spec.name}.json")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save model", start, MODEL_FILTER)
        if not path:
            return False
        target = Path(path)
        if target.suffix.lower() != ".json":
            target = target.with_suffix(".json")
        return self._save_to(target)

    def _save_to(self, path: Path) -> bool:
        try:
            self.document.save(path)
        except OSError as exc:
            QMessageBox.warning(self.window, "Cannot save", f"{path}: {exc.strerror or exc}")
            return False
        self.settings.add_recent(path)
        self.autosave.discard()
        self.window.statusBar().showMessage(f"Saved {path}", 5000)
        return True

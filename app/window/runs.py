"""File → Open Trained Run: a run folder's model in the builder, its best weights in Inspect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from app.document import ModelDocument
from app.window.model_files import ModelFiles
from core.model.errors import ModelError


class RunFiles:
    """Reopening runs; ``runs_folder`` says where the dialog starts (the Train tab's folder)."""

    def __init__(self, window: QMainWindow, document: ModelDocument, files: ModelFiles,
                 runs_folder: Callable[[], Path]) -> None:
        self.window = window
        self.document = document
        self.files = files
        self.runs_folder = runs_folder

    def open_run_dialog(self) -> None:
        if not self.files.may_replace():
            return
        path = QFileDialog.getExistingDirectory(self.window, "Open a training run folder",
                                                str(self.runs_folder()))
        if path:
            self.open_run(Path(path))

    def open_run(self, run: Path) -> bool:
        """Reopen a trained model: its model file in the builder, its best weights in Inspect."""
        from core.train.checkpoint import UI_CHECK_BYTES, open_run

        try:
            opened = open_run(run, check_up_to=UI_CHECK_BYTES)
        except ModelError as exc:
            QMessageBox.warning(self.window, "Cannot open run", str(exc))
            return False
        self.document.load(opened.spec, None, opened.weights, opened.run_dir)
        self.window.statusBar().showMessage(f"Opened {opened.run_dir} ({opened.weights.name})",
                                            8000)
        return True

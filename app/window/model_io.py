"""File → Import Model, Export Model and Export Diagram, the window's side of core.io (the
dialogs themselves are app.io_dialogs)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from app.build.diagram import DiagramView
from app.document import ModelDocument
from app.window.model_files import ModelFiles
from core.workspace import Settings


class ModelImportExport:
    """Importing a model (with its weights) into the document; exporting the document's."""

    def __init__(self, window: QMainWindow, document: ModelDocument, settings: Settings,
                 files: ModelFiles, diagram: DiagramView) -> None:
        self.window = window
        self.document = document
        self.settings = settings
        self.files = files
        self.diagram = diagram

    def _say(self, text: str, ms: int) -> None:
        self.window.statusBar().showMessage(text, ms)

    def import_dialog(self) -> None:
        if not self.files.may_replace():
            return
        from app.io_dialogs import ImportDialog

        folder = Path(self.settings.get("import_folder", str(Path.cwd())))
        dialog = ImportDialog(self.window, folder if folder.is_dir() else None)
        dialog.imported.connect(self.open_imported)
        dialog.exec()

    def open_imported(self, model: Path, weights: Path | None) -> None:
        """Open an imported model file, with the weights written beside it when there are."""
        self.settings.set("import_folder", str(model.parent))  # the next import starts there
        if not self.files.open_file(model, ask=False):
            return
        if weights is not None:
            self.document.use_weights(weights, None)
        self._say(f"Imported {model}" + (f" with weights {weights.name}" if weights else ""),
                  10000)

    def export_dialog(self) -> None:
        from app.io_dialogs import ExportDialog

        dialog = ExportDialog(self.document.spec, self.document.weights, self.document.run_dir,
                              self.window)
        dialog.exported.connect(lambda line: self._say(line, 30000))
        dialog.exec()

    def export_diagram(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self.window, "Export diagram", f"{self.document.spec.name}-diagram.png",
            "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() not in (".png", ".svg"):
            target = target.with_suffix(".png")
        try:
            self.diagram.export(target)
        except OSError as exc:
            QMessageBox.warning(self.window, "Cannot export", str(exc))
            return
        self._say(f"Exported {target}", 5000)

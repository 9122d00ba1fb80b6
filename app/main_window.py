"""ConvScope's main window: palette, layer list, diagram, property editor and totals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.diagram import DiagramView
from app.document import ModelDocument
from app.inspect import InspectTab
from app.layer_table import LayerTable
from app.palette import LayerPalette
from app.property_editor import PropertyEditor
from app.style import BASE_POINT_SIZE, apply_theme
from app.training_panel import TrainingPanel
from core.analysis.summary import (
    format_bytes,
    format_count,
    format_macs,
    format_markdown,
    format_table,
    shape_text,
)
from core.model.editing import empty_model
from core.model.errors import ModelError
from core.model.spec import ModelSpec, load_model
from core.presets import DEFAULT_PRESET, list_presets, load_preset
from core.workspace import Autosave, Recovery, Settings

AUTOSAVE_MS = 3000
SHAPE_LABELS = {1: ("features",), 2: ("channels", "length"), 3: ("channels", "height", "width"),
                4: ("channels", "depth", "height", "width")}


class InputShapeBar(QWidget):
    """The model's name and input shape (channels, height, width) at the top of the window."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__()
        self.document = document
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(4, 2, 4, 2)
        self.layout_.addWidget(QLabel("Model"))
        self.name = QLineEdit()
        self.name.setMinimumWidth(self.name.fontMetrics().horizontalAdvance("x" * 18))
        self.name.setMaximumWidth(420)
        self.name.editingFinished.connect(lambda: document.rename_model(self.name.text()))
        self.layout_.addWidget(self.name)
        self.layout_.addSpacing(16)
        self.layout_.addWidget(QLabel("Input"))
        self.spins: list[QSpinBox] = []
        self.spin_row = QHBoxLayout()
        self.layout_.addLayout(self.spin_row)
        self.layout_.addStretch(1)
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        shape = self.document.spec.input_shape
        if len(self.spins) != len(shape):
            while self.spin_row.count():
                item = self.spin_row.takeAt(0)
                if item.widget():
                    item.widget().deleteLater()
            self.spins = []
            for label in SHAPE_LABELS[len(shape)]:
                spin = QSpinBox()
                spin.setRange(1, 100_000)
                spin.setPrefix(f"{label} ")
                spin.setToolTip(f"Input {label} (the batch is not part of the shape)")
                spin.setKeyboardTracking(True)
                spin.valueChanged.connect(self._changed)
                self.spin_row.addWidget(spin)
                self.spins.append(spin)
        for spin, value in zip(self.spins, shape, strict=True):
            if spin.value() != value and not spin.hasFocus():
                spin.blockSignals(True)
                spin.setValue(max(spin.minimum(), min(spin.maximum(), value)))
                spin.blockSignals(False)
        if not self.name.hasFocus():
            self.name.setText(self.document.spec.name)

    def _changed(self) -> None:
        self.document.set_input_shape(tuple(s.value() for s in self.spins))


class TotalsBar(QLabel):
    """Totals always in view: parameters (trainable / frozen), MACs, memory, output."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__()
        self.document = document
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setContentsMargins(6, 4, 6, 4)
        self.setWordWrap(True)  # at projector font sizes the totals wrap, not widen the window
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        a = self.document.analysis
        out = shape_text(a.output_shape) if a.output_shape else "—"
        parts = [
            f"<b>Parameters {format_count(a.total_params)}</b>",
            f"trainable {format_count(a.trainable_params)}",
            f"frozen {format_count(a.non_trainable_params)}",
            f"MACs {format_macs(a.total_macs)}",
            f"activations {format_bytes(a.activation_bytes)}/sample",
            f"weights {format_bytes(a.total_params * 4)}",
            f"output {out}",
        ]
        text = " &nbsp;·&nbsp; ".join(parts)
        if a.error is not None:
            text += (f"<br><span style='color:#d62828'><b>⚠ {a.error.layer}</b>: "
                     f"{a.error.reason}</span> <i>(totals cover the layers above it)</i>")
        self.setText(text)


class MainWindow(QMainWindow):
    def __init__(self, spec: ModelSpec | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.document = ModelDocument(spec or load_preset(DEFAULT_PRESET), self)
        self.autosave = Autosave()
        self._autosaved_index = -1
        self.palette_widget = LayerPalette()
        self.table = LayerTable(self.document)
        self.diagram = DiagramView(self.document)
        self.editor = PropertyEditor(self.document)
        self.shape_bar = InputShapeBar(self.document)
        self.totals = TotalsBar(self.document)
        self.training = TrainingPanel(self.document)
        self.inspect = InspectTab(self.document)
        self._build_layout()
        self._build_menus()
        self.palette_widget.add_requested.connect(self.add_layer_after_current)
        self.document.changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.document.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.write_autosave)
        self.timer.start(AUTOSAVE_MS)
        self._update_title()
        self.resize(1400, 860)

    # -- layout -----------------------------------------------------------------------------
    def _build_layout(self) -> None:
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.shape_bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        diagram_box = QWidget()
        diagram_layout = QVBoxLayout(diagram_box)
        diagram_layout.setContentsMargins(0, 0, 0, 0)
        tools = QHBoxLayout()
        legend = QLabel("<b>Diagram</b> — block height: feature-map size, width: channels; "
                        "arcs: skip connections")
        legend.setWordWrap(True)
        tools.addWidget(legend, 1)
        tools.addStretch(1)
        for text, slot in (("Fit", self.diagram.fit), ("Export…", self.export_diagram)):
            button = QToolButton()
            button.setText(text)
            button.clicked.connect(slot)
            tools.addWidget(button)
        diagram_layout.addLayout(tools)
        diagram_layout.addWidget(self.diagram)
        splitter.addWidget(diagram_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.tabs = QTabWidget()
        self.tabs.addTab(splitter, "Build")
        self.tabs.addTab(self.training, "Train")
        self.tabs.addTab(self.inspect, "Inspect")
        self.training.event_seen.connect(self._training_event)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.totals)
        self.setCentralWidget(center)
        self.training.run_started.connect(lambda: self._set_locked(True))
        self.training.run_finished.connect(lambda _e: self._set_locked(False))
        for title, widget, area in (("Layers", self.palette_widget,
                                     Qt.DockWidgetArea.LeftDockWidgetArea),
                                    ("Properties", self.editor,
                                     Qt.DockWidgetArea.RightDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(title)
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                             | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
            self.addDockWidget(area, dock)
        self.resizeDocks([self.findChild(QDockWidget, "Layers")], [230],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.findChild(QDockWidget, "Properties")], [380],
                         Qt.Orientation.Horizontal)

    def _action(self, text: str, slot: object, shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            if isinstance(shortcut, list):
                action.setShortcuts(shortcut)
            else:
                action.setShortcut(shortcut)
        action.setStatusTip(tip)
        action.triggered.connect(slot)  # type: ignore[arg-type]
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("&New", self.new_model, QKeySequence.StandardKey.New))
        file_menu.addAction(self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        presets = file_menu.addMenu("&Presets")
        for preset in list_presets():
            action = self._action(f"{preset.name}", lambda _c=False, k=preset.key:
                                  self.open_preset(k), tip=preset.description)
            action.setToolTip(preset.description)
            presets.addAction(action)
        presets.setToolTipsVisible(True)
        file_menu.addAction(self._action("Open Trained &Run…", self.open_run_dialog))
        file_menu.addAction(self._action("&Import Model…", self.import_dialog,
                                         tip="A torchvision model or an ONNX file"))
        file_menu.addAction(self._action("E&xport Model…", self.export_dialog,
                                         tip="PyTorch code, ONNX, TorchScript or a training "
                                         "script for torchrun"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Save", self.save, QKeySequence.StandardKey.Save))
        file_menu.addAction(self._action("Save &As…", self.save_as,
                                         QKeySequence.StandardKey.SaveAs))
        file_menu.addSeparator()
        file_menu.addAction(self._action("Export &Diagram…", self.export_diagram))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", self.close, QKeySequence.StandardKey.Quit))

        edit = bar.addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.undo_action, self.redo_action = undo, redo
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        delete = self._action("&Delete Layer", self.delete_selected,
                              QKeySequence(Qt.Key.Key_Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.table.addAction(delete)
        edit.addAction(delete)
        edit.addAction(self._action("D&uplicate Layer", self.duplicate_current, "Ctrl+D"))
        edit.addAction(self._action("Re&name Layer…", self.rename_current, "F2"))
        edit.addAction(self._action("Move Layer &Up", lambda: self._move(-1), "Alt+Up"))
        edit.addAction(self._action("Move Layer Do&wn", lambda: self._move(1), "Alt+Down"))
        edit.addSeparator()
        edit.addAction(self._action("&Copy Summary as Text", self.copy_text, "Ctrl+Shift+C"))
        edit.addAction(self._action("Copy Summary as &Markdown", self.copy_markdown,
                                    "Ctrl+Shift+M"))

        view = bar.addMenu("&View")
        view.addAction(self._action("&Larger Text", lambda: self.set_font_size(+2),
                                    QKeySequence.StandardKey.ZoomIn))
        view.addAction(self._action("&Smaller Text", lambda: self.set_font_size(-2),
                                    QKeySequence.StandardKey.ZoomOut))
        view.addAction(self._action("&Projector Text (24 pt)", lambda: self.set_font_size(0, 24)))
        view.addAction(self._action("&Normal Text", lambda: self.set_font_size(0,
                                                                               BASE_POINT_SIZE)))
        self.dark_action = self._action("&Dark Theme", self.toggle_dark)
        self.dark_action.setCheckable(True)
        self.dark_action.setChecked(self.settings.get("dark", False))
        view.addAction(self.dark_action)
        view.addAction(self._action("&Fit Diagram", self.diagram.fit, "Ctrl+0"))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About Layers", self._about))

    # -- title, autosave, close -------------------------------------------------------------
    def _update_title(self, *_: object) -> None:
        star = "*" if self.document.dirty else ""
        self.setWindowTitle(f"ConvScope — {self.document.spec.name}{star}")

    def write_autosave(self) -> None:
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
            self.statusBar().showMessage(f"Autosave failed: {exc}", 8000)

    def offer_recovery(self) -> None:
        """At start-up: offer to restore what a crashed session left."""
        pending = self.autosave.pending()  # only autosaves whose window is gone; never raises
        if self.autosave.set_aside:
            self.statusBar().showMessage("; ".join(self.autosave.set_aside), 15000)
        for index, recovery in enumerate(pending):
            restore = self.ask_restore(recovery)
            recovery.remove()  # only once it was restored or declined
            if restore:
                self.document.load(recovery.spec, recovery.source)
                # restored work is unsaved until the user saves it
                self.document.undo_stack.resetClean()
                self._update_title()
                self.statusBar().showMessage(f"Restored {recovery.describe()}", 10000)
                for later in pending[index + 1:]:
                    later.keep()  # offered at a later start
                break

    def ask_restore(self, recovery: Recovery) -> bool:
        answer = QMessageBox.question(
            self, "Restore unsaved work?",
            f"ConvScope did not close normally last time. Restore {recovery.describe()}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.Yes)
        return answer == QMessageBox.StandardButton.Yes

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self, "Unsaved changes",
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

    def _training_event(self, event: object) -> None:
        """Keep the Inspect views on the weights being trained."""
        from core.train.settings import EpochEnd, FilterSnapshot, Finished

        if isinstance(event, FilterSnapshot):
            self.inspect.live_filters(event.layer, event.weights)
        elif isinstance(event, EpochEnd):
            self.document.use_weights(Path(event.checkpoint), self.training.run_dir)
        elif isinstance(event, Finished) and Path(event.checkpoint).is_file():
            self.document.use_weights(Path(event.checkpoint), Path(event.run_dir))

    def open_run_dialog(self) -> None:
        if self._locked() or not self.maybe_save():
            return
        path = QFileDialog.getExistingDirectory(self, "Open a training run folder",
                                                str(self.training.out_dir))
        if path:
            self.open_run(Path(path))

    def open_run(self, run: Path) -> bool:
        """Reopen a trained model: its model file in the builder, its best weights in Inspect."""
        from core.train.checkpoint import open_run

        try:
            opened = open_run(run)
        except ModelError as exc:
            QMessageBox.warning(self, "Cannot open run", str(exc))
            return False
        self.document.load(opened.spec, None, opened.weights, opened.run_dir)
        self.statusBar().showMessage(f"Opened {opened.run_dir} ({opened.weights.name})", 8000)
        return True

    def import_dialog(self) -> None:
        if self._locked() or not self.maybe_save():
            return
        from app.io_dialogs import ImportDialog

        dialog = ImportDialog(self)
        dialog.imported.connect(self.open_imported)
        dialog.exec()

    def open_imported(self, model: Path, weights: Path | None) -> None:
        """Open an imported model file, with the weights written beside it when there are."""
        if self.open_file(model, ask=False) and weights is not None:
            self.weights.use(weights, None)
        self.statusBar().showMessage(f"Imported {model}" + (f" with weights {weights.name}"
                                                             if weights else ""), 10000)

    def export_dialog(self) -> None:
        from app.io_dialogs import ExportDialog

        dialog = ExportDialog(self.document.spec, self.weights.path, self.weights.run_dir, self)
        dialog.exported.connect(lambda line: self.statusBar().showMessage(line, 30000))
        dialog.exec()

    def _set_locked(self, locked: bool) -> None:
        """While a run trains, the builder shows the snapshot that trains and refuses edits."""
        self.palette_widget.setEnabled(not locked)
        self.editor.setEnabled(not locked)
        self.shape_bar.setEnabled(not locked)
        if locked:
            self.statusBar().showMessage(self.document.locked_reason)
        else:
            self.statusBar().clearMessage()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        if self.training.running:
            # stop cleanly: the engine writes a checkpoint of the weights as they are
            self.training.stop(wait_ms=10_000)
        self.inspect.stop_workers()
        self.timer.stop()
        self.autosave.close()
        event.accept()

    # -- files ------------------------------------------------------------------------------
    def _locked(self) -> bool:
        if self.document.locked_reason:
            QMessageBox.information(self, "Training", self.document.locked_reason)
            return True
        return False

    def new_model(self) -> None:
        if not self._locked() and self.maybe_save():
            self.document.load(empty_model(), None)

    def open_preset(self, key: str) -> None:
        if not self._locked() and self.maybe_save():
            self.document.load(load_preset(key), None)

    def open_dialog(self) -> None:
        if self._locked() or not self.maybe_save():
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open model", str(Path.cwd()),
                                              "ConvScope models (*.json);;All files (*)")
        if path:
            self.open_file(Path(path), ask=False)

    def open_file(self, path: Path, ask: bool = True) -> bool:
        if self._locked() or (ask and not self.maybe_save()):
            return False
        try:
            spec = load_model(path, strict=False)  # connection problems are shown on the layer
        except ModelError as exc:
            QMessageBox.warning(self, "Cannot open model", str(exc))
            return False
        self.document.load(spec, path)
        self.settings.add_recent(path)
        return True

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = [p for p in self.settings.recent_files() if p.exists()]
        for path in files:
            self.recent_menu.addAction(self._action(str(path), lambda _c=False, p=path:
                                                    self.open_file(p)))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        start = str(self.document.path or Path.cwd() / f"{self.document.spec.name}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save model", start,
                                              "ConvScope models (*.json)")
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
            QMessageBox.warning(self, "Cannot save", f"{path}: {exc.strerror or exc}")
            return False
        self.settings.add_recent(path)
        self.autosave.discard()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def export_diagram(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export diagram", f"{self.document.spec.name}-diagram.png",
            "PNG image (*.png);;SVG drawing (*.svg)")
        if not path:
            return
        target = Path(path)
        if target.suffix.lower() not in (".png", ".svg"):
            target = target.with_suffix(".png")
        try:
            self.diagram.export(target)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))
            return
        self.statusBar().showMessage(f"Exported {target}", 5000)

    # -- edits ------------------------------------------------------------------------------
    def add_layer_after_current(self, type_name: str) -> None:
        spec = self.document.spec
        current = self.document.current
        index = spec.index(current) + 1 if current in {layer.name for layer in spec.layers} \
            else len(spec.layers)
        self.document.add_layer(type_name, index)

    def delete_selected(self) -> None:
        self.document.remove_layers(self.table.selected_names())

    def duplicate_current(self) -> None:
        if self.document.current:
            self.document.duplicate_layer(self.document.current)

    def rename_current(self) -> None:
        name = self.document.current
        if not name:
            return
        new, ok = QInputDialog.getText(self, "Rename layer", "New name:", text=name)
        if ok and new.strip():
            self.document.rename_layer(name, new)

    def _move(self, step: int) -> None:
        name = self.document.current
        if name:
            index = self.document.spec.index(name) + step
            if 0 <= index < len(self.document.spec.layers):
                self.document.move_layer(name, index)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(format_table(self.document.analysis))
        self.statusBar().showMessage("Summary copied as text", 4000)

    def copy_markdown(self) -> None:
        QGuiApplication.clipboard().setText(format_markdown(self.document.analysis))
        self.statusBar().showMessage("Summary copied as Markdown", 4000)

    # -- view -------------------------------------------------------------------------------
    def set_font_size(self, step: int, absolute: int | None = None) -> None:
        size = absolute if absolute is not None else self.settings.get(
            "font_size", BASE_POINT_SIZE) + step
        size = max(8, min(28, size))
        self.settings.set("font_size", size)
        self.apply_view_settings()

    def toggle_dark(self) -> None:
        self.settings.set("dark", self.dark_action.isChecked())
        self.apply_view_settings()

    def apply_view_settings(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.settings.get("dark", False),
                        self.settings.get("font_size", BASE_POINT_SIZE))
        self.table.resizeColumnsToContents()
        self.diagram._structure = None  # labels take the new font
        self.diagram.rebuild()
        self._fit_docks()

    def _fit_docks(self) -> None:
        """Keep the palette and the properties readable whatever the font size."""
        width = max(self.width(), 1000)
        docks = [self.findChild(QDockWidget, "Layers"), self.findChild(QDockWidget, "Properties")]
        self.resizeDocks(docks, [int(width * 0.15), int(width * 0.27)],
                         Qt.Orientation.Horizontal)

    def _about(self) -> None:
        QMessageBox.information(
            self, "ConvScope",
            "Add layers from the palette (double-click or drag), edit them on the right, and "
            "watch shapes and parameter counts update. Hover a layer for its formula with its "
            "own numbers. Ctrl+Z undoes any edit.")

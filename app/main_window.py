"""ConvScope's main window: palette, layer list, diagram, property editor and totals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeyEvent, QKeySequence, QShowEvent
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
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.diagram import DiagramView
from app.document import ModelDocument
from app.help_menu import fill_help_menu
from app.inspect import InspectTab
from app.layer_table import LayerTable
from app.page_tabs import PageTabs
from app.palette import LayerPalette
from app.property_editor import PropertyEditor, TypingBursts
from app.style import BASE_POINT_SIZE, apply_theme
from app.train import TrainingPanel
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
from core.presets import DEFAULT_PRESET, load_preset, presets_by_topic
from core.workspace import Autosave, Recovery, Settings, home

AUTOSAVE_MS = 3000
PROJECTOR_POINTS = 18
"""From this text size on (View → Projector Text is 24 pt) the docks show on the Build tab only."""
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
        self.name.editingFinished.connect(self._rename)
        self.layout_.addWidget(self.name, 1)
        self.layout_.addSpacing(8)
        self.layout_.addWidget(QLabel("Input"))
        self.spins: list[QSpinBox] = []
        self.bursts = TypingBursts()
        self._editing = False
        self.spin_row = QHBoxLayout()
        self.layout_.addLayout(self.spin_row)
        self.layout_.addStretch(1)
        document.changed.connect(self.refresh)
        document.run_changed.connect(self._show_name)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # projector text: the boxes grow with it
            self._fit_widths()

    def _fit_widths(self) -> None:
        """Sized in the current font, so projector text neither hides the name ("small" of
        "digits-small") nor pushes the docks off a 1920-px screen: the name box shows up to
        10 characters at its minimum (more when there is room), the size boxes 3 digits (a
        larger size scrolls inside its box)."""
        metrics = self.name.fontMetrics()
        self.name.setMinimumWidth(metrics.horizontalAdvance(
            max(self.name.text()[:10], "x" * 8, key=metrics.horizontalAdvance)) + 12)
        self.name.setMaximumWidth(max(self.name.minimumWidth(),
                                      metrics.horizontalAdvance("x" * 36)))
        for spin in self.spins:
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance(f"{spin.prefix()}999") + 30)

    def _rename(self) -> None:
        """Only what the user typed renames the model (not focus leaving an untouched field)."""
        if self.name.isModified():
            self.name.setModified(False)
            self.document.rename_model(self.name.text())

    def _show_name(self) -> None:
        """A model was loaded (or its run changed): the field shows its name, focus or not."""
        self.name.setText(self.document.spec.name)
        self.name.setModified(False)
        self._fit_widths()

    def refresh(self) -> None:
        shape = self.document.spec.input_shape
        labels = ("token ids",) if self.document.spec.input_dtype == "int64" else \
            SHAPE_LABELS[len(shape)]
        if [s.prefix() for s in self.spins] != [f"{label} " for label in labels]:
            while self.spin_row.count():
                item = self.spin_row.takeAt(0)
                old = item.widget() if item is not None else None
                if old is not None:
                    old.deleteLater()
            self.spins = []
            for label in labels:
                spin = QSpinBox()
                spin.setRange(1, 100_000)
                spin.setPrefix(f"{label} ")
                spin.setToolTip(f"Input {label} (the batch is not part of the shape)")
                spin.setKeyboardTracking(True)
                # room for a 4-digit size, not for 100,000 (which made the bar wider than a
                # projector's screen at 24 pt): set in _fit_widths, again when the font changes
                spin.valueChanged.connect(self._changed)
                spin.editingFinished.connect(self.bursts.end)
                self.spin_row.addWidget(spin)
                self.spins.append(spin)
        for spin, value in zip(self.spins, shape, strict=True):
            # the box being typed in is left alone; after undo or a new model all follow
            if spin.value() != value and not self._editing:
                spin.blockSignals(True)
                spin.setValue(max(spin.minimum(), min(spin.maximum(), value)))
                spin.blockSignals(False)
        if not (self.name.hasFocus() and self.name.isModified()):
            self.name.setText(self.document.spec.name)
        self._fit_widths()

    def _changed(self) -> None:
        self._editing = True
        try:
            self.document.set_input_shape(tuple(s.value() for s in self.spins),
                                          burst=self.bursts.burst(self.sender()))
        finally:
            self._editing = False


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
        total = trainable = macs = activations = 0
        for layer in a.layers:  # one pass (the analysis' totals each walk every layer)
            total += layer.params
            trainable += layer.trainable_params
            macs += layer.macs
            activations += layer.activation_bytes
        # each value is one unbreakable run: a narrow window wraps between values, never
        # inside one ("Parameters 1,234" stays on one line)
        parts = [
            f"<b>Parameters {format_count(total)}</b>",
            f"trainable {format_count(trainable)}",
            f"frozen {format_count(total - trainable)}",
            f"MACs {format_macs(macs)}",
            f"activations {format_bytes(activations)}/sample",
            f"weights {format_bytes(total * 4)}",
            f"output {out}",
        ]
        parts = [f"<span style='white-space:nowrap'>{p}</span>" for p in parts]
        text = " &nbsp;·&nbsp; ".join(parts)
        if a.error is not None:
            text += (f"<br><span style='color:#d62828'><b>⚠ {a.error.layer}</b>: "
                     f"{a.error.reason}</span> <i>(totals cover the layers above it)</i>")
        self.setText(text)


class UndoShortcuts(QObject):
    """Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) undo and redo the model from any focus. Text and spin
    boxes claim those keys for their own text undo; in this window they go to the document's
    undo stack instead, whose edits every field follows."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.keys = [QKeySequence(QKeySequence.StandardKey.Undo),
                     QKeySequence(QKeySequence.StandardKey.Redo),
                     QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, QWidget) \
                and isinstance(event, QKeyEvent) and watched.window() is self.window_:
            pressed = QKeySequence(event.keyCombination())
            if any(pressed.matches(key) == QKeySequence.SequenceMatch.ExactMatch
                   for key in self.keys):
                event.ignore()  # not claimed by the box: the window's Undo/Redo action runs
                return True
        return False


class MainWindow(QMainWindow):
    def __init__(self, spec: ModelSpec | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.document = ModelDocument(spec or load_preset(DEFAULT_PRESET), self)
        self.autosave = Autosave()
        self._autosaved_index = -1
        self._shown_once = False
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
        from app.classroom import install as install_classroom

        self.classroom = install_classroom(self)  # Classroom tab, Lessons menu, View → Present
        self.palette_widget.add_requested.connect(self.add_layer_after_current)
        self.document.changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.document.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        from app import warm_up

        self.loading_status = QLabel()
        """The status line of a first import, beside the passing messages (which it outlasts)."""
        self.loading_status.hide()
        self.statusBar().addPermanentWidget(self.loading_status)
        warm_up.hub().status.connect(self._show_loading)
        warm_up.start_after_first_paint(self)  # torch & co. load on a worker, never here
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.write_autosave)
        self.timer.start(AUTOSAVE_MS)
        self._update_title()
        self.undo_shortcuts = UndoShortcuts(self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.undo_shortcuts)
        self.resize(1400, 860)

    # -- layout -----------------------------------------------------------------------------
    def _build_layout(self) -> None:
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(2, 2, 2, 2)
        # the model's name and input shape span the window above the docks (a toolbar): in
        # the central column their width at projector text squeezed the palette and properties
        bar = QToolBar("Model and input")
        bar.setObjectName("ModelBar")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.toggleViewAction().setEnabled(False)
        bar.addWidget(self.shape_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        diagram_box = QWidget()
        diagram_layout = QVBoxLayout(diagram_box)
        diagram_layout.setContentsMargins(0, 0, 0, 0)
        tools = QHBoxLayout()
        legend = QLabel("<b>Diagram</b> &nbsp;height: map size · width: channels · arcs: skips")
        legend.setToolTip("Block height grows with the feature map's side (224 is much taller "
                          "than 7), block width with the number of channels; arcs above the "
                          "blocks are skip connections.")
        legend.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        tools.addWidget(legend, 1)
        self.zoom_label = QLabel()
        self.zoom_label.setToolTip("Ctrl+wheel zooms, dragging pans, Fit shows the whole model")
        self.diagram.zoom_changed.connect(
            lambda scale: self.zoom_label.setText(f"{scale:.0%} · Ctrl+wheel zooms"))
        tools.addWidget(self.zoom_label)
        for text, slot, tip in (("−", lambda: self.diagram.zoom(1 / 1.25), "Zoom out"),
                                ("+", lambda: self.diagram.zoom(1.25), "Zoom in"),
                                ("Fit", self.diagram.fit, "Show the whole model (Ctrl+0)"),
                                ("Export…", self.export_diagram, "Save as PNG or SVG")):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            tools.addWidget(button)
        diagram_layout.addLayout(tools)
        diagram_layout.addWidget(self.diagram)
        splitter.addWidget(diagram_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.tabs = PageTabs()
        self.tabs.addTab(splitter, "Build")
        self.tabs.addTab(self.training, "Train")
        self.tabs.addTab(self.inspect, "Inspect")
        self.training.event_seen.connect(self._training_event)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.totals)
        self.setCentralWidget(center)
        self.center = center
        self.training.run_started.connect(lambda: self._set_locked(True))
        self.training.run_finished.connect(lambda _e: self._set_locked(False))
        self.docks: dict[str, QDockWidget] = {}
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
            self.docks[title] = dock
        self.tabs.currentChanged.connect(lambda _index: self._docks_for_tab())
        self.resizeDocks([self.docks["Layers"]], [230], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["Properties"]], [380],
                         Qt.Orientation.Horizontal)

    def _action(self, text: str, slot: Callable[..., object],
                shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("&New", self.new_model, QKeySequence.StandardKey.New))
        file_menu.addAction(self._action("&Open…", self.open_dialog, QKeySequence.StandardKey.Open))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        presets = file_menu.addMenu("&Presets")
        presets.setToolTipsVisible(True)
        self.preset_menus = {}
        for topic, members in presets_by_topic():  # grouped by what the models teach
            submenu = presets.addMenu(topic)
            submenu.setToolTipsVisible(True)
            self.preset_menus[topic] = submenu
            for preset in members:
                action = self._action(f"{preset.name}", lambda _c=False, k=preset.key:
                                      self.open_preset(k), tip=preset.description)
                action.setToolTip(preset.description)
                action.setData(preset.key)
                submenu.addAction(action)
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
        # core.data.datasets.default_root(), without importing torch at start-up
        fill_help_menu(self, help_menu, self.training.out_dir, home() / "data")
        self.help_menu = help_menu

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
            if not self.ask_restore(recovery):
                recovery.remove()  # declined
                continue
            recovery.claim()  # renamed aside, not deleted, until the model has loaded
            try:
                self.document.load(recovery.spec, recovery.source)
            except Exception as exc:  # whatever the model does, start-up must reach the window
                message = recovery.failed(str(exc).splitlines()[0] if str(exc)
                                          else type(exc).__name__)
                self.statusBar().showMessage(message, 30000)
                continue
            recovery.remove()
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
        from core.train.checkpoint import UI_CHECK_BYTES, open_run

        try:
            opened = open_run(run, check_up_to=UI_CHECK_BYTES)
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

        folder = Path(self.settings.get("import_folder", str(Path.cwd())))
        dialog = ImportDialog(self, folder if folder.is_dir() else None)
        dialog.imported.connect(self.open_imported)
        dialog.exec()

    def open_imported(self, model: Path, weights: Path | None) -> None:
        """Open an imported model file, with the weights written beside it when there are."""
        self.settings.set("import_folder", str(model.parent))  # the next import starts there
        if not self.open_file(model, ask=False):
            return
        if weights is not None:
            self.document.use_weights(weights, None)
        self.statusBar().showMessage(f"Imported {model}" + (f" with weights {weights.name}"
                                                             if weights else ""), 10000)

    def export_dialog(self) -> None:
        from app.io_dialogs import ExportDialog

        dialog = ExportDialog(self.document.spec, self.document.weights, self.document.run_dir,
                              self)
        dialog.exported.connect(lambda line: self.statusBar().showMessage(line, 30000))
        dialog.exec()

    def _show_loading(self, text: str) -> None:
        """A first import's status line (the warm-up loading torch; cleared when done)."""
        self.loading_status.setText(text)
        self.loading_status.setVisible(bool(text))

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
        self.classroom.stop()
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
        size = self.settings.get("font_size", BASE_POINT_SIZE)
        self.table.resizeColumnsToContents()
        self.training.apply_font(size)
        self.diagram.new_model()  # labels take the new font; fitted again at its size
        self.diagram.rebuild()
        self._keep_on_screen()
        self._docks_for_tab()
        self._fit_docks()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            # the text size may have been applied before the window had its real size (at
            # start-up with projector text saved): fit the docks again at the shown size
            self._shown_once = True
            QTimer.singleShot(0, self._fit_docks)

    def available_screen(self) -> QRect | None:
        return self.screen().availableGeometry() if self.screen() is not None else None

    def _keep_on_screen(self) -> None:
        """A larger font must not push the window past the screen's edges."""
        screen = self.available_screen()
        if screen is None:
            return
        width, height = min(self.width(), screen.width()), min(self.height(), screen.height())
        self.resize(width, height)
        frame = self.frameGeometry()
        if not screen.contains(frame):
            self.move(max(screen.left(), min(frame.left(), screen.right() - frame.width())),
                      max(screen.top(), min(frame.top(), screen.bottom() - frame.height())))

    def _docks_for_tab(self) -> None:
        """At projector text the builder's docks (the palette, the properties) show only on the
        Build tab: beside them the Train, Inspect and Classroom pages had ~830 of 1,920 px and
        scrolled sideways. At normal text they always show."""
        present = getattr(getattr(self, "classroom", None), "present", None)
        if present is not None and present.active:
            return  # presentation mode hides them itself and restores them on leaving
        large = self.settings.get("font_size", BASE_POINT_SIZE) >= PROJECTOR_POINTS
        show = not large or self.tabs.currentIndex() == 0
        for dock in self.findChildren(QDockWidget):
            if dock.parentWidget() is self and dock.isHidden() == show:
                dock.setVisible(show)

    def _fit_docks(self) -> None:
        """Keep the palette and the properties readable whatever the font size: the palette as
        wide as its longest type name, the properties as wide as their form."""
        # settle the layouts at the new font first: the central area's minimum width decides
        # what is left for the docks
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        width = max(self.width(), 1000)
        tree = self.palette_widget.tree
        tree.resizeColumnToContents(0)
        palette = tree.sizeHintForColumn(0) + tree.indentation() + \
            tree.verticalScrollBar().sizeHint().width() + 32
        form = self.editor.body.minimumSizeHint().width() + \
            self.editor.verticalScrollBar().sizeHint().width() + 12
        docks = [self.docks["Layers"], self.docks["Properties"]]
        sizes = [min(max(palette, int(width * 0.12)), int(width * 0.22)),
                 min(max(form, int(width * 0.22)), int(width * 0.34))]
        # when both do not fit beside the central area's minimum, the palette's names come
        # first (Qt would shrink both in proportion); the properties scroll
        room = width - self.center.minimumSizeHint().width() - 24
        if sum(sizes) > room:
            sizes[1] = max(room - sizes[0], 280)
        self.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)

    def _about(self) -> None:
        QMessageBox.information(
            self, "ConvScope",
            "Add layers from the palette (double-click or drag), edit them on the right, and "
            "watch shapes and parameter counts update. Hover a layer for its formula with its "
            "own numbers. Ctrl+Z undoes any edit.")

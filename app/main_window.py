"""ConvScope's main window: the tabs, the docks and the menus, wired to the document.

What the menus do lives beside what it acts on (app/window/): the model's files, runs, import and
export, the autosave, the layer edits, where the window opens; each a plain callable a test can
trigger. The window only assembles them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QPaintEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import warm_up
from app.build.diagram import DiagramView
from app.build.diagram_minimap import DiagramMinimap
from app.build.diagram_thumbnails import DiagramThumbnails
from app.build.layer_table import LayerTable
from app.build.palette import LayerPalette
from app.build.property_editor import PropertyEditor
from app.document import ModelDocument
from app.help_menu import fill_help_menu
from app.page_tabs import PageTabs
from app.style import BASE_POINT_SIZE, apply_theme
from app.window import geometry
from app.window.autosave import UnsavedWork
from app.window.bars import DiagramPane, InputShapeBar, TotalsBar
from app.window.diagram_edits import DiagramEdits
from app.window.edits import LayerEdits, UndoShortcuts
from app.window.later_pages import LaterPages
from app.window.model_files import ModelFiles
from app.window.model_io import ModelImportExport
from app.window.one_frame import paint_changes_once
from app.window.runs import RunFiles
from app.workers import Closing
from core.model.spec import ModelSpec
from core.presets import DEFAULT_PRESET, load_preset, presets_by_topic
from core.workspace import Settings, home

if TYPE_CHECKING:  # built after the first paint (app.window.later_pages)
    from app.classroom import Classroom
    from app.inspect import InspectTab
    from app.label import LabelTab
    from app.train import TrainingPanel

PROJECTOR_POINTS = 18
"""From this text size on (View → Projector Text is 24 pt) the docks show on the Build tab only."""


class MainWindow(QMainWindow):
    closed = Signal(bool)
    """The window closed for good, once every job it started had ended (True) or the cap of
    :class:`app.workers.Closing` passed first (False: the caller exits the process anyway)."""

    def __init__(self, spec: ModelSpec | None = None, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.document = ModelDocument(spec or load_preset(DEFAULT_PRESET), self)
        self.unsaved_work = UnsavedWork(self, self.document, self._update_title)
        self._shown_once = False
        self.closing = Closing(self._thread_pools, every_worker=False, parent=self)
        self._jobs_have_ended = False
        self.closing.ended.connect(self._jobs_ended)
        self.palette_widget = LayerPalette()
        self.table = LayerTable(self.document)
        self.diagram = DiagramView(self.document)
        if self.settings.get("diagram_direction", "right") == "down":
            self.diagram.set_direction("down")
        self.diagram.direction_changed.connect(
            lambda direction: self.settings.set("diagram_direction", direction))
        self.editor = PropertyEditor(self.document)
        self.shape_bar = InputShapeBar(self.document)
        self.totals = TotalsBar(self.document)
        # the Train, Inspect, Classroom and Label tabs: built after the first paint, or when asked
        self.pages = LaterPages(self, {"Train": self._build_training,
                                       "Inspect": self._build_inspect,
                                       "Classroom": self._build_classroom,
                                       "Label": self._build_label})
        self.thumbnails = DiagramThumbnails(self.diagram, lambda: self.inspect, self.document)
        self.thumbnails.opened.connect(self._open_activations)
        self.minimap = DiagramMinimap(self.diagram)
        self.files = ModelFiles(self, self.document, self.settings, self.unsaved_work.autosave)
        self.runs = RunFiles(self, self.document, self.files, lambda: self.training.out_dir)
        self.model_io = ModelImportExport(self, self.document, self.settings, self.files,
                                          self.diagram)
        self.edits = LayerEdits(self, self.document, self.table)
        self._build_layout()
        self._build_menus()
        self.palette_widget.add_requested.connect(self.edits.add_layer_after_current)
        self.document.changed.connect(self._update_title)
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        paint_changes_once(self.document, self.diagram)  # after every view's own slots
        self.document.message.connect(lambda m: self.statusBar().showMessage(m, 8000))
        self.loading_status = QLabel()
        """The status line of a first import, beside the passing messages (which it outlasts)."""
        self.loading_status.hide()
        self.statusBar().addPermanentWidget(self.loading_status)
        warm_up.hub().status.connect(self._show_loading)
        warm_up.start_after_first_paint(self)  # torch & co. load on a worker, never here
        self._update_title()
        self.undo_shortcuts = UndoShortcuts(self)
        """Installed on the application once the window has painted (:meth:`paintEvent`): an
        application-wide filter sees every event of every object, and before the first paint
        there is no key press to route, only the ~1,700 events of building and showing."""
        self._painted_once = False
        self.resize(1400, 860)  # until place_on_screen (at start-up) puts it where it belongs

    # -- the pages built after the first paint (app.window.later_pages) --------------------
    @property
    def training(self) -> TrainingPanel:
        """The Train tab's panel (built now if it was not yet)."""
        panel: TrainingPanel = self.pages.page("Train")
        return panel

    @property
    def inspect(self) -> InspectTab:
        """The Inspect tab (built now if it was not yet)."""
        tab: InspectTab = self.pages.page("Inspect")
        return tab

    @property
    def classroom(self) -> Classroom:
        """The Classroom tab, the Lessons menu and View → Present (built now if not yet)."""
        classroom: Classroom = self.pages.page("Classroom")
        return classroom

    @property
    def label(self) -> LabelTab:
        """The Label tab: labelling images to train on (built now if it was not yet)."""
        tab: LabelTab = self.pages.page("Label")
        return tab

    def _build_training(self) -> TrainingPanel:
        from app.train import TrainingPanel

        panel = TrainingPanel(self.document)
        panel.apply_font(self.settings.get("font_size", BASE_POINT_SIZE))
        panel.event_seen.connect(self._training_event)
        panel.run_started.connect(lambda: self._set_locked(True))
        panel.run_finished.connect(lambda _e: self._set_locked(False))
        self.tabs.put_page(panel, "Train")
        return panel

    def _build_inspect(self) -> InspectTab:
        from app.inspect import InspectTab

        tab = InspectTab(self.document, settings=self.settings)
        self.tabs.put_page(tab, "Inspect")
        self.thumbnails.follow(tab)
        return tab

    def _build_classroom(self) -> Classroom:
        from app.classroom import install

        return install(self)  # its tab, the Lessons menu, View → Present

    def _build_label(self) -> LabelTab:
        from app.label import install

        return install(self)

    # -- the model's files (app.window.model_files; kept here for the classroom and scripts) -
    def open_file(self, path: Path, ask: bool = True) -> bool:
        return self.files.open_file(path, ask)

    def open_preset(self, key: str) -> None:
        self.files.open_preset(key)

    def open_run(self, run: Path) -> bool:
        return self.runs.open_run(run)

    def maybe_save(self) -> bool:
        return self.files.maybe_save()

    def _locked(self) -> bool:
        return self.files.refused_while_training()

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
        self.diagram_pane = DiagramPane(self.diagram, self.model_io.export_diagram,
                                        (self.thumbnails.button, self.thumbnails.status))
        self.zoom_label = self.diagram_pane.zoom_label
        splitter.addWidget(self.diagram_pane)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.tabs = PageTabs()
        self.tabs.addTab(splitter, "Build")
        self.tabs.addTab(self.pages.placeholder("Train"), "Train")
        self.tabs.addTab(self.pages.placeholder("Inspect"), "Inspect")
        self.tabs.addTab(self.pages.placeholder("Classroom"), "Classroom")
        self.tabs.addTab(self.pages.placeholder("Label"), "Label")
        self.tabs.currentChanged.connect(
            lambda index: self.pages.tab_shown(self.tabs.tabText(index)))
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.totals)
        self.setCentralWidget(center)
        self.center = center
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

    def _open_activations(self, layer: str) -> None:
        """A thumbnail in the diagram was clicked: its layer in Inspect → Activations."""
        self.tabs.setCurrentWidget(self.inspect)
        self.inspect.show_activations(layer)

    def _find_layer(self) -> None:
        self.tabs.setCurrentIndex(0)  # the Build page, where the diagram is
        self.diagram_pane.focus_search()

    def compare_runs(self) -> None:
        """File → Compare Runs…: the Train tab, its run picker, then the runs side by side."""
        self.tabs.setCurrentWidget(self.training)
        self.training.compare.choose()

    def _build_menus(self) -> None:
        files, edits = self.files, self.edits
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self._action("&New", files.new_model, QKeySequence.StandardKey.New))
        file_menu.addAction(self._action("&Open…", files.open_dialog,
                                         QKeySequence.StandardKey.Open))
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(
            lambda: files.fill_recent(self.recent_menu, self._action))
        presets = file_menu.addMenu("&Presets")
        presets.setToolTipsVisible(True)
        self.preset_menus = {}
        for topic, members in presets_by_topic():  # grouped by what the models teach
            submenu = presets.addMenu(topic)
            submenu.setToolTipsVisible(True)
            self.preset_menus[topic] = submenu
            for preset in members:
                action = self._action(f"{preset.name}", lambda _c=False, k=preset.key:
                                      files.open_preset(k), tip=preset.description)
                action.setToolTip(preset.description)
                action.setData(preset.key)
                submenu.addAction(action)
        file_menu.addAction(self._action("Open Trained &Run…", self.runs.open_run_dialog))
        file_menu.addAction(self._action("&Compare Runs…", self.compare_runs,
                                         tip="Two or more runs side by side in the Train tab"))
        file_menu.addAction(self._action("&Import Model…", self.model_io.import_dialog,
                                         tip="A torchvision model or an ONNX file"))
        file_menu.addAction(self._action("E&xport Model…", self.model_io.export_dialog,
                                         tip="PyTorch code, ONNX, TorchScript or a training "
                                         "script for torchrun"))
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Save", files.save, QKeySequence.StandardKey.Save))
        file_menu.addAction(self._action("Save &As…", files.save_as,
                                         QKeySequence.StandardKey.SaveAs))
        file_menu.addSeparator()
        file_menu.addAction(self._action("Export &Diagram…", self.model_io.export_diagram))
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
        delete = self._action("&Delete Layer", edits.delete_selected,
                              QKeySequence(Qt.Key.Key_Delete))
        delete.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.table.addAction(delete)
        edit.addAction(delete)
        edit.addAction(self._action("D&uplicate Layer", edits.duplicate_current, "Ctrl+D"))
        edit.addAction(self._action("Re&name Layer…", edits.rename_current, "F2"))
        edit.addAction(self._action("Move Layer &Up", lambda: edits.move(-1), "Alt+Up"))
        edit.addAction(self._action("Move Layer Do&wn", lambda: edits.move(1), "Alt+Down"))
        edit.addSeparator()
        self.diagram_edits = DiagramEdits(self, self.document, self.diagram, self.table)
        self.diagram_edits.add_to(edit)  # Copy, Paste, Group, Ungroup, Rename Group
        edit.addSeparator()
        init_menu = edit.addMenu("&Initialise Every Layer")
        init_menu.setToolTipsVisible(True)
        edits.build_init_menu(init_menu)
        edit.addSeparator()
        edit.addAction(self._action("&Copy Summary as Text", edits.copy_text, "Ctrl+Shift+C"))
        edit.addAction(self._action("Copy Summary as &Markdown", edits.copy_markdown,
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
        view.addAction(self._action("F&ind Layer in Diagram…", self._find_layer,
                                    QKeySequence.StandardKey.Find))
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._action("&About Layers", self._about))
        # core.data.datasets.default_root(), without importing torch at start-up
        # the Train panel's runs folder, asked when shown (the panel is built after the paint)
        fill_help_menu(self, help_menu, lambda: self.training.out_dir, home() / "data")
        self.help_menu = help_menu

    # -- title, training, close -------------------------------------------------------------
    def _update_title(self, *_: object) -> None:
        star = "*" if self.document.dirty else ""
        self.setWindowTitle(f"ConvScope — {self.document.spec.name}{star}")

    def _training_event(self, event: object) -> None:
        """Keep the Inspect views on the weights being trained."""
        from core.train.settings import EpochEnd, FilterSnapshot, Finished

        if isinstance(event, FilterSnapshot):
            self.inspect.live_filters(event.layer, event.weights)
        elif isinstance(event, EpochEnd):
            self.document.use_weights(Path(event.checkpoint), self.training.run_dir)
        elif isinstance(event, Finished) and Path(event.checkpoint).is_file():
            self.document.use_weights(Path(event.checkpoint), Path(event.run_dir))

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
        """Never waits: every job is asked to stop, the window hides at once, and it closes for
        good (``closed``) when the jobs have reported their end (a run stops as Stop does: the
        engine saves a checkpoint and completes the run folder)."""
        if self._jobs_have_ended:  # asked by _jobs_ended: close for good
            event.accept()
            return
        if self.closing.active or not self.files.maybe_save():
            event.ignore()  # still stopping (already hidden), or the user kept the window
            return
        geometry.remember(self, self.settings)
        self.unsaved_work.close()
        warm_up.forget_callbacks()  # e.g. a Start clicked while torch loaded: not any more
        self.pages.stop()
        training, classroom = self.pages.built_page("Train"), self.pages.built_page("Classroom")
        inspect = self.pages.built_page("Inspect")
        if training is not None:
            training.stop()
        if inspect is not None:
            inspect.stop_workers()
        if classroom is not None:
            classroom.stop()
        if self.closing.begin():
            event.accept()
            self.closed.emit(True)
            return
        event.ignore()
        self.hide()

    def _jobs_ended(self, clean: bool) -> None:
        self._jobs_have_ended = True
        try:
            self.close()
        finally:
            self._jobs_have_ended = False  # shown again, a later close asks and stops again
        self.closed.emit(clean)

    def _thread_pools(self) -> list[QThreadPool]:
        """The pools of this window's own jobs: the run's, the Inspect queue's, the Classroom's
        (a job on the global pool, a preview, reports to a bound slot: a closed window is
        disconnected from it; the application waits for those before it exits: app.main)."""
        return self.findChildren(QThreadPool)

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

    def _apply_theme(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.settings.get("dark", False),
                        self.settings.get("font_size", BASE_POINT_SIZE))

    def apply_view_settings(self) -> None:
        size = self.settings.get("font_size", BASE_POINT_SIZE)
        app = QApplication.instance()
        if size != BASE_POINT_SIZE and isinstance(app, QApplication) and \
                app.font().pointSize() != size:
            # a larger (or smaller) text size reaches the pages still to be built as a change,
            # as it reaches every other widget: the Classroom's lists and cards fit their page
            # at projector text only as widgets built at the normal size and then enlarged
            # (built at 24 pt its list, cards and tools needed 2,127 of 1,880 px)
            self.pages.finish()
        self._apply_theme()
        self.table.resizeColumnsToContents()
        training = self.pages.built_page("Train")
        if training is not None:  # else it takes the size when it is built
            training.apply_font(size)
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

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted_once:
            self._painted_once = True
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self.undo_shortcuts)

    def available_screen(self) -> QRect | None:
        return self.screen().availableGeometry() if self.screen() is not None else None

    def available_screens(self) -> list[QRect]:
        """The window's screen first, then the others (a saved place may be on any)."""
        own = self.available_screen()
        others = [s.availableGeometry() for s in QGuiApplication.screens()]
        return ([own] if own is not None else []) + [s for s in others if s != own]

    def place_on_screen(self) -> None:
        """At start-up, before the first show: where it was closed, or most of the screen."""
        geometry.place(self, self.settings, self.available_screens())

    def _keep_on_screen(self) -> None:
        """A larger font must not push the window past the screen's edges."""
        screen = self.available_screen()
        if screen is not None:
            geometry.keep_on_screen(self, screen)

    def _docks_for_tab(self) -> None:
        """At projector text the builder's docks (the palette, the properties) show only on the
        Build tab: beside them the Train, Inspect and Classroom pages had ~830 of 1,920 px and
        scrolled sideways. At normal text they always show."""
        present = getattr(self.pages.built_page("Classroom"), "present", None)
        if present is not None and present.active:
            return  # presentation mode hides them itself and restores them on leaving
        large = self.settings.get("font_size", BASE_POINT_SIZE) >= PROJECTOR_POINTS
        show = not large or self.tabs.currentIndex() == 0
        shown_again = False
        for dock in self.docks.values():  # (findChildren wrapped every object of the window)
            if dock.parentWidget() is self and dock.isHidden() == show:
                dock.setVisible(show)
                shown_again = shown_again or show
        if shown_again:  # Qt gives them back their old widths, not what fits now
            self._fit_docks()

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
            self.editor.verticalScrollBar().sizeHint().width() + 12 + \
            2 * self.editor.frameWidth()  # the scroll area's frame (a box 3 px short)
        docks = [self.docks["Layers"], self.docks["Properties"]]
        # on a laptop's 1366 px at projector text a third for the properties left the layer
        # table too narrow for its names (their form puts a field under its label instead)
        most = 0.34 if width >= 1600 else 0.28
        # the palette is never narrower than its own minimum (its longest name): counted as
        # such, or the room left for the central area was 96 px too generous
        sizes = [max(min(max(palette, int(width * 0.12)), int(width * 0.22)),
                     docks[0].minimumSizeHint().width()),
                 min(max(form, int(width * 0.22)), int(width * most))]
        # when both do not fit beside the central area's minimum, the palette's names come
        # first (Qt would shrink both in proportion); the properties scroll
        # the central area needs at least the layer table's essential columns (at projector
        # text on 1366 px the properties took 82 px more and cut the Name column by 17 px)
        center = self.center.minimumSizeHint().width()
        if self.table.isVisible():
            chrome = 2 * max(0, self.table.mapTo(self.center, QPoint(0, 0)).x())  # margins
            center = max(center, self.table.essential_width() + chrome)
        room = width - center - 24
        if sum(sizes) > room:
            sizes[1] = max(room - sizes[0], 280)
        self.resizeDocks(docks, sizes, Qt.Orientation.Horizontal)

    def _about(self) -> None:
        QMessageBox.information(
            self, "ConvScope",
            "Add layers from the palette (double-click or drag), edit them on the right, and "
            "watch shapes and parameter counts update. Hover a layer for its formula with its "
            "own numbers. Ctrl+Z undoes any edit.")

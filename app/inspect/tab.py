"""The Inspect tab: which weights, which input, the views, and one progress bar with Cancel.

Thin: the document says which model, weights and run; each view (a module of this package)
says what to compute and how to draw it; every computation runs on the tab's WorkerQueue.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.inspect.base import Context, InspectView
from app.inspect.session import DIGITS_SOURCE, Built, InspectSession, ModelKey, WeightsNote
from app.inspect.view_tabs import ViewTabs
from app.style import ErrorText
from app.workers import Task, Worker, WorkerQueue
from core.inspect.inputs import RUN_SOURCE

if TYPE_CHECKING:
    from core.workspace import Settings

VIEWS: tuple[tuple[str, str], ...] = (
    ("Filters", "app.inspect.filters:FiltersView"),
    ("Activations", "app.inspect.activations:ActivationsView"),
    ("Predictions", "app.inspect.predictions:PredictionsView"),
    ("Attributions", "app.inspect.attributions:AttributionsView"),
    ("What a channel looks for", "app.inspect.maximization:MaximizationView"),
    ("Dream", "app.inspect.dream:DreamView"),
    ("Style", "app.inspect.style:StyleView"),
    ("How they formed", "app.inspect.formation:FormationView"),
    ("Masks", "app.inspect.masks:MasksView"),
    ("Boxes", "app.inspect.boxes:BoxesView"),
    ("Text", "app.inspect.text_view:TextView"),
)
"""The views, in tab order: (title, "module:Class"). A new view: a module with an InspectView
subclass, listed here. Each is imported and built when its tab is first shown (view_tabs)."""

EXPORT_FOLDER = "inspect_export_folder"
"""The settings key of the folder the last Export PNG… went to (the next one starts there)."""
BUSY_AFTER_MS = 200
"""A job still running after this long shows the progress bar and Cancel."""
SAMPLE_PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "coins", "rocket", "horse")
# the same names as core.inspect.inputs.SAMPLE_PHOTOS, repeated so this tab imports no torch
INPUT_KINDS = ("digits test image", "sample photo", "image file", "run's test image")
"""The input chooser; the first is the test split of the dataset the model's task trains on
(digits for a classifier, digit scenes for segmentation and detection: see ``task_dataset``)."""
TEST_IMAGES = {"digits": 270, "moving-digits": 400}
"""Test split sizes known without loading the dataset (the digits' 270); others are checked
when the image is prepared (the message gives the range)."""


class InspectTab(QWidget):
    busy_changed = Signal(bool)
    input_changed = Signal()
    """Another input was chosen (the diagram's thumbnails follow it)."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.settings = settings
        """Where the export folder is remembered (None: for this window only)."""
        remembered = settings.get(EXPORT_FOLDER, "") if settings is not None else ""
        self._export_folder = Path(remembered) if remembered else None
        self.session = InspectSession()
        self.queue = WorkerQueue(self)
        self.classes: list[str] = []
        self.note = WeightsNote("")
        self.image_path: Path | None = None
        self.task_dataset = "digits"
        """The bundled dataset of the model's task (its test split is the first input kind)."""
        self._task_of: tuple[str, bool] | None = None
        """(task name, whether the model takes clips) the first input kind follows."""
        self._views_stale = False
        self._model_seen: tuple[Any, ...] | None = None
        self.model_generation = 0
        """Bumped when the model, weights or run change; tags every job on the queue."""
        self._build()
        document.changed.connect(self._model_changed)
        document.run_changed.connect(self._run_changed)
        self._run_changed()

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        top = QHBoxLayout()
        self.weights_label = QLabel()
        self.weights_label.setWordWrap(True)
        self.weights_detail = QPushButton("Details…")
        self.weights_detail.clicked.connect(self._show_weights_detail)
        self.weights_detail.hide()
        open_run = QPushButton("Open run…")
        open_run.setToolTip("Use the weights of a training run folder")
        open_run.clicked.connect(self._choose_run)
        random = QPushButton("Random weights")
        random.clicked.connect(lambda: self.document.use_weights(None, None))
        top.addWidget(QLabel("<b>Weights:</b>"))
        top.addWidget(self.weights_label, 1)
        for button in (self.weights_detail, open_run, random):
            top.addWidget(button)
        source = QHBoxLayout()
        self.input_kind = QComboBox()
        self.input_kind.addItems(INPUT_KINDS)
        self.digit_index = QSpinBox()
        self.digit_index.setRange(0, 269)
        self.digit_index.setPrefix("#")
        self.photo = QComboBox()
        self.photo.addItems(SAMPLE_PHOTOS)
        self.file_button = QPushButton("Choose file…")
        self.file_button.clicked.connect(self._choose_file)
        self.run_index = QSpinBox()
        self.run_index.setRange(0, 999_999)
        self.run_index.setPrefix("#")
        self.input_note = QLabel()
        self.input_note.setWordWrap(True)
        source.addWidget(QLabel("<b>Input:</b>"))
        for w in (self.input_kind, self.digit_index, self.photo, self.file_button,
                  self.run_index):
            source.addWidget(w)
        source.addWidget(self.input_note, 1)
        self.input_kind.currentIndexChanged.connect(self._input_changed)
        self.digit_index.valueChanged.connect(self._input_changed)
        self.photo.currentIndexChanged.connect(self._input_changed)
        self.run_index.valueChanged.connect(self._input_changed)

        self.views = ViewTabs(self, VIEWS, self._view_built)
        self.views.currentChanged.connect(lambda _i: self.refresh())

        busy = QHBoxLayout()
        self.busy_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        busy.addWidget(self.busy_label)
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.cancel_button)
        self.busy_row = QWidget()
        self.busy_row.setLayout(busy)
        self.busy_row.hide()
        self._busy_timer = QTimer(self)
        self._busy_timer.setSingleShot(True)
        self._busy_timer.timeout.connect(self._show_busy)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message_colour = ErrorText(self.message)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(source)
        layout.addWidget(self.views.bar)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.busy_row)
        layout.addWidget(self.message)
        self._input_changed()

    @property
    def view_list(self) -> list[InspectView]:
        """The views built so far (each is built when its tab is first shown)."""
        return self.views.built_views()

    def view(self, title: str) -> InspectView:
        """The view called ``title``, built now if it is not yet."""
        index = [self.views.tabText(i) for i in range(self.views.count())].index(title)
        return self.views.build(index)

    def current_view(self) -> InspectView | None:
        """The visible view; None while the plotting library is still loading (it is built
        and computed once loaded)."""
        return self.views.current_view()

    def _view_built(self, view: InspectView) -> None:
        """A view built on first show starts from the document as it is now."""
        view.fill_layers(self.document.analysis)

    # -- the model, the weights, the input ----------------------------------------------------
    def model_key(self) -> ModelKey:
        d = self.document
        return ModelKey(d.spec, d.weights, d.run_dir, d.run_version)

    def _model_changed(self) -> None:
        """An edit: the built model is stale; every view resets and the visible one redraws.

        Only a real change does this (the document says "changed" and then "run changed" when
        a model is opened, and a second time must not drop a dream asked for in between): the
        jobs of the older model are cancelled, the others (the diagram's thumbnails for this
        model, a dream) run on.

        While the tab is hidden (edits in the Build tab) the views are only marked stale and
        reset when the tab is shown: refilling every view's layer list cost 4 ms of each edit
        on ResNet-152."""
        if not self._model_moved():
            return
        self.queue.cancel_except(self.model_generation)
        self.session.forget()
        self._adopt_task()
        self.input_note.setText("")  # it described the last model's prepared input
        if not self.isVisible():
            self._views_stale = True
            return
        self._reset_views()
        self.refresh()

    def _model_moved(self) -> bool:
        """Whether the model, weights or run differ from the last seen (then a new
        ``model_generation``, which tags the jobs asked for from now on)."""
        d = self.document
        seen = self._model_seen
        if (seen is not None and seen[0] is d.spec
                and seen[1:] == (d.weights, d.run_dir, d.run_version)):
            return False
        self._model_seen = (d.spec, d.weights, d.run_dir, d.run_version)
        self.model_generation += 1
        return True

    def _task_ready(self) -> None:
        """The warm-up has loaded the tasks: adopt the model's task; the model itself did not
        change, so only views that show the input reset, and only if it became another one."""
        if self._adopt_task():
            self._input_changed()

    def _adopt_task(self) -> bool:
        """The first input kind follows the model's task: the test split of the dataset it
        trains on (asked of the task once the warm-up has loaded the tasks: ``_task_ready``).
        True when that dataset changed."""
        task_name = self.document.spec.task
        clips = len(self.document.spec.input_shape) == 4
        if (task_name, clips) == self._task_of:
            return False
        from app import warm_up

        if not warm_up.is_ready():
            warm_up.when_ready(self._task_ready)
            return False
        from core.tasks import task_for

        self._task_of = (task_name, clips)
        try:
            dataset = task_for(task_name).default_dataset
        except ValueError:
            dataset = "digits"
        if clips and dataset == "digits":  # a video model: the bundled clips
            dataset = "moving-digits"
        if dataset == self.task_dataset:
            return False
        self.task_dataset = dataset
        self.input_kind.setItemText(0, f"{dataset} test {'clip' if clips else 'image'}")
        self.digit_index.blockSignals(True)
        self.digit_index.setRange(0, TEST_IMAGES.get(dataset, 10_000) - 1)
        self.digit_index.blockSignals(False)
        return True

    def input_dataset(self) -> str:
        """The dataset whose test split the views score and rank: the run's, else the task's."""
        return self.run_dataset() or self.task_dataset

    def name_shown(self, text: str) -> None:
        """A view shows another image than the chosen input (a scene picked from its list):
        the input line names what is shown."""
        self.input_note.setText(text)

    def _reset_views(self) -> None:
        self._views_stale = False
        for view in self.view_list:
            view.reset()
            view.fill_layers(self.document.analysis)

    def ensure_current(self) -> None:
        """Bring the views up to the document now (the tab does it itself when shown)."""
        if self._views_stale:
            self._reset_views()

    def _run_changed(self) -> None:
        self.note = WeightsNote(self.document.weights_label())
        self._show_note()
        self._model_changed()

    def _show_note(self) -> None:
        color = "#b45309" if self.note.problem else ""
        text = self.note.sentence or self.document.weights_label()
        self.weights_label.setText(f"<span style='color:{color}'>{text}</span>" if color
                                   else text)
        self.weights_detail.setVisible(bool(self.note.detail))

    def _show_weights_detail(self) -> None:
        QMessageBox.information(self, "Weights", f"{self.note.sentence}\n\n{self.note.detail}")

    def run_dataset(self) -> str | None:
        """The dataset the current run was trained on (None without a run)."""
        run = self.document.run_dir
        if run is None or not (run / "training.json").exists():
            return None
        from core.train.checkpoint import load_state

        try:
            return load_state(run).dataset
        except ValueError:
            return None

    def _input_changed(self) -> None:
        self.input_note.setText("")  # until the new input is prepared
        kind = self.input_kind.currentIndex()
        self.digit_index.setVisible(kind == 0)
        self.photo.setVisible(kind == 1)
        self.file_button.setVisible(kind == 2)
        self.run_index.setVisible(kind == 3)
        for view in self.view_list:
            if view.uses_input:
                view.reset()
        if self.isVisible():
            self.refresh()
        self.input_changed.emit()

    def source(self) -> str:
        kind = self.input_kind.currentIndex()
        if kind == 0:
            if self.task_dataset == "digits":  # the bundled 8×8 digits, prepared one by one
                return f"{DIGITS_SOURCE}{self.digit_index.value()}"
            return f"{RUN_SOURCE}{self.task_dataset}:test:{self.digit_index.value()}"
        if kind == 1:
            return self.photo.currentText()
        if kind == 3:
            dataset = self.run_dataset()
            if dataset is None:
                return RUN_SOURCE  # the session says: no run, no run images
            return f"{RUN_SOURCE}{dataset}:test:{self.run_index.value()}"
        return str(self.image_path) if self.image_path else ""

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image", str(Path.home()),
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif "
                                              "*.tiff *.webp);;All files (*)")
        if path:
            self.image_path = Path(path)
            self._input_changed()

    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Training run folder")
        if path:
            self.use_run(Path(path))

    def use_run(self, run: Path) -> bool:
        """Use a run's weights on the model being edited (they may not fit: then it says so)."""
        from core.model.errors import ModelError
        from core.train.checkpoint import UI_CHECK_BYTES, open_run

        try:
            opened = open_run(run, check_up_to=UI_CHECK_BYTES)
        except ModelError as exc:
            QMessageBox.warning(self, "Cannot use this run", str(exc))
            return False
        self.document.use_weights(opened.weights, opened.run_dir)
        return True

    # -- computing ----------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.ensure_current()
        self.refresh()

    def refresh(self) -> None:
        """Recompute the visible view (latest request wins)."""
        if self.isVisible() and self.views.count():
            view = self.current_view()
            if view is not None:
                self.refresh_view(view, force=True)

    def refresh_view(self, view: InspectView, force: bool = False) -> None:
        if not self.isVisible() or self.views.indexOf(view) != self.views.currentIndex():
            return
        if not view.automatic and not force:
            return
        self.run(view, "view", view.compute, view.parameters(), view.show_result,
                 uses_input=view.uses_input, label=f"computing {view.title.lower()}…")

    def run(self, view: InspectView, key: str, compute: Any, parameters: Any,
            show: Any, uses_input: bool = True, label: str = "computing…") -> Worker:
        """Run ``compute(context, parameters, task)`` on the worker, then ``show(result,
        parameters)`` here — unless a newer request under ``key`` came first."""
        self.message.setText("")
        model_key, source = self.model_key(), self.source() if uses_input else ""
        session = self.session

        def job(task: Task) -> tuple[Built, str, Any]:
            task.check()
            built = session.built(model_key)
            task.check()
            context = Context(built.inspector, source, session)
            with built.inspector.watch(task.check):
                result = compute(context, parameters, task)
            return built, session.input_note(source), result

        worker = self.queue.submit(key, job)
        worker.tag = self.model_generation
        worker.returned.connect(lambda out: self._delivered(out, show, parameters, uses_input))
        worker.errored.connect(self._failed)
        worker.progress.connect(self._progress)
        worker.finished.connect(self._job_finished)
        self.busy_label.setText(label)
        self.progress.setRange(0, 0)
        self._busy_timer.start(BUSY_AFTER_MS)
        self.busy_changed.emit(True)
        return worker

    def _delivered(self, out: tuple[Any, str, Any], show: Any, parameters: Any,
                   uses_input: bool) -> None:
        built, input_note, result = out
        self.classes = built.classes
        if built.note.sentence != self.note.sentence:
            self.note = built.note
            self._show_note()
        if uses_input and input_note:
            self.input_note.setText(input_note)
        try:
            show(result, parameters)
        except ValueError as exc:
            self.message.setText(str(exc))

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ValueError):  # ModelError, DataError, InspectError
            self.message.setText(str(exc))
        else:
            self.message.setText(f"This view failed: {type(exc).__name__}: {exc}")

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _show_busy(self) -> None:
        if self.queue.busy():
            self.busy_row.show()

    def _job_finished(self) -> None:
        if not self.queue.busy():
            self._busy_timer.stop()
            self.busy_row.hide()
            self.busy_changed.emit(False)

    @property
    def busy(self) -> bool:
        return self.queue.busy()

    def cancel(self) -> None:
        """Cancel every running or queued computation; the pictures keep their last state."""
        self.queue.cancel()
        self.busy_row.hide()
        self.message.setText("Cancelled.")
        self.busy_changed.emit(False)

    def stop_workers(self) -> None:
        """Abort every inspection, queued or running; never waits (closing the window checks
        the queue's pool on a timer: app.workers.Closing)."""
        self.queue.stop()

    def show_activations(self, layer: str) -> None:
        """Show ``layer`` in the Activations view (the tab itself is shown by the caller)."""
        titles = [self.views.tabText(i) for i in range(self.views.count())]
        self.views.setCurrentIndex(titles.index("Activations"))
        view = self.view("Activations")
        self.ensure_current()
        combo = getattr(view, "act_layer", None)
        if combo is not None and combo.findText(layer) >= 0:
            combo.setCurrentText(layer)  # recomputes the view

    # -- training and export ------------------------------------------------------------------
    def live_filters(self, layer: str, weights: Any) -> None:
        """A training run sent its first layer's filters: redraw if that layer is shown."""
        if self.isVisible() and self.views.is_built(0):
            from app.inspect.filters import FiltersView

            filters = self.view("Filters")
            assert isinstance(filters, FiltersView)
            if self.views.currentIndex() == 0:
                filters.live(layer, weights)

    def save_path(self, title: str, name: str, filter_text: str) -> Path | None:
        """Ask where to write ``name`` (a save dialog in the folder the last export went to);
        the chosen folder is remembered. None: the user cancelled."""
        folder = self._export_folder
        start = folder / name if folder is not None and folder.is_dir() else Path(name)
        path, _ = QFileDialog.getSaveFileName(self, title, str(start), filter_text)
        if not path:
            return None
        self._export_folder = Path(path).parent
        if self.settings is not None:
            self.settings.set(EXPORT_FOLDER, str(self._export_folder))
        return Path(path)

    def export(self, view: str, size: tuple[int, int]) -> None:
        path = self.save_path("Export PNG", f"{self.document.spec.name}-{view}.png",
                              "PNG image (*.png)")
        if path is not None:
            self.export_to(view, path, size)

    def export_to(self, view: str, path: Path, size: tuple[int, int]) -> Worker:
        """Render the view with core.inspect.render (the same pictures as the command line),
        on the worker; the status line says where it went."""
        from app.inspect.export import render_view

        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        owner = self.view({"filters": "Filters", "activations": "Activations"}.get(
            view, "Attributions"))
        parameters = (view, path, size, self.document.spec.name, owner.parameters())
        return self.run(owner, "export", render_view, parameters, self.exported,
                        uses_input=view != "filters", label="exporting…")

    def exported(self, result: Path, _parameters: Any) -> None:
        """An export was written: the status line says where."""
        self.last_export = result
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Exported {result}", 8000)

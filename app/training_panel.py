"""The training panel: settings, Start / Pause / Stop, progress with ETA, live curves.

Training runs on a QThread (app.workers) over a snapshot of the model taken at Start; while it
runs, the builder is locked so what is on screen is what trains. Curves are pyqtgraph items made
once and updated with setData.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import warm_up
from app.document import ModelDocument
from app.plot_text import scale_plot_text
from app.workers import TrainingJob, Worker, import_torch
from core.data.augmentation import Augmentation
from core.train.settings import (
    DEVICES,
    OPTIMIZERS,
    SCHEDULES,
    BatchProgress,
    EpochEnd,
    Failed,
    Finished,
    Paused,
    Resumed,
    Started,
    TrainingSettings,
)
from core.workspace import home

if TYPE_CHECKING:
    from core.tasks.base import Task

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "digit-scenes")
CLASS_ONLY = DATASETS[:4]
"""Datasets labelled by class only (no masks or boxes)."""
LOCK_MESSAGE = ("The model is locked while it trains: the run uses the snapshot taken at Start. "
                "Stop the run to edit.")


def _preview_grid(dataset: str, input_shape: tuple[int, ...], augmentation: Augmentation,
                  task_name: str) -> np.ndarray:
    """On a worker: the augmentation preview (loads the dataset; imports torch). Not named
    ``task``: app.workers passes its Task to a job with a parameter of that name."""
    from core.inspect.augmentation_preview import preview_grid

    return preview_grid(dataset, input_shape, augmentation, task=task_name)


def _format_eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class TrainingPanel(QWidget):
    run_started = Signal()
    run_finished = Signal(object)
    """Emits the final event (Finished or Failed)."""
    event_seen = Signal(object)
    """Every engine event, for other views (live filters, weights after each epoch)."""
    estimate_ready = Signal(int, str, bool)
    """(request number, the pre-flight sentence, whether it fits), from the estimate thread."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.job: TrainingJob | None = None
        self.out_dir = home() / "runs"
        self.last_event: object = None
        self.run_dir: Path | None = None
        self._started_at = 0.0
        self._epochs = 1
        self.metric_labels = ("accuracy", "accuracy")
        """(running training metric, validation headline) of the model's task, for the log."""
        self._task_uses_for: tuple[str, tuple[str, ...]] | None = None
        """(task name, the TrainingSettings fields that task takes), asked of the task."""
        self._model_key: tuple[str, tuple[int, ...]] | None = None
        """(task, input shape) the tab shows: its dataset, titles and preview belong to it."""
        self._preview_request: tuple[object, ...] | None = None
        self._preview_worker: Worker | None = None
        self._start_waiting = False
        self._amp_wanted = TrainingSettings().mixed_precision
        self._build()
        document.run_changed.connect(self._run_changed)
        document.changed.connect(self._model_changed)
        self._run_changed()
        self._model_changed()

    # -- widgets ----------------------------------------------------------------------------
    def _build(self) -> None:
        defaults = TrainingSettings()
        form_box = QWidget()
        form = QFormLayout(form_box)
        self.dataset = QComboBox()
        self.dataset.addItems(DATASETS)
        self.dataset.setToolTip("digits ships with ConvScope; MNIST, Fashion-MNIST and CIFAR-10 "
                                "download on first use (or read a local copy); a folder holds "
                                "one sub-folder of images per class")
        folder = QPushButton("Folder…")
        folder.clicked.connect(self._choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(folder)
        form.addRow("dataset", row)
        self.start_from = QComboBox()
        self.start_from.setToolTip("Random weights; the weights the document holds (a run's, "
                                   "matched by layer name and shape); or continue that run")
        form.addRow("start from", self.start_from)
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10000)
        self.epochs.setValue(defaults.epochs)
        form.addRow("epochs", self.epochs)
        self.batch = QSpinBox()
        self.batch.setRange(1, 65536)
        self.batch.setValue(defaults.batch_size)
        form.addRow("batch size", self.batch)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(0.00001, 10.0)
        self.lr.setSingleStep(0.0005)
        self.lr.setValue(defaults.lr)
        form.addRow("learning rate", self.lr)
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.optimizer.setCurrentText(defaults.optimizer)
        form.addRow("optimizer", self.optimizer)
        self.momentum = QDoubleSpinBox()
        self.momentum.setRange(0.0, 0.999)
        self.momentum.setSingleStep(0.05)
        self.momentum.setValue(defaults.momentum)
        self.momentum.setToolTip("SGD only")
        form.addRow("momentum", self.momentum)
        # momentum is an SGD setting: the row is shown only when SGD is chosen
        self.optimizer.currentTextChanged.connect(
            lambda name: form.setRowVisible(self.momentum, name == "sgd"))
        form.setRowVisible(self.momentum, self.optimizer.currentText() == "sgd")
        self.weight_decay = QDoubleSpinBox()
        self.weight_decay.setDecimals(5)
        self.weight_decay.setRange(0.0, 1.0)
        self.weight_decay.setSingleStep(0.0001)
        self.weight_decay.setValue(defaults.weight_decay)
        form.addRow("weight decay", self.weight_decay)
        self.schedule = QComboBox()
        self.schedule.addItems(SCHEDULES)
        self.schedule.setCurrentText(defaults.schedule)
        form.addRow("schedule", self.schedule)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        form.addRow("device", self.device)
        self.amp = QCheckBox("mixed precision (CUDA)")
        self.amp.setChecked(defaults.mixed_precision)
        self.amp.toggled.connect(
            lambda on: setattr(self, "_amp_wanted", on) if self.amp.isEnabled() else None)
        self.device.currentTextChanged.connect(lambda _text: self._show_amp())
        form.addRow("", self.amp)
        # options only some tasks take (Task.uses_settings): a row each, shown for those tasks
        self.dice = QDoubleSpinBox()
        self.dice.setRange(0.0, 10.0)
        self.dice.setSingleStep(0.1)
        self.dice.setValue(defaults.dice)
        self.dice.setToolTip("Weight of the soft Dice loss added to per-pixel cross-entropy; "
                             "0 = cross-entropy only. Dice counts every class's overlap "
                             "equally, so small digits weigh as much as the background")
        form.addRow("Dice weight", self.dice)
        self.task_options: dict[str, QDoubleSpinBox] = {"dice": self.dice}
        """Task options by TrainingSettings field; a row is visible when the task uses it."""
        for widget in self.task_options.values():
            form.setRowVisible(widget, False)
        self.form = form

        aug_box = QGroupBox("Augmentation (training images only)")
        aug = QFormLayout(aug_box)
        self.flip = QCheckBox("mirror left-right")
        aug.addRow(self.flip)
        self.crop = QSpinBox()
        self.crop.setRange(0, 64)
        self.crop.setSuffix(" px")
        aug.addRow("random crop", self.crop)
        self.rotation = QDoubleSpinBox()
        self.rotation.setRange(0, 180)
        self.rotation.setSuffix("°")
        aug.addRow("rotation ±", self.rotation)
        self.shear = QDoubleSpinBox()
        self.shear.setRange(0, 60)
        self.shear.setSuffix("°")
        aug.addRow("shear ±", self.shear)
        self.color = QDoubleSpinBox()
        self.color.setRange(0, 1)
        self.color.setSingleStep(0.1)
        aug.addRow("colour shift", self.color)
        self.preview = QLabel("Preview: augmented samples appear here")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFixedHeight(110)  # text or image, the buttons below stay put
        self.preview.setWordWrap(True)  # a long "No preview: …" wraps, never widens the column
        self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        aug.addRow(self.preview)
        for box in (self.crop, self.rotation, self.shear, self.color):
            box.valueChanged.connect(self.update_preview)
        self.flip.toggled.connect(self.update_preview)
        self.dataset.currentTextChanged.connect(self.update_preview)

        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b, 1)  # equal thirds: "Pause" → "Resume" moves nothing
        self._build_estimate()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        self.status = QLabel("")
        # one line whatever its length (the whole text is in the tooltip and the log below)
        self.status.setWordWrap(False)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)

        left_body = QWidget()
        left_layout = QVBoxLayout(left_body)
        left_layout.addWidget(form_box)
        left_layout.addWidget(aug_box)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.estimate)
        left_layout.addWidget(self.progress)
        left_layout.addWidget(self.status)
        left_layout.addStretch(1)
        # at projector text sizes the settings scroll instead of pushing the window off screen
        left = QScrollArea()
        left.setWidget(left_body)
        left.setWidgetResizable(True)
        left.setFrameShape(QFrame.Shape.NoFrame)
        left.setMinimumWidth(min(left_body.minimumSizeHint().width() + 20, 480))
        self.settings_area = left
        self.settings_body = left_body

        self.plots = pg.GraphicsLayoutWidget()
        self.loss_plot = self.plots.addPlot(row=0, col=0, title="Loss")
        self.acc_plot = self.plots.addPlot(row=1, col=0, title="Accuracy")
        for plot, corner in ((self.loss_plot, (-10, 10)), (self.acc_plot, (-10, -30))):
            plot.addLegend(offset=corner)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
        self.acc_plot.setYRange(0, 1)
        self.curves = {
            "batch_loss": self.loss_plot.plot(pen=pg.mkPen("#9ec5ef", width=1),
                                              name="train (running)"),
            "train_loss": self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                                              symbolSize=5, name="train"),
            "val_loss": self.loss_plot.plot(pen=pg.mkPen("#ff7f0e", width=2), symbol="o",
                                            symbolSize=5, name="validation"),
            "train_acc": self.acc_plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                                            symbolSize=5, name="train"),
            "val_acc": self.acc_plot.plot(pen=pg.mkPen("#ff7f0e", width=2), symbol="o",
                                          symbolSize=5, name="validation"),
        }
        self.series: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in
                                                                   self.curves}
        # Repainting the plots is the GUI's main cost while training (it stalled the event
        # loop for 30 ms at a time): curves redraw at most twice a second.
        self._dirty = False
        self.redraw = QTimer(self)
        self.redraw.setInterval(500)
        self.redraw.timeout.connect(self._redraw_if_dirty)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.plots)
        right.addWidget(self.log)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        self._split_pending = False
        self._split_width = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(splitter)
        self._set_running(False)

    # -- pre-flight estimate beside Start (core.train.preflight, on a thread) -----------------
    def _build_estimate(self) -> None:
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.estimate.setToolTip("Memory one training step needs (weights, gradients, optimizer "
                                 "state, activations kept for backward, the batch) against what "
                                 "is free now")
        self._estimate_request = 0
        self._estimate_fits: bool | None = None
        self._estimate_sentence = ""
        self._estimate_pending = True
        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(300)
        self._estimate_timer.timeout.connect(self.update_estimate)
        self.estimate_ready.connect(self._show_estimate)
        for signal in (self.batch.valueChanged, self.optimizer.currentTextChanged,
                       self.momentum.valueChanged, self.device.currentTextChanged,
                       self.amp.toggled):
            signal.connect(lambda *_: self._estimate_timer.start())
        self.document.changed.connect(self._estimate_stale)
        self._estimate_timer.start()

    def _estimate_stale(self) -> None:
        """The model changed: the figure shown is another model's; drop it (and any answer on
        its way) and estimate again shortly (when the tab is next shown if it is hidden)."""
        self._estimate_request += 1
        self._estimate_fits = None
        self._estimate_sentence = ""
        self.estimate.setText("")
        self.estimate.setStyleSheet("")
        self._estimate_pending = True
        self._estimate_timer.start()

    def update_estimate(self) -> None:
        """Estimate on a thread (a big model takes a moment); the latest request wins.

        Only while the Train tab is shown: the estimate imports torch, which the window must not
        load before its first paint (it is computed when the tab is first opened)."""
        import threading

        if not self.isVisible():
            self._estimate_pending = True
            return
        self._estimate_pending = False
        self._estimate_request += 1
        request, spec, settings = self._estimate_request, self.document.spec, self.settings()
        if self.document.analysis.error is not None:
            self.estimate.setText("")
            self._estimate_fits = None
            return

        def work() -> None:
            try:
                import_torch()
                from core.train.engine import pick_device
                from core.train.preflight import preflight

                device = str(pick_device(settings.device))
                verdict = preflight(spec, settings.batch_size, device, settings.optimizer,
                                    settings.momentum, settings.mixed_precision)
                import torch

                text, fits = verdict.sentence(torch.cuda.is_available()), verdict.fits
            except (ValueError, RuntimeError, NotImplementedError, TypeError) as exc:
                text, fits = f"No estimate: {str(exc).splitlines()[0][:120]}", True
            with contextlib.suppress(RuntimeError):  # the panel was closed meanwhile
                self.estimate_ready.emit(request, text, fits)

        threading.Thread(target=work, name="preflight", daemon=True).start()

    def _show_estimate(self, request: int, text: str, fits: bool) -> None:
        if request != self._estimate_request:
            return  # a newer request is on its way
        self._estimate_fits = fits
        self._estimate_sentence = text
        self.estimate.setText(text[:1].upper() + text[1:])
        self.estimate.setStyleSheet("" if fits else "color: #c62828; font-weight: bold;")

    def ask_train_anyway(self, sentence: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self, "Not enough memory",
            f"This run {sentence}.\n\nTrain anyway? It may fail or slow the computer down.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # -- settings ---------------------------------------------------------------------------
    def settings(self) -> TrainingSettings:
        # each option's type is the field's (a float for dice); TrainingSettings.check() holds
        # every value to its rule
        options: dict[str, Any] = {name: widget.value() for name, widget in
                                   self.task_options.items() if name in self.task_uses()}
        return TrainingSettings(
            optimizer=self.optimizer.currentText(), lr=self.lr.value(),
            batch_size=self.batch.value(), epochs=self.epochs.value(),
            weight_decay=self.weight_decay.value(), momentum=self.momentum.value(),
            schedule=self.schedule.currentText(), device=self.device.currentText(),
            mixed_precision=self.amp.isChecked(), augmentation=self.augmentation(), **options)

    def task_uses(self) -> tuple[str, ...]:
        """The task options the current model's task takes (its ``uses_settings``); none until
        the warm-up has loaded the task modules (they import torch), then the rows show."""
        name = self.document.spec.task
        if self._task_uses_for is None or self._task_uses_for[0] != name:
            if not warm_up.is_ready():
                warm_up.when_ready(self._adopt_task)
                return ()
            task = self._task()
            self._task_uses_for = (name, task.uses_settings if task is not None else ())
        return self._task_uses_for[1]

    def _task(self) -> Task | None:
        """The model's task (None for a name no task module knows); only once the warm-up
        has loaded the task modules: they import torch."""
        from core.tasks import task_for

        try:
            return task_for(self.document.spec.task)
        except ValueError:
            return None

    def _model_changed(self) -> None:
        """Another model (or its task or input size changed): everything on the tab that
        belongs to the model follows it, before Start and while the tab is hidden."""
        key = (self.document.spec.task, tuple(self.document.spec.input_shape))
        if key == self._model_key:
            return
        task_changed = self._model_key is None or self._model_key[0] != key[0]
        self._model_key = key
        self._preview_request = None
        self.preview.clear()
        self.preview.setText("Preview: augmented samples appear here")
        if task_changed:
            self._adopt_task()
        else:
            self.update_preview()

    def _adopt_task(self) -> None:
        """The task's dataset, option rows, plot titles and metric labels (once loaded)."""
        if not warm_up.is_ready():
            warm_up.when_ready(self._adopt_task)
            return
        task = self._task()
        uses = task.uses_settings if task is not None else ()
        self._task_uses_for = (self.document.spec.task, uses)
        for name, widget in self.task_options.items():
            self.form.setRowVisible(widget, name in uses)
        if task is not None and not self.running:
            if self.dataset.currentText() in DATASETS or self.dataset.currentText().startswith(
                    "digit-scenes"):
                if self.dataset.findText(task.default_dataset) < 0:
                    self.dataset.addItem(task.default_dataset)
                self.dataset.setCurrentText(task.default_dataset)
            self.metric_labels = (task.train_metric_label, task.headline_label)
            self.acc_plot.setTitle(f"{task.headline_label} (validation) · "
                                   f"{task.train_metric_label} (train)")
        self._show_amp()
        self.update_preview()

    def _show_task_options(self) -> None:
        """Show the rows of the options the model's task takes; hide the others."""
        uses = self.task_uses()
        for name, widget in self.task_options.items():
            self.form.setRowVisible(widget, name in uses)

    def _show_amp(self) -> None:
        """Mixed precision is a CUDA option: offered only where CUDA is (known once torch is
        loaded) and the device may be CUDA."""
        cuda = warm_up.cuda_available() if warm_up.is_ready() else None
        usable = bool(cuda) and self.device.currentText() in ("auto", "cuda")
        self.amp.setEnabled(usable)
        with QSignalBlocker(self.amp):
            self.amp.setChecked(usable and self._amp_wanted)
        self.amp.setToolTip("" if usable or cuda is None else
                            "No CUDA device here: training runs in full precision")

    def augmentation(self) -> Augmentation:
        return Augmentation(flip=self.flip.isChecked(), crop=self.crop.value(),
                            rotation=self.rotation.value(), shear=self.shear.value(),
                            color=self.color.value())

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Image folder (one sub-folder per class)")
        if path:
            if self.dataset.findText(path) < 0:
                self.dataset.addItem(path)
            self.dataset.setCurrentText(path)

    def update_preview(self) -> None:
        """A grid of augmented training samples (torchvision.utils.make_grid), computed on a
        worker when the tab is shown; the latest request wins."""
        if not self.isVisible():
            return
        request = (self.dataset.currentText(), tuple(self.document.spec.input_shape),
                   self.augmentation(), self.document.spec.task)
        if request == self._preview_request:
            return  # shown, or on its way
        self._preview_request = request
        if self._preview_worker is not None:
            self._preview_worker.quit()
        if self.preview.pixmap().isNull():
            self.preview.setText("Preview: drawing augmented samples…")
        worker = Worker(_preview_grid, *request)
        # bound slots, not lambdas: a closed panel is disconnected before a late result comes
        worker.returned.connect(self._show_preview)
        worker.errored.connect(self._show_preview)
        self._preview_worker = worker
        worker.start()

    def _show_preview(self, grid: object) -> None:
        if self.sender() is not self._preview_worker:
            return  # a newer request is on its way
        self._preview_worker = None
        if isinstance(grid, BaseException):
            self.preview.setText(f"No preview: {grid}")
            return
        assert isinstance(grid, np.ndarray)
        height, width = grid.shape[:2]
        image = QImage(grid.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888)
        self.preview.setPixmap(QPixmap.fromImage(image.copy()).scaledToWidth(
            max(200, self.preview.width() - 10), Qt.TransformationMode.FastTransformation))

    def showEvent(self, event: object) -> None:
        """Paints at once with what it has; the preview and estimate follow from workers."""
        super().showEvent(event)  # type: ignore[arg-type]
        if self._split_pending:
            QTimer.singleShot(0, self._split)  # once the tab has its size
        self._show_task_options()
        if self._estimate_pending:
            self._estimate_timer.start()
        QTimer.singleShot(0, self.update_preview)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # the tab grew or shrank a lot (the docks hide at projector text once the tab shows):
        # split again at the new width; a small resize keeps what the user dragged
        if self.isVisible() and abs(self.splitter.width() - self._split_width) > 200:
            self._split()
        if self._estimate_pending:
            self._estimate_timer.start()
        if self._preview_request is None:
            self.update_preview()

    # -- the document's run ------------------------------------------------------------------
    START_RANDOM, START_WEIGHTS, START_RESUME = range(3)

    def _run_changed(self) -> None:
        """Another model or run in the document: offer its weights, forget the old run's
        curves and "Done" line (this panel's own run reporting its epochs keeps them)."""
        weights, run = self.document.weights, self.document.run_dir
        chosen = self.start_from.currentIndex()
        self.start_from.clear()
        self.start_from.addItem("random weights")
        if weights is not None:
            self.start_from.addItem(f"weights {weights.name}"
                                    + (f" of {run.name}" if run else ""))
            if run is not None and (run / "training.json").exists():
                self.start_from.addItem(f"continue the run {run.name}")
        self.start_from.setCurrentIndex(max(0, min(chosen, self.start_from.count() - 1)))
        if self.running or (run is not None and run == self.run_dir):
            return
        for series in self.series.values():
            series[0].clear()
            series[1].clear()
        self._refresh_curves()
        self._reset_axes()
        self.log.clear()
        self.last_event = None
        self.run_dir = run
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status.setText("")
        if run is not None:
            self._show_history(run)

    def _reset_axes(self) -> None:
        """Emptied plots forget the old run's ranges: x follows the data again, accuracy 0–1."""
        self.loss_plot.enableAutoRange()
        self.acc_plot.enableAutoRange(axis="x")
        self.acc_plot.setYRange(0, 1)

    def _show_history(self, run: Path) -> None:
        """An opened run's curves, from its training.json (read once the warm-up has loaded
        core.train.checkpoint, which imports torch)."""
        if not warm_up.is_ready():
            def later() -> None:
                if run == self.run_dir and not self.running:
                    self._show_history(run)

            warm_up.when_ready(later)
            return
        from core.train.checkpoint import load_state

        try:
            state = load_state(run)
        except ValueError:
            return
        for record in state.history:
            for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
                if key in record:
                    self._append(key, record["epoch"], record[key], refresh=False)
        self._refresh_curves()
        self.status.setText(f"Run {run.name}: {state.epochs_done} epochs on {state.dataset}"
                            + (f", test accuracy {state.test_acc:.1%}"
                               if state.test_acc is not None else ""))

    # -- running ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")

    def start(self) -> None:
        """Start a run; before the warm-up has loaded torch, say so (busy cursor, status) and
        start once it has: the UI thread never imports it."""
        if self.running:
            return
        if not warm_up.is_ready():
            if not self._start_waiting:
                self._start_waiting = True
                self.start_button.setEnabled(False)
                self.progress.setFormat("loading PyTorch…")
                self.status.setText("Loading PyTorch: training starts when it is loaded…")
                warm_up.when_ready(self._start_once_ready, start_now=True)
            return
        analysis = self.document.analysis
        if analysis.error is not None:
            self._say(f"Cannot train: {analysis.error}", error=True)
            return
        settings = self.settings()
        if self._estimate_fits is False and not self.ask_train_anyway(self._estimate_sentence):
            return
        from core.tasks import task_for

        task = task_for(self.document.spec.task)  # loaded by the warm-up
        switched = ""
        if self.dataset.currentText() in CLASS_ONLY and task.default_dataset not in CLASS_ONLY:
            # a segmentation / detection model on class-labelled data: use the bundled scenes
            switched = (f"dataset: {task.default_dataset}, since {self.dataset.currentText()} "
                        f"has no {task.name} targets")
            if self.dataset.findText(task.default_dataset) < 0:
                self.dataset.addItem(task.default_dataset)
            self.dataset.setCurrentText(task.default_dataset)
        for series in self.series.values():
            series[0].clear()
            series[1].clear()
        self._refresh_curves()
        self.log.clear()
        if switched:
            self.log.appendPlainText(switched)
        self.last_event = None
        self._epochs = settings.epochs
        for plot in (self.loss_plot, self.acc_plot):
            plot.setXRange(0, settings.epochs, padding=0.02)
            plot.disableAutoRange(axis="x")
        # the task names the metric curves and log lines
        self.metric_labels = (task.train_metric_label, task.headline_label)
        self.acc_plot.setTitle(f"{task.headline_label} (validation) · "
                               f"{task.train_metric_label} (train)")
        self.redraw.start()
        self._started_at = time.perf_counter()
        self.progress.setValue(0)
        self.progress.setFormat("loading data…")
        start_from = self.start_from.currentIndex()
        dataset, init, resume = self.dataset.currentText(), None, None
        if start_from == self.START_WEIGHTS:
            init = self.document.weights
        elif start_from == self.START_RESUME and self.document.run_dir is not None:
            from core.train.checkpoint import load_state

            resume = self.document.run_dir
            dataset = load_state(resume).dataset  # a run continues on its own data
        self.job = TrainingJob(self.document.spec, dataset, settings, self.out_dir, init,
                               parent=self, resume=resume)
        self.job.training_event.connect(self.on_event)
        self.job.finished.connect(self._job_finished)
        self.document.locked_reason = LOCK_MESSAGE
        self._set_running(True)
        self.status.setText(LOCK_MESSAGE)
        self.run_started.emit()
        self.job.start()

    def _start_once_ready(self) -> None:
        self._start_waiting = False
        self.start_button.setEnabled(True)
        self.progress.setFormat("idle")
        self.status.setText("")
        self.start()

    def toggle_pause(self) -> None:
        if self.job is None:
            return
        if self.job.control.paused:
            self.job.control.resume()
        else:
            self.job.control.pause()

    def stop(self, wait_ms: int = 0) -> bool:
        if self.job is None or not self.job.running:
            return True
        self.progress.setFormat("stopping…")
        return self.job.stop(wait_ms)

    def _job_finished(self) -> None:
        self.redraw.stop()
        self._refresh_curves()
        self.document.locked_reason = ""
        self._set_running(False)
        if not isinstance(self.last_event, Finished | Failed):
            self.progress.setFormat("stopped")
        self.run_finished.emit(self.last_event)
        self.job = None

    def _say(self, text: str, error: bool = False) -> None:
        self.log.appendPlainText(("⚠ " if error else "") + text)
        self.status.setText(f"<span style='color:#d62828'>{text}</span>" if error else text)
        self.status.setToolTip(text)

    def apply_font(self, point_size: int) -> None:
        """Plot titles, tick labels, axis labels and legends at the window's text size (the
        plots draw their own text and do not follow the application font)."""
        for plot in (self.loss_plot, self.acc_plot):
            scale_plot_text(plot, point_size, self.font())
        # the settings may scroll; the plots keep at least half the tab
        self.settings_area.setMinimumWidth(
            min(self.settings_body.minimumSizeHint().width() + 20, 480))
        self._split_pending = True
        if self.isVisible():
            self._split()

    def _split(self) -> None:
        """Settings as wide as their form needs (at least 30 %, at most half of the tab), at
        the tab's real width: sized while the tab was hidden, at projector text the column
        kept its normal-text width and its fields were cut off."""
        self._split_pending = False
        self._split_width = self.splitter.width()
        total = max(self.splitter.width(), 800)
        wanted = self.settings_body.minimumSizeHint().width() + 24
        left = min(max(wanted, int(total * 0.3)), total // 2)
        self.splitter.setSizes([left, total - left])

    def on_event(self, event: object) -> None:
        self.last_event = event
        self.event_seen.emit(event)
        if isinstance(event, BatchProgress):
            done = ((event.epoch - 1) * event.batches + event.batch) / (
                self._epochs * event.batches)
            self.progress.setValue(int(done * 1000))
            elapsed = time.perf_counter() - self._started_at
            eta = elapsed / max(done, 1e-9) * (1 - done)
            # short enough for one line in the bar; the speed is in its tooltip
            self.progress.setFormat(
                f"epoch {event.epoch}/{self._epochs} · batch {event.batch}/{event.batches} · "
                f"ETA {_format_eta(eta)}")
            self.progress.setToolTip(f"{event.samples_per_s:,.0f} samples/s")
            self._append("batch_loss", event.epoch - 1 + event.batch / event.batches, event.loss,
                         refresh=False)
        elif isinstance(event, EpochEnd):
            for key, value in (("train_loss", event.train_loss), ("val_loss", event.val_loss),
                               ("train_acc", event.train_acc), ("val_acc", event.val_acc)):
                self._append(key, event.epoch, value, refresh=False)
            self.log.appendPlainText(
                f"epoch {event.epoch}: train loss {event.train_loss:.4f} "
                f"{self.metric_labels[0]} {event.train_acc:.3f} · val loss "
                f"{event.val_loss:.4f} {self.metric_labels[1]} {event.val_acc:.3f}"
                f" · {event.samples_per_s:,.0f} samples/s{' · best so far' if event.best else ''}")
        elif isinstance(event, Started):
            self.run_dir = Path(event.run_dir)
            self._epochs = event.epochs
            self._say(f"Training on {event.device}: {event.train_size} training / "
                      f"{event.val_size} validation images, {event.batches_per_epoch} batches "
                      f"per epoch. Run folder: {event.run_dir}")
            for note in event.notes:
                self.log.appendPlainText(f"note: {note}")
            if event.weights_report:
                self.log.appendPlainText(f"weights: {event.weights_report}")
        elif isinstance(event, Paused):
            self.pause_button.setText("Resume")
            self.progress.setFormat("paused")
        elif isinstance(event, Resumed):
            self.pause_button.setText("Pause")
        elif isinstance(event, Finished):
            if event.stopped:
                self._say(f"Stopped after {event.epochs_done} epochs; checkpoint "
                          f"{event.checkpoint}")
                self.progress.setFormat("stopped")
            else:
                self.progress.setValue(1000)
                label = self.metric_labels[1]
                self.progress.setFormat(f"done · test {label} {event.test_acc:.1%}")
                self._say(f"Done: test {label} {event.test_acc:.2%} with the best validation "
                          f"weights, saved in {event.checkpoint}")
        elif isinstance(event, Failed):
            self.progress.setFormat("failed")
            self._say(event.message, error=True)

    def _append(self, key: str, x: float, y: float, refresh: bool = True) -> None:
        xs, ys = self.series[key]
        xs.append(x)
        ys.append(y)
        if refresh:
            self.curves[key].setData(xs, ys)
        else:
            self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty and self.plots.isVisible():
            self._refresh_curves()

    def _refresh_curves(self) -> None:
        self._dirty = False
        for key, curve in self.curves.items():
            curve.setData(*self.series[key])

"""The Train tab: the settings form, the controls, the curves and the run's log, composed.

Training runs on a QThread (app.workers) over a snapshot of the model taken at Start; while it
runs, the builder is locked so what is on screen is what trains. The panel owns the run (its
job, its events); the parts it composes only show what it tells them.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app import warm_up
from app.document import ModelDocument
from app.train.compare_view import CompareView
from app.train.controls import RunControls
from app.train.curves import EPOCH_KEYS, TrainingCurves
from app.train.estimate import MemoryEstimate
from app.train.fine_tune_box import FineTuneBox
from app.train.settings_form import CLASS_ONLY, SettingsForm
from app.workers import TrainingJob
from core.train.fine_tune import Unfreeze
from core.train.settings import (
    BatchProgress,
    Caching,
    EpochEnd,
    Failed,
    Finished,
    Paused,
    Resumed,
    Started,
)
from core.workspace import home

LOCK_MESSAGE = ("The model is locked while it trains: the run uses the snapshot taken at Start. "
                "Stop the run to edit.")


class TrainingPanel(QWidget):
    run_started = Signal()
    run_finished = Signal(object)
    """Emits the final event (Finished or Failed)."""
    event_seen = Signal(object)
    """Every engine event, for other views (live filters, weights after each epoch)."""

    START_RANDOM, START_WEIGHTS, START_RESUME = range(3)

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
        self._model_key: tuple[str, tuple[int, ...]] | None = None
        """(task, input shape) the tab shows: its dataset, titles and preview belong to it."""
        self._start_waiting = False
        self.form = SettingsForm(document)
        self.fine_tune = FineTuneBox(document, self.form)
        self.fine_tune.unfreeze_requested.connect(self.unfreeze_and_continue)
        self._unfreeze: Unfreeze | None = None
        self.estimate = MemoryEstimate(document, self.form.settings)
        self.controls = RunControls(self.estimate)
        self.curves = TrainingCurves()
        self.compare = CompareView(document, self.out_dir)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(2000)
        self._lay_out()
        self.form.memory_settings_changed.connect(self.estimate.soon)
        self.form.augmentation_changed.connect(self.update_preview)
        self.controls.start_button.clicked.connect(self.start)
        self.controls.pause_button.clicked.connect(self.toggle_pause)
        self.controls.stop_button.clicked.connect(self.stop)
        document.run_changed.connect(self._run_changed)
        document.changed.connect(self._model_changed)
        self._run_changed()
        self._model_changed()

    def _lay_out(self) -> None:
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self.fine_tune)
        body_layout.addWidget(self.form)
        body_layout.addStretch(1)
        # at projector text sizes the settings scroll instead of pushing the window off screen;
        # Start, the progress and the result line stay pinned below them, never below the fold
        area = QScrollArea()
        area.setWidget(body)
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setMinimumWidth(min(body.minimumSizeHint().width() + 20, 480))
        self.settings_area = area
        self.settings_body = body
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(area, 1)
        self.controls.setContentsMargins(9, 0, 9, 6)
        left_layout.addWidget(self.controls)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.curves)
        right.addWidget(self.compare)
        right.addWidget(self.log)
        right.setStretchFactor(0, 4)
        right.setStretchFactor(1, 2)
        right.setStretchFactor(2, 1)
        self.right_splitter = right
        self.compare.showing.connect(self._give_compare_room)
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

    def _give_compare_room(self, shown: bool) -> None:
        """A comparison shown takes most of the column (the curves and log keep a little);
        emptied, the curves take it back."""
        total = max(1, sum(self.right_splitter.sizes()))
        button = self.compare.minimumSizeHint().height()
        parts = (0.3, 0.6, 0.1) if shown else (0.78, 0.0, 0.22)
        sizes = [int(total * part) for part in parts]
        if not shown:
            sizes[1] = button
        self.right_splitter.setSizes(sizes)

    # -- the tab's size and text -------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        """Paints at once with what it has; the preview and estimate follow from workers."""
        super().showEvent(event)
        if self._split_pending:
            QTimer.singleShot(0, self._split)  # once the tab has its size
        self.form.show_task_options()
        self.estimate.when_shown()
        QTimer.singleShot(0, self.update_preview)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # the tab grew or shrank a lot (the docks hide at projector text once the tab shows):
        # split again at the new width; a small resize keeps what the user dragged
        if self.isVisible() and abs(self.splitter.width() - self._split_width) > 200:
            self._split()
        self.estimate.when_shown()
        if self.form.preview.request is None:
            self.update_preview()

    def apply_font(self, point_size: int) -> None:
        """The plots' own text at the window's text size; the settings column refitted."""
        self.curves.apply_font(point_size)
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

    def update_preview(self) -> None:
        """A grid of augmented training samples, computed on a worker when the tab is shown."""
        if self.isVisible():
            self.form.preview.show_for(self.form.dataset.currentText(),
                                       tuple(self.document.spec.input_shape),
                                       self.form.augmentation(), self.document.spec.task)

    # -- the document's model and run --------------------------------------------------------
    def _model_changed(self) -> None:
        """Another model (or its task or input size changed): everything on the tab that
        belongs to the model follows it, before Start and while the tab is hidden."""
        key = (self.document.spec.task, tuple(self.document.spec.input_shape))
        if key == self._model_key:
            return
        # a video model (channels×frames×H×W) and an image model want other data
        task_changed = self._model_key is None or self._model_key[0] != key[0] or len(
            self._model_key[1]) != len(key[1])
        self._model_key = key
        self.form.preview.forget()
        if task_changed:
            self._adopt_task()
        else:
            self.update_preview()

    def _adopt_task(self) -> None:
        """The task's dataset, option rows, plot titles and metric labels (once loaded)."""
        if not warm_up.is_ready():
            warm_up.when_ready(self._adopt_task)
            return
        task = self.form.task()
        self.form.adopt(task, self.running)
        if task is not None and not self.running:
            self.metric_labels = (task.train_metric_label, task.headline_label)
            self.curves.name_metric(task.headline_label, task.train_metric_label)
        self.update_preview()

    def _run_changed(self) -> None:
        """Another model or run in the document: offer its weights, forget the old run's
        curves and "Done" line (this panel's own run reporting its epochs keeps them)."""
        weights, run = self.document.weights, self.document.run_dir
        start_from = self.form.start_from
        chosen = start_from.currentIndex()
        start_from.clear()
        start_from.addItem("random weights")
        if weights is not None:
            start_from.addItem(f"weights {weights.name}" + (f" of {run.name}" if run else ""))
            if run is not None and (run / "training.json").exists():
                start_from.addItem(f"continue the run {run.name}")
        start_from.setCurrentIndex(max(0, min(chosen, start_from.count() - 1)))
        if self.running or (run is not None and run == self.run_dir):
            return
        self.curves.clear_series()
        self.curves.reset_axes()
        self.log.clear()
        self.last_event = None
        self.run_dir = run
        self.controls.idle()
        if run is not None:
            self._show_history(run)

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
            for key in EPOCH_KEYS:
                if key in record:
                    self.curves.append(key, record["epoch"], record[key], refresh=False)
        self.curves.refresh()
        self.controls.status.setText(
            f"Run {run.name}: {state.epochs_done} epochs on {state.dataset}"
            + (f", test accuracy {state.test_acc:.1%}" if state.test_acc is not None else ""))

    # -- running ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self) -> None:
        """Start a run; before the warm-up has loaded torch, say so (busy cursor, status) and
        start once it has: the UI thread never imports it."""
        if self.running:
            return
        controls = self.controls
        if not warm_up.is_ready():
            if not self._start_waiting:
                self._start_waiting = True
                controls.start_button.setEnabled(False)
                controls.progress.setFormat("loading PyTorch…")
                controls.status.setText("Loading PyTorch: training starts when it is loaded…")
                warm_up.when_ready(self._start_once_ready, start_now=True)
            return
        analysis = self.document.analysis
        if analysis.error is not None:
            self._say(f"Cannot train: {analysis.error}", error=True)
            return
        settings = replace(self.form.settings(), cache_features=self.fine_tune.cache.isChecked())
        unfreeze, self._unfreeze = self._unfreeze, None
        if self.estimate.fits is False and not self.ask_train_anyway(self.estimate.sentence):
            return
        from core.tasks import task_for

        task = task_for(self.document.spec.task)  # loaded by the warm-up
        dataset = self.form.dataset.currentText()
        switched = ""
        if dataset in CLASS_ONLY and task.default_dataset not in CLASS_ONLY:
            # a segmentation / detection model on class-labelled data: use the bundled scenes
            switched = f"dataset: {task.default_dataset}, since {dataset} has no {task.name} " \
                "targets"
            self.form.use_dataset(task.default_dataset)
        self.curves.clear_series()
        self.log.clear()
        if switched:
            self.log.appendPlainText(switched)
        self.last_event = None
        self._epochs = settings.epochs
        self.curves.fix_epochs(settings.epochs)
        # the task names the metric curves and log lines
        self.metric_labels = (task.train_metric_label, task.headline_label)
        self.curves.name_metric(task.headline_label, task.train_metric_label)
        self.curves.redraw.start()
        self._started_at = time.perf_counter()
        controls.progress.setValue(0)
        controls.progress.setFormat("loading data…")
        start_from = self.form.start_from.currentIndex()
        dataset, init, resume = self.form.dataset_name(), None, None
        if start_from == self.START_WEIGHTS:
            init = self.document.weights
        elif start_from == self.START_RESUME and self.document.run_dir is not None:
            from core.train.checkpoint import load_state

            resume = self.document.run_dir
            dataset = load_state(resume).dataset  # a run continues on its own data
        self.job = TrainingJob(self.document.spec, dataset, settings, self.out_dir, init,
                               parent=self, resume=resume, unfreeze=unfreeze)
        self.job.training_event.connect(self.on_event)
        self.job.finished.connect(self._job_finished)
        self.document.locked_reason = LOCK_MESSAGE
        controls.set_running(True)
        controls.status.setText(LOCK_MESSAGE)
        self.run_started.emit()
        self.job.start()

    def unfreeze_and_continue(self, blocks: int, more_epochs: int) -> None:
        """Continue the document's run with its top ``blocks`` frozen blocks trainable (at a
        tenth of its learning rate) for ``more_epochs`` more epochs."""
        run = self.document.run_dir
        if self.running or run is None or not warm_up.is_ready():
            return
        from core.train.checkpoint import load_state

        try:
            done = load_state(run).epochs_done
        except ValueError as exc:
            self._say(str(exc), error=True)
            return
        self.form.start_from.setCurrentIndex(self.START_RESUME)
        if self.form.start_from.currentIndex() != self.START_RESUME:
            self._say(f"{run.name} cannot be continued (no checkpoint yet)", error=True)
            return
        self.form.epochs.setValue(done + more_epochs)
        self._unfreeze = Unfreeze(blocks)
        self.start()

    def ask_train_anyway(self, sentence: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(
            self, "Not enough memory",
            f"This run {sentence}.\n\nTrain anyway? It may fail or slow the computer down.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _start_once_ready(self) -> None:
        self._start_waiting = False
        self.controls.start_button.setEnabled(True)
        self.controls.progress.setFormat("idle")
        self.controls.status.setText("")
        self.start()

    def toggle_pause(self) -> None:
        if self.job is None:
            return
        if self.job.control.paused:
            self.job.control.resume()
        else:
            self.job.control.pause()

    def stop(self) -> None:
        """Ask the run to stop (never waits): ``run_finished`` follows once it has."""
        if self.job is None or not self.job.running:
            return
        self.controls.progress.setFormat("stopping…")
        self.job.stop()

    def _job_finished(self) -> None:
        self.curves.redraw.stop()
        self.curves.refresh()
        self.document.locked_reason = ""
        self.controls.set_running(False)
        if not isinstance(self.last_event, Finished | Failed):
            self.controls.progress.setFormat("stopped")
        self.run_finished.emit(self.last_event)
        self.job = None

    def _say(self, text: str, error: bool = False) -> None:
        self.log.appendPlainText(("⚠ " if error else "") + text)
        self.controls.say(text, error)

    def on_event(self, event: object) -> None:
        self.last_event = event
        self.event_seen.emit(event)
        progress = self.controls.progress
        if isinstance(event, Caching):
            progress.setValue(int(1000 * event.done / max(event.total, 1)))
            progress.setFormat(f"features: {event.done:,} of {event.total:,} images")
            if event.note:
                self.log.appendPlainText(f"features: {event.note}")
        elif isinstance(event, BatchProgress):
            self.controls.show_batch(event, self._epochs, time.perf_counter() - self._started_at)
            self.curves.append("batch_loss", event.epoch - 1 + event.batch / event.batches,
                               event.loss, refresh=False)
        elif isinstance(event, EpochEnd):
            for key, value in zip(EPOCH_KEYS, (event.train_loss, event.val_loss,
                                               event.train_acc, event.val_acc), strict=True):
                self.curves.append(key, event.epoch, value, refresh=False)
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
            self.controls.pause_button.setText("Resume")
            progress.setFormat("paused")
        elif isinstance(event, Resumed):
            self.controls.pause_button.setText("Pause")
        elif isinstance(event, Finished):
            if event.stopped:
                self._say(f"Stopped after {event.epochs_done} epochs; checkpoint "
                          f"{event.checkpoint}")
                progress.setFormat("stopped")
            else:
                progress.setValue(1000)
                label = self.metric_labels[1]
                progress.setFormat(f"done · test {label} {event.test_acc:.1%}")
                self._say(f"Done: test {label} {event.test_acc:.2%} with the best validation "
                          f"weights, saved in {event.checkpoint}")
        elif isinstance(event, Failed):
            progress.setFormat("failed")
            self._say(event.message, error=True)

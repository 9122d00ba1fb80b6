"""The Train tab's fine-tuning box: a folder of photos → a new head, the backbone frozen; the
feature cache; which layers train; "Unfreeze top N" continuing the run.

It only edits the document's model through core.train.fine_tune and sets the form; the folder is
read on a worker (its class sub-folders), and the panel runs the training.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.labels import WrappedLabel
from app.train.settings_form import SettingsForm
from app.workers import Worker
from core.train.fine_tune import fine_tune_spec, head_index, trainable_summary, unfreeze_top
from core.train.settings import TrainingError


def folder_classes(folder: str) -> list[str]:
    """The class names of an image folder in either layout (core.data.folders), on a worker."""
    from core.data.datasets import IMAGE_SUFFIXES
    from core.data.folders import scan_folder

    return scan_folder(Path(folder), IMAGE_SUFFIXES, 1).classes


class FineTuneBox(QGroupBox):
    """Fine-tune on a folder…, the cache choice, the trains/frozen line, Unfreeze top N."""

    unfreeze_requested = Signal(int, int)
    """(blocks, more epochs): the panel continues the run with them unfrozen."""

    def __init__(self, document: ModelDocument, form: SettingsForm,
                 parent: QWidget | None = None) -> None:
        super().__init__("Fine-tuning", parent)
        self.document = document
        self.form = form
        self._worker: Worker | None = None
        layout = QVBoxLayout(self)
        self.choose = QPushButton("Fine-tune on a folder of photos…")
        self.choose.setToolTip("Pick a folder with one sub-folder of photos per class: the "
                               "model's head is resized for those classes, every layer before "
                               "it is frozen, and its weights (the imported ones) are used")
        self.choose.clicked.connect(self.choose_folder)
        layout.addWidget(self.choose)
        self.cache = QCheckBox("cache the frozen layers' features")
        self.cache.setToolTip("The frozen layers' output is computed once and kept on disk; "
                              "each epoch then trains only the layers after them (many times "
                              "faster). No augmentation while cached. Changing the weights or the "
                              "photos computes it again")
        layout.addWidget(self.cache)
        self.trains = WrappedLabel("")
        self.trains.setObjectName("trains")
        layout.addWidget(self.trains)
        row = QHBoxLayout()
        self.blocks = QSpinBox()
        self.blocks.setRange(1, 99)
        self.blocks.setValue(2)
        self.blocks.setSuffix(" blocks")
        self.more = QSpinBox()
        self.more.setRange(1, 1000)
        self.more.setValue(5)
        self.more.setSuffix(" epochs")
        self.blocks.setToolTip("How many of the top frozen blocks to unfreeze")
        self.more.setToolTip("How many more epochs the run continues for")
        self.unfreeze = QPushButton("Unfreeze top blocks, continue")
        self.unfreeze.setToolTip("Continue the run with its top frozen blocks trainable, at a "
                                 "tenth of its learning rate, with a fresh optimizer")
        self.unfreeze.clicked.connect(self._ask_unfreeze)
        row.addWidget(self.blocks)
        row.addWidget(self.more)
        layout.addLayout(row)
        layout.addWidget(self.unfreeze)
        self.status = WrappedLabel("")
        layout.addWidget(self.status)
        document.changed.connect(self.refresh)
        document.run_changed.connect(self.refresh)
        self.refresh()

    # -- showing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """The trains/frozen line and whether Unfreeze applies (a run with frozen blocks)."""
        analysis = self.document.analysis
        if analysis.error is not None:
            self.trains.setText("")
            self.unfreeze.setEnabled(False)
            return
        summary = trainable_summary(self.document.spec, analysis)
        self.trains.setText(summary.line)
        run = self.document.run_dir
        self.unfreeze.setEnabled(bool(summary.frozen) and run is not None
                                 and (run / "training.json").is_file())

    def say(self, text: str) -> None:
        self.status.setText(text)

    # -- fine-tuning ------------------------------------------------------------------------
    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Photos to fine-tune on (one sub-folder "
                                                "per class)")
        if path:
            self.fine_tune_on(path)

    def fine_tune_on(self, folder: str) -> None:
        """Read the folder's classes on a worker, then replace the head and freeze the rest."""
        if self._worker is not None:
            self._worker.quit()  # the latest folder wins
        self.say(f"Reading the classes of {folder}…")
        worker = Worker(folder_classes, folder)
        worker.returned.connect(lambda classes: self._apply(folder, classes))
        worker.errored.connect(lambda exc: self.say(f"⚠ {str(exc).splitlines()[0]}"))
        self._worker = worker
        worker.start()

    def _apply(self, folder: str, classes: list[str]) -> None:
        document = self.document
        try:
            tuned = fine_tune_spec(document.spec, classes)
        except (TrainingError, ValueError) as exc:
            self.say(f"⚠ {exc}")
            return
        head = tuned.layers[head_index(tuned, document.analysis)].name \
            if document.analysis.error is None else ""
        if tuned != document.spec and not document.apply(
                tuned, f"Fine-tune for {len(classes)} classes", select=head or None):
            self.say(f"⚠ {document.locked_reason or 'the model could not be changed'}")
            return
        self.form.use_dataset(folder)
        self.cache.setChecked(True)
        weights = self._weights()
        if weights:
            self.form.start_from.setCurrentIndex(1)  # the weights the document holds
        self.say(f"New head {head} for {len(classes)} classes ({', '.join(classes[:4])}"
                 f"{'…' if len(classes) > 4 else ''}); the layers before it are frozen. "
                 + (f"Start trains it from {weights}." if weights else
                    "⚠ The model has no weights loaded: the frozen layers are random (import "
                    "it with its pretrained weights)."))

    def _weights(self) -> str:
        """The document's weights; a model file opened with MODEL.safetensors beside it takes
        those (what File → Import writes)."""
        document = self.document
        if document.weights is None and document.path is not None:
            beside = document.path.with_suffix(".safetensors")
            if beside.is_file():
                document.use_weights(beside, None)
        return document.weights.name if document.weights is not None else ""

    # -- unfreezing -------------------------------------------------------------------------
    def _ask_unfreeze(self) -> None:
        count = self.blocks.value()
        try:
            after, names = unfreeze_top(self.document.spec, count)
        except TrainingError as exc:
            self.say(f"⚠ {exc}")
            return
        if not self.document.apply(after, f"Unfreeze {', '.join(names)}"):
            self.say(f"⚠ {self.document.locked_reason or 'the model could not be changed'}")
            return
        self.say(f"Unfroze {', '.join(names)}: the run continues at a tenth of its learning "
                 "rate.")
        self.unfreeze_requested.emit(count, self.more.value())

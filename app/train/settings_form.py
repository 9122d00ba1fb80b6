"""The Train tab's settings: dataset, optimizer, schedule, device, the task's own options and
the augmentation (with its preview), read into a core TrainingSettings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import warm_up
from app.document import ModelDocument
from app.train.preview import AugmentationPreview
from app.train.text_settings import TextSettings
from core.data.augmentation import Augmentation
from core.train.settings import DEVICES, OPTIMIZERS, SCHEDULES, TrainingSettings

if TYPE_CHECKING:
    from core.tasks.base import Task

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "digit-scenes")
CLASS_ONLY = DATASETS[:4]
"""Datasets labelled by class only (no masks or boxes)."""
CLIPS = "moving-digits"
"""The bundled clips: the default dataset of a video model (input channels×frames×H×W)."""
TEXTS = ("phrases", "imdb")
"""The bundled made-up reviews (offline; a text model's default) and IMDB (downloaded on first
use when online, else read from the data folder)."""


class SettingsForm(QWidget):
    """The settings form and the augmentation box; ``settings()`` reads them."""

    memory_settings_changed = Signal()
    """A setting the memory estimate depends on changed (batch, optimizer, device, …)."""
    augmentation_changed = Signal()
    """The dataset or an augmentation changed: the preview is another one."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._task_uses_for: tuple[str, tuple[str, ...]] | None = None
        """(task name, the TrainingSettings fields that task takes), asked of the task."""
        self._amp_wanted = TrainingSettings().mixed_precision
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_form())
        self.texts = TextSettings(document)
        layout.addWidget(self.texts)
        layout.addWidget(self._build_augmentation())
        self.dataset.currentTextChanged.connect(self.texts.show_table)
        for signal in (self.batch.valueChanged, self.optimizer.currentTextChanged,
                       self.momentum.valueChanged, self.device.currentTextChanged,
                       self.amp.toggled):
            signal.connect(lambda *_: self.memory_settings_changed.emit())

    def _build_form(self) -> QWidget:
        defaults = TrainingSettings()
        box = QWidget()
        form = QFormLayout(box)
        self.dataset = QComboBox()
        self.dataset.addItems(DATASETS)
        self.dataset.addItem(CLIPS)
        self.dataset.addItems(TEXTS)
        self.dataset.setToolTip("digits ships with ConvScope; MNIST, Fashion-MNIST, CIFAR-10 and "
                                "IMDB download on first use (or read a local copy); "
                                "moving-digits ships clips for video models, phrases made-up "
                                "reviews for text models; a folder holds one sub-folder of "
                                "images, .txt files or clips per class (or train/ and test/ "
                                "folders holding them); a file is a CSV/TSV of texts and labels")
        folder = QPushButton("Folder…")
        folder.clicked.connect(self._choose_folder)
        table = self.table_button = QPushButton("File…")
        table.setToolTip("A CSV or TSV file with a header row, a text column and a label column")
        table.clicked.connect(self._choose_table)
        row = QHBoxLayout()
        row.addWidget(self.dataset, 1)
        row.addWidget(folder)
        row.addWidget(table)
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
        self.device.currentTextChanged.connect(lambda _text: self.show_amp())
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
        self.rows = form
        return box

    def _build_augmentation(self) -> QWidget:
        box = QGroupBox("Augmentation (training images only)")
        aug = QFormLayout(box)
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
        self.vflip = QCheckBox("mirror top-bottom")
        self.vflip.setToolTip("Vertical flip with probability 1/2: for aerial, cell or texture "
                              "images, not for digits or faces")
        aug.addRow(self.vflip)
        self.zoom = QDoubleSpinBox()
        self.zoom.setRange(0, 0.9)
        self.zoom.setSingleStep(0.05)
        self.zoom.setToolTip("Random rescale by a factor in 1 ± zoom about the centre, same "
                             "output size (masks and boxes rescale with the image)")
        aug.addRow("zoom ±", self.zoom)
        self.elastic = QDoubleSpinBox()
        self.elastic.setRange(0, 200)
        self.elastic.setSuffix(" px")
        self.elastic.setToolTip("Elastic (local) warping: displacement strength in pixels of a "
                                "smooth random field (ElasticTransform, sigma 5 px)")
        aug.addRow("elastic warp", self.elastic)
        self.preview = AugmentationPreview()
        aug.addRow(self.preview)
        for spin in (self.crop, self.rotation, self.shear, self.color, self.zoom, self.elastic):
            spin.valueChanged.connect(lambda *_: self.augmentation_changed.emit())
        for check in (self.flip, self.vflip):
            check.toggled.connect(lambda *_: self.augmentation_changed.emit())
        self.dataset.currentTextChanged.connect(lambda *_: self.augmentation_changed.emit())
        return box

    # -- reading ----------------------------------------------------------------------------
    def dataset_name(self) -> str:
        """The dataset to train on: the chosen one with the text settings as its options."""
        return self.texts.options(self.dataset.currentText())

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

    def augmentation(self) -> Augmentation:
        return Augmentation(flip=self.flip.isChecked(), crop=self.crop.value(),
                            rotation=self.rotation.value(), shear=self.shear.value(),
                            color=self.color.value(), vflip=self.vflip.isChecked(),
                            zoom=self.zoom.value(), elastic=self.elastic.value())

    def task_uses(self) -> tuple[str, ...]:
        """The task options the current model's task takes (its ``uses_settings``); none until
        the warm-up has loaded the task modules (they import torch), then the rows show."""
        name = self.document.spec.task
        if self._task_uses_for is None or self._task_uses_for[0] != name:
            if not warm_up.is_ready():
                return ()
            task = self.task()
            self._task_uses_for = (name, task.uses_settings if task is not None else ())
        return self._task_uses_for[1]

    def task(self) -> Task | None:
        """The model's task (None for a name no task module knows); only once the warm-up
        has loaded the task modules: they import torch."""
        from core.tasks import task_for

        try:
            return task_for(self.document.spec.task)
        except ValueError:
            return None

    # -- following the model ----------------------------------------------------------------
    def adopt(self, task: Task | None, running: bool) -> None:
        """The task's option rows and (unless a run trains) its default dataset."""
        uses = task.uses_settings if task is not None else ()
        self._task_uses_for = (self.document.spec.task, uses)
        self.show_task_options()
        current = self.dataset.currentText()
        if task is not None and not running and (
                current in DATASETS or current in TEXTS
                or current.startswith(("digit-scenes", CLIPS))):
            shape, layers = self.document.spec.input_shape, self.document.spec.layers
            video = len(shape) == 4 and task.name == "classification"
            text = len(shape) == 1 and bool(layers) and layers[0].type == "Embedding"
            if text:
                if current not in TEXTS:
                    self.use_dataset(TEXTS[0])
            else:
                self.use_dataset(CLIPS if video else task.default_dataset)
        self.show_amp()

    def use_dataset(self, name: str) -> None:
        if self.dataset.findText(name) < 0:
            self.dataset.addItem(name)
        self.dataset.setCurrentText(name)

    def show_task_options(self) -> None:
        """Show the rows of the options the model's task takes; hide the others."""
        uses = self.task_uses()
        for name, widget in self.task_options.items():
            self.rows.setRowVisible(widget, name in uses)

    def show_amp(self) -> None:
        """Mixed precision is a CUDA option: offered only where CUDA is (known once torch is
        loaded) and the device may be CUDA."""
        cuda = warm_up.cuda_available() if warm_up.is_ready() else None
        usable = bool(cuda) and self.device.currentText() in ("auto", "cuda")
        self.amp.setEnabled(usable)
        with QSignalBlocker(self.amp):
            self.amp.setChecked(usable and self._amp_wanted)
        self.amp.setToolTip("" if usable or cuda is None else
                            "No CUDA device here: training runs in full precision")

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Dataset folder (one sub-folder of images, texts or clips per class)")
        if path:
            self.use_dataset(path)

    def _choose_table(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Texts and labels (CSV or TSV)", "",
                                              "Tables (*.csv *.tsv *.tab);;All files (*)")
        if path:
            self.use_dataset(path)

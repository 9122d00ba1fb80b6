"""File → Import and File → Export: thin dialogs over core.io, the work on a worker thread.

Import lists torchvision's classification models with their parameter counts (or takes an ONNX
file), writes the model file (and the weights beside it) and hands both to the window. Export
offers the four formats and ends with a line saying where the files went and how to run them.
Tracing, ONNX export and weight loading can take seconds: they run off the UI thread, with a
busy bar and Cancel (a cancelled job's result is dropped).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import warm_up
from app.style import error_html
from app.workers import Worker
from core.model.errors import ModelError
from core.model.spec import ModelSpec


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ModelError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class _BackgroundDialog(QDialog):
    """A dialog whose OK runs a function off the UI thread, with a busy bar and Cancel.

    The job is an app.workers Worker: it reports on the UI thread and its pool thread ends by
    itself, so the dialog closes the moment the job reports and never joins a thread (a join
    on the UI thread froze the dialog for 60 s: the thread's quit was queued to the very
    thread that waited)."""

    def __init__(self, parent: QWidget | None, title: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._worker: Worker | None = None
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.hide()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.cancel)

    @property
    def running(self) -> bool:
        """A job is running whose result the dialog still waits for."""
        return self._worker is not None and not self._worker.is_done

    def start(self) -> None:  # overridden: build the work, then call self._run(work)
        raise NotImplementedError

    def _run(self, work: Callable[[], Any], what: str,
             first_imports: tuple[str, ...] = ()) -> None:
        """Run ``work`` on a worker. While it imports ``first_imports`` for the first time
        (onnx: a large library whose loading holds the GIL, so the UI thread waits) it is a
        marked first import: busy cursor and status line (app.warm_up)."""
        if self._worker is not None:
            self._worker.quit()  # a newer job: the older one's result is dropped
        self.status.setText(what)
        self.busy.show()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        worker = Worker(work)
        # bound slots, not lambdas: a closed dialog is disconnected before a late result comes
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        self._worker = worker
        if warm_up.missing(first_imports):
            warm_up.begin_first_import(what)
            worker.finished.connect(warm_up.end_first_import)
        worker.start()

    def _returned(self, result: Any) -> None:
        self._finished(self.sender(), result, "")

    def _errored(self, exc: BaseException) -> None:
        self._finished(self.sender(), None, _error_text(exc))

    def _finished(self, worker: object, result: Any, error: str) -> None:
        if worker is not self._worker:
            return  # cancelled or replaced: drop it
        self._worker = None
        self.busy.hide()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        if error:
            self.status.setText(error_html(f"⚠ {error}"))
        else:
            self.succeeded(result)

    def succeeded(self, result: Any) -> None:
        raise NotImplementedError

    def cancel(self) -> None:
        if self.running:
            self._drop_job()
            self.busy.hide()
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
            self.status.setText("Cancelled.")
            return
        self.reject()

    def _drop_job(self) -> None:
        if self._worker is not None:
            self._worker.quit()  # the result, when it comes, is dropped
            self._worker = None

    def done(self, code: int) -> None:
        """Close now; a job still running finishes on its own and its result is dropped."""
        self._drop_job()
        super().done(code)


def _list_models() -> tuple[Any, ...]:
    from core.io.torchvision_models import classification_models

    return classification_models()


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    font = label.font()
    font.setItalic(True)  # quieter than the choices, still readable when projected
    label.setFont(font)
    return label


def _path_row(edit: QLineEdit, browse: Callable[[], None]) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    row.addWidget(button)
    return row


_UNTICKED = "import it with “With torchvision's pretrained weights” unticked"


class ImportDialog(_BackgroundDialog):
    """Choose a torchvision model (with its parameter count) or an ONNX file; OK imports it.

    ``imported`` fires with the written model file and its weights file (or None).
    """

    imported = Signal(Path, object)

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent, "Import a model")
        self.folder = folder or Path.cwd()
        self.models: tuple[Any, ...] = ()
        self._listing = False
        layout = QVBoxLayout(self)
        self.from_torchvision = QRadioButton("A torchvision classification model")
        self.from_onnx = QRadioButton("An ONNX file")
        self.from_torchvision.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.from_torchvision)
        group.addButton(self.from_onnx)
        layout.addWidget(self.from_torchvision)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter, e.g. resnet or efficientnet")
        self.filter.textChanged.connect(self._filter)
        layout.addWidget(self.filter)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Model", "Parameters"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._suggest_output)
        self.table.doubleClicked.connect(lambda *_: self.start())
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * 6)
        layout.addWidget(self.table, 1)
        self.pretrained = QCheckBox("With torchvision's pretrained weights")
        layout.addWidget(self.pretrained)
        layout.addWidget(_note("The DEFAULT weights, read from torch's cache or downloaded."))
        layout.addWidget(self.from_onnx)
        layout.addWidget(_note("Its operators must map to ConvScope layers: Conv, Gemm, pooling, "
                               "BatchNormalization, activations, Add, Mul, Concat, Flatten."))
        self.onnx_path = QLineEdit()
        self.onnx_path.setPlaceholderText("model.onnx")
        layout.addLayout(_path_row(self.onnx_path, self._browse_onnx))
        layout.addWidget(QLabel("Save the model file as (weights go beside it, .safetensors):"))
        self.output = QLineEdit(str(self.folder / "imported.json"))
        layout.addLayout(_path_row(self.output, self._browse_output))
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().height() if screen is not None else 1000
        height = min(self.fontMetrics().height() * 40, int(room * 0.85), 1000)
        self.resize(self.minimumWidth(), max(height, self.minimumSizeHint().height()))
        self._load_list()

    def _load_list(self) -> None:
        """torchvision's list: importing torchvision takes seconds the first time, so it is read
        on the worker; later dialogs get it at once (it is cached). The UI thread never imports
        that module (it imports torch): it asks only a module a worker already loaded."""
        loaded = sys.modules.get("core.io.torchvision_models")
        listing = getattr(loaded, "classification_models", None)
        if listing is not None and listing.cache_info().currsize:
            self._fill(listing())
        else:
            self._listing = True
            self._run(_list_models, "Reading torchvision's models…")

    def _fill(self, models: tuple[Any, ...]) -> None:
        self.models = models
        self.table.setRowCount(len(models))
        for row, entry in enumerate(models):
            self.table.setItem(row, 0, QTableWidgetItem(entry.name))
            count = QTableWidgetItem(f"{entry.params:,}" if entry.params else "?")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, count)
        self._filter(self.filter.text())
        if models:
            self.select("resnet18")

    def select(self, name: str) -> None:
        for row, entry in enumerate(self.models):
            if entry.name == name:
                self.table.selectRow(row)
                self.table.scrollTo(self.table.model().index(row, 0))

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()].name if rows else None

    def _filter(self, text: str) -> None:
        for row, entry in enumerate(self.models):
            self.table.setRowHidden(row, text.lower() not in entry.name)

    def _suggest_output(self) -> None:
        name = self.selected_name()
        if name:
            self.from_torchvision.setChecked(True)
            self.output.setText(str(Path(self.output.text()).parent / f"{name}.json"))

    def _browse_onnx(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import ONNX", str(self.folder),
                                              "ONNX models (*.onnx)")
        if path:
            self.onnx_path.setText(path)
            self.from_onnx.setChecked(True)
            self.output.setText(str(Path(self.output.text()).parent / f"{Path(path).stem}.json"))

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model file", self.output.text(),
                                              "ConvScope models (*.json)")
        if path:
            self.output.setText(path)

    def start(self) -> None:
        output = Path(self.output.text()).expanduser()
        if output.suffix.lower() != ".json":
            output = output.with_suffix(".json")
        if not output.parent.is_dir():
            self.status.setText(error_html(f"⚠ the folder {output.parent} does not exist"))
            return
        if self.from_onnx.isChecked():
            source = Path(self.onnx_path.text()).expanduser()

            def work() -> Any:
                from core.io.fx_import import save_imported
                from core.io.onnx_import import import_onnx

                return save_imported(import_onnx(source), output)

            self._run(work, f"Importing {source.name}…", ("onnx", "core.io.onnx_import"))
            return
        name = self.selected_name()
        if name is None:
            self.status.setText("Choose a model in the list.")
            return
        weights = "DEFAULT" if self.pretrained.isChecked() else None

        def work_tv() -> Any:
            from core.io.fx_import import save_imported
            from core.io.torchvision_models import import_torchvision

            try:
                return save_imported(import_torchvision(name, weights), output)
            except ModelError as exc:  # core words it for the command line
                raise ModelError(str(exc).replace("import it without --weights", _UNTICKED)
                                 .replace("import without --weights", _UNTICKED)) from None

        self._run(work_tv, f"Tracing torchvision's {name}" +
                  (" and loading its weights…" if weights else "…"))

    def succeeded(self, result: Any) -> None:
        if self._listing:
            self._listing = False
            self.status.clear()
            self._fill(result)
            return
        files: list[Path] = result
        self.imported.emit(files[0], files[1] if len(files) > 1 else None)
        self.accept()


FORMATS = ("pytorch", "onnx", "torchscript", "script")
SUFFIXES = {"pytorch": ".py", "onnx": ".onnx", "torchscript": ".pt", "script": ".py"}
"""core.io.export's formats and suffixes (a test holds them equal): that module imports torch,
which the dialog must not do on the UI thread just to show its choices."""
_FORMAT_TEXT = {
    "pytorch": ("PyTorch code (.py)", "One readable .py with an nn.Module and model(); it runs "
                "without ConvScope (needs only torch)."),
    "onnx": ("ONNX (.onnx)", "Opset 17, dynamic batch: for Netron, onnxruntime and other "
             "frameworks."),
    "torchscript": ("TorchScript (.pt)", "Loads with torch.jit.load, no Python class needed."),
    "script": ("Training script (train.py)", "python train.py on one machine, or torchrun "
               "--nproc_per_node=N train.py on several processes or machines (DDP)."),
}


class ExportDialog(_BackgroundDialog):
    """Choose a format and a file; OK exports; the last line says where it went and how to run
    it. ``exported`` carries that line."""

    exported = Signal(str)

    def __init__(self, spec: ModelSpec, weights: Path | None, run_dir: Path | None,
                 parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent, f"Export {spec.name}")
        self.spec, self.weights_path, self.run_dir = spec, weights, run_dir
        self.folder = folder or Path.cwd()
        layout = QVBoxLayout(self)
        self.formats: dict[str, QRadioButton] = {}
        group = QButtonGroup(self)
        for fmt in FORMATS:
            button = QRadioButton(_FORMAT_TEXT[fmt][0])
            group.addButton(button)
            button.toggled.connect(lambda on, f=fmt: self._format_changed(f) if on else None)
            layout.addWidget(button)
            self.formats[fmt] = button
        self.about = _note("")
        layout.addWidget(self.about)
        self.with_weights = QCheckBox(
            f"Include the weights ({weights.name})" if weights else
            "Include the weights (none yet: train the model or open a run first)")
        self.with_weights.setChecked(weights is not None)
        self.with_weights.setEnabled(weights is not None)
        layout.addWidget(self.with_weights)
        row = QHBoxLayout()
        row.addWidget(QLabel("Dataset for the training script:"))
        self.dataset = QComboBox()
        self.dataset.setEditable(True)
        self.dataset.addItems(["digits", "mnist", "fashion-mnist", "cifar10"])
        row.addWidget(self.dataset, 1)
        layout.addLayout(row)
        layout.addWidget(QLabel("Write to:"))
        self.output = QLineEdit()
        layout.addLayout(_path_row(self.output, self._browse))
        layout.addWidget(self.busy)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.formats["pytorch"].setChecked(True)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 80)
        self.resize(self.minimumWidth(), self.sizeHint().height())

    def chosen_format(self) -> str:
        return next(f for f, b in self.formats.items() if b.isChecked())

    def _format_changed(self, fmt: str) -> None:
        # a name Python can import ("from digits_small import model"), not "digits-small"
        stem = "train" if fmt == "script" else re.sub(r"\W|^(?=\d)", "_", self.spec.name)
        current = Path(self.output.text()) if self.output.text() else self.folder / stem
        self.output.setText(str(current.parent / f"{stem}{SUFFIXES[fmt]}"))
        self.dataset.setEnabled(fmt == "script" and self.run_dir is None)
        self.about.setText(_FORMAT_TEXT[fmt][1])

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.output.text())
        if path:
            self.output.setText(path)

    def start(self) -> None:
        fmt, out = self.chosen_format(), Path(self.output.text()).expanduser()
        weights = self.weights_path if self.with_weights.isChecked() else None
        run = self.run_dir if weights is not None else None
        dataset = self.dataset.currentText().strip() or None
        spec = self.spec
        def work() -> Any:
            from core.io.export import export_model

            return export_model(spec, fmt, out, weights, dataset, run)

        self._run(work, f"Exporting {spec.name} as {fmt}…",
                  ("onnx", "core.io.export") if fmt == "onnx" else ())

    def succeeded(self, result: Any) -> None:
        line = result.describe()
        self.status.setText(f"<span style='color:#2a9d8f'>✔</span> {line}")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Close")
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))
        self.exported.emit(line)

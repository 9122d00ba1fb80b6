"""File → Import: a torchvision or timm model from a searchable list, or an ONNX file.

The lists are read on a worker (importing torchvision or timm takes seconds the first time).
timm's transformer families are greyed at once with the reason; whether one of its CNNs converts
(and its parameter count) is found lazily on a worker, the selected model first, then the rows a
filter leaves, each greyed with its reason when it cannot. Pretrained weights come from the
source's cache or a local weights file chosen here (offline use).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.io_dialogs.background import _BackgroundDialog, _note, _path_row
from app.style import error_html
from app.table_rows import fit_rows_to_text
from app.workers import Worker
from core.model.errors import ModelError

TORCHVISION, TIMM, ONNX = "torchvision", "timm", "onnx"
_CHECK_VISIBLE = 40
"""A filter that leaves at most this many unchecked timm rows has them checked one by one."""


def _list_models() -> tuple[Any, ...]:
    from core.io.torchvision_models import classification_models

    return classification_models()


def _list_timm() -> tuple[Any, ...]:
    from core.io.timm_models import timm_models

    return timm_models()


def _count_timm(names: tuple[str, ...]) -> Any:
    from core.io.timm_counts import counts

    yield from counts(names)


def _check_timm(name: str) -> Any:
    from core.io.timm_models import TimmCheck, check_timm

    try:
        return check_timm(name)
    except Exception as exc:  # a check must not end the queue: the model is refused instead
        return TimmCheck(name, None, f"{type(exc).__name__}: {exc}"[:300])


_UNTICKED = "import it with “With the pretrained weights” unticked"
_WEIGHTS_BOX = "give the file in “Or a local weights file”"


def _dialog_words(message: str) -> str:
    """core's messages are worded for the command line; the dialog's controls instead."""
    return (message.replace("import it without --weights", _UNTICKED)
            .replace("import without --weights", _UNTICKED)
            .replace("give the file with --weights", _WEIGHTS_BOX)
            .replace("give a weights file of that model", _WEIGHTS_BOX))


class ImportDialog(_BackgroundDialog):
    """Choose a torchvision or timm model (with its parameter count) or an ONNX file; OK
    imports it.

    ``imported`` fires with the written model file and its weights file (or None).
    """

    imported = Signal(Path, object)

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent, "Import a model")
        self.folder = folder or Path.cwd()
        self.models: tuple[Any, ...] = ()
        self.shown_source = TORCHVISION
        self._lists: dict[str, tuple[Any, ...]] = {}
        self._listing: str | None = None
        self.checks: dict[str, Any] = {}
        """timm's models checked so far: name → core.io.timm_models.TimmCheck."""
        self._check_worker: Worker | None = None
        self._checking: str | None = None
        self._to_check: list[str] = []
        self.counts: dict[str, int] = {}
        """timm's parameter counts known so far (every CNN row gets one, counted on a worker)."""
        self._count_worker: Worker | None = None
        self._rows: dict[str, int] = {}
        layout = QVBoxLayout(self)
        self.from_torchvision = QRadioButton("A torchvision classification model")
        self.from_timm = QRadioButton("A timm model (its convolutional networks)")
        self.from_onnx = QRadioButton("An ONNX file")
        self.from_torchvision.setChecked(True)
        group = QButtonGroup(self)
        for button in (self.from_torchvision, self.from_timm, self.from_onnx):
            group.addButton(button)
        self.from_torchvision.toggled.connect(lambda on: self._show(TORCHVISION) if on else None)
        self.from_timm.toggled.connect(lambda on: self._show(TIMM) if on else None)
        layout.addWidget(self.from_torchvision)
        layout.addWidget(self.from_timm)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter, e.g. resnet or efficientnet")
        self.filter.textChanged.connect(self._filter)
        layout.addWidget(self.filter)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Model", "Parameters"])
        self.table.verticalHeader().hide()
        fit_rows_to_text(self.table)  # the names' underscores whole at projector text
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda *_: self.start())
        self.table.setMinimumHeight(self.table.verticalHeader().defaultSectionSize() * 6)
        layout.addWidget(self.table, 1)
        self.pretrained = QCheckBox("With the pretrained weights")
        layout.addWidget(self.pretrained)
        layout.addWidget(_note("torchvision's DEFAULT weights, read from torch's cache or "
                               "downloaded; timm's, read from Hugging Face's cache (offline)."))
        self.weights_file = QLineEdit()
        self.weights_file.setPlaceholderText("Or a local weights file of that model "
                                             "(.safetensors, .pth)")
        layout.addLayout(_path_row(self.weights_file, self._browse_weights))
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
        height = min(self.fontMetrics().height() * 42, int(room * 0.85), 1000)
        self.resize(self.minimumWidth(), max(height, self.minimumSizeHint().height()))
        self._load_list()

    # -- the lists -----------------------------------------------------------------------------
    def _load_list(self) -> None:
        """torchvision's list: importing torchvision takes seconds the first time, so it is read
        on the worker; later dialogs get it at once (it is cached). The UI thread never imports
        that module (it imports torch): it asks only a module a worker already loaded."""
        self._show(TORCHVISION)

    def _show(self, source: str) -> None:
        """Fill the table with ``source``'s list, read on a worker unless a worker already
        read it (the UI thread only asks a module already loaded)."""
        module, function = {TORCHVISION: ("core.io.torchvision_models", "classification_models"),
                            TIMM: ("core.io.timm_models", "timm_models")}[source]
        if source in self._lists:
            self._fill(source, self._lists[source])
            return
        listing = getattr(sys.modules.get(module), function, None)
        if listing is not None and listing.cache_info().currsize:
            self._fill(source, listing())
            return
        self._listing = source
        self.models = ()
        self.table.setRowCount(0)
        self._run(_list_models if source == TORCHVISION else _list_timm,
                  f"Reading {source}'s models…")

    def _fill(self, source: str, models: tuple[Any, ...]) -> None:
        self._lists[source] = models
        self.shown_source = source
        self.models = models
        self._rows = {entry.name: row for row, entry in enumerate(models)}
        self.table.blockSignals(True)
        self.table.setRowCount(len(models))
        for row, entry in enumerate(models):
            self.table.setItem(row, 0, QTableWidgetItem(entry.name))
            count = QTableWidgetItem()
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 1, count)
            self._show_row(row)
        self.table.blockSignals(False)
        self._filter(self.filter.text())
        if models:
            self.select("resnet18")
        if source == TIMM:
            self._count_all()

    def _count_all(self) -> None:
        """Fill every CNN row's parameter count on a worker (counts kept on disk come at once)."""
        if self._count_worker is not None:
            return
        names = tuple(m.name for m in self.models if not m.refused and m.name not in self.counts)
        if not names:
            return
        worker = Worker(_count_timm, names)
        worker.yielded.connect(self._counted)
        worker.finished.connect(lambda: setattr(self, "_count_worker", None))
        self._count_worker = worker
        worker.start()

    def _counted(self, named: tuple[str, int]) -> None:
        name, params = named
        self.counts[name] = params
        row = self._rows.get(name)
        if self.shown_source == TIMM and row is not None:
            self._show_row(row)

    def _show_row(self, row: int) -> None:
        entry = self.models[row]
        name_item, count = self.table.item(row, 0), self.table.item(row, 1)
        if name_item is None or count is None:
            return
        refused = self.refusal(entry.name)
        if self.shown_source == TORCHVISION:
            count.setText(f"{entry.params:,}" if entry.params else "?")
        elif refused:
            count.setText("not a CNN" if entry.refused else "cannot convert")
        else:
            check = self.checks.get(entry.name)
            params = check.params if check is not None and check.params else self.counts.get(
                entry.name)
            count.setText(f"{params:,}" if params else "…")
        for item in (name_item, count):
            item.setToolTip(refused or "")
            if refused:  # greyed: shown, with its reason, but not chosen
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)

    def refusal(self, name: str) -> str | None:
        """Why the shown source's model ``name`` cannot be imported, when known yet."""
        if self.shown_source != TIMM:
            return None
        entry = next((m for m in self.models if m.name == name), None)
        if entry is not None and entry.refused:
            return str(entry.refused)
        check = self.checks.get(name)
        return str(check.refused) if check is not None and check.refused else None

    def select(self, name: str) -> None:
        for row, entry in enumerate(self.models):
            if entry.name == name:
                self.table.selectRow(row)
                self.table.scrollTo(self.table.model().index(row, 0))

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        return self.models[rows[0].row()].name if rows and self.models else None

    def _filter(self, text: str) -> None:
        for row, entry in enumerate(self.models):
            self.table.setRowHidden(row, text.lower() not in entry.name)
        if self.shown_source == TIMM:
            visible = [m.name for r, m in enumerate(self.models)
                       if not self.table.isRowHidden(r) and not m.refused
                       and m.name not in self.checks]
            self._to_check = visible if len(visible) <= _CHECK_VISIBLE else []
            self._check_next()

    # -- timm's lazy checks, one at a time on a worker ------------------------------------------
    def _queue_check(self, name: str) -> None:
        if name in self.checks or name == self._checking:
            return
        if name in self._to_check:
            self._to_check.remove(name)
        self._to_check.insert(0, name)
        self._check_next()

    def _check_next(self) -> None:
        if self._check_worker is not None or not self._to_check:
            return
        name = self._to_check.pop(0)
        worker = Worker(_check_timm, name)
        worker.returned.connect(self._checked)
        worker.errored.connect(self._check_failed)
        self._check_worker, self._checking = worker, name
        worker.start()

    def _checked(self, result: Any) -> None:
        if self.sender() is not self._check_worker:
            return  # the dialog closed or moved on
        self._check_worker, self._checking = None, None
        self.checks[result.name] = result
        if self.shown_source == TIMM:
            for row, entry in enumerate(self.models):
                if entry.name == result.name:
                    self._show_row(row)
            if result.refused and self.selected_name() == result.name and not self.running:
                self.status.setText(error_html(f"⚠ {result.refused}"))
        self._check_next()

    def _check_failed(self, exc: BaseException) -> None:
        if self.sender() is self._check_worker:
            self._check_worker, self._checking = None, None
            self._check_next()

    def done(self, code: int) -> None:
        """Close now; a check still running is dropped with the import job."""
        if self._check_worker is not None:
            self._check_worker.quit()
            self._check_worker = None
        if self._count_worker is not None:
            self._count_worker.quit()  # what it counted so far is kept on disk
            self._count_worker = None
        self._to_check = []
        super().done(code)

    # -- choices ---------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        name = self.selected_name()
        if not name:
            return
        if self.from_onnx.isChecked():
            (self.from_timm if self.shown_source == TIMM else self.from_torchvision).setChecked(
                True)
        self.output.setText(str(Path(self.output.text()).parent / f"{name}.json"))
        if self.shown_source == TIMM:
            reason = self.refusal(name)
            if reason:
                self.status.setText(error_html(f"⚠ {reason}"))
            else:
                self.status.clear()
                self._queue_check(name)

    def _browse_onnx(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import ONNX", str(self.folder),
                                              "ONNX models (*.onnx)")
        if path:
            self.onnx_path.setText(path)
            self.from_onnx.setChecked(True)
            self.output.setText(str(Path(self.output.text()).parent / f"{Path(path).stem}.json"))

    def _browse_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Weights file", str(self.folder),
                                              "Weights (*.safetensors *.pth *.pt *.bin)")
        if path:
            self.weights_file.setText(path)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model file", self.output.text(),
                                              "ConvScope models (*.json)")
        if path:
            self.output.setText(path)

    def _weights(self) -> str | None:
        local = self.weights_file.text().strip()
        if local:
            return str(Path(local).expanduser())
        return "DEFAULT" if self.pretrained.isChecked() else None

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
        reason = self.refusal(name)
        if reason:
            self.status.setText(error_html(f"⚠ {reason}"))
            return
        weights, timm = self._weights(), self.shown_source == TIMM

        def work_model() -> Any:
            from core.io.fx_import import save_imported

            try:
                if timm:
                    from core.io.timm_models import import_timm

                    return save_imported(import_timm(name, weights), output)
                from core.io.torchvision_models import import_torchvision

                return save_imported(import_torchvision(name, weights), output)
            except ModelError as exc:  # core words it for the command line
                raise ModelError(_dialog_words(str(exc))) from None

        self._run(work_model, f"Tracing {self.shown_source}'s {name}" +
                  (" and loading its weights…" if weights else "…"))

    def succeeded(self, result: Any) -> None:
        if self._listing is not None:
            source, self._listing = self._listing, None
            self.status.clear()
            self._fill(source, result)
            return
        files: list[Path] = result
        self.imported.emit(files[0], files[1] if len(files) > 1 else None)
        self.accept()

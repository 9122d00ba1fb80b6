"""File → Export: the four formats, the job off the UI thread, and a last line saying where the
files went and how to run them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.io_dialogs.background import _BackgroundDialog, _note, _path_row
from core.model.spec import ModelSpec

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

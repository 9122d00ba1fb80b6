"""The kernel grid: a small convolution's kernel for one output channel, typed or painted.

Right-click a Conv2d block → Edit Kernel Values…: one grid per input channel of the chosen
output channel (the lecture's 7×7 vertical-line filter, the 6×6 example's [1 0 −1]). Type a value
in a cell, or tick Paint and press or drag over cells to set them to the paint value. Apply writes
the weights with that kernel (core.inspect.kernel_values, on a worker) and the window holds them
as one undo step; reading and writing never block the window.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.table_rows import fit_rows_to_text
from app.workers import Worker
from core.inspect.kernel_values import parse_cell, read_kernel, write_kernel
from core.model.errors import ModelError
from core.workspace import home


class KernelEditor(QDialog):
    """Edit one output channel's kernel of Conv2d ``layer`` in the document's weights."""

    def __init__(self, document: ModelDocument, layer: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.layer = document, layer
        self.setWindowTitle(f"Kernel values of {layer}")
        self.weight: np.ndarray | None = None
        self.worker: Worker | None = None
        self.applied: Path | None = None
        """The weights file the last Apply wrote (the document holds it)."""
        self._filling = False
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Output channel"))
        self.out_box = QSpinBox()
        self.out_box.setToolTip("Which filter of the layer to edit")
        row.addWidget(self.out_box)
        row.addWidget(QLabel("input channel"))
        self.in_box = QSpinBox()
        self.in_box.setToolTip("Each output channel has one kernel slice per input channel")
        row.addWidget(self.in_box)
        self.paint = QCheckBox("Paint")
        self.paint.setToolTip("Press or drag over cells to set them to the paint value")
        row.addWidget(self.paint)
        self.paint_value = QDoubleSpinBox()
        self.paint_value.setRange(-1e6, 1e6)
        self.paint_value.setDecimals(3)
        self.paint_value.setValue(1.0)
        row.addWidget(self.paint_value)
        row.addStretch(1)
        layout.addLayout(row)
        self.grid = QTableWidget()
        self.grid.setMouseTracking(True)
        # the numbers whole at every text size (rows stayed 30 px at 24 pt, issue 17)
        fit_rows_to_text(self.grid).fitted.connect(self.grid.resizeColumnsToContents)
        self.grid.cellPressed.connect(self._paint_cell)
        self.grid.cellEntered.connect(self._drag_paint)
        self.grid.itemChanged.connect(self._typed)
        layout.addWidget(self.grid, 1)
        self.status = QLabel("Reading the weights…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Write this kernel into the model's weights (one undo step)")
        self.apply_button.setEnabled(False)
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.ApplyRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.reject)
        self.apply_button.clicked.connect(self.apply)
        layout.addWidget(buttons)
        self.out_box.valueChanged.connect(lambda _v: self._fill())
        self.in_box.valueChanged.connect(lambda _v: self._fill())
        self._start(read_kernel, document.spec, document.weights, layer, done=self._read)

    # -- work off the UI thread -------------------------------------------------------------
    def _start(self, function: object, *args: object, done: object) -> None:
        worker = Worker(function, *args)  # type: ignore[arg-type]
        worker.returned.connect(done)
        worker.errored.connect(lambda exc: self._failed(exc))
        self.worker = worker
        worker.start()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(f"⚠ {exc}" if isinstance(exc, ModelError)
                            else f"⚠ {type(exc).__name__}: {exc}")
        self.apply_button.setEnabled(self.weight is not None)

    def _read(self, weight: np.ndarray) -> None:
        self.weight = weight.copy()
        out, inputs, height, width = weight.shape
        self.out_box.setRange(0, out - 1)
        self.in_box.setRange(0, inputs - 1)
        self.grid.setRowCount(height)
        self.grid.setColumnCount(width)
        self._fill()
        self.apply_button.setEnabled(True)
        self.status.setText(f"{out} output channels, {inputs} input channel(s), {height}×{width}"
                            f" kernels, from {self.document.weights_label()}")

    def reject(self) -> None:
        if self.worker is not None and not self.worker.is_done:
            self.worker.quit()
        super().reject()

    # -- the grid ---------------------------------------------------------------------------
    def kernel(self) -> np.ndarray:
        """The chosen output channel's kernel as edited so far (in × kh × kw)."""
        assert self.weight is not None
        return self.weight[self.out_box.value()]

    def _fill(self) -> None:
        if self.weight is None:
            return
        values = self.weight[self.out_box.value(), self.in_box.value()]
        span = float(np.abs(values).max()) or 1.0
        self._filling = True
        for row in range(values.shape[0]):
            for column in range(values.shape[1]):
                value = float(values[row, column])
                item = self.grid.item(row, column)
                if item is None:  # items kept: the one being edited never goes under it
                    item = QTableWidgetItem()
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                    self.grid.setItem(row, column, item)
                item.setText(f"{value:.3g}")
                shade = int(127 + 120 * value / span)  # the sign shows as light or dark
                item.setBackground(QColor(shade, shade, shade))
                item.setForeground(QColor("#000000" if shade > 120 else "#ffffff"))
        self._filling = False
        self.grid.resizeColumnsToContents()

    def set_cell(self, row: int, column: int, value: float) -> None:
        """Set one kernel value of the shown slice (as a typed or painted cell does)."""
        assert self.weight is not None
        self.weight[self.out_box.value(), self.in_box.value(), row, column] = value
        self._fill()

    def _typed(self, item: QTableWidgetItem) -> None:
        if self._filling or self.weight is None:
            return
        try:
            value = parse_cell(item.text())
        except ModelError as exc:
            self.status.setText(f"⚠ {exc}; the cell keeps its value")
            QTimer.singleShot(0, self._fill)  # after the editor has let go of the cell
            return
        assert self.weight is not None
        self.weight[self.out_box.value(), self.in_box.value(), item.row(), item.column()] = value
        QTimer.singleShot(0, self._fill)

    def _paint_cell(self, row: int, column: int) -> None:
        if self.paint.isChecked() and self.weight is not None:
            self.set_cell(row, column, self.paint_value.value())

    def _drag_paint(self, row: int, column: int) -> None:
        if QApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            self._paint_cell(row, column)

    # -- apply ------------------------------------------------------------------------------
    def apply(self) -> None:
        """Write the weights with this kernel on a worker; the document then holds them."""
        if self.weight is None:
            return
        out = self.out_box.value()
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.monotonic_ns() % 10**6:06d}"
        path = home() / "edited-weights" / f"{self.document.spec.name[:40]}-{stamp}.safetensors"
        self.apply_button.setEnabled(False)
        self.status.setText("Writing the weights…")
        self._start(write_kernel, self.document.spec, self.document.weights, self.layer, out,
                    self.kernel().copy(), path,
                    done=lambda written: self._written(written, out))

    def _written(self, path: Path, out: int) -> None:
        self.applied = path
        self.document.use_edited_weights(path, f"Edit kernel {out} of {self.layer}")
        self.apply_button.setEnabled(True)
        self.status.setText(f"Saved in the weights ({path.name}); Ctrl+Z undoes it")

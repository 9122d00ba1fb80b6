"""A convolution as a matrix, beside a locally connected and a dense layer (lectures 000, 003).

One output channel of the layer is ``matrix · vec(x) + bias``: the matrix has a row per output
cell and a column per input cell. The view draws it with cells outside every window faded, the
chosen output cell's row highlighted and that row's cells marked in the input (the kernel's
window), and the row's sum beside the layer's own output; beside it the same rows for a layer
without sharing (the same zeros, a distinct weight in every filled cell) and a dense layer
(every cell filled), with their weight counts. The matrix is built on the worker; Left / Right
move the output cell, Up / Down by a row of the output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSpinBox, QWidget

from app.classroom.grids import NumberGrid
from app.classroom.worked_view import WorkedView
from core.classroom.matrix import MATRIX_TYPES, ConvMatrix, Counterparts, counterparts
from core.classroom.text import number


class MatrixGrid(NumberGrid):
    """A matrix: cells no window covers drawn empty (faded), so the filled band stands out;
    a weight that is 0 inside a window keeps its number."""

    def set_matrix(self, values: np.ndarray, filled: np.ndarray, title: str,
                   window: list[tuple[int, int]], numbers: bool = True) -> None:
        """``numbers`` False: tints only (the counterparts' random weights mean nothing)."""
        self.set_data(values, title, window=window)
        if self._texts:
            flat = filled.ravel()
            self._texts = [text if flat[i] and numbers else ""
                           for i, text in enumerate(self._texts)]


def _matrix_work(session: Any, layer: str, channel: int) -> tuple[ConvMatrix, Counterparts]:
    from core.classroom.matrix import session_matrix

    conv = session_matrix(session, layer, channel)
    return conv, counterparts(conv)


class MatrixView(WorkedView):
    """Layer, output channel and output cell; the input with the cell's window, the three
    matrices with its row highlighted; the row's sum against the layer's output."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.layer = QComboBox()
        self.layer.setToolTip("The convolution drawn as a matrix")
        self.channel = QSpinBox()
        self.channel.setPrefix("output channel ")
        self.row = QSpinBox()
        self.row.setPrefix("output cell ")
        self.row.setToolTip("The output cell whose matrix row is highlighted (row-major)")
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip("Previous output cell (Left arrow)")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next output cell (Right arrow)")
        super().__init__([QLabel("Layer"), self.layer, self.channel, self.row,
                          self.prev_button, self.next_button],
                         [(NumberGrid(), 2), (MatrixGrid(), 3), (MatrixGrid(), 3),
                          (MatrixGrid(), 3)], parent)
        self.input_grid = self.grids[0]
        self.conv_grid, self.local_grid, self.dense_grid = (
            g for g in self.grids if isinstance(g, MatrixGrid))
        self.result: tuple[ConvMatrix, Counterparts] | None = None
        self._choice: tuple[str, int, int] | None = None
        """A lesson's choice waiting for its session."""
        self._want_row: int | None = None
        self.layer.currentTextChanged.connect(lambda _t: self._layer_chosen())
        self.channel.valueChanged.connect(lambda _v: self.request())
        self.row.valueChanged.connect(lambda _v: self._draw())
        self.prev_button.clicked.connect(lambda: self.step_by(-1))
        self.next_button.clicked.connect(lambda: self.step_by(+1))
        self.info.setText("Open a model with a small convolution layer.")

    def set_session(self, session: Any) -> None:
        self.session = session
        names = ([n for n in session.layers() if session.spec.layer(n).type in MATRIX_TYPES]
                 if session is not None else [])
        if not self.offer_layers(self.layer, names, "No convolution to draw as a matrix"):
            return
        if self._choice is not None and self._choice[0] in names:
            self._apply_choice()
        else:
            self._layer_chosen()

    def _layer_chosen(self) -> None:
        name = self.layer.currentText()
        if self.session is None or not name:
            return
        channels = int(self.session.output(name).shape[0])
        self.channel.blockSignals(True)
        self.channel.setRange(0, channels - 1)
        self.channel.blockSignals(False)
        self.request()

    def set_choice(self, layer: str, channel: int, row: int) -> None:
        """Show ``layer``'s output channel ``channel`` with output cell ``row`` highlighted,
        now or when the session arrives (a lesson step)."""
        self._choice = (layer, channel, row)
        if self.session is not None and self.layer.findText(layer) >= 0:
            self._apply_choice()

    def _apply_choice(self) -> None:
        assert self._choice is not None
        layer, channel, row = self._choice
        self._choice = None
        for widget in (self.layer, self.channel):
            widget.blockSignals(True)
        self.layer.setCurrentText(layer)
        self.channel.setRange(0, int(self.session.output(layer).shape[0]) - 1)
        self.channel.setValue(channel)
        for widget in (self.layer, self.channel):
            widget.blockSignals(False)
        self._want_row = row
        self.request()

    def request(self) -> None:
        session, layer, channel = self.session, self.layer.currentText(), self.channel.value()
        if session is None or not layer:
            return
        self.compute(lambda: _matrix_work(session, layer, channel),
                     "Building the matrix from the layer…")

    def show_result(self, result: Any) -> None:
        self.result = result
        conv, _ = result
        self.row.blockSignals(True)
        self.row.setRange(0, conv.matrix.shape[0] - 1)
        if self._want_row is not None:
            self.row.setValue(self._want_row)
            self._want_row = None
        self.row.blockSignals(False)
        self._draw()

    # -- stepping ---------------------------------------------------------------------------
    def step_by(self, delta: int) -> bool:
        if self.result is None:
            return False
        row = self.row.value() + delta
        if not 0 <= row <= self.row.maximum():
            return False
        self.row.setValue(row)
        return True

    def move_row(self, delta: int) -> None:
        if self.result is not None:
            width = self.result[0].output_shape[-1]
            self.row.setValue(min(max(0, self.row.value() + delta * width), self.row.maximum()))

    # -- drawing ----------------------------------------------------------------------------
    def _draw(self) -> None:
        if self.result is None or self.session is None:
            return
        conv, parts = self.result
        row = self.row.value()
        rows, columns = conv.matrix.shape
        window = conv.window(row)
        shape = conv.input_shape if len(conv.input_shape) == 3 else (conv.input_shape[0], 1,
                                                                     conv.input_shape[1])
        channel = window[0][0] if window else 0
        x = self.session.layer_input(conv.layer).double().numpy().reshape(shape)
        cells = [(int(p[-2]), int(p[-1])) if len(p) == 3 else (0, int(p[-1]))
                 for p in window if p[0] == channel]
        self.input_grid.set_data(x[channel], f"input channel {channel} of {shape[0]}",
                                 window=cells)
        band = [(row, j) for j in range(columns)]
        self.conv_grid.set_matrix(conv.matrix, conv.structure, f"{conv.layer_type}: {rows} × "
                                  f"{columns}, {conv.weights} weights shared", band)
        self.local_grid.set_matrix(parts.local, conv.structure, "locally connected: "
                                   f"{parts.local_weights:,} weights", band, numbers=False)
        self.dense_grid.set_matrix(parts.dense, np.ones_like(conv.structure),
                                   f"dense: {parts.dense_weights:,} weights", band,
                                   numbers=False)
        out = self.session.output(conv.layer).double().numpy()[conv.channel].ravel()
        where = ", ".join(str(int(v)) for v in np.unravel_index(row, conv.output_shape))
        value = float(conv.matrix[row] @ x.ravel() + conv.bias[row])
        self.info.setText(
            f"<b>{conv.layer}</b> ({conv.layer_type}) channel {conv.channel} = C · vec(x) + "
            f"bias: {rows} rows (output cells) × {columns} columns (input cells, "
            f"{'×'.join(map(str, conv.input_shape))}) · {self.session.weights_note} · input: "
            f"{self.session.source}")
        self.formula.setText(f"row {row} (output {where}): Σ of {len(window)} filled cells × "
                             f"the input under them + bias {number(float(conv.bias[row]))} = "
                             f"{number(value)}, the layer's output {number(float(out[row]))}")
        # the weight counts are in the grids' titles: one line here, not two (at projector
        # text the second line took a row of the lesson's list)
        self.notes.setText(
            f"Filled: {int(conv.structure.sum()):,} of {conv.matrix.size:,} cells, "
            f"{conv.weights} weights repeated · the unshared and dense values are random "
            "(where they are counts)")
        self.position_changed.emit((conv.layer, conv.channel, row))

"""The backward step: one gradient of a convolution or Linear layer, term by term.

The layer, what to differentiate (a weight, an input cell, a bias), which one and the target
class are chosen in the bar; the backward pass runs on the worker (``core.classroom.backward``).
Left / Right then step through the terms (Up / Down by a row of output positions): the input
value under the kernel cell (or the weight) × the upstream gradient at that position, each
grid marking where the term's numbers come from, and the running sum, whose last value is
autograd's gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QLabel, QPushButton, QSpinBox, QWidget

from app.classroom.grids import NumberGrid
from app.classroom.worked_view import WorkedView
from core.classroom.backward import AXES, GradientStep, GradKind, session_gradient
from core.classroom.text import gradient_name, gradient_term, gradient_total, number

KINDS: tuple[tuple[str, GradKind], ...] = (
    ("∂L/∂ a weight", "weight"), ("∂L/∂ an input cell", "input"), ("∂L/∂ a bias", "bias"))
# "out" beside "in", not "out channel": at projector text the longer word wrapped the bar's
# last button onto a second line, a row the lesson's list then lacked
AXIS_WORDS = {"C": "out", "I": "in", "A": "row", "B": "column", "O": "unit",
              "Y": "row", "X": "column", "L": "position"}


class BackwardView(WorkedView):
    """Layer, gradient, index and target pickers; input, upstream, kernel and terms grids."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self.layer = QComboBox()
        self.layer.setToolTip("The Conv1d, Conv2d or Linear layer")
        self.kind = QComboBox()
        for text, kind in KINDS:
            self.kind.addItem(text, kind)
        self.kind.setToolTip("What the loss is differentiated with respect to")
        self.spins = [QSpinBox() for _ in range(4)]
        self.target = QSpinBox()
        self.target.setPrefix("target class ")
        self.target.setToolTip("The class the loss (cross-entropy) is computed for")
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip("Previous term (Left arrow)")
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next term (Right arrow)")
        super().__init__([QLabel("Layer"), self.layer, self.kind, *self.spins, self.target,
                          self.prev_button, self.next_button],
                         [(NumberGrid(), 1) for _ in range(4)], parent)
        self.input_grid, self.upstream_grid, self.kernel_grid, self.terms_grid = self.grids
        self.result: GradientStep | None = None
        self.term = 0
        self._choice: tuple[str, GradKind, tuple[int, ...], int, int] | None = None
        """A lesson's choice waiting for its session."""
        self._want_term: int | None = None
        self.layer.currentTextChanged.connect(self._layer_chosen)
        self.kind.currentIndexChanged.connect(lambda _i: self._layer_chosen(
            self.layer.currentText()))
        for spin in (*self.spins, self.target):
            spin.valueChanged.connect(lambda _v: self.request())
        self.prev_button.clicked.connect(lambda: self.step_by(-1))
        self.next_button.clicked.connect(lambda: self.step_by(+1))
        self.info.setText("Open a model with a Conv1d, Conv2d or Linear layer.")

    # -- choosing ---------------------------------------------------------------------------
    def set_session(self, session: Any) -> None:
        """A new step-through session: keep the layer and choices where they still exist."""
        self.session = session
        names = session.gradient_layers() if session is not None else []
        if not self.offer_layers(self.layer, names, "Nothing to backpropagate: the model has "
                                 "no Conv1d, Conv2d or Linear layer"):
            return
        classes = session.classes()
        self.target.blockSignals(True)
        self.target.setRange(0, max(0, classes - 1))
        self.target.blockSignals(False)
        if self._choice is not None and self._choice[0] in names:
            self._apply_choice()
        else:
            self._layer_chosen(self.layer.currentText())

    def _layer_chosen(self, name: str) -> None:
        self._set_axes(name)

    def _set_axes(self, name: str, request: bool = True) -> None:
        """The index spins for ``name`` and the chosen kind: as many as it has axes, each
        named and ranged from the layer's own shapes."""
        if self.session is None or not name:
            return
        module = self.session.module(name)
        kind: GradKind = self.kind.currentData()
        layer_type = type(module).__name__
        if kind == "weight":
            sizes = tuple(module.weight.shape)
        elif kind == "input":
            sizes = tuple(self.session.layer_input(name).shape)
        else:
            sizes = (int(module.weight.shape[0]),)
        axes = AXES[(kind, layer_type)].split(",") if kind != "input" or layer_type != \
            "Linear" else ["L"] * (len(sizes) - 1) + ["I"]
        for index, spin in enumerate(self.spins):
            spin.blockSignals(True)
            spin.setVisible(index < len(sizes))
            if index < len(sizes):
                spin.setPrefix(f"{axes[index]} ({AXIS_WORDS[axes[index]]}) ")
                spin.setRange(0, sizes[index] - 1)
            spin.blockSignals(False)
        if request:
            self.request()

    def at(self) -> tuple[int, ...]:
        return tuple(s.value() for s in self.spins if not s.isHidden())

    def set_choice(self, layer: str, kind: GradKind, at: tuple[int, ...], target: int,
                   term: int = 0) -> None:
        """Show ``kind`` gradient ``at`` of ``layer`` for class ``target`` from term ``term``
        (−1: the last), now or when the session arrives (a lesson step)."""
        self._choice = (layer, kind, tuple(at), target, term)
        if self.session is not None and layer in self.session.gradient_layers():
            self._apply_choice()

    def _apply_choice(self) -> None:
        assert self._choice is not None
        layer, kind, at, target, term = self._choice
        self._choice = None
        for widget in (self.layer, self.kind, self.target):
            widget.blockSignals(True)
        self.layer.setCurrentText(layer)
        self.kind.setCurrentIndex([k for _, k in KINDS].index(kind))
        self.target.setValue(target)
        for widget in (self.layer, self.kind, self.target):
            widget.blockSignals(False)
        self._set_axes(layer, request=False)
        for spin, value in zip(self.spins, at, strict=False):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)
        self._want_term = term
        self.request()

    def request(self) -> None:
        """Backpropagate for the current choice on the worker (latest wins)."""
        session, layer = self.session, self.layer.currentText()
        if session is None or not layer:
            return
        kind: GradKind = self.kind.currentData()
        at, target = self.at(), self.target.value()
        self.compute(lambda: session_gradient(session, layer, kind, at, target),
                     "Backpropagating the loss to the layer…")

    # -- stepping ---------------------------------------------------------------------------
    def step_by(self, delta: int) -> bool:
        """The next (+1) or previous (−1) term; False at either end."""
        if self.result is None:
            return False
        term = self.term + delta
        if not 0 <= term < len(self.result.contributions):
            return False
        self.term = term
        self._draw()
        return True

    def move_row(self, delta: int) -> None:
        if self.result is None or not len(self.result.contributions):
            return
        width = int(self.result.upstream_map.shape[-1]) if self.result.kind != "input" else 1
        self.term = min(max(0, self.term + delta * width), len(self.result.contributions) - 1)
        self._draw()

    def show_result(self, result: Any) -> None:
        same = (self.result is not None and self.result.layer == result.layer
                and self.result.kind == result.kind)
        self.result = result
        count = len(result.contributions)
        self.term = min(self.term, count - 1) if same else 0
        if self._want_term is not None:
            self.term = self._want_term if self._want_term >= 0 else count + self._want_term
            self._want_term = None
        self.term = max(0, min(self.term, count - 1))
        self._draw()

    # -- drawing ----------------------------------------------------------------------------
    def _draw(self) -> None:
        step, session = self.result, self.session
        if step is None or session is None:
            return
        layer_input = session.layer_input(step.layer).double().numpy()
        module = session.module(step.layer)
        weight = module.weight.detach().double().numpy()
        one_d = step.layer_type == "Conv1d"
        linear = step.layer_type == "Linear"
        up = step.upstream_map
        if one_d:
            layer_input, up, weight = layer_input[:, None], up[:, None], weight[:, :, None]
        self.info.setText(
            f"<b>{step.layer}</b> ({step.layer_type}) · {gradient_name(step)} for the loss "
            f"{number(step.loss or 0.0)} to class {step.target} · {session.weights_note} · "
            f"input: {session.source}")
        count = len(step.contributions)
        k = self.term
        for grid in self.grids:
            grid.setVisible(True)
        if linear:
            self._draw_linear(step, layer_input, up, weight)
        elif step.kind == "bias":
            c = step.at[0]
            self.input_grid.setVisible(False)
            self.kernel_grid.setVisible(False)
            here = tuple(step.positions[k][1:]) if count else (0, 0)
            here = (0, here[0]) if one_d else here
            self.upstream_grid.set_data(up[c], f"∂L/∂y, channel {c}", marks=[here])
            self.terms_grid.set_data(np.cumsum(up[c].ravel()).reshape(up[c].shape),
                                     "running sum", marks=[here])
        else:
            self._draw_conv(step, layer_input, up, weight, one_d)
        self.formula.setText(gradient_term(step, k) if count else "no terms: the gradient is 0")
        self.notes.setText(gradient_total(step) + " · " + " · ".join(step.notes))
        self.position_changed.emit((step.kind, step.at, k))

    def _draw_conv(self, step: GradientStep, layer_input: np.ndarray, up: np.ndarray,
                   weight: np.ndarray, one_d: bool) -> None:
        k = self.term
        per_in = weight.shape[1]
        count = len(step.contributions)
        if step.kind == "weight":
            c, i = step.at[0], step.at[1]
            cell = (0, step.at[2]) if one_d else (step.at[2], step.at[3])
            group = c // (weight.shape[0] // max(1, layer_input.shape[0] // per_in))
            channel = group * per_in + i
            y, x = (0, int(step.positions[k][1])) if one_d else (int(step.positions[k][1]),
                                                                  int(step.positions[k][2]))
            read = (0, int(step.cells[k][0])) if one_d else (int(step.cells[k][0]),
                                                              int(step.cells[k][1]))
            every = sorted({(0, int(cell[0])) if one_d else (int(cell[0]), int(cell[1]))
                            for cell in step.cells})
            if len(every) >= layer_input[channel].size:
                every = []  # every cell is read (stride 1): outlining them all says nothing
            self.input_grid.set_data(layer_input[channel], f"input channel {channel}"
                                     + (" (read: padding)" if step.padding[k] else ""),
                                     marks=[read], window=every)
            self.upstream_grid.set_data(up[c], f"∂L/∂y, channel {c}", marks=[(y, x)])
            self.kernel_grid.set_data(weight[c, i], f"kernel w[{c}, {i}]", marks=[cell])
            terms = step.contributions.reshape(up[c].shape)
            done = [(int(r), int(q)) for r, q in
                    (np.unravel_index(j, terms.shape) for j in range(k))]
            self.terms_grid.set_data(terms, "terms: input × ∂L/∂y", marks=[(y, x)],
                                     window=done)
            return
        ch = step.at[0]
        r0, c0 = (0, step.at[1]) if one_d else (step.at[1], step.at[2])
        self.input_grid.set_data(layer_input[ch], f"input channel {ch}", marks=[(r0, c0)])
        if not count:
            self.upstream_grid.set_data(None, "")
            self.kernel_grid.set_data(None, "")
            self.terms_grid.set_data(None, "")
            return
        c = int(step.positions[k][0])
        y, x = (0, int(step.positions[k][1])) if one_d else tuple(
            int(v) for v in step.positions[k][1:])
        a, b = (0, int(step.cells[k][1])) if one_d else (int(step.cells[k][1]),
                                                          int(step.cells[k][2]))
        readers = [(0, int(p[1])) if one_d else (int(p[1]), int(p[2]))
                   for p in step.positions if int(p[0]) == c]
        self.upstream_grid.set_data(up[c], f"∂L/∂y, channel {c}", marks=[(y, x)],
                                    window=readers)
        i = ch % per_in
        self.kernel_grid.set_data(weight[c, i], f"kernel w[{c}, {i}]", marks=[(a, b)])
        self.terms_grid.set_data(step.running_sum[None], "running sum, term by term",
                                 marks=[(0, k)])

    def _draw_linear(self, step: GradientStep, layer_input: np.ndarray, up: np.ndarray,
                     weight: np.ndarray) -> None:
        k = self.term
        xs = layer_input.reshape(-1, layer_input.shape[-1])
        gs = up.reshape(-1, up.shape[-1])
        row = int(np.ravel_multi_index(tuple(step.positions[k][:-1]), layer_input.shape[:-1])) \
            if layer_input.ndim > 1 and len(step.contributions) else 0
        o = int(step.positions[k][-1]) if len(step.contributions) else 0
        if step.kind == "input":
            i = step.at[-1]
            self.input_grid.set_data(xs, "input", marks=[(row, i)])
            self.kernel_grid.set_data(weight, "weights W (units × inputs)", marks=[(o, i)],
                                      window=[(u, i) for u in range(weight.shape[0])])
        else:
            i = step.at[1] if step.kind == "weight" else 0
            self.input_grid.setVisible(step.kind == "weight")
            self.input_grid.set_data(xs, "input", marks=[(row, i)])
            self.kernel_grid.set_data(weight, "weights W (units × inputs)",
                                      marks=[(step.at[0], i)] if step.kind == "weight" else [])
        self.upstream_grid.set_data(gs, "∂L/∂y", marks=[(row, o)])
        self.terms_grid.set_data(step.running_sum[None], "running sum", marks=[(0, k)])

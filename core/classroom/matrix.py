"""A convolution as a matrix: one output channel C = matrix · vec(x) + bias (lectures 000, 003).

A convolution is linear in its input, so it is multiplication by a matrix with one row per output
cell of channel C (row-major) and one column per input cell C_in·H·W (row-major): each row holds
the kernel at the columns of that output's window and zeros elsewhere, the same numbers shifted
from row to row (a doubly-block Toeplitz matrix for a 2-D convolution). The matrix is read off
the layer itself: column j is the layer, bias removed, applied to the j-th basis image (one
batched call, float64), so stride, padding modes, dilation and groups are as torch computes them.

``counterparts`` gives lecture 000's comparison: a locally connected layer has the same zeros but
a distinct weight in every filled cell; a dense layer fills every cell.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from core.classroom.step import StepError, _plain
from core.lazy import LazyModule

if TYPE_CHECKING:
    import torch
    from torch import nn
else:  # imported at first use: the window imports this module at start-up
    torch = LazyModule("torch")
    nn = LazyModule("torch.nn")

MATRIX_TYPES = ("Conv1d", "Conv2d", "ConvTranspose2d", "LocallyConnected2d")
"""Layer types drawn as a matrix."""
MAX_COLUMNS = 3 * 32 * 32
"""The most input cells (columns) a matrix is built for."""
MAX_CELLS = 1 << 22
"""The most matrix cells (rows × columns) built."""


@dataclass(frozen=True)
class ConvMatrix:
    """Output channel ``channel`` of a layer as ``matrix · vec(x) + bias``."""

    layer: str
    layer_type: str
    channel: int
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    """The channel's plane: (H_out, W_out), or (W_out,) for Conv1d."""
    matrix: np.ndarray
    bias: np.ndarray
    structure: np.ndarray
    """True where the layer can put a weight (the window's cells), whatever its value."""
    weights: int
    """Distinct weights in the matrix: the kernel's, shared by every row."""

    def window(self, row: int) -> list[tuple[int, ...]]:
        """The input cells (channel, row, column) under output cell ``row``'s window."""
        return [tuple(int(v) for v in np.unravel_index(j, self.input_shape))
                for j in np.nonzero(self.structure[row])[0]]

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "type": self.layer_type, "channel": self.channel,
                "input_shape": list(self.input_shape), "output_shape": list(self.output_shape),
                "rows": int(self.matrix.shape[0]), "columns": int(self.matrix.shape[1]),
                "nonzero": int(self.structure.sum()), "weights": self.weights,
                "matrix": _plain(self.matrix.tolist()), "bias": _plain(self.bias.tolist())}


def conv_matrix(layer: str, module: nn.Module, input_shape: tuple[int, ...],
                channel: int) -> ConvMatrix:
    """Output channel ``channel`` of ``module`` (input ``input_shape``, batch excluded) as a
    matrix and a bias vector."""
    from core.build import LocallyConnected2d

    kinds = nn.Conv1d | nn.Conv2d | nn.ConvTranspose2d | LocallyConnected2d
    if not isinstance(module, kinds):
        raise StepError(f"{layer} is a {type(module).__name__}; the matrix view shows "
                        + ", ".join(MATRIX_TYPES) + " layers")
    columns = math.prod(input_shape)
    if columns > MAX_COLUMNS:
        raise StepError(f"{layer} reads {'×'.join(map(str, input_shape))} = {columns:,} input "
                        f"cells; the matrix view draws layers reading up to {MAX_COLUMNS:,} "
                        "(e.g. 3×32×32): make the input smaller")
    from core.classroom.backward import MODULE_LOCK

    with MODULE_LOCK:  # never a copy of a layer carrying the backward pass's hooks
        layer_copy = copy.deepcopy(module)
    with torch.no_grad():
        layer_copy = layer_copy.double().cpu()
        zero = torch.zeros(1, *input_shape, dtype=torch.float64)
        out_zero = layer_copy(zero)[0]
        if not 0 <= channel < out_zero.shape[0]:
            raise StepError(f"{layer}: channel {channel} is outside 0 to "
                            f"{out_zero.shape[0] - 1}")
        plane = tuple(out_zero.shape[1:])
        rows = math.prod(plane)
        if rows * columns > MAX_CELLS:
            raise StepError(f"{layer}: the matrix would be {rows:,} × {columns:,}; the view "
                            f"draws up to {MAX_CELLS:,} cells: make the input smaller")
        bias = out_zero[channel].reshape(-1).numpy().copy()
        bias_tensor = getattr(layer_copy, "bias", None)
        if bias_tensor is not None:
            bias_tensor.zero_()
        basis = torch.eye(columns, dtype=torch.float64).reshape(columns, *input_shape)
        matrix = layer_copy(basis)[:, channel].reshape(columns, rows).T.numpy().copy()
        layer_copy.weight.fill_(1.0)
        structure = (layer_copy(basis)[:, channel].reshape(columns, rows).T != 0).numpy()
    if isinstance(module, LocallyConnected2d):
        weights = int(structure.sum())
    elif isinstance(module, nn.ConvTranspose2d):
        weights = int(module.weight.shape[0] // module.groups * math.prod(module.weight.shape[2:]))
    else:
        weights = int(math.prod(module.weight.shape[1:]))
    return ConvMatrix(layer, type(module).__name__, channel, tuple(input_shape), plane,
                      matrix, bias, structure, weights)


@dataclass(frozen=True)
class Counterparts:
    """The same rows and columns for a layer without sharing and a dense layer (seeded random
    weights: what matters is where the numbers are and how many differ)."""

    local: np.ndarray
    local_weights: int
    dense: np.ndarray
    dense_weights: int


def counterparts(conv: ConvMatrix, seed: int = 0) -> Counterparts:
    """Lecture 000's argument: local receptive fields are a dense layer with most weights zero,
    and sharing them makes the convolution."""
    rng = np.random.default_rng(seed)
    scale = float(np.abs(conv.matrix).max()) or 1.0
    local = np.where(conv.structure, rng.uniform(-scale, scale, conv.matrix.shape), 0.0)
    dense = rng.uniform(-scale, scale, conv.matrix.shape)
    return Counterparts(local, int(conv.structure.sum()), dense, int(dense.size))


def session_matrix(session: Any, layer: str, channel: int) -> ConvMatrix:
    """``layer`` of ``session``'s model, output channel ``channel``, as a matrix."""
    if session.spec.layer(layer).type not in MATRIX_TYPES:
        raise StepError(f"{layer} is a {session.spec.layer(layer).type}; the matrix view "
                        "shows " + ", ".join(MATRIX_TYPES) + " layers")
    return conv_matrix(layer, session.module(layer), tuple(session.layer_input(layer).shape),
                       channel)

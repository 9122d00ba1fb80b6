"""Backpropagation through one convolution or Linear layer, term by term.

Lecture 003: a shared weight is used at every output position, so its gradient is the sum of the
gradients of its copies. ``weight_gradient`` lists, for one weight ``w[c, i, a, b]``, every
output position's term: the input value under that kernel cell there times the upstream gradient
``∂L/∂y[c, y, x]``, and their running sum, whose last value is ``∂L/∂w[c, i, a, b]``.
``input_gradient`` does the same for one input cell (the transposed convolution of the upstream
gradient: every output position and kernel cell that read the cell, weight × upstream), and
``bias_gradient`` for a bias (the sum of the upstream gradient over channel ``c``).

The terms are read from the module's own settings (stride, padding and its mode, dilation,
groups) and summed in float64; tests hold the totals equal to autograd on random layers.
``session_gradient`` takes the upstream gradient from the whole model: the task's loss (cross-
entropy to class K for classification, every pixel of class K for segmentation) backpropagated
to the layer's output, and reports autograd's own gradient beside the sum.

Conv1d is a 2-D layer of height 1 (its weight is ``(C, I, B)``, an input cell ``(I, X)``).
A Linear layer's weight is ``(O, I)``: one term per leading position (one for a flat input).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from core.classroom.step import StepError, _pad_index, _pair, _plain
from core.lazy import LazyModule

if TYPE_CHECKING:
    import torch
    from torch import nn
else:  # imported at first use: the window imports this module at start-up
    torch = LazyModule("torch")
    nn = LazyModule("torch.nn")

MODULE_LOCK = threading.Lock()
"""Held while a layer carries the backward pass's hooks (and while the matrix view copies a
layer): the backward and matrix views compute on their own workers, and a copy taken mid-pass
would carry the hooks along."""
GradKind = Literal["weight", "input", "bias"]
GRAD_KINDS: tuple[GradKind, ...] = ("weight", "input", "bias")
GRAD_TYPES = ("Conv1d", "Conv2d", "Linear")
"""Layer types whose backward step can be shown."""
AXES = {("weight", "Conv2d"): "C,I,A,B", ("weight", "Conv1d"): "C,I,B",
        ("weight", "Linear"): "O,I", ("input", "Conv2d"): "I,Y,X", ("input", "Conv1d"): "I,X",
        ("input", "Linear"): "I", ("bias", "Conv2d"): "C", ("bias", "Conv1d"): "C",
        ("bias", "Linear"): "O"}
"""What ``--at`` names for each kind and layer type (Linear on a (L, I) input: "L,I")."""


@dataclass(frozen=True)
class GradientStep:
    """The terms of one gradient: term k is ``factors[k] × upstream[k]`` at ``positions[k]``.

    ``positions`` are output positions ((c, y, x); (c, x) for Conv1d; the leading indices and
    the unit for Linear). ``cells`` say what the factor is: for a weight, the input cell whose
    value is read ((row, column): the cell itself, the cell a reflect / replicate / circular
    padding cell copies, or for zero padding the position outside the input, flagged in
    ``padding``); for an input cell of a convolution, the weight's (i, a, b) (with the term's
    output channel c: w[c, i, a, b]; (i, b) for Conv1d), of a Linear layer the unit o of
    W[o, i]; for a bias, nothing (the factor is 1)."""

    layer: str
    layer_type: str
    kind: GradKind
    at: tuple[int, ...]
    positions: np.ndarray
    cells: np.ndarray
    factors: np.ndarray
    upstream: np.ndarray
    padding: np.ndarray
    """True where the factor is a padding cell (zero, or a copy under the padding mode)."""
    contributions: np.ndarray
    running_sum: np.ndarray
    value: float
    upstream_map: np.ndarray
    """∂L/∂y for the whole output (float64), as the view draws it."""
    factor_name: str
    """"input" (weight gradient), "weight" (input gradient) or "1" (bias)."""
    notes: list[str] = field(default_factory=list)
    autograd: float | None = None
    """autograd's own value of this gradient (set by ``session_gradient``)."""
    loss: float | None = None
    target: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``convscope step --grad … --json`` object."""
        return {
            "layer": self.layer, "type": self.layer_type, "grad": self.kind,
            "at": list(self.at), "value": _plain(self.value),
            "autograd": _plain(self.autograd), "loss": _plain(self.loss), "target": self.target,
            "positions": self.positions.tolist(), "cells": self.cells.tolist(),
            "factor": self.factor_name, "factors": _plain(self.factors.tolist()),
            "upstream": _plain(self.upstream.tolist()),
            "padding": self.padding.tolist(),
            "contributions": _plain(self.contributions.tolist()),
            "running_sum": _plain(self.running_sum.tolist()), "notes": self.notes,
        }


@dataclass(frozen=True)
class _Conv:
    """A Conv1d/Conv2d's settings as a 2-D layer (height 1 for Conv1d)."""

    one_d: bool
    weight: np.ndarray  # (out, in / groups, kh, kw) float64
    bias: np.ndarray | None
    stride: tuple[int, int]
    dilation: tuple[int, int]
    before: tuple[int, int]
    mode: str
    groups: int


def _conv(module: nn.Conv1d | nn.Conv2d) -> _Conv:
    one_d = isinstance(module, nn.Conv1d)
    weight = module.weight.detach().double().cpu().numpy()
    if one_d:
        weight = weight[:, :, None, :]
    kh, kw = weight.shape[-2:]
    s, d = module.stride, module.dilation
    stride = (1, int(s[0])) if one_d else _pair(s)
    dilation = (1, int(d[0])) if one_d else _pair(d)
    if module.padding == "same":
        before = ((dilation[0] * (kh - 1)) // 2, (dilation[1] * (kw - 1)) // 2)
    elif module.padding == "valid":
        before = (0, 0)
    else:
        pads = tuple(int(p) for p in module.padding)
        before = (0, pads[0]) if one_d else (pads[0], pads[1])
    bias = None if module.bias is None else module.bias.detach().double().cpu().numpy()
    return _Conv(one_d, weight, bias, stride, dilation, before, str(module.padding_mode),
                 int(module.groups))


def _check_module(layer: str, module: nn.Module) -> None:
    if not isinstance(module, nn.Conv1d | nn.Conv2d | nn.Linear):
        raise StepError(f"{layer} is a {type(module).__name__}; the backward step shows "
                        "Conv1d, Conv2d and Linear layers")


def _check_at(layer: str, at: tuple[int, ...], sizes: tuple[int, ...], axes: str) -> None:
    names = axes.split(",")
    if len(at) != len(sizes):
        raise StepError(f"{layer}: --at is {axes} here ({len(sizes)} "
                        f"number{'s' if len(sizes) > 1 else ''}), got "
                        f"{','.join(map(str, at))}")
    for value, size, name in zip(at, sizes, names, strict=True):
        if not 0 <= value < size:
            raise StepError(f"{layer}: {name} = {value} is outside 0 to {size - 1}")


def _as_2d(a: np.ndarray, one_d: bool) -> np.ndarray:
    return a[:, None, :] if one_d else a


def _index_map(size: int, before: int, length: int, mode: str) -> np.ndarray:
    """For each padded index 0..length−1, the input index it holds (−1: a zero)."""
    mapped = [_pad_index(p - before, size, mode) for p in range(length)]
    return np.array([-1 if m is None else m for m in mapped], dtype=np.int64)


def gradient_step(layer: str, module: nn.Module, x: torch.Tensor, upstream: np.ndarray,
                  kind: GradKind, at: tuple[int, ...]) -> GradientStep:
    """The terms of ∂L/∂(weight, input cell or bias ``at``) of ``module`` given its input ``x``
    (batch excluded) and ``upstream`` = ∂L/∂output (the output's shape)."""
    _check_module(layer, module)
    if kind not in GRAD_KINDS:
        raise StepError(f"{layer}: --grad is weight, input or bias, not {kind!r}")
    values = x.detach().double().cpu().numpy()
    g = np.asarray(upstream, dtype=np.float64)
    if isinstance(module, nn.Linear):
        return _linear(layer, module, values, g, kind, tuple(at))
    assert isinstance(module, nn.Conv1d | nn.Conv2d)
    conv = _conv(module)
    if kind == "weight":
        return _conv_weight(layer, module, conv, values, g, tuple(at))
    if kind == "input":
        return _conv_input(layer, module, conv, values, g, tuple(at))
    return _conv_bias(layer, module, conv, g, tuple(at))


def _finish(layer: str, module: nn.Module, kind: GradKind, at: tuple[int, ...],
            positions: np.ndarray, cells: np.ndarray, factors: np.ndarray, up: np.ndarray,
            padding: np.ndarray, upstream_map: np.ndarray, factor_name: str,
            notes: list[str]) -> GradientStep:
    contributions = factors * up
    running = np.cumsum(contributions)
    value = float(running[-1]) if len(running) else 0.0
    return GradientStep(layer, type(module).__name__, kind, at, positions, cells, factors, up,
                        padding, contributions, running, value, upstream_map, factor_name,
                        notes)


def _conv_weight(layer: str, module: nn.Module, conv: _Conv, x: np.ndarray, g: np.ndarray,
                 at: tuple[int, ...]) -> GradientStep:
    out_c, per_in, kh, kw = conv.weight.shape
    axes = AXES[("weight", type(module).__name__)]
    sizes = (out_c, per_in, kw) if conv.one_d else (out_c, per_in, kh, kw)
    _check_at(layer, at, sizes, axes)
    c, i, a, b = (at[0], at[1], 0, at[2]) if conv.one_d else at
    x2 = _as_2d(x, conv.one_d)
    g2 = _as_2d(g, conv.one_d)
    _, height, width = x2.shape
    _, oh, ow = g2.shape
    group = c // (out_c // conv.groups)
    channel = group * per_in + i
    rows = np.arange(oh) * conv.stride[0] + a * conv.dilation[0]  # padded coordinates
    cols = np.arange(ow) * conv.stride[1] + b * conv.dilation[1]
    row_map = _index_map(height, conv.before[0], int(rows.max()) + 1, conv.mode)[rows]
    col_map = _index_map(width, conv.before[1], int(cols.max()) + 1, conv.mode)[cols]
    grid_r, grid_c = np.meshgrid(row_map, col_map, indexing="ij")
    zero = (grid_r < 0) | (grid_c < 0)
    factors = np.where(zero, 0.0, x2[channel][np.clip(grid_r, 0, None),
                                               np.clip(grid_c, 0, None)])
    read_r, read_c = np.meshgrid(rows - conv.before[0], cols - conv.before[1], indexing="ij")
    padding = (read_r < 0) | (read_r >= height) | (read_c < 0) | (read_c >= width)
    ys, xs = np.meshgrid(np.arange(oh), np.arange(ow), indexing="ij")
    # the cell whose value is read: itself, its copy under the padding mode, or (zero
    # padding) the cell outside the input
    src_r = np.where(grid_r < 0, read_r, grid_r)
    src_c = np.where(grid_c < 0, read_c, grid_c)
    if conv.one_d:
        positions = np.stack([np.full(ow, c), xs.ravel()], axis=1)
        cells = src_c.reshape(-1, 1)
    else:
        positions = np.stack([np.full(oh * ow, c), ys.ravel(), xs.ravel()], axis=1)
        cells = np.stack([src_r.ravel(), src_c.ravel()], axis=1)
    notes = [f"∂L/∂w[{','.join(map(str, at))}] = Σ over the {oh * ow} output positions of "
             f"input channel {channel} under kernel cell ({a}, {b}) × ∂L/∂y[{c}] there"]
    if padding.any():
        notes.append("padding cells hold " + ("zeros" if conv.mode == "zeros" else
                                              f"copies of input cells ({conv.mode} padding)"))
    if conv.groups > 1:
        notes.append(f"groups = {conv.groups}: w[{c}, {i}] reads input channel {channel}")
    return _finish(layer, module, "weight", at, positions, cells, factors.ravel(),
                   g2[c].ravel(), padding.ravel(), g, "input", notes)


def _conv_input(layer: str, module: nn.Module, conv: _Conv, x: np.ndarray, g: np.ndarray,
                at: tuple[int, ...]) -> GradientStep:
    x2 = _as_2d(x, conv.one_d)
    g2 = _as_2d(g, conv.one_d)
    c_in, height, width = x2.shape
    out_c, per_in, kh, kw = conv.weight.shape
    axes = AXES[("input", type(module).__name__)]
    _check_at(layer, at, (c_in, width) if conv.one_d else (c_in, height, width), axes)
    ch, r0, c0 = (at[0], 0, at[1]) if conv.one_d else at
    _, oh, ow = g2.shape
    per_out = out_c // conv.groups
    group = ch // per_in
    i = ch - group * per_in
    rows_len = (oh - 1) * conv.stride[0] + (kh - 1) * conv.dilation[0] + 1
    cols_len = (ow - 1) * conv.stride[1] + (kw - 1) * conv.dilation[1] + 1
    row_map = _index_map(height, conv.before[0], rows_len, conv.mode)
    col_map = _index_map(width, conv.before[1], cols_len, conv.mode)
    out_rows = np.arange(oh) * conv.stride[0]
    out_cols = np.arange(ow) * conv.stride[1]
    found = []
    for a in range(kh):
        ys = np.nonzero(row_map[out_rows + a * conv.dilation[0]] == r0)[0]
        for b in range(kw):
            xs = np.nonzero(col_map[out_cols + b * conv.dilation[1]] == c0)[0]
            if len(ys) and len(xs):
                yy, xx = np.meshgrid(ys, xs, indexing="ij")
                found.append(np.stack([yy.ravel(), xx.ravel(), np.full(yy.size, a),
                                       np.full(yy.size, b)], axis=1))
    cells_yx = np.concatenate(found) if found else np.zeros((0, 4), np.int64)
    channels = np.arange(group * per_out, (group + 1) * per_out)
    terms = np.concatenate([np.repeat(channels, len(cells_yx))[:, None],
                            np.tile(cells_yx, (len(channels), 1))], axis=1).astype(np.int64)
    # reading order: output channel, row, column, then kernel cell
    terms = terms[np.lexsort(terms.T[::-1])]
    factors = conv.weight[terms[:, 0], i, terms[:, 3], terms[:, 4]]
    up = g2[terms[:, 0], terms[:, 1], terms[:, 2]]
    # a term through a padding copy (reflect, replicate, circular) rather than the cell itself
    pr = terms[:, 1] * conv.stride[0] + terms[:, 3] * conv.dilation[0] - conv.before[0]
    pc = terms[:, 2] * conv.stride[1] + terms[:, 4] * conv.dilation[1] - conv.before[1]
    padding = (pr != r0) | (pc != c0)
    index_in = np.full((len(terms), 1), i, dtype=np.int64)
    if conv.one_d:
        positions, cells = terms[:, [0, 2]], np.concatenate([index_in, terms[:, [4]]], axis=1)
    else:
        positions, cells = terms[:, :3], np.concatenate([index_in, terms[:, 3:]], axis=1)
    where = f"{ch},{c0}" if conv.one_d else f"{ch},{r0},{c0}"
    notes = [f"∂L/∂x[{where}] = Σ over every output position and kernel cell that read it of "
             "weight × ∂L/∂y there: the transposed convolution of the upstream gradient"]
    if padding.any():
        notes.append(f"{int(padding.sum())} terms reach the cell through its {conv.mode} "
                     "padding copies")
    if not len(terms):
        notes.append("no output reads this cell (a stride gap): its gradient is 0")
    return _finish(layer, module, "input", at, positions, cells, factors, up, padding, g,
                   "weight", notes)


def _conv_bias(layer: str, module: nn.Module, conv: _Conv, g: np.ndarray,
               at: tuple[int, ...]) -> GradientStep:
    if conv.bias is None:
        raise StepError(f"{layer} has no bias (bias: false); choose --grad weight or input")
    _check_at(layer, at, (conv.weight.shape[0],), "C")
    plane = g[at[0]]
    index = np.array(list(np.ndindex(*plane.shape)), dtype=np.int64).reshape(-1, plane.ndim)
    positions = np.concatenate([np.full((len(index), 1), at[0]), index], axis=1)
    return _finish(layer, module, "bias", at, positions, np.zeros((len(index), 0), np.int64),
                   np.ones(len(index)), plane.ravel(), np.zeros(len(index), bool), g, "1",
                   [f"∂L/∂b[{at[0]}] = Σ ∂L/∂y[{at[0]}] over its {len(index)} positions"])


def _linear(layer: str, module: nn.Linear, x: np.ndarray, g: np.ndarray, kind: GradKind,
            at: tuple[int, ...]) -> GradientStep:
    weight = module.weight.detach().double().cpu().numpy()  # (out, in)
    out_f, in_f = weight.shape
    lead = x.shape[:-1]
    lead_index = np.array(list(np.ndindex(*lead)), dtype=np.int64).reshape(
        math.prod(lead), len(lead))
    xs = x.reshape(-1, in_f)
    gs = g.reshape(-1, out_f)
    n = len(xs)
    if kind == "weight":
        _check_at(layer, at, (out_f, in_f), "O,I")
        o, i = at
        positions = np.concatenate([lead_index, np.full((n, 1), o)], axis=1)
        return _finish(layer, module, kind, at, positions, np.full((n, 1), i), xs[:, i],
                       gs[:, o], np.zeros(n, bool), g, "input",
                       [f"∂L/∂W[{o},{i}] = input {i} × ∂L/∂y[{o}]"
                        + (f", summed over {n} positions" if n > 1 else "")])
    if kind == "bias":
        if module.bias is None:
            raise StepError(f"{layer} has no bias (bias: false); choose --grad weight or input")
        _check_at(layer, at, (out_f,), "O")
        positions = np.concatenate([lead_index, np.full((n, 1), at[0])], axis=1)
        return _finish(layer, module, kind, at, positions, np.zeros((n, 0), np.int64),
                       np.ones(n), gs[:, at[0]], np.zeros(n, bool), g, "1",
                       [f"∂L/∂b[{at[0]}] = ∂L/∂y[{at[0]}]"
                        + (f", summed over {n} positions" if n > 1 else "")])
    axes = ",".join(["L"] * len(lead) + ["I"]) if lead else "I"
    _check_at(layer, at, tuple(x.shape), axes)
    row = int(np.ravel_multi_index(at[:-1], lead)) if lead else 0
    i = at[-1]
    positions = np.concatenate([np.tile(np.array(at[:-1], dtype=np.int64), (out_f, 1)),
                                np.arange(out_f)[:, None]], axis=1)
    return _finish(layer, module, "input", at, positions, np.arange(out_f)[:, None],
                   weight[:, i], gs[row], np.zeros(out_f, bool), g, "weight",
                   [f"∂L/∂x[{i}] = Σ over the {out_f} outputs of W[o, {i}] × ∂L/∂y[o]: "
                    "the transposed weight times the upstream gradient"])


@dataclass(frozen=True)
class Backward:
    """One backward pass of the whole model: the loss, ∂L/∂output and ∂L/∂input of a layer,
    and autograd's gradients of its weight and bias (float64 numpy)."""

    loss: float
    target: int
    upstream: np.ndarray
    input_grad: np.ndarray
    weight_grad: np.ndarray
    bias_grad: np.ndarray | None


def loss_for(spec: Any, output: torch.Tensor, target: int) -> torch.Tensor:
    """The task's loss for one sample (batch of 1) whose target is class ``target``:
    classification as training computes it (cross-entropy, NLL after a Softmax, binary
    cross-entropy for one output), segmentation with every pixel of class ``target``."""
    if spec.task == "classification":
        from core.tasks.classification import LossAdapter

        classes = int(output.shape[1])
        top = 1 if classes == 1 else classes - 1
        if output.dim() != 2:
            raise StepError(f"{spec.name} outputs {'×'.join(map(str, output.shape[1:]))}, not "
                            "class scores: end the model with a Linear layer (or Flatten) so "
                            "there is a class to backpropagate from")
        if not 0 <= target <= top:
            raise StepError(f"--target {target} is not a class of {spec.name} (0 to {top})")
        return LossAdapter(spec, classes)(output, torch.tensor([target]))
    if spec.task == "segmentation":
        from core.tasks.segmentation import SegmentationLoss

        classes = int(output.shape[1])
        if not 0 <= target < classes:
            raise StepError(f"--target {target} is not a class of {spec.name} (0 to "
                            f"{classes - 1}, 0 being the background)")
        mask = torch.full((1, *output.shape[2:]), target, dtype=torch.long)
        return SegmentationLoss()(output, mask)
    raise StepError(f"{spec.name} is a {spec.task} model: the backward step takes a class "
                    "target (classification, or segmentation with every pixel of that class); "
                    "its boxes cannot be given on the command line")


def backward_pass(session: Any, layer: str, target: int) -> Backward:
    """Run ``session``'s model on its input, backpropagate the loss to class ``target`` and
    keep what ``layer`` receives and sends back. Its parameters' ``.grad`` are left as found."""
    module = session.module(layer)
    kept: dict[str, torch.Tensor] = {}

    def before(_mod: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        leaf = args[0].detach().requires_grad_(True)
        kept["input"] = leaf
        return (leaf, *args[1:])

    def after(_mod: nn.Module, _args: tuple[Any, ...], out: torch.Tensor) -> torch.Tensor:
        out.register_hook(lambda grad: kept.__setitem__("upstream", grad))  # type: ignore[no-untyped-call]
        return out.clone()  # what follows may work in place; the hook stays on the original

    with MODULE_LOCK:
        return _backward_locked(session, layer, module, target, before, after, kept)


def _backward_locked(session: Any, layer: str, module: nn.Module, target: int, before: Any,
                     after: Any, kept: dict[str, torch.Tensor]) -> Backward:
    model = session.inspector.model
    weight: torch.Tensor = module.weight  # type: ignore[assignment]
    bias: torch.Tensor | None = module.bias  # type: ignore[assignment]
    params = list(module.parameters())
    saved = [p.grad for p in params]
    handles = [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        for p in params:
            p.grad = None
        with torch.enable_grad():
            output = model(session.input[None])
            loss = loss_for(session.spec, output, target)
            grads = torch.autograd.grad(loss, [kept["input"], *params], allow_unused=True)
            if "upstream" not in kept:  # the hook runs during the backward pass above
                raise StepError(f"the loss does not depend on {layer}")
    finally:
        for handle in handles:
            handle.remove()
        for p, grad in zip(params, saved, strict=True):
            p.grad = grad

    input_grad = grads[0]
    weight_grad = grads[1]
    bias_grad = grads[2] if len(grads) > 2 else None
    return Backward(
        float(loss.detach()), target, kept["upstream"][0].detach().double().cpu().numpy(),
        (torch.zeros_like(kept["input"]) if input_grad is None else input_grad)[0]
        .detach().double().cpu().numpy(),
        (torch.zeros_like(weight) if weight_grad is None else weight_grad)
        .detach().double().cpu().numpy(),
        None if bias is None else
        (torch.zeros_like(bias) if bias_grad is None else bias_grad)
        .detach().double().cpu().numpy())


def session_gradient(session: Any, layer: str, kind: GradKind, at: tuple[int, ...],
                     target: int) -> GradientStep:
    """The terms of one gradient of ``layer`` in ``session``'s model, on its input, for the loss
    to class ``target``, with autograd's own value beside their sum."""
    if session.spec.layer(layer).type not in GRAD_TYPES:
        raise StepError(f"{layer} is a {session.spec.layer(layer).type}; the backward step "
                        "shows " + ", ".join(GRAD_TYPES) + " layers; choose one of: "
                        + (", ".join(gradient_layers(session.spec)) or "none in this model"))
    back = backward_pass(session, layer, target)
    module = session.module(layer)
    step = gradient_step(layer, module, session.layer_input(layer), back.upstream, kind, at)
    if kind == "weight":
        index: tuple[int, ...] = tuple(at)
        if isinstance(module, nn.Conv1d):
            index = (at[0], at[1], at[2])
        truth = float(back.weight_grad[index])
    elif kind == "input":
        truth = float(back.input_grad[tuple(at)])
    else:
        assert back.bias_grad is not None
        truth = float(back.bias_grad[at[0]])
    return replace(step, autograd=truth, loss=back.loss, target=target)


def gradient_layers(spec: Any) -> list[str]:
    """The layers of ``spec`` whose backward step can be shown, in model order."""
    return [layer.name for layer in spec.layers if layer.type in GRAD_TYPES]

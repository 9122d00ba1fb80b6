"""One output channel's kernel of a small convolution, read from and written into the weights.

The grid editor (issue 19, item 5) shows a Conv2d's kernel for one output channel, every input
channel of it, and writes the values typed or painted into a new weights file: the model's
weights (a run's, imported ones, or the random initial weights the views show, seed 0) with
that channel's kernel replaced, so training, inspection and export all use the edited kernel.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from core.lazy import LazyModule
from core.model.errors import LayerError, ModelError
from core.model.spec import ModelSpec

if TYPE_CHECKING:
    import numpy as np
    import torch

    from core.build import ConvScopeNet
else:  # the diagram asks editable_problem at start-up, before the window's first paint: numpy
    np = LazyModule("numpy")  # (0.1 s) loads on the warm-up's worker or at the first kernel read

MAX_CELLS = 15 * 15
"""The largest kernel the grid edits (kernel height × width): the lecture's 7×7 fits."""
MAX_INPUT_CHANNELS = 64
"""Input channels shown per output channel (one grid each)."""


def editable_problem(spec: ModelSpec, layer: str) -> str | None:
    """Why layer ``layer``'s kernel cannot be edited in the grid, or None."""
    try:
        entry = spec.layer(layer)
    except KeyError:
        return f"no layer {layer}"
    if entry.type != "Conv2d":
        return f"{layer} is a {entry.type}: the grid edits a Conv2d's kernel"
    size = entry.params.get("kernel_size", 3)
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if height * width > MAX_CELLS:
        return f"{layer}'s {height}×{width} kernel is too large for the grid (at most 15×15)"
    return None


def _model(spec: ModelSpec, weights: Path | None) -> ConvScopeNet:
    from core.inspect.inspector import Inspector

    return Inspector(spec, weights, attribution=False).model


def _conv(spec: ModelSpec, weights: Path | None, layer: str) -> torch.nn.Conv2d:
    import torch

    conv = _model(spec, weights).layers[layer]
    assert isinstance(conv, torch.nn.Conv2d)
    return conv


def read_kernel(spec: ModelSpec, weights: Path | None, layer: str) -> np.ndarray:
    """Layer ``layer``'s whole weight (out, in/groups, kh, kw) as float32, from ``weights`` (None:
    the random initial weights the views show). LayerError when it is not editable."""
    problem = editable_problem(spec, layer)
    if problem is not None:
        raise LayerError(layer, problem)
    weight: np.ndarray = _conv(spec, weights, layer).weight.detach().cpu().numpy().astype(
        np.float32)
    if weight.shape[1] > MAX_INPUT_CHANNELS:
        raise LayerError(layer, f"has {weight.shape[1]} input channels per kernel: the grid "
                         f"shows at most {MAX_INPUT_CHANNELS}")
    return weight


def checked_values(weight_shape: tuple[int, ...], out_channel: int,
                   values: np.ndarray, layer: str) -> np.ndarray:
    """``values`` for output channel ``out_channel`` of a weight of ``weight_shape``, checked:
    the kernel's shape, finite numbers; LayerError quoting what is wrong."""
    if not 0 <= out_channel < weight_shape[0]:
        raise LayerError(layer, f"has output channels 0 to {weight_shape[0] - 1}, not "
                         f"{out_channel}")
    array = np.asarray(values, dtype=np.float64)
    if array.shape != tuple(weight_shape[1:]):
        raise LayerError(layer, "the kernel must be " + "×".join(map(str, weight_shape[1:]))
                         + " values, got " + "×".join(map(str, array.shape)))
    if not np.isfinite(array).all():
        raise LayerError(layer, "every kernel value must be a finite number")
    if np.abs(array).max(initial=0.0) > 1e6:
        raise LayerError(layer, "kernel values beyond ±1,000,000 overflow as activations")
    return array.astype(np.float32)


def write_kernel(spec: ModelSpec, weights: Path | None, layer: str, out_channel: int,
                 values: np.ndarray, out_path: Path) -> Path:
    """Write the model's weights with output channel ``out_channel`` of ``layer`` set to
    ``values`` (in/groups × kh × kw) as a new safetensors file (all or nothing)."""
    import torch

    from core.regular_files import write_atomic
    from core.weights import state_by_layer

    problem = editable_problem(spec, layer)
    if problem is not None:
        raise LayerError(layer, problem)
    model = _model(spec, weights)
    conv = model.layers[layer]
    assert isinstance(conv, torch.nn.Conv2d)
    parameter = conv.weight
    array = checked_values(tuple(parameter.shape), out_channel, values, layer)
    with torch.no_grad():
        parameter[out_channel] = torch.from_numpy(array)
    tensors = state_by_layer(model)

    def save(path: Path) -> None:
        from safetensors.torch import save_file

        save_file(tensors, str(path))

    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out_path, save)
    return out_path


def parse_cell(text: str) -> float:
    """A typed kernel value: a number such as 1, -1, 0.5 or −1 (the minus sign); ModelError."""
    cleaned = text.strip().replace("−", "-").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise ModelError(f"{text.strip()[:20]!r} is not a number") from None
    if not math.isfinite(value):
        raise ModelError("a kernel value must be a finite number")
    return value

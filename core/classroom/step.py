"""The arithmetic behind one output value of a convolution, pooling or transposed convolution.

``step_at`` takes a layer's torch module, the tensor that layer receives and an output position,
and returns every number a teacher shows: the input patch under the kernel in each input channel
(padding cells flagged, with the value the padding mode gives them; dilation applied), the kernel,
the element-wise products, each channel's sum, the bias and the value. The numbers are read from
the module's own weights and settings and summed here in float64; tests hold ``value`` equal to
torch's own output at that position for random layers of every supported kind.

Conv1d is handled as a 2-D layer of height 1 (its position is ``(c, x)``, its patch rows are 1).

For ConvTranspose2d the same fields describe the gather view of the scatter: output value
``(c, y, x)`` receives, from input channel ``i`` and kernel cell ``(a, b)``, the input value whose
scaled kernel copy puts cell ``(a, b)`` on ``(y, x)``, i.e. the input at
``((y + padding − a·dilation) / stride, (x + padding − b·dilation) / stride)`` when both are whole
numbers inside the input. ``patch[i][a][b]`` is that input value (0 and flagged in ``padding``
where no input lands: a stride gap or beyond the border), ``kernel[i][a][b]`` is
``weight[i, c, a, b]`` (not flipped), and ``products`` / ``channel_sums`` / ``value`` follow as for
a convolution. ``scatter_step`` gives the other view: one input value times the kernel, added into
the output (the lecture's ``trans_conv`` loop).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from core.lazy import LazyModule

if TYPE_CHECKING:
    import torch
    from torch import nn
else:  # imported at first use: the window imports this module at start-up
    torch = LazyModule("torch")
    nn = LazyModule("torch.nn")

StepKind = Literal["convolution", "pooling", "transposed"]
STEP_TYPES = ("Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "LPPool2d",
              "LocallyConnected2d")
"""Layer types whose arithmetic can be stepped through."""
STEP_3D_TYPES = ("Conv3d",)
"""Video layers stepped through from the command line (``convscope step --at C,T,Y,X``): a
Conv3d output is shown as a Conv2d over (input channel, kernel frame) pairs."""


class StepError(ValueError):
    """A step cannot be shown (wrong layer type, position outside the output…)."""


@dataclass(frozen=True)
class Step:
    """Everything behind one output value; arrays are (channels, kh, kw) float64 or bool."""

    layer: str
    layer_type: str
    kind: StepKind
    position: tuple[int, ...]
    """(c, y, x) for 2-D layers, (c, x) for Conv1d."""
    output_shape: tuple[int, ...]
    in_channels: tuple[int, ...]
    """The input channels this output reads (one group of a grouped convolution)."""
    patch: np.ndarray
    padding: np.ndarray
    """True where the cell lies outside the input (padding, or no input for a transposed conv)."""
    input_rows: np.ndarray
    input_cols: np.ndarray
    """Per kernel cell (kh, kw): the input row and column read (outside 0..H−1 for padding)."""
    kernel: np.ndarray | None
    products: np.ndarray | None
    channel_sums: np.ndarray | None
    bias: float | None
    value: float
    operation: str = "sum"
    """"sum" (convolution), "max", "avg" or "lp" (pooling)."""
    divisor: float | None = None
    """Average pooling: what the sum is divided by; Lp pooling: the power p."""
    chosen: tuple[int, int, int] | None = None
    """Max pooling: (channel index in the patch, row, column) of the maximum."""
    notes: list[str] = field(default_factory=list)
    channel_labels: tuple[str, ...] = ()
    """Words for each of ``in_channels`` when they are not plain input channels (a Conv3d's
    "input channel 0, frame 3")."""
    sources: tuple[tuple[int, int], ...] = ()
    """A Conv3d's: for each of ``in_channels``, the (input channel, input frame) it is; the
    frame lies outside the clip where the kernel reads padding."""

    def input_plane(self, x: torch.Tensor, index: int) -> np.ndarray:
        """The 2-D input map that ``in_channels[index]`` reads (rows, columns): of a Conv3d,
        its input channel at its frame (zeros outside the clip); of a Conv1d, one row."""
        if self.sources:
            channel, frame = self.sources[index]
            inside = 0 <= frame < x.shape[1]
            plane = x[channel, frame] if inside else torch.zeros(x.shape[2:])
            return plane.detach().double().numpy()
        values = x[self.in_channels[index]].detach().double().numpy()
        return values[None, :] if values.ndim == 1 else values

    def to_json(self) -> dict[str, Any]:
        """The ``convscope step --json`` object (numbers as plain floats, nulls where absent)."""

        def grid(a: np.ndarray | None) -> Any:
            return None if a is None else _plain(a.tolist())

        return {
            "layer": self.layer, "type": self.layer_type, "kind": self.kind,
            "position": list(self.position), "output_shape": list(self.output_shape),
            "in_channels": list(self.in_channels), "patch": grid(self.patch),
            "padding": self.padding.tolist(), "kernel": grid(self.kernel),
            "products": grid(self.products), "channel_sums": grid(self.channel_sums),
            "bias": _plain(self.bias), "value": _plain(self.value),
            "operation": self.operation, "divisor": _plain(self.divisor),
            "chosen": list(self.chosen) if self.chosen is not None else None,
            "input_rows": self.input_rows.tolist(), "input_cols": self.input_cols.tolist(),
            "notes": self.notes,
        }


def _plain(value: Any) -> Any:
    """Floats that JSON can hold: whole numbers stay exact, NaN/inf become null."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return value
    return value


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, tuple | list):
        return (int(value[0]), int(value[-1])) if len(value) > 1 else (int(value[0]),) * 2
    return int(value), int(value)


def _pad_index(i: int, size: int, mode: str) -> int | None:
    """Which input index a padding cell copies under ``mode`` (None: it holds zero)."""
    if 0 <= i < size:
        return i
    if mode == "reflect":
        period = 2 * (size - 1)
        if period == 0:
            return 0
        i = abs(i) % period
        return period - i if i >= size else i
    if mode == "replicate":
        return min(max(i, 0), size - 1)
    if mode == "circular":
        return i % size
    return None


def _or_minus_one(index: int | None) -> int:
    return -1 if index is None else index


def _check_position(position: tuple[int, ...], shape: tuple[int, ...], layer: str) -> None:
    if len(position) != len(shape):
        axes = {2: "C,X", 4: "C,T,Y,X"}.get(len(shape), "C,Y,X")
        raise StepError(f"{layer}: a position is {axes} ({len(shape)} numbers), got "
                        f"{len(position)}")
    names = {2: ("channel", "position"), 4: ("channel", "frame", "row", "column")}.get(
        len(shape), ("channel", "row", "column"))
    for p, n, axis in zip(position, shape, names, strict=True):
        if not 0 <= p < n:
            raise StepError(f"{layer}: {axis} {p} is outside the output "
                            f"{'×'.join(map(str, shape))} (0 to {n - 1})")


def _as_2d(x: torch.Tensor) -> torch.Tensor:
    return x[:, None, :] if x.dim() == 2 else x


def step_at(layer: str, module: nn.Module, x: torch.Tensor, position: tuple[int, ...],
            output_shape: tuple[int, ...] | None = None) -> Step:
    """The arithmetic of ``module``'s output at ``position`` for input ``x`` (batch excluded).

    ``output_shape`` (when the caller already has the output) saves running the layer."""
    from core.build import LocallyConnected2d

    out_shape = tuple(output_shape) if output_shape is not None else _output_shape(module, x)
    x = x.detach().cpu()  # channels are turned into float64 as they are read
    _check_position(tuple(position), out_shape, layer)
    if isinstance(module, nn.ConvTranspose2d):
        return _transposed(layer, module, x, tuple(position), out_shape)
    if isinstance(module, nn.Conv3d):
        return _conv3d(layer, module, x, tuple(position), out_shape)
    if isinstance(module, nn.Conv1d | nn.Conv2d | LocallyConnected2d):
        return _convolution(layer, module, x, tuple(position), out_shape)
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d | nn.LPPool2d):
        return _pooling(layer, module, x, tuple(position), out_shape)
    raise StepError(f"{layer} is a {type(module).__name__}; stepping through shows "
                    "Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, LPPool2d and "
                    "LocallyConnected2d layers")


def _output_shape(module: nn.Module, x: torch.Tensor) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(module(x.float()[None]).shape[1:])


def _convolution(layer: str, module: nn.Module, x: torch.Tensor, position: tuple[int, ...],
                 out_shape: tuple[int, ...]) -> Step:
    from core.build import LocallyConnected2d

    one_d = isinstance(module, nn.Conv1d)
    x2 = _as_2d(x)
    c_in, height, width = x2.shape
    c, oy, ox = (position[0], 0, position[1]) if one_d else position
    local = isinstance(module, LocallyConnected2d)
    if local:
        assert isinstance(module, LocallyConnected2d)
        kh, kw = module.kernel_size
        sh, sw = module.stride
        dh, dw = 1, 1
        before = (0, 0)
        mode = "zeros"
        groups = 1
        weight = module.weight.detach()[oy, ox].double()  # (out, in, kh, kw)
        bias_t = module.bias
        bias = None if bias_t is None else float(bias_t.detach()[c, oy, ox])
    else:
        assert isinstance(module, nn.Conv1d | nn.Conv2d)
        weight = module.weight.detach()[c:c + 1].double()  # only this output's kernel
        if one_d:
            weight = weight[:, :, None, :]
        kh, kw = weight.shape[-2:]
        s, d = module.stride, module.dilation
        sh, sw = (1, s[0]) if one_d else _pair(s)
        dh, dw = (1, d[0]) if one_d else _pair(d)
        if module.padding == "same":
            before = ((dh * (kh - 1)) // 2, (dw * (kw - 1)) // 2)
        elif module.padding == "valid":
            before = (0, 0)
        else:
            pads = tuple(int(p) for p in module.padding)
            before = (0, pads[0]) if one_d else (pads[0], pads[1])
        mode = module.padding_mode
        groups = module.groups
        bias = None if module.bias is None else float(module.bias.detach()[c])
    out_channels = out_shape[0]
    per_group_in = c_in // groups
    group = c // (out_channels // groups)
    channels = tuple(range(group * per_group_in, (group + 1) * per_group_in))
    rows = np.array([oy * sh + i * dh - before[0] for i in range(kh)])
    cols = np.array([ox * sw + j * dw - before[1] for j in range(kw)])
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    # the input cell each kernel cell reads under the padding mode (-1: a zero-padding cell)
    row_index = np.array([_or_minus_one(_pad_index(int(r), height, mode)) for r in rows])
    col_index = np.array([_or_minus_one(_pad_index(int(col), width, mode)) for col in cols])
    outside = ~(((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None])
    zero = (row_index[:, None] < 0) | (col_index[None, :] < 0)
    values = x2[list(channels)].double().numpy()
    patch = values[:, np.clip(row_index, 0, None)][:, :, np.clip(col_index, 0, None)]
    patch = np.where(zero[None], 0.0, patch)
    pad = np.broadcast_to(outside[None], patch.shape).copy()
    kernel = weight[c if local else 0].numpy().reshape(len(channels), kh, kw)
    products = patch * kernel
    sums = products.sum(axis=(1, 2))
    value = float(sums.sum()) + (bias or 0.0)
    notes = []
    if pad.any():
        notes.append(f"padding cells hold {mode if mode != 'zeros' else 'zero'} values"
                     + ("" if mode == "zeros" else f" ({_MODE_WORDS[mode]})"))
    if groups > 1:
        which = (f"input channel {channels[0]}" if len(channels) == 1 else
                 f"input channels {channels[0]}–{channels[-1]}")
        notes.append(f"groups = {groups}: output channel {c} reads {which} only")
    if local:
        notes.append(f"locally connected: the kernel at row {oy}, column {ox} is its own, "
                     "shared with no other position")
    return Step(layer, type(module).__name__, "convolution", position, out_shape, channels,
                patch, pad, grid_rows, grid_cols, kernel, products, sums, bias, value,
                notes=notes)


def _conv3d(layer: str, module: nn.Conv3d, x: torch.Tensor, position: tuple[int, ...],
            out_shape: tuple[int, ...]) -> Step:
    """A Conv3d output value as a Conv2d over (input channel, kernel frame) pairs: the frames
    its kernel reads are gathered as channels (zeros, flagged as padding, outside the clip)."""
    from dataclasses import replace

    if module.padding_mode != "zeros":
        raise StepError(f"{layer}: stepping through a Conv3d shows zero padding only, not "
                        f"{module.padding_mode}")
    c, t, y, x_pos = position
    kt, kh, kw = module.kernel_size
    st, sh, sw = module.stride
    dt, dh, dw = module.dilation
    if isinstance(module.padding, str):
        pt = (dt * (kt - 1)) // 2 if module.padding == "same" else 0
        spatial: Any = module.padding
    else:
        pt, spatial = module.padding[0], tuple(module.padding[1:])
    in_channels, frames = x.shape[0], x.shape[1]
    reads = [t * st + k * dt - pt for k in range(kt)]
    gathered = torch.zeros(in_channels * kt, *x.shape[2:], dtype=x.dtype)
    for i in range(in_channels):
        for k, f in enumerate(reads):
            if 0 <= f < frames:
                gathered[i * kt + k] = x[i, f]
    groups = module.groups
    flat = nn.Conv2d(in_channels * kt, module.out_channels, (kh, kw), stride=(sh, sw),
                     padding=spatial, dilation=(dh, dw), groups=groups,
                     bias=module.bias is not None)
    with torch.no_grad():
        flat.weight.copy_(module.weight.detach().reshape(flat.weight.shape))
        if module.bias is not None and flat.bias is not None:
            flat.bias.copy_(module.bias.detach())
    step = _convolution(layer, flat, gathered, (c, y, x_pos), (out_shape[0], *out_shape[2:]))
    padding = step.padding.copy()
    labels, sources = [], []
    for row, k in enumerate(step.in_channels):
        frame = reads[k % kt]
        sources.append((k // kt, frame))
        labels.append(f"input channel {k // kt}, frame {frame}")
        if not 0 <= frame < frames:
            padding[row] = True
            labels[-1] += " (outside the clip: padding)"
    notes = [n for n in step.notes if not n.startswith("groups")]
    notes.append(f"a Conv3d kernel spans {kt} frames: output frame {t} reads frames "
                 f"{', '.join(map(str, reads))}, each input channel at each frame shown as "
                 "one channel")
    return replace(step, layer_type="Conv3d", position=position, output_shape=out_shape,
                   padding=padding, notes=notes, channel_labels=tuple(labels),
                   sources=tuple(sources))


_MODE_WORDS = {"reflect": "a mirror image of the border, edge excluded",
               "replicate": "copies of the edge", "circular": "the opposite edge"}


def _pooling(layer: str, module: nn.Module, x: torch.Tensor, position: tuple[int, ...],
             out_shape: tuple[int, ...]) -> Step:
    _, height, width = x.shape
    c, oy, ox = position
    kh, kw = _pair(module.kernel_size)
    stride = module.stride if module.stride is not None else module.kernel_size
    sh, sw = _pair(stride)
    ph, pw = (0, 0) if isinstance(module, nn.LPPool2d) else _pair(module.padding)
    dh, dw = _pair(module.dilation) if isinstance(module, nn.MaxPool2d) else (1, 1)
    rows = np.array([oy * sh + i * dh - ph for i in range(kh)])
    cols = np.array([ox * sw + j * dw - pw for j in range(kw)])
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    inside = (grid_rows >= 0) & (grid_rows < height) & (grid_cols >= 0) & (grid_cols < width)
    values = x[c].double().numpy()
    patch = np.where(inside, values[np.clip(grid_rows, 0, height - 1),
                                    np.clip(grid_cols, 0, width - 1)], 0.0)[None]
    pad = ~inside[None]
    divisor: float | None = None
    chosen = None
    notes: list[str] = []
    if isinstance(module, nn.MaxPool2d):
        masked = np.where(inside, patch[0], -np.inf)
        r, col = np.unravel_index(int(np.argmax(masked)), masked.shape)
        chosen = (0, int(r), int(col))
        value = float(masked[r, col])
        operation = "max"
        if pad.any():
            notes.append("padding cells count as −∞ for max pooling: they are never chosen")
    else:
        # torch's window bounds: clipped to the padded input, then (unless the padding counts)
        # to the input itself
        hstart, wstart = oy * sh - ph, ox * sw - pw
        hend, wend = min(hstart + kh, height + ph), min(wstart + kw, width + pw)
        pool_size = (hend - hstart) * (wend - wstart)
        hstart, wstart = max(hstart, 0), max(wstart, 0)
        hend, wend = min(hend, height), min(wend, width)
        total = float(patch.sum()) if isinstance(module, nn.AvgPool2d) else 0.0
        if isinstance(module, nn.AvgPool2d):
            if module.divisor_override:
                divisor = float(module.divisor_override)
            elif module.count_include_pad:
                divisor = float(pool_size)
            else:
                divisor = float((hend - hstart) * (wend - wstart))
            value = total / divisor
            operation = "avg"
            notes.append(f"average = sum {total:.6g} / {divisor:g}")
        else:
            assert isinstance(module, nn.LPPool2d)
            p = float(module.norm_type)
            powered = float(np.sum(np.where(inside, patch[0] ** p, 0.0)))
            mean = powered / pool_size * kh * kw
            exponent = 1.0 / p
            # torch's pow: a negative base (odd p, negative inputs) has no real fractional root
            value = (math.pow(mean, exponent) if mean >= 0 or exponent.is_integer()
                     else math.nan)
            divisor = p
            operation = "lp"
            notes.append(f"L{p:g} pooling: (Σ x^{p:g})^(1/{p:g}) = ({powered:.6g})^(1/{p:g})"
                         + ("" if pool_size == kh * kw else
                            f", scaled by {kh * kw}/{pool_size} for the partial window"))
    return Step(layer, type(module).__name__, "pooling", position, out_shape, (c,), patch, pad,
                grid_rows, grid_cols, None, None, None, None, value, operation, divisor,
                chosen, notes)


def _transposed(layer: str, module: nn.ConvTranspose2d, x: torch.Tensor,
                position: tuple[int, ...], out_shape: tuple[int, ...]) -> Step:
    c_in, height, width = x.shape
    c, oy, ox = position
    weight = module.weight.detach()  # (in, out / groups, kh, kw)
    kh, kw = weight.shape[-2:]
    sh, sw = _pair(module.stride)
    ph, pw = _pair(module.padding)
    dh, dw = _pair(module.dilation)
    groups = module.groups
    per_group_out = out_shape[0] // groups
    per_group_in = c_in // groups
    group = c // per_group_out
    channels = tuple(range(group * per_group_in, (group + 1) * per_group_in))
    rows_num = np.array([oy + ph - a * dh for a in range(kh)])
    cols_num = np.array([ox + pw - b * dw for b in range(kw)])
    grid_rows, grid_cols = np.meshgrid(rows_num, cols_num, indexing="ij")
    whole = (grid_rows % sh == 0) & (grid_cols % sw == 0)
    in_r, in_c = grid_rows // sh, grid_cols // sw
    inside = whole & (in_r >= 0) & (in_r < height) & (in_c >= 0) & (in_c < width)
    values = x[list(channels)].double().numpy()
    patch = np.where(inside[None], values[:, np.clip(in_r, 0, height - 1),
                                          np.clip(in_c, 0, width - 1)], 0.0)
    kernel = weight[list(channels), c - group * per_group_out].double().numpy()
    products = patch * kernel
    sums = products.sum(axis=(1, 2))
    bias = None if module.bias is None else float(module.bias.detach()[c])
    value = float(sums.sum()) + (bias or 0.0)
    input_rows = np.where(inside, in_r, -1)
    input_cols = np.where(inside, in_c, -1)
    notes = ["transposed convolution: each input value stamps a scaled copy of the kernel; this "
             "output collects, per kernel cell, the input whose copy lands here"]
    return Step(layer, "ConvTranspose2d", "transposed", position, out_shape, channels, patch,
                ~np.broadcast_to(inside, patch.shape).copy(), input_rows, input_cols, kernel,
                products, sums, bias, value, notes=notes)


@dataclass(frozen=True)
class Scatter:
    """One input value of a transposed convolution scattering a scaled kernel into the output.

    ``rows``/``cols`` are the output rows and columns the kernel cells land on (some may fall
    outside the output, cropped by padding), ``contribution`` is value × kernel for each output
    channel of the group (out, kh, kw).
    """

    input_position: tuple[int, int, int]
    value: float
    kernel: np.ndarray
    contribution: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    out_channels: tuple[int, ...]


def scatter_step(module: nn.ConvTranspose2d, x: torch.Tensor,
                 input_position: tuple[int, int, int]) -> Scatter:
    """What input value ``input_position`` (channel, row, column) adds to the output."""
    ch, r, col = input_position
    c_in, height, width = x.shape
    if not (0 <= ch < c_in and 0 <= r < height and 0 <= col < width):
        raise StepError(f"input position {input_position} is outside the input "
                        f"{c_in}×{height}×{width}")
    weight = module.weight.detach()[ch].double().numpy()  # (out / groups, kh, kw)
    kh, kw = weight.shape[-2:]
    sh, sw = _pair(module.stride)
    ph, pw = _pair(module.padding)
    dh, dw = _pair(module.dilation)
    per_group_in = c_in // module.groups
    per_group_out = module.out_channels // module.groups
    group = ch // per_group_in
    value = float(x.detach().double()[ch, r, col])
    return Scatter(
        input_position, value, weight, value * weight,
        np.array([r * sh - ph + a * dh for a in range(kh)]),
        np.array([col * sw - pw + b * dw for b in range(kw)]),
        tuple(range(group * per_group_out, (group + 1) * per_group_out)))


def scatter_sum(module: nn.ConvTranspose2d, x: torch.Tensor, upto: tuple[int, int, int],
                out_shape: tuple[int, ...]) -> np.ndarray:
    """The output (out_channels, H, W) after the stamps of every input value up to and including
    ``upto`` in reading order (channel, row, column), without the bias: the lecture's
    ``trans_conv`` loop stopped part-way. After the last input it equals the layer's output
    minus its bias."""
    total = np.zeros(out_shape)
    _, height, width = x.shape
    last = (upto[0] * height + upto[1]) * width + upto[2]
    for flat in range(last + 1):
        part = scatter_step(module, x, (flat // (height * width), flat // width % height,
                                        flat % width))
        rows_ok = (part.rows >= 0) & (part.rows < out_shape[1])
        cols_ok = (part.cols >= 0) & (part.cols < out_shape[2])
        block = part.contribution[:, rows_ok][:, :, cols_ok]
        index = np.ix_(np.array(part.out_channels), part.rows[rows_ok], part.cols[cols_ok])
        np.add.at(total, index, block)
    return total


def output_positions(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every position of an output, row by row (the order the step-through plays them)."""
    return [tuple(int(v) for v in p) for p in np.ndindex(*shape)]

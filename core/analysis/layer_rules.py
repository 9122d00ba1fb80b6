"""Shape, parameter and multiply-accumulate rules for every layer type in the catalog.

Pure Python arithmetic, so a model far too large to allocate (a megapixel photo into a dense
layer) is analysed instantly. A property test holds every rule equal to a real torch forward pass.
Each rule receives the layer's checked parameters (defaults filled in) and its input shapes
(batch excluded) and raises Invalid with a plain-words reason when torch would refuse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.analysis.receptive_field import ReceptiveField, merge

Shape = tuple[int, ...]


class Invalid(Exception):
    """A layer cannot take its input; the message says why, without the layer's name."""


@dataclass(frozen=True)
class LayerOutcome:
    """What one layer does: its output shape, parameter count, MACs and receptive-field step."""

    shape: Shape
    params: int = 0
    macs: int = 0
    field: Callable[[Sequence[ReceptiveField | None]], ReceptiveField | None] | None = None


Rule = Callable[[dict[str, Any], list[Shape]], LayerOutcome]


def dims_text(values: Sequence[Any]) -> str:
    return "×".join(str(v) for v in values)


def expand(value: Any, n: int, name: str) -> tuple[Any, ...]:
    """One number for all ``n`` dimensions, or one per dimension."""
    if isinstance(value, tuple | list):
        if len(value) != n:
            raise Invalid(f"{name} has {len(value)} values but this input has {n} spatial "
                          f"dimensions; give one number or {n}")
        return tuple(value)
    return (value,) * n


def _same_field(fields: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
    return fields[0]


def _channels(shape: Shape, what: str, given: int | None) -> int:
    channels = shape[0]
    if given is not None and given != channels:
        raise Invalid(f"{what} is set to {given} but the incoming shape {dims_text(shape)} has "
                      f"{channels}; remove {what} to infer it")
    return channels


def _rank(shape: Shape, ranks: Sequence[int], what: str) -> None:
    if len(shape) not in ranks:
        raise Invalid(f"needs {what} but receives shape {dims_text(shape)}")


_RANK_WORDS = {
    1: "(channels, length)", 2: "(channels, height, width)",
    3: "(channels, depth, height, width)",
}


def _window_out(size: int, k: int, s: int, p_total: int, d: int, ceil: bool,
                p_before: int) -> int:
    """torch's pooling_output_shape (also exact for convolutions with ceil False)."""
    numerator = size + p_total - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    out = numerator // s + 1
    if ceil and (out - 1) * s >= size + p_before:
        out -= 1
    return out


def _too_small(kind: str, kernel: Sequence[int], dilation: Sequence[int], spatial: Shape,
               padded: Sequence[int]) -> Invalid:
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    what = f"its {dims_text(kernel)} {kind}"
    if any(d != 1 for d in dilation):
        what += f" (dilated to span {dims_text(span)})"
    text = f"{what} is larger than its {dims_text(spatial)} input"
    if list(padded) != list(spatial):
        text += f", even padded to {dims_text(padded)}"
    return Invalid(text + "; use a smaller kernel, more padding or a larger input")


# ---------------------------------------------------------------------------------------------


def conv_rule(dims: int) -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        shape = shapes[0]
        _rank(shape, (dims + 1,), f"a {_RANK_WORDS[dims]} input")
        c_in = _channels(shape, "in_channels", p["in_channels"])
        c_out, groups = p["out_channels"], p["groups"]
        if c_in % groups or c_out % groups:
            raise Invalid(f"groups = {groups} must divide both in_channels ({c_in}) and "
                          f"out_channels ({c_out})")
        spatial = shape[1:]
        k = expand(p["kernel_size"], dims, "kernel_size")
        s = expand(p["stride"], dims, "stride")
        d = expand(p["dilation"], dims, "dilation")
        padding = p["padding"]
        if padding == "same":
            if any(v != 1 for v in s):
                raise Invalid('padding "same" only works with stride 1; set the padding to a '
                              "number instead")
            total = [di * (ki - 1) for ki, di in zip(k, d, strict=True)]
            before = [t // 2 for t in total]
        else:
            pad = expand(0 if padding == "valid" else padding, dims, "padding")
            total = [2 * v for v in pad]
            before = list(pad)
        after = [t - b for t, b in zip(total, before, strict=True)]
        mode = p["padding_mode"]
        for size, lo, hi in zip(spatial, before, after, strict=True):
            if mode == "reflect" and max(lo, hi) >= size:
                raise Invalid(f"reflect padding of {max(lo, hi)} needs an input larger than "
                              f"that, but it is {dims_text(spatial)}; pad less or use zeros")
            if mode == "circular" and max(lo, hi) > size:
                raise Invalid(f"circular padding of {max(lo, hi)} wraps around more than once "
                              f"on a {dims_text(spatial)} input; pad less or use zeros")
        padded = [n + t for n, t in zip(spatial, total, strict=True)]
        out = []
        for i in range(dims):
            if padded[i] < d[i] * (k[i] - 1) + 1:
                raise _too_small("kernel", k, d, spatial, padded)
            out.append((padded[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1)
        kernel_volume = math.prod(k)
        params = c_out * (c_in // groups) * kernel_volume + (c_out if p["bias"] else 0)
        macs = c_out * math.prod(out) * (c_in // groups) * kernel_volume
        return LayerOutcome(
            (c_out, *out), params, macs,
            lambda f: f[0].window(k, s, before, d) if f[0] else None,
        )

    return rule


def conv_transpose_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    _rank(shape, (3,), "a (channels, height, width) input")
    c_in = _channels(shape, "in_channels", p["in_channels"])
    c_out, groups = p["out_channels"], p["groups"]
    if c_in % groups or c_out % groups:
        raise Invalid(f"groups = {groups} must divide both in_channels ({c_in}) and "
                      f"out_channels ({c_out})")
    k = expand(p["kernel_size"], 2, "kernel_size")
    s = expand(p["stride"], 2, "stride")
    pad = expand(p["padding"], 2, "padding")
    op = expand(p["output_padding"], 2, "output_padding")
    d = expand(p["dilation"], 2, "dilation")
    out = []
    for i in range(2):
        if op[i] >= s[i] and op[i] >= d[i]:
            raise Invalid(f"output_padding ({op[i]}) must be smaller than the stride "
                          f"({s[i]}) or the dilation ({d[i]})")
        size = (shape[1 + i] - 1) * s[i] - 2 * pad[i] + d[i] * (k[i] - 1) + op[i] + 1
        if size < 1:
            raise Invalid(f"padding {dims_text(pad)} crops away the whole "
                          f"{dims_text(shape[1:])} output; use less padding")
        out.append(size)
    kernel_volume = math.prod(k)
    params = c_in * (c_out // groups) * kernel_volume + (c_out if p["bias"] else 0)
    macs = c_in * math.prod(shape[1:]) * (c_out // groups) * kernel_volume
    return LayerOutcome(
        (c_out, *out), params, macs, lambda f: f[0].transposed(k, s, pad, d) if f[0] else None
    )


def locally_connected_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    """A convolution's windows (no padding, no dilation) with a kernel per output position."""
    shape = shapes[0]
    _rank(shape, (3,), "a (channels, height, width) input")
    c_in = _channels(shape, "in_channels", p["in_channels"])
    c_out = p["out_channels"]
    k = expand(p["kernel_size"], 2, "kernel_size")
    s = expand(p["stride"], 2, "stride")
    spatial = shape[1:]
    if any(n < ki for n, ki in zip(spatial, k, strict=True)):
        raise _too_small("kernel", k, (1, 1), spatial, spatial)
    out = [(n - ki) // si + 1 for n, ki, si in zip(spatial, k, s, strict=True)]
    positions = math.prod(out)
    kernel_volume = math.prod(k)
    params = positions * (c_out * c_in * kernel_volume + (c_out if p["bias"] else 0))
    macs = positions * c_out * c_in * kernel_volume
    return LayerOutcome((c_out, *out), params, macs,
                        lambda f: f[0].window(k, s, (0, 0), (1, 1)) if f[0] else None)


def _pool(p: dict[str, Any], shapes: list[Shape], dilation: Any, padding: Any,
          dims: int = 2, unpadded_fit: bool = False) -> LayerOutcome:
    """A pooling window; ``unpadded_fit``: the window must fit the input before padding
    (torch's avg_pool3d checks that, whatever the padding or ceil_mode)."""
    shape = shapes[0]
    _rank(shape, (dims + 1,), f"a {_RANK_WORDS[dims]} input")
    k = expand(p["kernel_size"], dims, "kernel_size")
    s = expand(p["stride"] if p["stride"] is not None else p["kernel_size"], dims, "stride")
    pad = expand(padding, dims, "padding")
    d = expand(dilation, dims, "dilation")
    for i in range(dims):
        if 2 * pad[i] > k[i]:  # torch's limit, whatever the dilation
            raise Invalid(f"padding {pad[i]} is more than half of the {dims_text(k)} window; "
                          "use at most half the kernel size")
    spatial = shape[1:]
    if unpadded_fit and any(n < w for n, w in zip(spatial, k, strict=True)):
        raise Invalid(f"its {dims_text(k)} window is larger than its {dims_text(spatial)} input "
                      "(3-D average pooling does not count padding here); use a smaller "
                      "kernel or a larger input")
    out = [_window_out(spatial[i], k[i], s[i], 2 * pad[i], d[i], p["ceil_mode"], pad[i])
           for i in range(dims)]
    if min(out) < 1:
        raise _too_small("window", k, d, spatial, [n + 2 * q for n, q in zip(spatial, pad,
                                                                              strict=True)])
    return LayerOutcome((shape[0], *out), 0, 0,
                        lambda f: f[0].window(k, s, pad, d) if f[0] else None)


def max_pool_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    return _pool(p, shapes, p["dilation"], p["padding"])


def avg_pool_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    return _pool(p, shapes, 1, p["padding"])


def lp_pool_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    return _pool(p, shapes, 1, 0)


def max_pool_nd(dims: int) -> Rule:
    return lambda p, shapes: _pool(p, shapes, p["dilation"], p["padding"], dims)


def avg_pool_nd(dims: int) -> Rule:
    return lambda p, shapes: _pool(p, shapes, 1, p["padding"], dims, unpadded_fit=dims == 3)


def adaptive_pool_nd(dims: int) -> Rule:
    return lambda p, shapes: adaptive_pool_rule(p, shapes, dims)


def embedding_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    _rank(shape, (1,), "a (length) input of integer token ids")
    vocabulary, width = p["num_embeddings"], p["embedding_dim"]
    pad = p["padding_idx"]
    if pad is not None and not -vocabulary <= pad < vocabulary:
        raise Invalid(f"padding_idx {pad} is not a token id of a {vocabulary}-word vocabulary; "
                      f"use 0 to {vocabulary - 1} (or leave it empty)")
    return LayerOutcome((shape[0], width), vocabulary * width, 0)


def transpose_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    full = [1, *shapes[0]]  # with the batch
    ndim = len(full)
    for key in ("dim0", "dim1"):
        if not -ndim <= p[key] < ndim:
            raise Invalid(f"{key} {p[key]} does not exist: with the batch this tensor has {ndim} "
                          f"dimensions, so it must be from {-ndim} to {ndim - 1}")
        if p[key] % ndim == 0:
            raise Invalid(f"{key} {p[key]} is the batch; swap two of dimensions 1 to {ndim - 1}")
    a, b = p["dim0"] % ndim, p["dim1"] % ndim
    full[a], full[b] = full[b], full[a]
    return LayerOutcome(tuple(full[1:]), 0, 0)


def adaptive_pool_rule(p: dict[str, Any], shapes: list[Shape], dims: int = 2) -> LayerOutcome:
    shape = shapes[0]
    _rank(shape, (dims + 1,), f"a {_RANK_WORDS[dims]} input")
    wanted = expand(p["output_size"], dims, "output_size")
    out = [w if w is not None else n for w, n in zip(wanted, shape[1:], strict=True)]
    kernel = [math.ceil(n / o) for n, o in zip(shape[1:], out, strict=True)]
    stride = [max(1, n // o) for n, o in zip(shape[1:], out, strict=True)]

    def field(f: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
        return f[0].window(kernel, stride, (0,) * dims, (1,) * dims) if f[0] else None

    return LayerOutcome((shape[0], *out), 0, 0, field)


def batch_norm_rule(ranks: tuple[int, ...], words: str) -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        shape = shapes[0]
        _rank(shape, ranks, words)
        channels = _channels(shape, "num_features", p["num_features"])
        return LayerOutcome(shape, 2 * channels if p["affine"] else 0, 0, _same_field)

    return rule


def group_norm_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    channels = _channels(shape, "num_channels", p["num_channels"])
    if channels % p["num_groups"]:
        raise Invalid(f"num_groups = {p['num_groups']} must divide the {channels} channels")
    return LayerOutcome(shape, 2 * channels if p["affine"] else 0, 0, _same_field)


def instance_norm_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    _rank(shape, (3,), "a (channels, height, width) input")
    channels = _channels(shape, "num_features", p["num_features"])
    if math.prod(shape[1:]) < 2:
        raise Invalid(f"normalises each channel over its positions, but the {dims_text(shape)} "
                      "input has only one; use it on larger feature maps")
    return LayerOutcome(shape, 2 * channels if p["affine"] else 0, 0, _same_field)


def layer_norm_2d_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    _rank(shape, (3,), "a (channels, height, width) input")
    channels = _channels(shape, "normalized_shape", p["normalized_shape"])
    affine = p["elementwise_affine"]
    params = channels * (int(affine) + int(affine and p["bias"]))
    return LayerOutcome(shape, params, 0, _same_field)


def prelu_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    n = p["num_parameters"]
    if n != 1 and n != shape[0]:
        raise Invalid(f"num_parameters = {n} must be 1 (one shared slope) or the {shape[0]} "
                      "channels (one slope each)")
    return LayerOutcome(shape, n, 0, _same_field)


def pixel_shuffle_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    _rank(shape, (3,), "a (channels, height, width) input")
    r = p["upscale_factor"]
    if shape[0] % (r * r):
        raise Invalid(f"upscale_factor {r} turns every {r * r} channels into one, but "
                      f"{shape[0]} channels do not divide by {r * r}")
    out = (shape[0] // (r * r), shape[1] * r, shape[2] * r)
    return LayerOutcome(out, 0, 0, lambda f: f[0].scaled((r, r), False) if f[0] else None)


def elementwise_rule(ranks: tuple[int, ...] | None = None, words: str = "") -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        if ranks is not None:
            _rank(shapes[0], ranks, words)
        return LayerOutcome(shapes[0], 0, 0, _same_field)

    return rule


def softmax_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    ndim = len(shapes[0]) + 1
    if not -ndim <= p["dim"] < ndim:
        raise Invalid(f"dim {p['dim']} does not exist: with the batch this tensor has {ndim} "
                      f"dimensions, so dim must be from {-ndim} to {ndim - 1}")
    if p["dim"] % ndim == 0:
        raise Invalid(f"dim {p['dim']} is the batch: probabilities would sum to 1 across "
                      "different images; use 1 (channels or features)")
    return LayerOutcome(shapes[0], 0, 0, _same_field)


def flatten_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    full = (1, *shapes[0])  # with the batch
    ndim = len(full)
    start, end = p["start_dim"], p["end_dim"]
    for name, value in (("start_dim", start), ("end_dim", end)):
        if not -ndim <= value < ndim:
            raise Invalid(f"{name} {value} does not exist: with the batch this tensor has "
                          f"{ndim} dimensions")
    start, end = start % ndim, end % ndim
    if start == 0:
        raise Invalid("start_dim 0 would flatten the batch into the features; use 1")
    if start > end:
        raise Invalid(f"start_dim ({p['start_dim']}) comes after end_dim ({p['end_dim']})")
    out = (*full[1:start], math.prod(full[start:end + 1]), *full[end + 1:])
    return LayerOutcome(out, 0, 0, None)


def linear_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    n_in = shape[-1]
    if p["in_features"] is not None and p["in_features"] != n_in:
        raise Invalid(f"in_features is set to {p['in_features']} but the incoming shape "
                      f"{dims_text(shape)} gives {n_in}; remove in_features to infer it")
    n_out = p["out_features"]
    params = n_in * n_out + (n_out if p["bias"] else 0)
    return LayerOutcome((*shape[:-1], n_out), params, math.prod(shape[:-1]) * n_in * n_out, None)


_MODE_RANKS = {"linear": 2, "bilinear": 3, "bicubic": 3, "trilinear": 4}


def upsample_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    mode = p["mode"]
    if mode in _MODE_RANKS and len(shape) != _MODE_RANKS[mode]:
        raise Invalid(f'mode "{mode}" needs a {_RANK_WORDS[_MODE_RANKS[mode] - 1]} input but '
                      f"receives {dims_text(shape)}")
    if len(shape) < 2:
        raise Invalid(f"needs feature maps (channels and at least one spatial dimension) but "
                      f"receives {dims_text(shape)}")
    if mode == "nearest" and p["align_corners"] is not None:
        raise Invalid('align_corners only applies to the linear modes; leave it empty for '
                      '"nearest"')
    if (p["size"] is None) == (p["scale_factor"] is None):
        raise Invalid("give either size or scale_factor (exactly one of them)")
    n = len(shape) - 1
    spatial = shape[1:]
    if p["size"] is not None:
        out = list(expand(p["size"], n, "size"))
        factors = [o / i for o, i in zip(out, spatial, strict=True)]
    else:
        factors = [float(f) for f in expand(p["scale_factor"], n, "scale_factor")]
        out = [math.floor(i * f) for i, f in zip(spatial, factors, strict=True)]
        if min(out) < 1:
            raise Invalid(f"scale_factor {p['scale_factor']} shrinks the "
                          f"{dims_text(spatial)} input to nothing")
    interpolating = mode != "nearest"
    return LayerOutcome(
        (shape[0], *out), 0, 0, lambda f: f[0].scaled(factors, interpolating) if f[0] else None
    )


def pad_rule(reflect: bool) -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        shape = shapes[0]
        _rank(shape, (3,), "a (channels, height, width) input")
        left, right, top, bottom = expand(p["padding"], 4, "padding")
        height, width = shape[1:]
        if reflect and (max(left, right) >= width or max(top, bottom) >= height):
            raise Invalid(f"reflection padding must be smaller than the input, which is "
                          f"{height}×{width}; pad less")
        out = (shape[0], height + top + bottom, width + left + right)
        return LayerOutcome(out, 0, 0, lambda f: f[0].padded((top, left)) if f[0] else None)

    return rule


def add_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    if any(s != shapes[0] for s in shapes):
        raise Invalid("Add needs inputs of the same shape, but they are "
                      + ", ".join(dims_text(s) for s in shapes)
                      + "; change a stride or a channel count, or add a 1×1 convolution")
    return LayerOutcome(shapes[0], 0, 0, _merge_fields)


def concat_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    first = shapes[0]
    if any(len(s) != len(first) or s[1:] != first[1:] for s in shapes):
        raise Invalid("Concat stacks channels, so the other dimensions must be equal, but the "
                      "inputs are " + ", ".join(dims_text(s) for s in shapes))
    return LayerOutcome((sum(s[0] for s in shapes), *first[1:]), 0, 0, _merge_fields)


def mul_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    first = shapes[0]
    shown = ", ".join(dims_text(s) for s in shapes)
    if any(len(s) != len(first) for s in shapes):
        raise Invalid(f"Mul needs inputs with the same number of dimensions, but they are {shown}")
    out = []
    for sizes in zip(*shapes, strict=True):
        big = {n for n in sizes if n != 1}
        if len(big) > 1:
            raise Invalid("Mul multiplies element by element, so each size must be equal or 1 "
                          f"(a C×1×1 gate scales a C×H×W map), but the inputs are {shown}")
        out.append(big.pop() if big else 1)
    return LayerOutcome(tuple(out), 0, 0, _merge_fields)


def channel_shuffle_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    if len(shape) < 2:
        raise Invalid(f"needs channels and at least one spatial dimension but receives "
                      f"{dims_text(shape)}")
    if shape[0] % p["groups"]:
        raise Invalid(f"groups = {p['groups']} must divide the {shape[0]} channels")
    return LayerOutcome(shape, 0, 0, _same_field)


def chunk_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    if len(shape) < 2:
        raise Invalid(f"cuts channels, so it needs channels and at least one more dimension but "
                      f"receives {dims_text(shape)}")
    size = -(-shape[0] // p["chunks"])
    start = p["index"] * size
    if start >= shape[0]:
        parts = -(-shape[0] // size)
        raise Invalid(f"{shape[0]} channels in chunks of {size} give {parts} parts, so index "
                      f"{p['index']} does not exist; use 0 to {parts - 1}")
    return LayerOutcome((min(size, shape[0] - start), *shape[1:]), 0, 0, _same_field)


def _merge_fields(fields: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
    known = [f for f in fields if f is not None]
    return merge(known) if len(known) == len(fields) else None


_ANY = elementwise_rule()

RULES: dict[str, Rule] = {
    "Conv1d": conv_rule(1),
    "Conv2d": conv_rule(2),
    "Conv3d": conv_rule(3),
    "ConvTranspose2d": conv_transpose_rule,
    "LocallyConnected2d": locally_connected_rule,
    "MaxPool2d": max_pool_rule,
    "AvgPool2d": avg_pool_rule,
    "LPPool2d": lp_pool_rule,
    "AdaptiveAvgPool2d": adaptive_pool_rule,
    "AdaptiveMaxPool2d": adaptive_pool_rule,
    "BatchNorm1d": batch_norm_rule((1, 2), "a (features) or (channels, length) input"),
    "BatchNorm2d": batch_norm_rule((3,), "a (channels, height, width) input"),
    "LocalResponseNorm": elementwise_rule((2, 3, 4), "channels and at least one spatial "
                                          "dimension"),
    "ReLU": _ANY,
    "LeakyReLU": _ANY,
    "ReLU6": _ANY,
    "ELU": _ANY,
    "GELU": _ANY,
    "Sigmoid": _ANY,
    "Tanh": _ANY,
    "Softmax": softmax_rule,
    "Dropout": _ANY,
    "Dropout2d": elementwise_rule((3,), "a (channels, height, width) input"),
    "Flatten": flatten_rule,
    "Linear": linear_rule,
    "Upsample": upsample_rule,
    "ZeroPad2d": pad_rule(reflect=False),
    "ReflectionPad2d": pad_rule(reflect=True),
    "ReplicationPad2d": pad_rule(reflect=False),
    "Identity": _ANY,
    "Add": add_rule,
    "Concat": concat_rule,
    "SiLU": _ANY,
    "Hardswish": _ANY,
    "Hardsigmoid": _ANY,
    "ChannelShuffle": channel_shuffle_rule,
    "Chunk": chunk_rule,
    "Mul": mul_rule,
    "Embedding": embedding_rule,
    "Transpose": transpose_rule,
    "MaxPool1d": max_pool_nd(1),
    "AvgPool1d": avg_pool_nd(1),
    "AdaptiveMaxPool1d": adaptive_pool_nd(1),
    "AdaptiveAvgPool1d": adaptive_pool_nd(1),
    "MaxPool3d": max_pool_nd(3),
    "AvgPool3d": avg_pool_nd(3),
    "AdaptiveAvgPool3d": adaptive_pool_nd(3),
    # issue 18
    "BatchNorm3d": batch_norm_rule((4,), "a (channels, depth, height, width) input"),
    "GroupNorm": group_norm_rule,
    "InstanceNorm2d": instance_norm_rule,
    "LayerNorm2d": layer_norm_2d_rule,
    "PReLU": prelu_rule,
    "SELU": _ANY,
    "Softplus": _ANY,
    "LogSoftmax": softmax_rule,
    "PixelShuffle": pixel_shuffle_rule,
}

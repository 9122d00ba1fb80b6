"""Shape rules of the poolings: windows (max, average, power-average) and adaptive."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from core.analysis.layer_rules.base import (
    RANK_WORDS,
    Invalid,
    LayerOutcome,
    Rule,
    Shape,
    check_rank,
    dims_text,
    expand,
    too_small,
    window_out,
)
from core.analysis.receptive_field import ReceptiveField


def _pool(p: dict[str, Any], shapes: list[Shape], dilation: Any, padding: Any,
          dims: int = 2, unpadded_fit: bool = False) -> LayerOutcome:
    """A pooling window; ``unpadded_fit``: the window must fit the input before padding
    (torch's avg_pool3d checks that, whatever the padding or ceil_mode)."""
    shape = shapes[0]
    check_rank(shape, (dims + 1,), f"a {RANK_WORDS[dims]} input")
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
    out = [window_out(spatial[i], k[i], s[i], 2 * pad[i], d[i], p["ceil_mode"], pad[i])
           for i in range(dims)]
    if min(out) < 1:
        raise too_small("window", k, d, spatial, [n + 2 * q for n, q in zip(spatial, pad,
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


def adaptive_pool_rule(p: dict[str, Any], shapes: list[Shape], dims: int = 2) -> LayerOutcome:
    shape = shapes[0]
    check_rank(shape, (dims + 1,), f"a {RANK_WORDS[dims]} input")
    wanted = expand(p["output_size"], dims, "output_size")
    out = [w if w is not None else n for w, n in zip(wanted, shape[1:], strict=True)]
    kernel = [math.ceil(n / o) for n, o in zip(shape[1:], out, strict=True)]
    stride = [max(1, n // o) for n, o in zip(shape[1:], out, strict=True)]

    def field(f: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
        return f[0].window(kernel, stride, (0,) * dims, (1,) * dims) if f[0] else None

    return LayerOutcome((shape[0], *out), 0, 0, field)

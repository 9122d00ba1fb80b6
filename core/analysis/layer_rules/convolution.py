"""Shape, parameter and MAC rules of the convolutions: 1-D to 3-D, transposed, locally connected."""

from __future__ import annotations

import math
from typing import Any

from core.analysis.layer_rules.base import (
    RANK_WORDS,
    Invalid,
    LayerOutcome,
    Rule,
    Shape,
    channels_of,
    check_rank,
    dims_text,
    expand,
    too_small,
)


def conv_rule(dims: int) -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        shape = shapes[0]
        check_rank(shape, (dims + 1,), f"a {RANK_WORDS[dims]} input")
        c_in = channels_of(shape, "in_channels", p["in_channels"])
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
                raise too_small("kernel", k, d, spatial, padded)
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
    check_rank(shape, (3,), "a (channels, height, width) input")
    c_in = channels_of(shape, "in_channels", p["in_channels"])
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
    check_rank(shape, (3,), "a (channels, height, width) input")
    c_in = channels_of(shape, "in_channels", p["in_channels"])
    c_out = p["out_channels"]
    k = expand(p["kernel_size"], 2, "kernel_size")
    s = expand(p["stride"], 2, "stride")
    spatial = shape[1:]
    if any(n < ki for n, ki in zip(spatial, k, strict=True)):
        raise too_small("kernel", k, (1, 1), spatial, spatial)
    out = [(n - ki) // si + 1 for n, ki, si in zip(spatial, k, s, strict=True)]
    positions = math.prod(out)
    kernel_volume = math.prod(k)
    params = positions * (c_out * c_in * kernel_volume + (c_out if p["bias"] else 0))
    macs = positions * c_out * c_in * kernel_volume
    return LayerOutcome((c_out, *out), params, macs,
                        lambda f: f[0].window(k, s, (0, 0), (1, 1)) if f[0] else None)

"""Rules of the layers that reshape: flatten, dense, upsampling, padding, embeddings, shuffles."""

from __future__ import annotations

import math
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
    same_field,
)


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
        raise Invalid(f'mode "{mode}" needs a {RANK_WORDS[_MODE_RANKS[mode] - 1]} input but '
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
        check_rank(shape, (3,), "a (channels, height, width) input")
        left, right, top, bottom = expand(p["padding"], 4, "padding")
        height, width = shape[1:]
        if reflect and (max(left, right) >= width or max(top, bottom) >= height):
            raise Invalid(f"reflection padding must be smaller than the input, which is "
                          f"{height}×{width}; pad less")
        out = (shape[0], height + top + bottom, width + left + right)
        return LayerOutcome(out, 0, 0, lambda f: f[0].padded((top, left)) if f[0] else None)

    return rule


def embedding_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    check_rank(shape, (1,), "a (length) input of integer token ids")
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


def channel_shuffle_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    if len(shape) < 2:
        raise Invalid(f"needs channels and at least one spatial dimension but receives "
                      f"{dims_text(shape)}")
    if shape[0] % p["groups"]:
        raise Invalid(f"groups = {p['groups']} must divide the {shape[0]} channels")
    return LayerOutcome(shape, 0, 0, same_field)


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
    return LayerOutcome((min(size, shape[0] - start), *shape[1:]), 0, 0, same_field)


def pixel_shuffle_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    check_rank(shape, (3,), "a (channels, height, width) input")
    r = p["upscale_factor"]
    if shape[0] % (r * r):
        raise Invalid(f"upscale_factor {r} turns every {r * r} channels into one, but "
                      f"{shape[0]} channels do not divide by {r * r}")
    out = (shape[0] // (r * r), shape[1] * r, shape[2] * r)
    return LayerOutcome(out, 0, 0, lambda f: f[0].scaled((r, r), False) if f[0] else None)

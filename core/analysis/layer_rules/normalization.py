"""Shape and parameter rules of the normalizations: batch, group, instance and layer norm."""

from __future__ import annotations

import math
from typing import Any

from core.analysis.layer_rules.base import (
    Invalid,
    LayerOutcome,
    Rule,
    Shape,
    channels_of,
    check_rank,
    dims_text,
    same_field,
)


def batch_norm_rule(ranks: tuple[int, ...], words: str) -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        shape = shapes[0]
        check_rank(shape, ranks, words)
        channels = channels_of(shape, "num_features", p["num_features"])
        return LayerOutcome(shape, 2 * channels if p["affine"] else 0, 0, same_field)

    return rule


def group_norm_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    channels = channels_of(shape, "num_channels", p["num_channels"])
    if channels % p["num_groups"]:
        raise Invalid(f"num_groups = {p['num_groups']} must divide the {channels} channels")
    return LayerOutcome(shape, 2 * channels if p["affine"] else 0, 0, same_field)


def instance_norm_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    check_rank(shape, (3,), "a (channels, height, width) input")
    channels = channels_of(shape, "num_features", p["num_features"])
    if math.prod(shape[1:]) < 2:
        raise Invalid(f"normalises each channel over its positions, but the {dims_text(shape)} "
                      "input has only one; use it on larger feature maps")
    return LayerOutcome(shape, 2 * channels if p["affine"] else 0, 0, same_field)


def layer_norm_2d_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    check_rank(shape, (3,), "a (channels, height, width) input")
    channels = channels_of(shape, "normalized_shape", p["normalized_shape"])
    affine = p["elementwise_affine"]
    params = channels * (int(affine) + int(affine and p["bias"]))
    return LayerOutcome(shape, params, 0, same_field)


def layer_scale_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    check_rank(shape, (3,), "a (channels, height, width) input")
    return LayerOutcome(shape, channels_of(shape, "channels", p["channels"]), 0, same_field)

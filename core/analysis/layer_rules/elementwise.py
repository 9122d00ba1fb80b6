"""Rules of the layers that keep the shape: activations, softmax, PReLU's learned slopes."""

from __future__ import annotations

from typing import Any

from core.analysis.layer_rules.base import (
    Invalid,
    LayerOutcome,
    Rule,
    Shape,
    check_rank,
    same_field,
)


def elementwise_rule(ranks: tuple[int, ...] | None = None, words: str = "") -> Rule:
    def rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
        if ranks is not None:
            check_rank(shapes[0], ranks, words)
        return LayerOutcome(shapes[0], 0, 0, same_field)

    return rule


def softmax_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    ndim = len(shapes[0]) + 1
    if not -ndim <= p["dim"] < ndim:
        raise Invalid(f"dim {p['dim']} does not exist: with the batch this tensor has {ndim} "
                      f"dimensions, so dim must be from {-ndim} to {ndim - 1}")
    if p["dim"] % ndim == 0:
        raise Invalid(f"dim {p['dim']} is the batch: probabilities would sum to 1 across "
                      "different images; use 1 (channels or features)")
    return LayerOutcome(shapes[0], 0, 0, same_field)


def prelu_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    shape = shapes[0]
    n = p["num_parameters"]
    if n != 1 and n != shape[0]:
        raise Invalid(f"num_parameters = {n} must be 1 (one shared slope) or the {shape[0]} "
                      "channels (one slope each)")
    return LayerOutcome(shape, n, 0, same_field)

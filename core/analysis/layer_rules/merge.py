"""Rules of the merge layers: Add, Concat and Mul (broadcasting)."""

from __future__ import annotations

from typing import Any

from core.analysis.layer_rules.base import (
    Invalid,
    LayerOutcome,
    Shape,
    dims_text,
    merge_fields,
)


def add_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    if any(s != shapes[0] for s in shapes):
        raise Invalid("Add needs inputs of the same shape, but they are "
                      + ", ".join(dims_text(s) for s in shapes)
                      + "; change a stride or a channel count, or add a 1×1 convolution")
    return LayerOutcome(shapes[0], 0, 0, merge_fields)


def concat_rule(p: dict[str, Any], shapes: list[Shape]) -> LayerOutcome:
    first = shapes[0]
    if any(len(s) != len(first) or s[1:] != first[1:] for s in shapes):
        raise Invalid("Concat stacks channels, so the other dimensions must be equal, but the "
                      "inputs are " + ", ".join(dims_text(s) for s in shapes))
    return LayerOutcome((sum(s[0] for s in shapes), *first[1:]), 0, 0, merge_fields)


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
    return LayerOutcome(tuple(out), 0, 0, merge_fields)

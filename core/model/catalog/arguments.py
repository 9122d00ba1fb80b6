"""Constructor arguments that several families share (kernel, stride, dilation, bias)."""

from __future__ import annotations

from typing import Any

from core.model.catalog.entry import ParamSpec


def kernel(default: Any = None) -> ParamSpec:
    """``kernel_size`` of a convolution or a pooling window."""
    return ParamSpec(
        "kernel_size",
        "ints",
        default,
        "Size of the sliding window: one number for a square window, or one per dimension.",
        minimum=1,
        maximum=1024,
    )


def stride(default: Any = 1, *, optional: bool = False) -> ParamSpec:
    """``stride``; ``optional`` for poolings, whose empty stride is the kernel size."""
    extra = " Left empty, it equals the kernel size (windows do not overlap)." if optional else ""
    return ParamSpec(
        "stride",
        "ints",
        default,
        "Step between two windows; a stride of 2 halves the output size." + extra,
        minimum=1,
        maximum=1024,
        optional=optional,
    )


def dilation() -> ParamSpec:
    """``dilation``: the spacing of the kernel's cells."""
    return ParamSpec(
        "dilation",
        "ints",
        1,
        "Spacing between kernel elements; dilation d makes a k-wide kernel cover d·(k−1)+1 inputs.",
        minimum=1,
        maximum=256,
    )


BIAS = ParamSpec("bias", "bool", True, "Add a learnable bias, one per output channel.")

CONV_FORMULA = "out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1"

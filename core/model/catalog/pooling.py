"""Pooling: max, average, power-average and adaptive, over sequences, images and volumes."""

from __future__ import annotations

from core.model.catalog.arguments import CONV_FORMULA, dilation, kernel, stride
from core.model.catalog.entry import LayerType, ParamSpec


def _pool_padding() -> ParamSpec:
    return ParamSpec(
        "padding",
        "ints",
        0,
        "Implicit padding added on both sides (at most half the kernel size).",
        minimum=0,
        maximum=512,
    )


def _ceil_mode() -> ParamSpec:
    return ParamSpec(
        "ceil_mode",
        "bool",
        False,
        "Round the output size up instead of down, so a partial window at the border counts.",
    )


_POOL_FORMULA = CONV_FORMULA + " (⌈ ⌉ with ceil_mode)"


def _adaptive(kind: str, verb: str, word: str) -> LayerType:
    return LayerType(
        name=f"Adaptive{kind}Pool2d",
        group="pooling",
        summary=f"{verb} windows chosen so the output has exactly output_size; with "
        f"output_size 1 it is global {word} pooling, one number per channel. No parameters.",
        formula="out = output_size, whatever the input size",
        params=(
            ParamSpec("output_size", "ints", 1, "Output height and width; empty keeps that "
                      "dimension's input size.", minimum=1, maximum=65536, none_items=True),
        ),
        spatial_dims=2,
        input_ranks=(3,),
    )


_AXES = {1: "(channels, length)", 3: "(channels, depth, height, width)"}

_WHAT = {1: "a sequence (text, a signal)", 3: "a volume or a video (frames × height × width)"}


def _max_pool(dims: int) -> LayerType:
    return LayerType(
        name=f"MaxPool{dims}d",
        group="pooling",
        summary=f"Keeps the largest value of each window of {_WHAT[dims]}, channel by channel: "
        f"the {'sequence gets shorter' if dims == 1 else 'volume shrinks'} and small shifts "
        f"matter less. Input {_AXES[dims]}. No parameters.",
        formula=_POOL_FORMULA,
        params=(kernel(), stride(None, optional=True), _pool_padding(), dilation(),
                _ceil_mode()),
        spatial_dims=dims,
        input_ranks=(dims + 1,),
        starter=(("kernel_size", 2),),
    )


def _avg_pool(dims: int) -> LayerType:
    params: tuple[ParamSpec, ...] = (
        kernel(), stride(None, optional=True), _pool_padding(), _ceil_mode(),
        ParamSpec("count_include_pad", "bool", True,
                  "Count the zero padding when averaging a border window."))
    if dims == 3:
        params += (ParamSpec("divisor_override", "int", None, "Divide by this number instead "
                             "of the window size.", minimum=1, maximum=1 << 20, optional=True),)
    return LayerType(
        name=f"AvgPool{dims}d",
        group="pooling",
        summary=f"Replaces each window of {_WHAT[dims]} by its average, channel by channel: a "
        f"smoother summary than max pooling. Input {_AXES[dims]}. No parameters.",
        formula="out = ⌊(in + 2·padding − kernel) / stride⌋ + 1 (⌈ ⌉ with ceil_mode)",
        params=params,
        spatial_dims=dims,
        input_ranks=(dims + 1,),
        starter=(("kernel_size", 2),),
    )


def _adaptive_nd(kind: str, verb: str, word: str, dims: int) -> LayerType:
    sizes = "Output length" if dims == 1 else "Output depth, height and width"
    return LayerType(
        name=f"Adaptive{kind}Pool{dims}d",
        group="pooling",
        summary=f"{verb} windows chosen so the output has exactly output_size; with "
        f"output_size 1 it is global {word} pooling, one number per channel (whatever the "
        f"{'length of the sequence' if dims == 1 else 'size of the volume'}). Input "
        f"{_AXES[dims]}. No parameters.",
        formula="out = output_size, whatever the input size",
        params=(
            ParamSpec("output_size", "ints", 1, f"{sizes}; empty keeps that dimension's input "
                      "size.", minimum=1, maximum=65536, none_items=dims > 1),
        ),
        spatial_dims=dims,
        input_ranks=(dims + 1,),
    )


ENTRIES: tuple[LayerType, ...] = (
    LayerType(
        name="MaxPool2d",
        group="pooling",
        summary="Keeps the largest value of each window, channel by channel: the feature map "
        "shrinks and small shifts of the input matter less. No parameters.",
        formula=_POOL_FORMULA,
        params=(kernel(), stride(None, optional=True), _pool_padding(), dilation(),
                _ceil_mode()),
        spatial_dims=2,
        input_ranks=(3,),
        starter=(("kernel_size", 2),),
    ),
    LayerType(
        name="AvgPool2d",
        group="pooling",
        summary="Replaces each window by its average, channel by channel: a smoother summary "
        "than max pooling. No parameters.",
        formula="out = ⌊(in + 2·padding − kernel) / stride⌋ + 1 (⌈ ⌉ with ceil_mode)",
        params=(
            kernel(),
            stride(None, optional=True),
            _pool_padding(),
            _ceil_mode(),
            ParamSpec("count_include_pad", "bool", True,
                      "Count the zero padding when averaging a border window."),
            ParamSpec("divisor_override", "int", None, "Divide by this number instead of the "
                      "window size.", minimum=1, maximum=1 << 20, optional=True),
        ),
        spatial_dims=2,
        input_ranks=(3,),
        starter=(("kernel_size", 2),),
    ),
    LayerType(
        name="LPPool2d",
        group="pooling",
        summary="Power-average (Lp) pooling: (Σ xᵖ)^(1/p) over each window. With p = 2 it is L2 "
        "pooling, the square root of the sum of squares; large p approaches max pooling. No "
        "parameters.",
        formula="out = ⌊(in − kernel) / stride⌋ + 1 (⌈ ⌉ with ceil_mode)",
        params=(
            ParamSpec("norm_type", "float", 2.0, "The power p (2 for L2 pooling).",
                      minimum=1e-3, maximum=64.0),
            kernel(),
            stride(None, optional=True),
            _ceil_mode(),
        ),
        spatial_dims=2,
        input_ranks=(3,),
        starter=(("kernel_size", 2),),
    ),
    _adaptive("Avg", "Averages over", "average"),
    _adaptive("Max", "Takes the maximum over", "max"),
    _max_pool(1),
    _avg_pool(1),
    _adaptive_nd("Max", "Takes the maximum over", "max", 1),
    _adaptive_nd("Avg", "Averages over", "average", 1),
    _max_pool(3),
    _avg_pool(3),
    _adaptive_nd("Avg", "Averages over", "average", 3),
)

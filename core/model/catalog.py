"""The layer catalog: every layer type ConvScope knows, described as data.

Each entry names a torch.nn class (or one of ConvScope's two merge layers), its constructor
parameters with types, defaults and valid ranges, the group it belongs to, a short explanation for
learners and its output-size formula. Validation, the GUI's palette, property editors and tooltips
all read this one table; nothing else repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ParamKind = Literal["int", "float", "bool", "choice", "ints", "floats", "padding"]
Group = Literal[
    "convolution", "pooling", "normalization", "activation", "regularization", "shape", "merge"
]

GROUPS: tuple[Group, ...] = (
    "convolution",
    "pooling",
    "normalization",
    "activation",
    "regularization",
    "shape",
    "merge",
)


@dataclass(frozen=True)
class ParamSpec:
    """One constructor argument of a layer type, as torch spells it.

    ``kind`` is the value's type: ``ints`` is one integer or a list of ``length`` integers (one per
    spatial dimension when ``length`` is None), ``padding`` is ``ints`` or the strings "same" /
    "valid". ``optional`` means None (JSON null) is allowed and means "not set".
    """

    name: str
    kind: ParamKind
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None
    optional: bool = False
    none_items: bool = False


@dataclass(frozen=True)
class LayerType:
    """A layer type: its torch name, group, parameters and what a learner should know of it."""

    name: str
    group: Group
    summary: str
    formula: str
    params: tuple[ParamSpec, ...]
    spatial_dims: int | None = None
    input_ranks: tuple[int, ...] | None = None
    inferred: str | None = None
    merge: bool = False
    own_module: bool = False
    """A ConvScope module with no torch.nn class of that name (like the merges): Chunk."""
    starter: tuple[tuple[str, Any], ...] = ()
    """Settings a freshly added layer gets for the values torch requires (e.g. kernel_size)."""

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


# ---------------------------------------------------------------------------------------------
# Reusable parameter descriptions.


def _kernel(default: Any = None) -> ParamSpec:
    return ParamSpec(
        "kernel_size",
        "ints",
        default,
        "Size of the sliding window: one number for a square window, or one per dimension.",
        minimum=1,
        maximum=1024,
    )


def _stride(default: Any = 1, *, optional: bool = False) -> ParamSpec:
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


def _pool_padding() -> ParamSpec:
    return ParamSpec(
        "padding",
        "ints",
        0,
        "Implicit padding added on both sides (at most half the kernel size).",
        minimum=0,
        maximum=512,
    )


def _dilation() -> ParamSpec:
    return ParamSpec(
        "dilation",
        "ints",
        1,
        "Spacing between kernel elements; dilation d makes a k-wide kernel cover d·(k−1)+1 inputs.",
        minimum=1,
        maximum=256,
    )


def _ceil_mode() -> ParamSpec:
    return ParamSpec(
        "ceil_mode",
        "bool",
        False,
        "Round the output size up instead of down, so a partial window at the border counts.",
    )


_OUT_CHANNELS = ParamSpec(
    "out_channels",
    "int",
    None,
    "Number of filters, which is the number of output channels (feature maps).",
    minimum=1,
    maximum=65536,
)
_IN_CHANNELS = ParamSpec(
    "in_channels",
    "int",
    None,
    "Input channels; inferred from the incoming shape when left out.",
    minimum=1,
    maximum=65536,
    optional=True,
)
_GROUPS = ParamSpec(
    "groups",
    "int",
    1,
    "Split the channels into groups that are convolved separately; groups = in_channels is a "
    "depth-wise convolution. Must divide both channel counts.",
    minimum=1,
    maximum=65536,
)
_BIAS = ParamSpec("bias", "bool", True, "Add a learnable bias, one per output channel.")
_CONV_PADDING = ParamSpec(
    "padding",
    "padding",
    0,
    'Zeros (or copies, see padding_mode) added around the input. "same" keeps the size '
    '(stride 1 only); "valid" means none.',
    minimum=0,
    maximum=512,
)
_PADDING_MODE = ParamSpec(
    "padding_mode",
    "choice",
    "zeros",
    "What the padding is filled with: zeros, a mirror image (reflect), copies of the edge "
    "(replicate) or the opposite edge (circular).",
    choices=("zeros", "reflect", "replicate", "circular"),
)
_EPS = ParamSpec("eps", "float", 1e-5, "Small number added to the variance to avoid dividing by 0.",
                 minimum=0.0, maximum=1.0)
_MOMENTUM = ParamSpec(
    "momentum",
    "float",
    0.1,
    "Weight of the newest batch in the running mean and variance.",
    minimum=0.0,
    maximum=1.0,
    optional=True,
)
_AFFINE = ParamSpec("affine", "bool", True, "Learn a scale and a shift per channel (2 each).")
_TRACK = ParamSpec(
    "track_running_stats",
    "bool",
    True,
    "Keep running statistics for evaluation (buffers, not parameters).",
)
_NUM_FEATURES = ParamSpec(
    "num_features",
    "int",
    None,
    "Channels to normalise; inferred from the incoming shape when left out.",
    minimum=1,
    maximum=1 << 24,
    optional=True,
)
_DROP_P = ParamSpec(
    "p", "float", 0.5, "Probability of zeroing an element during training.", minimum=0.0,
    maximum=1.0,
)

_CONV_FORMULA = "out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1"
_POOL_FORMULA = _CONV_FORMULA + " (⌈ ⌉ with ceil_mode)"


def _conv(dims: int) -> LayerType:
    shape = {1: "(channels, length)", 2: "(channels, height, width)",
             3: "(channels, depth, height, width)"}[dims]
    what = {1: "a sequence (text, audio, a signal)", 2: "an image",
            3: "a volume or a video (frames × height × width)"}[dims]
    return LayerType(
        name=f"Conv{dims}d",
        group="convolution",
        summary=(
            f"Slides out_channels small learned filters over {what} and outputs one feature map "
            f"per filter. Each output value is a weighted sum of a local window of all input "
            f"channels plus a bias, so the same weights are shared at every position. "
            f"Input {shape}. Parameters: out_channels × (in_channels / groups) × kernel"
            f"{'' if dims == 1 else ' area' if dims == 2 else ' volume'} + out_channels."
        ),
        formula=_CONV_FORMULA,
        params=(_IN_CHANNELS, _OUT_CHANNELS, _kernel(), _stride(), _CONV_PADDING, _dilation(),
                _GROUPS, _BIAS, _PADDING_MODE),
        spatial_dims=dims,
        input_ranks=(dims + 1,),
        inferred="in_channels",
        starter=(("out_channels", 16), ("kernel_size", 3)),
    )


def _pad(name: str, what: str) -> LayerType:
    return LayerType(
        name=name,
        group="shape",
        summary=f"Adds {what} around each feature map. One number pads all four sides; a list "
        "gives (left, right, top, bottom).",
        formula="out_h = in_h + top + bottom; out_w = in_w + left + right",
        params=(
            ParamSpec("padding", "ints", 1, "Padding: one number, or (left, right, top, bottom).",
                      minimum=0, maximum=512, length=4),
        ),
        spatial_dims=2,
        input_ranks=(3,),
    )


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


def _activation(name: str, summary: str, params: tuple[ParamSpec, ...] = ()) -> LayerType:
    return LayerType(
        name=name,
        group="activation",
        summary=summary + " Applied to every element; the shape does not change and there are "
        "no parameters.",
        formula="out shape = in shape",
        params=params,
    )


_CATALOG: tuple[LayerType, ...] = (
    # -- convolution ----------------------------------------------------------------------------
    _conv(1),
    _conv(2),
    _conv(3),
    LayerType(
        name="ConvTranspose2d",
        group="convolution",
        summary="A transposed (\"de-\") convolution: each input value stamps a weighted copy of "
        "the kernel onto a larger output, which makes feature maps bigger. Used to upsample in "
        "segmentation networks (FCN, U-Net). Parameters: in_channels × (out_channels / groups) × "
        "kernel area + out_channels.",
        formula="out = (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1",
        params=(
            _IN_CHANNELS,
            _OUT_CHANNELS,
            _kernel(),
            _stride(),
            ParamSpec("padding", "ints", 0, "Rows and columns removed from each border of the "
                      "output.", minimum=0, maximum=512),
            ParamSpec("output_padding", "ints", 0, "Extra size added to one side of the output; "
                      "must be smaller than the stride or the dilation.", minimum=0, maximum=512),
            _GROUPS,
            _BIAS,
            _dilation(),
        ),
        spatial_dims=2,
        input_ranks=(3,),
        inferred="in_channels",
        starter=(("out_channels", 16), ("kernel_size", 2), ("stride", 2)),
    ),
    # -- pooling ---------------------------------------------------------------------------------
    LayerType(
        name="MaxPool2d",
        group="pooling",
        summary="Keeps the largest value of each window, channel by channel: the feature map "
        "shrinks and small shifts of the input matter less. No parameters.",
        formula=_POOL_FORMULA,
        params=(_kernel(), _stride(None, optional=True), _pool_padding(), _dilation(),
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
            _kernel(),
            _stride(None, optional=True),
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
            _kernel(),
            _stride(None, optional=True),
            _ceil_mode(),
        ),
        spatial_dims=2,
        input_ranks=(3,),
        starter=(("kernel_size", 2),),
    ),
    _adaptive("Avg", "Averages over", "average"),
    _adaptive("Max", "Takes the maximum over", "max"),
    # -- normalization ---------------------------------------------------------------------------
    LayerType(
        name="BatchNorm1d",
        group="normalization",
        summary="Normalises each feature to zero mean and unit variance over the batch, then "
        "scales and shifts it with 2 learned numbers per feature. Input (features) or "
        "(channels, length).",
        formula="out shape = in shape",
        params=(_NUM_FEATURES, _EPS, _MOMENTUM, _AFFINE, _TRACK),
        input_ranks=(1, 2),
        inferred="num_features",
    ),
    LayerType(
        name="BatchNorm2d",
        group="normalization",
        summary="Normalises each channel to zero mean and unit variance over the batch and all "
        "positions, then scales and shifts it with 2 learned numbers per channel. Lets deep "
        "networks train faster.",
        formula="out shape = in shape",
        params=(_NUM_FEATURES, _EPS, _MOMENTUM, _AFFINE, _TRACK),
        input_ranks=(3,),
        inferred="num_features",
    ),
    LayerType(
        name="LocalResponseNorm",
        group="normalization",
        summary="Divides each value by a power of the sum of squares of its neighbours across "
        "size adjacent channels (AlexNet's lateral inhibition). No parameters.",
        formula="out shape = in shape",
        params=(
            ParamSpec("size", "int", 5, "Number of neighbouring channels used.", minimum=1,
                      maximum=1024),
            ParamSpec("alpha", "float", 1e-4, "Multiplicative factor.", minimum=0.0,
                      maximum=1e6),
            ParamSpec("beta", "float", 0.75, "Exponent.", minimum=0.0, maximum=100.0),
            ParamSpec("k", "float", 1.0, "Additive constant.", minimum=0.0, maximum=1e6),
        ),
        input_ranks=(2, 3, 4),
    ),
    # -- activation ------------------------------------------------------------------------------
    _activation("ReLU", "Rectified linear unit: max(0, x). Negative values become 0."),
    _activation(
        "LeakyReLU",
        "Like ReLU but negative values are multiplied by a small slope instead of zeroed.",
        (ParamSpec("negative_slope", "float", 0.01, "Slope for negative inputs.",
                   minimum=0.0, maximum=1.0),),
    ),
    _activation("ReLU6", "ReLU capped at 6: min(max(0, x), 6)."),
    _activation(
        "ELU",
        "Exponential linear unit: x for x > 0, α·(eˣ − 1) otherwise.",
        (ParamSpec("alpha", "float", 1.0, "Value approached for very negative inputs.",
                   minimum=0.0, maximum=100.0),),
    ),
    _activation(
        "GELU",
        "Gaussian error linear unit: x·Φ(x), a smooth ReLU used by transformers.",
        (ParamSpec("approximate", "choice", "none", "Exact or tanh approximation.",
                   choices=("none", "tanh")),),
    ),
    _activation("Sigmoid", "Squashes any value into (0, 1): 1 / (1 + e⁻ˣ)."),
    _activation("Tanh", "Squashes any value into (−1, 1)."),
    LayerType(
        name="Softmax",
        group="activation",
        summary="Turns a vector of scores into probabilities that sum to 1 along dim. Usually "
        "the last layer of a classifier (leave it out when training with cross-entropy, which "
        "applies it itself). No parameters.",
        formula="out shape = in shape",
        params=(
            ParamSpec("dim", "int", 1, "Dimension that sums to 1, counting the batch as "
                      "dimension 0 (1 = channels or features).", minimum=-8, maximum=8),
        ),
    ),
    # -- regularization --------------------------------------------------------------------------
    LayerType(
        name="Dropout",
        group="regularization",
        summary="During training, zeroes each value with probability p and scales the rest by "
        "1/(1−p), so the network cannot rely on any single unit. Does nothing at evaluation.",
        formula="out shape = in shape",
        params=(_DROP_P,),
    ),
    LayerType(
        name="Dropout2d",
        group="regularization",
        summary="During training, zeroes whole channels (feature maps) with probability p. "
        "Better suited to convolutional features, whose neighbouring values are correlated.",
        formula="out shape = in shape",
        params=(_DROP_P,),
        input_ranks=(3,),
    ),
    # -- shape -----------------------------------------------------------------------------------
    LayerType(
        name="Flatten",
        group="shape",
        summary="Unrolls a feature-map volume into one long vector so dense (Linear) layers can "
        "follow. Positions are kept only implicitly. No parameters.",
        formula="out = product of the flattened dimensions (e.g. C·H·W)",
        params=(
            ParamSpec("start_dim", "int", 1, "First dimension to flatten, counting the batch as "
                      "dimension 0.", minimum=-8, maximum=8),
            ParamSpec("end_dim", "int", -1, "Last dimension to flatten (−1 = the last).",
                      minimum=-8, maximum=8),
        ),
    ),
    LayerType(
        name="Linear",
        group="shape",
        summary="A dense (fully connected) layer: every output is a weighted sum of all inputs "
        "plus a bias. Parameters: in_features × out_features + out_features, which is why dense "
        "layers on images are so large.",
        formula="out = out_features (applied to the last dimension)",
        params=(
            ParamSpec("in_features", "int", None, "Input size; inferred from the incoming shape "
                      "when left out.", minimum=1, maximum=1 << 40, optional=True),
            ParamSpec("out_features", "int", None, "Number of outputs (units).", minimum=1,
                      maximum=1 << 30),
            _BIAS,
        ),
        input_ranks=(1, 2, 3, 4),
        inferred="in_features",
        starter=(("out_features", 10),),
    ),
    LayerType(
        name="Upsample",
        group="shape",
        summary="Enlarges feature maps by repeating (nearest) or interpolating (bilinear) values. "
        "Give either size or scale_factor. No parameters.",
        formula="out = ⌊in × scale_factor⌋, or size",
        params=(
            ParamSpec("size", "ints", None, "Output size (one number or one per dimension).",
                      minimum=1, maximum=65536, optional=True),
            ParamSpec("scale_factor", "floats", None, "Multiplier for the size.",
                      minimum=1e-3, maximum=1024.0, optional=True),
            ParamSpec("mode", "choice", "nearest", "How new values are computed.",
                      choices=("nearest", "linear", "bilinear", "bicubic", "trilinear")),
            ParamSpec("align_corners", "bool", None, "For linear modes: align the corner pixels "
                      "of input and output.", optional=True),
        ),
        input_ranks=(2, 3, 4),
        starter=(("scale_factor", 2),),
    ),
    _pad("ZeroPad2d", "rows and columns of zeros"),
    _pad("ReflectionPad2d", "a mirror image of the border (without repeating the edge)"),
    _pad("ReplicationPad2d", "copies of the edge pixels"),
    LayerType(
        name="Identity",
        group="shape",
        summary="Passes its input through unchanged; a placeholder.",
        formula="out shape = in shape",
        params=(),
    ),
    # -- merge -----------------------------------------------------------------------------------
    LayerType(
        name="Add",
        group="merge",
        summary="Adds two or more inputs of the same shape element by element: the skip "
        "connection of a residual network (ResNet). List the layers in inputs. No parameters.",
        formula="out shape = each input's shape (all equal)",
        params=(),
        merge=True,
    ),
    LayerType(
        name="Concat",
        group="merge",
        summary="Stacks two or more inputs along the channels (U-Net, Inception). Heights and "
        "widths must be equal. List the layers in inputs. No parameters.",
        formula="out channels = sum of the input channels; other dimensions unchanged",
        params=(),
        merge=True,
    ),
)

_CATALOG += (
    # -- added for importing torchvision models (EfficientNet, MobileNet v3, ShuffleNet, RegNet) --
    _activation(
        "SiLU",
        "Sigmoid-weighted linear unit (swish): x·σ(x) = x / (1 + e⁻ˣ). Smooth, lets small "
        "negative values through; EfficientNet's activation.",
    ),
    _activation(
        "Hardswish",
        "A cheap swish: x·ReLU6(x + 3) / 6. Pieces of straight lines instead of an exponential, "
        "so it is fast on phones; MobileNet v3's activation.",
    ),
    _activation(
        "Hardsigmoid",
        "A cheap sigmoid: ReLU6(x + 3) / 6, a straight ramp from 0 (x ≤ −3) to 1 (x ≥ 3). "
        "MobileNet v3 uses it for its squeeze-and-excitation gates.",
    ),
    LayerType(
        name="ChannelShuffle",
        group="shape",
        summary="Splits the channels into groups and interleaves them (channel c of group g "
        "moves next to channel c of the other groups), so that the next grouped convolution "
        "sees every group: ShuffleNet's trick. Only the order of the channels changes. No "
        "parameters.",
        formula="out shape = in shape (channels must divide into groups)",
        params=(
            ParamSpec("groups", "int", 2, "Number of groups to interleave; must divide the "
                      "channels.", minimum=1, maximum=65536),
        ),
        starter=(("groups", 2),),
    ),
    LayerType(
        name="Chunk",
        group="shape",
        summary="Cuts the channels into chunks equal parts and keeps part index (torch.chunk "
        "along the channels): ShuffleNet v2 sends one half of the channels through a branch and "
        "the other past it. The parts have ⌈channels / chunks⌉ channels, the last one fewer. No "
        "parameters.",
        formula="out channels = min(⌈C / chunks⌉, C − index·⌈C / chunks⌉); other dimensions "
        "unchanged",
        params=(
            ParamSpec("chunks", "int", 2, "Number of parts the channels are cut into.",
                      minimum=1, maximum=65536),
            ParamSpec("index", "int", 0, "Which part to keep, counting from 0.", minimum=0,
                      maximum=65535),
        ),
        own_module=True,
    ),
    LayerType(
        name="Mul",
        group="merge",
        summary="Multiplies two or more inputs element by element. Sizes must be equal or 1: a "
        "C×1×1 gate scales each channel of a C×H×W feature map, which is how "
        "squeeze-and-excitation re-weights channels (MobileNet v3, EfficientNet, RegNet). List "
        "the layers in inputs. No parameters.",
        formula="out = the broadcast shape: each dimension the size that is not 1",
        params=(),
        merge=True,
    ),
)

CATALOG: dict[str, LayerType] = {t.name: t for t in _CATALOG}
KERNEL_TYPES: tuple[str, ...] = tuple(t.name for t in _CATALOG if t.group == "convolution")
"""Layer types with learned kernels (what filter views and snapshots show)."""


def layer_type(name: str) -> LayerType:
    """The catalog entry for ``name``; KeyError for a name ConvScope does not know."""
    return CATALOG[name]


def types_in_group(group: Group) -> tuple[LayerType, ...]:
    return tuple(t for t in _CATALOG if t.group == group)

"""Convolutions: 1-D, 2-D, 3-D, transposed and locally connected (no weight sharing)."""

from __future__ import annotations

from core.model.catalog.arguments import BIAS, CONV_FORMULA, dilation, kernel, stride
from core.model.catalog.entry import LayerType, ParamSpec

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
        formula=CONV_FORMULA,
        params=(_IN_CHANNELS, _OUT_CHANNELS, kernel(), stride(), _CONV_PADDING, dilation(),
                _GROUPS, BIAS, _PADDING_MODE),
        spatial_dims=dims,
        input_ranks=(dims + 1,),
        inferred="in_channels",
        starter=(("out_channels", 16), ("kernel_size", 3)),
    )


ENTRIES: tuple[LayerType, ...] = (
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
            kernel(),
            stride(),
            ParamSpec("padding", "ints", 0, "Rows and columns removed from each border of the "
                      "output.", minimum=0, maximum=512),
            ParamSpec("output_padding", "ints", 0, "Extra size added to one side of the output; "
                      "must be smaller than the stride or the dilation.", minimum=0, maximum=512),
            _GROUPS,
            BIAS,
            dilation(),
        ),
        spatial_dims=2,
        input_ranks=(3,),
        inferred="in_channels",
        starter=(("out_channels", 16), ("kernel_size", 2), ("stride", 2)),
    ),
    LayerType(
        name="LocallyConnected2d",
        group="convolution",
        summary="Like a convolution, each output looks at a small window of the input, but every "
        "position has its own kernel and bias: no weight sharing (the lecture's local receptive "
        "fields). It keeps locality but loses translation invariance and needs far more "
        "parameters: out_h × out_w × (out_channels × in_channels × kernel area + out_channels). "
        "No padding, no dilation. Not a torch.nn class: ConvScope builds it itself.",
        formula="out = ⌊(in − kernel) / stride⌋ + 1; params = out_h·out_w·(out_channels·"
        "in_channels·kh·kw + out_channels)",
        params=(_IN_CHANNELS, _OUT_CHANNELS, kernel(), stride(), BIAS),
        spatial_dims=2,
        input_ranks=(3,),
        inferred="in_channels",
        starter=(("out_channels", 4), ("kernel_size", 3)),
    ),
)

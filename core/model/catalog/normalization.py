"""Normalization: batch, group, instance and layer normalization, and AlexNet's local response
normalization."""

from __future__ import annotations

from core.model.catalog.entry import LayerType, ParamSpec

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


_NUM_CHANNELS = ParamSpec(
    "num_channels",
    "int",
    None,
    "Channels to normalise; inferred from the incoming shape when left out.",
    minimum=1,
    maximum=1 << 24,
    optional=True,
)

ENTRIES: tuple[LayerType, ...] = (
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
    # issue 18: what a CNN explorer should have (and ONNX, ConvNeXt and GAN models use)
    LayerType(
        name="BatchNorm3d",
        group="normalization",
        summary="Batch normalization for volumes and videos: each channel is normalised to zero "
        "mean and unit variance over the batch and every depth, height and width position, then "
        "scaled and shifted with 2 learned numbers per channel. Input (channels, depth, height, "
        "width).",
        formula="out shape = in shape",
        params=(_NUM_FEATURES, _EPS, _MOMENTUM, _AFFINE, _TRACK),
        input_ranks=(4,),
        inferred="num_features",
    ),
    LayerType(
        name="GroupNorm",
        group="normalization",
        summary="Splits the channels into num_groups groups and normalises each group of each "
        "image on its own (over its channels and positions), then scales and shifts every "
        "channel with 2 learned numbers. Unlike batch normalization it does not depend on the "
        "batch, so it works with batches of 1 or 2. num_groups = 1 normalises all channels "
        "together; num_groups = channels normalises each channel alone (instance "
        "normalization). Parameters: 2 × channels.",
        formula="out shape = in shape (num_groups must divide the channels)",
        params=(
            ParamSpec("num_groups", "int", None, "Number of channel groups normalised "
                      "separately; must divide the channels (32 in the paper).", minimum=1,
                      maximum=1 << 24),
            _NUM_CHANNELS,
            _EPS,
            _AFFINE,
        ),
        input_ranks=(1, 2, 3, 4),
        inferred="num_channels",
        starter=(("num_groups", 1),),
    ),
    LayerType(
        name="InstanceNorm2d",
        group="normalization",
        summary="Normalises each channel of each image on its own to zero mean and unit "
        "variance over its height and width: the image's contrast is removed, which style "
        "transfer and GANs want. No learned numbers unless affine (then 2 per channel). The "
        "feature map needs more than one position.",
        formula="out shape = in shape",
        params=(
            _NUM_FEATURES,
            _EPS,
            ParamSpec("momentum", "float", 0.1, "Weight of the newest batch in the running "
                      "statistics (only with track_running_stats).", minimum=0.0, maximum=1.0,
                      optional=True),
            ParamSpec("affine", "bool", False, "Learn a scale and a shift per channel (2 "
                      "each)."),
            ParamSpec("track_running_stats", "bool", False, "Keep running statistics and use "
                      "them at evaluation instead of each image's own."),
        ),
        input_ranks=(3,),
        inferred="num_features",
    ),
    LayerType(
        name="LayerNorm2d",
        group="normalization",
        summary="Layer normalization over the channels: at every position, the channel values "
        "are normalised to zero mean and unit variance, then each channel is scaled and shifted "
        "by its learned numbers (ConvNeXt's normalization, torchvision's LayerNorm2d). It does "
        "not depend on the batch. Parameters: 2 × channels (weight and bias). Not a torch.nn "
        "class: ConvScope builds it itself.",
        formula="out shape = in shape",
        params=(
            ParamSpec("normalized_shape", "int", None, "Channels to normalise; inferred from "
                      "the incoming shape when left out.", minimum=1, maximum=1 << 24,
                      optional=True),
            _EPS,
            ParamSpec("elementwise_affine", "bool", True, "Learn a scale per channel (and a "
                      "shift, see bias)."),
            ParamSpec("bias", "bool", True, "With elementwise_affine: learn the shift too."),
        ),
        input_ranks=(3,),
        inferred="normalized_shape",
        own_module=True,
    ),
    LayerType(
        name="LayerScale",
        group="normalization",
        summary="Layer scale: multiplies each channel by its own learned number, which starts "
        "tiny (1e-6 in ConvNeXt), so a residual block begins as almost the identity and learns "
        "how much to add. ConvNeXt's layer_scale (a per-channel Mul with its own parameter). "
        "Parameters: one per channel. Not a torch.nn class: ConvScope builds it itself.",
        formula="out shape = in shape; out[c] = scale[c] · in[c]",
        params=(
            ParamSpec("channels", "int", None, "Channels to scale; inferred from the incoming "
                      "shape when left out.", minimum=1, maximum=1 << 24, optional=True),
            ParamSpec("init", "float", 1e-6, "The scales' starting value.", minimum=-100.0,
                      maximum=100.0),
        ),
        input_ranks=(3,),
        inferred="channels",
        own_module=True,
    ),
)

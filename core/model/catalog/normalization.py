"""Normalization: batch normalization and AlexNet's local response normalization."""

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
)

"""Regularization: dropout of values or of whole channels."""

from __future__ import annotations

from core.model.catalog.entry import LayerType, ParamSpec

_DROP_P = ParamSpec(
    "p", "float", 0.5, "Probability of zeroing an element during training.", minimum=0.0,
    maximum=1.0,
)


ENTRIES: tuple[LayerType, ...] = (
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
)

"""A linear classifier's weights as class templates (lecture 001): a Linear layer that reads the
image, straight or after Flatten (and layers that keep each value where it is), has one weight
per input value for each output unit, so each unit's weights are an image of the input's shape.
Decided from the model analysis alone, before anything is built."""

from __future__ import annotations

import math

from core.analysis.model_analysis import ModelAnalysis
from core.model.catalog import KERNEL_TYPES
from core.model.spec import INPUT

Shape = tuple[int, ...]

_MIXING = frozenset({"Linear", "ChannelShuffle", "Transpose", "Softmax", "Embedding",
                     *KERNEL_TYPES})
"""Shape-preserving layers that still move or mix values: past one, a weight no longer sits
over one input pixel."""


def _keeps_place(analysis: ModelAnalysis, name: str) -> str | None:
    """The single layer (or INPUT) ``name`` reads when it keeps every value in its place."""
    layer = analysis.get(name)
    if layer is None or layer.type in _MIXING or len(layer.input_shapes) != 1 \
            or layer.output_shape != layer.input_shapes[0]:
        return None
    index = analysis.spec.index(name)
    return analysis.spec.inputs_of(index)[0]


def template_shape(analysis: ModelAnalysis, layer: str) -> Shape | None:
    """The input image's shape (C, H, W) when ``layer`` is a Linear whose weights are one
    image per output unit, else None."""
    found = analysis.get(layer)
    if found is None or found.type != "Linear" or len(found.input_shapes) != 1:
        return None
    width = found.input_shapes[0]
    if len(width) != 1:
        return None  # a Linear on (C, H, W) weighs the last axis only
    source = analysis.spec.inputs_of(analysis.spec.index(layer))[0]
    flattened = False
    while source != INPUT:
        step = analysis.get(source)
        if step is None:
            return None
        if step.type == "Flatten" and not flattened and len(step.input_shapes) == 1 \
                and step.output_shape == (math.prod(step.input_shapes[0]),):
            flattened = True
            source = analysis.spec.inputs_of(analysis.spec.index(source))[0]
            continue
        after = _keeps_place(analysis, source)
        if after is None:
            return None
        source = after
    image = analysis.spec.input_shape
    if math.prod(image) != width[0] or len(image) not in (2, 3):
        return None
    return image if len(image) == 3 else (image[0], 1, image[1])


def template_layers(analysis: ModelAnalysis) -> list[str]:
    """The Linear layers whose weights can be drawn as images of the input."""
    return [layer.name for layer in analysis.spec.layers
            if template_shape(analysis, layer.name) is not None]

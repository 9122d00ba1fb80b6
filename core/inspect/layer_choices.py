"""Which layers a dream or a style reads, from the model's analysis alone (no torch, so the
window can fill its lists before anything is built)."""

from __future__ import annotations

from core.analysis.model_analysis import ModelAnalysis
from core.model.spec import ModelSpec

ACTIVATIONS = ("ReLU", "LeakyReLU", "GELU", "SiLU", "ELU", "Tanh")


def feature_map_layers(analysis: ModelAnalysis) -> list[str]:
    """Layers whose output is a feature map (C, H, W)."""
    return [info.name for info in analysis.layers if len(info.output_shape) == 3]


def default_dream_layer(spec: ModelSpec, analysis: ModelAnalysis) -> str | None:
    """The activation about two thirds of the way through the feature-map layers (VGG-16:
    relu4_2); None when the model has no feature maps."""
    choices = feature_map_layers(analysis)
    if not choices:
        return None
    types = {layer.name: layer.type for layer in spec.layers}
    index = min(len(choices) - 1, (2 * len(choices)) // 3)
    for name in reversed(choices[:index + 1]):
        if types[name] in ACTIVATIONS:
            return name
    return choices[index]


def default_style_layers(spec: ModelSpec, analysis: ModelAnalysis
                         ) -> tuple[str, tuple[str, ...]] | None:
    """Gatys's choice, found by structure: style from the first activation (else the first
    convolution) of each resolution, up to five (VGG: relu1_1 … relu5_1); content the second
    activation of the fourth resolution (VGG: relu4_2), or of the deepest one there is. None
    when the model has no feature maps."""
    stages: list[list[str]] = []
    size: tuple[int, ...] | None = None
    for info in analysis.layers:
        if len(info.output_shape) != 3:
            continue
        if info.output_shape[1:] != size:
            stages.append([])
            size = info.output_shape[1:]
        stages[-1].append(info.name)
    types = {layer.name: layer.type for layer in spec.layers}
    picked: list[list[str]] = []
    for stage in stages:
        activations = [name for name in stage if types[name] in ACTIVATIONS]
        convs = [name for name in stage if types[name].startswith("Conv")]
        if activations or convs:
            picked.append(activations or convs)
    if not picked:
        return None
    style = tuple(stage[0] for stage in picked[:5])
    stage = picked[min(3, len(picked) - 1)]
    return (stage[1] if len(stage) > 1 else stage[0]), style

"""The analysis that reuses an earlier one after an edit equals a fresh analysis."""

from __future__ import annotations

import random

import pytest

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.model import editing
from core.model.errors import ModelError
from core.model.spec import ModelSpec
from core.presets import load_preset


def _same(a: ModelAnalysis, b: ModelAnalysis) -> None:
    assert a.layers == b.layers
    assert (a.error is None) == (b.error is None)
    if a.error is not None and b.error is not None:
        assert (a.error.layer, str(a.error)) == (b.error.layer, str(b.error))


def _random_edit(spec: ModelSpec, rng: random.Random) -> ModelSpec:
    layer = rng.choice(spec.layers)
    kind = rng.randrange(7)
    if kind == 6:
        return editing.rename_layer(spec, layer.name, f"{layer.name}_r")
    if kind == 0 and "out_channels" in layer.params:
        return editing.set_param(spec, layer.name, "out_channels", rng.choice([8, 16, 64, 512]))
    if kind == 1 and "kernel_size" in layer.params:
        return editing.set_param(spec, layer.name, "kernel_size", rng.choice([1, 3, 7, 40]))
    if kind == 2:
        return editing.move_layer(spec, layer.name, rng.randrange(len(spec.layers)))
    if kind == 3:
        return editing.remove_layers(spec, [layer.name])
    if kind == 4:
        return editing.set_input_shape(spec, (spec.input_shape[0], *(
            rng.choice([16, 32, 224]) for _ in spec.input_shape[1:])))
    return editing.set_trainable(spec, layer.name, not layer.trainable)


@pytest.mark.parametrize("key", ["digits_small", "resnet18", "unet_small", "alexnet"])
def test_reusing_the_previous_analysis_gives_the_fresh_result(key: str) -> None:
    rng = random.Random(key)
    spec = load_preset(key)
    analysis = analyze_model(spec)
    for _ in range(60):
        try:
            after = _random_edit(spec, rng)
        except ModelError:
            continue
        if not after.layers:
            break
        incremental = analyze_model(after, previous=analysis)
        _same(incremental, analyze_model(after))
        spec, analysis = after, incremental


def test_an_edit_recomputes_only_the_layers_it_affects() -> None:
    spec = load_preset("resnet18")
    before = analyze_model(spec)
    after = analyze_model(editing.set_param(spec, "layer3_0_conv1", "out_channels", 128),
                          previous=before)
    assert after.ok
    recomputed = [b.name for a, b in zip(before.layers, after.layers, strict=True)
                  if a is not b]
    # the conv, then what reads its 128 channels; conv2 is back to 256, so nothing after it
    assert recomputed == ["layer3_0_conv1", "layer3_0_bn1", "layer3_0_relu1", "layer3_0_conv2"]
    conv2 = after.get("layer3_0_conv2")
    assert conv2 is not None and conv2.input_shapes == ((128, 14, 14),)

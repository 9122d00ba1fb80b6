"""The catalog is faithful to torch: every type's names, defaults and behaviour, one harness."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import torch
from torch import nn

from core.analysis.model_analysis import analyze_model
from core.build import CUSTOM_MODULES, build_model, example_input
from core.model.catalog import CATALOG, GROUPS, types_in_group
from core.model.params import check_params
from core.model.spec import FORMAT, model_from_dict

# An input shape for every type whose input is not (channels, height, width).
INPUTS: dict[str, list[int]] = {
    "Conv1d": [2, 10], "Conv3d": [2, 5, 6, 6], "Linear": [12], "BatchNorm1d": [6],
    "ChannelShuffle": [4, 6, 6],
    # the lectures' text and video networks (issue 12)
    "Embedding": [7], "Transpose": [5, 3], "MaxPool1d": [2, 10], "AvgPool1d": [2, 10],
    "AdaptiveMaxPool1d": [2, 10], "AdaptiveAvgPool1d": [2, 10], "MaxPool3d": [2, 5, 6, 6],
    "AvgPool3d": [2, 5, 6, 6], "AdaptiveAvgPool3d": [2, 5, 6, 6],
    # issue 18
    "BatchNorm3d": [2, 5, 6, 6], "PixelShuffle": [8, 3, 3], "GroupNorm": [6, 4, 4],
}
TOKEN_INPUT = {"Embedding"}
"""Types whose example input is integer token ids."""
# Where ConvScope's default differs from torch's on purpose.
DELIBERATE = {("Softmax", "dim"): "torch's implicit dim is deprecated; channels (1) is meant",
              ("LogSoftmax", "dim"): "torch's implicit dim is deprecated; channels (1) is meant"}
INFERRED_OR_REQUIRED = {"in_channels", "out_channels", "kernel_size", "in_features",
                        "out_features", "num_features", "num_channels", "num_groups",
                        "upscale_factor", "normalized_shape"}


def test_groups_cover_the_catalog() -> None:
    assert sum(len(types_in_group(g)) for g in GROUPS) == len(CATALOG)
    for group in GROUPS:
        assert types_in_group(group), group


def test_catalog_has_every_required_type() -> None:
    required = {
        "Conv1d", "Conv2d", "Conv3d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "LPPool2d",
        "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "BatchNorm1d", "BatchNorm2d",
        "LocalResponseNorm", "Dropout", "Dropout2d", "Flatten", "Linear", "ReLU", "LeakyReLU",
        "ReLU6", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "Upsample", "ZeroPad2d",
        "ReflectionPad2d", "ReplicationPad2d", "Identity", "Add", "Concat",
        # for importing torchvision models (issue 10)
        "Mul", "SiLU", "Hardswish", "Hardsigmoid", "ChannelShuffle", "Chunk",
        # the lectures' text and video networks (issue 12)
        "Embedding", "MaxPool1d", "AvgPool1d", "AdaptiveMaxPool1d", "AdaptiveAvgPool1d",
        "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d",
        # what a CNN explorer should have (issue 18)
        "BatchNorm3d", "PReLU", "PixelShuffle", "LogSoftmax", "SELU", "Softplus", "GroupNorm",
        "LayerNorm2d", "InstanceNorm2d"}
    assert required <= set(CATALOG)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_entry_is_documented_and_spelled_as_torch_spells_it(name: str) -> None:
    entry = CATALOG[name]
    assert len(entry.summary) > 40 and entry.formula
    for spec in entry.params:
        assert spec.help, (name, spec.name)
        if spec.kind == "choice":
            assert spec.default in spec.choices
    if entry.merge or entry.own_module:
        return
    signature = inspect.signature(CUSTOM_MODULES.get(name) or getattr(nn, name))
    for spec in entry.params:
        assert spec.name in signature.parameters, f"torch.nn.{name} has no {spec.name}"
        torch_default = signature.parameters[spec.name].default
        if spec.name in INFERRED_OR_REQUIRED or (name, spec.name) in DELIBERATE:
            continue
        if torch_default is inspect.Parameter.empty:
            continue  # torch requires it; ConvScope may offer a default (global pooling, p=2)
        assert spec.default == torch_default, (name, spec.name, spec.default, torch_default)


def _example(name: str) -> dict[str, Any]:
    """The type with only its starter settings, as the palette adds it."""
    settings = dict(CATALOG[name].starter)
    shape = INPUTS.get(name, [3, 6, 6])
    if CATALOG[name].merge:
        layers = [{"type": "ReLU", "name": "a"}, {"type": "Tanh", "name": "b", "inputs": ["input"]},
                  {"type": name, "name": "under_test", "inputs": ["a", "b"]}]
    else:
        layers = [{"type": name, "name": "under_test", **settings}]
    data_input: dict[str, Any] = {"shape": shape}
    if name in TOKEN_INPUT:
        data_input["dtype"] = "int64"
    return {"format": FORMAT, "name": name, "input": data_input, "layers": layers}


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_every_type_builds_runs_and_round_trips(name: str) -> None:
    """Keras's run_layer_test idea: build, shape, weights and save/load for every layer type."""
    spec = model_from_dict(_example(name))
    analysis = analyze_model(spec)
    assert analysis.ok, analysis.error
    layer = analysis.get("under_test")
    model = build_model(spec).eval()
    with torch.no_grad():
        out = model(example_input(spec, 2))
    assert tuple(out.shape[1:]) == layer.output_shape
    assert sum(p.numel() for p in model.layers["under_test"].parameters()) == layer.params
    assert model_from_dict(spec.to_dict()) == spec
    assert check_params(CATALOG[name], spec.layers[-1].params, "x") == layer.settings


def test_mul_scales_each_channel_by_a_broadcast_gate() -> None:
    """Squeeze-and-excitation: a C×1×1 gate times a C×H×W map is a C×H×W map."""
    spec = model_from_dict({"format": FORMAT, "name": "se", "input": {"shape": [4, 5, 5]},
                            "layers": [
                                {"type": "AdaptiveAvgPool2d", "name": "squeeze"},
                                {"type": "Sigmoid", "name": "gate"},
                                {"type": "Mul", "name": "scale", "inputs": ["input", "gate"]}]})
    analysis = analyze_model(spec)
    assert analysis.ok and analysis.get("scale").output_shape == (4, 5, 5)
    x = torch.randn(2, 4, 5, 5)
    out = build_model(spec)(x)
    assert torch.allclose(out, x * torch.sigmoid(x.mean((2, 3), keepdim=True)))
    bad = model_from_dict({"format": FORMAT, "name": "bad", "input": {"shape": [4, 5, 5]},
                           "layers": [
                               {"type": "Conv2d", "name": "c", "out_channels": 3,
                                "kernel_size": 1},
                               {"type": "Mul", "name": "bad", "inputs": ["c", "input"]}]})
    error = analyze_model(bad).error
    assert error is not None and error.layer == "bad" and "equal or 1" in str(error)


def test_chunk_and_channel_shuffle_match_torch() -> None:
    spec = model_from_dict({"format": FORMAT, "name": "shuffle", "input": {"shape": [6, 3, 3]},
                            "layers": [
                                {"type": "Chunk", "name": "left", "chunks": 2, "index": 0},
                                {"type": "Chunk", "name": "right", "chunks": 2, "index": 1,
                                 "inputs": ["input"]},
                                {"type": "Concat", "name": "cat", "inputs": ["right", "left"]},
                                {"type": "ChannelShuffle", "name": "shuffle", "groups": 3}]})
    x = torch.randn(2, 6, 3, 3)
    a, b = x.chunk(2, dim=1)
    expected = nn.ChannelShuffle(3)(torch.cat([b, a], 1))
    assert torch.equal(build_model(spec)(x), expected)
    error = analyze_model(spec.with_layers([spec.layers[0].with_params(chunks=4, index=3)])).error
    assert error is not None and "index 3 does not exist" in str(error)

"""The layers issue 18 adds (BatchNorm3d, GroupNorm, InstanceNorm2d, LayerNorm2d, PReLU, SELU,
Softplus, LogSoftmax, PixelShuffle): shapes and parameter counts equal torch's for random
settings, refusals where torch refuses, save/load, torch.fx import and PyTorch code export."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from core.analysis.explain import explain_layer
from core.analysis.model_analysis import analyze_model
from core.build import build_model
from core.io.export import export_model
from core.io.fx_import import import_module
from core.model.errors import LayerError
from core.model.spec import FORMAT, load_model, model_from_dict, save_model
from core.weights import apply_weights
from tests.core.torch_reference import run_reference

NEW = ("BatchNorm3d", "GroupNorm", "InstanceNorm2d", "LayerNorm2d", "PReLU", "SELU", "Softplus",
       "LogSoftmax", "PixelShuffle")


@st.composite
def new_layer(draw: Any) -> dict[str, Any]:
    """One new layer with random settings on a small input of a rank it may or may not take."""
    kind = draw(st.sampled_from(NEW))
    rank = 4 if kind == "BatchNorm3d" else draw(st.sampled_from([1, 2, 3, 3, 3]))
    channels = draw(st.integers(1, 12))
    shape = [channels] + [draw(st.integers(1, 5)) for _ in range(rank - 1)]
    layer: dict[str, Any] = {"type": kind, "name": "only"}
    if kind in ("BatchNorm3d", "GroupNorm", "InstanceNorm2d") and draw(st.booleans()):
        layer["affine"] = draw(st.booleans())
    if kind in ("BatchNorm3d", "GroupNorm", "InstanceNorm2d", "LayerNorm2d") and draw(
            st.booleans()):
        layer["eps"] = draw(st.sampled_from([1e-6, 1e-3]))
    if kind == "GroupNorm":
        layer["num_groups"] = draw(st.integers(1, 6))
    elif kind == "InstanceNorm2d":
        if draw(st.booleans()):
            layer["track_running_stats"] = True
            # torch's evaluation with running statistics takes a 1×1 map; training never
            # does, and the analysis (which must hold for training too) refuses it
            shape[1:] = [max(2, n) for n in shape[1:]]
    elif kind == "LayerNorm2d":
        if draw(st.booleans()):
            layer["elementwise_affine"] = False
        if draw(st.booleans()):
            layer["bias"] = False
    elif kind == "PReLU":
        layer["num_parameters"] = draw(st.sampled_from([1, channels, channels + 1]))
        layer["init"] = draw(st.sampled_from([0.25, -0.5]))
    elif kind == "Softplus":
        layer["beta"] = draw(st.sampled_from([0.5, 1.0, 3.0]))
        layer["threshold"] = draw(st.sampled_from([1.0, 20.0]))
    elif kind == "LogSoftmax":
        layer["dim"] = draw(st.sampled_from([1, 2, 3, -1, -2, 5, -6]))
    elif kind == "PixelShuffle":
        layer["upscale_factor"] = draw(st.integers(1, 3))
        if draw(st.booleans()):
            shape[0] = layer["upscale_factor"] ** 2 * draw(st.integers(1, 3))
    return {"format": FORMAT, "name": "one", "input": {"shape": shape}, "layers": [layer]}


@settings(max_examples=300, deadline=None)
@given(new_layer())
def test_new_layers_agree_with_torch(data: dict[str, Any]) -> None:
    spec = model_from_dict(data)
    analysis = analyze_model(spec)
    if spec.layers[0].type in ("PixelShuffle", "InstanceNorm2d") and len(spec.input_shape) != 3:
        # torch shuffles any tensor's last three dimensions and reads a 3-D tensor as one
        # unbatched image, the batch among them; ConvScope takes (channels, height, width)
        # only, on purpose
        assert analysis.error is not None and "(channels, height, width)" in str(analysis.error)
        return
    ndim = len(spec.input_shape) + 1
    if spec.layers[0].type == "LogSoftmax" and data["layers"][0]["dim"] in (0, -ndim):
        # torch normalises across the batch; ConvScope refuses that, on purpose
        assert analysis.error is not None and "is the batch" in str(analysis.error)
        return
    reference = run_reference(spec)
    if reference.refused_at is None:
        assert analysis.error is None, f"torch accepts, analysis says {analysis.error}"
        layer = analysis.layers[0]
        assert (layer.output_shape, layer.params) == (reference.shapes[0], reference.params[0])
        net = build_model(spec).eval()
        with torch.no_grad():
            out = net(torch.randn(2, *spec.input_shape))
        assert tuple(out.shape[1:]) == layer.output_shape
        assert sum(p.numel() for p in net.parameters()) == layer.params
        assert explain_layer(layer)
    else:
        assert isinstance(analysis.error, LayerError), reference.reason
        assert isinstance(analysis.error, ValueError) and analysis.error.layer == "only"


def test_refusals_name_the_setting_and_the_numbers() -> None:
    def error(shape: list[int], **layer: Any) -> str:
        spec = model_from_dict({"format": FORMAT, "name": "x", "input": {"shape": shape},
                                "layers": [{"name": "bad", **layer}]})
        found = analyze_model(spec).error
        assert found is not None and found.layer == "bad"
        return str(found)

    assert "num_groups = 4 must divide the 6 channels" in error([6, 4, 4], type="GroupNorm",
                                                               num_groups=4)
    assert "do not divide by 4" in error([6, 4, 4], type="PixelShuffle", upscale_factor=2)
    assert "num_parameters = 5 must be 1" in error([6, 4, 4], type="PReLU", num_parameters=5)
    assert "only one" in error([3, 1, 1], type="InstanceNorm2d")
    assert "(channels, depth, height, width)" in error([3, 4, 4], type="BatchNorm3d")


def _every_new_layer() -> dict[str, Any]:
    return {"format": FORMAT, "name": "every new layer", "input": {"shape": [3, 8, 8]},
            "layers": [
                {"type": "Conv2d", "name": "conv", "out_channels": 8, "kernel_size": 3,
                 "padding": 1},
                {"type": "GroupNorm", "name": "gn", "num_groups": 4},
                {"type": "PReLU", "name": "prelu", "num_parameters": 8, "init": 0.1},
                {"type": "LayerNorm2d", "name": "ln", "eps": 1e-6},
                {"type": "InstanceNorm2d", "name": "inorm", "affine": True},
                {"type": "SELU", "name": "selu"},
                {"type": "PixelShuffle", "name": "shuffle", "upscale_factor": 2},
                {"type": "Softplus", "name": "softplus", "beta": 2.0},
                {"type": "Conv2d", "name": "head", "out_channels": 4, "kernel_size": 1},
                {"type": "LogSoftmax", "name": "logp"}]}


def _trained_state(net: nn.Module) -> None:
    """Weights and statistics other than the initial ones, so a mix-up shows."""
    torch.manual_seed(3)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)


def test_save_load_round_trip_keeps_every_setting(tmp_path: Path) -> None:
    spec = model_from_dict(_every_new_layer())
    save_model(spec, tmp_path / "m.json")
    again = load_model(tmp_path / "m.json")
    assert again == spec
    assert analyze_model(again).ok


def test_layer_norm_2d_equals_torchvisions_convnext_layer_norm() -> None:
    from torchvision.models.convnext import LayerNorm2d

    spec = model_from_dict({"format": FORMAT, "name": "ln", "input": {"shape": [5, 4, 3]},
                            "layers": [{"type": "LayerNorm2d", "name": "ln", "eps": 1e-6}]})
    net = build_model(spec).eval()
    _trained_state(net)
    theirs = LayerNorm2d(5, eps=1e-6)
    theirs.load_state_dict(net.layers["ln"].state_dict())
    x = torch.randn(2, 5, 4, 3)
    assert torch.allclose(net(x), theirs(x), atol=1e-6)


def test_torch_modules_import_with_their_settings_and_outputs() -> None:
    from torchvision.models.convnext import LayerNorm2d

    module = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8, eps=1e-4), nn.PReLU(8, init=0.1),
        LayerNorm2d(8, eps=1e-6), nn.InstanceNorm2d(8, affine=True), nn.SELU(),
        nn.PixelShuffle(2), nn.Softplus(beta=2.0, threshold=10.0), nn.Conv2d(2, 4, 1),
        nn.LogSoftmax(dim=1)).eval()
    _trained_state(module)
    imported = import_module(module, (3, 6, 6), "seq")
    layers = imported.spec.layers
    assert [layer.type for layer in layers] == [
        "Conv2d", "GroupNorm", "PReLU", "LayerNorm2d", "InstanceNorm2d", "SELU", "PixelShuffle",
        "Softplus", "Conv2d", "LogSoftmax"]
    assert dict(layers[1].params) == {"num_groups": 2, "eps": 1e-4}
    assert dict(layers[2].params) == {"num_parameters": 8, "init": 0.1}
    assert dict(layers[3].params) == {"eps": 1e-6}
    assert dict(layers[4].params) == {"affine": True}
    assert dict(layers[7].params) == {"beta": 2.0, "threshold": 10.0}
    net = build_model(imported.spec).eval()
    apply_weights(net, {k: module.state_dict()[v] for k, v in imported.key_map.items()})
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        assert torch.allclose(net(x), module(x), atol=1e-5)


def test_batch_norm_3d_imports() -> None:
    module = nn.Sequential(nn.Conv3d(2, 4, 3), nn.BatchNorm3d(4, momentum=0.2)).eval()
    imported = import_module(module, (2, 5, 5, 5), "video")
    assert imported.spec.layers[1].type == "BatchNorm3d"
    assert dict(imported.spec.layers[1].params) == {"momentum": 0.2}


def test_pytorch_export_of_the_new_layers_runs_and_imports_back(tmp_path: Path) -> None:
    spec = model_from_dict(_every_new_layer())
    net = build_model(spec).eval()
    _trained_state(net)
    from core.weights import save_weights

    save_weights(net, tmp_path / "w.safetensors")
    export_model(spec, "pytorch", tmp_path / "exported.py", tmp_path / "w.safetensors")
    loader = importlib.util.spec_from_file_location("exported", tmp_path / "exported.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    exported = module.model().eval()
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        assert torch.allclose(exported(x), net(x), atol=1e-5)
    again = import_module(exported, module.INPUT_SHAPE, spec.name).spec
    assert [layer.to_dict() for layer in again.layers] == [layer.to_dict() for layer in
                                                            spec.layers]


@pytest.mark.parametrize("name", NEW)
def test_palette_groups_list_the_new_layers(name: str) -> None:
    from core.model.catalog import CATALOG, types_in_group

    entry = CATALOG[name]
    assert entry in types_in_group(entry.group)


def test_the_text_cnn_exports_to_code_that_runs(tmp_path: Path) -> None:
    """Its Transpose is ConvScope's own module: the exported file defines it."""
    from core.presets import find_preset

    spec = load_model(find_preset("text_cnn").path)
    export_model(spec, "pytorch", tmp_path / "text.py")
    loader = importlib.util.spec_from_file_location("text", tmp_path / "text.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    net = module.model().eval()
    x = torch.randint(0, 5000, (2, *module.INPUT_SHAPE))
    with torch.no_grad():
        assert net(x).shape == (2, 1)


def test_transpose_is_kept_whole_by_the_importer() -> None:
    from core.build import Transpose

    module = nn.Sequential(nn.Conv1d(4, 6, 3), Transpose(1, 2), nn.Linear(6, 2)).eval()
    imported = import_module(module, (4, 10), "t")
    assert [(layer.type, dict(layer.params)) for layer in imported.spec.layers][1] == (
        "Transpose", {})

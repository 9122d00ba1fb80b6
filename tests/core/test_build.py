"""Building: per-layer capture by name, frozen layers, weights saved and loaded by layer name."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.build import build_model
from core.model.errors import ModelError
from core.model.spec import LayerSpec
from core.presets import load_preset
from core.weights import load_weights, read_weights, save_weights


def test_every_layer_output_is_captured_by_name() -> None:
    spec = load_preset("keras_mnist")
    net = build_model(spec).eval()
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        outputs = net.forward_all(x)
        final = net(x)
    assert list(outputs) == [layer.name for layer in spec.layers]
    torch.testing.assert_close(outputs["fc1"], final)
    hooked = {}
    net.layers["conv2"].register_forward_hook(lambda m, i, o: hooked.setdefault("conv2", o))
    with torch.no_grad():
        net(x)
    torch.testing.assert_close(hooked["conv2"], outputs["conv2"])


def test_frozen_layers_get_no_gradient() -> None:
    net = build_model(load_preset("random_features"))
    loss = net(torch.randn(2, 1, 28, 28)).sum()
    loss.backward()
    assert all(p.grad is None for p in net.layers["conv1"].parameters())
    assert all(p.grad is not None for p in net.layers["fc1"].parameters())


def test_weights_round_trip_by_layer_name(tmp_path: Path) -> None:
    spec = load_preset("digits_small")
    first = build_model(spec)
    path = tmp_path / "w.safetensors"
    save_weights(first, path)
    assert "conv1.weight" in read_weights(path)
    second = build_model(spec)
    report = load_weights(second, path)
    assert not report.shape_mismatch and not report.not_in_file
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


def test_weights_load_into_a_model_whose_head_was_replaced(tmp_path: Path) -> None:
    spec = load_preset("digits_small")
    path = tmp_path / "w.safetensors"
    save_weights(build_model(spec), path)
    head = spec.layer("fc")
    layers = [*spec.layers[:-1], LayerSpec("fc", "Linear", {**head.params, "out_features": 3}),
              LayerSpec("extra", "ReLU")]
    report = load_weights(build_model(spec.with_layers(layers)), path)
    assert "conv1" in report.layers_loaded and "fc" not in report.layers_loaded
    assert [m.split(" ")[0] for m in report.shape_mismatch] == ["fc.weight", "fc.bias"]
    assert "fc.weight" in report.describe()


def test_a_layer_whose_shapes_differ_keeps_all_its_fresh_weights(tmp_path: Path) -> None:
    """conv1 narrowed from 16 to 8 channels: bn1 (8 features) and conv2 (8 inputs) no longer
    fit either. Each keeps all its fresh weights (not bn1's step counter or conv2's bias alone),
    and the message names each layer once, as loaded or as kept fresh."""
    spec = load_preset("digits_small")
    path = tmp_path / "w.safetensors"
    save_weights(build_model(spec), path)
    conv1 = spec.layer("conv1")
    narrow = spec.with_layers([LayerSpec("conv1", "Conv2d", {**conv1.params, "out_channels": 8}),
                               *spec.layers[1:]])
    torch.manual_seed(0)
    net = build_model(narrow)
    fresh = {k: v.clone() for k, v in net.state_dict().items()}
    report = load_weights(net, path)
    assert report.layers_loaded == ["bn2", "bn3", "conv3", "fc"]
    assert not any(key.startswith(("conv1.", "bn1.", "conv2.")) for key in report.loaded)
    for key, value in net.state_dict().items():
        if key.startswith(("conv1.", "bn1.", "conv2.")):
            torch.testing.assert_close(value, fresh[key])
    text = report.describe()
    loaded, _, kept = text.partition("; kept fresh weights")
    assert "bn1" not in loaded and "conv2" not in loaded
    assert "conv1.weight" in kept and "bn1.weight" in kept and "conv2.weight" in kept


def test_a_pickle_is_never_executed(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("pwned",))

    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"conv1.weight": Evil()}))
    with pytest.raises(ModelError, match="can read safely"):
        read_weights(path)


def test_unreadable_weight_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        read_weights(bad)
    with pytest.raises(ModelError, match="no such weights file"):
        read_weights(tmp_path / "missing.safetensors")
    lone = tmp_path / "tensor.pt"
    torch.save(torch.zeros(2), lone)
    with pytest.raises(ModelError, match="holds no state_dict"):
        read_weights(lone)
    ok = tmp_path / "ok.safetensors"
    save_file({"conv1.weight": torch.zeros(1)}, str(ok))
    assert set(read_weights(ok)) == {"conv1.weight"}

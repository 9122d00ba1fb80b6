"""Importing torchvision models: every family gives torchvision's parameter count and shapes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from core.analysis.model_analysis import analyze_model
from core.build import build_model
from core.io.fx_import import ImportRefused, import_module, save_imported
from core.io.torchvision_models import build_on_meta, classification_models, import_torchvision
from core.model.errors import ModelError
from core.model.spec import load_model
from core.weights import apply_weights, load_weights

# One or more variants of every family the issue names (small ones where a family is large).
FAMILIES = [
    "alexnet", "vgg11_bn", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2",
    "googlenet", "densenet121", "squeezenet1_0", "squeezenet1_1", "mobilenet_v2",
    "mobilenet_v3_small", "mobilenet_v3_large", "shufflenet_v2_x0_5", "efficientnet_b0",
    "efficientnet_b1", "efficientnet_b2", "efficientnet_b3", "regnet_y_400mf", "regnet_x_400mf",
]


def _module_output_shapes(module: nn.Module, size: int) -> dict[str, tuple[int, ...]]:
    """The output shape of every leaf module call in a real (meta-device) forward pass."""
    shapes: dict[str, tuple[int, ...]] = {}
    calls: dict[str, int] = {}

    def hook(name: str):  # type: ignore[no-untyped-def]
        def record(_m: nn.Module, _i: object, out: torch.Tensor) -> None:
            n = calls.get(name, 0)
            calls[name] = n + 1
            key = re.sub(r"[^A-Za-z0-9_]", "_", name) + (f"_{n}" if n else "")
            shapes[key] = tuple(out.shape[1:])
        return record

    for name, sub in module.named_modules():
        if name and not list(sub.children()):
            sub.register_forward_hook(hook(name))
    with torch.no_grad():
        module(torch.zeros(1, 3, size, size, device="meta"))
    return shapes


@pytest.mark.parametrize("name", FAMILIES)
def test_family_imports_with_torchvisions_parameters_and_shapes(name: str) -> None:
    imported = import_torchvision(name)
    analysis = analyze_model(imported.spec)
    assert analysis.ok, analysis.error
    reference = build_on_meta(name)
    assert analysis.total_params == sum(p.numel() for p in reference.parameters())
    listed = {m.name: m.params for m in classification_models()}
    assert analysis.total_params == listed[name]  # torchvision's own published count
    shapes = _module_output_shapes(reference, 224)
    compared = 0
    for layer in analysis.layers:
        if layer.name in shapes and layer.type not in ("Dropout",):
            assert layer.output_shape == shapes[layer.name], layer.name
            compared += 1
    assert compared >= len([n for n in shapes if "dropout" not in n.lower()]) * 0.9
    assert analysis.output_shape == (1000,)


def test_imported_model_opens_as_a_model_file(tmp_path: Path) -> None:
    imported = import_torchvision("shufflenet_v2_x0_5")
    (path,) = save_imported(imported, tmp_path / "shuffle.json")
    spec = load_model(path)
    assert spec == imported.spec
    types = {layer.type for layer in spec.layers}
    assert {"Chunk", "ChannelShuffle", "Concat"} <= types


def test_unknown_name_is_refused_with_suggestions() -> None:
    with pytest.raises(ModelError, match=r'no classification model "resnet19".*resnet18'):
        import_torchvision("resnet19")


def test_unmapped_operations_are_listed() -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.norm = nn.LayerNorm([4, 6, 6])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.norm(self.conv(x))
            return torch.transpose(x, 2, 3).exp()

    with pytest.raises(ImportRefused) as caught:
        import_module(Odd(), (3, 8, 8), "odd")
    message = str(caught.value)
    assert "nn.LayerNorm" in message and "transpose" in message and ".exp()" in message
    assert "\n" not in message


def _fill_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> nn.Module:
    """torch's hub cache in a temporary TORCH_HOME, holding a saved state_dict of ``name``."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    torch.manual_seed(0)
    model = torchvision.models.get_model(name).eval()
    for m in model.modules():  # non-trivial statistics, so a wrong mapping would show
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    enum = torchvision.models.get_model_weights(name).DEFAULT
    target = Path(torch.hub.get_dir()) / "checkpoints" / enum.url.rsplit("/", 1)[-1]
    target.parent.mkdir(parents=True)
    torch.save(model.state_dict(), target)
    return model


def test_pretrained_weights_from_the_cache_give_torchvisions_outputs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _fill_cache(tmp_path, monkeypatch, "mobilenet_v3_small")
    imported = import_torchvision("mobilenet_v3_small", weights="DEFAULT")
    assert imported.weights is not None
    paths = save_imported(imported, tmp_path / "m.json")
    net = build_model(load_model(paths[0])).eval()
    report = load_weights(net, paths[1])
    assert not report.not_in_file and not report.shape_mismatch and not report.not_in_model
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        assert torch.allclose(net(x), reference(x), atol=1e-5)

    # transfer learning: a new 10-class head keeps every other layer's weights
    head = imported.spec.layers[-1]
    assert head.type == "Linear"
    tuned = imported.spec.with_layers([*imported.spec.layers[:-1],
                                       head.with_params(out_features=10)])
    report = apply_weights(build_model(tuned), imported.weights)
    assert report.shape_mismatch == [f"{head.name}.weight (file (1000, 1024), model (10, 1024))",
                                     f"{head.name}.bias (file (1000,), model (10,))"]
    assert len(report.loaded) == len(imported.weights) - 2


def test_weights_offline_and_not_cached_say_where_to_put_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))

    def offline(*_a: object, **_k: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ModelError, match=r"not in torch's cache .*squeezenet1_1-b8a52dc0\.pth"):
        import_torchvision("squeezenet1_1", weights="DEFAULT")


def test_a_weights_file_of_another_model_does_not_fit(tmp_path: Path) -> None:
    torch.save(torchvision.models.squeezenet1_0().state_dict(), tmp_path / "other.pth")
    with pytest.raises(ModelError, match="does not fit squeezenet1_1"):
        import_torchvision("squeezenet1_1", weights=str(tmp_path / "other.pth"))

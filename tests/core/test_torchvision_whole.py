"""torchvision, whole (issue 18): every classification CNN imports, with torchvision's parameter
count, and with the same random state_dict loaded by name gives torchvision's output (rtol 1e-3).
Vision transformers are refused in one line. Small inputs where the model allows; the largest
models are marked slow."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision

from core.build import build_model
from core.io.fx_import import weights_by_layer
from core.io.torchvision_models import (
    _FAMILY_KWARGS,
    classification_models,
    import_torchvision,
    is_vision_transformer,
)
from core.model.errors import ModelError
from core.weights import apply_weights

ALL = list(classification_models())
CNNS = [m for m in ALL if not is_vision_transformer(m.name)]
TRANSFORMERS = [m.name for m in ALL if is_vision_transformer(m.name)]
SLOW_PARAMS = 40_000_000


def _size(name: str) -> int:
    if name == "inception_v3":
        return 75  # its smallest input
    return 64


def test_the_lists_cover_every_torchvision_classification_model() -> None:
    assert len(CNNS) + len(TRANSFORMERS) == len(ALL)
    assert len(CNNS) >= 60 and any(m.name.startswith("convnext") for m in CNNS)


@pytest.mark.parametrize("name", [
    pytest.param(m.name, marks=pytest.mark.slow) if (m.params or 0) > SLOW_PARAMS else m.name
    for m in CNNS])
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_classification_cnn_imports_and_gives_torchvisions_output(name: str) -> None:
    size = _size(name)
    imported = import_torchvision(name, image_size=size)
    torch.manual_seed(0)
    reference = torchvision.models.get_model(name, weights=None,
                                             **_FAMILY_KWARGS.get(name, {})).eval()
    with torch.no_grad():  # not the initialisation's zeros and ones: random statistics too
        for buffer_name, buffer in reference.named_buffers():
            if buffer_name.endswith("running_mean"):
                buffer.normal_(0, 0.1)
            elif buffer_name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
        for param_name, param in reference.named_parameters():
            if param_name.endswith("layer_scale"):
                param.uniform_(0.5, 1.5)  # ConvNeXt's 1e-6 would hide the blocks
    with torch.device("meta"):  # every tensor comes from the file: no second initialisation
        net = build_model(imported.spec).eval()
    assert sum(p.numel() for p in net.parameters()) == sum(
        p.numel() for p in reference.parameters())
    net.to_empty(device="cpu")
    report = apply_weights(net, weights_by_layer(imported, reference.state_dict(), name))
    assert not report.not_in_file and not report.shape_mismatch
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        ours, theirs = net(x), reference(x)
    assert ours.shape == theirs.shape
    assert torch.allclose(ours, theirs, rtol=1e-3, atol=1e-4), (ours - theirs).abs().max()


def test_convnext_maps_layer_scale_and_its_channels_last_block() -> None:
    imported = import_torchvision("convnext_tiny", image_size=64)
    types = [layer.type for layer in imported.spec.layers]
    assert types.count("LayerScale") == 18 and "Linear" in types  # the classifier's only
    assert types[2:9] == ["Conv2d", "LayerNorm2d", "Conv2d", "GELU", "Conv2d", "LayerScale",
                          "Add"]
    assert any("stochastic depth" in note for note in imported.notes)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_vision_transformers_are_refused_in_one_line(name: str) -> None:
    with pytest.raises(ModelError, match="ConvScope is for convolutional networks") as refused:
        import_torchvision(name)
    assert "\n" not in str(refused.value) and len(str(refused.value)) < 200


def test_a_refusal_counts_stored_tensors_without_naming_them() -> None:
    from torch import nn

    from core.io.fx_import import ImportRefused, import_module

    class Biased(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.extra = nn.ParameterList([nn.Parameter(torch.ones(4, 8, 8)) for _ in range(50)])

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            for p in self.extra:
                y = y + p
            return y

    with pytest.raises(ImportRefused) as refused:
        import_module(Biased(), (3, 8, 8), "biased")
    message = str(refused.value)
    assert "extra" not in message and len(message) < 300, message
    assert "stored tensor" in message


SEGMENTATION = ["fcn_resnet50", pytest.param("fcn_resnet101", marks=pytest.mark.slow),
                "deeplabv3_resnet50", pytest.param("deeplabv3_resnet101", marks=pytest.mark.slow),
                "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large"]


def test_the_segmentation_list_is_torchvisions() -> None:
    from core.io.torchvision_models import segmentation_models

    assert sorted(m.name for m in segmentation_models()) == sorted(
        p if isinstance(p, str) else p.values[0] for p in SEGMENTATION)


@pytest.mark.parametrize("name", SEGMENTATION)
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_segmentation_model_imports_as_a_segmentation_file_with_torchvisions_output(
        name: str) -> None:
    imported = import_torchvision(name, image_size=64)
    assert imported.spec.task == "segmentation"
    kwargs: dict[str, object] = {"weights": None, "weights_backbone": None}
    if not name.startswith("lraspp"):
        kwargs["aux_loss"] = False
        assert any("auxiliary segmentation head" in note for note in imported.notes)
    torch.manual_seed(0)
    reference = torchvision.models.get_model(name, **kwargs).eval()
    with torch.no_grad():
        for buffer_name, buffer in reference.named_buffers():
            if buffer_name.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
    with torch.device("meta"):  # every tensor comes from the file: no second initialisation
        net = build_model(imported.spec).eval()
    assert sum(p.numel() for p in net.parameters()) == sum(
        p.numel() for p in reference.parameters())
    net.to_empty(device="cpu")
    report = apply_weights(net, weights_by_layer(imported, reference.state_dict(), name))
    assert not report.not_in_file and not report.shape_mismatch
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        ours, theirs = net(x), reference(x)["out"]
    assert ours.shape == theirs.shape == (1, 21, 64, 64)  # 21 VOC classes at the input size
    assert torch.allclose(ours, theirs, rtol=1e-3, atol=1e-4), (ours - theirs).abs().max()


def test_segmentation_weights_bring_the_voc_names(tmp_path: Path) -> None:
    reference = torchvision.models.get_model("lraspp_mobilenet_v3_large", weights=None,
                                             weights_backbone=None)
    torch.save(reference.state_dict(), tmp_path / "l.pth")
    imported = import_torchvision("lraspp_mobilenet_v3_large", weights=str(tmp_path / "l.pth"),
                                  image_size=64)
    assert len(imported.spec.classes) == 21 and imported.spec.classes[0] == "__background__"


def test_layer_scale_builds_exports_and_reimports(tmp_path: Path) -> None:
    from core.analysis.model_analysis import analyze_model
    from core.io.fx_import import import_module
    from core.model.spec import FORMAT, model_from_dict

    spec = model_from_dict({"format": FORMAT, "name": "scaled", "input": {"shape": [5, 4, 4]},
                            "layers": [{"type": "LayerScale", "name": "ls", "init": 0.5}]})
    analysis = analyze_model(spec)
    assert analysis.ok and analysis.total_params == 5
    net = build_model(spec).eval()
    x = torch.randn(2, 5, 4, 4)
    assert torch.allclose(net(x), 0.5 * x)
    again = import_module(net, (5, 4, 4), "scaled")  # ConvScope's own module maps back
    assert [layer.type for layer in again.spec.layers] == ["LayerScale"]
    bad = model_from_dict({"format": FORMAT, "name": "flat", "input": {"shape": [5]},
                           "layers": [{"type": "LayerScale"}]})
    assert not analyze_model(bad).ok

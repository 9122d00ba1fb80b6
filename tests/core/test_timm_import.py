"""timm as an import source (issue 18): timm's small CNNs import and, with the same random
weights, give timm's output; a vision transformer is refused in one line; a local weights file
carries its tensors and timm's pretrained configuration (classes, input size, mean/std)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.build import build_model
from core.io.fx_import import ImportRefused
from core.io.timm_models import build_timm, cnn_models, convert_timm, import_timm, timm_models
from core.model.errors import ModelError
from core.weights import apply_weights

timm = pytest.importorskip("timm")


def _randomised(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_timm(name)
    with torch.no_grad():  # random statistics, not the initialisation's zeros and ones
        for key, buffer in model.named_buffers():
            if key.endswith("running_mean"):
                buffer.normal_(0, 0.1)
            elif key.endswith("running_var"):
                buffer.uniform_(0.5, 1.5)
        for key, param in model.named_parameters():
            if key.endswith("gamma"):
                param.uniform_(0.5, 1.5)  # ConvNeXt's 1e-6 layer scale would hide the blocks
    return model


def _outputs(name: str, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    reference = _randomised(name)
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        theirs = reference(x)
    imported = convert_timm(reference, name, image_size=size, with_weights=True)
    net = build_model(imported.spec).eval()
    assert imported.weights is not None
    report = apply_weights(net, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    with torch.no_grad():
        return net(x), theirs


@pytest.mark.parametrize("name", ["resnet18", "mobilenetv3_small_100", "efficientnet_b0",
                                  "regnetx_002", "tf_efficientnet_lite0"])
def test_small_timm_cnns_give_timms_output(name: str) -> None:
    ours, theirs = _outputs(name, 64)
    assert ours.shape == theirs.shape == (2, 1000)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-5), (ours - theirs).abs().max()


@pytest.mark.parametrize("name", ["convnext_atto", "convnext_tiny"])
def test_convnext_maps_timms_layer_scale(name: str) -> None:
    ours, theirs = _outputs(name, 32)
    assert torch.allclose(ours, theirs, rtol=1e-5, atol=1e-5), (ours - theirs).abs().max()
    types = [layer.type for layer in import_timm(name, image_size=32).spec.layers]
    assert types.count("LayerScale") == (12 if name == "convnext_atto" else 18)


def test_tensorflows_same_padding_becomes_a_fixed_zero_pad() -> None:
    from core.io.timm_models import import_timm

    imported = import_timm("tf_efficientnet_lite0", image_size=64)
    types = [layer.type for layer in imported.spec.layers]
    assert types[:2] == ["ZeroPad2d", "Conv2d"]  # 64 → 32 with a 3×3 stride-2: pad (0, 1, 0, 1)
    assert imported.spec.layers[0].params == {"padding": [0, 1, 0, 1]}


def test_a_vision_transformer_is_refused_in_one_line() -> None:
    with pytest.raises(ImportRefused) as caught:
        import_timm("vit_tiny_patch16_224")
    message = str(caught.value)
    assert "convolutional networks" in message and "\n" not in message and len(message) < 300


def test_an_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(ModelError, match=r"did you mean.*resnet18"):
        import_timm("resnet81")


def test_an_unsupported_cnn_is_refused_in_one_short_line() -> None:
    with pytest.raises(ImportRefused) as caught:
        import_timm("vgg11")
    assert "\n" not in str(caught.value) and len(str(caught.value)) <= 300


def test_the_list_marks_transformers_and_keeps_the_cnn_families() -> None:
    families = {m.family for m in cnn_models()}
    assert {"resnet", "efficientnet", "mobilenetv3", "regnet", "densenet"} <= families
    assert all(m.refused for m in timm_models() if m.family == "vision_transformer")
    assert len(cnn_models()) >= 300


def test_a_local_weights_file_brings_weights_classes_and_normalisation(tmp_path: Path) -> None:
    reference = _randomised("mobilenetv3_small_100")
    path = tmp_path / "mnv3.safetensors"
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))
    imported = import_timm("mobilenetv3_small_100", weights=path, image_size=64)
    spec = imported.spec
    assert spec.input_shape == (3, 64, 64)
    assert spec.normalization is not None
    assert spec.normalization.mean == pytest.approx((0.485, 0.456, 0.406))
    assert spec.normalization.std == pytest.approx((0.229, 0.224, 0.225))
    assert spec.classes is not None and len(spec.classes) == 1000 and spec.classes[0] == "tench"
    assert any("224×224" in note for note in imported.notes)
    net = build_model(spec).eval()
    assert imported.weights is not None
    apply_weights(net, imported.weights)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(net(x), reference(x), rtol=1e-5, atol=1e-5)


def test_a_fine_tuned_head_follows_the_file(tmp_path: Path) -> None:
    model = timm.create_model("resnet18", pretrained=False, num_classes=10)
    path = tmp_path / "r18.pth"
    torch.save(model.state_dict(), path)
    imported = import_timm("resnet18", weights=path, image_size=32)
    assert imported.spec.layers[-1].params.get("out_features") == 10
    assert not imported.spec.classes  # not ImageNet's head: no names


def test_a_weights_file_of_another_model_is_refused(tmp_path: Path) -> None:
    model = timm.create_model("resnet34", pretrained=False)
    path = tmp_path / "r34.safetensors"
    save_file(model.state_dict(), str(path))
    with pytest.raises(ModelError, match="does not fit timm's resnet18") as caught:
        import_timm("resnet18", weights=path)
    assert len(str(caught.value)) < 300

"""Every preset loads, analyses and builds, and its numbers are pinned to independent sources."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from core.analysis.model_analysis import analyze_model
from core.analysis.summary import summary
from core.build import build_model, example_input
from core.model.errors import ModelError
from core.presets import DEFAULT_PRESET, find_preset, list_presets, load_preset

PRESET_KEYS = [p.key for p in list_presets()]

# (total, trainable) from the seed lectures' Keras model.summary() tables.
LECTURE_COUNTS = {
    "keras_mnist": (34_826, 34_826),
    "keras_mnist_fcn": (34_826, 34_826),
    "random_features": (21_706, 2_890),
    "convnet_150": (3_453_121, 3_453_121),
}
# The lectures' per-layer (output shape, params) for the weighted and pooling layers, in Keras's
# channels-last order converted to ConvScope's channels-first.
LECTURE_TABLES = {
    "keras_mnist": [((32, 26, 26), 320), ((32, 13, 13), 0), ((64, 11, 11), 18_496),
                    ((64, 5, 5), 0), ((1600,), 0), ((10,), 16_010)],
    "keras_mnist_fcn": [((32, 26, 26), 320), ((32, 13, 13), 0), ((64, 11, 11), 18_496),
                        ((64, 5, 5), 0), ((10, 1, 1), 16_010), ((10,), 0)],
    "random_features": [((32, 26, 26), 320), ((32, 13, 13), 0), ((32, 11, 11), 9_248),
                        ((32, 5, 5), 0), ((32, 3, 3), 9_248), ((288,), 0), ((10,), 2_890)],
    "convnet_150": [((32, 148, 148), 896), ((32, 74, 74), 0), ((64, 72, 72), 18_496),
                    ((64, 36, 36), 0), ((128, 34, 34), 73_856), ((128, 17, 17), 0),
                    ((128, 15, 15), 147_584), ((128, 7, 7), 0), ((6272,), 0),
                    ((512,), 3_211_776), ((1,), 513)],
}
KERAS_KINDS = ("Conv2d", "MaxPool2d", "Flatten", "Linear")
TORCHVISION = {
    "alexnet": (torchvision.models.alexnet, 61_100_840),
    "vgg16": (torchvision.models.vgg16, 138_357_544),
    "resnet18": (torchvision.models.resnet18, 11_689_512),
    "resnet34": (torchvision.models.resnet34, 21_797_672),
}


def test_all_expected_presets_are_bundled() -> None:
    expected = {"digits_small", "keras_mnist", "keras_mnist_fcn", "random_features",
                "convnet_150", "lenet5", "alexnet", "vgg16", "resnet18", "resnet34",
                "fcn_small", "unet_small"}
    assert expected <= set(PRESET_KEYS)
    assert DEFAULT_PRESET in PRESET_KEYS


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_preset_loads_analyses_and_has_a_description(key: str) -> None:
    preset = find_preset(key)
    spec = preset.load()
    analysis = analyze_model(spec)
    assert analysis.ok, analysis.error
    assert len(preset.description) > 40
    assert spec.name == preset.name
    assert find_preset(preset.name).key == key


# too large to build twice in CI: their shapes and counts are pinned against torch on the meta
# device in test_lecture_presets.py
HEAVY = ("vgg16", "megapixel_dense", "zfnet", "alexnet_lrn")


@pytest.mark.parametrize("key", [k for k in PRESET_KEYS if k not in HEAVY])
def test_preset_builds_and_runs_with_the_analysed_shapes(key: str) -> None:
    spec = load_preset(key)
    analysis = analyze_model(spec)
    model = build_model(spec).eval()
    with torch.no_grad():
        outputs = model.forward_all(example_input(spec))
    for layer in analysis.layers:
        assert tuple(outputs[layer.name].shape[1:]) == layer.output_shape, layer.name
    assert sum(p.numel() for p in model.parameters()) == analysis.total_params
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == analysis.trainable_params


@pytest.mark.parametrize("key", sorted(LECTURE_COUNTS))
def test_lecture_models_match_the_lectures_keras_summaries(key: str) -> None:
    result = summary(find_preset(key).path)
    assert (result["total_params"], result["trainable_params"]) == LECTURE_COUNTS[key]
    assert result["non_trainable_params"] == LECTURE_COUNTS[key][0] - LECTURE_COUNTS[key][1]
    rows = [(tuple(layer["output_shape"]), layer["params"]) for layer in result["layers"]
            if layer["type"] in KERAS_KINDS]
    assert rows == LECTURE_TABLES[key]


def test_lenet5_matches_a_hand_written_torch_lenet() -> None:
    reference = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84),
        nn.Tanh(), nn.Linear(84, 10))
    expected = sum(p.numel() for p in reference.parameters())
    assert expected == 61_706
    assert summary(find_preset("lenet5").path)["total_params"] == expected


@pytest.mark.parametrize("key", sorted(TORCHVISION))
def test_classic_presets_equal_torchvision_layer_by_layer(key: str) -> None:
    factory, count = TORCHVISION[key]
    reference = factory(weights=None)
    assert sum(p.numel() for p in reference.parameters()) == count
    assert summary(find_preset(key).path)["total_params"] == count
    if key == "vgg16":
        return  # 138 M parameters twice is too much for CI; the count and shapes below suffice
    ours = build_model(load_preset(key))
    theirs_shapes = [tuple(p.shape) for p in reference.state_dict().values()]
    ours_shapes = [tuple(p.shape) for p in ours.layers.state_dict().values()]
    assert ours_shapes == theirs_shapes


@pytest.mark.parametrize("key", ["alexnet", "resnet18"])
def test_classic_presets_compute_what_torchvision_computes(key: str) -> None:
    """With torchvision's weights copied in by position, the outputs are the same."""
    torch.manual_seed(0)
    reference = TORCHVISION[key][0](weights=None).eval()
    ours = build_model(load_preset(key)).eval()
    ours.layers.load_state_dict(dict(zip(ours.layers.state_dict(),
                                         reference.state_dict().values(), strict=True)))
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-4)


def test_megapixel_dense_is_analysed_but_not_built() -> None:
    spec = load_preset("megapixel_dense")
    result = summary(spec)
    assert result["total_params"] == 3 * 10**6 * 1000 + 1000 + 1000 * 10 + 10
    assert result["layers"][1]["params"] > 10**9
    with pytest.raises(ModelError, match="too large to build"):
        build_model(spec)


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(ModelError, match="resnet18"):
        find_preset("resnet-1000")

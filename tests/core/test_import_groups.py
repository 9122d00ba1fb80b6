"""Imported large models come with their repeated stages as groups the diagram draws collapsed
(issue 19, item 4): ResNet-152's layer3 is one block of 362 layers, not a strip to scroll."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.io.torchvision_models import import_torchvision
from core.model.spec import load_model, save_model

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")


def _groups(name: str) -> list[tuple[str, int]]:
    return [(g.name, len(g.layers)) for g in import_torchvision(name).spec.groups]


def test_resnet152s_four_stages_are_groups_and_the_file_keeps_them(tmp_path: Path) -> None:
    spec = import_torchvision("resnet152").spec
    assert [(g.name, len(g.layers)) for g in spec.groups] == [
        ("layer1", 32), ("layer2", 82), ("layer3", 362), ("layer4", 32)]
    order = [layer.name for layer in spec.layers]
    layer3 = spec.groups[2]
    assert layer3.layers[0] == "layer3_0_conv1" and layer3.layers[-1] == "layer3_35_relu_2"
    assert all(name.startswith(("layer3_", "add_")) for name in layer3.layers)  # + its adds
    start = order.index(layer3.layers[0])  # one run of consecutive layers
    assert order[start:start + len(layer3.layers)] == list(layer3.layers)
    path = tmp_path / "resnet152.json"
    save_model(spec, path)
    assert load_model(path).groups == spec.groups


@pytest.mark.parametrize("name", ["resnet18", "googlenet", "vgg16"])
def test_models_that_fit_and_inception_branches_stay_open(name: str) -> None:
    assert _groups(name) == []


def test_a_stage_holding_nearly_the_whole_model_is_opened_into_its_own_stages() -> None:
    groups = _groups("regnet_y_400mf")
    assert [name for name, _ in groups] == ["trunk_output_block2", "trunk_output_block3",
                                           "trunk_output_block4"]


def test_densenets_dense_blocks_are_groups() -> None:
    assert [name for name, _ in _groups("densenet121")] == [
        f"features_denseblock{i}" for i in range(1, 5)]

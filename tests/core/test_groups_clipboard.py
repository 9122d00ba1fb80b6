"""Copy/paste of layers (renamed, inner connections kept) and groups in the model file
(issue 19, item 2)."""

from __future__ import annotations

import json

import pytest

from core.analysis.model_analysis import analyze_model
from core.model import editing
from core.model.clipboard import copied_from_json, copy_layers, paste_layers
from core.model.errors import ModelError
from core.model.groups import collapsed_nodes, group_layers, tidy_groups, ungroup
from core.model.spec import model_from_dict
from core.presets import load_preset

BLOCK = ["layer1_0_conv1", "layer1_0_bn1", "layer1_0_relu1", "layer1_0_conv2", "layer1_0_bn2",
         "layer1_0_add", "layer1_0_relu2"]


def test_a_resnet_block_pasted_three_times_chains_with_its_skips() -> None:
    spec = load_preset("resnet18")
    copied = copy_layers(spec, BLOCK)
    anchor = "layer1_0_relu2"
    pasted: list[tuple[str, ...]] = []
    for _ in range(3):
        spec, names = paste_layers(spec, copied, anchor)
        pasted.append(names)
        anchor = names[-1]
    analysis = analyze_model(spec)
    assert analysis.ok, analysis.error
    assert len(spec.layers) == len(load_preset("resnet18").layers) + 3 * len(BLOCK)
    all_names = [layer.name for layer in spec.layers]
    assert len(set(all_names)) == len(all_names)
    for names in pasted:
        assert not set(names) & set(BLOCK)  # renamed
        add = spec.layer(names[5])
        entry = spec.inputs_of(spec.index(names[0]))[0]
        # inner connection kept (bn2 → add) and the skip reads what the block reads
        assert add.inputs == (names[4], entry)
    assert spec.inputs_of(spec.index(pasted[1][0])) == (pasted[0][-1],)
    # the block that followed the original now follows the third paste, skip included
    follower = spec.layer("layer1_1_add")
    assert pasted[2][-1] in follower.inputs
    assert spec.inputs_of(spec.index("layer1_1_conv1")) == (pasted[2][-1],)


def test_a_copy_round_trips_through_the_clipboard_text_and_bad_text_is_refused() -> None:
    spec = load_preset("resnet18")
    copied = copy_layers(spec, BLOCK)
    assert copied_from_json(copied.to_json()) == copied
    for text in ("", "[1]", json.dumps({"format": "convscope.layers/1", "layers": []}),
                 json.dumps({"format": "convscope.layers/1", "layers": [{"name": "a"}]})):
        with pytest.raises(ModelError):
            copied_from_json(text)


def test_pasting_a_lone_merge_keeps_its_outer_inputs_above_the_paste() -> None:
    spec = load_preset("resnet18")
    after, names = paste_layers(spec, copy_layers(spec, ["layer1_0_add"]), "layer1_0_relu2")
    assert after.layer(names[0]).inputs == ("layer1_0_bn2", "maxpool")
    assert after.inputs_of(after.index("layer1_1_conv1")) == names
    assert analyze_model(after).ok


def test_groups_are_saved_flat_validated_and_follow_edits() -> None:
    spec = group_layers(load_preset("resnet18"), BLOCK, "block1")
    data = spec.to_dict()
    assert data["groups"] == [{"name": "block1", "layers": BLOCK}]
    assert [layer["name"] for layer in data["layers"]] == [layer.name for layer in spec.layers]
    assert model_from_dict(json.loads(spec.to_json())) == spec
    renamed = editing.rename_layer(spec, "layer1_0_bn1", "bn_a")
    assert "bn_a" in renamed.groups[0].layers
    removed = editing.remove_layers(spec, ["layer1_0_conv1"])
    assert removed.groups[0].layers == tuple(BLOCK[1:])
    assert not editing.remove_layers(spec, BLOCK[:-1]).groups  # one layer left: no group
    inserted, name = editing.add_layer(spec, "ReLU", spec.index("layer1_0_conv2"))
    assert name in inserted.groups[0].layers
    assert ungroup(spec, "block1").groups == ()
    assert tidy_groups(spec) is spec


@pytest.mark.parametrize(("groups", "reason"), [
    ("x", "groups must be a list"),
    ([{"name": "g"}], "exactly these keys"),
    ([{"name": "conv1", "layers": ["bn1", "relu"]}], "already used"),
    ([{"name": "g", "layers": ["bn1", "nope"]}], "no layer of the model"),
    ([{"name": "g", "layers": ["conv1", "relu"]}], "bn1 sits between"),
    ([{"name": "g", "layers": ["conv1", "bn1"]}, {"name": "h", "layers": ["bn1", "relu"]}],
     "another group"),
    ([{"name": "1g", "layers": ["conv1", "bn1"]}], "not allowed"),
])
def test_a_bad_group_in_a_file_is_refused_with_the_reason(groups: object, reason: str) -> None:
    data = load_preset("resnet18").to_dict()
    data["groups"] = groups
    with pytest.raises(ModelError, match=reason):
        model_from_dict(data)


def test_grouping_refuses_a_selection_that_is_not_a_run() -> None:
    spec = load_preset("resnet18")
    with pytest.raises(ModelError, match="consecutive"):
        group_layers(spec, ["conv1", "relu"])
    with pytest.raises(ModelError, match="two or more"):
        group_layers(spec, ["conv1"])
    assert group_layers(spec, ["conv1", "bn1"]).groups[0].name == "group"


def test_a_collapsed_group_is_one_node_reading_and_read_as_the_block() -> None:
    spec = group_layers(load_preset("resnet18"), BLOCK, "block1")
    names, structure, shown = collapsed_nodes(spec, {"block1"})
    assert len(names) == 1 + len(spec.layers) - len(BLOCK) + 1
    node = names.index("block1")
    assert structure[node - 1] == (names.index("maxpool"),)
    assert structure[names.index("layer1_1_conv1") - 1] == (node,)
    assert structure[names.index("layer1_1_add") - 1] == (names.index("layer1_1_bn2"), node)
    assert spec.layers[shown[node - 1]].name == "layer1_0_relu2"


def test_freeze_up_to_here_freezes_the_ancestors_only() -> None:
    spec = load_preset("resnet18")
    chosen = editing.layers_up_to(spec, "layer1_0_add")
    assert chosen == ("conv1", "bn1", "relu", "maxpool", *BLOCK[:6])
    frozen = editing.set_trainable_many(spec, chosen, False)
    assert [layer.name for layer in frozen.layers if not layer.trainable] == list(chosen)
    with pytest.raises(ModelError):
        editing.set_trainable_many(spec, ["nope"], False)


def test_the_version_1_fixture_with_a_group_reads_its_group() -> None:
    from pathlib import Path

    from core.model.spec import load_model

    spec = load_model(Path(__file__).resolve().parent.parent / "fixtures" / "v1" / "groups.json")
    assert [(g.name, g.layers) for g in spec.groups] == [
        ("res_block", ("conv_a", "bn_a", "relu_a", "add_a"))]
    assert analyze_model(spec).ok


def test_a_group_name_is_never_taken_by_a_layer() -> None:
    spec = group_layers(load_preset("resnet18"), BLOCK, "relu1")
    with pytest.raises(ModelError, match="a group"):
        editing.rename_layer(spec, "conv1", "relu1")
    after, name = editing.add_layer(spec, "ReLU")
    assert name != "relu1"
    assert model_from_dict(json.loads(after.to_json())) == after

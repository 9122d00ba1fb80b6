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
from core.model.spec import ModelSpec, model_from_dict
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
    ([{"name": "g", "layers": ["conv1", "relu"]}], "bn1 lies on the way from conv1 to relu"),
    ([{"name": "g", "layers": ["conv1", "bn1"]}, {"name": "h", "layers": ["bn1", "relu"]}],
     "another group"),
    ([{"name": "1g", "layers": ["conv1", "bn1"]}], "not allowed"),
])
def test_a_bad_group_in_a_file_is_refused_with_the_reason(groups: object, reason: str) -> None:
    data = load_preset("resnet18").to_dict()
    data["groups"] = groups
    with pytest.raises(ModelError, match=reason):
        model_from_dict(data)


def test_grouping_refuses_a_selection_that_leaves_out_a_layer_on_its_paths() -> None:
    spec = load_preset("resnet18")
    with pytest.raises(ModelError, match="bn1 lies on the way from conv1 to relu and is not "
                                         "in it"):
        group_layers(spec, ["conv1", "relu"])
    with pytest.raises(ModelError, match="two or more"):
        group_layers(spec, ["conv1"])
    assert group_layers(spec, ["conv1", "bn1"]).groups[0].name == "group"


def inception() -> ModelSpec:
    """A stem and one Inception module: four branches listed one after the other, into a
    Concat (as torchvision's GoogLeNet lists them)."""
    from pathlib import Path

    from core.model.spec import load_model

    return load_model(Path(__file__).resolve().parent.parent / "fixtures" /
                      "inception_module.json")


B2 = ["b2_reduce", "b2_relu", "b2"]
B4 = ["b4_pool", "b4"]


def test_two_parallel_branches_apart_in_the_file_make_a_group() -> None:
    spec = inception()
    assert analyze_model(spec).ok
    grouped = group_layers(spec, [*B4, *B2], "two_branches")  # b3 sits between in the file
    assert grouped.groups[0].layers == (*B2, *B4)
    # saved flat, read back the same, the layers and their connections untouched
    data = json.loads(grouped.to_json())
    assert data["layers"] == spec.to_dict()["layers"]
    assert data["groups"] == [{"name": "two_branches", "layers": [*B2, *B4]}]
    assert model_from_dict(data) == grouped
    names, structure, shown = collapsed_nodes(grouped, {"two_branches"})
    assert names == ("input", "stem", "stem_relu", "b1", "two_branches", "b3_reduce",
                     "b3_relu", "b3", "concat", "head_relu")
    node = names.index("two_branches")
    assert structure[node - 1] == (names.index("stem_relu"),)
    assert set(structure[names.index("concat") - 1]) == {names.index(n) for n in
                                                          ("b1", "two_branches", "b3")}
    assert grouped.layers[shown[node - 1]].name == "b4"
    # a branch and the Concat it feeds, leaving out another branch's layers, is no group
    with pytest.raises(ModelError, match="b2_reduce lies on the way from stem_relu to concat"):
        group_layers(spec, ["stem_relu", "b1", "concat"])


def test_layers_apart_in_the_file_that_form_a_subgraph_make_a_group() -> None:
    """a → c is one branch, b another, listed a, b, c: {a, c} is no run but a sound group,
    and it round-trips through the file; {a, d} leaves out c, on the way from a to d."""
    data = {"format": "convscope.model/1", "name": "apart", "input": {"shape": [1, 8, 8]},
            "layers": [{"name": "a", "type": "ReLU"},
                       {"name": "b", "type": "Tanh", "inputs": ["input"]},
                       {"name": "c", "type": "Sigmoid", "inputs": ["a"]},
                       {"name": "d", "type": "Add", "inputs": ["c", "b"]}]}
    spec = model_from_dict(data)
    grouped = group_layers(spec, ["c", "a"], "branch")
    assert grouped.groups[0].layers == ("a", "c")
    assert [layer.name for layer in grouped.layers] == ["a", "b", "c", "d"]  # flat, unmoved
    assert model_from_dict(json.loads(grouped.to_json())) == grouped
    names, structure, shown = collapsed_nodes(grouped, {"branch"})
    assert names == ("input", "branch", "b", "d")
    assert structure == ((0,), (0,), (1, 2))
    assert grouped.layers[shown[0]].name == "c"
    with pytest.raises(ModelError, match="c lies on the way from a to d"):
        group_layers(spec, ["a", "d"])
    data["groups"] = [{"name": "g", "layers": ["a", "d"]}]
    with pytest.raises(ModelError, match='group "g": c lies on the way from a to d'):
        model_from_dict(data)


def test_two_groups_that_would_read_each_other_are_refused() -> None:
    """a → d and c → b with the file order a, c, b, d... : {a, b} and {c, d} are each sound,
    but drawn together each block would read the other."""
    data = {"format": "convscope.model/1", "name": "loop", "input": {"shape": [1, 8, 8]},
            "layers": [{"name": "a", "type": "ReLU"},
                       {"name": "c", "type": "Tanh", "inputs": ["input"]},
                       {"name": "b", "type": "Sigmoid", "inputs": ["c"]},
                       {"name": "d", "type": "Sigmoid", "inputs": ["a"]}]}
    spec = group_layers(model_from_dict(data), ["a", "b"], "g1")
    with pytest.raises(ModelError, match="it and g1 would read each other"):
        group_layers(spec, ["c", "d"], "g2")
    data["groups"] = [{"name": "g1", "layers": ["a", "b"]}, {"name": "g2", "layers": ["c", "d"]}]
    with pytest.raises(ModelError, match='group "g2": it and g1 would read each other'):
        model_from_dict(data)


def test_edits_keep_a_group_sound_a_layer_put_between_its_layers_joins_it() -> None:
    data = {"format": "convscope.model/1", "name": "apart", "input": {"shape": [1, 8, 8]},
            "layers": [{"name": "a", "type": "ReLU"},
                       {"name": "b", "type": "Tanh", "inputs": ["input"]},
                       {"name": "c", "type": "Sigmoid", "inputs": ["a"]},
                       {"name": "d", "type": "Add", "inputs": ["c", "b"]}]}
    spec = group_layers(model_from_dict(data), ["a", "c"], "branch")
    inserted, name = editing.insert_on_edge(spec, "ReLU", "a", "c")
    assert inserted.groups[0].layers == ("a", name, "c")
    # b → c connected: b now lies on a path into the group but not between two of its
    # layers, so the group stays as it was
    connected, _merge = editing.connect(spec, "b", "c", "Add")
    assert analyze_model(connected).ok
    assert set(connected.groups[0].layers) >= {"a", "c"}
    assert model_from_dict(json.loads(connected.to_json())) == connected


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


def test_random_selections_are_grouped_exactly_when_sound_and_survive_random_edits() -> None:
    """On random small graphs: a selection is grouped iff no layer outside it lies on a path
    between two of its layers and the groups drawn together make no loop (checked by brute
    force); what is grouped reads back from the file, and random edits keep it sound."""
    import random

    rng = random.Random(19)
    for trial in range(150):
        count = rng.randint(3, 9)
        layers: list[dict[str, object]] = []
        for i in range(count):
            sources = rng.sample(["input", *(f"l{j}" for j in range(i))], k=min(i + 1, 2))
            if len(sources) == 2 and rng.random() < 0.5:
                layers.append({"name": f"l{i}", "type": "Add", "inputs": sources})
            else:
                layers.append({"name": f"l{i}", "type": "ReLU", "inputs": sources[:1]})
        spec = model_from_dict({"format": "convscope.model/1", "name": f"t{trial}",
                                "input": {"shape": [2, 4, 4]}, "layers": layers})
        reach = _reachability(spec)
        chosen: list[set[int]] = []
        for number in range(3):
            pick = set(rng.sample(range(count), k=rng.randint(2, min(4, count))))
            if any(pick & c for c in chosen):
                continue
            convex = not any(reach[a][x] and reach[x][b] for a in pick for b in pick
                             for x in range(count) if x not in pick)
            sound = convex and _acyclic([*chosen, pick], reach, count)
            if not sound:
                with pytest.raises(ModelError, match=r"lies on the way|read each other"):
                    group_layers(spec, [f"l{i}" for i in pick], f"g{number}")
                continue
            spec = group_layers(spec, [f"l{i}" for i in pick], f"g{number}")
            chosen.append(pick)
        assert model_from_dict(json.loads(spec.to_json())) == spec
        for _ in range(3):
            names = [layer.name for layer in spec.layers]
            edit = rng.choice(["remove", "insert", "connect"])
            try:
                if edit == "remove" and len(names) > 2:
                    spec = editing.remove_layers(spec, [rng.choice(names)])
                elif edit == "insert":
                    spec, _ = editing.add_layer(spec, "ReLU", rng.randint(0, len(names)))
                else:
                    target = rng.randint(1, len(names) - 1)
                    spec, _ = editing.connect(spec, names[rng.randint(0, target - 1)],
                                              names[target], "Add")
            except ModelError:
                continue
            assert model_from_dict(json.loads(spec.to_json()), strict=False) == spec
            _names, structure, _ = collapsed_nodes(spec, {g.name for g in spec.groups})
            assert all(s < t for t, sources in enumerate(structure, 1) for s in sources)


def _reachability(spec: ModelSpec) -> list[list[bool]]:
    count = len(spec.layers)
    position = {layer.name: i for i, layer in enumerate(spec.layers)}
    reach = [[False] * count for _ in range(count)]
    for target in range(count):
        for source in spec.inputs_of(target):
            if source in position:
                s = position[source]
                reach[s][target] = True
                for earlier in range(count):
                    if reach[earlier][s]:
                        reach[earlier][target] = True
    return reach


def _acyclic(groups: list[set[int]], reach: list[list[bool]], count: int) -> bool:
    """No two (or more) groups feed each other: in the graph of groups where A → B when a
    layer of A reaches a layer of B through layers of no group... checked as: no group
    reaches itself through another group."""
    owner = {i: n for n, g in enumerate(groups) for i in g}
    edges = {(owner.get(a, ("l", a)), owner.get(b, ("l", b)))
             for a in range(count) for b in range(count) if reach[a][b]}
    nodes = {n for edge in edges for n in edge}
    closure = {(a, b) for a, b in edges if a != b}
    changed = True
    while changed:
        changed = False
        for a, b in list(closure):
            for c, d in list(closure):
                if b == c and (a, d) not in closure:
                    closure.add((a, d))
                    changed = True
    return not any((n, n) in closure for n in nodes)


def test_a_group_is_renamed_checked_as_a_file_reads_it() -> None:
    from core.model.groups import rename_group

    spec = group_layers(group_layers(load_preset("resnet18"), BLOCK, "block1"),
                        ["layer1_1_conv1", "layer1_1_bn1"], "block2")
    renamed = rename_group(spec, "block1", " stage_a ")
    assert [g.name for g in renamed.groups] == ["stage_a", "block2"]
    assert renamed.groups[0].layers == tuple(BLOCK) and renamed.layers == spec.layers
    assert model_from_dict(json.loads(renamed.to_json())) == renamed
    assert rename_group(spec, "block1", "block1") is spec
    for bad, reason in (("", "needs a name"), ("  ", "needs a name"),
                        ("block2", "already used"), ("conv1", "already used"),
                        ("input", "already used"), ("2nd", "not allowed"),
                        ("a b", "not allowed")):
        with pytest.raises(ModelError, match=reason):
            rename_group(spec, "block1", bad)
    with pytest.raises(ModelError, match="no group"):
        rename_group(spec, "nope", "x")

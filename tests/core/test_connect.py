"""core.model.editing.connect: what dragging a connection on the diagram does to the model."""

from __future__ import annotations

import pytest

from core.analysis import graph_layout
from core.presets import load_preset


def test_connect_adds_a_merge_input_or_a_merge_layer_and_runs_forward_only() -> None:
    from core.model import editing
    from core.model.errors import ModelError

    spec = load_preset("resnet18")
    after, changed = editing.connect(spec, "layer1_0_relu1", "layer1_0_add")
    assert changed == "layer1_0_add"
    assert after.layer(changed).inputs == ("layer1_0_bn2", "maxpool", "layer1_0_relu1")
    after, merge = editing.connect(spec, "layer1_0_relu1", "layer1_0_bn2", "Add")
    assert after.layer(merge).type == "Add"
    assert after.layer(merge).inputs == ("layer1_0_conv2", "layer1_0_relu1")
    assert after.index(merge) == after.index("layer1_0_bn2") - 1
    # the merge sits between its inputs and its reader: the layout keeps every edge forward
    layout = graph_layout.layered_layout(after)
    assert all(layout.ranks[t] > layout.ranks[s] for s, t in layout.edges)
    for source, target, why in (("layer1_0_bn2", "layer1_0_relu1", "runs forward"),
                                ("maxpool", "layer1_0_add", "already reads"),
                                ("conv1", "layer1_0_bn2", "Add or Concat")):
        with pytest.raises(ModelError, match=why):
            editing.connect(spec, source, target)


def test_insert_on_edge_and_start_branch_keep_the_other_connections() -> None:
    from core.model import editing

    spec = load_preset("resnet18")
    after, name = editing.insert_on_edge(spec, "ReLU", "layer1_0_conv1", "layer1_0_bn1")
    assert after.inputs_of(after.index(name)) == ("layer1_0_conv1",)
    assert after.inputs_of(after.index("layer1_0_bn1")) == (name,)
    assert after.layer(name).inputs == () and after.layer("layer1_0_bn1").inputs == ()
    after, name = editing.start_branch(spec, "ReLU", "layer1_0_conv1")
    assert after.index(name) == after.index("layer1_0_conv1") + 1
    assert after.inputs_of(after.index(name)) == ("layer1_0_conv1",)
    # bn1 read conv1 by being next: it still reads conv1, now named
    assert after.layer("layer1_0_bn1").inputs == ("layer1_0_conv1",)


def test_disconnect_removes_a_merge_left_with_one_input() -> None:
    from core.model import editing
    from core.model.errors import ModelError

    spec = load_preset("resnet18")
    after = editing.disconnect(spec, "layer1_0_bn2", "layer1_0_add")
    assert "layer1_0_add" not in {layer.name for layer in after.layers}
    assert after.layer("layer1_0_relu2").inputs == ("maxpool",)  # the skip, named
    with pytest.raises(ModelError, match="only input"):
        editing.disconnect(spec, "layer1_0_conv1", "layer1_0_bn1")

"""The diagram's layered layout (core.analysis.graph_layout): branches side by side, merges after
them, every connection forward, the same picture every time."""

from __future__ import annotations

import itertools
from functools import cache

import pytest

from core.analysis import graph_layout
from core.io.torchvision_models import import_torchvision
from core.model.spec import ModelSpec
from core.presets import load_preset


@cache
def googlenet() -> ModelSpec:
    return import_torchvision("googlenet").spec


def test_inception_branches_sit_side_by_side_and_merge_after_them() -> None:
    spec = googlenet()
    layout = graph_layout.layered_layout(spec)
    where = graph_layout.lanes_by_name(spec, layout)
    firsts = ["inception3a_branch1_conv", "inception3a_branch2_0_conv",
              "inception3a_branch3_0_conv", "inception3a_branch4_0"]
    assert len({where[name][0] for name in firsts}) == 1  # one rank
    assert len({where[name][1] for name in firsts}) == 4  # four lanes
    merge = next(layer.name for layer in spec.layers if layer.type == "Concat")  # 3a's
    branch_ranks = [rank for name, (rank, _lane) in where.items()
                    if name.startswith("inception3a_branch")]
    assert where[merge][0] > max(branch_ranks)
    # parallel lanes: the positions along the flow are the longest path, not the layer count
    assert graph_layout.flow_positions(layout) <= graph_layout.longest_path(layout) + 2
    assert graph_layout.flow_positions(layout) < 0.5 * len(spec.layers)


@pytest.mark.parametrize("preset", ["resnet18", "unet_small", "digits_small"])
def test_every_connection_goes_forward_through_one_point_per_rank(preset: str) -> None:
    spec = load_preset(preset)
    layout = graph_layout.layered_layout(spec)
    assert len(layout.ranks) == len(spec.layers) + 1
    for (source, target), route in zip(layout.edges, layout.routes, strict=True):
        assert layout.ranks[target] > layout.ranks[source]
        ranks = [rank for rank, _lane in route]
        assert ranks == sorted(ranks)
        assert all(layout.ranks[source] < rank < layout.ranks[target] for rank in ranks)
    assert len(layout.edges) == sum(len(spec.inputs_of(i)) for i in range(len(spec.layers)))


def test_the_layout_is_deterministic_and_cached_by_structure() -> None:
    spec = googlenet()
    first = graph_layout.layered_layout(spec)
    graph_layout._CACHE.clear()
    again = graph_layout.layered_layout(spec)
    assert again == first and again is not first
    renamed = spec.with_layers(layer if layer.name != "fc" else
                               type(layer)("classifier", layer.type, layer.params)
                               for layer in spec.layers)
    assert graph_layout.layered_layout(renamed) is again  # a rename keeps the structure


def test_place_flows_down_or_right_with_uniform_pitches() -> None:
    spec = load_preset("resnet18")
    layout = graph_layout.layered_layout(spec)
    sizes = [(20.0, 30.0)] * len(layout.ranks)
    down = graph_layout.place(layout, sizes, 50, 80, "down")
    right = graph_layout.place(layout, sizes, 50, 80, "right")
    for node, ((dx, dy), (rx, ry)) in enumerate(zip(down.centers, right.centers, strict=True)):
        assert dy == rx == (layout.ranks[node] + 0.5) * 50
        assert dx == ry == (layout.lanes[node] + 0.5) * 80
    for path in down.paths:  # from the source's bottom edge to the target's top edge
        assert all(a[1] <= b[1] for a, b in itertools.pairwise(path))
    assert (down.width, down.height) == (right.height, right.width)


def test_long_concatenations_go_along_the_side_channel() -> None:
    spec = import_torchvision("densenet121").spec
    layout = graph_layout.layered_layout(spec)
    side = max(layout.lanes) + 1
    long = [route for (s, t), route in zip(layout.edges, layout.routes, strict=True)
            if layout.ranks[t] - layout.ranks[s] > graph_layout.SPAN_LIMIT]
    assert long and all(len(route) == 2 and route[0][1] >= side for route in long)


def test_before_igraph_is_loaded_a_provisional_layout_imports_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The window draws at once, before its warm-up worker has imported igraph (~0.7 s): the
    same ranks, lanes in layer order, and no import on the calling thread."""
    import sys

    spec = load_preset("unet_small")
    exact = graph_layout.layered_layout(spec)
    monkeypatch.setattr(graph_layout, "_CACHE", type(graph_layout._CACHE)())
    monkeypatch.delitem(sys.modules, "igraph")
    provisional = graph_layout.layered_layout(spec, import_now=False)
    assert "igraph" not in sys.modules
    assert not provisional.exact and exact.exact
    assert provisional.ranks == exact.ranks and len(provisional.routes) == len(exact.routes)
    for (source, target), route in zip(provisional.edges, provisional.routes, strict=True):
        assert all(layout_rank > provisional.ranks[source] for layout_rank, _ in route)
        assert provisional.ranks[target] > provisional.ranks[source]


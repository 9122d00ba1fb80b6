"""Groups: named sets of layers that the diagram draws as one block.

A group is a run of consecutive layers or any set holding every layer on a path between two of
its layers (two parallel branches, interleaved in the file or not), and no two groups read each
other (core.model.group_graph says why that is what makes the block a sound picture). The model
file keeps its layers flat and records each group by name (``groups`` in core.model.spec);
grouping changes no layer and no connection. Edits that add, remove, move or connect layers
keep the groups valid (:func:`tidy_groups`), so no edit has to think about them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from core.model import group_graph
from core.model.errors import ModelError
from core.model.spec import (
    INPUT,
    LayerGroup,
    ModelSpec,
    group_problem,
)


def group_of(spec: ModelSpec, layer: str) -> LayerGroup | None:
    """The group ``layer`` belongs to, if any."""
    return next((group for group in spec.groups if layer in group.layers), None)


def fresh_group_name(spec: ModelSpec, base: str = "group") -> str:
    """``base`` or base2, base3… : a name no layer or group has."""
    taken = {layer.name for layer in spec.layers} | {g.name for g in spec.groups} | {INPUT}
    stem = base.rstrip("0123456789") or "group"
    if base not in taken:
        return base
    number = 2
    while f"{stem}{number}" in taken:
        number += 1
    return f"{stem}{number}"


def _reads(spec: ModelSpec) -> list[tuple[int, ...]]:
    return group_graph.reads_of([layer.name for layer in spec.layers],
                                [layer.inputs for layer in spec.layers])


def group_layers(spec: ModelSpec, names: Iterable[str], name: str | None = None) -> ModelSpec:
    """Record the layers ``names`` as group ``name`` (a fresh one when None): a run of
    consecutive layers, or any set that holds every layer on a path between two of its layers
    (core.model.group_graph). ModelError saying why for a bad name or selection."""
    order = [layer.name for layer in spec.layers]
    wanted = set(names)
    members = [n for n in order if n in wanted]
    if len(members) < 2:
        raise ModelError("select two or more layers to group")
    name = fresh_group_name(spec) if name is None else name.strip()
    taken = {g.name for g in spec.groups}
    grouped = {m for g in spec.groups for m in g.layers}
    problem = group_problem(name, members, order, taken | grouped)
    position = {layer: i for i, layer in enumerate(order)}
    spots = [position[m] for m in members]
    others = [[position[m] for m in g.layers] for g in spec.groups]
    if problem is None and (not group_graph.is_run(spots) or
                            any(not group_graph.is_run(o) for o in others)):
        problem = group_graph.graph_problem(name, spots, others, _reads(spec), order,
                                            {i: g.name for i, g in enumerate(spec.groups)})
    if problem is not None:
        raise ModelError(f"cannot group: {problem}")
    groups = sorted((*spec.groups, LayerGroup(name, tuple(members))),
                    key=lambda g: position[g.layers[0]])
    return replace(spec, groups=tuple(groups))


def rename_group(spec: ModelSpec, old: str, new: str) -> ModelSpec:
    """Call group ``old`` ``new`` (its layers unchanged). ModelError saying why for an empty,
    badly formed or taken name (the rule a file's groups are read by)."""
    group = next((g for g in spec.groups if g.name == old), None)
    if group is None:
        raise ModelError(f"no group {old}")
    new = new.strip()
    if not new:
        raise ModelError("not renamed: a group needs a name")
    if new == old:
        return spec
    problem = group_problem(new, list(group.layers), [layer.name for layer in spec.layers],
                            {g.name for g in spec.groups if g is not group})
    if problem is not None:
        raise ModelError(f"not renamed: {problem}")
    return replace(spec, groups=tuple(replace(g, name=new) if g is group else g
                                      for g in spec.groups))


def ungroup(spec: ModelSpec, name: str) -> ModelSpec:
    """Forget group ``name`` (its layers stay)."""
    if all(g.name != name for g in spec.groups):
        raise ModelError(f"no group {name}")
    return replace(spec, groups=tuple(g for g in spec.groups if g.name != name))


def rename_in_groups(spec: ModelSpec, old: str, new: str) -> ModelSpec:
    """A renamed layer keeps its place in its group."""
    if not any(old in g.layers for g in spec.groups):
        return spec
    return replace(spec, groups=tuple(
        replace(g, layers=tuple(new if m == old else m for m in g.layers)) for g in spec.groups))


def tidy_groups(spec: ModelSpec) -> ModelSpec:
    """The groups after an edit: removed layers leave their group, a layer that comes to lie on
    a path between two of a group's layers (one inserted inside it) joins it, and a group left
    with fewer than two layers, taking another group's layers (after a move) or reading and
    read by another group (after a connection) goes."""
    if not spec.groups:
        return spec
    order = [layer.name for layer in spec.layers]
    position = {name: i for i, name in enumerate(order)}
    reads: list[tuple[int, ...]] | None = None
    kept: list[LayerGroup] = []
    spots_kept: list[list[int]] = []
    used: set[int] = set()
    for group in spec.groups:
        spots = sorted({position[m] for m in group.layers if m in position})
        if len(spots) < 2:
            continue
        if not group_graph.is_run(spots):
            if reads is None:
                reads = _reads(spec)
            spots = sorted({*spots, *group_graph.between(spots, reads)})
        if used.intersection(spots):
            continue
        if not group_graph.is_run(spots) or any(not group_graph.is_run(s) for s in spots_kept):
            if reads is None:
                reads = _reads(spec)
            if spots_kept and group_graph.contracted_order([*spots_kept, spots], reads) is None:
                continue
        used.update(spots)
        spots_kept.append(spots)
        members = tuple(order[i] for i in spots)
        kept.append(group if members == group.layers else replace(group, layers=members))
    kept.sort(key=lambda g: position[g.layers[0]])
    groups = tuple(kept)
    return spec if groups == spec.groups else replace(spec, groups=groups)


def collapsed_nodes(spec: ModelSpec, collapsed: Collection[str]
                    ) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """The diagram's graph with the groups named in ``collapsed`` drawn as one node each.

    Returns the node names (the input, then each layer or collapsed group, every node after
    those it reads: in model order when the groups are runs), the structure (per node after the
    input, the nodes it reads, as core.analysis.graph_layout's Structure) and, per node after
    the input, the index of the layer whose output it shows (a group shows its last layer's)."""
    order = [layer.name for layer in spec.layers]
    position = {name: i for i, name in enumerate(order)}
    chosen = [g for g in spec.groups if g.name in collapsed]
    spots = [[position[m] for m in g.layers] for g in chosen]
    reads = _reads(spec)
    nodes = group_graph.contracted_order(spots, reads)
    if nodes is None:  # tidy_groups keeps the groups from feeding each other
        raise ModelError("the groups read each other")
    group_at = {tuple(sorted(s)): g.name for s, g in zip(spots, chosen, strict=True)}
    names: list[str] = [INPUT]
    node_of: dict[int, int] = {}
    shown: list[int] = []
    for item in nodes:
        node = len(names)
        if isinstance(item, tuple):
            names.append(group_at[item])
            node_of.update(dict.fromkeys(item, node))
            shown.append(item[-1])  # the last layer of a group
        else:
            names.append(order[item])
            node_of[item] = node
            shown.append(item)
    structure: list[tuple[int, ...]] = []
    for item in nodes:
        layers = item if isinstance(item, tuple) else (item,)
        node = node_of[layers[0]]
        sources: list[int] = []
        for index in layers:
            for source in spec.inputs_of(index):
                spot = 0 if source == INPUT else (
                    node_of[position[source]] if position.get(source, index) < index else None)
                if spot is not None and spot != node and spot not in sources:
                    sources.append(spot)
        structure.append(tuple(sources))
    return tuple(names), tuple(structure), tuple(shown)


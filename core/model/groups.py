"""Groups: named runs of consecutive layers that the diagram draws as one block.

The model file keeps its layers flat and records each group by name (``groups`` in
core.model.spec); grouping changes no layer and no connection. Edits that add, remove or move
layers keep the groups valid (:func:`tidy_groups`), so no edit has to think about them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace

from core.model.errors import ModelError
from core.model.spec import INPUT, LayerGroup, ModelSpec, group_problem


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


def group_layers(spec: ModelSpec, names: Iterable[str], name: str | None = None) -> ModelSpec:
    """Record the layers ``names`` (consecutive in the model's order) as group ``name`` (a fresh
    one when None). ModelError saying why for a bad name or selection."""
    order = [layer.name for layer in spec.layers]
    members = [n for n in order if n in set(names)]
    if len(members) < 2:
        raise ModelError("select two or more layers to group")
    name = fresh_group_name(spec) if name is None else name.strip()
    taken = {g.name for g in spec.groups}
    grouped = {m for g in spec.groups for m in g.layers}
    problem = group_problem(name, members, order, taken | grouped)
    if problem is not None:
        raise ModelError(f"cannot group: {problem}")
    groups = sorted((*spec.groups, LayerGroup(name, tuple(members))),
                    key=lambda g: order.index(g.layers[0]))
    return replace(spec, groups=tuple(groups))


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
    """The groups after an edit: removed layers leave their group, a layer added inside a
    group's run joins it, a group left with fewer than two layers (or overlapping an earlier
    one, after a move) goes."""
    if not spec.groups:
        return spec
    order = [layer.name for layer in spec.layers]
    position = {name: i for i, name in enumerate(order)}
    kept: list[LayerGroup] = []
    used: set[int] = set()
    for group in spec.groups:
        spots = [position[m] for m in group.layers if m in position]
        if len(spots) < 2:
            continue
        run = range(min(spots), max(spots) + 1)
        if used.intersection(run):
            continue
        used.update(run)
        members = tuple(order[i] for i in run)
        kept.append(group if members == group.layers else replace(group, layers=members))
    kept.sort(key=lambda g: position[g.layers[0]])
    groups = tuple(kept)
    return spec if groups == spec.groups else replace(spec, groups=groups)


def collapsed_nodes(spec: ModelSpec, collapsed: Collection[str]
                    ) -> tuple[tuple[str, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """The diagram's graph with the groups named in ``collapsed`` drawn as one node each.

    Returns the node names (the input, then each layer or collapsed group, in model order), the
    structure (per node after the input, the nodes it reads, as core.analysis.graph_layout's
    Structure) and, per node after the input, the index of the layer whose output it shows (a
    group shows its last layer's)."""
    owner: dict[str, str] = {}
    for group in spec.groups:
        if group.name in collapsed:
            owner.update(dict.fromkeys(group.layers, group.name))
    names: list[str] = [INPUT]
    node_of: dict[str, int] = {INPUT: 0}
    reads: list[list[int]] = []
    shown: list[int] = []
    for index, layer in enumerate(spec.layers):
        node_name = owner.get(layer.name, layer.name)
        if node_name not in node_of:
            node_of[node_name] = len(names)
            names.append(node_name)
            reads.append([])
            shown.append(index)
        node = node_of[node_name]
        shown[node - 1] = index  # the last layer of a group
        for source in spec.inputs_of(index):
            if source in node_of and node_of[source] != node and node_of[source] not in \
                    reads[node - 1]:
                reads[node - 1].append(node_of[source])
        node_of[layer.name] = node
    return tuple(names), tuple(tuple(r) for r in reads), tuple(shown)

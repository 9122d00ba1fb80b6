"""Repeated stages of an imported model, recorded as groups the diagram draws collapsed.

ResNet-152's ``layer3`` is 36 Bottleneck blocks, 360 layers: drawn open, the diagram is a strip
the user scrolls for minutes. A *repeated stage* is a container (``nn.Sequential``,
``nn.ModuleList`` or ``nn.ModuleDict``, subclasses included: DenseNet's ``_DenseBlock``) whose
children are two or more blocks of one class, each a block of its own (it has children: not a
run of ReLUs). Only large models get them (LARGE_MODEL layers or more: a ResNet-18 or an
Inception branch stays open, as the diagram shows it whole), and only stages of MIN_LAYERS
layers or more. Each becomes a group named after its path (``layer3``, ``features_denseblock2``);
the outermost stage wins unless it holds nearly the whole model (RegNet's ``trunk_output``:
then its own stages are the groups), and a stage whose layers are not one run of consecutive
layers in the model file is left open. The layers stay flat in the file (core.model.groups):
the user opens a stage with a double-click, or ungroups it.
"""

from __future__ import annotations

import re
from typing import Any

from torch import fx, nn

from core.model.spec import INPUT, LayerGroup, group_problem, run_problem

MIN_BLOCKS = 2
LARGE_MODEL = 150
"""Layers from which a model is too long to draw open (ResNet-50 has 177, ResNet-34 125)."""
MIN_LAYERS = 12
MAX_SHARE = 0.9
"""A stage holding more of the model's layers than this is opened into its own stages."""


def _is_stage(module: nn.Module) -> bool:
    if not isinstance(module, (nn.Sequential, nn.ModuleList, nn.ModuleDict)):
        return False
    children = list(module.children())
    return (len(children) >= MIN_BLOCKS and len({type(c) for c in children}) == 1
            and any(True for _ in children[0].children()))


def stage_paths(root: nn.Module) -> list[str]:
    """The paths of ``root``'s repeated stages, outer ones before those inside them."""
    return [path for path, module in root.named_modules() if path and _is_stage(module)]


def _group_name(path: str, taken: set[str]) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", path)[:60]
    if not name[:1].isalpha():
        name = f"stage_{name}"[:60]
    base, number = name, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    return name


def stage_groups(root: nn.Module, graph: fx.Graph, source: dict[fx.Node, Any],
                 order: list[str]) -> tuple[LayerGroup, ...]:
    """Groups for ``root``'s repeated stages, from the traced ``graph`` (each node's module
    stack) and ``source`` (the layer each node's value comes from); ``order``: the layers."""
    stages = stage_paths(root)
    if not stages or len(order) < LARGE_MODEL:
        return ()
    layers = set(order)
    members: dict[str, list[str]] = {path: [] for path in stages}
    placed: set[str] = set()
    for node in graph.nodes:
        name = source.get(node)
        if not isinstance(name, str) or name not in layers or name in placed:
            continue  # not a layer, or a later node reading a layer made before
        placed.add(name)
        stack = {str(path) for path, _ in (node.meta.get("nn_module_stack") or {}).values()}
        for path in stages:
            if path in stack:
                members[path].append(name)
    names: set[str] = set()
    grouped: set[str] = set()
    chosen: list[str] = []
    groups: list[LayerGroup] = []
    for path in stages:
        run = members[path]
        if (any(path.startswith(f"{outer}.") for outer in chosen) or len(run) < MIN_LAYERS
                or len(run) > MAX_SHARE * len(order)):
            continue
        name = _group_name(path, layers | names | {INPUT})
        if group_problem(name, run, order, names | grouped) is None and \
                run_problem(run, order) is None:
            groups.append(LayerGroup(name, tuple(run)))
            names.add(name)
            grouped.update(run)
            chosen.append(path)
    position = {layer: i for i, layer in enumerate(order)}
    return tuple(sorted(groups, key=lambda g: position[g.layers[0]]))

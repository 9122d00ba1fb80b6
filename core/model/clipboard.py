"""Copy and paste of layers: a copied block keeps its inner connections and is renamed on paste.

A copy holds the layers in the model's order with every input spelled out; inputs from layers
outside the copy are "outer". Pasting after a layer (the anchor) inserts the block right after
it: the block's outer inputs read the anchor, and what read the anchor reads the block's last
layer, so pasting a ResNet block after a ResNet block chains a third one, skips included. Copies
travel as JSON (the system clipboard), checked like a model file when read back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.model.errors import ModelError
from core.model.groups import fresh_group_name, tidy_groups
from core.model.spec import (
    FORMAT,
    INPUT,
    LayerGroup,
    LayerSpec,
    ModelSpec,
    default_name,
    model_from_dict,
)

CLIPBOARD_FORMAT = "convscope.layers/1"


@dataclass(frozen=True)
class CopiedLayers:
    """Layers copied from a model: explicit inputs, and the groups they cover whole."""

    layers: tuple[LayerSpec, ...]
    groups: tuple[LayerGroup, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(layer.name for layer in self.layers)

    def to_json(self) -> str:
        return json.dumps({"format": CLIPBOARD_FORMAT,
                           "layers": [layer.to_dict() for layer in self.layers],
                           "groups": [group.to_dict() for group in self.groups]})


def copy_layers(spec: ModelSpec, names: Iterable[str]) -> CopiedLayers:
    """The layers ``names`` of ``spec`` in model order, each with its inputs written out."""
    wanted = set(names)
    layers = tuple(replace(layer, inputs=spec.inputs_of(index))
                   for index, layer in enumerate(spec.layers) if layer.name in wanted)
    if not layers:
        raise ModelError("select one or more layers to copy")
    groups = tuple(g for g in spec.groups if wanted.issuperset(g.layers))
    return CopiedLayers(layers, groups)


def copied_from_json(text: str) -> CopiedLayers:
    """Read a copy back (from the clipboard); ModelError with the reason for anything else."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError("the clipboard holds no ConvScope layers") from None
    if not isinstance(data, dict) or data.get("format") != CLIPBOARD_FORMAT or \
            set(data) - {"format", "layers", "groups"}:
        raise ModelError("the clipboard holds no ConvScope layers")
    raw = data.get("layers")
    if not isinstance(raw, list) or not raw:
        raise ModelError("the copied layers must be a non-empty list")
    # checked as a model file whose outer inputs are stand-in layers above the copy
    names = [r.get("name") for r in raw if isinstance(r, dict)]
    outer = sorted({i for r in raw if isinstance(r, dict) for i in r.get("inputs", [])
                    if isinstance(i, str) and i not in names and i != INPUT})
    stand_ins = [{"name": name, "type": "Identity"} for name in outer]
    if any(not isinstance(r, dict) or "name" not in r for r in raw):
        raise ModelError("each copied layer must be an object with a name")
    spec = model_from_dict({"format": FORMAT, "input": {"shape": [1]},
                            "layers": stand_ins + raw, "groups": data.get("groups", [])},
                           strict=True)
    return CopiedLayers(spec.layers[len(outer):], spec.groups)


def paste_layers(spec: ModelSpec, copied: CopiedLayers,
                 anchor: str | None) -> tuple[ModelSpec, tuple[str, ...]]:
    """Insert fresh copies of ``copied`` right after ``anchor`` (None: at the end, after the
    last layer). Returns the spec and the new layers' names in order."""
    names = [layer.name for layer in spec.layers]
    if anchor is None:
        anchor = names[-1] if names else INPUT
    if anchor != INPUT and anchor not in names:
        raise ModelError(f"no layer {anchor} to paste after")
    at = names.index(anchor) + 1 if anchor != INPUT else 0
    above = {INPUT, *names[:at]}
    taken = set(names) | {g.name for g in spec.groups}
    counters: dict[str, int] = {}
    renamed: dict[str, str] = {}
    for layer in copied.layers:
        renamed[layer.name] = default_name(layer.type, taken, counters)
        taken.add(renamed[layer.name])
    fresh: list[LayerSpec] = []
    previous = anchor
    for layer in copied.layers:
        inputs = [renamed.get(source, anchor) for source in layer.inputs]
        inputs = list(dict.fromkeys(inputs))
        if len(layer.inputs) >= 2 and len(inputs) < 2:
            # a merge of outer layers: keep those of them that are above the paste
            inputs = list(dict.fromkeys(
                renamed.get(s, s if s in above else anchor) for s in layer.inputs))
        new_name = renamed[layer.name]
        implicit = inputs == [previous]
        fresh.append(replace(layer, name=new_name, inputs=() if implicit else tuple(inputs)))
        previous = new_name
    exit_name = fresh[-1].name
    after: list[LayerSpec] = []
    for layer in spec.layers[at:]:
        if anchor in layer.inputs:
            layer = replace(layer, inputs=tuple(dict.fromkeys(
                exit_name if i == anchor else i for i in layer.inputs)))
        after.append(layer)
    if after and after[0].inputs == (exit_name,):
        after[0] = replace(after[0], inputs=())
    pasted = spec.with_layers([*spec.layers[:at], *fresh, *after])
    groups = list(pasted.groups)
    for group in copied.groups:
        members = tuple(renamed[m] for m in group.layers)
        candidate = replace(pasted, groups=tuple(groups))
        groups.append(LayerGroup(fresh_group_name(candidate, group.name), members))
    pasted = tidy_groups(replace(pasted, groups=tuple(groups)))
    if pasted.init is not None:  # copied overrides go with the copies
        overrides = dict(pasted.init.layers)
        overrides.update({renamed[k]: v for k, v in pasted.init.layers.items() if k in renamed})
        pasted = replace(pasted, init=replace(pasted.init, layers=overrides))
    return pasted, tuple(layer.name for layer in fresh)

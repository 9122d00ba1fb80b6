"""Edits of a model, as pure functions from one ModelSpec to the next.

The GUI's undo stack keeps the spec before and after each edit; everything an edit means
(fresh names, keeping connections intact on rename and delete) is decided here, without Qt.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from core.model.catalog import CATALOG
from core.model.errors import LayerError, ModelError
from core.model.groups import tidy_groups
from core.model.spec import LayerSpec, ModelSpec, check_layer_name, default_name


def _names(spec: ModelSpec) -> set[str]:
    """The names taken: the layers' and the groups' (a new layer never takes a group's)."""
    return {layer.name for layer in spec.layers} | {group.name for group in spec.groups}


def new_layer(spec: ModelSpec, type_name: str, params: Mapping[str, Any] | None = None,
              inputs: Iterable[str] = ()) -> LayerSpec:
    """A layer of ``type_name`` with the catalog's starter settings and a fresh name."""
    if type_name not in CATALOG:
        raise ModelError(f'unknown layer type "{type_name}"')
    settings = dict(CATALOG[type_name].starter) if params is None else dict(params)
    return LayerSpec(default_name(type_name, _names(spec)), type_name, settings,
                     inputs=tuple(inputs))


def insert_layer(spec: ModelSpec, layer: LayerSpec, index: int | None = None) -> ModelSpec:
    """Insert ``layer`` before position ``index`` (append when None)."""
    layers = list(spec.layers)
    layers.insert(len(layers) if index is None else max(0, min(index, len(layers))), layer)
    return tidy_groups(spec.with_layers(layers))


def add_layer(spec: ModelSpec, type_name: str, index: int | None = None) -> tuple[ModelSpec, str]:
    """Add a fresh layer of ``type_name``; merge layers read the two layers above them."""
    position = len(spec.layers) if index is None else index
    inputs: tuple[str, ...] = ()
    if CATALOG.get(type_name) is not None and CATALOG[type_name].merge:
        above = [layer.name for layer in spec.layers[:position]]
        inputs = tuple(above[-2:]) if len(above) >= 2 else ()
    layer = new_layer(spec, type_name, inputs=inputs)
    return insert_layer(spec, layer, position), layer.name


def remove_layers(spec: ModelSpec, names: Iterable[str]) -> ModelSpec:
    """Remove layers; a layer that read a removed one reads what the removed one read."""
    doomed = set(names)
    current = spec
    for name in [layer.name for layer in spec.layers if layer.name in doomed]:
        index = current.index(name)
        source = current.inputs_of(index)[0]
        layers = []
        for other in current.layers:
            if other.name == name:
                continue
            if name in other.inputs:
                replaced = tuple(dict.fromkeys(source if i == name else i for i in other.inputs))
                other = replace(other, inputs=replaced)
            layers.append(other)
        current = current.with_layers(layers)
    if current.init is not None and doomed & set(current.init.layers):  # overrides go too
        kept = {k: v for k, v in current.init.layers.items() if k not in doomed}
        current = replace(current, init=replace(current.init, layers=kept))
    return tidy_groups(current)


def move_layer(spec: ModelSpec, name: str, index: int) -> ModelSpec:
    """Move layer ``name`` to position ``index`` (in the list without it)."""
    layers = [layer for layer in spec.layers if layer.name != name]
    layers.insert(max(0, min(index, len(layers))), spec.layer(name))
    return tidy_groups(spec.with_layers(layers))


def duplicate_layer(spec: ModelSpec, name: str) -> tuple[ModelSpec, str]:
    """Insert a copy of ``name`` right after it, reading it; returns the copy's name."""
    original = spec.layer(name)
    copy = replace(original, name=default_name(original.type, _names(spec)),
                   inputs=original.inputs if CATALOG[original.type].merge else ())
    return insert_layer(spec, copy, spec.index(name) + 1), copy.name


def rename_layer(spec: ModelSpec, old: str, new: str) -> ModelSpec:
    """Rename a layer and every reference to it; LayerError for a bad or taken name."""
    new = check_layer_name(new.strip(), old)
    if new == old:
        return spec
    if new in _names(spec):
        raise LayerError(old, f'the name "{new}" is already used by another layer or a group')
    layers = []
    for layer in spec.layers:
        if layer.name == old:
            layer = replace(layer, name=new)
        if old in layer.inputs:
            layer = replace(layer, inputs=tuple(new if i == old else i for i in layer.inputs))
        layers.append(layer)
    from core.model.groups import rename_in_groups

    renamed = rename_in_groups(spec.with_layers(layers), old, new)
    if spec.init is not None and old in spec.init.layers:  # the override follows the layer
        moved = {new if k == old else k: v for k, v in spec.init.layers.items()}
        renamed = replace(renamed, init=replace(spec.init, layers=moved))
    return renamed


def set_param(spec: ModelSpec, name: str, key: str, value: Any) -> ModelSpec:
    """Set one setting (None removes it, falling back to the default or inference)."""
    layer = spec.layer(name)
    return _replace_layer(spec, layer.with_params(**{key: value}))


def set_trainable(spec: ModelSpec, name: str, trainable: bool) -> ModelSpec:
    return _replace_layer(spec, replace(spec.layer(name), trainable=trainable))


def set_trainable_many(spec: ModelSpec, names: Iterable[str], trainable: bool) -> ModelSpec:
    """Freeze (or unfreeze) every layer in ``names`` at once."""
    chosen = set(names)
    unknown = chosen - {layer.name for layer in spec.layers}
    if unknown:
        raise ModelError(f"no layer {sorted(unknown)[0]}")
    return spec.with_layers(replace(layer, trainable=trainable) if layer.name in chosen
                            else layer for layer in spec.layers)


def layers_up_to(spec: ModelSpec, name: str) -> tuple[str, ...]:
    """``name`` and every layer it depends on (what "freeze up to here" freezes): its
    ancestors in the graph, not merely the layers above it in the list."""
    index = spec.index(name)
    position = {layer.name: i for i, layer in enumerate(spec.layers)}
    needed, todo = {name}, [index]
    while todo:
        for source in spec.inputs_of(todo.pop()):
            if source in position and source not in needed:
                needed.add(source)
                todo.append(position[source])
    return tuple(layer.name for layer in spec.layers if layer.name in needed)


def set_layer_init(spec: ModelSpec, name: str, scheme: str) -> ModelSpec:
    """One layer's weight initialiser (core.model.initialisation.SCHEMES); the model's own
    scheme removes the override. ModelError for an unknown scheme."""
    from core.model.initialisation import SCHEMES, Initialisation

    spec.layer(name)
    if scheme not in SCHEMES:
        raise ModelError(f"the initialiser must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    init = spec.init or Initialisation()
    layers = {k: v for k, v in init.layers.items() if k != name}
    if scheme != init.weights:
        layers[name] = scheme
    new = replace(init, layers=layers)
    return replace(spec, init=None if new.is_default else new)


def set_model_init(spec: ModelSpec, scheme: str, biases: str | None = None) -> ModelSpec:
    """Every layer's weights start with ``scheme`` (the per-layer overrides are dropped), and
    the biases with ``biases`` when given (default or zeros): the whole model at once, one
    edit. ModelError for an unknown scheme or bias choice."""
    from core.model.initialisation import BIASES, SCHEMES, Initialisation

    if scheme not in SCHEMES:
        raise ModelError(f"the initialiser must be one of {', '.join(SCHEMES)}; got {scheme!r}")
    if biases is not None and biases not in BIASES:
        raise ModelError(f"biases must be one of {', '.join(BIASES)}; got {biases!r}")
    old = spec.init or Initialisation()
    new = Initialisation(scheme, old.biases if biases is None else biases, {})
    return replace(spec, init=None if new.is_default else new)


def set_inputs(spec: ModelSpec, name: str, inputs: Iterable[str]) -> ModelSpec:
    """``name`` reads ``inputs``; the groups follow (a layer now between two of a group's
    layers joins it, core.model.groups.tidy_groups)."""
    return tidy_groups(_replace_layer(spec, replace(spec.layer(name), inputs=tuple(inputs))))


def connect(spec: ModelSpec, source: str, target: str,
            merge: str | None = None) -> tuple[ModelSpec, str]:
    """``target`` also reads ``source`` (the input or an earlier layer): a merge layer (Add,
    Concat, Mul…) gets one more input; any other layer gets a fresh ``merge`` layer of that type
    just before it, reading what it read and ``source``, and reads the merge. Returns the spec
    and the layer whose inputs changed (the merge, new or not)."""
    from core.model.spec import INPUT

    names = [layer.name for layer in spec.layers]
    if target not in names:
        raise ModelError(f"no layer {target} to connect to")
    index = names.index(target)
    if source != INPUT and (source not in names or names.index(source) >= index):
        raise ModelError(f"{source} comes after {target}: a connection runs forward, from an "
                         "earlier layer to a later one")
    layer = spec.layers[index]
    reads = spec.inputs_of(index)
    if source in reads:
        raise ModelError(f"{target} already reads {source}")
    if CATALOG[layer.type].merge:
        return set_inputs(spec, target, (*reads, source)), target
    if merge is None or merge not in CATALOG or not CATALOG[merge].merge:
        raise ModelError(f"{target} reads one layer: merge the two with Add or Concat")
    joined = new_layer(spec, merge, inputs=(*reads, source))
    spec = insert_layer(spec, joined, index)
    return set_inputs(spec, target, (joined.name,)), joined.name


def insert_on_edge(spec: ModelSpec, type_name: str, source: str,
                   target: str) -> tuple[ModelSpec, str]:
    """A fresh ``type_name`` layer on the connection from ``source`` to ``target``: placed just
    before ``target``, it reads ``source`` and ``target`` reads it in ``source``'s place (a
    connection to the layer just above is left implicit, as the file writes it)."""
    names = [layer.name for layer in spec.layers]
    if target not in names:
        raise ModelError(f"no layer {target}")
    index = names.index(target)
    reads = spec.inputs_of(index)
    if source not in reads:
        raise ModelError(f"{target} does not read {source}")
    previous = names[index - 1] if index else None
    layer = new_layer(spec, type_name, inputs=() if source == previous or (
        source == "input" and index == 0) else (source,))
    after = insert_layer(spec, layer, index)
    now = tuple(layer.name if name == source else name for name in reads)
    return set_inputs(after, target, () if now == (layer.name,) else now), layer.name


def disconnect(spec: ModelSpec, source: str, target: str) -> ModelSpec:
    """Remove the connection ``source`` → ``target``. A merge left with one input goes, and what
    read it reads that input; a layer's only input cannot be removed (delete the layer)."""
    index = spec.index(target)
    reads = spec.inputs_of(index)
    if source not in reads:
        raise ModelError(f"{target} does not read {source}")
    rest = tuple(name for name in reads if name != source)
    layer = spec.layers[index]
    if not CATALOG[layer.type].merge or not rest:
        raise ModelError(f"{source} is the only input of {target}: delete a layer instead")
    if len(rest) >= 2:
        return set_inputs(spec, target, rest)
    keep = rest[0]
    after = set_inputs(spec, target, (keep,))
    if index + 1 < len(after.layers) and not after.layers[index + 1].inputs:
        after = set_inputs(after, after.layers[index + 1].name, (target,))
    return remove_layers(after, [target])


def start_branch(spec: ModelSpec, type_name: str, source: str) -> tuple[ModelSpec, str]:
    """A fresh ``type_name`` layer reading ``source``, beside what already reads it: placed
    just after ``source``, and the layer that read ``source`` by being next keeps reading it."""
    names = [layer.name for layer in spec.layers]
    if source not in names:
        raise ModelError(f"no layer {source} to branch from")
    index = names.index(source) + 1
    layer = new_layer(spec, type_name, inputs=())
    after = insert_layer(spec, layer, index)
    if index + 1 < len(after.layers) and not after.layers[index + 1].inputs:
        after = set_inputs(after, after.layers[index + 1].name, (source,))
    return after, layer.name


def set_input_shape(spec: ModelSpec, shape: Iterable[int]) -> ModelSpec:
    values = tuple(shape)
    if not 1 <= len(values) <= 4 or any(v < 1 for v in values):
        raise ModelError("the input shape needs 1 to 4 positive sizes")
    return replace(spec, input_shape=values)


def _replace_layer(spec: ModelSpec, layer: LayerSpec) -> ModelSpec:
    return spec.with_layers(layer if old.name == layer.name else old for old in spec.layers)


def empty_model(name: str = "untitled", shape: tuple[int, ...] = (1, 28, 28)) -> ModelSpec:
    return ModelSpec(name, shape, ())

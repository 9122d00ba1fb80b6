"""The model file: format ``convscope.model/1``, a JSON description of a network.

A model is an input shape and a list of layers. A layer is a torch.nn class name with that
class's constructor arguments as torch spells them, plus an optional ``name``, ``trainable`` flag
and ``inputs`` (earlier layers it reads; default the previous one). Parsing checks the structure
(types, keys, names, connections); parameter values are checked by the analysis, so that a file
with one bad value still opens with the bad layer marked and the layers before it analysed.

``groups`` (optional) names sets of layers that the diagram draws as one block (core.model.groups:
a run of consecutive layers, or any set that holds every layer on a path between two of its
layers, such as parallel branches); the layers stay flat in ``layers``, so a file without groups
reads as before.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from core.model import group_graph
from core.model.catalog import CATALOG
from core.model.errors import (
    MAX_COUNT,
    LayerError,
    ModelError,
    count_text,
    quote,
    shape_text,
)
from core.model.initialisation import Initialisation, parse_initialisation
from core.model.labels import Normalization, parse_classes, parse_normalization
from core.model.params import unknown_key_message

FORMAT_PREFIX = "convscope.model/"
FORMAT_VERSION = 1
FORMAT = f"{FORMAT_PREFIX}{FORMAT_VERSION}"
INPUT = "input"
"""Reserved layer name: the model's input, usable in ``inputs``."""

Task = Literal["classification", "segmentation", "detection", "localization"]
TASKS: tuple[Task, ...] = ("classification", "segmentation", "detection", "localization")
LAYER_KEYS = ("type", "name", "trainable", "inputs")
InputDtype = Literal["float32", "int64"]
INPUT_DTYPES: tuple[InputDtype, ...] = ("float32", "int64")
MODEL_KEYS = ("format", "name", "task", "description", "input", "layers", "classes",
              "normalization", "init", "groups")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_VERSION_RE = re.compile(r"[1-9][0-9]{0,8}")  # 1, 2, …: no sign, no leading zero, bounded
# Attribute names of torch's ModuleDict, which holds the built layers by name: a layer cannot
# be called "training" or "keys" (a test keeps this list complete for the installed torch).
RESERVED_NAMES = frozenset(
    ('T_destination', 'add_module', 'apply', 'bfloat16', 'buffers', 'call_super_init', 'children',
    'clear', 'compile', 'cpu', 'cuda', 'double', 'dump_patches', 'eval', 'extra_repr', 'float',
    'forward', 'get_buffer', 'get_extra_state', 'get_parameter', 'get_submodule', 'half', 'ipu',
    'items', 'keys', 'load_state_dict', 'modules', 'mtia', 'named_buffers', 'named_children',
    'named_modules', 'named_parameters', 'parameters', 'pop', 'register_backward_hook',
    'register_buffer', 'register_forward_hook', 'register_forward_pre_hook',
    'register_full_backward_hook', 'register_full_backward_pre_hook',
    'register_load_state_dict_post_hook', 'register_load_state_dict_pre_hook', 'register_module',
    'register_parameter', 'register_state_dict_post_hook', 'register_state_dict_pre_hook',
    'requires_grad_', 'set_extra_state', 'set_submodule', 'share_memory', 'state_dict', 'to',
    'to_empty', 'train', 'training', 'type', 'update', 'values', 'xpu', 'zero_grad')
)
_PREFIXES = {
    "Conv1d": "conv", "Conv2d": "conv", "Conv3d": "conv", "ConvTranspose2d": "upconv",
    "MaxPool2d": "pool", "AvgPool2d": "pool", "LPPool2d": "pool", "AdaptiveAvgPool2d": "gap",
    "AdaptiveMaxPool2d": "gmp", "BatchNorm1d": "bn", "BatchNorm2d": "bn", "Linear": "fc",
    "LocalResponseNorm": "lrn",
}


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a model file. ``inputs`` is empty when the layer reads the previous one."""

    name: str
    type: str
    params: Mapping[str, Any] = field(default_factory=dict)
    trainable: bool = True
    inputs: tuple[str, ...] = ()

    def with_params(self, **changes: Any) -> LayerSpec:
        """A copy with some parameters changed; a value of None removes the key."""
        params = dict(self.params)
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return replace(self, params=params)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type}
        for key, value in self.params.items():
            out[key] = list(value) if isinstance(value, tuple) else value
        if not self.trainable:
            out["trainable"] = False
        if self.inputs:
            out["inputs"] = list(self.inputs)
        return out


@dataclass(frozen=True)
class LayerGroup:
    """A named set of layers (in the model's order), shown as one block: a run of consecutive
    layers, or any set that holds every layer on a path between two of its layers."""

    name: str
    layers: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "layers": list(self.layers)}


@dataclass(frozen=True)
class ModelSpec:
    """A whole model: name, task, input shape (batch excluded) and layers in order."""

    name: str
    input_shape: tuple[int, ...]
    layers: tuple[LayerSpec, ...]
    task: Task = "classification"
    description: str = ""
    input_dtype: InputDtype = "float32"
    """``int64``: the input is a sequence of integer token ids (text), read by an Embedding."""
    classes: tuple[str, ...] = ()
    """The outputs' class names when the file has them (an imported pretrained model)."""
    normalization: Normalization | None = None
    """The input normalisation the weights expect, when the file has it."""
    init: Initialisation | None = None
    """The weight initialisation (core.model.initialisation); None: torch's default."""
    groups: tuple[LayerGroup, ...] = ()
    """Named sets of layers drawn as one block each (core.model.groups)."""

    def layer(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def index(self, name: str) -> int:
        for i, layer in enumerate(self.layers):
            if layer.name == name:
                return i
        raise KeyError(name)

    def inputs_of(self, index: int) -> tuple[str, ...]:
        """The names a layer reads: its ``inputs``, else the previous layer (or the input)."""
        layer = self.layers[index]
        if layer.inputs:
            return layer.inputs
        return (self.layers[index - 1].name,) if index > 0 else (INPUT,)

    def with_layers(self, layers: Iterable[LayerSpec]) -> ModelSpec:
        return replace(self, layers=tuple(layers))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"format": FORMAT, "name": self.name, "task": self.task}
        if self.description:
            out["description"] = self.description
        out["input"] = {"shape": list(self.input_shape)}
        if self.input_dtype != "float32":
            out["input"]["dtype"] = self.input_dtype
        out["layers"] = [layer.to_dict() for layer in self.layers]
        if self.classes:
            out["classes"] = list(self.classes)
        if self.normalization is not None:
            out["normalization"] = self.normalization.to_dict()
        if self.init is not None:
            out["init"] = self.init.to_dict()
        if self.groups:
            out["groups"] = [group.to_dict() for group in self.groups]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"


def default_name(type_name: str, taken: set[str], counters: dict[str, int] | None = None) -> str:
    """A fresh layer name such as conv3 or relu2 that is not in ``taken``.

    ``counters`` (prefix -> next number to try) makes naming many layers linear: while names
    are only added to ``taken``, a number once taken stays taken, so the search resumes there.
    """
    prefix = _PREFIXES.get(type_name, type_name.lower())
    i = counters.get(prefix, 1) if counters is not None else 1
    while f"{prefix}{i}" in taken:
        i += 1
    if counters is not None:
        counters[prefix] = i + 1
    return f"{prefix}{i}"


def check_layer_name(name: Any, where: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise LayerError(
            where,
            f"the name {quote(name)} is not allowed: use letters, digits and _ "
            "(starting with a letter, at most 64 characters)",
        )
    if name == INPUT:
        raise LayerError(where, f'the name "{INPUT}" is reserved for the model input')
    if name in RESERVED_NAMES:
        raise LayerError(where, f'the name "{name}" is reserved by PyTorch; add a number or a '
                         f'word, e.g. "{name}1" or "my_{name}"')
    return name


def _parse_layer(raw: Any, position: int, taken: set[str],
                 counters: dict[str, int]) -> LayerSpec:
    where = f"#{position + 1}"
    if not isinstance(raw, Mapping):
        raise LayerError(where, "each layer must be an object such as {\"type\": \"ReLU\"}")
    if "name" in raw:
        where = check_layer_name(raw["name"], where)
    type_name = raw.get("type")
    if not isinstance(type_name, str):
        raise LayerError(where, 'has no "type" (a layer type such as "Conv2d")')
    if type_name not in CATALOG:
        close = difflib.get_close_matches(type_name[:100], CATALOG, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else ""
        raise LayerError(where, f"unknown layer type {quote(type_name)}{hint}")
    name = raw["name"] if "name" in raw else default_name(type_name, taken, counters)
    layer_type = CATALOG[type_name]
    params = {k: v for k, v in raw.items() if k not in LAYER_KEYS}
    for key in params:
        if key not in layer_type.param_names:
            raise LayerError(name, unknown_key_message(layer_type, key))
    trainable = raw.get("trainable", True)
    if not isinstance(trainable, bool):
        raise LayerError(name, f"trainable must be true or false, got {quote(trainable)}")
    inputs = raw.get("inputs", [])
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise LayerError(name, 'inputs must be a list of layer names, e.g. ["conv1", "conv3"]')
    return LayerSpec(name, type_name, params, trainable, tuple(inputs))


def connection_problem(spec: ModelSpec, index: int, seen: Container[str]) -> str | None:
    """Why layer ``index`` cannot be connected (``seen``: the names above it), or None."""
    layer = spec.layers[index]
    if layer.name in seen:
        return "this name is used by an earlier layer; layer names must be unique"
    for source in layer.inputs:
        if source not in seen:
            later = any(other.name == source for other in spec.layers[index:])
            why = "a later layer" if later else "no layer"
            return (f"inputs names {quote(source)}, which is {why}; a layer can only read the "
                    "input or layers above it")
    count = len(spec.inputs_of(index))
    if CATALOG[layer.type].merge and count < 2:
        return (f"{layer.type} merges two or more layers: list them in inputs, e.g. "
                '["conv2", "pool1"]')
    if not CATALOG[layer.type].merge and count > 1:
        return (f"{layer.type} reads one layer, but inputs lists {count}; use Add or Concat to "
                "merge layers")
    return None


def check_connections(spec: ModelSpec) -> None:
    """Check that every ``inputs`` names an earlier layer and merges have two or more inputs."""
    seen: set[str] = {INPUT}
    for index, layer in enumerate(spec.layers):
        problem = connection_problem(spec, index, seen)
        if problem is not None:
            raise LayerError(layer.name, problem)
        seen.add(layer.name)


def group_problem(name: Any, members: Any, order: list[str],
                  taken: Container[str] = ()) -> str | None:
    """Why ``members`` cannot be a group called ``name`` in a model whose layers are ``order``
    (``taken``: names of other groups, and layers grouped already), or None. Whether the
    layers fit together (core.model.group_graph) is :func:`parse_groups`'s and
    core.model.groups' to check, with the connections."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        return (f"the group name {quote(name)} is not allowed: use letters, digits and _ "
                "(starting with a letter, at most 64 characters)")
    if name == INPUT or name in order or name in taken:
        return f'the name "{name}" is already used by a layer or another group'
    if not isinstance(members, (list, tuple)) or not members or \
            not all(isinstance(m, str) for m in members):
        return 'a group lists its layers by name, e.g. "layers": ["conv2", "bn2"]'
    position = {layer: i for i, layer in enumerate(order)}
    for member in members:
        if member not in position:
            return f"it lists {quote(member)}, which is no layer of the model"
        if member in taken:
            return f"{member} is in another group already: a layer belongs to one group at most"
    if len(set(members)) != len(members):
        return "it lists a layer twice"
    return None


def run_problem(members: Iterable[str], order: list[str]) -> str | None:
    """Why ``members`` are not a run of consecutive layers of ``order``, or None (an imported
    model's stages are grouped only when they are runs)."""
    chosen = set(members)
    spots = sorted(i for i, layer in enumerate(order) if layer in chosen)
    if spots and spots[-1] - spots[0] + 1 != len(spots):
        between = next(order[i] for i in range(spots[0], spots[-1]) if order[i] not in chosen)
        return (f"not a run of consecutive layers: {between} sits between its layers and is "
                "not in it")
    return None


def parse_groups(raw: Any, layers: Sequence[LayerSpec]) -> tuple[LayerGroup, ...]:
    """The file's ``groups``: a list of {"name", "layers"}; ModelError naming the bad group
    (core.model.group_graph: a layer on a path between two of a group's layers is in it, and
    no two groups read each other)."""
    order = [layer.name for layer in layers]
    reads: list[tuple[int, ...]] | None = None
    spots: list[list[int]] = []
    if not isinstance(raw, list):
        raise ModelError('groups must be a list such as [{"name": "block1", "layers": '
                         '["conv1", "bn1"]}]')
    groups: list[LayerGroup] = []
    taken: set[str] = set()
    for position, item in enumerate(raw):
        if not isinstance(item, Mapping) or set(item) != {"name", "layers"}:
            raise ModelError(f'group #{position + 1} must be {{"name": …, "layers": [...]}} '
                             "with exactly these keys")
        problem = group_problem(item["name"], item["layers"], order, taken)
        if problem is not None:
            raise ModelError(f"group {quote(item['name'])}: {problem}")
        index = {layer: i for i, layer in enumerate(order)}
        members = tuple(sorted(item["layers"], key=index.__getitem__))
        positions = [index[m] for m in members]
        if not group_graph.is_run(positions) or any(not group_graph.is_run(s) for s in spots):
            if reads is None:
                reads = group_graph.reads_of(order, [layer.inputs for layer in layers])
            problem = group_graph.graph_problem(
                item["name"], positions, spots, reads, order,
                {number: group.name for number, group in enumerate(groups)})
            if problem is not None:
                raise ModelError(f"group {quote(item['name'])}: {problem}")
        groups.append(LayerGroup(item["name"], members))
        spots.append(positions)
        taken.update((item["name"], *members))
    return tuple(groups)


def _parse_shape(raw: Any) -> tuple[int, ...]:
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in ("shape", "dtype")]
        if unknown:
            raise ModelError(f"unknown key {quote(unknown[0])} in the input; its keys are: "
                             "shape, dtype")
    shape = raw.get("shape") if isinstance(raw, Mapping) else None
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape)):
        raise ModelError(
            'the input must be {"shape": [channels, height, width]}: 1 to 4 positive whole '
            f"numbers, batch excluded; got {quote(raw)}"
        )
    if math.prod(shape) > MAX_COUNT:
        raise ModelError(f"the input {shape_text(shape)} has {count_text(math.prod(shape))} "
                         f"values: too large to analyse (at most 2^63 − 1 per tensor)")
    return tuple(shape)


def _parse_dtype(raw: Any) -> InputDtype:
    dtype = raw.get("dtype", "float32") if isinstance(raw, Mapping) else "float32"
    if dtype not in INPUT_DTYPES:
        raise ModelError(f'the input\'s dtype must be "float32" (images, signals) or "int64" '
                         f"(integer token ids for an Embedding); got {json.dumps(dtype)}")
    return dtype


def _check_format(data: Mapping[str, Any]) -> None:
    tag = data.get("format")
    if not isinstance(tag, str) or not tag.startswith(FORMAT_PREFIX):
        raise ModelError(f'not a ConvScope model file: it needs "format": "{FORMAT}"')
    version = tag[len(FORMAT_PREFIX):]
    if not _VERSION_RE.fullmatch(version):
        raise ModelError(f"format {quote(tag)} is not a ConvScope format: a model file says "
                         f'"format": "{FORMAT}"')
    if int(version) > FORMAT_VERSION:
        raise ModelError(
            f"this file is in format {quote(tag)}, newer than this ConvScope reads ({FORMAT}); "
            "update ConvScope"
        )


def model_from_dict(data: Any, strict: bool = True) -> ModelSpec:
    """Parse a model file's JSON object; raises ModelError (a ValueError) naming the problem.

    ``strict=False`` (the GUI opening a file) leaves connection problems to the analysis, which
    marks the layer, so a file saved mid-edit always reopens.
    """
    if not isinstance(data, Mapping):
        raise ModelError("a model file must hold a JSON object")
    _check_format(data)
    for key in data:
        if key not in MODEL_KEYS:
            raise ModelError(f"unknown key {quote(key)} in the model file; the keys are: "
                             + ", ".join(MODEL_KEYS))
    name = data.get("name", "untitled")
    if not isinstance(name, str) or not name.strip():
        raise ModelError("the model's name must be a non-empty string")
    task = data.get("task", "classification")
    if task not in TASKS:
        raise ModelError(f"task must be one of {', '.join(TASKS)}; got {quote(task)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise ModelError("description must be a string")
    input_shape = _parse_shape(data.get("input"))
    input_dtype = _parse_dtype(data.get("input"))
    raw_layers = data.get("layers", [])
    if not isinstance(raw_layers, list):
        raise ModelError("layers must be a list of layer objects")
    explicit = {r["name"] for r in raw_layers if isinstance(r, Mapping)
                and isinstance(r.get("name"), str)}
    taken = set(explicit)
    counters: dict[str, int] = {}
    layers = []
    for position, raw in enumerate(raw_layers):
        layer = _parse_layer(raw, position, taken, counters)
        taken.add(layer.name)
        layers.append(layer)
    classes = parse_classes(data["classes"]) if "classes" in data else ()
    normalization = (parse_normalization(data["normalization"], input_shape)
                     if "normalization" in data else None)
    init = parse_initialisation(data.get("init"), taken)
    groups = parse_groups(data.get("groups", []), layers)
    spec = ModelSpec(name.strip(), input_shape, tuple(layers), task, description, input_dtype,
                     classes, normalization, init, groups)
    if strict:
        check_connections(spec)
    return spec


def load_model(path: str | Path, strict: bool = True) -> ModelSpec:
    """Read a model file; raises ModelError with a one-line reason for anything wrong."""
    path = Path(path)
    from core.regular_files import NotARegularFile, read_regular_text

    try:  # a byte-order mark (Notepad) is fine; a FIFO or /dev/zero is refused, never read
        text = read_regular_text(path, encoding="utf-8-sig")
    except FileNotFoundError:
        raise ModelError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelError(f"{path}: is a folder, not a model file") from None
    except NotARegularFile as exc:
        raise ModelError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise ModelError(f"{path}: holds a number with thousands of digits, too large to be a "
                         "size or a setting") from None
    except RecursionError:
        raise ModelError(f"{path}: nested too deeply to be a model file") from None
    return model_from_dict(data, strict)


def save_model(spec: ModelSpec, path: str | Path) -> None:
    """Write ``spec`` as a model file, atomically (a crash never leaves half a file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(spec.to_json(), encoding="utf-8")
    tmp.replace(path)

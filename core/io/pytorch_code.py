"""A model file as readable PyTorch code: one nn.Module class that runs without ConvScope.

Each layer is an attribute named like the layer; ``forward`` keeps the running value in ``x``
and gives a layer's output its own variable only where a later layer reads it again (a skip),
so the skips are written out. ConvScope's merge layers (Add, Concat, Mul) and Chunk are four
small classes at the top of the file, so importing the file back (torch.fx) gives the same
layers with the same names.
"""

from __future__ import annotations

import inspect
import keyword
import re
from typing import Any

from torch import nn

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.io.codegen import check_source, literal, safe_text
from core.model.catalog import CATALOG
from core.model.initialisation import TORCH_CALLS
from core.model.spec import INPUT, ModelSpec

_OWN_CLASSES = {
    "Add": '''class Add(nn.Module):
    """Element-wise sum of the inputs (a residual / skip connection)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = inputs[0]
        for other in inputs[1:]:
            out = out + other
        return out
''',
    "Concat": '''class Concat(nn.Module):
    """The inputs stacked along the channels."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)
''',
    "Mul": '''class Mul(nn.Module):
    """Element-wise product, sizes of 1 broadcast (a squeeze-and-excitation gate)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = inputs[0]
        for other in inputs[1:]:
            out = out * other
        return out
''',
    "Chunk": '''class Chunk(nn.Module):
    """Part ``index`` of the channels cut into ``chunks`` parts."""

    def __init__(self, chunks: int = 2, index: int = 0) -> None:
        super().__init__()
        self.chunks = chunks
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.chunk(x, self.chunks, dim=1)[self.index]
''',
    "Transpose": '''class Transpose(nn.Module):
    """Swaps two dimensions (the batch is dimension 0): an Embedding's (length, dims) becomes
    Conv1d's (channels, length)."""

    def __init__(self, dim0: int = 1, dim1: int = 2) -> None:
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)
''',
    "LayerNorm2d": '''class LayerNorm2d(nn.LayerNorm):
    """Layer normalization over the channels at every position (ConvNeXt's LayerNorm2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = nn.functional.layer_norm(x.movedim(1, -1), self.normalized_shape, self.weight,
                                       self.bias, self.eps)
        return out.movedim(-1, 1)
''',
    "LayerScale": '''class LayerScale(nn.Module):
    """Multiplies each channel by its own learned number (ConvNeXt's layer_scale)."""

    def __init__(self, channels: int, init: float = 1e-6) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels, 1, 1), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale
''',
}


def class_name(model_name: str) -> str:
    """A Python class name for the model: 'resnet18' → 'Resnet18', 'my net' → 'MyNet'."""
    words = re.findall(r"[A-Za-z0-9]+", model_name)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    name = name if name[0].isalpha() else "Net" + name
    # the generated file's own top-level names stay theirs (a model called "add" has a class
    # AddNet, not a second Add that would replace the merge layer)
    taken = name in _OWN_CLASSES or name in _RESERVED_CLASS_NAMES or keyword.iskeyword(name)
    return name + "Net" if taken else name  # "true" → TrueNet (True is a keyword)


_RESERVED_CLASS_NAMES = {"Path", "INPUT_SHAPE", "MODEL_NAME", "DESCRIPTION"}


def _attr(name: str) -> str:
    return f"self.{name}" if not keyword.iskeyword(name) else f"getattr(self, {name!r})"


def _var(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) or name in ("x", "torch", "nn", "self") else name


def _value(value: Any) -> str:
    """A setting as a literal; lists are written as tuples, as torch's signatures show them."""
    if isinstance(value, list | tuple):
        return literal(tuple(_value_of(v) for v in value))
    return literal(value)


def _value_of(value: Any) -> Any:
    return tuple(_value_of(v) for v in value) if isinstance(value, list | tuple) else value


def _required_by_torch(layer_type: str) -> set[str]:
    """Constructor arguments torch.nn's class has no default for (always written out)."""
    cls = getattr(nn, layer_type, None)
    if cls is None:
        return set()
    return {name for name, p in inspect.signature(cls).parameters.items()
            if p.default is inspect.Parameter.empty and name not in ("self", "args", "kwargs")}


def _defaults_unlike_torch(layer_type: str) -> set[str]:
    """Arguments whose catalog default is not torch's (Softmax's dim: 1, not torch's implicit
    choice), so they are always written out."""
    cls = getattr(nn, layer_type, None)
    if cls is None:
        return set()
    signature = inspect.signature(cls).parameters
    return {spec.name for spec in CATALOG[layer_type].params if spec.name in signature
            and signature[spec.name].default is not inspect.Parameter.empty
            and signature[spec.name].default != spec.default}


def module_expression(layer_type: str, settings: dict[str, Any], in_shape: tuple[int, ...]) -> str:
    """The constructor call of one layer, with only the settings that differ from torch's."""
    entry = CATALOG[layer_type]
    if entry.merge:
        return f"{layer_type}()"
    args = []
    required = _required_by_torch(layer_type)
    differs = _defaults_unlike_torch(layer_type)
    for spec in entry.params:
        value = settings.get(spec.name, spec.default)
        if spec.name == entry.inferred:
            value = in_shape[-1] if spec.name == "in_features" else in_shape[0]
        elif spec.name not in required and spec.name not in differs and (
                value == spec.default or (isinstance(value, tuple)
                                          and list(value) == spec.default)):
            continue
        args.append(f"{spec.name}={_value(value)}")
    prefix = "" if entry.own_module else "nn."
    return f"{prefix}{layer_type}({', '.join(args)})"


def kept_outputs(spec: ModelSpec) -> set[str]:
    """Layers whose output a later layer names in ``inputs`` (they get their own variable)."""
    return {source for layer in spec.layers for source in layer.inputs if source != INPUT}


def _initialisation_lines(spec: ModelSpec, analysis: ModelAnalysis) -> list[str]:
    """The model file's weight initialisation as torch.nn.init calls (none when default)."""
    if spec.init is None or spec.init.is_default:
        return []
    lines = []
    for layer, info in zip(spec.layers, analysis.layers, strict=True):
        if not info.params or not (layer.type.startswith("Conv")
                                   or layer.type in ("Linear", "Embedding")):
            continue  # only kernels and weight matrices (as core.build.initialise)
        scheme = spec.init.scheme_for(layer.name)
        if scheme != "default":
            lines.append(f"        {TORCH_CALLS[scheme].format(_attr(layer.name) + '.weight')}")
        if spec.init.biases == "zeros" and layer.type != "Embedding" and info.settings.get(
                "bias", True):
            lines.append(f"        nn.init.zeros_({_attr(layer.name)}.bias)")
    if lines:
        lines.insert(0, "        # weight initialisation from the model file")
    return lines


def class_source(spec: ModelSpec, analysis: ModelAnalysis | None = None) -> str:
    """The nn.Module class (and the helper classes it needs) for ``spec``."""
    analysis = analysis or analyze_model(spec)
    analysis.raise_error()
    cls = class_name(spec.name)
    used = [t for t in _OWN_CLASSES if any(layer.type == t for layer in spec.layers)]
    parts = [_OWN_CLASSES[t] for t in used]
    init = []
    for layer, info in zip(spec.layers, analysis.layers, strict=True):
        expression = module_expression(layer.type, info.settings, info.input_shapes[0])
        if keyword.iskeyword(layer.name):
            init.append(f"        setattr(self, {layer.name!r}, {expression})")
        else:
            init.append(f"        self.{layer.name} = {expression}")
        if not layer.trainable and info.params:
            init.append(f"        {_attr(layer.name)}.requires_grad_(False)  # frozen in ConvScope")
    init += _initialisation_lines(spec, analysis)
    kept = kept_outputs(spec)
    body = []
    for index, layer in enumerate(spec.layers):
        args = []
        for source in spec.inputs_of(index):
            args.append("input" if source == INPUT else _var(source) if source in kept else "x")
        target = _var(layer.name) if layer.name in kept else "x"
        body.append(f"        {target} = {_attr(layer.name)}({', '.join(args)})")
    last = spec.layers[-1].name if spec.layers else INPUT
    result = "input" if last == INPUT else _var(last) if last in kept else "x"
    shape = ", ".join(str(d) for d in spec.input_shape)
    # no user text raw in code: the name and description are literals (MODEL_NAME,
    # DESCRIPTION); the docstring carries only their readable letters and digits
    doc = f"{safe_text(spec.name, 80) or 'The model'}: input (batch, {shape})."
    parts.append(f'''class {cls}(nn.Module):
    """{doc}"""

    def __init__(self) -> None:
        super().__init__()
{chr(10).join(init) if init else "        pass"}

    def forward(self, input: torch.Tensor) -> torch.Tensor:
{chr(10).join(body)}
        return {result}
''')
    return "\n\n".join(parts)


def pytorch_source(spec: ModelSpec, analysis: ModelAnalysis | None = None) -> str:
    """A whole .py file: imports, the class, INPUT_SHAPE and ``model()``."""
    cls = class_name(spec.name)
    shape = ", ".join(str(d) for d in spec.input_shape)
    shape_tuple = _value(tuple(spec.input_shape))
    title = safe_text(spec.name, 80) or "A model"
    source = f'''"""{title}, exported from ConvScope as plain PyTorch (needs only torch).

    from {{this file's name}} import model
    net = model()   # loads the weights saved beside this file (.safetensors), when there
    y = net(torch.randn(8, {shape}))
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

INPUT_SHAPE = {shape_tuple}
"""One sample's shape (batch excluded)."""
MODEL_NAME = {literal(spec.name)}
DESCRIPTION = {literal(spec.description)}


{class_source(spec, analysis)}

def model(weights: bool = True) -> {cls}:
    """The network; with the weights saved beside this file when they are there."""
    net = {cls}()
    path = Path(__file__).with_suffix(".safetensors")
    if weights and path.exists():
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(path)))
    return net


if __name__ == "__main__":
    net = model().eval()
    with torch.no_grad():
        print(net(torch.zeros(1, *INPUT_SHAPE)).shape)
'''
    check_source(source, GENERATED_NAMES | {cls, "INPUT_SHAPE", "MODEL_NAME", "DESCRIPTION",
                                            "model"}, IMPORTS)
    return source


GENERATED_NAMES = set(_OWN_CLASSES)
"""Top-level names the generator writes besides the model class and its constants."""
IMPORTS = {"__future__", "pathlib", "torch"}

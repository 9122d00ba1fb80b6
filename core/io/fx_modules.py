"""What a torch module or traced node maps to: the catalog layer of a torch.nn module (with
torchvision's ConvNeXt LayerNorm2d and ConvScope's own layers, such as LayerScale), the functional
forms that are activations, and the small helpers that describe a traced node.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from core.model.catalog import CATALOG

OWN_MODULES = frozenset({"Add", "Concat", "Mul", "Chunk", "Transpose"})
"""ConvScope's own layer classes (core.build and exported files), kept whole by the tracer."""
_INFERRED = {"in_channels", "in_features", "num_features", "num_channels", "normalized_shape",
             "channels"}


def _compact(value: Any) -> Any:
    if isinstance(value, tuple | list):
        items = [_compact(v) for v in value]
        if items and all(v == items[0] for v in items) and not isinstance(items[0], list):
            return items[0]
        return items
    if isinstance(value, torch.Size):
        return _compact(tuple(value))
    return value


def _is_default(value: Any, default: Any) -> bool:
    return value == _compact(default) or (isinstance(default, tuple | list) and value == default)


def module_layer(module: nn.Module) -> tuple[str, dict[str, Any]] | None:
    """The catalog type and settings of a torch module, or None when none fits it exactly."""
    cls_name = type(module).__name__
    if cls_name in OWN_MODULES:
        if cls_name in ("Chunk", "Transpose"):
            return cls_name, {spec.name: v for spec in CATALOG[cls_name].params
                              if (v := getattr(module, spec.name)) != spec.default}
        return cls_name, {}
    if _is_layer_norm_2d(module):
        return "LayerNorm2d", _settings(module, "LayerNorm2d")
    if _is_layer_scale(module):
        return "LayerScale", {}
    entry = CATALOG.get(cls_name)
    if entry is None or entry.merge or type(module) is not getattr(nn, cls_name, None):
        return None
    if cls_name in ("MaxPool2d",) and getattr(module, "return_indices", False):
        return None
    if cls_name in ("Softmax", "LogSoftmax") and module.dim is None:
        return None  # torch's implicit dim depends on the input's rank (deprecated)
    return cls_name, _settings(module, cls_name)


def _is_layer_norm_2d(module: nn.Module) -> bool:
    """torchvision's ConvNeXt LayerNorm2d (or ConvScope's own): nn.LayerNorm over channels."""
    return (type(module).__name__ == "LayerNorm2d" and isinstance(module, nn.LayerNorm)
            and len(module.normalized_shape) == 1)


def _is_layer_scale(module: nn.Module) -> bool:
    """ConvScope's own LayerScale (core.build or an exported file): one (C, 1, 1) scale."""
    scale = getattr(module, "scale", None)
    return (type(module).__name__ == "LayerScale" and isinstance(scale, nn.Parameter)
            and scale.dim() == 3 and tuple(scale.shape[1:]) == (1, 1))


def _settings(module: nn.Module, cls_name: str) -> dict[str, Any]:
    """The module's constructor arguments that differ from the catalog's defaults."""
    entry = CATALOG[cls_name]
    params: dict[str, Any] = {}
    for spec in entry.params:
        if spec.name in _INFERRED:
            continue
        if spec.name == "bias":
            value: Any = getattr(module, "bias", None) is not None
        else:
            value = _compact(getattr(module, spec.name))
        if spec.name == "stride" and spec.optional and value == _compact(module.kernel_size):
            value = None  # torch stores the kernel size for "same as the kernel"
        if not _is_default(value, spec.default):
            params[spec.name] = value
    return params


# -- functional forms ------------------------------------------------------------------------

_ACTIVATIONS: dict[Any, str] = {
    F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6", F.silu: "SiLU",
    F.hardswish: "Hardswish", F.hardsigmoid: "Hardsigmoid", torch.sigmoid: "Sigmoid",
    F.sigmoid: "Sigmoid", torch.tanh: "Tanh", F.tanh: "Tanh", F.gelu: "GELU",
    F.selu: "SELU", torch.selu: "SELU",
}
_METHOD_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh"}
_ALIASES = {"contiguous", "clone"}
"""Methods that do not change the values: the layer is the one before."""


def _callable_name(node: fx.Node) -> str:
    if node.op == "call_method":
        return f".{node.target}()"
    target = node.target
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", str(target))
    if module in ("_operator", "operator"):
        return f"operator {name}"
    return f"{module.replace('torch._C._nn', 'F')}.{name}".lstrip(".")


def _arg(node: fx.Node, index: int, name: str, default: Any) -> Any:
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


_CHANNELS_LAST_SAFE = frozenset({"ReLU", "ReLU6", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish",
                                 "Hardsigmoid", "ELU", "LeakyReLU", "SELU", "Softplus",
                                 "Dropout", "Identity"})
"""Layers that do the same to every value, so the permuted layout does not change them."""


def _rank(node: fx.Node) -> int:
    meta = node.meta.get("tensor_meta")
    return len(meta.shape) if meta is not None and hasattr(meta, "shape") else 0


def _channels_first(node: fx.Node) -> tuple[int, ...]:
    """The (C, H, W) shape of a channels-last node's (H, W, C) tensor."""
    meta = node.meta.get("tensor_meta")
    shape = tuple(meta.shape[1:]) if meta is not None and hasattr(meta, "shape") else ()
    return (shape[-1], *shape[:-1]) if len(shape) == 3 else shape


def _describe(node: fx.Node) -> str:
    if node.op == "call_module":
        return f"module {node.target}"
    return _callable_name(node)

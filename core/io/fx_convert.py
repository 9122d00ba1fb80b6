"""The converter of a traced graph: walks it once, turning every node into a catalog layer
(following channels-last permutes, layer scales and the functional forms) or counting it as
unmapped.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from core.io.fx_modules import (
    _ACTIVATIONS,
    _ALIASES,
    _CHANNELS_LAST_SAFE,
    _METHOD_ACTIVATIONS,
    _arg,
    _channels_first,
    _compact,
    _describe,
    _is_default,
    _rank,
    _settings,
    module_layer,
)
from core.model.catalog import CATALOG
from core.model.spec import INPUT, RESERVED_NAMES, LayerSpec

_TO_CHANNELS_LAST = [0, 2, 3, 1]
_TO_CHANNELS_FIRST = [0, 3, 1, 2]
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class _Converter:
    """Walks the traced graph once, turning nodes into layers."""

    def __init__(self, root: nn.Module, graph: fx.Graph) -> None:
        self.root = root
        self.graph = graph
        self.layers: list[LayerSpec] = []
        self.source: dict[fx.Node, str] = {}
        self.chunks: dict[fx.Node, tuple[str, int]] = {}
        self.unmapped: Counter[str] = Counter()
        self.notes: list[str] = []
        self.key_map: dict[str, str] = {}
        self.tensor_shapes: dict[str, tuple[int, ...]] = {}
        self.calls: Counter[str] = Counter()
        self.taken: set[str] = {INPUT}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.module_of: dict[str, str] = {}
        self.stored: dict[fx.Node, str] = {}
        """get_attr nodes (stored tensors) not yet used as a layer's parameter."""
        self.stored_flat: set[fx.Node] = set()
        """``stored.reshape(1, -1, 1, 1)`` of a (C,) parameter (timm's layer scale), in stored."""
        self.channels_last: set[fx.Node] = set()
        """Nodes whose tensor is a permuted (batch, height, width, channels) view of a layer's."""
        self.reshaped: set[str] = set()
        self.shape_nodes: set[fx.Node] = set()
        """``x.shape``, ``x.size()`` and slices of them: used only as an interpolation's size."""
        self.shape_used: set[fx.Node] = set()

    # -- naming ------------------------------------------------------------------------------
    def _name(self, wanted: str) -> str:
        name = re.sub(r"[^A-Za-z0-9_]", "_", wanted)
        if not name or not name[0].isalpha():
            name = "layer_" + name
        name = name[:64]
        if name in RESERVED_NAMES:
            name = name[:62] + "_1"
        base, k = name, 1
        while name in self.taken:
            suffix = f"_{k}"
            name = base[:64 - len(suffix)] + suffix
            k += 1
        self.taken.add(name)
        return name

    def _add(self, node: fx.Node, type_name: str, params: dict[str, Any], inputs: Sequence[Any],
             wanted: str | None = None, shape_node: fx.Node | None = None) -> str | None:
        sources = [self.source.get(a) if isinstance(a, fx.Node) else None for a in inputs]
        if any(s is None for s in sources):
            if any(not isinstance(a, fx.Node) for a in inputs):
                self.unmapped[f"{_describe(node)} with a constant operand"] += 1
            return None
        name = self._name(wanted or node.name)
        previous = self.layers[-1].name if self.layers else INPUT
        given = tuple(s for s in sources if s is not None)
        explicit = () if given == (previous,) else given
        self.layers.append(LayerSpec(name, type_name, params, True, explicit))
        self.source[node] = name
        meta = (shape_node or node).meta.get("tensor_meta")
        if meta is not None and hasattr(meta, "shape"):
            self.shapes[name] = tuple(meta.shape[1:])
        return name

    # -- nodes -------------------------------------------------------------------------------
    def run(self) -> None:
        placeholders = 0
        for node in self.graph.nodes:
            if node.op == "placeholder":
                placeholders += 1
                if placeholders > 1:
                    self.unmapped[f"a second input ({node.name})"] += 1
                self.source[node] = INPUT
            elif any(a in self.channels_last for a in node.all_input_nodes):
                self._channels_last(node)
            elif node.op == "call_module":
                self._module(node)
            elif node.op in ("call_function", "call_method"):
                if not self._stored_reshape(node) and not self._layer_scale(node):
                    self._function(node)
            elif node.op == "get_attr":
                self.stored[node] = str(node.target)
            elif node.op == "output":
                self._output(node)
        for node in self.shape_nodes - self.shape_used:
            self.unmapped[f"{_describe(node)} (a tensor's size used in arithmetic)"] += 1
        if self.stored:  # counted, not named: a transformer has thousands
            self.unmapped["a stored tensor used directly (not a layer's parameter)"] += len(
                self.stored)

    # -- ConvNeXt's block: layer scale, and Linear/LayerNorm on a channels-last view -----------
    def _permute_dims(self, node: fx.Node) -> list[int] | None:
        if node.op == "call_function" and node.target is torch.permute:
            dims = _arg(node, 1, "dims", None)
        elif node.op == "call_method" and node.target == "permute":
            dims = node.args[1:] if len(node.args) > 2 else _arg(node, 1, "dims", None)
        else:
            return None
        return [int(d) for d in dims] if isinstance(dims, list | tuple) else None

    def _stored_reshape(self, node: fx.Node) -> bool:
        """``gamma.reshape(1, -1, 1, 1)`` (or ``.view``) of a (C,) parameter used once: kept as
        a stored tensor for the layer scale that multiplies by it (timm's ConvNeXt)."""
        x = node.args[0] if node.args else None
        if not (node.op == "call_method" and node.target in ("reshape", "view")
                and isinstance(x, fx.Node) and x in self.stored and len(x.users) == 1):
            return False
        meta = node.meta.get("tensor_meta")
        shape = tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else ()
        try:
            tensor = self.root.get_parameter(self.stored[x])
        except AttributeError:
            return False
        if len(shape) != 4 or shape[::2] != (1, 1) or shape[3] != 1 or tuple(
                tensor.shape) != (shape[1],):
            return False
        self.stored[node] = self.stored.pop(x)
        self.stored_flat.add(node)
        return True

    def _layer_scale(self, node: fx.Node) -> bool:
        """``stored * x`` with a (C, 1, 1) parameter: a LayerScale layer (ConvNeXt)."""
        if not (node.target in (operator.mul, torch.mul) or
                (node.op == "call_method" and node.target == "mul")) or len(node.args) != 2:
            return False
        stored = [a for a in node.args if isinstance(a, fx.Node) and a in self.stored]
        others = [a for a in node.args if a not in stored]
        if len(stored) != 1 or len(others) != 1 or not isinstance(others[0], fx.Node):
            return False
        target = self.stored[stored[0]]
        try:
            tensor = self.root.get_parameter(target)
        except AttributeError:
            return False
        meta = others[0].meta.get("tensor_meta")
        shape = tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else ()
        flat = stored[0] in self.stored_flat
        if (len(shape) != 4 or tuple(tensor.shape) != ((shape[1],) if flat else (shape[1], 1, 1))
                or len(stored[0].users) != 1):
            return False
        name = self._add(node, "LayerScale", {}, [others[0]],
                         wanted=target.replace(".", "_"))
        if name is None:
            return True  # the input did not map; already counted
        del self.stored[stored[0]]
        self.key_map[f"{name}.scale"] = target
        self.tensor_shapes[f"{name}.scale"] = (int(shape[1]), 1, 1)
        if flat:  # the (C,) parameter takes its trailing 1s when the weights are carried over
            self.reshaped.add(f"{name}.scale")
        return True

    def _channels_last(self, node: fx.Node) -> None:
        """Inside ``permute(0, 2, 3, 1) … permute(0, 3, 1, 2)``: a LayerNorm over the last
        dimension is LayerNorm2d, a Linear is a 1×1 convolution, activations stay what they
        are; anything else there is refused."""
        x = node.args[0] if node.args else None
        if self._permute_dims(node) == _TO_CHANNELS_FIRST and x in self.channels_last:
            self._alias(node, x)
            return
        if node.op == "call_module" and x in self.channels_last and len(node.args) == 1:
            module = self.root.get_submodule(str(node.target))
            converted = self._channels_last_module(node, module)
            if converted:
                self.channels_last.add(node)
                return
        elif node.op in ("call_function", "call_method") and len(node.all_input_nodes) == 1 and (
                (node.op == "call_function" and node.target in _ACTIVATIONS)
                or (node.op == "call_method" and node.target in _METHOD_ACTIVATIONS)
                or getattr(node.target, "__name__", "") == "stochastic_depth"):
            self._function(node)
            name = self.source.get(node)
            if name is not None and name in self.shapes:  # the layer's (C, H, W), not (H, W, C)
                self.shapes[name] = _channels_first(node)
            self.channels_last.add(node)
            return
        self.unmapped[f"{_describe(node)} on a channels-last (permuted) tensor"] += 1

    def _channels_last_module(self, node: fx.Node, module: nn.Module) -> bool:
        target = str(node.target)
        own = dict(module.state_dict())
        if self.calls[target] and own:
            return False
        if isinstance(module, nn.LayerNorm) and type(module) is nn.LayerNorm and len(
                module.normalized_shape) == 1:
            type_name, params = "LayerNorm2d", _settings(module, "LayerNorm2d")
        elif type(module) is nn.Linear:
            type_name = "Conv2d"
            params = {"out_channels": module.out_features, "kernel_size": 1}
            if module.bias is None:
                params["bias"] = False
        else:
            mapped = module_layer(module)
            if mapped is None or own or CATALOG[mapped[0]].merge:
                return False  # only parameter-free, shape-keeping layers besides the two
            type_name, params = mapped
            if type_name not in _CHANNELS_LAST_SAFE:
                return False
        self.calls[target] += 1
        name = self._add(node, type_name, params, [node.args[0]], target.replace(".", "_"))
        if name is not None:
            for key, tensor in own.items():
                shape = tuple(tensor.shape)
                if type_name == "Conv2d" and key == "weight":
                    shape = (*shape, 1, 1)
                    self.reshaped.add(f"{name}.{key}")
                self.key_map[f"{name}.{key}"] = f"{target}.{key}"
                self.tensor_shapes[f"{name}.{key}"] = shape
            self.shapes[name] = _channels_first(node)
        return True

    def _output(self, node: fx.Node) -> None:
        result = node.args[0]
        if isinstance(result, dict) and isinstance(result.get("out"), fx.Node):
            result = result["out"]  # torchvision's segmentation models: {"out": …, "aux": …}
        if not isinstance(result, fx.Node):
            self.unmapped["an output that is not one tensor (a tuple or dict)"] += 1
            return
        if self.layers and self.source.get(result) != self.layers[-1].name:
            name = self.source.get(result)
            if name is not None:  # the output is an earlier layer: read it through Identity
                self._add(result, "Identity", {}, [result], wanted="output")

    def _module(self, node: fx.Node) -> None:
        target = str(node.target)
        module = self.root.get_submodule(target)
        mapped = module_layer(module)
        if mapped is None:
            self.unmapped[f"nn.{type(module).__name__}"] += 1
            return
        type_name, params = mapped
        count = self.calls[target]
        self.calls[target] += 1
        own = dict(module.state_dict())
        if count and own:
            self.unmapped[f"{target} called twice with the same weights"] += 1
            return
        inputs = list(node.args) if CATALOG[type_name].merge else [node.args[0]]
        wanted = target.replace(".", "_") + (f"_{count}" if count else "")
        name = self._add(node, type_name, params, inputs, wanted)
        if name is not None:
            for key, tensor in own.items():
                self.key_map[f"{name}.{key}"] = f"{target}.{key}"
                self.tensor_shapes[f"{name}.{key}"] = tuple(tensor.shape)

    def _function(self, node: fx.Node) -> None:
        target = node.target
        method = node.op == "call_method"
        x = node.args[0] if node.args else None
        if (self._permute_dims(node) == _TO_CHANNELS_LAST and isinstance(x, fx.Node)
                and x in self.source and _rank(x) == 4):
            self._alias(node, x)
            self.channels_last.add(node)
            return
        if self._shape_node(node, x):
            self.shape_nodes.add(node)
            return
        if target is F.interpolate:
            self._interpolate(node, x)
            return
        if (method and target in _ALIASES) or (not method and target in (torch.Tensor.contiguous,)):
            self._alias(node, x)
        elif (not method and target in _ACTIVATIONS) or (method and target in _METHOD_ACTIVATIONS):
            kind = _METHOD_ACTIVATIONS[str(target)] if method else _ACTIVATIONS[target]
            params: dict[str, Any] = {}
            if kind == "GELU" and node.kwargs.get("approximate", "none") != "none":
                params["approximate"] = node.kwargs["approximate"]
            self._add(node, kind, params, [x])
        elif target in (torch.flatten,) or (method and target == "flatten"):
            start = _arg(node, 1, "start_dim", 0)
            end = _arg(node, 2, "end_dim", -1)
            params = {k: v for k, v, d in (("start_dim", start, 1), ("end_dim", end, -1))
                      if v != d}
            self._add(node, "Flatten", params, [x])
        elif target in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d):
            kind = "AdaptiveAvgPool2d" if target is F.adaptive_avg_pool2d else "AdaptiveMaxPool2d"
            size = _compact(_arg(node, 1, "output_size", None))
            self._add(node, kind, {} if size == 1 else {"output_size": size}, [x])
        elif target in (F.max_pool2d, F.avg_pool2d):
            self._pool(node, target is F.max_pool2d)
        elif target in (F.dropout,) or (method and target == "dropout"):
            p = _arg(node, 1, "p", 0.5)
            self._add(node, "Dropout", {} if p == 0.5 else {"p": p}, [x])
        elif target in (operator.add, operator.iadd, torch.add) or (method and target == "add"):
            if node.kwargs.get("alpha", 1) != 1:
                self.unmapped["add with alpha"] += 1
                return
            self._add(node, "Add", {}, list(node.args[:2]))
        elif target in (operator.mul, operator.imul, torch.mul) or (method and target == "mul"):
            self._add(node, "Mul", {}, list(node.args[:2]))
        elif target in (torch.cat, torch.concat):
            tensors = list(_arg(node, 0, "tensors", []))
            dim = _arg(node, 1, "dim", 0)
            if dim != 1:
                self.unmapped[f"torch.cat along dim {dim} (ConvScope stacks channels, dim 1)"] += 1
            elif len(tensors) == 1:
                self._alias(node, tensors[0])
            else:
                self._add(node, "Concat", {}, tensors)
        elif method and target == "mean":
            self._mean(node)
        elif target in (torch.chunk,) or (method and target == "chunk"):
            chunks = _arg(node, 1, "chunks", None)
            dim = _arg(node, 2, "dim", 0)
            source = self.source.get(x) if isinstance(x, fx.Node) else None
            if dim != 1 or source is None:
                self.unmapped[f"chunk along dim {dim}"] += 1
            else:
                self.chunks[node] = (source, int(chunks))
        elif target is operator.getitem and isinstance(x, fx.Node) and x in self.chunks:
            source, chunks = self.chunks[x]
            index = int(str(node.args[1]))
            before = self.layers[-1].name if self.layers else INPUT
            name = self._name(node.name)
            params = {"chunks": chunks} if chunks != 2 else {}
            if index:
                params["index"] = index
            self.layers.append(LayerSpec(name, "Chunk", params, True,
                                         () if before == source else (source,)))
            self.source[node] = name
            meta = node.meta.get("tensor_meta")
            if meta is not None and hasattr(meta, "shape"):
                self.shapes[name] = tuple(meta.shape[1:])
        elif getattr(target, "__name__", "") == "channel_shuffle":
            groups = int(_arg(node, 1, "groups", 2))
            self._add(node, "ChannelShuffle", {"groups": groups} if groups != 2 else {}, [x])
        elif getattr(target, "__name__", "") == "stochastic_depth":
            p = _arg(node, 1, "p", 0.0)
            self._alias(node, x)
            note = (f"stochastic depth (drop-path, p up to {p:g}) is left out: it is the "
                    "identity at evaluation and only regularises training")
            if not any(n.startswith("stochastic depth") for n in self.notes):
                self.notes.append(note)
            else:
                self.notes[-1] = note
        else:
            self.unmapped[_describe(node)] += 1

    def _pool(self, node: fx.Node, is_max: bool) -> None:
        """F.max_pool2d / F.avg_pool2d with torch's positional order, as the module would be."""
        names = (["kernel_size", "stride", "padding", "dilation", "ceil_mode"] if is_max else
                 ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                  "divisor_override"])
        values = {name: _arg(node, i + 1, name, None) for i, name in enumerate(names)}
        if is_max and _arg(node, 6, "return_indices", False):
            self.unmapped["max_pool2d returning indices"] += 1
            return
        kind = "MaxPool2d" if is_max else "AvgPool2d"
        entry = CATALOG[kind]
        kernel = _compact(values["kernel_size"])
        params: dict[str, Any] = {"kernel_size": kernel}
        for name in names[1:]:
            value = _compact(values[name])
            if value is None or (name == "stride" and value in (kernel, [])):
                continue
            if not _is_default(value, entry.param(name).default):
                params[name] = value
        self._add(node, kind, params, [node.args[0]])

    def _shape_node(self, node: fx.Node, x: Any) -> bool:
        if node.op == "call_function" and node.target is getattr and node.args[1:] == ("shape",):
            return True
        if node.op == "call_method" and node.target == "size" and len(node.args) == 1:
            return True
        return (node.op == "call_function" and node.target is operator.getitem
                and x in self.shape_nodes and isinstance(node.args[1], slice | int))

    def _interpolate(self, node: fx.Node, x: Any) -> None:
        """F.interpolate as Upsample: a size read from a tensor is the traced (fixed) size, as
        the model file's input size is fixed."""
        size = _arg(node, 1, "size", None)
        scale = _arg(node, 2, "scale_factor", None)
        mode = _arg(node, 3, "mode", "nearest")
        align = _arg(node, 4, "align_corners", None)
        if _arg(node, 5, "recompute_scale_factor", None) or _arg(node, 6, "antialias", False):
            self.unmapped["F.interpolate with recompute_scale_factor or antialias"] += 1
            return
        params: dict[str, Any] = {}
        meta = node.meta.get("tensor_meta")
        if size is not None:
            if isinstance(size, fx.Node):
                if size not in self.shape_nodes or meta is None:
                    self.unmapped["F.interpolate to a computed size"] += 1
                    return
                stack = [size]
                while stack:  # the size and the shape it slices are used
                    current = stack.pop()
                    self.shape_used.add(current)
                    stack.extend(a for a in current.all_input_nodes if a in self.shape_nodes)
                size = list(meta.shape[2:])
            params["size"] = _compact(size)
        elif scale is not None:
            params["scale_factor"] = _compact(scale)
        if mode != "nearest":
            params["mode"] = mode
        if align is not None:
            params["align_corners"] = align
        self._add(node, "Upsample", params, [x])

    def _alias(self, node: fx.Node, x: Any) -> None:
        if isinstance(x, fx.Node) and x in self.source:
            self.source[node] = self.source[x]

    def _mean(self, node: fx.Node) -> None:
        x = node.args[0]
        dims = _arg(node, 1, "dim", None)
        keep = _arg(node, 2, "keepdim", False)
        meta = x.meta.get("tensor_meta") if isinstance(x, fx.Node) else None
        rank = len(meta.shape) if meta is not None and hasattr(meta, "shape") else 0
        dims_set = {d % rank for d in dims} if isinstance(dims, list | tuple) and rank else set()
        if rank != 4 or dims_set != {2, 3}:
            self.unmapped[".mean() over dimensions other than height and width"] += 1
            return
        if keep:
            self._add(node, "AdaptiveAvgPool2d", {}, [x])
            return
        pooled = self._add(node, "AdaptiveAvgPool2d", {}, [x], wanted=f"{node.name}_pool")
        if pooled is not None:  # mean over H, W = global average pooling, then flatten
            self.shapes[pooled] = (*self.shapes[pooled], 1, 1)
            flat = self._name(node.name)
            self.layers.append(LayerSpec(flat, "Flatten", {}, True, ()))
            self.source[node] = flat
            self.shapes[flat] = self.shapes[pooled][:1]

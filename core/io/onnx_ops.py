"""Mapping ONNX operators onto catalog layers (the converter behind ``core.io.onnx_import``).

Each operator whose meaning is a catalog layer becomes that layer with its weights. Padding that
torch's layers cannot express (uneven, or ``auto_pad``) becomes an explicit pad layer before
them; a ``Mul``/``Add``/``Sub`` by a per-channel constant right after a convolution, batch norm
or dense layer is folded into its weights; a few export patterns (``Unsqueeze`` → 2-D pooling →
``Squeeze``, ``Reshape`` → ``Transpose`` → ``Reshape``) become the one layer they spell. What
cannot map is counted by operator for the refusal.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import torch

from core.model.catalog import CATALOG
from core.model.errors import ModelError
from core.model.spec import INPUT, RESERVED_NAMES, LayerSpec

_ACTIVATIONS = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "HardSwish": "Hardswish",
                "Softplus": "Softplus"}
_ALIASES = {"Identity"}
_SELU = (1.6732632423543772, 1.0507009873554805)
_CHANNEL_LAST = {"Linear"}
_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm2d",
          "InstanceNorm2d"}
_FOLDS_INTO = {"Conv1d", "Conv2d", "Conv3d", "Linear", *_NORMS}


def attributes(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _compact(values: list[int]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else list(values)


def _ints(value: Any, name: str, op: str) -> list[int]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, int) for v in value):
        raise ModelError(f"its {op}'s {name} is not a list of whole numbers")
    return [int(v) for v in value]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class OnnxConverter:
    """Walks the (folded) nodes once, building layers; ``unmapped`` counts what did not map."""

    def __init__(self, nodes: list[Any], consts: dict[str, np.ndarray],
                 shapes: dict[str, tuple[int, ...]], opset: int, outputs: list[str]) -> None:
        self.nodes = nodes
        self.consts = consts
        self.shapes = shapes
        self.opset = opset
        self.layers: list[LayerSpec] = []
        self.names: dict[str, str] = {}
        self.expected: dict[str, tuple[int, ...]] = {}
        self.weights: dict[str, torch.Tensor] = {}
        self.unmapped: Counter[str] = Counter()
        self.taken: set[str] = {INPUT}
        self.virtual: dict[str, tuple[str, str, Any, str]] = {}
        self.uses: Counter[str] = Counter(name for node in nodes for name in node.input if name)
        self.uses.update(outputs)
        for node in nodes:  # an alias (Identity, Dropout) is not a reader of its own
            if node.op_type in _ALIASES or node.op_type == "Dropout":
                self.uses[node.input[0]] -= 1
        self.graph_input = ""

    # -- helpers -----------------------------------------------------------------------------
    def _name(self, node: Any, type_name: str) -> str:
        parts = [p for p in node.name.strip("/").split("/") if p]
        if len(parts) > 1:
            parts = parts[:-1]  # torch's exporter: /module/path/OpType
        if parts and parts[0] == "layers":
            parts = parts[1:]
        name = re.sub(r"[^A-Za-z0-9_]", "_", "_".join(parts)).strip("_")
        name = re.sub(r"_+", "_", name)
        if not name or not name[0].isalpha():
            name = type_name.lower() + (f"_{name}" if name else "")
        name = name[:60]
        if name in RESERVED_NAMES:
            name += "_1"
        base, k = name, 1
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        return name

    def _add(self, node: Any, type_name: str, params: dict[str, Any], inputs: list[str],
             tensors: dict[str, np.ndarray] | None = None, output: str | None = None,
             label: str | None = None) -> str | None:
        """Append a layer reading ``inputs``; None (and counted) when an input has no layer."""
        if type_name not in CATALOG:  # a layer the catalog does not have (yet)
            self.unmapped[label or node.op_type] += 1
            return None
        sources = []
        for tensor in inputs:
            if tensor not in self.names:
                if tensor in self.consts:
                    self.unmapped[f"{node.op_type} of a constant"] += 1
                elif tensor in self.virtual:
                    self.unmapped[self.virtual.pop(tensor)[3]] += 1
                return None  # else made by an operator that is already counted
            sources.append(self.names[tensor])
        name = self._name(node, type_name)
        previous = self.layers[-1].name if self.layers else INPUT
        explicit = () if sources == [previous] else tuple(sources)
        self.layers.append(LayerSpec(name, type_name, params, True, explicit))
        out = output if output is not None else node.output[0]
        self.names[out] = name
        shape = self.shapes.get(out)
        if shape is not None and len(shape) > 1 and all(d > 0 for d in shape[1:]):
            self.expected[name] = shape[1:]
        for key, value in (tensors or {}).items():
            array = np.ascontiguousarray(value, dtype=np.float32)
            self.weights[f"{name}.{key}"] = torch.from_numpy(
                array if array.flags.writeable else array.copy())
        return name

    def _const(self, node: Any, index: int) -> np.ndarray | None:
        name = node.input[index] if len(node.input) > index else ""
        return self.consts.get(name) if name else None

    def _rank(self, tensor: str) -> int | None:
        shape = self.shapes.get(tensor)
        return len(shape) if shape is not None else None

    def _pads(self, node: Any, attrs: dict[str, Any], kernel: list[int], strides: list[int],
              dilations: list[int]) -> list[int]:
        """Begin and end pads per spatial dimension (2·dims numbers), auto_pad resolved."""
        dims = len(kernel)
        mode = _text(attrs.get("auto_pad", "NOTSET"))
        if mode in ("NOTSET", ""):
            pads = _ints(attrs.get("pads", [0] * (2 * dims)), "pads", node.op_type)
            if len(pads) != 2 * dims:
                raise ModelError(f"its {node.op_type} has {len(pads)} pads for {dims} dimensions")
            if any(p < 0 for p in pads):
                raise ModelError(f"its {node.op_type} has negative pads {pads}")
            return pads
        if mode == "VALID":
            return [0] * (2 * dims)
        shape = self.shapes.get(node.input[0])
        if mode not in ("SAME_UPPER", "SAME_LOWER") or shape is None or len(shape) != dims + 2 \
                or any(d <= 0 for d in shape[2:]):
            raise ModelError(f"its {node.op_type} has auto_pad {mode} on an input of unknown size")
        begin, end = [], []
        for size, k, s, d in zip(shape[2:], kernel, strides, dilations, strict=True):
            total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, large = total // 2, total - total // 2
            begin.append(small if mode == "SAME_UPPER" else large)
            end.append(large if mode == "SAME_UPPER" else small)
        return begin + end

    def _explicit_pad(self, node: Any, pads: list[int], kind: str) -> str | None:
        """A pad layer for uneven padding of a 2-D input; the tensor name it writes."""
        if len(pads) != 4:
            self.unmapped[f"{node.op_type} with uneven padding in {len(pads) // 2}-D"] += 1
            return None
        top, left, bottom, right = pads
        out = f"{node.output[0]}::pad"
        layer = self._add(node, kind, {"padding": [left, right, top, bottom]}, [node.input[0]],
                          output=out)
        return out if layer is not None else None

    # -- nodes -------------------------------------------------------------------------------
    def run(self) -> None:
        for node in self.nodes:
            self.node(node)

    def node(self, node: Any) -> None:
        op, attrs = node.op_type, attributes(node)
        x = node.input[0] if node.input else ""
        handler = getattr(self, f"_op_{op}", None)
        if handler is not None:
            handler(node, attrs)
        elif op in _ALIASES or (op == "Dropout" and (len(node.output) == 1 or not node.output[1]
                                                     or not self.uses[node.output[1]])):
            if x in self.names:
                self.names[node.output[0]] = self.names[x]
            elif x in self.virtual:
                self.virtual[node.output[0]] = self.virtual[x]
        elif op in _ACTIVATIONS:
            self._add(node, _ACTIVATIONS[op], {}, [x])
        elif op in ("Conv", "ConvTranspose"):
            self._conv(node, attrs)
        elif op in ("MaxPool", "AveragePool"):
            self._pool(node, attrs)
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            rank = self._rank(x)
            dims = rank - 2 if rank is not None else 2
            kind = "Avg" if op == "GlobalAveragePool" else "Max"
            self._add(node, f"Adaptive{kind}Pool{dims}d", {"output_size": 1}
                      if dims != 2 else {}, [x])
        elif op in ("Add", "Mul", "Sub", "Sum"):
            self._merge(node)
        else:
            self.unmapped[op] += 1

    def _op_LeakyRelu(self, node: Any, attrs: dict[str, Any]) -> None:
        alpha = round(float(attrs.get("alpha", 0.01)), 7)
        self._add(node, "LeakyReLU", {} if alpha == 0.01 else {"negative_slope": alpha},
                  [node.input[0]])

    def _op_Elu(self, node: Any, attrs: dict[str, Any]) -> None:
        alpha = round(float(attrs.get("alpha", 1.0)), 7)
        self._add(node, "ELU", {} if alpha == 1.0 else {"alpha": alpha}, [node.input[0]])

    def _op_Selu(self, node: Any, attrs: dict[str, Any]) -> None:
        alpha, gamma = float(attrs.get("alpha", _SELU[0])), float(attrs.get("gamma", _SELU[1]))
        if abs(alpha - _SELU[0]) < 1e-6 and abs(gamma - _SELU[1]) < 1e-6:
            self._add(node, "SELU", {}, [node.input[0]])
        else:
            self.unmapped["Selu with other constants than torch's"] += 1

    def _op_Gelu(self, node: Any, attrs: dict[str, Any]) -> None:
        approximate = _text(attrs.get("approximate", "none"))
        self._add(node, "GELU", {} if approximate == "none" else {"approximate": approximate},
                  [node.input[0]])

    def _op_HardSigmoid(self, node: Any, attrs: dict[str, Any]) -> None:
        if abs(attrs.get("alpha", 0.2) - 1 / 6) < 1e-6 and abs(attrs.get("beta", 0.5) - 0.5) \
                < 1e-6:
            self._add(node, "Hardsigmoid", {}, [node.input[0]])
        else:
            self.unmapped["HardSigmoid with other slopes than torch's"] += 1

    def _op_PRelu(self, node: Any, attrs: dict[str, Any]) -> None:
        slope, rank = self._const(node, 1), self._rank(node.input[0])
        if slope is not None and self.opset < 7 and slope.ndim == 1 and rank is not None:
            slope = slope.reshape((-1,) + (1,) * (rank - 2))  # opset 6: one slope per channel
        full = None if slope is None or rank is None or slope.ndim > rank \
            else (1,) * (rank - slope.ndim) + slope.shape
        if full is None or rank is None or rank < 2 or any(d != 1 for i, d in enumerate(full)
                                                           if i != 1):
            self.unmapped["PRelu with a slope that is not per channel"] += 1
            return
        weight = np.asarray(slope, dtype=np.float32).reshape(-1)
        params = {"num_parameters": int(weight.size)} if weight.size != 1 else {}
        self._add(node, "PReLU", params, [node.input[0]], {"weight": weight})

    def _op_Clip(self, node: Any, attrs: dict[str, Any]) -> None:
        if self.opset < 11:
            low: Any = attrs.get("min", -np.inf)
            high: Any = attrs.get("max", np.inf)
        else:
            low, high = self._const(node, 1), self._const(node, 2)
            if (len(node.input) > 1 and node.input[1] and low is None) or \
                    (len(node.input) > 2 and node.input[2] and high is None):
                self.unmapped["Clip with bounds computed in the graph"] += 1
                return
            low = -np.inf if low is None else low
            high = np.inf if high is None else high
        if np.ndim(low) or np.ndim(high):
            raise ModelError("its Clip has a bound that is not one number")
        if float(low) == 0 and float(high) == 6:
            self._add(node, "ReLU6", {}, [node.input[0]])
        elif float(low) == 0 and float(high) == np.inf:
            self._add(node, "ReLU", {}, [node.input[0]])
        else:
            self.unmapped["Clip other than ReLU or ReLU6"] += 1

    def _softmax_dim(self, node: Any, attrs: dict[str, Any]) -> int | None:
        rank = self._rank(node.input[0])
        axis = int(attrs.get("axis", 1 if self.opset < 13 else -1))
        if rank is None or not -rank <= axis < rank or axis in (0, -rank):
            self.unmapped[f"{node.op_type} over the batch or an unknown axis"] += 1
            return None
        axis %= rank
        shape = self.shapes.get(node.input[0]) or ()
        if self.opset < 13 and any(d != 1 for d in shape[axis + 1:]):
            self.unmapped[f"{node.op_type} over several axes (opset {self.opset})"] += 1
            return None
        return axis if axis != rank - 1 else -1

    def _op_Softmax(self, node: Any, attrs: dict[str, Any]) -> None:
        dim = self._softmax_dim(node, attrs)
        if dim is not None:
            self._add(node, "Softmax", {"dim": dim}, [node.input[0]])

    def _op_LogSoftmax(self, node: Any, attrs: dict[str, Any]) -> None:
        dim = self._softmax_dim(node, attrs)
        if dim is not None:
            self._add(node, "LogSoftmax", {"dim": dim}, [node.input[0]])

    def _op_Gemm(self, node: Any, attrs: dict[str, Any]) -> None:
        weight = self._const(node, 1)
        if weight is None or attrs.get("transA", 0) or weight.ndim != 2:
            self.unmapped["Gemm that is not a dense layer"] += 1
            return
        weight = np.asarray(weight, dtype=np.float32)
        if not attrs.get("transB", 0):
            weight = weight.T
        if float(attrs.get("alpha", 1.0)) != 1.0:
            weight = weight * np.float32(attrs["alpha"])
        bias = self._const(node, 2)
        if len(node.input) > 2 and node.input[2] and bias is None:
            self.unmapped["Gemm with a bias computed in the graph"] += 1
            return
        if bias is not None:
            if bias.ndim > 2 or bias.size not in (1, weight.shape[0]) or \
                    (bias.ndim == 2 and bias.shape[0] != 1):
                raise ModelError(f"its Gemm's bias has shape {list(bias.shape)}, not "
                                 f"{weight.shape[0]} numbers")
            bias = np.broadcast_to(np.asarray(bias, np.float32).reshape(-1),
                                   (weight.shape[0],)) * np.float32(attrs.get("beta", 1.0))
        self._linear(node, weight, bias)

    def _op_MatMul(self, node: Any, attrs: dict[str, Any]) -> None:
        weight = self._const(node, 1)
        if weight is None or weight.ndim != 2:
            self.unmapped["MatMul that is not a dense layer"] += 1
            return
        self._linear(node, np.asarray(weight, np.float32).T, None)

    def _linear(self, node: Any, weight: np.ndarray, bias: np.ndarray | None) -> None:
        params: dict[str, Any] = {"out_features": int(weight.shape[0])}
        tensors = {"weight": weight}
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = bias
        self._add(node, "Linear", params, [node.input[0]], tensors)

    def _op_Gather(self, node: Any, attrs: dict[str, Any]) -> None:
        table = self._const(node, 0)
        if table is None or table.ndim != 2 or int(attrs.get("axis", 0)) != 0 \
                or len(node.input) < 2 or node.input[1] != self.graph_input:
            self.unmapped["Gather that is not an embedding of the input"] += 1
            return
        self._add(node, "Embedding", {"num_embeddings": int(table.shape[0]),
                                      "embedding_dim": int(table.shape[1])},
                  [node.input[1]], {"weight": table})

    def _op_BatchNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        tensors = [self._const(node, i) for i in range(1, 5)]
        scale, bias, mean, var = tensors
        used_extra = any(out and self.uses[out] for out in node.output[1:])
        if scale is None or bias is None or mean is None or var is None or used_extra \
                or attrs.get("training_mode", 0):
            self.unmapped["BatchNormalization in training mode"] += 1
            return
        shape = self.shapes.get(node.input[0])
        if shape is None or not 2 <= len(shape) <= 5:
            self.unmapped["BatchNormalization of an input of unknown rank"] += 1
            return
        channels = shape[1]
        for label, tensor in zip(("scale", "bias", "mean", "variance"), tensors, strict=True):
            if tensor is not None and tensor.shape != (channels,):
                raise ModelError(f"its BatchNormalization's {label} has shape "
                                 f"{list(tensor.shape)}, not [{channels}] (the channels)")
        kind = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}[len(shape)]
        params: dict[str, Any] = {}
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        if eps != 1e-5:
            params["eps"] = eps
        momentum = round(1 - float(attrs.get("momentum", 0.9)), 6)
        if momentum != 0.1:
            params["momentum"] = momentum
        name = self._add(node, kind, params, [node.input[0]],
                         {"weight": scale, "bias": bias, "running_mean": mean,
                          "running_var": var})
        if name is not None:
            self.weights[f"{name}.num_batches_tracked"] = torch.tensor(0)

    def _op_InstanceNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        scale, bias = self._const(node, 1), self._const(node, 2)
        shape = self.shapes.get(node.input[0])
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        src = node.input[0]
        if src in self.virtual and self.virtual[src][0] == "grouped":
            _, origin, groups, _ = self.virtual.pop(src)
            if scale is not None and bias is not None and np.all(scale == 1) and \
                    np.all(bias == 0):  # torch's GroupNorm export: affine part follows
                self.virtual[node.output[0]] = ("group normed", origin, (node, groups, eps),
                                                "InstanceNormalization")
                return
            self.unmapped["Reshape"] += 1
        if scale is None or bias is None or shape is None or len(shape) != 4:
            self.unmapped["InstanceNormalization other than 2-D with constant weights"] += 1
            return
        params: dict[str, Any] = {"affine": True}
        if eps != 1e-5:
            params["eps"] = eps
        self._add(node, "InstanceNorm2d", params, [node.input[0]],
                  {"weight": scale, "bias": bias})

    def _op_LRN(self, node: Any, attrs: dict[str, Any]) -> None:
        params: dict[str, Any] = {"size": int(attrs["size"])}
        for key, onnx_key, default in (("alpha", "alpha", 1e-4), ("beta", "beta", 0.75),
                                       ("k", "bias", 1.0)):
            value = round(float(attrs.get(onnx_key, default)), 9)
            if value != default:
                params[key] = value
        self._add(node, "LocalResponseNorm", params, [node.input[0]])

    def _op_Concat(self, node: Any, attrs: dict[str, Any]) -> None:
        rank = self._rank(node.output[0])
        axis = int(attrs.get("axis", 0))
        if rank is None or axis % rank != 1:
            self.unmapped["Concat along another axis than the channels"] += 1
        else:
            self._add(node, "Concat", {}, [name for name in node.input if name])

    def _op_Flatten(self, node: Any, attrs: dict[str, Any]) -> None:
        rank = self._rank(node.input[0])
        axis = int(attrs.get("axis", 1))
        if rank is not None and rank >= 2 and axis % rank == 1:
            self._add(node, "Flatten", {}, [node.input[0]])
        else:
            self.unmapped["Flatten from another axis than 1"] += 1

    def _op_DepthToSpace(self, node: Any, attrs: dict[str, Any]) -> None:
        if _text(attrs.get("mode", "DCR")) != "CRD" or self._rank(node.input[0]) != 4:
            self.unmapped["DepthToSpace in DCR mode"] += 1
            return
        self._add(node, "PixelShuffle", {"upscale_factor": int(attrs["blocksize"])},
                  [node.input[0]])

    def _op_Pad(self, node: Any, attrs: dict[str, Any]) -> None:
        if self.opset < 11:
            pads: Any = attrs.get("pads")
            value: Any = attrs.get("value", 0.0)
        else:
            pads, value = self._const(node, 1), self._const(node, 2)
            if pads is None or (len(node.input) > 2 and node.input[2] and value is None) \
                    or (len(node.input) > 3 and node.input[3]):
                self.unmapped["Pad with pads computed in the graph or by axes"] += 1
                return
            pads = [int(p) for p in pads.reshape(-1)]
            value = 0.0 if value is None else value
        mode = _text(attrs.get("mode", "constant"))
        rank = self._rank(node.input[0])
        pads = _ints(list(pads) if pads is not None else None, "pads", "Pad")
        if rank is None or len(pads) != 2 * rank:
            raise ModelError(f"its Pad has {len(pads)} pads for a tensor of rank {rank}")
        kinds = {"constant": "ZeroPad2d", "reflect": "ReflectionPad2d", "edge": "ReplicationPad2d"}
        if rank != 4 or any(pads[i] or pads[i + rank] for i in (0, 1)) or mode not in kinds:
            self.unmapped[f"Pad in {mode} mode of other than the height and width"] += 1
            return
        if any(p < 0 for p in pads):
            self.unmapped["Pad with negative pads (a crop)"] += 1
            return
        if mode == "constant" and (np.ndim(value) or float(value) != 0):
            self.unmapped["Pad with another constant than 0"] += 1
            return
        top, left, bottom, right = pads[2], pads[3], pads[6], pads[7]
        self._add(node, kinds[mode], {"padding": _compact([left, right, top, bottom])},
                  [node.input[0]])

    def _op_Reshape(self, node: Any, attrs: dict[str, Any]) -> None:
        target, src = self._const(node, 1), node.input[0]
        shape_in, shape_out = self.shapes.get(src), self.shapes.get(node.output[0])
        if target is None or shape_in is None or shape_out is None or \
                any(d <= 0 for d in (*shape_in, *shape_out)):
            self.unmapped["Reshape to a size computed in the graph"] += 1
            return
        if len(shape_out) == 2 and shape_out[0] == shape_in[0]:
            self._add(node, "Flatten", {}, [src])
            return
        if src in self.virtual and self.virtual[src][0] == "transposed":
            _, origin, (kind, factor), _ = self.virtual.pop(src)
            origin_shape = self.shapes.get(origin, ())
            if kind == "ChannelShuffle" and shape_out == origin_shape:
                self._add(node, "ChannelShuffle", {"groups": factor}, [origin])
                return
            n, c, h, w = origin_shape
            if kind == "PixelShuffle" and shape_out == (n, c // factor**2, h * factor,
                                                        w * factor):
                self._add(node, "PixelShuffle", {"upscale_factor": factor}, [origin],
                          label="Reshape → Transpose → Reshape (a pixel shuffle)")
                return
            self.unmapped["Transpose"] += 1
            return
        if src in self.virtual and self.virtual[src][0] == "group normed" and \
                shape_out == self.shapes.get(self.virtual[src][1]):
            _, origin, (norm_node, groups, eps), _ = self.virtual.pop(src)
            channels = shape_out[1]
            params = {"num_groups": groups} | ({"eps": eps} if eps != 1e-5 else {})
            self._add(norm_node, "GroupNorm", params, [origin],
                      {"weight": np.ones(channels), "bias": np.zeros(channels)},
                      output=node.output[0], label="Reshape → InstanceNormalization → Reshape "
                      "(a GroupNorm)")
            return
        if len(shape_in) == 4 and len(shape_out) == 3 and shape_out[0] == shape_in[0] \
                and src in self.names and shape_in[1] % shape_out[1] == 0:
            self.virtual[node.output[0]] = ("grouped", src, shape_out[1], "Reshape")
            return
        if len(shape_in) == 4 and len(shape_out) in (5, 6) and shape_out[0] == shape_in[0] \
                and src in self.names:
            self.virtual[node.output[0]] = ("split", src, shape_out, "Reshape")
            return
        self.unmapped["Reshape that is not a flatten"] += 1

    def _op_Transpose(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        perm = list(attrs.get("perm", []))
        if src in self.virtual and self.virtual[src][0] == "split":
            _, origin, shape, _ = self.virtual.pop(src)
            in_shape = self.shapes.get(origin, ())
            if len(shape) == 5 and perm == [0, 2, 1, 3, 4] and shape[3:] == in_shape[2:]:
                self.virtual[node.output[0]] = ("transposed", origin,
                                                ("ChannelShuffle", int(shape[1])), "Transpose")
                return
            if len(shape) == 6 and perm == [0, 1, 4, 2, 5, 3] and shape[2] == shape[3] \
                    and shape[4:] == in_shape[2:]:
                self.virtual[node.output[0]] = ("transposed", origin,
                                                ("PixelShuffle", int(shape[2])), "Transpose")
                return
            self.unmapped["Reshape"] += 1
            self.unmapped["Transpose"] += 1
            return
        if perm == [0, 2, 3, 1] and src in self.names and self._rank(src) == 4:
            self.virtual[node.output[0]] = ("channels last", src, None, "Transpose")
            return
        if perm == [0, 3, 1, 2] and src in self.virtual and self.virtual[src][0] == "normed":
            _, origin, (ln_node, params, tensors), _ = self.virtual.pop(src)
            self._add(ln_node, "LayerNorm2d", params, [origin], tensors, output=node.output[0],
                      label="Transpose → LayerNormalization → Transpose (a LayerNorm2d)")
            return
        rank = self._rank(src)
        moved = [i for i, p in enumerate(perm) if p != i]
        if rank is not None and len(perm) == rank and len(moved) == 2 and 0 not in moved:
            self._add(node, "Transpose", {"dim0": moved[0], "dim1": moved[1]}, [src])
        else:
            self.unmapped["Transpose"] += 1

    def _op_Slice(self, node: Any, attrs: dict[str, Any]) -> None:
        """A slice of the channels that is one of torch.chunk's parts becomes a Chunk layer."""
        if self.opset < 10:
            starts, ends = attrs.get("starts"), attrs.get("ends")
            axes, steps = attrs.get("axes"), None
        else:
            starts, ends, axes, steps = (self._const(node, i) for i in (1, 2, 3, 4))
        shape = self.shapes.get(node.input[0])
        values = [np.asarray(v).reshape(-1).tolist() if v is not None else None
                  for v in (starts, ends, axes, steps)]
        if shape is None or len(shape) < 2 or values[0] is None or values[1] is None or \
                len(values[0]) != 1 or (values[2] or [0])[0] % len(shape) != 1 or \
                (values[2] is None and len(shape) > 1) or (values[3] or [1])[0] != 1:
            self.unmapped["Slice other than a part of the channels"] += 1
            return
        channels = shape[1]
        start, end = (min(max(v + channels if v < 0 else v, 0), channels)
                      for v in (values[0][0], values[1][0]))
        for chunks in range(1, channels + 1):
            size = -(-channels // chunks)
            if start % size == 0 and end == min(start + size, channels):
                self._add(node, "Chunk", {"chunks": chunks, "index": start // size},
                          [node.input[0]])
                return
        self.unmapped["Slice other than a part of the channels"] += 1

    def _op_LayerNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        """Over the channels only, between the Transposes torchvision's LayerNorm2d exports."""
        src, scale, bias = node.input[0], self._const(node, 1), self._const(node, 2)
        axis = int(attrs.get("axis", -1))
        used_extra = any(out and self.uses[out] for out in node.output[1:])
        if src not in self.virtual or self.virtual[src][0] != "channels last" or axis not in \
                (-1, 3) or scale is None or scale.ndim != 1 or used_extra or \
                (len(node.input) > 2 and node.input[2] and bias is None):
            self.unmapped["LayerNormalization other than over the channels"] += 1
            return
        _, origin, _, _ = self.virtual.pop(src)
        params: dict[str, Any] = {}
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        if eps != 1e-5:
            params["eps"] = eps
        tensors = {"weight": scale}
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = bias
        self.virtual[node.output[0]] = ("normed", origin, (node, params, tensors),
                                        "LayerNormalization")

    def _op_GroupNormalization(self, node: Any, attrs: dict[str, Any]) -> None:
        scale, bias = self._const(node, 1), self._const(node, 2)
        shape = self.shapes.get(node.input[0])
        groups = int(attrs.get("num_groups", 0))
        if scale is None or bias is None or shape is None or len(shape) != 4 or groups < 1 \
                or shape[1] % groups:
            self.unmapped["GroupNormalization other than 2-D with constant weights"] += 1
            return
        channels = shape[1]
        if scale.shape == (groups,) and groups != channels:  # opset 18: one scale per group
            scale, bias = np.repeat(scale, channels // groups), np.repeat(bias, channels // groups)
        params: dict[str, Any] = {"num_groups": groups}
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        if eps != 1e-5:
            params["eps"] = eps
        self._add(node, "GroupNorm", params, [node.input[0]], {"weight": scale, "bias": bias})

    def _axes(self, node: Any, attrs: dict[str, Any]) -> list[int] | None:
        if self.opset < 13:
            return list(attrs.get("axes", [])) or None
        axes = self._const(node, 1)
        return [int(a) for a in axes.reshape(-1)] if axes is not None else None

    def _op_Unsqueeze(self, node: Any, attrs: dict[str, Any]) -> None:
        axes = self._axes(node, attrs)
        rank = self._rank(node.input[0])
        if axes is not None and rank == 3 and len(axes) == 1 and axes[0] % 4 in (2, 3) \
                and node.input[0] in self.names:
            self.virtual[node.output[0]] = ("unsqueezed", node.input[0], axes[0] % 4, "Unsqueeze")
        else:
            self.unmapped["Unsqueeze"] += 1

    def _op_Squeeze(self, node: Any, attrs: dict[str, Any]) -> None:
        src = node.input[0]
        axes = self._axes(node, attrs)
        if src in self.virtual and self.virtual[src][0] == "pooled" and axes is not None \
                and len(axes) == 1 and axes[0] % 4 == self.virtual[src][2][0]:
            _, origin, (_, pool_node, params, kind), _ = self.virtual.pop(src)
            self._add(pool_node, kind, params, [origin], output=node.output[0])
        else:
            self.unmapped["Squeeze"] += 1

    def _op_Resize(self, node: Any, attrs: dict[str, Any]) -> None:
        self._upsample(node, attrs, self._const(node, 2), self._const(node, 3))

    def _op_Upsample(self, node: Any, attrs: dict[str, Any]) -> None:
        scales = self._const(node, 1) if len(node.input) > 1 else attrs.get("scales")
        self._upsample(node, attrs, None if scales is None else np.asarray(scales), None)

    def _upsample(self, node: Any, attrs: dict[str, Any], scales: np.ndarray | None,
                  sizes: np.ndarray | None) -> None:
        shape_in, shape_out = self.shapes.get(node.input[0]), self.shapes.get(node.output[0])
        mode = _text(attrs.get("mode", "nearest"))
        transform = _text(attrs.get("coordinate_transformation_mode", "asymmetric"
                                    if node.op_type == "Upsample" else "half_pixel"))
        nearest = _text(attrs.get("nearest_mode", "floor" if node.op_type == "Upsample"
                                  else "round_prefer_floor"))
        if shape_in is None or shape_out is None or len(shape_in) != 4 or \
                shape_in[:2] != shape_out[:2] or any(d <= 0 for d in shape_out):
            self.unmapped[f"{node.op_type} of other than the height and width"] += 1
            return
        factors = [shape_out[i] / shape_in[i] for i in (2, 3)]
        params: dict[str, Any]
        if mode == "nearest" and transform == "asymmetric" and nearest == "floor" and \
                all(f == int(f) for f in factors):
            params = {"scale_factor": _compact([int(f) for f in factors])}
        elif mode in ("linear", "bilinear") and transform in ("half_pixel", "pytorch_half_pixel",
                                                               "align_corners"):
            params = {"size": [int(shape_out[2]), int(shape_out[3])], "mode": "bilinear"}
            if transform == "align_corners":
                params["align_corners"] = True
        else:
            self.unmapped[f"{node.op_type} in {mode} mode with {transform} coordinates"] += 1
            return
        self._add(node, "Upsample", params, [node.input[0]])

    def _conv(self, node: Any, attrs: dict[str, Any]) -> None:
        op = node.op_type
        weight = self._const(node, 1)
        if weight is None:
            self.unmapped[f"{op} with weights computed in the graph"] += 1
            return
        dims = weight.ndim - 2
        if dims not in (1, 2, 3) or (op == "ConvTranspose" and dims != 2):
            self.unmapped[f"{op} in {dims} dimensions"] += 1
            return
        kernel = list(weight.shape[2:])
        if "kernel_shape" in attrs and _ints(attrs["kernel_shape"], "kernel_shape", op) != kernel:
            raise ModelError(f"its {op}'s kernel_shape {list(attrs['kernel_shape'])} does not "
                             f"match its weight {list(weight.shape)}")
        strides = _ints(attrs.get("strides", [1] * dims), "strides", op)
        dilations = _ints(attrs.get("dilations", [1] * dims), "dilations", op)
        if len(strides) != dims or len(dilations) != dims or min(strides + dilations) < 1:
            raise ModelError(f"its {op} has strides {strides} / dilations {dilations} for "
                             f"{dims} dimensions")
        group = int(attrs.get("group", 1))
        out_channels = weight.shape[0] if op == "Conv" else weight.shape[1] * group
        bias = self._const(node, 2)
        if len(node.input) > 2 and node.input[2] and bias is None:
            self.unmapped[f"{op} with a bias computed in the graph"] += 1
            return
        if bias is not None and bias.shape != (out_channels,):
            raise ModelError(f"its {op}'s bias has shape {list(bias.shape)}, not "
                             f"[{out_channels}] (the output channels)")
        if op == "ConvTranspose" and ("output_shape" in attrs or _text(
                attrs.get("auto_pad", "NOTSET")) not in ("NOTSET", "VALID")):
            self.unmapped["ConvTranspose with output_shape or auto_pad"] += 1
            return
        pads = self._pads(node, attrs, kernel, strides, dilations)
        source = node.input[0]
        if pads[:dims] != pads[dims:]:
            if op == "ConvTranspose":
                self.unmapped["ConvTranspose with uneven padding"] += 1
                return
            padded = self._explicit_pad(node, pads, "ZeroPad2d")
            if padded is None:
                return
            source, pads = padded, [0] * (2 * dims)
        params: dict[str, Any] = {"out_channels": int(out_channels),
                                  "kernel_size": _compact(kernel)}
        for key, value in (("stride", strides), ("dilation", dilations)):
            if _compact(value) != 1:
                params[key] = _compact(value)
        if _compact(pads[:dims]) != 0:
            params["padding"] = _compact(pads[:dims])
        if op == "ConvTranspose":
            extra = _ints(attrs.get("output_padding", [0] * dims), "output_padding", op)
            if _compact(extra) != 0:
                params["output_padding"] = _compact(extra)
        if group != 1:
            params["groups"] = group
        tensors = {"weight": weight}
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = bias
        kind = f"Conv{dims}d" if op == "Conv" else "ConvTranspose2d"
        self._add(node, kind, params, [source], tensors)

    def _pool(self, node: Any, attrs: dict[str, Any]) -> None:
        op = node.op_type
        if len(node.output) > 1 and node.output[1] and self.uses[node.output[1]]:
            self.unmapped["MaxPool with indices"] += 1
            return
        kernel = _ints(attrs["kernel_shape"], "kernel_shape", op)
        dims = len(kernel)
        strides = _ints(attrs.get("strides", [1] * dims), "strides", op)
        dilations = _ints(attrs.get("dilations", [1] * dims), "dilations", op)
        if dims not in (1, 2, 3) or len(strides) != dims or len(dilations) != dims \
                or min(kernel + strides + dilations) < 1:
            raise ModelError(f"its {op} has kernel {kernel}, strides {strides} and dilations "
                             f"{dilations}")
        pads = self._pads(node, attrs, kernel, strides, dilations)
        if any(p >= k for p, k in zip(pads, kernel + kernel, strict=True)):
            self.unmapped[f"{op} with pads as large as its kernel"] += 1
            return
        source = node.input[0]
        include_pad = bool(attrs.get("count_include_pad", 0))
        shape_in, shape_out = self.shapes.get(source), self.shapes.get(node.output[0])
        if shape_in is not None and shape_out is not None and len(shape_in) == dims + 2 and \
                all(d == 1 for d in shape_out[2:]) and (op == "MaxPool" or not include_pad) and \
                _compact(dilations) == 1 and \
                all(k >= size + p for k, size, p in zip(kernel, shape_in[2:], pads[:dims],
                                                        strict=True)):
            kind = "Max" if op == "MaxPool" else "Avg"  # one window over all of the input
            self._add(node, f"Adaptive{kind}Pool{dims}d", {} if dims == 2 else
                      {"output_size": 1}, [source])
            return
        if pads[:dims] != pads[dims:]:
            if op == "MaxPool" and _compact(dilations) == 1:
                padded = self._explicit_pad(node, pads, "ReplicationPad2d")  # exact for a max
            elif op == "AveragePool" and include_pad:
                padded = self._explicit_pad(node, pads, "ZeroPad2d")
            else:
                self.unmapped[f"{op} with uneven padding"] += 1
                return
            if padded is None:
                return
            source, pads = padded, [0] * (2 * dims)
        params: dict[str, Any] = {"kernel_size": _compact(kernel)}
        if _compact(strides) != params["kernel_size"]:
            params["stride"] = _compact(strides)
        if _compact(pads[:dims]) != 0:
            params["padding"] = _compact(pads[:dims])
        if attrs.get("ceil_mode", 0):
            params["ceil_mode"] = True
        if op == "MaxPool":
            if _compact(dilations) != 1:
                params["dilation"] = _compact(dilations)
            kind = "MaxPool"
        else:
            if _compact(dilations) != 1:
                self.unmapped["AveragePool with dilations"] += 1
                return
            if _compact(pads) != 0 and not include_pad:
                params["count_include_pad"] = False
            kind = "AvgPool"
        if source in self.virtual and self.virtual[source][0] == "unsqueezed" and dims == 2:
            _, origin, axis, _ = self.virtual.pop(source)
            other = 3 if axis == 2 else 2  # the length's axis among the 2-D pool's
            one = {key: value[other - 2] if isinstance(value, list) else value
                   for key, value in params.items()}
            alone = all(not isinstance(v, list) or v[axis - 2] in (1, 0) for v in params.values())
            if alone and kernel[axis - 2] == 1 and strides[axis - 2] == 1:
                self.virtual[node.output[0]] = ("pooled", origin,
                                                (axis, node, one, f"{kind}1d"), op)
                return
            self.unmapped["Unsqueeze"] += 1
            return
        self._add(node, f"{kind}{dims}d", params, [source])

    # -- merges and constants folded into the layer before -------------------------------------
    def _merge(self, node: Any) -> None:
        op = node.op_type
        inputs = [name for name in node.input if name]
        constants = [name for name in inputs if name in self.consts]
        if op != "Sum" and len(inputs) == 2 and len(constants) == 1 and \
                not (op == "Sub" and constants[0] == inputs[0]):
            self._fold_constant(node, inputs[1 - inputs.index(constants[0])],
                                self.consts[constants[0]])
        elif op == "Sum" and len(inputs) == 1 and inputs[0] in self.names:
            self.names[node.output[0]] = self.names[inputs[0]]
        elif op == "Sub" or len(inputs) < 2 or constants:
            self.unmapped[op if op == "Sub" or not constants else f"{op} of a constant"] += 1
        elif op != "Mul" and None not in (sizes := [self.shapes.get(n) for n in inputs]) \
                and len(set(sizes)) > 1:
            self.unmapped[f"{op} with broadcasting"] += 1  # the Add layer needs equal shapes
        else:
            self._add(node, "Mul" if op == "Mul" else "Add", {}, inputs)

    def _fold_constant(self, node: Any, tensor: str, value: np.ndarray) -> None:
        """x·c, x + c or x − c right after a layer whose weights can absorb a per-channel c."""
        op = node.op_type
        layer_name = self.names.get(tensor)
        index = next((i for i, layer in enumerate(self.layers) if layer.name == layer_name), -1)
        layer = self.layers[index] if index >= 0 else None
        rank = self._rank(tensor)
        if layer is None or layer.type not in _FOLDS_INTO or self.uses[tensor] != 1 or \
                rank is None or value.ndim > rank:
            self.unmapped[f"{op} of a constant"] += 1
            return
        axis = rank - 1 if layer.type in _CHANNEL_LAST else 1
        full = (1,) * (rank - value.ndim) + value.shape
        channels = self.shapes.get(tensor, ())[axis] if axis < rank else 0
        if any(d != 1 for i, d in enumerate(full) if i != axis) or full[axis] not in (1, channels):
            self.unmapped[f"{op} of a constant that is not per channel"] += 1
            return
        c = np.broadcast_to(np.asarray(value, np.float32).reshape(-1), (channels,))
        c = -c if op == "Sub" else c
        weight_key, bias_key = f"{layer.name}.weight", f"{layer.name}.bias"
        if bias_key not in self.weights:
            self.weights[bias_key] = torch.zeros(channels)
            self.layers[index] = layer.with_params(bias=None)
        bias = self.weights[bias_key].numpy()
        if op == "Mul":
            weight = self.weights[weight_key].numpy()
            if layer.type in _NORMS:
                scaled = weight * c
            else:
                scaled = weight * c.reshape((-1,) + (1,) * (weight.ndim - 1))
            self.weights[weight_key] = torch.from_numpy(np.ascontiguousarray(scaled))
            self.weights[bias_key] = torch.from_numpy(np.ascontiguousarray(bias * c))
        else:
            self.weights[bias_key] = torch.from_numpy(np.ascontiguousarray(bias + c))
        self.names[node.output[0]] = layer.name

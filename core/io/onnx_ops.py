"""Mapping ONNX operators onto catalog layers (the converter behind ``core.io.onnx_import``).

Each operator whose meaning is a catalog layer becomes that layer with its weights; this module
holds the dispatcher, the activations, dense layers, normalizations and merges. A ``Mul``,
``Add`` or ``Sub`` by a per-channel constant right after a convolution, normalization or dense
layer is folded into its weights. Convolutions, pooling, padding, resizing and the multi-node
export patterns are in ``core.io.onnx_layout``. What cannot map is counted by operator for the
refusal.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from core.io.onnx_base import ALIASES, attributes, text_of
from core.io.onnx_layout import LayoutOps
from core.model.errors import ModelError

_ACTIVATIONS = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "HardSwish": "Hardswish",
                "Softplus": "Softplus"}
_SELU = (1.6732632423543772, 1.0507009873554805)
_CHANNEL_LAST = {"Linear"}
_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "LayerNorm2d",
          "InstanceNorm2d"}
_FOLDS_INTO = {"Conv1d", "Conv2d", "Conv3d", "Linear", *_NORMS}


class OnnxConverter(LayoutOps):
    """Walks the (folded) nodes once, building layers; ``unmapped`` counts what did not map."""

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
        elif op in ALIASES or (op == "Dropout" and (len(node.output) == 1 or not node.output[1]
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
        approximate = text_of(attrs.get("approximate", "none"))
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
        inputs = [name for name in node.input if name]
        if len(inputs) == 1 and inputs[0] in self.names:  # torch.cat([x]): x itself
            self.names[node.output[0]] = self.names[inputs[0]]
        elif rank is None or axis % rank != 1:
            self.unmapped["Concat along another axis than the channels"] += 1
        else:
            self._add(node, "Concat", {}, inputs)

    def _op_ReduceMean(self, node: Any, attrs: dict[str, Any]) -> None:
        self._reduce(node, attrs, "Avg")

    def _op_ReduceMax(self, node: Any, attrs: dict[str, Any]) -> None:
        self._reduce(node, attrs, "Max")

    def _reduce(self, node: Any, attrs: dict[str, Any], kind: str) -> None:
        """A mean or max over all of the spatial axes is global pooling (then a flatten)."""
        rank = self._rank(node.input[0])
        if self.opset < 18:
            axes: Any = attrs.get("axes")
        else:
            axes = self._const(node, 1)
        spatial = list(range(2, rank)) if rank is not None else []
        chosen = sorted(int(a) % rank for a in np.asarray(axes).reshape(-1)) \
            if axes is not None and rank is not None else None
        if rank not in (3, 4, 5) or chosen != spatial or attrs.get("noop_with_empty_axes", 0):
            self.unmapped[f"{node.op_type} other than over the height and width"] += 1
            return
        dims = rank - 2
        params: dict[str, Any] = {} if dims == 2 else {"output_size": 1}
        if attrs.get("keepdims", 1):
            self._add(node, f"Adaptive{kind}Pool{dims}d", params, [node.input[0]])
            return
        pooled = self._add(node, f"Adaptive{kind}Pool{dims}d", params, [node.input[0]],
                           output=f"{node.output[0]}::pooled")
        if pooled is not None:
            self._add(node, "Flatten", {}, [f"{node.output[0]}::pooled"])

    def _op_Flatten(self, node: Any, attrs: dict[str, Any]) -> None:
        rank = self._rank(node.input[0])
        axis = int(attrs.get("axis", 1))
        if rank is not None and rank >= 2 and axis % rank == 1:
            self._add(node, "Flatten", {}, [node.input[0]])
        else:
            self.unmapped["Flatten from another axis than 1"] += 1

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

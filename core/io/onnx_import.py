"""Importing an ONNX file whose operators map to the catalog, with its weights.

Conv, Gemm, the poolings, BatchNormalization, the activations, Add, Mul, Concat, Flatten and a
Reshape that flattens become layers; weights (the graph's initializers) are kept by layer name.
A file with any other operator is refused with the list of those that did not map. ONNX's own
shape inference checks the result layer by layer.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.analysis.model_analysis import analyze_model
from core.io.fx_import import ImportedModel, ImportRefused
from core.model.errors import ModelError
from core.model.spec import INPUT, RESERVED_NAMES, LayerSpec, ModelSpec, check_connections

_ACTIVATIONS = {"Relu": "ReLU", "Sigmoid": "Sigmoid", "Tanh": "Tanh", "HardSwish": "Hardswish"}
_ALIASES = {"Identity"}


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _compact(values: list[int]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else list(values)


class _OnnxConverter:
    def __init__(self, model: Any, source: str) -> None:
        from onnx import numpy_helper

        self.source = source
        self.graph = model.graph
        self.consts: dict[str, np.ndarray] = {
            t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.shapes: dict[str, tuple[int, ...]] = {}
        for info in [*self.graph.value_info, *self.graph.output, *self.graph.input]:
            dims = info.type.tensor_type.shape.dim
            self.shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else -1
                                           for d in dims)
        self.layers: list[LayerSpec] = []
        self.names: dict[str, str] = {}
        self.expected: dict[str, tuple[int, ...]] = {}
        self.weights: dict[str, torch.Tensor] = {}
        self.unmapped: Counter[str] = Counter()
        self.taken: set[str] = {INPUT}

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
             tensors: dict[str, np.ndarray] | None = None) -> None:
        sources = []
        for tensor in inputs:
            if tensor not in self.names:
                if tensor in self.consts:
                    self.unmapped[f"{node.op_type} of a constant"] += 1
                return  # else made by an operator that is already listed as not mapping
            sources.append(self.names[tensor])
        name = self._name(node, type_name)
        previous = self.layers[-1].name if self.layers else INPUT
        explicit = () if sources == [previous] else tuple(sources)
        self.layers.append(LayerSpec(name, type_name, params, True, explicit))
        self.names[node.output[0]] = name
        shape = self.shapes.get(node.output[0])
        if shape is not None and len(shape) > 1 and all(d > 0 for d in shape[1:]):
            self.expected[name] = shape[1:]
        for key, value in (tensors or {}).items():
            self.weights[f"{name}.{key}"] = torch.from_numpy(np.array(value, dtype=np.float32))

    def _const(self, name: str) -> np.ndarray | None:
        return self.consts.get(name) if name else None

    def _pads(self, node: Any, attrs: dict[str, Any], dims: int) -> list[int] | None:
        if attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            self.unmapped[f"{node.op_type} with auto_pad"] += 1
            return None
        pads = list(attrs.get("pads", [0] * (2 * dims)))
        if pads[:dims] != pads[dims:]:
            self.unmapped[f"{node.op_type} with uneven padding"] += 1
            return None
        return pads[:dims]

    # -- nodes -------------------------------------------------------------------------------
    def run(self) -> tuple[int, ...]:
        inputs = [i for i in self.graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise ModelError(f"{self.source}: ConvScope models have one input; this file has "
                             f"{len(inputs)}")
        shape = self.shapes[inputs[0].name]
        if len(shape) < 2 or any(d <= 0 for d in shape[1:]):
            raise ModelError(f"{self.source}: the input's size {shape} is not fixed; ConvScope "
                             "needs (batch, channels, height, width) with fixed sizes")
        self.names[inputs[0].name] = INPUT
        for node in self.graph.node:
            self._node(node)
        if len(self.graph.output) != 1:
            self.unmapped[f"{len(self.graph.output)} outputs (ConvScope models have one)"] += 1
        return shape[1:]

    def _node(self, node: Any) -> None:
        op, attrs = node.op_type, _attrs(node)
        x = node.input[0] if node.input else ""
        if op == "Constant":
            from onnx import numpy_helper

            if "value" in attrs:
                self.consts[node.output[0]] = numpy_helper.to_array(attrs["value"])
            else:
                self.unmapped["Constant (not a tensor)"] += 1
        elif op in _ALIASES or (op == "Dropout" and len(node.output) == 1):
            if x in self.names:
                self.names[node.output[0]] = self.names[x]
        elif op in _ACTIVATIONS:
            self._add(node, _ACTIVATIONS[op], {}, [x])
        elif op == "LeakyRelu":
            alpha = round(float(attrs.get("alpha", 0.01)), 7)
            self._add(node, "LeakyReLU", {} if alpha == 0.01 else {"negative_slope": alpha}, [x])
        elif op == "Elu":
            alpha = round(float(attrs.get("alpha", 1.0)), 7)
            self._add(node, "ELU", {} if alpha == 1.0 else {"alpha": alpha}, [x])
        elif op == "HardSigmoid":
            if abs(attrs.get("alpha", 0.2) - 1 / 6) < 1e-6 and abs(attrs.get("beta", 0.5) - 0.5) \
                    < 1e-6:
                self._add(node, "Hardsigmoid", {}, [x])
            else:
                self.unmapped["HardSigmoid with other slopes than torch's"] += 1
        elif op == "Clip":
            low = self._const(node.input[1] if len(node.input) > 1 else "")
            high = self._const(node.input[2] if len(node.input) > 2 else "")
            if low is not None and float(low) == 0 and high is not None and float(high) == 6:
                self._add(node, "ReLU6", {}, [x])
            elif low is not None and float(low) == 0 and high is None:
                self._add(node, "ReLU", {}, [x])
            else:
                self.unmapped["Clip other than ReLU6"] += 1
        elif op == "Softmax":
            self._add(node, "Softmax", {"dim": int(attrs.get("axis", -1))}, [x])
        elif op == "Conv":
            self._conv(node, attrs)
        elif op == "Gemm":
            self._gemm(node, attrs)
        elif op in ("MaxPool", "AveragePool"):
            self._pool(node, attrs)
        elif op in ("GlobalAveragePool", "GlobalMaxPool"):
            kind = "AdaptiveAvgPool2d" if op == "GlobalAveragePool" else "AdaptiveMaxPool2d"
            self._add(node, kind, {}, [x])
        elif op == "BatchNormalization":
            self._batch_norm(node, attrs)
        elif op == "LRN":
            params: dict[str, Any] = {"size": int(attrs["size"])}
            for key, onnx_key, default in (("alpha", "alpha", 1e-4), ("beta", "beta", 0.75),
                                           ("k", "bias", 1.0)):
                value = round(float(attrs.get(onnx_key, default)), 9)
                if value != default:
                    params[key] = value
            self._add(node, "LocalResponseNorm", params, [x])
        elif op in ("Add", "Mul"):
            self._add(node, op, {}, list(node.input[:2]))
        elif op == "Concat":
            if int(attrs.get("axis", 0)) != 1:
                self.unmapped["Concat along another axis than the channels"] += 1
            else:
                self._add(node, "Concat", {}, list(node.input))
        elif op == "Flatten":
            if int(attrs.get("axis", 1)) != 1:
                self.unmapped["Flatten from another axis than 1"] += 1
            else:
                self._add(node, "Flatten", {}, [x])
        elif op == "Reshape":
            self._reshape(node)
        else:
            self.unmapped[op] += 1

    def _conv(self, node: Any, attrs: dict[str, Any]) -> None:
        weight = self._const(node.input[1])
        if weight is None:
            self.unmapped["Conv with weights computed in the graph"] += 1
            return
        dims = weight.ndim - 2
        if dims not in (1, 2, 3):
            self.unmapped[f"Conv in {dims} dimensions"] += 1
            return
        pads = self._pads(node, attrs, dims)
        if pads is None:
            return
        params: dict[str, Any] = {"out_channels": int(weight.shape[0]),
                                  "kernel_size": _compact(list(weight.shape[2:]))}
        for key, onnx_key in (("stride", "strides"), ("dilation", "dilations")):
            value = _compact(list(attrs.get(onnx_key, [1] * dims)))
            if value != 1:
                params[key] = value
        if _compact(pads) != 0:
            params["padding"] = _compact(pads)
        if int(attrs.get("group", 1)) != 1:
            params["groups"] = int(attrs["group"])
        tensors = {"weight": weight}
        bias = self._const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = bias
        self._add(node, f"Conv{dims}d", params, [node.input[0]], tensors)

    def _gemm(self, node: Any, attrs: dict[str, Any]) -> None:
        weight = self._const(node.input[1])
        if weight is None or attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 \
                or attrs.get("beta", 1.0) != 1.0:
            self.unmapped["Gemm that is not a dense layer"] += 1
            return
        if not attrs.get("transB", 0):
            weight = weight.T
        tensors = {"weight": weight}
        params: dict[str, Any] = {"out_features": int(weight.shape[0])}
        bias = self._const(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if bias is None:
            params["bias"] = False
        else:
            tensors["bias"] = np.broadcast_to(bias, (weight.shape[0],))
        self._add(node, "Linear", params, [node.input[0]], tensors)

    def _pool(self, node: Any, attrs: dict[str, Any]) -> None:
        kernel = list(attrs["kernel_shape"])
        if len(kernel) != 2:
            self.unmapped[f"{node.op_type} in {len(kernel)} dimensions"] += 1
            return
        pads = self._pads(node, attrs, 2)
        if pads is None:
            return
        params: dict[str, Any] = {"kernel_size": _compact(kernel)}
        stride = _compact(list(attrs.get("strides", [1, 1])))
        if stride != params["kernel_size"]:
            params["stride"] = stride
        if _compact(pads) != 0:
            params["padding"] = _compact(pads)
        if attrs.get("ceil_mode", 0):
            params["ceil_mode"] = True
        if node.op_type == "MaxPool":
            dilation = _compact(list(attrs.get("dilations", [1, 1])))
            if dilation != 1:
                params["dilation"] = dilation
            self._add(node, "MaxPool2d", params, [node.input[0]])
        else:
            if _compact(pads) != 0 and not attrs.get("count_include_pad", 0):
                params["count_include_pad"] = False
            self._add(node, "AvgPool2d", params, [node.input[0]])

    def _batch_norm(self, node: Any, attrs: dict[str, Any]) -> None:
        tensors = [self._const(name) for name in node.input[1:5]]
        scale, bias, mean, var = tensors
        if scale is None or bias is None or mean is None or var is None or len(node.output) > 1:
            self.unmapped["BatchNormalization in training mode"] += 1
            return
        rank = len(self.shapes.get(node.input[0], (0, 0, 0, 0)))
        kind = "BatchNorm2d" if rank == 4 else "BatchNorm1d"
        params: dict[str, Any] = {}
        eps = round(float(attrs.get("epsilon", 1e-5)), 9)
        if eps != 1e-5:
            params["eps"] = eps
        momentum = round(1 - float(attrs.get("momentum", 0.9)), 6)
        if momentum != 0.1:
            params["momentum"] = momentum
        self._add(node, kind, params, [node.input[0]],
                  {"weight": scale, "bias": bias, "running_mean": mean, "running_var": var})
        self.weights[f"{self.layers[-1].name}.num_batches_tracked"] = torch.tensor(0)

    def _reshape(self, node: Any) -> None:
        target = self._const(node.input[1])
        shape_in = self.shapes.get(node.input[0])
        if target is not None and shape_in is not None and len(target) == 2 \
                and all(d > 0 for d in shape_in[1:]):
            rest = int(np.prod(shape_in[1:]))
            if int(target[1]) in (-1, rest) and int(target[0]) in (0, -1, shape_in[0]):
                self._add(node, "Flatten", {}, [node.input[0]])
                return
        self.unmapped["Reshape that is not a flatten"] += 1


def import_onnx(path: str | Path) -> ImportedModel:
    """Read an ONNX file into a model file and its weights; ModelError / ImportRefused."""
    import onnx

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
        model = onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # protobuf raises its own error types
        raise ModelError(f"{path}: not a readable ONNX file ({type(exc).__name__})") from None
    converter = _OnnxConverter(model, str(path))
    input_shape = converter.run()
    if converter.unmapped:
        listed = ", ".join(f"{op} ×{n}" if n > 1 else op for op, n in converter.unmapped.items())
        raise ImportRefused(f"cannot import {path.name}: these ONNX operators have no ConvScope "
                            f"layer: {listed}")
    name = re.sub(r"[^A-Za-z0-9_ -]", "_", path.stem) or "onnx_model"
    spec = ModelSpec(name, tuple(input_shape), tuple(converter.layers),
                     description=f"imported from {path.name} (ONNX)")
    check_connections(spec)
    analysis = analyze_model(spec)
    if analysis.error is not None:
        raise ModelError(f"{path}: the imported model does not analyse: {analysis.error}")
    for layer in analysis.layers:
        expected = converter.expected.get(layer.name)
        if expected is not None and expected != layer.output_shape:
            raise ModelError(f"{path}: layer {layer.name} gives {layer.output_shape} but the "
                             f"ONNX file says {expected}")
    shapes = {k: tuple(v.shape) for k, v in converter.weights.items()}
    return ImportedModel(spec, {k: k for k in shapes}, shapes, (), converter.weights)

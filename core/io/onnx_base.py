"""The converter's state and helpers shared by ``core.io.onnx_ops`` and ``core.io.onnx_layout``:
layer names, appending a layer with its weights, constants, ranks and padding."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np
import torch

from core.model.catalog import CATALOG
from core.model.errors import ModelError
from core.model.spec import INPUT, RESERVED_NAMES, LayerSpec

ALIASES = {"Identity"}


def attributes(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def compact(values: list[int]) -> Any:
    return values[0] if values and all(v == values[0] for v in values) else list(values)


def int_list(value: Any, name: str, op: str) -> list[int]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, int) for v in value):
        raise ModelError(f"its {op}'s {name} is not a list of whole numbers")
    return [int(v) for v in value]


def text_of(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ConverterBase:
    """What the converter knows while it walks the nodes; ``unmapped`` counts what did not map."""


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
            if node.op_type in ALIASES or node.op_type == "Dropout":
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
        mode = text_of(attrs.get("auto_pad", "NOTSET"))
        if mode in ("NOTSET", ""):
            pads = int_list(attrs.get("pads", [0] * (2 * dims)), "pads", node.op_type)
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

"""Folding an ONNX graph's constant sub-graphs before its operators are mapped to layers.

Every node whose inputs are all known (initializers, ``Constant`` nodes, ``Shape`` of a tensor
whose size shape inference fixed, and what those compute: ``ConstantOfShape``, ``Gather``,
``Concat``, ``Unsqueeze``…) is evaluated with onnx's own reference evaluator, so the weights a
model-zoo file makes with ``ConstantOfShape`` and the target of a ``Reshape`` computed from
``Shape`` become plain tensors. Then only the nodes the graph's output depends on are kept, so
unused inputs and dangling branches do not count.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.model.errors import ModelError

MAX_FOLDED_ELEMENTS = 1 << 28
"""Largest tensor (elements) a constant sub-graph may make: 1 GB of float32."""

_NOT_FOLDED = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
               "Multinomial", "Bernoulli", "Loop", "If", "Scan", "SequenceConstruct"}


def _size(shape: Any) -> int:
    total = 1
    for d in shape:
        total *= max(int(d), 0)
    return total


def _static(shapes: dict[str, tuple[int, ...]], name: str) -> tuple[int, ...] | None:
    shape = shapes.get(name)
    return shape if shape is not None and all(d >= 0 for d in shape) else None


def _planned_size(node: Any, values: list[np.ndarray | None]) -> int | None:
    """What a node that makes a tensor from numbers (not from data) would make, before it runs."""
    op = node.op_type
    if op == "ConstantOfShape" and values and values[0] is not None:
        return _size(values[0].reshape(-1))
    if op == "Expand" and len(values) > 1 and values[0] is not None and values[1] is not None:
        try:
            return _size(np.broadcast_shapes(values[0].shape, tuple(values[1].reshape(-1))))
        except ValueError:
            return None
    if op == "Tile" and len(values) > 1 and values[0] is not None and values[1] is not None:
        return _size(values[0].shape) * _size(values[1].reshape(-1))
    if op == "Range" and len(values) == 3 and all(v is not None for v in values):
        start, limit, delta = (float(np.asarray(v).reshape(-1)[0]) for v in values if v is not None)
        return int(abs((limit - start) / delta)) + 1 if delta else MAX_FOLDED_ELEMENTS + 1
    return None


def _evaluate(node: Any, values: list[np.ndarray | None], opsets: list[Any]) -> list[np.ndarray]:
    import onnx
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    inputs = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(v.dtype),
                                            list(v.shape))
              for name, v in zip(node.input, values, strict=True) if name and v is not None]
    outputs = [helper.make_value_info(name, onnx.TypeProto()) for name in node.output if name]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    model = helper.make_model(graph, opset_imports=opsets)
    feeds = {name: v for name, v in zip(node.input, values, strict=True) if name and v is not None}
    results = ReferenceEvaluator(model).run(None, feeds)
    return [np.asarray(r) for r in results]


def fold_constants(model: Any, consts: dict[str, np.ndarray],
                   shapes: dict[str, tuple[int, ...]], nodes: list[Any] | None = None
                   ) -> list[Any]:
    """Evaluate the constant nodes of ``model``'s graph into ``consts``; the other nodes, in order.

    Raises ModelError when a constant sub-graph fails or would make a tensor too large to hold.
    """
    opsets = list(model.opset_import)
    rest = []
    for node in model.graph.node if nodes is None else nodes:
        op = node.op_type
        if op == "Shape" and node.input and _static(shapes, node.input[0]) is not None:
            shape = np.array(_static(shapes, node.input[0]), dtype=np.int64)
            attrs = {a.name: a.i for a in node.attribute}
            consts[node.output[0]] = shape[attrs.get("start", 0):attrs.get("end", len(shape))]
            continue
        if op == "Size" and node.input and _static(shapes, node.input[0]) is not None:
            consts[node.output[0]] = np.array(_size(_static(shapes, node.input[0]) or ()),
                                              dtype=np.int64)
            continue
        known = all(not name or name in consts for name in node.input)
        if op in _NOT_FOLDED or node.domain not in ("", "ai.onnx") or not known \
                or any(a.type in (5, 10) for a in node.attribute):  # GRAPH / GRAPHS attributes
            rest.append(node)
            continue
        values = [consts[name] if name else None for name in node.input]
        planned = _planned_size(node, values)
        inferred = [_static(shapes, out) for out in node.output if out]
        sizes = [planned] if planned is not None else [_size(s) for s in inferred if s]
        if any(size > MAX_FOLDED_ELEMENTS for size in sizes):
            raise ModelError(f"its {op} node {node.name or node.output[0]!r} makes a tensor of "
                             f"{max(sizes):,} numbers, too large to hold")
        try:
            results = _evaluate(node, values, opsets)
        except (MemoryError, OverflowError):
            raise ModelError(f"its {op} node makes a tensor too large to hold") from None
        except Exception as exc:  # the reference evaluator raises what numpy raises
            first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
            raise ModelError(f"its constant {op} node cannot be computed "
                             f"({type(exc).__name__}: {first})") from None
        for name, value in zip([o for o in node.output if o], results, strict=False):
            if value.size > MAX_FOLDED_ELEMENTS:
                raise ModelError(f"its {op} node makes a tensor of {value.size:,} numbers, "
                                 "too large to hold")
            consts[name] = value
    return rest


def used_nodes(nodes: list[Any], outputs: list[str]) -> list[Any]:
    """The nodes the outputs depend on, in their order (dead branches left out)."""
    needed = set(outputs)
    kept = []
    for node in reversed(nodes):
        if any(out in needed for out in node.output if out):
            kept.append(node)
            needed.update(name for name in node.input if name)
    return kept[::-1]


def _reinfer(model: Any, nodes: list[Any], consts: dict[str, np.ndarray],
             shapes: dict[str, tuple[int, ...]]) -> None:
    """Shape inference again over what is left, knowing the folded values: the sizes that
    depended on shape arithmetic (a ``Slice`` whose ends were computed) become known."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    read = {name for node in nodes for name in node.input if name}
    small, large = [], []
    for name in sorted(read & consts.keys()):
        value = consts[name]
        if value.size <= 64:
            small.append(numpy_helper.from_array(np.asarray(value), name))
        else:
            large.append(helper.make_tensor_value_info(
                name, helper.np_dtype_to_tensor_dtype(value.dtype), list(value.shape)))
    inputs = [i for i in graph.input if i.name not in consts] + large
    rebuilt = helper.make_model(
        helper.make_graph(nodes, "refold", inputs, list(graph.output), small),
        opset_imports=list(model.opset_import), ir_version=model.ir_version)
    try:
        inferred = onnx.shape_inference.infer_shapes(rebuilt, data_prop=True)
    except Exception:  # the first, strict inference passed; this one only adds what it can
        return
    for info in inferred.graph.value_info:
        dims = info.type.tensor_type.shape.dim
        shape = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in dims)
        if info.type.tensor_type.HasField("shape") and all(d >= 0 for d in shape) \
                and _static(shapes, info.name) is None:
            shapes[info.name] = shape


def fold_all(model: Any, consts: dict[str, np.ndarray],
             shapes: dict[str, tuple[int, ...]]) -> list[Any]:
    """``fold_constants`` until nothing more folds: each round's values may fix sizes that let
    the next round fold ``Shape`` of tensors whose size was not known before."""
    nodes = fold_constants(model, consts, shapes)
    for _ in range(4):
        if not any(node.op_type in ("Shape", "Size") for node in nodes):
            break
        _reinfer(model, nodes, consts, shapes)
        before = len(nodes)
        nodes = fold_constants(model, consts, shapes, nodes)
        if len(nodes) == before:
            break
    if any(_static(shapes, out) is None for node in nodes for out in node.output if out):
        _reinfer(model, nodes, consts, shapes)
    return nodes

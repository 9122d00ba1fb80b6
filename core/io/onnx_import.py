"""Importing an ONNX file whose operators map to the catalog, with its weights.

The file is checked first (``onnx.checker`` in full, strict shape inference, every initializer's
size against its data), its constant sub-graphs are folded with onnx's reference evaluator
(``core.io.onnx_fold``), the nodes the output does not depend on are left out, and the rest are
mapped onto catalog layers (``core.io.onnx_ops``). A file with operators that do not map is
refused in one line naming them with their counts; any other fault of the file is one ModelError
line. ONNX's own shape inference checks the result layer by layer.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.analysis.model_analysis import analyze_model
from core.io.fx_import import ImportedModel, ImportRefused
from core.io.labels_meta import onnx_labels
from core.io.onnx_fold import MAX_FOLDED_ELEMENTS, fold_all, used_nodes
from core.io.onnx_ops import OnnxConverter
from core.model.errors import LayerError, ModelError
from core.model.spec import INPUT, ModelSpec, check_connections

MAX_ONNX_BYTES = 2 << 30
"""Largest .onnx file read (protobuf's own limit is 2 GB; larger models keep external data)."""

MAX_INPUT_ELEMENTS = 1 << 27
"""Largest input (numbers per sample) an imported model may take."""

_FLOAT_TYPES = {1, 10, 11, 16}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
_INT_TYPES = {6, 7}  # INT32, INT64


def _first_line(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _load(path: Path) -> Any:
    import onnx
    from onnx import external_data_helper

    size = path.stat().st_size
    if size > MAX_ONNX_BYTES:
        raise ModelError(f"the file is {size / 2**30:.1f} GB, larger than the 2 GB an ONNX "
                         "file can be (larger models keep their weights as external data)")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises its own error types
        raise ModelError(f"not a readable ONNX file ({type(exc).__name__})") from None
    if not isinstance(model, onnx.ModelProto) or not model.HasField("graph"):
        raise ModelError("not an ONNX model (no graph in it)")
    external = [t for t in external_data_helper._get_all_tensors(model)
                if external_data_helper.uses_external_data(t)]
    folder = path.resolve().parent
    for tensor in external:
        location = next((e.value for e in tensor.external_data if e.key == "location"), "")
        target = (folder / location).resolve()
        if not location or Path(location).is_absolute() or folder not in target.parents \
                or not target.is_file():
            raise ModelError("a tensor's external data is not a file beside the model")
    if external:
        try:
            external_data_helper.load_external_data_for_model(model, str(folder))
        except Exception as exc:
            raise ModelError(f"its external data cannot be read ({_first_line(exc)})") from None
    return model


def _check(model: Any) -> Any:
    import onnx

    for tensor in model.graph.initializer:
        count = 1
        for d in tensor.dims:
            count *= max(int(d), 0)
        if any(d < 0 for d in tensor.dims) or count > MAX_FOLDED_ELEMENTS:
            raise ModelError(f"a stored tensor claims {list(tensor.dims)[:8]} numbers, too large "
                             "to hold")
    try:
        onnx.checker.check_model(model, full_check=False)
    except Exception as exc:
        raise ModelError(f"not a valid ONNX model: {_first_line(exc)}") from None
    try:
        return onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True,
                                                 data_prop=True)
    except Exception as exc:
        raise ModelError(f"ONNX's shape inference refuses it: {_first_line(exc)}") from None


def _fix_batch(model: Any, inputs: set[str]) -> None:
    """A symbolic batch size becomes 1, so shape arithmetic on the input's size can be folded."""
    for info in model.graph.input:
        dims = info.type.tensor_type.shape.dim
        if info.name in inputs and dims and not dims[0].HasField("dim_value"):
            dims[0].dim_value = 1
            del model.graph.value_info[:]  # inferred again from the fixed size


def _shapes(model: Any) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    graph = model.graph
    for info in [*graph.value_info, *graph.output, *graph.input]:
        if info.type.HasField("tensor_type") and info.type.tensor_type.HasField("shape"):
            dims = info.type.tensor_type.shape.dim
            shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else -1
                                      for d in dims)
    return shapes


def _constants(model: Any) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    consts: dict[str, np.ndarray] = {}
    for tensor in model.graph.initializer:
        try:
            consts[tensor.name] = numpy_helper.to_array(tensor)
        except Exception:  # numpy's reshape of data that does not fit the dims
            raise ModelError(f"a stored tensor's data does not match its size "
                             f"{list(tensor.dims)[:8]}") from None
    return consts


def _convert(model: Any, source: str) -> tuple[ModelSpec, OnnxConverter]:
    initializers = {t.name for t in model.graph.initializer}
    declared = [i for i in model.graph.input if i.name not in initializers]
    _fix_batch(model, {i.name for i in declared})
    model = _check(model)
    shapes = _shapes(model)
    consts = _constants(model)
    outputs = [o.name for o in model.graph.output]
    if len(outputs) != 1:
        raise ImportRefused(f"ConvScope models have one output; this file has {len(outputs)}")
    nodes = used_nodes(fold_all(model, consts, shapes), outputs)
    if outputs[0] in consts:
        raise ModelError("its output is a constant: it does not depend on its input")
    read = {name for node in nodes for name in node.input}
    inputs = [i for i in declared if i.name in read and i.name not in consts]
    if len(inputs) != 1:
        raise ImportRefused(f"ConvScope models have one input; this file's output depends on "
                            f"{len(inputs)}")
    graph_input = inputs[0]
    shape = shapes.get(graph_input.name, ())
    if len(shape) < 2 or any(d <= 0 for d in shape[1:]):
        raise ModelError(f"the input's size {list(shape)} is empty or not fixed; ConvScope "
                         "needs (batch, channels, …) with fixed sizes above 0")
    if int(np.prod([float(d) for d in shape[1:]])) > MAX_INPUT_ELEMENTS:
        raise ModelError(f"the input's size {list(shape[1:])[:8]} is too large to analyse")
    elem = graph_input.type.tensor_type.elem_type
    if elem not in _FLOAT_TYPES | _INT_TYPES:
        raise ImportRefused(f"the input's data type ({elem}) is neither numbers nor token ids")
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    converter = OnnxConverter(nodes, consts, shapes, int(opset), outputs)
    converter.graph_input = graph_input.name
    converter.names[graph_input.name] = INPUT
    converter.run()
    if converter.unmapped:
        counted = sorted(converter.unmapped.items(), key=lambda item: (-item[1], item[0]))
        listed = ", ".join(f"{n} × {op}" for op, n in counted[:6])
        if len(counted) > 6:
            listed += f" and {len(counted) - 6} more kinds"
        raise ImportRefused(f"{listed}: ConvScope can't represent these")
    if not converter.layers or converter.names.get(outputs[0]) != converter.layers[-1].name:
        raise ImportRefused("its output is not made by the last of its layers")
    name = re.sub(r"[^A-Za-z0-9_ -]", "_", Path(source).stem) or "onnx_model"
    spec = ModelSpec(name, tuple(int(d) for d in shape[1:]), tuple(converter.layers),
                     description=f"imported from {Path(source).name} (ONNX)",
                     input_dtype="int64" if elem in _INT_TYPES else "float32")
    return spec, converter


def _verify(spec: ModelSpec, converter: OnnxConverter) -> None:
    from core.build import build_model

    check_connections(spec)
    analysis = analyze_model(spec)
    if analysis.error is not None:
        raise ModelError(f"the imported model does not analyse: {analysis.error}")
    for layer in analysis.layers:
        expected = converter.expected.get(layer.name)
        if expected is not None and expected != layer.output_shape:
            raise ModelError(f"layer {layer.name} gives {layer.output_shape} but the ONNX file "
                             f"says {expected}")
    with torch.device("meta"):
        built = build_model(spec, analysis).state_dict()
    for key, tensor in converter.weights.items():
        want = built.get(f"layers.{key}")
        if want is None or tuple(want.shape) != tuple(tensor.shape):
            raise ModelError(f"the weight {key} has shape {list(tensor.shape)}, but the layer "
                             f"needs {list(want.shape) if want is not None else 'none'}")


def import_onnx(path: str | Path) -> ImportedModel:
    """Read an ONNX file into a model file and its weights.

    Raises ImportRefused (operators with no layer, counted) or ModelError, each one line.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such file")
    notes: list[str] = []
    try:
        model = _load(path)
        spec, converter = _convert(model, str(path))
        _verify(spec, converter)
        spec = onnx_labels(model, spec, notes)
    except ImportRefused as exc:
        raise ImportRefused(f"cannot import {path.name}: {exc}") from None
    except LayerError as exc:
        raise ModelError(f"{path.name}: {exc}") from None
    except ModelError as exc:
        raise ModelError(f"{path.name}: {exc}") from None
    except (RecursionError, MemoryError, OverflowError) as exc:
        raise ModelError(f"{path.name}: too large or too deep to import "
                         f"({type(exc).__name__})") from None
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
        raise ModelError(f"{path.name}: cannot be read as a ConvScope model "
                         f"({type(exc).__name__}: {_first_line(exc, 100)})") from None
    shapes = {k: tuple(v.shape) for k, v in converter.weights.items()}
    return ImportedModel(spec, {k: k for k in shapes}, shapes, tuple(notes), converter.weights)

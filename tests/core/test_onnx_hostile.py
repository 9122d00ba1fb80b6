"""Hostile ONNX files: each is refused in one line of ModelError (exit 2, nothing written), or,
where it is a valid graph (a dangling branch, the output not last, an unused input), imported
as the graph means it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")

from onnx import TensorProto  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

from core.build import build_model  # noqa: E402
from core.cli import main  # noqa: E402
from core.io import onnx_import  # noqa: E402
from core.io.onnx_import import import_onnx  # noqa: E402
from core.model.errors import ModelError  # noqa: E402
from core.weights import apply_weights  # noqa: E402

FOUR = ["n", "c", "h", "w"]


def _model(nodes: list[Any], inits: Sequence[Any] = (), shape: list[Any] | None = None,
           out: list[Any] | None = None, extra: Sequence[Any] = ()) -> Any:
    graph = h.make_graph(
        nodes, "g", [h.make_tensor_value_info("x", TensorProto.FLOAT, shape or [1, 3, 8, 8]),
                     *extra],
        [h.make_tensor_value_info("y", TensorProto.FLOAT, out or FOUR)], list(inits))
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])


def _ones(name: str, *shape: int) -> Any:
    return nh.from_array(np.ones(shape, np.float32), name)


def _node(op: str, inputs: list[str], output: str = "y", **attrs: Any) -> Any:
    return h.make_node(op, inputs, [output], **attrs)


def _tensor_claiming(*dims: int) -> Any:
    tensor = onnx.TensorProto()
    tensor.name, tensor.data_type = "W", TensorProto.FLOAT
    tensor.dims.extend(dims)
    return tensor


def _mismatched() -> Any:
    tensor = _ones("W", 4, 3, 3, 3)
    tensor.dims[0] = 40
    return tensor


def _escaping() -> Any:
    tensor = _tensor_claiming(4, 3, 3, 3)
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "../../../etc/passwd"
    return tensor


BN = ("s", "b", "m", "v")
CASES: dict[str, tuple[Any, str]] = {
    "cycle": (lambda: _model([_node("Relu", ["b"], "a"), _node("Relu", ["a"], "b"),
                              _node("Relu", ["b"])]), "topologically sorted"),
    "out of order": (lambda: _model([_node("Relu", ["a"]), _node("Relu", ["x"], "a")]),
                     "topologically sorted"),
    "batch norm of the wrong size": (
        lambda: _model([_node("BatchNormalization", ["x", *BN])],
                       [_ones(n, k) for n, k in zip(BN, (3, 3, 5, 3), strict=True)]),
        "shape inference"),
    "max pool without kernel_shape": (lambda: _model([_node("MaxPool", ["x"])]),
                                      "'kernel_shape' is missing"),
    "LRN without size": (lambda: _model([_node("LRN", ["x"])]), "'size' is missing"),
    "conv without its weight": (lambda: _model([_node("Conv", ["x"])]), "input size 1"),
    "missing initializer": (lambda: _model([_node("Conv", ["x", "W"])]),
                            "topologically sorted"),
    "vector clip bound": (
        lambda: _model([_node("Clip", ["x", "lo", "hi"])],
                       [_ones("lo", 2), _ones("hi", 2)]), "Clip has a bound that is not one"),
    "gemm bias of the wrong length": (
        lambda: _model([_node("Flatten", ["x"], "f"), _node("Gemm", ["f", "G", "C"], transB=1)],
                       [_ones("G", 5, 192), _ones("C", 7)], out=["n", "f"]),
        r"Gemm's bias has shape \[7\], not 5"),
    "conv bias of the wrong length": (
        lambda: _model([_node("Conv", ["x", "W", "B"])], [_ones("W", 4, 3, 3, 3), _ones("B", 5)]),
        r"bias has shape \[5\], not \[4\]"),
    "initializer data not matching its dims": (
        lambda: _model([_node("Conv", ["x", "W"])], [_mismatched()]), "too small"),
    "tensor claiming gigabytes": (
        lambda: _model([_node("Conv", ["x", "W"])], [_tensor_claiming(100000, 100000, 3, 3)]),
        "too large to hold"),
    "constant sub-graph making terabytes": (
        lambda: _model([_node("ConstantOfShape", ["s"], "w"), _node("Conv", ["x", "w"])],
                       [nh.from_array(np.array([10**6, 10**6, 3, 3], np.int64), "s")]),
        "ConstantOfShape .* too large to hold"),
    "huge input": (lambda: _model([_node("Relu", ["x"])], shape=[1, 3, 10**9, 10**9]),
                   "too large to analyse"),
    "zero-size input": (lambda: _model([_node("Relu", ["x"])], shape=[1, 0, 8, 8]),
                        "empty or not fixed"),
    "negative pads": (lambda: _model([_node("Conv", ["x", "W"], pads=[-1, -1, -1, -1])],
                                     [_ones("W", 4, 3, 3, 3)]), "negative"),
    "attribute of the wrong type": (
        lambda: _model([_node("Conv", ["x", "W"], strides=[1.5, 1.5])], [_ones("W", 4, 3, 3, 3)]),
        "Mismatched attribute type"),
    "huge kernel": (lambda: _model([_node("MaxPool", ["x"], kernel_shape=[2**62, 2**62])]),
                    "kernel_size must be"),
    "huge slope": (lambda: _model([_node("LeakyRelu", ["x"], alpha=1e300)]), "negative_slope"),
    "external data outside the model's folder": (
        lambda: _model([_node("Conv", ["x", "W"])], [_escaping()]), "external data"),
    "two inputs": (
        lambda: _model([_node("Add", ["x", "x2"])],
                       extra=[h.make_tensor_value_info("x2", TensorProto.FLOAT, [1, 3, 8, 8])]),
        "one input"),
    "unsupported operators": (
        lambda: _model([_node("Relu", ["x"], "a"), _node("Sin", ["a"], "b"),
                        _node("Sin", ["b"], "c"), _node("Exp", ["c"])]),
        r"^cannot import m\.onnx: 2 × Sin, 1 × Exp: ConvScope can't represent these$"),
}


def _write(model: Any, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())  # onnx.save would try the external data
    return path


def _refused(path: Path, pattern: str) -> str:
    with pytest.raises(ModelError, match=pattern) as refused:
        import_onnx(path)
    message = str(refused.value)
    assert "\n" not in message and len(message) < 300, message
    return message


@pytest.mark.parametrize("case", CASES)
def test_hostile_onnx_is_refused_in_one_line(case: str, tmp_path: Path) -> None:
    make, pattern = CASES[case]
    _refused(_write(make(), tmp_path / "m.onnx"), pattern)


@pytest.mark.parametrize("content", [b"", b"hello, I am not ONNX\n",
                                     np.random.default_rng(0).bytes(5000)])
def test_a_file_that_is_not_onnx_is_refused(content: bytes, tmp_path: Path) -> None:
    (tmp_path / "m.onnx").write_bytes(content)
    _refused(tmp_path / "m.onnx", "not a readable ONNX file|not an ONNX model")


def test_an_over_big_file_is_refused_before_it_is_read(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(_model([_node("Relu", ["x"])]), tmp_path / "m.onnx")
    monkeypatch.setattr(onnx_import, "MAX_ONNX_BYTES", 10)
    _refused(path, "larger than the 2 GB")


@pytest.mark.parametrize("case", ["dangling branch", "output not last", "unused input"])
def test_valid_graphs_with_unused_parts_import_as_they_mean(case: str, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    extra = [h.make_tensor_value_info("x2", TensorProto.FLOAT, [1, 3, 8, 8])]
    nodes = {"dangling branch": [_node("Relu", ["x"], "a"), _node("Sigmoid", ["x"], "d"),
                                 _node("Tanh", ["a"])],
             "output not last": [_node("Relu", ["x"]), _node("Sigmoid", ["y"], "d")],
             "unused input": [_node("Relu", ["x"])]}[case]
    path = _write(_model(nodes, extra=extra if case == "unused input" else []),
                  tmp_path / "m.onnx")
    imported = import_onnx(path)
    net = build_model(imported.spec).eval()
    assert imported.weights is not None
    apply_weights(net, imported.weights)
    x = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"x": x, "x2": x} if case == "unused input" else {"x": x}
    (expected,) = session.run(["y"], feeds)
    with torch.no_grad():
        assert np.allclose(net(torch.from_numpy(x)).numpy(), expected, atol=1e-6)


@pytest.mark.parametrize("case", ["cycle", "tensor claiming gigabytes", "vector clip bound"])
def test_the_command_line_exits_2_and_writes_nothing(case: str, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(CASES[case][0](), tmp_path / "m.onnx")
    assert main(["import", str(path), "-o", str(tmp_path / "m.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("convscope: ") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_mutated_backend_models_import_or_are_refused_in_one_line(tmp_path: Path) -> None:
    """Seeded mutations of ONNX's own models (attributes, stored sizes, wiring, the input's size,
    operator types, truncation): never anything but an import or one ModelError line."""
    import random

    data = Path(onnx.__file__).parent / "backend" / "test" / "data"
    files = sorted((data / "pytorch-converted").glob("*/model.onnx"))
    rng = random.Random(0)
    path = tmp_path / "m.onnx"
    for _ in range(60):
        model = onnx.load(str(rng.choice(files)))
        graph, kind = model.graph, rng.randrange(5)
        node = rng.choice(graph.node)
        if kind == 0:
            for attribute in node.attribute:
                if attribute.ints:
                    attribute.ints[rng.randrange(len(attribute.ints))] = rng.choice(
                        [0, -1, -5, 2**40, 3])
                elif attribute.type == onnx.AttributeProto.FLOAT:
                    attribute.f = rng.choice([-1.0, 1e38, float("nan"), float("inf")])
        elif kind == 1 and graph.initializer:
            tensor = rng.choice(graph.initializer)
            if tensor.dims:
                tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice([0, 1, 2, 10**6])
        elif kind == 2 and node.input:
            names = [i.name for i in graph.input] + [t.name for t in graph.initializer]
            node.input[rng.randrange(len(node.input))] = rng.choice([*names, "", "nope"])
        elif kind == 3:
            dims = graph.input[0].type.tensor_type.shape.dim
            dims[rng.randrange(len(dims))].dim_value = rng.choice([0, 1, 10**7, 2])
        else:
            node.op_type = rng.choice(["Conv", "MaxPool", "Gemm", "Pad", "Reshape",
                                       "BatchNormalization", "Clip", "Resize", "Foo"])
        content = model.SerializeToString()
        path.write_bytes(content if rng.random() > 0.1 else content[:rng.randrange(len(content))])
        message = ""
        try:
            import_onnx(path)
        except ModelError as exc:
            message = str(exc)
        assert "\n" not in message and len(message) < 300, message

"""ONNX operators and export patterns mapped onto catalog layers, each checked against
onnxruntime on a random input: uneven and ``auto_pad`` padding as explicit pad layers, ``Gemm``
in its forms, broadcasting merges, per-channel constants folded into the layer before, ``Resize``
as Upsample, the opset-6 attribute forms, and constant sub-graphs (``Shape`` arithmetic)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto  # noqa: E402
from onnx import helper as h  # noqa: E402
from onnx import numpy_helper as nh  # noqa: E402

from core.build import build_model  # noqa: E402
from core.io.onnx_import import import_onnx  # noqa: E402
from core.weights import apply_weights  # noqa: E402

RNG = np.random.default_rng(0)


def _w(name: str, *shape: int) -> Any:
    return nh.from_array(RNG.standard_normal(shape).astype(np.float32), name)


def _i(name: str, values: Sequence[int]) -> Any:
    return nh.from_array(np.array(values, np.int64), name)


def _n(op: str, inputs: list[str], output: str, **attrs: Any) -> Any:
    return h.make_node(op, inputs, [output], **attrs)


def _graph(nodes: list[Any], inits: Sequence[Any], shape: Sequence[int] = (1, 3, 9, 9),
           opset: int = 17) -> Any:
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", TensorProto.FLOAT,
                                                               list(shape))],
                         [h.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    return onnx.shape_inference.infer_shapes(model)


def _output_typed(model: Any) -> Any:
    """The output gets the shape inference found, as an exporter writes it."""
    inferred = {v.name: v for v in model.graph.value_info}
    for out in model.graph.output:
        if out.name in inferred:
            out.CopyFrom(inferred[out.name])
    return model


CASES: dict[str, tuple[Callable[[], Any], list[str]]] = {
    "conv with auto_pad SAME_UPPER and stride 2": (
        lambda: _graph([_n("Conv", ["x", "W", "B"], "y", auto_pad="SAME_UPPER", strides=[2, 2])],
                       [_w("W", 4, 3, 4, 4), _w("B", 4)]), ["ZeroPad2d", "Conv2d"]),
    "conv with uneven pads": (
        lambda: _graph([_n("Conv", ["x", "W"], "y", pads=[0, 1, 2, 1])], [_w("W", 4, 3, 3, 3)]),
        ["ZeroPad2d", "Conv2d"]),
    "max pool with uneven pads": (
        lambda: _graph([_n("MaxPool", ["x"], "y", kernel_shape=[3, 3], strides=[2, 2],
                           pads=[0, 0, 1, 1])], []), ["ReplicationPad2d", "MaxPool2d"]),
    "max pool with auto_pad SAME_LOWER": (
        lambda: _graph([_n("MaxPool", ["x"], "y", kernel_shape=[2, 2], auto_pad="SAME_LOWER")],
                       []), ["ReplicationPad2d", "MaxPool2d"]),
    "average pool with uneven pads counting them": (
        lambda: _graph([_n("AveragePool", ["x"], "y", kernel_shape=[3, 3], pads=[1, 0, 1, 2],
                           count_include_pad=1)], []), ["ZeroPad2d", "AvgPool2d"]),
    "average pool with even pads not counting them": (
        lambda: _graph([_n("AveragePool", ["x"], "y", kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                       []), ["AvgPool2d"]),
    "average pool over all of the input": (
        lambda: _graph([_n("AveragePool", ["x"], "y", kernel_shape=[10, 10], pads=[0, 0, 1, 1])],
                       []), ["AdaptiveAvgPool2d"]),
    "gemm without transB, with alpha and beta": (
        lambda: _graph([_n("Flatten", ["x"], "f"),
                        _n("Gemm", ["f", "G", "C"], "y", alpha=0.5, beta=2.0)],
                       [_w("G", 243, 5), _w("C", 1, 5)]), ["Flatten", "Linear"]),
    "matmul then add of a bias": (
        lambda: _graph([_n("Flatten", ["x"], "f"), _n("MatMul", ["f", "M"], "m"),
                        _n("Add", ["m", "C"], "y")], [_w("M", 243, 6), _w("C", 6)]),
        ["Flatten", "Linear"]),
    "conv then a per-channel scale and shift": (
        lambda: _graph([_n("Conv", ["x", "W"], "c"), _n("Mul", ["c", "S"], "m"),
                        _n("Sub", ["m", "T"], "y")], [_w("W", 4, 3, 3, 3), _w("S", 4, 1, 1),
                                                      _w("T", 1, 4, 1, 1)]), ["Conv2d"]),
    "batch norm then a scale (caffe2's)": (
        lambda: _graph([_n("BatchNormalization", ["x", "s", "b", "m", "v"], "n"),
                        _n("Mul", ["n", "S"], "y")],
                       [_w("s", 3), _w("b", 3), _w("m", 3),
                        nh.from_array(np.abs(RNG.standard_normal(3)).astype(np.float32), "v"),
                        _w("S", 3, 1, 1)]), ["BatchNorm2d"]),
    "broadcasting mul and a three-way concat": (
        lambda: _graph([_n("Relu", ["x"], "r"), _n("GlobalAveragePool", ["r"], "g"),
                        _n("Mul", ["r", "g"], "a"), _n("Sigmoid", ["a"], "s"),
                        _n("Concat", ["r", "a", "s"], "y", axis=-3)], []),
        ["ReLU", "AdaptiveAvgPool2d", "Mul", "Sigmoid", "Concat"]),
    "sum of three": (
        lambda: _graph([_n("Relu", ["x"], "r"), _n("Tanh", ["x"], "t"),
                        h.make_node("Sum", ["x", "r", "t"], ["y"])], []),
        ["ReLU", "Tanh", "Add"]),
    "resize nearest by 2": (
        lambda: _graph([h.make_node("Resize", ["x", "", "S"], ["y"], mode="nearest",
                                    coordinate_transformation_mode="asymmetric",
                                    nearest_mode="floor")],
                       [nh.from_array(np.array([1, 1, 2, 2], np.float32), "S")]), ["Upsample"]),
    "resize bilinear": (
        lambda: _graph([h.make_node("Resize", ["x", "", "", "Z"], ["y"], mode="linear",
                                    coordinate_transformation_mode="half_pixel")],
                       [_i("Z", [1, 3, 13, 17])]), ["Upsample"]),
    "reshape whose target is computed from Shape": (
        lambda: _graph([_n("Conv", ["x", "W"], "c"), _n("Shape", ["c"], "s"),
                        _n("Gather", ["s", "zero"], "n", axis=0),
                        _n("Unsqueeze", ["n", "axes"], "u"),
                        _n("Concat", ["u", "minus"], "t", axis=0),
                        _n("Reshape", ["c", "t"], "f"), _n("Gemm", ["f", "G"], "y", transB=1)],
                       [_w("W", 2, 3, 3, 3), nh.from_array(np.array(0, np.int64), "zero"),
                        _i("axes", [0]), _i("minus", [-1]), _w("G", 5, 98)]),
        ["Conv2d", "Flatten", "Linear"]),
    "opset 6 clip and leaky relu attributes": (
        lambda: _graph([_n("Clip", ["x"], "c", min=0.0, max=6.0), _n("LeakyRelu", ["c"], "y",
                                                                     alpha=0.2)], [], opset=6),
        ["ReLU6", "LeakyReLU"]),
    "dropout with its mask unused, softmax over the channels": (
        lambda: _graph([h.make_node("Dropout", ["x"], ["d", "mask"]),
                        _n("Softmax", ["d"], "y", axis=1)], []), ["Softmax"]),
    "conv 1-D and 3-D, depthwise": (
        lambda: _graph([_n("Conv", ["x", "W"], "y", group=3, pads=[1, 1, 1, 1, 1, 1],
                           dilations=[1, 2, 1])], [_w("W", 6, 1, 3, 3, 3)], shape=(1, 3, 5, 7, 6)),
        ["Conv3d"]),
    "conv transpose with output padding": (
        lambda: _graph([_n("ConvTranspose", ["x", "W", "B"], "y", strides=[2, 2],
                           pads=[1, 1, 1, 1], output_padding=[1, 1])],
                       [_w("W", 3, 4, 3, 3), _w("B", 4)]), ["ConvTranspose2d"]),
}


@pytest.mark.parametrize("case", CASES)
def test_onnx_operator_maps_and_matches_onnxruntime(case: str, tmp_path: Path) -> None:
    make, types = CASES[case]
    model = _output_typed(make())
    onnx.checker.check_model(model, full_check=True)
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    imported = import_onnx(path)
    assert [layer.type for layer in imported.spec.layers] == types
    assert imported.weights is not None
    net = build_model(imported.spec).eval()
    report = apply_weights(net, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = RNG.standard_normal(shape).astype(np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {"x": x})
    with torch.no_grad():
        out = net(torch.from_numpy(x)).numpy()
    assert out.shape == expected.shape
    assert np.allclose(out, expected, rtol=1e-4, atol=1e-5), np.abs(out - expected).max()


def test_add_with_broadcasting_is_refused_by_name(tmp_path: Path) -> None:
    from core.io.fx_import import ImportRefused

    model = _output_typed(_graph([_n("Relu", ["x"], "r"), _n("GlobalAveragePool", ["r"], "g"),
                                  _n("Add", ["r", "g"], "y")], []))
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(ImportRefused, match=r": 1 × Add with broadcasting: ConvScope can't"):
        import_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("opset", [17, 18])
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_torch_exports_of_the_newer_layers_import_and_match(opset: int, tmp_path: Path) -> None:
    from torch import nn
    from torchvision.models.convnext import LayerNorm2d

    torch.manual_seed(0)
    module = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.GroupNorm(2, 8), nn.PReLU(8), LayerNorm2d(8, eps=1e-6),
        nn.InstanceNorm2d(8, affine=True), nn.SELU(), nn.Conv2d(8, 12, 1), nn.PixelShuffle(2),
        nn.Softplus(), nn.LogSoftmax(dim=1)).eval()
    with torch.no_grad():  # not the identity they start as
        for layer in module:
            for parameter in layer.parameters():
                parameter.add_(0.1 * torch.randn_like(parameter))
    x = torch.randn(2, 3, 6, 6)
    torch.onnx.export(module, (x,), str(tmp_path / "m.onnx"), opset_version=opset,
                      dynamo=False)
    imported = import_onnx(tmp_path / "m.onnx")
    assert [layer.type for layer in imported.spec.layers] == [
        "Conv2d", "GroupNorm", "PReLU", "LayerNorm2d", "InstanceNorm2d", "SELU", "Conv2d",
        "PixelShuffle", "Softplus", "LogSoftmax"]
    net = build_model(imported.spec).eval()
    assert imported.weights is not None
    report = apply_weights(net, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    with torch.no_grad():
        assert torch.allclose(net(x), module(x), atol=1e-4)


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "shufflenet_v2_x0_5", "mnasnet0_5",
                                  pytest.param("googlenet", marks=pytest.mark.slow),
                                  pytest.param("densenet121", marks=pytest.mark.slow),
                                  pytest.param("efficientnet_b0", marks=pytest.mark.slow)])
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_torchvision_cnns_exported_to_onnx_import_and_match(name: str, tmp_path: Path) -> None:
    import torchvision

    torch.manual_seed(0)
    extra = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    module = getattr(torchvision.models, name)(**extra).eval()
    x = torch.randn(1, 3, 96, 96)
    torch.onnx.export(module, (x,), str(tmp_path / "m.onnx"), opset_version=17, dynamo=False)
    imported = import_onnx(tmp_path / "m.onnx")
    net = build_model(imported.spec).eval()
    assert imported.weights is not None
    report = apply_weights(net, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    with torch.no_grad():
        assert torch.allclose(net(x), module(x), rtol=1e-3, atol=1e-4)

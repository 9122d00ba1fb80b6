"""ONNX's own backend test models (shipped in the installed onnx package, no download).

Every one of the 117 converted PyTorch modules (``pytorch-converted`` and ``pytorch-operator``)
either imports and then gives the output recorded beside it, or is refused in one line; none
imports and answers differently, none ends in a traceback. The CNN-relevant ones — every
converted module except the gating unit, the loss and the two activations no CNN uses (GLU ×2,
PoissonNLLLoss, Softmin, Softsign): 77 — must import, except those waiting for a catalog layer
(``NEEDS``: refused until the catalog has it) and the constant pad with a value of 2 (the catalog
pads with zeros). The model zoo's nine ``light`` models import and match onnxruntime.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

onnx = pytest.importorskip("onnx")

from core.build import build_model  # noqa: E402
from core.io.onnx_import import import_onnx  # noqa: E402
from core.model.catalog import CATALOG  # noqa: E402
from core.model.errors import ModelError  # noqa: E402
from core.weights import apply_weights  # noqa: E402

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
CONVERTED = sorted(p.name for p in (DATA / "pytorch-converted").iterdir() if p.is_dir())
OPERATORS = sorted(p.name for p in (DATA / "pytorch-operator").iterdir() if p.is_dir())
NOT_CNN = {"test_GLU", "test_GLU_dim", "test_PoissonNLLLLoss_no_reduce", "test_Softmin",
           "test_Softsign"}
CNN_RELEVANT = [name for name in CONVERTED if name not in NOT_CNN]

NEEDS = {  # the catalog layer each waits for
    "test_BatchNorm3d_eval": "BatchNorm3d", "test_BatchNorm3d_momentum_eval": "BatchNorm3d",
    "test_LogSoftmax": "LogSoftmax", "test_log_softmax_dim3": "LogSoftmax",
    "test_log_softmax_lastdim": "LogSoftmax", "test_PixelShuffle": "PixelShuffle",
    "test_SELU": "SELU", "test_operator_selu": "SELU", "test_Softplus": "Softplus",
    "test_operator_symbolic_override": "InstanceNorm2d",
    **{f"test_PReLU_{d}d{m}": "PReLU" for d in (1, 2, 3) for m in ("", "_multiparam")},
}
IMPORTS_TOO = {"test_operator_conv", "test_operator_convtranspose", "test_operator_flatten",
               "test_operator_maxpool", "test_operator_pad", "test_operator_selu",
               "test_operator_symbolic_override"}
REFUSED_CNN = {"test_ConstantPad2d": r"1 × Pad with another constant than 0"}


def _directory(name: str) -> Path:
    sub = "pytorch-converted" if name in CONVERTED else "pytorch-operator"
    return DATA / sub / name


def _should_import(name: str) -> bool:
    if name in NEEDS:
        return NEEDS[name] in CATALOG
    return (name in CNN_RELEVANT and name not in REFUSED_CNN) or name in IMPORTS_TOO


def _one_line(message: str) -> None:
    assert "\n" not in message and len(message) < 300, message
    assert "Traceback" not in message


@pytest.mark.parametrize("name", CONVERTED + OPERATORS)
def test_backend_model_imports_and_matches_or_is_refused_in_one_line(name: str) -> None:
    from onnx import numpy_helper

    folder = _directory(name)
    if not _should_import(name):
        with pytest.raises(ModelError) as refused:
            import_onnx(folder / "model.onnx")
        _one_line(str(refused.value))
        if name in NEEDS:  # the operator that waits for its layer is named
            assert re.search(r"1 × \w+", str(refused.value)), refused.value
        if name in REFUSED_CNN:
            assert re.search(REFUSED_CNN[name], str(refused.value)), refused.value
        return
    imported = import_onnx(folder / "model.onnx")
    assert imported.weights is not None
    net = build_model(imported.spec).eval()
    report = apply_weights(net, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    for data_set in sorted(folder.glob("test_data_set_*")):
        x = numpy_helper.to_array(onnx.load_tensor(str(data_set / "input_0.pb")))
        expected = numpy_helper.to_array(onnx.load_tensor(str(data_set / "output_0.pb")))
        with torch.no_grad():
            out = net(torch.from_numpy(np.array(x))).numpy()
        assert out.shape == expected.shape
        assert np.allclose(out, expected, rtol=1e-3, atol=1e-5), np.abs(out - expected).max()


def test_the_cnn_relevant_set_is_the_one_named() -> None:
    assert len(CONVERTED) + len(OPERATORS) == 117
    assert len(CNN_RELEVANT) == 77
    importing = [name for name in CNN_RELEVANT if _should_import(name)]
    waiting = [name for name in CNN_RELEVANT if name in NEEDS and not _should_import(name)]
    assert not waiting  # every layer they waited for is in the catalog
    # the achieved figures (benchmarks/RESULTS.md): a regression fails here
    assert len(importing) == 76  # all CNN-relevant but the constant pad with 2
    assert len([name for name in CONVERTED + OPERATORS if _should_import(name)]) == 83


LIGHT = ["light_squeezenet", "light_shufflenet", "light_inception_v1", "light_inception_v2",
         "light_resnet50", "light_densenet121",
         pytest.param("light_bvlc_alexnet", marks=pytest.mark.slow),
         pytest.param("light_zfnet512", marks=pytest.mark.slow),
         pytest.param("light_vgg19", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name", LIGHT)
def test_model_zoo_light_model_imports_and_matches_onnxruntime(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    path = DATA / "light" / f"{name}.onnx"
    imported = import_onnx(path)
    assert imported.weights is not None
    net = build_model(imported.spec).eval()
    report = apply_weights(net, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    options = ort.SessionOptions()
    options.log_severity_level = 3  # the unused inputs' warnings
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    (expected,) = session.run(None, {session.get_inputs()[0].name: x})
    with torch.no_grad():
        out = net(torch.from_numpy(x)).numpy()
    assert np.allclose(out, expected, rtol=1e-3, atol=1e-5)

"""Exports run outside ConvScope and give ConvScope's outputs; imports read them back."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from core.build import build_model
from core.io.export import export_model
from core.io.fx_import import ImportRefused, import_module
from core.io.onnx_import import import_onnx
from core.io.torchvision_models import import_torchvision
from core.model.errors import ModelError
from core.model.spec import FORMAT, ModelSpec, model_from_dict
from core.weights import apply_weights, save_weights

ROOT = Path(__file__).resolve().parents[2]


# torch 2.9+ calls its TorchScript-based ONNX exporter and torch.jit deprecated; both still work
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

def _every_kind_of_connection() -> ModelSpec:
    """A small model with skips, concatenation, a gate, a channel split and a frozen layer."""
    return model_from_dict({"format": FORMAT, "name": "skips and gates", "input": {
        "shape": [3, 16, 16]}, "layers": [
        {"type": "Conv2d", "name": "stem", "out_channels": 8, "kernel_size": 3, "padding": 1},
        {"type": "BatchNorm2d", "name": "bn"},
        {"type": "SiLU", "name": "act"},
        {"type": "Conv2d", "name": "branch", "out_channels": 8, "kernel_size": 1,
         "trainable": False},
        {"type": "Add", "name": "skip", "inputs": ["branch", "act"]},
        {"type": "AdaptiveAvgPool2d", "name": "squeeze"},
        {"type": "Hardsigmoid", "name": "gate"},
        {"type": "Mul", "name": "scale", "inputs": ["skip", "gate"]},
        {"type": "Chunk", "name": "split", "index": 1},
        {"type": "Hardswish", "name": "hs"},
        {"type": "Concat", "name": "cat", "inputs": ["hs", "scale"]},
        {"type": "ChannelShuffle", "name": "shuffle", "groups": 4},
        {"type": "MaxPool2d", "name": "pool", "kernel_size": 2},
        {"type": "Flatten", "name": "flat"},
        {"type": "Dropout", "name": "drop", "p": 0.2},
        {"type": "Linear", "name": "head", "out_features": 10}]})


def _trained(spec: ModelSpec, path: Path) -> nn.Module:
    """The model with non-trivial weights and statistics, saved as ConvScope saves them."""
    torch.manual_seed(1)
    net = build_model(spec)
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(8, *spec.input_shape))
    net.eval()
    save_weights(net, path)
    return net


def _load_file(path: Path) -> ModuleType:
    loader = importlib.util.spec_from_file_location(path.stem, path)
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def test_pytorch_export_runs_without_convscope_and_equals_the_build(tmp_path: Path) -> None:
    spec = _every_kind_of_connection()
    net = _trained(spec, tmp_path / "w.safetensors")
    result = export_model(spec, "pytorch", tmp_path / "exported.py", tmp_path / "w.safetensors")
    assert [p.name for p in result.files] == ["exported.py", "exported.safetensors"]
    x = torch.randn(4, *spec.input_shape)
    np.save(tmp_path / "x.npy", x.numpy())
    code = (
        "import sys; sys.modules['core'] = None; sys.modules['app'] = None\n"  # no ConvScope
        "import numpy as np, torch\n"
        "from exported import model\n"
        "net = model().eval()\n"
        "assert not net.branch.weight.requires_grad\n"
        "with torch.no_grad():\n"
        "    y = net(torch.from_numpy(np.load('x.npy')))\n"
        "np.save('y.npy', y.numpy())\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with torch.no_grad():
        expected = net(x).numpy()
    assert np.allclose(np.load(tmp_path / "y.npy"), expected, atol=1e-6)


@pytest.mark.parametrize("source", ["handmade", "resnet18", "shufflenet_v2_x0_5",
                                    "mobilenet_v3_small"])
def test_export_then_import_gives_the_same_model_file(source: str, tmp_path: Path) -> None:
    spec = (_every_kind_of_connection() if source == "handmade"
            else import_torchvision(source).spec)
    export_model(spec, "pytorch", tmp_path / "exported.py")
    module = _load_file(tmp_path / "exported.py")
    again = import_module(module.model(), module.INPUT_SHAPE, spec.name).spec
    assert [layer.to_dict() | {"trainable": True} for layer in again.layers] == \
        [layer.to_dict() | {"trainable": True} for layer in spec.layers]
    assert again.input_shape == spec.input_shape


def test_onnx_export_matches_with_onnxruntime_and_imports_back(tmp_path: Path) -> None:
    import onnx
    import onnxruntime

    spec = _every_kind_of_connection()
    net = _trained(spec, tmp_path / "w.safetensors")
    export_model(spec, "onnx", tmp_path / "m.onnx", tmp_path / "w.safetensors")
    model = onnx.load(str(tmp_path / "m.onnx"))
    assert model.opset_import[0].version >= 17
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["output"]
    x = torch.randn(5, *spec.input_shape)  # another batch size than the export's
    (y,) = session.run(None, {"input": x.numpy()})
    with torch.no_grad():
        assert np.allclose(y, net(x).numpy(), atol=1e-4)
    # Chunk and ChannelShuffle export as shape arithmetic, which is folded: they import back
    imported = import_onnx(tmp_path / "m.onnx")
    types = [layer.type for layer in imported.spec.layers]
    assert "Chunk" in types and "ChannelShuffle" in types
    back = build_model(imported.spec).eval()
    assert imported.weights is not None
    apply_weights(back, imported.weights)
    with torch.no_grad():
        assert np.allclose(back(x).numpy(), y, atol=1e-4)
    # without those two, the file imports back too (the exporter folds batch norm into the convs)
    spec = spec.with_layers(layer for layer in spec.layers if layer.name not in ("split",
                                                                                "shuffle"))
    net = _trained(spec, tmp_path / "w.safetensors")
    export_model(spec, "onnx", tmp_path / "m.onnx", tmp_path / "w.safetensors")
    (y,) = onnxruntime.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"input": x.numpy()})
    imported = import_onnx(tmp_path / "m.onnx")
    back = build_model(imported.spec).eval()
    assert imported.weights is not None
    report = apply_weights(back, imported.weights)
    assert not report.not_in_file and not report.shape_mismatch
    with torch.no_grad():
        assert np.allclose(back(x).numpy(), y, atol=1e-4)


def test_torchscript_export_loads_with_torch_jit(tmp_path: Path) -> None:
    spec = _every_kind_of_connection()
    net = _trained(spec, tmp_path / "w.safetensors")
    export_model(spec, "torchscript", tmp_path / "m.pt", tmp_path / "w.safetensors")
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    x = torch.randn(3, *spec.input_shape)
    with torch.no_grad():
        assert torch.allclose(loaded(x), net(x), atol=1e-6)


def test_onnx_from_torchvision_imports_with_its_weights(tmp_path: Path) -> None:
    import torchvision

    torch.manual_seed(0)
    reference = torchvision.models.squeezenet1_1().eval()
    x = torch.randn(2, 3, 224, 224)
    torch.onnx.export(reference, (x,), str(tmp_path / "squeeze.onnx"), opset_version=17,
                      dynamo=False)
    imported = import_onnx(tmp_path / "squeeze.onnx")
    assert imported.weights is not None
    net = build_model(imported.spec).eval()
    apply_weights(net, imported.weights)
    with torch.no_grad():
        assert torch.allclose(net(x), reference(x), atol=1e-4)


def test_onnx_with_unsupported_operators_is_refused_with_their_list(tmp_path: Path) -> None:
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.exp(self.conv(x)).sin().sin()

    torch.onnx.export(Odd(), (torch.zeros(1, 1, 6, 6),), str(tmp_path / "odd.onnx"),
                      opset_version=17, dynamo=False)
    with pytest.raises(ImportRefused, match=r"^cannot import odd.onnx: 2 × Sin, 1 × Exp: "
                                            r"ConvScope can't represent these$"):
        import_onnx(tmp_path / "odd.onnx")


def test_weights_of_another_model_do_not_fit(tmp_path: Path) -> None:
    spec = _every_kind_of_connection()
    other = spec.with_layers([*spec.layers[:-1], spec.layers[-1].with_params(out_features=3)])
    _trained(other, tmp_path / "other.safetensors")
    with pytest.raises(ModelError, match=r"does not fit skips and gates: head\.weight"):
        export_model(spec, "pytorch", tmp_path / "m.py", tmp_path / "other.safetensors")


def _torchrun(script: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc_per_node=2", str(script), *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_training_script_runs_under_torchrun_and_convscope_opens_the_result(
        tmp_path: Path) -> None:
    from core.inspect.inspector import Inspector
    from core.model.spec import load_model
    from core.presets import find_preset
    from core.train.checkpoint import open_run

    spec = load_model(find_preset("digits_small").path)
    result = export_model(spec, "script", tmp_path / "train.py")
    assert "torchrun --nproc_per_node=N train.py" in result.how_to_run
    done = _torchrun(tmp_path / "train.py", tmp_path, "--epochs", "1", "--batch-size", "16")
    # a rank's own traceback comes first in stderr, torchrun's summary last (once, under load
    # 5, a rank ended in SIGABRT: "terminate called without an active exception")
    assert done.returncode == 0, (done.stdout[-1500:], done.stderr[:3000], done.stderr[-1500:])
    assert "2 process(es) on cpu" in done.stdout
    (run,) = (tmp_path / "runs").iterdir()
    trained = open_run(run)
    assert trained.spec == spec and trained.state.epochs_done == 1
    assert trained.state.history[0]["val_acc"] > 0.3  # one epoch on digits learns something
    inspector = Inspector.from_paths(run / "model.json", trained.weights)
    assert "random" not in inspector.weights_note.lower()

    # exported again from that run, the script takes the run's settings, data and weights
    result = export_model(trained.spec, "script", tmp_path / "again.py", run)
    text = (tmp_path / "again.py").read_text()
    assert f"ORIGIN = {'the run ' + run.name!r}" in text and "DATASET = 'digits'" in text
    assert '"batch_size": 16' in text and "NORMALISATION = ([" in text
    assert "--weights again.safetensors" in result.how_to_run


def test_onnx_reshape_that_flattens_becomes_flatten(tmp_path: Path) -> None:
    class Reshaped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.fc = nn.Linear(32, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.relu(self.conv(x)).reshape(-1, 32))

    torch.manual_seed(0)
    module = Reshaped().eval()
    torch.onnx.export(module, (torch.zeros(1, 1, 6, 6),), str(tmp_path / "r.onnx"),
                      opset_version=17, dynamo=False)
    imported = import_onnx(tmp_path / "r.onnx")
    assert [layer.type for layer in imported.spec.layers] == ["Conv2d", "ReLU", "Flatten",
                                                              "Linear"]
    net = build_model(imported.spec).eval()
    assert imported.weights is not None
    apply_weights(net, imported.weights)
    x = torch.randn(4, 1, 6, 6)
    with torch.no_grad():
        assert torch.allclose(net(x), module(x), atol=1e-5)

"""``convscope import`` and ``convscope export``: files written, and exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from core.model.spec import load_model
from core.presets import find_preset
from core.weights import save_weights
from tests.core.cli_calls import one_line_error, run_cli

# torch 2.9+ calls its TorchScript-based ONNX exporter and torch.jit deprecated; both still work
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def test_import_torchvision_writes_a_model_file_that_opens(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "import", "torchvision:resnet18", "-o", str(tmp_path / "r.json"))
    assert code == 0 and "open it with: convscope" in out
    spec = load_model(tmp_path / "r.json")
    assert spec.name == "resnet18" and len(spec.layers) == 69
    code, out, _ = run_cli(capsys, "summary", str(tmp_path / "r.json"))
    assert code == 0 and "11,689,512" in out


def test_import_list_shows_parameter_counts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "import", "--list")
    assert code == 0
    assert any(line.startswith("torchvision:resnet50 ") and "25,557,032" in line
               for line in out.splitlines())


def test_unknown_torchvision_name_exits_2_with_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "import", "torchvision:resnet19", "-o", str(tmp_path / "x.json"))
    assert "resnet18" in one_line_error(code, err)
    assert not (tmp_path / "x.json").exists()


def test_onnx_with_unsupported_ops_exits_2_with_their_list(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    class Odd(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.exp(x).transpose(2, 3)

    torch.onnx.export(Odd(), (torch.zeros(1, 1, 4, 4),), str(tmp_path / "odd.onnx"),
                      opset_version=17, dynamo=False)
    code, _, err = run_cli(capsys, "import", str(tmp_path / "odd.onnx"), "-o",
                        str(tmp_path / "odd.json"))
    assert "1 × Exp: ConvScope can't represent these" in one_line_error(code, err)
    assert not (tmp_path / "odd.json").exists()


def test_weights_that_do_not_fit_exit_2(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    torch.save(torchvision.models.squeezenet1_0().state_dict(), tmp_path / "other.pth")
    code, _, err = run_cli(capsys, "import", "torchvision:squeezenet1_1", "--weights",
                        str(tmp_path / "other.pth"), "-o", str(tmp_path / "s.json"))
    assert "does not fit squeezenet1_1" in one_line_error(code, err)

    from core.build import build_model

    save_weights(build_model(load_model(find_preset("lenet5").path)), tmp_path / "l.safetensors")
    code, _, err = run_cli(capsys, "export", "digits_small", "--format", "onnx", "-o",
                        str(tmp_path / "d.onnx"), "--weights", str(tmp_path / "l.safetensors"))
    assert "does not fit" in one_line_error(code, err)


def test_export_formats_write_their_files(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    for fmt, name in (("pytorch", "m.py"), ("torchscript", "m.pt"), ("script", "train.py")):
        code, out, _ = run_cli(capsys, "export", "digits_small", "--format", fmt, "-o",
                            str(tmp_path / name))
        assert code == 0 and (tmp_path / name).is_file() and "wrote" in out
    code, _, err = run_cli(capsys, "export", "digits_small", "--format", "onnx", "-o",
                        str(tmp_path / "wrong.py"))
    assert ".onnx file" in one_line_error(code, err)

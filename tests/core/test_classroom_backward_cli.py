"""``convscope step --grad`` and ``--matrix``: the issue's JSON fields, equal to autograd and to
the layer's output; wrong arguments exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from core.build import build_model
from core.cli import main
from core.model.spec import load_model, model_from_dict, save_model

MODEL = {"format": "convscope.model/1", "name": "small", "input": {"shape": [2, 6, 5]},
         "layers": [{"name": "conv", "type": "Conv2d", "out_channels": 3, "kernel_size": 3,
                     "stride": 2, "padding": 1, "padding_mode": "reflect"},
                    {"name": "act", "type": "ReLU"},
                    {"name": "flat", "type": "Flatten"},
                    {"name": "fc", "type": "Linear", "out_features": 4}]}


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["step", *argv, "--json"]) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


@pytest.fixture
def model(tmp_path: Path) -> tuple[Path, Path, torch.nn.Module, torch.Tensor]:
    path = tmp_path / "small.json"
    save_model(model_from_dict(MODEL), path)
    values = np.linspace(-3, 4, 60).reshape(2, 6, 5)
    np.save(tmp_path / "x.npy", values)
    torch.manual_seed(0)  # the CLI's untrained weights are seeded the same way (seed 0)
    net = build_model(load_model(path)).eval()
    return path, tmp_path / "x.npy", net, torch.tensor(values, dtype=torch.float32)[None]


def test_grad_json_sums_to_autograd(model: tuple[Path, Path, torch.nn.Module, torch.Tensor],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path, x_path, net, x = model
    x = x.clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(net(x), torch.tensor([2]))
    loss.backward()  # type: ignore[no-untyped-call]
    conv, fc = net.layers["conv"], net.layers["fc"]
    common = ("--target", "2", "--input", str(x_path))
    weight = _json(capsys, str(path), "--layer", "conv", "--grad", "weight", "--at", "1,0,2,1",
                   *common)
    assert weight["value"] == pytest.approx(float(conv.weight.grad[1, 0, 2, 1]), rel=1e-4,
                                            abs=1e-7)
    assert weight["loss"] == pytest.approx(float(loss.detach()), rel=1e-6)
    contributions = np.array(weight["contributions"])
    assert len(contributions) == 3 * 3  # one per output position of the 3×3 channel
    np.testing.assert_allclose(np.array(weight["running_sum"]), np.cumsum(contributions))
    np.testing.assert_allclose(contributions, np.array(weight["factors"])
                               * np.array(weight["upstream"]))
    assert weight["positions"][0] == [1, 0, 0] and weight["factor"] == "input"
    cell = _json(capsys, str(path), "--layer", "conv", "--grad", "input", "--at", "1,3,2",
                 *common)
    assert x.grad is not None
    assert cell["value"] == pytest.approx(float(x.grad[0, 1, 3, 2]), rel=1e-4, abs=1e-7)
    bias = _json(capsys, str(path), "--layer", "fc", "--grad", "bias", "--at", "3", *common)
    assert bias["value"] == pytest.approx(float(fc.bias.grad[3]), rel=1e-5, abs=1e-8)
    assert bias["value"] == bias["autograd"]


def test_matrix_json_times_the_input_is_the_channel(
        model: tuple[Path, Path, torch.nn.Module, torch.Tensor],
        capsys: pytest.CaptureFixture[str]) -> None:
    path, x_path, net, x = model
    with torch.no_grad():
        out = net.forward_all(x)["conv"][0]
    for channel in range(3):
        data = _json(capsys, str(path), "--layer", "conv", "--matrix", "--at", str(channel),
                     "--input", str(x_path))
        matrix = np.array(data["matrix"])
        assert matrix.shape == (9, 60) and data["rows"] == 9 and data["columns"] == 60
        np.testing.assert_allclose(matrix @ x.double().numpy().ravel() + np.array(data["bias"]),
                                   out[channel].double().numpy().ravel(), atol=1e-5)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--layer", "conv", "--grad", "weight", "--at", "0,0,0,0"], "--grad needs --target K"),
        (["--layer", "conv", "--grad", "weight", "--at", "0,0,0", "--target", "1"],
         "--at is C,I,A,B here"),
        (["--layer", "conv", "--grad", "bias", "--at", "0", "--target", "4"],
         "--target 4 is not a class of small (0 to 3)"),
        (["--layer", "act", "--grad", "bias", "--at", "0", "--target", "1"],
         "choose one of: conv, fc"),
        (["--layer", "conv", "--matrix", "--at", "0,0,0"], "--matrix takes --at C"),
        (["--layer", "fc", "--matrix", "--at", "0"], "the matrix view shows"),
        (["--layer", "conv", "--at", "0,0,0", "--target", "1"], "--target is for --grad"),
        (["--layer", "conv", "--at", "0,0,0,0"], "a position is C,Y,X (3 numbers), got 4"),
    ],
)
def test_bad_grad_or_matrix_arguments_exit_2_with_one_line(
        tmp_path: Path, argv: list[str], words: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "small.json"
    save_model(model_from_dict(MODEL), path)
    assert main(["step", str(path), *argv, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and words in captured.err, captured.err
    assert captured.out == ""

"""``convscope step``: the JSON object, arrays used exactly as given, exit 2 for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.build import build_model
from core.cli import main
from core.model.spec import load_model, model_from_dict, save_model

MODEL = {"format": "convscope.model/1", "name": "two", "input": {"shape": [2, 4, 5]},
         "layers": [{"name": "conv", "type": "Conv2d", "out_channels": 3, "kernel_size": 3,
                     "padding": 1, "padding_mode": "reflect"},
                    {"name": "act", "type": "ReLU"},
                    {"name": "pool", "type": "MaxPool2d", "kernel_size": 2}]}


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["step", *argv, "--json"]) == 0, capsys.readouterr().err
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, dict)
    return data


def test_lesson_step_json_has_the_issues_fields(capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(capsys, "rgb_minus_25", "--layer", "conv", "--at", "0,0,0")
    assert data["layer"] == "conv" and data["position"] == [0, 0, 0]
    assert np.array(data["patch"]).shape == np.array(data["kernel"]).shape == (3, 3, 3)
    assert np.array(data["products"]).shape == (3, 3, 3)
    assert data["channel_sums"] == [308, -498, 164] and data["bias"] == 1
    assert data["value"] == -25
    pool = _json(capsys, "max_pool_2x2", "--layer", "pool", "--at", "0,1,1")
    assert pool["kernel"] is None and pool["products"] is None and pool["value"] == 4
    assert pool["bias"] is None


def test_text_and_npy_arrays_are_used_exactly_as_given(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model_path = tmp_path / "two.json"
    save_model(model_from_dict(MODEL), model_path)
    values = np.arange(40, dtype=np.float64).reshape(2, 4, 5) - 17.5
    text = "\n\n".join("\n".join(" ".join(f"{v:g}" for v in row) for row in channel)
                       for channel in values)
    (tmp_path / "x.txt").write_text(text + "\n", encoding="utf-8")
    np.save(tmp_path / "x.npy", values)
    torch.manual_seed(0)  # the CLI's untrained weights are seeded the same way (seed 0)
    model = build_model(load_model(model_path)).eval()
    with torch.no_grad():
        outputs = model.forward_all(torch.tensor(values, dtype=torch.float32)[None])
    for source in ("x.txt", "x.npy"):
        for layer, at in (("conv", (2, 3, 4)), ("pool", (1, 1, 0))):
            data = _json(capsys, str(model_path), "--layer", layer, "--at",
                         ",".join(map(str, at)), "--input", str(tmp_path / source))
            assert data["value"] == pytest.approx(float(outputs[layer][0][at]), abs=1e-4)
    data = _json(capsys, str(model_path), "--layer", "conv", "--at", "0,0,0", "--input",
                 str(tmp_path / "x.txt"))
    # reflect padding: the cell above-left of (0, 0) mirrors (1, 1) of channel 0
    assert data["patch"][0][0][0] == values[0, 1, 1] and data["padding"][0][0][0] is True


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--layer", "act", "--at", "0,0,0"], '"act" cannot be stepped through'),
        (["--layer", "conv", "--at", "0,9,0"], "row 9 is outside the output 3×4×5"),
        (["--layer", "conv", "--at", "x"], "is not C,Y,X"),
        (["--layer", "conv", "--at", "0,0,0", "--input", "BAD"], "is not a row of numbers"),
        (["--layer", "conv", "--at", "0,0,0", "--input", "SMALL"], "the model takes 2×4×5"),
        (["--layer", "conv", "--at", "0,0,0", "--input", "MISSING"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, argv: list[str], words: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    model_path = tmp_path / "two.json"
    save_model(model_from_dict(MODEL), model_path)
    (tmp_path / "BAD").write_text("1 2 x\n", encoding="utf-8")
    (tmp_path / "SMALL").write_text("1 2\n3 4\n", encoding="utf-8")
    argv = [str(tmp_path / a) if a in ("BAD", "SMALL", "MISSING") else a for a in argv]
    try:
        code = main(["step", str(model_path), *argv, "--json"])
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1 and words in captured.err, captured.err
    assert captured.out == ""


def test_a_bad_model_exits_2_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "core.cli", "step", str(tmp_path / "no.json"),
                             "--layer", "conv", "--at", "0,0,0", "--json"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def _hostile_arrays(folder: Path) -> dict[str, str]:
    """Array files whose headers lie, are damaged or hold code; each with the words of its
    refusal."""
    import os

    np.save(folder / "ok.npy", np.zeros((2, 4, 5)))
    good = (folder / "ok.npy").read_bytes()
    files = {
        "huge.npy": good.replace(b"(2, 4, 5)", b"(1000000, 1000000, 1000)"),  # 8 TB claimed
        "damaged.npy": good[:20],
        "empty.npy": b"",
        "code.npy": good.replace(b"(2, 4, 5)", b"(__import__('os').system('touch X'),)"),
        "short.npy": good[:-8],
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    np.save(folder / "object.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    os.mkfifo(folder / "fifo.npy")
    return {"huge.npy": "its header says", "damaged.npy": "not a readable .npy array",
            "empty.npy": "not a readable .npy array", "code.npy": "not a readable .npy array",
            "short.npy": "its header says", "object.npy": "give numbers",
            "fifo.npy": "not a regular file"}


def test_hostile_npy_inputs_exit_2_with_one_line(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    model_path = tmp_path / "two.json"
    save_model(model_from_dict(MODEL), model_path)
    for name, words in _hostile_arrays(tmp_path).items():
        code = main(["step", str(model_path), "--layer", "conv", "--at", "0,0,0", "--input",
                     str(tmp_path / name)])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and words in err, (name, err)
    assert not (tmp_path / "X").exists()

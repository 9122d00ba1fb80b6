"""``convscope summary``: the table, --json, and exit 2 with one line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main


def test_summary_table_of_a_preset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "keras_mnist"]) == 0
    out = capsys.readouterr().out
    assert "Total params: 34,826" in out
    assert "conv2 (Conv2d)" in out and "64×11×11" in out and "18,496" in out


def test_summary_json_of_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[2] / "resources" / "presets" / "random_features.json"
    assert main(["summary", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total_params"] == 21_706 and data["trainable_params"] == 2_890
    assert data["layers"][0]["output_shape"] == [32, 26, 26]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"format": "convscope.model/1", "input": {"shape": [1, 3, 3]}, "layers": '
         '[{"name": "conv3", "type": "Conv2d", "out_channels": 1, "kernel_size": 5}]}',
         "layer conv3: its 5×5 kernel is larger than its 3×3 input"),
        ("[1, 2", "not valid JSON"),
        ('{"format": "convscope.model/1", "input": {"shape": [1]}, "layers": [{"type": "Nope"}]}',
         'unknown layer type "Nope"'),
    ],
)
def test_invalid_files_exit_2_with_one_line(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "core.cli", "summary", str(path), "--json"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_missing_file_or_preset(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["summary", str(tmp_path / "none.json")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["summary", "nonexistent-preset"]) == 2
    assert "the presets are" in capsys.readouterr().err


def test_train_json_prints_one_line_per_epoch_and_a_final_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "train", "digits_small", "--dataset", "digits",
         "--epochs", "2", "--batch-size", "64", "--device", "cpu", "--out", str(tmp_path),
         "--json"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["started"] == "digits-small"  # then the notes, if any (none here)
    lines = [line for line in lines if "epoch" in line or "test_acc" in line]
    assert len(lines) == 3
    for epoch, line in enumerate(lines[:2], 1):
        assert line["epoch"] == epoch
        assert {"train_loss", "train_acc", "val_loss", "val_acc", "samples_per_s",
                "seconds"} <= set(line)
    assert 0 <= lines[2]["test_acc"] <= 1
    assert Path(lines[2]["checkpoint"]).is_file()


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--dataset", "imagenet-22k"], 'unknown dataset "imagenet-22k"'),
        (["--epochs", "0"], "must be above 0"),
        (["--lr", "abc"], "is not a number"),
    ],
)
def test_train_bad_input_exits_2_with_one_line(tmp_path: Path, extra: list[str],
                                               words: str) -> None:
    result = subprocess.run([sys.executable, "-m", "core.cli", "train", "digits_small",
                             "--out", str(tmp_path), *extra],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr

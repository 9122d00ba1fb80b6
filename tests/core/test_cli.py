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

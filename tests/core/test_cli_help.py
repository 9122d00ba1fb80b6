"""The command line explains itself: defaults in --help, digits:N, every note as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main


def test_train_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 20)", "(default: 64)", "(default: 0.003)", "(default: adam)",
                    "(default: cosine)", "digits (bundled; the default for a new run)",
                    "(default: runs)"):
        assert default in text, default


def test_render_help_says_what_digits_n_means(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["render", "gradcam", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "digits:N, the N-th image (from 0) of the bundled digits' test split" in text


def test_json_mode_prints_the_notes_as_json_lines(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    first = tmp_path / "first"
    assert main(["train", "digits_small", "--epochs", "1", "--out", str(first), "--json"]) == 0
    run = next(first.iterdir())
    capsys.readouterr()
    # a 28×28 model on the 8×8 digits: the images are resized (a note), and the weights of
    # digits_small load by layer name where the shapes match (a weights report)
    code = main(["train", "keras_mnist", "--epochs", "1", "--out", str(tmp_path / "second"),
                 "--weights", str(run), "--json"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["started"] == "keras-mnist" and "run_dir" in lines[0]
    notes = [line["note"] for line in lines if "note" in line]
    assert any("resiz" in note for note in notes), notes
    assert any("weights" in line for line in lines)
    assert "test_acc" in lines[-1]

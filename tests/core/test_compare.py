"""convscope compare: two runs of one task (without and with dropout) side by side; the
picture is a valid PNG, the JSON numbers are the runs' recorded ones, bad input is refused
in one line naming the folder."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli import main
from core.inspect.compare import CompareError, read_runs
from core.train.checkpoint import load_state
from tests.core.compare_runs import ablation_runs, as_other_task


@pytest.fixture(scope="session")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ablation_runs(tmp_path_factory.mktemp("compare"))


def test_picture_and_json_hold_the_runs_recorded_numbers(
        two_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp.png"
    plain, dropout = two_runs
    assert main(["compare", str(plain), str(dropout), "-o", str(out), "--json",
                 "--name", "no dropout,dropout"]) == 0
    data = json.loads(capsys.readouterr().out)
    with Image.open(out) as image:
        image.verify()
        assert image.format == "PNG"
    assert data["task"] == "classification"
    assert [run["name"] for run in data["runs"]] == ["no dropout", "dropout"]
    for run, folder in zip(data["runs"], two_runs, strict=True):
        state = load_state(folder)
        assert run["epochs"] == [1, 2]
        for key in ("train_loss", "val_loss", "train_acc", "val_acc"):
            assert run["curves"][key] == [row[key] for row in state.history]
            assert run["final"][key] == state.history[-1][key]
        assert run["final"]["test_acc"] == state.test_acc
        assert run["first_filters"] == {"layer": "conv1", "shape": [4, 1, 3, 3]}
        matrix = np.array(run["confusion"])
        assert matrix.shape == (10, 10)
        # the validation split's confusion agrees with the recorded validation accuracy
        assert np.trace(matrix) / matrix.sum() == pytest.approx(run["final"]["val_acc"],
                                                               abs=1e-6)
    difference = np.array(data["confusion_difference"])
    assert (difference == np.array(data["runs"][1]["confusion"])
            - np.array(data["runs"][0]["confusion"])).all()
    assert difference.sum() == 0


def test_folders_name_the_runs_and_filters_differ(two_runs: tuple[Path, Path]) -> None:
    comparison = read_runs(list(two_runs), confusion=False)
    assert [run.name for run in comparison.runs] == [p.name for p in two_runs]
    a, b = comparison.runs
    assert a.confusion is None and comparison.confusion_difference is None
    assert a.filters is not None and b.filters is not None
    assert comparison.metric_names()[:4] == ["train_loss", "val_loss", "train_acc", "val_acc"]


@pytest.mark.parametrize("case", ["not a run", "missing", "one run", "mixed tasks"])
def test_refusals_name_the_folder_and_why(
        case: str, two_runs: tuple[Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    plain, _ = two_runs
    other = {"not a run": tmp_path, "missing": tmp_path / "nowhere",
             "mixed tasks": as_other_task(plain, tmp_path)}.get(case)
    folders = [plain] + ([other] if other is not None else [])
    out = tmp_path / "cmp.png"
    assert main(["compare", *map(str, folders), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()
    words = {"not a run": f"{tmp_path}: not a ConvScope run folder",
             "missing": "nowhere: not a run folder (it does not exist)",
             "one run": "needs two or more run folders",
             "mixed tasks": "is a localization run but"}[case]
    assert words in err
    with pytest.raises(CompareError):
        read_runs(folders)


def test_names_must_match_the_runs(two_runs: tuple[Path, Path],
                                   capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["compare", *map(str, two_runs), "--name", "one", "-o",
                 str(tmp_path / "x.png")]) == 2
    assert "1 names for 2 runs" in capsys.readouterr().err

"""Run folders whose values contradict each other or what they describe (issue 25, round two):
a best metric the task does not have, a best value no epoch reached, generation numbers that do
not follow, epochs_done 0 beside an epoch's weights, a dataset path outside the one recorded.
Each is one line, exit 2, the folder unchanged; what a real run writes still resumes."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from core.data.datasets import Dataset
from core.model.errors import ModelError
from core.presets import load_preset
from core.train import checkpoint as ckpt
from core.train import run_checks
from core.train.engine import train
from core.train.run_schema import RunState
from core.train.settings import BatchProgress, Finished, TrainingControl
from tests.core.run_folder_helpers import TINY, edit_meta, folder_bytes, train_tiny

pytestmark = pytest.mark.xdist_group("test_run_folder_hostile")


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory: pytest.TempPathFactory, digits: Dataset) -> Path:
    return train_tiny(digits, tmp_path_factory.mktemp("runs"))


@pytest.fixture
def run_copy(finished_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished_run, tmp_path / "run"))


def resume(run: Path, capsys: pytest.CaptureFixture[str], epochs: int = 2) -> tuple[int, str]:
    code = main(["train", "--resume", str(run), "--epochs", str(epochs), "--device", "cpu",
                 "--out", str(run.parent), "--json", "unused.json"])
    return code, capsys.readouterr().err


def _epoch_zero(data: dict[str, Any]) -> None:
    data.update(epochs_done=0, history=[])


def _epoch_zero_without_best(run: Path) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data.update(epochs_done=0, history=[], best_value=-1.0)
        data["files"].pop(ckpt.BEST)
        (run / ckpt.BEST).unlink()
    return change


CASES: list[tuple[str, Callable[[Path], Callable[[dict[str, Any]], Any]], str]] = [
    ("best metric of another task", lambda run: lambda d: d.update(best_metric="val_miou"),
     'best_metric must be val_acc, the classification model\'s headline metric, found '
     '"val_miou"'),
    ("best metric unknown", lambda run: lambda d: d.update(best_metric="val_zzz"),
     "best_metric must be val_acc"),
    ("best value no epoch reached", lambda run: lambda d: d.update(best_value=0.999),
     "best_value is 0.999 but the best val_acc in history is"),
    ("generation too small", lambda run: lambda d: d.update(generation=1),
     "generation is 1 but 1 epochs were saved"),
    ("generation removed", lambda run: lambda d: d.pop("generation"),
     "records the run's files but no generation number"),
    ("epochs_done 0 beside an epoch's weights", lambda run: _epoch_zero,
     "epochs_done is 0 but the folder has weights-best.safetensors"),
    ("epochs_done 0, best removed too", _epoch_zero_without_best,
     "epochs_done is 0 but the run is marked finished or has test results"),
    ("dataset outside", lambda run: lambda d: d.update(dataset="../../etc"),
     'dataset must be a dataset name (digits, mnist, fashion-mnist, cifar10, digit-scenes, '
     'imdb, phrases, moving-digits) or '
     'the full path ConvScope recorded, found "../../etc"'),
    ("dataset with ..", lambda run: lambda d: d.update(dataset=str(run.parent / ".." / "x")),
     "dataset must be a dataset name"),
    ("dataset relative", lambda run: lambda d: d.update(dataset="my-images"),
     "dataset must be a dataset name"),
]


@pytest.mark.parametrize(("case", "make", "words"), CASES, ids=[c for c, _, _ in CASES])
def test_a_run_folder_that_contradicts_itself_is_refused_in_one_line(
        run_copy: Path, capsys: pytest.CaptureFixture[str], case: str,
        make: Callable[[Path], Callable[[dict[str, Any]], Any]], words: str) -> None:
    edit_meta(run_copy, make(run_copy))
    before = folder_bytes(run_copy.parent)
    code, err = resume(run_copy, capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and words in err, err
    assert "Traceback" not in err
    assert folder_bytes(run_copy.parent) == before


def test_a_dataset_reached_through_a_link_is_refused(run_copy: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "data")
    edit_meta(run_copy, lambda d: d.update(dataset=str(tmp_path / "data")))
    before = folder_bytes(run_copy)
    code, err = resume(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "through a link, not to the folder the run recorded" in err and "--change-dataset" in err
    assert folder_bytes(run_copy) == before


def test_a_cut_off_save_of_another_generation_is_refused(
        run_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    meta = json.loads((run_copy / ckpt.META).read_text())
    (run_copy / (ckpt.META + ckpt.TMP)).write_text(json.dumps({**meta, "generation": 99}))
    before = folder_bytes(run_copy)
    code, err = resume(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert f"is generation 99, not {meta['generation'] + 1}" in err
    assert folder_bytes(run_copy) == before


def test_the_dataset_must_fit_the_runs_task() -> None:
    spec = load_preset("fcn8s_digits")
    state = RunState(settings={}, dataset="mnist", classes=["0"], mean=[0.5], std=[0.2])
    with pytest.raises(ModelError, match='dataset "mnist" has no masks or boxes, so the '
                                         'segmentation run'):
        run_checks.check_run_dataset(state, spec)
    for fine in ("digit-scenes", "digit-scenes:n=48", str(Path("/").resolve() / "data")):
        run_checks.check_run_dataset(replace(state, dataset=fine), spec)


def test_the_best_metric_of_a_new_run_is_its_tasks(tmp_path: Path, digits: Dataset) -> None:
    """A run's first training.json already names its task's headline metric."""
    from core.tasks import task_for

    spec = load_preset("fcn8s_digits")
    state = RunState(settings={}, dataset="digit-scenes", classes=["0"], mean=[0.5] * 1,
                          std=[0.2])
    run_checks._check_best(state, spec)  # epochs_done 0: the old default val_acc is still read
    with pytest.raises(ModelError, match="best_metric must be val_miou"):
        run_checks._check_best(
            replace(state, epochs_done=1, history=[{"epoch": 1, "val_acc": 0.5}]), spec)
    assert task_for("segmentation").headline == "miou"


def test_a_stop_in_the_first_epoch_still_resumes(digits: Dataset, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """epochs_done 0 beside weights-last is what a stop in the first epoch leaves: accepted."""
    import core.train.engine as engine
    from core.model.spec import model_from_dict
    from tests.core.run_folder_helpers import TINY_MODEL

    # every batch reports (progress is throttled by time: on a fast machine the first report
    # came with the epoch's last batch, and the stop after it landed once the epoch was saved)
    monkeypatch.setattr(engine, "PROGRESS_INTERVAL", 0.0)

    control = TrainingControl()
    events = []
    for event in train(model_from_dict(TINY_MODEL), digits, replace(TINY, batch_size=16),
                       tmp_path, control):
        events.append(event)
        if isinstance(event, BatchProgress):
            control.stop()
    done = events[-1]
    assert isinstance(done, Finished) and done.stopped
    run = Path(done.run_dir)
    point = ckpt.open_for_resume(run)
    assert point.state.epochs_done == 0 and (run / ckpt.LAST).is_file()
    again = list(train(model_from_dict(TINY_MODEL), digits, TINY, tmp_path, resume=run))
    assert isinstance(again[-1], Finished) and again[-1].epochs_done == 1
    ckpt.open_for_resume(run)  # and the finished run checks again
    ckpt.open_run(run)

"""A run folder is read like a model file and written one generation at a time.

Tampered training.json keys, optimizer layouts and files are refused with one line naming the
file and the field (exit 2) and leave the folder byte-identical; a write error mid-checkpoint
leaves the previous generation, which a resume then continues.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from core.data.datasets import Dataset
from core.model.errors import ModelError
from core.train import checkpoint as ckpt
from core.train.engine import train
from core.train.settings import EpochEnd, Failed, Finished, TrainingSettings
from tests.core.run_folder_helpers import TINY, edit_meta, folder_bytes, train_tiny

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_run_folder")


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


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = data
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[last] = value
    return change


TAMPERED = [
    ("settings/augmentation", {"x": 1}, "settings.augmentation"),
    ("settings/augmentation", [1], "settings.augmentation"),
    ("settings/batch_size", 0, "settings.batch_size must be a whole number from 1 to 65536"),
    ("settings/batch_size", 1.5, "found 1.5"),
    ("settings/batch_size", "64", "settings.batch_size"),
    ("settings/lr", "abc", "settings.lr"),
    ("settings/lr", 1e9, "settings.lr must be a number above 0 and at most 10"),
    ("settings/optimizer", "rmsprop", "settings.optimizer must be one of sgd, adam, adamw"),
    ("settings/optimizer", "sgd", "optimizer_layout.param_groups[0]"),
    ("settings/momentum", 1, "settings.momentum"),
    ("settings/seed", -1, "settings.seed"),
    ("settings", [], "settings must be an object"),
    ("best_val_acc", "x", "best_val_acc"),
    ("optimizer_layout", {}, "optimizer_layout is missing"),
    ("optimizer_layout/param_groups", [], "optimizer_layout must be"),
    ("optimizer_layout/param_groups/0/lr", "x", "param_groups[0].lr"),
    ("optimizer_layout/param_groups/0/lr", 1e9, "param_groups[0].lr must be a number from 0"),
    ("optimizer_layout/param_groups/0/params", [0, 1, 2], "param_groups[0].params"),
    ("optimizer_layout/scalars", [1], "optimizer_layout must be"),
    ("epochs_done", -5, "epochs_done must be a whole number"),
    ("epochs_done", 10**6, "epochs_done"),
    ("epochs_done", 0, "epochs_done is 0 but history has 1"),
    ("history", "x", "history must be"),
    ("classes", [], "classes must be"),
    ("mean", [1, 2], "mean and std"),
    ("std", [0], "std must be"),
    ("finished", "yes", "finished must be true or false"),
    ("test_acc", 7, "test_acc"),
    ("surprise", 1, 'unknown key "surprise"'),
    ("files/weights-last.safetensors/size", 3, "weights-last.safetensors is"),
]


@pytest.mark.parametrize(("path", "value", "words"), TAMPERED,
                         ids=[f"{p}={json.dumps(v)[:20]}" for p, v, _ in TAMPERED])
def test_a_tampered_training_json_is_refused_in_one_line_and_nothing_changes(
        run_copy: Path, capsys: pytest.CaptureFixture[str], path: str, value: Any,
        words: str) -> None:
    edit_meta(run_copy, _set(path, value))
    before = folder_bytes(run_copy.parent)
    code, err = resume(run_copy, capsys)
    assert code == 2, err
    assert err.count("\n") == 1 and words in err, err
    assert "Traceback" not in err
    assert folder_bytes(run_copy.parent) == before


@pytest.mark.parametrize("damage", ["truncate", "missing", "swap", "garbage-json"])
def test_damaged_files_are_refused_in_one_line(run_copy: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               damage: str) -> None:
    optimizer = run_copy / ckpt.OPTIMIZER
    if damage == "truncate":
        optimizer.write_bytes(optimizer.read_bytes()[:100])
        words = "optimizer-last.safetensors is 100 bytes"
    elif damage == "missing":
        optimizer.unlink()
        words = "optimizer-last.safetensors is missing"
    elif damage == "swap":
        (run_copy / ckpt.LAST).write_bytes((run_copy / ckpt.OPTIMIZER).read_bytes())
        words = "weights-last.safetensors is"
    else:
        (run_copy / ckpt.META).write_text('{"settings": ')
        words = "training.json: not valid JSON"
    before = folder_bytes(run_copy.parent)
    code, err = resume(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert "cannot write" not in err
    assert folder_bytes(run_copy.parent) == before


def test_old_runs_without_a_file_record_still_resume(run_copy: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    edit_meta(run_copy, lambda data: [data.pop("files"), data.pop("generation")])
    code, err = resume(run_copy, capsys)
    assert code == 0, err
    state = ckpt.load_state(run_copy)
    assert state.epochs_done == 2 and len(state.history) == 2 and state.finished


def test_the_new_best_metric_keys_are_accepted(run_copy: Path) -> None:
    edit_meta(run_copy, lambda data: data.update(best_metric="val_miou", best_value=0.5))
    assert ckpt.load_state(run_copy).epochs_done == 1
    edit_meta(run_copy, lambda data: data.update(best_value="high"))
    with pytest.raises(ModelError, match=r"training\.json: best_value must be a number"):
        ckpt.load_state(run_copy)


def test_asking_for_no_more_epochs_is_refused(run_copy: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    before = folder_bytes(run_copy.parent)
    code, err = resume(run_copy, capsys, epochs=1)
    assert code == 2 and "has done 1 epochs already" in err
    assert folder_bytes(run_copy.parent) == before


def _fail_on(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    """Make the ``count``-th safetensors write of the checkpoint module fail: disk full."""
    real = ckpt.save_file
    calls = {"n": 0}

    def save_file(tensors: Any, path: str) -> None:
        calls["n"] += 1
        if calls["n"] == count:
            with open(path, "wb") as handle:  # half a file, as a full disk leaves it
                handle.write(b"\0" * 64)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(tensors, path)

    monkeypatch.setattr(ckpt, "save_file", save_file)


def test_disk_full_mid_generation_keeps_the_previous_one_and_resume_continues(
        digits: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = TrainingSettings(**{**TINY.to_dict(), "epochs": 3,
                                   "augmentation": TINY.augmentation})
    # epoch 1 writes last, best, optimizer (3 writes); epoch 2's optimizer is the 6th or so
    _fail_on(monkeypatch, 5)
    events = list(train(ckpt_model(), digits, settings, tmp_path))
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.message.startswith("disk full while saving epoch 2; the run folder still "
                                     "holds epoch 1 and resumes from it"), failed.message
    run = Path(failed.run_dir)
    assert not list(run.glob("*.tmp")) and not list(run.glob("*.prev.*"))
    state = ckpt.load_state(run)
    assert state.epochs_done == 1 and len(state.history) == 1
    assert ckpt.check_files(run) == ""
    monkeypatch.undo()
    events = list(train(ckpt_model(), digits, settings, tmp_path, resume=run))
    assert [e.epoch for e in events if isinstance(e, EpochEnd)] == [2, 3]
    assert isinstance(events[-1], Finished)
    assert ckpt.load_state(run).epochs_done == 3


def ckpt_model() -> Any:
    from core.model.spec import model_from_dict
    from tests.core.run_folder_helpers import TINY_MODEL

    return model_from_dict(TINY_MODEL)


def test_a_read_only_folder_is_one_line(run_copy: Path, digits: Dataset,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.replace

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(ckpt.META):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real(src, dst)

    before = folder_bytes(run_copy)
    monkeypatch.setattr(ckpt.os, "replace", replace)
    events = list(train(ckpt_model(), digits, TrainingSettings(
        **{**TINY.to_dict(), "epochs": 2, "augmentation": TINY.augmentation}),
        run_copy.parent, resume=run_copy))
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.message == ("the run folder is on a read-only disk while saving epoch 2; the "
                              "run folder still holds epoch 1 and resumes from it")
    assert folder_bytes(run_copy) == before  # rolled back to the committed generation


def test_a_commit_cut_off_is_read_from_the_previous_generation_and_said(
        run_copy: Path, digits: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kill between the renames: new weights in place, training.json still the old one."""
    real = os.replace

    class Killed(BaseException):
        pass

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(ckpt.META):
            raise Killed
        real(src, dst)

    committed = folder_bytes(run_copy)
    monkeypatch.setattr(ckpt.os, "replace", replace)
    events = train(ckpt_model(), digits, TrainingSettings(
        **{**TINY.to_dict(), "epochs": 2, "augmentation": TINY.augmentation}),
        run_copy.parent, resume=run_copy)
    with pytest.raises(Killed):
        list(events)
    monkeypatch.undo()
    assert ckpt.interrupted(run_copy)
    assert folder_bytes(run_copy)[ckpt.LAST] != committed[ckpt.LAST]  # the cut-off epoch 2
    point = ckpt.open_for_resume(run_copy)
    assert point.weights.name == "weights-last.prev.safetensors"
    assert "cut off; using epoch 1" in point.note
    assert ckpt.open_run(run_copy, "last").weights.name == "weights-last.prev.safetensors"
    events2 = list(train(ckpt_model(), digits, TrainingSettings(
        **{**TINY.to_dict(), "epochs": 2, "augmentation": TINY.augmentation}),
        run_copy.parent, resume=run_copy))
    assert "cut off" in events2[0].weights_report  # type: ignore[attr-defined]
    assert isinstance(events2[-1], Finished)
    assert not ckpt.interrupted(run_copy) and ckpt.check_files(run_copy) == ""
    assert ckpt.load_state(run_copy).epochs_done == 2


def test_a_run_without_validation_images_resumes(digits: Dataset, tmp_path: Path) -> None:
    """NaN metrics of empty splits are valid in training.json."""
    from core.data.datasets import Split

    empty = Split(digits.val.images[:0], digits.val.labels[:0])
    data = Dataset("digits", digits.classes, digits.train, empty, empty)
    run = train_tiny(data, tmp_path)
    point = ckpt.open_for_resume(run)
    assert point.state.epochs_done == 1 and point.state.history[0]["val_acc"] != 0.0

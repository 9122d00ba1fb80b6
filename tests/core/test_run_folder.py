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
from dataclasses import replace
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


def _swap_in_other_weights(run: Path, digits: Dataset, tmp_path: Path) -> None:
    other = train_tiny(digits, tmp_path / "other", replace(TINY, seed=1))
    shutil.copy(other / ckpt.LAST, run / ckpt.LAST)


def _relu_to_sigmoid(run: Path) -> None:
    model = json.loads((run / "model.json").read_text())
    for layer in model["layers"]:
        if layer["type"] == "ReLU":
            layer["type"] = "Sigmoid"  # the weights still fit
    (run / "model.json").write_text(json.dumps(model))


def test_a_run_whose_record_was_deleted_is_not_resumed(run_copy: Path, digits: Dataset,
                                                       tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Deleting the record (as a run from before it would look) must not switch the checks off:
    another run's weights copied in would otherwise resume as this run's."""
    _swap_in_other_weights(run_copy, digits, tmp_path)
    edit_meta(run_copy, lambda data: [data.pop("files"), data.pop("generation")])
    before = folder_bytes(run_copy)
    code, err = resume(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1, err
    assert "has no record of the run's files" in err and "--weights" in err
    assert folder_bytes(run_copy) == before


def test_model_json_is_covered_by_the_record(run_copy: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    recorded = json.loads((run_copy / "training.json").read_text())["files"]
    assert set(recorded) == {"model.json", ckpt.LAST, ckpt.BEST, ckpt.OPTIMIZER}
    _relu_to_sigmoid(run_copy)
    before = folder_bytes(run_copy)
    code, err = resume(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1 and "model.json is " in err, err
    assert "SHA-256" in err or "training.json records" in err
    assert folder_bytes(run_copy) == before
    edit_meta(run_copy, lambda data: data["files"].pop("model.json"))
    code, err = resume(run_copy, capsys)
    assert code == 2 and "model.json is not in training.json's record" in err, err


def test_special_files_and_links_in_a_run_folder_are_refused(
        run_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import threading

    outside = tmp_path / "elsewhere.safetensors"
    shutil.copy(run_copy / ckpt.LAST, outside)
    cases: list[tuple[str, Callable[[Path], None], str]] = [
        ("training.json", lambda p: os.mkfifo(p), "not a regular file"),
        ("training.json", lambda p: p.symlink_to("/dev/zero"), "outside the run folder"),
        ("model.json", lambda p: p.symlink_to("/dev/zero"), "outside the run folder"),
        ("model.json", lambda p: os.mkfifo(p), "not a regular file"),
        (ckpt.OPTIMIZER, lambda p: os.mkfifo(p), "not a regular file"),
        (ckpt.LAST, lambda p: p.symlink_to(outside), "outside the run folder"),
    ]
    for index, (name, make, words) in enumerate(cases):
        run = Path(shutil.copytree(run_copy, tmp_path / f"case{index}"))
        (run / name).unlink()
        make(run / name)
        result: list[tuple[int, str]] = []
        worker = threading.Thread(target=lambda run=run, result=result: result.append(
            resume(run, capsys)), daemon=True)
        worker.start()
        worker.join(120)
        assert result, f"{name}: the resume hung"
        code, err = result[0]
        assert code == 2 and err.count("\n") == 1 and words in err, (name, err)


def test_a_disk_full_before_the_first_epoch_says_there_is_nothing_to_resume(
        digits: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_on(monkeypatch, 1)  # the very first weights file
    events = list(train(ckpt_model(), digits, TINY, tmp_path))
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert "no epoch was saved yet" in failed.message and "start a new run" in failed.message
    assert "resumes from it" not in failed.message


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


@pytest.fixture
def folder_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, Path]:
    """A run trained (1 epoch, through the CLI) on an image folder whose classes are 0–9."""
    import numpy as np
    from PIL import Image

    images = tmp_path / "my digits"
    rng = np.random.default_rng(0)
    for label in range(10):
        (images / str(label)).mkdir(parents=True)
        for i in range(8):
            picture = (rng.random((8, 8)) * 40 + label * 20).astype(np.uint8)
            Image.fromarray(picture).save(images / str(label) / f"{i}.png")
    model = tmp_path / "tiny.json"
    from tests.core.run_folder_helpers import TINY_MODEL

    model.write_text(json.dumps(TINY_MODEL))
    code = main(["train", str(model), "--dataset", str(images), "--epochs", "1", "--device",
                 "cpu", "--out", str(tmp_path / "runs"), "--batch-size", "16"])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    (run,) = (tmp_path / "runs").iterdir()
    return run, images


def test_resume_trains_on_the_runs_own_dataset(folder_run: tuple[Path, Path],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    run, images = folder_run
    code = main(["train", "--resume", str(run), "--epochs", "2", "--device", "cpu", "--json"])
    out = capsys.readouterr().out
    assert code == 0
    started = json.loads(out.splitlines()[0])
    assert str(images.resolve()) in started["dataset"]  # not the default, digits
    state = ckpt.load_state(run)
    assert state.epochs_done == 2 and state.dataset == str(images.resolve())


def test_resume_on_other_data_is_refused_unless_asked(folder_run: tuple[Path, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    run, images = folder_run
    before = folder_bytes(run)
    code = main(["train", "--resume", str(run), "--epochs", "2", "--dataset", "digits"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "was trained on" in err and "--change-dataset" in err
    assert folder_bytes(run) == before
    code = main(["train", "--resume", str(run), "--epochs", "2", "--dataset", "digits",
                 "--change-dataset", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    state = ckpt.load_state(run)
    assert state.dataset == "digits" and state.epochs_done == 2
    assert any("the run began on" in note and str(images.resolve()) in note
               for note in state.notes)


def test_resume_given_the_same_folder_by_another_path_continues(
        folder_run: tuple[Path, Path], capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The run records the folder as an absolute path; `--dataset "./my digits/"` from its
    parent names the same data, so no --change-dataset is needed and none is noted."""
    run, images = folder_run
    monkeypatch.chdir(images.parent)
    code = main(["train", "--resume", str(run), "--epochs", "2", "--dataset",
                 f"./{images.name}/", "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    state = ckpt.load_state(run)
    assert state.epochs_done == 2 and state.dataset == str(images.resolve())
    assert not any("the run began on" in note for note in state.notes)


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # inside the last tensor's values: still a readable safetensors file
    path.write_bytes(bytes(data))


@pytest.fixture
def damaged_runs(finished_run: Path, tmp_path: Path, digits: Dataset) -> list[Path]:
    """The run with its best weights bit-flipped, and with another run's weights swapped in."""
    flipped = Path(shutil.copytree(finished_run, tmp_path / "flipped"))
    _flip_a_byte(flipped / ckpt.BEST)
    other = train_tiny(digits, tmp_path / "other", replace(TINY, seed=1))
    swapped = Path(shutil.copytree(finished_run, tmp_path / "swapped"))
    for name in (ckpt.BEST, ckpt.LAST):
        shutil.copy(other / name, swapped / name)
    return [flipped, swapped]


def test_every_reader_of_a_runs_weights_checks_them(damaged_runs: list[Path], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from core.inspect.inspector import Inspector
    from core.weights import read_weights

    for run in damaged_runs:
        before = folder_bytes(run)
        model = str(run / "model.json")
        commands = [
            ["render", "filters", model, "--layer", "conv1", "--weights", str(run), "-o",
             str(tmp_path / "f.png")],
            ["render", "filters", model, "--layer", "conv1", "--weights",
             str(run / ckpt.BEST), "-o", str(tmp_path / "f.png")],
            ["export", model, "--format", "pytorch", "--weights", str(run), "-o",
             str(tmp_path / "m.py")],
            ["train", model, "--weights", str(run), "--epochs", "1", "--device", "cpu",
             "--out", str(tmp_path / "runs")],
            ["step", model, "--layer", "conv1", "--at", "0,0,0", "--weights", str(run)],
        ]
        for command in commands:
            code = main(command)
            err = capsys.readouterr().err
            assert code == 2, (command, err)
            assert len(err.strip().splitlines()) == 1, err
            assert "SHA-256" in err or "bytes but training.json records" in err, err
        with pytest.raises(ModelError, match=r"SHA-256|records"):
            Inspector.from_paths(run / "model.json", run)
        with pytest.raises(ModelError, match=r"SHA-256|records"):
            read_weights(run / ckpt.BEST)
        assert folder_bytes(run) == before
        assert not (tmp_path / "m.py").exists() and not (tmp_path / "runs").exists()


def test_weights_read_during_a_cut_off_commit_are_the_committed_ones(run_copy: Path) -> None:
    """While training.json.tmp and .prev files exist, the committed generation is the .prev."""
    from core.weights import read_weights

    committed = read_weights(run_copy / ckpt.LAST)
    prev = run_copy / "weights-last.prev.safetensors"
    shutil.copy(run_copy / ckpt.LAST, prev)
    _flip_a_byte(run_copy / ckpt.LAST)  # the new, uncommitted file
    (run_copy / "training.json.tmp").write_text("{}")
    again = read_weights(run_copy / ckpt.LAST)
    assert again.keys() == committed.keys()
    assert all(bool((again[k] == committed[k]).all()) for k in committed)


@pytest.mark.parametrize(("change", "words"), [
    (_set("classes", [str(i) for i in range(11)]), "training.json lists 11 classes"),
    (_set("classes", ["0", "1"]), "training.json lists 2 classes"),
    (_set("mean", [0.1, 0.2, 0.3]), "one value per input channel of the model (1)"),
])
def test_training_json_values_must_fit_the_model_and_data(
        run_copy: Path, capsys: pytest.CaptureFixture[str], change: Callable[[Any], None],
        words: str) -> None:
    def both(data: dict[str, Any]) -> None:
        change(data)
        if len(data["mean"]) != len(data["std"]):
            data["std"] = [0.5] * len(data["mean"])

    edit_meta(run_copy, both)
    before = folder_bytes(run_copy)
    code, err = resume(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1 and words in err, err
    assert folder_bytes(run_copy) == before


def test_optimizer_hyperparameters_and_counters_stay_in_the_command_lines_ranges(
        run_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from safetensors.torch import load_file, save_file

    cases: list[tuple[Callable[[Path], None], str]] = [
        (lambda run: edit_meta(run, _set("optimizer_layout/param_groups/0/betas", [2, 0.999])),
         "betas must be two numbers from 0 to below 1"),
        (lambda run: edit_meta(run, _set("optimizer_layout/param_groups/0/eps", 0)),
         "eps must be a number above 0"),
        (lambda run: edit_meta(run, _set("optimizer_layout/param_groups/0/weight_decay", 5)),
         "weight_decay must be a number from 0 to 1"),
    ]

    def huge_step(run: Path) -> None:
        tensors = load_file(str(run / ckpt.OPTIMIZER))
        for key in tensors:
            if key.endswith(".step"):
                tensors[key] = tensors[key] * 0 + 1e30
        save_file(tensors, str(run / ckpt.OPTIMIZER))
        recorded = ckpt._fingerprint(run / ckpt.OPTIMIZER)  # re-recorded: only the value lies
        edit_meta(run, lambda data: data["files"].update({ckpt.OPTIMIZER: recorded}))

    cases.append((huge_step, "must be one count from 0"))
    for index, (change, words) in enumerate(cases):
        run = Path(shutil.copytree(run_copy, run_copy.parent / f"opt{index}"))
        change(run)
        before = folder_bytes(run)
        code, err = resume(run, capsys)
        assert code == 2 and err.count("\n") == 1 and words in err, (words, err)
        assert folder_bytes(run) == before

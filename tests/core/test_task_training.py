"""Segmentation and detection through the one engine and `convscope train`."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from core.cli import main
from core.data.datasets import Dataset, load_dataset
from core.presets import load_preset
from core.train.checkpoint import load_state, open_run
from core.train.engine import train
from core.train.settings import (
    BatchProgress,
    EpochEnd,
    Failed,
    Finished,
    TrainingControl,
    TrainingSettings,
)

FAST = TrainingSettings(epochs=1, batch_size=32, device="cpu", snapshots=False)


@pytest.fixture(scope="module")
def scenes() -> Dataset:
    return load_dataset("digit-scenes:n=96", (1, 64, 64))


def test_segmentation_trains_and_reports_miou(scenes: Dataset, tmp_path: Path) -> None:
    events = list(train(load_preset("fcn8s_digits"), scenes, FAST, tmp_path))
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert {"train_pixel_acc", "val_miou", "val_pixel_acc", "val_iou_0"} <= set(epoch.metrics)
    assert epoch.val_acc == epoch.metrics["val_miou"] and 0 <= epoch.val_acc <= 1
    done = events[-1]
    assert isinstance(done, Finished) and not done.stopped
    assert {"test_miou", "test_pixel_acc"} <= set(done.test_metrics)
    state = load_state(Path(done.run_dir))
    assert state.best_metric == "val_miou" and state.best_value == epoch.val_acc
    assert "val_miou" in state.history[0]


def test_detection_trains_stops_and_resumes(scenes: Dataset, tmp_path: Path) -> None:
    control = TrainingControl()
    events = []
    for event in train(load_preset("grid_detector_digits"), scenes, replace(FAST, epochs=2),
                       tmp_path, control):
        events.append(event)
        if isinstance(event, EpochEnd):
            control.stop()
    epoch = next(e for e in events if isinstance(e, EpochEnd))
    assert {"train_cls_acc", "val_map50", "val_map", "val_ap11"} <= set(epoch.metrics)
    assert epoch.val_acc == epoch.metrics["val_map50"]
    stopped = events[-1]
    assert isinstance(stopped, Finished) and stopped.stopped and stopped.epochs_done == 1
    resumed = list(train(load_preset("grid_detector_digits"), scenes, replace(FAST, epochs=2),
                         tmp_path, resume=Path(stopped.run_dir)))
    done = resumed[-1]
    assert isinstance(done, Finished) and not done.stopped and done.epochs_done == 2
    assert {"test_map50", "test_map", "test_ap11"} <= set(done.test_metrics)
    assert any(isinstance(e, BatchProgress) for e in resumed)


def test_a_segmentation_model_on_class_labels_fails_with_a_message(
        tiny_digits: Dataset, tmp_path: Path) -> None:
    done = list(train(load_preset("unet_digits"), tiny_digits, FAST, tmp_path))[-1]
    assert isinstance(done, Failed) and "has no masks" in done.message


def test_runs_from_before_best_metric_still_open(tmp_path: Path) -> None:
    run = tmp_path / "old"
    run.mkdir()
    (run / "training.json").write_text(json.dumps({
        "settings": {}, "dataset": "digits", "classes": ["0", "1"], "mean": [0.5],
        "std": [0.2], "epochs_done": 1, "best_val_acc": 0.75, "history": [],
        "optimizer_layout": {}}), encoding="utf-8")
    state = load_state(run)
    assert state.best_metric == "val_acc" and state.best_value == 0.75


def test_cli_train_json_for_segmentation_and_detection(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for preset, epoch_keys, final_keys in (
            ("unet_digits", {"val_miou", "val_pixel_acc"}, {"test_miou", "test_pixel_acc"}),
            ("grid_detector_digits", {"val_map50", "val_map"},
             {"test_map50", "test_map", "test_ap11"})):
        code = main(["train", preset, "--dataset", "digit-scenes:n=48", "--epochs", "1",
                     "--device", "cpu", "--json", "--out", str(tmp_path)])
        assert code == 0
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert {"epoch", "train_loss", "val_loss", "samples_per_s", "seconds"} | epoch_keys \
            <= set(lines[0])
        assert final_keys | {"checkpoint"} <= set(lines[-1])
        assert all(v is None or not math.isnan(v) for v in lines[-1].values()
                   if isinstance(v, float))
        assert open_run(Path(lines[-1]["run_dir"])).spec.name == load_preset(preset).name

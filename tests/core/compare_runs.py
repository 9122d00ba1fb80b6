"""Two tiny finished runs of one task for the comparison tests: the same small convolution on
digits at 8×8, without and with dropout (an ablation), two epochs each."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from core.data.datasets import Dataset, Split, load_digits_dataset
from core.model.spec import model_from_dict
from core.run_files import fingerprint
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings
from tests.core.run_folder_helpers import TINY_MODEL

SETTINGS = TrainingSettings(epochs=2, batch_size=128, device="cpu", snapshots=False,
                            live_filters_every=0)


def small_digits() -> Dataset:
    data = load_digits_dataset()

    def part(split: Split, n: int) -> Split:
        return Split(split.images[:n].clone(), split.labels[:n].clone())

    return Dataset("digits", data.classes, part(data.train, 256), data.val, part(data.test, 64))


def ablation_runs(out: Path) -> tuple[Path, Path]:
    """(without dropout, with dropout), trained once."""
    data = small_digits()
    with_dropout: dict[str, Any] = copy.deepcopy(TINY_MODEL)
    with_dropout["name"] = "dropout"
    with_dropout["layers"].insert(2, {"type": "Dropout", "p": 0.5})
    runs = []
    for name, model in (("plain", TINY_MODEL), ("dropout", with_dropout)):
        done = list(train(model_from_dict(model), data, SETTINGS, out / name))[-1]
        assert isinstance(done, Finished), done
        runs.append(Path(done.run_dir))
    return runs[0], runs[1]


def as_other_task(run: Path, out: Path, task: str = "localization") -> Path:
    """A copy of ``run`` whose model file says another task (its record kept consistent)."""
    copy_dir = out / f"{run.name}-{task}"
    shutil.copytree(run, copy_dir)
    model = json.loads((copy_dir / "model.json").read_text())
    model["task"] = task
    (copy_dir / "model.json").write_text(json.dumps(model))
    meta = json.loads((copy_dir / "training.json").read_text())
    meta["best_metric"] = "val_iou"
    for row in meta["history"]:
        row["val_iou"] = row["val_acc"]
    meta["files"]["model.json"] = fingerprint(copy_dir / "model.json")
    (copy_dir / "training.json").write_text(json.dumps(meta))
    return copy_dir

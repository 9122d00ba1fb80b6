"""kill -9 of `convscope train` at moments while it checkpoints: the folder always resumes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.data.datasets import Dataset
from core.model.spec import model_from_dict
from core.train import checkpoint as ckpt
from core.train.engine import train
from core.train.settings import Finished
from tests.core.run_folder_helpers import TINY, TINY_MODEL

ROOT = Path(__file__).resolve().parents[2]


def _start(args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "core.cli", "train", *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)


def _kill_after_an_epoch(proc: subprocess.Popen[str], delay: float) -> None:
    """Wait for an epoch line (a checkpoint is being or has been written), then kill -9."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line, "the training process ended before an epoch"
    json.loads(line)
    time.sleep(delay)  # the next epochs checkpoint every few milliseconds
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_kill_9_during_checkpoints_always_leaves_a_resumable_folder(
        tmp_path: Path, digits: Dataset) -> None:
    model = tmp_path / "tiny.json"
    model.write_text(json.dumps(TINY_MODEL))
    out = tmp_path / "runs"
    moments = random.Random(13).sample([i / 100 for i in range(40)], 2)
    _kill_after_an_epoch(_start([str(model), "--epochs", "10000", "--batch-size", "256",
                                 "--device", "cpu", "--out", str(out), "--json"]), moments[0])
    (run,) = out.iterdir()
    for moment in moments[1:]:
        point = ckpt.open_for_resume(run)  # consistent, or a ModelError would fail the test
        assert point.state.epochs_done >= 1
        _kill_after_an_epoch(_start(["unused.json", "--resume", str(run), "--epochs", "10000",
                                     "--device", "cpu", "--json"]), moment)
    point = ckpt.open_for_resume(run)
    done = point.state.epochs_done
    assert len(point.state.history) == done
    settings = TINY.__class__(**{**TINY.to_dict(), "epochs": done + 1,
                                 "augmentation": TINY.augmentation})
    events = list(train(model_from_dict(TINY_MODEL), digits, settings, out, resume=run))
    assert isinstance(events[-1], Finished), events[-1]
    assert ckpt.load_state(run).epochs_done == done + 1
    assert ckpt.check_files(run) == "" and not ckpt.interrupted(run)

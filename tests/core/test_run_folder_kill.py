"""kill -9 of `convscope train` at moments while it checkpoints: the folder always resumes."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.data.datasets import Dataset
from core.model.spec import model_from_dict
from core.train import checkpoint as ckpt
from core.train.engine import train
from core.train.settings import Finished
from tests.core.run_folder_helpers import TINY, TINY_MODEL

ROOT = Path(__file__).resolve().parents[2]


EPOCH_CEILING_S = 300
"""How long the first epoch may take (a few milliseconds idle, seconds on a loaded machine):
a ceiling against a hang, never a guess at the machine's speed."""


def _start(args: list[str], stderr: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with stderr.open("w") as errors:
        return subprocess.Popen([sys.executable, "-m", "core.cli", "train", *args], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=errors, text=True)


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """The process's stdout, line by line ("" at its end), read on a thread so that waiting
    for a line can have a ceiling."""
    stdout = proc.stdout
    assert stdout is not None
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in iter(stdout.readline, ""):
            lines.put(line)
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    return lines


def _kill_after_an_epoch(proc: subprocess.Popen[str], delay: float, stderr: Path) -> None:
    """Wait for the first epoch line (its checkpoint is written before it is printed; the
    "started" and "note" lines come first), then kill -9 ``delay`` seconds later, while the next
    epochs checkpoint every few milliseconds."""
    lines = _lines(proc)
    deadline = time.monotonic() + EPOCH_CEILING_S
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"no epoch within {EPOCH_CEILING_S} s") from None
        assert line, f"the training process ended before an epoch: {stderr.read_text()[-2000:]}"
        if "epoch" in json.loads(line):
            break
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)


@pytest.mark.slow
def test_kill_9_during_checkpoints_always_leaves_a_resumable_folder(
        tmp_path: Path, digits: Dataset) -> None:
    model = tmp_path / "tiny.json"
    model.write_text(json.dumps(TINY_MODEL))
    out = tmp_path / "runs"
    moments = random.Random(13).sample([i / 100 for i in range(40)], 2)
    stderr = tmp_path / "stderr.txt"
    _kill_after_an_epoch(_start([str(model), "--epochs", "10000", "--batch-size", "256",
                                 "--device", "cpu", "--out", str(out), "--json"], stderr),
                         moments[0], stderr)
    (run,) = out.iterdir()
    for moment in moments[1:]:
        point = ckpt.open_for_resume(run)  # consistent, or a ModelError would fail the test
        assert point.state.epochs_done >= 1
        _kill_after_an_epoch(_start(["unused.json", "--resume", str(run), "--epochs", "10000",
                                     "--device", "cpu", "--json"], stderr), moment, stderr)
    point = ckpt.open_for_resume(run)
    done = point.state.epochs_done
    assert len(point.state.history) == done
    settings = TINY.__class__(**{**TINY.to_dict(), "epochs": done + 1,
                                 "augmentation": TINY.augmentation})
    events = list(train(model_from_dict(TINY_MODEL), digits, settings, out, resume=run))
    assert isinstance(events[-1], Finished), events[-1]
    assert ckpt.load_state(run).epochs_done == done + 1
    assert ckpt.check_files(run) == "" and not ckpt.interrupted(run)

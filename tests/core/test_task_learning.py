"""Short runs that must learn (segmentation with skips, the localizer's class and box).

Apart from test_task_training.py, whose module fixtures keep its tests on one xdist worker:
these two are the suite's longest tests and share nothing, so each goes to whichever worker is
free (tests/longest_first.py sends them out first)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.datasets import load_dataset
from core.presets import load_preset
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings


@pytest.mark.slow
def test_fcn_with_skips_learns_strokes_and_digits_in_a_short_run(tmp_path: Path) -> None:
    """The lower bar a 15-second CPU run always clears (the 2-minute figures are in
    benchmarks/RESULTS.md): strokes are told from background and the digit classes are well
    above chance (1/10 of the stroke pixels' IoU would be ~0.01 each)."""
    data = load_dataset("digit-scenes:n=1500", (1, 64, 64))
    settings = TrainingSettings(epochs=3, batch_size=32, lr=3e-3, schedule="none",
                                device="cpu", snapshots=False)
    done = list(train(load_preset("fcn_skips_digits"), data, settings, tmp_path))[-1]
    assert isinstance(done, Finished)
    assert done.test_metrics["test_iou_0"] >= 0.95
    assert done.test_metrics["test_miou"] >= 0.1


@pytest.mark.slow
def test_localizer_learns_the_class_not_only_the_box(tmp_path: Path) -> None:
    """Issue 20 item 3: the class scores never left chance (0.10) while the box learned. A short
    run (~15 s on a quiet 2-core machine, 50 s loaded): the class is 3× chance, the box close."""
    data = load_dataset("digit-scenes:n=1000,max=1", (1, 64, 64))
    settings = TrainingSettings(epochs=5, batch_size=32, device="cpu", snapshots=False)
    done = list(train(load_preset("localizer_digits"), data, settings, tmp_path))[-1]
    assert isinstance(done, Finished)
    # measured 0.39 and 0.66 (before the fix: class 0.10–0.13); the full target is in
    # benchmarks/bench_localization.py (0.96 and 0.74 after 8 epochs on 2,000 scenes)
    assert done.test_metrics["test_acc"] >= 0.3
    assert done.test_metrics["test_iou"] >= 0.5

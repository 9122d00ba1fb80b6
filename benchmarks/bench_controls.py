"""Pause and Stop latency: time from pause()/stop() to the Paused / Finished(stopped) event.

Trains the 150×150 convnet (convnet_150 preset) at batch 64 on random 3×150×150 images (two
classes) through the real engine, and asks for pause or stop at a random moment in the middle
of training batches and of the validation pass. Prints the median and worst latency and the
load. Target (issue 20, item 4): ≤ 1 s on a CPU, also during validation.
Run: python benchmarks/bench_controls.py [--tries 5] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import torch

from core.data.dataset import Dataset, Split
from core.presets import load_preset
from core.train.engine import train
from core.train.settings import (
    BatchProgress,
    EpochEnd,
    Finished,
    Paused,
    TrainingControl,
    TrainingSettings,
)


def data(train_n: int, val_n: int) -> Dataset:
    gen = torch.Generator().manual_seed(0)

    def split(n: int) -> Split:
        return Split(torch.randint(0, 256, (n, 3, 150, 150), dtype=torch.uint8, generator=gen),
                     torch.randint(0, 2, (n,), generator=gen))

    return Dataset("random-150", ["cat", "dog"], split(train_n), split(val_n), split(64))


def one(kind: str, phase: str, device: str, rng: random.Random) -> float:
    """Seconds from the command to its event, asked at a random moment in ``phase``."""
    spec = load_preset("convnet_150")
    settings = TrainingSettings(batch_size=64, epochs=3, device=device, snapshots=False)
    control = TrainingControl()
    asked: list[float] = []

    def ask() -> None:
        asked.append(time.perf_counter())
        (control.pause if kind == "pause" else control.stop)()

    armed = False
    for event in train(spec, data(256 if phase == "training" else 64, 1024), settings,
                       Path(tempfile.mkdtemp()), control):
        # arm on the first progress event of training, or at the end of the epoch's batches
        if not armed and isinstance(event, BatchProgress) and (
                phase == "training" or event.batch == event.batches):
            armed = True
            threading.Timer(rng.uniform(0.3, 1.5), ask).start()
        if isinstance(event, Paused) and kind == "pause":
            latency = time.perf_counter() - asked[0]
            control.stop()
            return latency
        if isinstance(event, Finished):
            return time.perf_counter() - asked[0] if asked else float("nan")
        if isinstance(event, EpochEnd) and phase == "validation" and not asked:
            raise SystemExit("validation ended before the command: use more validation images")
    raise SystemExit("no event")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    rng = random.Random(1)
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"torch threads {torch.get_num_threads()}; device {args.device}")
    for phase in ("training", "validation"):
        for kind in ("pause", "stop"):
            times = [one(kind, phase, args.device, rng) for _ in range(args.tries)]
            print(f"{kind:5} during {phase:10}: median {statistics.median(times):.2f} s, "
                  f"worst {max(times):.2f} s over {len(times)} "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()

"""Classification + localization: the localizer_digits preset on one-digit scenes.

Trains the shipped preset through the real engine with the default settings (Adam, lr 3e-3,
batch 64, cosine) and prints each epoch's validation class accuracy and box IoU, then the test
figures of the best checkpoint, with the load. Target (issue 20, item 3): on
``digit-scenes:n=2000,max=1``, test class accuracy ≥ 0.85 and box IoU ≥ 0.6 in 8 epochs.
Run: python benchmarks/bench_localization.py [--n 2000] [--epochs 8] [--device cpu]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from core.data.datasets import load_dataset
from core.presets import load_preset
from core.train.engine import train
from core.train.settings import EpochEnd, Failed, Finished, TrainingSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    spec = load_preset("localizer_digits")
    data = load_dataset(f"digit-scenes:n={args.n},max=1", spec.input_shape)
    settings = TrainingSettings(epochs=args.epochs, device=args.device, snapshots=False)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    started = time.perf_counter()
    for event in train(spec, data, settings, Path(tempfile.mkdtemp())):
        if isinstance(event, EpochEnd):
            print(f"epoch {event.epoch}: val acc {event.metrics['val_acc']:.3f}, val IoU "
                  f"{event.metrics['val_iou']:.3f} ({time.perf_counter() - started:.0f} s, "
                  f"load {os.getloadavg()[0]:.1f})", flush=True)
        elif isinstance(event, Failed):
            raise SystemExit(event.message)
        elif isinstance(event, Finished):
            print(f"test acc {event.test_metrics['test_acc']:.3f}, test IoU "
                  f"{event.test_metrics['test_iou']:.3f} after {args.epochs} epochs on "
                  f"n={args.n} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

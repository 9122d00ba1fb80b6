"""The text CNN preset on the bundled ``phrases`` texts: validation accuracy and time.

Target (issue 20): validation accuracy >= 0.90 within 2 minutes on 2 CPU cores. Same as
``convscope train text_cnn --dataset phrases --epochs 2 --batch-size 16 --lr 1e-3`` (the lr of
Keras's imdb_cnn example: at ConvScope's default 3e-3 this 6.6M-parameter model saturates its
sigmoid in the first batches and stays at chance). Prints the machine's load average before and
after, and the process's CPU seconds: on a shared machine, CPU seconds / threads estimates the
wall time on an idle one.
Run: python benchmarks/bench_text.py [--epochs 2] [--batch-size 16] [--lr 1e-3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from core.train.memory import tune_malloc

tune_malloc()

import torch  # noqa: E402

from core.data.datasets import embedding_rows, load_dataset  # noqa: E402
from core.presets import load_preset  # noqa: E402
from core.train.engine import train  # noqa: E402
from core.train.settings import EpochEnd, Failed, Finished, TrainingSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    wall, cpu = time.perf_counter(), time.process_time()
    spec = load_preset("text_cnn")
    data = load_dataset("phrases", spec.input_shape, vocabulary_size=embedding_rows(spec))
    print(f"{data.describe()}; torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, load {load_before[0]:.1f}")
    settings = TrainingSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                device="cpu")
    reached = None
    with tempfile.TemporaryDirectory() as out:
        for event in train(spec, data, settings, Path(out)):
            if isinstance(event, EpochEnd):
                elapsed = time.perf_counter() - wall
                used = time.process_time() - cpu
                print(f"epoch {event.epoch}: val accuracy {event.val_acc:.3f} at {elapsed:.0f} s "
                      f"wall, {used:.0f} CPU s ({event.samples_per_s:.0f} samples/s)",
                      flush=True)
                if reached is None and event.val_acc >= 0.90:
                    reached = (elapsed, used)
            elif isinstance(event, Finished):
                print(f"test accuracy {event.test_acc:.3f}")
            elif isinstance(event, Failed):
                print(f"failed: {event.message}")
    load_after = os.getloadavg()
    threads = torch.get_num_threads()
    if reached is None:
        print("validation accuracy 0.90 not reached")
    else:
        print(f"validation accuracy >= 0.90 after {reached[0]:.0f} s wall ({reached[1]:.0f} CPU s"
              f" = about {reached[1] / threads:.0f} s on {threads} idle cores); load average "
              f"{load_before[0]:.1f} before, {load_after[0]:.1f} after")


if __name__ == "__main__":
    main()

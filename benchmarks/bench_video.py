"""The 3-D preset against its 2-D baseline on the bundled moving digits: accuracy and time.

Target (issue 20): moving_digits_3d reaches validation accuracy >= 0.90 within 5 minutes on 2
CPU cores; moving_digits_2d (one frame per clip, the middle one) stays near chance (0.25), since
one frame cannot tell which way the digit moves. Same as ``convscope train moving_digits_3d
--dataset moving-digits --epochs 3`` and the same for moving_digits_2d, side by side in one run.
Prints the machine's load average and each model's wall and CPU seconds: on a shared machine,
CPU seconds / threads estimates the wall time on an idle one.
Run: python benchmarks/bench_video.py [--epochs 3] [--n 2000]
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

from core.data.datasets import load_dataset  # noqa: E402
from core.presets import load_preset  # noqa: E402
from core.train.engine import train  # noqa: E402
from core.train.settings import EpochEnd, Failed, Finished, TrainingSettings  # noqa: E402


def run(key: str, dataset: str, epochs: int) -> dict[str, float | None]:
    spec = load_preset(key)
    wall, cpu = time.perf_counter(), time.process_time()
    data = load_dataset(dataset, spec.input_shape)
    settings = TrainingSettings(epochs=epochs, device="cpu")
    result: dict[str, float | None] = {"reached": None, "val": None, "test": None}
    with tempfile.TemporaryDirectory() as out:
        for event in train(spec, data, settings, Path(out)):
            if isinstance(event, EpochEnd):
                elapsed = time.perf_counter() - wall
                print(f"  {key} epoch {event.epoch}: val accuracy {event.val_acc:.3f} at "
                      f"{elapsed:.1f} s wall, {time.process_time() - cpu:.1f} CPU s "
                      f"({event.samples_per_s:.0f} samples/s)", flush=True)
                result["val"] = event.val_acc
                if result["reached"] is None and event.val_acc >= 0.90:
                    result["reached"] = elapsed
            elif isinstance(event, Finished):
                result["test"] = event.test_acc
            elif isinstance(event, Failed):
                print(f"  {key} failed: {event.message}")
    result["wall"] = time.perf_counter() - wall
    result["cpu"] = time.process_time() - cpu
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n", type=int, default=2000, help="training clips")
    args = parser.parse_args()
    dataset = "moving-digits" if args.n == 2000 else f"moving-digits:n={args.n}"
    load_before = os.getloadavg()
    print(f"{dataset}, {args.epochs} epochs; torch threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} CPUs, load {load_before[0]:.1f}")
    results = {key: run(key, dataset, args.epochs)
               for key in ("moving_digits_3d", "moving_digits_2d")}
    threads = torch.get_num_threads()
    for key, r in results.items():
        reached = "not reached" if r["reached"] is None else f"after {r['reached']:.1f} s"
        print(f"{key}: last val accuracy {r['val']:.3f}, test {r['test']:.3f}; val >= 0.90 "
              f"{reached}; {r['wall']:.1f} s wall, {r['cpu']:.1f} CPU s (about "
              f"{(r['cpu'] or 0) / threads:.1f} s on {threads} idle cores)")
    three, two = results["moving_digits_3d"], results["moving_digits_2d"]
    print(f"3-D minus 2-D test accuracy: {(three['test'] or 0) - (two['test'] or 0):+.3f}; "
          f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")


if __name__ == "__main__":
    main()

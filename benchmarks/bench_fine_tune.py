"""Fine-tuning a frozen ResNet-18's head on a folder of photos: epochs with and without the
feature cache.

Target (issue 20): with cached features, each epoch after the first >= 10x faster than an
epoch without the cache. The photos are made here (no download): coloured shapes on noisy
backgrounds, one class per shape, written as JPEG files at 96x96 into one sub-folder per class;
the loader resizes them to the model's 224x224. ResNet-18 is imported from torchvision with
random weights (nothing downloads; the timing does not depend on the weights' values).
Both runs train the same fine-tuned model (``fine_tune_spec``: fc resized, the rest frozen) with
the same settings; an epoch is timed from one EpochEnd to the next (its training, its validation
pass and its checkpoint); the cached run's first epoch includes computing and writing the
features. Prints the load average before and after and the CPU seconds of each run.
Run: python benchmarks/bench_fine_tune.py [--photos 2000] [--size 224] [--epochs 3]
[--plain-epochs 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from core.train.memory import tune_malloc

tune_malloc()

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from core.data.datasets import load_dataset  # noqa: E402
from core.io.torchvision_models import import_torchvision  # noqa: E402
from core.train.engine import train  # noqa: E402
from core.train.fine_tune import fine_tune_spec, trainable_summary  # noqa: E402
from core.train.settings import (  # noqa: E402
    Caching,
    EpochEnd,
    Failed,
    Finished,
    Started,
    TrainingSettings,
)

SHAPES = ("disc", "square", "triangle", "cross", "ring")


def make_photos(folder: Path, count: int, seed: int = 0) -> None:
    """``count`` photos in len(SHAPES) class folders: a shape of a random colour, size and place
    on a noisy background of another random colour."""
    rng = np.random.default_rng(seed)
    for index in range(count):
        shape = SHAPES[index % len(SHAPES)]
        background = rng.integers(0, 256, 3)
        pixels = (rng.normal(0, 20, (96, 96, 3)) + background).clip(0, 255).astype(np.uint8)
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        r = int(rng.integers(14, 34))
        cx, cy = (int(v) for v in rng.integers(r + 2, 96 - r - 2, 2))
        box = (cx - r, cy - r, cx + r, cy + r)
        if shape == "disc":
            draw.ellipse(box, fill=colour)
        elif shape == "square":
            draw.rectangle(box, fill=colour)
        elif shape == "triangle":
            draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
        elif shape == "cross":
            draw.rectangle((cx - r, cy - r // 4, cx + r, cy + r // 4), fill=colour)
            draw.rectangle((cx - r // 4, cy - r, cx + r // 4, cy + r), fill=colour)
        else:
            draw.ellipse(box, outline=colour, width=max(3, r // 4))
        target = folder / shape
        target.mkdir(parents=True, exist_ok=True)
        image.save(target / f"{index:05d}.jpg", quality=90)


def timed_run(spec: object, data: object, settings: TrainingSettings, out: Path
              ) -> tuple[list[float], float, str]:
    """(wall seconds of each epoch, CPU seconds, the features note)."""
    epochs: list[float] = []
    note = ""
    cpu = time.process_time()
    mark = time.perf_counter()
    for event in train(spec, data, settings, out):  # type: ignore[arg-type]
        if isinstance(event, Started):
            mark = time.perf_counter()
        elif isinstance(event, Caching) and event.note:
            note = event.note
        elif isinstance(event, EpochEnd):
            now = time.perf_counter()
            epochs.append(now - mark)
            mark = now
            print(f"  epoch {event.epoch}: {epochs[-1]:.1f} s (training {event.seconds:.1f} s), "
                  f"val accuracy {event.val_acc:.3f}", flush=True)
        elif isinstance(event, Finished):
            print(f"  test accuracy {event.test_acc}")
        elif isinstance(event, Failed):
            raise SystemExit(f"failed: {event.message}")
    return epochs, time.process_time() - cpu, note


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--size", type=int, default=224, help="the model's input size")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the cached run")
    parser.add_argument("--plain-epochs", type=int, default=2,
                        help="epochs of the run without the cache (2: one after the first)")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["CONVSCOPE_HOME"] = str(root / "home")  # a cold cache of our own
        started = time.perf_counter()
        make_photos(root / "photos", args.photos)
        print(f"{args.photos} photos written in {time.perf_counter() - started:.1f} s")
        imported = import_torchvision("resnet18", image_size=args.size)
        started = time.perf_counter()
        data = load_dataset(str(root / "photos"), imported.spec.input_shape)
        print(f"{data.describe()}; decoded in {time.perf_counter() - started:.1f} s")
        spec = fine_tune_spec(imported.spec, data.classes)
        print(f"{trainable_summary(spec).line}; torch threads {torch.get_num_threads()}, "
              f"{os.cpu_count()} CPUs, load {load_before[0]:.1f}")
        settings = TrainingSettings(epochs=args.epochs, batch_size=args.batch_size,
                                    device="cpu", snapshots=False)
        print("without the cache:")
        plain, plain_cpu, _ = timed_run(spec, data, replace(settings, epochs=args.plain_epochs),
                                        root / "runs")
        load_mid = os.getloadavg()
        print("with --cache-features:")
        cached, cached_cpu, note = timed_run(spec, data, replace(settings, cache_features=True),
                                             root / "runs")
    load_after = os.getloadavg()
    print(f"  {note}")
    later_plain = plain[1:] or plain
    later_cached = cached[1:]
    mean_plain = sum(later_plain) / len(later_plain)
    mean_cached = sum(later_cached) / max(len(later_cached), 1)
    ratio = mean_plain / max(mean_cached, 1e-9)
    print(f"epoch after the first: {mean_plain:.2f} s without the cache, {mean_cached:.3f} s "
          f"with it: {ratio:.0f}x faster (target >= 10x: {'met' if ratio >= 10 else 'NOT met'})")
    print(f"first epoch: {plain[0]:.1f} s without, {cached[0]:.1f} s with the cache (computing "
          f"the features); CPU s: {plain_cpu:.0f} without, {cached_cpu:.0f} with")
    print(f"load average {load_before[0]:.1f} before, {load_mid[0]:.1f} between the runs, "
          f"{load_after[0]:.1f} after")


if __name__ == "__main__":
    main()

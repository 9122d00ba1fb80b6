"""Segmentation and detection on digit scenes: quality after a fixed wall time, data share.

Trains the shipped U-Net (segmentation) and grid-detector presets on digit scenes for
``--minutes`` each through the real engine, stops them at the deadline, and scores the last
weights on the test scenes (digit images never used in training): mIoU and pixel accuracy;
mAP@0.5, mAP@[.5:.95] and the 11-point AP. Also prints the scene generation rate and the share
of the wall time spent making and preparing data (generation + normalisation on the device).

Targets (issue 8, 2 CPU cores): mIoU ≥ 0.85 after 2 minutes; mAP@0.5 ≥ 0.90 and mAP ≥ 0.45.
Run: python benchmarks/bench_tasks.py --minutes 2 [--device auto|cpu|cuda] [--only seg|det]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import torch

from core.analysis.model_analysis import analyze_model
from core.build import build_model
from core.data.adapt import BatchPreparer
from core.data.datasets import load_dataset
from core.data.scenes import SceneOptions, make_scenes
from core.presets import load_preset
from core.tasks import task_for
from core.train.engine import evaluate, pick_device, train
from core.train.settings import EpochEnd, Failed, Finished, TrainingControl, TrainingSettings
from core.weights import load_weights

RUNS = {"seg": ("fcn_skips_digits", "digit-scenes:n=8000"),
        "det": ("grid_detector_digits", "digit-scenes:n=8000")}
SETTINGS = {"seg": TrainingSettings(lr=3e-3, batch_size=32, epochs=1000, schedule="none",
                                    snapshots=False),
            "det": TrainingSettings(lr=3e-3, batch_size=32, epochs=1000, schedule="none",
                                    snapshots=False)}


def scene_rate() -> float:
    options = SceneOptions()
    make_scenes(16, 0, options, 0)
    start = time.perf_counter()
    make_scenes(4000, 0, options, 1)
    return 4000 / (time.perf_counter() - start)


def bench(kind: str, minutes: float, device: str, preset: str | None = None) -> None:
    preset, dataset = preset or RUNS[kind][0], RUNS[kind][1]
    spec = load_preset(preset)
    started = time.perf_counter()
    data = load_dataset(dataset, spec.input_shape)
    making = time.perf_counter() - started
    settings = replace(SETTINGS[kind], device=device)
    control = TrainingControl()
    timer = threading.Timer(minutes * 60, control.stop)
    out = Path(tempfile.mkdtemp())
    wall = time.perf_counter()
    timer.start()
    epochs: list[EpochEnd] = []
    done: Finished | None = None
    for event in train(spec, data, settings, out, control):
        if isinstance(event, EpochEnd):
            epochs.append(event)
            print(f"  {kind} epoch {event.epoch}: val {event.val_acc:.3f} "
                  f"({event.samples_per_s:,.0f} scenes/s, {time.perf_counter() - wall:.0f} s)",
                  flush=True)
        elif isinstance(event, Failed):
            raise SystemExit(event.message)
        elif isinstance(event, Finished):
            done = event
    timer.cancel()
    trained = time.perf_counter() - wall
    assert done is not None
    # score the weights as they were at the deadline on the test scenes
    analysis = analyze_model(spec)
    dev = pick_device(device)
    model = build_model(spec, analysis).to(dev)
    load_weights(model, Path(done.checkpoint))
    task = task_for(spec.task)
    task.check_fits(analysis, data)
    loss = task.loss(spec, analysis, data)
    prepare = BatchPreparer(data, spec.input_shape)
    start = time.perf_counter()
    prepared = prepare(data.train.images, device=dev, fitted=True)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    preparing = time.perf_counter() - start
    del prepared
    _, metrics = evaluate(model, data.test, prepare, loss, dev, task, data)
    share = (making + preparing) / (making + trained)
    shown = {k: round(v, 3) for k, v in metrics.items() if not k.startswith(("iou_", "ap_"))}
    seen = sum(round(e.samples_per_s * e.seconds) for e in epochs)
    print(f"{kind}: {preset} on {dataset}, {len(epochs)} full epochs ({seen:,} scenes) in "
          f"{trained:.0f} s on {dev}: test {shown} (weights at the deadline); data "
          f"generation + preparation {making + preparing:.1f} s = {share:.1%} of the wall time",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--only", choices=["seg", "det"])
    parser.add_argument("--preset", help="train this preset instead of the default for --only")
    parser.add_argument("--weight-decay", type=float, help="instead of the settings' 1e-4")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's own; "
                        "on a machine shared with other jobs 1 can be several times faster)")
    args = parser.parse_args()
    if args.weight_decay is not None:
        for kind, settings in SETTINGS.items():
            SETTINGS[kind] = replace(settings, weight_decay=args.weight_decay)
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"digit scenes: {scene_rate():,.0f} scenes/s (64×64, 1–4 digits)", flush=True)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}", flush=True)
    for kind in ("seg", "det"):
        if args.only in (None, kind):
            bench(kind, args.minutes, args.device, args.preset)


if __name__ == "__main__":
    main()

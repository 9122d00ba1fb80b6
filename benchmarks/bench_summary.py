"""core.summary against torchinfo.summary on the same architectures, in one run, on one core.

The GUI re-analyses on every keystroke, so the target is under 20 ms for ResNet-34 and several
times faster than torchinfo (which builds the torch model and runs a forward pass).
Run: python benchmarks/bench_summary.py
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torchinfo
import torchvision

from core import analyze_model, summary
from core.presets import find_preset


def best_of(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median, min) seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    torch.set_num_threads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = []
    for key, factory in (("resnet34", torchvision.models.resnet34),
                         ("vgg16", torchvision.models.vgg16),
                         ("resnet18", torchvision.models.resnet18)):
        preset = find_preset(key)
        data = json.loads(preset.path.read_text(encoding="utf-8"))
        spec = preset.load()
        from_dict, _ = best_of(lambda data=data: summary(data), 50)
        from_spec, _ = best_of(lambda spec=spec: analyze_model(spec), 50)
        model = factory(weights=None)
        info, _ = best_of(lambda model=model: torchinfo.summary(
            model, input_size=(1, 3, 224, 224), verbose=0, device="cpu"), 5)
        rows.append((key, from_dict, from_spec, info))
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"torch {torch.__version__}, torchinfo {torchinfo.__version__}, 1 thread, 1 core")
    print(f"{'model':10} {'core.summary(dict)':>19} {'analyze_model(spec)':>20} "
          f"{'torchinfo.summary':>18} {'speed-up':>9}")
    for key, from_dict, from_spec, info in rows:
        print(f"{key:10} {from_dict * 1e3:16.2f} ms {from_spec * 1e3:17.2f} ms "
              f"{info * 1e3:15.1f} ms {info / from_dict:8.0f}×")


if __name__ == "__main__":
    main()

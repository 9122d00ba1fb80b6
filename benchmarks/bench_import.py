"""Importing torchvision models into the builder: trace, map, check and analyse.

Target (issue 10): ResNet-50 and EfficientNet-B0 under 2 s each. Side by side in the same run:
torch.fx's bare trace of the same module (the floor of any fx-based import) and torchvision
building the model for real (random initialisation on the CPU, what a user otherwise waits for).
"Cold" is a fresh process importing its first model, libraries included.
Run: python benchmarks/bench_import.py
"""

from __future__ import annotations

import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torchvision
from torch import fx

from core.analysis.model_analysis import analyze_model
from core.io.torchvision_models import build_on_meta, import_torchvision

MODELS = ("resnet50", "efficientnet_b0", "mobilenet_v3_large", "densenet121", "regnet_y_400mf")
ROOT = Path(__file__).resolve().parent.parent


def median_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold(name: str) -> float:
    code = ("import time; t = time.perf_counter(); "
            "from core.io.torchvision_models import import_torchvision; "
            "from core.analysis.model_analysis import analyze_model; "
            f"analyze_model(import_torchvision({name!r}).spec); "
            "print(time.perf_counter() - t)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    torch.set_num_threads(1)
    import_torchvision("resnet18")  # libraries loaded once before the warm figures
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"torch {torch.__version__}, torchvision {torchvision.__version__}, 1 torch thread")
    print("| model | layers | import + analysis (warm, median of 5) | cold process | "
          "bare fx trace | torchvision builds it (CPU) |")
    print("|---|--:|--:|--:|--:|--:|")
    for name in MODELS:
        spec = import_torchvision(name).spec
        warm = median_of(lambda n=name: analyze_model(import_torchvision(n).spec), 5)
        module = build_on_meta(name)
        trace = median_of(lambda m=module: fx.symbolic_trace(m), 5)
        build = median_of(lambda n=name: torchvision.models.get_model(n), 3)
        first = cold(name)
        print(f"| {name} | {len(spec.layers)} | {warm * 1000:.0f} ms | {first:.2f} s | "
              f"{trace * 1000:.0f} ms | {build * 1000:.0f} ms |", flush=True)


if __name__ == "__main__":
    main()

"""Loading a model file is linear in its layers: 100,000 unnamed layers against 10,000.

Unnamed layers get default names (relu1, relu2, …); the old search for a free name restarted
at 1 for every layer, so 10,000 lines took 27 s. Target: 100,000 layers in at most 5 s here,
and a time ratio near 10 (linear). Run: python benchmarks/bench_load.py
"""

from __future__ import annotations

import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from core.model.spec import FORMAT, load_model


def write_model(folder: Path, count: int) -> Path:
    path = folder / f"relu-{count}.json"
    layers = [{"type": "ReLU"} if i % 2 else {"type": "Identity"} for i in range(count)]
    path.write_text(json.dumps({"format": FORMAT, "name": "deep", "input": {"shape": [1, 8, 8]},
                                "layers": layers}), encoding="utf-8")
    return path


def timed(path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        spec = load_model(path)
        times.append(time.perf_counter() - start)
    assert spec.layers[-1].name.endswith(str(len(spec.layers) // 2))
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small = write_model(Path(tmp), 10_000)
        big = write_model(Path(tmp), 100_000)
        t_small = timed(small, 5)
        t_big = timed(big, 3)
    print(f"machine: {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}")
    print(f"load_model  10,000 unnamed layers: {t_small * 1000:8.1f} ms (median of 5)")
    print(f"load_model 100,000 unnamed layers: {t_big * 1000:8.1f} ms (median of 3)")
    print(f"ratio 100,000 / 10,000: {t_big / t_small:.1f} (linear: 10)")


if __name__ == "__main__":
    main()

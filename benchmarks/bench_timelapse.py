"""Time-lapse export speed: a 20-epoch digits run's filters as a GIF (and an MP4).

Target (issue 21): a 20-epoch time-lapse GIF of a digits run written in < 5 s. The run's 21
snapshots (start + 20 epochs) are made as the engine makes them (snapshots.take/save on the
digits_small model, its weights moved between epochs as training moves them), so the figure is
the export alone: reading the snapshots, drawing the frames, encoding, the atomic rename.
Printed beside it: reading the snapshots alone (the floor).
Run: python benchmarks/bench_timelapse.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import torch

    from core.build import build_model
    from core.inspect.timelapse import write_timelapse
    from core.presets import load_preset
    from core.train import snapshots

    spec = load_preset("digits_small")
    model = build_model(spec)
    probe = torch.rand(1, *spec.input_shape)
    run = Path(tempfile.mkdtemp())
    history = []
    for epoch in range(21):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.02)
        snapshots.save(run, epoch, snapshots.take(model, spec, probe))
        if epoch:
            history.append({"epoch": epoch, "val_acc": 0.5 + epoch / 50})
    print(f"snapshot files: {len(list((run / 'snapshots').iterdir()))}, "
          f"{sum(f.stat().st_size for f in (run / 'snapshots').iterdir()) / 1e3:.0f} kB")
    start = time.perf_counter()
    loaded = snapshots.load(run)
    read = time.perf_counter() - start
    print(f"reading the snapshots: {read * 1e3:.0f} ms")
    for layer in ("conv1", "conv3"):
        for suffix in (".gif", ".mp4"):
            start = time.perf_counter()
            frames = write_timelapse(snapshots.load(run), layer, run / f"lapse{suffix}", history,
                                     fps=4)
            took = time.perf_counter() - start
            size = (run / f"lapse{suffix}").stat().st_size / 1e3
            verdict = f"  (target < 5 s: {'met' if took < 5 else 'NOT met'})" \
                if suffix == ".gif" else ""
            print(f"{layer} {suffix}: {frames} frames, {size:.0f} kB, {took:.2f} s{verdict}")
    assert len(loaded) == 21


if __name__ == "__main__":
    main()

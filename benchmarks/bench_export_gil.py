"""The UI thread's waits for the GIL while a worker renders an export with matplotlib.

The Inspect tab's Export PNG… and the lessons' slides render matplotlib figures (Agg) on a
worker thread. The UI thread does not compute meanwhile, but every slot and paint it runs needs
the GIL: when the worker holds it and is preempted by another process (a loaded machine), the
UI thread sleeps until the worker runs again and lets go. This measures that wait as the GUI
tests' watchdog does (tests/app/ui_watchdog.py): a 1 ms precise timer on the UI thread, each gap
between ticks minus the UI thread's own run-queue wait over the gap (/proc schedstat), which is
what remains when the UI thread was ready but had no GIL.

Variants, in one process, one after another: first as a plain process collects garbage (any
thread, when a threshold is crossed; torch's objects not frozen), as the GUI tests did; then
as the app does (automatic collection off, collected on the UI thread: app.garbage; torch
frozen), with Python's default GIL switch interval (5 ms) and the app's
(app.main.SWITCH_INTERVAL_S), the worker at the app's lowered priority
(app.workers._lower_priority) as a real export runs, and not. Same renders in each: the default
model's first-layer activations and filters at 1920×1080, saved as PNG.

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_export_gil.py [--renders 6]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _run_queue_wait() -> float:
    path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
    try:
        with open(path) as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def measure(switch_s: float, renders: int, job: object, nice: bool = True,
            automatic_gc: bool = False) -> dict[str, float]:
    """Render ``renders`` times on a (lowered-priority) thread while the UI thread ticks;
    automatic collection off as in the app (app.garbage), or on as a plain process has it."""
    from PySide6.QtCore import QCoreApplication, Qt, QTimer

    from app.workers import _lower_priority

    sys.setswitchinterval(switch_s)
    gaps: list[float] = []
    last = [0.0, 0.0]
    durations: list[float] = []

    def tick() -> None:
        now, waited = time.perf_counter(), _run_queue_wait()
        if last[0]:
            gaps.append(max(0.0, (now - last[0]) - (waited - last[1]) - 0.001))
        last[0], last[1] = now, waited

    def work() -> None:
        if nice:
            _lower_priority()
        for _ in range(renders):
            started = time.perf_counter()
            job()  # type: ignore[operator]
            durations.append(time.perf_counter() - started)

    collections: list[float] = []
    started_gc = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if threading.current_thread() is threading.main_thread():
            return
        if phase == "start":
            started_gc[0] = time.perf_counter()
        elif started_gc[0]:
            collections.append(time.perf_counter() - started_gc[0])

    gc.callbacks.append(on_gc)
    if not automatic_gc:
        gc.disable()
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    timer.timeout.connect(tick)
    timer.start()
    thread = threading.Thread(target=work)
    thread.start()
    while thread.is_alive():
        QCoreApplication.processEvents()
        time.sleep(0.0005)  # the event loop's own idle wait, without a GIL held
    timer.stop()
    gc.callbacks.remove(on_gc)
    gc.enable()
    gaps.sort()
    return {"longest_ms": gaps[-1] * 1e3, "p99_ms": gaps[int(0.99 * (len(gaps) - 1))] * 1e3,
            "over_50": sum(g > 0.05 for g in gaps), "over_100": sum(g > 0.1 for g in gaps),
            "render_s": statistics.median(durations),
            "worker_gc_ms": max(collections, default=0.0) * 1e3}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--renders", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from app.main import SWITCH_INTERVAL_S
    from core.inspect import render
    from core.inspect.inspector import Inspector, image_for
    from core.presets import load_preset

    app = QApplication.instance() or QApplication([])  # noqa: F841
    inspector = Inspector(load_preset("digits_small"))
    layer = inspector.kernel_layers()[0]
    values = inspector.activation(layer, image_for(inspector, "digits:0"))
    grid = inspector.filters(layer)
    out = Path(tempfile.mkdtemp(prefix="export-gil-"))

    def job() -> None:
        render.save_png(render.activations_figure(values, "activations", ["note"], (1920, 1080)),
                        out / "a.png")
        render.save_png(render.filters_figure(grid, "filters", ["note"], (1920, 1080)),
                        out / "f.png")

    job()  # warm: fonts, colormaps
    print(f"load before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    def report(what: str, r: dict[str, float]) -> None:
        print(f"{what}: longest UI GIL wait {r['longest_ms']:.0f} ms, p99 {r['p99_ms']:.1f} ms,"
              f" gaps > 50 ms: {r['over_50']:.0f}, > 100 ms: {r['over_100']:.0f}; longest "
              f"collection on the worker {r['worker_gc_ms']:.0f} ms; render "
              f"{r['render_s']:.2f} s (load {os.getloadavg()[0]:.1f})")

    # a plain process (the GUI tests had it): any thread collects, torch's objects not frozen
    report("switch 5.0 ms, niced, automatic collection, nothing frozen",
           measure(0.005, args.renders, job, True, True))
    gc.collect()
    gc.freeze()  # what the app freezes once torch is loaded (app.workers.import_torch)
    variants = [(0.005, True), (SWITCH_INTERVAL_S, True), (0.005, False),
                (SWITCH_INTERVAL_S, False)] * args.rounds
    for switch, nice in variants:
        report(f"switch {switch * 1e3:.1f} ms, {'niced' if nice else 'not niced'}, "
               "collected on the UI thread only (the app)",
               measure(switch, args.renders, job, nice, False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

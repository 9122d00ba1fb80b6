"""UI-thread stalls while the heaviest inspection runs and while training.

A 1 ms precise QTimer ticks on the UI thread; a stall is the gap between two ticks beyond the
1 ms asked for (what a user sees as a frozen window). Target (issue 12): p99 < 16 ms (one frame
at 60 Hz) while occlusion runs on VGG-16 and while digits-small trains. Side by side in the
same run: the idle window (the machine's own noise), Grad-CAM on VGG-16 through the Inspect
tab's worker, and the same Grad-CAM called on the UI thread (what the tab did before it had
a worker: the window is frozen for the whole computation).

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui_stall.py [--seconds 90]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DUMP = open(os.environ["CONVSCOPE_STALL_DUMP"], "w") if os.environ.get(  # noqa: SIM115
    "CONVSCOPE_STALL_DUMP") else None


class StallMeter:
    """Gaps between ticks of a 1 ms timer on the UI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self.gaps: list[float] = []
        self._last = 0.0

    def _tick(self) -> None:
        if DUMP is not None:  # CONVSCOPE_STALL_DUMP=file: every thread's stack on a 1 s stall
            import faulthandler

            faulthandler.dump_traceback_later(1.0, file=DUMP)
        now = time.perf_counter()
        if self._last:
            self.gaps.append(max(0.0, now - self._last - 0.001))
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = 0.0
        self.timer.start()

    def stop(self) -> dict[str, float]:
        self.timer.stop()
        gaps = sorted(self.gaps) or [0.0]
        return {"ticks": len(gaps), "median_ms": statistics.median(gaps) * 1e3,
                "p99_ms": gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))] * 1e3,
                "max_ms": gaps[-1] * 1e3}


def run_until(app: object, done: Callable[[], bool], limit_s: float) -> float:
    """Run Qt's event loop (as the app's exec() does: it sleeps while nothing happens) until
    ``done()`` or ``limit_s``. A loop of processEvents() calls would spin the UI thread and
    compete for the GIL and the cores, which the app never does."""
    from PySide6.QtCore import QEventLoop, QTimer

    start = time.perf_counter()
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(10)
    check.timeout.connect(
        lambda: loop.quit() if done() or time.perf_counter() - start >= limit_s else None)
    check.start()
    if not done():
        loop.exec()
    check.stop()
    return time.perf_counter() - start


def report(name: str, figures: dict[str, float], seconds: float, extra: str = "") -> None:
    target = "  (p99 < 16 ms: " + ("met" if figures["p99_ms"] < 16 else "NOT met") + ")"
    print(f"{name:<52} {seconds:6.1f} s  ticks {figures['ticks']:>7.0f}  median "
          f"{figures['median_ms']:5.2f} ms  p99 {figures['p99_ms']:7.2f} ms  max "
          f"{figures['max_ms']:8.1f} ms{target}{extra}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0,
                        help="longest a scenario is measured (occlusion is then cancelled)")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.presets import load_preset

    app = QApplication.instance() or QApplication([])
    meter = StallMeter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"UI-thread stalls, 1 ms timer; {os.cpu_count()} CPUs, load average {load:.1f} at "
          "start; offscreen Qt")

    from app import warm_up

    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    warm_up.start()
    seconds = run_until(app, warm_up.is_ready, 120.0)
    print(f"warm-up (the libraries' first import, a marked busy moment): {seconds:.1f} s")
    meter.start()
    seconds = run_until(app, lambda: False, 3.0)
    report("idle window (digits-small)", meter.stop(), seconds)

    # -- VGG-16 in the Inspect tab -----------------------------------------------------------
    window.open_preset("vgg16")
    tab = window.inspect
    tab.input_kind.setCurrentIndex(1)  # a sample photo, resized to 224×224
    attributions = tab.view("Attributions")
    tab.views.setCurrentWidget(attributions)
    attributions.attr_method.setCurrentText("Grad-CAM")
    meter.start()
    window.tabs.setCurrentWidget(tab)  # builds VGG-16 and runs Grad-CAM, on the worker
    seconds = run_until(app, lambda: not tab.busy, args.seconds)
    report("VGG-16: open Inspect, build + Grad-CAM (worker)", meter.stop(), seconds,
           "" if not tab.busy else "  [cut off]")
    tab.cancel()
    run_until(app, lambda: not tab.queue.pool.activeThreadCount(), 600)

    meter.start()
    attributions.attr_method.setCurrentText("occlusion")
    seconds = run_until(app, lambda: not tab.busy, args.seconds)
    cut = tab.busy
    progress = f"{tab.progress.value()}/{tab.progress.maximum()} occluded images"
    report("VGG-16: occlusion (worker)", meter.stop(), seconds,
           f"  [cut off at {progress}, then cancelled]" if cut else "")
    tab.cancel()
    start = time.perf_counter()
    run_until(app, lambda: not tab.queue.pool.activeThreadCount(), 600)
    if cut:
        print(f"{'':<52} cancel took effect after {time.perf_counter() - start:.2f} s")

    built = tab.session.built(tab.model_key())
    inp = tab.session.input_for(built.inspector, tab.source())
    meter.start()
    from PySide6.QtCore import QTimer

    timings: list[float] = []

    def on_ui_thread() -> None:
        start = time.perf_counter()
        built.inspector.gradcam(inp)
        timings.append(time.perf_counter() - start)

    QTimer.singleShot(50, on_ui_thread)
    seconds = run_until(app, lambda: bool(timings), args.seconds)
    run_until(app, lambda: False, 0.2)
    figures = meter.stop()
    report("VGG-16: Grad-CAM on the UI thread (before)", figures, seconds,
           f"  [one stall of {figures['max_ms'] / 1e3:.1f} s: the window froze]")
    window.document.undo_stack.setClean()
    window.close()

    # -- training digits-small from the Train tab ----------------------------------------------
    trainer = MainWindow(load_preset("digits_small"))
    trainer.resize(1500, 950)
    trainer.show()
    trainer.training.out_dir = Path(tempfile.mkdtemp())
    trainer.training.form.epochs.setValue(args.epochs)
    trainer.tabs.setCurrentWidget(trainer.training)
    finished: list[object] = []
    trainer.training.run_finished.connect(finished.append)
    meter.start()
    trainer.training.start()
    seconds = run_until(app, lambda: bool(finished), 600)
    report(f"digits-small: training {args.epochs} epochs (worker)", meter.stop(), seconds)
    trainer.close()


if __name__ == "__main__":
    main()

"""UI-thread stalls while the diagram's thumbnails fill (issue 19: VGG-16 on a 224×224 photo,
the UI thread never blocks > 16 ms).

A 1 ms precise QTimer ticks on the UI thread (bench_ui_stall's meter); a stall is the gap
between two ticks beyond the 1 ms asked for. Side by side in one run: the idle VGG-16 window
(the machine's own noise); the Thumbnails toggle (build, forward pass and pictures on the
Inspect tab's worker, the pictures put into the scene a slice per event-loop turn); a second
fill with the model built (another photo); and the same pictures computed on the UI thread
(what the window would do without the worker: frozen for the whole computation).

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_thumbnails.py [--seconds 180]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ui_stall import StallMeter, report, run_until  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--preset", default="vgg16")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    from PySide6.QtWidgets import QApplication

    from app import warm_up
    from app.build.diagram_thumbnails import SLICE, DiagramThumbnails
    from app.main_window import MainWindow
    from core.presets import load_preset

    slices: list[float] = []  # the UI thread's own work per slice of pictures put in the scene
    add_slice = DiagramThumbnails._add_slice

    def timed_slice(self: DiagramThumbnails) -> None:
        start = time.perf_counter()
        add_slice(self)
        slices.append((time.perf_counter() - start) * 1e3)

    DiagramThumbnails._add_slice = timed_slice  # type: ignore[method-assign]
    app = QApplication.instance() or QApplication([])
    meter = StallMeter()
    load = os.getloadavg()
    print(f"UI-thread stalls while {args.preset} thumbnails fill; {os.cpu_count()} CPUs, load "
          f"average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min) at start; offscreen Qt")
    window = MainWindow(load_preset(args.preset))
    window.resize(1920, 1080)
    window.show()
    run_until(app, warm_up.is_ready, 300)
    tab, thumbnails = window.inspect, window.thumbnails
    tab.input_kind.setCurrentIndex(1)  # a sample photo, resized to 224×224
    tab.photo.setCurrentText("coffee")
    meter.start()
    seconds = run_until(app, lambda: False, 3.0)
    report(f"idle window ({args.preset})", meter.stop(), seconds)

    meter.start()
    thumbnails.button.click()  # builds the model, forward pass, pictures: on the worker
    seconds = run_until(app, lambda: not thumbnails.busy(), args.seconds)
    report("Thumbnails on: build + forward + pictures (worker)", meter.stop(), seconds,
           f"  [{len(thumbnails.items)} blocks]" + ("  [cut off]" if thumbnails.busy() else ""))

    meter.start()
    tab.photo.setCurrentText("astronaut")  # another input: the model stays built
    seconds = run_until(app, lambda: thumbnails.busy(), 5.0)
    seconds += run_until(app, lambda: not thumbnails.busy(), args.seconds)
    report("another photo: forward + pictures (worker)", meter.stop(), seconds,
           f"  [{len(thumbnails.items)} blocks]")

    print(f"{'':<52} putting the pictures in the scene: {len(slices)} slices of {SLICE}, "
          f"longest {max(slices, default=0):.1f} ms, median "
          f"{sorted(slices)[len(slices) // 2] if slices else 0:.1f} ms of UI-thread work")
    from core.inspect.thumbnails import model_pictures

    built = tab.session.built(tab.model_key())
    inp = tab.session.input_for(built.inspector, tab.source())
    timings: list[float] = []

    def on_ui_thread() -> None:
        start = time.perf_counter()
        model_pictures(built.inspector, inp)
        timings.append(time.perf_counter() - start)

    from PySide6.QtCore import QTimer

    meter.start()
    QTimer.singleShot(50, on_ui_thread)
    seconds = run_until(app, lambda: bool(timings), args.seconds)
    run_until(app, lambda: False, 0.2)
    figures = meter.stop()
    report("the same pictures on the UI thread (no worker)", figures, seconds,
           f"  [one stall of {figures['max_ms'] / 1e3:.2f} s]")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    tab.queue.shutdown()
    window.document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()

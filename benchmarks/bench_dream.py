"""DeepDream on VGG-16 at 224×224 with 3 octaves (random weights) from the Inspect tab: how
long the UI thread is ever blocked, and how soon Cancel stops the worker.

Targets (issue 21): the UI thread never blocks > 16 ms while the dream runs on the worker;
Cancel takes effect within 0.5 s. Side by side: the idle window (the machine's own noise), the
dream through the tab's worker, and Cancel pressed mid-dream (several times, at random points
of the forward and backward passes). A 1 ms precise QTimer measures the gaps (bench_ui_stall).

Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_dream.py [--steps 4] [--cancels 5]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4, help="steps per octave")
    parser.add_argument("--cancels", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_ui_stall import StallMeter, report, run_until
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    app = QApplication.instance() or QApplication([])
    meter = StallMeter()
    print(f"DeepDream on VGG-16, 224×224, 3 octaves × {args.steps} steps, random weights; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; offscreen")
    window = MainWindow()
    window.resize(1500, 950)
    window.show()
    meter.start()
    seconds = run_until(app, lambda: False, 3.0)
    report("idle window", meter.stop(), seconds)

    window.open_preset("vgg16")
    tab = window.inspect
    window.tabs.setCurrentWidget(tab)
    tab.input_kind.setCurrentIndex(1)  # a sample photo, resized to 224×224
    view = tab.view("Dream")
    tab.views.setCurrentWidget(view)
    run_until(app, lambda: not tab.busy, 600)
    view.layer.setCurrentText("relu4_2")
    view.octaves.setValue(3)
    view.steps.setValue(args.steps)
    meter.start()
    view.run_button.click()  # the first one builds VGG-16 on the worker too
    seconds = run_until(app, lambda: view.run_button.isEnabled(), 1200)
    report("VGG-16: build + dream (worker)", meter.stop(), seconds,
           f"  [{tab.message.text() or 'drawn'}]")
    meter.start()
    view.run_button.click()
    seconds = run_until(app, lambda: view.run_button.isEnabled(), 1200)
    report("VGG-16: dream, model built (worker)", meter.stop(), seconds,
           f"  [{tab.message.text() or 'drawn'}]")

    meter.start()
    seconds = run_until(app, lambda: False, 10.0)
    report("VGG-16 open, nothing running (the machine's noise)", meter.stop(), seconds)

    view.steps.setValue(500)
    delays: list[float] = []
    rng = random.Random(0)
    meter.start()
    for _ in range(args.cancels):
        view.run_button.click()
        worker = tab.queue.current("dream")
        run_until(app, lambda: False, 1.0 + rng.random() * 3.0)  # mid-forward or -backward
        start = time.perf_counter()
        view.cancel_button.click()
        run_until(app, lambda w=worker: w is None or w.is_done, 60)
        delays.append(time.perf_counter() - start)
    report(f"VGG-16: {args.cancels} dreams cancelled mid-way (worker)", meter.stop(),
           sum(delays))
    worst = max(delays)
    print(f"{'':<52} Cancel → worker stopped: mean {sum(delays) / len(delays):.3f} s, worst "
          f"{worst:.3f} s (target < 0.5 s: {'met' if worst < 0.5 else 'NOT met'})")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    window.document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()

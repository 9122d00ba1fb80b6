"""The Classroom's magnifier: what one step costs the UI thread with the lens and without it.

fc_local_conv's convolution (a 5×5 kernel on a 28×28 image) at 1920×1080 projector text, the
lens following each step. One step is the arrow key's work: the step computed, the grids set
and the step-through painted (``repaint``: at once, not when the loop gets to it). Measured side
by side in one run, alternating: the same window with the lens, and with the lens taken off
(disconnected from the map, hidden, asking the layout for no room), so the ratio is the lens's
share. Play at 20 positions a second leaves 50 ms per step.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_classroom_magnifier.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STEPS = 60
ROUNDS = 5


def main() -> None:
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from app.main_window import MainWindow

    MainWindow.available_screen = lambda self: QRect(0, 0, 1920, 1080)  # type: ignore[method-assign]
    window = MainWindow()
    window.resize(1920, 1080)
    window.show()
    window.apply_view_settings()
    window.set_font_size(0, 24)
    window.classroom.open_lesson("fc_local_conv")
    panel = window.classroom.panel
    view = panel.step_view

    def wait(condition: object, seconds: float = 120) -> None:
        end = time.perf_counter() + seconds
        while not condition() and time.perf_counter() < end:  # type: ignore[operator]
            app.processEvents()
            time.sleep(0.01)
        for _ in range(20):
            app.processEvents()

    wait(lambda: not view.loader.busy and view.session is not None)
    panel.steps.setCurrentRow(2)
    wait(lambda: not panel.timer.isActive() and not view.loader.busy
         and view.step_result is not None and view.step_result.layer == "conv")
    lens = view.magnifier

    def one_round() -> list[float]:
        view.go_to("conv", (0, 2, 0))
        app.processEvents()
        times = []
        for _ in range(STEPS):
            start = time.perf_counter()
            view.step_by(+1)
            view.repaint()
            times.append((time.perf_counter() - start) * 1000)
        return times

    with_lens: list[float] = []
    without: list[float] = []
    shown = 0
    for _ in range(ROUNDS):
        with_lens += one_round()
        shown += lens.isVisible()
        view.input_grid.changed.disconnect(lens.refit)
        lens.needed_size = lambda: (0, 0)  # type: ignore[method-assign]  # no room asked
        lens._hide()
        without += one_round()
        del lens.needed_size  # the method again
        view.input_grid.changed.connect(lens.refit)
        lens.refit()
    on, off = statistics.median(with_lens), statistics.median(without)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; lens shown in "
          f"{shown} of {ROUNDS} rounds; {ROUNDS}×{STEPS} steps each")
    print("| fc_local_conv · conv, projector text | median | 90th percentile | max |")
    print("|---|--:|--:|--:|")
    for name, times in (("step with the lens", with_lens), ("step without", without)):
        ordered = sorted(times)
        print(f"| {name} | {statistics.median(times):.1f} ms | "
              f"{ordered[int(len(ordered) * 0.9)]:.1f} ms | {ordered[-1]:.1f} ms |")
    print(f"| with / without | {on / off:.2f}× | | |")
    window.classroom.stop()
    window.close()


if __name__ == "__main__":
    main()

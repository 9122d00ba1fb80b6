"""What forgetting the hidden widgets' layout sizes adds to a text size change (issue 17).

After projector text and back, the hidden Inspect views' nested layouts kept their 24 pt sizes
and the Inspect page stayed 437 px wider than its view; app.style.forget_hidden_sizes now
invalidates them on every font change, on the UI thread. This measures View → Projector Text
then View → Normal Text (``set_font_size``, all the window does for it) on a window with every
Inspect view built, with the fix and with it switched off, alternating in one run, and the call
alone; prints the machine's load before and after.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_text_size_layouts.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pyqtgraph  # noqa: F401  (loaded first: the Inspect views are built here, not waited for)
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QWidget

import app.style
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE


def settle() -> None:
    for _ in range(10):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def round_trip(window: MainWindow) -> float:
    """Seconds for projector text and back to normal, each with its posted layout work."""
    start = time.perf_counter()
    window.set_font_size(0, 24)
    settle()
    window.set_font_size(0, BASE_POINT_SIZE)
    settle()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    qapp = QApplication.instance() or QApplication([])
    MainWindow.available_screen = lambda self: QRect(0, 0, 1366, 768)  # type: ignore[method-assign]
    window = MainWindow()
    window.resize(1366, 768)
    window.show()
    window.apply_view_settings()
    settle()
    window.tabs.setCurrentWidget(window.inspect)
    views = window.inspect.views
    for index in range(views.count()):
        views.build(index)
        views.setCurrentIndex(index)
        settle()
    views.setCurrentIndex(0)
    settle()
    widgets = len(window.findChildren(QWidget))
    print(f"{widgets} widgets, {os.cpu_count()} CPUs, load {load_before[0]:.1f} / "
          f"{load_before[1]:.1f} / {load_before[2]:.1f}")
    forget = app.style.forget_hidden_sizes
    with_fix: list[float] = []
    without: list[float] = []
    round_trip(window)  # warm: fonts and metrics at both sizes cached
    for _ in range(args.rounds):
        app.style.forget_hidden_sizes = forget
        with_fix.append(round_trip(window))
        app.style.forget_hidden_sizes = lambda root: None
        without.append(round_trip(window))
    app.style.forget_hidden_sizes = forget
    alone = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        forget(window)
        alone.append(time.perf_counter() - start)
    a, b = statistics.median(with_fix) * 1000, statistics.median(without) * 1000
    print(f"projector text and back, median of {args.rounds}: with {a:.0f} ms, "
          f"without {b:.0f} ms, with / without {a / b:.2f}x")
    print(f"forget_hidden_sizes(window) alone: median {statistics.median(alone) * 1000:.1f} ms")
    load_after = os.getloadavg()
    print(f"load after {load_after[0]:.1f} / {load_after[1]:.1f} / {load_after[2]:.1f}")
    window.close()
    del qapp


if __name__ == "__main__":
    main()

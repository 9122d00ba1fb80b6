"""Starting the window: paint first, import torch later (it takes seconds)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

SWITCH_INTERVAL_S = 0.001
"""Python's GIL switch interval in the app (its default is 5 ms). A worker rendering an
export or a slide with matplotlib, or loading data, holds the GIL between its switch checks;
the UI thread, woken for a paint, waits until the worker lets go — longer when another process
preempts the worker meanwhile. A shorter interval makes the worker let go sooner
(benchmarks/bench_export_gil.py)."""


def use_short_gil_switches() -> None:
    """The app's GIL switch interval (the GUI tests set it too, as the app runs)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def run_gui(args: argparse.Namespace) -> int:
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication

    from app.garbage import UiThreadCollector
    from app.main_window import MainWindow
    from app.workers import Closing

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    use_short_gil_switches()
    app.setApplicationName("ConvScope")
    app.setOrganizationName("ConvScope")
    # cyclic garbage is collected on the UI thread only (app.garbage: a worker thread's
    # collection of Qt wrappers deadlocked the window)
    collector = UiThreadCollector()
    collector.start()
    window = MainWindow()
    # the application ends when the window has closed for good, after its jobs ended (the
    # window hides at once on close and waits for them on a timer, never on the UI thread),
    # and then every other worker (the warm-up, a preview): no thread runs into the exit
    app.setQuitOnLastWindowClosed(False)
    ending = Closing(lambda: [QThreadPool.globalInstance()], every_worker=True)
    ending.ended.connect(app.quit)

    def window_closed() -> None:
        if ending.begin():
            app.quit()

    window.closed.connect(window_closed)
    window.place_on_screen()  # where it was closed, or most of the screen the first time
    window.apply_view_settings()
    model = getattr(args, "model_file", None)
    if model:
        window.open_file(Path(model), ask=False)
    window.show()
    window.unsaved_work.offer_recovery()
    code = app.exec()
    if ending.clean is None and (window.close() is False or ending.active):
        # the loop was ended by another way than closing the window (app.quit()): close it
        # now, and let the event loop run on until the jobs have ended
        app.exec()
    collector.stop()
    if window.closing.clean is False or ending.clean is False:
        # a job did not end within the cap (app.workers.Closing): an interpreter finalising
        # under a running Qt pool thread hangs or crashes in it, so this is the last resort
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code

"""Starting the window: paint first, import torch later (it takes seconds)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def run_gui(args: argparse.Namespace) -> int:
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("ConvScope")
    app.setOrganizationName("ConvScope")
    # Python's cyclic garbage collector runs on whichever thread allocates when a threshold is
    # crossed; on a worker thread it can free Qt wrappers whose C++ deletion must happen on
    # the UI thread, and shiboken's deferred deletion then deadlocked the window (seen while
    # classroom slides were written). pyqtgraph's GarbageCollector turns automatic collection
    # off and collects on a UI-thread timer instead (same thresholds, checked every second).
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)
    window = MainWindow()
    window.place_on_screen()  # where it was closed, or most of the screen the first time
    window.apply_view_settings()
    model = getattr(args, "model_file", None)
    if model:
        window.open_file(Path(model), ask=False)
    window.show()
    window.unsaved_work.offer_recovery()
    try:
        return app.exec()
    finally:
        collector.timer.stop()
        from app import warm_up

        warm_up.finish_before_exit()

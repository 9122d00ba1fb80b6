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
    window = MainWindow()
    window.apply_view_settings()
    model = getattr(args, "model_file", None)
    if model:
        window.open_file(Path(model), ask=False)
    window.show()
    window.offer_recovery()
    return app.exec()

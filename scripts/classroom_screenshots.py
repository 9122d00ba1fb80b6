"""Render the README's classroom screenshots (step-through, presentation mode) at 1920×1080.

QT_QPA_PLATFORM=offscreen python scripts/classroom_screenshots.py  → docs/class-*.png
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main() -> None:
    os.environ.setdefault("CONVSCOPE_HOME", tempfile.mkdtemp())
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
        # a 1920×1080 screen, so full screen (presentation mode) is exactly 1920×1080
        config = Path(tempfile.mkdtemp()) / "screen.json"
        config.write_text('{"screens": [{"name": "wall", "x": 0, "y": 0, "width": 1920, '
                          '"height": 1080, "logicalDpi": 96, "dpr": 1}]}', encoding="utf-8")
        os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    DOCS.mkdir(exist_ok=True)

    def settle(window: MainWindow) -> None:
        view = window.classroom.panel.step_view
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            app.processEvents()
            if not view.loader.busy and view.session is not None:
                break
            time.sleep(0.05)
        for _ in range(20):
            app.processEvents()

    def shot(window: MainWindow, name: str) -> None:
        settle(window)
        window.grab().save(str(DOCS / name))
        print("wrote", DOCS / name)

    window = MainWindow()
    window.apply_view_settings()
    window.resize(1920, 1080)
    window.show()
    window.classroom.open_lesson("rgb_minus_25")
    shot(window, "class-step-through.png")
    window.classroom.open_lesson("edge_6x6")
    settle(window)
    window.classroom.panel.steps.setCurrentRow(1)
    shot(window, "class-edge-misprint.png")
    # the user's own layer: stride 2, dilation 2, reflect padding, 2 groups on a sample digit
    from core.model.spec import model_from_dict

    window.document.load(model_from_dict({
        "format": "convscope.model/1", "name": "dilated", "input": {"shape": [2, 9, 9]},
        "layers": [{"name": "dilated", "type": "Conv2d", "out_channels": 4, "kernel_size": 3,
                    "stride": 2, "dilation": 2, "padding": 2, "padding_mode": "reflect",
                    "groups": 2}]}), None)
    window.classroom.panel.set_lesson(None)
    settle(window)
    window.classroom.panel.step_view.go_to("dilated", (3, 0, 1))
    shot(window, "class-dilation.png")
    window.classroom.open_lesson("fc_local_conv")
    settle(window)
    window.classroom.present.enter()
    window.classroom.panel.steps.setCurrentRow(2)
    settle(window)
    grid = window.classroom.panel.step_view.output_grid
    pointer = window.classroom.present.pointer  # offscreen has no mouse: place the ring
    pointer.timer.stop()
    pointer.spot = pointer.mapFromGlobal(grid.mapToGlobal(grid.rect().center()))
    pointer.update()
    shot(window, "class-present.png")
    window.classroom.present.leave()
    window.document.undo_stack.setClean()
    window.close()


if __name__ == "__main__":
    main()

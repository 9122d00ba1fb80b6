"""Render the diagram's screenshots into docs/: GoogLeNet, U-Net and ResNet-152 at 1920×1080,
normal and projector text, with and without thumbnails (issue 19).

docs/diagram-<model>-<text>[-thumbnails].png is the Build tab's diagram (the table shrunk, so
the diagram has the page); the thumbnails are computed on the Inspect tab's worker for the
sample photo "coffee" with random weights. Run with QT_QPA_PLATFORM=offscreen (or under
Xvfb): python scripts/screenshots_diagram.py [model ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT))
MODELS = ("googlenet", "unet_small", "resnet152")


def spec_of(name: str) -> object:
    from core.presets import list_presets, load_preset

    if name in {preset.key for preset in list_presets()}:
        return load_preset(name)
    from core.io.torchvision_models import import_torchvision

    return import_torchvision(name).spec


def wait(app: object, done: object, limit: float = 600.0) -> None:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    start = time.perf_counter()
    while not done() and time.perf_counter() - start < limit:  # type: ignore[operator]
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    for _ in range(10):
        QApplication.processEvents()


def main(models: tuple[str, ...]) -> list[Path]:
    from scripts.screenshots import use_full_hd_screen

    use_full_hd_screen()
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    from PySide6.QtWidgets import QApplication

    from app import warm_up
    from app.main_window import MainWindow
    from app.style import BASE_POINT_SIZE

    app = QApplication.instance() or QApplication([])
    written = []
    for name in models:
        spec = spec_of(name)
        for text, points in (("normal", BASE_POINT_SIZE), ("projector", 24)):
            for thumbs in (False, True):
                window = MainWindow(spec)  # type: ignore[arg-type]
                window.resize(1920, 1080)
                window.show()
                wait(app, warm_up.is_ready)
                window.set_font_size(0, points)
                window.diagram.set_direction("down" if name == "resnet152" else "right")
                splitter = window.diagram_pane.parentWidget()
                splitter.setSizes([120, 2000])  # type: ignore[attr-defined]
                wait(app, lambda: True)
                window.inspect.input_kind.setCurrentIndex(1)
                window.inspect.photo.setCurrentText("coffee")
                if thumbs:
                    window.thumbnails.set_enabled(True)
                    wait(app, lambda w=window: not w.thumbnails.busy())
                if name != "resnet152":
                    window.diagram.fit()
                wait(app, lambda: True)
                path = DOCS / f"diagram-{name}-{text}{'-thumbnails' if thumbs else ''}.png"
                window.grab().save(str(path))
                print("wrote", path, window.thumbnails.message)
                written.append(path)
                window.inspect.queue.shutdown()
                window.document.undo_stack.setClean()
                window.close()
                window.deleteLater()
                wait(app, lambda: True)
    return written


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or MODELS)

"""Render the README's screenshots of the main window into docs/.

Run under Xvfb for a real window (xvfb-run python scripts/screenshots.py) or with
QT_QPA_PLATFORM=offscreen; both paint the same widgets.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def use_full_hd_screen() -> None:
    """Offscreen Qt has an 800×800 screen; give it a 1920×1080 one (before QApplication), so the
    window is laid out as on a classroom's projector."""
    if os.environ.get("QT_QPA_PLATFORM", "offscreen") != "offscreen":
        return
    config = Path(tempfile.mkdtemp()) / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "full-hd", "x": 0, "y": 0, "width": 1920, "height": 1080,
        "logicalDpi": 96, "logicalDpiX": 96, "logicalDpiY": 96}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"


def wait_for_inspect(window: Any) -> None:
    """Let the window's Inspect jobs finish and the results paint (screenshot scripts)."""
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert app is not None
    for _ in range(3):
        app.processEvents()
    while window.inspect.busy:
        app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
    for _ in range(10):
        app.processEvents()
        time.sleep(0.01)


def grab_to(window: Any, path: Path, readme: Path | None = None) -> None:
    """Once the Inspect jobs are done: the window as PNG at ``path`` (and ``readme``)."""
    wait_for_inspect(window)
    for target in filter(None, (path, readme)):
        window.grab().save(str(target))
        print("wrote", target)


def layout_shots(names: tuple[str, ...] = ("build", "train", "inspect", "classroom", "label")
                 ) -> list[Path]:
    """Every tab at 1920×1080 in normal and projector text (docs/layout-<tab>-<text>.png): the
    layouts a classroom sees, to look at after any change to the window."""
    os.environ.setdefault("CONVSCOPE_HOME", tempfile.mkdtemp())
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from app.style import BASE_POINT_SIZE

    app = QApplication.instance() or QApplication([])
    DOCS.mkdir(exist_ok=True)
    written = []
    for text, size in (("normal", BASE_POINT_SIZE), ("projector", 24)):
        window = MainWindow()
        window.resize(1920, 1080)
        window.show()
        window.set_font_size(0, size)
        for _ in range(10):
            app.processEvents()
        for name in names:
            window.tabs.setCurrentWidget({"build": window.tabs.widget(0), "train": window.training,
                                          "inspect": window.inspect,
                                          "classroom": window.classroom.panel,
                                          "label": window.label}[name])
            for _ in range(10):
                app.processEvents()
            path = DOCS / f"layout-{name}-{text}.png"
            window.grab().save(str(path))
            written.append(path)
            print("wrote", path)
        window.set_font_size(0, BASE_POINT_SIZE)
        window.close()
    return written


def main() -> None:
    use_full_hd_screen()
    layout_shots()
    os.environ.setdefault("CONVSCOPE_HOME", tempfile.mkdtemp())
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.presets import load_preset

    app = QApplication.instance() or QApplication([])
    DOCS.mkdir(exist_ok=True)

    def shot(window: MainWindow, name: str) -> None:
        window.show()
        for _ in range(10):
            app.processEvents()
        window.grab().save(str(DOCS / name))
        print("wrote", DOCS / name)

    window = MainWindow()
    window.apply_view_settings()
    window.resize(1500, 900)
    window.document.select("conv2")
    shot(window, "main-window.png")

    window.document.select("conv3")
    window.document.set_param("conv3", "kernel_size", 7)
    shot(window, "invalid-layer.png")
    window.document.undo_stack.setClean()
    window.close()

    resnet = MainWindow(load_preset("resnet18"))
    resnet.apply_view_settings()
    resnet.resize(1500, 900)
    resnet.document.select("layer2_0_downsample")
    shot(resnet, "resnet-diagram.png")
    resnet.close()

    # train the default model, then look inside it
    from PySide6.QtCore import QEventLoop

    trained = MainWindow()
    trained.apply_view_settings()
    trained.resize(1500, 900)
    trained.training.out_dir = Path(tempfile.mkdtemp())
    trained.tabs.setCurrentWidget(trained.training)
    shot(trained, "training-start.png")
    loop = QEventLoop()
    trained.training.run_finished.connect(loop.quit)
    trained.training.start()
    loop.exec()
    shot(trained, "training.png")
    def idle(window: MainWindow) -> None:
        """Inspection computes on a worker: wait until the views have drawn."""
        app.processEvents()
        while window.inspect.busy:
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    trained.tabs.setCurrentWidget(trained.inspect)
    inspect = trained.inspect
    inspect.digit_index.setValue(11)
    for index, name in ((0, "inspect-filters.png"), (1, "inspect-activations.png"),
                        (3, "inspect-gradcam.png")):
        inspect.views.setCurrentIndex(index)
        idle(trained)
        if index == 1:
            acts = inspect.view("Activations")
            acts.act_layer.setCurrentText("conv2")
            idle(trained)
            top, left = acts._act_mosaic.cells[3]
            acts._act_clicked(top, left)
            acts._big_clicked(4, 5)
        shot(trained, name)
    trained.close()

    vgg = MainWindow(load_preset("vgg16"))
    vgg.apply_view_settings()
    vgg.resize(1500, 900)
    vgg.tabs.setCurrentWidget(vgg.inspect)
    vgg.inspect.input_kind.setCurrentIndex(1)
    vgg.inspect.views.setCurrentIndex(1)
    vgg.inspect.view("Activations").act_layer.setCurrentText("conv1_2")
    idle(vgg)
    shot(vgg, "inspect-vgg16.png")
    vgg.close()


if __name__ == "__main__":
    main()

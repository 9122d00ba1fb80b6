"""Render the README's screenshots of the main window into docs/.

Run under Xvfb for a real window (xvfb-run python scripts/screenshots.py) or with
QT_QPA_PLATFORM=offscreen; both paint the same widgets.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def main() -> None:
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
                        (3, "inspect-gradcam.png"), (5, "inspect-formation.png")):
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

"""Inspect-view speed: the activation grid of a 64-channel layer in the GUI, on VGG-16.

Target (inspect issue): drawing the grid under 100 ms. Printed beside it, in the same run: the
forward pass that produces the maps (the model's cost, not the view's) and pyqtgraph drawing one
single image of the same total size (the floor for any grid view).
The filter live-update cost during training is measured by bench_training.py.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_inspect.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.presets import load_preset

    app = QApplication.instance() or QApplication([])
    window = MainWindow(load_preset("vgg16"))
    window.resize(1500, 950)
    window.show()
    window.tabs.setCurrentWidget(window.inspect)
    tab = window.inspect
    tab.views.setCurrentIndex(1)
    tab.input_kind.setCurrentIndex(1)  # a 512×512 sample photo, resized to 224×224
    panel = tab.view("Activations")
    panel.act_layer.setCurrentText("conv1_1")
    while tab.busy:  # the tab computes on its worker; wait for it to draw
        app.processEvents()
        time.sleep(0.01)
    built = tab.session.built(tab.model_key())
    inspector = built.inspector
    inp = tab.session.input_for(inspector, tab.source())
    forward = []
    for _ in range(3):
        start = time.perf_counter()
        inspector.activations(inp)
        forward.append(time.perf_counter() - start)
    values = inspector.activation("conv1_1", inp)
    assert values.shape == (64, 224, 224)
    from core.inspect.mosaic import tile

    draw, single = [], []
    for _ in range(10):
        start = time.perf_counter()
        mosaic = tile(values)
        panel.act_pane.show_map(mosaic.image)
        panel.act_big.show_map(values[0])
        panel.act_pane.repaint()
        panel.act_big.repaint()
        draw.append(time.perf_counter() - start)
        start = time.perf_counter()
        panel.act_pane.show_map(mosaic.image.copy())
        panel.act_pane.repaint()
        single.append(time.perf_counter() - start)
    window.close()
    print("VGG-16, layer conv1_1 (64 maps of 224×224), astronaut photo; offscreen Qt")
    print(f"  grid drawn (tile + 2 images + repaint): median {statistics.median(draw) * 1e3:.1f}"
          f" ms, max {max(draw) * 1e3:.1f} ms")
    print(f"  one image of the same size, repaint only: median "
          f"{statistics.median(single) * 1e3:.1f} ms")
    print(f"  forward pass producing all layers' maps: median "
          f"{statistics.median(forward) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()

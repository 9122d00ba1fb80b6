"""The builder window's speed: edit-to-repaint on ResNet-34, and start-up to first paint.

Targets (issue 3): under 50 ms from an edit in the property editor to repainted totals on the
ResNet-34 preset; start-up under 3 s. Each figure is printed beside its reference measured in the
same run: the bare analysis for edits, an empty PySide6 window for start-up.
Run: QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FIRST_PAINT = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication([])
if sys.argv[1] == "convscope":
    from app.main_window import MainWindow
    w = MainWindow()
    w.apply_view_settings()
else:
    w = QMainWindow(); w.setCentralWidget(QLabel("empty"))
w.show()
w.repaint()
print("PAINTED", flush=True)
"""


def first_paint(kind: str) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
           "CONVSCOPE_HOME": tempfile.mkdtemp(), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", FIRST_PAINT, kind], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("PAINTED"):
            elapsed = time.perf_counter() - start
            break
    proc.wait()
    return elapsed


def edit_latency() -> tuple[list[float], list[float]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["CONVSCOPE_HOME"] = tempfile.mkdtemp()
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from app.main_window import MainWindow
    from core.analysis.model_analysis import analyze_model
    from core.presets import load_preset

    app = QApplication.instance() or QApplication([])
    window = MainWindow(load_preset("resnet34"))
    window.resize(1500, 900)
    window.show()
    window.document.select("layer3_2_conv1")
    for _ in range(5):
        app.processEvents()
    box = window.editor.fields["out_channels"].widget  # type: ignore[union-attr]
    gui, bare = [], []
    for i in range(60):
        value = 256 + (i % 2) * 8
        start = time.perf_counter()
        box.setValue(value)  # the property editor's spin box: edit → analysis → views
        window.repaint()  # synchronous paint of the whole window, totals included
        gui.append(time.perf_counter() - start)
        assert f"{value}×14×14" in window.table.table_model.index(
            window.document.spec.index("layer3_2_conv1"), 4).data()
        start = time.perf_counter()
        analyze_model(window.document.spec)
        bare.append(time.perf_counter() - start)
        app.processEvents()
    window.document.undo_stack.setClean()
    window.close()
    return gui, bare


def main() -> None:
    convscope = [first_paint("convscope") for _ in range(3)]
    empty = [first_paint("empty") for _ in range(3)]
    gui, bare = edit_latency()
    print("start-up to first paint (median of 3 fresh processes)")
    print(f"  ConvScope main window (digits preset): {statistics.median(convscope):.2f} s")
    print(f"  empty PySide6 window:                  {statistics.median(empty):.2f} s")
    print("edit in the property editor → repainted window, ResNet-34 preset (60 edits)")
    print(f"  median {statistics.median(gui) * 1e3:.1f} ms, p95 "
          f"{sorted(gui)[int(0.95 * len(gui))] * 1e3:.1f} ms, max {max(gui) * 1e3:.1f} ms")
    print(f"  of which the analysis alone: median {statistics.median(bare) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()

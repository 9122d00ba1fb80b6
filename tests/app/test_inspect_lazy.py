"""The Inspect tab builds each view when it is first shown, and its plots import pyqtgraph then
(or after the window's first paint, on the warm-up's worker), not at start-up."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from tests.app.waits import CEILING_MS

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.main_window import MainWindow
window = MainWindow()
window.apply_view_settings()
window.show()
window.repaint()
seen = {"image_pane": "app.image_pane" in sys.modules, "pyqtgraph": "pyqtgraph" in sys.modules,
        "view_modules": sorted(m for m in sys.modules if m.startswith("app.inspect.")
                               and m.rsplit(".", 1)[1] in ("filters", "activations", "masks",
                               "boxes", "predictions", "attributions", "formation",
                               "maximization")),
        "built": len(window.inspect.view_list)}
window.tabs.setCurrentWidget(window.inspect)  # pyqtgraph may still be loading: it waits
from app import warm_up
for _ in range(3000):
    app.processEvents()
    if warm_up.is_ready() and window.inspect.view_list:
        break
    QThreadPool.globalInstance().waitForDone(10)
seen["built_after_show"] = [v.title for v in window.inspect.view_list]
QThreadPool.globalInstance().waitForDone(120_000)
print("SEEN", seen)
"""


def _child(tmp_path: Path) -> dict[str, object]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CONVSCOPE_HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    seen = ast.literal_eval(result.stdout.split("SEEN", 1)[1].strip())
    assert isinstance(seen, dict)
    return seen


def test_start_up_builds_no_inspect_view_and_imports_no_image_pane(tmp_path: Path) -> None:
    seen = _child(tmp_path)
    assert seen["built"] == 0  # 8 views, 16 image panes and 26 plots were built here
    assert seen["image_pane"] is False and seen["view_modules"] == []
    assert seen["built_after_show"] == ["Filters"]  # shown: the visible view only


def test_start_up_imports_no_pyqtgraph_before_first_paint(tmp_path: Path) -> None:
    assert _child(tmp_path)["pyqtgraph"] is False


def test_each_view_is_built_when_first_shown_and_works(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    tab = window.inspect
    assert tab.view_list == [] and not tab.views.is_built(0)
    window.document.set_param("conv2", "out_channels", 24)  # an edit while nothing is built
    window.tabs.setCurrentWidget(tab)
    assert [v.title for v in tab.view_list] == ["Filters"]
    qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    filters = tab.view("Filters")
    assert filters.filter_pane.data is not None and tab.message.text() == ""
    titles = [tab.views.tabText(i) for i in range(tab.views.count())]
    tab.views.setCurrentIndex(titles.index("Activations"))
    assert [v.title for v in tab.view_list] == ["Filters", "Activations"]
    qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    activations = tab.view("Activations")
    assert activations.act_pane.data is not None
    # built on first show, it starts from the model as it is now (the edit above included)
    assert activations.act_layer.findText("conv2") >= 0
    assert tab.views.widget(titles.index("Activations")) is activations
    assert tab.views.indexOf(activations) == titles.index("Activations")
    window.tabs.setCurrentIndex(0)
    window.document.rename_layer("conv2", "conv_b")  # a built view follows later edits
    window.tabs.setCurrentWidget(tab)
    assert activations.act_layer.findText("conv_b") >= 0
    qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    tab.stop_workers()

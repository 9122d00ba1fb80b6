"""The Train tab's curves make their pyqtgraph plots when first shown, never before the first
paint; shown while the warm-up still loads pyqtgraph, they say so and are made once it has."""

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
import sys, time
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.main_window import MainWindow
from app import warm_up
window = MainWindow()
window.apply_view_settings()
window.show()
window.repaint()
curves = window.training.curves
seen = {"pyqtgraph at first paint": "pyqtgraph" in sys.modules, "built": curves.built}
start = time.perf_counter()
window.tabs.setCurrentWidget(window.training)  # before the warm-up has loaded pyqtgraph
app.processEvents()
seen["waiting shown"] = curves.waiting.isVisible()
seen["built while loading"] = curves.built
for _ in range(30000):
    app.processEvents()
    if warm_up.is_ready() and curves.built:
        break
    QThreadPool.globalInstance().waitForDone(10)
seen["built once loaded"] = curves.built and not curves.waiting.isVisible()
seen["titles"] = curves.loss_plot.titleLabel.text
window.close()
while window.closing.clean is None:
    app.processEvents()
    QThreadPool.globalInstance().waitForDone(10)
print("SEEN", seen)
"""


def test_the_curves_wait_for_the_warm_up_and_are_made_once_it_has(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CONVSCOPE_HOME": str(tmp_path),
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                            env=env, cwd=ROOT, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    seen = ast.literal_eval(result.stdout.split("SEEN", 1)[1].strip())
    assert seen["pyqtgraph at first paint"] is False and seen["built"] is False
    assert seen["waiting shown"] is True and seen["built while loading"] is False, seen
    assert seen["built once loaded"] is True and seen["titles"] == "Loss", seen


def test_points_titles_range_and_text_size_given_before_the_plots_exist_are_kept(
        qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    curves = window.training.curves
    assert not curves.built  # a hidden tab makes no plots
    curves.name_metric("mIoU", "pixel accuracy")
    curves.fix_epochs(7)
    curves.apply_font(20)
    curves.append("val_acc", 1, 0.5, refresh=False)
    window.show()
    window.tabs.setCurrentWidget(window.training)  # pyqtgraph is loaded here: made at once
    qtbot.waitUntil(lambda: curves.built, timeout=CEILING_MS)
    assert "mIoU" in curves.acc_plot.titleLabel.text
    assert "20pt" in curves.acc_plot.titleLabel.text or \
        curves.acc_plot.titleLabel.opts.get("size") == "20pt"
    assert curves.loss_plot.getViewBox().autoRangeEnabled()[0] is False
    assert list(curves.lines["val_acc"].getData()[1]) == [0.5]

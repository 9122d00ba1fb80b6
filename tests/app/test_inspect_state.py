"""State resets: Inspect on model A, then model B of another task; every readout, plot title,
axis range and input source on the tab belongs to B (issue 17, item 6)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.tasks.detection import DetectionTask
from core.tasks.segmentation import SegmentationTask

SCENES = "digit-scenes:n=48"  # the tasks' bundled scenes, small (the 3,000 take ~10 s)


@pytest.fixture(autouse=True)
def small_scenes(monkeypatch: pytest.MonkeyPatch) -> None:
    for task in (SegmentationTask, DetectionTask):
        monkeypatch.setattr(task, "default_dataset", SCENES)


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=120_000)


def show(qtbot: QtBot, window: MainWindow, title: str) -> Any:
    view = window.inspect.view(title)
    window.inspect.views.setCurrentWidget(view)
    idle(qtbot, window)
    return view


def small(pane_or_plot: Any) -> bool:
    """An emptied plot's view range: (0, 1) on its narrower axis (a locked aspect widens the
    other), not the last picture's pixels or curve's values."""
    from app.image_pane import ImagePane

    plot = pane_or_plot.plot if isinstance(pane_or_plot, ImagePane) else pane_or_plot
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    return min(x1 - x0, y1 - y0) <= 1.2 and x0 <= 0.5 <= x1 and y0 <= 0.5 <= y1


def empty_panes(view: Any) -> list[Any]:
    from app.image_pane import ImagePane

    return [p for p in view.findChildren(ImagePane) if p.data is None]


def titles(tab: Any) -> list[str]:
    return [tab.views.tabText(i) for i in range(tab.views.count())]


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    return w


def test_a_trained_classifier_then_a_segmentation_run(
        qtbot: QtBot, window: MainWindow, trained_run: Callable[[str], Path]) -> None:
    tab = window.inspect
    assert window.open_run(trained_run("digits_small"))
    window.tabs.setCurrentWidget(tab)
    for title in titles(tab):  # A: every view once, with what it shows
        show(qtbot, window, title)
    assert tab.input_kind.itemText(0) == "digits test image"
    acts = show(qtbot, window, "Activations")
    acts.act_layer.setCurrentText("fc")  # one value per class: a bar chart with class ticks
    idle(qtbot, window)
    assert acts.act_bars.getPlotItem().titleLabel.text.startswith("fc: 10 outputs")
    predictions = show(qtbot, window, "Predictions")
    predictions.confusion_button.click()
    idle(qtbot, window)
    assert predictions.confusion.rowCount() == 10 and predictions.top_k.rowCount() == 5
    assert "digits" in predictions.dataset_label.text()
    show(qtbot, window, "Filters")

    assert window.open_run(trained_run("fcn8s_digits"))  # B: segmentation, 64×64 scenes
    # every view, shown or not, belongs to B before anything of B is computed
    assert tab.input_note.text() == ""  # not A's "digits test image 0 (label 0)"
    assert tab.input_kind.itemText(0) == f"{SCENES} test image"  # scenes, not digits
    assert tab.source() == f"run:{SCENES}:test:0"
    assert acts.act_bars.getPlotItem().titleLabel.text == ""
    assert acts.act_bars.getAxis("bottom")._tickLevels is None  # no class names
    assert small(acts.act_bars) and all(small(p) for p in empty_panes(acts))
    assert predictions.confusion.rowCount() == 0 and predictions.top_k.rowCount() == 0
    assert SCENES in predictions.dataset_label.text()
    for view in tab.view_list:
        assert all(small(p) for p in empty_panes(view)), view.title
    idle(qtbot, window)

    masks = show(qtbot, window, "Masks")  # B's input: a test scene with its ground truth
    assert tab.message.text() == ""
    assert tab.input_note.text().startswith(f"{SCENES} test image 0")
    assert masks.panes["ground truth"].data is not None
    assert "mIoU of this image" in masks.iou.text()
    masks.score_button.click()
    idle(qtbot, window)
    masks.ranking.setCurrentRow(3)
    scene = masks.ranking.currentItem().text().split(":")[0]  # "scene N"
    # the input line names what the view shows (it said "test image 0" beside scene 537)
    assert f"{SCENES} test {scene}" in tab.input_note.text()
    assert masks.panes["input"].toolTip() == f"input: test {scene} (from the list)"
    tab.stop_workers()


def test_a_scored_detector_then_a_classifier(
        qtbot: QtBot, window: MainWindow, trained_run: Callable[[str], Path]) -> None:
    tab = window.inspect
    assert window.open_run(trained_run("grid_detector_digits"))
    window.tabs.setCurrentWidget(tab)
    boxes = show(qtbot, window, "Boxes")
    assert tab.input_kind.itemText(0) == f"{SCENES} test image"
    assert boxes._current is not None and boxes._current["truth"] is not None  # truth white
    boxes.score_button.click()
    idle(qtbot, window)
    boxes.ranking.setCurrentRow(0)
    idle(qtbot, window)
    scene = boxes.ranking.currentItem().text().split(":")[0]
    assert f"{SCENES} test {scene}" in tab.input_note.text()
    assert boxes.picture.toolTip().startswith(f"test {scene} (from the list)")
    boxes.curves.setRange(xRange=(0.3, 0.6), yRange=(0.4, 0.5))  # a user zoomed in
    show(qtbot, window, "Filters")

    assert window.open_run(trained_run("digits_small"))  # B: a classifier on 8×8 digits
    assert tab.input_kind.itemText(0) == "digits test image"
    assert tab.source() == "digits:0" and tab.input_note.text() == ""
    assert not boxes.curves.getPlotItem().listDataItems()
    (x0, x1), (y0, y1) = boxes.curves.getViewBox().viewRange()
    assert (x0, x1) == pytest.approx((0, 1), abs=0.01)
    assert (y0, y1) == pytest.approx((0, 1.02), abs=0.01)
    assert boxes.picture.toolTip() == "predicted boxes coloured (class score), truth white"
    assert boxes.ranking.count() == 0 and boxes.readout.text() == ""
    assert all(small(p) for p in empty_panes(boxes))
    idle(qtbot, window)
    predictions = show(qtbot, window, "Predictions")
    assert "digits" in predictions.dataset_label.text() and predictions.top_k.rowCount() == 5
    assert tab.input_note.text().startswith("digits test image 0")
    tab.stop_workers()

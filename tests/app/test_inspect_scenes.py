"""The Masks and Boxes views: computed on the worker, sliders redraw from the cached output,
the test scenes ranked worst first, PNG export."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.image_pane import ImagePane
from app.main_window import MainWindow
from core.data.datasets import load_dataset
from core.presets import load_preset
from core.train.checkpoint import open_run
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings
from tests.app.waits import CEILING_MS

DATASET = "digit-scenes:n=32"


def trained(preset: str, out: Path) -> Path:
    spec = load_preset(preset)
    settings = TrainingSettings(epochs=1, batch_size=16, device="cpu", snapshots=False)
    done = list(train(spec, load_dataset(DATASET, spec.input_shape), settings, out))[-1]
    assert isinstance(done, Finished)
    return Path(done.run_dir)


def open_in_inspect(qtbot: QtBot, preset: str, out: Path) -> MainWindow:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    run = open_run(trained(preset, out))
    window.document.load(run.spec, None, run.weights, run.run_dir)
    window.tabs.setCurrentWidget(window.inspect)
    tab = window.inspect
    tab.input_kind.setCurrentText("run's test image")
    return window


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=120_000)


def drawn(pane: ImagePane) -> bool:
    """The pane really draws its picture: the plot is still in the pane (a reset that called
    GraphicsLayoutWidget.clear removed it and left the pane blank) and pixels vary."""
    if pane.image.scene() is not pane.scene() or pane.image.image is None:
        return False
    picture = pane.grab().toImage()
    colours = {picture.pixel(x, y) for x in range(0, picture.width(), 4)
               for y in range(0, picture.height(), 4)}
    return len(colours) > 3


def test_masks_view_shows_prediction_truth_and_ranks_scenes(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = open_in_inspect(qtbot, "fcn8s_digits", tmp_path)
    tab = window.inspect
    view = tab.view("Masks")
    tab.views.setCurrentWidget(view)
    idle(qtbot, window)
    assert view.panes["prediction"].data is not None
    assert view.panes["ground truth"].data is not None  # the run's own test scene
    assert all(drawn(pane) for pane in view.panes.values())  # after the input's reset too
    assert "mIoU of this image" in view.iou.text() and "■" in view.legend.text()
    view.opacity.setValue(20)
    assert view.panes["overlay"].overlay.opacity() == pytest.approx(0.2)
    view.score_button.click()
    idle(qtbot, window)
    assert view.ranking.count() == 64  # the run's own test scenes (n=32 → 64)
    ious = [float(view.ranking.item(i).text().rsplit(" ", 1)[1]) for i in range(64)]
    assert ious == sorted(ious)  # worst first
    worst = view.ranking.item(0).text().split(":")[0]  # "scene N", shown, and the pane says so
    assert view.panes["input"].plot.titleLabel.text.startswith(f"input: test {worst} ")
    assert drawn(view.panes["prediction"])
    out = tmp_path / "masks.png"
    view.export_to(str(out))
    idle(qtbot, window)
    assert out.stat().st_size > 1000
    tab.stop_workers()


def test_boxes_view_sliders_redraw_and_scoring_lists_misses(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = open_in_inspect(qtbot, "grid_detector_digits", tmp_path)
    tab = window.inspect
    view = tab.view("Boxes")
    tab.views.setCurrentWidget(view)
    idle(qtbot, window)
    assert view.picture.data is not None and view.heat.data is not None
    assert view.heat.data.shape == (8, 8)
    assert drawn(view.picture) and drawn(view.heat)  # after the input's reset too
    before = view.readout.text()
    view.score.setValue(2)  # a low threshold shows more (or as many) boxes
    idle(qtbot, window)
    assert view.readout.text() != before and "score 0.02" in view.readout.text()
    view.score_button.click()
    idle(qtbot, window)
    assert view.ranking.count() == 64
    misses = [int(view.ranking.item(i).text().split(": ")[1].split()[0]) for i in range(64)]
    assert misses == sorted(misses, reverse=True)  # most misses first
    worst = view.ranking.item(0).text().split(":")[0]  # "scene N", shown, and the pane says so
    assert view.picture.plot.titleLabel.text.startswith(f"test {worst} ")
    assert drawn(view.picture)
    assert "mAP@0.5" in view.summary.text() and "11-point" in view.summary.text()
    assert view.curves.getPlotItem().listDataItems()
    out = tmp_path / "boxes.png"
    view.export_to(str(out))
    idle(qtbot, window)
    assert out.stat().st_size > 1000
    tab.stop_workers()


def test_train_tab_switches_a_segmentation_model_to_scenes_and_names_its_metric(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.tasks.segmentation import SegmentationTask

    monkeypatch.setattr(SegmentationTask, "default_dataset", DATASET)  # small and fast
    window = MainWindow()
    qtbot.addWidget(window)
    window.training.out_dir = tmp_path / "runs"
    window.show()
    window.document.load(load_preset("fcn8s_digits"), None)
    window.tabs.setCurrentWidget(window.training)
    panel = window.training
    panel.form.dataset.setCurrentText("digits")
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as finished:
        panel.controls.start_button.click()
    assert isinstance(finished.args[0], Finished), finished.args[0]
    assert panel.form.dataset.currentText() == DATASET
    assert "mIoU" in panel.curves.acc_plot.titleLabel.text
    assert "mIoU" in panel.controls.progress.format()
    assert "has no segmentation targets" in panel.log.toPlainText()
    assert len(panel.curves.series["val_acc"][0]) == 1


def test_boxes_pr_plot_text_and_pane_titles_follow_projector_text(qtbot: QtBot) -> None:
    from app.style import BASE_POINT_SIZE

    window = MainWindow(load_preset("grid_detector_digits"))
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.show()
    window.tabs.setCurrentWidget(window.inspect)
    view = window.inspect.view("Boxes")
    window.inspect.views.setCurrentWidget(view)
    plot = view.curves.getPlotItem()
    ticks = plot.getAxis("left")

    def tick_size() -> int:
        font = ticks.style["tickFont"]
        return font.pointSize() if font is not None else 0

    normal = tick_size()
    assert 0 < normal <= BASE_POINT_SIZE
    window.set_font_size(0, 24)
    qtbot.waitUntil(lambda: tick_size() >= 20, timeout=CEILING_MS)
    assert plot.getAxis("bottom").style["tickFont"].pointSize() >= 20
    assert plot.titleLabel.opts["size"] == "24pt"
    assert plot.legend.opts["labelTextSize"] == "22pt"
    line = plot.plot([0, 1], [1, 0], name="7")  # the curves come after scoring
    assert any(label.opts["size"] == "22pt" for _sample, label in plot.legend.items)
    plot.removeItem(line)
    # a title wider than its pane is cut with "…" (it pushed the picture off centre)
    view.picture.set_title("test scene 113 (from the list): predicted coloured, truth white")
    assert view.picture.plot.titleLabel.text.endswith("…")
    assert view.picture.toolTip().endswith("truth white")
    window.set_font_size(0, BASE_POINT_SIZE)
    qtbot.waitUntil(lambda: tick_size() == max(7, BASE_POINT_SIZE - 2), timeout=CEILING_MS)


@pytest.mark.parametrize(("preset", "title", "needs"), [
    ("digits_small", "Masks", "Masks needs a segmentation model"),
    ("digits_small", "Boxes", "Boxes needs a grid detector"),
    ("grid_detector_digits", "Masks", "Masks needs a segmentation model"),
    ("fcn8s_digits", "Boxes", "Boxes needs a grid detector")])
def test_scoring_the_test_scenes_with_another_task_says_what_the_view_needs(
        qtbot: QtBot, preset: str, title: str, needs: str) -> None:
    """A classifier's one score per image is no mask and no box, a detector's grid no mask, a
    segmentation model's maps no boxes: Score says so (it ranked a classifier's scenes at IoU
    0 and drawing one crashed the window; a detector's failed with a tensor size error)."""
    window = MainWindow(load_preset(preset))
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.inspect)
    view = window.inspect.view(title)
    window.inspect.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=CEILING_MS)
    assert needs in window.inspect.message.text()  # the tab's input: already refused
    view.score_button.click()
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=CEILING_MS)
    assert needs in window.inspect.message.text()
    assert view.ranking.count() == 0

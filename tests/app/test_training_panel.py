"""The training panel drives a real run on a worker thread, offscreen."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.train.checkpoint import LAST
from core.train.settings import EpochEnd, Failed, Finished, Paused, Started
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.training.out_dir = tmp_path / "runs"
    w.show()
    w.tabs.setCurrentWidget(w.training)
    return w


def wait_idle(qtbot: QtBot, window: MainWindow, timeout: int = 60_000) -> None:
    qtbot.waitUntil(lambda: window.training.job is None, timeout=timeout)


def test_a_run_from_the_panel_fills_the_curves(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.training
    panel.form.epochs.setValue(2)
    events: list[object] = []
    with qtbot.waitSignal(panel.run_finished, timeout=60_000) as finished:
        panel.controls.start_button.click()
        panel.job.training_event.connect(events.append)  # type: ignore[union-attr]
        assert window.document.locked_reason
        assert not window.editor.isEnabled()
    assert isinstance(finished.args[0], Finished)
    assert len(panel.curves.series["val_acc"][0]) == 2
    assert len(panel.curves.series["batch_loss"][0]) >= 2
    assert panel.curves.lines["val_acc"].getData()[1] is not None
    assert "test accuracy" in panel.controls.progress.format()
    assert not window.document.locked_reason and window.editor.isEnabled()
    assert any(isinstance(e, Started) for e in events)


def test_pause_resume_and_stop_from_the_buttons(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.training
    panel.form.epochs.setValue(500)
    panel.form.batch.setValue(8)
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: len(panel.curves.series["batch_loss"][0]) > 0, timeout=CEILING_MS)
    panel.controls.pause_button.click()
    qtbot.waitUntil(lambda: isinstance(panel.last_event, Paused), timeout=CEILING_MS)
    assert panel.controls.pause_button.text() == "Resume"
    points = len(panel.curves.series["batch_loss"][0])
    qtbot.wait(300)
    assert len(panel.curves.series["batch_loss"][0]) == points  # paused: nothing new
    panel.controls.pause_button.click()
    qtbot.waitUntil(lambda: len(panel.curves.series["batch_loss"][0]) > points, timeout=CEILING_MS)
    with qtbot.waitSignal(panel.run_finished, timeout=CEILING_MS) as finished:
        panel.controls.stop_button.click()
    final = finished.args[0]
    assert isinstance(final, Finished) and final.stopped
    assert Path(final.checkpoint).is_file()


def test_edits_are_refused_while_training(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.training
    panel.form.epochs.setValue(500)
    panel.controls.start_button.click()
    before = window.document.spec
    assert not window.document.add_layer("ReLU")
    assert window.document.spec == before
    panel.stop()
    wait_idle(qtbot, window)
    assert window.document.add_layer("ReLU")


def test_closing_during_training_stops_cleanly_and_keeps_a_checkpoint(
        qtbot: QtBot, window: MainWindow) -> None:
    panel = window.training
    panel.form.epochs.setValue(500)
    panel.controls.start_button.click()
    qtbot.waitUntil(lambda: isinstance(panel.last_event, EpochEnd), timeout=CEILING_MS)
    run_dir = panel.run_dir
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS) as closed:
        window.close()  # hides at once; closes for good when the run has stopped
    assert closed.args == [True]
    assert not panel.running
    assert run_dir is not None and (run_dir / LAST).is_file()


def test_an_invalid_model_is_not_trained(qtbot: QtBot, window: MainWindow) -> None:
    window.document.set_param("conv3", "kernel_size", 9)
    window.training.controls.start_button.click()
    assert window.training.job is None
    assert "Cannot train: layer conv3" in window.training.controls.status.text()


def test_a_dataset_mismatch_is_reported(qtbot: QtBot, window: MainWindow) -> None:
    window.document.set_param("fc", "out_features", 4)
    with qtbot.waitSignal(window.training.run_finished, timeout=CEILING_MS) as finished:
        window.training.controls.start_button.click()
    assert isinstance(finished.args[0], Failed)
    assert "set out_features of fc to 10" in window.training.controls.status.text()


def test_augmentation_preview_shows_samples(qtbot: QtBot, window: MainWindow) -> None:
    panel = window.training
    panel.form.rotation.setValue(25)
    qtbot.waitUntil(lambda: not panel.form.preview.pixmap().isNull(), timeout=60_000)  # a worker's
    panel.form.dataset.addItem("/nonexistent/folder")
    panel.form.dataset.setCurrentText("/nonexistent/folder")
    qtbot.waitUntil(lambda: "No preview" in panel.form.preview.text(), timeout=60_000)


def test_vertical_flip_zoom_and_elastic_reach_the_run_and_the_preview(qtbot: QtBot,
                                                                     window: MainWindow) -> None:
    """Issue 20 item 5: the lectures' vertical flip, zoom and elastic warping in the Train tab."""
    form = window.training.form
    for widget, set_value in ((form.vflip, lambda: form.vflip.setChecked(True)),
                              (form.zoom, lambda: form.zoom.setValue(0.3))):
        widget.blockSignals(True)  # one preview request below, for all three (a loaded machine)
        set_value()
        widget.blockSignals(False)
    form.elastic.setValue(40)
    assert form.preview.request is not None and form.preview.request[2].elastic == 40
    augmentation = form.settings().augmentation
    assert (augmentation.vflip, augmentation.zoom, augmentation.elastic) == (True, 0.3, 40.0)
    qtbot.waitUntil(lambda: form.preview._worker is None, timeout=CEILING_MS)  # a worker's
    assert not form.preview.pixmap().isNull(), form.preview.text()
    form.zoom.setValue(0.9)
    assert form.zoom.value() == 0.9 and form.settings().augmentation.zoom == 0.9


def test_the_dice_field_shows_only_for_a_task_that_uses_it(qtbot: QtBot,
                                                           window: MainWindow) -> None:
    panel = window.training
    window.open_preset("unet_digits")
    assert panel.form.rows.isRowVisible(panel.form.dice) and panel.form.dice.isVisible()
    panel.form.dice.setValue(0.5)
    assert panel.form.settings().dice == 0.5
    window.open_preset("digits_small")
    assert not panel.form.rows.isRowVisible(panel.form.dice) and not panel.form.dice.isVisible()
    assert panel.form.settings().dice == 0.0  # a classification run never records it
    window.open_preset("unet_digits")
    assert panel.form.dice.isVisible() and panel.form.settings().dice == 0.5

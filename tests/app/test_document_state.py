"""One owner of the current model, its weights and its run: every view follows it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from app.inspect.formation import EMPTY
from app.main_window import MainWindow
from core.data.datasets import load_digits_dataset
from core.presets import load_preset
from core.train.checkpoint import load_state
from core.train.engine import train
from core.train.settings import Finished, TrainingSettings
from tests.app.waits import CEILING_MS

# its module-scoped fixture trains: the module runs on one xdist worker, which trains once
pytestmark = pytest.mark.xdist_group("test_document_state")


def test_opening_a_preset_while_the_name_field_has_focus_keeps_the_preset_name(
        qtbot: QtBot) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=CEILING_MS)
    name = w.shape_bar.name
    name.setFocus()
    qtbot.waitUntil(name.hasFocus, timeout=CEILING_MS)
    w.open_preset("lenet5")  # File → Presets → lenet-5, the field still focused
    w.table.setFocus()  # focus leaves the field: editingFinished
    qtbot.waitUntil(lambda: not name.hasFocus(), timeout=CEILING_MS)
    assert w.document.spec.name == "lenet-5"
    assert name.text() == "lenet-5"
    assert not w.document.dirty
    assert w.windowTitle() == "ConvScope — lenet-5"


def test_typing_a_name_still_renames_the_model(qtbot: QtBot) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    name = w.shape_bar.name
    qtbot.keyClicks(name, "-v2")
    name.editingFinished.emit()
    assert w.document.spec.name.endswith("-v2")
    assert w.document.dirty


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = replace(TrainingSettings(), epochs=1, device="cpu")
    done = list(train(load_preset("digits_small"), load_digits_dataset(), settings,
                      tmp_path_factory.mktemp("runs")))[-1]
    assert isinstance(done, Finished)
    return Path(done.run_dir)


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=60_000)


def show(qtbot: QtBot, window: MainWindow, title: str) -> Any:
    window.tabs.setCurrentWidget(window.inspect)
    view = window.inspect.view(title)
    window.inspect.views.setCurrentWidget(view)
    idle(qtbot, window)
    return view


def test_opening_another_model_resets_weights_pictures_readouts_and_the_train_tab(
        qtbot: QtBot, tmp_path: Path) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.training.out_dir = tmp_path
    w.training.form.epochs.setValue(1)
    with qtbot.waitSignal(w.training.run_finished, timeout=120_000):
        w.training.start()
    assert w.document.weights is not None
    assert w.training.controls.progress.format().startswith("done")
    formation = show(qtbot, w, "How they formed")
    assert formation.form_filters.data is not None
    activations = show(qtbot, w, "Activations")
    top, left = activations._act_mosaic.cells[1]
    activations._act_hover(top, left)
    assert activations.act_readout.text().startswith("map 1")

    w.open_preset("lenet5")
    idle(qtbot, w)
    assert w.document.weights is None and w.document.run_dir is None
    assert "random" in w.inspect.weights_label.text()
    assert not activations.act_readout.text().startswith("map")  # no stale hover readout
    assert formation.form_filters.data is None and formation.form_label.text() == EMPTY
    assert all(not xs for xs, _ in w.training.curves.series.values())  # no old curves
    controls = w.training.controls
    assert controls.progress.format() == "idle" and controls.status.text() == ""
    assert w.training.form.start_from.count() == 1  # only random weights to start from


def test_weights_of_another_model_are_one_sentence_with_the_detail_behind_a_button(
        qtbot: QtBot, digits_run: Path) -> None:
    w = MainWindow(load_preset("lenet5"))
    qtbot.addWidget(w)
    w.show()
    assert w.inspect.use_run(digits_run)
    filters = show(qtbot, w, "Filters")
    label = w.inspect.weights_label.text()
    assert "These weights belong to digits-small" in label and "random weights" in label
    assert "conv1.weight" not in label  # the tensor names are behind the button
    assert w.inspect.weights_detail.isVisible()
    assert "conv1" in w.inspect.note.detail
    assert w.inspect.message.text() == ""
    assert filters.filter_pane.data is not None  # the views still work, on random weights


def test_a_runs_weights_changed_after_opening_are_named_damaged_not_foreign(
        qtbot: QtBot, digits_run: Path, tmp_path: Path) -> None:
    import shutil

    run = Path(shutil.copytree(digits_run, tmp_path / "run"))
    w = MainWindow(load_preset("lenet5"))
    qtbot.addWidget(w)
    w.show()
    assert w.open_run(run)
    best = run / "weights-best.safetensors"
    data = bytearray(best.read_bytes())
    data[-3] ^= 1  # changed after it was opened (another program, a sync client)
    best.write_bytes(bytes(data))
    show(qtbot, w, "Filters")
    label = w.inspect.weights_label.text()
    assert "not the file the run recorded" in label and "random weights" in label
    assert "belong to" not in label
    assert "SHA-256" in w.inspect.note.detail


def test_weights_too_big_to_hash_on_the_ui_thread_are_checked_by_inspect(
        qtbot: QtBot, digits_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Opening a run hashes its weights on the window's thread only when they are small; a
    big damaged file opens and Inspect, which reads it on a worker, names the damage."""
    import shutil

    from core.train import checkpoint

    run = Path(shutil.copytree(digits_run, tmp_path / "big"))
    best = run / "weights-best.safetensors"
    data = bytearray(best.read_bytes())
    data[-3] ^= 1
    best.write_bytes(bytes(data))
    monkeypatch.setattr(checkpoint, "UI_CHECK_BYTES", 0)  # as if the file were VGG-16's
    w = MainWindow(load_preset("lenet5"))
    qtbot.addWidget(w)
    w.show()
    assert w.open_run(run)
    show(qtbot, w, "Filters")
    assert "not the file the run recorded" in w.inspect.weights_label.text()


def test_training_continues_a_run_or_starts_from_its_weights(qtbot: QtBot, digits_run: Path,
                                                            tmp_path: Path) -> None:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    assert w.open_run(digits_run)
    panel = w.training
    assert len(panel.curves.series["val_acc"][0]) == 1  # the opened run's curves
    assert panel.form.start_from.count() == 3
    runs = tmp_path / "runs"  # tmp_path also holds the window's own home folder
    runs.mkdir()
    panel.out_dir = runs
    panel.form.start_from.setCurrentIndex(panel.START_RESUME)
    panel.form.epochs.setValue(2)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as finished:
        panel.start()
    event = finished.args[0]
    assert isinstance(event, Finished) and Path(event.run_dir) == digits_run
    assert load_state(digits_run).epochs_done == 2
    assert not list(runs.iterdir())  # continued in place, no new run folder

    panel.form.start_from.setCurrentIndex(panel.START_WEIGHTS)
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000) as finished:
        panel.start()
    started = next(line for line in panel.log.toPlainText().splitlines()
                   if line.startswith("weights:"))
    assert "conv1" in started or "loaded" in started
    assert Path(finished.args[0].run_dir).parent == runs

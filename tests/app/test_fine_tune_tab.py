"""Fine-tuning through the Train tab: a folder of photos, Start, then Unfreeze and continue."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.build import build_model
from core.model.spec import save_model
from core.presets import load_preset
from core.train.checkpoint import load_state
from core.train.settings import Finished
from core.weights import save_weights
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.training.out_dir = tmp_path / "runs"
    w.show()
    w.tabs.setCurrentWidget(w.training)
    return w


def _photos(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    for c, colour in enumerate([(230, 40, 40), (40, 40, 230), (40, 230, 40)]):
        target = folder / f"kind{c}"
        target.mkdir(parents=True)
        for i in range(10):
            pixels = (rng.normal(0, 20, (16, 16, 3)) + colour).clip(0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(target / f"{i}.png")
    return folder


def _pretrained(tmp_path: Path) -> Path:
    """A model file with its weights beside it, as File → Import writes them."""
    spec = load_preset("digits_small")
    path = tmp_path / "pretrained.json"
    save_model(spec, path)
    torch.manual_seed(0)
    save_weights(build_model(spec), path.with_suffix(".safetensors"))
    return path


def test_fine_tune_on_a_folder_in_three_clicks_then_unfreeze(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    photos = _photos(tmp_path / "photos")
    assert window.files.open_file(_pretrained(tmp_path), ask=False)
    panel = window.training
    box = panel.fine_tune
    assert box.trains.text().startswith("Trains: conv1, bn1, conv2 and 4 more layers")
    assert not box.unfreeze.isEnabled()  # no run yet
    monkeypatch.setattr("app.train.fine_tune_box.QFileDialog.getExistingDirectory",
                        lambda *_a, **_k: str(photos))
    panel.form.epochs.setValue(2)
    # click 1 (and 2, the folder dialog): the head is replaced, the backbone frozen
    qtbot.mouseClick(box.choose, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.trains.text().startswith("Trains: fc"), timeout=CEILING_MS)
    assert box.trains.text() == "Trains: fc (195 params); frozen: 6 layers (23,520 params)"
    spec = window.document.spec
    assert spec.layer("fc").params["out_features"] == 3 and spec.classes == (
        "kind0", "kind1", "kind2")
    assert window.document.undo_stack.undoText() == "Fine-tune for 3 classes"
    assert panel.form.dataset.currentText() == str(photos)
    assert box.cache.isChecked()
    assert panel.form.start_from.currentText().startswith("weights pretrained.safetensors")
    assert "New head fc for 3 classes" in box.status.text()
    # click 3: Start
    with qtbot.waitSignal(panel.run_finished, timeout=CEILING_MS) as finished:
        qtbot.mouseClick(panel.controls.start_button, Qt.MouseButton.LeftButton)
    assert isinstance(finished.args[0], Finished), finished.args[0]
    log = panel.log.toPlainText()
    assert "no augmentation while cached" in log
    assert "features: features of flatten computed for 30 images" in log
    assert "loaded" in log and "kept fresh weights in the layers whose shapes differ: fc" in log
    run = Path(finished.args[0].run_dir)
    assert load_state(run).epochs_done == 2
    qtbot.waitUntil(box.unfreeze.isEnabled, timeout=CEILING_MS)
    # Unfreeze the top block and continue for one more epoch
    box.blocks.setValue(1)
    box.more.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=CEILING_MS) as finished:
        qtbot.mouseClick(box.unfreeze, Qt.MouseButton.LeftButton)
    assert isinstance(finished.args[0], Finished), finished.args[0]
    assert Path(finished.args[0].run_dir) == run
    state = load_state(run)
    assert state.epochs_done == 3 and "unfroze bn3" in state.notes[-1]
    assert state.settings["lr"] == pytest.approx(panel.form.lr.value() / 10)
    assert window.document.spec.layer("bn3").trainable
    assert box.trains.text().startswith("Trains: bn3, fc (323 params)")
    assert "unfroze bn3 and continued at lr" in panel.log.toPlainText()


def test_a_folder_without_class_folders_is_one_line(qtbot: QtBot, window: MainWindow,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    before = window.document.spec
    monkeypatch.setattr("app.train.fine_tune_box.QFileDialog.getExistingDirectory",
                        lambda *_a, **_k: str(empty))
    box = window.training.fine_tune
    qtbot.mouseClick(box.choose, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: box.status.text().startswith("⚠"), timeout=CEILING_MS)
    assert "needs at least two sub-folders" in box.status.text()
    assert "\n" not in box.status.text()
    assert window.document.spec == before

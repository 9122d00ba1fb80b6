"""The Dream and Style views of the Inspect tab, driven as a user does: choose the input and
settings, press the button, see the pictures and the plain word about random weights; Cancel
stops the work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w.inspect)
    return w


def show(qtbot: QtBot, window: MainWindow, title: str) -> Any:
    tab = window.inspect
    view = tab.view(title)
    tab.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not tab.busy, timeout=CEILING_MS)
    return view


def test_a_dream_starts_from_the_chosen_digit_and_says_the_weights_are_random(
        qtbot: QtBot, window: MainWindow) -> None:
    tab = window.inspect
    tab.input_kind.setCurrentText("digits test image")
    tab.digit_index.setValue(3)
    view = show(qtbot, window, "Dream")
    assert view.layer.currentText() == "relu2"  # an activation two thirds of the way in
    view.channel.setValue(view.channel.minimum())
    assert view.channel.text() == "the layer's norm"
    view.steps.setValue(20)
    view.run_button.click()
    assert not view.run_button.isEnabled() and view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert tab.message.text() == ""
    start, dream = view.start_pane.data, view.dream_pane.data
    assert start is not None and dream is not None and dream.shape == start.shape == (8, 8)
    assert np.abs(dream - start).mean() > 0.01
    assert "RANDOM weights" in view.notes.text() and "the layer's norm" in view.notes.text()


def test_cancel_stops_a_long_dream(qtbot: QtBot, window: MainWindow) -> None:
    view = show(qtbot, window, "Dream")
    view.steps.setValue(500)
    view.octaves.setValue(8)
    view.run_button.click()
    worker = window.inspect.queue.current("dream")
    assert worker is not None
    view.cancel_button.click()
    assert view.run_button.isEnabled() and not view.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not window.inspect.queue.busy("dream"), timeout=CEILING_MS)
    assert view.dream_pane.data is None  # a cancelled dream draws nothing


def test_the_channel_box_follows_the_layer(qtbot: QtBot, window: MainWindow) -> None:
    view = show(qtbot, window, "Dream")
    view.layer.setCurrentText("relu1")
    assert view.channel.maximum() == 15  # the layer's own channels
    view.layer.setCurrentText("relu2")
    assert view.channel.maximum() == 31


def test_style_transfers_a_chosen_file_onto_the_input(qtbot: QtBot, window: MainWindow,
                                                      tmp_path: Path) -> None:
    stripes = np.zeros((32, 32), np.uint8)
    stripes[:, ::4] = 255
    Image.fromarray(stripes).save(tmp_path / "stripes.png")
    view = show(qtbot, window, "Style")
    assert view.content_layer.currentText() == "relu3"
    assert view.style_layers.text() == "relu1, relu3"
    view.set_style_file(tmp_path / "stripes.png")
    view.steps.setValue(15)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert window.inspect.message.text() == ""
    for pane in (view.content_pane, view.style_pane, view.result_pane):
        assert pane.data is not None and pane.data.shape == (8, 8)
    assert "style loss" in view.notes.text() and "RANDOM weights" in view.notes.text()
    view.style_layers.setText("relu1, fc")
    view.run_button.click()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert '"fc" is not a layer with feature maps' in window.inspect.message.text()


# -- Export PNG… (issue 21: the figure `convscope render dream|style` writes) -----------------

def save_dialog(monkeypatch: pytest.MonkeyPatch, answer: Path) -> list[str]:
    """Answer the save dialog with ``answer``; returns the folders it was opened in."""
    from PySide6.QtWidgets import QFileDialog

    opened: list[str] = []

    def ask(_parent: Any, _title: str, start: str, _filter: str) -> tuple[str, str]:
        opened.append(start)
        return str(answer), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(ask))
    return opened


def export(qtbot: QtBot, window: MainWindow, view: Any) -> None:
    with qtbot.waitSignal(window.inspect.busy_changed, timeout=CEILING_MS,
                          check_params_cb=lambda busy: not busy):
        view.export_button.click()


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_export_writes_the_dream_as_the_command_line_draws_it_and_remembers_the_folder(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from core.cli import main

    tab = window.inspect
    tab.digit_index.setValue(3)
    view = show(qtbot, window, "Dream")
    assert not view.export_button.isEnabled()  # nothing to export yet
    view.channel.setValue(view.channel.minimum())  # the layer's norm, as the CLI's default
    view.steps.setValue(4)
    view.octaves.setValue(2)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.export_button.isEnabled(), timeout=CEILING_MS)
    (tmp_path / "slides").mkdir()
    opened = save_dialog(monkeypatch, tmp_path / "slides" / "dream")  # .png is added
    export(qtbot, window, view)
    written = tmp_path / "slides" / "dream.png"
    assert tab.message.text() == "" and written.is_file()
    assert window.statusBar().currentMessage() == f"Exported {written}"
    cli = tmp_path / "cli.png"
    assert main(["render", "dream", "digits_small", "--image", "digits:3", "--layer", "relu2",
                 "--octaves", "2", "--steps", "4", "-o", str(cli)]) == 0
    assert np.array_equal(pixels(written), pixels(cli))  # the same figure, pixel for pixel
    opened.clear()
    export(qtbot, window, view)  # the next dialog opens in the folder chosen last
    assert opened == [str(tmp_path / "slides" / "digits-small-dream.png")]
    from core.workspace import Settings

    assert Settings(window.settings.path).get("inspect_export_folder", "") == str(
        tmp_path / "slides")  # and so does the next session's


def test_export_writes_the_style_transfer_as_the_command_line_draws_it(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from core.cli import main

    tab = window.inspect
    tab.digit_index.setValue(3)
    view = show(qtbot, window, "Style")
    view.style_image.setCurrentText("coffee")
    view.steps.setValue(5)
    assert not view.export_button.isEnabled()
    view.run_button.click()
    qtbot.waitUntil(lambda: view.export_button.isEnabled(), timeout=CEILING_MS)
    save_dialog(monkeypatch, tmp_path / "style.png")
    export(qtbot, window, view)
    assert tab.message.text() == ""
    cli = tmp_path / "cli.png"
    assert main(["render", "style", "digits_small", "--content", "digits:3", "--style",
                 "coffee", "--content-layer", "relu3", "--style-layers", "relu1,relu3",
                 "--steps", "5", "-o", str(cli)]) == 0
    assert np.array_equal(pixels(tmp_path / "style.png"), pixels(cli))
    tab.digit_index.setValue(4)  # another input: the result shown is gone, nothing to export
    assert not view.export_button.isEnabled() and view.result_pane.data is None


def test_an_unwritable_folder_is_one_clear_line_and_writes_nothing(
        qtbot: QtBot, window: MainWindow, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    view = show(qtbot, window, "Dream")
    view.steps.setValue(2)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.export_button.isEnabled(), timeout=CEILING_MS)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    target = tmp_path / "notes.txt" / "dream.png"
    save_dialog(monkeypatch, target)
    export(qtbot, window, view)
    message = window.inspect.message.text()
    assert message.startswith(f"cannot write {target}: ") and "\n" not in message
    assert "Error" not in message  # a sentence, not an exception's name
    assert view.export_button.isEnabled()  # the dream is still there to export elsewhere
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "notes.txt"]


# -- a model change cancels only the older model's jobs (issue 21, point 3) -------------------

def test_a_dream_finished_before_the_warm_up_ends_stays_and_a_new_model_still_cancels(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import warm_up

    # the start-up order: the window is up and a dream is asked for while the warm-up still
    # imports its last modules (pyqtgraph is in, so the views build)
    monkeypatch.setattr(warm_up, "_ready", False)
    monkeypatch.setattr(warm_up, "_loaded", lambda: False)
    monkeypatch.setattr(warm_up, "_pending", [])
    monkeypatch.setattr(warm_up, "start", lambda: None)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentWidget(window.inspect)
    view = show(qtbot, window, "Dream")
    view.steps.setValue(3)
    view.run_button.click()
    qtbot.waitUntil(lambda: view.export_button.isEnabled(), timeout=CEILING_MS)
    dreamt = view.dream_pane.data
    assert dreamt is not None
    warm_up._finished()  # the warm-up's worker reports: every module is loaded
    assert view.dream_pane.data is dreamt and view.export_button.isEnabled()
    assert "was cancelled" not in view.notes.text()
    # a long dream, then other weights: the old model's dream is dropped, and says so
    view.steps.setValue(500)
    view.octaves.setValue(8)
    view.run_button.click()
    assert window.inspect.queue.busy("dream")
    random = next(b for b in window.inspect.findChildren(QPushButton)
                  if b.text() == "Random weights")
    random.click()
    qtbot.waitUntil(lambda: view.run_button.isEnabled(), timeout=CEILING_MS)
    assert "was cancelled" in view.notes.text()
    assert view.dream_pane.data is None and not view.export_button.isEnabled()

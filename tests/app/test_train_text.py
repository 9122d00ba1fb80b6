"""The Train tab's text settings (issue 20 §1): the vocabulary size and the sequence length,
stated in the log and stored in the run; a CSV/TSV chosen with File… and its columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from core.data.vocabulary import load_vocabulary
from core.presets import load_preset
from core.train.settings import Failed, Finished
from tests.app.window_driver import menu_action

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
TEXT_CNN = "File → Presets → Sequences and video → text-cnn"


def _window(qtbot: QtBot, tmp_path: Path) -> MainWindow:
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.training.out_dir = tmp_path / "runs"
    window.show()
    window.tabs.setCurrentWidget(window.training)
    menu_action(window, TEXT_CNN).trigger()
    panel = window.training
    qtbot.waitUntil(lambda: panel.form.dataset.currentText() == "phrases", timeout=60_000)
    return window


def _type(qtbot: QtBot, spin: object, value: int) -> None:
    spin.setFocus()  # type: ignore[attr-defined]
    spin.selectAll()  # type: ignore[attr-defined]
    qtbot.keyClicks(spin, str(value))
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def _run(qtbot: QtBot, window: MainWindow) -> object:
    panel = window.training
    panel.form.epochs.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=300_000) as finished:
        qtbot.mouseClick(panel.controls.start_button, Qt.MouseButton.LeftButton)
    return finished.args[0]


@pytest.mark.slow
def test_vocabulary_size_and_sequence_length_go_into_the_log_and_the_run(
        qtbot: QtBot, tmp_path: Path) -> None:
    window = _window(qtbot, tmp_path)
    texts = window.training.form.texts
    assert texts.isVisibleTo(window.training)
    assert (texts.vocabulary.value(), texts.length.value()) == (5000, 400)
    _type(qtbot, texts.length, 40)  # the model's input: one undo step
    assert tuple(window.document.spec.input_shape) == (40,)
    window.document.undo_stack.undo()
    assert tuple(window.document.spec.input_shape) == (400,)
    assert texts.length.value() == 400
    window.document.undo_stack.redo()
    assert texts.length.value() == 40
    _type(qtbot, texts.vocabulary, 60)
    assert window.training.form.dataset_name() == "phrases:vocab=60"
    event = _run(qtbot, window)
    assert isinstance(event, Finished), window.training.log.toPlainText()
    log = window.training.log.toPlainText()
    assert "vocabulary of 60 ids" in log and "cut or padded to 40 words" in log
    run = window.training.run_dir
    assert run is not None
    assert json.loads((run / "training.json").read_text())["dataset"] == "phrases:vocab=60"
    vocabulary = load_vocabulary(run)
    assert vocabulary is not None and (vocabulary.size, vocabulary.length) == (60, 40)


@pytest.mark.slow
def test_a_table_chosen_with_file_offers_its_columns(qtbot: QtBot, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    table = tmp_path / "reviews.tsv"
    rows = ["id\treview\tstars"] + [
        f"{i}\tthe film was {'not ' if i % 4 < 2 else ''}{'good' if i % 2 else 'bad'}\t"
        f"{'high' if (i % 2 == 1) != (i % 4 < 2) else 'low'}" for i in range(200)]
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    window = _window(qtbot, tmp_path)
    form = window.training.form
    _type(qtbot, form.texts.length, 12)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(table), ""))
    assert form.table_button.text() == "File…"
    qtbot.mouseClick(form.table_button, Qt.MouseButton.LeftButton)
    assert form.dataset.currentText() == str(table)
    texts = form.texts
    qtbot.waitUntil(lambda: texts.text_column.count() == 4, timeout=60_000)
    assert texts.text_column.isVisibleTo(form) and texts.label_column.isVisibleTo(form)
    assert texts.text_column.currentText() == "review"  # found by its name
    assert texts.label_column.currentText() == "automatic"  # "stars" is not a label name
    assert "choose the label column" in texts.table_note.text()
    event = _run(qtbot, window)  # the table's columns cannot be guessed: one line, no trace
    assert isinstance(event, Failed)
    assert "no label column found" in event.message and "Traceback" not in event.message
    texts.label_column.setCurrentText("stars")
    assert form.dataset_name() == f"{table}:text=review,label=stars"
    event = _run(qtbot, window)
    assert isinstance(event, Finished), window.training.log.toPlainText()
    assert "labels from column 'stars'" in window.training.log.toPlainText()
    form.use_dataset("digits")
    assert not texts.text_column.isVisibleTo(form)

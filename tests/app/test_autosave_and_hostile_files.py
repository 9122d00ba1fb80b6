"""Autosaves belong to one window; damaged ones never stop the start; hostile files never raise
in the window (File → Open, the property editor)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.build.property_fields import ScalarField, SizeField
from app.main_window import MainWindow
from core.model.editing import empty_model
from core.model.spec import FORMAT
from core.workspace import Autosave
from tests.app.test_builder_window import add_from_palette


def _window(qtbot: QtBot, name: str = "m") -> MainWindow:
    window = MainWindow(empty_model(name))
    qtbot.addWidget(window)
    return window


def test_a_live_windows_autosave_survives_a_second_windows_start(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _window(qtbot, "first")
    add_from_palette(first, "ReLU")
    first.unsaved_work.write()
    assert first.unsaved_work.autosave.path.exists()
    saved = first.unsaved_work.autosave.path.read_bytes()

    second = _window(qtbot, "second")
    offered: list[Any] = []
    monkeypatch.setattr(second.unsaved_work, "ask_restore", lambda r: offered.append(r) or True)
    second.unsaved_work.offer_recovery()
    assert offered == []  # the first window is alive: its autosave is not a crash
    assert first.unsaved_work.autosave.path.read_bytes() == saved
    assert second.document.spec.name == "second"
    first.document.undo_stack.setClean()


def test_a_declined_autosave_is_removed_and_an_unanswered_one_kept(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    crashed = [_window(qtbot, f"crashed{i}") for i in range(2)]
    for window in crashed:
        add_from_palette(window, "ReLU")
        window.unsaved_work.write()
        window.unsaved_work.timer.stop()
        window.unsaved_work.autosave.release_lock()  # the process died
    restarted = _window(qtbot)
    monkeypatch.setattr(restarted.unsaved_work, "ask_restore", lambda r: r.spec.name == "crashed0")
    restarted.unsaved_work.offer_recovery()
    # newest first: crashed1 declined (removed), crashed0 restored (removed)
    assert restarted.document.spec.name == "crashed0"
    assert not any(w.unsaved_work.autosave.path.exists() for w in crashed)
    for window in crashed:
        window.document.undo_stack.setClean()


DAMAGED = [
    {"saved_at": 1.0, "source": 5, "model": {}},
    {"saved_at": "yesterday", "source": None, "model": {}},
    '{"saved_at": 1e400, "source": null, "model": {}}',
    {"saved_at": 1.0, "source": None, "model": {"format": FORMAT, "layers": "x"}},
    [1, 2],
    "not json at all {",
]


def test_damaged_autosaves_are_set_aside_and_reported_once(qtbot: QtBot,
                                                           convscope_home: Path) -> None:
    folder = convscope_home / "autosave"
    folder.mkdir(parents=True)
    for i, content in enumerate(DAMAGED):
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / f"session-1-{i}.json").write_text(text)
    window = _window(qtbot)
    window.unsaved_work.offer_recovery()  # must not raise, hang or ask
    message = window.statusBar().currentMessage()
    assert "A damaged autosave was set aside" in message
    assert "source must be a file path or null, found 5" in message
    assert len(list(folder.glob("*.json.bad"))) == len(DAMAGED)
    assert not list(folder.glob("session-1-*.json"))
    again = _window(qtbot)
    again.unsaved_work.offer_recovery()
    assert "damaged" not in again.statusBar().currentMessage()


def test_autosave_pending_never_raises_on_odd_folders(tmp_path: Path) -> None:
    (tmp_path / "session-9-9.json").mkdir()
    autosave = Autosave(tmp_path)
    assert autosave.pending() == []
    assert len(autosave.set_aside) == 1 and (tmp_path / "session-9-9.json.bad").is_dir()
    autosave.close()


def _model_file(tmp_path: Path, **kernel: Any) -> Path:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"format": FORMAT, "name": "odd", "input": {"shape": [1, 8, 8]},
                                "layers": [{"type": "Conv2d", "name": "conv1",
                                            "out_channels": 2, **kernel},
                                           {"type": "MaxPool2d", "kernel_size": 2,
                                            "stride": kernel.get("kernel_size", 2)},
                                           {"type": "Dropout", "p": kernel.get("kernel_size")}]}))
    return path


@pytest.mark.parametrize("value", [{"a": 1}, [1, "x"], "big", [[1]], 10**40, None, 2.5, True])
def test_wrong_typed_values_are_shown_invalid_not_raised(qtbot: QtBot, tmp_path: Path,
                                                         value: Any) -> None:
    window = _window(qtbot)
    window.show()
    assert window.open_file(_model_file(tmp_path, kernel_size=value), ask=False)
    for name in ("conv1", "maxpool1", "dropout1"):
        window.document.select(name)  # every slot runs; a TypeError would fail the test
    window.document.select("conv1")
    field = window.editor.fields["kernel_size"]
    assert isinstance(field, SizeField)
    assert window.editor.error.text().startswith("⚠")
    if isinstance(value, dict | str) or value == [1, "x"] or value == [[1]]:
        assert field.property("invalid") is True
    window.document.select("dropout1")
    assert isinstance(window.editor.fields["p"], ScalarField)
    window.document.undo_stack.setClean()


def test_file_open_of_a_malformed_file_shows_one_message(qtbot: QtBot, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown.append(text))
    window = _window(qtbot)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps({"format": "convscope.model/" + "9" * 5000, "layers": []}))
    assert not window.open_file(path, ask=False)
    assert len(shown) == 1 and "not a ConvScope format" in shown[0] and len(shown[0]) < 300


def _crashed_autosave(qtbot: QtBot, name: str) -> Path:
    """The autosave a crashed window left behind (its lock released as the OS does)."""
    crashed = _window(qtbot, name)
    add_from_palette(crashed, "ReLU")
    crashed.unsaved_work.write()
    crashed.unsaved_work.timer.stop()
    crashed.unsaved_work.autosave.release_lock()
    crashed.document.undo_stack.setClean()
    return crashed.unsaved_work.autosave.path


def test_an_autosave_that_fails_to_load_is_kept_and_start_up_goes_on(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _crashed_autosave(qtbot, "precious")
    saved = path.read_bytes()
    restarted = _window(qtbot)
    monkeypatch.setattr(restarted.unsaved_work, "ask_restore", lambda r: True)
    seen: list[bytes] = []

    def load_fails(spec: Any, source: Any, *rest: Any) -> None:
        # while the model loads, the autosave is still on disk (renamed aside, not deleted)
        seen.extend(p.read_bytes() for p in path.parent.glob(path.name + "*")
                    if not p.name.endswith(".lock"))
        raise ValueError("the analysis could not read it")

    monkeypatch.setattr(restarted.document, "load", load_fails)
    restarted.unsaved_work.offer_recovery()  # must not raise
    assert seen == [saved]
    bad = path.with_name(path.name + ".bad")
    assert bad.read_bytes() == saved  # the work is still there, under .bad
    message = restarted.statusBar().currentMessage()
    assert "could not be restored" in message and str(bad) in message
    assert restarted.document.spec.name == "m"


def test_a_restore_cut_off_by_a_crash_is_offered_again(qtbot: QtBot,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    path = _crashed_autosave(qtbot, "again")
    path.replace(path.with_name(path.name + ".restoring"))  # the app died while restoring
    restarted = _window(qtbot)
    monkeypatch.setattr(restarted.unsaved_work, "ask_restore", lambda r: True)
    restarted.unsaved_work.offer_recovery()
    assert restarted.document.spec.name == "again"
    assert not list(path.parent.glob(path.name + "*"))


def test_special_files_as_autosaves_never_hang_start_up(qtbot: QtBot,
                                                        convscope_home: Path) -> None:
    import os
    import threading

    folder = convscope_home / "autosave"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "session-1-fifo.json")
    (folder / "session-1-dev.json").symlink_to("/dev/zero")
    window = _window(qtbot)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (window.unsaved_work.autosave.pending(), done.set()),
                              daemon=True)
    worker.start()
    assert done.wait(60), "reading a FIFO or a device as an autosave blocked"
    assert "not a regular file" in "; ".join(window.unsaved_work.autosave.set_aside)
    assert len(list(folder.glob("*.json.bad"))) == 2


def test_open_trained_run_refuses_swapped_weights_in_one_message(
        qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    from core.data.datasets import load_digits_dataset
    from tests.core.run_folder_helpers import train_tiny

    run = train_tiny(load_digits_dataset(), tmp_path / "runs")
    data = bytearray((run / "weights-best.safetensors").read_bytes())
    data[-3] ^= 1
    damaged = Path(shutil.copytree(run, tmp_path / "damaged"))
    (damaged / "weights-best.safetensors").write_bytes(bytes(data))
    window = _window(qtbot)
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *rest: warnings.append(text))
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory",
                        lambda *args, **kwargs: str(damaged))
    file_menu = next(a.menu() for a in window.menuBar().actions() if "File" in a.text())
    (action,) = [a for a in file_menu.actions() if "Open Trained" in a.text()]
    action.trigger()
    assert len(warnings) == 1 and "SHA-256" in warnings[0]
    assert window.document.weights is None and window.document.spec.name == "m"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getExistingDirectory",
                        lambda *args, **kwargs: str(run))
    action.trigger()
    assert window.document.weights == run / "weights-best.safetensors"

"""Help: shortcuts from the window's own actions, the README's sections, runs, version."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from app.help_menu import README, readme_sections, shortcut_rows, version_text
from app.main_window import MainWindow


def test_help_menu_lists_shortcuts_guide_runs_and_version(qtbot: QtBot,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    texts = [a.text().replace("&", "") for a in window.help_menu.actions()]
    assert {"Keyboard Shortcuts", "Guide (README)", "Where Runs Are Stored",
            "About ConvScope"} <= set(texts)
    rows = {what: keys for keys, what in shortcut_rows(window)}
    assert "Ctrl+Z" in rows["Edit → Undo"]
    assert "Ctrl+Shift+Z" in rows["Edit → Redo"]
    guide = next(a.menu() for a in window.help_menu.actions() if a.menu() is not None)
    titles = [a.text() for a in guide.actions()]
    assert titles == [t for t, _b in readme_sections(README.read_text(encoding="utf-8"))]
    assert any(t.startswith("Quick start") for t in titles)
    said: list[str] = []
    monkeypatch.setattr(QMessageBox, "information",
                        lambda _parent, _title, text: said.append(text))
    next(a for a in window.help_menu.actions() if "Runs" in a.text()).trigger()
    assert str(window.training.out_dir) in said[0] and "--out" in said[0]
    assert version_text().startswith("ConvScope ")

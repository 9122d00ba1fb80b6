from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def convscope_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every GUI test gets its own settings, recent files and autosave folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("CONVSCOPE_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Fail a test that leaves Python threads running (e.g. a training worker)."""
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()
                and not t.daemon]
    assert not leftover, f"threads left running: {leftover}"


@pytest.fixture(autouse=True)
def no_modal_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Modal questions would block offscreen; tests that care replace these on the instance."""
    from PySide6.QtWidgets import QMessageBox

    from app.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "ask_save_changes",
                        lambda self: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(MainWindow, "ask_restore", lambda self, recovery: False)

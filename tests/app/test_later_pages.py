"""The Train, Inspect, Classroom and Label tabs are built after the window's first paint
(app.window.later_pages): a tab clicked before then shows a line, then its page; a window
closed before then builds none of them; at projector text they are built before the window
shows, as on main. tests/app/test_startup.py checks, in a fresh process, what is imported before the
first paint."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from app.window.later_pages import Placeholder
from tests.app.waits import CEILING_MS


def test_a_tab_clicked_before_its_page_is_built_shows_a_line_then_the_page(
        qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.pages.built_page("Label") is None  # nothing built before the first paint
    window.tabs.setCurrentIndex(4)  # Label, clicked at once
    assert window.tabs.tabText(4) == "Label"
    shown = window.tabs.currentWidget()  # the window has not painted: its modules' worker has
    assert isinstance(shown, Placeholder)  # not started, and a line says what is coming
    assert shown.note.text() == "Opening the Label tab…"
    qtbot.waitUntil(window.pages.done, timeout=CEILING_MS)  # no one asks: they come by themselves
    assert window.tabs.currentWidget() is window.pages.built_page("Label")
    assert [type(window.tabs.widget(i)).__name__ for i in range(1, 5)] == [
        "TrainingPanel", "InspectTab", "ClassroomPanel", "LabelTab"]
    assert any(a.text() == "&Lessons" for a in window.menuBar().actions())
    window.document.undo_stack.setClean()
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS):
        window.close()


def test_a_window_closed_before_its_pages_are_built_closes_and_builds_none(
        qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window._painted_once, timeout=CEILING_MS)
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS) as closed:
        window.close()
    assert closed.args == [True]
    # the modules' worker (if it had started) reports: nothing is built for a closed window
    qtbot.waitUntil(lambda: not window.pages.importing(), timeout=CEILING_MS)
    qtbot.wait(0)
    assert window.pages.pages == {}


def test_at_projector_text_the_diagram_first_shows_the_model_from_its_top(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started with projector text saved (as app.main starts: text size, then show), the
    diagram's first view starts at the input with every block whole, as on main. With the tabs'
    pages still to come as the window showed, its layout passed through a 54 px high diagram,
    and showing the selected block there left the first view 39 px down (22, not -17), the
    blocks' tops cut: a text size other than the normal one builds those pages first."""
    monkeypatch.setattr(MainWindow, "available_screen", lambda self: QRect(0, 0, 1920, 1080))
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.set_font_size(0, 24)  # saved, and applied before the window shows
    window.show()
    qtbot.waitUntil(lambda: window._painted_once, timeout=CEILING_MS)
    view = window.diagram
    bar = view.verticalScrollBar()
    assert bar.maximum() > bar.minimum()  # the drawing is taller than the view: it scrolls
    assert bar.value() == bar.minimum()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for name in ("input", "conv1", "fc"):
        block = view.blocks[name].sceneBoundingRect()
        assert shown.top() <= block.top(), (name, shown, block)
    window.set_font_size(0, BASE_POINT_SIZE)
    window.document.undo_stack.setClean()
    with qtbot.waitSignal(window.closed, timeout=CEILING_MS):
        window.close()

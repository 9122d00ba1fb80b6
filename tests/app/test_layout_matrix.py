"""The layout matrix: every tab and sub-view × three screens × three text sizes × two themes.

Each test opens a trained run in the window, sets the screen size, the theme and the text size
through the View menu as a user does, then shows every page in turn (every tab, and every tab
inside a tab: the Inspect views) and checks what is on screen with tests/app/layout_checks.py:
nothing wider than its viewport, no text cut, every text at least 4.5:1 against its background,
no menu taller than the screen. "present" is presentation mode on the Classroom (F5's action),
checked there, then left, and every page is checked again afterwards (what a teacher finds after
the lesson). scripts/screenshots.py --matrix renders the same states to pictures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE, apply_theme
from tests.app.layout_checks import every_fault, menus_off_screen, settle_classroom, walk_pages
from tests.app.waits import CEILING_MS, settle
from tests.app.window_driver import menu_action

SCREENS = {"1366x768": (1366, 768), "1920x1080": (1920, 1080), "2560x1440": (2560, 1440)}
TEXTS = ("normal", "projector", "present")
THEMES = ("light", "dark")
LESSON = "rgb_minus_25"
"""The lesson shown on the Classroom tab: an RGB input, the widest step-through."""


@pytest.fixture
def matrix_window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                  trained_run: object, request: pytest.FixtureRequest) -> Iterator[MainWindow]:
    screen_name = request.node.callspec.params["screen"]
    width, height = SCREENS[screen_name]
    monkeypatch.setattr(MainWindow, "available_screen",
                        lambda self: QRect(0, 0, width, height))
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(width, height)
    window.show()
    window.apply_view_settings()  # as app.main.run_gui does: this test's (default) settings
    settle()
    assert callable(trained_run)
    # what Build, Train and Inspect show; each walk ends on the lesson (which replaces it)
    assert window.open_run(Path(trained_run("digits_small")))
    yield window
    window.classroom.stop()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, False, BASE_POINT_SIZE)  # the application's font and palette: the next
    # test's window starts from them (a dark palette left here made the next light test dark)


def _waiter(qtbot: QtBot) -> Callable[[Callable[[], bool]], None]:
    return lambda done: qtbot.waitUntil(done, timeout=CEILING_MS)


def _faults_on_every_page(window: MainWindow, qtbot: QtBot, state: str) -> list[str]:
    lesson = LESSON if state != "after present" else None  # present mode showed it
    return [f"{state} · {page}: {fault}" for page in walk_pages(window, _waiter(qtbot), lesson)
            for fault in every_fault(window)]


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_every_page_fits_reads_and_contrasts(matrix_window: MainWindow, qtbot: QtBot,
                                             screen: str, text: str, theme: str) -> None:
    window = matrix_window
    width, height = SCREENS[screen]
    if theme == "dark":
        menu_action(window, "View → Dark Theme").trigger()
        assert window.dark_action.isChecked()
    if text == "projector":
        menu_action(window, "View → Projector Text (24 pt)").trigger()
    settle()
    faults = menus_off_screen(window.menuBar(), QRect(0, 0, width, height))
    if text != "present":
        faults += _faults_on_every_page(window, qtbot, text)
    else:
        assert window.classroom.open_lesson(LESSON)  # a class is shown a lesson
        settle_classroom(window, _waiter(qtbot))
        menu_action(window, "View → Present").trigger()
        present = window.classroom.present
        assert present.active
        # full screen on the projector's screen (the offscreen platform's screen is 800×800)
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.setGeometry(QRect(0, 0, width, height))
        settle_classroom(window, _waiter(qtbot))
        faults += [f"present · Classroom: {f}" for f in every_fault(window)]
        present.key(Qt.Key.Key_Escape)
        QApplication.processEvents()
        assert not present.active
        settle()
        faults += _faults_on_every_page(window, qtbot, "after present")
    assert faults == [], "\n".join(faults)


@pytest.mark.parametrize("screen", ["1366x768"])
def test_projector_then_normal_then_present_leaves_every_page_fitting(
        matrix_window: MainWindow, qtbot: QtBot, screen: str) -> None:
    """A teacher tries projector text, goes back to normal, presents and leaves: the pages
    kept projector text's widths (the Inspect page was 276 px wider than the window)."""
    window = matrix_window
    menu_action(window, "View → Projector Text (24 pt)").trigger()
    settle()
    _faults_on_every_page(window, qtbot, "projector")  # every page laid out at 24 pt
    # back to normal text (Projector Text is no toggle: triggered again, it stayed at 24 pt)
    menu_action(window, "View → Normal Text").trigger()
    settle()
    assert window.font().pointSize() == BASE_POINT_SIZE
    window.tabs.setCurrentWidget(window.classroom.panel)
    settle_classroom(window, _waiter(qtbot))
    menu_action(window, "View → Present").trigger()
    present = window.classroom.present
    assert present.active
    width, height = SCREENS[screen]
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.setGeometry(QRect(0, 0, width, height))
    settle_classroom(window, _waiter(qtbot))
    present.key(Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert not present.active
    settle()
    faults = _faults_on_every_page(window, qtbot, "after present")
    assert faults == [], "\n".join(faults)

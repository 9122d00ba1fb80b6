"""The window fits the screen it opens on, and the Train tab's controls fit the window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from app.window import geometry
from core.presets import load_preset
from core.workspace import Settings
from tests.app.waits import settle

LAPTOP = QRect(0, 0, 1366, 768)


def _window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, screen: QRect,
            preset: str = "digits_small") -> MainWindow:
    monkeypatch.setattr(MainWindow, "available_screen", lambda self: screen)
    monkeypatch.setattr(MainWindow, "available_screens", lambda self: [screen])
    window = MainWindow(load_preset(preset))
    qtbot.addWidget(window)
    return window


def test_the_first_start_fills_most_of_the_screen_and_fits_a_laptop(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    window = _window(qtbot, monkeypatch, LAPTOP)
    window.place_on_screen()
    window.show()
    window.apply_view_settings()
    settle()
    assert LAPTOP.contains(window.geometry())
    assert window.width() >= 0.85 * LAPTOP.width() and window.height() >= 0.85 * LAPTOP.height()
    hint = window.minimumSizeHint()  # nothing in the window insists on more than the screen
    assert hint.width() <= LAPTOP.width() and hint.height() <= LAPTOP.height()
    wall = geometry.first_geometry(QRect(0, 0, 5120, 2880))
    assert wall.size().toTuple() == geometry.LARGEST_FIRST and wall.center() == QRect(
        0, 0, 5120, 2880).center()


def test_the_window_opens_where_it_was_closed_unless_that_is_off_this_screen(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _window(qtbot, monkeypatch, LAPTOP)
    first.show()
    first.setGeometry(QRect(40, 30, 1000, 600))
    settle()
    closed_at = first.geometry()
    assert first.close()
    again = _window(qtbot, monkeypatch, LAPTOP)
    again.place_on_screen()
    assert again.geometry() == closed_at
    # a larger screen (or a second monitor) then: the saved place off this one, or larger
    # than it, is forgotten and the window fills most of the screen it has
    for saved in ([2000, 30, 1000, 600], [0, 0, 1600, 900], [10, 10, 0, 600], "x"):
        Settings().set("window_geometry", saved)
        window = _window(qtbot, monkeypatch, LAPTOP)
        window.place_on_screen()
        assert window.geometry() == geometry.first_geometry(LAPTOP), saved


@pytest.mark.parametrize(("screen", "points"), [(LAPTOP, BASE_POINT_SIZE),
                                                (QRect(0, 0, 1920, 1080), 24)])
def test_start_progress_and_result_show_without_scrolling_on_a_segmentation_model(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, screen: QRect, points: int) -> None:
    window = _window(qtbot, monkeypatch, screen, "fcn8s_digits")
    window.resize(screen.size())
    window.show()
    window.set_font_size(0, points)
    try:
        window.tabs.setCurrentWidget(window.training)
        panel, controls = window.training, window.training.controls
        controls.say("Done: test mIoU 81.25% with the best validation weights, saved in "
                     "/home/someone/.convscope/runs/fcn8s-digits/weights-best.safetensors")
        controls.progress.setFormat("done · test mIoU 81.2%")
        settle()
        assert panel.form.rows.isRowVisible(panel.form.dice)  # the segmentation model's form
        assert window.width() <= screen.width() and window.height() <= screen.height()
        for widget in (controls.start_button, controls.progress, controls.status):
            assert _shown_whole(widget), f"{type(widget).__name__} at {widget.geometry()}"
    finally:
        window.set_font_size(0, BASE_POINT_SIZE)  # the application's font, for later tests


def _shown_whole(widget: QWidget) -> bool:
    """The widget's whole rectangle lies inside each of its ancestors up to the window (a
    scroll area's viewport included): nothing of it is scrolled away or cut off."""
    rect, child, parent = widget.rect(), widget, widget.parentWidget()
    while parent is not None:
        rect = rect.translated(child.pos())
        if not parent.rect().contains(rect):
            return False
        child, parent = parent, parent.parentWidget()
    return widget.isVisible() and rect.height() > 0

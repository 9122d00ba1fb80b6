"""The Classroom at the sizes a class sees it: present mode and back, projector text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from app.classroom.step_view import StepThroughView
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE

SCREEN = QRect(0, 0, 1920, 1080)


@pytest.fixture
def window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    monkeypatch.setattr(MainWindow, "available_screen", lambda self: SCREEN)
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(1920, 1080)
    w.show()
    w.apply_view_settings()
    yield w
    w.classroom.stop()
    w.set_font_size(0, BASE_POINT_SIZE)


def ready(qtbot: QtBot, view: StepThroughView, layer: str, position: tuple[int, ...]) -> None:
    qtbot.waitUntil(lambda: view.session is not None and view.step_result is not None
                    and view.step_result.layer == layer
                    and view.step_result.position == position, timeout=60_000)


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _background(widget: QWidget) -> QColor:
    """The colour behind ``widget``: the first ancestor that fills its background."""
    parent: QWidget | None = widget
    while parent is not None:
        if parent.autoFillBackground() or parent.isWindow():
            return parent.palette().color(parent.backgroundRole())
        parent = parent.parentWidget()
    return widget.palette().color(QPalette.ColorRole.Window)


def unreadable_labels(root: QWidget) -> list[str]:
    """The shown labels whose text is below 4.5:1 against what is behind them."""
    found = []
    for label in root.findChildren(QLabel):
        if label.isVisible() and label.text():
            ratio = contrast(label.palette().color(label.foregroundRole()), _background(label))
            if ratio < 4.5:
                found.append(f"{label.text()[:40]!r}: {ratio:.2f}")
    return found


def test_leaving_present_mode_restores_colours_and_text_size(window: MainWindow,
                                                             qtbot: QtBot) -> None:
    """Lesson → F5 → Space → Esc left the title and the model card white on light grey, and
    the central area kept the text size of before F5 (issue 17, item 2)."""
    window.classroom.open_lesson("rgb_minus_25")
    panel = window.classroom.panel
    view = panel.step_view
    ready(qtbot, view, "conv", (0, 0, 0))
    assert unreadable_labels(panel) == []
    sheets = {id(w): w.styleSheet() for w in panel.findChildren(QWidget)}
    fonts = {id(w): (w.font().pointSizeF(), w.testAttribute(Qt.WidgetAttribute.WA_SetFont))
             for w in panel.findChildren(QWidget)}
    present = window.classroom.present
    present.enter()
    QApplication.processEvents()
    present.key(Qt.Key.Key_Space)  # Space: the lesson's next step
    ready(qtbot, view, "conv", (0, 0, 1))
    assert unreadable_labels(panel) == []  # white on black
    present.key(Qt.Key.Key_Escape)  # Esc
    QApplication.processEvents()
    assert not present.active
    assert unreadable_labels(panel) == []
    assert {id(w): w.styleSheet() for w in panel.findChildren(QWidget)} == sheets
    assert {id(w): (w.font().pointSizeF(), w.testAttribute(Qt.WidgetAttribute.WA_SetFont))
            for w in panel.findChildren(QWidget)} == fonts
    # the text-size actions reach the central area again
    window.set_font_size(0, 24)
    QApplication.processEvents()
    assert view.info.font().pointSize() == 24 and panel.text.font().pointSize() == 24
    assert panel.heading.fontInfo().pixelSize() > panel.text.fontInfo().pixelSize()
    window.set_font_size(0, BASE_POINT_SIZE)
    QApplication.processEvents()
    assert view.info.font().pointSize() == BASE_POINT_SIZE
    assert panel.heading.fontInfo().pixelSize() > panel.text.fontInfo().pixelSize()
    assert unreadable_labels(panel) == []
    assert {id(w): w.styleSheet() for w in panel.findChildren(QWidget)} == sheets


def test_arrow_keys_step_the_position_as_soon_as_the_tab_shows(window: MainWindow,
                                                               qtbot: QtBot) -> None:
    """Arrow keys moved the focus to Play until a map was clicked (issue 17, item 8)."""
    window.tabs.setCurrentIndex(0)
    window.classroom.open_lesson("edge_6x6")
    view = window.classroom.panel.step_view
    ready(qtbot, view, "edge", (0, 0, 0))

    def press(key: Qt.Key) -> None:  # to what has the keyboard while the window is active
        focus = window.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, key)

    press(Qt.Key.Key_Right)
    assert view.position() == (0, 0, 1)
    press(Qt.Key.Key_Down)
    assert view.position() == (0, 1, 1)
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)  # the mouse, then keys
    assert view.position() == (0, 1, 2)
    press(Qt.Key.Key_Left)
    assert view.position() == (0, 1, 1)
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.play_button, Qt.MouseButton.LeftButton)
    position = view.position()
    press(Qt.Key.Key_Right)
    assert view.position() == (0, position[1], position[2] + 1)

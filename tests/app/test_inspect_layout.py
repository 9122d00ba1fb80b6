"""Every Inspect view fits its page's width at 1366×768 and 1920×1080, in normal and projector
text, with its content (a confusion matrix, ranked scenes): no horizontal scroll bar, no cut
label or button (issue 17, item 7)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QLabel, QListWidget, QWidget
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from tests.app.waits import CEILING_MS, settle

PROJECTOR = 24
VIEWS_OF = {"digits_small": ("Filters", "Activations", "Predictions", "Attributions",
                             "What a channel looks for", "Dream", "Style", "How they formed"),
            "fcn8s_digits": ("Masks",), "grid_detector_digits": ("Boxes",)}


@pytest.fixture
def screen_window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch,
                  request: pytest.FixtureRequest) -> Iterator[MainWindow]:
    width, height = request.param
    monkeypatch.setattr(MainWindow, "available_screen",
                        lambda self: QRect(0, 0, width, height))
    w = MainWindow()
    qtbot.addWidget(w)
    w.resize(width, height)
    w.show()
    w.apply_view_settings()
    yield w
    w.set_font_size(0, BASE_POINT_SIZE)
    w.inspect.stop_workers()


def idle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.inspect.busy, timeout=CEILING_MS)
    settle(20)


def cut(page: QWidget) -> list[str]:
    """Visible labels and buttons narrower than their text, lists that scroll sideways."""
    found = []
    for label in page.findChildren(QLabel):
        if label.isVisible() and label.text() and not label.wordWrap() and \
                label.width() < label.minimumSizeHint().width() - 1:
            found.append(f"label {label.text()[:40]!r}: {label.width()} px")
    for button in page.findChildren(QAbstractButton):
        if button.isVisible() and button.text() and \
                button.width() < button.minimumSizeHint().width() - 1:
            found.append(f"button {button.text()!r}: {button.width()} px")
    for lst in page.findChildren(QListWidget):
        if lst.isVisible() and lst.count() and lst.horizontalScrollBar().maximum() > 0:
            found.append(f"list {lst.item(0).text()!r} scrolls sideways")
    return found


@pytest.mark.parametrize("screen_window", [(1366, 768), (1920, 1080)], indirect=True,
                         ids=["1366x768", "1920x1080"])
def test_every_inspect_view_fits_its_width(qtbot: QtBot, screen_window: MainWindow,
                                           trained_run: Callable[[str], Path]) -> None:
    w = screen_window
    tab = w.inspect
    problems: list[str] = []
    for points in (BASE_POINT_SIZE, PROJECTOR):
        w.set_font_size(0, points)
        settle()
        for preset, titles in VIEWS_OF.items():
            w.document.undo_stack.setClean()
            assert w.open_run(trained_run(preset))
            w.tabs.setCurrentWidget(tab)
            if preset != "digits_small":
                tab.input_kind.setCurrentText("run's test image")
            for title in titles:
                view = tab.view(title)
                tab.views.setCurrentWidget(view)
                idle(qtbot, w)
                for button in ("confusion_button", "score_button"):  # the widest content
                    if hasattr(view, button):
                        getattr(view, button).click()
                        idle(qtbot, w)
                scroll = tab.parentWidget().parentWidget()  # the page's scroll area (PageTabs)
                assert isinstance(scroll, QAbstractScrollArea)
                where = f"{w.width()}×{w.height()} {points} pt {title}"
                room = scroll.viewport().width()
                if tab.minimumSizeHint().width() > room:
                    problems.append(f"{where}: page needs {tab.minimumSizeHint().width()} px "
                                    f"of {room}")
                if scroll.horizontalScrollBar().maximum() > 0:
                    problems.append(f"{where}: horizontal scroll bar")
                problems += [f"{where}: {p}" for p in cut(tab)]  # the view and the rows above
    assert not problems, "\n".join(problems)

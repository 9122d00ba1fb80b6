"""The Inspect views are picked by clicking the wrapping button bar (app.flow_bar), as a user
does: each click shows that view (built then, not before), checks its button alone, and the
bar wraps at projector text instead of hiding views."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from tests.app.window_driver import menu_actions


def test_clicking_each_view_button_shows_that_view(qtbot: QtBot,
                                                   full_hd_window: MainWindow) -> None:
    window = full_hd_window
    tab = window.inspect
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: not tab.busy, timeout=60_000)
    bar = tab.views.bar
    titles = [tab.views.tabText(i) for i in range(tab.views.count())]
    assert [b.text() for b in bar.buttons] == titles and len(titles) >= 6
    for index in reversed(range(len(titles))):  # the last first: nothing is built by order
        button = bar.buttons[index]
        assert not tab.views.is_built(index) or index == 0
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda i=index: tab.views.currentIndex() == i, timeout=5_000)
        assert tab.views.is_built(index)
        view = tab.current_view()
        assert view is not None and view.title == titles[index]
        qtbot.waitUntil(lambda v=view: v.isVisibleTo(window), timeout=5_000)  # shown queued
        assert [b.isChecked() for b in bar.buttons] == [i == index for i in
                                                        range(len(titles))]
        qtbot.waitUntil(lambda: not tab.busy, timeout=60_000)


def test_the_bar_wraps_at_projector_text_and_every_button_stays_clickable(
        qtbot: QtBot, full_hd_window: MainWindow) -> None:
    window = full_hd_window
    tab = window.inspect
    window.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: not tab.busy, timeout=60_000)
    window.resize(1366, 768)
    (projector,) = [a for path, a in menu_actions(window)
                    if path.endswith("Projector Text (24 pt)")]
    projector.trigger()
    bar = tab.views.bar
    qtbot.waitUntil(lambda: len({b.y() for b in bar.buttons}) > 1, timeout=5_000)
    for button in bar.buttons:
        assert bar.rect().contains(button.geometry()), button.text()
    last = len(bar.buttons) - 1
    qtbot.mouseClick(bar.buttons[last], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.views.currentIndex() == last, timeout=5_000)

"""The diagram's labels read at 4.5:1 (WCAG AA) on its background in either theme and in
present mode's palette: the output-shape line was a fixed #888, 3.5:1 on the light theme."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE, apply_theme
from tests.app.layout_checks import CONTRAST_AA, contrast
from tests.app.waits import settle
from tests.app.window_driver import menu_action


def _label_contrasts(window: MainWindow) -> list[tuple[str, float]]:
    view = window.diagram
    ground = view.backgroundBrush().color() if view.backgroundBrush().style().value else \
        view.palette().base().color()
    return [(item.text(), contrast(item.brush().color(), ground))
            for item in view.scene_.items() if isinstance(item, QGraphicsSimpleTextItem)]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_diagram_label_reads_on_its_background(qtbot: QtBot, theme: str) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    settle()
    try:
        if theme == "dark":
            menu_action(window, "View → Dark Theme").trigger()
            settle()
        found = _label_contrasts(window)
        assert len(found) >= 2 * len(window.document.spec.layers)  # name and shape per block
        low = [(text, round(ratio, 2)) for text, ratio in found if ratio < CONTRAST_AA]
        assert low == []
    finally:
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, False, BASE_POINT_SIZE)

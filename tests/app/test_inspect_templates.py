"""Inspect → Filters on a linear classifier: its weights as one template per class."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from tests.app.window_driver import menu_action


def test_the_linear_digits_preset_shows_its_templates(qtbot: QtBot) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    menu_action(window, "File → Presets → Why not dense layers → linear-digits").trigger()
    assert window.document.spec.name == "linear-digits"
    tab = window.inspect
    window.tabs.setCurrentWidget(tab)
    view = tab.view("Filters")
    tab.views.setCurrentWidget(view)
    qtbot.waitUntil(lambda: not tab.busy and view._filter_grid is not None, timeout=60_000)
    names = [view.filter_layer.itemText(i) for i in range(view.filter_layer.count())]
    assert names == ["scores"]
    grid = view._filter_grid
    assert grid.kernels.shape == (10, 1, 8, 8) and len(grid.titles) == 10
    assert view._filter_mosaic.cell_at(0, 0) == (0, 0, 0)
    view.filter_pane.hovered.emit(0, 0)  # the pointer over the first template's corner
    assert view.filter_readout.text().startswith(f"template {grid.titles[0]} [0, 0]: ")

"""The builder's views show their text whole on a small and a large screen, at normal and
projector text (issue 17, item 7): the layer table's columns inside the view, the palette's
names, the properties' labels and fields, the View menu's entries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QAbstractButton, QLabel, QMenu
from pytestqt.qtbot import QtBot

from app.build.layer_table import COLUMNS, share_widths
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.presets import load_preset
from tests.app.conftest import window_on_screen
from tests.app.waits import settle
from tests.app.window_driver import hover_tooltip

SCREENS = [(1366, 768), (1920, 1080)]
TEXT = {"normal": BASE_POINT_SIZE, "projector": 24}


@pytest.fixture(params=SCREENS, ids=lambda size: f"{size[0]}x{size[1]}")
def resnet34(request: pytest.FixtureRequest, qtbot: QtBot,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[MainWindow]:
    """ResNet-34 (37 rows, long settings) in a window filling the screen."""
    size: tuple[int, int] = request.param
    window = window_on_screen(qtbot, monkeypatch, size, load_preset("resnet34"))
    assert isinstance(window, MainWindow)
    settle()
    yield window
    window.classroom.stop()
    window.set_font_size(0, BASE_POINT_SIZE)


def _cut_text(root: object) -> list[tuple[str, int, int]]:
    """Labels and buttons under ``root`` whose one-line plain text is wider than they are."""
    cut = []
    for widget in root.findChildren(QLabel) + root.findChildren(QAbstractButton):  # type: ignore[attr-defined]
        text = widget.text().replace("&", "")
        if not widget.isVisible() or not text or "<" in text or "\n" in text:
            continue
        if isinstance(widget, QLabel) and widget.wordWrap():
            if widget.heightForWidth(widget.width()) > widget.height():
                cut.append((text, widget.heightForWidth(widget.width()), widget.height()))
            continue
        need = widget.fontMetrics().horizontalAdvance(text)
        room = widget.contentsRect().width()
        if isinstance(widget, QAbstractButton):  # with its box or margins
            need, room = widget.sizeHint().width(), widget.width()
        if need > room:
            cut.append((text, need, room))
    return cut


@pytest.mark.parametrize("text", TEXT)
def test_the_layer_table_columns_fit_the_view(resnet34: MainWindow, text: str) -> None:
    """The Settings column pushed Params and Status off screen on ResNet-34."""
    resnet34.set_font_size(0, TEXT[text])
    settle()
    table = resnet34.table
    width = table.viewport().width()
    for column, name in enumerate(COLUMNS):
        right = table.columnViewportPosition(column) + table.columnWidth(column)
        assert table.columnViewportPosition(column) >= 0 and right <= width, (name, right, width)
    assert table.horizontalScrollBar().maximum() == 0
    # the numbers are never elided; Status keeps room for its heading
    for column in (0, COLUMNS.index("Params")):
        assert table.columnWidth(column) >= table.sizeHintForColumn(column), COLUMNS[column]
    status = COLUMNS.index("Status")
    assert table.columnWidth(status) >= table.horizontalHeader().sectionSizeHint(status)
    # a narrowed Settings column elides; the row's tooltip has the text in full
    model = table.table_model
    settings = COLUMNS.index("Settings")
    row = max(range(model.rowCount()), key=lambda r: len(model.index(r, settings).data()))
    full = model.index(row, settings).data()
    tip = hover_tooltip(table, model.index(row, COLUMNS.index("Name")))
    assert full and full in tip and resnet34.document.spec.layers[row].name in tip


@pytest.mark.parametrize("text", TEXT)
def test_the_palette_and_properties_do_not_clip_their_text(resnet34: MainWindow,
                                                           text: str) -> None:
    window = resnet34
    spec = window.document.spec
    # the longest name, with a padding mode and two-number sizes to lay out
    longest = max((layer for layer in spec.layers if layer.type == "Conv2d"),
                  key=lambda layer: len(layer.name))
    window.document.select(longest.name)
    window.set_font_size(0, TEXT[text])
    settle()
    tree = window.palette_widget.tree
    assert tree.viewport().width() >= tree.sizeHintForColumn(0)  # no "ConvTransp…"
    assert tree.horizontalScrollBar().maximum() == 0
    editor = window.editor
    # the properties do not scroll sideways: a form wider than the dock was cut off
    assert editor.viewport().width() >= editor.body.minimumSizeHint().width()
    assert _cut_text(editor.body) == []
    assert _cut_text(window.palette_widget) == []


@pytest.mark.parametrize("text", TEXT)
def test_the_build_page_does_not_scroll_sideways(resnet34: MainWindow, text: str) -> None:
    """Columns inside the table are on screen only if the page around the table is."""
    resnet34.set_font_size(0, TEXT[text])
    settle()
    page = resnet34.tabs.widget(0)
    area = page.parentWidget().parentWidget()  # the tab's scroll area (app.page_tabs)
    assert area.horizontalScrollBar().maximum() == 0


def test_share_widths_keeps_the_first_groups_whole() -> None:
    needs = [30, 200, 100, 400, 100, 70, 50]
    minima = [30, 40, 40, 40, 40, 70, 40]
    groups = [[(4, 100), (6, 50)], [(1, 200), (2, 100)], [(3, 400), (6, 50)]]
    roomy = share_widths(needs, minima, groups, 2000)
    assert roomy == needs
    # the output shape and a short status whole, then name and type, the settings get the rest
    assert share_widths(needs, minima, groups, 600) == [30, 200, 100, 50, 100, 70, 50]
    # tighter: the name shares what is left, the settings elide to their minimum
    assert share_widths(needs, minima, groups, 500) == [30, 110, 100, 40, 100, 70, 50]
    assert share_widths(needs, minima, groups, 100) == [30, 40, 40, 40, 40, 70, 40]


def test_view_menu_entries_are_whole_at_projector_text(resnet34: MainWindow,
                                                      qtbot: QtBot) -> None:
    resnet34.set_font_size(0, 24)
    settle()
    menus = [m for m in resnet34.menuBar().findChildren(QMenu)
             if m.title().replace("&", "") == "View"]
    assert len(menus) == 1
    menu = menus[0]
    menu.popup(resnet34.mapToGlobal(resnet34.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    metrics = menu.fontMetrics()
    for action in menu.actions():
        if action.isSeparator():
            continue
        text = action.text().replace("&", "")
        shortcut = action.shortcut().toString(action.shortcut().SequenceFormat.NativeText)
        need = metrics.horizontalAdvance(text) + (
            metrics.horizontalAdvance(shortcut) if shortcut else 0)
        assert need < menu.actionGeometry(action).width(), text
    assert menu.width() <= resnet34.available_screen().width()  # type: ignore[union-attr]
    menu.hide()


def test_a_long_model_opens_readable_from_its_input_and_fit_shows_it_all(
        resnet34: MainWindow) -> None:
    """What the README says: the diagram opens a model whole when that is readable (85 % or
    more), otherwise at 85 % from the input; Fit shows the whole model."""
    diagram = resnet34.diagram
    assert diagram.transform().m11() == pytest.approx(0.85)
    bar = diagram.horizontalScrollBar()
    assert bar.maximum() > 0 and bar.value() == bar.minimum()
    diagram.fit()
    assert diagram.transform().m11() < 0.85 and bar.maximum() == 0
    resnet34.open_preset("lenet5")
    settle()
    assert diagram.horizontalScrollBar().maximum() == 0
    assert diagram.transform().m11() >= 0.85


def test_the_layer_names_stay_whole_after_another_tab_at_projector_text(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, trained_run: object,
        convscope_home: object) -> None:
    """1366 px, opened with projector text saved, a trained run open, View → Projector Text
    chosen again, then Train and back to Build: the docks came back at their old widths and
    the Name column was 17 px short (116 of 133), the properties having taken what the table
    needed."""
    import json
    from pathlib import Path

    from tests.app.layout_checks import _table_columns
    from tests.app.window_driver import menu_action

    assert isinstance(convscope_home, Path)
    convscope_home.mkdir(parents=True, exist_ok=True)
    (convscope_home / "settings.json").write_text(json.dumps({"font_size": 24}))
    monkeypatch.setattr(MainWindow, "available_screen", lambda self: QRect(0, 0, 1366, 768))
    window = MainWindow()
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.apply_view_settings()  # as app.main.run_gui does
    settle()
    try:
        assert callable(trained_run)
        window.classroom.open_lesson("rgb_minus_25")
        assert window.open_run(Path(trained_run("digits_small")))
        menu_action(window, "View → Projector Text (24 pt)").trigger()
        settle()
        for tab in (1, 0):
            qtbot.mouseClick(window.tabs.tabBar(), Qt.MouseButton.LeftButton,
                             pos=window.tabs.tabBar().tabRect(tab).center())
            settle()
        assert window.tabs.currentIndex() == 0
        assert _table_columns(window.table) == []
        assert not window.table.isColumnHidden(COLUMNS.index("Name"))
    finally:
        window.classroom.stop()
        window.set_font_size(0, BASE_POINT_SIZE)
        from PySide6.QtWidgets import QApplication

        from app.style import apply_theme
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        apply_theme(app, False, BASE_POINT_SIZE)

"""An edit updates what it changed: table rows, tooltips on hover, diagram blocks."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication
from pytestqt.qtbot import QtBot

import app.build.layer_table as layer_table
from app.build.diagram import DiagramView
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE, apply_theme
from core.presets import load_preset
from tests.app.conftest import window_on_screen
from tests.app.layout_checks import cut_text, row_heights
from tests.app.waits import settle
from tests.app.window_driver import hover_tooltip, menu_action


@pytest.fixture
def resnet(qtbot: QtBot) -> MainWindow:
    window = MainWindow(load_preset("resnet18"))
    qtbot.addWidget(window)
    window.resize(1600, 900)
    window.show()
    return window


def test_an_edit_announces_only_the_rows_whose_values_changed(resnet: MainWindow) -> None:
    model = resnet.table.table_model
    rows: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles=(): rows.append((a.row(), b.row())))
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    resnet.document.set_param("layer3_0_conv1", "out_channels", 128)
    spec = resnet.document.spec
    changed = {r for start, end in rows for r in range(start, end + 1)}
    # the conv itself, its batch norm and ReLU read 128 channels now; conv2 reads them too
    assert changed == {spec.index(n) for n in ("layer3_0_conv1", "layer3_0_bn1",
                                                "layer3_0_relu1", "layer3_0_conv2")}
    assert not resets
    assert model.index(spec.index("layer3_0_bn1"), 4).data() == "128×14×14"


def test_tooltips_are_computed_on_hover_not_on_edit(resnet: MainWindow,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = layer_table.explain_layer
    monkeypatch.setattr(layer_table, "explain_layer",
                        lambda layer: calls.append(layer.name) or real(layer))
    resnet.document.set_param("conv1", "out_channels", 32)
    resnet.document.set_param("conv1", "out_channels", 48)
    assert calls == []
    model = resnet.table.table_model
    tip = hover_tooltip(resnet.table, model.index(0, 1))
    assert calls == ["conv1"]
    assert "48" in tip and "params" in tip
    # the items hold no tooltip: one is computed only for the row hovered
    assert model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole) is None


def test_the_diagram_moves_only_blocks_whose_geometry_changed(
        resnet: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    placed: list[str] = []
    real = DiagramView._place

    def spy(self: DiagramView, entry: tuple, *args: object) -> None:  # type: ignore[type-arg]
        placed.append(entry[0])
        real(self, entry, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(DiagramView, "_place", spy)
    before = {name: block.rect() for name, block in resnet.diagram.blocks.items()}
    resnet.document.set_param("layer3_0_conv1", "out_channels", 128)
    assert sorted(placed) == sorted(["layer3_0_conv1", "layer3_0_bn1", "layer3_0_relu1"])
    after = {name: block.rect() for name, block in resnet.diagram.blocks.items()}
    moved = {name for name in before if before[name] != after[name]}
    assert moved <= set(placed)
    assert "layer3_0_conv1" in moved  # fewer channels: a narrower block


def test_selecting_layers_opens_no_stray_top_level_windows(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A property field shown before it had a parent opened as a window of its own for a
    moment (on a real screen: a flash, and the main window lost the keyboard)."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    from app.main_window import MainWindow
    from core.presets import load_preset

    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    shown: list[str] = []

    class Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (event.type() == QEvent.Type.Show and isinstance(obj, QWidget)
                    and obj.isWindow() and obj is not window):
                shown.append(type(obj).__name__)
            return False

    watch = Watch()
    QApplication.instance().installEventFilter(watch)
    try:
        for name in [layer.name for layer in window.document.spec.layers]:
            window.document.select(name)
            QApplication.processEvents()
    finally:
        QApplication.instance().removeEventFilter(watch)
    assert not shown, f"stray windows shown: {shown}"


def test_painting_the_rows_runs_no_python_per_cell(resnet: MainWindow) -> None:
    """The rows' texts are in Qt's items: a repaint of the layer list (every edit that moves
    rows, every scroll) reads them without calling the model's Python (a data() called for
    every role of every visible cell was half of a delete's table paint on ResNet-152)."""
    import sys
    from types import FrameType

    table = resnet.table
    table.document.select("layer2_0_conv1")
    QApplication.processEvents()
    calls: list[str] = []

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event == "call" and frame.f_code.co_filename == layer_table.__file__:
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        table.viewport().repaint()
    finally:
        sys.setprofile(None)
    assert calls == []
    # what is painted is the document's: the row's name, shape and parameters
    row = resnet.document.spec.index("layer2_0_conv1")
    model = table.table_model
    assert [model.index(row, c).data() for c in (1, 4, 5)] == ["layer2_0_conv1", "128×28×28",
                                                                "73,728"]


def test_rows_show_the_layer_names_whole_at_projector_text_and_back(
        resnet: MainWindow, qtbot: QtBot, request: pytest.FixtureRequest) -> None:
    """At 24 pt the rows stayed 29 px: the underscores of layer1_0_conv1 were cut off (issue
    17). Rows follow the text size both ways: back at normal text, no 24 pt rows are left."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    # the application's font: the next test's window starts from it, even if this one fails
    request.addfinalizer(lambda: apply_theme(app, False, BASE_POINT_SIZE))
    table = resnet.table
    row = resnet.document.spec.index("layer1_0_conv1")
    normal = table.rowHeight(row)
    menu_action(resnet, "View → Projector Text (24 pt)").trigger()
    settle()
    table.scrollTo(table.table_model.index(row, 1))
    settle()
    line = table.fontMetrics().height()
    assert line > 30  # 24 pt text
    assert table.rowHeight(row) - 1 >= line  # the text's line whole above the grid line
    assert row_heights(resnet) == []  # and no other list, tree or table of the window cuts
    menu_action(resnet, "View → Normal Text").trigger()
    settle()
    assert table.rowHeight(row) == normal
    assert row_heights(resnet) == []


@pytest.mark.parametrize(("screen", "whole"), [((1366, 768), False), ((1920, 1080), True)])
def test_long_names_show_whole_where_there_is_room_else_both_ends_and_the_tooltip(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest,
        screen: tuple[int, int], whole: bool) -> None:
    """ResNet-18 at projector text: on 1920 px the Name column is as wide as layer1_0_conv1;
    on a 1366 px laptop it cannot be (186 px beside both docks, the name needs 420): the name
    keeps both ends ("laye…onv1", not "layer1_0…" on every row of the block) and its tooltip
    gives it whole. Back at normal text every name shows whole again."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    request.addfinalizer(lambda: apply_theme(app, False, BASE_POINT_SIZE))
    window = window_on_screen(qtbot, monkeypatch, screen, load_preset("resnet18"))
    assert isinstance(window, MainWindow)
    settle()
    menu_action(window, "View → Projector Text (24 pt)").trigger()
    settle()
    table = window.table
    index = table.table_model.index(window.document.spec.index("layer1_0_conv1"), 1)
    table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)
    settle()
    assert index.data() == "layer1_0_conv1"
    name_fits = table.sizeHintForIndex(index).width() <= table.columnWidth(1)
    assert name_fits == whole
    if not whole:  # elided in the middle, whole in the tooltip
        assert table.textElideMode() == Qt.TextElideMode.ElideMiddle
        assert hover_tooltip(table, index).startswith("layer1_0_conv1 (Conv2d)")
    assert cut_text(window) == []
    menu_action(window, "View → Normal Text").trigger()
    settle()
    assert table.sizeHintForColumn(1) <= table.columnWidth(1)
    assert cut_text(window) == []

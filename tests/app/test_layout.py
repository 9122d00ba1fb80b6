"""Layouts that fit a 1920×1080 screen and a projector (View → Projector Text)."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QDockWidget, QFormLayout
from pytestqt.qtbot import QtBot

from app.build.diagram import block_size
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.presets import load_preset
from tests.app.waits import CEILING_MS, settle

SCREEN = QRect(0, 0, 1920, 1080)


@pytest.fixture
def window(full_hd_window: MainWindow) -> MainWindow:
    return full_hd_window


def _dock(window: MainWindow, name: str) -> QDockWidget:
    dock = window.findChild(QDockWidget, name)
    assert dock is not None
    return dock


def test_the_default_model_fits_without_scrolling(window: MainWindow) -> None:
    table = window.table
    assert table.verticalScrollBar().maximum() == 0  # every row of the default model shows
    assert table.horizontalScrollBar().maximum() == 0  # Params and Status columns too
    assert table.columnViewportPosition(6) + 20 < table.viewport().width()


def test_projector_text_keeps_the_window_on_the_screen_and_docks_readable(
        window: MainWindow, qtbot: QtBot) -> None:
    window.set_font_size(0, 24)
    settle()
    assert SCREEN.contains(window.frameGeometry()) or (
        window.width() <= SCREEN.width() and window.height() <= SCREEN.height())
    hint = window.minimumSizeHint()
    assert hint.width() <= SCREEN.width() and hint.height() <= SCREEN.height()
    tree = window.palette_widget.tree
    # no "Convol…": the palette is as wide as its longest type name
    assert tree.viewport().width() >= tree.sizeHintForColumn(0)
    # the properties are as wide as their form (no 50-px Properties)
    assert window.editor.viewport().width() >= window.editor.body.minimumSizeHint().width() - 2
    assert _dock(window, "Properties").width() > 300


def test_normal_text_restores_the_layout(window: MainWindow, qtbot: QtBot) -> None:
    settle()
    before = (window.size(), _dock(window, "Layers").width(),
              _dock(window, "Properties").width(), window.font().pointSize())
    window.set_font_size(0, 24)
    settle()
    window.set_font_size(0, BASE_POINT_SIZE)
    settle()
    after = (window.size(), _dock(window, "Layers").width(),
             _dock(window, "Properties").width(), window.font().pointSize())
    assert after[0] == before[0] and after[3] == before[3]
    assert abs(after[1] - before[1]) <= 4 and abs(after[2] - before[2]) <= 4


def test_plot_text_follows_projector_text(window: MainWindow) -> None:
    window.set_font_size(0, 24)
    axis = window.training.curves.loss_plot.getAxis("left")
    assert axis.style["tickFont"].pointSize() >= 20
    assert "24pt" in window.training.curves.loss_plot.titleLabel.text or \
        window.training.curves.loss_plot.titleLabel.opts.get("size") == "24pt"


def test_diagram_fits_each_model_and_zoom_does_not_carry_over(window: MainWindow,
                                                              qtbot: QtBot) -> None:
    diagram = window.diagram
    fitted = diagram.transform().m11()
    diagram.zoom(1.25)
    diagram.zoom(1.25)
    assert diagram.transform().m11() > fitted
    window.open_preset("lenet5")
    settle()
    window.open_preset("digits_small")
    settle()
    reopened = diagram.transform().m11()
    assert reopened < fitted * 1.25 * 1.25 * 0.9  # the zoom did not carry over
    diagram.fit_model()
    assert reopened == pytest.approx(diagram.transform().m11(), rel=0.01)  # fitted afresh
    assert "Ctrl+wheel" in window.zoom_label.text()


def test_diagram_labels_never_overlap(qtbot: QtBot) -> None:
    w = MainWindow(load_preset("resnet18"))
    qtbot.addWidget(w)
    w.show()
    items = [label for pair in w.diagram.labels.values() for label in pair]
    shapes = [item.mapToScene(item.shape()) for item in items]
    for (a, pa), (b, pb) in itertools.combinations(zip(items, shapes, strict=True), 2):
        if a.data(0) != b.data(0):
            assert not pa.intersects(pb), (a.text(), b.text())


def test_block_heights_tell_224_from_7() -> None:
    assert block_size((64, 224, 224))[1] >= 3 * block_size((512, 7, 7))[1]
    assert block_size((64, 56, 56))[1] > 1.5 * block_size((64, 14, 14))[1]
    assert block_size((4096,))[1] < block_size((64, 56, 56))[1]


def test_train_tab_momentum_only_for_sgd_and_buttons_stay_put(window: MainWindow,
                                                              qtbot: QtBot) -> None:
    panel = window.training
    window.tabs.setCurrentWidget(panel)
    form = panel.form.momentum.parentWidget().layout()
    assert isinstance(form, QFormLayout)
    panel.form.optimizer.setCurrentText("adam")
    assert not panel.form.momentum.isVisible()
    panel.form.optimizer.setCurrentText("sgd")
    assert panel.form.momentum.isVisible()
    settle()
    controls = panel.controls
    buttons = (controls.start_button, controls.pause_button, controls.stop_button)
    where = [b.geometry() for b in buttons]
    panel.form.preview.setText("No preview: a long message " * 5)
    controls.pause_button.setText("Resume")
    controls.status.setText("epoch 3/20 · a status line much longer than the column is wide " * 3)
    settle()
    assert [b.geometry() for b in buttons] == where
    assert controls.status.height() <= controls.status.fontMetrics().height() * 1.6  # one line


def test_at_projector_text_the_docks_show_on_the_build_tab_only(window: MainWindow,
                                                                qtbot: QtBot) -> None:
    docks = [_dock(window, "Layers"), _dock(window, "Properties")]
    window.tabs.setCurrentWidget(window.inspect)
    assert all(d.isVisible() for d in docks)  # normal text: always there
    window.set_font_size(0, 24)
    settle()
    assert not any(d.isVisible() for d in docks)
    page = window.tabs.widget(window.tabs.currentIndex())
    assert page is window.inspect and page.width() > 0.8 * window.width()
    window.tabs.setCurrentIndex(0)
    assert all(d.isVisible() for d in docks)
    window.tabs.setCurrentWidget(window.training)
    assert not any(d.isVisible() for d in docks)
    window.set_font_size(0, BASE_POINT_SIZE)
    assert all(d.isVisible() for d in docks)


def test_train_settings_are_not_cut_at_projector_text(window: MainWindow, qtbot: QtBot) -> None:
    window.set_font_size(0, 24)  # while the Build tab is shown: the Train tab sizes on show
    settle()
    window.tabs.setCurrentWidget(window.training)
    area = window.training.settings_area
    qtbot.waitUntil(lambda: area.viewport().width() >= area.widget().minimumSizeHint().width(),
                    timeout=CEILING_MS)
    assert area.horizontalScrollBar().maximum() == 0
    assert window.training.curves.width() > window.width() * 0.4  # the curves keep their room

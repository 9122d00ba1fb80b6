"""The Classroom tab: lessons, stepping with the keyboard, editing, presentation mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDockWidget
from pytestqt.qtbot import QtBot

from app.classroom.step_view import StepThroughView
from app.main_window import MainWindow
from core.model.editing import empty_model
from tests.app.waits import CEILING_MS


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow(empty_model("mnist", (1, 28, 28)))
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w.classroom.panel)  # the step-through builds while it is shown
    yield w
    w.classroom.stop()


def ready(qtbot: QtBot, view: StepThroughView, layer: str, position: tuple[int, ...]) -> None:
    qtbot.waitUntil(lambda: view.session is not None and view.step_result is not None
                    and view.step_result.layer == layer
                    and view.step_result.position == position, timeout=60_000)


def value_at(view: StepThroughView, position: tuple[int, ...]) -> float:
    assert view.step_result is not None
    return float(view.session.output(view.step_result.layer)[position])


def test_lesson_opens_into_builder_and_steps_with_the_arrow_keys(window: MainWindow,
                                                                 qtbot: QtBot) -> None:
    assert window.classroom.open_lesson("edge_6x6")
    panel = window.classroom.panel
    view = panel.step_view
    assert window.tabs.currentWidget() is panel and window.document.spec.name == "edge-6x6"
    ready(qtbot, view, "edge", (0, 0, 0))
    assert view.step_result is not None and view.step_result.value == -4
    assert "sum of the products = −4" in view.formula.text()
    view.setFocus()
    for key, expected in ((Qt.Key.Key_Right, (0, 0, 1)), (Qt.Key.Key_Down, (0, 1, 1)),
                          (Qt.Key.Key_Left, (0, 1, 0)), (Qt.Key.Key_Up, (0, 0, 0))):
        qtbot.keyClick(view, key)
        assert view.step_result.position == expected
        assert view.step_result.value == value_at(view, expected)
    qtbot.keyClick(view, Qt.Key.Key_Left)  # already at the first position
    assert view.step_result.position == (0, 0, 0)
    panel.steps.setCurrentRow(1)  # the first misprint
    assert view.step_result.position == (0, 3, 0) and view.step_result.value == -11
    assert view.output_grid.marks == [(3, 0)]
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert view.controls.timer.isActive() and view.controls.play_button.text() == "Pause"
    view.controls.speed.setValue(20)
    qtbot.waitUntil(lambda: view.step_result.position != (0, 3, 0), timeout=CEILING_MS)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not view.controls.timer.isActive()


def test_editing_the_padding_moves_the_numbers(window: MainWindow, qtbot: QtBot) -> None:
    window.classroom.open_lesson("edge_6x6")
    view = window.classroom.panel.step_view
    ready(qtbot, view, "edge", (0, 0, 0))
    window.document.set_param("edge", "padding", 0)
    # without padding the output is 4×4 and its first value is the window at rows 0–2
    qtbot.waitUntil(lambda: tuple(view.session.output("edge").shape) == (1, 4, 4),
                    timeout=CEILING_MS)
    qtbot.waitUntil(lambda: view.step_result is not None
                    and not view.step_result.padding.any(), timeout=CEILING_MS)
    assert view.step_result.value == (1 + 2 + 0) - (3 + 5 + 9) == -14
    assert "lesson's fixed kernels" in view.info.text()


def test_a_lesson_step_on_a_compared_model(window: MainWindow, qtbot: QtBot) -> None:
    window.classroom.open_lesson("fc_local_conv")
    panel = window.classroom.panel
    assert [card.total.text() for card in panel.cards if card.isVisible()] == [
        "<b>26 parameters</b>", "<b>78,500 parameters</b>", "<b>14,976 parameters</b>"]
    panel.steps.setCurrentRow(1)
    ready(qtbot, panel.step_view, "local", (0, 0, 0))
    assert panel.step_view.step_result.layer_type == "LocallyConnected2d"


def test_present_mode_keyboard_and_leaving_restores_the_window(window: MainWindow,
                                                               qtbot: QtBot) -> None:
    window.classroom.open_lesson("edge_6x6")
    view = window.classroom.panel.step_view
    ready(qtbot, view, "edge", (0, 0, 0))
    window.tabs.setCurrentIndex(0)
    window.resize(1300, 800)
    QApplication.processEvents()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    before = (window.geometry(), window.isFullScreen(), window.tabs.currentIndex(),
              window.menuBar().isVisible(), window.statusBar().isVisible(), app.font().pointSize(),
              app.palette().window().color().name(), window.table.font().pointSize(),
              [d.isVisible() for d in window.findChildren(QDockWidget)],
              window.shape_bar.isVisible())
    assert before[-1]  # the model bar (a toolbar above the docks) shows
    present = window.classroom.present
    present.enter()
    QApplication.processEvents()
    assert present.active and window.isFullScreen()
    assert window.tabs.currentWidget() is window.classroom.panel
    assert not window.menuBar().isVisible() and view.info.font().pointSize() == 22
    assert app.palette().window().color().name() == "#000000"
    assert present.pointer.isVisible()
    assert not any(d.isVisible() for d in window.findChildren(QDockWidget))
    assert not window.shape_bar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the lesson's next step
    assert window.classroom.panel.steps.currentRow() == 1
    assert view.step_result.position == (0, 3, 0)
    qtbot.keyClick(window, Qt.Key.Key_Right)  # the next position
    assert view.step_result.position == (0, 3, 1)
    qtbot.keyClick(window, Qt.Key.Key_P)
    assert not present.pointer.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert not present.active
    # the window system applies the restored geometry asynchronously
    qtbot.waitUntil(lambda: window.geometry() == before[0], timeout=CEILING_MS)
    after = (window.geometry(), window.isFullScreen(), window.tabs.currentIndex(),
             window.menuBar().isVisible(), window.statusBar().isVisible(), app.font().pointSize(),
             app.palette().window().color().name(), window.table.font().pointSize(),
             [d.isVisible() for d in window.findChildren(QDockWidget)],
             window.shape_bar.isVisible())
    assert after == before
    assert window.tabs.tabBar().isVisible()
    assert not present.pointer.isVisible()
    window.classroom.present_action.trigger()  # F5 toggles
    assert present.active
    window.classroom.present_action.trigger()
    assert not present.active


def test_slides_are_written_on_a_worker(window: MainWindow, qtbot: QtBot, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    window.classroom.open_lesson("trans_conv")
    view = window.classroom.panel.step_view
    ready(qtbot, view, "up", (0, 0, 0))
    monkeypatch.setattr(window.classroom, "_folder", lambda: tmp_path)
    with qtbot.waitSignal(window.classroom.writer.loaded, timeout=60_000) as written:
        window.classroom.export_step_slides()
    paths = written.args[0]
    assert [p.name for p in paths] == ["01-trans-conv-summary.png", "02-up.png", "03-up.png",
                                       "04-up.png"]
    assert Image.open(paths[0]).size == (1920, 1080)


def test_lesson_kernels_reach_the_inspector_and_another_model_ends_the_lesson(
        window: MainWindow, qtbot: QtBot) -> None:
    from safetensors.torch import load_file

    window.classroom.open_lesson("edge_6x6")
    assert window.document.weights is not None
    assert load_file(str(window.document.weights))["edge.weight"].flatten().tolist() == [
        1, 0, -1, 1, 0, -1, 1, 0, -1]
    panel = window.classroom.panel
    window.open_preset("digits_small")
    assert panel.lesson is None and panel.heading.text().startswith("Step-through")
    ready(qtbot, panel.step_view, "conv1", (0, 0, 0))


def test_the_users_own_input_and_a_bad_array_says_why(window: MainWindow, qtbot: QtBot,
                                                      tmp_path: Path) -> None:
    import numpy as np

    window.open_preset("digits_small")
    panel = window.classroom.panel
    view = panel.step_view
    ready(qtbot, view, "conv1", (0, 0, 0))
    from PIL import Image

    Image.fromarray(np.full((16, 16), 200, dtype=np.uint8)).save(tmp_path / "grey.png")
    panel.set_input(str(tmp_path / "grey.png"))  # fitted to 1×8×8 like the inspector does
    qtbot.waitUntil(lambda: view.session is not None
                    and "grey.png" in view.session.source, timeout=60_000)
    assert "resized" in view.session.source
    values = np.arange(64, dtype=np.float64).reshape(1, 8, 8)
    np.save(tmp_path / "x.npy", values)
    panel.set_input(f"array:{tmp_path / 'x.npy'}")
    qtbot.waitUntil(lambda: view.session is not None and "x.npy" in view.session.source,
                    timeout=60_000)
    assert view.session.input.numpy().tolist() == values.tolist()
    np.save(tmp_path / "small.npy", values[:, :4])
    panel.set_input(f"array:{tmp_path / 'small.npy'}")
    qtbot.waitUntil(lambda: "the model takes 1×8×8" in view.info.text(), timeout=60_000)


def test_transposed_convolution_scatter_view_rebuilds_trans_conv(window: MainWindow,
                                                                 qtbot: QtBot) -> None:
    window.classroom.open_lesson("trans_conv")
    view = window.classroom.panel.step_view
    ready(qtbot, view, "up", (0, 0, 0))
    assert view.controls.scatter.isVisible()
    view.controls.scatter.setChecked(True)
    assert view.position() == (0, 0, 0) and view.controls.spins[1].maximum() == 1  # the 2×2 input
    view.setFocus()
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.position() == (0, 1, 1)
    assert view.output_grid.values is not None
    assert view.output_grid.values.tolist() == [[0, 0, 1], [0, 4, 6], [4, 12, 9]]
    assert view.product_grids[0].values.tolist() == [[0, 3], [6, 9]]  # 3 × K


def test_a_lesson_opened_after_the_matrix_lesson_shows_the_step_through(
        window: MainWindow, qtbot: QtBot) -> None:
    """After "A convolution is a sparse matrix", "Fully connected vs local receptive fields
    vs convolution" (whose first step is about the cards) opened on the matrix view: the
    Show choice stayed "As a matrix" from the lesson before."""
    panel = window.classroom.panel
    window.classroom.open_lesson("conv_as_matrix")
    assert panel.current_view() is panel.matrix_view
    window.classroom.open_lesson("fc_local_conv")
    assert panel.current_view() is panel.step_view
    assert panel.mode_choice.currentData() == "forward"
    ready(qtbot, panel.step_view, "conv", (0, 0, 0))  # the lesson's model, stepped through

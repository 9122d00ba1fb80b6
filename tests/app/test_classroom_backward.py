"""The Classroom's backward step and matrix view, through the window: the lessons from the
Lessons menu, the Show choice, the keys, slides, and the layout at projector text."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.classroom.backward_view import BackwardView
from app.classroom.matrix_view import MatrixView
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from core.model.editing import empty_model
from tests.app.test_classroom_layout import cut_text, overlaps
from tests.app.waits import CEILING_MS, settle
from tests.app.window_driver import menu_action


@pytest.fixture
def window(qtbot: QtBot) -> MainWindow:
    w = MainWindow(empty_model("mnist", (1, 28, 28)))
    qtbot.addWidget(w)
    w.show()
    w.tabs.setCurrentWidget(w.classroom.panel)
    yield w
    w.classroom.stop()


def computed(qtbot: QtBot, view: BackwardView | MatrixView, check: object = None) -> None:
    qtbot.waitUntil(lambda: view.result is not None and not view.busy
                    and (check is None or check(view.result)),  # type: ignore[operator]
                    timeout=CEILING_MS)


def test_backward_lesson_steps_terms_with_the_keys_and_ends_at_autograd(
        window: MainWindow, qtbot: QtBot) -> None:
    menu_action(window, "Lessons → Backpropagation through a convolution, term by term").trigger()
    panel = window.classroom.panel
    view = panel.backward_view
    assert panel.current_view() is view and panel.mode_choice.currentData() == "backward"
    computed(qtbot, view, lambda r: r.kind == "weight")
    step = view.result
    assert step is not None and len(step.contributions) == 25 and view.term == 0
    # lecture 003: the upper-left weight does not reach the upper-left output (padding)
    assert step.padding[0] and step.contributions[0] == 0
    assert "term 1 of 25" in view.formula.text() and "(padding)" in view.formula.text()
    assert view.upstream_grid.marks == [(0, 0)] and view.kernel_grid.marks == [(0, 0)]
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.term == 1 and view.upstream_grid.marks == [(0, 1)]
    qtbot.keyClick(view, Qt.Key.Key_Down)  # a row of 5 output positions further
    assert view.term == 6 and view.upstream_grid.marks == [(1, 1)]
    assert view.terms_grid.window_cells == [(0, c) for c in range(5)] + [(1, 0)]
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert view.term == 5
    # the autograd check: the model's own backward pass to class 0
    session = view.session
    model = session.inspector.model
    x = session.input[None]
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x), torch.tensor([0])).backward()  # type: ignore
    expected = float(session.module("conv").weight.grad[0, 0, 0, 0])
    model.zero_grad()
    assert step.value == pytest.approx(expected, rel=1e-5)
    assert step.autograd == pytest.approx(expected, rel=1e-6)
    panel.next_lesson_step(+1)  # the same weight, the last term
    qtbot.waitUntil(lambda: view.term == 24, timeout=CEILING_MS)
    assert float(view.result.running_sum[-1]) == pytest.approx(expected, rel=1e-5)
    assert "term 25 of 25" in view.formula.text() and "autograd" in view.notes.text()
    assert not view.step_by(+1)  # the last term
    panel.next_lesson_step(+1)  # one input cell: the transposed convolution
    computed(qtbot, view, lambda r: r.kind == "input")
    assert len(view.result.contributions) == 4 and view.input_grid.marks == [(1, 1)]
    panel.next_lesson_step(+1)  # the bias: the sum of the upstream gradient
    computed(qtbot, view, lambda r: r.kind == "bias")
    assert view.result.value == pytest.approx(float(view.result.upstream_map.sum()))


def test_choosing_a_gradient_in_the_bar_recomputes_it(window: MainWindow, qtbot: QtBot) -> None:
    window.classroom.open_lesson("backprop_conv")
    panel = window.classroom.panel
    view = panel.backward_view
    computed(qtbot, view)
    view.layer.setCurrentText("fc")  # the Linear layer: W[o, i]
    computed(qtbot, view, lambda r: r.layer == "fc")
    assert [s.prefix() for s in view.spins if s.isVisibleTo(view)] == ["O (unit) ", "I (in) "]
    view.spins[1].setValue(7)
    computed(qtbot, view, lambda r: r.layer == "fc" and r.at == (0, 7))
    assert len(view.result.contributions) == 1
    assert view.result.value == pytest.approx(view.result.autograd, rel=1e-5)
    view.target.setValue(1)  # the other class: the gradient changes sign
    computed(qtbot, view, lambda r: r.target == 1)
    assert view.result.loss < 1


def test_show_as_a_matrix_highlights_the_row_and_its_window(window: MainWindow,
                                                            qtbot: QtBot) -> None:
    menu_action(window, "Lessons → A convolution is a sparse matrix").trigger()
    panel = window.classroom.panel
    view = panel.matrix_view
    assert panel.current_view() is view
    computed(qtbot, view)
    conv, parts = view.result
    assert conv.matrix.shape == (4, 16) and view.row.value() == 0
    assert view.conv_grid.window_cells == [(0, j) for j in range(16)]
    assert view.input_grid.window_cells == [(r, c) for r in range(3) for c in range(3)]
    assert "(output 0, 0)" in view.formula.text()
    x = view.session.input.double().numpy().ravel()
    out = view.session.output("edge").double().numpy().ravel()
    np.testing.assert_allclose(conv.matrix @ x + conv.bias, out, atol=1e-6)
    assert parts.local_weights == 36 and parts.dense_weights == 64
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.row.value() == 1 and "(output 0, 1)" in view.formula.text()
    assert view.input_grid.window_cells == [(r, c) for r in range(3) for c in range(1, 4)]
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.row.value() == 3
    assert "weights" in view.notes.text()
    # back to the forward step-through from the Show choice
    panel.mode_choice.setCurrentIndex(0)
    assert panel.current_view() is panel.step_view


def test_backward_and_matrix_slides_are_written_on_a_worker(
        window: MainWindow, qtbot: QtBot, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    window.classroom.open_lesson("backprop_conv")
    panel = window.classroom.panel
    computed(qtbot, panel.backward_view)
    monkeypatch.setattr(window.classroom, "_folder", lambda: tmp_path / "back")
    action = menu_action(window, "Lessons → Export Step-Through Row as Slides…")
    with qtbot.waitSignal(window.classroom.writer.loaded, timeout=CEILING_MS) as written:
        action.trigger()
    paths = written.args[0]
    assert len(paths) == 25 and Image.open(paths[0]).size == (1920, 1080)
    panel.set_mode("matrix")
    computed(qtbot, panel.matrix_view)
    monkeypatch.setattr(window.classroom, "_folder", lambda: tmp_path / "matrix")
    with qtbot.waitSignal(window.classroom.writer.loaded, timeout=CEILING_MS) as written:
        action.trigger()
    assert len(written.args[0]) == 5 * 5  # one per output cell of the 5×5 channel


def test_a_model_without_class_scores_says_why_there_is_no_gradient(
        window: MainWindow, qtbot: QtBot) -> None:
    window.classroom.open_lesson("edge_6x6")
    panel = window.classroom.panel
    panel.set_mode("backward")
    view = panel.backward_view
    qtbot.waitUntil(lambda: "not class scores" in view.info.text(), timeout=CEILING_MS)
    assert "\n" not in view.info.text()


@pytest.mark.parametrize("text", ["projector", "present"])
def test_backward_and_matrix_views_read_at_projector_text(full_hd_window: MainWindow,
                                                          qtbot: QtBot, text: str) -> None:
    window = full_hd_window
    window.set_font_size(0, 24 if text == "projector" else BASE_POINT_SIZE)
    window.classroom.open_lesson("backprop_conv")
    panel = window.classroom.panel
    if text == "present":
        from PySide6.QtCore import QRect

        window.classroom.present.enter()
        window.setWindowState(Qt.WindowState.WindowNoState)
        window.setGeometry(QRect(0, 0, 1920, 1080))
    for mode in ("backward", "matrix"):
        panel.set_mode(mode)
        view = panel.current_view()
        computed(qtbot, view)
        for _ in range(5):
            QApplication.processEvents()
            QApplication.sendPostedEvents(None, 0)
        qtbot.waitUntil(lambda: not panel._fit_timer.isActive(), timeout=CEILING_MS)
        QApplication.processEvents()
        body = view.fontInfo().pixelSize()
        grids = [g for g in view.grids if g.isVisible() and g.values is not None
                 and g.values.size <= 100]
        assert grids
        for grid in grids:
            grid.grab()
            assert grid.number_pixels >= min(24, body), (mode, grid.title, grid.number_pixels)
        assert overlaps(view) == [] and overlaps(view.bar) == []
        assert cut_text(view) == []
        assert view.height() >= view.needed_height() - 1
    if text == "present":
        window.classroom.present.key(Qt.Key.Key_Escape)


def test_a_slow_backward_pass_shows_cancel_and_cancel_drops_its_result(
        window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import app.classroom.backward_view as backward_view

    window.classroom.open_lesson("backprop_conv")
    panel = window.classroom.panel
    view = panel.backward_view
    computed(qtbot, view)
    first = view.result
    release = threading.Event()
    real = backward_view.session_gradient

    def slow(*args: object) -> object:
        release.wait(CEILING_MS / 1000)  # until the test lets it finish
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(backward_view, "session_gradient", slow)
    view.spins[3].setValue(1)  # another weight: computed on the worker
    qtbot.waitUntil(lambda: view.cancel_button.isVisible(), timeout=CEILING_MS)
    assert "Backpropagating" in view.info.text()
    qtbot.mouseClick(view.cancel_button, Qt.MouseButton.LeftButton)
    assert not view.cancel_button.isVisible() and "Cancelled" in view.info.text()
    release.set()
    qtbot.waitUntil(lambda: view.loader.pool.activeThreadCount() == 0, timeout=CEILING_MS)
    settle()  # the worker's queued result, had it not been dropped, arrives here
    assert view.result is first  # the cancelled result never arrived

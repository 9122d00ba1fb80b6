"""The Classroom's keyboard in a teacher's hands: arrows pressed at once, present mode and back,
and the Show / Input choices read whole at projector text (issue 17, items 2 and 8)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox
from pytestqt.qtbot import QtBot

from app.classroom.step_view import StepThroughView
from app.main_window import MainWindow
from tests.app.layout_checks import settle
from tests.app.window_driver import menu_action


@pytest.fixture
def window(full_hd_window: MainWindow) -> MainWindow:
    return full_hd_window


def _settled(qtbot: QtBot, window: MainWindow) -> None:
    """Every requested session arrived and drawn, no rebuild or fit waiting."""
    panel = window.classroom.panel
    view = panel.step_view
    qtbot.waitUntil(lambda: view.session is not None and view.step_result is not None
                    and not view.loader.busy and not panel.timer.isActive()
                    and not getattr(view, "loading", False), timeout=60_000)
    settle()
    qtbot.waitUntil(lambda: not panel._fit_timer.isActive(), timeout=60_000)
    settle()


def _press_on_focus(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    """The key to what has the keyboard, as a teacher's key press goes."""
    focus = window.focusWidget()
    assert isinstance(focus, StepThroughView), focus
    qtbot.keyClick(focus, key)


@pytest.mark.parametrize("before", [None, "rgb_minus_25"])
def test_an_arrow_pressed_as_the_lesson_opens_moves_the_step(
        window: MainWindow, qtbot: QtBot, before: str | None) -> None:
    """→ pressed in the moment before the lesson's session arrived was lost: the session came
    and the view went back to the step's position (with a lesson open before, the → moved
    that lesson's old view and was lost the same way)."""
    if before is not None:
        window.classroom.open_lesson(before)
        _settled(qtbot, window)
    window.classroom.open_lesson("edge_6x6")
    view = window.classroom.panel.step_view
    _press_on_focus(qtbot, window, Qt.Key.Key_Right)  # at once, before the session
    _press_on_focus(qtbot, window, Qt.Key.Key_Down)
    _settled(qtbot, window)
    assert view.step_result is not None and view.step_result.layer == "edge"
    assert view.position() == (0, 1, 1)
    assert view.step_result.position == (0, 1, 1)  # drawn there, not only the spin boxes


def test_a_lesson_step_chosen_while_the_session_builds_is_where_it_lands(
        window: MainWindow, qtbot: QtBot) -> None:
    """The step picked (Page Down in present mode) while a session builds is the one shown,
    not the position the rebuild was asked with."""
    window.classroom.open_lesson("rgb_minus_25")
    _settled(qtbot, window)
    window.classroom.open_lesson("edge_6x6")
    panel = window.classroom.panel
    _press_on_focus(qtbot, window, Qt.Key.Key_Right)
    panel.steps.setCurrentRow(1)  # the first misprint, at (0, 3, 0)
    _settled(qtbot, window)
    assert panel.step_view.position() == (0, 3, 0)


def test_esc_from_present_mode_keeps_the_position_stepped_to(window: MainWindow,
                                                             qtbot: QtBot) -> None:
    """Esc went back to the lesson step's position, not where the presenter had stepped with
    the arrow keys; F5 went back to it too, from where the teacher had stepped."""
    window.classroom.open_lesson("edge_6x6")
    view = window.classroom.panel.step_view
    _settled(qtbot, window)
    _press_on_focus(qtbot, window, Qt.Key.Key_Right)
    assert view.position() == (0, 0, 1)
    present = window.classroom.present
    present.enter()
    settle()
    assert view.position() == (0, 0, 1)  # entering keeps it
    present.key(Qt.Key.Key_Right)
    present.key(Qt.Key.Key_Down)
    assert view.position() == (0, 1, 2)
    present.key(Qt.Key.Key_Escape)
    settle()
    assert not present.active
    _settled(qtbot, window)
    assert view.position() == (0, 1, 2)
    assert view.step_result is not None and view.step_result.position == (0, 1, 2)


def _cut_items(combo: QComboBox) -> list[str]:
    """The combo's items whose text is wider than its text field."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    field = combo.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                         QStyle.SubControl.SC_ComboBoxEditField, combo)
    metrics = combo.fontMetrics()
    return [f"{combo.itemText(i)!r} needs {metrics.horizontalAdvance(combo.itemText(i))} px, "
            f"has {field.width()}" for i in range(combo.count())
            if metrics.horizontalAdvance(combo.itemText(i)) > field.width()]


def test_show_and_input_read_whole_at_projector_text_with_three_cards(
        window: MainWindow, qtbot: QtBot) -> None:
    """At 1920×1080 in projector text with three model cards the Show and Input choices read
    "Forward: one…" and "the lesson's,…"."""
    menu_action(window, "View → Projector Text (24 pt)").trigger()
    panel = window.classroom.panel
    faults: list[str] = []
    for key in ("fc_local_conv", "params_76", "conv_as_matrix"):
        assert window.classroom.open_lesson(key)
        _settled(qtbot, window)
        assert not panel.compact and panel.mode_choice.isVisible()
        for combo in (panel.mode_choice, panel.input_choice):
            faults += [f"{key}: {fault}" for fault in _cut_items(combo)]
            # the full text a short item stands for is its tooltip
            faults += [f"{key}: {combo.itemText(i)!r} has no tooltip"
                       for i in range(combo.count())
                       if not combo.itemData(i, Qt.ItemDataRole.ToolTipRole)]
    assert faults == [], "\n".join(faults)

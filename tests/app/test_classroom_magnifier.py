"""The Classroom's magnifier: a large map's window read from the back of a room (issue 17)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.classroom.grid_area import OUTPUT_LEAST
from app.classroom.grids import READABLE_FROM_BACK, NumberGrid
from app.classroom.step_view import StepThroughView
from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE
from tests.app.layout_checks import settle
from tests.app.window_driver import menu_action

SCREEN = QRect(0, 0, 1920, 1080)
KERNEL = 5
"""fc_local_conv's convolution: a 5×5 kernel on a 28×28 image with a vertical bar."""


@pytest.fixture
def window(full_hd_window: MainWindow) -> MainWindow:
    return full_hd_window


def _settled(qtbot: QtBot, window: MainWindow, layer: str,
             position: tuple[int, ...] | None = None) -> StepThroughView:
    """The step drawn at ``position`` (any, if None) and the split fitted."""
    panel = window.classroom.panel
    view = panel.step_view
    # no rebuild to come either (an edit's, 150 ms later: it would go back to where it began)
    qtbot.waitUntil(lambda: not panel.timer.isActive() and not view.loader.busy
                    and view.session is not None and view.step_result is not None
                    and view.step_result.layer == layer
                    and (position is None or view.step_result.position == position),
                    timeout=60_000)
    settle()
    fitting = panel._fit_timer
    qtbot.waitUntil(lambda: not fitting.isActive(), timeout=10_000)
    settle()
    return view


def _open_convolution_step(qtbot: QtBot, window: MainWindow) -> StepThroughView:
    """fc_local_conv's third step (the shared 5×5 convolution on the 28×28 image), picked in
    the lesson's list as a user picks it."""
    assert window.classroom.open_lesson("fc_local_conv")
    view = window.classroom.panel.step_view
    qtbot.waitUntil(lambda: not window.classroom.panel.timer.isActive()
                    and not view.loader.busy and view.session is not None, timeout=60_000)
    settle()
    steps = window.classroom.panel.steps
    qtbot.mouseClick(steps.viewport(), Qt.MouseButton.LeftButton,
                     pos=steps.visualItemRect(steps.item(2)).center())
    assert steps.currentRow() == 2
    return _settled(qtbot, window, "conv", (0, 7, 10))  # the lesson's position


def _press(qtbot: QtBot, window: MainWindow, key: Qt.Key, times: int = 1) -> None:
    for _ in range(times):  # to what has the keyboard while the window is active
        focus = window.focusWidget()
        assert focus is not None
        qtbot.keyClick(focus, key)


def _window_values(grid: NumberGrid) -> list[float]:
    assert grid.values is not None
    return [float(grid.values[r, c]) for r, c in sorted(grid.window_cells)]


def _check_lens(view: StepThroughView) -> None:
    """The lens is shown beside the map with numbers of at least READABLE_FROM_BACK pixels
    (as painted), the window's cells and a margin of one or two cells, the window's values
    the map's, and its rows and columns labelled with their places in the input."""
    lens = view.magnifier
    step = view.step_result
    assert step is not None
    view.input_grid.grab()  # paints: the map's numbers would be too small to read
    assert view.input_grid.number_pixels < READABLE_FROM_BACK
    assert lens.isVisible()
    lens.grid.grab()
    assert lens.grid.number_pixels >= READABLE_FROM_BACK, lens.grid.number_pixels
    assert lens.grid.values is not None
    rows, cols = lens.grid.values.shape
    assert KERNEL + 2 <= rows <= KERNEL + 4 and KERNEL + 2 <= cols <= KERNEL + 4
    assert len(lens.grid.window_cells) == KERNEL * KERNEL
    assert _window_values(lens.grid) == _window_values(view.input_grid)
    assert _window_values(lens.grid) == [float(v) for v in np.ravel(step.patch[0])]
    _, row, col = step.position
    row_labels, col_labels = lens.grid.labels()
    margin = (rows - KERNEL) // 2
    assert row_labels[margin:margin + KERNEL] == [str(row + i) for i in range(KERNEL)]
    assert col_labels[margin:margin + KERNEL] == [str(col + j) for j in range(KERNEL)]
    # beside the map's picture, inside the map's widget
    lens_rect = QRectF(lens.grid.geometry())
    assert QRectF(view.input_grid.rect()).contains(lens_rect)
    picture = view.input_grid.cell_rect(0, 0).united(view.input_grid.cell_rect(27, 27))
    assert picture.right() < lens_rect.left()
    _check_read_from_the_back(view)


PICTURE = 150
"""The least size of the map's picture beside the lens: the digit and the lens's outline on it
seen from the back of a room."""


def _check_read_from_the_back(view: StepThroughView) -> None:
    """Beside the lens the map's title and the lens's row and column labels are painted at
    READABLE_FROM_BACK pixels or more, and the map's picture is at least PICTURE pixels: at
    1920×1080 projector text the picture was ~70 px, the title ~10 px, the labels ~16 px
    (issue 17)."""
    grid, lens = view.input_grid, view.magnifier.grid
    grid.grab()
    lens.grab()  # paints: the title's and the labels' sizes are set while painting
    assert grid.title_pixels >= READABLE_FROM_BACK, (grid.title_pixels, grid.title_lines())
    assert lens.label_pixels >= READABLE_FROM_BACK, lens.label_pixels
    picture = grid.cell_rect(0, 0).united(grid.cell_rect(27, 27))
    assert picture.width() >= PICTURE and picture.height() >= PICTURE, picture
    # the title over the picture and the lens, not over each other
    title = QRectF(0, 0, grid.width(), grid.title_height())
    lens_rect = QRectF(lens.geometry())
    assert not title.intersects(picture)
    assert not (grid.title_aside is False and title.intersects(lens_rect))
    # an output picture gave the lens its share: left out, not a sliver under a tiny title
    output = view.output_grid
    assert not output.isVisible() or output.width() >= OUTPUT_LEAST, output.width()


def _marker_drawn(view: StepThroughView) -> bool:
    """The lens's dashed outline is painted on the map (its colour on the outline's top)."""
    marker = view.magnifier.marker()
    image = view.input_grid.grab().toImage()
    ratio = image.width() / view.input_grid.width()
    mark = QColor(view.input_grid.look.mark)
    y = round(marker.top() * ratio)
    return any(image.pixelColor(round(x * ratio), y) == mark
               for x in np.linspace(marker.left(), marker.right(), 40))


def test_at_projector_text_the_lens_magnifies_the_window_and_follows_the_step(
        window: MainWindow, qtbot: QtBot) -> None:
    """A 28×28 map at 1920×1080 projector text drew its numbers 7 px tall: a class could not
    read the numbers the step multiplies (issue 17). The lens shows them at 24 px and more,
    with the window's cells outlined, and moves with the step, by the keys and by Play."""
    menu_action(window, "View → Projector Text (24 pt)").trigger()
    view = _open_convolution_step(qtbot, window)
    # the keyboard to the step-through, as a click on its map gives it
    qtbot.mouseClick(view.input_grid, Qt.MouseButton.LeftButton)
    _press(qtbot, window, Qt.Key.Key_Down)  # the window on the image's vertical bar of ones
    view = _settled(qtbot, window, "conv", (0, 8, 10))
    _check_lens(view)
    assert 1.0 in _window_values(view.magnifier.grid)  # the bar's ones, not only zeros
    marker = view.magnifier.marker()
    window_cells = view.input_grid.cell_rect(8, 10).united(view.input_grid.cell_rect(12, 14))
    assert marker.contains(window_cells) and marker != window_cells  # the window and a margin
    assert _marker_drawn(view)
    _press(qtbot, window, Qt.Key.Key_Right)
    view = _settled(qtbot, window, "conv", (0, 8, 11))
    _check_lens(view)
    moved = view.magnifier.marker()
    assert moved.left() > marker.left() and moved.top() == marker.top()
    _press(qtbot, window, Qt.Key.Key_Down)
    view = _settled(qtbot, window, "conv", (0, 9, 11))
    _check_lens(view)
    assert view.magnifier.marker().top() > moved.top()
    qtbot.mouseClick(view.controls.play_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.position() != (0, 9, 11), timeout=10_000)
    qtbot.mouseClick(view.controls.play_button, Qt.MouseButton.LeftButton)
    view = _settled(qtbot, window, "conv")
    _check_lens(view)


def test_present_mode_shows_the_lens(window: MainWindow, qtbot: QtBot) -> None:
    """Present mode's large type on a 1920×1080 projector: the lens, and it follows the
    presenter's arrow keys."""
    view = _open_convolution_step(qtbot, window)
    present = window.classroom.present
    present.enter()
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.setGeometry(SCREEN)  # full screen on a 1920×1080 projector
    view = _settled(qtbot, window, "conv", (0, 7, 10))
    _check_lens(view)
    present.key(Qt.Key.Key_Right)
    view = _settled(qtbot, window, "conv", (0, 7, 11))
    _check_lens(view)
    present.key(Qt.Key.Key_Escape)
    QApplication.processEvents()
    # the normal text again: the lens gone, the map drawn across its width again
    view = _settled(qtbot, window, "conv")
    assert not view.magnifier.isVisible()
    assert view.input_grid.aside == 0


@pytest.mark.parametrize("text", ["normal", "projector"])
def test_no_lens_where_the_map_reads_as_it_is(window: MainWindow, qtbot: QtBot,
                                              text: str) -> None:
    """A lesson's small map (6×6) has readable numbers at every text size, and a large map
    at normal text is not read from the back of a room: no lens."""
    if text == "projector":
        window.set_font_size(0, 24)
    else:
        window.resize(1366, 768)
        window.set_font_size(0, BASE_POINT_SIZE)
    assert window.classroom.open_lesson("edge_6x6")
    view = _settled(qtbot, window, "edge", (0, 0, 0))
    _press(qtbot, window, Qt.Key.Key_Right)
    view = _settled(qtbot, window, "edge", (0, 0, 1))
    assert not view.magnifier.isVisible()
    view.input_grid.grab()
    assert view.input_grid.number_pixels > 0  # its own numbers drawn
    if text == "normal":
        view = _open_convolution_step(qtbot, window)
        assert not view.magnifier.isVisible()

"""The kernel editor's grid of values at every text size."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from app.build.kernel_editor import KernelEditor
from app.main_window import MainWindow
from tests.app.layout_checks import row_heights
from tests.app.waits import CEILING_MS, settle
from tests.app.window_driver import menu_action


def test_the_kernel_values_read_whole_at_projector_text_and_back(
        qtbot: QtBot, projector_window: MainWindow) -> None:
    """Each value's row as tall as its text at 24 pt (they stayed 30 px under a 38 px line,
    issue 17), and normal again at normal text, the editor still open."""
    window = projector_window
    editor = KernelEditor(window.document, "conv1", window)
    qtbot.addWidget(editor)
    editor.show()
    qtbot.waitUntil(lambda: editor.grid.rowCount() > 0 and editor.worker is not None
                    and editor.worker.is_done, timeout=CEILING_MS)  # read on a worker
    settle()
    grid = editor.grid
    line = grid.fontMetrics().height()
    assert line > 30  # 24 pt text
    assert all(grid.rowHeight(r) - 1 >= line for r in range(grid.rowCount()))
    assert row_heights(editor) == []
    menu_action(window, "View → Normal Text").trigger()
    settle()
    assert grid.fontMetrics().height() < 30
    assert row_heights(editor) == []

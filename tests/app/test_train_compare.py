"""The Train tab's "Compare runs…" through the window: two runs (without and with dropout)
drawn as curves with a legend per run and a table of their final metrics, read on a worker;
runs that cannot be compared say why; another model empties the comparison."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.main_window import MainWindow
from app.style import BASE_POINT_SIZE, apply_theme
from app.train import compare_view
from app.workers import Task
from core.presets import load_preset
from core.train.checkpoint import load_state
from tests.app.layout_checks import row_heights
from tests.app.waits import settle
from tests.app.window_driver import menu_action
from tests.core.compare_runs import ablation_runs

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ablation_runs(tmp_path_factory.mktemp("compare"))


def test_compare_runs_in_the_train_tab(qtbot: QtBot, two_runs: tuple[Path, Path],
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain, dropout = two_runs
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    assert window.open_run(plain)
    panel = window.training
    window.tabs.setCurrentWidget(panel)
    view = panel.compare
    offered: list[Path | None] = []

    def ask() -> list[Path]:
        offered.append(window.document.run_dir)  # the picker starts from the current run
        return [plain, dropout]

    view.ask_runs = ask  # type: ignore[method-assign]
    view.button.click()
    assert view.busy  # read on the worker: the click returned at once
    qtbot.waitUntil(lambda: view.comparison is not None and bool(view.shown_series()),
                    timeout=60_000)
    assert offered == [plain]
    assert not view.busy and not view.cancel_button.isVisible()
    states = [load_state(plain), load_state(dropout)]
    shown = view.shown_series()
    assert [name for name, _, _ in shown] == [plain.name, dropout.name]
    for (_, xs, ys), state in zip(shown, states, strict=True):
        assert xs == [1.0, 2.0]
        assert ys == pytest.approx([row["val_loss"] for row in state.history])
    legend = view.plots().legends[0]
    assert [label.text for _, label in legend.items] == [plain.name, dropout.name]
    table = view.table
    assert table.isVisible() and table.rowCount() == 2
    columns = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    column = columns.index("val_acc")
    for row, state in enumerate(states):
        assert table.item(row, column).text() == f"{state.history[-1]['val_acc']:.4g}"
    assert table.item(0, columns.index("test_acc")).text() == f"{states[0].test_acc:.4g}"

    # a folder that is not a run: one line naming it, no comparison
    view.compare([plain, tmp_path])
    qtbot.waitUntil(lambda: not view.busy, timeout=60_000)
    assert view.status.text().startswith("Cannot compare: ")
    assert "not a ConvScope run folder" in view.status.text()

    # a read that takes long shows its progress and Cancel; Cancel drops its result
    shown_before = view.comparison
    view.busy_timer.setInterval(0)  # as if 200 ms had passed
    release = threading.Event()
    read = compare_view.read_comparison

    def slow_read(folders: list[Path], task: Task) -> object:
        while not release.wait(0.01):  # a read that takes until it is cancelled
            if task.aborted:
                break
        return read(folders, task)

    monkeypatch.setattr(compare_view, "read_comparison", slow_read)
    view.compare([dropout, plain])
    slow = view.worker
    qtbot.waitUntil(lambda: view.cancel_button.isVisible(), timeout=5_000)
    assert view.progress.isVisible()
    view.cancel_button.click()
    assert not view.busy and not view.cancel_button.isVisible()
    assert view.status.text() == "Comparison cancelled"
    assert slow is not None
    qtbot.waitUntil(lambda: slow.is_done, timeout=60_000)
    monkeypatch.undo()
    assert view.comparison is shown_before  # the cancelled read never replaced it

    # another model: the document empties the view, and a read under way is dropped
    view.compare([plain, dropout])
    window.open_preset("keras_mnist")
    assert view.comparison is None and not view.table.isVisible() and not view.busy
    qtbot.waitUntil(lambda: not _compare_workers(), timeout=60_000)
    assert view.comparison is None
    assert not view.shown_series()


def _compare_workers() -> list[object]:
    from app.workers import _started

    return [w for w in _started if getattr(w, "function", None).__name__ in (
        "read_comparison", "read_details")]


def test_file_compare_runs_shows_confusions_their_difference_and_filters(
        qtbot: QtBot, two_runs: tuple[Path, Path]) -> None:
    from tests.app.window_driver import menu_action

    plain, dropout = two_runs
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.show()
    view = window.training.compare
    view.ask_runs = lambda: [plain, dropout]  # type: ignore[method-assign]
    menu_action(window, "File → Compare Runs…").trigger()
    assert window.tabs.currentWidget() is window.training
    qtbot.waitUntil(lambda: view.detailed is not None, timeout=120_000)
    assert view.pages.isVisible()
    assert [view.pages.tabText(i) for i in range(view.pages.count())] == [
        "Curves", "Confusion and filters"]
    detailed = view.detailed
    assert detailed is not None
    first, second = detailed.runs
    assert first.confusion is not None and second.confusion is not None
    assert detailed.confusion_difference is not None
    assert (detailed.confusion_difference == second.confusion - first.confusion).all()
    assert first.filters is not None and first.filters_layer is not None
    view.pages.setCurrentWidget(view.details)
    picture = view.details.pane.data
    assert picture is not None and picture.ndim == 3 and picture.shape[0] > 300
    assert not view.details.cancel_button.isVisible()

    # another model: the details go too, and a read under way is dropped
    view.compare([plain, dropout])
    qtbot.waitUntil(lambda: view.details_worker is not None, timeout=120_000)
    window.open_preset("keras_mnist")
    assert view.detailed is None and view.details_worker is None
    assert view.details.pane.data is None and not view.pages.isVisible()


def test_the_compared_runs_rows_read_whole_at_projector_text_and_back(
        qtbot: QtBot, two_runs: tuple[Path, Path], request: pytest.FixtureRequest) -> None:
    """The table of final metrics at 24 pt: rows as tall as their text (they stayed the
    header's 30 px) and the table as tall as its rows; back at normal text, normal rows
    (issue 17)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    request.addfinalizer(lambda: apply_theme(app, False, BASE_POINT_SIZE))
    plain, dropout = two_runs
    window = MainWindow(load_preset("digits_small"))
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    assert window.open_run(plain)
    window.tabs.setCurrentWidget(window.training)
    view = window.training.compare
    view.ask_runs = lambda: [plain, dropout]  # type: ignore[method-assign]
    view.button.click()
    qtbot.waitUntil(lambda: view.comparison is not None and view.table.isVisible(),
                    timeout=60_000)
    table = view.table
    for text, menu in (("projector", "View → Projector Text (24 pt)"),
                       ("normal", "View → Normal Text")):
        menu_action(window, menu).trigger()
        settle()
        line = table.fontMetrics().height()
        assert (line > 30) == (text == "projector")
        assert all(table.rowHeight(r) - 1 >= line for r in range(table.rowCount())), text
        assert table.rowHeight(0) < 2 * max(line, 20), text  # no 24 pt rows left at normal
        # both rows in sight: the table as tall as its header and rows
        need = table.verticalHeader().length() + table.horizontalHeader().height()
        assert table.viewport().height() + table.horizontalHeader().height() >= need, text
        assert row_heights(table) == [], text
    qtbot.waitUntil(lambda: not _compare_workers(), timeout=60_000)  # the details read too

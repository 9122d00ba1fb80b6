"""The Train tab's "Compare runs…": two or more run folders side by side (issue 21).

The user picks run folders (the document's current run is offered first, and the runs under
the tab's output folder are listed); core.inspect.compare reads them on a worker — it runs
each model on the validation split for the confusion matrices, so past ``BUSY_MS`` the view
shows its progress and Cancel. The result is drawn as curves overlaid, one colour per run (the
same colours as ``convscope compare``'s picture), validation solid and train dashed, with a
legend per run, and a table of the final metrics. The curves are made once and fed by setData.
Then a second read on a worker runs each model on its validation split: the confusion
matrices, their difference and the first filters side by side (drawn by core, as
``convscope compare`` draws them) on the "Confusion and filters" page, with its own progress
and Cancel.

The document owns what the view belongs to: another model or run (run_changed, loaded)
cancels a read in progress and empties the view.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import warm_up
from app.document import ModelDocument
from app.table_rows import fit_rows_to_text
from app.train.curves import PLOT_MODULES
from app.workers import Task, Worker

if TYPE_CHECKING:
    import pyqtgraph as pg

    from core.inspect.compare import Comparison

BUSY_MS = 200
"""A read taking longer than this shows its progress and Cancel."""
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
          "#17becf")
"""core.inspect.compare_render's colours (not imported: it imports matplotlib)."""


def read_comparison(folders: list[Path], task: Task) -> Comparison:
    """On the worker: the runs read (CompareError, one line, for runs that cannot be compared).
    The tab shows curves and metrics, so no model runs on a split here (about 40 ms for two
    small runs, against 0.7 s with the confusion matrices)."""
    from core.inspect.compare import read_runs

    return read_runs(folders, confusion=False, check=task.check, progress=task.progress)


def read_details(folders: list[Path], size: tuple[int, int], task: Task) -> tuple[Any, Any]:
    """On the worker: the runs read again with their validation confusion matrices (each
    model run on its split), drawn by core.inspect.compare_render with their difference and
    the first filters side by side, as an (H, W, 4) picture."""
    from core.inspect.compare import read_runs
    from core.inspect.compare_render import details_figure
    from core.inspect.render import figure_rgba

    comparison = read_runs(folders, confusion=True, check=task.check, progress=task.progress)
    task.check()
    return comparison, figure_rgba(details_figure(comparison, size))


class RunPicker(QDialog):
    """Checkable run folders: the current run and the runs found under the output folder,
    plus any folder added with "Add folder…"."""

    def __init__(self, current: Path | None, runs_home: Path, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare runs")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Tick two or more run folders of the same task:"))
        self.list = QListWidget()
        layout.addWidget(self.list, 1)
        if current is not None:
            self.add(current, checked=True, label=f"{current.name} (the current run)")
        try:
            found = sorted((p for p in runs_home.iterdir() if (p / "training.json").is_file()),
                           key=lambda p: p.stat().st_mtime, reverse=True)[:50]
        except OSError:
            found = []
        for folder in found:
            if folder != current:
                self.add(folder)
        add = QPushButton("Add folder…")
        add.clicked.connect(self._add_folder)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Compare")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addStretch(1)
        row.addWidget(buttons)
        layout.addLayout(row)

    def add(self, folder: Path, checked: bool = False, label: str = "") -> None:
        item = QListWidgetItem(label or folder.name)
        item.setToolTip(str(folder))
        item.setData(Qt.ItemDataRole.UserRole, str(folder))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        self.list.addItem(item)

    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A training run folder")
        if path:
            self.add(Path(path), checked=True)

    def chosen(self) -> list[Path]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return [Path(item.data(Qt.ItemDataRole.UserRole)) for item in items
                if item.checkState() == Qt.CheckState.Checked]


class _Plots:
    """Loss and the task's metric, one solid (validation) and one dashed (train) line per run,
    made as runs are first needed and reused by setData."""

    def __init__(self) -> None:
        import pyqtgraph as pg

        self.widget = pg.GraphicsLayoutWidget()
        self.loss = self.widget.addPlot(row=0, col=0, title="Loss (validation solid, train "
                                        "dashed)")
        self.metric = self.widget.addPlot(row=0, col=1, title="Metric")
        self.legends = [plot.addLegend(offset=(-10, 10)) for plot in (self.loss, self.metric)]
        for plot in (self.loss, self.metric):
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
        self.lines: list[dict[str, pg.PlotDataItem]] = []

    def run_lines(self, index: int) -> dict[str, pg.PlotDataItem]:
        import pyqtgraph as pg

        while len(self.lines) <= index:
            colour = COLORS[len(self.lines) % len(COLORS)]
            solid = pg.mkPen(colour, width=2)
            dashed = pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)
            self.lines.append({
                "val_loss": self.loss.plot(pen=solid, symbol="o", symbolSize=5,
                                           symbolBrush=colour),
                "train_loss": self.loss.plot(pen=dashed),
                "val_metric": self.metric.plot(pen=solid, symbol="o", symbolSize=5,
                                               symbolBrush=colour),
                "train_metric": self.metric.plot(pen=dashed),
            })
        return self.lines[index]


class CompareView(QWidget):
    """The "Compare runs…" button, its progress and Cancel, then the plots and the table."""

    showing = Signal(bool)
    """A comparison is shown (True) or emptied (False): the tab gives it room, or takes it."""

    def __init__(self, document: ModelDocument, runs_home: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.runs_home = runs_home
        self.worker: Worker | None = None
        self.comparison: Comparison | None = None
        self._plots: _Plots | None = None
        self.button = QPushButton("Compare runs…")
        self.button.setToolTip("Show two or more runs of this task side by side: curves, "
                               "final metrics, confusion matrices and their difference, "
                               "first filters")
        self.button.clicked.connect(self.choose)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton("Close comparison")
        self.close_button.setVisible(False)
        self.close_button.clicked.connect(self.reset)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.busy_timer = QTimer(self)
        self.busy_timer.setSingleShot(True)
        self.busy_timer.setInterval(BUSY_MS)
        self.busy_timer.timeout.connect(self._show_busy)
        bar = QHBoxLayout()
        for widget in (self.button, self.progress, self.cancel_button, self.close_button):
            bar.addWidget(widget)
        bar.addWidget(self.status, 1)
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setVisible(False)
        # rows as tall as their text at every text size, the table as tall as its rows
        fit_rows_to_text(self.table).fitted.connect(self._fit_table)
        self.table.installEventFilter(self)  # narrower (the docks back): a scroll bar to fit
        self.pages = QTabWidget()
        self.pages.setVisible(False)
        self.details = DetailsPage()
        self.details.cancel_button.clicked.connect(self.cancel_details)
        self.details_worker: Worker | None = None
        self.detailed: Comparison | None = None
        """The comparison with its confusion matrices and filters, once read."""
        self.pages.addTab(self.details, "Confusion and filters")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.table)
        document.run_changed.connect(self.reset)
        document.loaded.connect(self.reset)

    # -- choosing and reading ---------------------------------------------------------------
    def ask_runs(self) -> list[Path]:
        """The folders the user ticks ([] when cancelled); tests replace this."""
        picker = RunPicker(self.document.run_dir, self.runs_home, self)
        return picker.chosen() if picker.exec() == QDialog.DialogCode.Accepted else []

    def choose(self) -> None:
        folders = self.ask_runs()
        if folders:
            self.compare(folders)

    def compare(self, folders: list[Path]) -> None:
        """Read ``folders`` on a worker; the newest request wins."""
        self.cancel()
        self.cancel_details()
        self.detailed = None
        self.status.setText(f"Reading {len(folders)} runs…")
        worker = Worker(read_comparison, list(folders))
        worker.progress.connect(self._progress)
        worker.returned.connect(self.show_comparison)
        worker.errored.connect(self._failed)
        # by weak reference (as each slot below): a slot on the worker's own signal holding the
        # worker is a cycle through Qt's connection that Python's collector cannot see
        alive = weakref.ref(worker)
        worker.finished.connect(lambda: self._finished(alive()))
        self.worker = worker
        self.busy_timer.start()
        worker.start()

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()
            self.worker = None
            self.status.setText("Comparison cancelled")
        self._idle()

    def _idle(self) -> None:
        self.busy_timer.stop()
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    def _show_busy(self) -> None:
        if self.worker is not None:
            self.progress.setRange(0, 0)
            self.progress.setVisible(True)
            self.cancel_button.setVisible(True)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.status.setText(f"Read {done} of {total} runs…")

    def _finished(self, worker: Worker | None) -> None:
        if worker is not None and worker is self.worker:
            self.worker = None
            self._idle()

    def _failed(self, exc: Exception) -> None:
        from core.model.errors import ModelError

        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        self.status.setText(f"Cannot compare: {text}" if isinstance(exc, ModelError | OSError)
                            else f"Cannot compare ({type(exc).__name__}): {text}")

    def reset(self) -> None:
        """Another model or run: nothing of the old comparison stays."""
        if self.worker is not None:
            self.worker.quit()
            self.worker = None
        self._idle()
        self.cancel_details()
        self.detailed = None
        self.details.clear()
        self.pages.setVisible(False)
        self.comparison = None
        self.status.clear()
        self.close_button.setVisible(False)
        self.table.setVisible(False)
        self.table.setRowCount(0)
        self.showing.emit(False)
        if self._plots is not None:
            for lines in self._plots.lines:
                for line in lines.values():
                    line.setData([], [])
            for legend in self._plots.legends:
                legend.clear()
            self._plots.widget.setVisible(False)

    # -- showing ----------------------------------------------------------------------------
    def show_comparison(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.status.setText(f"{len(comparison.runs)} {comparison.task} runs: "
                            + ", ".join(run.name for run in comparison.runs))
        self.close_button.setVisible(True)
        self._fill_table(comparison)
        if warm_up.missing(PLOT_MODULES):
            warm_up.when_ready(lambda: self._draw(comparison), start_now=True)
        else:
            self._draw(comparison)

    def _fill_table(self, comparison: Comparison) -> None:
        metrics = comparison.metric_names()
        self.table.setRowCount(len(comparison.runs))
        self.table.setColumnCount(len(metrics))
        self.table.setHorizontalHeaderLabels(metrics)
        self.table.setVerticalHeaderLabels([run.name for run in comparison.runs])
        for r, run in enumerate(comparison.runs):
            for c, metric in enumerate(metrics):
                value = run.final.get(metric)
                item = QTableWidgetItem("—" if value is None else f"{value:.4g}")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self._fit_table_height()
        self.table.setVisible(True)
        self.showing.emit(True)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Resize:
            assert isinstance(event, QResizeEvent)
            if event.size().width() != event.oldSize().width() and self.table.rowCount():
                self._fit_table_height()
        return super().eventFilter(watched, event)

    def _fit_table(self) -> None:
        """At another text size: the columns measured again, the table as tall as its rows."""
        if self.table.rowCount():
            self.table.resizeColumnsToContents()
        self._fit_table_height()

    def _fit_table_height(self) -> None:
        """The table as tall as its rows, its header and, where its columns are wider than
        it, the scroll bar under them (up to eight lines of text)."""
        table = self.table
        rows = table.verticalHeader().length() + table.horizontalHeader().sizeHint().height()
        wide = table.verticalHeader().sizeHint().width() + table.horizontalHeader().length() + \
            2 * table.frameWidth() > table.width()
        if wide:
            rows += table.horizontalScrollBar().sizeHint().height()
        height = min(rows + 6, 8 * self.fontMetrics().height())
        self.table.setMinimumHeight(height)
        self.table.setMaximumHeight(height)

    def plots(self) -> _Plots:
        if self._plots is None:
            self._plots = _Plots()
            self.pages.insertTab(0, self._plots.widget, "Curves")
            self.pages.setCurrentIndex(0)
        return self._plots

    # -- confusion matrices and filters (a second read: each model runs on its split) -------
    def read_details(self, folders: list[Path]) -> None:
        """Read the confusion matrices and first filters of ``folders`` on a worker."""
        self.cancel_details()
        self.detailed = None
        room = self.pages.size() if self.pages.isVisible() else self.size()
        size = (max(700, room.width()), max(360, room.height() - 60))
        worker = Worker(read_details, list(folders), size)
        worker.progress.connect(self.details.progress_to)
        alive = weakref.ref(worker)
        worker.returned.connect(lambda out: self._details_read(alive(), out))
        worker.errored.connect(lambda exc: self._details_failed(alive(), exc))
        worker.finished.connect(lambda: self._details_finished(alive()))
        self.details_worker = worker
        self.details.busy(len(folders))
        worker.start()

    def cancel_details(self) -> None:
        if self.details_worker is not None:
            self.details_worker.quit()
            self.details_worker = None
            self.details.say("Confusion matrices cancelled")

    def _details_read(self, worker: Worker | None, out: tuple[Any, Any]) -> None:
        if worker is None or worker is not self.details_worker:
            return
        self.detailed, picture = out
        self.details.show_picture(picture)

    def _details_failed(self, worker: Worker | None, exc: Exception) -> None:
        if worker is not None and worker is self.details_worker:
            self.details.say(f"Cannot read the confusion matrices: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")

    def _details_finished(self, worker: Worker | None) -> None:
        if worker is not None and worker is self.details_worker:
            self.details_worker = None
            self.details.idle()

    def _draw(self, comparison: Comparison) -> None:
        if comparison is not self.comparison:
            return  # reset or replaced meanwhile
        plots = self.plots()
        plots.widget.setVisible(True)
        self.pages.setVisible(True)
        if self.detailed is None and self.details_worker is None:
            self.read_details([run.folder for run in comparison.runs])
        metric = metric_key(comparison)
        plots.metric.setTitle(f"{metric} (validation solid, train dashed)")
        for legend in plots.legends:
            legend.clear()
        for index, run in enumerate(comparison.runs):
            lines = plots.run_lines(index)
            for key, line in lines.items():
                split, _, what = key.partition("_")
                series = run.curves.get(f"{split}_{'loss' if what == 'loss' else metric}")
                if series is None:
                    line.setData([], [])
                else:
                    line.setData(run.epochs, series)
            for legend, key in zip(plots.legends, ("val_loss", "val_metric"), strict=True):
                legend.addItem(lines[key], run.name)
        for lines in plots.lines[len(comparison.runs):]:
            for line in lines.values():
                line.setData([], [])

    def shown_series(self) -> list[tuple[str, list[float], list[float]]]:
        """(legend name, x, y) of each validation loss line drawn (for tests)."""
        if self._plots is None or self.comparison is None:
            return []
        shown = []
        for run, lines in zip(self.comparison.runs, self._plots.lines, strict=False):
            x, y = lines["val_loss"].getData()
            shown.append((run.name, list(map(float, x)), list(map(float, y))))
        return shown


class DetailsPage(QWidget):
    """The confusion matrices, their difference and the first filters, as core renders them;
    its own progress and Cancel while the models run on their splits."""

    def __init__(self) -> None:
        super().__init__()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.pane: Any = None
        """The picture (an app.image_pane.ImagePane), made with the first one: the window's
        start-up imports no pyqtgraph (tests/app/test_inspect_lazy.py)."""
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.progress)
        bar.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        self._layout = layout

    def _made_pane(self) -> Any:
        if self.pane is None:
            from app.image_pane import ImagePane

            self.pane = ImagePane("validation confusion matrices, their difference, and the "
                                  "first filters of each run", colorbar=False)
            self._layout.addWidget(self.pane, 1)
        return self.pane

    def busy(self, runs: int) -> None:
        self.status.setText(f"Running the {runs} models on their validation splits…")
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)

    def progress_to(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def idle(self) -> None:
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    def say(self, text: str) -> None:
        self.status.setText(text)
        self.idle()

    def show_picture(self, rgba: Any) -> None:
        self.status.setText("")
        self._made_pane().show_map(rgba[:, :, :3] / 255.0)

    def clear(self) -> None:
        self.status.setText("")
        if self.pane is not None:
            self.pane.clear_picture()
        self.idle()


def metric_key(comparison: Any) -> str:
    """The metric the second plot shows: the first one with a validation curve (acc, iou…)."""
    for name in comparison.curve_names():
        split, _, what = name.partition("_")
        if split == "val" and what != "loss":
            return str(what)
    return "acc"

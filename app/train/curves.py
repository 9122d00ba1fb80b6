"""The Train tab's live curves: loss and the task's metric per epoch, made once, fed by setData.

Repainting the plots is the GUI's main cost while training (it stalled the event loop for 30 ms
at a time): points are collected as they come and the curves redraw at most twice a second.

The plots are pyqtgraph's, whose import takes a second: the window paints before it (the
warm-up, app.warm_up, imports it on a worker after the first paint). The curves therefore keep
their points, titles, x range and text size themselves, and make the plots when the tab is
first shown with pyqtgraph loaded, or, shown earlier, when the warm-up reports; meanwhile the
tab says "Loading…" where they will be. The UI thread never waits for the import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app import warm_up

if TYPE_CHECKING:
    import pyqtgraph as pg

EPOCH_KEYS = ("train_loss", "val_loss", "train_acc", "val_acc")
"""The per-epoch series (a run's history records the same keys)."""
SERIES = ("batch_loss", *EPOCH_KEYS)
PLOT_MODULES = ("pyqtgraph", "app.plot_text")
"""What the plots import that takes long (loaded by the warm-up after the first paint)."""
WAITING = "Loading the plotting library (the first time takes a second)…"


class _Plots:
    """The pyqtgraph side: a layout widget with the loss plot above the metric plot."""

    def __init__(self) -> None:
        import pyqtgraph as pg

        self.widget = pg.GraphicsLayoutWidget()
        self.loss_plot = self.widget.addPlot(row=0, col=0, title="Loss")
        self.acc_plot = self.widget.addPlot(row=1, col=0, title="Accuracy")
        for plot, corner in ((self.loss_plot, (-10, 10)), (self.acc_plot, (-10, -30))):
            plot.addLegend(offset=corner)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
        self.acc_plot.setYRange(0, 1)

        def line(plot: pg.PlotItem, colour: str, name: str, width: int = 2,
                 points: bool = True) -> pg.PlotDataItem:
            symbols = {"symbol": "o", "symbolSize": 5} if points else {}
            return plot.plot(pen=pg.mkPen(colour, width=width), name=name, **symbols)

        self.lines = {
            "batch_loss": line(self.loss_plot, "#9ec5ef", "train (running)", 1, False),
            "train_loss": line(self.loss_plot, "#1f77b4", "train"),
            "val_loss": line(self.loss_plot, "#ff7f0e", "validation"),
            "train_acc": line(self.acc_plot, "#1f77b4", "train"),
            "val_acc": line(self.acc_plot, "#ff7f0e", "validation"),
        }


class TrainingCurves(QWidget):
    """Loss (running, train, validation) above the metric (train, validation), by epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in SERIES}
        self._plots: _Plots | None = None
        self._metric_title: str | None = None
        self._epochs: int | None = None
        """The run's x axis, 0 to its epochs; None: x follows the data."""
        self._point_size: int | None = None
        self._waiting = False
        self._dirty = False
        self.waiting = QLabel(WAITING)
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting.setWordWrap(True)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(self.waiting)
        self.redraw = QTimer(self)
        self.redraw.setInterval(500)
        self.redraw.timeout.connect(self._redraw_if_dirty)

    # -- the plots, made when first needed -------------------------------------------------------
    @property
    def built(self) -> bool:
        return self._plots is not None

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._plots is None:
            if warm_up.missing(PLOT_MODULES):  # the warm-up is loading them: never wait here
                if not self._waiting:
                    self._waiting = True
                    warm_up.when_ready(self._loaded, start_now=True)
            else:
                self.plots()

    def _loaded(self) -> None:
        self._waiting = False
        if self.isVisible():
            self.plots()  # hidden meanwhile: made when shown again

    def plots(self) -> _Plots:
        """The plots, made now if they are not yet (imports pyqtgraph on this thread: the view
        calls it only once the warm-up has loaded it; tests may call it any time)."""
        if self._plots is None:
            plots = _Plots()
            self._plots = plots
            self.waiting.hide()
            self.box.addWidget(plots.widget)
            if self._metric_title is not None:
                plots.acc_plot.setTitle(self._metric_title)
            self._apply_x_range()
            if self._point_size is not None:
                self._apply_font()
            self.refresh()
        return self._plots

    @property
    def loss_plot(self) -> pg.PlotItem:
        return self.plots().loss_plot

    @property
    def acc_plot(self) -> pg.PlotItem:
        return self.plots().acc_plot

    @property
    def lines(self) -> dict[str, pg.PlotDataItem]:
        return self.plots().lines

    # -- what the panel tells them ---------------------------------------------------------------
    def clear_series(self) -> None:
        """Forget every point (a new run, or another model's)."""
        for xs, ys in self.series.values():
            xs.clear()
            ys.clear()
        self.refresh()

    def reset_axes(self) -> None:
        """Emptied plots forget the old run's ranges: x follows the data again, accuracy 0–1."""
        self._epochs = None
        self._apply_x_range()

    def fix_epochs(self, epochs: int) -> None:
        """A run's x axis: 0 to its epochs, whatever has been drawn yet."""
        self._epochs = epochs
        self._apply_x_range()

    def _apply_x_range(self) -> None:
        plots = self._plots
        if plots is None:
            return
        if self._epochs is None:
            plots.loss_plot.enableAutoRange()
            plots.acc_plot.enableAutoRange(axis="x")
            plots.acc_plot.setYRange(0, 1)
            return
        for plot in (plots.loss_plot, plots.acc_plot):
            plot.setXRange(0, self._epochs, padding=0.02)
            plot.disableAutoRange(axis="x")

    def name_metric(self, headline: str, train_metric: str) -> None:
        self._metric_title = f"{headline} (validation) · {train_metric} (train)"
        if self._plots is not None:
            self._plots.acc_plot.setTitle(self._metric_title)

    def append(self, key: str, x: float, y: float, refresh: bool = True) -> None:
        xs, ys = self.series[key]
        xs.append(x)
        ys.append(y)
        if refresh and self._plots is not None:
            self._plots.lines[key].setData(xs, ys)
        else:
            self._dirty = True

    def refresh(self) -> None:
        self._dirty = False
        if self._plots is not None:
            for key, line in self._plots.lines.items():
                line.setData(*self.series[key])

    def _redraw_if_dirty(self) -> None:
        if self._dirty and self._plots is not None and self.isVisible():
            self.refresh()

    def apply_font(self, point_size: int) -> None:
        """Titles, tick labels, axis labels and legends at the window's text size (the plots
        draw their own text and do not follow the application font)."""
        self._point_size = point_size
        if self._plots is not None:
            self._apply_font()

    def _apply_font(self) -> None:
        from app.plot_text import scale_plot_text

        assert self._plots is not None and self._point_size is not None
        for plot in (self._plots.loss_plot, self._plots.acc_plot):
            scale_plot_text(plot, self._point_size, self.font())

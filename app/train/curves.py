"""The Train tab's live curves: loss and the task's metric per epoch, made once, fed by setData.

Repainting the plots is the GUI's main cost while training (it stalled the event loop for 30 ms
at a time): points are collected as they come and the curves redraw at most twice a second.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from app.plot_text import scale_plot_text

EPOCH_KEYS = ("train_loss", "val_loss", "train_acc", "val_acc")
"""The per-epoch series (a run's history records the same keys)."""


class TrainingCurves(pg.GraphicsLayoutWidget):
    """Loss (running, train, validation) above the metric (train, validation), by epoch."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loss_plot = self.addPlot(row=0, col=0, title="Loss")
        self.acc_plot = self.addPlot(row=1, col=0, title="Accuracy")
        for plot, corner in ((self.loss_plot, (-10, 10)), (self.acc_plot, (-10, -30))):
            plot.addLegend(offset=corner)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setLabel("bottom", "epoch")
        self.acc_plot.setYRange(0, 1)
        self.lines = {
            "batch_loss": self.loss_plot.plot(pen=pg.mkPen("#9ec5ef", width=1),
                                              name="train (running)"),
            "train_loss": self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                                              symbolSize=5, name="train"),
            "val_loss": self.loss_plot.plot(pen=pg.mkPen("#ff7f0e", width=2), symbol="o",
                                            symbolSize=5, name="validation"),
            "train_acc": self.acc_plot.plot(pen=pg.mkPen("#1f77b4", width=2), symbol="o",
                                            symbolSize=5, name="train"),
            "val_acc": self.acc_plot.plot(pen=pg.mkPen("#ff7f0e", width=2), symbol="o",
                                          symbolSize=5, name="validation"),
        }
        self.series: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in
                                                                   self.lines}
        self._dirty = False
        self.redraw = QTimer(self)
        self.redraw.setInterval(500)
        self.redraw.timeout.connect(self._redraw_if_dirty)

    def clear_series(self) -> None:
        """Forget every point (a new run, or another model's)."""
        for xs, ys in self.series.values():
            xs.clear()
            ys.clear()
        self.refresh()

    def reset_axes(self) -> None:
        """Emptied plots forget the old run's ranges: x follows the data again, accuracy 0–1."""
        self.loss_plot.enableAutoRange()
        self.acc_plot.enableAutoRange(axis="x")
        self.acc_plot.setYRange(0, 1)

    def fix_epochs(self, epochs: int) -> None:
        """A run's x axis: 0 to its epochs, whatever has been drawn yet."""
        for plot in (self.loss_plot, self.acc_plot):
            plot.setXRange(0, epochs, padding=0.02)
            plot.disableAutoRange(axis="x")

    def name_metric(self, headline: str, train_metric: str) -> None:
        self.acc_plot.setTitle(f"{headline} (validation) · {train_metric} (train)")

    def append(self, key: str, x: float, y: float, refresh: bool = True) -> None:
        xs, ys = self.series[key]
        xs.append(x)
        ys.append(y)
        if refresh:
            self.lines[key].setData(xs, ys)
        else:
            self._dirty = True

    def refresh(self) -> None:
        self._dirty = False
        for key, line in self.lines.items():
            line.setData(*self.series[key])

    def _redraw_if_dirty(self) -> None:
        if self._dirty and self.isVisible():
            self.refresh()

    def apply_font(self, point_size: int) -> None:
        """Titles, tick labels, axis labels and legends at the window's text size (the plots
        draw their own text and do not follow the application font)."""
        for plot in (self.loss_plot, self.acc_plot):
            scale_plot_text(plot, point_size, self.font())

"""Activations: every feature map of a layer for the input, one enlarged, and the part of the
input a position sees (its receptive field)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout

from app.image_pane import EMPTY_RANGE, GREY, ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from core.analysis.model_analysis import ModelAnalysis

if TYPE_CHECKING:
    from app.workers import Task

HINT = ("Click a map to enlarge it; click a position in the enlarged map to see the input "
        "region it sees.")


def input_picture(display: np.ndarray, frame: int | None = None) -> np.ndarray:
    """A (C, H, W) input in 0..1 as an image to draw: (H, W, 3) colour or (H, W) grey; a clip
    (C, T, H, W) at ``frame`` (default the middle one)."""
    if display.ndim == 4:
        display = display[:, (display.shape[1] - 1) // 2 if frame is None else frame]
    return display.transpose(1, 2, 0) if display.shape[0] == 3 else display[0]


def input_frame(frame: int, layer_frames: int, input_frames: int) -> int:
    """The input frame at the same time as a layer's ``frame`` (pooling in time shortens)."""
    if layer_frames <= 1:
        return (input_frames - 1) // 2
    return min(input_frames - 1, round(frame * (input_frames - 1) / (layer_frames - 1)))


class ActivationsView(InspectView):
    title = "Activations"

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.act_layer = QComboBox()
        self.act_layer.currentTextChanged.connect(lambda _t: self.refresh())
        self.act_readout = QLabel(HINT)
        self.act_readout.setWordWrap(True)
        self.act_frame = QSlider(Qt.Orientation.Horizontal)
        self.act_frame.setRange(0, 0)
        self.act_frame.setValue(-1)
        self.act_frame.setToolTip("A Conv3d layer's output has frames: the one shown")
        self.act_frame_label = QLabel("frame")
        self._frame_chosen = False
        self.act_frame.valueChanged.connect(lambda _v: self._choose_frame())  # before refresh
        self.act_frame.valueChanged.connect(lambda _v: self.refresh())
        row.addWidget(QLabel("layer"))
        row.addWidget(self.act_layer)
        row.addWidget(self.act_frame_label)
        row.addWidget(self.act_frame)
        for widget in (self.act_frame_label, self.act_frame):
            widget.setVisible(False)
        row.addWidget(self.act_readout, 1)
        grid = QGridLayout()
        self.act_pane = ImagePane("all feature maps (one colour scale)")
        self.act_pane.clicked.connect(self._act_clicked)
        self.act_pane.hovered.connect(self._act_hover)
        self.act_big = ImagePane("enlarged")
        self.act_big.hovered.connect(self._big_hover)
        self.act_big.clicked.connect(self._big_clicked)
        self.act_input = ImagePane("input (as the model sees it)", colorbar=False)
        self.act_bars = pg.PlotWidget()
        self.act_bars.setBackground(None)
        self.act_bars.showGrid(y=True, alpha=0.3)
        self.act_bars.hide()
        grid.addWidget(self.act_pane, 0, 0, 2, 1)
        grid.addWidget(self.act_big, 0, 1)
        grid.addWidget(self.act_input, 1, 1)
        grid.addWidget(self.act_bars, 0, 0, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        layout.addLayout(row)
        layout.addLayout(grid, 1)
        layout.addLayout(self.export_row("activations"))
        self._selected_map = 0
        self._act_values: np.ndarray | None = None
        self._act_mosaic: Any = None
        self._layer = ""

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        fill_combo(self.act_layer, [layer.name for layer in analysis.spec.layers])

    def reset(self) -> None:
        for pane in (self.act_pane, self.act_big, self.act_input):
            pane.clear_picture()
        self.act_bars.clear()
        self.act_bars.setTitle("")  # not the last model's "fc: 10 outputs", its ticks, range
        self.act_bars.getAxis("bottom").setTicks(None)
        self.act_bars.setRange(xRange=EMPTY_RANGE, yRange=EMPTY_RANGE, padding=0)
        self.act_big.set_title("enlarged")
        self.act_readout.setText(HINT)
        self._act_values = self._act_mosaic = None
        for widget in (self.act_frame_label, self.act_frame):
            widget.setVisible(False)

    def _choose_frame(self) -> None:
        if not self.act_frame.signalsBlocked():
            self._frame_chosen = True

    def parameters(self) -> tuple[str, int | None]:
        """The layer, and the frame of a Conv3d layer's output (None: the middle one)."""
        return (self.act_layer.currentText(),
                self.act_frame.value() if self._frame_chosen else None)

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        from core.inspect.inputs import frame_of
        from core.inspect.mosaic import tile

        layer, frame = parameters
        inp = context.input()
        values = context.activation(layer)
        frames, chosen = 0, None
        if values.ndim == 4:  # (C, T, H, W): one frame at a time
            frames = values.shape[1]
            values, chosen = frame_of(values, min(frame, frames - 1) if frame is not None
                                      else None, layer)
        mosaic = None
        if values.ndim != 1:
            maps = values if values.ndim == 3 else values[:, None, :]
            mosaic = tile(maps.reshape(maps.shape[0], maps.shape[1], -1))
        shown = None
        if inp.display.ndim == 4 and chosen is not None:
            shown = input_frame(chosen, frames, inp.display.shape[1])
        return values, mosaic, inp.display, (frames, chosen, shown)

    def show_result(self, result: Any, parameters: Any) -> None:
        values, mosaic, display, (frames, chosen, shown) = result
        layer = parameters[0]
        if layer != self._layer:
            self.act_readout.setText(HINT)  # a readout never outlives its layer
        self._act_values, self._layer = values, layer
        for widget in (self.act_frame_label, self.act_frame):
            widget.setVisible(frames > 1)
        if chosen is not None:
            self.act_frame.blockSignals(True)
            self.act_frame.setRange(0, frames - 1)
            self.act_frame.setValue(chosen)
            self.act_frame.blockSignals(False)
            self.act_frame_label.setText(f"frame {chosen} of {frames}")
        input_title = "input (as the model sees it)"
        if shown is not None:
            input_title += f", frame {shown} of {display.shape[1]}"
        self.act_input.set_title(input_title)
        self.act_input.show_map(input_picture(display, shown), (0.0, 1.0), GREY)
        self.act_input.hide_box()
        if values.ndim == 1:
            self._show_bars(values)
            return
        self.act_bars.hide()
        self.act_pane.show()
        self.act_big.show()
        self._act_mosaic = mosaic
        self.act_pane.show_map(mosaic.image)
        maps = self._maps()
        self._selected_map = min(self._selected_map, maps.shape[0] - 1)
        self._show_big(self._selected_map)

    def _maps(self) -> np.ndarray:
        values = self._act_values
        assert values is not None
        maps = values if values.ndim == 3 else values[:, None, :]
        return maps.reshape(maps.shape[0], maps.shape[1], -1)

    def _show_bars(self, values: np.ndarray) -> None:
        """A 1-D output as a bar chart with labelled axes (class names when they fit)."""
        self.act_pane.hide()
        self.act_big.hide()
        self.act_bars.show()
        self.act_bars.clear()
        n = len(values)
        self.act_bars.addItem(pg.BarGraphItem(x=np.arange(n), height=values, width=0.8,
                                              brush="#3b82c4"))
        axis = self.act_bars.getAxis("bottom")
        classes = self.tab.classes
        if len(classes) == n and n <= 30:
            axis.setTicks([[(i, name) for i, name in enumerate(classes)]])
            self.act_bars.setLabel("bottom", "class")
        else:
            axis.setTicks(None)
            self.act_bars.setLabel("bottom", "unit")
        self.act_bars.setLabel("left", "value")
        self.act_bars.setTitle(f"{self._layer}: {n} outputs")
        self._style_bars()
        self.act_bars.autoRange()

    def _style_bars(self) -> None:
        """Axes, ticks and title in the window's text size and colour (projector text too)."""
        font = self.font()
        size = f"{max(8, font.pointSize())}pt"
        color = self.palette().text().color()
        plot = self.act_bars.getPlotItem()
        for name in ("bottom", "left"):
            axis = plot.getAxis(name)
            axis.setPen(color)
            axis.setTextPen(color)
            axis.setStyle(tickFont=font)
            axis.setLabel(axis.labelText, **{"font-size": size, "color": color.name()})
        plot.setTitle(plot.titleLabel.text, size=size, color=color)

    def changeEvent(self, event: Any) -> None:
        super().changeEvent(event)
        if hasattr(self, "act_bars") and event.type() in (QEvent.Type.FontChange,
                                                          QEvent.Type.PaletteChange):
            self._style_bars()

    def _show_big(self, index: int) -> None:
        self._selected_map = index
        self.act_big.show_map(self._maps()[index])
        self.act_big.set_title(f"map {index} (enlarged)")

    def _act_clicked(self, row: int, col: int) -> None:
        cell = self._act_mosaic.cell_at(row, col) if self._act_mosaic is not None else None
        if cell is not None:
            self._show_big(cell[0])

    def _act_hover(self, row: int, col: int) -> None:
        cell = self._act_mosaic.cell_at(row, col) if self._act_mosaic is not None else None
        if cell is not None:
            value = self.act_pane.value_at(row, col)
            self.act_readout.setText(f"map {cell[0]} [{cell[1]}, {cell[2]}] = {value:.4g}"
                                     if value is not None else "")

    def _big_hover(self, row: int, col: int) -> None:
        value = self.act_big.value_at(row, col)
        if value is not None and self._act_values is not None:
            self.act_readout.setText(f"map {self._selected_map} [{row}, {col}] = {value:.4g}")

    def _big_clicked(self, row: int, col: int) -> None:
        """Show the receptive field of this position in the input."""
        info = self.tab.document.analysis.get(self._layer)
        field = info.receptive_field if info else None
        if field is None or field.dims != 2:
            self.act_readout.setText("this layer has no receptive field on the input")
            return
        (top, bottom), (left, right) = field.input_window((row, col))
        self.act_input.show_box(top - 0.5, left - 0.5, bottom - top, right - left)
        self.act_readout.setText(f"position [{row}, {col}] sees input rows {top:.0f}–"
                                 f"{bottom - 1:.0f}, columns {left:.0f}–{right - 1:.0f} "
                                 f"(receptive field {field.label()})")

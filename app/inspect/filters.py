"""Filters: a convolution's kernels as a grid, with the value under the pointer; a Linear that
reads the image as its class templates (one image of the input per unit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from app.image_pane import DIVERGING, ImagePane
from app.inspect.base import Context, InspectView, ViewHost, fill_combo
from core.analysis.model_analysis import ModelAnalysis
from core.model.catalog import KERNEL_TYPES

if TYPE_CHECKING:
    from app.workers import Task


def filter_mosaic(grid: Any) -> Any:
    """A FilterGrid tiled into one image: RGB kernels in colour (mid-grey between them), else
    one diverging scale (white between them: the scale's zero, not a value)."""
    from core.inspect.mosaic import tile

    if grid.color:
        return tile((grid.kernels - grid.vmin) / (grid.vmax - grid.vmin), fill=np.nan)
    return tile(grid.kernels[:, 0], fill=np.nan)


def show_filter_grid(pane: ImagePane, grid: Any, mosaic: Any = None) -> Any:
    """Draw a FilterGrid (tiled with filter_mosaic) into ``pane``."""
    mosaic = mosaic if mosaic is not None else filter_mosaic(grid)
    if grid.color:
        pane.show_map(mosaic.image)
    else:
        pane.show_map(mosaic.image, (grid.vmin, grid.vmax), DIVERGING)
    return mosaic


def chosen_channel(in_channels: int, colour: bool, channel: int) -> int | None:
    """None (colour) for RGB input unless one channel is chosen, else that channel."""
    if in_channels == 3 and colour:
        return None
    return min(channel, in_channels - 1)


class FiltersView(InspectView):
    title = "Filters"
    uses_input = False

    def __init__(self, tab: ViewHost) -> None:
        super().__init__(tab)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.filter_layer = QComboBox()
        self.filter_channel = QSpinBox()
        self.filter_channel.setPrefix("input channel ")
        self.filter_color = QComboBox()
        self.filter_color.addItems(["colour (RGB input)", "one input channel"])
        self.filter_frame = QSpinBox()
        self.filter_frame.setPrefix("kernel frame ")
        self.filter_frame.setToolTip("A Conv3d kernel spans several frames: the one shown "
                                     "(one colour scale for all of them)")
        self.filter_frame.setSpecialValueText("kernel frame: middle")
        self.filter_frame.setRange(-1, 0)
        self.filter_frame.setValue(-1)
        self.filter_frame.setVisible(False)
        for w in (QLabel("layer"), self.filter_layer, self.filter_color, self.filter_channel,
                  self.filter_frame):
            row.addWidget(w)
        row.addStretch(1)
        self.filter_readout = QLabel()
        row.addWidget(self.filter_readout)
        self.filter_layer.currentTextChanged.connect(lambda _t: self.refresh())
        self.filter_channel.valueChanged.connect(lambda _v: self.refresh())
        self.filter_color.currentIndexChanged.connect(lambda _i: self.refresh())
        self.filter_frame.valueChanged.connect(lambda _v: self.refresh())
        self.filter_pane = ImagePane()
        self.filter_pane.hovered.connect(self._filter_hover)
        layout.addLayout(row)
        layout.addWidget(self.filter_pane, 1)
        layout.addLayout(self.export_row("filters"))
        self._filter_grid: Any = None
        self._filter_mosaic: Any = None

    def fill_layers(self, analysis: ModelAnalysis) -> None:
        from core.inspect.templates import template_layers

        templates = set(template_layers(analysis))
        fill_combo(self.filter_layer, [layer.name for layer in analysis.spec.layers
                                       if layer.type in KERNEL_TYPES or layer.name in templates])

    def reset(self) -> None:
        self.filter_pane.clear_picture()
        self.filter_readout.setText("")
        self._filter_grid = self._filter_mosaic = None

    def _frame(self) -> int | None:
        """The Conv3d kernel frame chosen; None: the middle one (or a 2-D kernel)."""
        value = self.filter_frame.value()
        return None if value < 0 else value

    def parameters(self) -> tuple[str, bool, int, int | None]:
        return (self.filter_layer.currentText(), self.filter_color.currentIndex() == 0,
                self.filter_channel.value(), self._frame())

    def compute(self, context: Context, parameters: Any, task: Task) -> Any:
        layer, colour, channel, frame = parameters
        if not layer:
            raise ValueError("this model has no layer with kernels (convolutions) nor a Linear "
                             "that reads the image")
        grid = context.inspector.filters(layer)
        in_channels = grid.in_channels
        pick = chosen_channel(in_channels, colour, channel)
        frame = None if frame is None or frame >= grid.depth else frame  # another layer's
        if pick is not None or frame is not None:
            grid = context.inspector.filters(layer, pick, frame)
        return grid, filter_mosaic(grid), in_channels, pick

    def show_result(self, result: Any, parameters: Any) -> None:
        grid, mosaic, in_channels, pick = result
        if self._filter_grid is None or self._filter_grid.layer != grid.layer or \
                self._filter_grid.in_channel != grid.in_channel:
            self.filter_readout.setText("")  # a readout never outlives its layer
        self.filter_channel.blockSignals(True)
        self.filter_channel.setRange(0, max(0, in_channels - 1))
        self.filter_channel.blockSignals(False)
        self.filter_color.setEnabled(in_channels == 3)
        self.filter_channel.setEnabled(pick is not None)
        self.filter_frame.blockSignals(True)
        self.filter_frame.setRange(-1, max(0, grid.depth - 1))
        self.filter_frame.blockSignals(False)
        self.filter_frame.setVisible(grid.depth > 1)
        self._show_filters(grid, mosaic)

    def _show_filters(self, grid: Any, mosaic: Any = None) -> None:
        self._filter_mosaic = show_filter_grid(self.filter_pane, grid, mosaic)
        self._filter_grid = grid

    def live(self, layer: str, weights: np.ndarray) -> None:
        """A training run sent this layer's filters (small: the first layer): draw them."""
        if self.filter_layer.currentText() != layer:
            return
        from core.inspect.inspector import filter_grid

        colour = self.filter_color.currentIndex() == 0
        pick = chosen_channel(weights.shape[1], colour, self.filter_channel.value())
        frame = self._frame() if weights.ndim == 5 and (self._frame() or 0) < weights.shape[2] \
            else None
        self._show_filters(filter_grid(weights, layer, pick, frame))

    def _filter_hover(self, row: int, col: int) -> None:
        mosaic = self._filter_mosaic
        cell = mosaic.cell_at(row, col) if mosaic is not None else None
        if cell is None or self._filter_grid is None:
            return
        index, r, c = cell
        grid = self._filter_grid
        value = grid.kernels[index, :, r, c]
        text = ", ".join(f"{v:.4g}" for v in value)
        name = f"template {grid.titles[index]}" if grid.titles else f"filter {index}"
        self.filter_readout.setText(f"{name} [{r}, {c}]: {text}")

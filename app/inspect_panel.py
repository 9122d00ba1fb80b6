"""The Inspect tab: filters, activation maps, predictions, attributions, channel images and
how the filters formed, on the builder's model with its current weights.

Computation is core.inspect's; this module only chooses what to compute and draws the arrays.
Every view exports to PNG at a chosen size through core.inspect.render (as the command line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.image_pane import DIVERGING, GREY, ImagePane

INPUT_KINDS = ("digits test image", "sample photo", "image file")


def show_filter_grid(pane: ImagePane, grid: Any) -> Any:
    """Tile a FilterGrid into ``pane``: RGB kernels in colour, else one diverging scale."""
    from core.inspect.mosaic import tile

    if grid.color:
        mosaic = tile((grid.kernels - grid.vmin) / (grid.vmax - grid.vmin), fill=0.5)
        pane.show_map(mosaic.image)
    else:
        mosaic = tile(grid.kernels[:, 0], fill=0.0)
        pane.show_map(mosaic.image, (grid.vmin, grid.vmax), DIVERGING)
    return mosaic


class WeightsSource(QObject):
    """Which weights the views use: none (random), or a run folder's latest / best weights."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.path: Path | None = None
        self.run_dir: Path | None = None
        self.version = 0

    def use(self, weights: Path | None, run_dir: Path | None) -> None:
        self.path, self.run_dir = weights, run_dir
        self.version += 1
        self.changed.emit()

    def label(self) -> str:
        if self.path is None:
            return "random initial weights (untrained)"
        where = f" in {self.run_dir.name}" if self.run_dir else ""
        return f"{self.path.name}{where}"


class MaximizeWorker(QObject):
    """Activation maximisation on a thread, with progress and cancel."""

    progress = Signal(int, int)
    done = Signal(object)

    def __init__(self, inspector: Any, layer: str, channel: int, steps: int) -> None:
        super().__init__()
        self.inspector, self.layer, self.channel, self.steps = inspector, layer, channel, steps
        self.cancelled = False

    @Slot()
    def run(self) -> None:
        def report(step: int, total: int) -> bool:
            self.progress.emit(step, total)
            return not self.cancelled

        try:
            image = self.inspector.maximize(self.layer, self.channel, self.steps,
                                            progress=report)
            self.done.emit(None if self.cancelled else image)
        except ValueError as exc:
            self.done.emit(exc)


class InspectPanel(QWidget):
    def __init__(self, document: ModelDocument, weights: WeightsSource,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.weights = document, weights
        self._inspector: Any = None
        self._key: tuple[Any, ...] | None = None
        self._input: Any = None
        self._max_thread: QThread | None = None
        self._max_worker: MaximizeWorker | None = None
        self._build()
        document.changed.connect(self._model_changed)
        weights.changed.connect(self._model_changed)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        top = QHBoxLayout()
        self.weights_label = QLabel()
        open_run = QPushButton("Open run…")
        open_run.setToolTip("Use the weights of a training run folder")
        open_run.clicked.connect(self._choose_run)
        random = QPushButton("Random weights")
        random.clicked.connect(lambda: self.weights.use(None, None))
        top.addWidget(QLabel("<b>Weights:</b>"))
        top.addWidget(self.weights_label, 1)
        top.addWidget(open_run)
        top.addWidget(random)
        source = QHBoxLayout()
        self.input_kind = QComboBox()
        self.input_kind.addItems(INPUT_KINDS)
        self.digit_index = QSpinBox()
        self.digit_index.setRange(0, 269)
        self.digit_index.setPrefix("#")
        from core.inspect.inputs import SAMPLE_PHOTOS

        self.photo = QComboBox()
        self.photo.addItems(SAMPLE_PHOTOS)
        self.file_button = QPushButton("Choose file…")
        self.file_button.clicked.connect(self._choose_file)
        self.image_path: Path | None = None
        self.input_note = QLabel()
        self.input_note.setWordWrap(True)
        source.addWidget(QLabel("<b>Input:</b>"))
        for w in (self.input_kind, self.digit_index, self.photo, self.file_button):
            source.addWidget(w)
        source.addWidget(self.input_note, 1)
        self.input_kind.currentIndexChanged.connect(self._input_changed)
        self.digit_index.valueChanged.connect(self._input_changed)
        self.photo.currentIndexChanged.connect(self._input_changed)

        self.views = QTabWidget()
        self.views.addTab(self._filters_view(), "Filters")
        self.views.addTab(self._activations_view(), "Activations")
        self.views.addTab(self._predictions_view(), "Predictions")
        self.views.addTab(self._attributions_view(), "Attributions")
        self.views.addTab(self._channel_view(), "What a channel looks for")
        self.views.addTab(self._formation_view(), "How they formed")
        self.views.currentChanged.connect(lambda _i: self.refresh())
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d62828")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(source)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.message)
        self._input_changed()

    def _export_button(self, view: str) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addStretch(1)
        width, height = QSpinBox(), QSpinBox()
        for box, value in ((width, 1600), (height, 1000)):
            box.setRange(200, 8000)
            box.setValue(value)
            box.setSuffix(" px")
        button = QPushButton("Export PNG…")
        button.clicked.connect(lambda: self.export(view, (width.value(), height.value())))
        row.addWidget(QLabel("size"))
        row.addWidget(width)
        row.addWidget(QLabel("×"))
        row.addWidget(height)
        row.addWidget(button)
        return row

    def _filters_view(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.filter_layer = QComboBox()
        self.filter_channel = QSpinBox()
        self.filter_channel.setPrefix("input channel ")
        self.filter_color = QComboBox()
        self.filter_color.addItems(["colour (RGB input)", "one input channel"])
        for w in (QLabel("layer"), self.filter_layer, self.filter_color, self.filter_channel):
            row.addWidget(w)
        row.addStretch(1)
        self.filter_readout = QLabel()
        row.addWidget(self.filter_readout)
        self.filter_layer.currentTextChanged.connect(lambda _t: self.refresh())
        self.filter_channel.valueChanged.connect(lambda _v: self.refresh())
        self.filter_color.currentIndexChanged.connect(lambda _i: self.refresh())
        self.filter_pane = ImagePane()
        self.filter_pane.hovered.connect(self._filter_hover)
        layout.addLayout(row)
        layout.addWidget(self.filter_pane, 1)
        layout.addLayout(self._export_button("filters"))
        return page

    def _activations_view(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.act_layer = QComboBox()
        self.act_layer.currentTextChanged.connect(lambda _t: self.refresh())
        self.act_readout = QLabel("Click a map to enlarge it; click a position in the enlarged "
                                  "map to see the input region it sees.")
        row.addWidget(QLabel("layer"))
        row.addWidget(self.act_layer)
        row.addWidget(self.act_readout, 1)
        grid = QGridLayout()
        self.act_pane = ImagePane("all feature maps (one colour scale)")
        self.act_pane.clicked.connect(self._act_clicked)
        self.act_pane.hovered.connect(self._act_hover)
        self.act_big = ImagePane("enlarged")
        self.act_big.hovered.connect(self._big_hover)
        self.act_big.clicked.connect(self._big_clicked)
        self.act_input = ImagePane("input (as the model sees it)", colorbar=False)
        self.act_bars = pg.PlotWidget(title="outputs")
        self.act_bars.hide()
        grid.addWidget(self.act_pane, 0, 0, 2, 1)
        grid.addWidget(self.act_big, 0, 1)
        grid.addWidget(self.act_input, 1, 1)
        grid.addWidget(self.act_bars, 0, 0, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout.addLayout(row)
        layout.addLayout(grid, 1)
        layout.addLayout(self._export_button("activations"))
        self._selected_map = 0
        return page

    def _predictions_view(self) -> QWidget:
        page = QWidget()
        layout = QHBoxLayout(page)
        left = QVBoxLayout()
        self.top_k = QTableWidget(0, 2)
        self.top_k.setHorizontalHeaderLabels(["class", "probability"])
        self.top_k.horizontalHeader().setStretchLastSection(True)
        left.addWidget(QLabel("<b>Top 5 for the input</b>"))
        left.addWidget(self.top_k)
        right = QVBoxLayout()
        self.confusion_button = QPushButton("Compute the confusion matrix on the validation "
                                            "split (digits)")
        self.confusion_button.clicked.connect(self._confusion)
        self.confusion = QTableWidget(0, 0)
        self.confusion.cellClicked.connect(self._confusion_cell)
        self.confusion_note = QLabel("Rows: true class; columns: predicted. Click a cell off "
                                     "the diagonal to see its misclassified examples.")
        self.confusion_note.setWordWrap(True)
        self.mistakes = ImagePane("misclassified examples", colorbar=False)
        right.addWidget(self.confusion_button)
        right.addWidget(self.confusion, 2)
        right.addWidget(self.confusion_note)
        right.addWidget(self.mistakes, 1)
        layout.addLayout(left, 1)
        layout.addLayout(right, 2)
        self._cells: dict[tuple[int, int], list[int]] = {}
        return page

    def _attributions_view(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.attr_method = QComboBox()
        self.attr_method.addItems(["Grad-CAM", "saliency", "occlusion"])
        self.attr_target = QSpinBox()
        self.attr_target.setRange(-1, 9999)
        self.attr_target.setSpecialValueText("predicted class")
        self.attr_target.setValue(-1)
        self.attr_note = QLabel()
        for w in (QLabel("method"), self.attr_method, QLabel("class"), self.attr_target,
                  self.attr_note):
            row.addWidget(w)
        row.addStretch(1)
        self.attr_method.currentIndexChanged.connect(lambda _i: self.refresh())
        self.attr_target.valueChanged.connect(lambda _v: self.refresh())
        self.attr_input = ImagePane("input", colorbar=False)
        self.attr_pane = ImagePane("attribution over the input (bright: important)",
                                   colorbar=False)
        panes = QHBoxLayout()
        panes.addWidget(self.attr_input)
        panes.addWidget(self.attr_pane)
        layout.addLayout(row)
        layout.addLayout(panes, 1)
        layout.addLayout(self._export_button("attributions"))
        return page

    def _channel_view(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.max_layer = QComboBox()
        self.max_channel = QSpinBox()
        self.max_channel.setPrefix("channel ")
        self.max_steps = QSpinBox()
        self.max_steps.setRange(8, 2000)
        self.max_steps.setValue(128)
        self.max_steps.setSuffix(" steps")
        self.max_run = QPushButton("Dream")
        self.max_run.clicked.connect(self._maximize)
        self.max_cancel = QPushButton("Cancel")
        self.max_cancel.setEnabled(False)
        self.max_cancel.clicked.connect(self._cancel_maximize)
        self.max_progress = QProgressBar()
        for w in (QLabel("layer"), self.max_layer, self.max_channel, self.max_steps,
                  self.max_run, self.max_cancel, self.max_progress):
            row.addWidget(w)
        self.max_pane = ImagePane("an input that excites the channel (gradient ascent from "
                                  "noise, with jitter and blur)", colorbar=False)
        layout.addLayout(row)
        layout.addWidget(self.max_pane, 1)
        self.max_layer.currentTextChanged.connect(self._max_layer_changed)
        return page

    def _formation_view(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.form_slider = QSlider(Qt.Orientation.Horizontal)
        self.form_slider.valueChanged.connect(self._show_snapshot)
        self.form_label = QLabel("Train a model (or open a run) to replay how its first "
                                 "filters formed, epoch by epoch.")
        row.addWidget(QLabel("epoch"))
        row.addWidget(self.form_slider, 1)
        row.addWidget(self.form_label)
        panes = QHBoxLayout()
        self.form_filters = ImagePane("first-layer filters")
        self.form_acts = ImagePane("their activations for the probe image")
        panes.addWidget(self.form_filters)
        panes.addWidget(self.form_acts)
        layout.addLayout(row)
        layout.addLayout(panes, 1)
        self._snapshots: list[tuple[int, dict[str, Any]]] = []
        return page

    # -- model and input ----------------------------------------------------------------------
    def inspector(self) -> Any:
        """The Inspector for the current model and weights (rebuilt only when they change)."""
        from core.inspect.inspector import Inspector
        from core.train.checkpoint import load_state

        spec = self.document.spec
        key = (spec, self.weights.version)
        if self._key != key or self._inspector is None:
            self._inspector = None
            self._key = key
            state = None
            if self.weights.run_dir is not None and (self.weights.run_dir / "training.json"
                                                     ).exists():
                state = load_state(self.weights.run_dir)
            self._inspector = Inspector(spec, self.weights.path, state)
            self._input = None
        return self._inspector

    def _model_changed(self) -> None:
        self._inspector = None
        self._key = None
        self._input = None
        self.weights_label.setText(self.weights.label())
        if self.isVisible():
            self.refresh()

    def _input_changed(self) -> None:
        kind = self.input_kind.currentIndex()
        self.digit_index.setVisible(kind == 0)
        self.photo.setVisible(kind == 1)
        self.file_button.setVisible(kind == 2)
        self._input = None
        if self.isVisible():
            self.refresh()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Image", str(Path.home()),
                                              "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif "
                                              "*.tiff *.webp);;All files (*)")
        if path:
            self.image_path = Path(path)
            self._input_changed()

    def _choose_run(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Training run folder")
        if path:
            self.use_run(Path(path))

    def use_run(self, run: Path) -> bool:
        from core.model.errors import ModelError
        from core.train.checkpoint import open_run

        try:
            opened = open_run(run)
        except ModelError as exc:
            QMessageBox.warning(self, "Cannot use this run", str(exc))
            return False
        self.weights.use(opened.weights, opened.run_dir)
        return True

    def source(self) -> str:
        kind = self.input_kind.currentIndex()
        if kind == 0:
            return f"digits:{self.digit_index.value()}"
        if kind == 1:
            return self.photo.currentText()
        return str(self.image_path) if self.image_path else ""

    def current_input(self) -> Any:
        from core.inspect.inspector import image_for

        if self._input is None:
            source = self.source()
            if not source:
                raise ValueError("choose an image file first")
            self._input = image_for(self.inspector(), source)
            self.input_note.setText(self._input.source + (": " + "; ".join(self._input.notes)
                                                          if self._input.notes else ""))
        return self._input

    # -- drawing ------------------------------------------------------------------------------
    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.weights_label.setText(self.weights.label())
        self.refresh()

    def refresh(self) -> None:
        """Recompute the visible view; any problem is a message, never a traceback."""
        self.message.setText("")
        try:
            inspector = self.inspector()
            self._fill_layer_lists(inspector)
            view = self.views.currentIndex()
            (self._draw_filters, self._draw_activations, self._draw_predictions,
             self._draw_attributions, lambda i: None, self._draw_formation)[view](inspector)
        except ValueError as exc:  # ModelError, DataError, InspectError are ValueErrors
            self.message.setText(str(exc))

    def _fill_layer_lists(self, inspector: Any) -> None:
        for combo, names in ((self.filter_layer, inspector.kernel_layers()),
                             (self.act_layer, inspector.layer_names()),
                             (self.max_layer, [n for n in inspector.layer_names()
                                               if len(inspector.analysis.get(n).output_shape)
                                               in (1, 3)])):
            current = [combo.itemText(i) for i in range(combo.count())]
            if current != names:
                keep = combo.currentText()
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(names)
                if keep in names:
                    combo.setCurrentText(keep)
                combo.blockSignals(False)
        self._max_layer_changed(self.max_layer.currentText())

    def _draw_filters(self, inspector: Any) -> None:

        layer = self.filter_layer.currentText()
        if not layer:
            raise ValueError("this model has no layer with kernels (convolutions)")
        grid = inspector.filters(layer)
        self.filter_channel.setRange(0, max(0, grid.in_channels - 1))
        self.filter_color.setEnabled(grid.in_channels == 3)
        channel = self._chosen_channel(grid.in_channels)
        self.filter_channel.setEnabled(channel is not None)
        if channel is not None:
            grid = inspector.filters(layer, channel)
        self._show_filters(grid)

    def _show_filters(self, grid: Any) -> None:
        self._filter_mosaic = show_filter_grid(self.filter_pane, grid)
        self._filter_grid = grid

    def live_filters(self, layer: str, weights: np.ndarray) -> None:
        """A training run sent its first layer's filters: redraw if that layer is shown."""
        if not self.isVisible() or self.views.currentIndex() != 0:
            return
        if self.filter_layer.currentText() != layer:
            return
        from core.inspect.inspector import filter_grid

        self._show_filters(filter_grid(weights, layer, self._chosen_channel(weights.shape[1])))

    def _chosen_channel(self, in_channels: int) -> int | None:
        """None (colour) for RGB input unless one channel is chosen, else that channel."""
        if in_channels == 3 and self.filter_color.currentIndex() == 0:
            return None
        return min(self.filter_channel.value(), in_channels - 1)

    def _filter_hover(self, row: int, col: int) -> None:
        mosaic = getattr(self, "_filter_mosaic", None)
        cell = mosaic.cell_at(row, col) if mosaic else None
        if cell is None:
            return
        index, r, c = cell
        grid = self._filter_grid
        value = grid.kernels[index, :, r, c]
        text = ", ".join(f"{v:.4g}" for v in value)
        self.filter_readout.setText(f"filter {index} [{r}, {c}]: {text}")

    def _draw_activations(self, inspector: Any) -> None:
        from core.inspect.mosaic import tile

        inp = self.current_input()
        layer = self.act_layer.currentText()
        values = inspector.activation(layer, inp)
        self._act_values = values
        display = inp.display.transpose(1, 2, 0) if inp.display.shape[0] == 3 else inp.display[0]
        self.act_input.show_map(display, (0.0, 1.0), GREY)
        self.act_input.hide_box()
        if values.ndim == 1:
            self.act_pane.hide()
            self.act_big.hide()
            self.act_bars.show()
            self.act_bars.clear()
            self.act_bars.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values,
                                                  width=0.8, brush="#3b82c4"))
            return
        self.act_bars.hide()
        self.act_pane.show()
        self.act_big.show()
        maps = values if values.ndim == 3 else values[:, None, :]
        self._act_mosaic = tile(maps)
        self.act_pane.show_map(self._act_mosaic.image)
        self._selected_map = min(self._selected_map, maps.shape[0] - 1)
        self.act_big.show_map(maps[self._selected_map])

    def _act_clicked(self, row: int, col: int) -> None:
        cell = self._act_mosaic.cell_at(row, col) if hasattr(self, "_act_mosaic") else None
        if cell is not None:
            self._selected_map = cell[0]
            values = self._act_values
            maps = values if values.ndim == 3 else values[:, None, :]
            self.act_big.show_map(maps[cell[0]])
            self.act_big.plot.setTitle(f"map {cell[0]}")

    def _act_hover(self, row: int, col: int) -> None:
        cell = self._act_mosaic.cell_at(row, col) if hasattr(self, "_act_mosaic") else None
        if cell is not None:
            value = self.act_pane.value_at(row, col)
            self.act_readout.setText(f"map {cell[0]} [{cell[1]}, {cell[2]}] = {value:.4g}"
                                     if value is not None else "")

    def _big_hover(self, row: int, col: int) -> None:
        value = self.act_big.value_at(row, col)
        if value is not None:
            self.act_readout.setText(f"map {self._selected_map} [{row}, {col}] = {value:.4g}")

    def _big_clicked(self, row: int, col: int) -> None:
        """Show the receptive field of this position in the input."""
        info = self.inspector().analysis.get(self.act_layer.currentText())
        field = info.receptive_field if info else None
        if field is None or field.dims != 2:
            self.act_readout.setText("this layer has no receptive field on the input")
            return
        (top, bottom), (left, right) = field.input_window((row, col))
        self.act_input.show_box(top - 0.5, left - 0.5, bottom - top, right - left)
        self.act_readout.setText(f"position [{row}, {col}] sees input rows {top:.0f}–"
                                 f"{bottom - 1:.0f}, columns {left:.0f}–{right - 1:.0f} "
                                 f"(receptive field {field.label()})")

    def _draw_predictions(self, inspector: Any) -> None:
        inp = self.current_input()
        top = inspector.top_k(inp, 5)
        self.top_k.setRowCount(len(top))
        for row, p in enumerate(top):
            self.top_k.setItem(row, 0, QTableWidgetItem(p.label))
            self.top_k.setItem(row, 1, QTableWidgetItem(f"{p.probability:.1%}  "
                                                        + "█" * round(p.probability * 20)))
        self.top_k.resizeColumnsToContents()

    def _confusion(self) -> None:
        from core.data.datasets import load_digits_dataset
        from core.inspect.inspector import confusion

        try:
            inspector = self.inspector()
            data = load_digits_dataset()
            matrix, cells = confusion(inspector, data.val.images, data.val.labels,
                                      inspector.preparer(data))
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self._cells, self._confusion_images = cells, data.val.images
        n = matrix.shape[0]
        self.confusion.setRowCount(n)
        self.confusion.setColumnCount(n)
        labels = inspector.classes[:n]
        self.confusion.setHorizontalHeaderLabels(labels)
        self.confusion.setVerticalHeaderLabels(labels)
        top = max(1, int(matrix.max()))
        for r in range(n):
            for c in range(n):
                item = QTableWidgetItem(str(int(matrix[r, c])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                strength = int(matrix[r, c]) / top
                color = pg.mkColor(59, 130, 196, int(40 + 200 * strength)) if r == c else \
                    pg.mkColor(214, 40, 40, int(200 * strength) if matrix[r, c] else 0)
                item.setBackground(color)
                self.confusion.setItem(r, c, item)
        self.confusion.resizeColumnsToContents()
        accuracy = np.trace(matrix) / max(1, matrix.sum())
        self.confusion_note.setText(f"validation accuracy {accuracy:.1%} over {matrix.sum()} "
                                    "images. Click a red cell to see its mistakes.")

    def _confusion_cell(self, row: int, col: int) -> None:
        from core.inspect.mosaic import tile

        indices = self._cells.get((row, col), [])
        if not indices:
            self.mistakes.image.clear()
            self.confusion_note.setText("no mistakes in this cell" if row != col else
                                        "the diagonal holds the correct predictions")
            return
        images = self._confusion_images[indices][:, 0].float().numpy() / 255
        self.mistakes.show_map(tile(images).image, (0.0, 1.0), GREY)
        self.confusion_note.setText(f"{len(indices)} images of class {row} predicted as {col}")

    def _draw_attributions(self, inspector: Any) -> None:
        inp = self.current_input()
        target = None if self.attr_target.value() < 0 else self.attr_target.value()
        method = self.attr_method.currentText()
        if method == "Grad-CAM":
            heat, cls, layer = inspector.gradcam(inp, target)
            note = f"Grad-CAM on {layer}"
        elif method == "saliency":
            heat, cls = inspector.saliency(inp, target)
            note = "saliency |∂score/∂input|"
        else:
            heat, cls = inspector.occlusion(inp, target)
            note = "score drop when a patch is hidden"
        display = inp.display.transpose(1, 2, 0) if inp.display.shape[0] == 3 else \
            np.repeat(inp.display[0][..., None], 3, axis=2)
        self.attr_input.show_map(display)
        self.attr_pane.show_map(display)
        self.attr_pane.show_overlay(heat)
        label = inspector.classes[cls] if cls < len(inspector.classes) else str(cls)
        self.attr_note.setText(f"{note}, for class {label}")
        self._attr = (display, heat, f"{note} for class {label}")

    def _max_layer_changed(self, layer: str) -> None:
        if not layer or self._inspector is None:
            return
        info = self._inspector.analysis.get(layer)
        if info is not None:
            self.max_channel.setRange(0, info.output_shape[0] - 1)

    def _maximize(self) -> None:
        try:
            inspector = self.inspector()
        except ValueError as exc:
            self.message.setText(str(exc))
            return
        self._cancel_maximize()
        thread = QThread()
        worker = MaximizeWorker(inspector, self.max_layer.currentText(),
                                self.max_channel.value(), self.max_steps.value())
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # bound methods of this widget: queued to the GUI thread (a lambda would run on the
        # worker's thread and touch widgets from there)
        worker.progress.connect(self._max_progress)
        worker.done.connect(self._maximized)
        worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._max_thread, self._max_worker = thread, worker
        self.max_run.setEnabled(False)
        self.max_cancel.setEnabled(True)
        thread.start()

    def _max_progress(self, step: int, total: int) -> None:
        self.max_progress.setRange(0, total)
        self.max_progress.setValue(step)

    def _maximized(self, result: Any) -> None:
        if self.sender() is not self._max_worker:
            return  # a cancelled, older run: drop its result (latest wins)
        self.max_run.setEnabled(True)
        self.max_cancel.setEnabled(False)
        if isinstance(result, Exception):
            self.message.setText(str(result))
        elif result is not None:
            image = result.transpose(1, 2, 0) if result.shape[0] == 3 else result[0]
            self.max_pane.show_map(image, (0.0, 1.0))

    def _cancel_maximize(self, wait_ms: int = 0) -> None:
        if self._max_worker is not None:
            self._max_worker.cancelled = True
        if self._max_thread is not None and wait_ms:
            self._max_thread.wait(wait_ms)
        self.max_cancel.setEnabled(False)
        self.max_run.setEnabled(True)

    def stop_workers(self) -> None:
        self._cancel_maximize(wait_ms=10_000)

    def _draw_formation(self, inspector: Any) -> None:
        from core.train import snapshots

        run = self.weights.run_dir
        self._snapshots = snapshots.load(run) if run is not None else []
        if not self._snapshots:
            self.form_label.setText("No snapshots: train the model, or open a run folder.")
            return
        self.form_slider.blockSignals(True)
        self.form_slider.setRange(0, len(self._snapshots) - 1)
        self.form_slider.setValue(len(self._snapshots) - 1)
        self.form_slider.blockSignals(False)
        self._show_snapshot(self.form_slider.value())

    def _show_snapshot(self, index: int) -> None:
        from core.inspect.mosaic import tile

        if not 0 <= index < len(self._snapshots):
            return
        epoch, tensors = self._snapshots[index]
        names = sorted(k for k in tensors if k.startswith("filters."))
        if not names:
            return
        layer = names[0].split(".", 1)[1]
        from core.inspect.inspector import filter_grid

        show_filter_grid(self.form_filters, filter_grid(tensors[f"filters.{layer}"].numpy(),
                                                        layer))
        acts = tensors[f"activations.{layer}"].numpy()
        if acts.ndim == 3:
            self.form_acts.show_map(tile(acts).image)
        self.form_label.setText(f"epoch {epoch} ({'before training' if epoch == 0 else 'after'}"
                                f") · layer {layer} · {index + 1}/{len(self._snapshots)}")

    # -- export -------------------------------------------------------------------------------
    def export(self, view: str, size: tuple[int, int]) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export PNG",
                                              f"{self.document.spec.name}-{view}.png",
                                              "PNG image (*.png)")
        if path:
            self.export_to(view, Path(path), size)

    def export_to(self, view: str, path: Path, size: tuple[int, int]) -> Path | None:
        """Render the view with core.inspect.render (the same pictures as the command line)."""
        from core.inspect import render

        try:
            inspector = self.inspector()
            notes = [inspector.weights_note]
            name = self.document.spec.name
            if view == "filters":
                grid = getattr(self, "_filter_grid", None) or inspector.filters(
                    self.filter_layer.currentText())
                fig = render.filters_figure(grid, f"{name} · {grid.layer} filters", notes, size)
            elif view == "activations":
                inp = self.current_input()
                layer = self.act_layer.currentText()
                notes.append(f"input: {inp.source}")
                fig = render.activations_figure(inspector.activation(layer, inp),
                                                f"{name} · {layer} activations", notes, size,
                                                inspector.classes)
            else:
                self._draw_attributions(inspector)
                display, heat, title = self._attr
                fig = render.overlay_figure(display.transpose(2, 0, 1), heat,
                                            f"{name} · {title}", notes, size)
            if path.suffix.lower() != ".png":
                path = path.with_suffix(".png")
            return render.save_png(fig, path)
        except (ValueError, OSError) as exc:
            self.message.setText(f"Cannot export: {exc}")
            return None

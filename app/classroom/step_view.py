"""The step-through: one output value of a layer, its input patch, kernel, products and sum.

The session (the model built with its weights, one forward pass capturing every layer's input)
is made on a worker thread, latest request wins; stepping from position to position then only
reads small arrays. Arrow keys move the output position (Left/Right along the row, Up/Down
between rows), Space plays and pauses; stride, padding and dilation show as the window moves
over the input map.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.classroom.grids import NORMAL, PRESENT, Look, NumberGrid
from core.classroom.step import Step, StepError
from core.classroom.text import formula, number

MAX_CHANNELS = 3
"""Input channels drawn at once; a spin box pages through the others."""
SCATTER_SUM_LIMIT = 4096
"""Inputs up to this size show the running sum of the stamps in the scatter view."""
FORMULA_SCALE = 1.3
"""The sum's size, relative to the body text."""


class _Done(QObject):
    finished = Signal(int, object)


def _released() -> None:
    return None


class _Job(QRunnable):
    def __init__(self, request: int, work: Callable[[], Any], done: _Done) -> None:
        super().__init__()
        self.request, self.work, self.done = request, work, done
        # Python owns the job (released on the UI thread once its result arrived): a
        # pool-deleted runnable whose wrapper is collected later can crash the collector
        self.setAutoDelete(False)

    def run(self) -> None:
        from app.workers import import_torch

        try:
            import_torch()
            result = self.work()
        except Exception as exc:  # shown in the view, never lost
            result = exc
        self.work = _released  # the work's closure (figures, models) goes with this thread
        self.done.finished.emit(self.request, result)


class SessionLoader(QObject):
    """Builds step sessions on a worker thread; only the latest request's result is delivered."""

    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.request = 0
        self._done = _Done(self)
        self._done.finished.connect(self._finished)
        self._jobs: dict[int, _Job] = {}

    def load(self, work: Callable[[], Any]) -> None:
        self.request += 1
        job = _Job(self.request, work, self._done)
        self._jobs[self.request] = job
        self.pool.start(job)

    @property
    def busy(self) -> bool:
        return self.pool.activeThreadCount() > 0

    def _finished(self, request: int, result: object) -> None:
        self._jobs.pop(request, None)
        if request != self.request:
            return  # an older request: the model changed since
        if isinstance(result, Exception):
            self.failed.emit(str(result) or type(result).__name__)
        else:
            self.loaded.emit(result)

    def stop(self, wait_ms: int = 10_000) -> None:
        self.request += 1
        self.pool.waitForDone(wait_ms)


def _ring(module: object) -> tuple[int, int]:
    """The layer's padding in cells (rows, columns); 0 where it is not a number."""
    padding = getattr(module, "padding", 0)
    if isinstance(padding, int):
        return padding, padding
    if isinstance(padding, tuple | list) and all(isinstance(p, int) for p in padding):
        return (int(padding[-2]), int(padding[-1])) if len(padding) >= 2 else \
            (0, int(padding[0]))
    return 0, 0


def _input_plane(step: Step, plane: np.ndarray, index: int,
                 ring: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray,
                                                          list[tuple[int, int]], int, int]:
    """The input channel with room for the layer's padding ring (``ring``, drawn at every
    position so the map keeps its size) and the window's cells, and the cells read."""
    height, width = plane.shape
    rows, cols = step.input_rows, step.input_cols
    read = ~step.padding[index]
    if step.kind == "transposed":
        rows_all, cols_all = rows[read], cols[read]
        r0, c0 = 0, 0
        r1, c1 = height - 1, width - 1
    else:
        rows_all, cols_all = rows, cols
        r0, c0 = min(-ring[0], int(rows.min())), min(-ring[1], int(cols.min()))
        r1 = max(height - 1 + ring[0], int(rows.max()))
        c1 = max(width - 1 + ring[1], int(cols.max()))
    values = np.full((r1 - r0 + 1, c1 - c0 + 1), np.nan)
    values[-r0:-r0 + height, -c0:-c0 + width] = plane
    pad = np.isnan(values)
    if step.kind != "transposed":
        for (i, j), value in np.ndenumerate(step.patch[index]):
            values[rows[i, j] - r0, cols[i, j] - c0] = value
    values = np.where(np.isnan(values), 0.0, values)
    window = [(int(r) - r0, int(c) - c0) for r, c in zip(rows_all.ravel(), cols_all.ravel(),
                                                         strict=True)]
    return values, pad, window, r0, c0


def _setting(value: object, kernel: bool = False) -> str:
    """A layer setting as the info line says it: "3×3" for a kernel, "1" for (1, 1)."""
    if isinstance(value, tuple | list):
        if not kernel and len(set(value)) == 1:
            return str(value[0])
        return "×".join(map(str, value))
    return str(value)


class GridArea(QWidget):
    """The input map, per input channel a row of patch × kernel = products, and the output
    map, placed in fixed shares of the width: the maps keep their size from step to step (a
    box layout sized them by the middle column's hints, which changed with the layer), and
    the rows share the height (hidden rows make room for the others)."""

    resized = Signal()
    LARGE_MAP_SHARE = 0.27
    """A map drawn as an image (too many cells for numbers) takes this share of the width."""
    GAP = 8

    def __init__(self, input_grid: NumberGrid, rows: list[tuple[NumberGrid, ...]],
                 output_grid: NumberGrid) -> None:
        super().__init__()
        self.input_grid, self.rows, self.output_grid = input_grid, rows, output_grid
        for grid in (input_grid, output_grid, *(g for row in rows for g in row)):
            grid.setParent(self)
        self.needs = (0, 0, 0)
        """The widths the input map, the rows and the output map need for body-size numbers
        (set per layer from shapes, not values, so nothing moves from position to
        position); the width is shared in proportion to them."""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(300, 90)

    def sizeHint(self) -> QSize:
        return QSize(900, 400)

    def rows_that_fit(self, row_height: int) -> int:
        """How many channel rows of ``row_height`` fit in the area's height (at least one)."""
        return max(1, (self.height() + self.GAP) // max(1, row_height + self.GAP))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.place()
        self.resized.emit()

    def place(self) -> None:
        width, height, gap = self.width(), self.height(), self.GAP
        room = max(1, width - 2 * gap)
        needs = [min(need, int(room * share)) or int(room * self.LARGE_MAP_SHARE)
                 for need, share in zip(self.needs, (0.4, 0.55, 0.4), strict=True)]
        if not any(self.needs):
            needs = [1, 1, 1]
        # the rows first (their numbers are the arithmetic), the maps share what is left
        middle = min(needs[1], int(room * 0.55)) if any(self.needs) else room // 3
        if sum(needs) <= room:  # room to spare: shared in proportion to the needs
            middle = room * needs[1] // sum(needs)
        middle = max(middle, int(room * 0.45))  # as the box layout gave them before
        rest = room - middle
        input_width = rest * needs[0] // max(1, needs[0] + needs[2])
        output_width = rest - input_width
        map_width = input_width
        self.input_grid.setGeometry(0, 0, input_width, height)
        self.output_grid.setGeometry(width - output_width, 0, output_width, height)
        column = max(1, (middle - 2 * gap) // 3)
        shown = [row for row in self.rows if not row[0].isHidden()]
        row_height = max(1, (height - gap * (len(shown) - 1)) // max(1, len(shown)))
        for index, row in enumerate(shown):
            top = index * (row_height + gap)
            grids = [grid for grid in row if not grid.isHidden()]
            left = map_width + gap + (0 if len(grids) == len(row) else
                                      (middle - column * len(grids)) // 2)
            for grid in grids:
                grid.setGeometry(left, top, column, row_height)
                left += column + gap


class StepThroughView(QWidget):
    """Layer and position pickers, the arithmetic grids, the output map and the sum."""

    position_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Any = None
        self.step_result: Step | None = None
        self.look: Look = NORMAL
        self.loader = SessionLoader(self)
        self.loader.loaded.connect(self._session_ready)
        self.loader.failed.connect(self._session_failed)
        self._pending: tuple[str, tuple[int, ...]] | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self._build()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.layer = QComboBox()
        self.layer.setToolTip("The convolution, pooling or transposed-convolution layer")
        self.layer.currentTextChanged.connect(self._layer_chosen)
        self.spins = []
        for label in ("channel", "row", "column"):
            spin = QSpinBox()
            spin.setPrefix(f"{label} ")
            spin.valueChanged.connect(self._spin_moved)
            self.spins.append(spin)
        self.first_channel = QSpinBox()
        self.first_channel.setPrefix("input channels from ")
        self.first_channel.setToolTip("Which input channels are drawn (as many as fit with "
                                      "readable numbers, up to three)")
        self.first_channel.valueChanged.connect(self._redraw)
        self.first_channel.setVisible(False)  # shown when not every channel fits
        self.prev_button = QPushButton("◀")
        self.prev_button.setToolTip("Previous position (Left arrow)")
        self.prev_button.clicked.connect(lambda: self.step_by(-1))
        self.next_button = QPushButton("▶")
        self.next_button.setToolTip("Next position (Right arrow)")
        self.next_button.clicked.connect(lambda: self.step_by(+1))
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play across positions (Space)")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play_toggled)
        self.speed = QSlider(Qt.Orientation.Horizontal)
        self.speed.setRange(1, 20)
        self.speed.setValue(4)
        self.speed.setToolTip("Positions per second")
        self.speed.valueChanged.connect(self._speed_changed)
        self.speed_label = QLabel()
        self.scatter = QCheckBox("Scatter: input by input")
        self.scatter.setToolTip("Transposed convolution: step over the input values, each "
                                "stamping its scaled kernel into the output (trans_conv)")
        self.scatter.toggled.connect(lambda _on: self._layer_chosen(self.layer.currentText()))
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer)
        for spin in self.spins:
            bar.addWidget(spin)
        for widget in (self.prev_button, self.next_button, self.play_button, self.speed,
                       self.speed_label, self.scatter):
            bar.addWidget(widget)
        # the pager sits beside the sum, its room kept when hidden: showing it in the tool bar
        # widened the view at 1366 px (the page scrolled, and fewer rows fit)
        policy = self.first_channel.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.first_channel.setSizePolicy(policy)
        for button in (self.prev_button, self.next_button):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        for widget in (self.prev_button, self.next_button, self.play_button, self.speed,
                       self.scatter):
            # clicked, they leave the keyboard with the view: arrows move the position
            widget.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        bar.addStretch(1)
        layout.addLayout(bar)
        self.info = QLabel("Open a model with a convolution or pooling layer.")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.input_grid = NumberGrid("input")
        self.patch_grids = [NumberGrid() for _ in range(MAX_CHANNELS)]
        self.kernel_grids = [NumberGrid() for _ in range(MAX_CHANNELS)]
        self.product_grids = [NumberGrid() for _ in range(MAX_CHANNELS)]
        self.output_grid = NumberGrid("output")
        self.grids = GridArea(self.input_grid, list(zip(self.patch_grids, self.kernel_grids,
                                                         self.product_grids, strict=True)),
                              self.output_grid)
        self.grids.resized.connect(self._area_resized)
        self._row_need = 0
        self.channel_rows = MAX_CHANNELS
        """Channel rows drawn now: as many as fit with readable numbers, up to MAX_CHANNELS."""
        layout.addWidget(self.grids, 1)
        self.formula = QLabel()
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        sum_row = QHBoxLayout()
        sum_row.addWidget(self.formula, 1)
        sum_row.addWidget(self.first_channel, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addLayout(sum_row)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self._speed_changed(self.speed.value())
        self.set_look(NORMAL)

    def set_look(self, look: Look) -> None:
        """NORMAL or PRESENT (large type, thick lines, high contrast)."""
        self.look = look
        for grid in self.findChildren(NumberGrid):
            grid.set_look(look)
        self._style_formula()

    def _style_formula(self) -> None:
        """The sum in bold, larger than the body text at every text size (a font and one
        palette colour, not a style sheet: those keep the font and palette of when set)."""
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(self.font().pointSizeF() * FORMULA_SCALE)
        self.formula.setFont(font)
        palette = QPalette()  # only the text colour: the rest follows the window's palette
        palette.setColor(QPalette.ColorRole.WindowText,
                         QColor(self.look.mark if self.look is PRESENT else "#b01e1e"))
        self.formula.setPalette(palette)
        # a line each even when empty: the grids above keep their height from step to step
        self.formula.setMinimumHeight(QFontMetrics(font, self.formula).height())
        for label in (self.info, self.notes):
            label.setMinimumHeight(self.fontMetrics().height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._style_formula()

    # -- session ----------------------------------------------------------------------------
    def load(self, work: Callable[[], Any], layer: str | None = None,
             position: tuple[int, ...] | None = None) -> None:
        """Build a session on the worker (``work`` returns a StepSession); keep the layer and
        position when they still exist, or go to the ones given."""
        if layer is not None:
            self._pending = (layer, position or (0, 0, 0))
        elif self.step_result is not None:
            self._pending = (self.step_result.layer, self.step_result.position)
        self.info.setText("Building the model and running the input through it…")
        self.loader.load(work)

    def _session_failed(self, message: str) -> None:
        self.session = None
        self.step_result = None
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.blockSignals(False)
        self.info.setText(f"Nothing to step through: {message}")
        self._clear()

    def _session_ready(self, session: Any) -> None:
        self.session = session
        names = session.layers()
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(names)
        self.layer.blockSignals(False)
        if not names:
            self._session_failed(f"{session.spec.name} has no convolution, pooling or "
                                 "transposed-convolution layer")
            return
        layer, position = self._pending or (names[0], (0, 0, 0))
        self._pending = None
        if layer not in names:
            layer, position = names[0], (0, 0, 0)
        self.go_to(layer, position)

    def go_to(self, layer: str, position: tuple[int, ...]) -> None:
        """Show ``layer`` at ``position`` (clamped into its output)."""
        if self.session is None:
            self._pending = (layer, position)
            return
        if layer not in self.session.layers():
            return
        transposed = self.session.spec.layer(layer).type == "ConvTranspose2d"
        self.scatter.setVisible(transposed)
        shape = tuple((self.session.layer_input(layer) if self._scattering(layer) else
                       self.session.output(layer)).shape)
        if len(shape) == 2:
            shape = (shape[0], 1, shape[1])
            position = (position[0], 0, position[-1]) if len(position) == 2 else position
        position = tuple(min(max(0, p), n - 1) for p, n in zip(position, shape, strict=False))
        self.layer.blockSignals(True)
        self.layer.setCurrentText(layer)
        self.layer.blockSignals(False)
        for spin, n, p in zip(self.spins, shape, position, strict=True):
            spin.blockSignals(True)
            spin.setRange(0, n - 1)
            spin.setValue(p)
            spin.blockSignals(False)
        self._show()

    def _scattering(self, layer: str) -> bool:
        return (self.scatter.isChecked() and self.session is not None
                and self.session.spec.layer(layer).type == "ConvTranspose2d")

    def _layer_chosen(self, name: str) -> None:
        if self.session is not None and name:
            self.go_to(name, tuple(s.value() for s in self.spins))

    def _spin_moved(self) -> None:
        self._show()

    def position(self) -> tuple[int, ...]:
        return tuple(s.value() for s in self.spins)

    # -- stepping ---------------------------------------------------------------------------
    def step_by(self, delta: int) -> bool:
        """Next (+1) or previous (−1) position in reading order; False at either end. (Not
        ``move``: that is QWidget.move, which places the widget.)"""
        if self.session is None:
            return False
        c, y, x = self.position()
        _, height, width = (s.maximum() + 1 for s in self.spins)
        flat = (c * height + y) * width + x + delta
        total = (self.spins[0].maximum() + 1) * height * width
        if not 0 <= flat < total:
            return False
        self._set_position((flat // (height * width), flat // width % height, flat % width))
        return True

    def move_row(self, delta: int) -> None:
        c, y, x = self.position()
        self._set_position((c, y + delta, x))

    def _set_position(self, position: tuple[int, int, int]) -> None:
        for spin, value in zip(self.spins, position, strict=True):
            spin.blockSignals(True)
            spin.setValue(min(max(value, spin.minimum()), spin.maximum()))
            spin.blockSignals(False)
        self._show()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Right:
            self.step_by(+1)
        elif key == Qt.Key.Key_Left:
            self.step_by(-1)
        elif key == Qt.Key.Key_Down:
            self.move_row(+1)
        elif key == Qt.Key.Key_Up:
            self.move_row(-1)
        elif key == Qt.Key.Key_Space:
            self.play_button.toggle()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _play_toggled(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")
        if playing:
            self.timer.start()
        else:
            self.timer.stop()

    def _speed_changed(self, value: int) -> None:
        self.timer.setInterval(int(1000 / value))
        self.speed_label.setText(f"{value}/s")

    def _tick(self) -> None:
        if not self.step_by(+1):
            self.play_button.setChecked(False)

    # -- drawing ----------------------------------------------------------------------------
    def _clear(self) -> None:
        for grid in self.findChildren(NumberGrid):
            grid.set_data(None, "")
        self.formula.clear()
        self.notes.clear()

    def _show(self) -> None:
        layer = self.layer.currentText()
        if self.session is None or not layer:
            return
        position = self.position()
        if self._scattering(layer):
            self._show_scatter(layer, position)
            return
        if len(self.session.output(layer).shape) == 2:
            position = (position[0], position[2])
        try:
            self.step_result = self.session.step(layer, position)
        except StepError as exc:
            self.info.setText(str(exc))
            return
        step = self.step_result
        channels = len(step.in_channels)
        self.first_channel.setRange(0, max(0, channels - 1))
        module = self.session.module(layer)
        settings = ", ".join(f"{k} {_setting(v, k == 'kernel')}" for k, v in (
            ("kernel", getattr(module, "kernel_size", None)),
            ("stride", getattr(module, "stride", None)),
            ("padding", getattr(module, "padding", None)),
            ("dilation", getattr(module, "dilation", None))) if v is not None)
        mode = getattr(module, "padding_mode", "")
        self.info.setText(
            f"<b>{layer}</b> ({step.layer_type}) · {settings}"
            + (f" ({mode})" if mode and mode != "zeros" else "")
            + (f" · groups {module.groups}: reads input channel"
               + (f" {step.in_channels[0]}" if len(step.in_channels) == 1 else
                  f"s {step.in_channels[0]}–{step.in_channels[-1]}")
               if getattr(module, "groups", 1) > 1 else "")
            + f" · {self.session.weights_note} · input: {self.session.source}")
        self._redraw()
        self.position_changed.emit(step.position)

    def _redraw(self) -> None:
        step = self.step_result
        if step is None or self.session is None:
            return
        first = min(self.first_channel.value(), max(0, len(step.in_channels) - 1))
        shown = list(range(first, min(len(step.in_channels), first + MAX_CHANNELS)))
        shown = shown[:self._rows_that_fit(step, shown[0])]
        self.first_channel.setVisible(len(shown) < len(step.in_channels))
        self.first_channel.setSingleStep(len(shown))
        layer_input = self.session.layer_input(step.layer).numpy()
        if layer_input.ndim == 2:
            layer_input = layer_input[:, None, :]
        plane = layer_input[step.in_channels[shown[0]]]
        ring = (0, 0) if step.kind == "transposed" else _ring(self.session.module(step.layer))
        values, pad, window, _, _ = _input_plane(step, plane, shown[0], ring)
        self.input_grid.set_data(values, f"input channel {step.in_channels[shown[0]]}"
                                 f" ({'×'.join(map(str, layer_input.shape))})", pad,
                                 window=window)
        for row in range(MAX_CHANNELS):
            grids = (self.patch_grids[row], self.kernel_grids[row], self.product_grids[row])
            if row >= len(shown):
                for grid in grids:
                    grid.set_data(None, "")
                    grid.setVisible(False)
                continue
            index = shown[row]
            chosen = ([step.chosen[1:]] if step.chosen is not None and step.chosen[0] == index
                      else [])
            grids[0].setVisible(True)
            grids[0].set_data(step.patch[index], f"patch · channel {step.in_channels[index]}",
                              step.padding[index], marks=chosen)
            has_kernel = step.kernel is not None and step.products is not None
            for grid in grids[1:]:
                grid.setVisible(has_kernel)
            if has_kernel:
                assert step.kernel is not None and step.products is not None
                grids[1].set_data(step.kernel[index], "× kernel")
                total = ("" if step.channel_sums is None else
                         f" → {number(float(step.channel_sums[index]))}")
                grids[2].set_data(step.products[index], f"= products{total}")
        output = self.session.output(step.layer).numpy()
        out_plane = output[step.position[0]]
        mark = (0, step.position[1]) if len(step.position) == 2 else (step.position[1],
                                                                      step.position[2])
        self.output_grid.set_data(out_plane, f"output channel {step.position[0]} "
                                  f"({'×'.join(map(str, output.shape))})", marks=[mark])
        hidden = len(step.in_channels) - len(shown)
        self.formula.setText(formula(step))
        self.notes.setText(" · ".join(
            ([f"{hidden} input channel{'s' if hidden > 1 else ''} not drawn (their sums are "
              "in the total)"]
             if hidden else []) + list(step.notes)))
        self.grids.place()

    def _rows_that_fit(self, step: Step, index: int) -> int:
        """Channel rows that fit the area with every number at the body text's size, judged
        by channel ``index``'s grids (patch, kernel, products hold the widest values)."""
        probe = NumberGrid()
        probe.setFont(self.font())
        # a row's width from the kernel's size and four-character values: the same for every
        # position of the layer, so the maps beside the rows keep their size
        probe.set_data(np.full(step.patch[index].shape, -888.0))
        column = probe.readable_size().width()
        pad = 0 if step.kind == "transposed" else 2 * _ring(self.session.module(step.layer))[1]
        maps = []
        for shape, extra in ((self.session.layer_input(step.layer).shape, pad),
                             (self.session.output(step.layer).shape, 0)):
            rows, cols = (1, shape[-1]) if len(shape) == 2 else shape[-2:]
            probe.set_data(np.full((rows, cols + extra), -888.0))  # the input's padding ring
            maps.append(probe.readable_size().width())
        self.grids.needs = (maps[0], 3 * column + 2 * GridArea.GAP, maps[1])
        need = 0
        for values in (step.patch[index], step.kernel, step.products):
            if values is not None:
                probe.set_data(values if values is step.patch[index] else values[index])
                need = max(need, probe.readable_size().height())
        self._row_need = need
        self.channel_rows = self.grids.rows_that_fit(need)
        return self.channel_rows

    def needed_height(self) -> int:
        """The height that shows the maps and one channel row with body-size numbers, and
        the text lines at their wrapped heights (the split above gives the view this)."""
        maps = max(self.input_grid.readable_size().height(),
                   self.output_grid.readable_size().height())
        # the maps may be a little smaller than body-size numbers need (up to 1.25 rows), so
        # the lesson's list and cards keep some room
        grids = max(self._row_need, min(maps, self._row_need * 5 // 4),
                    self.grids.minimumHeight())
        extra = sum(max(0, label.heightForWidth(label.width()) - label.minimumSizeHint().height())
                    for label in (self.info, self.formula, self.notes) if label.width() > 0)
        return self.minimumSizeHint().height() - self.grids.minimumHeight() + grids + extra

    def _area_resized(self) -> None:
        """The area grew or shrank: draw more or fewer channel rows when that changes."""
        if self.step_result is not None and self._row_need and \
                self.grids.rows_that_fit(self._row_need) != self.channel_rows:
            self._redraw()

    def _show_scatter(self, layer: str, position: tuple[int, ...]) -> None:
        """One input value times the kernel, added into the output (the running sum so far)."""
        from core.classroom.step import scatter_step, scatter_sum

        module = self.session.module(layer)
        x = self.session.layer_input(layer)
        output = self.session.output(layer)
        ch, r, c = position
        part = scatter_step(module, x, (ch, r, c))
        out_channel = part.out_channels[0]
        if x.numel() <= SCATTER_SUM_LIMIT:
            total = scatter_sum(module, x, (ch, r, c), tuple(output.shape))
        else:  # the running sum would mean thousands of stamps per step: show this one
            total = np.zeros(tuple(output.shape))
            rows_ok = (part.rows >= 0) & (part.rows < output.shape[1])
            cols_ok = (part.cols >= 0) & (part.cols < output.shape[2])
            total[np.ix_(list(part.out_channels), part.rows[rows_ok], part.cols[cols_ok])] += \
                part.contribution[:, rows_ok][:, :, cols_ok]
        self.step_result = None
        self.first_channel.setVisible(False)
        self.info.setText(f"<b>{layer}</b> (ConvTranspose2d) scatter view · input value "
                          f"({ch}, {r}, {c}) = {number(part.value)} stamps value × kernel into "
                          f"output rows {part.rows[0]}–{part.rows[-1]}, columns {part.cols[0]}–"
                          f"{part.cols[-1]} · {self.session.weights_note}")
        plane = x[ch].numpy()
        self.input_grid.set_data(plane, f"input channel {ch}", marks=[(r, c)])
        for row in range(MAX_CHANNELS):
            grids = (self.patch_grids[row], self.kernel_grids[row], self.product_grids[row])
            for grid in grids:
                grid.setVisible(row == 0)
        self.patch_grids[0].set_data(np.array([[part.value]]), "input value")
        self.kernel_grids[0].set_data(part.kernel[0], f"× kernel (to output channel "
                                      f"{out_channel})")
        self.product_grids[0].set_data(part.contribution[0], "= stamp")
        stamped = [(int(y), int(x_)) for y in part.rows for x_ in part.cols
                   if 0 <= y < output.shape[1] and 0 <= x_ < output.shape[2]]
        self.output_grid.set_data(total[out_channel], f"output channel {out_channel} so far "
                                  "(no bias yet)", window=stamped)
        done = (ch * x.shape[1] + r) * x.shape[2] + c + 1
        self.formula.setText(f"{done} of {x.numel()} input values stamped; after the last, "
                             "adding the bias gives the layer's output")
        self.notes.setText("")
        self.grids.place()

    def stop(self) -> None:
        self.timer.stop()
        self.loader.stop()

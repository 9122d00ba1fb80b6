"""The step-through: one output value of a layer, its input patch, kernel, products and sum.

The session (the model built with its weights, one forward pass capturing every layer's input)
is made on a worker thread, latest request wins (``session_loader``); stepping from position to
position then only reads small arrays. Arrow keys move the output position (Left/Right along
the row, Up/Down between rows), Space plays and pauses (``step_controls``); stride, padding and
dilation show as the window moves over the input map (placed by ``grid_area``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from app.classroom.grid_area import GridArea, input_plane, padding_ring
from app.classroom.grids import (
    MAP_READ_CELLS,
    NORMAL,
    PRESENT,
    READABLE_FROM_BACK,
    Look,
    NumberGrid,
)
from app.classroom.magnifier import Magnifier
from app.classroom.session_loader import SessionLoader
from app.classroom.step_controls import StepControls
from app.style import error_color
from core.classroom.step import Step, StepError
from core.classroom.text import formula, number

MAX_CHANNELS = 3
"""Input channels drawn at once; a spin box pages through the others."""
SCATTER_SUM_LIMIT = 4096
"""Inputs up to this size show the running sum of the stamps in the scatter view."""
FORMULA_SCALE = 1.3
"""The sum's size, relative to the body text."""


def _setting(value: object, kernel: bool = False) -> str:
    """A layer setting as the info line says it: "3×3" for a kernel, "1" for (1, 1)."""
    if isinstance(value, tuple | list):
        if not kernel and len(set(value)) == 1:
            return str(value[0])
        return "×".join(map(str, value))
    return str(value)


class StepThroughView(QWidget):
    """The tool bar (layer, position, play), the arithmetic grids, the output map and the sum."""

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
        self.loading = False
        """A session was asked for and has not arrived: the position asked with it (and the
        moves below) is where the view goes when it does."""
        self._moves: list[tuple[str, int]] = []
        """The arrow keys pressed while ``loading`` ("step" or "row", and the delta), made
        again from the asked position when the session arrives (a teacher who opens a lesson
        and presses → at once sees the step move, not the session take it back)."""
        self.brief = False
        """The layer's settings line left out while a step is drawn (a short window at large
        type: its two lines were the grids' room); it stays as the grids' tooltip."""
        self._build()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        # no margins: the panel has its own, and at projector text each pixel of height goes
        # to the maps' numbers
        layout.setContentsMargins(0, 0, 0, 0)
        self.controls = StepControls()
        # as tall as its row, as the bar's box layout was
        self.controls.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.controls.moved.connect(self._show)
        self.controls.layer_chosen.connect(self._layer_chosen)
        self.controls.scatter_toggled.connect(
            lambda _on: self._layer_chosen(self.controls.layer.currentText()))
        self.first_channel = QSpinBox()
        self.first_channel.setPrefix("input channels from ")
        self.first_channel.setToolTip("Which input channels are drawn (as many as fit with "
                                      "readable numbers, up to three)")
        self.first_channel.valueChanged.connect(self._redraw)
        self.first_channel.setVisible(False)  # shown when not every channel fits
        # the pager sits beside the sum, its room kept when hidden: showing it in the tool bar
        # widened the view at 1366 px (the page scrolled, and fewer rows fit)
        policy = self.first_channel.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.first_channel.setSizePolicy(policy)
        layout.addWidget(self.controls)
        self.info = QLabel("Open a model with a convolution or pooling layer.")
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.input_grid = NumberGrid("input")
        self.magnifier = Magnifier(self.input_grid)  # the window's cells, readable at large type
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
        self.set_look(NORMAL)

    def set_brief(self, brief: bool) -> None:
        """Leave out the layer's settings line while a step is drawn (see ``brief``)."""
        self.brief = brief
        self._show_info()

    def _show_info(self) -> None:
        self.info.setVisible(not self.brief)
        self.grids.setToolTip(self.info.text() if self.brief else "")

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
                         QColor(self.look.mark) if self.look is PRESENT
                         else error_color(self.palette()))
        self.formula.setPalette(palette)
        # a line each even when empty: the grids above keep their height from step to step
        self.formula.setMinimumHeight(QFontMetrics(font, self.formula).height())
        for label in (self.info, self.notes):
            label.setMinimumHeight(self.fontMetrics().height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._style_formula()  # a theme change too: the sum's red reads on both

    # -- session ----------------------------------------------------------------------------
    def load(self, work: Callable[[], Any], layer: str | None = None,
             position: tuple[int, ...] | None = None) -> None:
        """Build a session on the worker (``work`` returns a StepSession); keep the layer and
        position when they still exist, or go to the ones given."""
        if layer is not None:
            self._pending = (layer, position or (0, 0, 0))
            self._moves = []
        elif self.step_result is not None and not self.loading:
            self._pending = (self.step_result.layer, self.step_result.position)
        # (a rebuild while one is loading keeps the position that one asked for, and the
        # keys pressed since)
        self.loading = True
        self.info.setText("Building the model and running the input through it…")
        self.loader.load(work)

    def _session_failed(self, message: str) -> None:
        self.loading = False
        self._moves = []
        self.session = None
        self.step_result = None
        self.controls.set_layers([])
        self.info.setText(f"Nothing to step through: {message}")
        self.info.setVisible(True)  # why nothing is drawn, brief or not
        self._clear()

    def _session_ready(self, session: Any) -> None:
        self.session = session
        names = session.layers()
        self.controls.set_layers(names)
        if not names:
            self._session_failed(f"{session.spec.name} has no convolution, pooling or "
                                 "transposed-convolution layer")
            return
        layer, position = self._pending or (names[0], (0, 0, 0))
        self._pending = None
        self.loading = False
        moves, self._moves = self._moves, []
        if layer not in names:
            layer, position = names[0], (0, 0, 0)
        self._go_to(layer, position)
        for kind, delta in moves:
            if kind == "step":
                self.controls.step_by(delta)
            else:
                self.controls.move_row(delta)

    def go_to(self, layer: str, position: tuple[int, ...]) -> None:
        """Show ``layer`` at ``position`` (clamped into its output); while a session is
        loading, that is where it lands (a lesson step chosen meanwhile)."""
        if self.session is None or self.loading:
            self._pending = (layer, position)
            self._moves = []
            if self.session is None:
                return
        self._go_to(layer, position)

    def _go_to(self, layer: str, position: tuple[int, ...]) -> None:
        if layer not in self.session.layers():
            return
        transposed = self.session.spec.layer(layer).type == "ConvTranspose2d"
        self.controls.show_scatter(transposed)
        shape = tuple((self.session.layer_input(layer) if self._scattering(layer) else
                       self.session.output(layer)).shape)
        frames, frame = 0, self.controls.frame.value()
        if len(shape) == 2:
            shape = (shape[0], 1, shape[1])
            position = (position[0], 0, position[-1]) if len(position) == 2 else position
        elif len(shape) == 4:  # a Conv3d: one output frame at a time
            frames = shape[1]
            if len(position) == 4:
                frame, position = position[1], (position[0], *position[2:])
            shape = (shape[0], *shape[2:])
        position = tuple(min(max(0, p), n - 1) for p, n in zip(position, shape, strict=False))
        self.controls.show_position(layer, shape, position, frames,
                                    min(max(0, frame), max(0, frames - 1)))
        self._show()

    def _scattering(self, layer: str) -> bool:
        return (self.controls.scatter.isChecked() and self.session is not None
                and self.session.spec.layer(layer).type == "ConvTranspose2d")

    def _layer_chosen(self, name: str) -> None:
        if self.session is not None and name:
            self._go_to(name, self.position())

    def position(self) -> tuple[int, ...]:
        return self.controls.position()

    # -- stepping ---------------------------------------------------------------------------
    def step_by(self, delta: int) -> bool:
        """Next (+1) or previous (−1) position in reading order; False at either end. (Not
        ``move``: that is QWidget.move, which places the widget.) While a session loads
        the step is kept for it (True), and shown on the old one if there is one."""
        if self.loading:
            self._moves.append(("step", delta))
            if self.session is not None:
                self.controls.step_by(delta)
            return True
        return self.session is not None and self.controls.step_by(delta)

    def move_row(self, delta: int) -> None:
        if self.loading:
            self._moves.append(("row", delta))
            if self.session is None:
                return
        self.controls.move_row(delta)

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
            self.controls.play_button.toggle()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- drawing ----------------------------------------------------------------------------
    def _clear(self) -> None:
        for grid in self.findChildren(NumberGrid):
            grid.set_data(None, "")
        self.formula.clear()
        self.notes.clear()

    def _show(self) -> None:
        layer = self.controls.layer.currentText()
        if self.session is None or not layer:
            return
        position = self.position()
        if self._scattering(layer):
            self._show_scatter(layer, position)
            return
        dims = len(self.session.output(layer).shape)
        if dims == 2:
            position = (position[0], position[2])
        elif dims == 4:
            position = (position[0], self.controls.frame.value(), *position[1:])
        try:
            self.step_result = self.session.step(layer, position)
        except StepError as exc:
            self.info.setText(str(exc))
            self.info.setVisible(True)  # why nothing is drawn, brief or not
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
        self._show_info()
        self._redraw()
        self.position_changed.emit(step.position)

    def _redraw(self) -> None:
        step = self.step_result
        if step is None or self.session is None:
            return
        # at large type the rows write compact numbers (−0.000865 as −0.00) so a 5×5 kernel's
        # three grids fit the width with numbers read from the back of a room
        compact = self.large_type()
        for grid in (*self.patch_grids, *self.kernel_grids, *self.product_grids):
            grid.compact = compact
        first = min(self.first_channel.value(), max(0, len(step.in_channels) - 1))
        shown = list(range(first, min(len(step.in_channels), first + MAX_CHANNELS)))
        shown = shown[:self._rows_that_fit(step, shown[0])]
        self.first_channel.setVisible(len(shown) < len(step.in_channels))
        self.first_channel.setSingleStep(len(shown))
        layer_input = self.session.layer_input(step.layer)
        plane = step.input_plane(layer_input, shown[0])
        ring = padding_ring(step, self.session.module(step.layer))
        values, pad, window, first_row, first_col = input_plane(step, plane, shown[0], ring)
        self.input_grid.row_offset, self.input_grid.col_offset = first_row, first_col
        name = step.channel_labels[shown[0]] if step.channel_labels else \
            f"input channel {step.in_channels[shown[0]]}"
        self.input_grid.set_data(values, f"{name} ({'×'.join(map(str, layer_input.shape))})",
                                 pad, window=window)
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
            label = step.channel_labels[index] if step.channel_labels else \
                f"channel {step.in_channels[index]}"
            grids[0].set_data(step.patch[index], f"patch · {label}",
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
        where = f"output channel {step.position[0]}"
        if len(step.position) == 4:  # a Conv3d: the output frame stepped through
            out_plane = out_plane[step.position[1]]
            where += f", frame {step.position[1]}"
        mark = (0, step.position[1]) if len(step.position) == 2 else (step.position[-2],
                                                                      step.position[-1])
        self.output_grid.set_data(out_plane, f"{where} ({'×'.join(map(str, output.shape))})",
                                  marks=[mark])
        hidden = len(step.in_channels) - len(shown)
        rounded = any(grid.rounded for grid in (*self.patch_grids, *self.kernel_grids,
                                                 *self.product_grids) if grid.isVisibleTo(self))
        self.formula.setText(formula(step))
        self.notes.setText(" · ".join(
            ([f"{hidden} input channel{'s' if hidden > 1 else ''} not drawn (their sums are "
              "in the total)"]
             if hidden else []) + (["cells rounded to fit; the sums are exact"] if rounded
                                   else []) + list(step.notes)))
        self.grids.lens_width = self.magnifier.needed_size()[0]  # room for it, if wanted
        self.grids.place()

    def _rows_that_fit(self, step: Step, index: int) -> int:
        """Channel rows that fit the area with every number at the body text's size, judged
        by channel ``index``'s grids (patch, kernel, products hold the widest values)."""
        self._row_need = self.grids.measure(
            step, index, tuple(self.session.layer_input(step.layer).shape),
            tuple(self.session.output(step.layer).shape),
            padding_ring(step, self.session.module(step.layer)), self.font(),
            # the maps' numbers at the size read from the back of a room (at large type the
            # rows keep the body text's size where it fits; the maps beside them get the
            # width for this)
            min(self.fontInfo().pixelSize(), READABLE_FROM_BACK), compact=self.large_type())
        self.channel_rows = self.grids.rows_that_fit(self._row_need)
        return self.channel_rows

    def large_type(self) -> bool:
        """Projector text or present mode: the body text at least READABLE_FROM_BACK."""
        return self.fontInfo().pixelSize() >= READABLE_FROM_BACK

    def needed_height(self) -> int:
        """The height that shows the maps and one channel row with body-size numbers, and
        the text lines at their wrapped heights (the split above gives the view this)."""
        maps = max(self.input_grid.readable_size().height(),
                   self.output_grid.readable_size().height())
        # the maps may be a little smaller than body-size numbers need (up to 1.25 rows), so
        # the lesson's list and cards keep some room
        grids = max(self._row_need, min(maps, self._row_need * 5 // 4),
                    self.grids.minimumHeight())
        return self._chrome_height() + grids

    def wanted_height(self) -> int:
        """``needed_height``, and at large type (projector text, present mode) room for the
        maps' numbers at READABLE_FROM_BACK pixels, read from the back of a room. Maps of more
        than MAP_READ_CELLS cells are pictures (the window's numbers are in the rows)."""
        least = self.needed_height()
        body = self.fontInfo().pixelSize()
        if body < READABLE_FROM_BACK:
            return least
        maps = [grid.readable_size(READABLE_FROM_BACK).height()
                for grid in (self.input_grid, self.output_grid)
                if grid.values is not None and grid.values.size <= MAP_READ_CELLS]
        maps.append(self.magnifier.needed_size()[1])  # a larger map's lens, if wanted
        return max(least, self._chrome_height() + max([self._row_need, *maps]))

    def least_height(self) -> int:
        """The text lines at their wrapped heights and the grids at their smallest: below this
        the lines overlap the grids (``needed_height`` gives the grids body-size numbers)."""
        return self._chrome_height() + self.grids.minimumHeight()

    def _chrome_height(self) -> int:
        """The view's height without the grids: the bar and the text lines, wrapped."""
        extra = sum(max(0, label.heightForWidth(label.width()) - label.minimumSizeHint().height())
                    for label in (self.info, self.formula, self.notes) if label.width() > 0)
        return self.minimumSizeHint().height() - self.grids.minimumHeight() + extra

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
        self._show_info()
        plane = x[ch].numpy()
        self.input_grid.row_offset = self.input_grid.col_offset = 0
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
        self.controls.timer.stop()
        self.loader.stop()  # no session comes now: the keys are not kept for one
        self.loading = False
        self._moves = []

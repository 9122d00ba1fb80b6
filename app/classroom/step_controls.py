"""The step-through's tool bar: the layer, the output position, previous / next, play, speed.

The controls hold the position (three spin boxes: channel, row, column) and move it in reading
order; the view listens (``moved``, ``layer_chosen``, ``scatter_toggled``) and redraws.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)


class StepControls(QWidget):
    """Layer and position pickers, ◀ ▶, Play / Pause across positions and its speed."""

    moved = Signal()
    """The position changed (a spin box, a step, the timer)."""
    layer_chosen = Signal(str)
    scatter_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        # the scatter choice (a transposed convolution's) on a second line where the first is
        # full: beside the rest it made the page 133 px wider than the tab at 1366 px
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # see minimumSizeHint
        bar = QHBoxLayout()
        self._bar = bar
        self._second = QHBoxLayout()
        rows.addLayout(bar)
        rows.addLayout(self._second)
        self.layer = QComboBox()
        self.layer.setToolTip("The convolution, pooling or transposed-convolution layer")
        self.layer.currentTextChanged.connect(self.layer_chosen)
        self.spins: list[QSpinBox] = []
        for label in ("channel", "row", "column"):
            spin = QSpinBox()
            spin.setPrefix(f"{label} ")
            spin.valueChanged.connect(lambda _value: self.moved.emit())
            self.spins.append(spin)
        self.frame = QSpinBox()
        self.frame.setPrefix("frame ")
        self.frame.setToolTip("A Conv3d's output frame (depth): its kernel reads the input "
                              "frames around it; the position steps within this frame")
        self.frame.valueChanged.connect(lambda _value: self.moved.emit())
        self.frame.hide()
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
        self.scatter.toggled.connect(self.scatter_toggled)
        bar.addWidget(QLabel("Layer"))
        bar.addWidget(self.layer)
        bar.addWidget(self.frame)
        for spin in self.spins:
            bar.addWidget(spin)
        for widget in (self.prev_button, self.next_button, self.play_button, self.speed,
                       self.speed_label, self.scatter):
            bar.addWidget(widget)
        for button in (self.prev_button, self.next_button):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        for widget in (self.prev_button, self.next_button, self.play_button, self.speed,
                       self.scatter):
            # clicked, they leave the keyboard with the view: arrows move the position
            widget.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        bar.addStretch(1)
        self._second.addStretch(1)
        self._speed_changed(self.speed.value())

    def _first_line_width(self) -> int:
        """The first line's least width without the scatter choice."""
        bar = self._bar
        widths = []
        for index in range(bar.count()):
            item = bar.itemAt(index)
            widget = item.widget() if item is not None else None
            if item is None or widget is self.scatter or (widget is not None and
                                                          widget.isHidden()):
                continue
            widths.append(item.minimumSize().width())
        return sum(widths) + bar.spacing() * max(0, len(widths) - 1)

    def minimumSizeHint(self) -> QSize:
        """As narrow as the first line without the scatter choice (it wraps below)."""
        hint = super().minimumSizeHint()
        width = max(self._first_line_width(), self.scatter.minimumSizeHint().width())
        return QSize(width, hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._wrap_scatter()

    def show_scatter(self, shown: bool) -> None:
        """Offer the scatter choice (a transposed convolution's layer) or not."""
        self.scatter.setVisible(shown)
        self._wrap_scatter()

    def _wrap_scatter(self) -> None:
        """The scatter choice on the first line where it fits there, else on the second."""
        beside = self._first_line_width() + self._bar.spacing() + \
            self.scatter.sizeHint().width()
        wrap = self.scatter.isVisibleTo(self) and beside > self.width()
        target = self._second if wrap else self._bar
        if target.indexOf(self.scatter) < 0:
            (self._bar if wrap else self._second).removeWidget(self.scatter)
            target.insertWidget(0 if wrap else target.count() - 1, self.scatter)
            self.updateGeometry()

    def set_layers(self, names: list[str]) -> None:
        """The layers to choose from (none: nothing to step through), without a signal."""
        self.layer.blockSignals(True)
        self.layer.clear()
        self.layer.addItems(names)
        self.layer.blockSignals(False)

    def show_position(self, layer: str, shape: tuple[int, ...],
                      position: tuple[int, ...], frames: int = 0, frame: int = 0) -> None:
        """Show ``layer`` with spin ranges from its (channels, rows, columns) ``shape`` and,
        for a Conv3d (``frames`` > 0), its output frame; without a signal."""
        self.layer.blockSignals(True)
        self.layer.setCurrentText(layer)
        self.layer.blockSignals(False)
        self.frame.blockSignals(True)
        self.frame.setRange(0, max(0, frames - 1))
        self.frame.setValue(frame)
        self.frame.setVisible(frames > 0)
        self.frame.blockSignals(False)
        for spin, n, p in zip(self.spins, shape, position, strict=True):
            spin.blockSignals(True)
            spin.setRange(0, n - 1)
            spin.setValue(p)
            spin.blockSignals(False)

    def position(self) -> tuple[int, ...]:
        return tuple(s.value() for s in self.spins)

    # -- stepping ---------------------------------------------------------------------------
    def step_by(self, delta: int) -> bool:
        """Next (+1) or previous (−1) position in reading order; False at either end or with
        nothing loaded (no layers)."""
        if self.layer.count() == 0:
            return False
        c, y, x = self.position()
        _, height, width = (s.maximum() + 1 for s in self.spins)
        flat = (c * height + y) * width + x + delta
        total = (self.spins[0].maximum() + 1) * height * width
        if not 0 <= flat < total:
            return False
        self.set_position((flat // (height * width), flat // width % height, flat % width))
        return True

    def move_row(self, delta: int) -> None:
        c, y, x = self.position()
        self.set_position((c, y + delta, x))

    def set_position(self, position: tuple[int, int, int]) -> None:
        """Move to ``position`` (clamped into the ranges)."""
        for spin, value in zip(self.spins, position, strict=True):
            spin.blockSignals(True)
            spin.setValue(min(max(value, spin.minimum()), spin.maximum()))
            spin.blockSignals(False)
        self.moved.emit()

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

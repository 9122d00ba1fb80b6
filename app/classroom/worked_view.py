"""What the backward and matrix views share: a bar that wraps, a row of grids, a worker.

Each view shows something computed from the step-through's session (a backward pass, a matrix)
on a worker, latest request wins; past ``BUSY_MS`` the view says what it is doing and offers
Cancel (which drops the result). Stepping then only reads the arrays the worker returned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QKeyEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from app.classroom.grids import NORMAL, PRESENT, READABLE_FROM_BACK, Look, NumberGrid
from app.classroom.session_loader import SessionLoader
from app.flow_bar import FlowRow
from app.style import error_color

BUSY_MS = 200
"""Work taking longer than this shows what it is doing and a Cancel button."""
FORMULA_SCALE = 1.3
SPACING = 4
"""Between the bar, the text lines and the grids (the style's 6 px: at projector text the
matrix view was a few pixels taller than the split left it beside the lesson's list)."""


def read_pixels(widget: QWidget) -> int:
    """The numbers' size a view makes room for: the body text's, at large type (projector
    text, present mode) READABLE_FROM_BACK, which leaves the lesson's list its rows."""
    return min(widget.fontInfo().pixelSize(), READABLE_FROM_BACK)


class GridRow(QWidget):
    """Grids side by side, each as wide as its stretch gives it, but at least as wide as its
    numbers need at ``read_pixels`` where the row has the room (taken from the others): the
    matrix view's 4×16 convolution matrix gets the width its numbers need beside the
    counterparts, which draw tints only (equal shares drew its numbers at 18 px)."""

    GAP = 6

    def __init__(self, grids: list[tuple[NumberGrid, int]]) -> None:
        super().__init__()
        self.items = grids
        for grid, _ in grids:
            grid.setParent(self)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(20 * len(grids), 20)

    def sizeHint(self) -> QSize:
        return QSize(220 * len(self.items), 220)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.place()

    def widths(self, width: int) -> list[int]:
        """The shown grids' widths in ``width``: shares of the stretches, raised to the
        numbers' needs where those fit (all in proportion to the needs where they do not)."""
        shown = [(grid, stretch) for grid, stretch in self.items if not grid.isHidden()]
        room = max(0, width - self.GAP * (len(shown) - 1))
        pixels = read_pixels(self)
        needs = [grid.readable_size(pixels).width() if grid.shows_numbers else 0
                 for grid, _ in shown]
        if sum(needs) >= room:
            total = max(1, sum(needs))
            return [room * need // total for need in needs]
        fixed: set[int] = set()
        while True:
            free = room - sum(needs[i] for i in fixed)
            stretch = sum(s for i, (_, s) in enumerate(shown) if i not in fixed) or 1
            shares = [needs[i] if i in fixed else free * s // stretch
                      for i, (_, s) in enumerate(shown)]
            short = {i for i, share in enumerate(shares) if i not in fixed and share < needs[i]}
            if not short:
                return shares
            fixed |= short

    def place(self) -> None:
        shown = [grid for grid, _ in self.items if not grid.isHidden()]
        left = 0
        for grid, width in zip(shown, self.widths(self.width()), strict=True):
            grid.setGeometry(left, 0, width, self.height())
            left += width + self.GAP


class WorkedView(QWidget):
    """A bar (``bar_widgets``), an info line, ``grids`` side by side (each with its stretch),
    a formula line and a notes line; ``compute(work)`` runs ``work`` on the worker and hands
    the result to ``show_result``."""

    result: Any
    """What the view shows (each view's own kind), None when empty."""
    session: Any

    position_changed = Signal(object)

    def __init__(self, bar_widgets: list[QWidget], grids: list[tuple[NumberGrid, int]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session: Any = None
        self.look: Look = NORMAL
        self.loader = SessionLoader(self)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.busy_timer = QTimer(self)
        self.busy_timer.setSingleShot(True)
        self.busy_timer.setInterval(BUSY_MS)
        self.busy_timer.timeout.connect(self._show_busy)
        self.busy_text = ""
        self._waiting: tuple[Callable[[], Any], str] | None = None
        """Work asked for while hidden: run when the view is shown."""
        layout = QVBoxLayout(self)
        # no margins: the panel has its own (as the step-through), and at projector text each
        # pixel of height goes to the grids' numbers or the lesson's list
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop waiting for this result")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setVisible(False)
        self.bar = FlowRow([*bar_widgets, self.cancel_button])
        layout.addWidget(self.bar)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout.addWidget(self.info)
        self.grids = [grid for grid, _ in grids]
        self.grid_row = GridRow(grids)
        layout.addWidget(self.grid_row, 1)
        # a step shows, hides or refills grids: their widths follow their numbers
        self.position_changed.connect(lambda _at: self.grid_row.place())
        self.formula = QLabel()
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.formula)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        layout.addWidget(self.notes)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for widget in bar_widgets:
            if isinstance(widget, QPushButton):
                # clicked, they leave the keyboard with the view: arrows keep stepping
                widget.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.set_look(NORMAL)

    # -- looks ------------------------------------------------------------------------------
    def set_look(self, look: Look) -> None:
        self.look = look
        for grid in self.findChildren(NumberGrid):
            grid.set_look(look)
        self._style_formula()

    def _style_formula(self) -> None:
        font = QFont()
        font.setBold(True)
        font.setPointSizeF(self.font().pointSizeF() * FORMULA_SCALE)
        self.formula.setFont(font)
        palette = QPalette()
        palette.setColor(QPalette.ColorRole.WindowText,
                         QColor(self.look.mark) if self.look is PRESENT
                         else error_color(self.palette()))
        self.formula.setPalette(palette)
        self.formula.setMinimumHeight(QFontMetrics(font, self.formula).height())
        for label in (self.info, self.notes):
            label.setMinimumHeight(self.fontMetrics().height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._style_formula()

    def needed_height(self) -> int:
        """The bar and text lines at their wrapped heights and grids with readable numbers
        (``read_pixels``: as much as the tallest needs, at least four text lines)."""
        pixels = read_pixels(self)
        grids = max([g.readable_size(pixels).height() for g in self.grids if g.isVisible()] +
                    [4 * self.fontMetrics().height()])
        return self._text_height() + min(grids, 12 * self.fontMetrics().height())

    def least_height(self) -> int:
        """The least the panel's split leaves the view before the lesson's list: its grids
        with readable numbers (at projector text READABLE_FROM_BACK pixels, see
        ``read_pixels``), so here the list gives way where both do not fit."""
        return self.needed_height()

    def _text_height(self) -> int:
        lines = sum(label.heightForWidth(max(1, label.width())) for label in
                    (self.info, self.formula, self.notes))
        layout = self.layout()
        # the gaps between the bar, the info line, the grids, the formula and the notes
        chrome = 0 if layout is None else 4 * layout.spacing()
        return self.bar.heightForWidth(max(1, self.bar.width() or self.width())) + lines + chrome

    def wanted_height(self) -> int:
        """The height the view would like above its minimum (the panel's split gives it this
        before the lesson's cards): as much as it needs."""
        return self.needed_height()

    # -- work -------------------------------------------------------------------------------
    def compute(self, work: Callable[[], Any], doing: str) -> None:
        """Run ``work`` on the worker; the newest request's result reaches ``show_result``.
        A hidden view waits until it is shown (a backward pass nobody looks at is not run)."""
        if not self.isVisible():
            self._waiting = (work, doing)
            return
        self._waiting = None
        self.busy_text = doing
        self.busy_timer.start()
        self.loader.load(work)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._waiting is not None:
            self.compute(*self._waiting)

    def _show_busy(self) -> None:
        self.info.setText(self.busy_text)
        self.cancel_button.setVisible(True)

    def _idle(self) -> None:
        self.busy_timer.stop()
        self.cancel_button.setVisible(False)

    def cancel(self) -> None:
        self.loader.stop()
        self._idle()
        self.info.setText("Cancelled; change a setting to compute again.")

    @property
    def busy(self) -> bool:
        return self.busy_timer.isActive() or self.cancel_button.isVisible()

    def _loaded(self, result: Any) -> None:
        self._idle()
        self.show_result(result)

    def _failed(self, message: str) -> None:
        self._idle()
        self.info.setText(message)
        self.clear()

    def show_result(self, result: Any) -> None:
        raise NotImplementedError

    def offer_layers(self, box: Any, names: list[str], empty: str) -> bool:
        """Refill the layer box with ``names``, keeping the chosen layer where it still exists;
        with none to offer, clear the view, say ``empty`` (nothing without a session) and
        return False."""
        current = box.currentText()
        box.blockSignals(True)
        box.clear()
        box.addItems(names)
        if current in names:
            box.setCurrentText(current)
        box.blockSignals(False)
        if self.session is None or not names:
            self.result = None
            self.clear()
            self.info.setText(empty if self.session is not None else "")
            return False
        return True

    def clear(self) -> None:
        for grid in self.grids:
            grid.set_data(None, "")
        self.formula.clear()
        self.notes.clear()

    # -- keys -------------------------------------------------------------------------------
    def step_by(self, delta: int) -> bool:
        raise NotImplementedError

    def move_row(self, delta: int) -> None:
        raise NotImplementedError

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
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def stop(self) -> None:
        self.loader.stop()
        self._idle()

"""The bars around the builder: the model's name and input shape above the tabs, its totals
below, the diagram's legend and zoom buttons above it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.build.diagram import DiagramView
from app.build.property_editor import TypingBursts
from app.document import ModelDocument
from app.flow_bar import FlowRow
from app.style import error_color
from core.analysis.summary import format_bytes, format_count, format_macs, shape_text

SHAPE_LABELS = {1: ("features",), 2: ("channels", "length"), 3: ("channels", "height", "width"),
                4: ("channels", "depth", "height", "width")}


class InputShapeBar(QWidget):
    """The model's name and input shape (channels, height, width) at the top of the window."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__()
        self.document = document
        self.layout_ = QHBoxLayout(self)
        self.layout_.setContentsMargins(4, 2, 4, 2)
        self.layout_.addWidget(QLabel("Model"))
        self.name = QLineEdit()
        self.name.editingFinished.connect(self._rename)
        self.layout_.addWidget(self.name, 1)
        self.layout_.addSpacing(8)
        self.layout_.addWidget(QLabel("Input"))
        self.spins: list[QSpinBox] = []
        self.bursts = TypingBursts()
        self._editing = False
        self.spin_row = QHBoxLayout()
        self.layout_.addLayout(self.spin_row)
        self.layout_.addStretch(1)
        document.changed.connect(self.refresh)
        document.run_changed.connect(self._show_name)
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # projector text: the boxes grow with it
            self._fit_widths()

    def _fit_widths(self) -> None:
        """Sized in the current font, so projector text neither hides the name ("small" of
        "digits-small") nor pushes the docks off a 1920-px screen: the name box shows up to
        10 characters at its minimum (more when there is room), the size boxes 3 digits (a
        larger size scrolls inside its box)."""
        metrics = self.name.fontMetrics()
        self.name.setMinimumWidth(metrics.horizontalAdvance(
            max(self.name.text()[:10], "x" * 8, key=metrics.horizontalAdvance)) + 12)
        self.name.setMaximumWidth(max(self.name.minimumWidth(),
                                      metrics.horizontalAdvance("x" * 36)))
        for spin in self.spins:
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance(f"{spin.prefix()}999") + 30)

    def _rename(self) -> None:
        """Only what the user typed renames the model (not focus leaving an untouched field)."""
        if self.name.isModified():
            self.name.setModified(False)
            self.document.rename_model(self.name.text())

    def _show_name(self) -> None:
        """A model was loaded (or its run changed): the field shows its name, focus or not."""
        self.name.setText(self.document.spec.name)
        self.name.setModified(False)
        self._fit_widths()

    def refresh(self) -> None:
        shape = self.document.spec.input_shape
        labels = ("token ids",) if self.document.spec.input_dtype == "int64" else \
            SHAPE_LABELS[len(shape)]
        if [s.prefix() for s in self.spins] != [f"{label} " for label in labels]:
            while self.spin_row.count():
                item = self.spin_row.takeAt(0)
                old = item.widget() if item is not None else None
                if old is not None:
                    old.hide()  # gone at once, not when the deferred delete comes
                    old.deleteLater()
            self.spins = []
            for label in labels:
                spin = QSpinBox()
                spin.setRange(1, 100_000)
                spin.setPrefix(f"{label} ")
                spin.setToolTip(f"Input {label} (the batch is not part of the shape)")
                spin.setKeyboardTracking(True)
                # room for a 4-digit size, not for 100,000 (which made the bar wider than a
                # projector's screen at 24 pt): set in _fit_widths, again when the font changes
                spin.valueChanged.connect(self._changed)
                spin.editingFinished.connect(self.bursts.end)
                self.spin_row.addWidget(spin)
                self.spins.append(spin)
        for spin, value in zip(self.spins, shape, strict=True):
            # the box being typed in is left alone; after undo or a new model all follow
            if spin.value() != value and not self._editing:
                spin.blockSignals(True)
                spin.setValue(max(spin.minimum(), min(spin.maximum(), value)))
                spin.blockSignals(False)
        if not (self.name.hasFocus() and self.name.isModified()):
            self.name.setText(self.document.spec.name)
        self._fit_widths()

    def _changed(self) -> None:
        self._editing = True
        try:
            self.document.set_input_shape(tuple(s.value() for s in self.spins),
                                          burst=self.bursts.burst(self.sender()))
        finally:
            self._editing = False


class TotalsBar(QLabel):
    """Totals always in view: parameters (trainable / frozen), MACs, memory, output."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__()
        self.document = document
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setContentsMargins(6, 4, 6, 4)
        self.setWordWrap(True)  # at projector font sizes the totals wrap, not widen the window
        document.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        a = self.document.analysis
        out = shape_text(a.output_shape) if a.output_shape else "—"
        total = trainable = macs = activations = 0
        for layer in a.layers:  # one pass (the analysis' totals each walk every layer)
            total += layer.params
            trainable += layer.trainable_params
            macs += layer.macs
            activations += layer.activation_bytes
        # each value is one unbreakable run: a narrow window wraps between values, never
        # inside one ("Parameters 1,234" stays on one line)
        parts = [
            f"<b>Parameters {format_count(total)}</b>",
            f"trainable {format_count(trainable)}",
            f"frozen {format_count(total - trainable)}",
            f"MACs {format_macs(macs)}",
            f"activations {format_bytes(activations)}/sample",
            f"weights {format_bytes(total * 4)}",
            f"output {out}",
        ]
        parts = [f"<span style='white-space:nowrap'>{p}</span>" for p in parts]
        text = " &nbsp;·&nbsp; ".join(parts)
        if a.error is not None:
            text += (f"<br><span style='color:{error_color().name()}'><b>⚠ {a.error.layer}</b>: "
                     f"{a.error.reason}</span> <i>(totals cover the layers above it)</i>")
        self.setText(text)


class DiagramPane(QWidget):
    """The diagram under a row with its legend, the zoom, − + Fit, the flow's direction, a
    layer search (Ctrl+F) and Export…."""

    def __init__(self, diagram: DiagramView, export: Callable[[], None],
                 extra: tuple[QWidget, ...] = ()) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # one row that wraps (app.flow_bar): in one line the legend, the zoom and the buttons
        # needed 889 px at projector text, wider than the Build page at 1366 px
        parts: list[QWidget] = []
        tip = ("Block height grows with the feature map's side (224 is much taller than 7), "
               "block width with the number of channels; lines are the connections, branches "
               "run side by side and a skip passes beside the blocks it skips.")
        for text in ("<b>Diagram</b>", "height: map size ·", "width: channels ·",
                     "lines: connections"):
            part = QLabel(text)
            part.setToolTip(tip)
            parts.append(part)
        self.zoom_label = QLabel()
        self.zoom_label.setToolTip("Ctrl+wheel zooms, dragging pans, Fit shows the whole model")
        diagram.zoom_changed.connect(
            lambda scale: self.zoom_label.setText(f"{scale:.0%} · Ctrl+wheel zooms"))
        parts.append(self.zoom_label)
        for text, slot, button_tip in (("−", lambda: diagram.zoom(1 / 1.25), "Zoom out"),
                                       ("+", lambda: diagram.zoom(1.25), "Zoom in"),
                                       ("Fit", diagram.fit, "Show the whole model (Ctrl+0)"),
                                       ("Export…", export, "Save as PNG or SVG")):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(button_tip)
            button.clicked.connect(slot)
            parts.append(button)
        self.down_button = QToolButton()
        self.down_button.setText("↓ Top to bottom")
        self.down_button.setCheckable(True)
        self.down_button.setChecked(diagram.direction == "down")
        self.down_button.setToolTip("Flow top to bottom (on) or left to right (off); remembered")
        self.down_button.toggled.connect(
            lambda on: diagram.set_direction("down" if on else "right"))
        diagram.direction_changed.connect(
            lambda direction: self.down_button.setChecked(direction == "down"))
        parts.insert(len(parts) - 1, self.down_button)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find layer (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Type a layer's name (or part of it) and press Enter: the "
                               "diagram shows and selects it")
        self.search.setMaximumWidth(self.search.fontMetrics().horizontalAdvance("M" * 14))
        self.search.returnPressed.connect(self._find)
        self._diagram = diagram
        parts.insert(len(parts) - 1, self.search)
        for widget in extra:  # e.g. the thumbnails' toggle and progress
            parts.insert(len(parts) - 1, widget)
        tools = FlowRow(parts)
        layout.addWidget(tools)
        layout.addWidget(diagram)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def _find(self) -> None:
        """Enter in the search: the matching layer selected and shown, or the field marked."""
        found = self._diagram.find_layer(self.search.text())
        self.search.setStyleSheet("" if found is not None or not self.search.text().strip()
                                  else f"color: {error_color().name()}")
        self.search.setToolTip(f"No layer's name contains “{self.search.text().strip()}”"
                               if found is None and self.search.text().strip() else
                               "Type a layer's name (or part of it) and press Enter: the "
                               "diagram shows and selects it")

"""The property editor: a form generated from the catalog for the selected layer.

Spin boxes carry the catalog's valid ranges, enumerations are drop-downs, sizes that may differ
per dimension get one box per dimension with a "same for all" link. Every change is an undoable
document edit (consecutive changes of one field merge into one undo step).
"""

from __future__ import annotations

import math
import time
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.style import ERROR_COLOR
from core.analysis.explain import explain_layer
from core.model.catalog import CATALOG, LayerType, ParamSpec
from core.model.errors import quote
from core.model.initialisation import SCHEME_LABELS, SCHEMES
from core.model.params import describe_expected

INT_LIMIT = 2**31 - 1
BURST_PAUSE_S = 1.5
"""A pause this long between two changes of one field starts a new undo step."""


class TypingBursts:
    """Which burst of typing a change belongs to. Consecutive changes of one field merge into
    one undo step; the burst ends when the field's edit ends (Enter, the focus leaves), another
    field changes, or the user pauses. So 3 → 40 → 3, typed as three edits, is three steps."""

    def __init__(self) -> None:
        self._field: object = None
        self._count = 0
        self._last = 0.0

    def burst(self, field: object) -> int:
        now = time.monotonic()
        if field != self._field or now - self._last > BURST_PAUSE_S:
            self._count += 1
        self._field, self._last = field, now
        return self._count

    def end(self) -> None:
        self._field = None
AXIS_NAMES = {1: ("",), 2: ("h", "w"), 3: ("d", "h", "w"), 4: ("left", "right", "top", "bottom")}


def _spin(spec: ParamSpec, floats: bool, allow_none: bool) -> QSpinBox | QDoubleSpinBox:
    lo = spec.minimum if spec.minimum is not None else -INT_LIMIT
    hi = min(spec.maximum if spec.maximum is not None else INT_LIMIT, INT_LIMIT)
    box: QSpinBox | QDoubleSpinBox
    if floats:
        box = QDoubleSpinBox()
        box.setDecimals(4)
        box.setSingleStep(0.1 if hi <= 10 else 0.5)
        box.setRange(float(lo) - (1 if allow_none else 0), float(hi))
    else:
        box = QSpinBox()
        box.setRange(int(lo) - (1 if allow_none else 0), int(hi))
    if allow_none:
        box.setSpecialValueText("keep" if spec.none_items else "auto")
    box.setKeyboardTracking(True)
    box.setAccelerated(True)
    return box


def _shown_number(value: Any) -> int | float | None:
    """A value a spin box can show: a finite number (not a bool), else None (invalid)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if isinstance(value, int) or math.isfinite(value) else None


def _mark_invalid(widget: QWidget, invalid: bool, value: Any) -> None:
    """A wrong-typed value from a file is shown as invalid (the analysis says why)."""
    widget.setStyleSheet(f"QAbstractSpinBox {{ border: 2px solid {ERROR_COLOR}; }}"
                         if invalid else "")
    widget.setProperty("invalid", invalid)
    if invalid:
        widget.setToolTip(f"Invalid value in the file: {quote(value)}")


class SizeField(QWidget):
    """One number for every dimension, or one per dimension (``link`` unchecked)."""

    changed = Signal(object)
    finished = Signal()
    """The user ended an edit (Enter, or the focus left a box)."""

    def __init__(self, spec: ParamSpec, count: int, floats: bool = False) -> None:
        super().__init__()
        self.spec, self.count, self.floats = spec, count, floats
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.mode: QComboBox | None = None
        if spec.kind == "padding":
            self.mode = QComboBox()
            self.mode.addItems(["size", "same", "valid"])
            self.mode.setToolTip('"same" keeps the size (stride 1 only); "valid" pads nothing')
            layout.addWidget(self.mode)
            self.mode.currentTextChanged.connect(lambda _t: self._emit())
        self.unset: QCheckBox | None = None
        if spec.optional:
            self.unset = QCheckBox("set")
            layout.addWidget(self.unset)
            self.unset.toggled.connect(lambda _t: self._emit())
        self.boxes = [_spin(spec, floats, spec.none_items) for _ in range(count)]
        names = AXIS_NAMES.get(count, ("",) * count)
        for box, axis in zip(self.boxes, names, strict=True):
            if count > 1:
                box.setPrefix(f"{axis} ")
            box.valueChanged.connect(lambda _v: self._emit())
            box.editingFinished.connect(self.finished)
            layout.addWidget(box, 1)
        self.link = QCheckBox("=")
        self.link.setToolTip("Same value for every dimension")
        self.link.toggled.connect(self._link_toggled)
        layout.addWidget(self.link)
        # after it has a parent: shown while parentless it opened as a window of its own
        self.link.setVisible(count > 1)

    def _show_linked(self, linked: bool) -> None:
        for box in self.boxes[1:]:
            box.setVisible(not linked)
        if self.count > 1:
            names = AXIS_NAMES.get(self.count, ("",) * self.count)
            self.boxes[0].setPrefix("" if linked else f"{names[0]} ")

    def _link_toggled(self, linked: bool) -> None:
        self._show_linked(linked)
        if linked:
            self._emit()

    def _item(self, box: QSpinBox | QDoubleSpinBox) -> Any:
        if self.spec.none_items and box.value() == box.minimum():
            return None
        return float(box.value()) if self.floats else int(box.value())

    def value(self) -> Any:
        if self.mode is not None and self.mode.currentText() != "size":
            return self.mode.currentText()
        if self.unset is not None and not self.unset.isChecked():
            return None
        if self.count == 1 or self.link.isChecked():
            return self._item(self.boxes[0])
        return [self._item(b) for b in self.boxes]

    def set_value(self, value: Any) -> None:
        widgets = [*self.boxes, self.link, *(w for w in (self.mode, self.unset) if w)]
        for w in widgets:
            w.blockSignals(True)
        if self.mode is not None:
            self.mode.setCurrentText(value if isinstance(value, str) else "size")
        if self.unset is not None:
            self.unset.setChecked(value is not None)
        numbers = list(value) if isinstance(value, list | tuple) else [value] * self.count
        if isinstance(value, str) or value is None:
            numbers = [self.spec.minimum or 0] * self.count if value is None else [0] * self.count
        invalid = (isinstance(value, str) and value not in ("same", "valid")) or any(
            n is not None and _shown_number(n) is None for n in numbers)
        _mark_invalid(self, invalid, value)
        for box, number in zip(self.boxes, numbers, strict=False):
            # a value outside the box's range (a hand-edited file) is shown clamped, a value of
            # the wrong type as invalid; the analysis marks the layer with the real value
            shown = _shown_number(number)
            clamped = box.minimum() if shown is None else max(box.minimum(),
                                                              min(box.maximum(), shown))
            if isinstance(box, QSpinBox):
                box.setValue(round(clamped))
            else:
                box.setValue(float(clamped))
        linked = not isinstance(value, list | tuple)
        self.link.setChecked(linked)
        self._show_linked(linked)
        numeric = not isinstance(value, str) and (self.unset is None or value is not None)
        for box in self.boxes:
            box.setEnabled(numeric)
        for w in widgets:
            w.blockSignals(False)

    def _emit(self) -> None:
        numeric = (self.mode is None or self.mode.currentText() == "size") and (
            self.unset is None or self.unset.isChecked())
        for box in self.boxes:
            box.setEnabled(numeric)
        self.changed.emit(self.value())


class ScalarField(QWidget):
    """An int, float, bool or choice value."""

    changed = Signal(object)
    finished = Signal()
    """The user ended an edit (Enter, or the focus left the box)."""

    def __init__(self, spec: ParamSpec) -> None:
        super().__init__()
        self.spec = spec
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget: QWidget
        if spec.kind == "bool" and spec.optional:
            combo = QComboBox()
            combo.addItems(["default", "true", "false"])
            combo.currentIndexChanged.connect(lambda _i: self.changed.emit(self.value()))
            self.widget = combo
        elif spec.kind == "bool":
            check = QCheckBox()
            check.toggled.connect(lambda _c: self.changed.emit(self.value()))
            self.widget = check
        elif spec.kind == "choice":
            combo = QComboBox()
            combo.addItems(list(spec.choices))
            combo.currentTextChanged.connect(lambda _t: self.changed.emit(self.value()))
            self.widget = combo
        else:
            box = _spin(spec, spec.kind == "float", spec.optional)
            box.valueChanged.connect(lambda _v: self.changed.emit(self.value()))
            box.editingFinished.connect(self.finished)
            self.widget = box
        layout.addWidget(self.widget, 1)

    def value(self) -> Any:
        w = self.widget
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            if self.spec.kind == "bool":
                return {0: None, 1: True, 2: False}[w.currentIndex()]
            return w.currentText()
        assert isinstance(w, QSpinBox | QDoubleSpinBox)
        if self.spec.optional and w.value() == w.minimum():
            return None
        return float(w.value()) if isinstance(w, QDoubleSpinBox) else int(w.value())

    def set_value(self, value: Any) -> None:
        w = self.widget
        w.blockSignals(True)
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            if self.spec.kind == "bool":
                w.setCurrentIndex(0 if value is None else 1 if value else 2)
            else:
                w.setCurrentText(str(value) if isinstance(value, str) else "")
        elif isinstance(w, QSpinBox | QDoubleSpinBox):
            shown = _shown_number(value)
            _mark_invalid(self, value is not None and shown is None, value)
            clamped = w.minimum() if shown is None else max(w.minimum(), min(w.maximum(), shown))
            if isinstance(w, QSpinBox):
                w.setValue(round(clamped))
            else:
                w.setValue(float(clamped))
        w.blockSignals(False)


class Explanation(QPlainTextEdit):
    """The selected layer's formulas with its numbers: read-only text that fills the panel's
    remaining height. A new text repaints only this box (a word-wrapped label re-laid out the
    whole form on every edit)."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.viewport().setAutoFillBackground(False)
        self.setMinimumHeight(self.fontMetrics().lineSpacing() * 6)

    def setText(self, text: str) -> None:
        if text != self.toPlainText():
            self.setPlainText(text)

    def text(self) -> str:
        return self.toPlainText()


class PropertyEditor(QScrollArea):
    """Edits the document's current layer; rebuilt when the selected layer or its type changes."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._built_for: tuple[str, tuple[int, ...]] | None = None
        self.bursts = TypingBursts()
        self._editing: str | None = None
        """The field whose change is being applied: the refresh that follows leaves it alone
        (the user is typing in it); after undo, redo or any other change every field follows
        the document, the focused one included."""
        self.fields: dict[str, SizeField | ScalarField] = {}
        self.body = QWidget()
        self.setWidget(self.body)
        self.outer = QVBoxLayout(self.body)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)  # a long name and type wrap in a narrow dock, never cut
        self.outer.addWidget(self.title)
        self.form_widget = QWidget()
        self.form = QFormLayout(self.form_widget)
        self.outer.addWidget(self.form_widget)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;")
        self.outer.addWidget(self.error)
        self.explanation = Explanation()
        self.outer.addWidget(self.explanation, 1)
        self.name_edit = QLineEdit()
        self.trainable = QCheckBox("trainable")
        self.inputs_edit = QLineEdit()
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        document.changed.connect(self.refresh)
        document.current_changed.connect(lambda _n: self.refresh())
        self.refresh()

    def minimumSizeHint(self) -> QSize:
        """As wide as the form needs (its fields are never cut: the area does not scroll
        sideways), beside the vertical scroll bar."""
        hint = super().minimumSizeHint()
        need = self.body.minimumSizeHint().width() + 2 * self.frameWidth() + \
            self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), need), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._wrap_rows()

    def _wrap_rows(self) -> None:
        """Every field under its label where a label and the widest field do not fit side by
        side (WrapLongRows alone gave a spin box 3 px less than it needs at projector text)."""
        form = self.form
        labels = fields = 0
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            field = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
            if label is not None and field is not None:
                labels = max(labels, label.sizeHint().width())
                fields = max(fields, field.minimumSize().width())
        room = self.viewport().width() - self.verticalScrollBar().sizeHint().width()
        narrow = labels + max(0, form.horizontalSpacing()) + fields + 8 > room
        policy = (QFormLayout.RowWrapPolicy.WrapAllRows if narrow
                  else QFormLayout.RowWrapPolicy.WrapLongRows)
        if form.rowWrapPolicy() != policy:
            form.setRowWrapPolicy(policy)

    def _clear_form(self) -> None:
        """Replace the form's container: the old fields go at once, with their signals."""
        old = self.form_widget
        self.form_widget = QWidget()
        self.form = QFormLayout(self.form_widget)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # narrow (projector text in a small window), a field goes under its label, never cut
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.outer.replaceWidget(old, self.form_widget)
        old.hide()
        old.setParent(None)
        old.deleteLater()
        self.fields = {}

    def _build(self, name: str, entry: LayerType) -> None:
        self._clear_form()
        self.name_edit = QLineEdit()
        self.name_edit.setToolTip("The layer's name: letters, digits and _ (Enter to rename)")
        self.name_edit.editingFinished.connect(self._rename)
        self.form.addRow("name", self.name_edit)
        self.trainable = QCheckBox("trainable")
        self.trainable.setToolTip("Unchecked: the layer is frozen, its weights do not train "
                                  "(transfer learning, random features)")
        self.trainable.toggled.connect(
            lambda on: self.document.set_trainable(self.document.current, on))
        self.form.addRow("", self.trainable)
        self.init_box = QComboBox()
        for scheme in SCHEMES:
            self.init_box.addItem(SCHEME_LABELS[scheme], scheme)
        self.init_box.setToolTip("How this layer's weights start (saved in the model file and "
                                 "written into exported code); biases follow the model's choice")
        self.init_box.currentIndexChanged.connect(
            lambda _i: self.document.set_layer_init(self.document.current,
                                                    self.init_box.currentData()))
        self.form.addRow("initialiser", self.init_box)
        self.inputs_edit = QLineEdit()
        self.inputs_edit.setPlaceholderText("the layer above")
        self.inputs_edit.setToolTip("Layers this one reads, separated by commas (Add and Concat "
                                    "need two or more). Empty: the layer above.")
        self.inputs_edit.editingFinished.connect(self._set_inputs)
        self.form.addRow("inputs", self.inputs_edit)
        for spec in entry.params:
            count = self._count(spec, entry)
            field: SizeField | ScalarField
            if spec.kind in ("ints", "floats", "padding"):
                field = SizeField(spec, count, floats=spec.kind == "floats")
            else:
                field = ScalarField(spec)
            default = "" if spec.default is None else f" Default: {spec.default}."
            field.setToolTip(f"<b>{spec.name}</b>: {spec.help}{default}<br>Accepts "
                             f"{describe_expected(spec, entry)}.")
            field.changed.connect(lambda value, key=spec.name: self._apply(key, value))
            field.finished.connect(self.bursts.end)
            label = QLabel(spec.name)
            label.setToolTip(field.toolTip())
            self.form.addRow(label, field)
            self.fields[spec.name] = field

    def _count(self, spec: ParamSpec, entry: LayerType) -> int:
        if spec.length is not None:
            return spec.length
        if entry.spatial_dims is not None:
            return entry.spatial_dims
        index = self.document.spec.index(self.document.current)
        if index < len(self.document.analysis.layers):
            return max(1, len(self.document.analysis.layers[index].input_shapes[0]) - 1)
        return 2

    def refresh(self) -> None:
        name = self.document.current
        names = {layer.name for layer in self.document.spec.layers}
        if name and name not in names and names:
            return  # renamed or deleted: the document selects a layer next, and that refreshes
        if not name or name not in names:
            self._clear_form()
            self._built_for = None
            self.title.setText("<i>No layer selected. Add one from the palette.</i>")
            self.error.setText("")
            self.explanation.setText("")
            return
        layer = self.document.spec.layer(name)
        entry = CATALOG[layer.type]
        # the form depends on the type and how many values each setting has, not the layer: a
        # rename, or another layer of the same kind, keeps the fields (and their values update)
        form = (layer.type, tuple(self._count(spec, entry) for spec in entry.params))
        if self._built_for != form:
            self._build(name, entry)
            self._built_for = form
            self._wrap_rows()
        self.title.setText(f"<b style='font-size:large'>{layer.name}</b> &nbsp; {layer.type}"
                           f" ({entry.group})")  # grey was 3.3:1 on the light theme
        for w in (self.name_edit, self.trainable, self.inputs_edit, self.init_box):
            w.blockSignals(True)
        init = self.document.spec.init
        scheme = init.scheme_for(layer.name) if init is not None else "default"
        self.init_box.setCurrentIndex(max(0, self.init_box.findData(scheme)))
        self.init_box.setEnabled(bool(entry.params) and not entry.merge)
        self.name_edit.setText(layer.name)
        self.trainable.setChecked(layer.trainable)
        self.trainable.setEnabled(bool(entry.params) and not entry.merge)
        self.inputs_edit.setText(", ".join(layer.inputs))
        for w in (self.name_edit, self.trainable, self.inputs_edit, self.init_box):
            w.blockSignals(False)
        for spec in entry.params:
            value = layer.params.get(spec.name, spec.default)
            if spec.name != self._editing:
                self.fields[spec.name].set_value(list(value) if isinstance(value, tuple)
                                                 else value)
        analysis = self.document.analysis
        info = analysis.get(name)
        if analysis.error is not None and analysis.error.layer == name:
            self.error.setText("⚠ " + analysis.error.reason)
        elif info is None:
            self.error.setText("Not analysed yet: fix the layer marked in red first.")
        else:
            self.error.setText("")
        self.explanation.setText(explain_layer(info) if info else entry.summary + "\n\n"
                                 "Output size: " + entry.formula)

    def _apply(self, key: str, value: Any) -> None:
        name = self.document.current
        if not name:
            return
        spec = CATALOG[self.document.spec.layer(name).type].param(key)
        if value == spec.default and spec.default is not None and key not in dict(
                self.document.spec.layer(name).params):
            return
        self._editing = key
        try:
            self.document.set_param(name, key, value, burst=self.bursts.burst((name, key)))
        finally:
            self._editing = None

    def _rename(self) -> None:
        name = self.document.current
        new = self.name_edit.text().strip()
        if name and new and new != name and not self.document.rename_layer(name, new):
            self.name_edit.setText(name)

    def _set_inputs(self) -> None:
        name = self.document.current
        inputs = [part.strip() for part in self.inputs_edit.text().split(",") if part.strip()]
        if name and tuple(inputs) != self.document.spec.layer(name).inputs:
            self.document.set_inputs(name, inputs)

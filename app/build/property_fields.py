"""The property editor's fields: spin boxes with the catalog's ranges, drop-downs, sizes with one
box per dimension and a "same for all" link, and the explanation box under the form.

A field shows a value (``set_value``), says what it shows (``value``) and emits ``changed``
when the user changes it; the editor (app.build.property_editor) keeps them in step with the
document.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from app.style import ERROR_COLOR
from core.model.catalog import ParamSpec
from core.model.errors import quote

INT_LIMIT = 2**31 - 1
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
    """A wrong-typed value from a file is shown as invalid (the analysis says why); a valid
    value shown after it gets the field's own tooltip back."""
    was_invalid = bool(widget.property("invalid"))
    if invalid == was_invalid and not invalid:
        return
    widget.setStyleSheet(f"QAbstractSpinBox {{ border: 2px solid {ERROR_COLOR}; }}"
                         if invalid else "")
    widget.setProperty("invalid", invalid)
    if invalid:
        if not was_invalid:
            widget.setProperty("help", widget.toolTip())
        widget.setToolTip(f"Invalid value in the file: {quote(value)}")
    else:
        widget.setToolTip(str(widget.property("help") or ""))


def same(a: Any, b: Any) -> bool:
    """Equal and of the same types (True is not 1, nor 2 2.0), lists item by item."""
    if type(a) is not type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def shows(field: SizeField | ScalarField, value: Any) -> bool:
    """Whether ``field`` already shows ``value`` as its own (not marked invalid): setting it
    again would change nothing the user sees."""
    return not field.property("invalid") and same(field.value(), value)


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

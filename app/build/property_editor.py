"""The property editor: a form generated from the catalog for the selected layer.

Spin boxes carry the catalog's valid ranges, enumerations are drop-downs, sizes that may differ
per dimension get one box per dimension with a "same for all" link (app.build.property_fields).
Every change is an undoable document edit (consecutive changes of one field merge into one undo
step). A built form is kept per layer kind, and an edit touches only the fields whose shown
value differs from the document's: rebuilding the form was a third of a delete's UI time on
ResNet-152 (issue 24).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.build.property_fields import Explanation, ScalarField, SizeField, shows
from app.document import ModelDocument
from app.style import ERROR_COLOR
from core.analysis.explain import explain_layer
from core.model.catalog import CATALOG, LayerType, ParamSpec
from core.model.initialisation import SCHEME_LABELS, SCHEMES
from core.model.params import describe_expected

BURST_PAUSE_S = 1.5
"""A pause this long between two changes of one field starts a new undo step."""
FORMS_KEPT = 8
"""Built forms kept (the kinds most recently shown): selecting a layer of one of these kinds,
or an edit that selects one (a delete, its undo), shows its form again without building it."""
FormKey = tuple[str, tuple[int, ...]]
"""A form's kind: the layer type and how many values each of its settings has."""


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


class BuiltForm:
    """One layer kind's form: its container (a child of the editor's body, hidden while another
    form shows), the common rows and one field per setting."""

    def __init__(self, parent: QWidget) -> None:
        self.widget = QWidget(parent)
        self.widget.hide()
        self.form = QFormLayout(self.widget)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        # narrow (projector text in a small window), a field goes under its label, never cut
        self.form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, SizeField | ScalarField] = {}
        self.layer = ""
        """The layer the form shows (what its name and inputs boxes belong to)."""
        self.name_edit = QLineEdit()
        self.trainable = QCheckBox("trainable")
        self.init_box = QComboBox()
        self.inputs_edit = QLineEdit()


class PropertyEditor(QScrollArea):
    """Edits the document's current layer in the form of its kind (kept for the kinds most
    recently shown); the fields follow the document, touching only what changed."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.bursts = TypingBursts()
        self._editing: str | None = None
        """The field whose change is being applied: the refresh that follows leaves it alone
        (the user is typing in it); after undo, redo or any other change every field follows
        the document, the focused one included."""
        self._refreshed: tuple[object, ...] = ()
        """The current layer's name, the spec and the analysis the fields last showed."""
        self.body = QWidget()
        self.setWidget(self.body)
        self.outer = QVBoxLayout(self.body)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)  # a long name and type wrap in a narrow dock, never cut
        self.outer.addWidget(self.title)
        self._forms: OrderedDict[FormKey, BuiltForm] = OrderedDict()
        self._empty = BuiltForm(self.body)  # no layer selected: an empty form
        self._shown = self._empty
        self._empty.widget.show()
        self.outer.addWidget(self._empty.widget)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {ERROR_COLOR}; font-weight: bold;")
        self.outer.addWidget(self.error)
        self.explanation = Explanation()
        self.outer.addWidget(self.explanation, 1)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        document.changed.connect(self.refresh)
        document.current_changed.connect(lambda _n: self.refresh())
        self.refresh()

    # the shown form's parts (tests and the window reach them here)
    @property
    def form_widget(self) -> QWidget:
        return self._shown.widget

    @property
    def form(self) -> QFormLayout:
        return self._shown.form

    @property
    def fields(self) -> dict[str, SizeField | ScalarField]:
        return self._shown.fields

    @property
    def name_edit(self) -> QLineEdit:
        return self._shown.name_edit

    @property
    def trainable(self) -> QCheckBox:
        return self._shown.trainable

    @property
    def init_box(self) -> QComboBox:
        return self._shown.init_box

    @property
    def inputs_edit(self) -> QLineEdit:
        return self._shown.inputs_edit

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

    def _show_form(self, form: BuiltForm) -> None:
        """Put ``form`` where the shown one is (the others stay built, hidden, out of the
        layout: the panel is as large as the form it shows)."""
        if form is self._shown:
            return
        old, self._shown = self._shown, form
        self.outer.replaceWidget(old.widget, form.widget)
        old.widget.hide()
        form.widget.show()
        self._wrap_rows()

    def _form_for(self, key: FormKey, entry: LayerType) -> BuiltForm:
        """The form of ``key``'s kind: the one kept, or a new one (the least recently shown
        beyond :data:`FORMS_KEPT` goes)."""
        form = self._forms.get(key)
        if form is not None:
            self._forms.move_to_end(key)
            return form
        form = self._forms[key] = self._build(entry, key[1])
        while len(self._forms) > FORMS_KEPT:
            _key, dropped = self._forms.popitem(last=False)
            if dropped is self._shown:  # (never: the shown form was the most recent one)
                self._forms[_key] = dropped
                break
            dropped.widget.deleteLater()
        return form

    def _build(self, entry: LayerType, counts: tuple[int, ...]) -> BuiltForm:
        form = BuiltForm(self.body)
        name_edit = form.name_edit
        name_edit.setToolTip("The layer's name: letters, digits and _ (Enter to rename)")
        name_edit.editingFinished.connect(lambda: self._rename(form))
        form.form.addRow("name", name_edit)
        trainable = form.trainable
        trainable.setToolTip("Unchecked: the layer is frozen, its weights do not train "
                             "(transfer learning, random features)")
        trainable.toggled.connect(
            lambda on: self.document.set_trainable(self.document.current, on))
        form.form.addRow("", trainable)
        init_box = form.init_box
        for scheme in SCHEMES:
            init_box.addItem(SCHEME_LABELS[scheme], scheme)
        init_box.setToolTip("How this layer's weights start (saved in the model file and "
                            "written into exported code); biases follow the model's choice")
        init_box.currentIndexChanged.connect(
            lambda _i: self.document.set_layer_init(self.document.current,
                                                    init_box.currentData()))
        form.form.addRow("initialiser", init_box)
        inputs_edit = form.inputs_edit
        inputs_edit.setPlaceholderText("the layer above")
        inputs_edit.setToolTip("Layers this one reads, separated by commas (Add and Concat "
                               "need two or more). Empty: the layer above.")
        inputs_edit.editingFinished.connect(lambda: self._set_inputs(form))
        form.form.addRow("inputs", inputs_edit)
        for spec, count in zip(entry.params, counts, strict=True):
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
            form.form.addRow(label, field)
            form.fields[spec.name] = field
        return form

    def _count(self, spec: ParamSpec, entry: LayerType, index: int) -> int:
        if spec.length is not None:
            return spec.length
        if entry.spatial_dims is not None:
            return entry.spatial_dims
        if index < len(self.document.analysis.layers):
            return max(1, len(self.document.analysis.layers[index].input_shapes[0]) - 1)
        return 2

    def _set_text(self, label: QLabel, text: str) -> None:
        if label.text() != text:
            label.setText(text)

    def refresh(self) -> None:
        name = self.document.current
        shown = (name, self.document.spec, self.document.analysis)
        if len(self._refreshed) == 3 and self._refreshed[0] == name and \
                self._refreshed[1] is shown[1] and self._refreshed[2] is shown[2]:
            return  # shown already (an edit's ``changed``, then its new current layer)
        self._refreshed = shown
        layers = self.document.spec.layers
        index = next((i for i, layer in enumerate(layers) if layer.name == name), -1)
        if name and index < 0 and layers:
            return  # renamed or deleted: the document selects a layer next, and that refreshes
        if index < 0:
            self._show_form(self._empty)
            self._set_text(self.title, "<i>No layer selected. Add one from the palette.</i>")
            self._set_text(self.error, "")
            self.explanation.setText("")
            return
        layer = layers[index]
        entry = CATALOG[layer.type]
        # the form depends on the type and how many values each setting has, not the layer: a
        # rename, or another layer of the same kind, keeps the fields (and their values update)
        key = (layer.type, tuple(self._count(spec, entry, index) for spec in entry.params))
        form = self._form_for(key, entry)
        self._show_form(form)
        form.layer = name
        self._set_text(self.title, f"<b style='font-size:large'>{layer.name}</b> &nbsp; "
                       f"{layer.type} ({entry.group})")  # grey was 3.3:1 on the light theme
        common = (form.name_edit, form.trainable, form.inputs_edit, form.init_box)
        for w in common:
            w.blockSignals(True)
        init = self.document.spec.init
        scheme = init.scheme_for(layer.name) if init is not None else "default"
        shown_scheme = max(0, form.init_box.findData(scheme))
        if form.init_box.currentIndex() != shown_scheme:
            form.init_box.setCurrentIndex(shown_scheme)
        weighted = bool(entry.params) and not entry.merge
        form.init_box.setEnabled(weighted)
        if form.name_edit.text() != layer.name:
            form.name_edit.setText(layer.name)
        if form.trainable.isChecked() != layer.trainable:
            form.trainable.setChecked(layer.trainable)
        form.trainable.setEnabled(weighted)
        inputs = ", ".join(layer.inputs)
        if form.inputs_edit.text() != inputs:
            form.inputs_edit.setText(inputs)
        for w in common:
            w.blockSignals(False)
        for spec in entry.params:
            value = layer.params.get(spec.name, spec.default)
            value = list(value) if isinstance(value, tuple) else value
            field = form.fields[spec.name]
            if spec.name != self._editing and not shows(field, value):
                field.set_value(value)
        analysis = self.document.analysis
        info = analysis.get(name)
        if analysis.error is not None and analysis.error.layer == name:
            self._set_text(self.error, "⚠ " + analysis.error.reason)
        elif info is None:
            self._set_text(self.error, "Not analysed yet: fix the layer marked in red first.")
        else:
            self._set_text(self.error, "")
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

    def _rename(self, form: BuiltForm) -> None:
        """The name typed in ``form`` (for the layer it shows) ended: rename that layer."""
        name = form.layer
        new = form.name_edit.text().strip()
        if not name or name not in {layer.name for layer in self.document.spec.layers}:
            return  # the form's layer went meanwhile (the focus left as it was hidden)
        if new and new != name and not self.document.rename_layer(name, new):
            form.name_edit.setText(name)

    def _set_inputs(self, form: BuiltForm) -> None:
        name = form.layer
        if not name or name not in {layer.name for layer in self.document.spec.layers}:
            return
        inputs = [part.strip() for part in form.inputs_edit.text().split(",") if part.strip()]
        if tuple(inputs) != self.document.spec.layer(name).inputs:
            self.document.set_inputs(name, inputs)

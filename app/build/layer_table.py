"""The layer list: one row per layer with name, type, key settings, output shape and parameters.

The invalid layer is shown in red with the reason beside it; the layers after it stay listed
(greyed, "not analysed") and editable. Rows reorder by dragging; palette types drop in.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QHelpEvent,
    QKeyEvent,
    QResizeEvent,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QWidget,
)

from app.build.palette import TYPE_MIME
from app.document import ModelDocument
from app.style import ERROR_COLOR, group_color
from app.table_rows import fit_rows_to_text
from core.analysis.explain import explain_layer, key_settings
from core.analysis.summary import format_count, shape_text
from core.model.catalog import CATALOG

LAYER_MIME = "application/x-convscope-layer"
COLUMNS = ("#", "Name", "Type", "Settings", "Output shape", "Params", "Status")
AnyIndex = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ERROR_BRUSH = QBrush(QColor(ERROR_COLOR))
_ERROR_BACKGROUND = QBrush(QColor(214, 40, 40, 45))
_PENDING_BRUSH = QBrush(QColor("#8a8a8a"))
_ROW_FLAGS = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
              | Qt.ItemFlag.ItemIsDragEnabled)
_MOST_ROW_EDITS = 8
_MEASURED_ROWS = 8
"""A run of more changed rows than this does not widen the columns (measuring is slow)."""
"""More separate runs of added, removed or moved rows than this: the model resets instead."""


def row_edits(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, int, int, int, int]]:
    """The edits (difflib's opcodes, "equal" left out) that turn the names ``old`` into
    ``new``. The runs both start and end with are matched first, so a delete or insert in a
    long model compares only what lies between them (difflib over all 515 names of ResNet-152
    took milliseconds)."""
    start, shortest = 0, min(len(old), len(new))
    while start < shortest and old[start] == new[start]:
        start += 1
    end = 0
    while end < shortest - start and old[len(old) - 1 - end] == new[len(new) - 1 - end]:
        end += 1
    old_mid, new_mid = old[start:len(old) - end], new[start:len(new) - end]
    if not old_mid and not new_mid:
        return []
    if not old_mid or not new_mid:  # only added or only removed rows
        return [("insert" if new_mid else "delete", start, start + len(old_mid), start,
                 start + len(new_mid))]
    opcodes = difflib.SequenceMatcher(None, old_mid, new_mid, autojunk=False).get_opcodes()
    return [(tag, i1 + start, i2 + start, j1 + start, j2 + start)
            for tag, i1, i2, j1, j2 in opcodes if tag != "equal"]


class LayerTableModel(QStandardItemModel):
    """The rows of the document's layers. Each row's texts are kept from the last analysis; an
    edit recomputes only the rows whose layer or analysed values changed and announces just
    those with ``dataChanged``. The texts live in Qt's items, so painting a row reads them
    without calling Python (a data() written here was called for every role of every visible
    cell: 900 calls, half of the table's paint on ResNet-152). Tooltips (a layer's formula
    with its numbers) are computed when a row is hovered (:class:`RowTooltips`), not on every
    edit."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__(0, len(COLUMNS), document)
        self.document = document
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.invisibleRootItem().setFlags(Qt.ItemFlag.ItemIsDropEnabled)
        prototype = QStandardItem()
        prototype.setFlags(_ROW_FLAGS)
        self.setItemPrototype(prototype)  # the items setItemData makes: selectable, draggable
        self.refreshing = False
        """True while the rows follow the document (Qt moves the view's current row through
        the rows being removed: not a selection)."""
        self._keys: list[tuple[Any, ...]] = []
        self._refresh()
        document.changed.connect(self._refresh)

    # -- keeping in step with the document --------------------------------------------------
    def _refresh(self) -> None:
        """Recompute the rows that changed. Added, removed and moved layers are inserted and
        removed as rows (the view keeps its scroll position and selection); only a model whose
        rows changed almost wholesale (another file) resets."""
        self.refreshing = True
        try:
            self._follow()
        finally:
            self.refreshing = False

    def _follow(self) -> None:
        spec, analysis = self.document.spec, self.document.analysis
        n, done = len(spec.layers), len(analysis.layers)
        reason = analysis.error.reason if analysis.error is not None else None
        # a row shows its layer spec, its number and its analysis (or the error, or "not
        # analysed"); the analysis keeps an unchanged layer's result object, so most keys
        # compare by identity
        keys: list[tuple[Any, ...]] = [
            (layer, row, analysis.layers[row] if row < done else
             ("error", reason) if row == done and reason is not None else "pending")
            for row, layer in enumerate(spec.layers)]
        old_names = [key[0].name for key in self._keys]
        new_names = [layer.name for layer in spec.layers]
        if old_names != new_names and not self._move_rows(old_names, new_names):
            self.beginResetModel()
            self.blockSignals(True)  # the reset announces the rows: not each item set
            try:
                self.setRowCount(0)  # (every item anew: none keeps an old row's roles)
                self.setRowCount(n)
                for row in range(n):
                    self._set_row(row, fresh=True)
            finally:
                self.blockSignals(False)
            self._keys = keys
            self.endResetModel()
            return
        old = self._keys
        changed = [row for row in range(n) if keys[row] != old[row]]
        self._keys = keys
        display = Qt.ItemDataRole.DisplayRole
        self.blockSignals(True)  # one dataChanged per run of rows below, not one per item
        try:
            for row in changed:
                key, before = keys[row], old[row]
                if before and key[0] is before[0] and key[2] is before[2]:
                    number = self.item(row, 0)  # only its number: moved along
                    if number is not None:
                        number.setData(str(row + 1), display)
                else:
                    self._set_row(row)
        finally:
            self.blockSignals(False)
        last_column = len(COLUMNS) - 1
        start = 0
        while start < len(changed):  # one dataChanged per run of consecutive rows
            end = start
            while end + 1 < len(changed) and changed[end + 1] == changed[end] + 1:
                end += 1
            self.dataChanged.emit(self.index(changed[start], 0),
                                  self.index(changed[end], last_column))
            start = end + 1

    def _move_rows(self, old: list[str], new: list[str]) -> bool:
        """Turn the rows of the layers ``old`` into those of ``new`` by removing and inserting
        rows (a renamed layer keeps its row); the rows left in place keep their old keys, so
        the caller's comparison finds which of them changed. False: too much changed, reset."""
        if not old or not new:
            return False
        edits = row_edits(old, new)
        if len(edits) > _MOST_ROW_EDITS:
            return False
        stale: tuple[Any, ...] = ()
        for tag, i1, i2, j1, j2 in reversed(edits):  # from the end: earlier rows keep places
            if tag == "replace" and i2 - i1 == j2 - j1:
                for row in range(i1, i2):  # renamed: the row stays, its key makes it change
                    self._keys[row] = stale
                continue
            if i2 > i1:
                del self._keys[i1:i2]
                self.removeRows(i1, i2 - i1)
            if j2 > j1:
                self._keys[i1:i1] = [stale] * (j2 - j1)
                self.insertRows(i1, j2 - j1)  # empty until the caller fills them
        return True

    def row_state(self, row: int) -> str:
        analysis = self.document.analysis
        if row < len(analysis.layers):
            return "ok"
        if analysis.error is not None and row == len(analysis.layers):
            return "error"
        return "pending"

    def _set_row(self, row: int, fresh: bool = False) -> None:
        """Put the row's texts, colours and alignment in its items (what the row showed before
        is cleared first, unless ``fresh``: a row just inserted holds nothing). The items
        come from the model's prototype, with the rows' flags."""
        for column, cell in enumerate(self._row_cells(row, self.row_state(row))):
            index = self.index(row, column)
            if not fresh:
                self.clearItemData(index)
            self.setItemData(index, cell)

    def _row_cells(self, row: int, state: str) -> list[dict[int, Any]]:
        layer_name = self.document.spec.layers[row].name
        cells = []
        for col in range(len(COLUMNS)):
            cell: dict[int, Any] = {Qt.ItemDataRole.DisplayRole: self._display(row, col),
                                    Qt.ItemDataRole.UserRole: layer_name}
            if state == "error":
                cell[Qt.ItemDataRole.ForegroundRole] = _ERROR_BRUSH
                cell[Qt.ItemDataRole.BackgroundRole] = _ERROR_BACKGROUND
            elif state == "pending":
                cell[Qt.ItemDataRole.ForegroundRole] = _PENDING_BRUSH
            elif col == 2:
                group = CATALOG[self.document.spec.layers[row].type].group
                cell[Qt.ItemDataRole.ForegroundRole] = QBrush(group_color(group))
            if col in (0, 5):
                cell[Qt.ItemDataRole.TextAlignmentRole] = _RIGHT
            cells.append(cell)
        return cells

    def _display(self, row: int, col: int) -> str:
        layer = self.document.spec.layers[row]
        state = self.row_state(row)
        info = self.document.analysis.layers[row] if state == "ok" else None
        if col == 0:
            return str(row + 1)
        if col == 1:
            return layer.name
        if col == 2:
            return layer.type
        if col == 3:
            text = key_settings(layer.type, dict(layer.params))
            if layer.inputs:
                text = ("← " + " + ".join(layer.inputs) + ("; " + text if text else ""))
            return text
        if col == 4:
            return shape_text(info.output_shape) if info else "—"
        if col == 5:
            if not info:
                return "—"
            return format_count(info.params) + (" ❄" if info.params and not
                                                info.trainable_params else "")
        if col == 6:
            if state == "error" and self.document.analysis.error is not None:
                return "⚠ " + self.document.analysis.error.reason
            return "not analysed" if state == "pending" else ""
        return ""

    def tooltip(self, row: int) -> str:
        """The row's name, type and settings in full (a narrow column elides them), then the
        error, the layer's formula with its numbers, or why it is not analysed."""
        if row >= len(self.document.spec.layers):
            return ""
        layer = self.document.spec.layers[row]
        settings = self._display(row, 3)
        full = f"{layer.name} ({layer.type})" + (f": {settings}" if settings else "")
        state = self.row_state(row)
        if state == "error" and self.document.analysis.error is not None:
            return f"{full}\n\n{self.document.analysis.error.reason}"
        if state == "ok":
            return f"{full}\n\n{explain_layer(self.document.analysis.layers[row])}"
        return f"{full}\n\nNot analysed: fix the layer marked in red above first."

    # -- drag and drop ----------------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME, TYPE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        data = QMimeData()
        if indexes:
            name = self.document.spec.layers[indexes[0].row()].name
            data.setData(LAYER_MIME, QByteArray(name.encode()))
        return data

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,
                     column: int, parent: AnyIndex) -> bool:
        target = row if row >= 0 else (parent.row() if parent.isValid() else self.rowCount())
        if data.hasFormat(TYPE_MIME):
            self.document.add_layer(bytes(data.data(TYPE_MIME).data()).decode(), target)
        elif data.hasFormat(LAYER_MIME):
            name = bytes(data.data(LAYER_MIME).data()).decode()
            source = self.document.spec.index(name)
            self.document.move_layer(name, target - 1 if target > source else target)
        return False  # the document has changed; nothing for the view to remove


class RowTooltips(QStyledItemDelegate):
    """Draws the cells as Qt does and, on hover, shows the row's tooltip, computed then
    (LayerTableModel.tooltip): the items hold no tooltip, so an edit computes none."""

    def __init__(self, model: LayerTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table_model = model

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem, index: AnyIndex) -> bool:
        if event is None or event.type() != QEvent.Type.ToolTip or not index.isValid():
            return super().helpEvent(event, view, option, index)
        # as Qt's own delegate shows one: hidden once the pointer leaves the cell
        QToolTip.showText(event.globalPos(), self.table_model.tooltip(index.row()),
                          view.viewport(), option.rect)
        return True


def share_widths(needs: Sequence[int], minima: Sequence[int],
                 groups: Sequence[Sequence[tuple[int, int]]], available: int) -> list[int]:
    """Column widths within ``available`` pixels: every column gets its minimum, then each group
    in turn (``(column, width wanted)`` pairs) is raised towards what it wants, sharing what is
    left evenly (a column that wants less than its share leaves the rest to the others).
    Columns never get more than ``needs``; what no group wants stays unused."""
    widths = [min(m, n) for m, n in zip(minima, needs, strict=True)]
    left = available - sum(widths)
    for group in groups:
        wanting = [(column, min(want, needs[column])) for column, want in group]
        wanting = [(column, want) for column, want in wanting if want > widths[column]]
        while wanting and left > 0:
            share = max(1, left // len(wanting))
            column, want = min(wanting, key=lambda item: item[1] - widths[item[0]])
            if want - widths[column] <= share:  # the one wanting least is satisfied
                left -= want - widths[column]
                widths[column] = want
                wanting.remove((column, want))
            else:  # nobody is satisfied by an even share: share it out and stop
                for index, (column, _want) in enumerate(wanting):
                    extra = left // len(wanting) + (1 if index < left % len(wanting) else 0)
                    widths[column] += extra
                left = 0
    return widths


class LayerTable(QTableView):
    """The layer list view, kept in step with the document's current layer."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table_model = LayerTableModel(document)
        self.setModel(self.table_model)
        self.tooltips = RowTooltips(self.table_model, self)
        self.setItemDelegate(self.tooltips)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        # a name too long for its column keeps both ends, "layer1…conv1": which block and which
        # layer in it (cut at the end, ResNet's names at projector text on 1366 px all read
        # "layer1_0…"); the row's tooltip gives it whole. Qt elides in C++: no Python per cell
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.verticalHeader().hide()
        self.rows = fit_rows_to_text(self)  # 29 px at 24 pt cut the underscores (issue 17)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self._needs: list[int] = []
        self.resizeColumnsToContents()
        # measuring every cell on every edit is what made large models slow: fit the columns
        # when the rows change (load, add, delete), not when values do
        self.table_model.modelReset.connect(self.resizeColumnsToContents)
        # an edit measures only the rows it added or changed (a few), and widens a column
        # that now needs it; columns are fitted afresh when the model resets
        self.table_model.rowsInserted.connect(
            lambda _parent, first, last: self._measure_rows(first, last, numbers=True))
        self.table_model.dataChanged.connect(
            lambda first, last, _roles=(): self._measure_rows(first.row(), last.row()))
        self.selectionModel().currentRowChanged.connect(self._row_changed)
        document.changed.connect(self._sync_selection)
        document.current_changed.connect(lambda _name: self._sync_selection())

    # -- columns that fit the view ----------------------------------------------------------
    def _measure_rows(self, first: int, last: int, numbers: bool = False) -> None:
        """Widen the columns the texts of rows ``first`` to ``last`` (and with ``numbers``, the
        last row's, the longest number) need more room for; a long run of rows, e.g. the
        numbers of the rows below an added layer, is not measured."""
        if len(self._needs) != len(COLUMNS) or last - first >= _MEASURED_ROWS:
            return
        grid = 1 if self.showGrid() else 0
        model = self.table_model
        needs = list(self._needs)
        rows = [*range(first, last + 1), *([model.rowCount() - 1] if numbers else [])]
        for row in rows:
            for column in range(len(COLUMNS)):
                width = self.sizeHintForIndex(model.index(row, column)).width() + grid
                needs[column] = max(needs[column], width)
        if needs != self._needs:
            self._needs = needs
            self.fit_columns()

    def resizeColumnsToContents(self) -> None:
        """Measure what each column's texts need, then fit the columns into the view."""
        header = self.horizontalHeader()
        self._needs = [max(self.sizeHintForColumn(c), header.sectionSizeHint(c))
                       for c in range(len(COLUMNS))]
        self.fit_columns()

    def fit_columns(self) -> None:
        """Every column inside the view (no sideways scrolling, Params and Status never off
        screen): the row number and Params keep the width they need, the output shape and a
        short status come next, then the name and type, then the settings (and a long error)
        share what is left; where the settings (then the type) cannot be shown whole, their
        column is hidden, and the row's tooltip gives them in full."""
        if len(self._needs) != len(COLUMNS):
            return
        header = self.horizontalHeader()
        metrics = self.fontMetrics()
        # a column elided to a letter and "…" still says it holds something; 16: the cell's
        # margins
        least = metrics.horizontalAdvance("M…") + 16
        header.setMinimumSectionSize(min(least, header.minimumSectionSize()))
        needs = self._needs
        minima = [needs[0], least, least, least, least, needs[5], least]
        short_status = max(header.sectionSizeHint(6),
                           metrics.horizontalAdvance("not analysed") + 16)
        groups = [[(4, needs[4]), (6, short_status)], [(1, needs[1]), (2, needs[2])],
                  [(3, needs[3]), (6, needs[6])]]
        available = self.viewport().width()
        # where even the settings cannot be shown whole (projector text in a narrow dock),
        # the Settings column steps aside, then Type: both are in the Properties dock and the
        # row's tooltip, and a column cut to "M…" told nothing (issue 17, the layout matrix)
        essential = needs[0] + needs[1] + needs[4] + needs[5] + short_status
        hidden = set()
        if essential + needs[2] + needs[3] > available:
            hidden.add(3)
            if essential + needs[2] > available:
                hidden.add(2)
                if essential > available:  # 24 pt beside both docks on 1366 px: an error
                    hidden.add(6)  # still shows as the row's red and in the totals bar
        for column in (2, 3, 6):
            if self.isColumnHidden(column) != (column in hidden):
                self.setColumnHidden(column, column in hidden)
        shown_needs = [0 if c in hidden else n for c, n in enumerate(needs)]
        shown_minima = [0 if c in hidden else m for c, m in enumerate(minima)]
        widths = share_widths(shown_needs, shown_minima, groups, available)
        for column, width in enumerate(widths):
            if column not in hidden and header.sectionSize(column) != width:
                header.resizeSection(column, width)

    def essential_width(self) -> int:
        """The view's width that shows the row number, name, output shape and parameters
        whole (what fit_columns never hides), with the frame and a vertical scroll bar."""
        if len(self._needs) != len(COLUMNS):
            return self.minimumSizeHint().width()
        needs = self._needs
        return needs[0] + needs[1] + needs[4] + needs[5] + 2 * self.frameWidth() + \
            self.verticalScrollBar().sizeHint().width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)  # the view's or its viewport's size (a scroll bar came)
        self.fit_columns()

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        # while rows are removed for a shorter model (a preset opened), Qt moves the current
        # row through rows the new model no longer has: those select nothing (the document's
        # own selection follows once the rows are in step, _sync_selection)
        layers = self.document.spec.layers
        if self.table_model.refreshing:
            return  # a removed row's neighbour, not the user's choice: the document's holds
        if current.isValid() and 0 <= current.row() < len(layers) and \
                current.row() < self.table_model.rowCount():
            self.document.select(layers[current.row()].name)

    def _sync_selection(self) -> None:
        name = self.document.current
        names = [layer.name for layer in self.document.spec.layers]
        if name not in names:
            return
        row = names.index(name)
        index = self.table_model.index(row, 0)
        if self.currentIndex().row() != row or not self.selectionModel().isRowSelected(row):
            self.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index)

    def selected_names(self) -> list[str]:
        rows = sorted({i.row() for i in self.selectionModel().selectedRows()})
        names = [self.document.spec.layers[r].name for r in rows
                 if r < len(self.document.spec.layers)]
        return names or ([self.document.current] if self.document.current else [])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers()
        alt = mods & Qt.KeyboardModifier.AltModifier
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and alt:
            name = self.document.current
            if name:
                index = self.document.spec.index(name)
                step = -1 if event.key() == Qt.Key.Key_Up else 1
                if 0 <= index + step < len(self.document.spec.layers):
                    self.document.move_layer(name, index + step)
            return
        super().keyPressEvent(event)

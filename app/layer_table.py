"""The layer list: one row per layer with name, type, key settings, output shape and parameters.

The invalid layer is shown in red with the reason beside it; the layers after it stay listed
(greyed, "not analysed") and editable. Rows reorder by dragging; palette types drop in.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.document import ModelDocument
from app.palette import TYPE_MIME
from app.style import ERROR_COLOR, group_color
from core.analysis.explain import explain_layer, key_settings
from core.analysis.summary import format_count, shape_text
from core.model.catalog import CATALOG

LAYER_MIME = "application/x-convscope-layer"
COLUMNS = ("#", "Name", "Type", "Settings", "Output shape", "Params", "Status")
AnyIndex = QModelIndex | QPersistentModelIndex
_STYLE_ROLES = (Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.BackgroundRole,
                Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole)


class LayerTableModel(QStandardItemModel):
    """The rows as Qt items: painting reads them in C++ without calling Python per cell (a
    Python data() method made every repaint of the list cost ~4 ms more)."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__(0, len(COLUMNS), document)
        self.document = document
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self._rows: list[tuple[tuple[Any, ...], ...]] = []
        self._refresh()
        document.changed.connect(self._refresh)

    def _cells(self, row: int) -> tuple[tuple[Any, ...], ...]:
        """Per column: (text, foreground, background, alignment, tooltip) of one row."""
        tip = self._tooltip(row)
        out = []
        for col in range(len(COLUMNS)):
            roles = [self._other_roles(row, col, r) for r in _STYLE_ROLES[:3]]
            out.append((self._display(row, col), *roles, tip))
        return tuple(out)

    def _refresh(self) -> None:
        """Update only the cells that changed; add or drop rows at the end as needed."""
        n = len(self.document.spec.layers)
        rows = [self._cells(row) for row in range(n)]
        reset = n != len(self._rows)
        if reset:
            self.beginResetModel()
            self.blockSignals(True)
            self.setRowCount(n)
        for row, cells in enumerate(rows):
            old = self._rows[row] if not reset and row < len(self._rows) else None
            for col, cell in enumerate(cells):
                if old is not None and old[col] == cell:
                    continue
                item = self.item(row, col)
                if item is None:
                    item = QStandardItem()
                    item.setEditable(False)
                    item.setDropEnabled(False)
                    self.setItem(row, col, item)
                item.setText(cell[0])
                for role, value in zip(_STYLE_ROLES, cell[1:], strict=True):
                    item.setData(value, role)
                item.setData(self.document.spec.layers[row].name, Qt.ItemDataRole.UserRole)
        self._rows = rows
        if reset:
            self.blockSignals(False)
            self.endResetModel()

    def row_state(self, row: int) -> str:
        analysis = self.document.analysis
        if row < len(analysis.layers):
            return "ok"
        if analysis.error is not None and row == len(analysis.layers):
            return "error"
        return "pending"

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

    def _tooltip(self, row: int) -> str:
        if row >= len(self.document.spec.layers):
            return ""
        state = self.row_state(row)
        if state == "error" and self.document.analysis.error is not None:
            return self.document.analysis.error.reason
        if state == "ok":
            return explain_layer(self.document.analysis.layers[row])
        return "Not analysed: fix the layer marked in red above first."

    def _other_roles(self, row: int, col: int, role: int) -> Any:
        layer = self.document.spec.layers[row]
        state = self.row_state(row)
        if role == Qt.ItemDataRole.ForegroundRole:
            if state == "error":
                return QBrush(QColor(ERROR_COLOR))
            if state == "pending":
                return QBrush(QColor("#8a8a8a"))
            if col == 2:
                return QBrush(group_color(CATALOG[layer.type].group))
        if role == Qt.ItemDataRole.BackgroundRole and state == "error":
            return QBrush(QColor(214, 40, 40, 45))
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    # -- drag and drop ----------------------------------------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME, TYPE_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
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


class LayerTable(QTableView):
    """The layer list view, kept in step with the document's current layer."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.table_model = LayerTableModel(document)
        self.setModel(self.table_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.resizeColumnsToContents()
        # measuring every cell on every edit is what made large models slow: fit the columns
        # when the rows change (load, add, delete), not when values do
        self.table_model.modelReset.connect(self.resizeColumnsToContents)
        self.selectionModel().currentRowChanged.connect(self._row_changed)
        document.changed.connect(self._sync_selection)
        document.current_changed.connect(lambda _name: self._sync_selection())

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.document.select(self.document.spec.layers[current.row()].name)

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

"""The layer list: one row per layer with name, type, key settings, output shape and parameters.

The invalid layer is shown in red with the reason beside it; the layers after it stay listed
(greyed, "not analysed") and editable. Rows reorder by dragging; palette types drop in.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
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


class LayerTableModel(QAbstractTableModel):
    def __init__(self, document: ModelDocument) -> None:
        super().__init__(document)
        self.document = document
        self._rows: list[tuple[str, ...]] = []
        self._cache_rows()
        document.changed.connect(self._refresh)

    def _cache_rows(self) -> None:
        self._rows = [tuple(self._display(row, col) for col in range(len(COLUMNS)))
                      for row in range(len(self.document.spec.layers))]

    def _refresh(self) -> None:
        """Same rows: repaint them in place (keeps the selection); else reset."""
        old = len(self._rows)
        if old == len(self.document.spec.layers):
            self._cache_rows()
            if old:
                self.dataChanged.emit(self.index(0, 0), self.index(old - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self._cache_rows()
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.document.spec.layers)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def row_state(self, row: int) -> str:
        analysis = self.document.analysis
        if row < len(analysis.layers):
            return "ok"
        if analysis.error is not None and row == len(analysis.layers):
            return "error"
        return "pending"

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[row][col]
        return self._other_roles(row, col, role)

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

    def _other_roles(self, row: int, col: int, role: int) -> Any:
        layer = self.document.spec.layers[row]
        state = self.row_state(row)
        if role == Qt.ItemDataRole.ToolTipRole:
            info = self.document.analysis.layers[row] if state == "ok" else None
            if state == "error" and self.document.analysis.error is not None:
                return self.document.analysis.error.reason
            if info is not None:
                return explain_layer(info)
            return "Not analysed: fix the layer marked in red above first."
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
        if role == Qt.ItemDataRole.UserRole:
            return layer.name
        return None

    # -- drag and drop ----------------------------------------------------------------------
    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsDropEnabled
        if not index.isValid():
            return base
        return (base | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemIsDragEnabled)

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction | Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [LAYER_MIME, TYPE_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:  # noqa: N802
        data = QMimeData()
        if indexes:
            name = self.document.spec.layers[indexes[0].row()].name
            data.setData(LAYER_MIME, QByteArray(name.encode()))
        return data

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
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

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        mods = event.modifiers()
        if event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down) and mods & Qt.KeyboardModifier.AltModifier:
            name = self.document.current
            if name:
                index = self.document.spec.index(name)
                step = -1 if event.key() == Qt.Key.Key_Up else 1
                if 0 <= index + step < len(self.document.spec.layers):
                    self.document.move_layer(name, index + step)
            return
        super().keyPressEvent(event)

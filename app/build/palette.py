"""The layer palette: every catalog type grouped as the catalog groups them, with a search box."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.style import group_color
from core.model.catalog import GROUPS, types_in_group

TYPE_MIME = "application/x-convscope-layer-type"
MIN_WIDTH = 210
ITEM_MARGINS = 16
"""Room beside an item's text: its padding and the decoration's."""


class _PaletteTree(QTreeWidget):
    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        names = [i.data(0, Qt.ItemDataRole.UserRole) for i in items]
        names = [n for n in names if n]
        if names:
            data.setData(TYPE_MIME, names[0].encode())
            data.setText(names[0])
        return data

    def mimeTypes(self) -> list[str]:
        return [TYPE_MIME]


class LayerPalette(QWidget):
    """Emits ``add_requested(type)`` on double-click or Enter; items drag into the layer list."""

    add_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search layers…")
        self.search.setClearButtonEnabled(True)
        self.tree = _PaletteTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        for group in GROUPS:
            top = QTreeWidgetItem([group.capitalize()])
            top.setFlags(Qt.ItemFlag.ItemIsEnabled)
            top.setForeground(0, group_color(group))
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for entry in types_in_group(group):
                item = QTreeWidgetItem([entry.name])
                item.setData(0, Qt.ItemDataRole.UserRole, entry.name)
                item.setToolTip(0, f"<b>{entry.name}</b><p>{entry.summary}</p>"
                                f"<p><i>{entry.formula}</i></p><p>Double-click to add after "
                                "the selected layer, or drag into the layer list.</p>")
                top.addChild(item)
            self.tree.addTopLevelItem(top)
        self.tree.expandAll()
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._add_first_visible)
        self.tree.itemActivated.connect(self._activated)

    def minimumSizeHint(self) -> QSize:
        """As wide as the longest type name at the current text size (no "Convol…" in a
        narrow dock), and at least MIN_WIDTH."""
        hint = super().minimumSizeHint()
        tree = self.tree
        bold = QFont(tree.font())
        bold.setBold(True)
        names, groups = QFontMetrics(tree.font()), QFontMetrics(bold)
        widest = 0
        for top, children in self._groups():
            widest = max(widest, groups.horizontalAdvance(top.text(0)),
                         *(names.horizontalAdvance(c.text(0)) + tree.indentation()
                           for c in children))
        # the item's margins, the frame, the scroll bar (shown when the list is long)
        need = widest + tree.indentation() + 2 * tree.frameWidth() + \
            tree.verticalScrollBar().sizeHint().width() + ITEM_MARGINS
        return QSize(max(hint.width(), MIN_WIDTH, need), hint.height())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()  # the dock asks the new minimum width

    def _activated(self, item: QTreeWidgetItem) -> None:
        name = item.data(0, Qt.ItemDataRole.UserRole)
        if name:
            self.add_requested.emit(name)

    def _groups(self) -> list[tuple[QTreeWidgetItem, list[QTreeWidgetItem]]]:
        """Each group's item with its type items."""
        groups = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top is not None:
                children = [top.child(j) for j in range(top.childCount())]
                groups.append((top, [c for c in children if c is not None]))
        return groups

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for top, children in self._groups():
            visible = 0
            for child in children:
                hit = not needle or needle in child.text(0).lower() or needle in top.text(
                    0).lower() or needle in (child.toolTip(0).lower() if len(needle) > 3 else "")
                child.setHidden(not hit)
                visible += hit
            top.setHidden(visible == 0)

    def _add_first_visible(self) -> None:
        for _top, children in self._groups():
            for child in children:
                if not child.isHidden():
                    self._activated(child)
                    return

    def visible_types(self) -> list[str]:
        out = []
        for top, children in self._groups():
            out += [child.text(0) for child in children
                    if not child.isHidden() and not top.isHidden()]
        return out

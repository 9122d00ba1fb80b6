"""The class list: add, rename, recolour and delete (saying what it affects, undoable through
the tab); keys 1–9 pick."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.labels.label_set import LabelError, LabelSet


class ClassList(QWidget):
    """Lists the label set's classes; ``changed`` after any class edit, ``picked`` the index."""

    changed = Signal()
    picked = Signal(int)
    delete_requested = Signal(int)
    """The user confirmed deleting this class: the tab deletes it as one undo step."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: LabelSet | None = None
        self.list = QListWidget()
        self.list.setObjectName("LabelClasses")
        self.list.currentRowChanged.connect(self._row_changed)
        self.list.itemDoubleClicked.connect(lambda _i: self.rename())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for text, slot, tip in (("Add…", self.add, "A new class"),
                                ("Rename…", self.rename, "Rename the selected class"),
                                ("Colour…", self.recolour, "The selected class's colour"),
                                ("Delete…", self.delete, "Delete the class, its boxes and its "
                                                         "pixels (says how many first)")):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons[text.rstrip("…")] = button
        layout.addLayout(buttons)

    def _row_changed(self, row: int) -> None:
        if row >= 0:
            self.picked.emit(row)

    def set_labels(self, labels: LabelSet | None) -> None:
        self.labels = labels
        self.refill()

    def refill(self, select: int | None = None) -> None:
        row = self.list.currentRow() if select is None else select
        self.list.blockSignals(True)
        self.list.clear()
        for i, c in enumerate(self.labels.classes if self.labels else []):
            swatch = QPixmap(16, 16)
            swatch.fill(QColor(*c.colour))
            key = f"{i + 1}  " if i < 9 else "   "
            self.list.addItem(QListWidgetItem(QIcon(swatch), f"{key}{c.name}"))
        self.list.blockSignals(False)
        count = self.list.count()
        if count:
            self.list.setCurrentRow(min(max(row, 0), count - 1))
            self.picked.emit(self.list.currentRow())
        for name in ("Rename", "Colour", "Delete"):
            self.buttons[name].setEnabled(count > 0)
        self.buttons["Add"].setEnabled(self.labels is not None)

    def pick(self, index: int) -> None:
        if 0 <= index < self.list.count():
            self.list.setCurrentRow(index)

    def add_named(self, name: str) -> bool:
        if self.labels is None:
            return False
        try:
            index = self.labels.add_class(name)
        except LabelError as exc:
            QMessageBox.warning(self, "Cannot add the class", str(exc))
            return False
        self.refill(index)
        self.changed.emit()
        return True

    def add(self) -> None:
        name, ok = QInputDialog.getText(self, "Add a class", "Name of the new class:")
        if ok:
            self.add_named(name)

    def rename(self) -> None:
        row = self.list.currentRow()
        if self.labels is None or row < 0:
            return
        name, ok = QInputDialog.getText(self, "Rename the class", "New name:",
                                        text=self.labels.classes[row].name)
        if not ok:
            return
        try:
            self.labels.rename_class(row, name)
        except LabelError as exc:
            QMessageBox.warning(self, "Cannot rename the class", str(exc))
            return
        self.refill(row)
        self.changed.emit()

    def recolour(self) -> None:
        row = self.list.currentRow()
        if self.labels is None or row < 0:
            return
        colour = QColorDialog.getColor(QColor(*self.labels.classes[row].colour), self,
                                       "Colour of the class")
        if colour.isValid():
            self.labels.recolour_class(row, (colour.red(), colour.green(), colour.blue()))
            self.refill(row)
            self.changed.emit()

    def delete(self) -> None:
        row = self.list.currentRow()
        if self.labels is None or row < 0:
            return
        name = self.labels.classes[row].name
        usage = self.labels.usage(row)
        answer = QMessageBox.question(
            self, "Delete the class",
            f'Delete "{name}" with its {usage.words()}? The classes after it move up one. '
            "Undo (Ctrl+Z) brings it back with its labels; the other images' undo histories "
            "end here.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(row)

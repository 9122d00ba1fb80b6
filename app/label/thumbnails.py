"""The thumbnail strip: every image of the folder with its status, read on the worker."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSize, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QListView, QListWidget, QListWidgetItem

from app.label.canvas import qimage
from core.labels.label_set import LabelSet

THUMB = 72
MARKS = {"unlabelled": "○", "labelled": "●", "reviewed": "✔"}
"""How a thumbnail's caption shows the status (the tooltip says it in words)."""


class ThumbnailStrip(QListWidget):
    """One row of thumbnails; ``chosen`` the file name the user picks."""

    chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("LabelThumbnails")
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self._fit_height()
        self.currentItemChanged.connect(self._current_changed)
        self.labels: LabelSet | None = None

    def _current_changed(self, item: QListWidgetItem | None, _old: object) -> None:
        if item is not None:
            self.chosen.emit(item.data(256))

    def _fit_height(self) -> None:
        """A thumbnail, its caption and a scroll bar, at the current text size."""
        self.setFixedHeight(THUMB + 2 * self.fontMetrics().height() + 24)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()

    def set_labels(self, labels: LabelSet | None) -> None:
        self.labels = labels
        self.blockSignals(True)
        self.clear()
        blank = QPixmap(THUMB, THUMB)
        blank.fill(QColor(128, 128, 128))
        for name in labels.names() if labels else []:
            item = QListWidgetItem(QIcon(blank), "")
            item.setData(256, name)
            self.addItem(item)
            self.show_status(name)
        self.blockSignals(False)

    def _item(self, name: str) -> QListWidgetItem | None:
        names = self.labels.names() if self.labels else []
        return self.item(names.index(name)) if name in names else None

    def show_status(self, name: str) -> None:
        item = self._item(name)
        if item is None or self.labels is None:
            return
        status = self.labels.images[name].status
        short = name if len(name) <= 12 else name[:10] + "…"
        item.setText(f"{MARKS[status]} {short}")
        item.setToolTip(f"{name}: {status}")

    def set_thumbnail(self, name: str, array: np.ndarray) -> None:
        item = self._item(name)
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(qimage(array))))

    def select(self, name: str) -> None:
        item = self._item(name)
        if item is not None:
            self.setCurrentItem(item)

"""The Label tab: label a folder of images (boxes, masks) with the open model's help and train
on the result. ``install(window)`` adds the tab, routes Undo/Redo to the shown image's labels
while the tab is current, and offers saved labels to the Train tab."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence

from app.label.tab import LabelTab

__all__ = ["LabelTab", "install"]


def install(window: Any) -> LabelTab:
    tab = LabelTab(window.document)
    window.tabs.put_page(tab, "Label")  # in place of its placeholder
    label_undo = tab.undo_group.createUndoAction(window, "Undo Label Edit")
    label_redo = tab.undo_group.createRedoAction(window, "Redo Label Edit")
    window.addAction(label_undo)
    window.addAction(label_redo)
    model_keys = (window.undo_action.shortcuts(), window.redo_action.shortcuts())
    undo_keys = [QKeySequence(QKeySequence.StandardKey.Undo)]
    redo_keys = [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]

    def route(_index: int = 0) -> None:
        """Ctrl+Z undoes the shown image's labels on the Label tab, the model elsewhere."""
        on_tab = window.tabs.currentWidget() is tab
        window.undo_action.setShortcuts([] if on_tab else model_keys[0])
        window.redo_action.setShortcuts([] if on_tab else model_keys[1])
        label_undo.setShortcuts(undo_keys if on_tab else [])
        label_redo.setShortcuts(redo_keys if on_tab else [])

    window.tabs.currentChanged.connect(route)
    route()

    def train(path: str) -> None:
        window.training.form.use_dataset(path)
        window.tabs.setCurrentWidget(window.training)
        window.statusBar().showMessage(f"Dataset: the labelled images of {path}", 8000)

    tab.train_requested.connect(train)
    window.installEventFilter(_SaveOnClose(window, tab))
    return tab


class _SaveOnClose(QObject):
    def __init__(self, window: Any, tab: LabelTab) -> None:
        super().__init__(window)
        self.tab = tab

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.tab.save_before_close()
        return False

"""Edit → Copy Layers, Paste Layers, Group Layers…, Ungroup, Rename Group…: the diagram's
block edits (app.build.diagram_editing) from the menu, enabled only when they apply.

They act on the layers chosen: those selected in the layer list while it has the focus, else
the diagram's selected blocks (which follow the current layer). Copy needs a layer, Paste
layers on the clipboard, Group two or more layers, Ungroup and Rename a group (the selected
collapsed group, or the current layer's). Their keys (Ctrl+C, Ctrl+V, Ctrl+G, F2) act where the
diagram has the focus, so the layer list's and the text fields' own Ctrl+C and Ctrl+V stay
theirs; F2 is Rename Layer's elsewhere (app.window.edits). Each edit is one undo step.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QWidget

from app.build.diagram import DiagramView
from app.build.diagram_editing import clipboard_has_layers
from app.build.layer_table import LayerTable
from app.document import ModelDocument


class DiagramEdits(QObject):
    """The Edit menu's block actions and their enabled state."""

    def __init__(self, window: QMainWindow, document: ModelDocument, diagram: DiagramView,
                 table: LayerTable) -> None:
        super().__init__(window)
        self.window_, self.document, self.diagram, self.table = window, document, diagram, table

        def action(text: str, slot: object, key: QKeySequence | str, tip: str) -> QAction:
            made = QAction(text, window)
            made.setShortcut(key)
            made.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            made.setStatusTip(tip)
            made.triggered.connect(slot)
            diagram.addAction(made)  # the keys act while the diagram has the focus
            return made

        self.copy = action("Cop&y Layers", self.copy_layers,
                           QKeySequence(QKeySequence.StandardKey.Copy),
                           "Copy the selected layers (with their inner connections)")
        self.paste = action("&Paste Layers", self.paste_layers,
                            QKeySequence(QKeySequence.StandardKey.Paste),
                            "Paste the copied layers after the selected one, renamed")
        self.group = action("&Group Layers…", self.group_layers, "Ctrl+G",
                            "Draw the selected layers as one named block")
        self.ungroup = QAction("Ungr&oup", window)
        self.ungroup.setStatusTip("Draw the selected group's layers again")
        self.ungroup.triggered.connect(lambda: self.diagram.editor.ungroup())
        self.rename = QAction("R&ename Group…", window)
        self.rename.setStatusTip("A new name for the selected group (F2 on the diagram)")
        self.rename.triggered.connect(lambda: self.diagram.editor.rename_group())
        document.changed.connect(self.refresh)
        document.current_changed.connect(self.refresh)
        diagram.selection_changed.connect(self.refresh)
        # the clipboard is read when it changes, not on every edit (another program's
        # clipboard is a round trip to that program)
        self._clipboard_layers = clipboard_has_layers()
        QGuiApplication.clipboard().dataChanged.connect(self._clipboard_changed)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_changed)
        self.refresh()

    def add_to(self, menu: QMenu) -> None:
        for made in (self.copy, self.paste, self.group, self.ungroup, self.rename):
            menu.addAction(made)
        menu.aboutToShow.connect(self.refresh)

    def chosen_layers(self) -> list[str]:
        """The layers selected in the list while it has the focus, else the diagram's."""
        if self.window_.focusWidget() is self.table:
            names = self.table.selected_names()
            if names:
                return names
        return self.diagram.editor.selected_layers()

    def refresh(self, *_: object) -> None:
        """Each action enabled only when it applies."""
        chosen = self.chosen_layers()
        editor = self.diagram.editor
        self.copy.setEnabled(bool(chosen or self.document.current))
        self.paste.setEnabled(self._clipboard_layers)
        self.group.setEnabled(len(chosen) >= 2)
        target = editor.group_target()
        self.ungroup.setEnabled(target is not None)
        self.rename.setEnabled(target is not None)

    def _clipboard_changed(self) -> None:
        self._clipboard_layers = clipboard_has_layers()
        self.refresh()

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is self.table or _old is self.table:
            self.refresh()

    def copy_layers(self) -> None:
        self.diagram.editor.copy(self.chosen_layers())

    def paste_layers(self) -> None:
        chosen = self.chosen_layers()
        self.diagram.editor.paste(chosen[-1] if chosen else None)

    def group_layers(self) -> None:
        self.diagram.editor.group(layers=self.chosen_layers())

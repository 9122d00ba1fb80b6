"""Edit → the layer edits and the summary copies, and Ctrl+Z / Ctrl+Shift+Z from any focus."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMenu, QWidget

from app.build.layer_table import LayerTable
from app.document import ModelDocument
from core.analysis.summary import format_markdown, format_table
from core.model.initialisation import SCHEME_LABELS, SCHEMES


class LayerEdits:
    """The Edit menu's actions on the document's current (or selected) layers."""

    def __init__(self, window: QMainWindow, document: ModelDocument, table: LayerTable) -> None:
        self.window = window
        self.document = document
        self.table = table

    def add_layer_after_current(self, type_name: str) -> None:
        spec = self.document.spec
        current = self.document.current
        index = spec.index(current) + 1 if current in {layer.name for layer in spec.layers} \
            else len(spec.layers)
        self.document.add_layer(type_name, index)

    def delete_selected(self) -> None:
        """Delete the connection or the blocks selected in the diagram (while it has the
        focus), else the layers selected in the table."""
        diagram = getattr(self.window, "diagram", None)
        if diagram is not None and diagram.hasFocus() and diagram.selected_edge is not None:
            diagram.delete_selected_edge()
            return
        if diagram is not None and diagram.hasFocus() and diagram.editor.selection:
            diagram.editor.delete()
            return
        self.document.remove_layers(self.table.selected_names())

    def duplicate_current(self) -> None:
        if self.document.current:
            self.document.duplicate_layer(self.document.current)

    def rename_current(self) -> None:
        """F2: rename the current layer, or the group selected on the diagram (while it has
        the focus)."""
        diagram: Any = getattr(self.window, "diagram", None)
        if diagram is not None and bool(self.window.focusWidget() is diagram) and \
                diagram.editor.selected_group():
            diagram.editor.rename_group()
            return
        name = self.document.current
        if not name:
            return
        new, ok = QInputDialog.getText(self.window, "Rename layer", "New name:", text=name)
        if ok and new.strip():
            self.document.rename_layer(name, new)

    def move(self, step: int) -> None:
        name = self.document.current
        if name:
            index = self.document.spec.index(name) + step
            if 0 <= index < len(self.document.spec.layers):
                self.document.move_layer(name, index)

    def build_init_menu(self, menu: QMenu) -> None:
        """Edit → Initialise Every Layer: one scheme for the whole model (each a single undo
        step that drops the per-layer choices), and whether biases start at zero. Built once;
        the ticks follow the model each time the menu opens (``tick_init_menu``)."""
        group = QActionGroup(menu)
        self.init_actions: dict[str, QAction] = {}
        for scheme in SCHEMES:
            action = QAction(SCHEME_LABELS[scheme], menu)
            action.setCheckable(True)
            action.triggered.connect(lambda _on=False, s=scheme: self.document.set_model_init(s))
            group.addAction(action)
            menu.addAction(action)
            self.init_actions[scheme] = action
        menu.addSeparator()
        self.zero_biases = QAction("Biases Start at Zero", menu)
        self.zero_biases.setCheckable(True)
        self.zero_biases.triggered.connect(
            lambda on: self._biases("zeros" if on else "default"))
        menu.addAction(self.zero_biases)
        menu.aboutToShow.connect(self.tick_init_menu)
        self.tick_init_menu()

    def tick_init_menu(self) -> None:
        """The model's own scheme ticked (none while some layer has its own), and the biases."""
        init = self.document.spec.init
        weights = init.weights if init is not None else "default"
        uniform = init is None or not any(s != weights for s in init.layers.values())
        group = next(iter(self.init_actions.values())).actionGroup()
        group.setExclusive(False)  # lets every box be unticked
        for scheme, action in self.init_actions.items():
            action.setChecked(uniform and scheme == weights)
        group.setExclusive(True)
        self.zero_biases.setChecked(init is not None and init.biases == "zeros")

    def _biases(self, biases: str) -> None:
        """The biases' choice (one undo step), every weight scheme kept."""
        from dataclasses import replace

        from core.model.initialisation import Initialisation

        init = self.document.spec.init or Initialisation()
        new = replace(init, biases=biases)
        self.document.apply(replace(self.document.spec, init=None if new.is_default else new),
                            "Biases start at zero" if biases == "zeros" else
                            "Biases start as torch's")

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(format_table(self.document.analysis))
        self.window.statusBar().showMessage("Summary copied as text", 4000)

    def copy_markdown(self) -> None:
        QGuiApplication.clipboard().setText(format_markdown(self.document.analysis))
        self.window.statusBar().showMessage("Summary copied as Markdown", 4000)


class UndoShortcuts(QObject):
    """Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y) undo and redo the model from any focus. Text and spin
    boxes claim those keys for their own text undo; in this window they go to the document's
    undo stack instead, whose edits every field follows."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.keys = [QKeySequence(QKeySequence.StandardKey.Undo),
                     QKeySequence(QKeySequence.StandardKey.Redo),
                     QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, QWidget) \
                and isinstance(event, QKeyEvent) and watched.window() is self.window_:
            pressed = QKeySequence(event.keyCombination())
            if any(pressed.matches(key) == QKeySequence.SequenceMatch.ExactMatch
                   for key in self.keys):
                event.ignore()  # not claimed by the box: the window's Undo/Redo action runs
                return True
        return False

"""Selecting and editing blocks on the diagram: click, Shift+click and a Shift-dragged rubber
band select blocks; Delete, Ctrl+C, Ctrl+V and Ctrl+G act on the selection (and the Edit menu's
Copy, Paste, Group and Ungroup, app.window.diagram_edits); a double-click opens or closes a
group, on a group's name renames it (as F2 and the right-click menu do); a right-click offers
freezing.

Every edit goes through the document (one undo step each). A copy goes to the system clipboard
as JSON (core.model.clipboard), so it survives the window and is checked when pasted back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QMimeData, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QCursor,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QInputDialog, QMenu

from app.build.diagram_connect import DiagramView as ConnectingView
from app.build.diagram_connect import PortDrag, edge_at, refuse
from core.inspect.kernel_values import editable_problem
from core.model import groups
from core.model.clipboard import CopiedLayers, copied_from_json, copy_layers
from core.model.errors import ModelError
from core.model.groups import fresh_group_name, group_of
from core.model.spec import INPUT, LayerGroup, ModelSpec

if TYPE_CHECKING:  # the kernel grid (numpy) is imported when first opened, not at start-up
    from app.build.kernel_editor import KernelEditor

LAYERS_MIME = "application/x-convscope-layers"


class DiagramView(ConnectingView, Protocol):
    """What the editor needs of app.build.diagram.DiagramView (which imports this module)."""

    expanded: set[str]
    ports: PortDrag
    block_of: dict[str, str]

    def itemAt(self, point: QPoint) -> QGraphicsItem | None: ...

    def select_edge(self, edge: tuple[str, str] | None) -> None: ...

    def mapToScene(self, point: QPoint) -> QPointF: ...

    def setDragMode(self, mode: QGraphicsView.DragMode) -> None: ...

    def mark_selection(self) -> None: ...

    def rebuild(self) -> None: ...


def clipboard_has_layers() -> bool:
    """Whether the system clipboard holds copied layers (what Paste would read)."""
    data = QGuiApplication.clipboard().mimeData()
    if data is None:
        return False
    return data.hasFormat(LAYERS_MIME) or '"convscope.layers/' in data.text()[:200]


def group_entry(group: LayerGroup, last: tuple[Any, ...], spec: ModelSpec,
                color: str) -> Any:
    """A collapsed group's block as app.build.diagram draws it (its Entry): its last layer's
    size and shape, the group's colour and name, ❄ when every layer of it is frozen."""
    frozen = {layer.name for layer in spec.layers if not layer.trainable}
    mark = " ❄" if frozen.issuperset(group.layers) else ""
    return (group.name, last[1], last[2], QColor(color),
            f"{group.name} ({len(group.layers)} layers){mark}", last[5],
            Qt.PenStyle.DashDotLine)


class BlockEditor:
    """The diagram's selected blocks and the edits on them."""

    def __init__(self, view: DiagramView) -> None:
        self.view = view
        self.selection: list[str] = []
        """Selected block names in the order chosen (a layer, or a collapsed group)."""
        self._band_start: QPointF | None = None
        self.kernel_dialog: KernelEditor | None = None

    # -- what is selected -----------------------------------------------------------------
    def selected_layers(self) -> list[str]:
        """The layers of the selected blocks (a group's layers for a group), in model order."""
        chosen = {m for name in self.selection for m in self.view.members.get(name, ())}
        return [layer.name for layer in self.view.document.spec.layers if layer.name in chosen]

    def selected_group(self) -> str | None:
        """The group shown as the one selected block (collapsed), if that is the selection."""
        if len(self.selection) != 1:
            return None
        name = self.selection[0]
        return name if any(g.name == name for g in self.view.document.spec.groups) else None

    def group_target(self) -> str | None:
        """The group Ungroup and Rename Group act on: the selected collapsed group, else the
        group of the current layer (a layer of an open group)."""
        chosen = self.selected_group()
        if chosen is not None:
            return chosen
        document = self.view.document
        group = group_of(document.spec, document.current) if document.current else None
        return group.name if group is not None else None

    def set_selection(self, names: Iterable[str]) -> None:
        self.selection = [n for n in dict.fromkeys(names) if n in self.view.blocks and n != INPUT]
        self.view.mark_selection()

    def forget_missing(self) -> None:
        """After a rebuild: drop the selected blocks no longer drawn."""
        kept = [n for n in self.selection if n in self.view.blocks]
        if kept != self.selection:
            self.selection = kept

    def click(self, name: str, shift: bool) -> None:
        """A click on block ``name``: it alone is selected, or with Shift it joins (or leaves)
        the selection. The document's current layer follows the block clicked."""
        if name == INPUT:
            return
        if shift:
            chosen = [n for n in self.selection if n != name]
            if len(chosen) == len(self.selection):
                chosen.append(name)
            self.set_selection(chosen)
        else:
            self.set_selection([name])
        last = self.selection[-1] if self.selection else ""
        members = self.view.members.get(last, ())
        if members:  # the current layer: the block chosen last
            self.view.document.select(members[-1])

    def press(self, event: QMouseEvent) -> bool:
        """A press on the diagram: on the port, a connection starts (True: nothing else to
        do); on a block, it is selected (Shift: added); on a connection, that is selected; on
        empty space, the selection is cleared, or with Shift a rubber band starts."""
        view = self.view
        scene_pos = view.mapToScene(event.position().toPoint())
        left = event.button() == Qt.MouseButton.LeftButton
        if left and view.ports.hits(scene_pos):
            view.ports.start()  # a connection, not a pan
            event.accept()
            return True
        name = self.name_at(event.position().toPoint())
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if name and name != INPUT and (left or name not in self.selection):
            self.click(name, shift)
        if left:
            edge = None if name else edge_at(view, scene_pos)
            view.select_edge(edge)
            if not name and edge is None and not self.band_press(event):
                self.set_selection([])
        return False

    def name_at(self, point: QPoint) -> str:
        item = self.view.itemAt(point)
        return str(item.data(0)) if item is not None and item.data(0) else ""

    def menu_at(self, point: QPoint) -> QMenu:
        """The right-click menu for the block at ``point`` (it joins the selection)."""
        name = self.name_at(point)
        if name and name not in self.selection:
            self.click(name, False)
        return self.context_menu(name if name != INPUT else "")

    # -- the rubber band: Shift and drag on empty space ------------------------------------
    def band_press(self, event: QMouseEvent) -> bool:
        if event.button() != Qt.MouseButton.LeftButton or \
                not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            return False
        self._band_start = self.view.mapToScene(event.position().toPoint())
        self.view.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        return True

    def band_release(self, event: QMouseEvent) -> bool:
        if self._band_start is None:
            return False
        end = self.view.mapToScene(event.position().toPoint())
        area = QRectF(self._band_start, end).normalized()
        self._band_start = None
        self.view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        inside = [name for name, block in self.view.blocks.items()
                  if name != INPUT and area.intersects(block.rect())]
        self.set_selection([*self.selection, *inside])
        return True

    @property
    def banding(self) -> bool:
        return self._band_start is not None

    # -- keys -------------------------------------------------------------------------------
    def key(self, event: QKeyEvent) -> bool:
        """Delete, Ctrl+C, Ctrl+V, Ctrl+G on the selection; True when handled."""
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.selection:
            self.delete()
            return True
        for sequence, action in ((QKeySequence.StandardKey.Copy, self.copy),
                                 (QKeySequence.StandardKey.Paste, self.paste)):
            if event.matches(sequence):
                action()
                return True
        if event.key() == Qt.Key.Key_G and \
                event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.group()
            return True
        return False

    # -- the edits --------------------------------------------------------------------------
    def delete(self) -> bool:
        """Delete the selected blocks' layers (one undo step)."""
        names = self.selected_layers()
        if names and self.view.document.remove_layers(names):
            self.set_selection([])
            return True
        return False

    def copy(self, names: Iterable[str] | None = None) -> CopiedLayers | None:
        """Copy the layers ``names`` (by default the selected ones, else the current one) to
        the clipboard."""
        document = self.view.document
        chosen = list(names) if names is not None else self.selected_layers()
        if not chosen and document.current:
            chosen = [document.current]
        try:
            copied = copy_layers(document.spec, chosen)
        except ModelError as exc:
            document.message.emit(str(exc))
            return None
        data = QMimeData()
        text = copied.to_json()
        data.setData(LAYERS_MIME, text.encode())
        data.setText(text)
        QGuiApplication.clipboard().setMimeData(data)
        document.message.emit(f"Copied {len(copied.layers)} layer(s)")
        return copied

    def paste(self, after: str | None = None) -> tuple[str, ...]:
        """Paste the clipboard's layers after layer ``after`` (by default the selected block's
        last layer, else the current one), renamed; the pasted layers become the selection."""
        document = self.view.document
        data = QGuiApplication.clipboard().mimeData()
        raw = bytes(data.data(LAYERS_MIME).data()).decode() if data is not None and \
            data.hasFormat(LAYERS_MIME) else (data.text() if data is not None else "")
        try:
            copied = copied_from_json(raw)
        except ModelError as exc:
            document.message.emit(f"Not pasted: {exc}")
            return ()
        layers = self.selected_layers()
        anchor = after or (layers[-1] if layers else (document.current or None))
        names = document.paste_layers(copied, anchor)
        if names:  # the blocks that show them (a pasted group's)
            self.view.rebuild()
            self.set_selection(self.view.block_of.get(n, n) for n in names)
        return names

    def group(self, name: str | None = None, layers: Iterable[str] | None = None) -> bool:
        """Group the layers (by default the selected ones) under a name (asked, a fresh one
        offered), shown as one block; one undo step. A selection that cannot be a group
        (core.model.group_graph) or a bad name is refused with the reason at the pointer."""
        document = self.view.document
        chosen = list(layers) if layers is not None else self.selected_layers()
        if len(chosen) < 2:
            document.message.emit("Select two or more blocks (Shift+click) to group them")
            return False
        where = QCursor.pos()
        try:  # the selection first, before a name is asked for it
            groups.group_layers(document.spec, chosen)
        except ModelError as exc:
            refuse(self.view, str(exc)[:1].upper() + str(exc)[1:], where)
            return False
        if name is None:
            name, ok = QInputDialog.getText(self.view.viewport(), "Group layers",
                                            f"Name of the group of {len(chosen)} layers:",
                                            text=fresh_group_name(document.spec))
            if not ok:
                return False
        name = name.strip()
        try:
            groups.group_layers(document.spec, chosen, name)
        except ModelError as exc:
            refuse(self.view, str(exc)[:1].upper() + str(exc)[1:], where)
            return False
        if not document.group_layers(chosen, name):
            return False
        self.view.rebuild()
        self.set_selection([name])
        return True

    def ungroup(self, name: str | None = None) -> bool:
        """Forget group ``name`` (by default :meth:`group_target`): its layers are drawn
        again, and stay selected; one undo step."""
        name = name or self.group_target()
        group = next((g for g in self.view.document.spec.groups if g.name == name), None)
        if group is None or not self.view.document.ungroup(group.name):
            return False
        self.set_selection(n for n in group.layers if n in self.view.blocks)
        return True

    def rename_group(self, name: str | None = None, new: str | None = None,
                     where: QPoint | None = None) -> bool:
        """Rename group ``name`` (by default :meth:`group_target`) to ``new`` (asked when
        None); one undo step. An empty, badly formed or taken name is refused with the reason
        at the pointer (``where``, global), the model unchanged."""
        name = name or self.group_target()
        document = self.view.document
        if name is None or all(g.name != name for g in document.spec.groups):
            return False
        where = where if where is not None else QCursor.pos()
        if new is None:
            new, ok = QInputDialog.getText(self.view.viewport(), "Rename group",
                                           f"New name of the group {name}:", text=name)
            if not ok:
                return False
        was_open = name in self.view.expanded
        if was_open:  # an open group stays open under its new name
            self.view.expanded.add(new.strip())
        reason = document.rename_group(name, new)
        if reason is not None:
            self.view.expanded.discard(new.strip())
            refuse(self.view, reason[:1].upper() + reason[1:], where)
            return False
        if was_open and new.strip() != name:
            self.view.expanded.discard(name)
        renamed = new.strip()
        if renamed in self.view.blocks:
            self.set_selection([renamed])
        return True

    def toggle_group(self, name: str) -> bool:
        """Double-click: a collapsed group opens into its layers; a layer of an open group
        closes it back into one block."""
        spec = self.view.document.spec
        if any(g.name == name for g in spec.groups) and name not in self.view.expanded:
            self.view.expanded.add(name)
        else:
            group = group_of(spec, name)
            if group is None or group.name not in self.view.expanded:
                return False
            self.view.expanded.discard(group.name)
            name = group.name
        self.view.rebuild()
        self.set_selection([name] if name in self.view.blocks else [])
        return True

    # -- the right-click menu ---------------------------------------------------------------
    def context_menu(self, name: str) -> QMenu:
        """Freeze up to here, freeze this group, unfreeze all, for block ``name``."""
        document = self.view.document
        members = self.view.members.get(name, ())
        menu = QMenu(self.view.viewport())
        if members:
            last = members[-1]
            menu.addAction(f"Freeze up to {last}", lambda: document.freeze_up_to(last))
            group = next((g for g in document.spec.groups if g.name == name), None) or \
                group_of(document.spec, last)
            if group is not None:
                layers = group.layers
                menu.addAction(f"Freeze this group ({group.name})",
                               lambda: document.set_trainable_many(
                                   layers, False, f"Freeze group {group.name}"))
            else:
                menu.addAction("Freeze this group", lambda: None).setEnabled(False)
        if members:
            menu.addSeparator()
            for text, action in (("Copy\tCtrl+C", self.copy),
                                 ("Paste After\tCtrl+V", self.paste),
                                 ("Group…\tCtrl+G", lambda: self.group()),
                                 ("Delete\tDel", self.delete)):
                menu.addAction(text, action)
            target = self.group_target()
            if target is not None:
                menu.addAction("Rename Group…\tF2", lambda: self.rename_group(target))
            if name in self.view.members and any(g.name == name for g in document.spec.groups):
                menu.addAction(f"Ungroup {name}", lambda: self.ungroup(name))
        if len(members) == 1 and editable_problem(document.spec, members[0]) is None:
            menu.addSeparator()
            menu.addAction("Edit Kernel Values…", lambda: self.edit_kernel(members[0]))
        frozen = [layer.name for layer in document.spec.layers if not layer.trainable]
        unfreeze = menu.addAction("Unfreeze all", lambda: document.set_trainable_many(
            frozen, True, "Unfreeze all"))
        unfreeze.setEnabled(bool(frozen))
        return menu

    def edit_kernel(self, layer: str) -> KernelEditor:
        """Open the kernel grid of Conv2d ``layer`` (core.inspect.kernel_values)."""
        from app.build.kernel_editor import KernelEditor  # numpy: loaded by the warm-up

        dialog = KernelEditor(self.view.document, layer, self.view.viewport())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.kernel_dialog = dialog
        dialog.show()
        return dialog

"""The model diagram: one block per layer, placed by the graph's structure, sized by its output.

The blocks follow a layered layout (core.analysis.graph_layout): branches side by side, merges
after them, flowing left to right or top to bottom (a toggle, remembered). A block's height
follows the feature map's size and its width the channels (log scales); its colour is the
layer's group; a collapsed group (core.model.groups) is one block. Editing on it lives in
diagram_connect (ports, drops) and diagram_editing (selection, copy/paste, groups, freezing).
"""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QEvent, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QMenu,
    QWidget,
)

from app import warm_up
from app.build.diagram_connect import PortDrag, accept_palette, drop_type
from app.build.diagram_edges import update_arcs
from app.build.diagram_editing import BlockEditor, group_entry
from app.build.diagram_export import export_scene
from app.build.diagram_zoom import ZoomableView
from app.build.palette import TYPE_MIME
from app.document import ModelDocument
from app.style import ERROR_COLOR, group_color, secondary_text_color
from core.analysis import graph_layout
from core.analysis.diagram_look import LABEL_ROTATION, block_size, pitches
from core.analysis.graph_layout import Direction
from core.analysis.summary import shape_text
from core.model.catalog import CATALOG
from core.model.groups import collapsed_nodes
from core.model.spec import INPUT, ModelSpec

GROUP_COLOR = "#8d99ae"
"""A collapsed group's block (its layers may be of several colours)."""
Entry = tuple[str, float, float, QColor, str, str, Qt.PenStyle]
"""A block as drawn: name, width, height, colour, label, shape text, outline style."""


class DrawnGraph:
    """What the diagram drew last: the model's graph (its layers' names and inputs, the groups
    collapsed, the direction), its nodes and layout, the blocks' entries and where they were
    placed. An edit that keeps the graph (a value, a freeze, a rename's undo) reuses them; one
    that keeps every block's size too moves nothing and restyles only the blocks it changed."""

    def __init__(self, spec: ModelSpec, collapsed: set[str], direction: Direction,
                 shown: tuple[tuple[str, ...], tuple[tuple[int, ...], ...], tuple[int, ...]]
                 | None, layout: graph_layout.LayeredLayout, entries: list[Entry],
                 placement: tuple[object, ...], placed: graph_layout.Placement) -> None:
        self.layers, self.groups = spec.layers, spec.groups
        self.collapsed, self.direction = collapsed, direction
        self.shown, self.layout, self.entries = shown, layout, entries
        self.placement, self.placed = placement, placed
        longest = placement[1]
        assert isinstance(longest, float)
        self.longest = longest

    def same_graph(self, spec: ModelSpec, collapsed: set[str], direction: Direction) -> bool:
        layers = spec.layers
        return len(layers) == len(self.layers) and direction == self.direction and \
            collapsed == self.collapsed and spec.groups == self.groups and all(
                a is b or (a.name == b.name and a.inputs == b.inputs)
                for a, b in zip(layers, self.layers, strict=True))

    def changed(self, entries: list[Entry]) -> list[int]:
        """The indices of ``entries`` (of the same graph) that differ from those drawn."""
        return [index for index, (entry, before) in enumerate(zip(entries, self.entries,
                                                                   strict=True))
                if entry is not before and entry != before]


class DiagramView(ZoomableView):
    """Draws the document's model; ``blocks`` maps layer names to their rectangles.

    An edit moves or restyles only the blocks whose place or look changed; a new model is drawn
    afresh and fitted to the view (its zoom does not carry over to the next model).
    """

    direction_changed = Signal(str)
    """"down" or "right" after :meth:`set_direction` changed it."""
    selection_changed = Signal()
    """The selected blocks changed (the Edit menu's Copy, Group… follow)."""
    rebuilt = Signal()
    """The drawing was brought in step with the document (blocks may have moved or been
    drawn afresh): the thumbnails and the minimap follow."""

    def __init__(self, document: ModelDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.scene_ = QGraphicsScene(self)
        # blocks move on edits: a spatial index would be rebuilt for every move
        self.scene_.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self.scene_)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setToolTip("Click a block to select its layer; drop a layer from the palette to "
                        "insert it there; Ctrl+wheel zooms, drag to pan.")
        self.setAcceptDrops(True)
        self.viewport().setMouseTracking(True)  # the port follows the block under the pointer
        self.direction: Direction = "right"
        self.blocks: dict[str, QGraphicsRectItem] = {}
        self.labels: dict[str, tuple[QGraphicsSimpleTextItem, QGraphicsSimpleTextItem]] = {}
        self.arcs: list[QGraphicsPathItem] = []
        self._looks: dict[str, tuple[object, ...]] = {}
        self._entries: dict[str, tuple[object, object, Entry]] = {}
        self._text_widths: dict[str, float] = {}
        self._widths_font = 0.0
        self._arc_ends: list[tuple[tuple[float, float], ...]] = []
        self._offsets: tuple[tuple[object, ...],
                             tuple[tuple[float, float], tuple[float, float]]] | None = None
        self._graph: DrawnGraph | None = None
        """The graph, layout and placement drawn last (reused while an edit keeps them)."""
        self._drawn = False
        self._drawn_color = ""
        self._stale = False
        self._selected = ""
        self.refused = ""
        """Why the last connection dragged on the diagram was refused ("" before any)."""
        self.last_menu: QMenu | None = None
        self.selected_edge: tuple[str, str] | None = None
        self.edge_names: list[tuple[str, str]] = []
        """(source, target) of each connection drawn, in the order of ``arcs``."""
        self.expanded: set[str] = set()
        """Groups opened (double-click) into their layers; the others are one block each."""
        self.members: dict[str, tuple[str, ...]] = {}
        """Per block drawn, the layers it shows (a collapsed group's, in order)."""
        self.block_of: dict[str, str] = {}
        """Per layer, the block that shows it (its own, or its collapsed group's)."""
        self._marked: set[str] = set()
        self._emitted_selection: tuple[str, ...] = ()
        self.ports = PortDrag(self)
        self.editor = BlockEditor(self)
        document.changed.connect(self.rebuild)
        document.loaded.connect(self.new_model)
        document.current_changed.connect(self._current_changed)
        self.rebuild()

    def new_model(self) -> None:
        """A different model is being opened (or the font changed): draw it afresh and fit it
        to the view."""
        self._drawn = False
        self._fit_pending = True
        self.expanded = set()
        self.editor.selection = []
        self.resetTransform()

    def _current_changed(self, name: str) -> None:
        """The current layer changed (here or in the table): its block is selected unless it
        already is."""
        block = self.block_of.get(name, name)
        if block not in self.editor.selection:
            self.editor.selection = [block] if block in self.blocks else []
        self._highlight()

    def mark_selection(self) -> None:
        self._highlight()

    def rebuild(self) -> None:
        """Bring the drawing in step with the document. The items stay across edits: a block
        whose place or look changed is moved or restyled, a removed layer's items go and an
        added layer's come; only a new model or font draws the scene afresh. What is shown
        is always what a fresh drawing of the same model shows."""
        if not self.isVisible() and self.blocks:
            self._stale = True
            return
        self._stale = False
        spec, analysis = self.document.spec, self.document.analysis
        font_size = self.font().pointSizeF()
        text_color = self.palette().text().color()
        # a theme change recolours every label: drawn afresh, as for a new font (kept items
        # showed the dark theme's text on the light one)
        colors = text_color.name() + self.palette().base().color().name()
        fresh = not self._drawn or self._widths_font != font_size or \
            self._drawn_color != colors
        self._drawn = True
        self._drawn_color = colors
        collapsed = {g.name for g in spec.groups} - self.expanded
        self.expanded &= {g.name for g in spec.groups}
        drawn = self._graph
        # the same graph as drawn (a value edit, a rename's undo...): its nodes, layout and,
        # where no block changed size, its placement are those drawn
        same_graph = not fresh and drawn is not None and drawn.same_graph(spec, collapsed,
                                                                          self.direction)
        if same_graph:
            assert drawn is not None
            shown = drawn.shown
        else:
            shown = collapsed_nodes(spec, collapsed) if collapsed else None
        node_list = shown[0] if shown else (INPUT, *(layer.name for layer in spec.layers))
        if fresh:
            self.scene_.clear()
            self.ports.reset()
            self.blocks, self.labels, self._looks, self._entries = {}, {}, {}, {}
            self.arcs, self._arc_ends = [], []
            self._selected = ""
            self._text_widths, self._widths_font = {}, font_size
        elif not same_graph:
            self._forget_removed(set(node_list))
        label_font = QFont(self.font())
        label_font.setPointSizeF(max(7.0, font_size * 0.8))
        line = QFontMetricsF(label_font).height()
        entries: list[Entry] = []
        width, height = block_size(spec.input_shape)
        entries.append((INPUT, width, height, QColor("#bbbbbb"), "input",
                        shape_text(spec.input_shape), Qt.PenStyle.SolidLine))
        error_layer = analysis.error.layer if analysis.error is not None else None
        done = len(analysis.layers)
        cache = self._entries
        for index, layer in enumerate(spec.layers):
            info = analysis.layers[index] if index < done else None
            error = layer.name == error_layer
            cached = cache.get(layer.name)
            # the analysis keeps the result of an unchanged layer: so does the drawing
            if cached is not None and cached[0] is info and info is not None and \
                    cached[1] is layer:
                entries.append(cached[2])
                continue
            width, height = block_size(info.output_shape if info else None)
            color = group_color(CATALOG[layer.type].group)
            style = Qt.PenStyle.SolidLine
            if info is None:
                color = QColor(ERROR_COLOR) if error else QColor("#cfcfcf")
                style = Qt.PenStyle.SolidLine if error else Qt.PenStyle.DashLine
            shape = shape_text(info.output_shape) if info else ("error" if error else "—")
            label = layer.name if layer.trainable else f"{layer.name} ❄"  # frozen
            entry = (layer.name, width, height, color, label, shape, style)
            cache[layer.name] = (info, layer, entry)
            entries.append(entry)
        if shown is not None:
            entries = [entries[0], *(group_entry(next(g for g in spec.groups if g.name == name),
                                                 entries[index + 1], spec, GROUP_COLOR)
                                     if name in collapsed else entries[index + 1]
                                     for name, index in zip(shown[0][1:], shown[2],
                                                            strict=True))]
        if not same_graph:
            self.members = {INPUT: ()} | {layer.name: (layer.name,) for layer in spec.layers}
            if shown is not None:
                for group in spec.groups:
                    if group.name in collapsed:
                        self.members[group.name] = group.layers
                        for member in group.layers:
                            del self.members[member]
            self.block_of = {m: block for block, names in self.members.items() for m in names}
        # Blocks sit at fixed pitches along and across the flow that the widest and tallest
        # block and the longest label decide, so an edit that changes one block's size moves no
        # other block (a new widest or tallest block moves them all, as a fresh drawing would
        # place them). Going right, the labels are turned under each block; going down, they
        # stand beside it.
        sizes = [(entry[1], entry[2]) for entry in entries]
        widest = max(size[0] for size in sizes)
        tallest = max(size[1] for size in sizes)
        changed = None if not same_graph or drawn is None else drawn.changed(entries)
        longest = self._longest(entries, changed, label_font)
        if same_graph and drawn is not None and drawn.layout.exact:
            layout = drawn.layout
        else:
            layout = graph_layout.layered_layout(spec, import_now=False) if shown is None \
                else graph_layout.structure_layout(shown[1], import_now=False)
        if not layout.exact:
            warm_up.when_ready(self._layout_ready)
        placement = (sizes, longest, line)
        if same_graph and drawn is not None and drawn.layout is layout and \
                drawn.placement == placement:
            placed = drawn.placed  # no block changed size: every block stays where it is
        else:
            changed = None
            rank_pitch, lane_pitch, origin = pitches(layout, sizes, longest, line,
                                                     self.direction)
            placed = graph_layout.place(layout, sizes, rank_pitch, lane_pitch, self.direction,
                                        origin)
        self._graph = DrawnGraph(spec, collapsed, self.direction, shown, layout, entries,
                                 placement, placed)
        geometry = (self.direction, widest, tallest, line)
        looks = self._looks
        centers = placed.centers
        for index in range(len(entries)) if changed is None else changed:
            entry, center = entries[index], centers[index]
            name = entry[0]
            look = looks.get(name)
            if look is None or look[2] != geometry or (look[0] is not entry and
                                                       look[0] != entry):
                looks[name] = (entry, center, geometry)
                self._place(entry, center, label_font, text_color, geometry)
            elif look[1] != center:  # the same look elsewhere (a layer added or removed)
                looks[name] = (look[0], center, geometry)
                self._move(entry, center, geometry)
        if changed is None:  # blocks may have moved, or the graph changed
            nodes = [entry[0] for entry in entries]
            self.edge_names = [(nodes[source], nodes[target])
                               for source, target in layout.edges]
            paths = list(placed.paths)
            # compared one by one there (comparing the lists first went over the connections
            # before a deleted layer twice)
            update_arcs(self.scene_, self.arcs, self._arc_ends, paths, self.direction)
            self._arc_ends = paths
        self.editor.forget_missing()
        if self.selected_edge is not None:
            if self.selected_edge not in self.edge_names:
                self.selected_edge = None
            self._mark_edge()
        self._highlight()
        bounds = self._bounds(placed, longest, line)
        if bounds != self.scene_.sceneRect():
            self.scene_.setSceneRect(bounds)
        if self._fit_pending and self.isVisible():
            self.fit_model()
        self.rebuilt.emit()

    def _layout_ready(self) -> None:
        """igraph has loaded: the provisional layout gives way to the layered one."""
        if self.blocks:
            self.rebuild()

    def set_direction(self, direction: Direction) -> None:
        """Flow top-to-bottom ("down") or left-to-right ("right"); drawn afresh and fitted."""
        if direction == self.direction:
            return
        self.direction = direction
        self.new_model()
        self.rebuild()
        self.direction_changed.emit(direction)

    def find_layer(self, text: str) -> str | None:
        """Select and show the layer named ``text`` (or else the first whose name contains it,
        ignoring case); None when no layer matches."""
        wanted = text.strip()
        if not wanted:
            return None
        names = [layer.name for layer in self.document.spec.layers]
        match = wanted if wanted in names else next(
            (name for name in names if wanted.lower() in name.lower()), None)
        if match is None:
            return None
        self.document.select(match)
        block = self.blocks.get(self.block_of.get(match, match))
        if block is not None:
            self.show_readable(block)
        return match

    def _forget_removed(self, names: set[str]) -> None:
        """Take the items of blocks no longer drawn off the scene."""
        for name in [name for name in self.blocks if name not in names]:
            self.scene_.removeItem(self.blocks.pop(name))
            for item in self.labels.pop(name):
                self.scene_.removeItem(item)
            self._looks.pop(name, None)
            self._entries.pop(name, None)
            if self._selected == name:
                self._selected = ""

    def _bounds(self, placed: graph_layout.Placement, longest: float, line: float) -> QRectF:
        """The drawing's extent: the lanes and ranks, with the labels past the last ones."""
        if self.direction == "right":
            reach = longest * math.cos(math.radians(LABEL_ROTATION)) + line * 2
            return QRectF(-20, -20, placed.width + reach + 40, placed.height + 40)
        return QRectF(-20, -20, placed.width + 40, placed.height + 40)

    def _longest(self, entries: list[Entry], changed: list[int] | None, font: QFont) -> float:
        """The longest label or shape text of ``entries``; with ``changed`` (the indices of
        the entries that differ from those drawn) only theirs are measured, unless one of
        the texts they replace was the longest."""
        drawn = self._graph
        if changed is not None and drawn is not None:
            before = drawn.longest
            if all(self._text_width(drawn.entries[i][4], font) < before and
                   self._text_width(drawn.entries[i][5], font) < before for i in changed):
                return max([before, *(self._text_width(entries[i][4], font) for i in changed),
                            *(self._text_width(entries[i][5], font) for i in changed)])
        longest = 0.0
        widths = self._text_widths  # (looked up inline: a delete measures all 1,000 texts)
        for entry in entries:
            for text in (entry[4], entry[5]):
                width = widths.get(text)
                if width is None:
                    width = self._text_width(text, font)
                if width > longest:
                    longest = width
        return longest

    def _text_width(self, text: str, font: QFont) -> float:
        width = self._text_widths.get(text)
        if width is None:
            width = self._text_widths[text] = QFontMetricsF(font).horizontalAdvance(text)
        return width

    def _place(self, entry: Entry, center: tuple[float, float], font: QFont,
                text_color: QColor, geometry: tuple[object, ...]) -> None:
        """Create the block of ``entry``, or move and restyle the one drawn before (called
        only when its place or look changed)."""
        name, _width, _height, color, label, shape, style = entry
        rect = self.blocks.get(name)
        rotation = LABEL_ROTATION if self.direction == "right" else 0.0
        if rect is None:
            rect = QGraphicsRectItem()
            rect.setData(0, name)
            self.scene_.addItem(rect)
            self.blocks[name] = rect
            texts = []
            for row, text in enumerate((label, shape)):
                item = QGraphicsSimpleTextItem(text)
                item.setFont(font)
                item.setBrush(QBrush(text_color if row == 0 else
                                     secondary_text_color(self.palette())))
                item.setData(0, name)
                self.scene_.addItem(item)
                texts.append(item)
            self.labels[name] = (texts[0], texts[1])
        for item in self.labels[name]:
            if item.rotation() != rotation:
                item.setRotation(rotation)
        fill = QColor(color)
        fill.setAlpha(210)
        rect.setBrush(QBrush(fill))
        selected = name in self._marked
        rect.setPen(self._pen(color, style, selected))
        rect.setToolTip(f"{label}: {shape}")
        for item, text in zip(self.labels[name], (label, shape), strict=True):
            if item.text() != text:  # a frozen layer's ❄, a new shape
                item.setText(text)
        self._move(entry, center, geometry)

    def _move(self, entry: Entry, center: tuple[float, float],
              geometry: tuple[object, ...]) -> None:
        """Put the block of ``entry`` and its labels at ``center`` (its look unchanged)."""
        name, width, height = entry[0], entry[1], entry[2]
        cx, cy = center
        self.blocks[name].setRect(cx - width / 2, cy - height / 2, width, height)
        name_item, shape_item = self.labels[name]
        (name_dx, name_dy), (shape_dx, shape_dy) = self._label_offsets(geometry)
        name_item.setPos(cx + name_dx, cy + name_dy)
        shape_item.setPos(cx + shape_dx, cy + shape_dy)

    def _label_offsets(self, geometry: tuple[object, ...]
                       ) -> tuple[tuple[float, float], tuple[float, float]]:
        """Where a block's name and shape texts sit from its centre (the same for every block
        of one drawing: worked out once, not for each of the ~220 blocks a delete moves)."""
        kept = self._offsets
        if kept is not None and kept[0] == geometry:
            return kept[1]
        direction, widest, tallest, line = geometry
        assert isinstance(widest, float) and isinstance(tallest, float)
        assert isinstance(line, float)
        offsets: tuple[tuple[float, float], tuple[float, float]]
        if direction == "right":
            # under the tallest block of the lane, turned; the shape one line across the text
            angle = math.radians(LABEL_ROTATION)
            top = tallest / 2 + 6
            left = -line * 0.4 * math.sin(angle)
            offsets = ((left, top), (left + line * math.sin(angle), top - line * math.cos(angle)))
        else:  # beside the widest block of the lane, level
            left = widest / 2 + 8
            offsets = ((left, -line), (left, 0.0))
        self._offsets = (geometry, offsets)
        return offsets

    def _pen(self, color: QColor, style: Qt.PenStyle, selected: bool) -> QPen:
        if selected:
            return QPen(QColor("#ffffff") if self._dark() else QColor("#111111"), 3.5, style)
        return QPen(color.darker(140), 1.2, style)

    def _highlight(self) -> None:
        """Thicken the selected block's outline; only the old and new selection change."""
        current = self.block_of.get(self.document.current, self.document.current)
        marked = {n for n in (current, *self.editor.selection) if n in self.blocks}
        for name in self._marked | marked:
            rect = self.blocks.get(name)
            look = self._looks.get(name)
            if rect is None or look is None:
                continue
            entry = look[0]
            rect.setPen(self._pen(entry[3], entry[6], name in marked))  # type: ignore[index]
        self._marked = marked
        self._selected = current if current in self.blocks else ""
        chosen = tuple(self.editor.selection)
        if chosen != self._emitted_selection:
            self._emitted_selection = chosen
            self.selection_changed.emit()
        if not self.ports.active:
            self.ports.show_on(self.ports.source if self.ports.source in self.blocks
                               else self._selected)
        block = self.blocks.get(current)
        if block is not None and not self._fit_pending:
            self.ensureVisible(block, 40, 20)

    def _dark(self) -> bool:
        return self.palette().base().color().lightness() < 100

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        if self._stale or self._fit_pending:
            self.rebuild()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # a theme's palette reaches the view after the window's rebuild read the old one (the
        # dark theme kept black labels): the labels follow it (drawn afresh only if changed)
        if event.type() == QEvent.Type.PaletteChange and self._drawn:
            self.rebuild()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.editor.press(event):
            super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        """On a collapsed group's name: rename it; elsewhere on a group: open it (on a layer
        of an open group: close it)."""
        item = self.itemAt(event.position().toPoint())
        name = str(item.data(0)) if item is not None and item.data(0) else ""
        if name and item is self.labels.get(name, (None,))[0] and \
                any(g.name == name for g in self.document.spec.groups):
            self.editor.click(name, False)
            self.editor.rename_group(name, where=event.globalPosition().toPoint())
            event.accept()
            return
        if not name or not self.editor.toggle_group(name):
            super().mouseDoubleClickEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right-click on a block: freeze up to here, freeze this group, unfreeze all."""
        self.last_menu = self.editor.menu_at(event.pos())
        self.last_menu.exec(event.globalPos())

    def select_edge(self, edge: tuple[str, str] | None) -> None:
        """Mark the connection ``edge`` (source, target) as selected: Delete removes it."""
        self.selected_edge = edge
        self._mark_edge()

    def _mark_edge(self) -> None:
        for index, arc in enumerate(self.arcs):
            chosen = index < len(self.edge_names) and self.edge_names[index] == \
                self.selected_edge
            width = 3.5 if chosen else 1.6
            if arc.pen().widthF() != width:
                arc.setPen(QPen(QColor("#111111" if not self._dark() else "#ffffff")
                                if chosen else QColor("#c8553d"), width))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and \
                self.selected_edge is not None:
            self.delete_selected_edge()
            event.accept()
            return
        if self.editor.key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def delete_selected_edge(self) -> bool:
        """Remove the selected connection through the document; False when none is selected
        (or it cannot go: the reason is in the status line)."""
        edge, self.selected_edge = self.selected_edge, None
        return edge is not None and self.document.disconnect_layers(*edge)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        scene_pos = self.mapToScene(event.position().toPoint())
        if self.ports.active:
            self.ports.follow(scene_pos)
            event.accept()
            return
        if event.buttons() == Qt.MouseButton.NoButton:
            item = self.itemAt(event.position().toPoint())
            name = item.data(0) if item is not None else None
            if name and name in self.blocks and name != self.ports.source:
                self.ports.show_on(str(name))
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.ports.active:
            self.ports.finish(self.mapToScene(event.position().toPoint()),
                              event.globalPosition().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self.editor.band_release(event)

    # -- palette types dropped on the diagram (app.build.diagram_connect.drop_type) ---------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not accept_palette(event):
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if not accept_palette(event):
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        if not accept_palette(event):
            super().dropEvent(event)
            return
        type_name = bytes(event.mimeData().data(TYPE_MIME).data()).decode()
        drop_type(self, type_name, self.mapToScene(event.position().toPoint()),
                  self.viewport().mapToGlobal(event.position().toPoint()))

    def export(self, path: Path, scale: float = 2.0) -> None:
        """Save the whole diagram as PNG (at ``scale``) or SVG, by the file's extension."""
        if self._stale:
            self.rebuild()
        export_scene(self.scene_, self.document.spec.name, self.palette().base().color(),
                     path, scale)

"""The labelling canvas: the photo, its mask and boxes at screen resolution, and the tools.

The photo is drawn from a pyramid of halved copies (the level just above the zoom, only the
visible part), the mask from an ARGB overlay of the full-resolution mask sampled at the
screen's pixels, so a frame costs the screen's pixels, not the photo's. An edit changes the
mask in its bounding box only (core.labels.mask_edits) and the overlay in that rectangle.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from core.labels.label_set import PALETTE, Box, ImageLabels
from core.labels.proposals import Proposal

TOOLS = ("box", "brush", "eraser", "polygon", "fill", "grow", "superpixel", "pan")
FITTED_PIXELS = 4_000_000
"""The largest zoomed-out photo kept scaled to the zoom (16 MB), about two 1920×1080 screens."""
HANDLE_PX = 7
"""Half the side of a box's corner handle, in screen pixels."""


def qimage(array: np.ndarray) -> QImage:
    """An (H, W, 3) uint8 array as a QImage owning a copy."""
    h, w = array.shape[:2]
    data = np.ascontiguousarray(array)
    return QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def pyramid(image: np.ndarray, smallest: int = 512) -> list[np.ndarray]:
    """The image and its halved copies (2×2 means) down to ``smallest`` pixels a side."""
    levels = [image]
    while max(levels[-1].shape[:2]) > smallest:
        top = levels[-1]
        h, w = top.shape[0] // 2 * 2, top.shape[1] // 2 * 2
        half = top[:h, :w].reshape(h // 2, 2, w // 2, 2, -1).mean(axis=(1, 3))
        levels.append(half.astype(np.uint8))
    return levels


class LabelCanvas(QWidget):
    """Shows one image's labels and turns mouse and keys into edits, which it hands to
    ``on_patch`` (mask) and ``on_boxes`` (the box list before, after) for undo commands."""

    view_changed = Signal()
    grow_requested = Signal(int, int)
    """Grow region / superpixel at (x, y) in the image's pixels: the tab runs it on the worker."""
    superpixel_stroke = Signal(object)
    """Points (x, y) under the superpixel brush, at the release."""
    clicked = Signal(float, float)
    """A click (no drag) with the box or pan tool that drew nothing, at (x, y) in the image's
    pixels: the tab selects the model's proposal there."""

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(320, 240)
        self.item: ImageLabels | None = None
        self.levels: list[QImage] = []
        self.overlay: QImage | None = None
        self._overlay_bits: np.ndarray | None = None
        self.colours: list[tuple[int, int, int]] = []
        self.tool = "box"
        self.current_class = 0
        self.brush_px = 20.0
        """The brush's diameter on the screen; in the image it is this over the zoom."""
        self.opacity = 0.5
        self.zoom = 1.0
        self.offset = QPointF(0, 0)
        """Where the image's (0, 0) is drawn, in widget pixels."""
        self.selected: int | None = None
        self.on_patch: Callable[..., None] = lambda _p: None
        self.on_boxes: Callable[[list[Box], list[Box], str], None] = lambda _b, _a, _t: None
        self.proposals: list[Proposal] = []
        self.proposal: Proposal | None = None
        """The selected proposal (drawn brighter, outlined)."""
        self._region_images: dict[int, tuple[np.ndarray, QImage]] = {}
        self._drag: str | None = None
        self._press = QPointF()
        self._stroke: list[tuple[float, float]] = []
        self._boxes_before: list[Box] = []
        self._polygon: list[tuple[float, float]] = []
        self._hover = QPointF()
        self._fitted: tuple[tuple[int, int, int], QImage] | None = None

    # -- what is shown ----------------------------------------------------------------------
    def show_image(self, item: ImageLabels, levels: list[np.ndarray]) -> None:
        self.item = item
        self.levels = [qimage(level) for level in levels]
        self.selected, self._polygon = None, []
        self.show_proposals([], None)
        self._overlay_bits = np.zeros((item.height, item.width), np.uint32)
        self.overlay = QImage(self._overlay_bits.data, item.width, item.height, 4 * item.width,
                              QImage.Format.Format_ARGB32_Premultiplied)
        self.refresh_overlay()
        self.fit()

    def show_proposals(self, proposals: list[Proposal], selected: Proposal | None) -> None:
        """The model's proposals: boxes dashed, regions filled at half the opacity; the
        selected one brighter and outlined in white."""
        self.proposals, self.proposal = list(proposals), selected
        keep = {id(p) for p in proposals}
        self._region_images = {k: v for k, v in self._region_images.items() if k in keep}
        self.update()

    def _region_image(self, proposal: Proposal) -> QImage:
        """A region proposal's colour image (its bounding box only), made once."""
        found = self._region_images.get(id(proposal))
        if found is None:
            assert proposal.region is not None
            # the model's class in the label class's colour; a class the labels lack yet in
            # the colour it will get (not white, which hides on a bright photo)
            r, g, b = (self.colours[proposal.label] if proposal.label < len(self.colours)
                       else PALETTE[proposal.label % len(PALETTE)])
            colour = np.uint32(0xFF000000 | (r << 16) | (g << 8) | b)
            bits = np.ascontiguousarray(np.where(proposal.region, colour, np.uint32(0)))
            h, w = bits.shape
            found = (bits, QImage(bits.data, w, h, 4 * w, QImage.Format.Format_ARGB32))
            self._region_images[id(proposal)] = found
        return found[1]

    def drawing_polygon(self) -> bool:
        return bool(self._polygon)

    def clear(self) -> None:
        self.item, self.levels, self.overlay, self._overlay_bits = None, [], None, None
        self.update()

    def set_colours(self, colours: list[tuple[int, int, int]]) -> None:
        self.colours = colours
        self.refresh_overlay()

    def _lut(self) -> np.ndarray:
        lut = np.zeros(256, np.uint32)
        for i, (r, g, b) in enumerate(self.colours[:254]):
            lut[i + 1] = (0xFF << 24) | (r << 16) | (g << 8) | b
        return lut

    def refresh_overlay(self, rect: tuple[int, int, int, int] | None = None) -> None:
        """Recolour the overlay from the mask in ``rect`` (x, y, w, h; None: all)."""
        if self.item is None or self._overlay_bits is None:
            return
        if self.item.mask is None:
            self._overlay_bits[:] = 0
        else:
            x, y, w, h = rect or (0, 0, self.item.width, self.item.height)
            self._overlay_bits[y:y + h, x:x + w] = self._lut()[self.item.mask[y:y + h, x:x + w]]
        self.update()

    # -- view -----------------------------------------------------------------------------
    def fit(self) -> None:
        if self.item is None:
            return
        self.zoom = min(self.width() / self.item.width, self.height() / self.item.height) * 0.98
        self.offset = QPointF((self.width() - self.item.width * self.zoom) / 2,
                              (self.height() - self.item.height * self.zoom) / 2)
        self.update()
        self.view_changed.emit()

    def zoom_at(self, factor: float, at: QPointF) -> None:
        image_point = self.to_image(at)
        self.zoom = min(64.0, max(0.02, self.zoom * factor))
        self.offset = at - image_point * self.zoom
        self.update()
        self.view_changed.emit()

    def to_image(self, point: QPointF) -> QPointF:
        return (point - self.offset) / self.zoom

    def to_screen(self, x: float, y: float) -> QPointF:
        return QPointF(x, y) * self.zoom + self.offset

    def resizeEvent(self, event: object) -> None:
        if self.item is not None and not self._drag:
            self.fit()

    # -- painting: the screen's pixels only -------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(self.backgroundRole()).darker(115))
        if self.item is None or not self.levels:
            # the canvas is disabled without an image: its disabled text colour was grey on
            # grey (~1.6:1); the hint is what a user reads first, in the active colour
            painter.setPen(self.palette().color(QPalette.ColorGroup.Active,
                                                QPalette.ColorRole.WindowText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "Open a folder of images to label (Open folder…)")
            return
        item = self.item
        shown = QRectF(self.to_image(QPointF(0, 0)), self.to_image(
            QPointF(self.width(), self.height()))).intersected(QRectF(0, 0, item.width,
                                                                     item.height))
        if shown.isEmpty():
            return
        target = QRectF(self.to_screen(shown.left(), shown.top()),
                        self.to_screen(shown.right(), shown.bottom()))
        level = 0
        while level + 1 < len(self.levels) and self.zoom * 2 ** (level + 1) <= 1.0:
            level += 1
        scale = self.levels[level].width() / item.width
        source = QRectF(shown.left() * scale, shown.top() * scale, shown.width() * scale,
                        shown.height() * scale)
        fitted = self._fitted_photo(level)
        if fitted is not None:  # the whole photo at this zoom, scaled once: a pan is a blit
            painter.drawImage(self.offset, fitted)
        else:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 1)
            painter.drawImage(target, self.levels[level], source)
        if self.overlay is not None and item.mask is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            painter.setOpacity(self.opacity)
            painter.drawImage(target, self.overlay, shown)
            painter.setOpacity(1.0)
        self._paint_region_proposals(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for k, box in enumerate(item.boxes):
            self._draw_box(painter, box, k == self.selected, Qt.PenStyle.SolidLine)
        for proposal in self.proposals:
            if proposal.box is not None:
                self._draw_box(painter, proposal.box, proposal is self.proposal,
                               Qt.PenStyle.DashLine)
        if self.proposal is not None:
            x1, y1, x2, y2 = self.proposal.bounds()
            painter.setPen(QPen(QColor(255, 255, 255), 2, Qt.PenStyle.DotLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.to_screen(x1, y1), self.to_screen(x2, y2)).adjusted(
                -3, -3, 3, 3))
        if self._polygon:
            painter.setPen(QPen(QColor(255, 255, 255), 2, Qt.PenStyle.DashLine))
            points = [self.to_screen(x, y) for x, y in self._polygon] + [self._hover]
            for a, b in itertools.pairwise(points):
                painter.drawLine(a, b)
        if self.tool in ("brush", "eraser", "superpixel") and self.underMouse():
            painter.setPen(QPen(QColor(255, 255, 255), 1))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(self._hover, self.brush_px / 2, self.brush_px / 2)

    def _paint_region_proposals(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        for proposal in self.proposals:
            if proposal.region is None:
                continue
            x1, y1, x2, y2 = proposal.bounds()
            painter.setOpacity(0.85 if proposal is self.proposal else 0.45)
            painter.drawImage(QRectF(self.to_screen(x1, y1), self.to_screen(x2, y2)),
                              self._region_image(proposal))
        painter.setOpacity(1.0)

    def _fitted_photo(self, level: int) -> QImage | None:
        """The photo scaled to the zoom, kept while the zoom stays, when it is no larger than
        FITTED_PIXELS (zoomed out: panning and brushing then copy pixels, never rescale)."""
        assert self.item is not None
        w, h = round(self.item.width * self.zoom), round(self.item.height * self.zoom)
        if self.zoom >= 1 or w * h > FITTED_PIXELS or w < 1 or h < 1:
            return None
        key = (id(self.levels[level]), w, h)
        if self._fitted is None or self._fitted[0] != key:
            scaled = self.levels[level].scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio,
                                               Qt.TransformationMode.SmoothTransformation)
            self._fitted = (key, scaled)
        return self._fitted[1]

    def _colour(self, label: int) -> QColor:
        r, g, b = self.colours[label] if 0 <= label < len(self.colours) else (255, 255, 255)
        return QColor(r, g, b)

    def _draw_box(self, painter: QPainter, box: Box, selected: bool, style: Qt.PenStyle) -> None:
        colour = self._colour(box.label)
        painter.setPen(QPen(colour, 3 if selected else 2, style))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(self.to_screen(box.x1, box.y1), self.to_screen(box.x2, box.y2))
        painter.drawRect(rect)
        if selected:
            painter.setBrush(colour)
            for corner in (rect.topLeft(), rect.topRight(), rect.bottomLeft(),
                           rect.bottomRight()):
                painter.drawRect(QRectF(corner.x() - HANDLE_PX, corner.y() - HANDLE_PX,
                                        2 * HANDLE_PX, 2 * HANDLE_PX))

    # -- boxes ------------------------------------------------------------------------------
    def _hit(self, point: QPointF) -> tuple[int | None, str]:
        """The box under ``point`` and what of it: a corner ('tl', 'tr', 'bl', 'br') or 'move'."""
        assert self.item is not None
        order = list(range(len(self.item.boxes)))
        if self.selected is not None and self.selected in order:
            order.remove(self.selected)
            order.insert(0, self.selected)
        for k in order:
            box = self.item.boxes[k]
            corners = {"tl": (box.x1, box.y1), "tr": (box.x2, box.y1), "bl": (box.x1, box.y2),
                       "br": (box.x2, box.y2)}
            for name, (x, y) in corners.items():
                corner = self.to_screen(x, y)
                if abs(corner.x() - point.x()) <= HANDLE_PX + 2 and abs(
                        corner.y() - point.y()) <= HANDLE_PX + 2:
                    return k, name
        p = self.to_image(point)
        for k in order:
            box = self.item.boxes[k]
            if box.x1 <= p.x() <= box.x2 and box.y1 <= p.y() <= box.y2:
                return k, "move"
        return None, ""

    def _copy_boxes(self) -> list[Box]:
        assert self.item is not None
        return [Box(b.label, b.x1, b.y1, b.x2, b.y2) for b in self.item.boxes]

    def _boxes_done(self, text: str) -> None:
        assert self.item is not None
        after = self._copy_boxes()
        if [vars(b) for b in after] != [vars(b) for b in self._boxes_before]:
            self.on_boxes(self._boxes_before, after, text)

    def nudge(self, dx: float, dy: float) -> None:
        if self.item is None or self.selected is None:
            return
        self._boxes_before = self._copy_boxes()
        box = self.item.boxes[self.selected]
        dx = min(max(dx, -box.x1), self.item.width - box.x2)
        dy = min(max(dy, -box.y1), self.item.height - box.y2)
        box.x1, box.x2, box.y1, box.y2 = box.x1 + dx, box.x2 + dx, box.y1 + dy, box.y2 + dy
        self._boxes_done("Nudge box")
        self.update()

    def delete_selected(self) -> None:
        if self.item is None or self.selected is None:
            return
        self._boxes_before = self._copy_boxes()
        del self.item.boxes[self.selected]
        self.selected = None
        self._boxes_done("Delete box")
        self.update()

    # -- mouse and keys ---------------------------------------------------------------------
    def _image_xy(self, point: QPointF) -> tuple[float, float]:
        p = self.to_image(point)
        return p.x(), p.y()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        if self.item is None:
            return
        point = event.position()
        self._press = point
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton) or (
                self.tool == "pan"):
            self._drag = "pan"
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        x, y = self._image_xy(point)
        inside = 0 <= x < self.item.width and 0 <= y < self.item.height
        if self.tool == "box":
            self._boxes_before = self._copy_boxes()
            k, part = self._hit(point)
            if k is not None:
                self.selected, self._drag = k, part
            else:
                self.item.boxes.append(Box(self.current_class, x, y, x, y))
                self.selected, self._drag = len(self.item.boxes) - 1, "br"
            self.update()
        elif self.tool in ("brush", "eraser", "superpixel"):
            self._drag = self.tool
            self._stroke = [(x, y)]
            if self.tool != "superpixel":
                self._paint_stroke()
        elif self.tool == "polygon" and inside:
            self._polygon.append((x, y))
            self.update()
        elif self.tool in ("fill", "grow") and inside:
            self.grow_requested.emit(int(x), int(y))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        point = event.position()
        previous, self._hover = self._hover, point
        if self.item is None:
            return
        if self._drag == "pan":
            self.offset += point - self._press
            self._press = point
            self.view_changed.emit()
        elif self._drag in ("brush", "eraser", "superpixel"):
            self._stroke.append(self._image_xy(point))
            if self._drag != "superpixel":
                self._paint_stroke()
        elif self._drag and self.selected is not None:
            box = self.item.boxes[self.selected]
            x, y = self._image_xy(point)
            x = min(max(x, 0.0), float(self.item.width))
            y = min(max(y, 0.0), float(self.item.height))
            if self._drag == "move":
                p = self._image_xy(self._press)
                self._press = point
                self.nudge_live(box, x - p[0], y - p[1])
            else:
                if "l" in self._drag:
                    box.x1 = x
                else:
                    box.x2 = x
                if "t" in self._drag:
                    box.y1 = y
                else:
                    box.y2 = y
        else:
            if self.tool in ("brush", "eraser", "superpixel", "polygon"):
                self.update(self._cursor_rect(previous).united(self._cursor_rect(point)))
            return
        self.update()

    def _cursor_rect(self, point: QPointF) -> QRect:
        r = int(self.brush_px / 2) + 3
        if self._polygon:
            return self.rect()
        return self.rect().intersected(
            QRectF(point.x() - r, point.y() - r, 2 * r, 2 * r).toAlignedRect())

    def nudge_live(self, box: Box, dx: float, dy: float) -> None:
        assert self.item is not None
        dx = min(max(dx, -box.x1), self.item.width - box.x2)
        dy = min(max(dy, -box.y1), self.item.height - box.y2)
        box.x1, box.x2, box.y1, box.y2 = box.x1 + dx, box.x2 + dx, box.y1 + dy, box.y2 + dy

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        drag, self._drag = self._drag, None
        if self.item is None or drag is None:
            return
        if drag in ("brush", "eraser"):
            self._stroke = []
        elif drag == "superpixel":
            points, self._stroke = self._stroke, []
            self.superpixel_stroke.emit(points)
        elif drag != "pan" and self.selected is not None:
            box = self.item.boxes[self.selected]
            fixed = box.clipped(self.item.width, self.item.height)
            box.x1, box.y1, box.x2, box.y2 = fixed.x1, fixed.y1, fixed.x2, fixed.y2
            if box.is_empty():
                del self.item.boxes[self.selected]
                self.selected = None
            self._boxes_done("Draw box" if len(self.item.boxes) > len(self._boxes_before)
                             else "Adjust box")
        moved = event.position() - self._press
        if (self.tool in ("box", "pan") and self.selected is None and event.button() ==
                Qt.MouseButton.LeftButton and abs(moved.x()) + abs(moved.y()) < 4):
            self.clicked.emit(*self._image_xy(event.position()))
        self.update()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if self.tool == "polygon":
            self.close_polygon()

    def close_polygon(self) -> None:
        from core.labels import mask_edits

        points, self._polygon = self._polygon, []
        if self.item is not None and len(points) >= 3:
            patch = mask_edits.polygon(self.item.mask_or_empty(), points,
                                       self.current_class + 1)
            if patch is not None:
                self.on_patch(patch)
        self.update()

    def _paint_stroke(self) -> None:
        from core.labels import mask_edits

        assert self.item is not None
        points = self._stroke[-2:]
        value = 0 if self._drag == "eraser" else self.current_class + 1
        patch = mask_edits.stroke(self.item.mask_or_empty(), points,
                                  self.brush_px / 2 / self.zoom, value)
        if patch is not None:
            self.on_patch(patch)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.zoom_at(1.25 ** steps, event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        step = 10.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1.0
        arrows: dict[int, tuple[float, float]] = {
            Qt.Key.Key_Left: (-step, 0.0), Qt.Key.Key_Right: (step, 0.0),
            Qt.Key.Key_Up: (0.0, -step), Qt.Key.Key_Down: (0.0, step)}
        if key in arrows and self.selected is not None:
            self.nudge(*arrows[key])
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._polygon:
            self.close_polygon()
        elif key == Qt.Key.Key_Escape:
            self._polygon, self.selected = [], None
            self.update()
        else:
            super().keyPressEvent(event)

"""Undo commands of one image's labels: mask patches (one brush stroke is one step) and box
list changes. Each image has its own QUndoStack; the tab makes the shown image's active."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from core.labels.label_set import Box, ImageLabels
from core.labels.mask_edits import Patch

MASK_ID = 2201


class MaskEdit(QUndoCommand):
    def __init__(self, item: ImageLabels, patch: Patch, text: str, stroke: int,
                 changed: Callable[[tuple[int, int, int, int] | None], None]) -> None:
        super().__init__(text)
        self.item, self.patches, self.stroke, self.changed = item, [patch], stroke, changed

    def redo(self) -> None:
        mask = self.item.mask_or_empty()
        for patch in self.patches:
            patch.apply(mask)
        self._done()

    def undo(self) -> None:
        mask = self.item.mask_or_empty()
        for patch in reversed(self.patches):
            patch.apply(mask, undo=True)
        self._done()

    def _done(self) -> None:
        self.item.touch()
        xs = [p.rect for p in self.patches]
        x0, y0 = min(r[0] for r in xs), min(r[1] for r in xs)
        x1, y1 = max(r[0] + r[2] for r in xs), max(r[1] + r[3] for r in xs)
        self.changed((x0, y0, x1 - x0, y1 - y0) if len(self.patches) < 50 else None)

    def id(self) -> int:
        return MASK_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MaskEdit) or other.stroke != self.stroke or (
                other.item is not self.item):
            return False
        self.patches.extend(other.patches)
        return True


class BoxEdit(QUndoCommand):
    def __init__(self, item: ImageLabels, before: list[Box], after: list[Box], text: str,
                 changed: Callable[[], None]) -> None:
        super().__init__(text)
        self.item, self.before, self.after, self.changed = item, before, after, changed

    def _set(self, boxes: list[Box]) -> None:
        self.item.boxes = [Box(b.label, b.x1, b.y1, b.x2, b.y2) for b in boxes]
        self.item.touch()
        self.changed()

    def redo(self) -> None:
        self._set(self.after)

    def undo(self) -> None:
        self._set(self.before)

"""Undo commands of the labels: mask patches (one brush stroke is one step), box list changes,
accepting or rejecting one of the model's proposals, and deleting a class. Each image has its
own QUndoStack; the tab makes the shown image's active. A class delete is a step of the image
shown when it was made: it renumbers every image's classes, so the other images' undo histories
(whose steps hold the old numbers) end there, and again when it is undone."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtGui import QUndoCommand

from core.labels.label_set import Box, ImageLabels, LabelSet
from core.labels.mask_edits import Patch
from core.labels.proposals import Proposal

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


class ProposalEdit(QUndoCommand):
    """Accept or reject one of the model's proposals: it leaves the pending list, and an accept
    also makes the label edit ``inner`` (a box or a mask patch); undo puts both back."""

    def __init__(self, pending: list[Proposal], proposal: Proposal, inner: QUndoCommand | None,
                 text: str, changed: Callable[[], None]) -> None:
        super().__init__(text)
        self.pending, self.proposal, self.inner, self.changed = pending, proposal, inner, changed
        self.index = pending.index(proposal)

    def redo(self) -> None:
        self.pending.remove(self.proposal)
        if self.inner is not None:
            self.inner.redo()
        self.changed()

    def undo(self) -> None:
        if self.inner is not None:
            self.inner.undo()
        self.pending.insert(min(self.index, len(self.pending)), self.proposal)
        self.changed()


class DeleteClass(QUndoCommand):
    """Delete a class with its boxes and pixels in every image (later classes move down one);
    undo restores the class and, in each image, its boxes (where they were in the list), its
    pixels (those still background: paint made since stays) and the status the delete changed.
    Masks keep one bit per pixel of the deleted class, for the images that held any."""

    def __init__(self, labels: LabelSet, index: int, changed: Callable[[], None]) -> None:
        super().__init__(f'Delete class "{labels.classes[index].name}"')
        self.labels, self.index, self.changed = labels, index, changed
        self.cls = labels.classes[index]
        self.boxes: dict[str, list[tuple[int, Box]]] = {}
        self.pixels: dict[str, np.ndarray] = {}
        self.status: dict[str, tuple[str, str]] = {}

    def redo(self) -> None:
        value = self.index + 1
        self.boxes.clear()
        self.pixels.clear()
        self.status.clear()
        before = {name: item.status for name, item in self.labels.images.items()}
        for name, item in self.labels.images.items():
            gone = [(k, Box(b.label, b.x1, b.y1, b.x2, b.y2))
                    for k, b in enumerate(item.boxes) if b.label == self.index]
            if gone:
                self.boxes[name] = gone
            if item.mask is not None:
                hit = item.mask == value
                if hit.any():
                    self.pixels[name] = np.packbits(hit)
        self.labels.delete_class(self.index)
        for name, item in self.labels.images.items():
            if item.status != before[name]:
                self.status[name] = (before[name], item.status)
        self.changed()

    def undo(self) -> None:
        value = self.index + 1
        self.labels.classes.insert(self.index, self.cls)
        for name, item in self.labels.images.items():
            if item.mask is not None:
                mask = item.mask
                mask[mask >= value] += 1
                if name in self.pixels:
                    hit = np.unpackbits(self.pixels[name], count=mask.size).reshape(mask.shape)
                    mask[hit.astype(bool) & (mask == 0)] = value
            boxes = [Box(b.label + (b.label >= self.index), b.x1, b.y1, b.x2, b.y2)
                     for b in item.boxes]
            for k, box in self.boxes.get(name, []):
                boxes.insert(min(k, len(boxes)), Box(box.label, box.x1, box.y1, box.x2, box.y2))
            item.boxes = boxes
            was, now = self.status.get(name, ("", ""))
            if was and item.status == now:
                item.status = was
        self.changed()

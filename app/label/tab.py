"""The Label tab: open a folder of images, label them with boxes and masks, let the open model
suggest, and hand the labelled images to the Train tab.

Every read, save, grown region and suggestion runs on the tab's worker queue (app/label/jobs.py:
latest request wins); one that takes over 200 ms shows progress and Cancel. The model's help
(suggestions reviewed one proposal at a time, the uncertainty order) is app/label/model_help.py.
Labels save themselves two seconds after the last edit, all-or-nothing (core.labels writes
through write_atomic). Deleting a class is one undo step (app/label/commands.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QUndoGroup, QUndoStack
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.label.canvas import LabelCanvas
from app.label.class_list import ClassList
from app.label.commands import BoxEdit, DeleteClass, MaskEdit
from app.label.jobs import LabelJobs, image_job, open_job, save_job, thumbnails_job
from app.label.model_help import ModelHelp
from app.label.thumbnails import ThumbnailStrip
from app.label.tool_row import FolderRow, ToolRow
from app.labels import WrappedLabel
from core.labels import mask_edits
from core.labels.label_set import Box, LabelSet

AUTOSAVE_MS = 2000


class LabelTab(QWidget):
    """The tab; ``train_requested(path)`` asks the window to train on the saved labels."""

    train_requested = Signal(str)
    saved = Signal(object)
    """The paths written by a save (autosave too)."""
    shown = Signal(str)
    """An image is on the canvas (its file name)."""

    def __init__(self, document: ModelDocument) -> None:
        super().__init__()
        self.document = document
        self.labels: LabelSet | None = None
        self.current: str | None = None
        self.image: np.ndarray | None = None
        self.stacks: dict[str, QUndoStack] = {}
        self.undo_group = QUndoGroup(self)
        self._superpixels: tuple[str, Any] | None = None
        self._stroke = 0
        self.message = WrappedLabel("")
        self.message.setObjectName("LabelMessage")
        self.jobs = LabelJobs(self, self.say)
        self.folder_row, self.tool_row = FolderRow(), ToolRow()
        self.canvas = LabelCanvas()
        self.classes = ClassList()
        self.thumbnails = ThumbnailStrip()
        self.help = ModelHelp(self, self)
        self._build()
        self._wire()
        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(lambda: self.save(voc=False))
        self._enable()

    # -- layout and wiring ----------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.folder_row)
        layout.addWidget(self.tool_row)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.canvas)
        side = QWidget()
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Classes (keys 1–9 pick)"))
        column.addWidget(self.classes, 1)
        column.addWidget(self.help.title)
        column.addWidget(self.help.list, 2)
        column.addWidget(self.message)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        layout.addWidget(self.thumbnails)
        bar = QHBoxLayout()
        bar.addWidget(self.jobs.progress, 1)
        bar.addWidget(self.jobs.cancel)
        layout.addLayout(bar)

    def _wire(self) -> None:
        f, t, c = self.folder_row, self.tool_row, self.canvas
        f.open.clicked.connect(self.open_dialog)
        f.save.clicked.connect(lambda: self.save(voc=True))
        f.train.clicked.connect(self.train_on_labels)
        f.status.activated.connect(lambda _i: self.set_status(f.status.currentText()))
        t.tool_chosen.connect(self._tool)
        t.brush_size.valueChanged.connect(self._brush_size)
        t.opacity.valueChanged.connect(self._opacity)
        t.fit.clicked.connect(c.fit)
        t.undo.clicked.connect(self.undo_group.undo)
        t.redo.clicked.connect(self.undo_group.redo)
        self.undo_group.canUndoChanged.connect(t.undo.setEnabled)
        self.undo_group.canRedoChanged.connect(t.redo.setEnabled)
        c.on_patch = self._patch
        c.on_boxes = self._boxes
        c.grow_requested.connect(self._grow)
        c.superpixel_stroke.connect(self._superpixel_stroke)
        self.classes.picked.connect(self._pick_class)
        self.classes.changed.connect(self._classes_changed)
        self.classes.delete_requested.connect(self.delete_class)
        self.thumbnails.chosen.connect(self.show_image)

    def _brush_size(self, value: int) -> None:
        self.canvas.brush_px = float(value)

    def _opacity(self, value: int) -> None:
        self.canvas.opacity = value / 100
        self.canvas.update()

    def _pick_class(self, index: int) -> None:
        self.canvas.current_class = index

    def _enable(self) -> None:
        has = self.labels is not None
        shown = self.current is not None
        f = self.folder_row
        for button in (f.save, f.train, f.next_uncertain):
            button.setEnabled(has)
        for widget in (f.suggest, f.status, self.canvas):
            widget.setEnabled(shown)
        self.help.show()
        self.tool_row.undo.setEnabled(self.undo_group.canUndo())
        self.tool_row.redo.setEnabled(self.undo_group.canRedo())

    def keyPressEvent(self, event: Any) -> None:
        if Qt.Key.Key_1 <= event.key() <= Qt.Key.Key_9 and not event.modifiers():
            self.classes.pick(event.key() - Qt.Key.Key_1)
        else:
            super().keyPressEvent(event)

    def _run(self, key: str, what: str, function: Callable[..., Any], *args: Any,
             done: Callable[[Any], None], quiet: bool = False) -> None:
        self.jobs.run(key, what, function, *args, done=done, quiet=quiet)

    def say(self, text: str) -> None:
        self.message.setText(text)

    def _thumbnail(self, pair: tuple[str, np.ndarray]) -> None:
        self.thumbnails.set_thumbnail(*pair)

    # -- the folder -----------------------------------------------------------------------
    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder of images to label")
        if folder:
            self.open_path(Path(folder))

    def open_path(self, path: Path) -> None:
        self.flush()
        self._run("open", "Reading the folder", open_job, path, done=self._opened)

    def _opened(self, labels: LabelSet) -> None:
        self.labels, self.current, self.image = labels, None, None
        self.stacks.clear()
        self.help.forget()
        self.canvas.clear()
        self.classes.set_labels(labels)
        self._classes_changed(save=False)
        self.thumbnails.set_labels(labels)
        names = labels.names()
        problems = labels.problems
        self.say(f"{len(names)} images in {labels.images_dir}, {len(labels.labelled())} "
                 "labelled" + ("" if not problems else f"; {len(problems)} labels could not be "
                               "read:\n" + "\n".join(problems[:8])))
        if names:
            self.thumbnails.select(names[0])
            worker = self.jobs.queue.submit("thumbnails", thumbnails_job, labels.images_dir,
                                            names)
            worker.yielded.connect(self._thumbnail)
            worker.finished.connect(self.jobs.ended)
        self._enable()

    def show_image(self, name: str) -> None:
        if self.labels is None or name not in self.labels.images:
            return
        self.current = name
        self._superpixels = None
        stack = self.stacks.setdefault(name, QUndoStack(self.undo_group))
        self.undo_group.setActiveStack(stack)
        self._run("image", f"Reading {name}", image_job, self.labels.images_dir / name,
                  done=partial(self._image_read, name))
        self._enable()

    def _image_read(self, name: str, result: tuple[np.ndarray, list[np.ndarray]]) -> None:
        image, levels = result
        if self.labels is None or name != self.current:
            return
        self.image = image
        self.canvas.show_image(self.labels.images[name], levels)
        self.folder_row.status.setCurrentText(self.labels.images[name].status)
        self._enable()
        self.shown.emit(name)

    # -- edits ----------------------------------------------------------------------------
    def item(self) -> Any:
        assert self.labels is not None and self.current is not None
        return self.labels.images[self.current]

    def _edited(self) -> None:
        if self.current is not None:
            self.thumbnails.show_status(self.current)
            self.folder_row.status.setCurrentText(self.item().status)
        self.autosave.start()

    def _patch(self, patch: mask_edits.Patch, text: str = "Paint") -> None:
        if self.current is None:
            return
        if self.canvas._drag is None or text != "Paint":
            self._stroke += 1
        elif not self.canvas._stroke[:-1]:
            self._stroke += 1  # the press of a new stroke
        stack = self.stacks[self.current]
        stack.push(MaskEdit(self.item(), patch, text, self._stroke, self.mask_changed))

    def mask_changed(self, rect: tuple[int, int, int, int] | None) -> None:
        self.canvas.refresh_overlay(rect)
        self._edited()

    def boxes_changed(self) -> None:
        self.canvas.update()
        self._edited()

    def _boxes(self, before: list[Box], after: list[Box], text: str) -> None:
        if self.current is None:
            return
        self.stacks[self.current].push(BoxEdit(self.item(), before, after, text,
                                               self.boxes_changed))

    def _tool(self, name: str) -> None:
        self.canvas.tool = name
        self.canvas.setCursor(Qt.CursorShape.OpenHandCursor if name == "pan"
                              else Qt.CursorShape.CrossCursor)
        if name == "superpixel" and self.image is not None and self.current is not None:
            self._run("superpixels", "SLIC superpixels", mask_edits.superpixels, self.image,
                      done=partial(self._superpixels_done, self.current))

    def _superpixels_done(self, name: str, found: Any) -> None:
        self._superpixels = (name, found)

    def _grow(self, x: int, y: int) -> None:
        if self.image is None or self.current is None:
            return
        item = self.item()
        value = self.canvas.current_class + 1
        if not self.labels or not self.labels.classes:
            self.say("Add a class first (Add… under Classes)")
            return
        mask = item.mask_or_empty().copy()
        if self.canvas.tool == "fill":
            job: Callable[..., Any] = mask_edits.fill
            args: tuple[Any, ...] = (mask, x, y, value)
        else:
            job, args = mask_edits.grow, (self.image, mask, x, y,
                                          self.tool_row.tolerance.value(), value)
        self._run("grow", "Growing the region", job, *args,
                  done=partial(self._region_done, self.current))

    def _region_done(self, name: str | None, patch: mask_edits.Patch | None) -> None:
        if patch is None or name != self.current:
            return
        x, y, w, h = patch.rect
        if not np.array_equal(self.item().mask_or_empty()[y:y + h, x:x + w], patch.before):
            self.say("The mask changed while the region grew; click again")
            return
        self._patch(patch, "Fill" if self.canvas.tool == "fill" else "Grow region")

    def _superpixel_stroke(self, points: list[tuple[float, float]]) -> None:
        if self._superpixels is None or self._superpixels[0] != self.current or not points:
            self.say("The superpixels are still being computed; brush again in a moment")
            return
        patch = mask_edits.superpixel_patch(self._superpixels[1], self.item().mask_or_empty(),
                                            points, self.canvas.current_class + 1)
        if patch is not None:
            self._patch(patch, "Superpixels")

    def set_status(self, status: str) -> None:
        if self.labels is not None and self.current is not None:
            self.labels.set_status(self.current, status)
            self._edited()

    def _classes_changed(self, save: bool = True) -> None:
        if self.labels is None:
            return
        self.canvas.set_colours([c.colour for c in self.labels.classes])
        for name in self.labels.names():
            self.thumbnails.show_status(name)
        if save:
            self.autosave.start()

    # -- saving and training ----------------------------------------------------------------
    def flush(self) -> None:
        """Save now what the autosave would save soon (before another folder opens)."""
        if self.autosave.isActive():
            self.autosave.stop()
            self.save(voc=False)

    def save_before_close(self) -> None:
        """The window closes: labels edited since the last autosave are written now (on this
        thread: no worker outlives the window), all-or-nothing as always."""
        if self.labels is None or not self.autosave.isActive():
            return
        self.autosave.stop()
        from core.labels.label_folder import save_labels  # loaded by the worker that opened them

        try:
            save_labels(self.labels, voc=False)
        except (OSError, ValueError) as exc:
            self.say(str(exc).splitlines()[0])

    def save(self, voc: bool = True, then: Callable[[list[Path]], None] | None = None) -> None:
        if self.labels is None:
            return
        self.autosave.stop()
        snapshot = copy.deepcopy(self.labels)  # the worker writes what is shown now

        def done(paths: list[Path]) -> None:
            self.say(f"Saved {len(snapshot.labelled())} labelled images to "
                     f"{', '.join(p.name for p in paths)}")
            self.saved.emit(paths)
            if then is not None:
                then(paths)

        self._run(f"save-{voc}", "Saving the labels", save_job, snapshot, voc, done=done,
                  quiet=not voc)

    def train_on_labels(self) -> None:
        if self.labels is None:
            return
        if len(self.labels.labelled()) < 4:
            self.say(f"{len(self.labels.labelled())} images are labelled; a training run needs "
                     "at least 4 (to split into training, validation and test)")
            return
        self.save(voc=True, then=lambda paths: self.train_requested.emit(str(paths[0])))

    # -- classes ---------------------------------------------------------------------------
    def class_index(self, name: str) -> int:
        """The index of the class ``name``, added if the labels have none of that name."""
        assert self.labels is not None
        names = [c.name for c in self.labels.classes]
        if name not in names:
            self.labels.add_class(name)
            self.classes.refill()
            self._classes_changed()
            return len(self.labels.classes) - 1
        return names.index(name)

    def delete_class(self, index: int) -> None:
        """Delete a class everywhere, one undo step of the shown image."""
        if self.labels is None or not 0 <= index < len(self.labels.classes):
            return
        command = DeleteClass(self.labels, index, partial(self._renumbered, index))
        if self.current is None:
            command.redo()  # no image shown, no undo stack: the dialog said so
            return
        self.stacks[self.current].push(command)

    def _renumbered(self, index: int) -> None:
        """A class was deleted or restored: every image's numbers changed, so the other
        images' undo steps (which hold the old numbers) end here."""
        for name, stack in self.stacks.items():
            if name != self.current:
                stack.clear()
        self.classes.refill(min(index, max(len(self.labels.classes) - 1, 0))
                            if self.labels else None)
        self._classes_changed()
        self.canvas.selected = None
        self.canvas.refresh_overlay()
        if self.current is not None:
            self._edited()

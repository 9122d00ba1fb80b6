"""The Label tab: open a folder of images, label them with boxes and masks, let the open model
suggest, and hand the labelled images to the Train tab.

Every read, save, grown region and suggestion runs on the tab's worker queue (latest request
wins); one that takes over 200 ms shows progress and Cancel. Labels save themselves two seconds
after the last edit, all-or-nothing (core.labels writes through write_atomic).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QUndoGroup, QUndoStack
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.document import ModelDocument
from app.label.canvas import LabelCanvas, pyramid
from app.label.class_list import ClassList
from app.label.commands import BoxEdit, MaskEdit
from app.label.thumbnails import THUMB, ThumbnailStrip
from app.label.tool_row import FolderRow, ToolRow
from app.labels import WrappedLabel
from app.workers import WorkerQueue
from core.labels import mask_edits
from core.labels.label_set import Box, LabelSet

if TYPE_CHECKING:
    from core.labels.suggest import Suggestion

AUTOSAVE_MS = 2000
PROGRESS_AFTER_MS = 200


# The jobs below run on workers and import what they use there: the label files' readers and
# the model's helper import torch (core.data, core.inspect), which the window's start-up and UI
# thread never do (tests/app/test_startup.py).
def _open_job(path: Path) -> Any:
    from core.labels.label_folder import open_labels

    return open_labels(path)


def _image_job(path: Path) -> tuple[np.ndarray, list[np.ndarray]]:
    from core.labels.images import read_rgb

    image = read_rgb(path)
    return image, pyramid(image)


def _thumbnails(folder: Path, names: list[str], task: Any) -> Any:
    from core.labels.images import read_rgb

    for done, name in enumerate(names):
        task.check()
        try:
            yield name, read_rgb(folder / name, (THUMB, THUMB))[::2, ::2]
        except ValueError:
            continue
        task.progress(done + 1, len(names))


def _save_job(labels: LabelSet, voc: bool) -> list[Path]:
    from core.labels.label_folder import save_labels

    return save_labels(labels, voc)


def _suggest_job(spec: Any, weights: Path | None, run: Path | None,
                 image: np.ndarray) -> Suggestion:
    from core.labels.suggest import model_helper, suggest

    return suggest(model_helper(spec, weights, run), image)


def _order_job(spec: Any, weights: Path | None, run: Path | None, paths: list[Path],
               task: Any) -> list[tuple[str, float]]:
    from core.labels.suggest import model_helper, uncertainty_order

    helper = model_helper(spec, weights, run)
    return uncertainty_order(helper, paths, lambda d, t: task.progress(d, t) or task.check())


class _Reply(QObject):
    """Hands a job's result to ``done`` while its tab lives (Qt drops the connection with it)."""

    def __init__(self, parent: QObject, done: Callable[[Any], None]) -> None:
        super().__init__(parent)
        self.done = done

    @Slot(object)
    def returned(self, value: Any) -> None:
        self.done(value)


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
        self.suggestion: Suggestion | None = None
        self.order: list[str] = []
        self._order_key: object = None
        self._superpixels: tuple[str, Any] | None = None
        self._stroke = 0
        self.jobs = WorkerQueue(self)
        self.folder_row, self.tool_row = FolderRow(), ToolRow()
        self.canvas = LabelCanvas()
        self.classes = ClassList()
        self.thumbnails = ThumbnailStrip()
        self.message = WrappedLabel("")
        self.message.setObjectName("LabelMessage")
        self.progress = QProgressBar()
        self.cancel = QPushButton("Cancel")
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
        column.addWidget(self.message)
        split.addWidget(side)
        split.setStretchFactor(0, 4)
        split.setStretchFactor(1, 1)
        layout.addWidget(split, 1)
        layout.addWidget(self.thumbnails)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 1)
        bar.addWidget(self.cancel)
        layout.addLayout(bar)
        self.progress.hide()
        self.cancel.hide()

    def _wire(self) -> None:
        f, t, c = self.folder_row, self.tool_row, self.canvas
        f.open.clicked.connect(self.open_dialog)
        f.save.clicked.connect(lambda: self.save(voc=True))
        f.train.clicked.connect(self.train_on_labels)
        f.suggest.clicked.connect(self.request_suggestion)
        f.accept.clicked.connect(self.accept_suggestion)
        f.reject.clicked.connect(self.reject_suggestion)
        f.next_uncertain.clicked.connect(self.next_most_uncertain)
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
        self.thumbnails.chosen.connect(self.show_image)
        self.cancel.clicked.connect(lambda: self.jobs.cancel())
        self.document.run_changed.connect(self._forget_order)

    def _brush_size(self, value: int) -> None:
        self.canvas.brush_px = float(value)

    def _opacity(self, value: int) -> None:
        self.canvas.opacity = value / 100
        self.canvas.update()

    def _pick_class(self, index: int) -> None:
        self.canvas.current_class = index

    def _forget_order(self) -> None:
        self.order = []

    def _enable(self) -> None:
        has = self.labels is not None
        shown = self.current is not None
        f = self.folder_row
        for button in (f.save, f.train, f.next_uncertain):
            button.setEnabled(has)
        for widget in (f.suggest, f.status, self.canvas):
            widget.setEnabled(shown)
        f.accept.setEnabled(self.suggestion is not None)
        f.reject.setEnabled(self.suggestion is not None)
        self.tool_row.undo.setEnabled(self.undo_group.canUndo())
        self.tool_row.redo.setEnabled(self.undo_group.canRedo())

    def keyPressEvent(self, event: Any) -> None:
        if Qt.Key.Key_1 <= event.key() <= Qt.Key.Key_9 and not event.modifiers():
            self.classes.pick(event.key() - Qt.Key.Key_1)
        else:
            super().keyPressEvent(event)

    # -- jobs -----------------------------------------------------------------------------
    def _run(self, key: str, what: str, function: Callable[..., Any], *args: Any,
             done: Callable[[Any], None], quiet: bool = False) -> None:
        worker = self.jobs.submit(key, function, *args)
        reply = _Reply(self, done)  # a child: a result after the tab is gone reaches no one
        worker.returned.connect(reply.returned)
        worker.finished.connect(reply.deleteLater)
        worker.errored.connect(self._failed)
        if quiet:
            return
        worker.progress.connect(self._progress)
        self.progress.setFormat(f"{what} %p%")

        def reveal() -> None:
            if not worker.is_done:
                self.progress.setRange(0, 0)
                self.progress.show()
                self.cancel.show()

        QTimer.singleShot(PROGRESS_AFTER_MS, self, reveal)
        worker.finished.connect(self._job_ended)

    def _failed(self, exc: BaseException) -> None:
        self.say(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    def _thumbnail(self, pair: tuple[str, np.ndarray]) -> None:
        self.thumbnails.set_thumbnail(*pair)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def _job_ended(self) -> None:
        if not self.jobs.busy():
            self.progress.hide()
            self.cancel.hide()

    def say(self, text: str) -> None:
        self.message.setText(text)

    # -- the folder -----------------------------------------------------------------------
    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder of images to label")
        if folder:
            self.open_path(Path(folder))

    def open_path(self, path: Path) -> None:
        self.flush()
        self._run("open", "Reading the folder", _open_job, path, done=self._opened)

    def _opened(self, labels: LabelSet) -> None:
        self.labels, self.current, self.image, self.suggestion = labels, None, None, None
        self.stacks.clear()
        self.order = []
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
            worker = self.jobs.submit("thumbnails", _thumbnails, labels.images_dir, names)
            worker.yielded.connect(self._thumbnail)
            worker.finished.connect(self._job_ended)
        self._enable()

    def show_image(self, name: str) -> None:
        if self.labels is None or name not in self.labels.images:
            return
        self.current, self.suggestion = name, None
        self._superpixels = None
        stack = self.stacks.setdefault(name, QUndoStack(self.undo_group))
        self.undo_group.setActiveStack(stack)
        self._run("image", f"Reading {name}", _image_job, self.labels.images_dir / name,
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
    def _item(self) -> Any:
        assert self.labels is not None and self.current is not None
        return self.labels.images[self.current]

    def _edited(self) -> None:
        if self.current is not None:
            self.thumbnails.show_status(self.current)
            self.folder_row.status.setCurrentText(self._item().status)
        self.autosave.start()

    def _patch(self, patch: mask_edits.Patch, text: str = "Paint") -> None:
        if self.current is None:
            return
        if self.canvas._drag is None or text != "Paint":
            self._stroke += 1
        elif not self.canvas._stroke[:-1]:
            self._stroke += 1  # the press of a new stroke
        stack = self.stacks[self.current]
        stack.push(MaskEdit(self._item(), patch, text, self._stroke, self._mask_changed))

    def _mask_changed(self, rect: tuple[int, int, int, int] | None) -> None:
        self.canvas.refresh_overlay(rect)
        self._edited()

    def _boxes_changed(self) -> None:
        self.canvas.update()
        self._edited()

    def _boxes(self, before: list[Box], after: list[Box], text: str) -> None:
        if self.current is None:
            return
        self.stacks[self.current].push(BoxEdit(self._item(), before, after, text,
                                               self._boxes_changed))

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
        item = self._item()
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
        if not np.array_equal(self._item().mask_or_empty()[y:y + h, x:x + w], patch.before):
            self.say("The mask changed while the region grew; click again")
            return
        self._patch(patch, "Fill" if self.canvas.tool == "fill" else "Grow region")

    def _superpixel_stroke(self, points: list[tuple[float, float]]) -> None:
        if self._superpixels is None or self._superpixels[0] != self.current or not points:
            self.say("The superpixels are still being computed; brush again in a moment")
            return
        patch = mask_edits.superpixel_patch(self._superpixels[1], self._item().mask_or_empty(),
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

        self._run(f"save-{voc}", "Saving the labels", _save_job, snapshot, voc, done=done,
                  quiet=not voc)

    def train_on_labels(self) -> None:
        if self.labels is None:
            return
        if len(self.labels.labelled()) < 4:
            self.say(f"{len(self.labels.labelled())} images are labelled; a training run needs "
                     "at least 4 (to split into training, validation and test)")
            return
        self.save(voc=True, then=lambda paths: self.train_requested.emit(str(paths[0])))

    # -- the model's help ---------------------------------------------------------------------
    def request_suggestion(self) -> None:
        if self.image is None or self.current is None:
            return
        d = self.document
        self._run("suggest", "Asking the model", _suggest_job, d.spec, d.weights, d.run_dir,
                  self.image, done=partial(self._suggested, self.current))

    def _suggested(self, name: str | None, found: Suggestion) -> None:
        if name != self.current:
            return
        self.suggestion = found
        self.canvas.proposals = list(found.boxes)
        if found.mask is not None:
            self.canvas.proposal_mask(found.mask)
        self.say(f"The model's proposals (uncertainty {found.uncertainty:.2f}): Accept keeps "
                 "them as labels, Reject drops them")
        self.canvas.update()
        self._enable()

    def _class_index(self, name: str) -> int:
        assert self.labels is not None
        names = [c.name for c in self.labels.classes]
        if name not in names:
            self.labels.add_class(name)
            self.classes.refill()
            self._classes_changed()
            return len(self.labels.classes) - 1
        return names.index(name)

    def accept_suggestion(self) -> None:
        found, self.suggestion = self.suggestion, None
        if found is None or self.current is None:
            return
        mapping = [self._class_index(n) for n in found.classes]
        item = self._item()
        if found.boxes:
            before = [Box(b.label, b.x1, b.y1, b.x2, b.y2) for b in item.boxes]
            after = before + [Box(mapping[b.label], b.x1, b.y1, b.x2, b.y2)
                              for b in found.boxes if 0 <= b.label < len(mapping)]
            self._boxes(before, after, "Accept proposals")
        if found.mask is not None:
            lut = np.array([0] + [m + 1 for m in mapping], np.uint8)
            region = lut[np.minimum(found.mask, len(lut) - 1)]
            mask = item.mask_or_empty()
            patch = mask_edits.Patch(0, 0, mask.copy(), np.where(region > 0, region, mask))
            self._patch(patch, "Accept proposals")
        self.reject_suggestion()

    def reject_suggestion(self) -> None:
        self.suggestion = None
        self.canvas.proposals = []
        self.canvas.proposal_mask(None)
        self._enable()

    def next_most_uncertain(self) -> None:
        if self.labels is None:
            return
        d = self.document
        key = (d.run_version, id(d.spec), self.labels.images_dir)
        unlabelled = [n for n in self.labels.names()
                      if self.labels.images[n].status == "unlabelled"]
        if not unlabelled:
            self.say("Every image is labelled")
            return
        if self.order and self._order_key == key:
            self._go_uncertain()
            return
        paths = [self.labels.images_dir / n for n in unlabelled]
        self._order_key = key
        self._run("order", "Ranking by uncertainty", _order_job, d.spec, d.weights, d.run_dir,
                  paths, done=self._ordered)

    def _ordered(self, scored: list[tuple[str, float]]) -> None:
        self.order = [name for name, _u in scored]
        self._go_uncertain()

    def _go_uncertain(self) -> None:
        assert self.labels is not None
        left = [n for n in self.order if self.labels.images[n].status == "unlabelled"]
        if not left:
            self.say("Every image is labelled")
            return
        self.thumbnails.select(left[0])
        self.say(f"{left[0]}: the unlabelled image the model is least sure of ({len(left)} "
                 "left, most uncertain first)")

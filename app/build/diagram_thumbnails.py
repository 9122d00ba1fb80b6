"""Thumbnails in the diagram's blocks: each layer's output for the Inspect tab's current input.

A toggle (``button``) turns them on. The pictures are computed by core.inspect.thumbnails on
the Inspect tab's worker queue, with the model the tab builds (one model in memory, not two) and
its cached activations (the Activations view then opens without another forward pass). The
latest request wins: an edit, other weights (each epoch while training), another input or the
toggle ask again after a short pause, and an older job is aborted. Past 200 ms a progress bar
and Cancel show beside the toggle. The pictures go into the scene a slice at a time, so the
window never waits on them; clicking one opens the layer in Inspect → Activations.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QToolButton,
    QWidget,
)

from app.document import ModelDocument
from core.analysis.diagram_look import PICTURE_INSET, PICTURE_SCALE
from core.model.spec import INPUT

if TYPE_CHECKING:
    import numpy as np

    from app.build.diagram import DiagramView
    from app.inspect.tab import InspectTab
    from app.workers import Task

KEY = "thumbnails"
"""The job's key on the Inspect tab's queue."""
PAUSE_MS = 250
"""A burst of edits (or epochs) asks once, this long after the last."""
BUSY_AFTER_MS = 200
SLICE = 8
"""Pictures put into the scene per event-loop turn (each turn stays far below 16 ms)."""
THUMBNAIL_Z = 2.0


def _pixmap(picture: np.ndarray) -> QPixmap:
    import numpy as np  # loaded by then: the pictures come from a worker's torch

    height, width = picture.shape[:2]
    data = np.ascontiguousarray(picture)
    image = QImage(data.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(image.copy())


class DiagramThumbnails(QObject):
    """The thumbnails of ``view``'s blocks, computed with ``inspect``'s model and input."""

    opened = Signal(str)
    """A thumbnail was clicked: the layer to show in Inspect → Activations."""
    filled = Signal()
    """Every picture of the latest result is in the scene."""

    def __init__(self, view: DiagramView, inspect: Callable[[], InspectTab],
                 document: ModelDocument) -> None:
        """``inspect`` gives the Inspect tab (built after the window's first paint: asked
        when the thumbnails are first turned on; :meth:`follow` is called once it is built)."""
        super().__init__(view)
        self.view, self.document = view, document
        self._inspect = inspect
        self.items: dict[str, QGraphicsPixmapItem] = {}
        self._blocks: dict[str, QGraphicsRectItem] = {}
        self._pending: list[tuple[str, np.ndarray]] = []
        self._press: tuple[str, QPoint] | None = None
        self.button = QToolButton()
        self.button.setText("Thumbnails")
        self.button.setCheckable(True)
        self.button.setToolTip("Draw in each block a few of its feature maps (or a bar of its "
                               "values) for the Inspect tab's input; click one to open it in "
                               "Inspect → Activations")
        self.button.toggled.connect(self.set_enabled)
        self.status = QWidget()
        row = QHBoxLayout(self.status)
        row.setContentsMargins(0, 0, 0, 0)
        self.status_label = QLabel("thumbnails…")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(self.progress.fontMetrics().horizontalAdvance("M" * 8))
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        for widget in (self.status_label, self.progress, self.cancel_button):
            row.addWidget(widget)
        self.status.hide()
        self._worker: object = None
        self._on = False
        self.message = ""
        """Why the last request gave no pictures ("" when it did)."""
        self._ask = QTimer(self)
        self._ask.setSingleShot(True)
        self._ask.setInterval(PAUSE_MS)
        self._ask.timeout.connect(self.refresh)
        self._busy = QTimer(self)
        self._busy.setSingleShot(True)
        self._busy.timeout.connect(self._show_busy)
        self._feed = QTimer(self)
        self._feed.setInterval(0)
        self._feed.timeout.connect(self._add_slice)
        document.changed.connect(self._schedule)
        document.run_changed.connect(self._schedule)
        view.rebuilt.connect(self.place)
        view.viewport().installEventFilter(self)

    @property
    def inspect(self) -> InspectTab:
        return self._inspect()

    def follow(self, inspect: InspectTab) -> None:
        """The Inspect tab was built: a new input there asks for new pictures."""
        inspect.input_changed.connect(self._schedule)

    @property
    def enabled(self) -> bool:
        return self._on

    def set_enabled(self, on: bool) -> None:
        """Show (computing them) or hide the thumbnails."""
        if self.button.isChecked() != on:
            self.button.setChecked(on)  # comes back here through toggled
            return
        self._on = on
        if on:
            self.refresh()
        else:
            self.cancel()
            self._clear()

    def _schedule(self, *_args: object) -> None:
        if self.enabled:
            self._ask.start()

    # -- computing ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Ask for the pictures of the document's model, weights and input now."""
        self._ask.stop()
        if not self.enabled:
            return
        if not self.document.analysis.ok:
            self.inspect.queue.cancel(KEY)
            self._worker = None
            self._clear()  # the pictures were of a model that is no longer there
            self._done_message("thumbnails wait for a valid model")
            return
        model_key, source = self.inspect.model_key(), self.inspect.source()
        session = self.inspect.session

        def job(task: Task) -> dict[str, np.ndarray]:
            from core.inspect.thumbnails import diagram_pictures, layer_thumbnails

            task.check()
            built = session.built(model_key)
            task.check()
            inspector = built.inspector
            with inspector.watch(task.check):
                outputs = session.activations(inspector, source)
                model_input = session.input_for(inspector, source)
            task.check()
            shown = layer_thumbnails(outputs, model_input.tensor[0])
            return diagram_pictures(shown, inspector.analysis, inspector.spec.input_shape,
                                    progress=task.progress)

        worker = self.inspect.queue.submit(KEY, job)
        worker.tag = self.inspect.model_generation  # kept while the model stays the same
        self._worker = worker
        worker.aborted.connect(self._aborted)  # a bound slot: gone with this object
        worker.returned.connect(self._delivered)
        worker.errored.connect(self._failed)
        worker.progress.connect(self._progressed)
        worker.finished.connect(self._finished)
        self.progress.setRange(0, 0)
        self._busy.start(BUSY_AFTER_MS)

    def cancel(self) -> None:
        """Stop computing; the pictures shown stay as they are."""
        self._ask.stop()
        self._worker = None
        self.inspect.queue.cancel(KEY)
        self._finished()

    def _aborted(self) -> None:
        """The Inspect tab dropped this job (it was for an older model, or the tab's Cancel):
        ask again, unless this was our own Cancel or a newer request took over."""
        if self.sender() is self._worker:
            self._worker = None
            self._schedule()

    def busy(self) -> bool:
        """Whether pictures are asked for, computing or still going into the scene."""
        return self._ask.isActive() or self.inspect.queue.busy(KEY) or bool(self._pending)

    def _show_busy(self) -> None:
        if self.inspect.queue.busy(KEY):
            self.status_label.setText("thumbnails…")
            self.status.show()

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)

    def _finished(self) -> None:
        if not self.inspect.queue.busy(KEY):
            self._busy.stop()
            self.status.hide()

    def _failed(self, exc: Exception) -> None:
        text = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
        self._done_message(f"no thumbnails: {text}")

    def _done_message(self, text: str) -> None:
        self.message = text
        self.view.setToolTip(text)
        window = self.view.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, 8000)

    def _delivered(self, pictures: dict[str, np.ndarray]) -> None:
        if not self.enabled:
            return
        self.message = ""
        for name in [name for name in self.items if name not in pictures]:
            self._remove(name)
        self._pending = list(pictures.items())
        self._feed.start()

    def _add_slice(self) -> None:
        """Put the next few pictures into the scene (the rest on the next turn)."""
        chunk, self._pending = self._pending[:SLICE], self._pending[SLICE:]
        for name, picture in chunk:
            block = self.view.blocks.get(name)
            if block is None:
                continue
            item = self.items.get(name)
            if item is None or self._blocks.get(name) is not block:
                item = QGraphicsPixmapItem()
                item.setData(0, name)
                item.setZValue(THUMBNAIL_Z)
                item.setTransformationMode(Qt.TransformationMode.FastTransformation)
                item.setToolTip(f"{name}: click to open in Inspect → Activations")
                self.view.scene_.addItem(item)
                self.items[name], self._blocks[name] = item, block
            item.setPixmap(_pixmap(picture))
            self._fit(name)
        if not self._pending:
            self._feed.stop()
            self.filled.emit()

    # -- keeping them in their blocks ---------------------------------------------------------
    def place(self) -> None:
        """The diagram redrew: follow the blocks that moved; a block drawn afresh (a new model,
        font or direction) takes a new item, a removed layer's goes."""
        if not self.items:
            return
        for name in list(self.items):
            block = self.view.blocks.get(name)
            if block is None or self._blocks.get(name) is not block:
                self._remove(name, gone=block is not self._blocks.get(name))
            else:
                self._fit(name)
        if self.enabled and not self.items and not self.busy():
            self._schedule()

    def _fit(self, name: str) -> None:
        """The picture centred in its block, shrunk when the block got smaller."""
        item, rect = self.items[name], self._blocks[name].rect()
        pixmap = item.pixmap()
        if pixmap.isNull():
            return
        natural = 1 / PICTURE_SCALE
        scale = min(natural, (rect.width() - 2 * PICTURE_INSET) / pixmap.width(),
                    (rect.height() - 2 * PICTURE_INSET) / pixmap.height())
        scale = max(scale, 0.01)
        if item.scale() != scale:
            item.setScale(scale)
        pos = (rect.center().x() - pixmap.width() * scale / 2,
               rect.center().y() - pixmap.height() * scale / 2)
        if (item.pos().x(), item.pos().y()) != pos:
            item.setPos(*pos)

    def _remove(self, name: str, gone: bool = False) -> None:
        """Take ``name``'s picture away (``gone``: the scene was cleared, the item with it)."""
        item = self.items.pop(name)
        self._blocks.pop(name, None)
        if not gone and item.scene() is not None:
            item.scene().removeItem(item)

    def _clear(self) -> None:
        self._feed.stop()
        self._pending = []
        for name in list(self.items):
            block = self.view.blocks.get(name)
            self._remove(name, gone=block is not self._blocks.get(name))

    # -- clicking one ---------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A click (press and release in place) on a thumbnail opens its layer; a drag still
        pans and a press on a port still connects."""
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent) and \
                event.button() == Qt.MouseButton.LeftButton:
            point = event.position().toPoint()
            name = self._thumbnail_at(point)
            self._press = (name, point) if name else None
        elif kind == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent) and \
                self._press is not None:
            name, start = self._press
            self._press = None
            point = event.position().toPoint()
            if (point - start).manhattanLength() <= 4 and self._thumbnail_at(point) == name \
                    and name != INPUT:
                self.opened.emit(name)
        return False

    def _thumbnail_at(self, point: QPoint) -> str:
        if self.view.ports.hits(self.view.mapToScene(point)):
            return ""
        for item in self.view.items(point):
            name = item.data(0)
            if isinstance(item, QGraphicsPixmapItem) and self.items.get(str(name)) is item:
                return str(name)
        return ""

    def picture_of(self, name: str) -> Any:
        """The picture shown in ``name``'s block (a QPixmap), or None."""
        item = self.items.get(name)
        return item.pixmap() if item is not None else None

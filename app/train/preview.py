"""A grid of augmented training samples (torchvision.utils.make_grid), drawn on a worker."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy

from app.workers import Worker
from core.data.augmentation import Augmentation

PLACEHOLDER = "Preview: augmented samples appear here"


def _preview_grid(dataset: str, input_shape: tuple[int, ...], augmentation: Augmentation,
                  task_name: str) -> np.ndarray:
    """On a worker: the augmentation preview (loads the dataset; imports torch). Not named
    ``task``: app.workers passes its Task to a job with a parameter of that name."""
    from core.inspect.augmentation_preview import preview_grid

    return preview_grid(dataset, input_shape, augmentation, task=task_name)


class AugmentationPreview(QLabel):
    """The samples, or why there are none; the latest request wins."""

    def __init__(self) -> None:
        super().__init__(PLACEHOLDER)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFixedHeight(110)  # text or image, the buttons below stay put
        self.setWordWrap(True)  # a long "No preview: …" wraps, never widens the column
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.request: tuple[object, ...] | None = None
        """What is shown or on its way: (dataset, input shape, augmentation, task)."""
        self._worker: Worker | None = None
        self._waiting: tuple[object, ...] | None = None
        """A request made while an older one still runs: started when that one has ended.
        Each preview loads its dataset in Python (the texts' vocabulary: 0.3 s and more
        holding the GIL) and cannot stop halfway; typing a length and a vocabulary size ran
        four at once, and the UI thread waited 286 ms for the GIL among them."""

    def forget(self) -> None:
        """Another model: its samples are not this one's."""
        self.request = None
        self._waiting = None
        self.clear()
        self.setText(PLACEHOLDER)

    def show_for(self, dataset: str, input_shape: tuple[int, ...], augmentation: Augmentation,
                 task_name: str) -> None:
        request = (dataset, input_shape, augmentation, task_name)
        if request == self.request:
            return  # shown, or on its way
        self.request = request
        if self.pixmap().isNull():
            self.setText("Preview: drawing augmented samples…")
        if self._worker is not None:
            self._worker.quit()
            if not self._worker.is_done:
                self._waiting = request  # one at a time: this one starts when it has ended
                return
        self._start(request)

    def _start(self, request: tuple[object, ...]) -> None:
        worker = Worker(_preview_grid, *request)
        # bound slots, not lambdas: a closed panel is disconnected before a late result comes
        worker.returned.connect(self._show)
        worker.errored.connect(self._show)
        worker.finished.connect(self._ended)
        self._worker = worker
        worker.start()

    def _ended(self) -> None:
        if self.sender() is not self._worker:
            return
        self._worker = None
        request, self._waiting = self._waiting, None
        if request is None:
            return
        if self.window().isVisible():
            self._start(request)
        else:  # the window closed meanwhile: no new job; asked again if it is shown again
            self.request = None

    def _show(self, grid: object) -> None:
        if self.sender() is not self._worker:
            return  # a newer request is on its way
        self._worker = None
        if isinstance(grid, BaseException):
            self.setText(f"No preview: {grid}")
            return
        assert isinstance(grid, np.ndarray)
        height, width = grid.shape[:2]
        image = QImage(grid.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888)
        self.setPixmap(QPixmap.fromImage(image.copy()).scaledToWidth(
            max(200, self.width() - 10), Qt.TransformationMode.FastTransformation))

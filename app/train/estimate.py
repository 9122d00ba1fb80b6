"""The memory pre-flight beside Start (core.train.preflight), computed on a thread.

The estimate imports torch, which the window must not load before its first paint: it is
computed only while the Train tab is shown, and again shortly after a setting or the model
changes; the latest request wins.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel

from app.document import ModelDocument
from app.workers import Worker
from core.train.settings import TrainingSettings


class MemoryEstimate(QLabel):
    """One sentence: the memory a training step needs against what is free now."""

    ready = Signal(int, str, bool)
    """(request number, the pre-flight sentence, whether it fits), from the estimate thread."""

    def __init__(self, document: ModelDocument,
                 settings: Callable[[], TrainingSettings]) -> None:
        super().__init__("")
        self.document = document
        self.settings = settings
        self.setWordWrap(True)
        self.setToolTip("Memory one training step needs (weights, gradients, optimizer state, "
                        "activations kept for backward, the batch) against what is free now")
        self._request = 0
        self.fits: bool | None = None
        """Whether the last estimate fits (None: none yet, or another model's was dropped)."""
        self.sentence = ""
        self._pending = True
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.update_estimate)
        self.ready.connect(self._show)
        document.changed.connect(self._stale)

    def soon(self) -> None:
        """A setting changed: estimate again shortly (typing a batch size is one request)."""
        self.timer.start()

    def when_shown(self) -> None:
        """The tab is shown or resized: estimate now if a change was waiting for it."""
        if self._pending:
            self.timer.start()

    def _stale(self) -> None:
        """The model changed: the figure shown is another model's; drop it (and any answer on
        its way) and estimate again shortly (when the tab is next shown if it is hidden)."""
        self._request += 1
        self.fits = None
        self.sentence = ""
        self.setText("")
        self.setStyleSheet("")
        self._pending = True
        self.timer.start()

    def update_estimate(self) -> None:
        """Estimate on a thread (a big model takes a moment); the latest request wins."""
        if not self.isVisible():
            self._pending = True
            return
        self._pending = False
        self._request += 1
        request, spec, settings = self._request, self.document.spec, self.settings()
        if self.document.analysis.error is not None:
            self.setText("")
            self.fits = None
            return

        def work() -> tuple[int, str, bool]:
            try:
                from core.train.engine import pick_device
                from core.train.preflight import preflight

                device = str(pick_device(settings.device))
                verdict = preflight(spec, settings.batch_size, device, settings.optimizer,
                                    settings.momentum, settings.mixed_precision,
                                    weight_decay=settings.weight_decay)
                import torch

                text, fits = verdict.sentence(torch.cuda.is_available()), verdict.fits
            except (ValueError, RuntimeError, NotImplementedError, TypeError) as exc:
                text, fits = f"No estimate: {str(exc).splitlines()[0][:120]}", True
            return request, text, fits

        # the one worker mechanism (it imports torch first, under its lock): the Worker lives
        # until its result reached the UI thread, and a closed panel is disconnected from it
        worker = Worker(work)
        worker.returned.connect(self._returned)
        worker.start()

    def _returned(self, result: tuple[int, str, bool]) -> None:
        self.ready.emit(*result)

    def _show(self, request: int, text: str, fits: bool) -> None:
        if request != self._request:
            return  # a newer request is on its way
        self.fits = fits
        self.sentence = text
        self.setText(text[:1].upper() + text[1:])
        self.setStyleSheet("" if fits else "color: #c62828; font-weight: bold;")

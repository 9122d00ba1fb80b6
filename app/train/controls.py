"""Start / Pause / Stop, the memory estimate, the progress bar with its ETA, the result line."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.labels import StatusLine
from app.style import ErrorText
from core.train.settings import BatchProgress


def format_eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class RunControls(QWidget):
    """The buttons, the estimate beside them, a progress bar and one status line."""

    def __init__(self, estimate: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b, 1)  # equal thirds: "Pause" → "Resume" moves nothing
        self.estimate = estimate
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("idle")
        # one line whatever its length, shortened with "…" (the whole text is in the tooltip
        # and the log); red for an error, in the theme's error colour
        self.status = StatusLine()
        self.status_colour = ErrorText(self.status, active=False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(estimate)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        self.set_running(False)

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.pause_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        self.pause_button.setText("Pause")

    def idle(self) -> None:
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.status.set_line("")
        self.status_colour.set_active(False)

    def say(self, text: str, error: bool = False) -> None:
        """The status line (red for an error); the whole text in its tooltip."""
        self.status.set_line(text)
        self.status_colour.set_active(error)

    def show_batch(self, event: BatchProgress, epochs: int, elapsed: float) -> None:
        """The bar's share of the run done, and the time left at the speed so far."""
        done = ((event.epoch - 1) * event.batches + event.batch) / (epochs * event.batches)
        self.progress.setValue(int(done * 1000))
        eta = elapsed / max(done, 1e-9) * (1 - done)
        # short enough for one line in the bar; the speed is in its tooltip
        self.progress.setFormat(f"epoch {event.epoch}/{epochs} · batch {event.batch}/"
                                f"{event.batches} · ETA {format_eta(eta)}")
        self.progress.setToolTip(f"{event.samples_per_s:,.0f} samples/s")

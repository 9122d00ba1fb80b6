"""Running core's training generator on a QThread; events reach the UI only through signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from core.model.spec import ModelSpec
from core.train.settings import Failed, TrainingControl, TrainingSettings

TRAINING_NICENESS = 5


def _lower_priority() -> None:
    """Run training (and the torch threads it starts) a little below the window's priority.

    On a 2-core machine torch's threads take every core; the window then paints late. A
    niceness of 5 on this thread, inherited by the threads it creates, lets the window's short
    bursts of work go first while training still gets all the CPU the window leaves (Linux and
    macOS; elsewhere this does nothing).
    """
    import os
    import threading

    if hasattr(os, "setpriority"):
        try:
            tid = threading.get_native_id() if os.uname().sysname == "Linux" else 0
            os.setpriority(os.PRIO_PROCESS, tid, TRAINING_NICENESS)
        except OSError:
            pass


class TrainingRunner(QObject):
    """Lives on the worker thread: loads the dataset, then forwards every engine event."""

    event = Signal(object)
    done = Signal()

    def __init__(self, spec: ModelSpec, dataset: str, settings: TrainingSettings, out_dir: Path,
                 control: TrainingControl, init_weights: Path | None = None) -> None:
        super().__init__()
        self.spec, self.dataset, self.settings = spec, dataset, settings
        self.out_dir, self.control, self.init_weights = out_dir, control, init_weights

    @Slot()
    def run(self) -> None:
        from core.train.memory import tune_malloc

        tune_malloc()
        _lower_priority()
        try:
            from core.data.datasets import DataError, load_dataset
            from core.train.engine import train

            try:
                data = load_dataset(self.dataset, self.spec.input_shape)
            except DataError as exc:
                self.event.emit(Failed(str(exc)))
                return
            if self.control.stop_requested:
                return
            for event in train(self.spec, data, self.settings, self.out_dir, self.control,
                               self.init_weights):
                self.event.emit(event)
        except Exception as exc:  # never let a worker die silently: tell the user
            self.event.emit(Failed(f"training stopped unexpectedly: {type(exc).__name__}: "
                                   f"{exc}"))
        finally:
            self.done.emit()


class TrainingJob(QObject):
    """One run: a thread, its runner and the control to pause, resume or stop it."""

    event = Signal(object)
    finished = Signal()

    def __init__(self, spec: ModelSpec, dataset: str, settings: TrainingSettings, out_dir: Path,
                 init_weights: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.control = TrainingControl()
        self.thread = QThread()
        self.runner = TrainingRunner(spec, dataset, settings, out_dir, self.control,
                                     init_weights)
        self.runner.moveToThread(self.thread)
        self.thread.started.connect(self.runner.run)
        self.runner.event.connect(self.event)
        # direct: quit must not wait for the GUI thread, which may be blocked in stop(wait)
        self.runner.done.connect(self.thread.quit, Qt.ConnectionType.DirectConnection)
        self.thread.finished.connect(self.finished)

    def start(self) -> None:
        self.thread.start()

    @property
    def running(self) -> bool:
        return self.thread.isRunning()

    def stop(self, wait_ms: int = 0) -> bool:
        """Ask the run to stop (it saves a checkpoint); optionally wait for the thread."""
        self.control.stop()
        if wait_ms:
            return self.thread.wait(wait_ms)
        return True

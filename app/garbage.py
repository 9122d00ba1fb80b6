"""Python's cyclic garbage collector, run on the UI thread only, on a timer.

Python collects on whichever thread allocates when a threshold is crossed; on a worker thread
it can free Qt wrappers whose C++ deletion must happen on the UI thread, and shiboken's
deferred deletion then deadlocked the window (seen while classroom slides were written). As
pyqtgraph's ``GarbageCollector`` does (whose import alone costs a second before the first
paint), automatic collection is turned off and a UI-thread timer collects instead, with the
same thresholds, checked every second. Full collections stay short because the long-lived
libraries are frozen out of them once loaded (``gc.freeze`` in app.workers.import_torch).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class UiThreadCollector(QObject):
    """Turns automatic collection off and collects on a UI-thread timer while it runs."""

    def __init__(self, interval_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self.timer.start()

    def stop(self) -> None:
        """The timer stops; automatic collection stays off (the process is ending, and a
        worker thread still alive must not collect Qt wrappers)."""
        self.timer.stop()

    def check(self) -> None:
        """Collect each generation whose count passed its threshold (youngest first)."""
        count0, count1, count2 = gc.get_count()
        if count0 > self.threshold[0]:
            gc.collect(0)
            if count1 > self.threshold[1]:
                gc.collect(1)
                if count2 > self.threshold[2]:
                    gc.collect(2)

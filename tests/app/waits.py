"""How GUI tests wait: for an event, under a ceiling that only catches a hang.

A timeout is never a guess at how fast this machine is: a job that takes 50 ms on an idle
machine takes seconds on a loaded one (CI, xdist workers, a laptop compiling something).
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

CEILING_MS = 120_000
"""The longest any single wait in the GUI tests may take before it counts as a hang."""


def settle(turns: int = 10) -> None:
    """Run the event loop a number of turns (posted layout requests, zero-time timers), not for
    a length of time: the same work is done however busy the machine is."""
    for _ in range(turns):
        QApplication.sendPostedEvents()
        QApplication.processEvents()

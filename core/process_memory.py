"""This process's memory: resident size now, its peak, and its growth since ConvScope started.

The baseline is read when ``core`` is first imported, before torch, torchvision, scikit-learn
or a dataset is loaded, so ``held_since_start`` is what ConvScope and the libraries it loaded
hold now. A training process's peak minus that baseline is what a run really costs, and what
``core.train.preflight`` estimates. Linux only (/proc); elsewhere the readers return None.
"""

from __future__ import annotations

import os
from pathlib import Path


def rss() -> int | None:
    """Resident set size in bytes (None where /proc is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * int(os.sysconf("SC_PAGE_SIZE"))


def peak_rss() -> int | None:
    """The peak resident size in bytes (VmHWM; resettable through /proc/self/clear_refs)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


BASELINE = rss()
"""The resident size when ``core`` was first imported (None: unknown)."""


def held_since_start() -> int:
    """Bytes this process grew by since ``core`` was first imported (0 where unknown)."""
    now = rss()
    return 0 if now is None or BASELINE is None else max(0, now - BASELINE)

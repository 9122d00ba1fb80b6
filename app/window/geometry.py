"""Where the window opens: where it was closed, or the first time most of the screen.

A saved place is used only when it still fits one of the screens (a monitor unplugged, a
smaller screen or a lower resolution since), so the window never opens off screen or larger
than the screen it is on.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QMainWindow

from core.workspace import Settings

FIRST_SHARE = 0.9
"""The first start fills this share of the available screen (room left for the frame)."""
LARGEST_FIRST = (2560, 1600)
"""…but no more than this (a wall-sized screen needs no wall-sized window)."""
SLACK = 16
"""Pixels a saved place may lie past the screen's edge (frames, rounding) and still count."""


def first_geometry(screen: QRect) -> QRect:
    """Most of ``screen``, centred on it."""
    width = min(int(screen.width() * FIRST_SHARE), LARGEST_FIRST[0])
    height = min(int(screen.height() * FIRST_SHARE), LARGEST_FIRST[1])
    rect = QRect(0, 0, width, height)
    rect.moveCenter(screen.center())
    return rect


def fits(rect: QRect, screens: list[QRect]) -> bool:
    """Whether ``rect`` lies on one of ``screens`` and is no larger than it."""
    return any(rect.width() <= s.width() and rect.height() <= s.height()
               and s.adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(rect) for s in screens)


def saved_geometry(settings: Settings, screens: list[QRect]) -> QRect | None:
    """The place the window was closed at, if it still fits a screen."""
    value = settings.get("window_geometry", [])
    if len(value) != 4 or not all(isinstance(v, int) and not isinstance(v, bool)
                                  for v in value):
        return None
    rect = QRect(*value)
    return rect if rect.width() > 0 and rect.height() > 0 and fits(rect, screens) else None


def place(window: QMainWindow, settings: Settings, screens: list[QRect]) -> None:
    """Before the first show: the saved place (maximized again if it was), else most of the
    first screen."""
    saved = saved_geometry(settings, screens)
    if saved is None:
        if screens:
            window.setGeometry(first_geometry(screens[0]))
        return
    window.setGeometry(saved)
    if settings.get("window_maximized", False):
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)


def remember(window: QMainWindow, settings: Settings) -> None:
    """On close: the window's place, for the next start. Full screen (presentation mode) is
    not a place to open at; the one saved before stays."""
    if window.isFullScreen():
        return
    maximized = window.isMaximized()
    rect = window.normalGeometry() if maximized else window.geometry()
    if rect.isValid():
        settings.set("window_geometry", [rect.x(), rect.y(), rect.width(), rect.height()])
        settings.set("window_maximized", maximized)


def keep_on_screen(window: QMainWindow, screen: QRect) -> None:
    """No larger than ``screen`` and inside it (a larger font grew the window past its edges)."""
    window.resize(min(window.width(), screen.width()), min(window.height(), screen.height()))
    frame = window.frameGeometry()
    if not screen.contains(frame):
        window.move(max(screen.left(), min(frame.left(), screen.right() - frame.width())),
                    max(screen.top(), min(frame.top(), screen.bottom() - frame.height())))

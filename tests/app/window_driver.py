"""Driving the main window the way a user does: its menus, the dialogs they open, tooltips.

``menu_actions`` walks the menu bar (submenus filled on ``aboutToShow`` first, as when the user
opens them); ``Answerer`` answers whatever modal dialog is open while an action runs, from a
timer, because ``exec()`` blocks the test until the dialog closes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from PySide6.QtCore import QModelIndex, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QWidget,
)

from tests.app.layout_checks import tooltip_at


def _plain(text: str) -> str:
    return text.replace("&", "")


def hover_tooltip(view: QAbstractItemView, index: QModelIndex) -> str:
    """The tooltip shown when the pointer rests on ``index``'s cell, scrolled into view first;
    "" when none shows."""
    view.scrollTo(index)
    QApplication.processEvents()
    return tooltip_at(view, index)


def walk_menu(menu: QMenu, prefix: str) -> Iterator[tuple[str, QAction]]:
    menu.aboutToShow.emit()  # menus filled when opened (Open Recent) fill now
    for action in menu.actions():
        if action.isSeparator():
            continue
        path = f"{prefix} → {_plain(action.text())}"
        sub = action.menu()
        if isinstance(sub, QMenu):
            yield from walk_menu(sub, path)
        else:
            yield path, action


def menu_actions(window: QMainWindow) -> list[tuple[str, QAction]]:
    """Every action reachable from the menu bar, as ("File → Presets → ... → lenet-5", action)."""
    found: list[tuple[str, QAction]] = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if isinstance(menu, QMenu):
            found.extend(walk_menu(menu, _plain(top.text())))
    return found


def menu_action(window: QMainWindow, path: str) -> QAction:
    actions = dict(menu_actions(window))
    if path not in actions:
        raise AssertionError(f"no menu item {path!r}; the menus have: {sorted(actions)}")
    return actions[path]


Handler = Callable[[QWidget, "Answerer"], None]
"""Called with the open modal dialog, again on every tick until the dialog closes."""


@dataclass
class Answerer:
    """Answers modal dialogs while it runs: a handler per dialog type (the first matching
    ``isinstance`` wins), message boxes by their default (or escape) button. What each dialog
    said is kept in ``seen`` (its title and text) for the test to check."""

    handlers: list[tuple[type, Handler]] = field(default_factory=list)
    seen: list[tuple[str, str]] = field(default_factory=list)
    ceiling_s: float = 300.0
    """A dialog still open this long after it first showed is closed and the test fails with
    what its handler had done: a stuck dialog fails one test, it never hangs the suite."""
    stuck: list[str] = field(default_factory=list)
    state: dict[int, tuple[QWidget, dict[str, object]]] = field(default_factory=dict)
    """Per dialog (by id, the dialog kept so that no later one gets its id): what its handler
    has done so far."""

    def __post_init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)

    def __enter__(self) -> Answerer:
        self.timer.start()
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        self.timer.stop()
        if self.stuck and kind is None:
            raise AssertionError("; ".join(self.stuck))

    def memo(self, widget: QWidget) -> dict[str, object]:
        return self.state.setdefault(id(widget), (widget, {}))[1]

    def _tick(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or not widget.isVisible():
            return
        memo = self.memo(widget)
        if not memo.get("seen"):
            memo["seen"] = True
            memo["shown_at"] = time.monotonic()
            text = widget.text() if isinstance(widget, QMessageBox) else ""
            self.seen.append((widget.windowTitle(), text))
        shown_at = memo["shown_at"]
        assert isinstance(shown_at, float)
        if time.monotonic() - shown_at > self.ceiling_s:
            state = {k: v for k, v in memo.items() if k not in ("seen", "shown_at")}
            self.stuck.append(f"the dialog {widget.windowTitle()!r} was still open after "
                              f"{self.ceiling_s:.0f} s (its handler had reached {state})")
            if isinstance(widget, QDialog):
                widget.done(0)
            else:
                widget.close()
            return
        for kind, handler in self.handlers:
            if isinstance(widget, kind):
                handler(widget, self)
                return
        if isinstance(widget, QMessageBox):
            button = widget.defaultButton() or widget.escapeButton()
            if button is not None:
                button.click()
            else:
                widget.done(0)
        elif isinstance(widget, QDialog):
            widget.reject()
        else:
            widget.close()

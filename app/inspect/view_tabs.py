"""The Inspect tab's views as tabs that are built when first shown.

Building all eight views at start-up made 16 image panes and 26 pyqtgraph plots (0.64 s) for
a tab nobody had opened, and importing them imported pyqtgraph (1.1 s) before the window's
first paint. Each tab here holds an empty slot until it is first shown; the view's module (and
with it pyqtgraph) is imported then. While the warm-up (app.warm_up) is still loading pyqtgraph
on its worker the slot says so and the view is built once it has: the UI thread never waits
for another thread's import.

Callers address the views themselves: ``widget()``, ``indexOf()`` and ``setCurrentWidget()``
see through the slots (``widget()`` builds a view not built yet).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.flow_bar import FlowBar

if TYPE_CHECKING:
    from app.inspect.base import InspectView, ViewHost

PLOT_MODULES = ("pyqtgraph", "app.image_pane", "app.plot_text")
"""What a view's module imports that takes long: imported by the warm-up after first paint."""
WAITING = "Loading the plotting library (the first time takes a second)…"


def _must_wait() -> bool:
    """pyqtgraph is not imported yet (the warm-up loads it), or the warm-up's worker is
    importing one of PLOT_MODULES right now: importing here would wait for it. (With pyqtgraph
    loaded, the image panes' own modules import here in milliseconds.)"""
    for name in PLOT_MODULES:
        module = sys.modules.get(name)
        if module is None and name == "pyqtgraph":
            return True
        if module is not None and getattr(getattr(module, "__spec__", None), "_initializing",
                                          False):
            return True
    return False


class _Slot(QWidget):
    """One tab's page: empty until its view is built, then the view fills it."""

    def __init__(self, title: str, where: str) -> None:
        super().__init__()
        self.title = title
        self.where = where
        self.view: InspectView | None = None
        self.waiting = QLabel(WAITING)
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting.setWordWrap(True)
        self.waiting.hide()
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(self.waiting)


class ViewTabs(QTabWidget):
    """Tabs of InspectViews given as ``(title, "module:Class")``, each built when first shown."""

    def __init__(self, host: ViewHost, views: tuple[tuple[str, str], ...],
                 built: Callable[[InspectView], None]) -> None:
        super().__init__()
        self._host = host
        self._built = built
        self._waiting = False
        for title, where in views:
            super().addTab(_Slot(title, where), title)
        # the views are picked from a bar that wraps (app.flow_bar): at projector text the
        # tab bar put Masks, Boxes and How they formed behind its scroll arrows
        self.bar = FlowBar([title for title, _ in views])
        self.bar.picked.connect(self.setCurrentIndex)
        self.currentChanged.connect(self.bar.check)
        self.bar.check(0)
        self.tabBar().hide()

    def _slot(self, index: int) -> _Slot | None:
        slot = super().widget(index)
        return slot if isinstance(slot, _Slot) else None

    def built_views(self) -> list[InspectView]:
        """The views built so far, in tab order."""
        slots = [self._slot(i) for i in range(self.count())]
        return [slot.view for slot in slots if slot is not None and slot.view is not None]

    def is_built(self, index: int) -> bool:
        slot = self._slot(index)
        return slot is not None and slot.view is not None

    def build(self, index: int) -> InspectView:
        """The view of tab ``index``, built now if it is not yet (imports on this thread)."""
        slot = self._slot(index)
        assert slot is not None, index
        if slot.view is None:
            module, _, name = slot.where.partition(":")
            view_type = getattr(importlib.import_module(module), name)
            view = view_type(self._host)
            assert view.title == slot.title, (view.title, slot.title)
            slot.waiting.hide()
            slot.box.addWidget(view)
            slot.view = view
            self._built(view)
        return slot.view

    def current_view(self, wait: bool = True) -> InspectView | None:
        """The visible tab's view; while pyqtgraph is still loading on the warm-up's worker
        (``wait``) None, and the view is built when it has loaded."""
        index = self.currentIndex()
        if index < 0:
            return None
        if self.is_built(index):
            return self.build(index)
        from app import warm_up

        if wait and _must_wait() and not warm_up.is_ready():
            slot = self._slot(index)
            assert slot is not None
            slot.waiting.show()
            if not self._waiting:
                self._waiting = True
                warm_up.when_ready(self._loaded, start_now=True)
            return None
        return self.build(index)

    def _loaded(self) -> None:
        self._waiting = False
        self._host.refresh()

    # -- seeing through the slots -----------------------------------------------------------
    def widget(self, index: int) -> QWidget | None:
        if self._slot(index) is None:
            return super().widget(index)
        return self.build(index)

    def indexOf(self, page: QWidget) -> int:
        for index in range(self.count()):
            slot = self._slot(index)
            if slot is page or (slot is not None and slot.view is page):
                return index
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)

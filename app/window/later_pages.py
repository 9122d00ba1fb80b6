"""The Train, Inspect, Classroom and Label tabs, built right after the window's first paint.

The window paints the builder first. These pages' modules (numpy, the classroom's lessons, the
labelling canvas, the Train form, the Inspect tab's session: with building the pages, about 0.2 s
on a 2-core laptop, more than Qt's own start-up) are imported on a worker once the window has
painted; then each page is built on the UI thread, one per event-loop turn, in tab order (the
tab shown first). Their tabs are in the tab bar from the start: one shown before its page is
built says so and gets its page as soon as the modules are in. Asking the window for a page
(``window.training``, ``window.inspect``, ``window.classroom``, ``window.label``) builds it at
once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

MODULES = ("numpy", "app.train", "app.inspect", "app.classroom", "app.label")
"""What the pages import: the worker imports them before any page is built."""


def _import_modules() -> None:
    import importlib

    for name in MODULES:
        importlib.import_module(name)


class Placeholder(QWidget):
    """A tab's page until the real one is built."""

    def __init__(self, name: str, finish_page: Callable[[], object]) -> None:
        super().__init__()
        self.finish_page = finish_page
        """Builds the real page now (app.page_tabs.PageTabs.widget asks it)."""
        layout = QVBoxLayout(self)
        self.note = QLabel(f"Opening the {name} tab…")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.note)


class LaterPages(QObject):
    """Builds the pages of ``builders`` (name → a function that builds it and puts it in its
    tab) once ``window`` has painted, or when one is asked for."""

    built = Signal(str)
    """A page was built (its name)."""
    all_built = Signal()

    def __init__(self, window: Any, builders: dict[str, Callable[[], object]]) -> None:
        super().__init__(window)
        self.window = window
        self.builders = builders
        self.pages: dict[str, object] = {}
        self._worker: object = None
        self._imported = False
        self._stopped = False
        window.installEventFilter(self)

    def placeholder(self, name: str) -> Placeholder:
        return Placeholder(name, lambda: self.page(name))

    def page(self, name: str) -> Any:
        """Page ``name``, built now if it was not yet (on the UI thread: its modules are
        imported here if the worker has not imported them yet)."""
        if name not in self.pages:
            page = self.builders[name]()
            self.pages[name] = page
            self.built.emit(name)
            if self.done():
                self.all_built.emit()
        return self.pages[name]

    def done(self) -> bool:
        """Every page is built."""
        return len(self.pages) == len(self.builders)

    def importing(self) -> bool:
        """The worker importing the pages' modules has not reported yet."""
        return self._worker is not None

    def built_page(self, name: str) -> Any:
        """Page ``name`` if it is built, else None (never builds)."""
        return self.pages.get(name)

    def finish(self) -> None:
        """Build every page now."""
        for name in self.builders:
            self.page(name)

    def stop(self) -> None:
        """The window is closing: build nothing more."""
        self._stopped = True

    # -- after the first paint ------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._start)
        return False

    def _start(self) -> None:
        if self._stopped or self.done():
            return
        from app.workers import Worker

        worker = Worker(_import_modules, nice=True, needs_torch=False)
        worker.finished.connect(self._modules_imported)
        self._worker = worker  # kept until it reports
        worker.start()

    def _modules_imported(self) -> None:
        # a failed import is reported when the page is built (its error, on the UI thread)
        self._worker = None
        self._imported = True
        self._build_next()

    def _build_next(self) -> None:
        if self._stopped:
            return
        current = self.window.tabs.currentIndex()
        waiting = [name for name in self.builders if name not in self.pages]
        if not waiting:
            return
        # the tab the user is looking at first, then the others in tab order
        shown = next((n for n in waiting if self.window.tabs.tabText(current) == n), None)
        self.page(shown or waiting[0])
        if len(waiting) > 1:
            QTimer.singleShot(0, self._build_next)  # one page per event-loop turn

    def tab_shown(self, name: str) -> None:
        """A tab was shown: its page is built now if its modules are in, else when they are."""
        if name in self.builders and name not in self.pages and self._imported \
                and not self._stopped:
            self.page(name)

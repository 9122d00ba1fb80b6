"""Tabs whose pages scroll instead of widening the window.

A page's minimum width at projector text (24 pt) can exceed what is left beside the docks at
1920 px (the Inspect and Classroom pages need ~1,080 px), and a QTabWidget takes the largest
minimum of all its pages, hidden or not. Each page sits in a frameless QScrollArea:
at normal text it fills the tab as before; when the tab is narrower than the page's minimum the
page scrolls and the docks keep their readable widths. Callers keep addressing the pages
themselves: widget(), currentWidget(), indexOf() and setCurrentWidget() see through the scroll
areas.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class _PageScroll(QScrollArea):
    """The scroll area around one page (a page may itself be a QScrollArea).

    The page is sized here, not by ``widgetResizable``: that asks a page whose layout has
    height-for-width (any word-wrapped label) for its preferred height at the viewport's width,
    which made the Inspect page taller than the window and scrolled it at normal text. Here the
    page is exactly the viewport's size, grown only to its minimum where the viewport is
    smaller."""

    def __init__(self, page: QWidget) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidget(page)
        page.installEventFilter(self)
        self.viewport().installEventFilter(self)

    def fit_page(self) -> None:
        page = self.widget()
        if page is None:
            return
        view = self.viewport().size()
        least = page.minimumSizeHint().expandedTo(page.minimumSize())
        size = QSize(max(view.width(), least.width()), max(view.height(), least.height()))
        if page.size() != size:
            page.resize(size)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.viewport() and event.type() == QEvent.Type.Resize) or (
                watched is self.widget() and event.type() == QEvent.Type.LayoutRequest):
            self.fit_page()
        return False


class PageTabs(QTabWidget):
    """A QTabWidget whose pages scroll when the tab is smaller than their minimum size."""

    def minimumSizeHint(self) -> QSize:
        """Never narrower than every tab's label: the docks beside it give way (after present
        mode at 1366 px a fifth tab, Label, went behind the tab bar's scroll arrows)."""
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self.tabBar().sizeHint().width() + 8), hint.height())

    def addTab(self, page: QWidget, label: str) -> int:  # type: ignore[override]
        area = _PageScroll(page)
        area.setObjectName(f"{label}Scroll")
        return super().addTab(area, label)

    def put_page(self, page: QWidget, label: str) -> int:
        """Put ``page`` in the tab labelled ``label`` in place of its placeholder (a page built
        after the first paint: app.window.later_pages), or in a new tab if there is none."""
        for index in range(self.count()):
            holder = super().widget(index)
            if self.tabText(index) == label and isinstance(holder, _PageScroll):
                old = holder.takeWidget()
                if old is not None:
                    old.removeEventFilter(holder)
                    old.deleteLater()
                holder.setWidget(page)
                page.installEventFilter(holder)
                holder.fit_page()
                return index
        return self.addTab(page, label)

    @staticmethod
    def _page(holder: QWidget | None) -> QWidget | None:
        if isinstance(holder, _PageScroll):
            return holder.widget()
        return holder

    def widget(self, index: int) -> QWidget | None:
        """The page of tab ``index``; a page still to be built after the first paint (its
        placeholder has ``finish_page``) is built now: whoever asks for it gets the page."""
        page = self._page(super().widget(index))
        finish = getattr(page, "finish_page", None)
        if callable(finish):
            finish()
            page = self._page(super().widget(index))
        return page

    # PySide6's stub types the result as never None; Qt returns None while there is no tab
    def currentWidget(self) -> QWidget | None:  # type: ignore[override]
        return self._page(super().currentWidget())

    def indexOf(self, page: QWidget) -> int:
        for index in range(self.count()):
            if self._page(super().widget(index)) is page:  # builds no page still to come
                return index
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)

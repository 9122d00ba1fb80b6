"""Tabs whose pages scroll instead of widening the window.

A page's minimum width at projector text (24 pt) can exceed what is left beside the docks at
1920 px (the Inspect and Classroom pages need ~1,080 px), and a QTabWidget takes the largest
minimum of all its pages, hidden or not. Each page sits in a frameless, resizable QScrollArea:
at normal text it fills the tab as before; when the tab is narrower than the page's minimum the
page scrolls and the docks keep their readable widths. Callers keep addressing the pages
themselves: widget(), currentWidget(), indexOf() and setCurrentWidget() see through the scroll
areas.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QWidget


class _PageScroll(QScrollArea):
    """The scroll area around one page (a page may itself be a QScrollArea)."""


class PageTabs(QTabWidget):
    """A QTabWidget whose pages scroll when the tab is smaller than their minimum size."""

    def addTab(self, page: QWidget, label: str) -> int:  # type: ignore[override]
        area = _PageScroll()
        area.setObjectName(f"{label}Scroll")
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidgetResizable(True)
        area.setWidget(page)
        return super().addTab(area, label)

    @staticmethod
    def _page(holder: QWidget | None) -> QWidget | None:
        if isinstance(holder, _PageScroll):
            return holder.widget()
        return holder

    def widget(self, index: int) -> QWidget | None:  # type: ignore[override]
        return self._page(super().widget(index))

    def currentWidget(self) -> QWidget | None:  # type: ignore[override]
        return self._page(super().currentWidget())

    def indexOf(self, page: QWidget) -> int:  # type: ignore[override]
        for index in range(self.count()):
            if self.widget(index) is page:
                return index
        return -1

    def setCurrentWidget(self, page: QWidget) -> None:  # type: ignore[override]
        index = self.indexOf(page)
        if index >= 0:
            self.setCurrentIndex(index)

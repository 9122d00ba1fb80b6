"""Presentation mode: the Classroom tab full screen for a wall, and back exactly as it was.

Entering remembers the window's geometry, state (docks, toolbars), full-screen flag, menu and
status bar visibility, the current tab, the application font and palette; it then shows only
the Classroom tab, full screen, in large type with thick lines and a high-contrast palette, and
a pointer highlight follows the mouse. Keyboard only: Space / Page Down for the lesson's next
step, Backspace / Page Up for the previous one, arrows to move the output position, P to hide
the pointer, Esc or F5 to leave. Leaving restores everything remembered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QCursor, QFont, QKeyEvent, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QMainWindow, QTabWidget, QWidget

from app.classroom.grids import NORMAL, PRESENT

PRESENT_POINTS = 22
POINTER_RADIUS = 34


class PointerHighlight(QWidget):
    """A ring that follows the mouse over the window, so the class sees what is pointed at."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.timer = QTimer(self)
        self.timer.setInterval(33)
        self.timer.timeout.connect(self._follow)
        self.spot = QPoint(-100, -100)

    def start(self) -> None:
        parent = self.parentWidget()
        assert parent is not None
        self.setGeometry(parent.rect())
        self.raise_()
        self.show()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.hide()

    def _follow(self) -> None:
        parent = self.parentWidget()
        if parent is not None and self.geometry() != parent.rect():
            self.setGeometry(parent.rect())
        spot = self.mapFromGlobal(QCursor.pos())
        if spot != self.spot:
            self.spot = spot
            self.update()

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(PRESENT.mark))
        pen.setWidth(6)
        painter.setPen(pen)
        painter.setBrush(QColor(255, 230, 0, 60))
        painter.drawEllipse(self.spot, POINTER_RADIUS, POINTER_RADIUS)
        painter.end()


@dataclass
class _Saved:
    geometry: QByteArray
    state: QByteArray
    window_state: Qt.WindowState
    menu_visible: bool
    status_visible: bool
    tab: int
    tab_bar_visible: bool
    font: QFont
    palette: QPalette
    widget_fonts: dict[int, tuple[QWidget, QFont | None]]
    """Each shown widget's own font, None where it inherited its parent's (so the text-size
    actions reach it again after leaving)."""
    tabs_minimum: QSize
    rect: QRect


def high_contrast_palette() -> QPalette:
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#000000"),
                         (QPalette.ColorRole.WindowText, "#ffffff"),
                         (QPalette.ColorRole.Base, "#000000"),
                         (QPalette.ColorRole.AlternateBase, "#1a1a1a"),
                         (QPalette.ColorRole.Text, "#ffffff"),
                         (QPalette.ColorRole.Button, "#222222"),
                         (QPalette.ColorRole.ButtonText, "#ffffff"),
                         (QPalette.ColorRole.Highlight, "#ffe600"),
                         (QPalette.ColorRole.HighlightedText, "#000000"),
                         (QPalette.ColorRole.ToolTipBase, "#000000"),
                         (QPalette.ColorRole.ToolTipText, "#ffffff")):
        palette.setColor(role, QColor(colour))
    return palette


class PresentMode(QObject):
    """Enter and leave presentation mode on ``window``, showing ``panel`` (in ``tabs``)."""

    def __init__(self, window: QMainWindow, tabs: QTabWidget, panel: Any) -> None:
        super().__init__(window)
        self.window, self.tabs, self.panel = window, tabs, panel
        self.saved: _Saved | None = None
        self.pointer = PointerHighlight(window)
        self.pointer.hide()

    @property
    def active(self) -> bool:
        return self.saved is not None

    def toggle(self) -> None:
        if self.active:
            self.leave()
        else:
            self.enter()

    def enter(self) -> None:
        if self.active:
            return
        window = self.window
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        self.saved = _Saved(
            window.saveGeometry(), window.saveState(), window.windowState(),
            window.menuBar().isVisible(), window.statusBar().isVisible(),
            self.tabs.currentIndex(), self.tabs.tabBar().isVisible(), QFont(app.font()),
            QPalette(app.palette()),
            {id(w): (w, QFont(w.font()) if w.testAttribute(Qt.WidgetAttribute.WA_SetFont)
                     else None) for w in self._shown_widgets()}, self.tabs.minimumSize(),
            QRect(window.geometry()))
        # the hidden tabs' minimum sizes at large type must not push the window past the screen
        self.tabs.setMinimumSize(QSize(1, 1))
        self.tabs.setCurrentWidget(self.panel)
        self.tabs.tabBar().setVisible(False)
        window.menuBar().setVisible(False)
        window.statusBar().setVisible(False)
        for dock in window.findChildren(QWidget):
            if (dock.inherits("QDockWidget") or dock.inherits("QToolBar")) and \
                    dock.parentWidget() is window:
                dock.setVisible(False)  # restoreState brings docks and toolbars back
        app.setPalette(high_contrast_palette())
        for widget in self._shown_widgets():
            font = QFont(widget.font())  # its weight and family kept (a card's bold title)
            font.setPointSize(PRESENT_POINTS)
            widget.setFont(font)
        self.panel.set_look(PRESENT)
        window.showFullScreen()
        app.installEventFilter(self)
        self.pointer.start()

    def leave(self) -> None:
        saved = self.saved
        if saved is None:
            return
        self.saved = None
        window = self.window
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.removeEventFilter(self)
        self.pointer.stop()
        # the palette first: a widget restyled (set_look) under the high-contrast palette
        # keeps that palette's white text on the light window
        app.setPalette(saved.palette)
        for widget, font in saved.widget_fonts.values():
            widget.setFont(QFont() if font is None else font)  # QFont(): inherit again
        self.panel.set_look(NORMAL)
        # settle the layouts at the restored fonts while the panel is still shown: a hidden
        # widget keeps the size hints cached at the large type
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        window.setWindowState(saved.window_state)
        if not saved.window_state & Qt.WindowState.WindowFullScreen:
            window.showNormal() if not saved.window_state & (
                Qt.WindowState.WindowMaximized) else window.showMaximized()
        window.restoreGeometry(saved.geometry)
        window.restoreState(saved.state)
        window.menuBar().setVisible(saved.menu_visible)
        window.statusBar().setVisible(saved.status_visible)
        self.tabs.tabBar().setVisible(saved.tab_bar_visible)
        self.tabs.setMinimumSize(saved.tabs_minimum)
        if not saved.window_state & (Qt.WindowState.WindowFullScreen
                                     | Qt.WindowState.WindowMaximized):
            # restoreGeometry can land a few pixels off (frame margins); put it exactly back,
            # now and once the restored fonts have settled the layouts
            self._place(saved.rect)
            QTimer.singleShot(0, lambda: self._place(saved.rect))
        self.tabs.setCurrentIndex(saved.tab)

    def _place(self, rect: QRect) -> None:
        """Back to ``rect``: the window's layout first recomputes its minimum size (it was set
        at the large type and would keep the window wider than it was)."""
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        layout = self.window.layout()
        if layout is not None:
            layout.invalidate()
            layout.activate()
        self.window.setGeometry(rect)

    def _shown_widgets(self) -> list[QWidget]:
        """What presentation mode shows (the central area without the other tabs' pages); only
        these get the large type, so the hidden pages keep their sizes."""
        central = self.window.centralWidget()
        if central is None:
            return []
        others = [self.tabs.widget(i) for i in range(self.tabs.count())
                  if self.tabs.widget(i) is not self.panel]
        return [w for w in [central, *central.findChildren(QWidget)]
                if not any(page is w or page.isAncestorOf(w) for page in others
                           if page is not None)]

    # -- keyboard ---------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        return self.key(event.key())

    def key(self, key: int) -> bool:
        """Handle one key in presentation mode; True when it was used."""
        view = self.panel.current_view()
        if key in (Qt.Key.Key_Escape, Qt.Key.Key_F5):
            self.leave()
        elif key in (Qt.Key.Key_Space, Qt.Key.Key_PageDown):
            if not self.panel.next_lesson_step(+1):
                view.step_by(+1)
        elif key in (Qt.Key.Key_Backspace, Qt.Key.Key_PageUp):
            if not self.panel.next_lesson_step(-1):
                view.step_by(-1)
        elif key == Qt.Key.Key_Right:
            view.step_by(+1)
        elif key == Qt.Key.Key_Left:
            view.step_by(-1)
        elif key == Qt.Key.Key_Down:
            view.move_row(+1)
        elif key == Qt.Key.Key_Up:
            view.move_row(-1)
        elif key == Qt.Key.Key_P:
            if self.pointer.isVisible():
                self.pointer.stop()
            else:
                self.pointer.start()
        else:
            return False
        return True

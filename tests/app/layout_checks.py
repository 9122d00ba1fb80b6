"""What a person sees that a layout gets wrong, measured on the live widgets.

Each check walks the shown widgets under a root and returns one line per fault (empty: none):
- ``overflow``: a page or list wider than the area that shows it (a horizontal scroll bar);
- ``cut_text``: a label, button, box, tab, group title or table column smaller than its text;
- ``low_contrast``: text below WCAG AA (4.5:1) against what is behind it, from the palette;
- ``row_heights``: item-view rows (tables, lists, trees) shorter than their text's lines, or
  left far taller than them (a row height fixed at another text size);
- ``menus_off_screen``: a menu taller or wider than the screen (Qt then scrolls or clips it).

Used by the layout matrix (test_layout_matrix.py) and the screenshots script, so the pictures in
the README are the states the suite checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QModelIndex, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QHelpEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGraphicsView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QListView,
    QMenu,
    QMenuBar,
    QPlainTextEdit,
    QStyle,
    QTabBar,
    QTableView,
    QTabWidget,
    QTextEdit,
    QToolTip,
    QTreeView,
    QWidget,
)

W = TypeVar("W", bound=QWidget)

CONTRAST_AA = 4.5
"""WCAG 2.x AA for body text."""


def _luminance(colour: QColor) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def background(widget: QWidget) -> QColor:
    """The colour behind ``widget``: its own where it fills its background (buttons, boxes and
    item views paint their Button/Base role), else the first ancestor that fills it."""
    if isinstance(widget, (QAbstractItemView, QPlainTextEdit, QTextEdit)):
        return widget.palette().color(QPalette.ColorRole.Base)
    if isinstance(widget, QAbstractButton) and not widget.inherits("QCheckBox") and \
            not widget.inherits("QRadioButton"):
        return widget.palette().color(QPalette.ColorRole.Button)
    parent: QWidget | None = widget
    while parent is not None:
        if parent.autoFillBackground() or parent.isWindow():
            return parent.palette().color(parent.backgroundRole())
        parent = parent.parentWidget()
    return widget.palette().color(QPalette.ColorRole.Window)


def foreground(widget: QWidget) -> QColor:
    if isinstance(widget, (QAbstractItemView, QPlainTextEdit, QTextEdit)):
        return widget.palette().color(QPalette.ColorRole.Text)
    if isinstance(widget, QAbstractButton) and not widget.inherits("QCheckBox") and \
            not widget.inherits("QRadioButton"):
        return widget.palette().color(QPalette.ColorRole.ButtonText)
    return widget.palette().color(widget.foregroundRole())


def shown(root: QWidget, kind: type[W] = QWidget) -> list[W]:  # type: ignore[assignment]
    """The widgets of ``kind`` under ``root`` (itself included) that are on screen: visible and
    not inside a closed popup or a scrolled-away area's hidden part."""
    found = [w for w in root.findChildren(kind) if w.isVisible() and w.width() > 0]
    if isinstance(root, kind) and root.isVisible():
        found.insert(0, root)
    return found


def _name(widget: QWidget) -> str:
    text = ""
    for getter in ("text", "title", "currentText", "windowTitle"):
        value = getattr(widget, getter, None)
        if callable(value):
            try:
                got = value()
            except TypeError:
                continue
            if isinstance(got, str) and got:
                text = got
                break
    name = widget.objectName()
    label = f"{type(widget).__name__}"
    if name:
        label += f"#{name}"
    if text:
        label += f" {text[:40]!r}"
    return label


def overflow(root: QWidget) -> list[str]:
    """Shown scroll areas (pages, lists, tables) whose content is wider than their viewport.

    The diagram is left out: it zooms, and zooming in is meant to scroll. Vertical scrolling is
    allowed (a long settings form or ranking list scrolls down, as pages do)."""
    found = []
    for area in shown(root, QAbstractScrollArea):
        if isinstance(area, (QGraphicsView, QPlainTextEdit, QTextEdit)):
            continue
        bar = area.horizontalScrollBar()
        if bar.maximum() > 0 and area.horizontalScrollBarPolicy() != \
                Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            found.append(f"{_name(area)}: content {bar.maximum()} px wider than its "
                         f"{area.viewport().width()} px viewport")
    return found


def tooltip_at(table: QAbstractItemView, index: QModelIndex) -> str:
    """The tooltip shown when the pointer rests on a shown cell (the help event Qt sends the
    viewport then); "" when none shows."""
    point = table.visualRect(index).center()
    QToolTip.hideText()
    QApplication.sendEvent(table.viewport(), QHelpEvent(QEvent.Type.ToolTip, point,
                                                        table.viewport().mapToGlobal(point)))
    text = QToolTip.text() if QToolTip.isVisible() else ""
    QToolTip.hideText()
    return text


def _elided_in_the_middle(table: QTableView, column: int) -> bool:
    """The column's long texts are elided in the middle (both ends show: "layer1…conv1") and
    each shown cell whose text is longer than the column gives it whole in its tooltip: a
    deliberate elision where there is no room, not text cut off. A header cut is still cut."""
    model = table.model()
    header = table.horizontalHeader()
    width = table.columnWidth(column)
    if table.textElideMode() != Qt.TextElideMode.ElideMiddle or \
            header.sectionSizeFromContents(column).width() > width + 1:
        return False
    first = max(0, table.rowAt(0))
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    for row in range(first, last + 1):
        index = model.index(row, column)
        text = index.data()
        if table.isRowHidden(row) or not text or table.sizeHintForIndex(index).width() <= width:
            continue
        if str(text) not in tooltip_at(table, index):
            return False
    return True


def _table_columns(table: QTableView) -> list[str]:
    found = []
    model = table.model()
    if model is None:
        return found
    header = table.horizontalHeader()
    for column in range(model.columnCount()):
        if table.isColumnHidden(column):
            continue
        width = table.columnWidth(column)
        need = max(table.sizeHintForColumn(column), header.sectionSizeFromContents(column).width())
        if need > width + 1 and not _elided_in_the_middle(table, column):
            title = model.headerData(column, Qt.Orientation.Horizontal)
            found.append(f"{_name(table)} column {title!r}: {width} px, its text needs {need}")
    return found


def cut_text(root: QWidget) -> list[str]:
    """Shown text that does not fit: labels (one line: narrower than their text; wrapped:
    shorter than their lines), buttons, combo and spin boxes (smaller than their minimum size
    hint), group-box titles, tab titles (elided or scrolled) and table columns."""
    found = []
    for label in shown(root, QLabel):
        assert isinstance(label, QLabel)
        if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
            continue
        if label.wordWrap():
            need = label.heightForWidth(label.width())
            if need > label.height() + 1:
                found.append(f"{_name(label)} needs {need} px of height, has {label.height()}")
        elif label.minimumSizeHint().width() > label.width() + 1:
            found.append(f"{_name(label)} needs {label.minimumSizeHint().width()} px, "
                         f"has {label.width()}")
    for widget in shown(root):
        parent = widget.parentWidget()
        if isinstance(widget, (QAbstractButton, QComboBox, QAbstractSpinBox)) and \
                parent is not None and not parent.inherits("QTabBar") and \
                widget.width() + 1 < widget.minimumSizeHint().width():
            found.append(f"{_name(widget)} {widget.width()} px < its "
                         f"{widget.minimumSizeHint().width()} px minimum")
        if isinstance(widget, QGroupBox) and widget.title():
            need = widget.fontMetrics().horizontalAdvance(widget.title()) + 16
            if need > widget.width():
                found.append(f"{_name(widget)} title needs {need} px, has {widget.width()}")
        if isinstance(widget, QTabBar):
            for i in range(widget.count()):
                rect = widget.tabRect(i)
                if rect.width() + 1 < widget.tabSizeHint(i).width():
                    found.append(f"{_name(widget)} tab {widget.tabText(i)!r} elided "
                                 f"({rect.width()} of {widget.tabSizeHint(i).width()} px)")
                elif not widget.rect().contains(rect):
                    found.append(f"{_name(widget)} tab {widget.tabText(i)!r} beyond the "
                                 f"{widget.width()} px tab bar (behind its scroll arrows)")
        if isinstance(widget, QTableView):
            found.extend(_table_columns(widget))
        if isinstance(widget, QMenuBar):
            need = widget.sizeHint().width()
            if need > widget.width() + 1:
                found.append(f"menu bar needs {need} px, has {widget.width()}")
    return found


def low_contrast(root: QWidget) -> list[str]:
    """Shown enabled text (labels, buttons, boxes, lists) under 4.5:1 against its background.
    Disabled controls are exempt, as in WCAG."""
    found = []
    kinds = (QLabel, QAbstractButton, QComboBox, QAbstractSpinBox, QAbstractItemView, QGroupBox)
    for widget in shown(root):
        if not isinstance(widget, kinds) or not widget.isEnabled():
            continue
        if isinstance(widget, QLabel) and (not widget.text() or (
                widget.pixmap() is not None and not widget.pixmap().isNull())):
            continue
        ratio = contrast(foreground(widget), background(widget))
        if ratio < CONTRAST_AA:
            found.append(f"{_name(widget)}: {ratio:.2f}:1")
    return found


def menus_off_screen(menu_bar: QMenuBar, screen: QRect) -> list[str]:
    """Menus (and their submenus) that would not fit the screen when opened."""
    found = []

    def visit(menu: QMenu, path: str) -> None:
        menu.aboutToShow.emit()
        menu.ensurePolished()
        hint = menu.sizeHint()
        if hint.height() > screen.height() or hint.width() > screen.width():
            found.append(f"{path}: {hint.width()}×{hint.height()} on a "
                         f"{screen.width()}×{screen.height()} screen")
        for action in menu.actions():
            sub = action.menu()
            if isinstance(sub, QMenu):
                visit(sub, f"{path} → {action.text().replace('&', '')}")

    for action in menu_bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            visit(menu, action.text().replace("&", ""))
    return found


OVERSIZE = 1.6
"""A row taller than this many times its text (and than the style's default row) was left at a
larger text size's height."""
_MOST_ROWS = 60
"""The rows looked at per view: what a screen shows of it."""


def _shown_indexes(view: QAbstractItemView) -> Iterator[QModelIndex]:
    """The first column's (a table's: every shown column's) indexes of the rows in sight."""
    model = view.model()
    if model is None:
        return
    area = view.viewport().rect()
    if isinstance(view, QTableView):
        first = max(0, view.rowAt(0))
        last = view.rowAt(area.height() - 1)
        last = model.rowCount(view.rootIndex()) - 1 if last < 0 else last
        columns = [c for c in range(model.columnCount(view.rootIndex()))
                   if not view.isColumnHidden(c)]
        for row in range(first, min(last, first + _MOST_ROWS) + 1):
            if not view.isRowHidden(row):
                yield from (model.index(row, c, view.rootIndex()) for c in columns)
        return
    if isinstance(view, QTreeView):
        index = view.indexAt(QPoint(1, 1))
        for _ in range(_MOST_ROWS):
            if not index.isValid() or view.visualRect(index).top() > area.bottom():
                return
            yield index
            index = view.indexBelow(index)
        return
    if isinstance(view, QListView):
        count = 0
        for row in range(model.rowCount(view.rootIndex())):
            if view.isRowHidden(row):
                continue
            index = model.index(row, view.modelColumn(), view.rootIndex())
            if view.visualRect(index).intersects(area):
                yield index
                count += 1
                if count >= _MOST_ROWS:
                    return


def _text_height(view: QAbstractItemView, index: QModelIndex) -> int:
    """The height of the index's text lines in the font it is drawn in (its own font, where it
    has one, over the view's)."""
    text = index.data(Qt.ItemDataRole.DisplayRole)
    if text is None or str(text) == "":
        return 0
    own = index.data(Qt.ItemDataRole.FontRole)
    font = own.resolve(view.font()) if isinstance(own, QFont) else view.font()
    metrics = QFontMetrics(font)
    lines = str(text).count("\n") + 1
    return metrics.height() + (lines - 1) * metrics.lineSpacing()


def row_heights(root: QWidget) -> list[str]:
    """Shown item-view rows (tables, lists, trees) shorter than their text needs (its font's
    line height, or the delegate's size hint where that is more: underscores and descenders
    cut), and text rows far taller than their text and the style's default row (a height
    fixed at projector text, left there when the text went back to normal). One line per view:
    its first such row."""
    found = []
    for view in shown(root, QAbstractItemView):
        if isinstance(view, QHeaderView) or view.model() is None:
            continue
        grid = 1 if isinstance(view, QTableView) and view.showGrid() else 0
        default = view.style().pixelMetric(
            QStyle.PixelMetric.PM_HeaderDefaultSectionSizeVertical, None, view) \
            if isinstance(view, QTableView) else 0
        for index in _shown_indexes(view):
            text = _text_height(view, index)
            if text == 0:
                continue
            have = view.visualRect(index).height()
            if isinstance(view, QTableView):  # the row's height, its grid line included
                have = view.rowHeight(index.row()) - grid
            need = max(text, view.sizeHintForIndex(index).height() - grid)
            name = str(index.data(Qt.ItemDataRole.DisplayRole)).replace("\n", " ")[:30]
            if have < need:
                found.append(f"{_name(view)} row {name!r}: {have} px, its text needs {need}")
                break
            decorated = index.data(Qt.ItemDataRole.DecorationRole) is not None
            if not decorated and have > max(OVERSIZE * text, default + 2):
                found.append(f"{_name(view)} row {name!r}: {have} px, far taller than its "
                             f"{text} px text")
                break
    return found


def every_fault(root: QWidget) -> list[str]:
    return overflow(root) + cut_text(root) + low_contrast(root) + row_heights(root)


Wait = Callable[[Callable[[], bool]], None]
"""Runs the event loop until the condition holds (qtbot.waitUntil in tests)."""


def settle(turns: int = 10) -> None:
    """Run the event loop a number of turns (posted layout requests, zero-time timers)."""
    from PySide6.QtWidgets import QApplication

    for _ in range(turns):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def settle_classroom(window: Any, wait: Wait) -> None:
    """The step-through computed and its grids fitted (they fit on a timer after resizes)."""
    panel = window.classroom.panel
    view = panel.step_view
    wait(lambda: view.session is not None and view.step_result is not None)
    shown = panel.current_view()
    if shown is not view:  # the backward or matrix view: its result, or why there is none
        wait(lambda: not shown.busy and (shown.result is not None or bool(shown.info.text())))
    settle()
    fitting = getattr(window.classroom.panel, "_fit_timer", None)
    if fitting is not None:
        wait(lambda: not fitting.isActive())
    settle()


def _inner_tabs(page: QWidget) -> list[QTabWidget]:
    """The tab widgets on a page (their pages picked by a tab bar or, as Inspect's views, by a
    wrapping bar of buttons)."""
    return [t for t in page.findChildren(QTabWidget) if t.isVisible() and t.count() > 1]


def walk_pages(window: Any, wait: Wait, lesson: str | None = None) -> Iterator[str]:
    """Show every page of the window in turn, as drawn once its jobs finished, yielding its name
    ("Build", "Inspect / Filters"): every tab, and every tab of a tab widget on it. With
    ``lesson``, the Classroom then opens that lesson (which replaces the model in the window)
    and shows it as "Classroom / lesson": what a class sees, the lesson text above its steps."""

    def ready(name: str) -> None:
        settle()
        if name.startswith("Classroom"):
            settle_classroom(window, wait)
        if name.startswith("Train"):  # the curves drawn, not "Loading the plotting library"
            wait(lambda: window.training.curves.built)
            settle()
        if name.startswith("Inspect"):  # the view as drawn, not half-way through its job
            wait(lambda: not window.inspect.busy)
            settle()

    tabs = window.tabs
    for index in range(tabs.count()):
        tabs.setCurrentIndex(index)
        name = tabs.tabText(index).replace("&", "")
        ready(name)
        if name.startswith("Classroom"):  # the Show choice: forward, backward, as a matrix
            choice = window.classroom.panel.mode_choice
            for mode in range(choice.count()):
                choice.setCurrentIndex(mode)
                page = name if mode == 0 else f"{name} / {choice.itemText(mode)}"
                ready(page)
                yield page
            choice.setCurrentIndex(0)
            ready(name)
            if lesson is not None and window.classroom.open_lesson(lesson):
                ready(name)
                yield f"{name} / lesson"
            continue
        inner = _inner_tabs(tabs.currentWidget())
        if not inner:
            yield name
            continue
        for sub in inner:
            for j in range(sub.count()):
                sub.setCurrentIndex(j)
                page = f"{name} / {sub.tabText(j).replace('&', '')}"
                ready(page)
                yield page

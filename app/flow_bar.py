"""Rows that wrap: page buttons instead of a tab bar that hides pages behind arrows, tool rows.

A QTabBar never wraps: at projector text the Inspect tab's eight view titles need ~1,700 px and
the last three went behind its scroll arrows in a 1,326-px page. ``FlowBar`` holds one
checkable button per page in a flow layout (the layout of Qt's Flow Layout example): as many
per row as fit, the rest on the next row, the bar as tall as its rows.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QLayout,
    QLayoutItem,
    QSizePolicy,
    QToolButton,
    QWidget,
)


class FlowLayout(QLayout):
    """Items left to right, wrapped onto a new row where the next one would not fit."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        """One row of every item (the width it would like)."""
        width = sum(i.sizeHint().width() for i in self._items) + self._spacing * max(
            0, len(self._items) - 1)
        height = max((i.sizeHint().height() for i in self._items), default=0)
        return QSize(width, height)

    def minimumSize(self) -> QSize:
        """As narrow as its widest item (then one item per row)."""
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, move: bool) -> int:
        """Lay the items out in rows (each item centred in its row's height); the height."""
        rows: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = rect.x()
        for item in self._items:
            if item.isEmpty():
                continue
            hint = item.sizeHint().boundedTo(QSize(max(1, rect.width()), 1 << 20))
            if x + hint.width() > rect.right() + 1 and rows[-1]:
                rows.append([])
                x = rect.x()
            rows[-1].append((item, hint))
            x += hint.width() + self._spacing
        y = rect.y()
        for row in rows:
            height = max((hint.height() for _, hint in row), default=0)
            x = rect.x()
            for item, hint in row:
                if move:
                    item.setGeometry(QRect(QPoint(x, y + (height - hint.height()) // 2), hint))
                x += hint.width() + self._spacing
            y += height + self._spacing
        return max(0, y - self._spacing - rect.y())


class FlowRow(QWidget):
    """Widgets in a row that wraps onto more rows where it is narrow; as tall as its rows."""

    def __init__(self, widgets: list[QWidget] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flow = FlowLayout(self)
        for widget in widgets or []:
            self.flow.addWidget(widget)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self.flow.heightForWidth(width)


class FlowBar(FlowRow):
    """One checkable button per page; ``picked`` says which was clicked."""

    picked = Signal(int)

    def __init__(self, titles: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        layout = self.flow
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: list[QToolButton] = []
        for index, title in enumerate(titles):
            button = QToolButton()
            button.setText(title)
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setAutoRaise(True)  # flat until picked: the picked one stands out, as a tab
            self.group.addButton(button, index)
            layout.addWidget(button)
            self.buttons.append(button)
        self.group.idClicked.connect(self.picked)

    def check(self, index: int) -> None:
        if 0 <= index < len(self.buttons) and not self.buttons[index].isChecked():
            self.buttons[index].setChecked(True)

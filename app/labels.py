"""Labels that keep their text whole."""

from __future__ import annotations

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QWidget


class WrappedLabel(QLabel):
    """A word-wrapped label that is never shorter than its wrapped lines.

    Qt's layouts ask a wrapped label for its height at its width only where the layout itself
    does height-for-width; nested in rows and columns it was given one line's height and the
    rest was cut (the confusion matrix's note at 1366×768 in projector text). The label asks for
    its lines' height whenever its width changes."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setWordWrap(True)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        need = self.heightForWidth(self.width())
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)

    def setText(self, text: str) -> None:
        super().setText(text)
        need = self.heightForWidth(self.width())
        if need > 0:
            self.setMinimumHeight(need)

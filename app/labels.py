"""Labels that keep their text whole."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


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


class StatusLine(QLabel):
    """One line of plain text that never runs past its edge: too long for the width, it is
    shortened in the middle with "…" (a run's name at the start and its file at the end stay),
    the whole text in the tooltip. One line, so the buttons around it never move."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def text(self) -> str:
        """The whole line (what is drawn may be shortened)."""
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def setText(self, text: str) -> None:
        self.set_line(text)

    def set_line(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width() - 2 * self.margin() - 2
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle,
                                              max(0, room))
        if shown != super().text():
            super().setText(shown)

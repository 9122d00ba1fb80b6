"""Table rows as tall as their text at every text size.

A QTableView's rows take its vertical header's default section size, which Qt takes from the
style (about 30 px) whatever the font: at projector text (24 pt, a 38 px line) the rows cut the
text's descenders, the underscores of ``layer1_0_conv1`` (issue 17). :func:`fit_rows_to_text`
keeps a table's default row at its font's line height and a little padding, and follows every
text-size change, both ways.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QStyle, QTableView

ROW_PADDING = 2
"""Room above and below a row's text, in pixels."""


def text_row_height(table: QTableView) -> int:
    """The row height that shows one line of the table's text whole (its grid line, padding
    included), never below the style's default row (how the table looks at normal text)."""
    header = table.verticalHeader()
    default = table.style().pixelMetric(
        QStyle.PixelMetric.PM_HeaderDefaultSectionSizeVertical, None, header)
    grid = 1 if table.showGrid() else 0
    return max(default, table.fontMetrics().height() + 2 * ROW_PADDING + grid)


class RowsFollowText(QObject):
    """Sets the table's default row height now and after each font or style change;
    ``fitted`` is emitted when it changed (a view sized to its rows measures them again)."""

    fitted = Signal()

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self.table = table
        table.installEventFilter(self)
        self.fit()

    def fit(self) -> None:
        header = self.table.verticalHeader()
        height = text_row_height(self.table)
        header.setMinimumSectionSize(min(height, header.minimumSectionSize()))
        if header.defaultSectionSize() != height:
            header.setDefaultSectionSize(height)
            self.fitted.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() in (QEvent.Type.FontChange,
                                                      QEvent.Type.StyleChange):
            self.fit()
        return False


def fit_rows_to_text(table: QTableView) -> RowsFollowText:
    """Keep ``table``'s rows as tall as its text from now on (see the module's docstring)."""
    return RowsFollowText(table)

"""A model's card in the Classroom tab: its layers, shapes and parameter count."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout

from app.classroom.grids import PRESENT, Look
from app.style import error_color
from core.analysis.model_analysis import ModelAnalysis
from core.analysis.summary import shape_text


def bold() -> QFont:
    """A font that sets only the weight: the family and size stay inherited."""
    font = QFont()
    font.setBold(True)
    return font


class ModelCard(QFrame):
    """A model's layers, shapes and parameter count, for comparing models side by side."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.title = QLabel(title)
        self.title.setFont(bold())  # bold only: the size still follows the window's text
        self.title.setWordWrap(True)
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setWordWrap(True)
        self.body.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.total = QLabel()
        layout.addWidget(self.title)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.total)
        self.analysis: ModelAnalysis | None = None
        self.highlight: QColor | None = None
        self.border = 3

    def show_analysis(self, analysis: ModelAnalysis, title: str | None = None) -> None:
        self.analysis = analysis
        if title is not None:
            self.title.setText(title)
        spec = analysis.spec
        rows = [f"input {shape_text(spec.input_shape)}"]
        for layer in analysis.layers[:6]:
            rows.append(f"{layer.name} ({layer.type}) → {shape_text(layer.output_shape)} · "
                        f"{layer.params:,}")
        if len(analysis.layers) > 6:
            rows.append(f"… {len(analysis.layers) - 6} more layers")
        if analysis.error is not None:
            rows.append(f"<span style='color:{error_color().name()}'>⚠ {analysis.error}</span>")
        self.body.setText("<br>".join(rows))
        self.total.setText(f"<b>{analysis.total_params:,} parameters</b>")

    def set_highlight(self, on: bool, look: Look) -> None:
        """Outline the card (drawn, not a style sheet: labels under a style sheet kept the
        palette and font of when it was set, white on grey after presentation mode)."""
        self.highlight = QColor(look.mark) if on else None
        self.border = 6 if look is PRESENT else 3
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.highlight is None:
            return
        painter = QPainter(self)
        pen = QPen(self.highlight)
        pen.setWidth(self.border)
        painter.setPen(pen)
        half = self.border / 2
        painter.drawRect(QRectF(self.rect()).adjusted(half, half, -half, -half))
        painter.end()

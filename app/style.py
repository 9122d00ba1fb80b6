"""Colours, fonts and the light/dark themes; the whole window follows the font size setting."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

GROUP_COLORS = {
    "convolution": "#3b82c4",
    "pooling": "#2a9d8f",
    "normalization": "#8e6cc7",
    "activation": "#e09f3e",
    "regularization": "#9c8f80",
    "shape": "#5f7a8a",
    "merge": "#c8553d",
}
ERROR_COLOR = "#d62828"
BASE_POINT_SIZE = 10
MIN_POINT_SIZE, MAX_POINT_SIZE = 8, 28


def group_color(group: str) -> QColor:
    return QColor(GROUP_COLORS.get(group, "#777777"))


def apply_theme(app: QApplication, dark: bool, point_size: int) -> None:
    """Switch the Fusion palette between light and dark and set the application font size."""
    if app.style().name().lower() != "fusion":
        # once: setting a style again re-polishes every widget of the application (seconds
        # with a few windows open), and the palette and font below need no new style
        app.setStyle("Fusion")
    palette = QPalette()
    if dark:
        roles = {
            QPalette.ColorRole.Window: "#2b2d31", QPalette.ColorRole.WindowText: "#e6e6e6",
            QPalette.ColorRole.Base: "#1f2124", QPalette.ColorRole.AlternateBase: "#2a2c30",
            QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#34373c",
            QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#3d7fd1",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase:
                "#34373c", QPalette.ColorRole.ToolTipText: "#e6e6e6",
            QPalette.ColorRole.PlaceholderText: "#8a8d91", QPalette.ColorRole.Link: "#7ab7ff",
        }
        for role, color in roles.items():
            palette.setColor(role, QColor(color))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#777"))
        palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText,
                         QColor("#777"))
    else:
        palette = app.style().standardPalette()
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSize(max(MIN_POINT_SIZE, min(MAX_POINT_SIZE, point_size)))
    app.setFont(font)
    # windows pass the font on to their children; setting it on every widget one by one could
    # touch a widget that an earlier font change had just deleted (a crash)
    for widget in app.topLevelWidgets():
        widget.setFont(font)

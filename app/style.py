"""Colours, fonts and the light/dark themes; the whole window follows the font size setting."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QLayout, QWidget

from core.analysis.diagram_look import GROUP_COLORS  # shared with convscope render diagram

ERROR_COLOR = "#d62828"
"""Marks drawn on a block or a cell border (not text: see error_color)."""
ERROR_TEXT = {"light": "#b3261e", "dark": "#ff8a80"}
"""Error text that reads at 5.7:1 on the light theme's window and 6:1 on the dark one (and on
present mode's black); #d62828 was 4.4:1 on light grey and 2.8:1 on the dark theme."""
BASE_POINT_SIZE = 10
MIN_POINT_SIZE, MAX_POINT_SIZE = 8, 28


def group_color(group: str) -> QColor:
    return QColor(GROUP_COLORS.get(group, "#777777"))


def relative_luminance(color: QColor) -> float:
    """WCAG 2's relative luminance of an sRGB colour (0 black … 1 white)."""
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    return (0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF())
            + 0.0722 * channel(color.blueF()))


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2's contrast ratio of two colours (1 … 21)."""
    light, dark = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


MIN_CONTRAST = 4.5
"""WCAG AA for body text."""


def secondary_text_color(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Base,
                         fraction: float = 0.45) -> QColor:
    """A quieter text colour for secondary labels (a block's output shape) on ``palette``'s
    ``role`` background: ``fraction`` of the way from the text colour to the background, then
    back toward the text colour until it reads at 4.5:1 (a fixed #888 read at 3.5:1 on white)."""
    text = palette.color(QPalette.ColorRole.Text)
    ground = palette.color(role)
    step = fraction
    while True:
        mixed = QColor.fromRgbF(
            text.redF() + (ground.redF() - text.redF()) * step,
            text.greenF() + (ground.greenF() - text.greenF()) * step,
            text.blueF() + (ground.blueF() - text.blueF()) * step)
        if step <= 0 or contrast_ratio(mixed, ground) >= MIN_CONTRAST:
            return mixed
        step = max(0.0, step - 0.05)


def error_color(palette: QPalette | None = None) -> QColor:
    """The error text colour for text on ``palette``'s window (the application's by default)."""
    if palette is None:
        palette = QApplication.palette()
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor(ERROR_TEXT["dark" if dark else "light"])


def error_html(text: str, palette: QPalette | None = None) -> str:
    """``text`` (already HTML) in the error colour, for rich-text labels."""
    return f"<span style='color:{error_color(palette).name()}'>{text}</span>"


class ErrorText(QObject):
    """Keeps a label's text in the error colour of the palette it is shown on, through theme
    changes and present mode (a palette role, not a style sheet: a style sheet keeps the colours
    and font of when it was set). ``active`` False gives the label its normal text colour."""

    def __init__(self, label: QWidget, active: bool = True) -> None:
        super().__init__(label)
        self.label = label
        self.active = active
        label.installEventFilter(self)
        self._apply()

    def set_active(self, active: bool) -> None:
        self.active = active
        self._apply()

    def _apply(self) -> None:
        parent = self.label.parentWidget()
        base = parent.palette() if parent is not None else QApplication.palette()
        want = error_color(base) if self.active else base.color(QPalette.ColorRole.WindowText)
        if self.label.palette().color(QPalette.ColorRole.WindowText) == want:
            return
        palette = QPalette()  # only the text colour: the rest follows the window's palette
        palette.setColor(QPalette.ColorRole.WindowText, want)
        palette.setColor(QPalette.ColorRole.Text, want)
        self.label.setPalette(palette)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.label and event.type() in (
                QEvent.Type.PaletteChange, QEvent.Type.ParentChange, QEvent.Type.Show):
            self._apply()
        return False


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
    # an unchanged palette or font is not set again: setting either sends a change event to
    # every widget (at start-up the window is themed before it is built, then asked again)
    if palette != app.palette():
        app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSize(max(MIN_POINT_SIZE, min(MAX_POINT_SIZE, point_size)))
    changed = font != app.font()
    if changed:
        app.setFont(font)
    # windows pass the font on to their children; setting it on every widget one by one could
    # touch a widget that an earlier font change had just deleted (a crash)
    for widget in app.topLevelWidgets():
        if widget.font() != font:  # one already showing it (built after the change) is left
            widget.setFont(font)
            changed = True
    if changed:
        for widget in app.topLevelWidgets():
            forget_hidden_sizes(widget)


def forget_hidden_sizes(root: QWidget) -> None:
    """Drop the sizes that the layouts of ``root``'s hidden widgets computed at the old text size.

    A font change invalidates only a widget's top layout; Qt recomputes its nested layouts when
    it activates the layout, which it does for shown widgets only. A tab widget still counts
    its hidden pages' minimums, so after projector text and back to normal the Inspect tab kept
    the hidden Style view's 24 pt minimum (1,233 px where 636 px fit) and its page was 437 px
    wider than its view. Every layout of a hidden widget is invalidated here, nested ones too,
    and the nearest shown widget above it asks its own layout again. (Layouts are QObjects,
    their items are not: a Python wrapper of a QLayoutItem outlives the item it wraps.)"""
    shown: dict[int, QWidget] = {}
    for layout in root.findChildren(QLayout):
        widget = layout.parentWidget()
        if widget is None or widget.isVisible():
            continue
        layout.invalidate()
        above = widget.parentWidget()
        while above is not None and not above.isVisible():
            above = above.parentWidget()
        if above is not None:
            shown[id(above)] = above
    for widget in shown.values():
        widget.updateGeometry()

"""pyqtgraph plots' text at the window's text size (View → Larger Text / Projector Text).

pyqtgraph draws its titles, tick labels, axis labels and legends itself and does not follow the
application font, so every plot with text is restyled here when the font size changes: the
Train tab's curves and the Inspect tab's precision–recall plot share this one rule.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont


def small_size(point_size: int) -> int:
    """Ticks, axis labels and legend entries: two points under the text size (at least 7)."""
    return max(7, point_size - 2)


def scale_plot_text(plot: pg.PlotItem, point_size: int, font: QFont | None = None) -> None:
    """The plot's title at ``point_size``; tick labels, axis labels and legend entries two
    points smaller. The texts stay as they are (``plot.setTitle(text)`` later keeps the size)."""
    base = QFont(font) if font is not None else QFont()
    base.setPointSize(point_size)
    small = QFont(base)
    small.setPointSize(small_size(point_size))
    small_css = f"{small_size(point_size)}pt"
    title = plot.titleLabel.text
    if title:
        plot.setTitle(title, size=f"{point_size}pt")
    else:
        plot.titleLabel.opts["size"] = f"{point_size}pt"  # for a title set later
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setStyle(tickFont=small)
        axis.label.setFont(small)
        if axis.labelText:
            axis.setLabel(axis.labelText, units=axis.labelUnits or None,
                          **{"font-size": small_css})
    legend = plot.legend
    if legend is not None:
        legend.setLabelTextSize(small_css)  # entries added later take it too
        for _sample, label in legend.items:
            label.setText(label.text, size=small_css)

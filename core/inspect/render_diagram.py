"""The builder's model diagram as an SVG or PNG file, without Qt (``convscope render diagram``).

The same layered layout and look as the window (core.analysis.graph_layout and diagram_look):
blocks sized by their output, coloured by the layer's group, every connection drawn, flowing
right or down. Drawn with matplotlib; text widths are measured by matplotlib's renderer, so the
pitches are the window's for the same text size. Written all-or-nothing.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextPath

from core.analysis import graph_layout
from core.analysis.diagram_look import (
    EDGE_COLOR,
    GROUP_COLORS,
    INPUT_COLOR,
    LABEL_ROTATION,
    PENDING_COLOR,
    PICTURE_SCALE,
    block_size,
    pitches,
)
from core.analysis.graph_layout import Direction
from core.analysis.model_analysis import analyze_model
from core.analysis.summary import shape_text
from core.model.catalog import CATALOG
from core.model.spec import ModelSpec

FONT_POINTS = 8.0
DPI = 96.0
LINE = FONT_POINTS * DPI / 72 * 1.35
MAX_PNG_SIDE = 30000
"""Longer drawings are scaled down in a PNG (Agg's limit is 2^16 pixels; an SVG is not)."""
SUFFIXES = (".svg", ".png")


class DiagramError(ValueError):
    """A diagram that cannot be written as asked (the message says why)."""


def _text_width(text: str) -> float:
    return float(TextPath((0, 0), text, size=FONT_POINTS * DPI / 72).get_extents().width)


def diagram_figure(spec: ModelSpec, direction: Direction,
                   pictures: Mapping[str, np.ndarray] | None = None
                   ) -> tuple[Figure, float, float]:
    """The figure of ``spec``'s diagram and its size in pixels (width, height); ``pictures``
    (core.inspect.thumbnails, by block name) are drawn inside their blocks, as the window's
    thumbnails are."""
    analysis = analyze_model(spec)
    done = len(analysis.layers)
    names = ["input"]
    shapes = [shape_text(spec.input_shape)]
    sizes = [block_size(spec.input_shape)]
    colors = [INPUT_COLOR]
    for index, layer in enumerate(spec.layers):
        info = analysis.layers[index] if index < done else None
        names.append(layer.name)
        shapes.append(shape_text(info.output_shape) if info else "—")
        sizes.append(block_size(info.output_shape if info else None))
        colors.append(GROUP_COLORS.get(CATALOG[layer.type].group, "#777777")
                      if info else PENDING_COLOR)
    layout = graph_layout.layered_layout(spec)
    longest = max(_text_width(text) for text in (*names, *shapes))
    rank_pitch, lane_pitch, origin = pitches(layout, sizes, longest, LINE, direction)
    placed = graph_layout.place(layout, sizes, rank_pitch, lane_pitch, direction, origin)
    width, height = placed.width + 40, placed.height + 40
    if direction == "right":
        width += longest * math.cos(math.radians(LABEL_ROTATION)) + 2 * LINE
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(-20, width - 20)
    ax.set_ylim(height - 20, -20)  # y down, as in the window
    ax.set_axis_off()
    for points in placed.paths:
        ax.add_patch(PathPatch(_edge(points, direction), facecolor="none",
                               edgecolor=EDGE_COLOR, linewidth=1.2, zorder=1))
    tallest = max(size[1] for size in sizes)
    widest = max(size[0] for size in sizes)
    for (cx, cy), (w, h), color, name, shape in zip(placed.centers, sizes, colors, names,
                                                    shapes, strict=True):
        ax.add_patch(Rectangle((cx - w / 2, cy - h / 2), w, h, facecolor=color, alpha=0.85,
                               edgecolor="#333333", linewidth=0.8, zorder=2))
        picture = pictures.get(name) if pictures else None
        if picture is not None:
            pw, ph = picture.shape[1] / PICTURE_SCALE, picture.shape[0] / PICTURE_SCALE
            ax.imshow(picture, extent=(cx - pw / 2, cx + pw / 2, cy + ph / 2, cy - ph / 2),
                      interpolation="nearest", aspect="auto", zorder=3)
        if direction == "right":
            top = cy + tallest / 2 + 6
            for row, text in enumerate((name, shape)):
                ax.text(cx - LINE * 0.4 + row * LINE * 0.9, top, text, rotation=-LABEL_ROTATION,
                        rotation_mode="anchor", ha="left", va="top", fontsize=FONT_POINTS,
                        color="#222222" if row == 0 else "#777777")
        else:
            left = cx + widest / 2 + 8
            ax.text(left, cy, name, ha="left", va="bottom", fontsize=FONT_POINTS,
                    color="#222222")
            ax.text(left, cy, shape, ha="left", va="top", fontsize=FONT_POINTS, color="#777777")
    ax.set_xlim(-20, width - 20)  # imshow's autoscale must not move the frame
    ax.set_ylim(height - 20, -20)
    return fig, width, height


def _edge(points: tuple[tuple[float, float], ...], direction: Direction) -> MplPath:
    """The connection's curves through its route and an arrowhead (as the window draws it)."""
    vertices = [points[0]]
    codes = [MplPath.MOVETO]
    for (ax_, ay), (bx, by) in itertools.pairwise(points):
        if direction == "down":
            mid = (ay + by) / 2
            vertices += [(ax_, mid), (bx, mid), (bx, by)]
        else:
            mid = (ax_ + bx) / 2
            vertices += [(mid, ay), (mid, by), (bx, by)]
        codes += [MplPath.CURVE4] * 3
    x, y = points[-1]
    head = [(x - 4, y - 7), (x, y), (x + 4, y - 7)] if direction == "down" else \
        [(x - 7, y - 4), (x, y), (x - 7, y + 4)]
    vertices += head
    codes += [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO]
    return MplPath(vertices, codes)


def write_diagram(spec: ModelSpec, direction: Direction, path: Path,
                  pictures: Mapping[str, np.ndarray] | None = None) -> Path:
    """Write ``spec``'s diagram to ``path`` (.svg or .png), all-or-nothing; with ``pictures``
    (each block's thumbnail) drawn in the blocks."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DiagramError(f"{path.name}: the diagram is written as SVG or PNG; use a name "
                           "ending in .svg or .png")
    if direction not in graph_layout.DIRECTIONS:
        raise DiagramError(f"direction must be down or right, not {direction!r}")
    fig, width, height = diagram_figure(spec, direction, pictures)
    dpi = DPI * min(1.0, MAX_PNG_SIDE / max(width, height)) if suffix == ".png" else DPI
    tmp = path.with_name(path.name + ".tmp")
    try:
        fig.savefig(str(tmp), dpi=dpi, format=suffix[1:], facecolor="white")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path

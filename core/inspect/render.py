"""Rendering inspection views to PNG at a chosen size (for slides), with matplotlib's Agg canvas.

The command line and the GUI's Export both call these, so an exported view is the same picture
whichever way it was made. Every picture states its weights and how the input was converted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.inspect.inspector import FilterGrid
from core.regular_files import write_atomic

DPI = 100


def _figure(width: int, height: int) -> Figure:
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _grid_shape(n: int, aspect: float = 1.0) -> tuple[int, int]:
    cols = max(1, math.ceil(math.sqrt(n * aspect)))
    return math.ceil(n / cols), cols


def _footer(fig: Figure, lines: Sequence[str]) -> None:
    if lines:
        fig.text(0.01, 0.005, "\n".join(lines), fontsize=8, va="bottom", ha="left",
                 color="#444444")


def _save(fig: Figure, path: Path) -> Path:
    """All-or-nothing: a failed or interrupted render leaves no half-written picture (nor
    destroys the one already there)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower() or "png"
    write_atomic(path, lambda tmp: fig.savefig(str(tmp), dpi=DPI, format=fmt))
    return path


def filters_figure(grid: FilterGrid, title: str, notes: Sequence[str] = (),
                   size: tuple[int, int] = (1200, 900)) -> Figure:
    """Each kernel as a small image; one colour scale (shown) for all of them."""
    fig = _figure(*size)
    n = grid.kernels.shape[0]
    rows, cols = _grid_shape(n, 1.4)
    bottom = 0.04 + 0.018 * len(notes)
    axes_area = fig.add_gridspec(rows, cols, left=0.03, right=0.88, top=0.9, bottom=bottom,
                                 wspace=0.08, hspace=0.25)
    image = None
    for i in range(n):
        ax = fig.add_subplot(axes_area[i // cols, i % cols])
        kernel = grid.kernels[i]
        if grid.color:
            rgb = (kernel.transpose(1, 2, 0) - grid.vmin) / (grid.vmax - grid.vmin)
            ax.imshow(np.clip(rgb, 0, 1), interpolation="nearest")
        else:
            image = ax.imshow(kernel[0], cmap="RdBu_r", vmin=grid.vmin, vmax=grid.vmax,
                              interpolation="nearest")
            if kernel.shape[-1] <= 5 and n <= 16:
                for (r, c), value in np.ndenumerate(kernel[0]):
                    ax.text(c, r, f"{value:.2g}", ha="center", va="center", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(grid.titles[i] if grid.titles else str(i), fontsize=7, pad=2)
    if image is not None:
        bar = fig.add_axes((0.9, bottom, 0.02, 0.9 - bottom))
        fig.colorbar(image, cax=bar, label="weight")
    else:
        fig.text(0.895, 0.5, f"RGB: each channel scaled\nfrom {grid.vmin:.3g}\nto {grid.vmax:.3g}",
                 fontsize=8, va="center")
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig


def activations_figure(values: np.ndarray, title: str, notes: Sequence[str] = (),
                       size: tuple[int, int] = (1200, 900), labels: Sequence[str] = ()
                       ) -> Figure:
    """All feature maps of a layer on one colour scale; a 1-D output as a bar chart."""
    fig = _figure(*size)
    bottom = 0.06 + 0.018 * len(notes)
    if values.ndim == 1:
        ax = fig.add_axes((0.08, bottom + 0.04, 0.88, 0.86 - bottom))
        ax.bar(range(len(values)), values, color="#3b82c4")
        if labels and len(labels) == len(values) and len(values) <= 30:
            ax.set_xticks(range(len(values)), labels, rotation=45, fontsize=8)
        ax.set_xlabel("unit")
        ax.set_ylabel("value")
    else:
        maps = values.reshape(values.shape[0], values.shape[1], -1) if values.ndim == 3 else \
            values.reshape(values.shape[0], 1, -1)
        n = maps.shape[0]
        rows, cols = _grid_shape(n, 1.4 * maps.shape[1] / maps.shape[2])
        gs = fig.add_gridspec(rows, cols, left=0.03, right=0.88, top=0.9, bottom=bottom,
                              wspace=0.06, hspace=0.2)
        vmin, vmax = float(maps.min()), float(maps.max())
        image = None
        for i in range(n):
            ax = fig.add_subplot(gs[i // cols, i % cols])
            image = ax.imshow(maps[i], cmap="viridis", vmin=vmin, vmax=vmax,
                              interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(str(i), fontsize=7, pad=2)
        if image is not None:
            fig.colorbar(image, cax=fig.add_axes((0.9, bottom, 0.02, 0.9 - bottom)),
                         label="activation")
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig


HEAT_CMAP = "jet"
HEAT_ALPHA = 0.5


def overlay_rgb(display: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """The input (C, H, W in 0..1) with a heat map (H, W in 0..1) blended over it, as an
    (H, W, 3) float image. The GUI and ``convscope render`` both draw this array, so an
    attribution looks the same in both."""
    from matplotlib import colormaps

    picture = display.transpose(1, 2, 0) if display.shape[0] == 3 else \
        np.repeat(display[0][..., None], 3, axis=2)
    colours = np.asarray(colormaps[HEAT_CMAP](np.clip(heat, 0, 1)))[..., :3]
    blended = (1 - HEAT_ALPHA) * picture + HEAT_ALPHA * colours
    return np.clip(blended, 0, 1).astype(np.float32)


def overlay_figure(display: np.ndarray, heat: np.ndarray, title: str,
                   notes: Sequence[str] = (), size: tuple[int, int] = (1200, 650)) -> Figure:
    """The input beside the input with a heat map laid over it (overlay_rgb)."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    fig = _figure(*size)
    bottom = 0.06 + 0.02 * len(notes)
    picture = display.transpose(1, 2, 0) if display.shape[0] == 3 else display[0]
    cmap = None if display.shape[0] == 3 else "gray"
    left = fig.add_axes((0.03, bottom, 0.42, 0.84 - bottom))
    left.imshow(picture, cmap=cmap, interpolation="nearest", vmin=0, vmax=1)
    left.set_title("input", fontsize=10)
    right = fig.add_axes((0.5, bottom, 0.42, 0.84 - bottom))
    right.imshow(overlay_rgb(display, heat), interpolation="nearest")
    right.set_title("attribution", fontsize=10)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(ScalarMappable(Normalize(0, 1), HEAT_CMAP),
                 cax=fig.add_axes((0.93, bottom, 0.015, 0.84 - bottom)))
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig


def save_png(fig: Figure, path: Path) -> Path:
    return _save(fig, path)


def figure_rgba(fig: Figure) -> np.ndarray:
    """The figure as an (H, W, 4) uint8 array (for the GUI's preview)."""
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()  # type: ignore[no-untyped-call]
    return np.asarray(canvas.buffer_rgba()).copy()  # type: ignore[no-untyped-call]

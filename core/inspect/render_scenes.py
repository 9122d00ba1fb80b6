"""PNG figures of masks and boxes (the CLI's ``render masks|boxes`` and the GUI's Export)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from core.inspect.render import _figure, _footer
from core.inspect.scenes import class_colour, mask_overlay


def masks_figure(display: np.ndarray, predicted: np.ndarray, truth: np.ndarray | None,
                 classes: Sequence[str], title: str, notes: Sequence[str] = (),
                 size: tuple[int, int] = (1200, 650), alpha: float = 0.6) -> Figure:
    """Input, predicted mask over it and (when known) the true mask, with a class legend."""
    fig = _figure(*size)
    bottom = 0.1 + 0.02 * len(notes)
    panels: list[tuple[str, np.ndarray]] = [
        ("input", mask_overlay(display, np.zeros_like(predicted), alpha)),
        ("prediction", mask_overlay(display, predicted, alpha))]
    if truth is not None:
        panels.append(("ground truth", mask_overlay(display, truth, alpha)))
    width = 0.8 / len(panels)
    for i, (name, picture) in enumerate(panels):
        ax = fig.add_axes((0.02 + i * (width + 0.01), bottom, width, 0.82 - bottom))
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(name, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    shown = sorted({int(c) for c in np.unique(predicted)}
                   | ({int(c) for c in np.unique(truth)} if truth is not None else set()))
    handles = [Patch(color=tuple(v / 255 for v in class_colour(c)),  # type: ignore[arg-type]
                     label=classes[c] if c < len(classes) else str(c)) for c in shown if c]
    if handles:
        fig.legend(handles=handles, loc="center right", fontsize=10, title="classes")
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig


def boxes_figure(picture: np.ndarray, heat: np.ndarray, title: str, notes: Sequence[str] = (),
                 size: tuple[int, int] = (1200, 650)) -> Figure:
    """Boxes over the input beside the grid's objectness heat map (before threshold and NMS)."""
    fig = _figure(*size)
    bottom = 0.08 + 0.02 * len(notes)
    left = fig.add_axes((0.02, bottom, 0.5, 0.84 - bottom))
    left.imshow(picture, interpolation="nearest")
    left.set_title("boxes (coloured: predicted, class and score; white: ground truth)",
                   fontsize=10)
    right = fig.add_axes((0.56, bottom, 0.36, 0.84 - bottom))
    image = right.imshow(heat, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    right.set_title(f"objectness per grid cell ({heat.shape[0]}×{heat.shape[1]})", fontsize=10)
    for ax in (left, right):
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(image, cax=fig.add_axes((0.93, bottom, 0.015, 0.84 - bottom)))
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig

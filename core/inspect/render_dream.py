"""Dreams and styles as PNG figures: the pictures side by side, the objective or the losses per
step, and the notes (weights, settings; plainly when the weights are random)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from core.inspect.dream import Dream, DreamSettings
from core.inspect.inputs import ModelInput
from core.inspect.render import _figure, _footer
from core.inspect.style import Stylised

DREAM_SIZE = (1400, 600)
STYLE_SIZE = (1600, 600)


def _picture(ax: Axes, image: np.ndarray, title: str) -> None:
    grey = image.shape[0] == 1
    picture = image[0] if grey else image.transpose(1, 2, 0)
    ax.imshow(np.clip(picture, 0, 1), cmap="gray" if grey else None,
              vmin=0, vmax=1, interpolation="nearest" if image.shape[-1] < 64 else "antialiased")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def _panels(images: Sequence[tuple[np.ndarray, str]], curves: Sequence[tuple[list[float], str]],
            curve_title: str, title: str, notes: Sequence[str], size: tuple[int, int]) -> Figure:
    fig = _figure(*size)
    bottom = 0.07 + 0.022 * len(notes)
    count = len(images)
    grid = fig.add_gridspec(1, count + 1, left=0.03, right=0.97, top=0.86, bottom=bottom,
                            wspace=0.15, width_ratios=[1.0] * count + [0.8])
    for index, (image, label) in enumerate(images):
        _picture(fig.add_subplot(grid[0, index]), image, label)
    ax = fig.add_subplot(grid[0, count])
    for values, label in curves:
        ax.plot(range(len(values)), values, label=label)
    ax.set_xlabel("step", fontsize=9)
    ax.set_title(curve_title, fontsize=10)
    ax.tick_params(labelsize=8)
    if len(curves) > 1:
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig


def dream_figure(dream: Dream, title: str, notes: Sequence[str] = (),
                 size: tuple[int, int] = DREAM_SIZE) -> Figure:
    """The start beside the dream, and the objective rising step by step."""
    return _panels([(dream.start, "start"), (dream.image, "dream")],
                   [(dream.objective, "objective")], "objective per step", title,
                   [*notes, *dream.notes], size)


def style_figure(result: Stylised, title: str, notes: Sequence[str] = (),
                 size: tuple[int, int] = STYLE_SIZE) -> Figure:
    """Content, style and the result, and both losses per step."""
    return _panels([(result.content, "content"), (result.style, "style"),
                    (result.image, "result")],
                   [(result.style_loss, "style (Gram)"), (result.content_loss, "content")],
                   "weighted losses per step", title, [*notes, *result.notes], size)


def input_line(what: str, inp: ModelInput) -> str:
    """``what: source — how it was converted`` (a figure's footer line for an input)."""
    return f"{what}: {inp.source}" + (f" — {'; '.join(inp.notes)}" if inp.notes else "")


def dream_picture(model_name: str, dream: Dream, settings: DreamSettings, start: ModelInput,
                  size: tuple[int, int] = DREAM_SIZE) -> Figure:
    """The figure ``convscope render dream`` writes and the Dream view exports: titled with
    the model, the layer and the objective, the input in the footer."""
    return dream_figure(dream, f"{model_name} · DeepDream on {settings.layer} "
                        f"({settings.objective()})", [input_line("input", start)], size)


def style_picture(model_name: str, result: Stylised, content: ModelInput, style: ModelInput,
                  size: tuple[int, int] = STYLE_SIZE) -> Figure:
    """The figure ``convscope render style`` writes and the Style view exports."""
    return style_figure(result, f"{model_name} · style transfer",
                        [input_line("content", content), input_line("style", style)], size)

"""A comparison of runs (core.inspect.compare) as one picture: curves overlaid with a legend
per run, the final metrics in a table, the confusion matrices and their difference, and the
first convolution's filters of each run side by side."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.gridspec import GridSpec
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from core.inspect.compare import Comparison
from core.inspect.inspector import filter_grid
from core.inspect.render import _figure

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
          "#17becf")
"""One colour per run, the same in the figure and in the Train tab."""


def run_color(index: int) -> str:
    return COLORS[index % len(COLORS)]


def _tile(kernels: np.ndarray) -> np.ndarray:
    """(out, in, kh, kw) kernels as one grey mosaic of their first input channel (colour
    kernels as RGB), one pixel of gap."""
    grid = filter_grid(kernels, "first")
    k = grid.kernels
    n, c, h, w = k.shape
    cols = max(1, math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + 1) - 1, cols * (w + 1) - 1, c), np.nan, dtype=np.float32)
    for i in range(n):
        r, col = divmod(i, cols)
        out[r * (h + 1):r * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = \
            k[i].transpose(1, 2, 0)
    scale = max(abs(grid.vmin), abs(grid.vmax)) or 1.0
    return out / scale


def _split(name: str) -> tuple[str, str]:
    """train_loss -> ("loss", "train"); val_acc -> ("acc", "val")."""
    split, _, metric = name.partition("_")
    return (metric, split) if split in ("train", "val") and metric else (name, "")


def comparison_figure(comparison: Comparison, title: str = "",
                      size: tuple[int, int] = (1600, 1200)) -> Figure:
    fig = _figure(*size)
    runs = comparison.runs
    groups: dict[str, list[str]] = {}
    for name in comparison.curve_names():
        groups.setdefault(_split(name)[0], []).append(name)
    has_confusion = any(run.confusion is not None for run in runs)
    rows = 3 + (1 if has_confusion else 0)
    area = fig.add_gridspec(rows, max(2, len(groups), len(runs) + 1), left=0.05, right=0.97,
                            top=0.93, bottom=0.04, hspace=0.45, wspace=0.3)
    columns = area.ncols
    # curves: one plot per metric (loss, acc, …), train dashed and validation solid
    per = max(1, columns // max(1, len(groups)))
    for g, (metric, names) in enumerate(groups.items()):
        ax = fig.add_subplot(area[0, g * per:(g + 1) * per])
        for i, run in enumerate(runs):
            for name in names:
                if name not in run.curves:
                    continue
                split = _split(name)[1]
                ax.plot(run.epochs, run.curves[name], marker="o", markersize=3,
                        color=run_color(i), linestyle="--" if split == "train" else "-",
                        label=f"{run.name} · {split or name}")
        ax.set_title(metric, fontsize=10)
        ax.set_xlabel("epoch", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7)
    # the table of final metrics
    metrics = comparison.metric_names()
    ax = fig.add_subplot(area[1, :])
    ax.axis("off")
    cells = [[run.name] + [f"{run.final[m]:.4g}" if m in run.final else "—" for m in metrics]
             for run in runs]
    if metrics:
        table = ax.table(cellText=cells, colLabels=["run", *metrics], cellLoc="center",
                         bbox=Bbox.from_bounds(0.0, 0.1, 1.0, 0.8))
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        for i in range(len(runs)):
            table[i + 1, 0].get_text().set_color(run_color(i))
    ax.set_title("final metrics (last epoch; test when recorded)", fontsize=10)
    _details(fig, area, 2, comparison)
    fig.suptitle(title or f"{len(runs)} {comparison.task} runs compared", fontsize=12)
    notes = [f"{run.name}: {note}" for run in runs for note in run.notes]
    if notes:
        fig.text(0.01, 0.005, "\n".join(notes[:4]), fontsize=7, color="#444444")
    return fig


def _details(fig: Figure, area: GridSpec, row: int, comparison: Comparison) -> None:
    """From ``row`` of ``area`` down: each run's confusion matrix and their difference (when
    any run has one), then each run's first filters."""
    runs = comparison.runs
    has_confusion = any(run.confusion is not None for run in runs)
    if has_confusion:
        for i, run in enumerate(runs):
            if run.confusion is None:
                continue
            ax = fig.add_subplot(area[row, i])
            ax.imshow(run.confusion, cmap="Blues", interpolation="nearest")
            ax.set_title(f"{run.name}: confusion (val)", fontsize=8, color=run_color(i))
            ax.set_xlabel("predicted", fontsize=7)
            ax.set_ylabel("true", fontsize=7)
            ax.tick_params(labelsize=6)
        diff = comparison.confusion_difference
        if diff is not None:
            ax = fig.add_subplot(area[row, len(runs)])
            limit = max(1, int(np.abs(diff).max()))
            image = ax.imshow(diff, cmap="RdBu_r", vmin=-limit, vmax=limit,
                              interpolation="nearest")
            ax.set_title(f"{runs[1].name} − {runs[0].name}", fontsize=8)
            ax.tick_params(labelsize=6)
            fig.colorbar(image, ax=ax, shrink=0.8)
        row += 1
    for i, run in enumerate(runs):
        ax = fig.add_subplot(area[row, i])
        ax.set_xticks([])
        ax.set_yticks([])
        if run.filters is None:
            ax.text(0.5, 0.5, "no convolution", ha="center", va="center", fontsize=8)
            continue
        tile = _tile(run.filters)
        if tile.shape[2] == 3:
            ax.imshow(np.clip(np.nan_to_num(tile, nan=0.0) * 0.5 + 0.5, 0, 1),
                      interpolation="nearest")
        else:
            ax.imshow(tile[:, :, 0], cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"{run.name}: {run.filters_layer}", fontsize=8, color=run_color(i))


def details_figure(comparison: Comparison, size: tuple[int, int] = (1400, 700)) -> Figure:
    """Only the confusion matrices, their difference and the first filters (the Train tab
    draws the curves and the table itself)."""
    fig = _figure(*size)
    runs = comparison.runs
    rows = 2 if any(run.confusion is not None for run in runs) else 1
    area = fig.add_gridspec(rows, len(runs) + 1, left=0.04, right=0.97, top=0.93,
                            bottom=0.06, hspace=0.35, wspace=0.3)
    _details(fig, area, 0, comparison)
    notes = [f"{run.name}: {note}" for run in runs for note in run.notes]
    if notes:
        fig.text(0.01, 0.005, "\n".join(notes[:3]), fontsize=7, color="#444444")
    return fig

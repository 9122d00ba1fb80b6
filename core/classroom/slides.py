"""Slides: a lesson's or a step-through's steps as numbered 1920×1080 PNGs (matplotlib Agg).

Large type and thick lines, for a projector: every number of a step is drawn in its cell,
padding cells are grey and hatched, the max-pooling choice is outlined, and the output map
marks where the value lands. ``summary_figure`` draws a model's layers, shapes and parameters.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from core.analysis.model_analysis import ModelAnalysis
from core.analysis.summary import format_count
from core.classroom.backward import GradientStep
from core.classroom.lessons import Lesson, LessonStep
from core.classroom.matrix import ConvMatrix, counterparts
from core.classroom.step import Step
from core.classroom.text import formula, gradient_term, gradient_total, number, where
from core.inspect.render import _figure, _save

SLIDE = (1920, 1080)
MAX_CHANNELS = 3
"""Input channels drawn in full on a slide; the others are summed in the formula line."""
MIN_POINTS = 8.0
"""Grid numbers smaller than this on a slide are rounded to fewer digits, or left out."""
INK, PAD, POSITIVE, NEGATIVE, HIGHLIGHT = "#111111", "#bdbdbd", "#f4a582", "#92c5de", "#d62728"


def _grid(ax: Axes, values: np.ndarray, title: str, padding: np.ndarray | None = None,
          chosen: tuple[int, int] | None = None, mark: tuple[int, int] | None = None,
          fontsize: float = 30) -> None:
    """A grid of numbers with coloured cells (sign), padding greyed, one cell outlined; the
    numbers share one size, the largest at which the widest fits its cell."""
    rows, cols = values.shape
    limit = float(np.nanmax(np.abs(values))) if values.size else 0.0
    texts, shown = [], []
    for (r, c), value in np.ndenumerate(values):
        is_pad = padding is not None and bool(padding[r, c])
        strength = 0.0 if limit == 0 else min(1.0, abs(float(value)) / limit)
        colour = PAD if is_pad else (POSITIVE if value > 0 else NEGATIVE if value < 0
                                     else "#ffffff")
        ax.add_patch(Rectangle((c, r), 1, 1, facecolor=colour, edgecolor=INK, linewidth=2,
                               alpha=1.0 if is_pad else 0.35 + 0.65 * strength,
                               hatch="//" if is_pad else None))
        if rows * cols <= 144:
            texts.append(ax.text(c + 0.5, r + 0.5, number(float(value)), ha="center",
                                 va="center", fontsize=fontsize, color=INK,
                                 fontweight="bold"))
            shown.append(float(value))
    for cell, colour in ((chosen, HIGHLIGHT), (mark, HIGHLIGHT)):
        if cell is not None:
            ax.add_patch(Rectangle((cell[1], cell[0]), 1, 1, fill=False, edgecolor=colour,
                                   linewidth=6))
    ax.set_xlim(0, cols)
    ax.set_ylim(rows, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=20, pad=8)
    _fit_texts(ax, texts, shown, fontsize)


def _fit_texts(ax: Axes, texts: Sequence[Text], values: Sequence[float],
               fontsize: float) -> None:
    """One font size for ``texts``: ``fontsize`` or smaller, so the widest value (and the
    tallest) stays inside its cell with a margin (three-digit values ran together). Below
    MIN_POINTS the values are rounded to fewer digits, and left out when even that is too
    small (the cells' colours still show them)."""
    if not texts:
        return
    ax.apply_aspect()  # the axes' final box: the cells' size in pixels
    (x0, y0), (x1, y1) = ax.transData.transform([(0, 0), (1, 1)])
    cell_width, cell_height = abs(x1 - x0), abs(y1 - y0)
    renderer = ax.figure.canvas.get_renderer()  # type: ignore[attr-defined]
    for shorten in (number, lambda v: f"{v:.3g}".replace("-", "−"),
                    lambda v: f"{v:.2g}".replace("-", "−")):
        for text, value in zip(texts, values, strict=True):
            text.set_text(shorten(value))
            text.set_fontsize(fontsize)
        boxes = [text.get_window_extent(renderer) for text in texts]
        widest = max(box.width for box in boxes)
        tallest = max(box.height for box in boxes)
        scale = min(1.0, 0.84 * cell_width / max(widest, 1e-9),
                    0.7 * cell_height / max(tallest, 1e-9))
        if fontsize * scale >= MIN_POINTS:
            for text in texts:
                text.set_fontsize(fontsize * scale)
            return
    for text in texts:
        text.remove()


def _header(fig: Figure, title: str, text: str) -> None:
    fig.text(0.03, 0.95, title, fontsize=40, fontweight="bold", va="top")
    fig.text(0.03, 0.87, "\n".join(textwrap.wrap(text, 110)), fontsize=20, va="top",
             linespacing=1.4)


def step_figure(step: Step, output: np.ndarray | None, title: str, text: str = "",
                notes: Sequence[str] = (), size: tuple[int, int] = SLIDE) -> Figure:
    """One step: per input channel the patch, kernel and products, the formula, the output."""
    fig = _figure(*size)
    _header(fig, title, text or f"{step.layer} ({step.layer_type}), output {where(step)}")
    shown = min(MAX_CHANNELS, len(step.in_channels))
    columns = 3 if step.kernel is not None else 1
    top, bottom = 0.72, 0.2
    area = fig.add_gridspec(shown, columns + 1, left=0.03, right=0.97, top=top, bottom=bottom,
                            wspace=0.25, hspace=0.45, width_ratios=[1] * columns + [1.3])
    for row in range(shown):
        channel = step.in_channels[row]
        chosen = step.chosen[1:] if step.chosen is not None and row == step.chosen[0] else None
        _grid(fig.add_subplot(area[row, 0]), step.patch[row], f"patch · channel {channel}",
              step.padding[row], chosen)
        if step.kernel is not None and step.products is not None:
            _grid(fig.add_subplot(area[row, 1]), step.kernel[row], "× kernel")
            sums = step.channel_sums
            total = f" → {number(float(sums[row]))}" if sums is not None else ""
            _grid(fig.add_subplot(area[row, 2]), step.products[row], "= products" + total)
    if output is not None:
        out_ax = fig.add_subplot(area[:, columns])
        plane = output[step.position[0]]
        plane = plane[None] if plane.ndim == 1 else plane
        y, x = (0, step.position[1]) if len(step.position) == 2 else step.position[1:]
        _grid(out_ax, plane, f"output channel {step.position[0]} "
              f"({'×'.join(map(str, output.shape))})", mark=(y, x))
    more = len(step.in_channels) - shown
    line = formula(step) + (f"   ({more} more input channels not drawn)" if more else "")
    fig.text(0.03, 0.12, line, fontsize=30, fontweight="bold", color=HIGHLIGHT)
    foot = [*step.notes, *notes]
    if step.padding.any():
        foot.insert(0, "grey hatched cells: padding")
    if foot:
        fig.text(0.03, 0.02, "\n".join(foot[:3]), fontsize=14, color="#444444")
    return fig


def summary_figure(analyses: Sequence[ModelAnalysis], title: str, text: str = "",
                   size: tuple[int, int] = SLIDE) -> Figure:
    """The models side by side: each layer's output shape and parameters, and the totals."""
    fig = _figure(*size)
    _header(fig, title, text)
    n = max(1, len(analyses))
    width = 0.94 / n
    for i, analysis in enumerate(analyses):
        left = 0.03 + i * width
        spec = analysis.spec
        rows = [f"{layer.name} ({layer.type})  →  {'×'.join(map(str, layer.output_shape))}"
                f"   {format_count(layer.params)}" for layer in analysis.layers[:12]]
        if len(analysis.layers) > 12:
            rows.append(f"… {len(analysis.layers) - 12} more layers")
        fig.text(left, 0.62, spec.name, fontsize=28, fontweight="bold", va="top")
        fig.text(left, 0.56, f"input {'×'.join(map(str, spec.input_shape))}\n" + "\n".join(rows),
                 fontsize=18 if n < 3 else 15, va="top", family="monospace", linespacing=1.5)
        fig.text(left, 0.14, f"{analysis.total_params:,} parameters", fontsize=34 if n < 3 else
                 28, fontweight="bold", color=HIGHLIGHT)
    return fig


def _count(value: int) -> str:
    return f"{value:,}" if value < 10**8 else f"{value:,} (10^{math.log10(value):.3g})"


def lesson_step_figure(lesson: Lesson, index: int, sessions: dict[int, object]) -> Figure:
    step: LessonStep = lesson.steps[index]
    title = f"{index + 1}. {step.title}"
    if step.layer is None or step.position is None:
        analysis = lesson.analysis(step.model)
        return summary_figure([analysis], title, step.text + f"  Total: "
                              f"{_count(analysis.total_params)} parameters.")
    if step.model not in sessions:
        sessions[step.model] = lesson.session(step.model)
    session = sessions[step.model]
    if step.mode == "backward":
        from core.classroom.backward import session_gradient

        gradient = session_gradient(session, step.layer, step.grad,  # type: ignore[arg-type]
                                    step.position, step.target)
        term = step.term if step.term >= 0 else len(gradient.contributions) + step.term
        return gradient_figure(gradient, max(0, term), title, step.text)
    if step.mode == "matrix":
        from core.classroom.matrix import session_matrix

        conv = session_matrix(session, step.layer, step.position[0])
        return matrix_figure(conv, step.position[1], title, step.text)
    arithmetic = session.step(step.layer, step.position)  # type: ignore[attr-defined]
    output = session.output(step.layer).numpy()  # type: ignore[attr-defined]
    return step_figure(arithmetic, output, title, step.text,
                       [f"lesson {lesson.key}: {lesson.title}"])


def write_lesson_slides(lesson: Lesson, folder: Path) -> list[Path]:
    """``01-summary.png`` (the models and the explanation), then one slide per step."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [_save(summary_figure([lesson.analysis(i) for i in range(len(lesson.models))],
                                  lesson.title, lesson.explanation),
                   folder / f"01-{lesson.key}-summary.png")]
    sessions: dict[int, object] = {}
    for index in range(len(lesson.steps)):
        fig = lesson_step_figure(lesson, index, sessions)
        paths.append(_save(fig, folder / f"{index + 2:02d}-{lesson.key}-step{index + 1}.png"))
    return paths


def write_step_slides(steps: Sequence[Step], outputs: Sequence[np.ndarray | None], title: str,
                      folder: Path, summary: ModelAnalysis | None = None) -> list[Path]:
    """A step-through's positions as slides, numbered in order, after the model's summary."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    if summary is not None:
        paths.append(_save(summary_figure([summary], summary.spec.name,
                                          summary.spec.description),
                           folder / f"01-{summary.spec.name}-summary.png"))
    first = len(paths) + 1
    for index, (step, output) in enumerate(zip(steps, outputs, strict=True)):
        fig = step_figure(step, output, f"{title} · {where(step)}")
        paths.append(_save(fig, folder / f"{index + first:02d}-{step.layer}.png"))
    return paths


def gradient_figure(step: GradientStep, term: int, title: str, text: str = "",
                    size: tuple[int, int] = SLIDE) -> Figure:
    """One term of a gradient: ∂L/∂y with the term's position, the terms so far laid out
    where they arise, the term's product and the running sum against autograd's value."""
    fig = _figure(*size)
    _header(fig, title, text or f"{step.layer} ({step.layer_type})")
    count = len(step.contributions)
    area = fig.add_gridspec(1, 2, left=0.05, right=0.95, top=0.7, bottom=0.24, wspace=0.2)
    plane = step.upstream_map
    if step.kind != "input" and step.layer_type != "Linear":
        c = step.at[0]
        plane = plane[c] if plane.ndim > 1 else plane[None]
        plane = plane[None] if plane.ndim == 1 else plane
        here = [int(v) for v in step.positions[term][1:]] if count else [0, 0]
        mark = (0, here[0]) if len(here) == 1 else (here[0], here[1])
        _grid(fig.add_subplot(area[0, 0]), plane, f"∂L/∂y, channel {c}", mark=mark)
        done = np.where(np.arange(count) <= term, step.contributions, 0.0).reshape(plane.shape)
        _grid(fig.add_subplot(area[0, 1]), done, f"terms 1–{term + 1}: {step.factor_name} × "
              "∂L/∂y", mark=mark)
    else:
        _grid(fig.add_subplot(area[0, 0]), step.factors[None], f"{step.factor_name} of each "
              "term", mark=(0, term) if count else None)
        _grid(fig.add_subplot(area[0, 1]), step.upstream[None], "× ∂L/∂y at its output",
              mark=(0, term) if count else None)
    line = gradient_term(step, term) if count else "no terms: the gradient is 0"
    fig.text(0.03, 0.15, line, fontsize=26, fontweight="bold", color=HIGHLIGHT)
    fig.text(0.03, 0.09, gradient_total(step), fontsize=24, fontweight="bold")
    fig.text(0.03, 0.02, "\n".join(step.notes[:2]), fontsize=14, color="#444444")
    return fig


def matrix_figure(conv: ConvMatrix, row: int, title: str, text: str = "",
                  size: tuple[int, int] = SLIDE) -> Figure:
    """The convolution's matrix with output cell ``row`` highlighted, beside the locally
    connected and dense matrices of the same shape, with their weight counts."""
    fig = _figure(*size)
    _header(fig, title, text or f"{conv.layer} ({conv.layer_type}), output channel "
            f"{conv.channel}")
    parts = counterparts(conv)
    area = fig.add_gridspec(3, 1, left=0.05, right=0.95, top=0.74, bottom=0.1, hspace=0.5)
    rows, columns = conv.matrix.shape
    for index, (values, filled, label) in enumerate((
            (conv.matrix, conv.structure, f"{conv.layer_type}: {rows} × {columns}, "
             f"{conv.weights} weights shared by every row"),
            (parts.local, conv.structure, f"locally connected: {parts.local_weights:,} "
             "weights (random)"),
            (parts.dense, np.ones_like(conv.structure), f"dense: {parts.dense_weights:,} "
             "weights (random)"))):
        ax = fig.add_subplot(area[index, 0])
        limit = float(np.abs(values).max()) or 1.0
        # cell (r, j) spans [j, j + 1] × [r, r + 1], as in the other slides' grids
        ax.imshow(np.where(filled, values, np.nan), cmap="coolwarm", vmin=-limit,
                  vmax=limit, aspect="auto", interpolation="nearest",
                  extent=(0, columns, rows, 0))
        ax.add_patch(Rectangle((0, row), columns, 1, fill=False, edgecolor=HIGHLIGHT,
                               linewidth=4))
        ax.set_title(label, fontsize=20)
        ax.set_xticks([])
        ax.set_yticks([])
        if index == 0 and columns <= 36:
            filled_cells = np.nonzero(conv.structure[row])[0]
            texts = [ax.text(j + 0.5, row + 0.5, number(float(conv.matrix[row, j])),
                             ha="center", va="center", fontsize=14, fontweight="bold")
                     for j in filled_cells]
            _fit_texts(ax, texts, [float(conv.matrix[row, j]) for j in filled_cells], 14)
    fig.text(0.03, 0.03, f"row {row}: its {int(conv.structure[row].sum())} filled cells are "
             "the kernel over that output's window; cells outside every window are left blank",
             fontsize=18, color=HIGHLIGHT, fontweight="bold")
    return fig


def write_gradient_slides(step: GradientStep, title: str, folder: Path,
                          limit: int = 64) -> list[Path]:
    """A gradient's terms as slides, one per term (up to ``limit``, then the last)."""
    folder.mkdir(parents=True, exist_ok=True)
    count = len(step.contributions)
    terms = list(range(min(count, limit)))
    if count > limit:
        terms.append(count - 1)
    return [_save(gradient_figure(step, term, f"{title} · term {term + 1} of {count}"),
                  folder / f"{index + 1:02d}-{step.layer}-{step.kind}.png")
            for index, term in enumerate(terms or [0])]


def write_matrix_slides(conv: ConvMatrix, title: str, folder: Path,
                        limit: int = 64) -> list[Path]:
    """The matrix with each output cell's row highlighted in turn (up to ``limit`` rows)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = conv.matrix.shape[0]
    return [_save(matrix_figure(conv, row, f"{title} · output cell {row + 1} of {rows}"),
                  folder / f"{row + 1:02d}-{conv.layer}-matrix.png")
            for row in range(min(rows, limit))]

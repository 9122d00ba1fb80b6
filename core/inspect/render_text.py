"""A text model's Inspect → Text view as a PNG (``convscope render text``): the words with a
filter's heat strip and the saliency strip under them, the top-k and the filter's top n-grams."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from core.inspect.inspector import Prediction
from core.inspect.render import _figure, _footer
from core.inspect.text import NGram

WORDS_PER_ROW = 16


def text_figure(words: Sequence[str], heat: np.ndarray, saliency: np.ndarray, title: str,
                top: Sequence[Prediction], ngrams: Sequence[NGram], notes: Sequence[str] = (),
                size: tuple[int, int] = (1400, 800)) -> Figure:
    """Rows of WORDS_PER_ROW words, each with its filter strip (orange) and saliency strip
    (red up, blue down) beneath; the top-k and the n-grams listed below."""
    fig = _figure(*size)
    rows = max(1, -(-len(words) // WORDS_PER_ROW))
    bottom = 0.30 + 0.018 * len(notes)
    height = (0.88 - bottom) / rows
    peak = float(heat.max()) if heat.size and heat.max() > 0 else 1.0
    reach = float(np.abs(saliency).max()) if saliency.size else 0.0
    reach = reach or 1.0
    for row in range(rows):
        span = slice(row * WORDS_PER_ROW, (row + 1) * WORDS_PER_ROW)
        chunk = list(words[span])
        ax = fig.add_axes((0.08, 0.88 - (row + 1) * height, 0.9, height * 0.8))
        strips = np.full((2, WORDS_PER_ROW), np.nan)
        strips[0, :len(chunk)] = heat[span] / peak
        strips[1, :len(chunk)] = saliency[span] / reach
        ax.imshow(np.ma.masked_invalid(strips[:1]), cmap="Oranges", vmin=0, vmax=1,
                  aspect="auto", extent=(-0.5, WORDS_PER_ROW - 0.5, 1.5, 0.5))
        ax.imshow(np.ma.masked_invalid(strips[1:]), cmap="coolwarm", vmin=-1, vmax=1,
                  aspect="auto", extent=(-0.5, WORDS_PER_ROW - 0.5, 2.5, 1.5))
        ax.set_xlim(-0.5, WORDS_PER_ROW - 0.5)
        ax.set_ylim(2.5, 0.5)
        ax.set_xticks(range(len(chunk)), chunk, fontsize=9)
        ax.xaxis.tick_top()
        ax.set_yticks([1, 2], ["filter", "saliency"], fontsize=9)
    listing = "top: " + ", ".join(f"{p.label} {p.probability:.1%}" for p in top)
    grams = "\n".join(f"“{g.words}”  {g.activation:.3g}  (validation text {g.sample})"
                      for g in ngrams[:8])
    fig.text(0.08, bottom - 0.03, listing, fontsize=10, va="top")
    fig.text(0.45, bottom - 0.03, "the n-grams that excite the filter most:\n" + grams,
             fontsize=9, va="top")
    fig.suptitle(title, fontsize=12)
    _footer(fig, notes)
    return fig

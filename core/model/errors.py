"""Errors raised for invalid model files and invalid layers.

Every error is a ValueError so callers can catch one type; a LayerError also carries the name of
the layer it is about, so the GUI can mark that layer and the command line can name it.
"""

from __future__ import annotations

import json
from typing import Any

QUOTE_LIMIT = 60
"""Longest quoted value in a message; longer ones are cut with an ellipsis and their size."""


def quote(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """A bad value as JSON for an error line, cut to a readable length (never raises).

    A 4,000-digit number or a megabyte string is shown as its start, an ellipsis and its size,
    so the message stays one readable line.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        digits = value.bit_length() * 30103 // 100000 + 1  # log10(2): no int-to-str limit
        return f"a number of about {digits} digits"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    text = " ".join(text.split())
    if len(text) > limit:
        return f"{text[:limit - 1]}… ({len(text):,} characters)"
    return text


MAX_COUNT = (1 << 63) - 1
"""The most values, parameters or multiply-accumulates one tensor or layer may have to be
analysed: torch indexes tensors with 64-bit integers, and every total stays a finite float."""


def count_text(value: int) -> str:
    """A count for a message: 1,234,567, or "about 10^301" once it is too long to read."""
    if value < 10**24:
        return f"{value:,}"
    return f"about 10^{_digits(value) - 1}"


def _digits(value: int) -> int:
    """How many decimal digits ``value`` has, without Python's 4,300-digit str() limit."""
    if value.bit_length() < 13000:
        return len(str(value))
    return value.bit_length() * 30103 // 100000 + 1  # log10(2), for the rare giant


def shape_text(shape: Any) -> str:
    """A shape for a message, 3×224×224, with sizes too long to read as "~10^300"."""
    return "×".join(str(d) if d < 10**15 else f"~10^{_digits(d) - 1}" for d in shape)


class ModelError(ValueError):
    """A model file or model description is invalid."""


class LayerError(ModelError):
    """One layer is invalid; ``layer`` names it and ``reason`` says why in plain words."""

    def __init__(self, layer: str, reason: str) -> None:
        super().__init__(f"layer {layer}: {reason}")
        self.layer = layer
        self.reason = reason

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


class ModelError(ValueError):
    """A model file or model description is invalid."""


class LayerError(ModelError):
    """One layer is invalid; ``layer`` names it and ``reason`` says why in plain words."""

    def __init__(self, layer: str, reason: str) -> None:
        super().__init__(f"layer {layer}: {reason}")
        self.layer = layer
        self.reason = reason

"""Errors raised for invalid model files and invalid layers.

Every error is a ValueError so callers can catch one type; a LayerError also carries the name of
the layer it is about, so the GUI can mark that layer and the command line can name it.
"""

from __future__ import annotations


class ModelError(ValueError):
    """A model file or model description is invalid."""


class LayerError(ModelError):
    """One layer is invalid; ``layer`` names it and ``reason`` says why in plain words."""

    def __init__(self, layer: str, reason: str) -> None:
        super().__init__(f"layer {layer}: {reason}")
        self.layer = layer
        self.reason = reason

"""The data error type, importable without torch."""

from __future__ import annotations


class DataError(ValueError):
    """A dataset cannot be loaded or does not fit the model; the message says what to do."""

"""A module imported on first use: lets Qt-free modules the window imports at start-up name torch
without loading it (torch takes seconds and hundreds of MB; the window paints without it)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stands for ``importlib.import_module(name)``; the import happens at the first attribute."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

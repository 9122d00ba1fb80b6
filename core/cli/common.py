"""What every sub-command shares: the exit code and one-line failure for bad input, the model
argument (a model file or a preset name), number arguments and the parser that exits 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

USAGE_ERROR = 2
"""The exit status of every refusal of bad input."""


def fail(message: str) -> int:
    """Print ``convscope: message`` to stderr; the exit status for bad input."""
    print(f"convscope: {message}", file=sys.stderr)
    return USAGE_ERROR


def with_force(exc: Exception) -> str:
    """The error's line; a memory refusal says how to try anyway."""
    from core.train.preflight import MemoryRefused

    return f"{exc} (--force tries anyway)" if isinstance(exc, MemoryRefused) else str(exc)


def resolve_model(source: str) -> Path:
    """A model file path, or a bundled preset's file when ``source`` names one."""
    from core.presets import find_preset

    path = Path(source)
    if path.exists() or path.suffix == ".json":
        return path
    return find_preset(source).path


def positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` above 0."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
        return value
    return parse


def missing_folder(output: Path) -> Path | None:
    """The outermost folder of ``output`` that does not exist yet (the export creates it)."""
    missing = None
    for folder in output.parents:
        if folder.exists():
            break
        missing = folder
    return missing


class Parser(argparse.ArgumentParser):
    """Bad arguments: exit 2 with a one-line reason (and where to find the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: {message} (see {self.prog} --help)\n")


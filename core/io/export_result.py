"""What an export wrote, shared by every export format (core.io.export, core.io.train_script)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ExportResult:
    """What was written, and the command that runs it."""

    files: tuple[Path, ...]
    how_to_run: str

    def describe(self) -> str:
        return f"wrote {', '.join(str(f) for f in self.files)}; {self.how_to_run}"

"""Files ConvScope keeps for the user: autosaves for crash recovery, recent files, settings.

They live in ``$CONVSCOPE_HOME`` (default ``~/.local/share/convscope``, or the platform's
equivalent), so tests can point it elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.model.errors import ModelError
from core.model.spec import ModelSpec, model_from_dict

MAX_RECENT = 10


def home() -> Path:
    if os.environ.get("CONVSCOPE_HOME"):
        return Path(os.environ["CONVSCOPE_HOME"])
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "ConvScope"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "ConvScope"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "convscope"


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


@dataclass(frozen=True)
class Recovery:
    """An autosave left by a session that did not close cleanly."""

    path: Path
    spec: ModelSpec
    source: Path | None
    saved_at: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        where = str(self.source) if self.source else "an unsaved model"
        return f'"{self.spec.name}" ({where}), autosaved {when}'


class Autosave:
    """One session's autosave file; ``pending()`` finds those of sessions that crashed."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or home() / "autosave"
        self.path = self.directory / f"session-{os.getpid()}-{int(time.time() * 1000)}.json"

    def write(self, spec: ModelSpec, source: Path | None) -> None:
        _write_json(self.path, {"saved_at": time.time(),
                                "source": str(source) if source else None,
                                "model": spec.to_dict()})

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)

    def pending(self) -> list[Recovery]:
        """Autosaves of other sessions, newest first; unreadable ones are skipped."""
        found = []
        for path in self.directory.glob("session-*.json"):
            if path == self.path:
                continue
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                spec = model_from_dict(data["model"], strict=False)
            except (OSError, ValueError, KeyError, TypeError, ModelError):
                continue
            source = Path(data["source"]) if data.get("source") else None
            found.append(Recovery(path, spec, source, float(data.get("saved_at", 0))))
        return sorted(found, key=lambda r: r.saved_at, reverse=True)


class Settings:
    """Recent files, font size, theme: a small JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or home() / "settings.json"
        try:
            self.data: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(self.data, dict):
                self.data = {}
        except (OSError, ValueError):
            self.data = {}

    def get(self, key: str, default: Any) -> Any:
        value = self.data.get(key, default)
        return value if isinstance(value, type(default)) else default

    def set(self, key: str, value: Any) -> None:
        self.data[key] = value
        with contextlib.suppress(OSError):  # settings are a convenience; never fail an edit
            _write_json(self.path, self.data)

    def recent_files(self) -> list[Path]:
        return [Path(p) for p in self.get("recent_files", []) if isinstance(p, str)]

    def add_recent(self, path: Path) -> None:
        path = path.resolve()
        files = [str(path)] + [str(p) for p in self.recent_files() if p != path]
        self.set("recent_files", files[:MAX_RECENT])

"""Parameter counts for timm's whole list, for the Import dialog, filled in the background.

Checking that a timm model converts takes a trace (up to seconds), so the dialog checks only the
rows a user looks at. A parameter count needs only timm's builder on the meta device (no memory,
no initialisation: ~0.1–0.5 s), so every CNN row gets one, counted on a worker, newest list
first, and kept on disk per timm version (``$CONVSCOPE_HOME/timm_params.json``): the second time
the dialog opens, every count is there at once. The file is ours, but it is read as any other
file is: a damaged one is ignored and rewritten, never trusted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from core.io.timm_models import build_timm
from core.model.errors import ModelError
from core.regular_files import write_atomic
from core.workspace import home

CACHE_NAME = "timm_params.json"
SAVE_EVERY = 25
"""Counts written to the file after this many new ones (and at the end), so a dialog closed
midway keeps what it counted."""
MAX_CACHE_BYTES = 4 << 20

_LOCK = threading.Lock()
_MEMORY: dict[str, dict[str, int]] = {}
"""Per timm version: the counts known in this process."""


def _version() -> str:
    import timm

    return str(timm.__version__)


def _cache_file() -> Path:
    return home() / CACHE_NAME


def _read_file(version: str) -> dict[str, int]:
    path = _cache_file()
    try:
        if not path.is_file() or path.stat().st_size > MAX_CACHE_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    counts = data.get(version) if isinstance(data, dict) else None
    if not isinstance(counts, dict):
        return {}
    return {name: n for name, n in counts.items()
            if isinstance(name, str) and isinstance(n, int) and not isinstance(n, bool)
            and 0 < n < 10**13}


def _write_file(version: str, counts: dict[str, int]) -> None:
    payload = json.dumps({version: counts}, sort_keys=True).encode()
    path = _cache_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, lambda tmp: tmp.write_bytes(payload))
    except (OSError, ModelError):
        pass  # a cache that cannot be written costs only the next dialog's time


def known_counts() -> dict[str, int]:
    """The counts known now (this process's, else the file's): instant, no model built."""
    version = _version()
    with _LOCK:
        if version not in _MEMORY:
            _MEMORY[version] = _read_file(version)
        return dict(_MEMORY[version])


def count_params(name: str) -> int | None:
    """timm's parameter count for ``name`` (built on the meta device), or None when timm cannot
    build it here."""
    try:
        module = build_timm(name, meta=True)
    except ModelError:
        return None
    return sum(p.numel() for p in module.parameters())


def counts(names: Iterable[str]) -> Iterator[tuple[str, int]]:
    """Yield ``(name, params)`` for each of ``names`` timm can build: the known ones first, at
    once, then the others counted one by one in their order (a worker's generator: it stops
    when asked, between models)."""
    version = _version()
    known = known_counts()
    new = 0
    names = tuple(names)
    yield from ((name, known[name]) for name in names if name in known)
    try:
        for name in (name for name in names if name not in known):
            n = count_params(name)
            if n is None:
                continue
            known[name] = n
            with _LOCK:
                _MEMORY[version][name] = n
            new += 1
            if new % SAVE_EVERY == 0:
                _write_file(version, known)
            yield name, n
    finally:
        if new % SAVE_EVERY:
            _write_file(version, known)

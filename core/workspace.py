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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.model.errors import ModelError, quote
from core.model.spec import ModelSpec, model_from_dict
from core.regular_files import read_regular_text

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


class SessionLock:
    """An OS lock on a file, held while this window lives; the OS drops it when the process dies.

    flock (POSIX) conflicts between two opens of the file even within one process, so two
    windows of one process hold two distinct locks; msvcrt.locking does the same on Windows.
    The file holds the owner's process id, for people looking at the folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None

    def acquire(self) -> bool:
        """Take the lock without waiting; False when another live window holds it."""
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            if sys.platform == "win32":
                import msvcrt

                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return True

    def release(self, remove: bool = False) -> None:
        """Let the lock go (``remove``: also delete the lock file, while still holding it)."""
        if self._handle is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self._handle.close()  # closing the file drops flock / msvcrt locks
        self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None


@dataclass(frozen=True)
class Recovery:
    """An autosave left by a session that did not close cleanly (its lock now held by us)."""

    path: Path
    spec: ModelSpec
    source: Path | None
    saved_at: float
    lock: SessionLock | None = field(default=None, compare=False, repr=False)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        where = str(self.source) if self.source else "an unsaved model"
        return f'"{self.spec.name}" ({where}), autosaved {when}'

    def remove(self) -> None:
        """After it was restored (and the restored model has loaded) or declined: delete the
        autosave and its lock file."""
        self.path.unlink(missing_ok=True)
        self.restoring.unlink(missing_ok=True)
        if self.lock is not None:
            self.lock.release(remove=True)
        else:
            _lock_path(self.path).unlink(missing_ok=True)

    @property
    def restoring(self) -> Path:
        """Where the autosave waits while it is being restored."""
        return _restoring(self.path)

    def claim(self) -> None:
        """Before restoring: rename the autosave aside (not delete it), so a restore that fails
        or a crash while loading loses nothing; the next start offers it again."""
        if self.path.exists():
            self.path.replace(self.restoring)

    def failed(self, why: str) -> str:
        """The restore did not load: keep the autosave as ``.bad`` and say where it is."""
        bad = self.path.with_name(self.path.name + ".bad")
        source = self.restoring if self.restoring.exists() else self.path
        try:
            source.replace(bad)
            where = f"kept as {bad}"
        except OSError:
            where = f"left at {source}"
        if self.lock is not None:
            self.lock.release(remove=True)
        return f"The autosave of {self.describe()} could not be restored ({why[:160]}); {where}"

    def keep(self) -> None:
        """Not answered (e.g. the window offered another one): leave it for a later start."""
        if self.lock is not None:
            self.lock.release()


def _lock_path(autosave: Path) -> Path:
    return autosave.with_suffix(".lock")


RESTORING = ".restoring"


def _restoring(autosave: Path) -> Path:
    return autosave.with_name(autosave.name + RESTORING)


def _check_autosave(data: Any) -> tuple[ModelSpec, Path | None, float]:
    """Every field of an autosave checked; ValueError (ModelError) says which is wrong."""
    if not isinstance(data, dict) or set(data) - {"saved_at", "source", "model"}:
        raise ModelError("not an autosave object (saved_at, source, model)")
    saved_at = data.get("saved_at")
    if (isinstance(saved_at, bool) or not isinstance(saved_at, int | float)
            or not 0 <= saved_at <= time.time() + 86400 * 365):
        raise ModelError(f"saved_at must be a time in seconds, found {quote(saved_at)}")
    source = data.get("source")
    if source is not None and (not isinstance(source, str) or not source or "\0" in source
                               or len(source) > 4096):
        raise ModelError(f"source must be a file path or null, found {quote(source)}")
    if "model" not in data:
        raise ModelError("model is missing")
    spec = model_from_dict(data["model"], strict=False)
    return spec, Path(source) if source else None, float(saved_at)


class Autosave:
    """One window's autosave file, held by a lock; ``pending()`` finds those of dead sessions.

    A live window's autosave is never offered to another window; a damaged one is set aside
    (renamed to ``.bad``) and reported once, so start-up always reaches the window.
    """

    _count = 0

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or home() / "autosave"
        Autosave._count += 1
        stamp = f"{os.getpid()}-{int(time.time() * 1000)}-{Autosave._count}"
        self.path = self.directory / f"session-{stamp}.json"
        self.lock = SessionLock(_lock_path(self.path))
        self.set_aside: list[str] = []
        """What pending() set aside, one line each, for the window to report once."""
        with contextlib.suppress(OSError):  # an unwritable home: autosave reports on write
            self.lock.acquire()

    def write(self, spec: ModelSpec, source: Path | None) -> None:
        if not self.lock.held:
            self.lock.acquire()
        _write_json(self.path, {"saved_at": time.time(),
                                "source": str(source) if source else None,
                                "model": spec.to_dict()})

    def discard(self) -> None:
        """No unsaved work any more: remove the autosave (the lock stays for this window)."""
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        """The window closes cleanly: remove the autosave and let the lock go."""
        self.discard()
        self.lock.release(remove=True)

    def release_lock(self) -> None:
        """Drop the lock and keep the file, as the OS does when the process dies."""
        self.lock.release()

    def pending(self) -> list[Recovery]:
        """Autosaves of sessions that are gone, newest first, each claimed by its lock.

        Live sessions' autosaves are skipped; damaged ones are renamed to ``.bad`` and listed
        in ``set_aside``. Never raises.
        """
        found = []
        self.set_aside = []
        try:
            paths = sorted(self.directory.glob("session-*.json"))
            # a restore that was cut off (the app died while loading it): offered again
            paths += [p.with_name(p.name.removesuffix(RESTORING)) for p in
                      sorted(self.directory.glob(f"session-*.json{RESTORING}"))]
        except OSError:
            return []
        for path in dict.fromkeys(paths):
            if path == self.path:
                continue
            lock = SessionLock(_lock_path(path))
            try:
                if not lock.acquire():
                    continue  # its window is alive
            except OSError:
                continue
            try:
                if not path.exists() and _restoring(path).exists():
                    _restoring(path).replace(path)  # back under its own name until claimed
                data = json.loads(read_regular_text(path))  # bounded as a model file
                spec, source, saved_at = _check_autosave(data)
            except FileNotFoundError:
                lock.release(remove=True)
                continue
            except (OSError, ValueError, RecursionError, UnicodeDecodeError) as exc:
                self._set_aside(path, lock, str(exc).splitlines()[0] if str(exc) else
                                type(exc).__name__)
                continue
            found.append(Recovery(path, spec, source, saved_at, lock))
        return sorted(found, key=lambda r: r.saved_at, reverse=True)

    def _set_aside(self, path: Path, lock: SessionLock, why: str) -> None:
        bad = path.with_name(path.name + ".bad")
        try:
            path.replace(bad)
            note = f"set aside as {bad.name}"
        except OSError:
            note = "left in place (cannot be renamed)"
        lock.release(remove=True)
        self.set_aside.append(f"A damaged autosave was {note}: {why[:160]}")


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

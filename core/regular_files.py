"""Reading a file a user names (a regular file, of bounded size, never blocking) and writing
one all-or-nothing.

A FIFO, a device (``/dev/zero``), a socket or a folder given where a file is expected must be
refused in one line, not hang the command or fill the memory. The file is opened without
blocking and checked on the open descriptor (no race between the check and the read).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MODEL_FILE_LIMIT = 64 << 20
"""The largest model file or training.json read (ResNet-152's model file is under 1 MB)."""


class NotARegularFile(OSError):
    """The path is a FIFO, device, socket or folder, or larger than the limit (the message
    says which, in words a user reads)."""


def open_regular(path: Path, limit: int | None = None) -> BinaryIO:
    """``path`` opened for reading when it is a regular file of at most ``limit`` bytes (None:
    any size). FileNotFoundError as usual; NotARegularFile for anything else. Opened without
    blocking and checked on the open descriptor, so the file checked is the file read."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise NotARegularFile(f"{path.name} is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(f"{path.name} is not a regular file (a FIFO, device or "
                                  "socket); give a file")
        if limit is not None and info.st_size > limit:
            raise NotARegularFile(f"{path.name} is {info.st_size:,} bytes, more than the "
                                  f"{limit:,} such a file may have")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_bytes(path: Path, limit: int | None = None) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``limit`` bytes (see
    open_regular); a file that grows past the limit while it is read is refused too."""
    with open_regular(path, limit) as handle:
        data = handle.read() if limit is None else handle.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise NotARegularFile(f"{path.name} grew past {limit:,} bytes while it was read")
    return data


def read_regular_text(path: Path, limit: int | None = MODEL_FILE_LIMIT,
                      encoding: str = "utf-8") -> str:
    return read_regular_bytes(path, limit).decode(encoding)


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``path``, flush it to disk, rename it into place; on
    any failure the temporary file is removed and ``path`` is as it was."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)

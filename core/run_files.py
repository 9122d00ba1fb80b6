"""A run folder's generation record, below everything that reads or writes run files.

training.json records the size and SHA-256 of each file of the generation it commits
(core.train.checkpoint writes it). Every reader of a run's weights checks the bytes it reads
against that record here, so a swapped, truncated or bit-flipped weights file is refused in one
line wherever it is opened: resume, ``--weights RUN``, render, export, File → Open Trained Run.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from core.model.errors import ModelError
from core.regular_files import (
    MODEL_FILE_LIMIT,
    open_regular,
    read_regular_bytes,
    read_regular_text,
)

LAST, BEST = "weights-last.safetensors", "weights-best.safetensors"
OPTIMIZER = "optimizer-last.safetensors"
META = "training.json"
TMP, PREV = ".tmp", ".prev"
MODEL = "model.json"
GENERATION_FILES = (LAST, BEST, OPTIMIZER)
RECORDED_FILES = (MODEL, *GENERATION_FILES)
"""Every file training.json's record covers: what a resume reads, model.json included."""


class RunFileMismatch(ModelError):
    """A run folder's file is not the one its training.json records (swapped, truncated,
    changed): not another model's weights, so views say so in these words."""


def prev_name(name: str) -> str:
    """weights-last.safetensors -> weights-last.prev.safetensors (still a .safetensors file)."""
    path = Path(name)
    return f"{path.stem}{PREV}{path.suffix}"


def digest(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def fingerprint(path: Path) -> dict[str, Any]:
    """Size and SHA-256 of a regular file (NotARegularFile for a FIFO or device: never read)."""
    sha = hashlib.sha256()
    size = 0
    with open_regular(path) as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": sha.hexdigest()}


def read_meta(run: Path) -> dict[str, Any]:
    """The committed training.json as written (not checked), or {} when there is none."""
    try:
        data = json.loads(read_regular_text(run / META, MODEL_FILE_LIMIT))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def interrupted(run: Path) -> bool:
    """True when a commit was cut off: some files of the previous generation are in .prev
    (model.json included: a resume that unfroze layers commits it with training.json)."""
    return (run / (META + TMP)).exists() and any(
        (run / prev_name(name)).exists() for name in RECORDED_FILES)


def resolve(run: Path, name: str) -> Path:
    """Where the committed generation's file ``name`` is (its .prev while a commit was cut)."""
    prev = run / prev_name(name)
    if (run / (META + TMP)).exists() and prev.exists():
        return prev
    return run / name


def inside_run(run: Path, path: Path) -> Path:
    """``path``, refused (ModelError) when it is a link that leads out of the run folder: a
    run folder someone shares must not make ConvScope read their choice of file elsewhere."""
    if path.is_symlink():
        target = path.resolve()
        if run.resolve() not in target.parents:
            raise ModelError(f"{path.name} in {run} is a link to {target}, outside the run "
                             "folder; copy the file itself into the folder")
    return path


def generation_name(path: Path) -> str | None:
    """The generation file ``path`` is (its own name, or the name its .prev stands for) when it
    lies in a run folder; None for any other file."""
    if not (path.parent / META).is_file():
        return None
    for name in GENERATION_FILES:
        if path.name in (name, prev_name(name)):
            return name
    return None


def mismatch(name: str, actual: dict[str, Any], entry: dict[str, Any]) -> str | None:
    """Why ``actual`` (size, sha256) is not the recorded ``entry`` of ``name``; None if it is."""
    size = entry.get("size")
    if actual["size"] != size:
        shown = f"{size:,}" if isinstance(size, int) else repr(size)
        return (f"{name} is {actual['size']:,} bytes but training.json records {shown}: the "
                "file is truncated or was replaced")
    if actual["sha256"] != entry.get("sha256"):
        return (f"{name} is not the file training.json records (its SHA-256 differs): it was "
                "replaced or swapped")
    return None


def read_run_file(path: Path) -> bytes:
    """The bytes of ``path``. When it is a generation file of a run folder whose training.json
    records it, the committed generation's file is read (its .prev during a cut-off commit) and
    its bytes are checked against the record; ModelError names the file when they differ.

    A training run may commit a new generation while this reads: the record is read before
    and after, and the read is repeated when it changed in between.
    """
    name = generation_name(path)
    if name is None:
        return read_regular_bytes(path)
    run = path.parent
    for _ in range(5):
        before = read_meta(run).get("files")
        target = resolve(run, name) if path.name == name else path
        try:
            data = read_regular_bytes(inside_run(run, target))
        except FileNotFoundError:
            if read_meta(run).get("files") != before:
                continue  # a commit moved it; read the new generation
            raise
        if read_meta(run).get("files") != before:
            continue
        entry = before.get(name) if isinstance(before, dict) else None
        if isinstance(entry, dict):
            problem = mismatch(name, digest(data), entry)
            if problem:
                raise RunFileMismatch(f"{run}: {problem}; open the run's other weights, or "
                                      "train again")
        return data
    raise ModelError(f"{run}: its weights kept changing while they were read (a run is "
                     "training into it); try again")

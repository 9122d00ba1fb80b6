"""Run folders: the model file, weights (safetensors), optimizer state, settings and history.

A run folder holds everything to resume a run or reopen the trained model later:

    model.json                 the model file trained
    weights-last.safetensors   weights after the latest epoch (or the moment of a stop)
    weights-best.safetensors   weights with the best validation accuracy so far
    optimizer-last.safetensors the optimizer's tensors; their structure is in training.json
    training.json              settings, history, classes, normalisation, epochs done, and the
                               size and SHA-256 of each file of the generation it covers

One checkpoint is one generation, committed by one step. Every file is first written whole to
``NAME.tmp``, training.json last; then each old file is moved to ``STEM.prev.safetensors``, each
new one into place, and the rename of training.json.tmp to training.json commits the generation.
While
training.json.tmp exists the commit has not happened, so a reader takes the .prev file where it
exists (the previous generation); the next writer rolls such a folder back before it writes.
A failed write (disk full, read-only folder) leaves the previous generation as it was.

Nothing is ever unpickled; everything read goes through run_schema (one line per problem).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from core.model.errors import ModelError, quote
from core.model.spec import ModelSpec, load_model, save_model
from core.regular_files import NotARegularFile, read_regular_text

# the generation record's names and readers live below the training code (core.run_files),
# where every reader of a run's weights checks them
from core.run_files import BEST as BEST
from core.run_files import GENERATION_FILES as GENERATION_FILES
from core.run_files import LAST as LAST
from core.run_files import META as META
from core.run_files import MODEL as MODEL
from core.run_files import OPTIMIZER as OPTIMIZER
from core.run_files import RECORDED_FILES, generation_name, inside_run, mismatch
from core.run_files import TMP as TMP
from core.run_files import fingerprint as _fingerprint
from core.run_files import interrupted as interrupted
from core.run_files import prev_name as _prev
from core.run_files import read_meta as _read_meta
from core.run_files import resolve as resolve
from core.train.run_checks import (
    _optimizer_problem,
    _require_record,
    check_generations,
    check_run_dataset,
    check_state_fits_model,
)
from core.train.run_schema import BOOKKEEPING, RunState, check_run_data, run_state_fields
from core.train.schema import Rule
from core.train.settings import TrainingError
from core.weights import state_by_layer


class CheckpointError(TrainingError):
    """A checkpoint could not be written; the previous generation is intact (the message says)."""


def new_run_dir(out: Path, name: str) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in name)[:40] or "model"
    run = out / f"{safe}-{stamp}"
    n = 1
    while run.exists():
        n += 1
        run = out / f"{safe}-{stamp}-{n}"
    run.mkdir(parents=True)
    return run


def save_spec(run: Path, spec: ModelSpec) -> None:
    save_model(spec, run / "model.json")


# -- writing: one generation, one commit ------------------------------------------------------

def _settle(run: Path) -> None:
    """Before writing: roll an interrupted commit back, drop stale .prev and .tmp files."""
    rolling_back = (run / (META + TMP)).exists()
    for name in RECORDED_FILES:  # model.json too: an unfreeze commits it in a generation
        prev = run / _prev(name)
        if prev.exists():
            if rolling_back:
                os.replace(prev, run / name)
            else:
                prev.unlink()
        (run / (name + TMP)).unlink(missing_ok=True)
    (run / (META + TMP)).unlink(missing_ok=True)


def _why(exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code in (errno.ENOSPC, errno.EDQUOT) or "No space left" in text:
        return "disk full"
    if code == errno.EROFS or "Read-only file system" in text:
        return "the run folder is on a read-only disk"
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return "no permission to write in the run folder"
    detail = getattr(exc, "strerror", None) or (text.splitlines()[0][:80] if text
                                                 else type(exc).__name__)
    return f"cannot write the run folder ({detail})"


def _commit(run: Path, state: RunState, staged: dict[str, Callable[[Path], None]],
            what: str) -> None:
    """Write ``staged`` files and training.json as one generation (see the module doc)."""
    committed = _read_meta(run)
    before = committed.get("epochs_done")
    try:
        _settle(run)
        files = dict(committed.get("files") or {})
        if MODEL not in files and (run / MODEL).is_file():
            files[MODEL] = _fingerprint(run / MODEL)  # written once, with the run's first record
        for name, write in staged.items():
            tmp = run / (name + TMP)
            write(tmp)
            files[name] = _fingerprint(tmp)
        data = {**state.to_dict(), "generation": int(committed.get("generation", 0)) + 1,
                "files": files}
        meta_tmp = run / (META + TMP)
        with meta_tmp.open("w", encoding="utf-8") as handle:
            handle.write(json.dumps(data, indent=1))
            handle.flush()
            os.fsync(handle.fileno())
        for name in staged:
            if (run / name).exists():
                os.replace(run / name, run / _prev(name))
        for name in staged:
            os.replace(run / (name + TMP), run / name)
        os.replace(meta_tmp, run / META)  # the commit
    except (OSError, SafetensorError, RuntimeError) as exc:
        with contextlib.suppress(OSError):
            _settle(run)
        if before is None:
            raise CheckpointError(f"{_why(exc)} while starting the run folder {run}") from None
        if not (committed.get("files") or {}).get(LAST):
            raise CheckpointError(f"{_why(exc)} while saving {what}; no epoch was saved yet, "
                                  "so there is nothing to resume: start a new run") from None
        raise CheckpointError(f"{_why(exc)} while saving {what}; the run folder still holds "
                              f"epoch {before} and resumes from it") from None
    for name in staged:
        with contextlib.suppress(OSError):
            (run / _prev(name)).unlink(missing_ok=True)


def save_spec_in_generation(run: Path, spec: ModelSpec, state: RunState) -> None:
    """Commit a changed model.json (a resume that unfroze layers) with training.json, so the
    recorded fingerprint follows it; raises CheckpointError with the previous files intact."""
    _commit(run, state, {MODEL: lambda path: save_model(spec, path)},
            f"the model file after epoch {state.epochs_done}")


def save_state(run: Path, state: RunState) -> None:
    """Commit training.json alone (a new run, or a finished one's test accuracy)."""
    _commit(run, state, {}, f"epoch {state.epochs_done}")


def save_checkpoint(run: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: RunState, best: bool) -> Path:
    """Commit weights-last (and weights-best), the optimizer state and training.json as one
    generation; raises CheckpointError (one line) with the previous generation intact."""
    weights = state_by_layer(model)
    tensors, layout = _flatten_optimizer(optimizer.state_dict())
    state.optimizer_layout = layout

    def write_weights(path: Path) -> None:
        save_file(weights, str(path))

    staged: dict[str, Callable[[Path], None]] = {LAST: write_weights}
    if best:
        staged[BEST] = write_weights
    staged[OPTIMIZER] = lambda path: save_file(tensors, str(path))
    _commit(run, state, staged, f"epoch {state.epochs_done}")
    return run / LAST


def _flatten_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


UI_CHECK_BYTES = 64 << 20
"""The largest weights file the window checks while it opens a run (~0.1 s to hash)."""


# -- reading: validated, the last complete generation -----------------------------------------

def load_state(run: Path) -> RunState:
    """Read and check training.json (ModelError naming the file and the field)."""
    path = run / META
    try:
        text = read_regular_text(inside_run(run, path))
    except (FileNotFoundError, NotADirectoryError):
        raise ModelError(f"{run}: not a ConvScope run folder (no {META})") from None
    except NotARegularFile as exc:
        raise ModelError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path}: cannot be read ({type(exc).__name__})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ModelError(f"{META}: not valid JSON ({str(exc).splitlines()[0][:80]})") from None
    _, data = check_run_data(data, path)
    if "best_val_acc" in data:  # runs before best_metric: the best validation accuracy
        data.setdefault("best_value", data["best_val_acc"])
        data.setdefault("best_metric", "val_acc")
    keys = run_state_fields(RunState)
    return RunState(**{k: v for k, v in data.items() if k in keys and k not in BOOKKEEPING})


def check_files(run: Path, names: tuple[str, ...] = RECORDED_FILES) -> str:
    """Check the generation's files against training.json's record of their sizes and hashes.

    Returns a note when a cut-off save was set aside ("" otherwise); raises ModelError naming
    the file when one is missing, truncated or swapped.
    """
    recorded = _read_meta(run).get("files") or {}
    for name in names:
        entry = recorded.get(name)
        if not isinstance(entry, dict):
            continue
        path = inside_run(run, resolve(run, name))
        if path.exists() and not path.is_file():
            raise ModelError(f"{run}: {name} is not a regular file (a FIFO, device, socket or "
                             "folder); the run cannot be resumed")
        if not path.is_file():
            raise ModelError(f"{name} is missing from {run}; training.json records it, so the "
                             "run cannot be resumed (it can still be opened with weights-best)")
        try:
            actual = _fingerprint(path)
        except OSError as exc:
            raise ModelError(f"{run}: {exc}") from None
        problem = mismatch(name, actual, entry)
        if problem:
            raise ModelError(problem)
    if interrupted(run):
        done = _read_meta(run).get("epochs_done")
        return (f"the last save in this run folder was cut off; using epoch {done}, the last "
                "complete checkpoint")
    return ""


@dataclass(frozen=True)
class ResumePoint:
    """What a resume starts from: the checked state, the weights and a note on the folder."""

    state: RunState
    weights: Path
    note: str


def open_for_resume(run: Path) -> ResumePoint:
    """Read everything a resume needs and refuse, in one line, anything damaged.

    Nothing in the folder is changed. The optimizer tensors are matched against the optimizer
    in restore_optimizer, once the model is built.
    """
    state = load_state(run)
    _require_record(run, state)
    check_generations(run, state)
    note = check_files(run)
    spec = load_model(resolve(run, MODEL))  # the committed one, if an unfreeze was cut off
    check_state_fits_model(state, spec)
    check_run_dataset(state, spec)
    weights = resolve(run, LAST)
    if not weights.is_file():
        raise ModelError(f"{run}: has no {LAST} yet; start a new run instead of resuming")
    if state.epochs_done and not resolve(run, OPTIMIZER).is_file():
        raise ModelError(f"{OPTIMIZER} is missing from {run}: the optimizer state is needed to "
                         "resume; start a new run from its weights with --weights instead")
    return ResumePoint(state, weights, note)


MAX_STEPS = 10**12
"""More optimizer steps than any run takes (10,000 epochs of 10^8 batches)."""


def restore_optimizer(optimizer: torch.optim.Optimizer, run: Path, state: RunState) -> None:
    """Load the saved optimizer state into ``optimizer`` after checking it matches.

    Raises ModelError naming training.json's optimizer_layout or the optimizer file.
    """
    kind = str(state.settings.get("optimizer"))
    layout = state.optimizer_layout
    if not layout:
        if state.epochs_done > 0:
            # a run written elsewhere (e.g. an exported torchrun script) opens, but cannot resume
            raise ModelError(f"{META}: optimizer_layout is missing after {state.epochs_done} "
                             "epochs: the run's weights open, but it cannot be resumed (train "
                             "from its weights with --weights instead)")
        return
    problem = _optimizer_problem(optimizer.state_dict(), layout, kind)
    if problem:
        raise ModelError(f"{META}: {problem}")
    path = resolve(run, OPTIMIZER)
    try:
        tensors = load_file(str(path))
    except FileNotFoundError:
        raise ModelError(f"{OPTIMIZER} is missing from {run}: the optimizer state is needed "
                         "to resume") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{OPTIMIZER}: not a readable safetensors file "
                         f"({str(exc).splitlines()[0][:80]})") from None
    params = [p for group in optimizer.param_groups for p in group["params"]]
    loaded: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index_text, _, name = key.partition(".")
        index = int(index_text) if index_text.isdigit() and len(index_text) < 10 else -1
        if not 0 <= index < len(params) or not name:
            raise ModelError(f"{OPTIMIZER}: tensor {quote(key)} belongs to no parameter of "
                             "this model")
        if name != "step" and tuple(value.shape) != tuple(params[index].shape):
            raise ModelError(f"{OPTIMIZER}: {key} has shape {tuple(value.shape)}, the "
                             f"parameter has {tuple(params[index].shape)}")
        if not value.is_floating_point():
            raise ModelError(f"{OPTIMIZER}: {key} must hold floating-point numbers")
        if name == "step" and (value.numel() != 1 or not 0 <= float(value) <= MAX_STEPS):
            raise ModelError(f"{OPTIMIZER}: {key} must be one count from 0 to {MAX_STEPS:,}")
        loaded.setdefault(index, {})[name] = value
    for index_text, values in layout.get("scalars", {}).items():
        step = values.get("step")
        if step is not None and not Rule("number", 0, MAX_STEPS).accepts(step):
            raise ModelError(f"{META}: optimizer_layout.scalars.{index_text}.step must be a "
                             f"count from 0 to {MAX_STEPS:,}, found {quote(step)}")
        if int(index_text) >= len(params):
            raise ModelError(f"{META}: optimizer_layout.scalars names parameter {index_text}, "
                             f"the model has {len(params)}")
        loaded.setdefault(int(index_text), {}).update(values)
    try:
        optimizer.load_state_dict({"state": loaded, "param_groups": layout["param_groups"]})
    except (ValueError, TypeError, KeyError, RuntimeError) as exc:
        raise ModelError(f"{OPTIMIZER}: does not fit the {kind} optimizer "
                         f"({str(exc).splitlines()[0][:80]})") from None


@dataclass(frozen=True)
class TrainedModel:
    """A run folder reopened: the model file, its best weights and what the run recorded."""

    spec: ModelSpec
    weights: Path
    state: RunState
    run_dir: Path


def open_run(path: Path, which: str = "best", check_up_to: int | None = None) -> TrainedModel:
    """Reopen a run folder (or a weights file inside one) for inspection or more training.

    The weights are checked against the run's record here when they are at most
    ``check_up_to`` bytes (None: always). Larger ones are checked by whoever reads them
    (core.weights.read_weights, on a worker): hashing VGG-16's 528 MB on the window's thread
    would freeze it for about a second."""
    run = path.parent if path.is_file() else path
    state = load_state(run)
    check_generations(run, state)
    spec = load_model(resolve(run, MODEL))
    check_state_fits_model(state, spec)
    if path.is_file():
        weights = path
    else:
        weights = resolve(run, BEST if which == "best" else LAST)
        if not weights.is_file():
            weights = resolve(run, LAST)
    if not weights.is_file():
        raise ModelError(f"{run}: no weights saved yet")
    name = generation_name(weights)
    small = check_up_to is None or weights.stat().st_size <= check_up_to
    if name is not None and small:  # refused at opening, in one line, when swapped or damaged
        check_files(run, (name,))
    return TrainedModel(spec, weights, state, run)

"""The checks of a run folder's state before it is resumed or reopened: training.json's values
against the model (mean, std, the best metric and its value), the generation number against
what was saved, the dataset a resume would load, the record of the files a resume reads, and
a saved optimizer layout against the optimizer the settings build.

Each raises ModelError (or returns the problem) in one line naming the field.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from core.model.errors import ModelError, quote
from core.model.spec import ModelSpec
from core.regular_files import read_regular_text
from core.run_files import BEST, LAST, META, MODEL, OPTIMIZER, TMP, inside_run, resolve
from core.run_files import read_meta as _read_meta
from core.train.run_schema import RunState
from core.train.schema import Rule


def check_state_fits_model(state: RunState, spec: ModelSpec) -> None:
    """training.json's values against the model they describe: one mean and std per input
    channel of an image model, the best metric the model's task's headline and its value the
    best of the history. ModelError naming the field."""
    if len(spec.input_shape) == 3:
        channels = spec.input_shape[0]
        if len(state.mean) != channels or len(state.std) != channels:
            raise ModelError(f"{META}: mean and std must have one value per input channel of "
                             f"the model ({channels}), found {len(state.mean)} and "
                             f"{len(state.std)}")
    _check_best(state, spec)


def _check_best(state: RunState, spec: ModelSpec) -> None:
    from core.tasks import task_for

    try:
        wanted = f"val_{task_for(spec.task).headline}"
    except ValueError:  # an unknown task: the model file's own check names it
        return
    # a new run's first training.json holds the default until its first epoch names it
    allowed = (wanted, "val_acc") if state.epochs_done == 0 else (wanted,)
    if state.best_metric not in allowed:
        raise ModelError(f"{META}: best_metric must be {wanted}, the {spec.task} model's "
                         f"headline metric, found {quote(state.best_metric)}; the file was "
                         "changed by hand or is damaged")
    best = -1.0  # the engine's start: any first validation score beats it
    for row in state.history:
        value = row.get(state.best_metric)
        if value is None and "epoch" in row and state.best_metric not in row:
            raise ModelError(f"{META}: history's epoch {row['epoch']} has no "
                             f"{state.best_metric}; the file was changed by hand or is damaged")
        if isinstance(value, int | float) and not math.isnan(value):
            best = max(best, float(value))
    if not math.isclose(state.best_value, best, rel_tol=1e-9, abs_tol=1e-12):
        raise ModelError(f"{META}: best_value is {state.best_value:g} but the best "
                         f"{state.best_metric} in history is {best:g}; the file was changed "
                         "by hand or is damaged")


def check_generations(run: Path, state: RunState) -> None:
    """The generation number against what the run has saved: one generation for the run's
    start and one per epoch at least; an interrupted save's training.json.tmp must be the next
    one; a run without epochs has no best weights and no test results. ModelError."""
    meta = _read_meta(run)
    recorded = meta.get("files") or {}
    generation = meta.get("generation")
    damaged = "the file was changed by hand or is damaged"
    if recorded and not isinstance(generation, int):
        raise ModelError(f"{META} records the run's files but no generation number; {damaged}")
    if isinstance(generation, int) and recorded and generation < state.epochs_done + 1:
        raise ModelError(f"{META}: generation is {generation} but {state.epochs_done} epochs "
                         f"were saved, each in a generation after the run's first (at least "
                         f"{state.epochs_done + 1}); {damaged}")
    pending = run / (META + TMP)
    if isinstance(generation, int) and os.path.lexists(pending):
        try:
            cut = json.loads(read_regular_text(inside_run(run, pending))).get("generation")
        except (OSError, ValueError, RecursionError, AttributeError, ModelError):
            cut = None  # cut off while it was written: nothing to compare
        if isinstance(cut, int) and not isinstance(cut, bool) and cut != generation + 1:
            raise ModelError(f"{META + TMP} (a save that was cut off) is generation {cut}, "
                             f"not {generation + 1}, the one after {META}'s: the folder mixes "
                             "files of different saves, so it cannot be resumed")
    if state.epochs_done == 0:
        if BEST in recorded or os.path.lexists(resolve(run, BEST)):
            raise ModelError(f"{META}: epochs_done is 0 but the folder has {BEST}, which is "
                             f"saved only at the end of an epoch; {damaged}")
        if state.finished or state.test_acc is not None or state.test_metrics:
            raise ModelError(f"{META}: epochs_done is 0 but the run is marked finished or has "
                             f"test results; {damaged}")


def check_run_dataset(state: RunState, spec: ModelSpec) -> None:
    """The dataset a resume will load: a named one that fits the model's task, or the full,
    resolved path ConvScope recorded (no relative path, no ``..``, no link to elsewhere), so a
    run folder someone shares cannot make ConvScope read their choice of folder."""
    from core.data.datasets import DATASETS

    name = state.dataset
    key = name.lower()
    change = "give --dataset FOLDER --change-dataset to continue it on a folder of your choice"
    if key in DATASETS or key.split(":")[0] in ("digit-scenes", "moving-digits"):
        if spec.task != "classification" and key.split(":")[0] != "digit-scenes":
            raise ModelError(f"{META}: dataset {quote(name)} has no masks or boxes, so the "
                             f"{spec.task} run cannot have been trained on it; the file was "
                             f"changed by hand or is damaged ({change})")
        return
    path = Path(name)
    if not path.is_absolute() or os.path.normpath(name) != name or "\0" in name:
        raise ModelError(f"{META}: dataset must be a dataset name ({', '.join(DATASETS)}) or "
                         f"the full path ConvScope recorded, found {quote(name)}; {change}")
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        resolved = None
    if resolved != path:
        raise ModelError(f"{META}: dataset {quote(name)} leads to "
                         f"{quote(str(resolved)) if resolved else 'nowhere'} through a link, not "
                         f"to the folder the run recorded; {change}")


def _require_record(run: Path, state: RunState) -> None:
    """A resume reads model.json, weights-last and the optimizer state: once a generation has
    been saved, training.json must record each of them (size and SHA-256). Without the record
    nothing shows the files belong together (a record deleted, a file copied in)."""
    recorded = _read_meta(run).get("files")
    saved = state.epochs_done > 0 or resolve(run, LAST).exists()
    if not saved:
        return
    how = (f"it can still be opened, or trained from: convscope train {run / MODEL} "
           f"--weights {run / LAST}")
    if not isinstance(recorded, dict) or not recorded:
        raise ModelError(f"{META} has no record of the run's files (their sizes and SHA-256), "
                         f"so nothing shows they belong together and it cannot be resumed; {how}")
    needed = [MODEL, LAST] + ([OPTIMIZER] if state.epochs_done else [])
    missing = [name for name in needed if not isinstance(recorded.get(name), dict)]
    if missing:
        raise ModelError(f"{missing[0]} is not in {META}'s record of the run's files, so it may "
                         f"not be the run's own and the run cannot be resumed; {how}")


_HYPER_LIMITS = {
    "betas": (Rule("number", 0, 1, below=True), "two numbers from 0 to below 1"),
    "eps": (Rule("number", 0, 1, above=True), "a number above 0 and at most 1"),
    "weight_decay": (Rule("number", 0, 1), "a number from 0 to 1 (as --weight-decay)"),
    "momentum": (Rule("number", 0, 1, below=True), "a number from 0 to below 1"),
    "dampening": (Rule("number", 0, 1), "a number from 0 to 1"),
}
"""The optimizer's hyperparameters in a saved layout, within what the command line accepts."""


def _optimizer_problem(fresh: dict[str, Any], layout: dict[str, Any], kind: str) -> str | None:
    groups = layout.get("param_groups", [])
    mine = fresh["param_groups"]
    if len(groups) != len(mine):
        return (f"optimizer_layout has {len(groups)} parameter groups, the model's {kind} "
                f"optimizer has {len(mine)}")
    for i, (saved, own) in enumerate(zip(groups, mine, strict=True)):
        where = f"optimizer_layout.param_groups[{i}]"
        if set(saved) != set(own):
            odd = sorted(set(saved) ^ set(own))
            return (f'{where} is not what the settings\' optimizer "{kind}" saves (keys '
                    f"{quote(odd)} differ)")
        if saved["params"] != own["params"]:
            return f"{where}.params must be {quote(own['params'])}, found {quote(saved['params'])}"
        for key, value in own.items():
            got = saved[key]
            if key in ("lr", "initial_lr") and not Rule("number", 0, 10).accepts(got):
                # the same limit as --lr; a schedule may have brought it down to 0
                return f"{where}.{key} must be a number from 0 to 10, found {quote(got)}"
            limit = _HYPER_LIMITS.get(key)
            if limit is not None:
                rule, words = limit
                values = got if isinstance(got, list) else [got]
                if not all(rule.accepts(v) for v in values):
                    return f"{where}.{key} must be {words}, found {quote(got)}"
            if isinstance(value, bool) or value is None:
                ok = got is None or isinstance(got, bool) if value is None else isinstance(
                    got, bool)
            elif isinstance(value, int | float):
                ok = Rule("number", 0).accepts(got)
            elif isinstance(value, list | tuple):
                ok = (isinstance(got, list) and len(got) == len(value)
                      and all(Rule("number", 0).accepts(v) for v in got))
            else:
                ok = isinstance(got, type(value))
            if not ok:
                return f"{where}.{key} must be like {quote(value)}, found {quote(got)}"
    return None

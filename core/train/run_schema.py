"""training.json read through one schema: every key checked, one line per problem.

A run folder is read like a model file: each key of training.json has a rule here, the
settings go through the same rules as the command line and the Train tab
(TrainingSettings.from_dict), and the optimizer layout is checked for its shape here and
against the optimizer it will be loaded into in checkpoint.restore_optimizer. A problem raises
ModelError("training.json: batch_size must be …, found 1.5"), and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from core.model.errors import ModelError, quote
from core.train.schema import Rule
from core.train.settings import TrainingError, TrainingSettings

Check = Callable[[Any], str | None]
"""A check of one value: None when it is fine, else what it must be."""


def _rule(rule: Rule) -> Check:
    return lambda value: None if rule.accepts(value) else rule.words()


def _list_of(item: Rule, low: int = 0, high: int = 10**6) -> Check:
    def check(value: Any) -> str | None:
        if (isinstance(value, list) and low <= len(value) <= high
                and all(item.accepts(v) for v in value)):
            return None
        return f"a list of {low} to {high:,} items, each {item.words()}"
    return check


def _history(value: Any) -> str | None:
    """One object per epoch: numbers (NaN, null for an empty split), or lists of them (e.g. a
    metric per class); "epoch" a whole number."""
    number = Rule("number", optional=True, nan=True)

    def fine(row: Any) -> bool:
        return isinstance(row, dict) and Rule("int", 1).accepts(row.get("epoch", 1)) and all(
            isinstance(k, str) and (number.accepts(v) or isinstance(v, str) or (
                isinstance(v, list) and all(number.accepts(x) for x in v)))
            for k, v in row.items())

    if isinstance(value, list) and all(fine(row) for row in value):
        return None
    return ('a list of {"epoch": 1, "train_loss": …} objects whose values are numbers (or '
            "lists of them)")


def _metrics(value: Any) -> str | None:
    number = Rule("number", optional=True, nan=True)  # NaN: a split without images
    if isinstance(value, dict) and all(isinstance(k, str) and number.accepts(v)
                                       for k, v in value.items()):
        return None
    return 'an object of {"test_miou": 0.9, …} whose values are numbers, NaN or null'


def _files(value: Any) -> str | None:
    if isinstance(value, dict) and all(
            isinstance(name, str) and isinstance(entry, dict)
            and Rule("int", 0).accepts(entry.get("size"))
            and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64
            for name, entry in value.items()):
        return None
    return 'an object of {"weights-last.safetensors": {"size": …, "sha256": …}}'


def _layout(value: Any) -> str | None:
    """The shape of optimizer_layout; its match to the optimizer is checked when it is loaded."""
    words = ('{"param_groups": [one or more objects], "scalars": {"0": {"step": 3}, …}} as '
             "saved by ConvScope")
    if value == {}:
        return None  # a run before its first checkpoint
    if not isinstance(value, dict) or set(value) - {"param_groups", "scalars"}:
        return words
    groups = value.get("param_groups")
    if not isinstance(groups, list) or not groups or not all(isinstance(g, dict) for g in groups):
        return words
    scalars = value.get("scalars", {})
    number = Rule("number")
    if not isinstance(scalars, dict) or not all(
            isinstance(k, str) and k.isascii() and k.isdigit() and len(k) < 10
            and isinstance(v, dict) and all(number.accepts(x) or isinstance(x, bool)
                                           for x in v.values())
            for k, v in scalars.items()):
        return words
    return None


RUN_FIELDS: dict[str, Check] = {
    "dataset": _rule(Rule("text")),
    "classes": _list_of(Rule("text"), 1),
    "mean": _list_of(Rule("number", -1e6, 1e6), 1, 4),
    "std": _list_of(Rule("number", 0, 1e6, above=True), 1, 4),
    "epochs_done": _rule(Rule("int", 0, 10000)),
    "best_val_acc": _rule(Rule("number", -1, 1)),
    "best_metric": _rule(Rule("text")),
    "best_value": _rule(Rule("number", optional=True)),
    "history": _history,
    "notes": _list_of(Rule("text")),
    "optimizer_layout": _layout,
    "test_acc": _rule(Rule("number", 0, 1, optional=True, nan=True)),
    "test_metrics": _metrics,
    "finished": _rule(Rule("bool")),
    "generation": _rule(Rule("int", 0)),
    "files": _files,
}
"""Every key of training.json but settings, with what it must be. A new key is one line here."""
REQUIRED = ("settings", "dataset", "classes", "mean", "std")
BOOKKEEPING = ("generation", "files")
"""Written by the checkpoint's commit, not part of RunState."""


def check_run_data(data: Any, path: Path) -> tuple[TrainingSettings, dict[str, Any]]:
    """Validate training.json's parsed content; returns its settings and its checked keys.

    Raises ModelError with one line naming the file and the field.
    """
    name = path.name
    if not isinstance(data, dict):
        raise ModelError(f"{name}: must hold a JSON object, found {quote(data)}")
    for key in REQUIRED:
        if key not in data:
            raise ModelError(f"{name}: {key} is missing; the file is damaged")
    for key, value in data.items():
        if key == "settings":
            continue
        check = RUN_FIELDS.get(key)
        if check is None:
            raise ModelError(f"{name}: unknown key {quote(key)}; this is not a training.json "
                             "ConvScope wrote")
        expected = check(value)
        if expected is not None:
            raise ModelError(f"{name}: {key} must be {expected}, found {quote(value)}")
    try:
        settings = TrainingSettings.from_dict(data["settings"], "settings.")
        settings.check()
    except (TrainingError, ValueError) as exc:
        raise ModelError(f"{name}: {exc}") from None
    done = data.get("epochs_done", 0)
    if done > settings.epochs:
        raise ModelError(f"{name}: epochs_done must be at most settings.epochs "
                         f"({settings.epochs}), found {done}")
    history = data.get("history", [])
    if len(history) != done:
        raise ModelError(f"{name}: epochs_done is {done} but history has {len(history)} "
                         "epochs; the file was changed by hand or is damaged")
    if len(data["mean"]) != len(data["std"]):
        raise ModelError(f"{name}: mean and std must have one value per channel, found "
                         f"{len(data['mean'])} and {len(data['std'])}")
    return settings, data


def run_state_fields(state_type: type) -> set[str]:
    """The RunState keys a checked training.json passes on (bookkeeping keys are not)."""
    return {f.name for f in fields(state_type)}


@dataclass
class RunState:
    """training.json: what a run has done so far."""

    settings: dict[str, Any]
    dataset: str
    classes: list[str]
    mean: list[float]
    std: list[float]
    epochs_done: int = 0
    best_metric: str = "val_acc"
    """The validation metric that picks the best weights (the task's headline)."""
    best_value: float = -1.0
    history: list[dict[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    optimizer_layout: dict[str, Any] = field(default_factory=dict)
    test_acc: float | None = None
    finished: bool = False
    test_metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

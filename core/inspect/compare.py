"""Runs side by side: two or more run folders of the same task read into plain numbers.

An ablation in class (with and without dropout, batch norm, augmentation) is two runs of one
task. ``read_runs`` checks every folder first (a folder that is not a run, or runs of different
tasks, are refused with one CompareError naming the folder and why), then collects what each
run recorded — its curves per epoch (train and validation), final and test metrics — and what
its weights show: the first convolution's filters and, for classification on a dataset that is
at hand, the validation confusion matrix (their difference is run 2 − run 1). The command line
(core.cli.compare) and the Train tab draw the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.model.errors import ModelError

NOT_CURVES = ("epoch", "seconds", "samples_per_s", "lr")
"""History keys that are not a loss or a metric."""


class CompareError(ModelError):
    """Runs that cannot be compared; the message names the folder and why."""


@dataclass
class RunSummary:
    """One run's numbers for the comparison."""

    name: str
    folder: Path
    model: str
    task: str
    dataset: str
    classes: list[str]
    epochs: list[int]
    curves: dict[str, list[float]]
    """Per-epoch values by history key (train_loss, val_loss, train_acc, val_acc, …)."""
    final: dict[str, float]
    """The last epoch's losses and metrics, then the test metrics when the run has them."""
    filters_layer: str | None = None
    filters: np.ndarray | None = None
    """The first convolution's kernels (out, in, kh, kw), or None when the model has none."""
    confusion: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "folder": str(self.folder), "model": self.model,
                "task": self.task, "dataset": self.dataset, "classes": self.classes,
                "epochs": self.epochs,
                "curves": {k: [_plain(v) for v in vs] for k, vs in self.curves.items()},
                "final": {k: _plain(v) for k, v in self.final.items()},
                "first_filters": None if self.filters is None else {
                    "layer": self.filters_layer, "shape": list(self.filters.shape)},
                "confusion": None if self.confusion is None else self.confusion.tolist(),
                "notes": self.notes}


@dataclass
class Comparison:
    runs: list[RunSummary]
    task: str
    confusion_difference: np.ndarray | None = None
    """runs[1].confusion − runs[0].confusion when both have one over the same classes."""

    def metric_names(self) -> list[str]:
        """Every final metric any run has, in first-seen order (the table's columns)."""
        names: list[str] = []
        for run in self.runs:
            names += [k for k in run.final if k not in names]
        return names

    def curve_names(self) -> list[str]:
        names: list[str] = []
        for run in self.runs:
            names += [k for k in run.curves if k not in names]
        return names

    def to_json(self) -> dict[str, Any]:
        diff = self.confusion_difference
        return {"task": self.task, "runs": [run.to_json() for run in self.runs],
                "confusion_difference": None if diff is None else diff.tolist()}


def _plain(value: float) -> float | None:
    """NaN (a split without images) as JSON's null."""
    return None if math.isnan(value) else value


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _curves(history: list[dict[str, Any]]) -> tuple[list[int], dict[str, list[float]]]:
    epochs = [int(row.get("epoch", i + 1)) for i, row in enumerate(history)]
    curves: dict[str, list[float]] = {}
    for row in history:
        for key, value in row.items():
            if key not in NOT_CURVES and _number(value) is not None:
                curves.setdefault(key, [])
    for key in curves:
        for row in history:
            value = _number(row.get(key))
            curves[key].append(math.nan if value is None else value)
    return epochs, curves


def _unique_names(folders: Sequence[Path], names: Sequence[str] | None) -> list[str]:
    if names:
        if len(names) != len(folders):
            raise CompareError(f"{len(names)} names for {len(folders)} runs: give one name "
                               "per run")
        return list(names)
    shown = [folder.resolve().name or str(folder) for folder in folders]
    return [f"{name} ({i + 1})" if shown.count(name) > 1 else name
            for i, name in enumerate(shown)]


def check_runs(folders: Sequence[Path]) -> list[Any]:
    """Open every folder as a run (core.train.checkpoint.open_run) and check they share a
    task; a list of TrainedModel, or CompareError naming the folder and why."""
    from core.train.checkpoint import open_run

    if len(folders) < 2:
        raise CompareError("compare needs two or more run folders; "
                           f"{'one was' if folders else 'none were'} given")
    opened = []
    for folder in folders:
        if not folder.is_dir():
            raise CompareError(f"{folder}: not a run folder ("
                               f"{'a file' if folder.exists() else 'it does not exist'})")
        try:
            opened.append(open_run(folder))
        except ModelError as exc:
            text = str(exc)
            raise CompareError(text if str(folder) in text else f"{folder}: {text}") from None
    first = opened[0]
    for folder, run in zip(folders[1:], opened[1:], strict=True):
        if run.spec.task != first.spec.task:
            raise CompareError(
                f"{folder} is a {run.spec.task} run but {folders[0]} is {first.spec.task}: "
                "only runs of the same task can be compared")
    return opened


def read_runs(folders: Sequence[Path], names: Sequence[str] | None = None,
              confusion: bool = True, check: Callable[[], object] | None = None,
              progress: Callable[[int, int], object] | None = None) -> Comparison:
    """Read two or more run folders (see the module doc). ``check()`` is called between
    steps (a caller on another thread stops the read by raising from it); ``progress(done,
    total)`` hears of each run read."""
    folders = [Path(f) for f in folders]
    labels = _unique_names(folders, names)
    opened = check_runs(folders)
    runs = []
    for index, (label, run) in enumerate(zip(labels, opened, strict=True)):
        if check is not None:
            check()
        runs.append(_summary(label, run, confusion, check))
        if progress is not None:
            progress(index + 1, len(opened))
    comparison = Comparison(runs, opened[0].spec.task)
    a, b = runs[0], runs[1]
    if a.confusion is not None and b.confusion is not None:
        if a.classes == b.classes and a.confusion.shape == b.confusion.shape:
            comparison.confusion_difference = b.confusion - a.confusion
        else:
            b.notes.append("no confusion difference: the runs' classes differ")
    return comparison


def _summary(label: str, run: Any, confusion: bool,
             check: Callable[[], object] | None) -> RunSummary:
    from core.inspect.inspector import Inspector

    state = run.state
    epochs, curves = _curves(state.history)
    final = {key: values[-1] for key, values in curves.items() if values}
    for key, value in state.test_metrics.items():
        number = _number(value)
        if number is not None:
            final[key] = number
    summary = RunSummary(label, run.run_dir, run.spec.name, run.spec.task, state.dataset,
                         list(state.classes), epochs, curves, final)
    if not state.history:
        summary.notes.append("no epoch recorded yet")
    try:
        inspector = Inspector(run.spec, run.weights, state, attribution=False)
    except ModelError as exc:
        summary.notes.append(f"weights not read: {exc}")
        return summary
    kernels = {name: _kernels(inspector.model.layers[name])
               for name in inspector.kernel_layers()}
    convolutions = [name for name, weight in kernels.items() if weight is not None]
    if convolutions:
        summary.filters_layer = convolutions[0]
        summary.filters = kernels[convolutions[0]]
    else:
        summary.notes.append("no convolution: no filters to show")
    if confusion and run.spec.task == "classification":
        summary.confusion = _confusion(inspector, state.dataset, summary, check)
    return summary


def _kernels(module: Any) -> np.ndarray | None:
    """A convolution's kernels as (out, in, …), transposed ones too; None for other layers."""
    from torch import nn

    weight = getattr(module, "weight", None)
    if weight is None or weight.dim() < 3:
        return None
    if isinstance(module, nn.modules.conv._ConvTransposeNd):
        weight = weight.transpose(0, 1)
    return np.asarray(weight.detach().cpu().float().numpy())


def _confusion(inspector: Any, dataset: str, summary: RunSummary,
               check: Callable[[], object] | None) -> np.ndarray | None:
    from core.data.datasets import load_dataset
    from core.data.errors import DataError
    from core.inspect.inspector import InspectError, confusion

    try:
        data = load_dataset(dataset, tuple(inspector.spec.input_shape), download=False)
        part = data.val if len(data.val) else data.test
        with inspector.watch(check or (lambda: None)):
            matrix, _ = confusion(inspector, part.images, part.labels,
                                  inspector.preparer(data))
    except (DataError, InspectError, OSError) as exc:
        summary.notes.append(f"no confusion matrix: {str(exc).splitlines()[0]}")
        return None
    return np.asarray(matrix, dtype=np.int64)

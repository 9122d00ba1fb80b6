"""Run folders: the model file, weights (safetensors), optimizer state, settings and history.

A run folder holds everything to resume a run or reopen the trained model later:

    model.json                 the model file trained
    weights-last.safetensors   weights after the latest epoch (or the moment of a stop)
    weights-best.safetensors   weights with the best validation accuracy so far
    optimizer-last.safetensors the optimizer's tensors; their structure is in training.json
    training.json              settings, history, classes, normalisation, epochs done

Nothing is ever unpickled.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from core.model.errors import ModelError
from core.model.spec import ModelSpec, load_model, save_model
from core.weights import save_weights

LAST, BEST = "weights-last.safetensors", "weights-best.safetensors"
OPTIMIZER = "optimizer-last.safetensors"
META = "training.json"


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


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    tmp.replace(path)


def save_spec(run: Path, spec: ModelSpec) -> None:
    save_model(spec, run / "model.json")


def save_state(run: Path, state: RunState) -> None:
    _write_json(run / META, state.to_dict())


def save_checkpoint(run: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    state: RunState, best: bool) -> Path:
    save_weights(model, run / LAST)
    if best:
        save_weights(model, run / BEST)
    tensors, layout = _flatten_optimizer(optimizer.state_dict())
    tmp = run / (OPTIMIZER + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(run / OPTIMIZER)
    state.optimizer_layout = layout
    save_state(run, state)
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


def load_optimizer_state(run: Path, layout: dict[str, Any]) -> dict[str, Any]:
    tensors = load_file(str(run / OPTIMIZER))
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state.setdefault(int(index), {})[name] = value
    for index, values in layout.get("scalars", {}).items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": layout["param_groups"]}


def load_state(run: Path) -> RunState:
    path = run / META
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "best_val_acc" in data:  # runs before best_metric
            data.setdefault("best_value", data["best_val_acc"])
            data.setdefault("best_metric", "val_acc")
            del data["best_val_acc"]
        state = RunState(**data)
    except (FileNotFoundError, NotADirectoryError):
        raise ModelError(f"{run}: not a ConvScope run folder (no {META})") from None
    except (ValueError, TypeError, OSError) as exc:
        raise ModelError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
    expected = {"settings": dict, "classes": list, "mean": list, "std": list,
                "epochs_done": int, "history": list, "optimizer_layout": dict}
    for key, kind in expected.items():
        if not isinstance(getattr(state, key), kind):
            raise ModelError(f"{path}: damaged ({key} should be a {kind.__name__})")
    return state


@dataclass(frozen=True)
class TrainedModel:
    """A run folder reopened: the model file, its best weights and what the run recorded."""

    spec: ModelSpec
    weights: Path
    state: RunState
    run_dir: Path


def open_run(path: Path, which: str = "best") -> TrainedModel:
    """Reopen a run folder (or a weights file inside one) for inspection or more training."""
    run = path.parent if path.is_file() else path
    state = load_state(run)
    spec = load_model(run / "model.json")
    weights = path if path.is_file() else run / (BEST if which == "best" else LAST)
    if not weights.is_file():
        weights = run / LAST
    if not weights.is_file():
        raise ModelError(f"{run}: no weights saved yet")
    return TrainedModel(spec, weights, state, run)

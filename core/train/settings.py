"""Training settings and the events the engine yields (small, frozen, CPU-only values)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from core.data.augmentation import Augmentation
from core.model.errors import quote
from core.train.schema import Rule, check_table

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "cosine", "step")
DEVICES = ("auto", "cpu", "cuda", "mps")


class TrainingError(ValueError):
    """Settings or a run cannot go ahead; the message says what to change."""


@dataclass(frozen=True)
class TrainingSettings:
    """What the training panel and ``convscope train`` offer; defaults train digits-small well."""

    optimizer: str = "adam"
    lr: float = 3e-3
    batch_size: int = 64
    epochs: int = 20
    weight_decay: float = 1e-4
    momentum: float = 0.9
    schedule: str = "cosine"
    device: str = "auto"
    mixed_precision: bool = True
    """Float16 autocast with gradient scaling; used on CUDA only."""
    seed: int = 0
    augmentation: Augmentation = field(default_factory=Augmentation)
    snapshots: bool = True
    """Keep per-epoch filter and probe-activation snapshots, and send live filter updates."""
    live_filters_every: float = 2.0
    """Seconds between live FilterSnapshot events (0: none)."""
    dice: float = 0.0
    """Segmentation: weight of the soft Dice loss added to per-pixel cross-entropy; 0 =
    cross-entropy only. Other tasks ignore it (a task lists what it uses in uses_settings)."""
    cache_features: bool = False
    """Compute the frozen layers' output once (cached on disk, core.train.feature_cache) and
    train only the layers after them from it; no augmentation while cached."""

    def check(self) -> None:
        """Refuse values out of range, in one sentence per problem (TrainingError)."""
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name in RULES}
        problems = check_table(RULES, values)
        if problems:
            raise TrainingError("; ".join(problems))
        self.augmentation.check()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any, where: str = "") -> TrainingSettings:
        """Settings read from a file, through the same rules as the command line and the GUI.

        ``where`` starts each message (e.g. "settings."); unknown keys are refused, missing
        ones take the defaults; the problems are one TrainingError line.
        """
        if not isinstance(data, dict):
            raise TrainingError(f"{where.rstrip('.') or 'the settings'} must be an object, "
                                f"found {quote(data)}")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        owner = where.rstrip(".") or "the settings"
        problems = [f"{owner} has no setting {quote(k)}; the settings are: "
                    + ", ".join(sorted(known)) for k in data if k not in known][:1]
        problems += check_table(RULES, values, where)
        raw_aug = values.get("augmentation", {})
        aug_keys = {f.name for f in fields(Augmentation)}
        if not isinstance(raw_aug, dict) or set(raw_aug) - aug_keys:
            problems.append(f"{where}augmentation must be an object of "
                            f"{', '.join(sorted(aug_keys))}, found {quote(raw_aug)}")
        else:
            problems += check_table(AUGMENTATION_RULES, raw_aug, f"{where}augmentation.")
        if problems:
            raise TrainingError("; ".join(problems))
        values["augmentation"] = Augmentation(**raw_aug)
        return cls(**values)


RULES: dict[str, Rule] = {
    "optimizer": Rule("choice", choices=OPTIMIZERS),
    "lr": Rule("number", 0, 10, above=True),
    "batch_size": Rule("int", 1, 65536),
    "epochs": Rule("int", 1, 10000),
    "weight_decay": Rule("number", 0, 1),
    "momentum": Rule("number", 0, 1, below=True),
    "schedule": Rule("choice", choices=SCHEDULES),
    "device": Rule("choice", choices=DEVICES),
    "mixed_precision": Rule("bool"),
    "seed": Rule("int", 0, 2**63 - 1),
    "snapshots": Rule("bool"),
    "live_filters_every": Rule("number", 0, 3600),
    "dice": Rule("number", 0, 10),
    "cache_features": Rule("bool"),
}
"""The one check of every training setting: command line, Train tab and training.json."""

AUGMENTATION_RULES: dict[str, Rule] = {
    "flip": Rule("bool"),
    "crop": Rule("int", 0, 64),
    "rotation": Rule("number", 0, 180),
    "shear": Rule("number", 0, 60),
    "color": Rule("number", 0, 1),
    "vflip": Rule("bool"),
    "zoom": Rule("number", 0, 0.9),
    "elastic": Rule("number", 0, 200),
}


class TrainingControl:
    """Commands into a running engine: pause, resume, stop (checked between layers too)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._run = threading.Event()
        self._run.set()

    def stop(self) -> None:
        self._stop.set()
        self._run.set()

    def pause(self) -> None:
        self._run.clear()

    def resume(self) -> None:
        self._run.set()

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._run.is_set()

    def wait_while_paused(self, timeout: float) -> None:
        self._run.wait(timeout)


# -- events ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    device: str
    notes: tuple[str, ...]
    train_size: int
    val_size: int
    test_size: int
    batches_per_epoch: int
    epochs: int
    first_epoch: int
    run_dir: str
    weights_report: str = ""


@dataclass(frozen=True)
class BatchProgress:
    epoch: int
    batch: int
    batches: int
    loss: float
    accuracy: float
    samples_per_s: float
    elapsed: float


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    seconds: float
    samples_per_s: float
    lr: float
    checkpoint: str
    best: bool
    metrics: dict[str, float] = field(default_factory=dict)
    """The task's metrics by full name (``train_acc``, ``val_miou``, ``val_map50`` …); ``val_acc``
    above holds the task's headline metric (the one that picks the best checkpoint)."""


@dataclass(frozen=True)
class FilterSnapshot:
    """The first kernel layer's filters as they are now (a CPU copy, at most 64)."""

    epoch: int
    batch: int
    layer: str
    weights: Any  # numpy array (N, C, kh, kw)


@dataclass(frozen=True)
class Paused:
    epoch: int
    batch: int
    phase: str = "training"
    """``training``, ``validation`` or ``test``: the pass that was paused."""


@dataclass(frozen=True)
class Resumed:
    epoch: int
    batch: int
    phase: str = "training"


@dataclass(frozen=True)
class Finished:
    """The run ended: completed, or stopped by the user (``stopped``) with its checkpoint."""

    test_loss: float | None
    test_acc: float | None
    checkpoint: str
    run_dir: str
    stopped: bool
    epochs_done: int
    test_metrics: dict[str, float] = field(default_factory=dict)
    """The task's test metrics by full name (``test_acc``, ``test_miou``, ``test_map50`` …);
    when stopped during validation or the test pass, the metrics over the part it covered."""
    covered: str = ""
    """When stopped during validation or the test pass: what that pass covered, in words."""


@dataclass(frozen=True)
class Caching:
    """The frozen layers' features: ``done`` of ``total`` images computed (or read from the
    cache); the last one (done == total) carries what happened in ``note``."""

    done: int
    total: int
    elapsed: float
    note: str = ""


@dataclass(frozen=True)
class Failed:
    message: str
    run_dir: str = ""


Event = (Started | BatchProgress | EpochEnd | FilterSnapshot | Paused | Resumed | Finished
         | Failed | Caching)

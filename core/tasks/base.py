"""What every task supplies to the shared engine, CLI and views (as Ultralytics' task folders do).

A task owns what differs between classification, segmentation and detection: which targets it
reads from a dataset, the check that a model fits the data (with the fix in words), the loss, the
metrics accumulated over an epoch, and turning outputs into predictions. The engine and the CLI
call these and never ask which task they run.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import torch

from core.analysis.model_analysis import LayerAnalysis, ModelAnalysis
from core.data.dataset import Dataset, Split
from core.data.errors import DataError
from core.model.spec import ModelSpec

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class MetricAccumulator(ABC):
    """Metrics summed batch by batch over a split, read once at the end of an epoch."""

    @abstractmethod
    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        """Add one batch of raw model outputs and their targets."""

    @abstractmethod
    def compute(self) -> dict[str, float]:
        """The metrics by short name (e.g. ``miou``); NaN when nothing was seen."""


class Task(ABC):
    """One task: targets, model check, loss, metrics, decoding."""

    name: str
    headline: str
    """The metric that picks the best checkpoint and that curves show (e.g. ``miou``)."""
    headline_label: str
    """The headline's display name (e.g. ``mIoU``)."""
    train_metric: str
    """The cheap running metric shown while an epoch trains (e.g. ``pixel_acc``)."""
    train_metric_label: str
    test_keys: tuple[str, ...]
    """The metrics the final line reports, with ``test_`` in front."""
    default_dataset: str
    """The bundled dataset this task trains on when the user has not chosen one that fits."""
    uses_settings: tuple[str, ...] = ()
    """The TrainingSettings fields this task's constructor takes, by the same keyword (e.g.
    ``dice``): ``task_for`` passes them in, and the Train tab shows only these task options."""

    @abstractmethod
    def targets(self, split: Split, data: Dataset) -> torch.Tensor:
        """The split's targets, indexable by batch like the images."""

    @abstractmethod
    def check_fits(self, analysis: ModelAnalysis, data: Dataset) -> None:
        """Raise DataError, with the fix in words, when the model cannot learn ``data``."""

    @abstractmethod
    def loss(self, spec: ModelSpec, analysis: ModelAnalysis, data: Dataset) -> LossFn:
        """The loss for raw outputs and a batch of targets."""

    @abstractmethod
    def batch_score(self, out: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(correct count as a tensor, count) for the running training metric."""

    @abstractmethod
    def metrics(self, data: Dataset) -> MetricAccumulator:
        """A fresh accumulator for one pass over a split."""

    def wrap_target(self, target: torch.Tensor, size: tuple[int, int]) -> Any:
        """One sample's target as transforms.v2 sees it (Mask, BoundingBoxes, or as is)."""
        return target

    def unwrap_target(self, wrapped: Any, like: torch.Tensor) -> torch.Tensor:
        """Back from ``wrap_target`` after augmentation, in the stored target's layout."""
        return torch.as_tensor(wrapped)


def check_basics(analysis: ModelAnalysis) -> LayerAnalysis:
    """The model is valid and has layers; returns the last layer's analysis."""
    if analysis.error is not None:
        raise DataError(f"the model is invalid: {analysis.error}")
    if not analysis.layers:
        raise DataError("the model has no layers: add some from the palette")
    return analysis.layers[-1]


def fix_channels(last: LayerAnalysis, wanted: int) -> str:
    """The fix for a wrong number of output channels, naming the head layer."""
    if last.type in ("Conv2d", "ConvTranspose2d"):
        return f"set out_channels of {last.name} to {wanted}"
    return f"end with a 1×1 Conv2d with out_channels={wanted} (the head)"


def shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))

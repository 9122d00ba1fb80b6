"""Classification: one label per image, cross-entropy (or NLL / BCE by the head), accuracy."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from core.analysis.model_analysis import ModelAnalysis
from core.data.dataset import Dataset, Split
from core.data.errors import DataError
from core.model.spec import ModelSpec
from core.tasks.base import LossFn, MetricAccumulator, Task, check_basics, shape_text


class LossAdapter:
    """The loss that fits the model's output: cross-entropy for scores, NLL after a Softmax,
    binary cross-entropy for a single output (after a Sigmoid or not)."""

    def __init__(self, spec: ModelSpec, outputs: int) -> None:
        last = spec.layers[-1].type
        self.binary = outputs == 1
        self.after_softmax = last == "Softmax"
        self.after_sigmoid = last == "Sigmoid"
        if self.binary:
            self.fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = (
                nn.BCELoss() if self.after_sigmoid else nn.BCEWithLogitsLoss())
        elif self.after_softmax:
            self.fn = nn.NLLLoss()
        else:
            self.fn = nn.CrossEntropyLoss()

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out = out.float()
        if self.binary:
            return self.fn(out.squeeze(1), target.float())
        if self.after_softmax:
            return self.fn(torch.log(out.clamp_min(1e-12)), target)
        return self.fn(out, target)

    def predict(self, out: torch.Tensor) -> torch.Tensor:
        if self.binary:
            threshold = 0.5 if self.after_sigmoid else 0.0
            return (out.squeeze(1) > threshold).long()
        return out.argmax(dim=1)


class AccuracyAccumulator(MetricAccumulator):
    def __init__(self, predict: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.predict = predict
        self.correct = 0
        self.seen = 0

    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        self.correct += int((self.predict(out) == target).sum())
        self.seen += len(target)

    def compute(self) -> dict[str, float]:
        return {"acc": self.correct / self.seen if self.seen else float("nan")}


class ClassificationTask(Task):
    name = "classification"
    headline = "acc"
    headline_label = "accuracy"
    train_metric = "acc"
    train_metric_label = "accuracy"
    test_keys = ("acc",)
    default_dataset = "digits"

    def __init__(self) -> None:
        self._adapter: LossAdapter | None = None

    def targets(self, split: Split, data: Dataset) -> torch.Tensor:
        return split.labels

    def check_fits(self, analysis: ModelAnalysis, data: Dataset) -> None:
        last = check_basics(analysis)
        classes = len(data.classes)
        if len(last.output_shape) != 1:
            raise DataError(
                f"the last layer {last.name} outputs {shape_text(last.output_shape)}, but "
                f"a classifier must output one score per class ({classes}): end with Flatten "
                f"and Linear(out_features={classes}), or global pooling and Flatten")
        outputs = last.output_shape[0]
        if outputs != classes and not (outputs == 1 and classes == 2):
            hint = (f"set out_features of {last.name} to {classes}" if last.type == "Linear"
                    else f"make the last layer output {classes} values")
            raise DataError(f"the model outputs {outputs} values but {data.name} has {classes} "
                            f"classes: {hint}")

    def loss(self, spec: ModelSpec, analysis: ModelAnalysis, data: Dataset) -> LossFn:
        self._adapter = LossAdapter(spec, analysis.layers[-1].output_shape[0])
        return self._adapter

    def _predict(self, out: torch.Tensor) -> torch.Tensor:
        assert self._adapter is not None, "loss() first"
        return self._adapter.predict(out)

    def batch_score(self, out: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, int]:
        return (self._predict(out) == target).sum(), len(target)

    def metrics(self, data: Dataset) -> MetricAccumulator:
        return AccuracyAccumulator(self._predict)

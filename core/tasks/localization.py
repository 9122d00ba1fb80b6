"""Classification + localization (lecture 004): one object, its class and 4 numbers for its box.

The model ends in a dense layer with K + 4 outputs: K class scores, then the box as centre x,
centre y, width and height, each a fraction of the image's width or height (0–1). The loss is
cross-entropy for the class plus the mean squared error of the 4 numbers (the lecture's L2
regression); the headline metric is the mean IoU of the predicted and true boxes.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import box_convert, box_iou

from core.analysis.model_analysis import ModelAnalysis
from core.data.dataset import Dataset, Split
from core.data.errors import DataError
from core.model.spec import ModelSpec
from core.tasks.base import LossFn, MetricAccumulator, Task, check_basics, shape_text

BOX_WEIGHT = 10.0
"""The box MSE (on 0–1 fractions) is small next to cross-entropy; this evens them out."""


def box_fractions(target: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The first box of each padded target (N, M, 5) as (cx, cy, w, h) fractions (N, 4)."""
    height, width = size
    boxes: torch.Tensor = box_convert(target[:, 0, 1:].float(), "xyxy", "cxcywh")
    return boxes / torch.tensor([width, height, width, height], device=boxes.device)


def predicted_boxes(out: torch.Tensor, classes: int, size: tuple[int, int]) -> torch.Tensor:
    """Outputs (N, K + 4) → boxes (N, 4) xyxy in pixels."""
    height, width = size
    fractions = out[:, classes:classes + 4].float()
    scale = torch.tensor([width, height, width, height], device=out.device)
    boxes: torch.Tensor = box_convert(fractions * scale, "cxcywh", "xyxy")
    return boxes


class LocalizationLoss:
    def __init__(self, classes: int, size: tuple[int, int]) -> None:
        self.classes, self.size = classes, size

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out = out.float()
        labels = target[:, 0, 0].long()
        box = nn.functional.mse_loss(out[:, self.classes:self.classes + 4],
                                     box_fractions(target, self.size))
        return nn.functional.cross_entropy(out[:, :self.classes], labels) + BOX_WEIGHT * box


class LocalizationMetrics(MetricAccumulator):
    def __init__(self, classes: int, size: tuple[int, int]) -> None:
        self.classes, self.size = classes, size
        self.iou_sum, self.correct, self.seen = 0.0, 0, 0

    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        found = predicted_boxes(out, self.classes, self.size)
        truth = target[:, 0, 1:].float()
        self.iou_sum += float(box_iou(found, truth).diagonal().sum())
        self.correct += int((out[:, :self.classes].argmax(1) == target[:, 0, 0].long()).sum())
        self.seen += len(target)

    def compute(self) -> dict[str, float]:
        if not self.seen:
            return {"iou": float("nan"), "acc": float("nan")}
        return {"iou": self.iou_sum / self.seen, "acc": self.correct / self.seen}


class LocalizationTask(Task):
    name = "localization"
    headline = "iou"
    headline_label = "mean box IoU"
    train_metric = "acc"
    train_metric_label = "accuracy"
    test_keys = ("iou", "acc")
    default_dataset = "digit-scenes:max=1"

    def __init__(self) -> None:
        self.classes = 0

    def targets(self, split: Split, data: Dataset) -> torch.Tensor:
        if split.boxes is None:
            raise DataError(f"{data.name} has no boxes: classification + localization needs "
                            "one labelled box per image (digit-scenes:max=1)")
        if split.boxes.shape[1] != 1:
            raise DataError(f"{data.name} has up to {split.boxes.shape[1]} objects per image; "
                            "classification + localization reads one: use digit-scenes:max=1")
        return split.boxes

    def check_fits(self, analysis: ModelAnalysis, data: Dataset) -> None:
        last = check_basics(analysis)
        self.targets(data.train, data)
        wanted = len(data.classes) + 4
        out = last.output_shape
        if len(out) != 1 or out[0] != wanted:
            hint = (f"set out_features of {last.name} to {wanted}" if last.type == "Linear"
                    else f"end with Flatten and Linear(out_features={wanted})")
            raise DataError(f"the model outputs {shape_text(out)} values but classification + "
                            f"localization on {data.name} needs {wanted} ({len(data.classes)} "
                            f"class scores and 4 box numbers): {hint}")
        self.classes = len(data.classes)

    def loss(self, spec: ModelSpec, analysis: ModelAnalysis, data: Dataset) -> LossFn:
        self.classes = len(data.classes)
        return LocalizationLoss(self.classes, data.image_shape[1:])

    def batch_score(self, out: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, int]:
        return (out[:, :self.classes].argmax(1) == target[:, 0, 0].long()).sum(), len(target)

    def metrics(self, data: Dataset) -> MetricAccumulator:
        return LocalizationMetrics(len(data.classes), data.image_shape[1:])

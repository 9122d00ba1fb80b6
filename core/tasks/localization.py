"""Classification + localization (lecture 004): one object, its class and 4 numbers for its box.

The model ends in K + 4 outputs: K class scores, then 4 box numbers whose sigmoids are the box's
centre x, centre y, width and height, each a fraction of the image's width or height (0–1). The
loss is cross-entropy for the class plus, for the box, each fraction's binary cross-entropy less
its floor (as YOLO regresses its centre offsets; near the truth it behaves as the lecture's L2
regression, ≈ 2 × squared error / (t(1 − t))); the headline is the mean IoU of the boxes.

Why the sigmoid (issue 20): read raw, the box numbers start far outside 0–1, so the box term
dwarfs cross-entropy for the first hundreds of steps and its gradients swamp the features the
class scores need (the class stayed at chance). Through a sigmoid they start at the image's
centre, the box error starts near its final scale, and the two terms train together; the
cross-entropy form keeps the gradient alive where a squared error through the sigmoid dies.
The class scores also need features that do not depend on where the digit is: the preset reads
them from a global max pool, the box from the flattened map (resources/presets/localizer_digits).
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

BOX_WEIGHT = 5.0
"""The box term (per fraction, ~0.01–0.05 once the box is near) is small next to the class
cross-entropy; this evens them out."""


def box_from_outputs(out: torch.Tensor, classes: int) -> torch.Tensor:
    """Outputs (N, K + 4) → the box as (cx, cy, w, h) fractions (N, 4), through a sigmoid."""
    return torch.sigmoid(out[:, classes:classes + 4].float())


def box_fractions(target: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """The first box of each padded target (N, M, 5) as (cx, cy, w, h) fractions (N, 4)."""
    height, width = size
    boxes: torch.Tensor = box_convert(target[:, 0, 1:].float(), "xyxy", "cxcywh")
    return boxes / torch.tensor([width, height, width, height], device=boxes.device)


def predicted_boxes(out: torch.Tensor, classes: int, size: tuple[int, int]) -> torch.Tensor:
    """Outputs (N, K + 4) → boxes (N, 4) xyxy in pixels."""
    height, width = size
    fractions = box_from_outputs(out, classes)
    scale = torch.tensor([width, height, width, height], device=out.device)
    boxes: torch.Tensor = box_convert(fractions * scale, "cxcywh", "xyxy")
    return boxes


class LocalizationLoss:
    def __init__(self, classes: int, size: tuple[int, int]) -> None:
        self.classes, self.size = classes, size

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out = out.float()
        labels = target[:, 0, 0].long()
        truth = box_fractions(target, self.size).clamp(0, 1)
        logits = out[:, self.classes:self.classes + 4]
        # cross-entropy of each fraction against its sigmoid, less its floor (the truth's own
        # entropy): 0 for a perfect box, and a gradient sigmoid − truth that never vanishes
        # (a squared error through the sigmoid saturates: a width stuck at 0 stays there)
        floor = nn.functional.binary_cross_entropy(truth, truth)
        box = nn.functional.binary_cross_entropy_with_logits(logits, truth) - floor
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
                    else f"the layers {last.name} joins must give {len(data.classes)} class "
                    "scores and 4 box numbers" if last.type == "Concat"
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

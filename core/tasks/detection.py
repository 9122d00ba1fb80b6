"""Detection: a single-stage grid detector as lecture 004 describes YOLO.

The last layer outputs 5 + K channels on an S×S grid; each cell reads its column of values as

- channel 0: objectness logit; objectness = sigmoid(t0), "an object's centre is in this cell";
- channels 1–4: the box. With the cell in row i, column j and cells of cw×ch pixels on a W×H
  input: centre x = (j + sigmoid(t1))·cw, centre y = (i + sigmoid(t2))·ch, width =
  sigmoid(t3)·W, height = sigmoid(t4)·H (so a box never leaves its cell's reach or the image);
- channels 5 … 5 + K − 1: one score per class (softmax over them).

Training puts each ground-truth box in the cell that holds its centre: objectness by binary
cross-entropy over every cell (summed, divided by the number of objects), class by
cross-entropy and the box by GIoU loss (torchvision.ops) at those cells. Decoding keeps the
cells whose objectness is a 3×3 peak, scores them objectness × class probability, drops those
under a score threshold and applies torchvision.ops.batched_nms. Metrics: COCO mAP@0.5 and
mAP@[.5:.95] from torchmetrics' MeanAveragePrecision, per-class AP, and the lectures' 11-point
interpolated AP at IoU 0.5 (VOC 2007's rule), labelled as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torchvision import tv_tensors
from torchvision.ops import batched_nms, box_iou, generalized_box_iou_loss

from core.analysis.model_analysis import ModelAnalysis
from core.data.dataset import Dataset, Split
from core.data.errors import DataError
from core.model.spec import ModelSpec
from core.tasks.base import (
    LossFn,
    MetricAccumulator,
    Task,
    check_basics,
    fix_channels,
    shape_text,
)

EVAL_SCORE = 0.01
"""Score threshold for the metrics (low: AP integrates over every threshold)."""
NMS_IOU = 0.5
BOX_WEIGHT = 2.0
MIN_BOX = 2.0
"""Boxes thinner than this (pixels) after augmentation are dropped, as SanitizeBoundingBoxes."""


@dataclass(frozen=True)
class Detections:
    """One image's predicted boxes (xyxy pixels), scores and class indices."""

    boxes: torch.Tensor
    scores: torch.Tensor
    labels: torch.Tensor


def decode_boxes(out: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
    """Raw outputs (N, 5 + K, S, S) → every cell's box (N, S, S, 4), xyxy pixels."""
    height, width = image_size
    rows, cols = out.shape[-2:]
    t = out[:, 1:5].float().sigmoid()
    j = torch.arange(cols, device=out.device, dtype=t.dtype)[None, None, :]
    i = torch.arange(rows, device=out.device, dtype=t.dtype)[None, :, None]
    cx = (j + t[:, 0]) * (width / cols)
    cy = (i + t[:, 1]) * (height / rows)
    w, h = t[:, 2] * width, t[:, 3] * height
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def objectness(out: torch.Tensor) -> torch.Tensor:
    """The grid's objectness (N, S, S), 0–1: what the detector 'thinks' before NMS."""
    return out[:, 0].float().sigmoid()


def decode(out: torch.Tensor, image_size: tuple[int, int], score: float = 0.3,
           nms: float = NMS_IOU, peaks: bool = True) -> list[Detections]:
    """Raw outputs → per image: peak cells scored objectness × class probability, NMS'd."""
    obj = objectness(out)
    probs = out[:, 5:].float().softmax(1)
    class_prob, label = probs.max(1)
    scores = obj * class_prob
    keep = scores >= score
    if peaks:
        keep &= obj == nn.functional.max_pool2d(obj[:, None], 3, 1, 1)[:, 0]
    boxes = decode_boxes(out, image_size)
    height, width = image_size
    result = []
    for n in range(out.shape[0]):
        b, s, lab = boxes[n][keep[n]], scores[n][keep[n]], label[n][keep[n]]
        b = torch.stack([b[:, 0].clamp(0, width), b[:, 1].clamp(0, height),
                         b[:, 2].clamp(0, width), b[:, 3].clamp(0, height)], dim=1)
        kept = batched_nms(b, s, lab, nms)
        result.append(Detections(b[kept], s[kept], lab[kept]))
    return result


def ground_truth(target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One image's padded (M, 5) target → (boxes (G, 4), labels (G,))."""
    valid = target[:, 0] >= 0
    return target[valid, 1:], target[valid, 0].long()


class DetectionLoss:
    """Objectness BCE everywhere, class CE and GIoU loss at the cells holding box centres."""

    def __init__(self, image_size: tuple[int, int]) -> None:
        self.image_size = image_size

    def __call__(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        out = out.float()
        height, width = self.image_size
        rows, cols = out.shape[-2:]
        valid = target[..., 0] >= 0  # (N, M)
        image, slot = valid.nonzero(as_tuple=True)
        boxes = target[image, slot, 1:]
        labels = target[image, slot, 0].long()
        cx = (boxes[:, 0] + boxes[:, 2]) / 2
        cy = (boxes[:, 1] + boxes[:, 3]) / 2
        col = (cx * cols / width).long().clamp(0, cols - 1)
        row = (cy * rows / height).long().clamp(0, rows - 1)
        wanted = torch.zeros_like(out[:, 0])
        wanted[image, row, col] = 1.0
        positives = max(len(labels), 1)
        loss = nn.functional.binary_cross_entropy_with_logits(
            out[:, 0], wanted, reduction="sum") / positives
        if len(labels):
            scores = out[image, 5:, row, col]
            loss = loss + nn.functional.cross_entropy(scores, labels)
            predicted = decode_boxes(out, self.image_size)[image, row, col]
            loss = loss + BOX_WEIGHT * generalized_box_iou_loss(predicted, boxes,
                                                                reduction="mean")
        return loss


def interpolated_ap11(recall: torch.Tensor, precision: torch.Tensor) -> float:
    """The lectures' 11-point interpolated AP: mean over r in 0, 0.1 … 1 of the best precision
    at recall ≥ r (PASCAL VOC 2007)."""
    total = 0.0
    for r in torch.linspace(0, 1, 11).tolist():
        above = precision[recall >= r - 1e-9]
        total += float(above.max()) if len(above) else 0.0
    return total / 11


def precision_recall(predictions: list[Detections], targets: list[tuple[torch.Tensor,
                     torch.Tensor]], label: int, iou: float = 0.5
                     ) -> tuple[torch.Tensor, torch.Tensor, int]:
    """One class's precision and recall at each detection (by falling score), greedy matching
    at ``iou`` as VOC does; and the number of ground-truth boxes."""
    records: list[tuple[float, bool]] = []
    truth_count = 0
    for pred, (boxes, labels) in zip(predictions, targets, strict=True):
        truth = boxes[labels == label]
        truth_count += len(truth)
        mine = pred.labels == label
        order = pred.scores[mine].argsort(descending=True)
        found, scores = pred.boxes[mine][order], pred.scores[mine][order]
        used = torch.zeros(len(truth), dtype=torch.bool)
        overlaps = box_iou(found, truth) if len(truth) and len(found) else None
        for k in range(len(found)):
            hit = False
            if overlaps is not None:
                best_iou, best = overlaps[k].max(0)
                if best_iou >= iou and not used[best]:
                    used[best] = hit = True
            records.append((float(scores[k]), hit))
    records.sort(key=lambda r: -r[0])
    hits = torch.tensor([r[1] for r in records], dtype=torch.float64)
    true_pos = hits.cumsum(0)
    precision = true_pos / torch.arange(1, len(hits) + 1, dtype=torch.float64)
    recall = true_pos / max(truth_count, 1)
    return precision, recall, truth_count


class DetectionMetrics(MetricAccumulator):
    """COCO mAP (torchmetrics) and the 11-point AP over a split."""

    def __init__(self, classes: list[str], image_size: tuple[int, int]) -> None:
        from torchmetrics.detection import MeanAveragePrecision

        self.classes = classes
        self.image_size = image_size
        self.coco = MeanAveragePrecision(box_format="xyxy", iou_type="bbox",
                                         class_metrics=True, backend="faster_coco_eval")
        self.predictions: list[Detections] = []
        self.truths: list[tuple[torch.Tensor, torch.Tensor]] = []

    def update(self, out: torch.Tensor, target: torch.Tensor) -> None:
        found = [Detections(d.boxes.cpu(), d.scores.cpu(), d.labels.cpu())
                 for d in decode(out, self.image_size, EVAL_SCORE)]
        truths = [ground_truth(t) for t in target.float().cpu()]
        self.predictions += found
        self.truths += truths
        self.coco.update([{"boxes": d.boxes, "scores": d.scores, "labels": d.labels}
                          for d in found],
                         [{"boxes": b, "labels": lab} for b, lab in truths])

    def compute(self) -> dict[str, float]:
        def clean(value: Any) -> float:
            number = float(value)
            return number if number >= 0 else math.nan  # torchmetrics' -1: nothing to score

        result = self.coco.compute()
        metrics = {"map50": clean(result["map_50"]), "map": clean(result["map"])}
        ap11 = []
        for label in range(len(self.classes)):
            precision, recall, truths = precision_recall(self.predictions, self.truths, label)
            if truths:
                ap11.append(interpolated_ap11(recall, precision) if len(recall) else 0.0)
        metrics["ap11"] = sum(ap11) / len(ap11) if ap11 else math.nan
        for label, value in zip(result["classes"].flatten().tolist(),
                                result["map_per_class"].flatten().tolist(), strict=True):
            if 0 <= label < len(self.classes):
                metrics[f"ap_{self.classes[label]}"] = clean(value)
        return metrics


class DetectionTask(Task):
    name = "detection"
    headline = "map50"
    headline_label = "mAP@0.5"
    train_metric = "cls_acc"
    train_metric_label = "class accuracy at objects"
    test_keys = ("map50", "map", "ap11")
    default_dataset = "digit-scenes"

    def __init__(self) -> None:
        self.image_size = (0, 0)

    def targets(self, split: Split, data: Dataset) -> torch.Tensor:
        if split.boxes is None:
            raise DataError(f"{data.name} has no boxes: a detection model needs a dataset "
                            "with labelled boxes (digit-scenes, Pascal VOC or COCO)")
        return split.boxes

    def check_fits(self, analysis: ModelAnalysis, data: Dataset) -> None:
        last = check_basics(analysis)
        self.targets(data.train, data)
        wanted = 5 + len(data.classes)
        out = last.output_shape
        in_shape = analysis.spec.input_shape
        height, width = data.image_shape[1:]
        if (in_shape[1], in_shape[2]) != (height, width):
            raise DataError(f"{data.name} images are {height}×{width} but the model's input is "
                            f"{in_shape[1]}×{in_shape[2]}: set the input to {height}×{width}")
        if len(out) != 3:
            raise DataError(f"the last layer {last.name} outputs {shape_text(out)}, but a grid "
                            f"detector outputs {wanted} channels (objectness, 4 box numbers, "
                            f"{len(data.classes)} class scores) per grid cell: end with a 1×1 "
                            f"Conv2d with out_channels={wanted}")
        if out[0] != wanted:
            raise DataError(f"the model outputs {out[0]} channels per grid cell but "
                            f"{data.name} needs {wanted} (objectness, 4 box numbers, "
                            f"{len(data.classes)} class scores): {fix_channels(last, wanted)}")
        self.image_size = (height, width)

    def loss(self, spec: ModelSpec, analysis: ModelAnalysis, data: Dataset) -> LossFn:
        self.image_size = data.image_shape[1:]
        return DetectionLoss(self.image_size)

    def batch_score(self, out: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, int]:
        height, width = self.image_size
        rows, cols = out.shape[-2:]
        image, slot = (target[..., 0] >= 0).nonzero(as_tuple=True)
        boxes = target[image, slot, 1:]
        col = ((boxes[:, 0] + boxes[:, 2]) / 2 * cols / width).long().clamp(0, cols - 1)
        row = ((boxes[:, 1] + boxes[:, 3]) / 2 * rows / height).long().clamp(0, rows - 1)
        predicted = out[image, 5:, row, col].argmax(1)
        return (predicted == target[image, slot, 0].long()).sum(), len(image)

    def metrics(self, data: Dataset) -> MetricAccumulator:
        return DetectionMetrics(data.classes, data.image_shape[1:])

    def wrap_target(self, target: torch.Tensor, size: tuple[int, int]) -> Any:
        boxes, labels = ground_truth(target)
        return {"boxes": tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=size),
                "labels": labels}

    def unwrap_target(self, wrapped: Any, like: torch.Tensor) -> torch.Tensor:
        boxes = wrapped["boxes"].as_subclass(torch.Tensor)
        height, width = wrapped["boxes"].canvas_size
        boxes = torch.stack([boxes[:, 0].clamp(0, width), boxes[:, 1].clamp(0, height),
                             boxes[:, 2].clamp(0, width), boxes[:, 3].clamp(0, height)], 1)
        keep = ((boxes[:, 2] - boxes[:, 0]) >= MIN_BOX) & ((boxes[:, 3] - boxes[:, 1]) >= MIN_BOX)
        result = torch.full_like(like, -1.0)
        count = int(keep.sum())
        result[:count, 0] = wrapped["labels"][keep].to(like.dtype)
        result[:count, 1:] = boxes[keep].to(like.dtype)
        return result

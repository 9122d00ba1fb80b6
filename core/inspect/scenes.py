"""What a segmentation or detection model makes of an image: masks, boxes, objectness, and the
whole test split scored per image (worst first) — numpy out, for the GUI and for PNG files.

Pictures are drawn with torchvision.utils (draw_segmentation_masks, draw_bounding_boxes), so the
CLI's files and the GUI's views show the same thing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

from core.data.dataset import Dataset
from core.data.errors import DataError
from core.inspect.inputs import ModelInput
from core.inspect.inspector import InspectError, Inspector
from core.tasks.detection import (
    Detections,
    decode,
    ground_truth,
    interpolated_ap11,
    objectness,
    precision_recall,
)
from core.tasks.segmentation import CLASS_COLOURS, image_iou, predict_masks

Progress = Callable[[int, int], object]
"""Called with (done, total); what it returns is ignored (Task.progress returns True)."""
BATCH = 256
PALETTE = np.array(CLASS_COLOURS, dtype=np.uint8)
"""One colour per class; background (0) is black. Beyond 16 classes colours repeat."""


def class_colour(index: int) -> tuple[int, int, int]:
    return CLASS_COLOURS[index % len(CLASS_COLOURS)]


@functools.lru_cache(maxsize=1)
def label_font() -> str | None:
    """A TrueType font for box labels (matplotlib's bundled DejaVu Sans); torchvision's default
    bitmap font is too small to read on a projector."""
    from matplotlib import font_manager

    try:
        return str(font_manager.findfont("DejaVu Sans", fallback_to_default=True))
    except (ValueError, OSError):
        return None


@dataclass(frozen=True)
class Scene:
    """An input and, for a dataset scene, its ground truth (mask and / or boxes)."""

    input: ModelInput
    mask: np.ndarray | None = None  # (H, W) class per pixel
    boxes: np.ndarray | None = None  # (G, 4) xyxy
    labels: np.ndarray | None = None  # (G,)


def scene_input(inspector: Inspector, source: str) -> Scene:
    """``scenes:N`` (test scene N of digit-scenes at the model's size) or any image input."""
    from core.inspect.inspector import image_for

    if not source.startswith("scenes:"):
        return Scene(image_for(inspector, source))
    from core.data.datasets import load_dataset

    data = load_dataset("digit-scenes", inspector.spec.input_shape)
    try:
        index = int(source.split(":", 1)[1])
        if not 0 <= index < len(data.test):
            raise IndexError(index)
    except (ValueError, IndexError):
        raise DataError(f"{source}: use scenes:N with N from 0 to {len(data.test) - 1}"
                        ) from None
    return dataset_scene(inspector, data, index, f"digit-scenes test scene {index}")


def dataset_scene(inspector: Inspector, data: Dataset, index: int, source: str) -> Scene:
    split = data.test
    inp = inspector.prepare(split.images[index], source)
    boxes = labels = None
    if split.boxes is not None:
        b, lab = ground_truth(split.boxes[index])
        boxes, labels = b.numpy(), lab.numpy()
    mask = split.masks[index].numpy() if split.masks is not None else None
    return Scene(inp, mask, boxes, labels)


def raw_output(inspector: Inspector, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        out: torch.Tensor = inspector.model(x)
    return out


# -- masks -------------------------------------------------------------------------------------

def check_segmentation(inspector: Inspector) -> None:
    """InspectError unless the model file's task is segmentation and the model outputs one
    score map per class: a classifier's scores (every scene ranked "IoU 0") or a detector's
    grid are no masks."""
    spec, out = inspector.spec, inspector.analysis.output_shape
    if spec.task != "segmentation" or out is None or len(out) != 3:
        raise InspectError("Masks needs a segmentation model (one score map per class); "
                           f"{spec.name} is a {spec.task} model with output {_shape(out)}")


def check_detector(inspector: Inspector) -> None:
    """InspectError unless the model file's task is detection and the model outputs a grid of
    5 + classes channels."""
    spec, out = inspector.spec, inspector.analysis.output_shape
    if spec.task != "detection" or out is None or len(out) != 3 or out[0] < 6:
        raise InspectError("Boxes needs a grid detector (5 + classes channels per grid "
                           f"cell); {spec.name} is a {spec.task} model with output "
                           f"{_shape(out)}")


def _shape(shape: tuple[int, ...] | None) -> str:
    return "none (it does not analyse)" if shape is None else "×".join(map(str, shape))


def predicted_mask(inspector: Inspector, inp: ModelInput) -> np.ndarray:
    """Class per pixel (H, W) for one input."""
    return predict_masks(raw_output(inspector, inp.tensor))[0].numpy()


def _uint8_rgb(display: np.ndarray) -> torch.Tensor:
    image = torch.from_numpy(np.asarray(display, dtype=np.float32))
    if image.shape[0] == 1:
        image = image.expand(3, -1, -1)
    return (image[:3] * 255).round().clamp(0, 255).to(torch.uint8)


def mask_overlay(display: np.ndarray, mask: np.ndarray, alpha: float = 0.6,
                 scale: int = 1) -> np.ndarray:
    """The input with each class's pixels tinted in its colour: (H·scale, W·scale, 3) uint8."""
    image = _uint8_rgb(display)
    classes = torch.from_numpy(np.asarray(mask)).long()
    if scale > 1:
        image = image.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
        classes = classes.repeat_interleave(scale, 0).repeat_interleave(scale, 1)
    present = [int(c) for c in torch.unique(classes).tolist() if int(c) > 0]
    if present:
        masks = torch.stack([classes == c for c in present])
        image = draw_segmentation_masks(image, masks, alpha=alpha,
                                        colors=[class_colour(c) for c in present])
    return image.permute(1, 2, 0).numpy()


def mask_colours(mask: np.ndarray) -> np.ndarray:
    """A class map in the class colours, (H, W, 3) uint8."""
    colours: np.ndarray = PALETTE[np.asarray(mask) % len(PALETTE)]
    return colours


@dataclass
class MaskScores:
    """The test split's predicted masks and their per-image mIoU, worst first."""

    order: list[int] = field(default_factory=list)
    iou: dict[int, float] = field(default_factory=dict)
    predictions: np.ndarray | None = None  # (N, H, W) uint8


def score_masks(inspector: Inspector, data: Dataset, prepare: Callable[[torch.Tensor],
                torch.Tensor], progress: Progress | None = None,
                cancelled: Callable[[], bool] = lambda: False) -> MaskScores:
    """Predict every test scene and rank them by IoU (worst first)."""
    check_segmentation(inspector)
    split = data.test
    if split.masks is None:
        raise DataError(f"{data.name} has no masks to compare with")
    classes = len(data.classes) + 1
    predictions = []
    result = MaskScores()
    for start in range(0, len(split), BATCH):
        if cancelled():
            return result
        predictions.append(predict_masks(raw_output(
            inspector, prepare(split.images[start:start + BATCH]))).to(torch.uint8))
        if progress is not None:
            progress(min(start + BATCH, len(split)), len(split))
    predicted = torch.cat(predictions) if predictions else torch.zeros(0, dtype=torch.uint8)
    for n in range(len(split)):
        result.iou[n] = image_iou(predicted[n], split.masks[n], classes)
    result.order = sorted(result.iou, key=lambda n: result.iou[n])
    result.predictions = predicted.numpy()
    return result


# -- boxes -------------------------------------------------------------------------------------

def boxes_picture(display: np.ndarray, found: Detections | None, classes: list[str],
                  truth: tuple[np.ndarray, np.ndarray | None] | None = None,
                  scale: int | None = None) -> np.ndarray:
    """Predicted boxes (class colour, label and score) and ground truth (white, thin) over the
    input, scaled up (to about 512 pixels a side unless ``scale`` is given) so the labels stay
    sharp when the picture fills a pane: (H·scale, W·scale, 3) uint8.

    Each label is written on a solid patch of its box's colour, in black or white, whichever
    contrasts more, at about 1/13 of the picture's side: readable over any image, on a
    projector too (coloured text straight on a noisy scene was not)."""
    image = _uint8_rgb(display)
    side = min(image.shape[1:])
    if scale is None:
        scale = max(1, 512 // max(image.shape[1:]))
    image = image.repeat_interleave(scale, 1).repeat_interleave(scale, 2)
    side *= scale
    if truth is not None and len(truth[0]):
        image = draw_bounding_boxes(image, torch.as_tensor(truth[0]).float() * scale,
                                    colors="white", width=max(1, side // 256))
    if found is not None and len(found.boxes):
        names = [f"{classes[int(c)] if int(c) < len(classes) else int(c)} {float(s):.2f}"
                 for c, s in zip(found.labels, found.scores, strict=True)]
        colours = [class_colour(int(c) + 1) for c in found.labels]
        image = draw_bounding_boxes(image, found.boxes.float() * scale, labels=names,
                                    colors=colours, width=max(2, side // 160),
                                    font=label_font(), font_size=max(10, side // 13),
                                    fill_labels=True, label_background_colors=colours,
                                    label_colors=[_text_on(c) for c in colours])
    return image.permute(1, 2, 0).numpy()


def _text_on(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white text, whichever contrasts more with ``colour`` (WCAG relative luminance:
    black from 0.179 up)."""
    def linear(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in colour)
    return (0, 0, 0) if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.179 else (255, 255, 255)


def detect(raw: torch.Tensor, size: tuple[int, int], score: float, nms: float) -> Detections:
    """One image's raw output (5 + K, S, S) → its detections (fast: redraws from cache)."""
    return decode(raw[None], size, score, nms)[0]


def objectness_map(raw: torch.Tensor) -> np.ndarray:
    """The grid's objectness (S, S), 0–1, before any threshold or NMS."""
    return objectness(raw[None])[0].numpy()


@dataclass
class BoxScores:
    """The test split's raw outputs, per-class AP and PR curves, and images by misses."""

    raw: torch.Tensor | None = None  # (N, 5 + K, S, S)
    ap11: dict[str, float] = field(default_factory=dict)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    misses: dict[int, int] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)


def score_boxes(inspector: Inspector, data: Dataset, prepare: Callable[[torch.Tensor],
                torch.Tensor], score: float = 0.3, nms: float = 0.5,
                progress: Progress | None = None,
                cancelled: Callable[[], bool] = lambda: False) -> BoxScores:
    """Run the test split once: raw outputs (kept for fast redraws), 11-point AP and PR curve
    per class at IoU 0.5, and each image's misses (ground truth not found at ``score``)."""
    check_detector(inspector)
    split = data.test
    if split.boxes is None:
        raise DataError(f"{data.name} has no boxes to compare with")
    size = data.image_shape[1:]
    outputs = []
    result = BoxScores()
    for start in range(0, len(split), BATCH):
        if cancelled():
            return result
        outputs.append(raw_output(inspector, prepare(split.images[start:start + BATCH])))
        if progress is not None:
            progress(min(start + BATCH, len(split)), len(split))
    raw = torch.cat(outputs)
    result.raw = raw
    everything = decode(raw, size, 0.01, nms)
    truths = [ground_truth(t) for t in split.boxes]
    for label, name in enumerate(data.classes):
        precision, recall, count = precision_recall(everything, truths, label)
        if count:
            result.ap11[name] = interpolated_ap11(recall, precision) if len(recall) else 0.0
            result.curves[name] = (recall.numpy(), precision.numpy())
    shown = decode(raw, size, score, nms)
    for n, (found, (boxes, labels)) in enumerate(zip(shown, truths, strict=True)):
        result.misses[n] = count_misses(found, boxes, labels)
    result.order = sorted(result.misses, key=lambda n: -result.misses[n])
    return result


def count_misses(found: Detections, boxes: torch.Tensor, labels: torch.Tensor,
                 iou: float = 0.5) -> int:
    """Ground-truth boxes with no detection of their class at IoU ≥ ``iou``, plus detections
    that match nothing (false alarms)."""
    from torchvision.ops import box_iou

    matched = torch.zeros(len(found.boxes), dtype=torch.bool)
    missed = 0
    overlaps = box_iou(boxes, found.boxes) if len(boxes) and len(found.boxes) else None
    for g in range(len(boxes)):
        if overlaps is None:
            missed += 1
            continue
        same = (found.labels == labels[g]) & (overlaps[g] >= iou) & ~matched
        if same.any():
            matched[int(torch.nonzero(same)[0])] = True
        else:
            missed += 1
    return missed + int((~matched).sum())

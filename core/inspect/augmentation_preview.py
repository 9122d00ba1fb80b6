"""A grid of augmented training samples, so a class sees what the network will see."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torchvision.utils import make_grid

from core.data.adapt import BatchPreparer
from core.data.augmentation import Augmentation
from core.data.dataset import Dataset
from core.data.datasets import load_dataset
from core.data.errors import DataError

PREVIEW_SAMPLES = 16


@lru_cache(maxsize=4)
def _cached(name: str, shape: tuple[int, ...]) -> Dataset:
    return load_dataset(name, shape, download=False)


def preview_grid(dataset: str, input_shape: tuple[int, ...], augmentation: Augmentation,
                 samples: int = PREVIEW_SAMPLES, seed: int | None = None,
                 task: str = "classification") -> np.ndarray:
    """(H, W, 3) uint8: the first ``samples`` training images, each augmented afresh; with the
    task's masks or boxes drawn over them, moved by the same augmentation."""
    data = _cached(dataset, tuple(input_shape))
    prepare = BatchPreparer(data, input_shape, augmentation)
    if seed is not None:
        torch.manual_seed(seed)
    images = _augmented(data, prepare, task, samples)
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    grid = make_grid(images, nrow=8, padding=1, pad_value=0.5)
    out: np.ndarray = (grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()
    return out


def _augmented(data: Dataset, prepare: BatchPreparer, task_name: str, samples: int
               ) -> torch.Tensor:
    """Augmented images (N, C, H, W) in 0–1; for masks and boxes, augmented together with their
    targets, which are drawn over them (masks tinted, boxes outlined)."""
    from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

    from core.tasks import task_for
    from core.tasks.segmentation import CLASS_COLOURS

    task = task_for(task_name)
    split = data.train.take(slice(0, samples))
    try:
        targets = task.targets(split, data)
    except DataError:
        targets = None
    if targets is None or targets.dim() == 1:  # class labels: nothing to draw
        return prepare.display(split.images)
    x, moved = prepare.with_targets(split.images, targets, task)
    shown = (x * prepare.std[:, None, None] + prepare.mean[:, None, None]).clamp(0, 1)
    pictures = (shown.expand(-1, 3, -1, -1) * 255).round().to(torch.uint8)
    drawn = []
    for picture, target in zip(pictures, moved, strict=True):
        if target.dim() == 2 and target.shape[-1] == 5:  # boxes: class, x1, y1, x2, y2
            valid = target[target[:, 0] >= 0]
            picture = draw_bounding_boxes(picture, valid[:, 1:], colors="#ff7f0e", width=1)
        elif target.dim() == 2:  # a class per pixel
            present = [int(c) for c in torch.unique(target).tolist() if c > 0]
            if present:
                masks = torch.stack([target == c for c in present])
                colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in present]
                picture = draw_segmentation_masks(picture, masks, alpha=0.6, colors=colours)
        drawn.append(picture)
    return torch.stack(drawn).float() / 255

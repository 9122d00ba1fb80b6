"""A grid of augmented training samples, so a class sees what the network will see."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torchvision.utils import make_grid

from core.data.adapt import BatchPreparer
from core.data.augmentation import Augmentation
from core.data.datasets import Dataset, load_dataset

PREVIEW_SAMPLES = 16


@lru_cache(maxsize=4)
def _cached(name: str, shape: tuple[int, ...]) -> Dataset:
    return load_dataset(name, shape, download=False)


def preview_grid(dataset: str, input_shape: tuple[int, ...], augmentation: Augmentation,
                 samples: int = PREVIEW_SAMPLES, seed: int | None = None) -> np.ndarray:
    """(H, W, 3) uint8: the first ``samples`` training images, each augmented afresh."""
    data = _cached(dataset, tuple(input_shape))
    prepare = BatchPreparer(data, input_shape, augmentation)
    if seed is not None:
        torch.manual_seed(seed)
    images = prepare.display(data.train.images[:samples])
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    grid = make_grid(images, nrow=8, padding=1, pad_value=0.5)
    out: np.ndarray = (grid.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).contiguous().numpy()
    return out

"""A dataset in memory: uint8 images (N, C, H, W) or int64 word ids (N, L), with their targets,
split three ways.

The value types every loader returns and every task, engine and view reads; no loading here,
so the loaders (``classification_sets``, ``scenes``, ``annotated``) and the registry that
names them (``datasets``) all import this module and never each other upwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from core.data.errors import DataError
from core.data.vocabulary import Vocabulary

SPLIT_SEED = 0
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass
class Split:
    images: torch.Tensor
    """uint8 (N, C, H, W); clips uint8 (N, C, T, H, W); for a text dataset int64 word ids
    (N, L)."""
    labels: torch.Tensor  # int64 (N,)
    masks: torch.Tensor | None = None
    """uint8 (N, H, W) class per pixel (0 background, 1 + class), for segmentation."""
    boxes: torch.Tensor | None = None
    """float32 (N, M, 5): class, x1, y1, x2, y2 in pixels; class -1 pads unused rows."""

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, index: torch.Tensor | slice) -> Split:
        """The samples at ``index`` (images and every target kept aligned)."""
        return Split(self.images[index], self.labels[index],
                     None if self.masks is None else self.masks[index],
                     None if self.boxes is None else self.boxes[index])


@dataclass
class Dataset:
    """A dataset split three ways, with class names for display."""

    name: str
    classes: list[str]
    train: Split
    val: Split
    test: Split
    notes: list[str] = field(default_factory=list)
    vocabulary: Vocabulary | None = None
    """Set for a text dataset: the samples are word ids (see core.data.vocabulary)."""

    @property
    def is_text(self) -> bool:
        return self.vocabulary is not None

    @property
    def is_clip(self) -> bool:
        """The samples are clips (N, C, T, H, W), for a Conv3d model (see core.data.clips)."""
        return self.vocabulary is None and self.train.images.dim() == 5

    @property
    def clip_shape(self) -> tuple[int, int, int, int]:
        """Channels, frames, height, width of the clips."""
        if not self.is_clip:
            raise DataError(f"{self.name} holds {'texts' if self.is_text else 'images'}, "
                            "not clips")
        c, t, h, w = self.train.images.shape[1:]
        return int(c), int(t), int(h), int(w)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        if self.vocabulary is not None:
            raise DataError(f"{self.name} holds texts, not images: it needs a model whose "
                            "input is a sequence of word ids (an Embedding first, e.g. text_cnn)")
        if self.is_clip:
            raise DataError(f"{self.name} holds clips, not images: it needs a model whose "
                            "input is channels×frames×height×width (Conv3d, e.g. "
                            "moving_digits_3d or video_cnn)")
        c, h, w = self.train.images.shape[1:]
        return int(c), int(h), int(w)

    def describe(self) -> str:
        if self.vocabulary is not None:
            return (f"{self.name}: {len(self.train)} train / {len(self.val)} validation / "
                    f"{len(self.test)} test texts of {self.vocabulary.length} word ids "
                    f"(vocabulary {self.vocabulary.size:,}), {len(self.classes)} classes")
        if self.is_clip:
            c, t, h, w = self.clip_shape
            return (f"{self.name}: {len(self.train)} train / {len(self.val)} validation / "
                    f"{len(self.test)} test clips of {c}×{t}×{h}×{w} (channels×frames×height×"
                    f"width), {len(self.classes)} classes")
        c, h, w = self.image_shape
        return (f"{self.name}: {len(self.train)} train / {len(self.val)} validation / "
                f"{len(self.test)} test images of {c}×{h}×{w}, {len(self.classes)} classes")


def split_three_ways(images: torch.Tensor, labels: torch.Tensor, val: float, test: float
                     ) -> tuple[Split, Split, Split]:
    """Shuffle with the fixed seed and cut into train / validation / test."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(SPLIT_SEED))
    n_test, n_val = round(len(labels) * test), round(len(labels) * val)
    parts = (order[n_test + n_val:], order[n_test:n_test + n_val], order[:n_test])
    train, valid, testing = (Split(images[p], labels[p]) for p in parts)
    return train, valid, testing


def assemble_splits(parts: dict[str, tuple[torch.Tensor, torch.Tensor]]
                    ) -> tuple[Split, Split, Split]:
    """Splits from a folder layout's parts (core.data.folders): "all" cut 70/15/15 with the
    fixed seed; or "train" and "test" as given, with "val" as given or 15% of train."""
    if "all" in parts:
        return split_three_ways(*parts["all"], val=0.15, test=0.15)
    if "val" in parts:
        train, val = Split(*parts["train"]), Split(*parts["val"])
    else:
        train, val, _ = split_three_ways(*parts["train"], val=0.15, test=0.0)
    return train, val, Split(*parts["test"])

"""Fitting a dataset to a model: resizing, grayscale ↔ RGB, augmentation, normalisation; word
ids of a text dataset cut or padded to the model's length and passed as int64.

Everything uses torchvision.transforms.v2. Batches are resized together (cheap); augmentation is
drawn per image so every sample gets its own random flip, crop, rotation, shear and colour shift.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from core.data.augmentation import Augmentation
from core.data.dataset import Dataset, Split
from core.data.errors import DataError
from core.data.frames import fit_clips, middle_frames
from core.data.images import fit_images

STAT_SAMPLES = 256


class TargetWrapper(Protocol):
    """How a task's targets travel through transforms.v2 (``core.tasks.base.Task`` is one).

    Data sits below the tasks: the tasks read datasets, so this module names only what it asks
    of a task, and never imports one."""

    def wrap_target(self, target: torch.Tensor, size: tuple[int, int]) -> Any: ...

    def unwrap_target(self, wrapped: Any, like: torch.Tensor) -> torch.Tensor: ...


def augmentation_transform(aug: Augmentation, size: tuple[int, int], channels: int
                           ) -> v2.Compose:
    """The v2 pipeline for one image (random parameters drawn per call)."""
    steps: list[Any] = []
    if aug.flip:
        steps.append(v2.RandomHorizontalFlip())
    if aug.crop:
        steps.append(v2.RandomCrop(list(size), padding=aug.crop))
    if aug.rotation or aug.shear:
        steps.append(v2.RandomAffine(degrees=aug.rotation,
                                     shear=aug.shear if aug.shear else None))
    if aug.vflip:
        steps.append(v2.RandomVerticalFlip())
    if aug.zoom:
        steps.append(v2.RandomAffine(degrees=0, scale=(1 - aug.zoom, 1 + aug.zoom)))
    if aug.elastic:
        steps.append(v2.ElasticTransform(alpha=float(aug.elastic), sigma=elastic_sigma(size)))
    if aug.color:
        colour = aug.color if channels == 3 else 0
        steps.append(v2.ColorJitter(brightness=aug.color, contrast=aug.color,
                                    saturation=colour, hue=min(0.5, colour / 4)))
    return v2.Compose(steps or [v2.Identity()])


def elastic_sigma(size: tuple[int, int]) -> float:
    """The elastic field's smoothness: 5 pixels, less on images too small for its Gaussian
    kernel (8σ + 1 pixels wide, whose half must stay below the image's side: 8×8 digits)."""
    return min(5.0, max(0.25, (min(size) - 2) / 8))


class BatchPreparer:
    """Turns uint8 dataset batches into the float tensors the model expects."""

    def __init__(self, data: Dataset, input_shape: tuple[int, ...],
                 augmentation: Augmentation | None = None, mean: torch.Tensor | None = None,
                 std: torch.Tensor | None = None) -> None:
        self.text = data.vocabulary is not None
        self.clips = data.is_clip and len(input_shape) == 4
        """Clips for a Conv3d model; clips for a 2-D model give it their middle frames."""
        self.middle = data.is_clip and len(input_shape) == 3
        if self.text:
            self._text_init(data, input_shape, augmentation)
            return
        if self.clips:
            self._clip_init(data, input_shape, augmentation, mean, std)
            return
        if len(input_shape) == 4:
            raise DataError(
                f"the model's input is {'×'.join(map(str, input_shape))} (channels×frames×"
                f"height×width) but {data.name} holds images: a video model needs clips "
                "(moving-digits, or a folder with one sub-folder of clips per class)")
        if len(input_shape) != 3:
            raise DataError(
                f"the model's input is {'×'.join(map(str, input_shape))} but images need "
                "(channels, height, width): set the input shape at the top of the window")
        channels, height, width = input_shape
        if self.middle:
            data_c, _frames, data_h, data_w = data.clip_shape
        else:
            data_c, data_h, data_w = data.image_shape
        if channels not in (1, 3) or (channels != data_c and data_c not in (1, 3)):
            raise DataError(
                f"the model takes {channels} input channels but {data.name} images have "
                f"{data_c}: set the input channels to {data_c}"
                + (" (or 1 / 3 for grayscale / colour)" if data_c in (1, 3) else ""))
        self.size = (height, width)
        self.channels = channels
        self.notes: list[str] = list(data.notes)
        if self.middle:
            self.notes.append(f"{data.name} holds clips and the model takes single images: "
                              "each clip's middle frame is used (one frame shows no motion)")
        self.resize = (data_h, data_w) != (height, width)
        if self.resize:
            self.notes.append(f"{data.name} images resized from {data_h}×{data_w} to "
                              f"{height}×{width} (the model's input)")
        if data_c == 1 and channels == 3:
            self.notes.append("grayscale images repeated to 3 channels")
        elif data_c == 3 and channels == 1:
            self.notes.append("colour images converted to grayscale")
        self.data_channels = data_c
        self.augmentation = augmentation or Augmentation()
        self.augmentation.check()
        self.augment = augmentation_transform(self.augmentation, self.size, channels)
        if mean is not None and std is not None:  # a training run's own statistics
            self.mean, self.std = mean, std
            return
        # statistics from a sample small enough for any input size (a few hundred images)
        sample = self._fit(data.train.images[:STAT_SAMPLES]).float() / 255
        self.mean = sample.mean(dim=(0, 2, 3))
        self.std = sample.std(dim=(0, 2, 3)).clamp_min(1e-3)

    def _text_init(self, data: Dataset, input_shape: tuple[int, ...],
                   augmentation: Augmentation | None) -> None:
        """Word ids pass as they are (int64, no normalisation); the run's mean 0 and std 1
        keep training.json's fields filled."""
        if len(input_shape) != 1:
            raise DataError(
                f"{data.name} holds texts but the model's input is "
                f"{'×'.join(map(str, input_shape))}: a text model takes a sequence of word ids "
                "(input shape one number, an Embedding first, e.g. text_cnn)")
        self.length = input_shape[0]
        self.size = (1, self.length)
        self.channels = self.data_channels = 1
        self.resize = False
        self.notes = list(data.notes)
        self.augmentation = Augmentation()
        if augmentation is not None and augmentation.active:
            self.notes.append("augmentation is for images: not applied to texts")
        self.augment = v2.Compose([v2.Identity()])
        self.mean, self.std = torch.zeros(1), torch.ones(1)

    def _clip_init(self, data: Dataset, input_shape: tuple[int, ...],
                   augmentation: Augmentation | None, mean: torch.Tensor | None,
                   std: torch.Tensor | None) -> None:
        """Clips (N, C, T, H, W): frames sampled evenly to the model's depth, each resized;
        one mean and std per channel over all frames."""
        channels, frames, height, width = input_shape
        data_c, data_t, data_h, data_w = data.clip_shape
        if channels not in (1, 3) or (channels != data_c and data_c not in (1, 3)):
            raise DataError(f"the model takes {channels} input channels but {data.name} clips "
                            f"have {data_c}: set the input channels to {data_c}")
        self.size = (height, width)
        self.frames = frames
        self.channels = channels
        self.data_channels = data_c
        self.notes = list(data.notes)
        self.resize = (data_t, data_h, data_w) != (frames, height, width)
        if data_t != frames:
            self.notes.append(f"{data.name} clips of {data_t} frames sampled evenly to "
                              f"{frames} (the model's depth)")
        if (data_h, data_w) != (height, width):
            self.notes.append(f"{data.name} frames resized from {data_h}×{data_w} to "
                              f"{height}×{width} (the model's input)")
        if data_c != channels:
            self.notes.append("grayscale clips repeated to 3 channels" if channels == 3
                              else "colour clips converted to grayscale")
        self.augmentation = augmentation or Augmentation()
        self.augmentation.check()
        self.augment = augmentation_transform(self.augmentation, self.size, channels)
        if self.augmentation.active:
            self.notes.append("augmentation drawn once per clip: every frame of a clip is "
                              "flipped, cropped or warped alike"
                              + (" (a mirror also mirrors the motion)"
                                 if self.augmentation.flip or self.augmentation.vflip else ""))
        if mean is not None and std is not None:
            self.mean, self.std = mean, std
            return
        sample = self._fit(data.train.images[:STAT_SAMPLES]).float() / 255
        self.mean = sample.mean(dim=(0, 2, 3, 4))
        self.std = sample.std(dim=(0, 2, 3, 4)).clamp_min(1e-3)

    def _fit(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 images at the dataset's size and channels → the model's (still uint8); word
        ids cut or padded (id 0) to the model's length."""
        if self.text:
            have = images.shape[-1]
            if have > self.length:
                return images[..., :self.length]
            if have < self.length:
                return torch.nn.functional.pad(images, (0, self.length - have))
            return images
        if self.clips:
            return fit_clips(images, self.channels, self.frames, self.size)
        if self.middle:
            images = middle_frames(images)
        return fit_images(images, self.channels, self.size)

    def fit_split(self, split: Split, budget: int = 1 << 30) -> tuple[Split, bool]:
        """Resize / convert a whole split once, when it fits in ``budget`` bytes (uint8).

        Returns the split and whether it is now fitted (pass ``fitted=True`` per batch then):
        resizing every batch again each epoch cost lenet5 on digits 8% of its speed.
        """
        if self.text:
            return replace(split, images=self._fit(split.images)), True
        if not self.resize and not self.middle and self.data_channels == self.channels:
            return split, True
        depth = self.frames if self.clips else 1
        if len(split) * self.channels * depth * self.size[0] * self.size[1] > budget:
            return split, False
        parts = [self._fit(split.images[i:i + 4096]) for i in range(0, len(split), 4096)]
        images = torch.cat(parts) if parts else split.images
        return replace(split, images=images.contiguous()), True

    def __call__(self, images: torch.Tensor, train: bool = False,
                 device: torch.device | None = None, fitted: bool = False) -> torch.Tensor:
        if not fitted:
            images = self._fit(images)
        if train and self.augmentation.active:
            images = torch.stack([self._augmented(image) for image in images])
        if device is not None:
            images = images.to(device, non_blocking=True)
        if self.text:
            return images.long()
        out = images.float().div_(255)
        shape = (-1, 1, 1, 1) if self.clips else (-1, 1, 1)  # per channel, frames too
        mean, std = self.mean.to(out.device), self.std.to(out.device)
        return (out - mean.view(shape)) / std.view(shape)

    def _augmented(self, sample: torch.Tensor) -> torch.Tensor:
        """One image augmented; a clip (C, T, H, W) as a tv_tensors.Video, one draw for all
        its frames."""
        if not self.clips:
            image: torch.Tensor = self.augment(sample)
            return image
        video: torch.Tensor = self.augment(tv_tensors.Video(sample.movedim(1, 0)))
        return video.as_subclass(torch.Tensor).movedim(0, 1)

    def with_targets(self, images: torch.Tensor, targets: torch.Tensor, task: TargetWrapper,
                     device: torch.device | None = None, fitted: bool = False
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        """A training batch and its targets, augmented together (masks and boxes follow the
        image through transforms.v2 as tv_tensors.Mask / BoundingBoxes)."""
        if not self.augmentation.active:
            return self(images, device=device, fitted=fitted), targets
        if self.clips:  # a class per clip: nothing moves with it
            return self(images, train=True, device=device, fitted=fitted), targets
        if not fitted:
            images = self._fit(images)
        pictures, moved = [], []
        for image, target in zip(images, targets.cpu(), strict=True):
            picture, wrapped = self.augment(tv_tensors.Image(image),
                                            task.wrap_target(target, self.size))
            pictures.append(picture.as_subclass(torch.Tensor))
            moved.append(task.unwrap_target(wrapped, target))
        x = self(torch.stack(pictures), device=device, fitted=True)
        return x, torch.stack(moved).to(targets.device)

    def display(self, images: torch.Tensor, train: bool = True) -> torch.Tensor:
        """Augmented images as float 0–1 for a preview grid (no normalisation)."""
        if self.text:
            raise DataError("texts have no image preview")
        images = self._fit(images)
        if train and self.augmentation.active:
            images = torch.stack([self._augmented(image) for image in images])
        if self.clips:  # the preview shows each clip's middle frame
            images = middle_frames(images)
        return images.float() / 255


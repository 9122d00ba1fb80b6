"""Fitting clips to a video model: frames sampled evenly to the model's depth, each resized.

A clip is uint8 (C, T, H, W), as Conv3d reads it (channels, frames, height, width); a batch of
clips (N, C, T, H, W). The one conversion every clip path uses: clip folders, the bundled
moving digits and the batches of a run.
"""

from __future__ import annotations

import torch

from core.data.images import fit_images


def even_indices(count: int, frames: int) -> list[int]:
    """``frames`` indices spread evenly over ``count`` frames, first and last included when
    there are two or more (a clip shorter than ``frames`` repeats some of its frames)."""
    if count <= 0 or frames <= 0:
        return []
    if frames == 1:
        return [(count - 1) // 2]  # the middle frame
    step = (count - 1) / (frames - 1)
    return [round(i * step) for i in range(frames)]


def middle_frames(clips: torch.Tensor) -> torch.Tensor:
    """(…, C, T, H, W) → (…, C, H, W): each clip's middle frame (what a 2-D model sees)."""
    return clips[..., (clips.shape[-3] - 1) // 2, :, :]


def fit_clips(clips: torch.Tensor, channels: int, frames: int, size: tuple[int, int]
              ) -> torch.Tensor:
    """uint8 clips (…, C, T, H, W) to ``channels`` (grey ↔ RGB), ``frames`` (sampled evenly)
    and ``size`` (each frame resized, antialiased)."""
    have = clips.shape[-3]
    if have != frames:
        clips = clips[..., even_indices(have, frames), :, :]
    if clips.shape[-4] == channels and tuple(clips.shape[-2:]) == tuple(size):
        return clips
    moved = clips.movedim(-3, -4)  # (…, T, C, H, W): frames as a batch of images
    fitted = fit_images(moved, channels, size)
    return fitted.movedim(-4, -3).contiguous()

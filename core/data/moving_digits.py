"""Moving digits: a bundled clip dataset where the class is the direction a digit moves.

Embedded (no network) data for video models. Each clip pastes one of scikit-learn's 8×8
handwritten digits (scaled up) on a noisy canvas and moves it right, left, down or up by the
same number of pixels each frame. Where the digit is in the middle frame is drawn from the same
range for every direction, and which digit it is from all ten, so no single frame tells the
class: a 2-D network on one frame stays at chance (0.25), while a 3-D convolution, whose
filters span frames, sees the motion. Clips are deterministic by seed, and the validation and
test clips use digit images never used in training ones (the digits are split first, as the
``digits`` dataset splits them).

The dataset argument spells the options: ``moving-digits`` (defaults) or
``moving-digits:n=N,seed=K``; the frames and their size follow the model's input.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np
import torch

from core.data.dataset import Dataset, Split
from core.data.errors import DataError

NAME = "moving-digits"
DIRECTIONS = ("right", "left", "down", "up")
"""The classes, in label order."""
_STEPS = ((1, 0), (-1, 0), (0, 1), (0, -1))
"""(dx, dy) per frame for each direction."""
NOISE = 40
"""Canvas noise: uniform 0 … NOISE - 1, drawn anew each frame."""
DEFAULT_FRAMES = 8
DEFAULT_SIZE = 32
FRAME_RANGE = (2, 12)
"""Frames per clip: at most 12, so the digit's path fits the smallest canvas."""
SIZE_RANGE = (24, 64)


@dataclass(frozen=True)
class ClipOptions:
    """What ``moving-digits:…`` asks for, and the clips' frames and size (the model's)."""

    n: int = 2000
    seed: int = 0
    frames: int = DEFAULT_FRAMES
    size: int = DEFAULT_SIZE

    def spelled(self) -> str:
        """The dataset argument that gives these clips (a run records it to reload them)."""
        changed = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)[:2]
                   if getattr(self, f.name) != f.default]
        return NAME + (":" + ",".join(changed) if changed else "")

    @property
    def n_eval(self) -> int:
        """Validation and test clips each."""
        return max(64, self.n // 5)

    @property
    def side(self) -> int:
        """The pasted digit's side in pixels."""
        return max(8, self.size * 3 // 8)


def parse_options(text: str, input_shape: tuple[int, ...]) -> ClipOptions:
    """``moving-digits[:n=N,seed=K]`` → options (DataError naming a bad part); frames and size
    from the model's input (C, T, H, W) when it has them, else the defaults."""
    _, _, rest = text.partition(":")
    values: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            key, value = "n", key
        key = key.strip().lower()
        if key not in ("n", "seed"):
            raise DataError(f'{NAME}: unknown option "{key}" in "{text}"; use n, seed (e.g. '
                            "moving-digits:n=1000,seed=1)")
        try:
            values[key] = int(value)
        except ValueError:
            raise DataError(f'{NAME}: {key} must be a whole number, got "{value}"') from None
    if not 8 <= values.get("n", 2000) <= 50_000:
        raise DataError(f"{NAME}: n (training clips) must be 8–50000, got {values['n']}")
    frames, size = DEFAULT_FRAMES, DEFAULT_SIZE
    if len(input_shape) == 4:
        frames = min(max(input_shape[1], FRAME_RANGE[0]), FRAME_RANGE[1])
    if len(input_shape) in (3, 4) and input_shape[-1] == input_shape[-2]:
        size = min(max(input_shape[-1], SIZE_RANGE[0]), SIZE_RANGE[1])
    return ClipOptions(frames=frames, size=size, **values)


@functools.lru_cache(maxsize=1)
def _digit_pools() -> tuple[tuple[torch.Tensor, np.ndarray], ...]:
    """(images float 1×8×8 0–255, labels) for the train / validation / test digit images."""
    from core.data.classification_sets import load_digits_dataset

    data = load_digits_dataset()
    return tuple((split.images.float(), split.labels.numpy())
                 for split in (data.train, data.val, data.test))


def make_clips(count: int, pool: int, options: ClipOptions, seed: int
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` clips uint8 (N, 1, T, S, S) and their directions, from digit pool 0 (train),
    1 (validation) or 2 (test)."""
    rng = np.random.default_rng(seed)
    digits, _ = _digit_pools()[pool]
    side, size, frames = options.side, options.size, options.frames
    scaled = torch.nn.functional.interpolate(digits, size=(side, side), mode="bilinear",
                                             align_corners=False)
    scaled_np = scaled[:, 0].clamp(0, 255).round().to(torch.uint8).numpy()
    room = size - side  # top-left corners 0 … room
    mid = (frames - 1) // 2  # the middle frame, as a 2-D model sees it (core.data.frames)
    after = frames - 1 - mid  # frames after it (as many as before it, or one more)
    top_speed = max(1, min(3, room // (2 * after)))
    clips = rng.integers(0, NOISE, (count, frames, size, size), dtype=np.uint8)
    directions = rng.integers(0, len(DIRECTIONS), count)
    picks = rng.integers(0, len(scaled_np), count)
    speeds = rng.integers(1, top_speed + 1, count)
    spots = rng.random((count, 2))
    for n in range(count):
        dx, dy = _STEPS[int(directions[n])]
        sign = dx + dy
        speed = int(speeds[n])
        reach = speed * after
        # the middle frame's corner, on both axes from the same range whichever the direction,
        # so where the digit is in one frame says nothing of where it goes
        along, other = (reach + int(f * (room - 2 * reach + 1)) for f in spots[n])
        digit = scaled_np[picks[n]]
        for t in range(frames):
            shift = along + sign * speed * (t - mid)
            x, y = (shift, other) if dx else (other, shift)
            window = clips[n, t, y:y + side, x:x + side]
            np.maximum(window, digit, out=window)
    return torch.from_numpy(clips)[:, None], torch.from_numpy(directions.astype(np.int64))


def load_moving_digits(text: str = NAME, input_shape: tuple[int, ...] = ()) -> Dataset:
    """The moving-digits Dataset, at the model's frames and size (see parse_options). The same
    options give the same clips, so the last few are kept. Treat the result as read-only."""
    return _clips_for(parse_options(text, input_shape))


@functools.lru_cache(maxsize=2)
def _clips_for(options: ClipOptions) -> Dataset:
    parts = []
    for pool, count in enumerate((options.n, options.n_eval, options.n_eval)):
        clips, labels = make_clips(count, pool, options, options.seed * 3 + pool)
        parts.append(Split(clips, labels))
    data = Dataset(options.spelled(), list(DIRECTIONS), parts[0], parts[1], parts[2])
    data.notes.append(f"{options.n} training / {options.n_eval} validation / {options.n_eval} "
                      f"test clips of {options.frames} frames of {options.size}×{options.size}: "
                      f"a digit moving {', '.join(DIRECTIONS)} (seed {options.seed})")
    return data

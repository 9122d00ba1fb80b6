"""Digit scenes: 1–4 bundled digits pasted on a noisy canvas, with masks and boxes.

Embedded (no network) data for segmentation and detection. Each scene pastes digits from
scikit-learn's 8×8 handwritten digits, scaled ×2–×4, at random positions that never overlap.
Scenes are deterministic by seed, and the validation and test scenes are built from digit images
never used in training scenes (the digits are split first, as the ``digits`` dataset splits
them). A scene yields:

- the image, uint8 1×S×S (S = 64 by default);
- a mask, uint8 S×S: 0 background, 1 + digit where the digit's strokes are;
- boxes, float (M, 5): digit, x1, y1, x2, y2 in pixels (the strokes' tight box; x2 / y2 are
  the right / bottom pixel edges), with rows of -1 padding to M = the most digits per scene.

The dataset argument spells the options: ``digit-scenes`` (defaults), ``digit-scenes:N``
(N training scenes) or ``digit-scenes:n=N,size=S,min=A,max=B,seed=K``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np
import torch

from core.data.dataset import Dataset, Split
from core.data.errors import DataError

NAME = "digit-scenes"
DIGIT_SIDES = tuple(range(16, 33, 2))
"""Pasted digit sizes in pixels: the 8×8 digits scaled ×2 to ×4."""
STROKE = 64
"""Pixels of a pasted digit at or above this value are the digit (mask and box)."""
NOISE = 48
PLACEMENT_TRIES = 30
"""Canvas noise: uniform 0 … NOISE - 1."""


@dataclass(frozen=True)
class SceneOptions:
    """What ``digit-scenes:…`` asks for."""

    n: int = 6000
    size: int = 64
    min: int = 1
    max: int = 4
    seed: int = 0

    def spelled(self) -> str:
        """The dataset argument that gives these scenes (a run records it to reload them)."""
        changed = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                   if getattr(self, f.name) != f.default]
        return NAME + (":" + ",".join(changed) if changed else "")

    @property
    def n_eval(self) -> int:
        """Validation and test scenes each."""
        return max(64, self.n // 8)

    def check(self) -> None:
        problems = []
        if not 1 <= self.n <= 200_000:
            problems.append(f"n (training scenes) must be 1–200000, got {self.n}")
        if not 32 <= self.size <= 512:
            problems.append(f"size must be 32–512 pixels, got {self.size}")
        if not 1 <= self.min <= self.max <= 8:
            problems.append(f"digits per scene must satisfy 1 ≤ min ≤ max ≤ 8, got "
                            f"min={self.min} max={self.max}")
        if problems:
            raise DataError(f"{NAME}: " + "; ".join(problems))


def parse_options(text: str, default_size: int = 64) -> SceneOptions:
    """``digit-scenes[:N | :key=value,…]`` → options (DataError naming a bad part)."""
    _, _, rest = text.partition(":")
    values: dict[str, int] = {"size": default_size}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            key, value = "n", key
        key = key.strip().lower()
        if key not in ("n", "size", "min", "max", "seed"):
            raise DataError(f'{NAME}: unknown option "{key}" in "{text}"; use n, size, min, '
                            "max, seed (e.g. digit-scenes:n=4000,size=64,max=1)")
        try:
            values[key] = int(value)
        except ValueError:
            raise DataError(f'{NAME}: {key} must be a whole number, got "{value}"') from None
    options = SceneOptions(**values)
    options.check()
    return options


@functools.lru_cache(maxsize=1)
def _digit_pools() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """(images 0–255, labels) for the train / validation / test digit images."""
    from core.data.classification_sets import load_digits_dataset

    data = load_digits_dataset()
    return tuple((split.images[:, 0].numpy(), split.labels.numpy())
                 for split in (data.train, data.val, data.test))


@functools.lru_cache(maxsize=3)
def _scaled(pool: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per digit side: the pool's digits at that side, and each one's tight stroke box."""
    images = torch.from_numpy(_digit_pools()[pool][0]).float()[:, None]
    scaled, boxes = [], []
    for side in DIGIT_SIDES:
        big = torch.nn.functional.interpolate(images, size=(side, side), mode="bilinear",
                                              align_corners=False)
        digits = big[:, 0].clamp(0, 255).round().to(torch.uint8).numpy()
        strokes = np.asarray(digits >= STROKE)
        rows: np.ndarray = np.asarray(strokes.any(axis=2))
        cols: np.ndarray = np.asarray(strokes.any(axis=1))
        box = np.stack([cols.argmax(1), rows.argmax(1), side - cols[:, ::-1].argmax(1),
                        side - rows[:, ::-1].argmax(1)], axis=1)
        scaled.append(digits)
        boxes.append(box)
    return scaled, boxes


@dataclass
class Scenes:
    images: torch.Tensor  # uint8 (N, 1, S, S)
    masks: torch.Tensor  # uint8 (N, S, S)
    boxes: torch.Tensor  # float32 (N, M, 5)
    labels: torch.Tensor  # int64 (N,): the first digit of each scene


def make_scenes(count: int, pool: int, options: SceneOptions, seed: int) -> Scenes:
    """``count`` scenes from digit pool 0 (train), 1 (validation) or 2 (test)."""
    rng = np.random.default_rng(seed)
    digits, labels = _digit_pools()[pool]
    scaled, stroke_boxes = _scaled(pool)
    size = options.size
    images = rng.integers(0, NOISE, (count, size, size), dtype=np.uint8)
    masks = np.zeros((count, size, size), np.uint8)
    boxes = np.full((count, options.max, 5), -1.0, np.float32)
    firsts = np.zeros(count, np.int64)
    wanted = rng.integers(options.min, options.max + 1, count)
    picks = rng.integers(0, len(digits), (count, options.max))
    sides = rng.integers(0, len(DIGIT_SIDES), (count, options.max))
    tries = rng.random((count, options.max, PLACEMENT_TRIES, 2))
    strokes = [d >= STROKE for d in scaled]
    for n in range(count):
        placed: list[tuple[int, int, int]] = []
        for k in range(int(wanted[n])):
            side_index = int(sides[n, k])
            side = DIGIT_SIDES[side_index]
            room = size - side + 1
            for fx, fy in tries[n, k]:
                x, y = int(fx * room), int(fy * room)
                if all(x + side <= px or px + ps <= x or y + side <= py or py + ps <= y
                       for px, py, ps in placed):
                    break
            else:
                continue  # no room left: fewer digits in this scene
            placed.append((x, y, side))
            digit = scaled[side_index][picks[n, k]]
            label = int(labels[picks[n, k]])
            window = images[n, y:y + side, x:x + side]
            np.maximum(window, digit, out=window)
            masks[n, y:y + side, x:x + side][strokes[side_index][picks[n, k]]] = label + 1
            x1, y1, x2, y2 = stroke_boxes[side_index][picks[n, k]]
            boxes[n, len(placed) - 1] = (label, x + x1, y + y1, x + x2, y + y2)
            if len(placed) == 1:
                firsts[n] = label
    return Scenes(torch.from_numpy(images)[:, None], torch.from_numpy(masks),
                  torch.from_numpy(boxes), torch.from_numpy(firsts))


def load_digit_scenes(text: str = NAME, default_size: int = 64) -> Dataset:
    """The digit-scenes Dataset (train / validation / test from disjoint digit images).

    The same options give the same scenes, so the last few are kept (the Inspect views and a
    training run ask for the same set). Treat the result as read-only."""
    return _scenes_for(parse_options(text, default_size))


@functools.lru_cache(maxsize=2)
def _scenes_for(options: SceneOptions) -> Dataset:
    parts = []
    for pool, count in enumerate((options.n, options.n_eval, options.n_eval)):
        scenes = make_scenes(count, pool, options, options.seed * 3 + pool)
        parts.append(Split(scenes.images, scenes.labels, scenes.masks, scenes.boxes))
    data = Dataset(options.spelled(), [str(i) for i in range(10)], parts[0], parts[1], parts[2])
    data.notes.append(f"{options.n} training / {options.n_eval} validation / {options.n_eval} "
                      f"test scenes of {options.size}×{options.size} with {options.min}–"
                      f"{options.max} digits (seed {options.seed})")
    return data

"""Inputs to look at a model with: a dataset sample, an image file or a bundled sample photo.

Every image, whatever its size or colour mode, is converted to the model's input shape the way
the dataset pipeline does (resize, grayscale ↔ RGB, normalisation), and the conversion is said in
words so a rendering can state it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.data.errors import DataError
from core.data.images import ImageTooLarge, fit_images, open_image, pil_array, uint8_chw
from core.lazy import LazyModule
from core.regular_files import NotARegularFile

if TYPE_CHECKING:  # torch is imported when an input is first prepared, not at start-up
    import numpy as np
    import torch

    from core.data.dataset import Split
else:  # nor numpy (0.1 s): the window imports this module before its first paint
    np = LazyModule("numpy")

SAMPLE_PHOTOS = ("astronaut", "camera", "coffee", "chelsea", "coins", "rocket", "horse")
DEFAULT_MEAN, DEFAULT_STD = 0.5, 0.25
"""Normalisation when no training run recorded its own (weights without training.json)."""


@dataclass
class ModelInput:
    """One input: the tensor the model takes (1, C, H, W), what it looks like, and notes."""

    tensor: torch.Tensor
    display: np.ndarray
    """float (C, H, W) in 0..1 at the model's input size; a clip (C, T, H, W)."""
    source: str
    notes: list[str] = field(default_factory=list)


def read_image(path: Path, size: tuple[int, int] | None = None) -> tuple[torch.Tensor, str]:
    """An image file as uint8 (C, H, W) and a description; DataError if unreadable.

    ``size`` (the model's height, width) lets a huge image be reduced while it is decoded.
    """
    from PIL import Image, UnidentifiedImageError

    try:  # a regular file only (a FIFO or device is refused, not waited on), bomb-checked
        with open_image(path) as image:
            mode = image.mode
            width, height = image.size
            array = pil_array(image, size)
    except FileNotFoundError:
        raise DataError(f"{path}: no such image file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not an image") from None
    except NotARegularFile as exc:
        raise DataError(f"{path.parent / str(exc)}") from None
    except ImageTooLarge as exc:
        raise DataError(f"{path.parent / str(exc)}") from None
    except Image.DecompressionBombError:
        raise DataError(f"{path}: too large to open safely (over "
                        f"{(Image.MAX_IMAGE_PIXELS or 0) // 1_000_000} megapixels)") from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise DataError(f"{path}: not an image ConvScope can read ({type(exc).__name__})"
                        ) from None
    return uint8_chw(array), f"{path.name} ({width} wide × {height} high, {mode})"


def sample_photo(name: str) -> tuple[torch.Tensor, str]:
    """One of scikit-image's bundled sample photos (no network needed)."""
    if name not in SAMPLE_PHOTOS:
        raise DataError(f'no sample photo "{name}"; choose one of {", ".join(SAMPLE_PHOTOS)}')
    from skimage import data

    array = getattr(data, name)()
    return uint8_chw(np.asarray(array)), f"scikit-image sample photo '{name}'"


def fit_image(image: torch.Tensor, input_shape: tuple[int, ...], mean: list[float] | None,
              std: list[float] | None, source: str) -> ModelInput:
    """Convert a uint8 (C, H, W) image to the model's input and say what was done."""
    if len(input_shape) != 3:
        raise DataError(f"the model's input is {'×'.join(map(str, input_shape))}, not an "
                        "image (channels, height, width)")
    channels, height, width = input_shape
    notes = []
    c, h, w = image.shape
    if c == 3 and channels == 1:
        notes.append("converted to grayscale")
    elif c == 1 and channels == 3:
        notes.append("grayscale repeated to 3 channels")
    if (h, w) != (height, width):
        notes.append(f"resized from {w} wide × {h} high to {width} × {height}")

    image = fit_images(image, channels, (height, width))
    return _normalised(image.float() / 255, mean, std, source, notes)


def fit_clip(clip: torch.Tensor, input_shape: tuple[int, ...], mean: list[float] | None,
             std: list[float] | None, source: str) -> ModelInput:
    """Convert a uint8 clip (C, T, H, W) to a video model's input (1, C, T, H, W): frames
    sampled evenly to its depth, each resized; and say what was done."""
    if len(input_shape) != 4:
        raise DataError(f"the model's input is {'×'.join(map(str, input_shape))}, not a clip "
                        "(channels, frames, height, width): choose an image")

    from core.data.frames import fit_clips

    channels, frames, height, width = input_shape
    c, t, h, w = clip.shape
    notes = []
    if t != frames:
        notes.append(f"{t} frames sampled evenly to {frames}")
    if (h, w) != (height, width):
        notes.append(f"frames resized from {w} wide × {h} high to {width} × {height}")
    if c != channels:
        notes.append("grayscale repeated to 3 channels" if channels == 3
                     else "converted to grayscale")
    return _normalised(fit_clips(clip, channels, frames, (height, width)).float() / 255, mean,
                       std, source, notes)


def _normalised(display: torch.Tensor, mean: list[float] | None, std: list[float] | None,
                source: str, notes: list[str]) -> ModelInput:
    """``display`` (C, …) in 0–1 normalised per channel with the run's statistics (or the
    defaults, said in the notes), as a batch of one."""
    import torch

    channels, spatial = display.shape[0], (None,) * (display.dim() - 1)
    if mean is None or std is None:
        mean_t = torch.full((channels,), DEFAULT_MEAN)
        std_t = torch.full((channels,), DEFAULT_STD)
        notes.append("normalised with mean 0.5, std 0.25 (no training run recorded its own)")
    else:
        mean_t, std_t = torch.tensor(mean), torch.tensor(std)
    tensor = ((display - mean_t[(slice(None), *spatial)]) / std_t[(slice(None), *spatial)])[None]
    return ModelInput(tensor, display.numpy(), source, notes)


def frame_of(values: np.ndarray, frame: int | None, what: str) -> tuple[np.ndarray, int]:
    """One frame of a Conv3d layer's (C, T, H, W) output, default the middle one; DataError
    naming the range when there is no such frame."""
    frames = values.shape[1]
    chosen = (frames - 1) // 2 if frame is None else frame
    if not 0 <= chosen < frames:
        raise DataError(f"frame {chosen} does not exist: {what} has {frames} frames (0 to "
                        f"{frames - 1})")
    return values[:, chosen], chosen


RUN_SOURCE = "run:"
"""Input source prefix for an image of a run's own dataset: ``run:<dataset>:<split>:<index>``."""


def run_split_item(source: str, input_shape: tuple[int, ...]) -> tuple[str, str, Split, int]:
    """``run:<dataset>:<split>:<index>`` → (dataset, split name, the split, index), checked.

    The dataset part may hold colons itself (``digit-scenes:n=3000``). DataError when there is
    no run, the split is unknown or the index is out of range."""
    from core.data.datasets import load_dataset

    if source == RUN_SOURCE or not source.startswith(RUN_SOURCE):
        raise DataError("no training run to take test images from: open a run (File → Open "
                        "Trained Run…) or train the model first")
    try:
        dataset, split, index_text = source[len(RUN_SOURCE):].rsplit(":", 2)
        index = int(index_text)
    except ValueError:
        raise DataError(f'"{source}" is not run:<dataset>:<split>:<index>') from None
    if split not in ("train", "val", "test"):
        raise DataError(f'unknown split "{split}" in "{source}": use train, val or test')
    data = load_dataset(dataset, input_shape, download=False)
    part: Split = getattr(data, split)
    if not 0 <= index < len(part):
        raise DataError(f"{dataset} {split} split has {len(part)} images; choose 0 to "
                        f"{len(part) - 1}")
    return dataset, split, part, index

"""The images of a label folder, read by core.data's loaders: any size, colour or grey, 16-bit,
EXIF orientation applied, under the same file and decompression-bomb limits as training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.data.dataset import IMAGE_SUFFIXES
from core.data.images import ImageTooLarge, open_image, oriented_size, pil_array, uint8_chw
from core.labels.label_set import LabelError
from core.regular_files import NotARegularFile

MAX_IMAGES = 20_000
"""The images of one label folder (as core.data.annotated reads at most)."""


def image_files(folder: Path) -> list[Path]:
    """The folder's images, sorted by name, at most MAX_IMAGES."""
    if not folder.is_dir():
        raise LabelError(f"{folder}: no such folder of images")
    return sorted(p for p in folder.iterdir()
                  if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())[:MAX_IMAGES]


def _refused(path: Path, exc: BaseException) -> LabelError:
    if isinstance(exc, FileNotFoundError):
        return LabelError(f"{path}: missing")
    if isinstance(exc, NotARegularFile | ImageTooLarge):
        return LabelError(f"{path.parent / str(exc)}")
    return LabelError(f"{path}: not a readable image ({type(exc).__name__})")


def image_size(path: Path) -> tuple[int, int]:
    """(height, width) as shown, from the header only."""
    try:
        with open_image(path) as image:
            return oriented_size(image)
    except (OSError, ValueError, SyntaxError) as exc:
        raise _refused(path, exc) from None


def read_rgb(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """The image as (H, W, 3) uint8 as shown; ``size`` (height, width): reduced by a whole
    factor on the way when much larger (thumbnails), else at full resolution."""
    try:
        with open_image(path) as image:
            chw = uint8_chw(pil_array(image, size)).numpy()
    except (OSError, ValueError, SyntaxError) as exc:
        raise _refused(path, exc) from None
    if chw.shape[0] == 1:
        chw = np.repeat(chw, 3, axis=0)
    return np.ascontiguousarray(chw.transpose(1, 2, 0))

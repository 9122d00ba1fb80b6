"""Decoding images of any mode (1-bit, palette, 16-bit, float, RGBA…) to uint8 tensors."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.data.errors import DataError
from core.lazy import LazyModule
from core.regular_files import open_regular

if TYPE_CHECKING:  # torch is imported when an image is first decoded, not at start-up
    import numpy as np
    import torch
else:  # nor numpy (0.1 s): the window imports this module before its first paint
    np = LazyModule("numpy")


IMAGE_FILE_LIMIT = 1 << 30
"""The largest image file decoded (1 GiB; a 179-megapixel 16-bit TIFF is about 1 GB)."""
MAX_PIXELS = 2 * 89_478_485
"""The most pixels an image may have: where PIL itself refuses one as a decompression bomb
(twice its MAX_IMAGE_PIXELS), for every loader, read from the header before decoding."""


class ImageTooLarge(ValueError):
    """An image's header claims more pixels than MAX_PIXELS (the message says how many)."""


@contextmanager
def open_image(path: Path) -> Iterator[Any]:
    """``path`` opened with PIL when it is a regular file of at most IMAGE_FILE_LIMIT bytes whose
    header claims at most MAX_PIXELS pixels: a FIFO or device is refused without blocking
    (NotARegularFile), a bomb before it is decoded (ImageTooLarge). Other errors as PIL's
    (UnidentifiedImageError, OSError, ValueError)."""
    from PIL import Image

    with open_regular(path, IMAGE_FILE_LIMIT) as handle:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # checked below
                image = Image.open(handle)
        except Image.DecompressionBombError:
            raise ImageTooLarge(f"{path.name}: its header claims more than the {MAX_PIXELS:,} "
                                "pixels an image may have (a decompression bomb?); shrink it"
                                ) from None
        with image:
            if image.width * image.height > MAX_PIXELS:
                raise ImageTooLarge(f"{path.name}: {image.width:,}×{image.height:,} is more than "
                                    f"the {MAX_PIXELS:,} pixels an image may have; shrink it")
            yield image


EXIF_ORIENTATION = 0x0112
"""The EXIF tag saying how a camera held the photo (1: upright; 2–8: mirrored and / or turned)."""


def orientation(image: Any) -> int:
    """The image's EXIF orientation (1 when it has none), read from the header only."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError):  # a damaged EXIF block: shown as stored
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def oriented_size(image: Any) -> tuple[int, int]:
    """(height, width) of the image as it is shown: EXIF orientations 5–8 turn it a quarter."""
    if orientation(image) >= 5:
        return image.width, image.height
    return image.height, image.width


def uint8_chw(array: np.ndarray) -> torch.Tensor:
    if array.ndim == 2:
        array = array[None]
    elif array.ndim == 3:
        array = array[..., :3].transpose(2, 0, 1)
    else:
        raise DataError(f"an image must be 2-D or 3-D, got shape {array.shape}")
    if array.dtype != np.uint8:
        low = float(array.min()) if array.size else 0.0
        top = float(array.max()) if array.size else 1.0
        if low >= 0 and top <= 1:  # float images in 0..1
            low, top = 0.0, 1.0
        array = np.clip((array - low) / max(top - low, 1e-12) * 255, 0, 255).astype(np.uint8)
    import torch

    return torch.from_numpy(np.array(array, copy=True))  # writable, contiguous


def pil_array(image: Any, size: tuple[int, int] | None = None) -> np.ndarray:
    """A PIL image as an (H, W) or (H, W, 3) array, 16-bit and float images at full range
    (PIL's own conversion to 8 bits would clip them to white), in float32 at most.

    ``size`` (height, width the model needs): a much larger image is first reduced by a whole
    factor (keeping at least twice the size, for the antialiased resize after), so a
    9,400×9,400 16-bit scan is never decoded whole into floats.
    """
    from PIL import ImageOps

    block = 1
    turned = orientation(image)
    if size is not None and turned >= 5:
        size = (size[1], size[0])  # the stored image is the shown one turned a quarter
    if size is not None:
        factor = min(image.width // (2 * max(1, size[1])), image.height // (2 * max(1, size[0])))
        if factor >= 2:
            image.draft(image.mode, (image.width // factor, image.height // factor))  # JPEG
            factor = min(image.width // (2 * max(1, size[1])),
                         image.height // (2 * max(1, size[0])))
            if factor >= 2:
                try:
                    image = image.reduce(factor)
                except (ValueError, NotImplementedError):  # 16-bit: averaged in numpy below
                    block = factor
    if turned != 1:  # the camera's orientation applied, as every viewer shows the photo
        if block > 1:
            whole = pil_array(image, None)
            h, w = whole.shape[0] // block, whole.shape[1] // block
            block_means: np.ndarray = whole[:h * block, :w * block].reshape(
                h, block, w, block, *whole.shape[2:]).mean(axis=(1, 3), dtype=np.float32)
            return block_means
        image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode.startswith("I") or mode == "F":
        raw = np.asarray(image)
        if block > 1:  # block means in float32, chunk by chunk: no whole float copy
            h, w = raw.shape[0] // block, raw.shape[1] // block
            means: np.ndarray = raw[:h * block, :w * block].reshape(h, block, w, block).mean(
                axis=(1, 3), dtype=np.float32)
            return means
        return raw.astype(np.float32)
    converted = image.convert("L" if mode in ("1", "L", "LA", "P") and _is_grey(image)
                              else "RGB")
    return np.array(converted)


def _is_grey(image: object) -> bool:
    mode = image.mode  # type: ignore[attr-defined]
    if mode != "P":
        return True
    rgb = np.array(image.convert("RGB"))  # type: ignore[attr-defined]
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def fit_images(images: torch.Tensor, channels: int, size: tuple[int, int]) -> torch.Tensor:
    """uint8 images (…, C, H, W) to ``channels`` (grey ↔ RGB) and ``size`` (antialiased resize).

    The one conversion every path uses: dataset batches, image folders and inspected images.
    """
    from torchvision.transforms.v2 import functional as tf

    have = images.shape[-3]
    if have == 3 and channels == 1:
        images = tf.rgb_to_grayscale(images)
    elif have == 1 and channels == 3:
        images = images.expand(*images.shape[:-3], 3, -1, -1)
    elif have != channels:
        raise DataError(f"images with {have} channels cannot feed a model that takes {channels}")
    if tuple(images.shape[-2:]) != tuple(size):
        images = tf.resize(images, list(size), antialias=True)
    return images

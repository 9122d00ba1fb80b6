"""The datasets by name: ``load_dataset`` reads a name or a folder and asks the loader for it.

The registry sits above the loaders (``classification_sets``, ``scenes``, ``annotated``), which
never import it. The value types and the loaders' public names are re-exported here, the paths
callers have always used (``from core.data.datasets import Dataset, load_digits_dataset``).
"""

from __future__ import annotations

from pathlib import Path

from core.data.annotated import annotated_format, load_annotated
from core.data.classification_sets import (
    CIFAR_CLASSES,
    load_cifar10,
    load_digits_dataset,
    load_image_folder,
    load_mnist_family,
    read_cifar_bin,
    read_idx,
)
from core.data.dataset import IMAGE_SUFFIXES, SPLIT_SEED, Dataset, Split
from core.data.errors import DataError
from core.data.scenes import load_digit_scenes
from core.workspace import home

__all__ = [
    "CIFAR_CLASSES",
    "DATASETS",
    "IMAGE_SUFFIXES",
    "SPLIT_SEED",
    "DataError",
    "Dataset",
    "Split",
    "default_root",
    "load_cifar10",
    "load_dataset",
    "load_digits_dataset",
    "load_image_folder",
    "load_mnist_family",
    "read_cifar_bin",
    "read_idx",
]

DATASETS = ("digits", "mnist", "fashion-mnist", "cifar10", "digit-scenes")
"""Named datasets; any other value is read as a folder with one sub-folder per class."""


def default_root() -> Path:
    return home() / "data"


def load_dataset(name: str, input_shape: tuple[int, ...] = (1, 28, 28),
                 root: Path | None = None, download: bool = True) -> Dataset:
    """Load a named dataset or an image folder; DataError with what to do when it fails."""
    root = root or default_root()
    key = name.lower()
    if key == "digits":
        return load_digits_dataset()
    if key in ("mnist", "fashion-mnist"):
        return load_mnist_family(key, root, download)
    if key == "cifar10":
        return load_cifar10(root, download)
    if key.split(":")[0] == "digit-scenes":
        square = len(input_shape) == 3 and input_shape[1] == input_shape[2]
        fits = square and 32 <= input_shape[1] <= 512  # scenes at the model's input size
        return load_digit_scenes(key, input_shape[1] if fits else 64)
    path = Path(name).expanduser()
    if annotated_format(path) is not None:  # VOC, COCO JSON, images + masks
        channels = input_shape[0] if len(input_shape) == 3 and input_shape[0] in (1, 3) else 3
        size = (input_shape[1], input_shape[2]) if len(input_shape) == 3 else (64, 64)
        return load_annotated(path, size, channels)
    if path.is_dir():
        channels = input_shape[0] if len(input_shape) == 3 and input_shape[0] in (1, 3) else 3
        size = (input_shape[1], input_shape[2]) if len(input_shape) == 3 else (64, 64)
        return load_image_folder(path, size, channels)
    raise DataError(f'unknown dataset "{name}": use one of {", ".join(DATASETS)} or a folder '
                    "with one sub-folder of images per class")

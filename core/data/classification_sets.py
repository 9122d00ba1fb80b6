"""Class-labelled image sets: digits (bundled), MNIST, Fashion-MNIST, CIFAR-10, image folders.

Everything is held in memory as uint8 image tensors (N, C, H, W) with int64 labels, split into
train / validation / test with a fixed seed. Adapting the images to the model's input shape
(resizing, grayscale ↔ RGB) happens per batch in ``core.data.adapt`` and is reported in words.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from core.data.dataset import (
    IMAGE_SUFFIXES,
    Dataset,
    Split,
    assemble_splits,
    split_three_ways,
)
from core.data.errors import DataError
from core.data.folders import scan_folder
from core.data.images import ImageTooLarge, fit_images, open_image, pil_array, uint8_chw

MAX_FOLDER_IMAGES = 50_000


def load_digits_dataset() -> Dataset:
    """scikit-learn's 1,797 8×8 handwritten digits (values 0–16, scaled to 0–255)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(np.round(digits.images * (255 / 16)).astype(np.uint8))
    labels = torch.from_numpy(digits.target.astype(np.int64))
    train, val, test = split_three_ways(images[:, None], labels, val=0.15, test=0.15)
    return Dataset("digits", [str(i) for i in range(10)], train, val, test)


# -- torchvision's MNIST family ---------------------------------------------------------------

_MNIST_CLASSES = {
    "mnist": [str(i) for i in range(10)],
    "fashion-mnist": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"],
}
_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (MNIST's format), gzipped or not, without unpickling anything."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise DataError(f"{path}: not an IDX file of unsigned bytes (MNIST format)")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DataError(f"{path}: truncated ({body.size} values for shape {dims})")
    return body.reshape(dims)


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _torchvision_download(name: str, root: Path) -> None:
    """Let torchvision download the files (online only)."""
    from torchvision import datasets

    cls = {"mnist": datasets.MNIST, "fashion-mnist": datasets.FashionMNIST}[name]
    for train in (True, False):
        cls(str(root), train=train, download=True)


def load_mnist_family(name: str, root: Path, download: bool = True) -> Dataset:
    folder = root / {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}[name] / "raw"
    paths = [_find(folder, stem) for stem in _MNIST_FILES]
    if any(p is None for p in paths) and download:
        try:
            _torchvision_download(name, root)
        except Exception as exc:  # URLError, RuntimeError, socket errors: all mean "offline"
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}" if str(exc) \
                else type(exc).__name__
            missing = ", ".join(s for s, p in zip(_MNIST_FILES, paths, strict=True) if p is None)
            raise DataError(
                f"{name} is not on this computer and could not be downloaded ({reason}). "
                f"Put {missing} (or the .gz files) in {folder}, or choose the bundled 'digits' "
                "dataset"
            ) from None
        paths = [_find(folder, stem) for stem in _MNIST_FILES]
    if any(p is None for p in paths):
        raise DataError(f"{name}: files missing in {folder}")
    train_x, train_y, test_x, test_y = (read_idx(p) for p in paths if p is not None)
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise DataError(f"{name}: image and label counts differ in {folder}")
    images = torch.from_numpy(train_x.copy())[:, None]
    labels = torch.from_numpy(train_y.astype(np.int64))
    train, val, _ = split_three_ways(images, labels, val=1 / 12, test=0.0)
    test = Split(torch.from_numpy(test_x.copy())[:, None], torch.from_numpy(
        test_y.astype(np.int64)))
    return Dataset(name, _MNIST_CLASSES[name], train, val, test)


# -- CIFAR-10, from its binary version (the Python version is pickled) ------------------------

CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
                 "truck"]
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR_RECORD = 1 + 3 * 32 * 32


def read_cifar_bin(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % CIFAR_RECORD:
        raise DataError(f"{path}: not a CIFAR-10 binary batch ({data.size} bytes)")
    records = data.reshape(-1, CIFAR_RECORD)
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)


def load_cifar10(root: Path, download: bool = True) -> Dataset:
    folder = root / "cifar-10-batches-bin"
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    if not all((folder / n).is_file() for n in names) and download:
        try:
            from torchvision.datasets.utils import download_and_extract_archive

            download_and_extract_archive(CIFAR_URL, str(root))
        except Exception as exc:  # offline
            raise DataError(
                f"cifar10 is not on this computer and could not be downloaded "
                f"({type(exc).__name__}). Put the binary version's files (data_batch_1.bin … "
                f"data_batch_5.bin, test_batch.bin from cifar-10-binary.tar.gz) in {folder}, "
                "or choose the bundled 'digits' dataset"
            ) from None
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise DataError(f"cifar10: {', '.join(missing)} missing in {folder}")
    parts = [read_cifar_bin(folder / n) for n in names]
    train_x = np.concatenate([p[0] for p in parts[:-1]])
    train_y = np.concatenate([p[1] for p in parts[:-1]])
    train, val, _ = split_three_ways(torch.from_numpy(train_x), torch.from_numpy(train_y), 0.1, 0.0)
    test = Split(torch.from_numpy(parts[-1][0].copy()), torch.from_numpy(parts[-1][1]))
    return Dataset("cifar10", CIFAR_CLASSES, train, val, test)


# -- image folders --------------------------------------------------------------------------------

def load_image_folder(folder: Path, size: tuple[int, int], channels: int) -> Dataset:
    """A folder with one sub-folder per class (torchvision's ImageFolder layout), or train/ and
    test/ (and val/) folders each with one sub-folder per class (core.data.folders).

    Images are decoded once, converted to ``channels`` and resized to ``size`` (the model's
    input), since folders hold images of any size and colour mode.
    """
    from PIL import Image

    layout = scan_folder(folder, IMAGE_SUFFIXES, MAX_FOLDER_IMAGES)
    classes = layout.classes
    parts: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
    skipped: list[str] = []
    for split, per_class in layout.files.items():
        images: list[torch.Tensor] = []
        labels: list[int] = []
        for index, files in enumerate(per_class):
            for path in files:
                try:  # a FIFO, device or bomb is skipped like an unreadable file, never waited on
                    with open_image(path) as image:
                        picture = uint8_chw(pil_array(image, size))
                except (OSError, ValueError, ImageTooLarge, Image.DecompressionBombError):
                    skipped.append(path.name)
                    continue
                images.append(fit_images(picture, channels, size))
                labels.append(index)
        counts = [labels.count(i) for i in range(len(classes))]
        empty = [c for c, n in zip(classes, counts, strict=True) if n == 0]
        if empty:
            where = folder if split == "all" else folder / split
            raise DataError(f"{where}: no readable images in {', '.join(empty)}")
        parts[split] = (torch.stack(images), torch.tensor(labels))
    train, val, test = assemble_splits(parts)
    if min(len(train), len(val), len(test)) == 0:
        total = sum(len(p[1]) for p in parts.values())
        raise DataError(f"{folder}: {total} readable images are too few to split into "
                        "training, validation and test sets; add more (a few dozen per class)")
    # the folder's full path: a run's training.json names it, so the run can be continued and
    # inspected on its own data later
    data = Dataset(str(folder.resolve()), classes, train, val, test, list(layout.notes))
    data.notes.append(f"images decoded as {'grayscale' if channels == 1 else 'RGB'} and "
                      f"resized to {size[0]}×{size[1]}")
    if skipped:
        data.notes.append(f"skipped {len(skipped)} unreadable files (e.g. {skipped[0]})")
    return data

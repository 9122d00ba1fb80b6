"""Datasets: real file formats written by the tests, the offline message, adaptation."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core.data import classification_sets, datasets
from core.data.adapt import BatchPreparer
from core.data.augmentation import Augmentation
from core.data.datasets import DataError, Dataset, load_dataset


def write_idx(path: Path, array: np.ndarray, compress: bool = False) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + b"".join(
        struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)


def test_digits_splits_are_fixed_and_disjoint(digits: Dataset) -> None:
    assert (len(digits.train), len(digits.val), len(digits.test)) == (1257, 270, 270)
    assert digits.image_shape == (1, 8, 8)
    assert digits.train.images.dtype == torch.uint8 and int(digits.train.images.max()) == 255
    again = datasets.load_digits_dataset()
    assert torch.equal(again.test.labels, digits.test.labels)


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_reads_idx_files_from_a_local_folder(tmp_path: Path, compress: bool) -> None:
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    write_idx(raw / "train-images-idx3-ubyte", rng.integers(0, 256, (24, 28, 28)), compress)
    write_idx(raw / "train-labels-idx1-ubyte", np.arange(24) % 10, compress)
    write_idx(raw / "t10k-images-idx3-ubyte", rng.integers(0, 256, (6, 28, 28)), compress)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.arange(6) % 10, compress)
    data = load_dataset("mnist", root=tmp_path, download=False)
    assert len(data.train) + len(data.val) == 24 and len(data.test) == 6
    assert data.image_shape == (1, 28, 28)
    assert data.test.labels.tolist() == [0, 1, 2, 3, 4, 5]


def test_offline_gives_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(name: str, root: Path) -> None:
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(classification_sets, "_torchvision_download", offline)
    with pytest.raises(DataError) as caught:
        load_dataset("fashion-mnist", root=tmp_path)
    message = str(caught.value)
    assert "fashion-mnist is not on this computer and could not be downloaded" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message and "'digits'" in message


def test_truncated_idx_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "x-idx3-ubyte"
    path.write_bytes(struct.pack(">BBBBIII", 0, 0, 8, 3, 10, 28, 28) + b"\0" * 100)
    with pytest.raises(DataError, match="truncated"):
        datasets.read_idx(path)


def test_cifar10_binary_batches(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        records = np.concatenate([np.arange(4, dtype=np.uint8)[:, None] % 10,
                                  rng.integers(0, 256, (4, 3072), dtype=np.uint8)], axis=1)
        records.tofile(folder / name)
    data = load_dataset("cifar10", root=tmp_path, download=False)
    assert data.image_shape == (3, 32, 32) and len(data.test) == 4
    assert data.classes[1] == "automobile"


def test_image_folder_of_mixed_sizes_and_modes(tmp_path: Path) -> None:
    for index, (name, mode) in enumerate((("cats", "RGB"), ("dogs", "L"))):
        (tmp_path / name).mkdir()
        for i in range(5):
            Image.new(mode, (20 + i * 7, 30), color=40 * index + i).save(
                tmp_path / name / f"{i}.png")
    (tmp_path / "cats" / "broken.png").write_bytes(b"not an image")
    data = load_dataset(str(tmp_path), (3, 16, 16))
    assert data.classes == ["cats", "dogs"]
    assert data.image_shape == (3, 16, 16)
    assert len(data.train) + len(data.val) + len(data.test) == 10
    assert any("skipped 1 unreadable" in note for note in data.notes)


def test_unknown_dataset_and_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("imagenet-22k")
    (tmp_path / "only").mkdir()
    with pytest.raises(DataError, match="at least two sub-folders"):
        load_dataset(str(tmp_path))


def test_adaptation_resizes_converts_and_says_so(digits: Dataset) -> None:
    prepare = BatchPreparer(digits, (3, 32, 32))
    batch = prepare(digits.train.images[:5])
    assert batch.shape == (5, 3, 32, 32) and batch.dtype == torch.float32
    assert "resized from 8×8 to 32×32" in " ".join(prepare.notes)
    assert "repeated to 3 channels" in " ".join(prepare.notes)
    with pytest.raises(DataError, match="set the input channels to 1"):
        BatchPreparer(digits, (4, 8, 8))
    with pytest.raises(DataError, match=r"need \(channels, height, width\)"):
        BatchPreparer(digits, (64,))


def test_augmentation_is_drawn_per_image(digits: Dataset) -> None:
    prepare = BatchPreparer(digits, (1, 8, 8), Augmentation(crop=2, rotation=20))
    same = digits.train.images[:1].expand(16, -1, -1, -1)
    out = prepare.display(same)
    assert out.shape == (16, 1, 8, 8)
    assert len({tuple(img.flatten().tolist()) for img in out}) > 4
    plain = BatchPreparer(digits, (1, 8, 8)).display(same)
    assert len({tuple(img.flatten().tolist()) for img in plain}) == 1

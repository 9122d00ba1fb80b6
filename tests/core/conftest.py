from __future__ import annotations

import pytest
import torch

from core.data.datasets import Dataset, Split, load_digits_dataset

# the shared helpers' asserts explain themselves as the tests' own do
pytest.register_assert_rewrite("tests.core.cli_calls")


@pytest.fixture(scope="session")
def digits() -> Dataset:
    return load_digits_dataset()


@pytest.fixture
def tiny_digits(digits: Dataset) -> Dataset:
    """A few batches of real digits: fast enough for every engine path."""
    def part(split: Split, n: int) -> Split:
        return Split(split.images[:n].clone(), split.labels[:n].clone())

    torch.manual_seed(0)
    return Dataset("digits", digits.classes, part(digits.train, 192), part(digits.val, 64),
                   part(digits.test, 64))

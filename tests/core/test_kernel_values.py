"""The kernel grid's core: one output channel's kernel read from and written into the weights
(issue 19, item 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.inspect.kernel_values import (
    checked_values,
    editable_problem,
    parse_cell,
    read_kernel,
    write_kernel,
)
from core.model.errors import LayerError, ModelError
from core.presets import load_preset
from core.weights import read_weights

EDGE = np.array([[[1, 0, -1], [1, 0, -1], [1, 0, -1]]], dtype=np.float32)  # the [1 0 −1] filter


def test_a_kernel_written_is_read_back_and_the_other_weights_stay(tmp_path: Path) -> None:
    spec = load_preset("digits_small")
    before = read_kernel(spec, None, "conv1")
    assert before.shape == (16, 1, 3, 3)
    np.testing.assert_array_equal(before, read_kernel(spec, None, "conv1"))  # seed 0: stable
    path = write_kernel(spec, None, "conv1", 5, EDGE, tmp_path / "edited.safetensors")
    after = read_kernel(spec, path, "conv1")
    np.testing.assert_array_equal(after[5], EDGE)
    np.testing.assert_array_equal(np.delete(after, 5, axis=0), np.delete(before, 5, axis=0))
    tensors = read_weights(path)
    assert "conv1.weight" in tensors and "bn1.running_mean" in tensors  # every layer's too
    again = write_kernel(spec, path, "conv1", 0, EDGE * 2, tmp_path / "twice.safetensors")
    both = read_kernel(spec, again, "conv1")
    np.testing.assert_array_equal(both[5], EDGE)
    np.testing.assert_array_equal(both[0], EDGE * 2)


def test_bad_kernels_and_layers_are_refused_with_the_reason(tmp_path: Path) -> None:
    spec = load_preset("digits_small")
    assert "BatchNorm2d" in (editable_problem(spec, "bn1") or "")
    assert "no layer" in (editable_problem(spec, "nope") or "")
    with pytest.raises(LayerError, match="3×3"):
        checked_values((16, 1, 3, 3), 0, np.zeros((1, 2, 3)), "conv1")
    with pytest.raises(LayerError, match="0 to 15"):
        checked_values((16, 1, 3, 3), 16, EDGE, "conv1")
    with pytest.raises(LayerError, match="finite"):
        checked_values((16, 1, 3, 3), 0, EDGE * np.nan, "conv1")
    with pytest.raises(LayerError):
        write_kernel(spec, None, "bn1", 0, EDGE, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
    assert parse_cell(" −1 ") == -1.0 and parse_cell("0,5") == 0.5
    for text in ("abc", "nan", "inf", ""):
        with pytest.raises(ModelError):
            parse_cell(text)

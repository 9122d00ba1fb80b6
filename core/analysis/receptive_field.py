"""Receptive fields: how much of the input one output position sees, and how far apart they are.

Tracked per spatial dimension with the classic recurrence (Araujo et al., "Computing receptive
fields of convolutional neural networks", Distill 2019): for a window of effective size k, stride s
and padding p, ``size += (k − 1)·jump``, ``start += ((k − 1)/2 − p)·jump`` and ``jump *= s``.
``start`` is the input coordinate (pixel index) of the centre of the first output position's field.
Transposed convolutions and upsampling divide the jump; their fields are the usual approximation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ReceptiveField:
    """Per spatial dimension: field size and jump (distance between neighbours) in input pixels."""

    size: tuple[float, ...]
    jump: tuple[float, ...]
    start: tuple[float, ...]

    @classmethod
    def of_input(cls, dims: int) -> ReceptiveField:
        return cls((1.0,) * dims, (1.0,) * dims, (0.0,) * dims)

    @property
    def dims(self) -> int:
        return len(self.size)

    def finite(self) -> bool:
        """False once a float overflowed (a deep stack of large strides)."""
        return all(math.isfinite(v) for v in (*self.size, *self.jump, *self.start))

    def window(
        self, kernel: Sequence[int], stride: Sequence[int], pad_before: Sequence[int],
        dilation: Sequence[int],
    ) -> ReceptiveField:
        """After a convolution or pooling window."""
        size, jump, start = [], [], []
        for i in range(self.dims):
            k_eff = dilation[i] * (kernel[i] - 1) + 1
            size.append(self.size[i] + (k_eff - 1) * self.jump[i])
            start.append(self.start[i] + ((k_eff - 1) / 2 - pad_before[i]) * self.jump[i])
            jump.append(self.jump[i] * stride[i])
        return ReceptiveField(tuple(size), tuple(jump), tuple(start))

    def transposed(
        self, kernel: Sequence[int], stride: Sequence[int], padding: Sequence[int],
        dilation: Sequence[int],
    ) -> ReceptiveField:
        """After a transposed convolution: each output sees about d·(k−1)/s + 1 inputs."""
        size, jump, start = [], [], []
        for i in range(self.dims):
            k_eff = dilation[i] * (kernel[i] - 1) + 1
            size.append(self.size[i] + (k_eff - 1) / stride[i] * self.jump[i])
            start.append(self.start[i] + (padding[i] - (k_eff - 1) / 2) / stride[i] * self.jump[i])
            jump.append(self.jump[i] / stride[i])
        return ReceptiveField(tuple(size), tuple(jump), tuple(start))

    def scaled(self, factors: Sequence[float], interpolating: bool) -> ReceptiveField:
        """After upsampling by ``factors`` (nearest copies one input; interpolation mixes two)."""
        size, jump, start = [], [], []
        for i in range(self.dims):
            size.append(self.size[i] + (self.jump[i] if interpolating else 0.0))
            start.append(self.start[i] + (0.5 / factors[i] - 0.5) * self.jump[i])
            jump.append(self.jump[i] / factors[i])
        return ReceptiveField(tuple(size), tuple(jump), tuple(start))

    def padded(self, before: Sequence[int]) -> ReceptiveField:
        start = tuple(s - b * j for s, b, j in zip(self.start, before, self.jump, strict=True))
        return ReceptiveField(self.size, self.jump, start)

    def input_window(self, position: Sequence[int]) -> tuple[tuple[float, float], ...]:
        """The input interval [low, high) that output ``position`` sees, per dimension."""
        out = []
        for i, p in enumerate(position):
            centre = self.start[i] + p * self.jump[i]
            half = self.size[i] / 2
            out.append((centre - half + 0.5, centre + half + 0.5))
        return tuple(out)

    def label(self) -> str:
        """'7×7 / 2': size and jump, as the summary table shows them."""
        return f"{'×'.join(_num(v) for v in self.size)} / {_join(self.jump)}"


def merge(fields: Sequence[ReceptiveField]) -> ReceptiveField:
    """A merge (Add, Concat) sees what its widest input sees."""
    return max(fields, key=lambda f: f.size)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.3g}"


def _join(values: Sequence[float]) -> str:
    if all(v == values[0] for v in values):
        return _num(values[0])
    return "×".join(_num(v) for v in values)

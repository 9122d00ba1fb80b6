"""What every shape rule shares: the result type, the refusal, and the checks of rank, channels
and windows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.analysis.receptive_field import ReceptiveField, merge

Shape = tuple[int, ...]


class Invalid(Exception):
    """A layer cannot take its input; the message says why, without the layer's name."""


@dataclass(frozen=True)
class LayerOutcome:
    """What one layer does: its output shape, parameter count, MACs and receptive-field step."""

    shape: Shape
    params: int = 0
    macs: int = 0
    field: Callable[[Sequence[ReceptiveField | None]], ReceptiveField | None] | None = None


Rule = Callable[[dict[str, Any], list[Shape]], LayerOutcome]


def dims_text(values: Sequence[Any]) -> str:
    return "×".join(str(v) for v in values)


def expand(value: Any, n: int, name: str) -> tuple[Any, ...]:
    """One number for all ``n`` dimensions, or one per dimension."""
    if isinstance(value, tuple | list):
        if len(value) != n:
            raise Invalid(f"{name} has {len(value)} values but this input has {n} spatial "
                          f"dimensions; give one number or {n}")
        return tuple(value)
    return (value,) * n


def same_field(fields: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
    return fields[0]


def channels_of(shape: Shape, what: str, given: int | None) -> int:
    channels = shape[0]
    if given is not None and given != channels:
        raise Invalid(f"{what} is set to {given} but the incoming shape {dims_text(shape)} has "
                      f"{channels}; remove {what} to infer it")
    return channels


def check_rank(shape: Shape, ranks: Sequence[int], what: str) -> None:
    if len(shape) not in ranks:
        raise Invalid(f"needs {what} but receives shape {dims_text(shape)}")


RANK_WORDS = {
    1: "(channels, length)", 2: "(channels, height, width)",
    3: "(channels, depth, height, width)",
}


def window_out(size: int, k: int, s: int, p_total: int, d: int, ceil: bool,
                p_before: int) -> int:
    """torch's pooling_output_shape (also exact for convolutions with ceil False)."""
    numerator = size + p_total - d * (k - 1) - 1 + (s - 1 if ceil else 0)
    out = numerator // s + 1
    if ceil and (out - 1) * s >= size + p_before:
        out -= 1
    return out


def too_small(kind: str, kernel: Sequence[int], dilation: Sequence[int], spatial: Shape,
               padded: Sequence[int]) -> Invalid:
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    what = f"its {dims_text(kernel)} {kind}"
    if any(d != 1 for d in dilation):
        what += f" (dilated to span {dims_text(span)})"
    text = f"{what} is larger than its {dims_text(spatial)} input"
    if list(padded) != list(spatial):
        text += f", even padded to {dims_text(padded)}"
    return Invalid(text + "; use a smaller kernel, more padding or a larger input")


def merge_fields(fields: Sequence[ReceptiveField | None]) -> ReceptiveField | None:
    known = [f for f in fields if f is not None]
    return merge(known) if len(known) == len(fields) else None

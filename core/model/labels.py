"""What an imported model's outputs and inputs mean: its class names and input normalisation.

Both are optional in the model file (``"classes"`` and ``"normalization"``); a file without them
loads as before. They are checked when read: the names are strings of bounded length and count,
the normalisation's numbers finite, one mean and one positive std per input channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.model.errors import ModelError

MAX_CLASSES = 100_000
"""ImageNet-21k has 21,843; more is not a class list."""
MAX_CLASS_NAME = 200
NORMALIZATION_KEYS = ("mean", "std", "range")


@dataclass(frozen=True)
class Normalization:
    """``(x − mean[c]) / std[c]`` per channel on inputs scaled to ``value_range`` first."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    value_range: tuple[float, float] = (0.0, 1.0)

    def for_unit_range(self) -> tuple[list[float], list[float]]:
        """The mean and std that do the same to inputs scaled to 0…1 (what Inspect has)."""
        low, high = self.value_range
        span = high - low
        return [(m - low) / span for m in self.mean], [s / span for s in self.std]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mean": list(self.mean), "std": list(self.std)}
        if self.value_range != (0.0, 1.0):
            out["range"] = list(self.value_range)
        return out


def parse_classes(raw: Any) -> tuple[str, ...]:
    """The model file's ``classes``: a list of non-empty one-line strings."""
    if not isinstance(raw, list):
        raise ModelError("classes must be a list of class names (strings)")
    if len(raw) > MAX_CLASSES:
        raise ModelError(f"classes lists {len(raw):,} names; at most {MAX_CLASSES:,}")
    out = []
    for i, name in enumerate(raw):
        if not isinstance(name, str) or not name.strip():
            raise ModelError(f"classes[{i}] must be a non-empty string")
        if len(name) > MAX_CLASS_NAME:
            raise ModelError(f"classes[{i}] is {len(name):,} characters long; at most "
                             f"{MAX_CLASS_NAME}")
        if any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise ModelError(f"classes[{i}] holds a control character (a line break or tab)")
        out.append(name)
    return tuple(out)


def _numbers(raw: Any, what: str, count: int | None) -> tuple[float, ...]:
    if not isinstance(raw, list) or not raw:
        raise ModelError(f"normalization {what} must be a non-empty list of numbers")
    if count is not None and len(raw) != count:
        raise ModelError(f"normalization {what} has {len(raw)} numbers; the input has {count} "
                         "channels (one each)")
    out = []
    for value in raw:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ModelError(f"normalization {what} must hold numbers only")
        try:
            number = float(value)
        except OverflowError:
            raise ModelError(f"normalization {what}: {str(value)[:20]}… is too large") from None
        if not math.isfinite(number) or abs(number) > 1e6:
            raise ModelError(f"normalization {what}: {value!r} is not a finite number of at "
                             "most a million")
        out.append(number)
    return tuple(out)


def parse_normalization(raw: Any, input_shape: Sequence[int]) -> Normalization:
    """The model file's ``normalization`` for an input of ``input_shape`` (channels first)."""
    if not isinstance(raw, Mapping):
        raise ModelError('normalization must be an object {"mean": [...], "std": [...]}')
    for key in raw:
        if key not in NORMALIZATION_KEYS:
            raise ModelError(f"unknown key {str(key)[:40]!r} in normalization; the keys are: "
                             + ", ".join(NORMALIZATION_KEYS))
    if "mean" not in raw or "std" not in raw:
        raise ModelError("normalization needs both mean and std")
    channels = int(input_shape[0]) if len(input_shape) >= 2 else None
    mean = _numbers(raw["mean"], "mean", channels)
    std = _numbers(raw["std"], "std", len(mean))
    if any(s <= 0 for s in std):
        raise ModelError("normalization std must be positive (it divides)")
    value_range = (0.0, 1.0)
    if "range" in raw:
        low, high = _numbers(raw["range"], "range", 2)
        if not low < high:
            raise ModelError("normalization range must be [low, high] with low < high")
        value_range = (low, high)
    return Normalization(mean, std, value_range)


def classes_fit(classes: Sequence[str], output_shape: Sequence[int] | None,
                task: str = "classification") -> str | None:
    """Why ``classes`` does not name the model's outputs (None when it does, or has none)."""
    if not classes or output_shape is None:
        return None
    if task == "segmentation":
        n = output_shape[0] if output_shape else 0
    else:
        n = math.prod(output_shape) if len(output_shape) == 1 else 0
        n = 2 if n == 1 else n
    if len(classes) != n:
        return (f"the model file names {len(classes):,} classes but the model gives "
                f"{n:,} outputs per input")
    return None

"""The layer catalog: every layer type ConvScope knows, described as data.

Each entry names a torch.nn class (or one of ConvScope's own layers, like the merges), its
constructor parameters with types, defaults and valid ranges, the group it belongs to, a short
explanation for learners and its output-size formula. Validation, the GUI's palette, property
editors and tooltips all read this one table; nothing else repeats it. The entries live in one
module per family (``convolution``, ``pooling``, …); this module is the registry over them.
"""

from __future__ import annotations

from core.model.catalog import (
    activation,
    convolution,
    merge,
    normalization,
    pooling,
    regularization,
    shape,
)
from core.model.catalog.entry import GROUPS, Group, LayerType, ParamKind, ParamSpec

__all__ = [
    "CATALOG",
    "GROUPS",
    "KERNEL_TYPES",
    "Group",
    "LayerType",
    "ParamKind",
    "ParamSpec",
    "layer_type",
    "types_in_group",
]

_ENTRIES: tuple[LayerType, ...] = (
    convolution.ENTRIES + pooling.ENTRIES + normalization.ENTRIES + activation.ENTRIES
    + regularization.ENTRIES + shape.ENTRIES + merge.ENTRIES
)

CATALOG: dict[str, LayerType] = {t.name: t for t in _ENTRIES}
KERNEL_TYPES: tuple[str, ...] = tuple(t.name for t in _ENTRIES if t.group == "convolution"
                                      and t.name != "LocallyConnected2d")
"""Layer types with one learned kernel bank (what filter views and snapshots show); a locally
connected layer has a different kernel at every position, so it is not among them."""


def layer_type(name: str) -> LayerType:
    """The catalog entry for ``name``; KeyError for a name ConvScope does not know."""
    return CATALOG[name]


def types_in_group(group: Group) -> tuple[LayerType, ...]:
    """The group's entries in the palette's order."""
    return tuple(t for t in _ENTRIES if t.group == group)

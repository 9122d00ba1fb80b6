"""The catalog's entry types: a layer type and each of its constructor arguments, as data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

ParamKind = Literal["int", "float", "bool", "choice", "ints", "floats", "padding"]
Group = Literal[
    "convolution", "pooling", "normalization", "activation", "regularization", "shape", "merge"
]

GROUPS: tuple[Group, ...] = (
    "convolution",
    "pooling",
    "normalization",
    "activation",
    "regularization",
    "shape",
    "merge",
)


@dataclass(frozen=True)


class ParamSpec:
    """One constructor argument of a layer type, as torch spells it.

    ``kind`` is the value's type: ``ints`` is one integer or a list of ``length`` integers (one per
    spatial dimension when ``length`` is None), ``padding`` is ``ints`` or the strings "same" /
    "valid". ``optional`` means None (JSON null) is allowed and means "not set".
    """

    name: str
    kind: ParamKind
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    length: int | None = None
    optional: bool = False
    none_items: bool = False


@dataclass(frozen=True)


class LayerType:
    """A layer type: its torch name, group, parameters and what a learner should know of it."""

    name: str
    group: Group
    summary: str
    formula: str
    params: tuple[ParamSpec, ...]
    spatial_dims: int | None = None
    input_ranks: tuple[int, ...] | None = None
    inferred: str | None = None
    merge: bool = False
    own_module: bool = False
    """A ConvScope module with no torch.nn class of that name (like the merges): Chunk."""
    starter: tuple[tuple[str, Any], ...] = ()
    """Settings a freshly added layer gets for the values torch requires (e.g. kernel_size)."""

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

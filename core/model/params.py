"""Checking a layer's parameter values against the catalog.

The checks quote the bad value and say what would be accepted, in words a student understands.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from core.model.catalog import LayerType, ParamSpec
from core.model.errors import LayerError, quote


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _range_words(spec: ParamSpec, whole: bool) -> str:
    lo, hi = spec.minimum, spec.maximum
    noun = "a whole number" if whole else "a number"
    if lo is not None and hi is not None:
        return f"{noun} from {_fmt(lo)} to {_fmt(hi)}"
    if lo is not None:
        return f"{noun} of at least {_fmt(lo)}"
    return noun


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _in_range(spec: ParamSpec, value: float) -> bool:
    if spec.minimum is not None and value < spec.minimum:
        return False
    return not (spec.maximum is not None and value > spec.maximum)


def expected_length(spec: ParamSpec, layer_type: LayerType) -> int | None:
    """How many items a list value of ``spec`` must have (None: any of 1 to 3)."""
    return spec.length if spec.length is not None else layer_type.spatial_dims


def describe_expected(spec: ParamSpec, layer_type: LayerType) -> str:
    """What ``spec`` accepts: 'a whole number from 1 to 1024 or a list of 2 of them'."""
    kind = spec.kind
    if kind == "bool":
        text = "true or false"
    elif kind == "choice":
        text = "one of " + ", ".join(f'"{c}"' for c in spec.choices)
    elif kind in ("int", "float"):
        text = _range_words(spec, kind == "int")
    else:
        one = _range_words(spec, kind != "floats")
        n = expected_length(spec, layer_type)
        many = f"a list of {n} of them" if n else "a list of them"
        text = f"{one} or {many}"
        if spec.none_items:
            text += " (null keeps that size)"
        if kind == "padding":
            text += ', or "same" or "valid"'
    if spec.optional:
        text += ", or null"
    return text


def _check_one(spec: ParamSpec, layer_type: LayerType, value: Any) -> bool:
    kind = spec.kind
    if value is None:
        return spec.optional
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "choice":
        return isinstance(value, str) and value in spec.choices
    if kind == "int":
        return _is_int(value) and _in_range(spec, value)
    if kind == "float":
        return _is_number(value) and _in_range(spec, value)
    if kind == "padding" and isinstance(value, str):
        return value in ("same", "valid")
    item_ok = _is_number if kind == "floats" else _is_int
    if item_ok(value):
        return _in_range(spec, value)
    if isinstance(value, list | tuple):
        n = expected_length(spec, layer_type)
        if (n is not None and len(value) != n) or (not 1 <= len(value) <= 3 and n is None):
            return False
        for item in value:
            if item is None and spec.none_items:
                continue
            if not item_ok(item) or not _in_range(spec, item):
                return False
        return True
    return False


def check_params(layer_type: LayerType, params: Mapping[str, Any], layer: str) -> dict[str, Any]:
    """Check ``params`` against the catalog and return them with defaults filled in.

    Raises LayerError naming ``layer`` for an unknown key, a missing required value, a value of
    the wrong type or one outside its valid range.
    """
    known = layer_type.param_names
    for key in params:
        if key not in known:
            raise LayerError(layer, unknown_key_message(layer_type, key))
    resolved: dict[str, Any] = {}
    for spec in layer_type.params:
        value = params.get(spec.name, spec.default)
        if value is None and spec.default is None and not spec.optional:
            expected = describe_expected(spec, layer_type)
            raise LayerError(layer, f"{layer_type.name} needs {spec.name} ({expected})")
        if not _check_one(spec, layer_type, value):
            raise LayerError(
                layer,
                f"{spec.name} must be {describe_expected(spec, layer_type)}, got {_show(value)}",
            )
        resolved[spec.name] = tuple(value) if isinstance(value, list) else value
    return resolved


def unknown_key_message(layer_type: LayerType, key: str) -> str:
    import difflib

    known = layer_type.param_names
    close = difflib.get_close_matches(key[:100], known, n=1)
    hint = f' (did you mean "{close[0]}"?)' if close else ""
    valid = ", ".join(known) if known else "none"
    return f"{layer_type.name} has no setting {quote(key)}{hint}; its settings are: {valid}"


def _show(value: Any) -> str:
    """The value as the file spells it, cut to a readable length."""
    return quote(value)

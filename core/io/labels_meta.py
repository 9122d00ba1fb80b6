"""Class names and input normalisation for imported models, from what the source says.

ONNX: the file's ``metadata_props`` (``classes``/``labels``/``class_names`` as a JSON list or
one name per line or comma, ``mean``/``std`` as JSON lists). torchvision: the weight enum's
``meta["categories"]`` and its ``transforms()`` mean/std, both part of the installed package (no
download). Anything that does not check out (wrong count, not numbers) is left out with a note,
never an error: the model itself imports either way.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from core.analysis.model_analysis import analyze_model
from core.model.errors import ModelError
from core.model.labels import Normalization, classes_fit, parse_classes, parse_normalization
from core.model.spec import ModelSpec

_CLASS_KEYS = ("classes", "labels", "class_names")
_MAX_TEXT = 4_000_000


def _names(text: str) -> list[str]:
    text = text.strip()
    if text.startswith("["):
        value = json.loads(text)
        return value if isinstance(value, list) else []
    if text.startswith("{"):  # {"0": "tench", ...}
        value = json.loads(text)
        if isinstance(value, dict):
            return [value[k] for k in sorted(value, key=lambda k: int(k))]
        return []
    lines = text.splitlines() if "\n" in text else text.split(",")
    return [line.strip() for line in lines]


def with_labels(spec: ModelSpec, classes: list[Any] | None,
                normalization: dict[str, Any] | None, notes: list[str]) -> ModelSpec:
    """``spec`` carrying ``classes`` and ``normalization`` where they check out."""
    out = spec
    if classes:
        try:
            parsed = parse_classes(classes)
            problem = classes_fit(parsed, analyze_model(spec).output_shape, spec.task)
            if problem is not None:
                raise ModelError(problem)
            out = replace(out, classes=parsed)
        except ModelError as exc:
            notes.append(f"class names left out: {exc}")
    if normalization:
        try:
            norm: Normalization = parse_normalization(normalization, spec.input_shape)
            out = replace(out, normalization=norm)
        except ModelError as exc:
            notes.append(f"input normalisation left out: {exc}")
    return out


def onnx_labels(model: Any, spec: ModelSpec, notes: list[str]) -> ModelSpec:
    """The ONNX file's class names and normalisation from its metadata_props, where present."""
    props = {p.key.lower(): p.value for p in getattr(model, "metadata_props", ())
             if len(p.value) <= _MAX_TEXT}
    classes = None
    normalization: dict[str, Any] | None = None
    try:
        for key in _CLASS_KEYS:
            if key in props:
                classes = _names(props[key])
                break
        if "mean" in props and "std" in props:
            normalization = {"mean": json.loads(props["mean"]), "std": json.loads(props["std"])}
    except (ValueError, TypeError, KeyError, RecursionError):
        notes.append("the file's metadata (class names or mean/std) is not readable; left out")
    return with_labels(spec, classes, normalization, notes)


def torchvision_labels(name: str, weights_enum_member: Any, spec: ModelSpec,
                       notes: list[str], inputs_minus_one_to_one: bool = False) -> ModelSpec:
    """torchvision's categories and mean/std for ``weights_enum_member`` (offline)."""
    meta = getattr(weights_enum_member, "meta", {}) or {}
    classes = meta.get("categories")
    normalization: dict[str, Any] | None = None
    if inputs_minus_one_to_one:  # transform_input left out: the weights expect −1…1
        normalization = {"mean": [0.5] * 3, "std": [0.5] * 3}
    else:
        try:
            transform = weights_enum_member.transforms()
            normalization = {"mean": [float(v) for v in transform.mean],
                             "std": [float(v) for v in transform.std]}
        except (AttributeError, TypeError, ValueError):
            normalization = None
    return with_labels(spec, list(classes) if classes else None, normalization, notes)

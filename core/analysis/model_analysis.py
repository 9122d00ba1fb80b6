"""Analysing a whole model: per-layer shapes, parameters, MACs, memory and receptive fields.

The analysis walks the layers in order and stops at the first invalid one, keeping everything
before it, so the GUI can mark the bad layer and still show the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from core.analysis.layer_rules import RULES, Invalid, Shape
from core.analysis.receptive_field import ReceptiveField
from core.model.catalog import CATALOG
from core.model.errors import MAX_COUNT, LayerError, count_text, shape_text
from core.model.params import check_params
from core.model.spec import INPUT, LayerSpec, ModelSpec, connection_problem

BYTES_PER_VALUE = 4  # float32 activations


@dataclass(frozen=True)
class LayerAnalysis:
    """One analysed layer. ``params`` counts torch parameters (not buffers)."""

    name: str
    type: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: int
    trainable_params: int
    macs: int
    receptive_field: ReceptiveField | None
    settings: dict[str, Any] = field(repr=False)
    """The layer's parameter values with the catalog's defaults filled in."""

    @property
    def frozen_params(self) -> int:
        return self.params - self.trainable_params

    @property
    def activation_bytes(self) -> int:
        return math.prod(self.output_shape) * BYTES_PER_VALUE


@dataclass(frozen=True)
class ModelAnalysis:
    """The analysis of a model: the layers analysed, and the first error if there is one."""

    spec: ModelSpec
    layers: tuple[LayerAnalysis, ...]
    error: LayerError | None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return self.total_params - self.trainable_params

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def activation_bytes(self) -> int:
        """Memory for every layer's output of one sample (what a forward pass keeps)."""
        return sum(layer.activation_bytes for layer in self.layers)

    @property
    def output_shape(self) -> Shape | None:
        return self.layers[-1].output_shape if self.layers and self.ok else None

    def get(self, name: str) -> LayerAnalysis | None:
        for layer in self.layers:
            if layer.name == name:
                return layer
        return None

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


def analyze_model(spec: ModelSpec, previous: ModelAnalysis | None = None) -> ModelAnalysis:
    """Analyse ``spec`` layer by layer without building it; stops at the first invalid layer.

    With the ``previous`` analysis (of the spec before an edit), a layer whose spec, inputs'
    shapes and inputs' receptive fields are unchanged keeps its earlier result, so one edit in
    a 500-layer model re-checks only the layers it affects. The result equals a fresh analysis.
    """
    shapes: dict[str, Shape] = {INPUT: spec.input_shape}
    spatial = len(spec.input_shape) - 1
    fields: dict[str, ReceptiveField | None] = {
        INPUT: ReceptiveField.of_input(spatial) if spatial >= 1 else None
    }
    earlier = _Earlier(previous) if previous is not None else None
    if earlier is not None and previous is not None and (
            previous.spec.input_shape, previous.spec.input_dtype) != (
            spec.input_shape, spec.input_dtype):
        earlier.changed.add(INPUT)
    done: list[LayerAnalysis] = []
    for index, layer in enumerate(spec.layers):
        sources = spec.inputs_of(index)
        if earlier is not None:
            kept = earlier.unchanged(layer, sources, shapes)
            if kept is None:
                kept = earlier.reusable(layer, sources, shapes, fields)
                if kept is not None and connection_problem(spec, index, shapes) is not None:
                    kept = None
            if kept is not None:
                shapes[layer.name] = kept.output_shape
                fields[layer.name] = kept.receptive_field
                done.append(kept)
                continue
        try:
            layer_type = CATALOG.get(layer.type)
            if layer_type is None:
                raise LayerError(layer.name, f'unknown layer type "{layer.type}"')
            settings = check_params(layer_type, layer.params, layer.name)
            problem = connection_problem(spec, index, shapes) or _token_problem(
                spec, layer.type, sources)
            if problem is not None:
                raise LayerError(layer.name, problem)
            in_shapes = [shapes[s] for s in sources]
            try:
                outcome = RULES[layer.type](settings, in_shapes)
            except Invalid as exc:
                raise LayerError(layer.name, str(exc)) from None
            too_large = _too_large(outcome.shape, outcome.params, outcome.macs)
            if too_large is not None:
                raise LayerError(layer.name, too_large)
        except LayerError as error:
            return ModelAnalysis(spec, tuple(done), error)
        in_fields = [fields[s] for s in sources]
        out_field = outcome.field(in_fields) if outcome.field else None
        if out_field is not None and (out_field.dims != len(outcome.shape) - 1
                                      or not out_field.finite()):
            out_field = None  # a thousand stride-1024 layers: no float holds the jump
        shapes[layer.name] = outcome.shape
        fields[layer.name] = out_field
        if earlier is not None:
            earlier.changed.add(layer.name)
        done.append(LayerAnalysis(
            name=layer.name,
            type=layer.type,
            input_shapes=tuple(in_shapes),
            output_shape=outcome.shape,
            params=outcome.params,
            trainable_params=outcome.params if layer.trainable else 0,
            macs=outcome.macs,
            receptive_field=out_field,
            settings=settings,
        ))
    return ModelAnalysis(spec, tuple(done), None)


def _too_large(shape: Shape, params: int, macs: int) -> str | None:
    """Why a layer's numbers are too large to analyse (the arithmetic stays in integers up to
    here, so nothing has overflowed yet), or None."""
    for what, count in (("output", math.prod(shape)), ("parameters", params),
                        ("multiply-accumulates", macs)):
        if count > MAX_COUNT:
            subject = (f"its {shape_text(shape)} output has {count_text(count)} values"
                       if what == "output" else f"it has {count_text(count)} {what}")
            return (f"{subject}: too large to analyse (at most 2^63 − 1); use a smaller input "
                    "or fewer channels")
    return None


def _token_problem(spec: ModelSpec, type_name: str, sources: tuple[str, ...]) -> str | None:
    """Integer token ids go into an Embedding, and an Embedding reads only token ids."""
    tokens = spec.input_dtype == "int64"
    if type_name == "Embedding":
        if sources != (INPUT,) or not tokens:
            return ("an Embedding reads integer token ids: put it first, reading the model's "
                    'input, and set the input to token ids ("dtype": "int64")')
    elif tokens and INPUT in sources:
        return ("the model's input is integer token ids: only an Embedding can read them (it "
                "turns each id into a vector); put an Embedding first")
    return None


class _Earlier:
    """The layers of an earlier analysis, looked up by name, for ``analyze_model`` to reuse."""

    def __init__(self, analysis: ModelAnalysis) -> None:
        spec = analysis.spec
        self.layers = {layer.name: layer for layer in analysis.layers}
        self.specs = {layer.name: layer for layer in spec.layers}
        self.sources = {layer.name: spec.inputs_of(i) for i, layer in enumerate(spec.layers)
                        if layer.name in self.layers}
        spatial = len(spec.input_shape) - 1
        self.fields: dict[str, ReceptiveField | None] = {
            INPUT: ReceptiveField.of_input(spatial) if spatial >= 1 else None}
        self.fields.update({layer.name: layer.receptive_field for layer in analysis.layers})
        self.changed: set[str] = set()
        """Layers analysed afresh in this pass (their results may differ from the earlier)."""

    def unchanged(self, layer: LayerSpec, sources: tuple[str, ...],
                  shapes: dict[str, Shape]) -> LayerAnalysis | None:
        """The earlier result when ``layer`` is the very spec analysed before and reads the same
        layers, all before it and all with their earlier results: nothing about it changed."""
        if self.specs.get(layer.name) is not layer or self.sources.get(layer.name) != sources:
            return None
        changed = self.changed
        for source in sources:
            if source in changed or source not in shapes:
                return None
        return self.layers.get(layer.name)

    def reusable(self, layer: LayerSpec, sources: tuple[str, ...], shapes: dict[str, Shape],
                 fields: dict[str, ReceptiveField | None]) -> LayerAnalysis | None:
        """The earlier result of ``layer`` when nothing it depends on has changed."""
        kept = self.layers.get(layer.name)
        if kept is None or self.sources.get(layer.name) != sources:
            return None
        before = self.specs[layer.name]
        if before is not layer and before != layer:
            return None
        for position, source in enumerate(sources):
            if source not in shapes or shapes[source] != kept.input_shapes[position]:
                return None
            if fields.get(source) != self.fields.get(source):
                return None
        return kept

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
from core.model.errors import LayerError
from core.model.params import check_params
from core.model.spec import INPUT, ModelSpec, connection_problem

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


def analyze_model(spec: ModelSpec) -> ModelAnalysis:
    """Analyse ``spec`` layer by layer without building it; stops at the first invalid layer."""
    shapes: dict[str, Shape] = {INPUT: spec.input_shape}
    spatial = len(spec.input_shape) - 1
    fields: dict[str, ReceptiveField | None] = {
        INPUT: ReceptiveField.of_input(spatial) if spatial >= 1 else None
    }
    done: list[LayerAnalysis] = []
    for index, layer in enumerate(spec.layers):
        sources = spec.inputs_of(index)
        try:
            layer_type = CATALOG.get(layer.type)
            if layer_type is None:
                raise LayerError(layer.name, f'unknown layer type "{layer.type}"')
            settings = check_params(layer_type, layer.params, layer.name)
            problem = connection_problem(spec, index, shapes)
            if problem is not None:
                raise LayerError(layer.name, problem)
            in_shapes = [shapes[s] for s in sources]
            try:
                outcome = RULES[layer.type](settings, in_shapes)
            except Invalid as exc:
                raise LayerError(layer.name, str(exc)) from None
        except LayerError as error:
            return ModelAnalysis(spec, tuple(done), error)
        in_fields = [fields[s] for s in sources]
        out_field = outcome.field(in_fields) if outcome.field else None
        if out_field is not None and out_field.dims != len(outcome.shape) - 1:
            out_field = None
        shapes[layer.name] = outcome.shape
        fields[layer.name] = out_field
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

"""Building a model file into a torch.nn.Module whose every layer can be captured by name."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.analysis.summary import format_bytes
from core.model.catalog import CATALOG
from core.model.errors import ModelError
from core.model.spec import INPUT, ModelSpec

MAX_BUILD_PARAMS = 2_000_000_000
"""Above this the model is analysed but not built: its weights alone would need 8 GB."""


class Add(nn.Module):
    """Element-wise sum of its inputs (a residual connection)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = inputs[0]
        for other in inputs[1:]:
            out = out + other
        return out


class Concat(nn.Module):
    """Concatenation of its inputs along the channels."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=1)


class Mul(nn.Module):
    """Element-wise product of its inputs, broadcasting sizes of 1 (squeeze-and-excitation)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        out = inputs[0]
        for other in inputs[1:]:
            out = out * other
        return out


class Chunk(nn.Module):
    """Part ``index`` of the channels cut into ``chunks`` parts (``torch.chunk`` along dim 1)."""

    def __init__(self, chunks: int = 2, index: int = 0) -> None:
        super().__init__()
        self.chunks = chunks
        self.index = index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.chunk(x, self.chunks, dim=1)[self.index]

    def extra_repr(self) -> str:
        return f"chunks={self.chunks}, index={self.index}"


_MERGES: dict[str, type[nn.Module]] = {"Add": Add, "Concat": Concat, "Mul": Mul}
_OWN: dict[str, type[nn.Module]] = {"Chunk": Chunk}


class ConvScopeNet(nn.Module):
    """A network built from a model file; ``layers[name]`` is the torch module of layer ``name``.

    ``forward`` returns the last layer's output; ``forward_all`` returns every layer's output by
    name (what activation maps are drawn from).
    """

    def __init__(self, spec: ModelSpec, analysis: ModelAnalysis) -> None:
        super().__init__()
        self.spec = spec
        self.layers = nn.ModuleDict()
        self.sources: dict[str, tuple[str, ...]] = {}
        for index, (layer, info) in enumerate(zip(spec.layers, analysis.layers, strict=True)):
            module = _make_module(layer.type, info.settings, info.input_shapes[0])
            if not layer.trainable:
                module.requires_grad_(False)
            self.layers[layer.name] = module
            self.sources[layer.name] = spec.inputs_of(index)
        last_use: dict[str, str] = {}
        for name, sources in self.sources.items():
            for source in sources:
                last_use[source] = name
        self._release: dict[str, tuple[str, ...]] = {}
        for source, consumer in last_use.items():
            self._release[consumer] = (*self._release.get(consumer, ()), source)

    def forward_all(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        outputs: dict[str, torch.Tensor] = {INPUT: x}
        for name, module in self.layers.items():
            outputs[name] = module(*(outputs[s] for s in self.sources[name]))
        del outputs[INPUT]
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The last layer's output; each layer's output is let go once its last reader ran."""
        outputs: dict[str, torch.Tensor] = {INPUT: x}
        last = x
        for name, module in self.layers.items():
            last = module(*(outputs[s] for s in self.sources[name]))
            for source in self._release.get(name, ()):
                outputs.pop(source, None)
            outputs[name] = last
        return last


def _make_module(type_name: str, settings: dict[str, Any], in_shape: tuple[int, ...]) -> nn.Module:
    if type_name in _MERGES:
        return _MERGES[type_name]()
    kwargs = dict(settings)
    if type_name in _OWN:
        return _OWN[type_name](**kwargs)
    inferred = CATALOG[type_name].inferred
    if inferred is not None:
        kwargs[inferred] = in_shape[-1] if inferred == "in_features" else in_shape[0]
    cls = getattr(nn, type_name)
    module: nn.Module = cls(**kwargs)
    return module


def build_model(spec: ModelSpec, analysis: ModelAnalysis | None = None) -> ConvScopeNet:
    """Build ``spec`` into a torch module; raises LayerError for an invalid model.

    Models too large to allocate raise ModelError (analyse them instead).
    """
    analysis = analysis if analysis is not None else analyze_model(spec)
    analysis.raise_error()
    if analysis.total_params > MAX_BUILD_PARAMS:
        raise ModelError(
            f"{spec.name} has {analysis.total_params:,} parameters "
            f"({format_bytes(analysis.total_params * 4)} of weights): too large to build here. "
            "Its analysis still shows every shape and count."
        )
    return ConvScopeNet(spec, analysis)

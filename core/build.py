"""Building a model file into a torch.nn.Module whose every layer can be captured by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from core.analysis.model_analysis import ModelAnalysis, analyze_model
from core.analysis.summary import format_bytes
from core.model.catalog import CATALOG
from core.model.errors import ModelError
from core.model.initialisation import Initialisation
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


class Transpose(nn.Module):
    """Swaps two dimensions (counting the batch as 0): an Embedding's (length, dims) becomes
    Conv1d's (channels, length)."""

    def __init__(self, dim0: int = 1, dim1: int = 2) -> None:
        super().__init__()
        self.dim0, self.dim1 = dim0, dim1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(self.dim0, self.dim1)

    def extra_repr(self) -> str:
        return f"dim0={self.dim0}, dim1={self.dim1}"


_OWN_MODULES: dict[str, type[nn.Module]] = {"Transpose": Transpose}


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: every output position has its own kernel and bias.

    torch has no such module (Keras 2 had LocallyConnected2D), so it is written here: the input's
    windows come from ``F.unfold`` and each position's kernel is applied with one ``einsum``.
    ``weight`` is (out_h, out_w, out_channels, in_channels, kh, kw) and ``bias`` is
    (out_channels, out_h, out_w), so a 28×28 input with one 5×5 kernel per position has
    24·24·25 + 24·24 = 14,976 parameters (the lecture's local receptive fields).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any,
                 input_size: tuple[int, int], stride: Any = 1, bias: bool = True) -> None:
        super().__init__()
        kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
        sh, sw = (stride, stride) if isinstance(stride, int) else stride
        self.kernel_size = (int(kh), int(kw))
        self.stride = (int(sh), int(sw))
        self.in_channels, self.out_channels = in_channels, out_channels
        self.output_size = ((input_size[0] - kh) // sh + 1, (input_size[1] - kw) // sw + 1)
        oh, ow = self.output_size
        bound = 1 / (in_channels * kh * kw) ** 0.5  # what Conv2d's default init amounts to
        self.weight = nn.Parameter(
            torch.empty(oh, ow, out_channels, in_channels, kh, kw).uniform_(-bound, bound))
        self.bias = (nn.Parameter(torch.empty(out_channels, oh, ow).uniform_(-bound, bound))
                     if bias else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        oh, ow = self.output_size
        windows = nn.functional.unfold(x, self.kernel_size, stride=self.stride)  # (N, C·k·k, L)
        weight = self.weight.reshape(oh * ow, self.out_channels, -1)
        out = torch.einsum("nkl,lok->nol", windows, weight).reshape(-1, self.out_channels, oh, ow)
        return out + self.bias if self.bias is not None else out


class LayerNorm2d(nn.LayerNorm):
    """Layer normalization over the channels of (batch, channels, height, width): at every
    position the channel values are normalised together (torchvision's ConvNeXt LayerNorm2d)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = nn.functional.layer_norm(x.movedim(1, -1), self.normalized_shape, self.weight,
                                       self.bias, self.eps)
        return out.movedim(-1, 1)


class LayerScale(nn.Module):
    """Multiplies each channel by its own learned number (ConvNeXt's layer_scale)."""

    def __init__(self, channels: int, init: float = 1e-6) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.full((channels, 1, 1), float(init)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


CUSTOM_MODULES: dict[str, type[nn.Module]] = {"LocallyConnected2d": LocallyConnected2d,
                                              "LayerNorm2d": LayerNorm2d,
                                              "LayerScale": LayerScale}
"""Catalog types torch.nn lacks, built from ConvScope's own modules."""


def initialised_weights(module: nn.Module) -> list[tuple[str, torch.Tensor]]:
    """The (name, tensor) a scheme initialises: ``weight`` with 2 or more dimensions (kernels,
    Linear and Embedding matrices; not a normalisation's per-channel scale)."""
    weight = getattr(module, "weight", None)
    if isinstance(weight, torch.Tensor) and weight.dim() >= 2:
        return [("weight", weight)]
    return []


def initialise(layers: nn.ModuleDict, init: Initialisation) -> None:
    """Apply the model file's initialisation to the built layers (no gradient tracked)."""
    schemes: dict[str, Callable[[torch.Tensor], object]] = {
        "glorot_uniform": nn.init.xavier_uniform_,
        "glorot_normal": nn.init.xavier_normal_,
        "he_uniform": lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"),
        "he_normal": lambda t: nn.init.kaiming_normal_(t, nonlinearity="relu"),
    }
    with torch.no_grad():
        for name, module in layers.items():
            weights = initialised_weights(module)
            scheme = init.scheme_for(name)
            for _, tensor in weights:
                if scheme != "default":
                    schemes[scheme](tensor)
            bias = getattr(module, "bias", None)
            if weights and init.biases == "zeros" and isinstance(bias, torch.Tensor):
                bias.zero_()


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
        if spec.init is not None:
            initialise(self.layers, spec.init)
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
    if type_name in _OWN_MODULES:
        return _OWN_MODULES[type_name](**settings)
    kwargs = dict(settings)
    if type_name in _OWN:
        return _OWN[type_name](**kwargs)
    inferred = CATALOG[type_name].inferred
    if inferred is not None:
        kwargs[inferred] = in_shape[-1] if inferred == "in_features" else in_shape[0]
    if type_name == "LocallyConnected2d":
        kwargs["input_size"] = in_shape[1:]
    cls = CUSTOM_MODULES.get(type_name) or getattr(nn, type_name)
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


def example_input(spec: ModelSpec, batch: int = 1,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """A random input batch the model accepts: normal noise, or for a token-id input random ids
    below the smallest vocabulary of the Embeddings that read it."""
    if spec.input_dtype == "int64":
        sizes = [int(layer.params.get("num_embeddings", 2)) for index, layer
                 in enumerate(spec.layers) if layer.type == "Embedding"
                 and INPUT in spec.inputs_of(index)]
        return torch.randint(0, min(sizes, default=2), (batch, *spec.input_shape),
                             generator=generator)
    return torch.randn(batch, *spec.input_shape, generator=generator)

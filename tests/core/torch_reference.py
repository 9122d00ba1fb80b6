"""An independent reference: run a model file layer by layer in plain torch.

Each layer's torch module is constructed from the file's keyword arguments (plus the input size
read off the real incoming tensor) and run on real tensors, with warnings as errors. Whatever
torch refuses, accepts only with a warning, or answers with an empty tensor, counts as
refused.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from core.model.catalog import CATALOG
from core.model.spec import INPUT, ModelSpec


@dataclass
class ReferenceRun:
    shapes: list[tuple[int, ...]]
    params: list[int]
    refused_at: int | None
    reason: str = ""


def _module(type_name: str, params: dict[str, Any], inputs: list[torch.Tensor]) -> Any:
    if type_name == "Add":
        def add(*xs: torch.Tensor) -> torch.Tensor:
            if any(x.shape != xs[0].shape for x in xs):
                raise ValueError("Add of different shapes")
            return sum(xs[1:], xs[0])
        return add
    if type_name == "Concat":
        return lambda *xs: torch.cat(xs, dim=1)
    if type_name == "Mul":
        def mul(*xs: torch.Tensor) -> torch.Tensor:
            if any(x.dim() != xs[0].dim() for x in xs):
                raise ValueError("Mul of different ranks")
            out = xs[0]
            for x in xs[1:]:
                out = out * x
            return out
        return mul
    if type_name == "Chunk":
        return lambda x: torch.chunk(x, params.get("chunks", 2), dim=1)[params.get("index", 0)]
    if type_name == "Transpose":
        return lambda x: x.transpose(params.get("dim0", 1), params.get("dim1", 2))
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
    inferred = CATALOG[type_name].inferred
    if inferred and inferred not in kwargs:
        x = inputs[0]
        kwargs[inferred] = x.shape[-1] if inferred == "in_features" else x.shape[1]
    if type_name == "LayerNorm2d":  # torchvision's (ConvNeXt's), for 2-D feature maps
        from torchvision.models.convnext import LayerNorm2d

        return LayerNorm2d(**kwargs)
    return getattr(nn, type_name)(**kwargs)


def run_reference(spec: ModelSpec, batch: int = 2) -> ReferenceRun:
    torch.manual_seed(0)
    if spec.input_dtype == "int64":  # token ids, below every Embedding's vocabulary
        vocabulary = min((int(layer.params["num_embeddings"]) for layer in spec.layers
                          if layer.type == "Embedding"), default=2)
        first = torch.randint(0, vocabulary, (batch, *spec.input_shape))
    else:
        first = torch.randn(batch, *spec.input_shape)
    outputs = {INPUT: first}
    shapes: list[tuple[int, ...]] = []
    counts: list[int] = []
    for index, layer in enumerate(spec.layers):
        inputs = [outputs[s] for s in spec.inputs_of(index)]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                # a performance note, not a refusal
                warnings.filterwarnings("ignore", message=".*zero-padded copy")
                module = _module(layer.type, dict(layer.params), inputs)
                if isinstance(module, nn.Module):
                    module.eval()
                with torch.no_grad():
                    out = module(*inputs)
                if 0 in out.shape:  # torch returns an empty tensor; ConvScope calls that invalid
                    raise ValueError(f"empty output {tuple(out.shape)}")
        except Exception as exc:  # torch refuses with many exception types
            return ReferenceRun(shapes, counts, index, f"{type(exc).__name__}: {exc}")
        outputs[layer.name] = out
        shapes.append(tuple(out.shape[1:]))
        counts.append(sum(p.numel() for p in module.parameters())
                      if isinstance(module, nn.Module) else 0)
    return ReferenceRun(shapes, counts, None)

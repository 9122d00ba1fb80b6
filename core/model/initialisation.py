"""Weight initialisation stored in a model file: one scheme for the whole model, per-layer
overrides, and whether biases start at zero (the random-features lecture uses Glorot).

The model file's optional ``init`` object, e.g.::

    "init": {"weights": "glorot_uniform", "biases": "zeros", "layers": {"fc1": "he_normal"}}

``weights`` (default ``default``: torch's own initialisation) applies to every layer with a
weight matrix or kernel (convolutions, Linear, Embedding); ``layers`` overrides it by layer
name; ``biases`` is ``default`` (torch's) or ``zeros``. Files without ``init`` load and build
exactly as before. Plain data: building applies it (core.build), the exported PyTorch code
writes it out (core.io.pytorch_code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core.model.errors import ModelError

SCHEMES = ("default", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal")
"""default: torch's; Glorot/Xavier: variance 2 / (fan_in + fan_out); He/Kaiming (ReLU gain):
variance 2 / fan_in. Uniform bounds are sqrt(3 × variance)."""
SCHEME_LABELS = {"default": "torch default", "glorot_uniform": "Glorot (Xavier) uniform",
                 "glorot_normal": "Glorot (Xavier) normal", "he_uniform": "He (Kaiming) uniform",
                 "he_normal": "He (Kaiming) normal"}
BIASES = ("default", "zeros")
TORCH_CALLS = {"glorot_uniform": "nn.init.xavier_uniform_({})",
               "glorot_normal": "nn.init.xavier_normal_({})",
               "he_uniform": 'nn.init.kaiming_uniform_({}, nonlinearity="relu")',
               "he_normal": 'nn.init.kaiming_normal_({}, nonlinearity="relu")'}
"""The torch.nn.init call for each scheme, with the tensor's place left for ``format``."""


@dataclass(frozen=True)
class Initialisation:
    weights: str = "default"
    biases: str = "default"
    layers: Mapping[str, str] = field(default_factory=dict)

    def scheme_for(self, layer: str) -> str:
        return self.layers.get(layer, self.weights)

    @property
    def is_default(self) -> bool:
        return (self.weights == "default" and self.biases == "default"
                and all(s == "default" for s in self.layers.values()))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"weights": self.weights, "biases": self.biases}
        if self.layers:
            out["layers"] = dict(self.layers)
        return out


def parse_initialisation(raw: Any, layer_names: set[str] | None = None) -> Initialisation | None:
    """The model file's ``init`` (None when absent); ModelError naming the bad part."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ModelError('init must be an object such as {"weights": "glorot_uniform"}')
    unknown = set(raw) - {"weights", "biases", "layers"}
    if unknown:
        raise ModelError(f"init has no key {sorted(unknown)[0]!r}; the keys are weights, "
                         "biases, layers")

    def scheme(value: Any, where: str) -> str:
        if value not in SCHEMES:
            raise ModelError(f"{where} must be one of {', '.join(SCHEMES)}; got {value!r}")
        return str(value)

    weights = scheme(raw.get("weights", "default"), "init.weights")
    biases = raw.get("biases", "default")
    if biases not in BIASES:
        raise ModelError(f"init.biases must be one of {', '.join(BIASES)}; got {biases!r}")
    per_layer = raw.get("layers", {})
    if not isinstance(per_layer, Mapping):
        raise ModelError('init.layers must map layer names to schemes, e.g. {"fc1": "he_normal"}')
    layers = {}
    for name, value in per_layer.items():
        if layer_names is not None and name not in layer_names:
            raise ModelError(f"init.layers names {name!r}, which is not a layer of the model")
        layers[str(name)] = scheme(value, f"init.layers.{name}")
    return Initialisation(weights, str(biases), layers)

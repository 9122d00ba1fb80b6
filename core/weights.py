"""Saving and loading weights by layer name (safetensors; never unpickling a user's file).

Keys are ``<layer name>.<tensor name>``, e.g. ``conv1.weight``, so weights move between models
that share layer names: a model whose head was replaced takes every other layer's weights.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save_file
from torch import nn

from core.model.errors import ModelError
from core.run_files import read_run_file


@dataclass
class WeightLoadReport:
    """What a weight load did: tensors loaded, and those skipped with the reason."""

    loaded: list[str] = field(default_factory=list)
    shape_mismatch: list[str] = field(default_factory=list)
    not_in_file: list[str] = field(default_factory=list)
    not_in_model: list[str] = field(default_factory=list)

    @property
    def layers_loaded(self) -> list[str]:
        return sorted({key.split(".")[0] for key in self.loaded})

    def describe(self) -> str:
        parts = [f"loaded {len(self.loaded)} tensors ({', '.join(self.layers_loaded) or 'none'})"]
        if self.shape_mismatch:
            parts.append("kept fresh weights in the layers whose shapes differ: "
                         + ", ".join(self.shape_mismatch))
        if self.not_in_file:
            parts.append("not in the file: " + ", ".join(self.not_in_file))
        if self.not_in_model:
            parts.append("in the file but not in this model: " + ", ".join(self.not_in_model))
        return "; ".join(parts)


def _layers(model: nn.Module) -> nn.Module:
    layers = getattr(model, "layers", None)
    return layers if isinstance(layers, nn.Module) else model


def state_by_layer(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's parameters and buffers keyed by layer name, detached, contiguous, on the CPU."""
    return {k: v.detach().cpu().contiguous() for k, v in _layers(model).state_dict().items()}


def save_weights(model: nn.Module, path: str | Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(state_by_layer(model), str(tmp))
    tmp.replace(path)


HEADER_LIMIT = 16 << 20
"""The largest safetensors header (its tensor table and metadata) read; ResNet-152's is 60 kB."""


def _check_header(path: Path, raw: bytes) -> None:
    """The safetensors header's declared length, checked before the library parses it."""
    if len(raw) < 8:
        raise ModelError(f"{path}: not a readable safetensors file (only {len(raw)} bytes)")
    size = int.from_bytes(raw[:8], "little")
    if size > HEADER_LIMIT:
        raise ModelError(f"{path}: not a readable safetensors file (its header claims "
                         f"{size:,} bytes, more than {HEADER_LIMIT:,}: a tensor table is "
                         "kilobytes)")
    if size + 8 > len(raw):
        raise ModelError(f"{path}: not a readable safetensors file (its header claims "
                         f"{size:,} bytes but the file has {len(raw):,}: it is truncated)")


def read_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a weights file: safetensors, or a PyTorch state_dict read with weights_only=True.

    A file of a run folder is checked against the run's record first (ModelError when it was
    swapped, truncated or changed)."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: no such weights file")
    try:
        # a run folder's weights are checked against its training.json (core.run_files)
        raw = read_run_file(path)
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if path.suffix == ".safetensors":
        _check_header(path, raw)
        try:
            return load_safetensors(raw)
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(f"{path}: not a readable safetensors file ({exc})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # protocol notes; the file is refused or read safely
            data = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a foreign or hostile file
        raise ModelError(
            f"{path}: not a weights file ConvScope can read safely ({type(exc).__name__}); "
            "use .safetensors or a PyTorch state_dict"
        ) from None
    if isinstance(data, dict) and "state_dict" in data and isinstance(data["state_dict"], dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in data.items()
    ):
        raise ModelError(f"{path}: holds no state_dict (a mapping of names to tensors)")
    return {k.removeprefix("layers."): v for k, v in data.items()}


def apply_weights(model: nn.Module, tensors: dict[str, torch.Tensor]) -> WeightLoadReport:
    """Copy the tensors of every layer whose name and shapes match; report the rest.

    A layer is loaded whole or not at all: when one of its tensors differs in shape (a
    narrower conv1 leaves bn1 and conv2 unfit), the layer keeps all its fresh weights, not
    a stray bias or BatchNorm step counter that happened to fit.
    """
    report = WeightLoadReport()
    own = _layers(model).state_dict()
    unfit = {key.split(".")[0] for key, target in own.items()
             if key in tensors and tuple(tensors[key].shape) != tuple(target.shape)}
    matched = {}
    for key, target in own.items():
        if key not in tensors:
            report.not_in_file.append(key)
        elif tuple(tensors[key].shape) != tuple(target.shape):
            report.shape_mismatch.append(
                f"{key} (file {tuple(tensors[key].shape)}, model {tuple(target.shape)})"
            )
        elif key.split(".")[0] not in unfit:
            matched[key] = tensors[key]
            report.loaded.append(key)
    report.not_in_model = [k for k in tensors if k not in own]
    _layers(model).load_state_dict(matched, strict=False)
    return report


def load_weights(model: nn.Module, path: str | Path) -> WeightLoadReport:
    return apply_weights(model, read_weights(path))

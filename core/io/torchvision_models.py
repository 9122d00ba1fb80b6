"""torchvision's classification models as ConvScope model files, with their pretrained weights.

The model is built on torch's meta device (no memory, no random initialisation), traced and
mapped (core.io.fx_import). Pretrained weights come from torchvision's weight enums, which read
torch's hub cache or download; offline and not cached, the message says where to put the file.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.io.fx_import import ImportedModel, import_module, weights_by_layer
from core.io.labels_meta import torchvision_labels
from core.model.errors import ModelError

PREFIX = "torchvision:"
_FAMILY_KWARGS: dict[str, dict[str, Any]] = {
    # The auxiliary heads only train; the input transform is a fixed rescaling (see the note).
    "googlenet": {"aux_logits": False, "transform_input": False, "init_weights": False},
    "inception_v3": {"aux_logits": False, "transform_input": False, "init_weights": False},
}
_TRANSFORM_NOTE = ("torchvision's {name} weights expect inputs scaled to −1…1 ((x − 0.5) / 0.5 per "
                   "channel); torchvision rescales ImageNet-normalised inputs to that inside the "
                   "model (transform_input), which ConvScope leaves out")


@dataclass(frozen=True)
class TorchvisionModel:
    """One entry of torchvision's classification models, for the import list."""

    name: str
    params: int | None
    """Parameter count from the default weights' metadata (None when it has no weights)."""
    weights: tuple[str, ...]


@cache
def classification_models() -> tuple[TorchvisionModel, ...]:
    """torchvision's classification models with their parameter counts and weight names."""
    import torchvision
    from torchvision.models import get_model_weights, list_models

    out = []
    for name in list_models(module=torchvision.models):
        try:
            enum = get_model_weights(name)
            members = tuple(w.name for w in enum)
            params = enum.DEFAULT.meta.get("num_params") if members else None
        except (ValueError, KeyError, AttributeError):
            members, params = (), None
        out.append(TorchvisionModel(name, params, members))
    return tuple(out)


@cache
def segmentation_models() -> tuple[TorchvisionModel, ...]:
    """torchvision's segmentation models (FCN, DeepLabV3, LR-ASPP), imported without their
    auxiliary heads."""
    import torchvision
    from torchvision.models import get_model_weights, list_models

    out = []
    for name in list_models(module=torchvision.models.segmentation):
        enum = get_model_weights(name)
        members = tuple(w.name for w in enum)
        out.append(TorchvisionModel(name, enum.DEFAULT.meta.get("num_params"), members))
    return tuple(out)


def is_segmentation(name: str) -> bool:
    return name in {m.name for m in segmentation_models()}


_AUX_NOTE = ("the auxiliary segmentation head (a second classifier on an earlier stage, used "
             "only in training) is left out")


def input_size(name: str) -> int:
    return 299 if name == "inception_v3" else 224


_TRANSFORMERS = ("vit_", "swin_", "maxvit_")


def is_vision_transformer(name: str) -> bool:
    return name.startswith(_TRANSFORMERS)


def _check_name(name: str) -> None:
    known = [m.name for m in classification_models() + segmentation_models()]
    if name in known and is_vision_transformer(name):
        raise ModelError(f"torchvision's {name} is a vision transformer (attention over patches, "
                         "not convolution); ConvScope is for convolutional networks")
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ModelError(f'torchvision has no classification model "{name}"{hint}; '
                         "`convscope import --list` shows them all")


def build_on_meta(name: str) -> nn.Module:
    """torchvision's ``name`` without weights, on the meta device (instant, no memory)."""
    from torchvision.models import get_model

    kwargs = dict(_FAMILY_KWARGS.get(name, {}))
    if is_segmentation(name):  # no backbone download; the auxiliary head only trains
        kwargs["weights_backbone"] = None
        if not name.startswith("lraspp"):
            kwargs["aux_loss"] = False
    try:
        with _BUILD_LOCK, torch.device("meta"), _regnet_widths_on_cpu():
            module: nn.Module = get_model(name, weights=None, **kwargs)
    except (NotImplementedError, RuntimeError):  # a builder that computes with tensors
        module = get_model(name, weights=None, **kwargs).to("meta")
    return module.eval()


_BUILD_LOCK = threading.Lock()


@contextmanager
def _regnet_widths_on_cpu() -> Iterator[None]:
    """RegNet's builders compute the block widths with tensors (``.tolist()``), which the meta
    device cannot; those few numbers are computed on the CPU while the model stays on meta."""
    from torchvision.models import regnet

    original = regnet.BlockParams.__dict__["from_init_params"]
    plain = original.__func__

    def on_cpu(cls: Any, *args: Any, **kwargs: Any) -> Any:
        with torch.device("cpu"):
            return plain(cls, *args, **kwargs)

    regnet.BlockParams.from_init_params = classmethod(on_cpu)
    try:
        yield
    finally:
        regnet.BlockParams.from_init_params = original


def import_torchvision(name: str, weights: str | None = None,
                       image_size: int | None = None) -> ImportedModel:
    """Import torchvision's model ``name``; ``weights``: None, "DEFAULT", a weight enum member
    name such as "IMAGENET1K_V2", or a state_dict file of that model."""
    _check_name(name)
    module = build_on_meta(name)
    size = image_size or input_size(name)
    notes = []
    if name in _FAMILY_KWARGS:
        notes.append("the auxiliary classifiers (used only in training) are left out")
    segmentation = is_segmentation(name)
    if segmentation and not name.startswith("lraspp"):
        notes.append(_AUX_NOTE)
    where = "segmentation." if segmentation else ""
    description = f"torchvision.models.{where}{name}, imported by ConvScope"
    imported = import_module(module, (3, size, size), name, description, notes)
    if segmentation:  # (21 VOC classes, height, width) scores: a segmentation-task file
        imported = replace(imported, spec=replace(imported.spec, task="segmentation"))
    if weights is None:
        return imported
    state, source = _pretrained_state(name, weights)
    tensors = weights_by_layer(imported, state, source)
    notes = list(imported.notes)
    if name in _FAMILY_KWARGS:
        notes.append(_TRANSFORM_NOTE.format(name=name))
    spec = torchvision_labels(name, _weights_member(name, weights), imported.spec, notes,
                              inputs_minus_one_to_one=name in _FAMILY_KWARGS)
    return replace(imported, spec=spec, weights=tensors, notes=tuple(notes))


def _weights_member(name: str, weights: str) -> Any:
    """The weight enum member whose metadata describes ``weights`` (a file: the default's, as
    torchvision's files of one model share its classes and normalisation)."""
    from torchvision.models import get_model_weights

    try:
        enum = get_model_weights(name)
        return enum[weights] if weights in enum.__members__ else enum.DEFAULT
    except (ValueError, KeyError, AttributeError):
        return None


def _pretrained_state(name: str, weights: str) -> tuple[dict[str, torch.Tensor], str]:
    from torchvision.models import get_model_weights

    path = Path(weights)
    if path.suffix in (".pth", ".pt", ".safetensors", ".bin") or path.exists():
        from core.weights import read_weights

        return read_weights(path), str(path)
    enum = get_model_weights(name)
    members = [w.name for w in enum]
    if not members:
        raise ModelError(f"torchvision has no pretrained weights for {name}; import it "
                         "without --weights")
    if weights == "DEFAULT":
        chosen = enum.DEFAULT
    elif weights in members:
        chosen = enum[weights]
    else:
        raise ModelError(f'--weights "{weights}" is neither a file nor one of {name}\'s weights '
                         f"({', '.join(['DEFAULT', *members])})")
    filename = chosen.url.rsplit("/", 1)[-1]
    where = Path(torch.hub.get_dir()) / "checkpoints" / filename
    try:
        state = chosen.get_state_dict(progress=False, check_hash=True, weights_only=True)
    except Exception as exc:  # urllib/OSError offline, RuntimeError for a bad file
        reason = str(getattr(exc, "reason", "") or exc).splitlines()[0][:120]
        raise ModelError(
            f"the {name} weights ({chosen}) are not in torch's cache ({where}) and cannot be "
            f"downloaded ({reason}); copy {filename} there, or import without --weights"
        ) from None
    if name.startswith("densenet"):
        state = _densenet_keys(state)
    return state, f"{chosen} ({where})"


_DENSENET_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def _densenet_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """torchvision's DenseNet files use old names ('norm.1' for 'norm1'), as its loader fixes."""
    out = {}
    for key, value in state.items():
        match = _DENSENET_KEY.match(key)
        out[match.group(1) + match.group(2) if match else key] = value
    return out

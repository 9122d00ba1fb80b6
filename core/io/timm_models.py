"""timm's convolutional networks as ConvScope model files, with their pretrained configuration.

timm (an optional dependency: ``pip install -e ".[timm]"``) builds the model by name with random
weights (``pretrained=False``: no network), or reads a local weights file the user gives
(safetensors, or a torch file read with weights_only=True). timm's fused modules are unfolded
into plain torch layers first (BatchNormAct2d is a BatchNorm2d then its activation, timm's Linear
is nn.Linear), sharing the tensors, and the result goes through the torch.fx importer
(core.io.fx_import). The weights' pretrained configuration travels with the model: class names
for ImageNet-1k heads, the input size and the normalisation mean/std.

Whatever cannot be imported (a transformer or MLP family, an operation with no ConvScope layer,
a builder that fails) raises ImportRefused with one short line.
"""

from __future__ import annotations

import difflib
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from core.io.fx_import import ImportedModel, ImportRefused, import_module, weights_by_layer
from core.io.labels_meta import with_labels
from core.model.errors import ModelError

PREFIX = "timm:"
_INSTALL = 'timm is not installed; install it with: pip install -e ".[timm]" (or pip install timm)'
_MAX_MESSAGE = 300

NOT_CNN_FAMILIES: dict[str, str] = {
    **dict.fromkeys((
        "beit", "cait", "coat", "convit", "crossvit", "davit", "deepseek_vit", "deit", "eva",
        "gcvit", "gemma4_vit", "hiera", "hieradet_sam2", "levit", "maxxvit", "mvitv2",
        "naflexvit", "nest", "pit", "pvt_v2", "qwen3_vit", "swin_transformer",
        "swin_transformer_v2", "swin_transformer_v2_cr", "tiny_vit", "tnt", "twins",
        "visformer", "vision_transformer", "vision_transformer_hybrid",
        "vision_transformer_relpos", "vision_transformer_sam", "vitamin", "volo", "xcit",
        "mobilevit", "efficientformer", "efficientformer_v2", "efficientvit_mit",
        "efficientvit_msra", "edgenext", "swiftformer", "iformer", "lowformer", "shvit",
        "csatv2", "nextvit", "fastvit", "focalnet", "byoanet", "efficientvim",
    ), "a vision transformer (attention over patches or tokens)"),
    **dict.fromkeys(("mlp_mixer", "sequencer", "mambaout", "metaformer"),
                    "an MLP, recurrent or token-mixer network"),
}
"""timm's model modules (families) that are not convolutional networks, with what they are."""


def _timm() -> Any:
    try:
        import timm
    except ImportError:
        raise ImportRefused(_INSTALL) from None
    return timm


def timm_available() -> bool:
    try:
        import timm  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class TimmModel:
    """One of timm's architectures, for the import list."""

    name: str
    family: str
    """timm's module for it (``resnet``, ``efficientnet``, ``vision_transformer``…)."""
    refused: str | None
    """Why it cannot be a ConvScope model, known from its family alone (None: try it)."""


@cache
def timm_models() -> tuple[TimmModel, ...]:
    """Every architecture timm has, each with its family and, for a non-CNN family, why it is
    refused (no model is built: instant)."""
    timm = _timm()
    from timm.models import get_arch_name

    try:
        from timm.models._registry import _model_to_module
    except ImportError:  # a timm without the registry's map: the family is unknown
        _model_to_module = {}
    out = []
    for name in timm.list_models():
        family = _model_to_module.get(get_arch_name(name), "")
        kind = NOT_CNN_FAMILIES.get(family)
        refused = (f"timm's {name} is {kind}, not a convolutional network; ConvScope is for "
                   "convolutional networks") if kind else None
        out.append(TimmModel(name, family, refused))
    return tuple(out)


def cnn_models() -> tuple[TimmModel, ...]:
    """timm's architectures whose family is convolutional (each may still be refused)."""
    return tuple(m for m in timm_models() if m.refused is None)


def _entry(name: str) -> TimmModel:
    known = {m.name: m for m in timm_models()}
    name = name.split(".", 1)[0]  # resnet18.a1_in1k: the architecture and a weights tag
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ImportRefused(f'timm has no model "{name}"{hint}; `convscope import --list timm` '
                            "shows them all")
    entry = known[name]
    if entry.refused:
        raise ImportRefused(entry.refused)
    return entry


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE - 1] + "…"


# -- timm's fused modules as plain torch layers ------------------------------------------------

def _plain_batch_norm(module: nn.BatchNorm2d) -> nn.BatchNorm2d:
    plain = nn.BatchNorm2d(module.num_features, module.eps, module.momentum, module.affine,
                           module.track_running_stats, device=_device(module))
    for key in ("weight", "bias"):
        setattr(plain, key, getattr(module, key))
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        setattr(plain, key, getattr(module, key))
    return plain.train(module.training)


def _device(module: nn.Module) -> torch.device:
    return next((t.device for t in module.parameters()), torch.device("cpu"))


def _unfused(module: nn.Module) -> nn.Module | None:
    """A plain replacement for one of timm's fused modules, sharing its tensors (None: keep)."""
    if (isinstance(module, nn.BatchNorm2d) and type(module) is not nn.BatchNorm2d
            and isinstance(getattr(module, "act", None), nn.Module)):
        parts: OrderedDict[str, nn.Module] = OrderedDict(bn=_plain_batch_norm(module))
        for key in ("drop", "act"):
            part = getattr(module, key, None)
            if isinstance(part, nn.Module) and type(part) is not nn.Identity:
                parts[key] = part
        return nn.Sequential(parts)
    if (isinstance(module, nn.LayerNorm) and type(module) is not nn.LayerNorm
            and type(module).__name__ == "LayerNorm"):  # timm's, over the last dimension
        norm = nn.LayerNorm(module.normalized_shape, module.eps, module.elementwise_affine,
                            device=_device(module))
        norm.weight, norm.bias = module.weight, module.bias
        return norm
    if isinstance(module, nn.Linear) and type(module) is not nn.Linear:
        plain = nn.Linear(module.in_features, module.out_features, module.bias is not None,
                          device=_device(module))
        plain.weight = module.weight
        if module.bias is not None:
            plain.bias = module.bias
        return plain
    return None


def unfuse(model: nn.Module, input_shape: tuple[int, ...] | None = None) -> nn.Module:
    """``model`` with timm's fused modules replaced by plain torch layers (in place); given the
    input shape, TensorFlow's "same" padding (computed from each input's size at run time)
    becomes the fixed ZeroPad2d it is at that size."""
    sizes = _same_padding_inputs(model, input_shape) if input_shape else {}
    for parent in list(model.modules()):
        for key, child in list(parent.named_children()):
            plain = _unfused(child) if child not in sizes else _padded(child, sizes[child])
            if plain is not None:
                setattr(parent, key, plain)
    return model


_SAME = ("Conv2dSame", "Conv2dSameExport", "AvgPool2dSame")


def _same_padding_inputs(model: nn.Module,
                         input_shape: tuple[int, ...]) -> dict[nn.Module, tuple[int, int]]:
    """The (height, width) of every same-padding module's input, from one forward pass."""
    found = [m for m in model.modules() if type(m).__name__ in _SAME]
    if not found:
        return {}
    sizes: dict[nn.Module, tuple[int, int]] = {}

    def record(module: nn.Module, args: tuple[Any, ...]) -> None:
        sizes.setdefault(module, (int(args[0].shape[-2]), int(args[0].shape[-1])))

    hooks = [m.register_forward_pre_hook(record) for m in found]
    try:
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=_device(model)))
    except Exception:  # the model refuses this input: the import says so
        return {}
    finally:
        for hook in hooks:
            hook.remove()
    return sizes


def _pair(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, list | tuple) else (
        int(value), int(value))


def _same_pad(size: tuple[int, int], kernel: Any, stride: Any,
              dilation: Any = 1) -> tuple[int, int, int, int]:
    (kh, kw), (sh, sw), (dh, dw) = _pair(kernel), _pair(stride), _pair(dilation)
    ph = max((math.ceil(size[0] / sh) - 1) * sh + (kh - 1) * dh + 1 - size[0], 0)
    pw = max((math.ceil(size[1] / sw) - 1) * sw + (kw - 1) * dw + 1 - size[1], 0)
    return (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)


def _padded(module: nn.Module, size: tuple[int, int]) -> nn.Module | None:
    """A same-padding conv or average pool at input ``size``: ZeroPad2d, then the plain layer
    without padding, sharing the tensors."""
    parts: OrderedDict[str, nn.Module] = OrderedDict()
    if isinstance(module, nn.Conv2d):
        pad = _same_pad(size, module.kernel_size, module.stride, module.dilation)
        kernel, stride, dilation = (_pair(v) for v in (module.kernel_size, module.stride,
                                                        module.dilation))
        plain: nn.Module = nn.Conv2d(module.in_channels, module.out_channels, kernel, stride, 0,
                                     dilation, module.groups, module.bias is not None,
                                     device=_device(module))
        plain.weight = module.weight
        if module.bias is not None:
            plain.bias = module.bias
    elif isinstance(module, nn.AvgPool2d):
        pad = _same_pad(size, module.kernel_size, module.stride)
        plain = nn.AvgPool2d(module.kernel_size, module.stride, 0, module.ceil_mode,
                             module.count_include_pad)
    else:
        return None
    if any(pad):
        parts["pad"] = nn.ZeroPad2d(pad)
    parts["conv" if isinstance(module, nn.Conv2d) else "pool"] = plain
    return nn.Sequential(parts)


# -- the pretrained configuration --------------------------------------------------------------

def _timm_data() -> Any:
    import importlib

    _timm()
    return importlib.import_module("timm.data")


def data_config(model: nn.Module) -> dict[str, Any]:
    """timm's resolved data configuration of ``model``: input_size, mean, std, interpolation."""
    try:
        return dict(_timm_data().resolve_data_config({}, model=model))
    except Exception:  # a model without a pretrained config: ImageNet's defaults
        return {"input_size": (3, 224, 224), "mean": (0.485, 0.456, 0.406),
                "std": (0.229, 0.224, 0.225)}


def _class_names(model: nn.Module, count: int) -> list[str] | None:
    """ImageNet's class names when the head has that subset's classes (offline: timm ships
    them), each the first of its synonyms ('tench', 'goldfish', …)."""
    try:
        data = _timm_data()
        subset = data.infer_imagenet_subset(model)
        if not subset:
            return None
        names = [str(d).split(",")[0].strip()
                 for d in data.ImageNetInfo(subset).label_descriptions()]
    except Exception:  # a timm without the info, or a head it does not know
        return None
    if len(names) != count:
        return None
    if len(set(names)) != len(names):  # two 'crane's: number the repeats
        seen: dict[str, int] = {}
        unique = []
        for name in names:
            seen[name] = seen.get(name, 0) + 1
            unique.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
        names = unique
    return names


# -- building and importing --------------------------------------------------------------------

_BUILD_LOCK = threading.Lock()


def build_timm(name: str, meta: bool = False, **kwargs: Any) -> nn.Module:
    """timm's ``name`` with random weights (never downloads); on the meta device when ``meta``
    (no memory, no initialisation), falling back to the CPU for builders that compute."""
    timm = _timm()
    _entry(name)
    try:
        if meta:
            try:
                with _BUILD_LOCK, torch.device("meta"):
                    module: nn.Module = timm.create_model(name, pretrained=False, **kwargs)
                return module.eval()
            except Exception:  # a builder that computes with tensors: build on the CPU
                pass
        module = timm.create_model(name, pretrained=False, **kwargs)
        return module.eval()
    except Exception as exc:  # timm's builders raise many types
        raise ImportRefused(_short(f"timm cannot build {name}: {type(exc).__name__}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else ''}")) from None


def convert_timm(model: nn.Module, name: str, image_size: int | None = None,
                 with_weights: bool = False, notes: list[str] | None = None) -> ImportedModel:
    """``model`` (one of timm's, built by it) as a ConvScope model file; with its own weights
    and pretrained configuration when ``with_weights``. ``model`` is changed (unfused)."""
    config = data_config(model)
    channels, height, width = (int(v) for v in config.get("input_size", (3, 224, 224)))
    if image_size is not None:
        height = width = int(image_size)
    notes = list(notes or [])
    unfuse(model.eval(), (channels, height, width))
    try:
        imported = import_module(model, (channels, height, width), name,
                                 f"timm's {name}, imported by ConvScope", notes)
    except ModelError as exc:
        raise ImportRefused(_short(str(exc))) from None
    if not with_weights:
        return imported
    tensors = weights_by_layer(imported, model.state_dict(), f"timm's {name}")
    notes = list(imported.notes)
    count = int(getattr(model, "num_classes", 0) or 0)
    normalization = {"mean": [float(v) for v in config.get("mean", ())],
                     "std": [float(v) for v in config.get("std", ())]}
    spec = with_labels(imported.spec, _class_names(model, count), normalization, notes)
    interpolation = config.get("interpolation")
    if config.get("input_size") and tuple(config["input_size"][1:]) != (height, width):
        notes.append(f"the weights were trained on {config['input_size'][1]}×"
                     f"{config['input_size'][2]} inputs; this model file takes {height}×{width}")
    if interpolation:
        notes.append(f"timm resizes inputs for these weights with {interpolation} "
                     f"interpolation (crop {config.get('crop_pct', 1.0)})")
    return replace(imported, spec=spec, weights=tensors, notes=tuple(notes))


def _state_of(path: Path) -> dict[str, torch.Tensor]:
    from core.weights import read_weights

    state = read_weights(path)
    for wrapper in ("module.", "model."):  # a DataParallel or EMA wrapper's prefix
        if state and all(k.startswith(wrapper) for k in state):
            state = {k[len(wrapper):]: v for k, v in state.items()}
    return state


def _load_into(model: nn.Module, state: dict[str, torch.Tensor], source: str,
               name: str) -> None:
    own = model.state_dict()
    missing = [k for k in own if k not in state and not k.endswith("num_batches_tracked")]
    extra = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or wrong:
        first = wrong[0] if wrong else missing[0]
        what = (f"{first} is {tuple(state[first].shape)} in the file but "
                f"{tuple(own[first].shape)} in the model" if wrong else f"it has no {first}")
        more = len(missing) + len(wrong) - 1
        raise ModelError(f"{source} does not fit timm's {name}: {what}"
                         + (f" (and {more} more)" if more > 0 else ""))
    if extra:
        raise ModelError(f"{source} does not fit timm's {name}: it has {len(extra)} tensors the "
                         f"model does not, such as {extra[0]}")
    with torch.no_grad():
        model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)


def import_timm(name: str, weights: str | Path | None = None,
                image_size: int | None = None) -> ImportedModel:
    """Import timm's model ``name``; ``weights``: None (the architecture only) or a local
    weights file of that model (safetensors or a torch state_dict). The classifier's size
    follows the file, so a fine-tuned head imports too."""
    if weights is None:
        model = build_timm(name, meta=True)
        return convert_timm(model, name, image_size)
    path = _cached(name) if str(weights) == "DEFAULT" else Path(weights).expanduser()
    state = _state_of(path)
    kwargs: dict[str, Any] = {}
    probe = build_timm(name, meta=True)
    classifier = _classifier_key(probe)
    if classifier and classifier in state and state[classifier].dim() >= 1:
        wanted = int(state[classifier].shape[0])
        if wanted != int(getattr(probe, "num_classes", wanted)):
            kwargs["num_classes"] = wanted
    model = build_timm(name, **kwargs)
    _load_into(model, state, str(path), name)
    return convert_timm(model, name, image_size, with_weights=True,
                        notes=[f"weights from {path}"])


def _cached(name: str) -> Path:
    """The file of ``name``'s default pretrained weights in Hugging Face's cache, where timm
    puts what it downloads (read offline: never downloads)."""
    _entry(name)
    from timm.models import get_pretrained_cfg

    cfg = get_pretrained_cfg(name)
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if not hub_id:
        raise ModelError(f"timm has no pretrained weights for {name} on the Hugging Face hub; "
                         "give a weights file of that model, or import without --weights")
    try:
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.constants import HF_HUB_CACHE

        for filename in ("model.safetensors", "pytorch_model.bin"):
            found = try_to_load_from_cache(hub_id, filename)
            if isinstance(found, str):
                return Path(found)
        where = HF_HUB_CACHE
    except ImportError:
        where = "~/.cache/huggingface/hub"
    raise ModelError(f"the {name} weights ({hub_id}) are not in Hugging Face's cache ({where}); "
                     f"where there is a network, `python -c \"import timm; timm.create_model("
                     f"'{name}', pretrained=True)\"` fills it, or give the file with --weights")


def _classifier_key(model: nn.Module) -> str | None:
    cfg = getattr(model, "pretrained_cfg", None) or {}
    head = cfg.get("classifier")
    if isinstance(head, list | tuple):
        head = head[0] if head else None
    return f"{head}.weight" if isinstance(head, str) else None


@dataclass(frozen=True)
class TimmCheck:
    """Whether one of timm's models imports: its parameter count, or why it is refused."""

    name: str
    params: int | None
    refused: str | None


_CHECKED: dict[str, TimmCheck] = {}
_CHECK_LOCK = threading.Lock()


def check_timm(name: str) -> TimmCheck:
    """Whether timm's ``name`` imports, with its parameter count (cached; builds and traces the
    model on the meta device: a fraction of a second to seconds, so call it on a worker)."""
    with _CHECK_LOCK:
        if name in _CHECKED:
            return _CHECKED[name]
    try:
        imported = import_timm(name)
        from core.analysis.model_analysis import analyze_model

        result = TimmCheck(name, analyze_model(imported.spec).total_params, None)
    except ModelError as exc:
        result = TimmCheck(name, None, _short(str(exc)))
    with _CHECK_LOCK:
        _CHECKED[name] = result
    return result

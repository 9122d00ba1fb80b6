"""Importing a torch module: trace it with torch.fx and map every call to a catalog layer.

Modules of torch.nn become the layer of that name with the module's own settings; the functional
forms the common models use (flatten, adaptive pooling, ``+``, ``*``, ``torch.cat``, ``mean`` over
height and width, ``chunk``, ShuffleNet's channel shuffle) become layers too. Anything else is
refused with the list of operations that did not map. The traced shapes check the result: every
layer's output shape in the model file equals the traced module's, or the import fails loudly.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from core.analysis.model_analysis import analyze_model
from core.io.fx_convert import _Converter
from core.io.fx_modules import OWN_MODULES, _is_layer_norm_2d, _is_layer_scale
from core.io.import_groups import stage_groups
from core.model.errors import ModelError
from core.model.spec import (
    ModelSpec,
    check_connections,
    save_model,
)


class ImportRefused(ModelError):
    """The module has operations with no ConvScope layer (listed in the message)."""


@dataclass(frozen=True)
class ImportedModel:
    """A model file made from a module, with the names of its tensors in the module.

    ``key_map`` maps each weight key of the model file (``layer.tensor``) to the module's own
    state_dict key, so the module's weights can be carried over by layer name.
    """

    spec: ModelSpec
    key_map: dict[str, str]
    tensor_shapes: dict[str, tuple[int, ...]]
    """Each weight key's tensor shape, to check a weights file before using it."""
    notes: tuple[str, ...] = ()
    weights: dict[str, torch.Tensor] | None = field(default=None, repr=False)
    reshaped: frozenset[str] = frozenset()
    """Weight keys whose tensor takes trailing 1s (a channels-last Linear as a 1×1 conv)."""


def _wrapped_functions() -> tuple[Callable[..., Any], ...]:
    try:
        from torchvision.models.shufflenetv2 import channel_shuffle
    except ImportError:  # torchvision is a dependency, but the importer works without it
        return ()
    return (channel_shuffle,)


_TRACING = threading.Lock()
"""One torch.fx trace at a time in this process (held on worker threads only, never the UI's)."""


class _Tracer(fx.Tracer):
    """torch.fx's tracer, safe beside other threads.

    While it traces, fx patches ``nn.Module.__call__`` and ``__getattr__`` for the whole
    process, so a module run on another thread at that moment (an import's shape check, a
    training step, an inspection) went through this tracer and failed ("module is not installed
    as a submodule"). Calls from any thread but the tracing one now pass straight through, and
    traces take turns (two at once would each bypass the other's patch).
    """

    def __init__(self) -> None:
        super().__init__(autowrap_functions=_wrapped_functions())
        self._owner = threading.get_ident()

    def trace(self, root: Any, concrete_args: dict[str, Any] | None = None) -> fx.Graph:
        with _TRACING:
            self._owner = threading.get_ident()
            return super().trace(root, concrete_args)

    def call_module(self, m: nn.Module, forward: Callable[..., Any], args: tuple[Any, ...],
                    kwargs: dict[str, Any]) -> Any:
        if threading.get_ident() != self._owner:
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: dict[str, Any]) -> Any:
        if threading.get_ident() != self._owner:
            return attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return (type(m).__name__ in OWN_MODULES or _is_layer_norm_2d(m) or _is_layer_scale(m)
                or super().is_leaf_module(m, module_qualified_name))


def trace_module(module: nn.Module) -> fx.GraphModule:
    """torch.fx trace of ``module``, keeping ConvScope's layers and channel_shuffle whole."""
    tracer = _Tracer()
    try:
        graph = tracer.trace(module)
    except Exception as exc:  # fx raises many types for code it cannot follow
        raise ImportRefused(
            f"torch.fx cannot trace {type(module).__name__}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    graph_module = fx.GraphModule(tracer.root, graph)
    graph_module.graph.eliminate_dead_code()
    return graph_module


def import_module(module: nn.Module, input_shape: tuple[int, ...], name: str,
                  description: str = "", notes: Sequence[str] = ()) -> ImportedModel:
    """Trace ``module`` on a batch of ``input_shape`` and map it to a model file.

    Raises ImportRefused naming every operation that has no ConvScope layer, and ModelError
    when the model file would not reproduce the traced shapes and parameter count.
    """
    module = module.eval()
    graph_module = trace_module(module)
    device = next((t.device for t in module.parameters()), torch.device("cpu"))
    try:
        with torch.no_grad():
            ShapeProp(graph_module).propagate(torch.zeros(1, *input_shape, device=device))
    except Exception as exc:  # the module refuses this input size
        raise ModelError(f"{name} does not run on an input of {tuple(input_shape)}: "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    converter = _Converter(module, graph_module.graph)
    converter.run()
    if converter.unmapped:
        listed = ", ".join(f"{what} ×{n}" if n > 1 else what
                           for what, n in converter.unmapped.items())
        raise ImportRefused(f"cannot import {name}: these operations have no ConvScope layer: "
                            f"{listed}")
    order = [layer.name for layer in converter.layers]
    spec = ModelSpec(name, tuple(input_shape), tuple(converter.layers),
                     description=description,
                     groups=stage_groups(module, graph_module.graph, converter.source, order))
    check_connections(spec)
    _check_against_trace(spec, converter.shapes, module)
    return ImportedModel(spec, converter.key_map, converter.tensor_shapes,
                         tuple(notes) + tuple(converter.notes),
                         reshaped=frozenset(converter.reshaped))


def _check_against_trace(spec: ModelSpec, shapes: dict[str, tuple[int, ...]],
                         module: nn.Module) -> None:
    analysis = analyze_model(spec)
    if analysis.error is not None:
        raise ModelError(f"the imported {spec.name} does not analyse: {analysis.error}")
    for layer in analysis.layers:
        traced = shapes.get(layer.name)
        if traced is not None and traced != layer.output_shape:
            raise ModelError(f"the imported layer {layer.name} gives {layer.output_shape} but the "
                             f"traced module gives {traced}; please report this model")
    own = sum(p.numel() for p in module.parameters())
    if analysis.total_params != own:
        raise ModelError(f"the imported {spec.name} has {analysis.total_params:,} parameters but "
                         f"the module has {own:,}; please report this model")


def weights_by_layer(imported: ImportedModel, state: dict[str, torch.Tensor],
                     source: str) -> dict[str, torch.Tensor]:
    """The module's ``state`` renamed to the model file's layer names; ModelError if it misses
    a tensor or a shape differs (a weights file for another model)."""
    out: dict[str, torch.Tensor] = {}
    missing: list[str] = []
    for ours, theirs in imported.key_map.items():
        tensor = state.get(theirs)
        if tensor is None:
            if not theirs.endswith("num_batches_tracked"):
                missing.append(theirs)
            continue
        wanted = imported.tensor_shapes[ours]
        if ours in imported.reshaped and tensor.dim() < len(wanted) and tuple(
                tensor.shape) == wanted[:tensor.dim()] and tensor.numel() == math.prod(wanted):
            tensor = tensor.reshape(wanted)
        if tuple(tensor.shape) != wanted:
            raise ModelError(f"{source} does not fit {imported.spec.name}: {theirs} is "
                             f"{tuple(tensor.shape)} in the file but {wanted} in the model")
        out[ours] = tensor.detach().cpu().contiguous()
    if missing:
        raise ModelError(f"{source} does not fit {imported.spec.name}: it has no "
                         f"{', '.join(missing[:3])}" + (f" (and {len(missing) - 3} more)"
                                                        if len(missing) > 3 else ""))
    return out


def weights_path(model_path: str | Path) -> Path:
    """Where an imported model's weights go: beside the model file, ``.safetensors``."""
    return Path(model_path).with_suffix(".safetensors")


def save_imported(imported: ImportedModel, path: str | Path) -> list[Path]:
    """Write the model file and, with weights, the ``.safetensors`` beside it (each atomic),
    creating the folder when it does not exist."""
    from safetensors.torch import save_file

    path = Path(path)
    written = []
    try:  # the folder too, as every other -o does
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelError(f"-o {path}: cannot create the folder {path.parent} "
                         f"({exc.strerror or exc})") from None
    if imported.weights is not None:
        target = weights_path(path)
        tmp = target.with_name(target.name + ".tmp")
        save_file(imported.weights, str(tmp), metadata={"format": "convscope.weights/1"})
        tmp.replace(target)
        written.append(target)
    save_model(imported.spec, path)
    return [path, *written]

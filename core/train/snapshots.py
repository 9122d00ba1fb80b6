"""How the filters formed: small per-epoch snapshots kept in a run folder, for replay.

At the start and after every epoch the engine keeps every convolution's filters and their
activations for one fixed probe image (the first validation image), in
``snapshots/epoch-NNNN.safetensors``, for the formation view and ``convscope render timelapse``.
Bounded on disk: at most 64 filters and 32 activation maps per layer, maps pooled to at most
32×32, layers taken in model order while a snapshot stays within SNAPSHOT_BUDGET bytes (the
first always; a VGG's later layers are left out), and at most MAX_SNAPSHOTS files per run
(later epochs thin out the earlier ones): at most SNAPSHOT_BUDGET × MAX_SNAPSHOTS per run.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from core.build import ConvScopeNet
from core.model.catalog import KERNEL_TYPES
from core.model.spec import ModelSpec

SNAPSHOT_BUDGET = 2 * 1024 * 1024
"""Bytes of filters and activations one snapshot may hold (beyond its first layer)."""
MAX_FILTERS, MAX_MAPS, MAX_SIDE = 64, 32, 32
MAX_SNAPSHOTS = 120
_NAME = re.compile(r"epoch-(\d+)\.safetensors$")


def snapshot_layers(spec: ModelSpec) -> list[str]:
    """The layers a snapshot may keep: every convolution, in model order (``take`` stops at
    SNAPSHOT_BUDGET)."""
    return [layer.name for layer in spec.layers if layer.type in KERNEL_TYPES]


def first_filters(model: ConvScopeNet, layer: str) -> torch.Tensor:
    """Up to MAX_FILTERS kernels as (out, in, …), also for a transposed convolution."""
    module = model.layers[layer]
    weight = module.weight
    assert isinstance(weight, torch.Tensor)
    weight = weight.detach()
    if isinstance(module, torch.nn.ConvTranspose2d):
        weight = weight.transpose(0, 1)  # stored (in, out, kh, kw)
    return weight[:MAX_FILTERS].float().cpu().clone()


def take(model: ConvScopeNet, spec: ModelSpec, probe: torch.Tensor) -> dict[str, torch.Tensor]:
    """Filters and probe activations of the convolutions, in model order while within
    SNAPSHOT_BUDGET, small and on the CPU."""
    layers = snapshot_layers(spec)
    out: dict[str, torch.Tensor] = {}
    was_training = model.training
    model.eval()
    with torch.no_grad():
        acts = model.forward_all(probe)
    model.train(was_training)
    used = 0
    for name in layers:
        filters = first_filters(model, name)
        act = acts[name][0, :MAX_MAPS].float()
        if act.dim() == 3 and max(act.shape[1:]) > MAX_SIDE:
            act = F.adaptive_avg_pool2d(act, (min(MAX_SIDE, act.shape[1]),
                                              min(MAX_SIDE, act.shape[2])))
        size = (filters.numel() + act.numel()) * 4
        if used and used + size > SNAPSHOT_BUDGET:
            break
        used += size
        out[f"filters.{name}"] = filters.contiguous()  # a transposed conv's is a view
        out[f"activations.{name}"] = act.cpu().contiguous()
    out["probe"] = probe[0].float().cpu().contiguous()
    return out


def save(run: Path, epoch: int, tensors: dict[str, torch.Tensor]) -> None:
    folder = run / "snapshots"
    folder.mkdir(exist_ok=True)
    save_file(tensors, str(folder / f"epoch-{epoch:04d}.safetensors"))
    files = sorted(folder.glob("epoch-*.safetensors"))
    if len(files) > MAX_SNAPSHOTS:  # thin out: drop every other one of the older half
        for old in files[1:len(files) // 2:2]:
            old.unlink(missing_ok=True)


def load(run: Path) -> list[tuple[int, dict[str, torch.Tensor]]]:
    """All snapshots of a run, by epoch (0 = before training)."""
    out = []
    for path in sorted((run / "snapshots").glob("epoch-*.safetensors")):
        match = _NAME.search(path.name)
        if match:
            out.append((int(match.group(1)), load_file(str(path))))
    return out

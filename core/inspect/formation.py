"""How the first filters formed: a run's per-epoch snapshots as frames that can be compared.

Each snapshot drawn on its own colour scale (its largest weight at full colour) hid the change:
the default model's first filters move by ~20 % of their size in 12 epochs while their
largest weight barely changes, so every epoch looked the same. Here one scale holds for every
epoch of the run (the filters, their activations for the probe image), and a third picture
shows each filter's change since epoch 0, on one scale too: white before training, growing
colour as training moves the weights. The activations' change since epoch 0 is offered the same
way (on their own range they hardly move in a short run).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from core.inspect.inspector import FilterGrid, filter_grid
from core.inspect.mosaic import tile


@dataclass(frozen=True)
class FormationFrame:
    """One epoch of a run, on the run's common scales."""

    epoch: int
    layer: str
    filters: FilterGrid
    """The layer's kernels; ``vmin``/``vmax`` are the same for every frame of the run."""
    change: FilterGrid
    """The kernels minus epoch 0's (all zero at epoch 0), on one scale for every frame."""
    activations: np.ndarray | None
    """The probe image's feature maps tiled into one (H, W) image (None if not 2-D maps)."""
    activation_levels: tuple[float, float]
    """The colour range of ``activations``, the same for every frame."""
    activation_change: np.ndarray | None = None
    """``activations`` minus epoch 0's, tiled the same way (None if not 2-D maps)."""
    change_levels: tuple[float, float] = (-1.0, 1.0)
    """The colour range of ``activation_change``, symmetric, the same for every frame: on the
    maps' own range the default model's first activations move by ~2 % in 2 epochs, unseen."""


def _limit(arrays: list[np.ndarray]) -> float:
    top = max((float(np.abs(a).max()) for a in arrays if a.size), default=0.0)
    return top or 1.0


def snapshot_names(snapshots: list[tuple[int, dict[str, Any]]]) -> list[str]:
    """The layers every snapshot of a run holds."""
    if not snapshots:
        return []
    keys = set.intersection(*(set(tensors) for _epoch, tensors in snapshots))
    return sorted(k.split(".", 1)[1] for k in keys if k.startswith("filters."))


def formation_frames(snapshots: list[tuple[int, dict[str, Any]]],
                     layer: str | None = None) -> list[FormationFrame]:
    """The snapshots (epoch, {"filters.<layer>": (out, in, kh, kw), "activations.<layer>":
    (C, h, w)}) of ``layer`` (default: the first snapshotted layer by name) as frames on
    common scales; [] without any. InspectError for a layer the snapshots do not hold."""
    names = snapshot_names(snapshots)
    if not names:
        return []
    if layer is None:
        layer = names[0]
    elif layer not in names:
        from core.inspect.inspector import InspectError

        raise InspectError(f'the run has no snapshots of "{layer}"; its snapshots hold: '
                           + ", ".join(names))
    weights = [np.asarray(tensors[f"filters.{layer}"], dtype=np.float32)
               for _epoch, tensors in snapshots]
    grids = [filter_grid(w, layer) for w in weights]
    changes = [filter_grid(w - weights[0], layer) for w in weights]
    limit = _limit([g.kernels for g in grids])
    change_limit = _limit([g.kernels for g in changes])
    acts = [np.asarray(tensors.get(f"activations.{layer}", np.zeros(0)), dtype=np.float32)
            for _epoch, tensors in snapshots]
    maps = [a for a in acts if a.ndim == 3 and a.size]
    levels = (min(float(a.min()) for a in maps), max(float(a.max()) for a in maps)) \
        if maps else (0.0, 1.0)
    if levels[1] <= levels[0]:
        levels = (levels[0], levels[0] + 1e-6)
    first = acts[0]
    moved = [a - first if a.ndim == 3 and a.size and a.shape == first.shape else None
             for a in acts]
    moved_limit = _limit([m for m in moved if m is not None])
    return [FormationFrame(epoch, layer, replace(grid, vmin=-limit, vmax=limit),
                           replace(change, vmin=-change_limit, vmax=change_limit),
                           tile(act).image if act.ndim == 3 and act.size else None, levels,
                           tile(move).image if move is not None else None,
                           (-moved_limit, moved_limit))
            for (epoch, _tensors), grid, change, act, move in zip(snapshots, grids, changes,
                                                                  acts, moved, strict=True)]

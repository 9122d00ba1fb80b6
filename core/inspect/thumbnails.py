"""Thumbnails of every layer's output for the model diagram (CNN Explainer's overview, for any
model): a few feature maps per block, or a bar of values for a 1-D output.

``layer_thumbnails`` reduces each layer's output for one input to at most ``MAPS`` small maps
(the most active channels, in channel order, each on its own grey scale) or one column of values;
``block_picture`` tiles a thumbnail into the box of a diagram block as an RGBA image. The
builder's diagram computes both on the inspection worker and only displays the pictures;
``convscope render diagram --weights --image`` draws the same pictures into its blocks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional

from core.analysis.diagram_look import PICTURE_INSET, PICTURE_SCALE, block_size
from core.analysis.model_analysis import ModelAnalysis
from core.model.spec import INPUT

MAPS = 4
"""Feature maps shown per block: the most active channels."""
SIDE = 32
"""Larger maps are averaged down to this side (a block is at most ~200 scene units tall)."""
BAR_CELLS = 64
"""A 1-D output of more units is averaged into this many cells."""
INSET = PICTURE_INSET
SCALE = PICTURE_SCALE
"""Picture pixels per scene unit (sharp at 200 % zoom)."""


@dataclass(frozen=True)
class Thumbnail:
    """One layer's output reduced for drawing: ``values`` in 0..1, (k, h, w) maps or (n,) a
    bar; ``channels`` says which output channels the maps are (empty for a bar)."""

    layer: str
    values: np.ndarray
    channels: tuple[int, ...] = ()

    @property
    def is_bar(self) -> bool:
        return self.values.ndim == 1


def _scaled(values: torch.Tensor) -> np.ndarray:
    """One colour scale over everything shown (a flat output is mid-grey, not noise)."""
    low, high = float(values.min()), float(values.max())
    if not math.isfinite(low) or not math.isfinite(high) or high - low < 1e-12:
        return np.full(tuple(values.shape), 0.5, dtype=np.float32)
    return ((values - low) / (high - low)).float().numpy().astype(np.float32)


def thumbnail(layer: str, output: torch.Tensor | np.ndarray, maps: int = MAPS) -> Thumbnail | None:
    """``output`` (one sample, no batch axis) reduced: (C, H, W) and (C, L) to the ``maps``
    most active channels at most ``SIDE`` on a side; (C, T, H, W) at its middle frame; (n,) to
    a bar of at most ``BAR_CELLS`` cells. None for a scalar."""
    value = torch.as_tensor(output).detach().float().cpu()
    if value.dim() == 4:
        value = value[:, (value.shape[1] - 1) // 2]
    if value.dim() == 2:
        value = value[:, None, :]
    if value.dim() == 1:
        if value.numel() > BAR_CELLS:
            value = functional.adaptive_avg_pool1d(value[None, None], BAR_CELLS)[0, 0]
        return Thumbnail(layer, _scaled(value))
    if value.dim() != 3 or value.numel() == 0:
        return None
    strength = value.abs().mean(dim=(1, 2))
    count = min(maps, value.shape[0])
    chosen = sorted(int(i) for i in strength.topk(count).indices)
    picked = value[chosen]
    height, width = picked.shape[1:]
    if height > SIDE or width > SIDE:
        size = (max(1, round(height * min(1.0, SIDE / height))),
                max(1, round(width * min(1.0, SIDE / width))))
        picked = functional.adaptive_avg_pool2d(picked[None], size)[0]
    scaled = np.stack([_scaled(one) for one in picked])  # each map on its own scale: a weak
    return Thumbnail(layer, scaled, tuple(chosen))       # channel is not a flat grey square


def layer_thumbnails(outputs: Mapping[str, torch.Tensor | np.ndarray],
                     model_input: torch.Tensor | None = None, maps: int = MAPS
                     ) -> dict[str, Thumbnail]:
    """Every layer's thumbnail (layers whose output is a scalar have none); with
    ``model_input`` (C, H, W, as the model takes it), the input block's too."""
    out: dict[str, Thumbnail] = {}
    if model_input is not None:
        shown = thumbnail(INPUT, model_input, maps)
        if shown is not None:
            out[INPUT] = shown
    for name, value in outputs.items():
        shown = thumbnail(name, value, maps)
        if shown is not None:
            out[name] = shown
    return out


def block_picture(shown: Thumbnail, width: float, height: float, scale: float = SCALE
                  ) -> np.ndarray:
    """``shown`` as an RGBA image (h, w, 4) fitted inside a block of ``width`` × ``height``
    scene units (less ``INSET`` on every side) at ``scale`` pixels per unit: the maps tiled in
    the arrangement that makes them largest, one pixel apart; a bar as one column of cells
    along the block's height. Grey levels (the block's colour stays around them)."""
    box_w = max(1, int((width - 2 * INSET) * scale))
    box_h = max(1, int((height - 2 * INSET) * scale))
    if shown.is_bar:
        cells = shown.values
        rows = np.minimum((np.arange(box_h) * len(cells)) // box_h, len(cells) - 1)
        grey = (cells[rows] * 255).astype(np.uint8)[:, None].repeat(box_w, axis=1)
        return _rgba(grey)
    count, map_h, map_w = shown.values.shape
    best: tuple[float, int] = (0.0, 1)
    for columns in range(1, count + 1):
        rows_needed = math.ceil(count / columns)
        zoom = min((box_w - (columns - 1)) / (columns * map_w),
                   (box_h - (rows_needed - 1)) / (rows_needed * map_h))
        if zoom > best[0]:
            best = (zoom, columns)
    zoom, columns = best
    rows_needed = math.ceil(count / columns)
    tile_h, tile_w = max(1, int(map_h * zoom)), max(1, int(map_w * zoom))
    picture = np.zeros((rows_needed * (tile_h + 1) - 1, columns * (tile_w + 1) - 1, 4),
                       dtype=np.uint8)
    ys = np.minimum((np.arange(tile_h) * map_h) // tile_h, map_h - 1)
    xs = np.minimum((np.arange(tile_w) * map_w) // tile_w, map_w - 1)
    for index in range(count):
        row, column = divmod(index, columns)
        grey = (shown.values[index][np.ix_(ys, xs)] * 255).astype(np.uint8)
        top, left = row * (tile_h + 1), column * (tile_w + 1)
        picture[top:top + tile_h, left:left + tile_w] = _rgba(grey)
    return picture


def _rgba(grey: np.ndarray) -> np.ndarray:
    out = np.empty((*grey.shape, 4), dtype=np.uint8)
    out[..., :3] = grey[..., None]
    out[..., 3] = 255
    return out


def diagram_pictures(thumbnails: Mapping[str, Thumbnail], analysis: ModelAnalysis,
                     input_shape: tuple[int, ...], scale: float = SCALE,
                     progress: Callable[[int, int], object] | None = None
                     ) -> dict[str, np.ndarray]:
    """Each block's picture at the size the diagram draws that block (its output shape's);
    ``progress(done, total)`` hears of each (it may raise to stop)."""
    shapes: dict[str, tuple[int, ...] | None] = {INPUT: tuple(input_shape)}
    for info in analysis.layers:
        shapes[info.name] = tuple(info.output_shape)
    pictures = {}
    for done, (name, shown) in enumerate(thumbnails.items()):
        if progress is not None:
            progress(done, len(thumbnails))
        if name in shapes:
            width, height = block_size(shapes[name])
            pictures[name] = block_picture(shown, width, height, scale)
    return pictures


def model_pictures(inspector: object, model_input: object, scale: float = SCALE
                   ) -> dict[str, np.ndarray]:
    """Every block's picture for one prepared input (a core.inspect ModelInput) through a
    core.inspect Inspector: one forward pass, then the thumbnails at the blocks' sizes."""
    from core.inspect.inputs import ModelInput
    from core.inspect.inspector import Inspector

    assert isinstance(inspector, Inspector) and isinstance(model_input, ModelInput)
    outputs = inspector.activations(model_input)
    shown = layer_thumbnails(outputs, model_input.tensor[0])
    return diagram_pictures(shown, inspector.analysis, inspector.spec.input_shape, scale)

"""How the model diagram looks, shared by the builder's window and ``convscope render diagram``:
block sizes from the output shapes, the groups' colours, and the pitches of the layered layout."""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.analysis.graph_layout import Direction, LayeredLayout, rank_extents

GROUP_COLORS = {
    "convolution": "#3b82c4",
    "pooling": "#2a9d8f",
    "normalization": "#8e6cc7",
    "activation": "#e09f3e",
    "regularization": "#9c8f80",
    "shape": "#5f7a8a",
    "merge": "#c8553d",
}
INPUT_COLOR = "#bbbbbb"
PENDING_COLOR = "#cfcfcf"
"""A layer the analysis did not reach (after an error)."""
EDGE_COLOR = "#c8553d"
GAP = 14.0
PICTURE_SCALE = 2.0
"""A block's thumbnail (core.inspect.thumbnails) has this many pixels per scene unit."""
PICTURE_INSET = 2.0
"""Scene units between a block's border and its thumbnail."""
LABEL_ROTATION = 60.0
"""Going right, the labels are turned this far (clockwise, y down) under each block."""


def block_size(shape: tuple[int, ...] | None) -> tuple[float, float]:
    """(width, height) of a block for an output ``shape``: width grows with the channels (log
    scale), height with the feature map's side (square-root scale, so 224 is clearly taller than
    56 and 56 than 7); flat vectors are thin."""
    if not shape:
        return 18.0, 40.0
    channels = shape[0]
    if len(shape) == 1:  # thin, and never taller than a feature map of similar size
        return 10.0, 16.0 + 6.0 * math.log2(1 + shape[0])
    side = math.prod(shape[1:]) ** (1 / (len(shape) - 1))
    return 10.0 + 5.0 * math.log2(1 + channels), 14.0 + 12.0 * math.sqrt(side)


def pitches(layout: LayeredLayout, sizes: Sequence[tuple[float, float]], longest: float,
            line: float, direction: Direction
            ) -> tuple[float | list[float], float, tuple[float, float]]:
    """(rank pitch, lane pitch, origin) for ``graph_layout.place``: blocks of ``sizes`` with two
    label lines of height ``line``, the longest ``longest`` wide. Going right, every rank has
    the same pitch (one block's new size moves no other block) and the turned labels hang under
    the blocks of each lane; going down, each rank is as tall as its tallest block (the input's
    224-high block does not space out 7×7 maps) and the labels stand beside the blocks."""
    widest = max(size[0] for size in sizes)
    tallest = max(size[1] for size in sizes)
    if direction == "right":
        angle = math.radians(LABEL_ROTATION)
        # two turned label lines: neighbouring labels need their centres at least that far
        # apart measured across the text, i.e. 2.3 lines sideways
        rank_pitch: float | list[float] = max(line * 2.3 / math.sin(angle), widest + GAP)
        lane_pitch = tallest + 6 + longest * math.sin(angle) + 2 * line + GAP
        return rank_pitch, lane_pitch, (0.0, -lane_pitch / 2 + tallest / 2 + GAP)
    heights = rank_extents(layout, [size[1] for size in sizes])
    rank_pitch = [max(height, 2 * line) + 3 * GAP for height in heights]
    lane_pitch = widest + 8 + longest + 2 * GAP
    return rank_pitch, lane_pitch, (-lane_pitch / 2 + widest / 2 + GAP, 0.0)

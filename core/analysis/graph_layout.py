"""A layered (Sugiyama) layout of a model's graph: branches side by side, merges after them.

Each layer gets a rank along the flow (its longest path from the input, so every connection goes
forward) and a lane across it; a connection that skips ranks is routed through one point per rank
it crosses (the layout's dummy nodes), so it passes beside the blocks in between rather than
through them. The ranks and lanes come from python-igraph's ``layout_sugiyama`` (C, a few ms for
DenseNet-201; grandalf, pure Python, is far slower — benchmarks/bench_layout.py).

The layout depends only on the graph's structure (who reads whom), not on names or shapes, so
it is cached by structure: an edit that keeps the connections reuses it. ``place`` turns ranks
and lanes into drawing coordinates for blocks of given sizes, flowing down or right; the
builder's diagram and ``convscope render diagram`` both draw from it.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from core.model.spec import INPUT, ModelSpec

Direction = Literal["down", "right"]
DIRECTIONS: tuple[Direction, ...] = ("down", "right")

Structure = tuple[tuple[int, ...], ...]
"""Per layer, the indices of the nodes it reads (0 = the input, i + 1 = layer i)."""


@dataclass(frozen=True)
class LayeredLayout:
    """Ranks and lanes of the graph's nodes (node 0 = the input, node i + 1 = layer i)."""

    ranks: tuple[int, ...]
    lanes: tuple[float, ...]
    """Position across the flow, in lane units (0 is the leftmost / topmost lane)."""
    edges: tuple[tuple[int, int], ...]
    """(source node, target node) for every connection, in layer order."""
    routes: tuple[tuple[tuple[float, float], ...], ...]
    """Per edge, the (rank, lane) points it passes between its ends (empty when adjacent)."""
    exact: bool = True
    """False for the provisional layout drawn before igraph is loaded."""

    @property
    def rank_count(self) -> int:
        return max(self.ranks) + 1 if self.ranks else 0

    @cached_property
    def lane_count(self) -> float:
        """Lanes across, the side channel of long connections included."""
        lanes = [*self.lanes, *(lane for route in self.routes for _rank, lane in route)]
        return max(lanes) + 1 if lanes else 0


def structure_of(spec: ModelSpec) -> Structure:
    """The connections of ``spec`` as node indices (a name that is not an earlier layer, as in
    a half-edited model, is left out: the layout never fails on a broken model)."""
    index = {INPUT: 0}
    out = []
    for position, layer in enumerate(spec.layers):
        if layer.inputs:
            out.append(tuple(index[name] for name in layer.inputs if name in index))
        else:  # the previous layer (node ``position``), or the input
            out.append((position,))
        index[layer.name] = position + 1
    return tuple(out)


def node_names(spec: ModelSpec) -> tuple[str, ...]:
    return (INPUT, *(layer.name for layer in spec.layers))


_CACHE: OrderedDict[Structure, LayeredLayout] = OrderedDict()
_CACHE_SIZE = 8


def ready() -> bool:
    """Whether igraph is loaded (a first import takes ~0.7 s: the window's warm-up does it on
    a worker; while that import runs, the module is there but not ready)."""
    module = sys.modules.get("igraph")
    return module is not None and not getattr(getattr(module, "__spec__", None),
                                              "_initializing", False)


def layered_layout(spec: ModelSpec, import_now: bool = True) -> LayeredLayout:
    """The layout of ``spec``'s graph (cached by structure: renames and parameter edits reuse
    it, and so does the undo of a structural edit). With ``import_now`` False and igraph not
    loaded yet, a provisional layout (``exact`` False): the same ranks, lanes in layer order,
    every connection that skips a rank along the side channel."""
    return structure_layout(structure_of(spec), import_now)


def structure_layout(structure: Structure, import_now: bool = True) -> LayeredLayout:
    """The layout of a graph given as its structure (the diagram's, with groups collapsed):
    as :func:`layered_layout`."""
    if not import_now and not ready() and structure not in _CACHE:
        provisional = _PROVISIONAL.get(structure)
        if provisional is None:
            _PROVISIONAL.clear()
            provisional = _PROVISIONAL[structure] = _provisional(structure)
        return provisional
    return layout_structure(structure)


_PROVISIONAL: dict[Structure, LayeredLayout] = {}


def _ranks_edges(structure: Structure) -> tuple[list[int], list[tuple[int, int]]]:
    ranks = [0]
    edges: list[tuple[int, int]] = []
    for position, sources in enumerate(structure):
        node = position + 1
        ranks.append(1 + max((ranks[s] for s in sources), default=0))
        edges.extend((source, node) for source in sources)
    return ranks, edges


def _provisional(structure: Structure) -> LayeredLayout:
    ranks, edges = _ranks_edges(structure)
    used: dict[int, int] = {}
    lanes = []
    for rank in ranks:
        lanes.append(float(used.get(rank, 0)))
        used[rank] = used.get(rank, 0) + 1
    side = max(lanes, default=0.0) + 1
    routes = tuple(() if ranks[t] - ranks[s] == 1 else
                   ((ranks[s] + 0.5, side), (ranks[t] - 0.5, side)) for s, t in edges)
    return LayeredLayout(tuple(ranks), tuple(lanes), tuple(edges), routes, exact=False)


def layout_structure(structure: Structure) -> LayeredLayout:
    cached = _CACHE.get(structure)
    if cached is not None:
        _CACHE.move_to_end(structure)
        return cached
    layout = _compute(structure)
    _CACHE[structure] = layout
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return layout


SPAN_LIMIT = 12
"""A connection that skips more ranks than this (DenseNet's concatenations of a whole block's
features) is left out of the crossing reduction and routed along a side channel beyond the last
lane: through dummy nodes, DenseNet-201 had 180 000 of them and took 4 s."""


def _compute(structure: Structure) -> LayeredLayout:
    import igraph

    ranks, edges = _ranks_edges(structure)
    short = [i for i, (s, t) in enumerate(edges) if ranks[t] - ranks[s] <= SPAN_LIMIT]
    graph = igraph.Graph(n=len(ranks), edges=[edges[i] for i in short], directed=True)
    layout = graph.layout_sugiyama(layers=ranks, hgap=1, vgap=1)
    coords = layout.coords
    lanes = [float(coords[node][0]) for node in range(len(ranks))]
    found: dict[int, tuple[tuple[float, float], ...]] = {}
    for index, points in zip(short, layout.edge_routing, strict=True):
        found[index] = tuple((float(round(y)), float(x)) for x, y in points)
    shift = min([*lanes, *(lane for route in found.values() for _rank, lane in route)],
                default=0.0)
    lanes = [lane - shift for lane in lanes]
    side = max([*lanes, *(lane - shift for route in found.values() for _r, lane in route)],
               default=0.0) + 1
    routes: list[tuple[tuple[float, float], ...]] = []
    for index, (source, target) in enumerate(edges):
        route = found.get(index)
        if route is None:  # around the blocks, along the side channel
            routes.append(((ranks[source] + 0.5, side), (ranks[target] - 0.5, side)))
        else:
            routes.append(tuple((rank, lane - shift) for rank, lane in route))
    return LayeredLayout(tuple(ranks), tuple(lanes), tuple(edges), tuple(routes))


@dataclass(frozen=True)
class Placement:
    """Drawing coordinates: block centres by node and edge polylines (first point on the
    source block's border, last on the target's)."""

    centers: tuple[tuple[float, float], ...]
    paths: tuple[tuple[tuple[float, float], ...], ...]
    width: float
    height: float


_Skeleton = tuple[tuple[tuple[float, float], ...], tuple[tuple[tuple[float, float], ...], ...],
                  float]
_skeletons: OrderedDict[tuple[object, ...], _Skeleton] = OrderedDict()
_placed: dict[str, tuple[tuple[object, ...], Placement]] = {}


def place(layout: LayeredLayout, sizes: Sequence[tuple[float, float]],
          rank_pitch: float | Sequence[float], lane_pitch: float, direction: Direction,
          origin: tuple[float, float] = (0.0, 0.0)) -> Placement:
    """Centres for blocks of ``sizes`` (width, height per node): rank ``r`` at ``r ×
    rank_pitch`` along the flow (down or right), or after the ranks before it when
    ``rank_pitch`` gives one pitch per rank; lane ``l`` at ``l × lane_pitch`` across it; the
    first rank and lane half a pitch from ``origin``. With uniform pitches one block's new size
    moves no other block. The centres and routes are kept for the next call with the same
    layout and pitches (an edit that changes no block's place costs only the comparisons)."""
    pitch_key = rank_pitch if isinstance(rank_pitch, (int, float)) else tuple(rank_pitch)
    key = (id(layout), pitch_key, lane_pitch, direction, origin)
    skeleton = _skeletons.get(key)
    if skeleton is None or _skeletons_layouts.get(key) is not layout:
        skeleton = _skeleton(layout, rank_pitch, lane_pitch, direction, origin)
        _skeletons[key] = skeleton
        _skeletons_layouts[key] = layout
        if len(_skeletons) > 8:
            old, _ = _skeletons.popitem(last=False)
            _skeletons_layouts.pop(old, None)
    sizes = tuple(sizes)
    last_key = (key, sizes)
    last = _placed.get(direction)
    if last is not None and last[0] == last_key and _skeletons_layouts.get(key) is layout:
        return last[1]
    centers, middles, along = skeleton
    paths = []
    down = direction == "down"
    for (source, target), middle in zip(layout.edges, middles, strict=True):
        (sx, sy), (tx, ty) = centers[source], centers[target]
        if down:
            paths.append(((sx, sy + sizes[source][1] / 2), *middle,
                          (tx, ty - sizes[target][1] / 2)))
        else:
            paths.append(((sx + sizes[source][0] / 2, sy), *middle,
                          (tx - sizes[target][0] / 2, ty)))
    across = layout.lane_count * lane_pitch
    width, height = (across, along) if down else (along, across)
    placement = Placement(centers, tuple(paths), width, height)
    _placed[direction] = (last_key, placement)
    return placement


_skeletons_layouts: dict[tuple[object, ...], LayeredLayout] = {}


def _skeleton(layout: LayeredLayout, rank_pitch: float | Sequence[float], lane_pitch: float,
              direction: Direction, origin: tuple[float, float]) -> _Skeleton:
    ox, oy = origin
    count = layout.rank_count
    pitches = [float(rank_pitch)] * count if isinstance(rank_pitch, (int, float)) \
        else [float(p) for p in rank_pitch]
    starts = [0.0]
    for value in pitches:
        starts.append(starts[-1] + value)

    def point(rank: float, lane: float) -> tuple[float, float]:
        whole = min(max(math.floor(rank), 0), count - 1)
        along = starts[whole] + (rank - whole + 0.5) * pitches[whole]
        across = (lane + 0.5) * lane_pitch
        return (ox + across, oy + along) if direction == "down" else (ox + along, oy + across)

    centers = tuple(point(rank, lane)
                    for rank, lane in zip(layout.ranks, layout.lanes, strict=True))
    middles = tuple(tuple(point(rank, lane) for rank, lane in route) for route in layout.routes)
    return centers, middles, starts[-1]


def rank_extents(layout: LayeredLayout, extents: Sequence[float]) -> list[float]:
    """Per rank, the largest of ``extents`` (one per node) among its blocks."""
    out = [0.0] * layout.rank_count
    for rank, extent in zip(layout.ranks, extents, strict=True):
        out[rank] = max(out[rank], extent)
    return out


def flow_positions(layout: LayeredLayout) -> int:
    """How many distinct positions along the flow the blocks take (the ranks used)."""
    return len(set(layout.ranks))


def longest_path(layout: LayeredLayout) -> int:
    """The number of nodes on the graph's longest path (input included)."""
    return layout.rank_count


def lanes_by_name(spec: ModelSpec, layout: LayeredLayout) -> Mapping[str, tuple[int, float]]:
    """(rank, lane) per node name."""
    return {name: (rank, lane) for name, rank, lane in
            zip(node_names(spec), layout.ranks, layout.lanes, strict=True)}

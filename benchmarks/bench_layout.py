"""The diagram's layered layout: python-igraph's Sugiyama (what ConvScope uses) beside grandalf's.

Target (issue 19): the layout of GoogLeNet, ResNet-152 and DenseNet-201 from their model files in
≤ 100 ms. The models are torchvision's, imported on the meta device (no weights, no download).
Both libraries get the same graph: every connection that skips at most SPAN_LIMIT ranks (longer
ones go along the side channel, core.analysis.graph_layout). The igraph time is the whole
``layered_layout`` call (structure, ranks, crossing reduction, routes), uncached, median of 5;
grandalf's is one ``init_all`` + ``draw`` (its own layering), once. Also printed: the ranks
along the flow beside the layer count (the parallel lanes' effect).
Run: python benchmarks/bench_layout.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("googlenet", "resnet152", "densenet201")


def grandalf_time(nodes: int, edges: list[tuple[int, int]]) -> float:
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

    class View:
        w, h = 20.0, 20.0

    start = time.perf_counter()
    vertices = [Vertex(i) for i in range(nodes)]
    for vertex in vertices:
        vertex.view = View()
    graph = Graph(vertices, [Edge(vertices[a], vertices[b]) for a, b in edges])
    for component in graph.C:
        layout = SugiyamaLayout(component)
        layout.init_all()
        layout.draw()
    return time.perf_counter() - start


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import igraph  # noqa: F401  (imported once, as the app's warm-up does)

    from core.analysis import graph_layout
    from core.io.torchvision_models import import_torchvision

    load = os.getloadavg()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    for name in MODELS:
        spec = import_torchvision(name).spec
        structure = graph_layout.structure_of(spec)
        times = []
        for _ in range(5):
            graph_layout._CACHE.clear()
            start = time.perf_counter()
            layout = graph_layout.layered_layout(spec)
            times.append(time.perf_counter() - start)
        ranks = layout.ranks
        short = [(s, t) for s, t in layout.edges
                 if ranks[t] - ranks[s] <= graph_layout.SPAN_LIMIT]
        slow = grandalf_time(len(structure) + 1, short)
        fast = statistics.median(times)
        print(f"  {name}: {len(spec.layers)} layers, {len(layout.edges)} connections; "
              f"igraph {fast * 1e3:.1f} ms, grandalf {slow * 1e3:.0f} ms "
              f"({slow / fast:.0f}×); {graph_layout.flow_positions(layout)} ranks along the "
              f"flow, {layout.lane_count:g} lanes across")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")


if __name__ == "__main__":
    main()

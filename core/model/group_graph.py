"""Which sets of layers can be a group: the graph checks behind core.model.groups.

A group is drawn as one block that reads what its layers read from outside and is read by
whatever reads one of its layers. That is a sound picture of the model when the block can sit
at one place in the flow, i.e. when the graph with the groups drawn as blocks has no loop:

- every layer on a path from one of the group's layers to another is in the group (the group is
  *convex*): otherwise the path would leave the block and come back into it, a loop;
- two groups never feed each other (A's layer read by B and B's by A): each is convex, but
  drawn together they would form a loop.

Its layers need not be consecutive in the model file: two parallel branches of an Inception
block, listed one after the other or interleaved, make a group. A run of consecutive layers is
always convex (the file lists every layer after those it reads, so a path between two of its
layers stays inside the run), and runs never feed each other, so for them nothing is computed.

The functions work on positions in the model's layer list and ``reads`` (per layer, the
positions of the earlier layers it reads; the input and unknown names left out), without
core.model.spec, which uses them to check a file's groups.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping, Sequence

Reads = Sequence[Sequence[int]]


def reads_of(order: Sequence[str], inputs: Sequence[Sequence[str]]) -> list[tuple[int, ...]]:
    """Per layer, the positions of the earlier layers it reads: its ``inputs`` when it names
    any, else the layer before it. A name that is no earlier layer (a half-edited model) is
    left out, as the diagram's layout leaves it out."""
    position: dict[str, int] = {}
    out: list[tuple[int, ...]] = []
    for index, (name, names) in enumerate(zip(order, inputs, strict=True)):
        if names:
            out.append(tuple(position[n] for n in names if n in position))
        else:
            out.append((index - 1,) if index > 0 else ())
        position[name] = index
    return out


def is_run(members: Collection[int]) -> bool:
    return max(members) - min(members) + 1 == len(members)


def between(members: Collection[int], reads: Reads) -> list[int]:
    """The layers outside ``members`` that lie on a path from one member to another (in model
    order); empty for a convex set, at once for a run."""
    chosen = set(members)
    if is_run(chosen):
        return []
    low, high = min(chosen), max(chosen)
    reached: set[int] = set()  # read (through other layers) from a member
    for index in range(low + 1, high):
        if index not in chosen and any(s in chosen or s in reached for s in reads[index]):
            reached.add(index)
    if not reached:
        return []
    leads: set[int] = set()  # read (through other layers) by a member
    for index in range(high, low, -1):
        if index in chosen or index in leads:
            leads.update(s for s in reads[index] if s > low and s not in chosen)
    return sorted(reached & leads)


def contracted_order(groups: Sequence[Collection[int]], reads: Reads
                     ) -> list[int | tuple[int, ...]] | None:
    """The nodes of the graph with each of ``groups`` (disjoint, convex) drawn as one: a layer
    is its position, a group the tuple of its positions (sorted). In an order where every node
    comes after those it reads, the earliest layer first where there is a choice (so a model
    whose groups are runs keeps its file order); None when the groups feed each other."""
    owner: dict[int, int] = {}
    for number, group in enumerate(groups):
        owner.update(dict.fromkeys(group, number))
    count = len(reads)
    members = [tuple(sorted(group)) for group in groups]

    def node(index: int) -> int:
        return count + owner[index] if index in owner else index

    if all(is_run(group) for group in members):  # the file's order already is one
        out: list[int | tuple[int, ...]] = []
        for index in range(count):
            if index not in owner:
                out.append(index)
            elif members[owner[index]][0] == index:
                out.append(members[owner[index]])
        return out
    waiting: dict[int, int] = {}
    readers: dict[int, set[int]] = {}
    for index in range(count):
        target = node(index)
        waiting.setdefault(target, 0)
        for source in reads[index]:
            origin = node(source)
            if origin != target and target not in readers.setdefault(origin, set()):
                readers[origin].add(target)
                waiting[target] += 1
    first = {n: (members[n - count][0] if n >= count else n) for n in waiting}
    ready = [(first[n], n) for n, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    order: list[int | tuple[int, ...]] = []
    while ready:
        _, current = heapq.heappop(ready)
        order.append(members[current - count] if current >= count else current)
        for reader in readers.get(current, ()):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, (first[reader], reader))
    return order if len(order) == len(waiting) else None


def graph_problem(name: str, members: Collection[int], earlier: Sequence[Collection[int]],
                  reads: Reads, names: Sequence[str],
                  group_names: Mapping[int, str] | None = None) -> str | None:
    """Why layers ``members`` cannot be group ``name`` beside the groups ``earlier`` (their
    positions; ``group_names`` their names by number), or None. ``names``: the layers' names."""
    outside = between(members, reads)
    if outside:
        chosen = set(members)
        layer = outside[0]
        source = next((s for s in _sources_from(layer, chosen, reads)), None)
        target = next((i for i in sorted(chosen) if i > layer and
                       _reaches(layer, i, reads, chosen)), None)
        if source is None or target is None:  # between() found a path: never reached
            return f"{names[layer]} lies between its layers and is not in it"
        return (f"{names[layer]} lies on the way from {names[source]} to {names[target]} and "
                f"is not in it: a group holds every layer on a path between two of its "
                f"layers (add {names[layer]}, or leave out {names[source]} or "
                f"{names[target]})")
    if earlier and contracted_order([*earlier, members], reads) is None:
        loop = _feeding(members, earlier, reads)
        other = (group_names or {}).get(loop, "another group") if loop is not None \
            else "another group"
        return (f"it and {other} would read each other, so drawn as blocks they would "
                "form a loop")
    return None


def _sources_from(layer: int, chosen: set[int], reads: Reads) -> list[int]:
    """The members from which a path reaches ``layer`` (nearest first)."""
    found: set[int] = set()
    stack = [layer]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        for source in reads[current]:
            if source in seen:
                continue
            seen.add(source)
            if source in chosen:
                found.add(source)
            else:
                stack.append(source)
    return sorted(found, reverse=True)


def _reaches(start: int, goal: int, reads: Reads, chosen: set[int]) -> bool:
    """Whether a path leads from ``start`` to member ``goal`` through non-members."""
    inside: set[int] = {start}
    for index in range(start + 1, goal + 1):
        if any(s in inside for s in reads[index]):
            if index == goal:
                return True
            if index not in chosen:
                inside.add(index)
    return False


def _feeding(members: Collection[int], earlier: Sequence[Collection[int]],
             reads: Reads) -> int | None:
    """The number of the first earlier group that, with ``members``, forms a loop."""
    for number, group in enumerate(earlier):
        if contracted_order([group, members], reads) is None:
            return number
    return None

"""Walking distances by networkx on a graph built by hand: the independent reference
that reach, coverage, catchments and access are checked against (a test oracle, so it
lives with the tests and uses none of geoplan's graph code).

Each network edge is split at the snapped positions of the sources and targets; every
source point gets a door node, joined to each of its access positions by that access
row's leg (gated compounds have several rows per point); a target's distance is the
minimum over its access rows of (network distance to the row's position + its leg).
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np

from geoplan.network import Snapped, WalkNetwork

Node = object


def split_graph(
    net: WalkNetwork, sources: Snapped, targets: Snapped
) -> tuple[nx.Graph, dict[tuple[str, int], Node]]:
    """The network with its edges split at the snapped rows, plus a door per source point.

    Returns the graph and the node of each access row, keyed ``("s", k)`` for source
    row ``k`` and ``("t", k)`` for target row ``k``. Doors are ``("door", point)``.
    """
    G = nx.Graph()
    split: dict[int, list[tuple[float, tuple[str, int]]]] = {}
    for tag, s in (("s", sources), ("t", targets)):
        for k in range(s.access_point.size):
            e = int(s.access_edge[k])
            off = min(max(float(s.access_offset_m[k]), 0.0), float(net.length_m[e]))
            split.setdefault(e, []).append((off, (tag, k)))
    at: dict[tuple[str, int], Node] = {}
    for e in range(net.n_edges):
        u, v, length = int(net.u[e]), int(net.v[e]), float(net.length_m[e])
        chain: list[tuple[float, Node]] = [(0.0, u)]
        for off, key in sorted(split.get(e, []), key=lambda t: t[0]):
            node: Node = u if off <= 0.0 else v if off >= length else ("p", e, off)
            at[key] = node
            if node not in (u, v) and chain[-1][1] != node:
                chain.append((off, node))
        chain.append((length, v))
        for (o1, a), (o2, b) in itertools.pairwise(chain):
            if a != b:
                _add_min(G, a, b, o2 - o1)
    for k in range(sources.access_point.size):
        door = ("door", int(sources.access_point[k]))
        _add_min(G, door, at[("s", k)], float(sources.access_leg_m[k]))
    return G, at


def _add_min(G: nx.Graph, a: Node, b: Node, w: float) -> None:
    """Add edge a-b, keeping the shorter weight where one exists (parallel edges)."""
    if G.has_edge(a, b):
        w = min(w, G[a][b]["weight"])
    G.add_edge(a, b, weight=w)


def target_distances(
    dist: dict[Node, float], at: dict[tuple[str, int], Node], targets: Snapped
) -> np.ndarray:
    """Per target point: the minimum over its access rows of ``dist`` to the row + its leg."""
    out = np.full(targets.n, np.inf)
    for k in range(targets.access_point.size):
        p = int(targets.access_point[k])
        d = dist.get(at[("t", k)], math.inf) + float(targets.access_leg_m[k])
        out[p] = min(out[p], d)
    return out


def nearest_distances(net: WalkNetwork, sources: Snapped, targets: Snapped) -> np.ndarray:
    """Per target point: networkx walking distance to the nearest source (inf: none)."""
    G, at = split_graph(net, sources, targets)
    doors = {("door", int(p)) for p in sources.access_point}
    dist = nx.multi_source_dijkstra_path_length(G, doors, weight="weight") if doors else {}
    return target_distances(dist, at, targets)


def pair_distances(
    net: WalkNetwork, sources: Snapped, targets: Snapped, cutoff: float
) -> dict[tuple[int, int], float]:
    """``{(target point, source point): distance}`` for every pair within ``cutoff``."""
    G, at = split_graph(net, sources, targets)
    out: dict[tuple[int, int], float] = {}
    for j in sorted({int(p) for p in sources.access_point}):
        dist = nx.single_source_dijkstra_path_length(G, ("door", j), cutoff=cutoff, weight="weight")
        d = target_distances(dist, at, targets)
        for i in np.flatnonzero(d <= cutoff):
            out[(int(i), j)] = float(d[i])
    return out

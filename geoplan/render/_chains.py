"""Lines merged into chains where exactly two of them meet, with numpy (a city's
arterial roads in tens of milliseconds, where ``shapely.line_merge`` takes seconds).

:func:`merged_chains` joins lines given as flat vertex arrays at every node that
two line ends share and nothing else touches, as GEOS's line merger does; a chain
whose every node has two ends is a closed ring. :func:`merge_lines` does the same
for LineStrings, finding the nodes by their coordinates. Only the city-scale maps
use these; a small map keeps ``shapely.line_merge`` and its exact output.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

__all__ = ["merge_lines", "merged_chains"]


def _ranked(prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, rank)`` of each item of linked lists (no cycles) given by ``prev`` (-1:
    none): the first item of its list and its position in it, by pointer jumping
    (log2 of the longest list steps)."""
    idx = np.arange(prev.size, dtype=np.int64)
    up = np.where(prev >= 0, prev, idx)
    rank = (prev >= 0).astype(np.int64)
    while True:
        above = up[up]
        if np.array_equal(above, up):
            return up, rank
        rank = rank + rank[up]
        up = above


def merged_chains(
    coords: np.ndarray, start: np.ndarray, first: np.ndarray, last: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lines joined at their nodes of degree two: ``(coords, start)`` of the chains.

    Parameters
    ----------
    coords, start
        The vertices of every line, line after line: line ``i`` runs through rows
        ``start[i]:start[i + 1]`` (at least two each).
    first, last
        Node ids (non-negative integers) of each line's first and last vertex.

    Returns
    -------
    tuple of ndarray
        The chains' vertices and offsets, in the same form. A chain runs as the
        line it starts with; each line is in exactly one chain.

    Examples
    --------
    Two lines, node 0 -> 1 and node 2 -> 1, meet at node 1 (degree two):

    >>> xy = np.array([[0, 0], [1, 0], [2, 0], [1, 0.0]])
    >>> c, s = merged_chains(xy, np.array([0, 2, 4]), np.array([0, 2]), np.array([1, 1]))
    >>> c.tolist(), s.tolist()
    ([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]], [0, 3])
    """
    coords = np.asarray(coords, dtype=float)
    start = np.asarray(start, dtype=np.int64)
    n = start.size - 1
    if n <= 0:
        return coords[:0], np.zeros(1, dtype=np.int64)
    # half-edge 2i runs line i forward (first -> last), 2i + 1 backward
    tail = np.empty(2 * n, dtype=np.int64)
    tail[0::2], tail[1::2] = first, last
    head = tail.reshape(n, 2)[:, ::-1].ravel()
    nodes = int(tail.max()) + 1
    degree = np.bincount(tail, minlength=nodes)
    order = np.argsort(tail, kind="stable")
    offset = np.zeros(nodes + 1, dtype=np.int64)
    np.cumsum(degree, out=offset[1:])
    two = np.flatnonzero(degree == 2)
    a, b = order[offset[two]], order[offset[two] + 1]
    other = np.full(2 * n, -1, dtype=np.int64)
    other[a], other[b] = b, a  # the other half-edge leaving the same node of degree 2
    ids = np.arange(2 * n, dtype=np.int64)
    nxt = np.where(degree[head] == 2, other[ids ^ 1], -1)
    prev = np.full(2 * n, -1, dtype=np.int64)
    on = nxt >= 0
    prev[nxt[on]] = ids[on]
    # closed chains (every node of degree 2): cut each way at the least half-edge
    pieces = sp.coo_matrix((np.ones(two.size), (a >> 1, b >> 1)), shape=(n, n))
    _, label = connected_components(pieces, directed=False)
    open_ = np.zeros(int(label.max()) + 1, dtype=bool)
    open_[label[(ids >> 1)[degree[tail] != 2]]] = True
    ring = ~open_[label[ids >> 1]]
    if ring.any():
        members = ids[ring]
        least = np.full(open_.size, 2 * n, dtype=np.int64)
        np.minimum.at(least, label[members >> 1], members)
        cut = least[least < 2 * n]
        prev[cut] = -1
        prev[cut ^ 1] = -1
    up, rank = _ranked(prev)
    # each chain is found both ways: keep the one whose first half-edge is the lesser
    keep = np.flatnonzero(up < up[ids ^ 1])
    keep = keep[np.lexsort((rank[keep], up[keep]))]
    line = keep >> 1
    back = (keep & 1).astype(bool)
    lead = np.ones(keep.size, dtype=bool)
    lead[1:] = up[keep[1:]] != up[keep[:-1]]
    size = start[line + 1] - start[line]
    take = size - (~lead)  # a chain's later lines leave out the vertex they share
    pos = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(take, out=pos[1:])
    step = np.arange(int(pos[-1]), dtype=np.int64) - np.repeat(pos[:-1] - (~lead), take)
    fwd = np.repeat(start[line], take) + step
    rev = np.repeat(start[line + 1] - 1, take) - step
    out = coords[np.where(np.repeat(back, take), rev, fwd)]
    heads = np.flatnonzero(lead)
    out_start = np.append(pos[heads], pos[-1])
    return out, out_start


def merge_lines(lines: np.ndarray) -> np.ndarray:
    """LineStrings (or MultiLineStrings, taken apart) merged where exactly two meet,
    as ``shapely.get_parts(shapely.line_merge(...))`` but found with numpy: nodes are
    line ends with equal coordinates. Missing, empty and one-point lines are left out.

    Examples
    --------
    >>> a, b = shapely.LineString([(0, 0), (1, 0)]), shapely.LineString([(2, 0), (1, 0)])
    >>> [g.wkt for g in merge_lines(np.array([a, b]))]
    ['LINESTRING (0 0, 1 0, 2 0)']
    """
    parts = np.asarray(lines, dtype=object)
    kinds = shapely.get_type_id(parts)
    if not (kinds == 1).all():  # (taking LineStrings apart would copy each)
        parts = shapely.get_parts(parts)
        parts = parts[shapely.get_type_id(parts) == 1]
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(owner, minlength=parts.size)
    start = np.zeros(parts.size + 1, dtype=np.int64)
    np.cumsum(counts, out=start[1:])
    good = counts >= 2
    if not good.all():
        rows = np.repeat(good, counts)
        coords, counts = coords[rows], counts[good]
        start = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
    if counts.size == 0:
        return np.empty(0, dtype=object)
    ends = np.concatenate([coords[start[:-1]], coords[start[1:] - 1]]) + 0.0  # -0.0 as 0.0
    _, node = np.unique(np.ascontiguousarray(ends).view(np.complex128), return_inverse=True)
    node = node.ravel()
    merged, at = merged_chains(coords, start, node[: counts.size], node[counts.size :])
    if at.size == start.size:  # nothing merged: the lines as they were, in their order
        return parts[good]
    return shapely.linestrings(merged, indices=np.repeat(np.arange(at.size - 1), np.diff(at)))

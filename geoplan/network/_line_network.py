"""Lines noded at their end points into a network, the edge geometries kept flat (private).

:func:`network_of_line_ends` is what :func:`geoplan.network.network_from_lines`
(and :func:`~geoplan.network.read_network` for a line layer) builds when lines
meet only at their ends, as they do by default: every line is one edge, so the
network needs the lines' end points sorted once, not the cutting of runs of
vertices at junctions that OSM ways need. Its edges keep their vertices as
:class:`~geoplan.network._lines.EdgeLines`; the LineStrings are made when first
read, and the snapping grid and a saved file take the vertices as they are.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pyproj

from geoplan.network._lines import EdgeLines
from geoplan.network.graph import WalkNetwork

__all__ = ["network_of_line_ends"]


def network_of_line_ends(
    coords: np.ndarray,
    offsets: np.ndarray,
    part_row: np.ndarray,
    highway: np.ndarray | None,
    crs: pyproj.CRS,
) -> WalkNetwork:
    """The network of lines noded at their end points only, edge geometries kept flat.

    ``coords`` (finite, 2-D) holds the vertices of every part, part ``k`` rows
    ``offsets[k]:offsets[k + 1]``; ``part_row`` and ``highway`` (or None) are per
    part. The same network, bit for bit, as the cutting of runs in
    :mod:`geoplan.network.build` makes of these parts with interior vertices unique
    to their part: each part of two or more vertices is one edge, dropped when it is
    a loop of length 0; nodes are the distinct end points in (x, y) order (-0.0 and
    0.0 one point), each at its first occurrence among the edges' starts, then their
    ends. Without the city-sized intermediate arrays of that cutting: the
    geometries stay :class:`EdgeLines` (LineStrings made when first read).
    """
    counts = np.diff(offsets)
    good = counts >= 2  # (parts of fewer vertices are dropped, as runs are)
    if not good.all():
        coords = coords[np.repeat(good, counts)]
        part_row, counts = part_row[good], counts[good]
        highway = None if highway is None else highway[good]
        offsets = np.zeros(counts.size + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
    n = int(counts.size)
    if n == 0:
        return _no_network(crs)
    first, last = offsets[:-1], offsets[1:] - 1
    if bool((counts == 2).all()):  # one segment an edge: its length (0.0 + it, exactly)
        d = coords[last] - coords[first]
        length = np.hypot(d[:, 0], d[:, 1])
    else:  # the segment lengths of every edge summed in order, as for runs
        seg = np.ones(coords.shape[0], dtype=bool)
        seg[last] = False
        seg_v = np.flatnonzero(seg)
        del seg
        d = coords[seg_v + 1] - coords[seg_v]
        del seg_v
        seg_edge = np.repeat(np.arange(n), counts - 1)
        length = np.bincount(seg_edge, weights=np.hypot(d[:, 0], d[:, 1]), minlength=n)
        del seg_edge
    del d
    ends = np.empty((2 * n, 2))  # the starts, then the ends of the edges
    np.take(coords, first, axis=0, out=ends[:n])
    np.take(coords, last, axis=0, out=ends[n:])
    keep = ~((ends[:n] == ends[n:]).all(axis=1) & (length <= 0))
    if not keep.all():
        ends = np.concatenate([ends[:n][keep], ends[n:][keep]])
        coords = coords[np.repeat(keep, counts)]
        counts = counts[keep]
    n_keep = int(counts.size)
    if n_keep == 0:  # only loops of length 0: no node, no edge
        return _no_network(crs)
    # nodes: the distinct end points in (x, y) order (-0.0 and 0.0 one point), each
    # at its first occurrence (the sort is stable)
    xs, ys = ends[:, 0] + 0.0, ends[:, 1] + 0.0
    order = np.lexsort((ys, xs))
    new = np.empty(order.size, dtype=bool)
    new[0] = True
    sx = xs[order]
    np.not_equal(sx[1:], sx[:-1], out=new[1:])
    del sx, xs
    sy = ys[order]
    new[1:] |= sy[1:] != sy[:-1]
    del sy, ys
    node = np.empty(order.size, dtype=np.int64)
    node[order] = np.cumsum(new) - 1
    node_xy = ends[order[new]]
    del order, new, ends
    # the edge vertices as a network file stores them (the snapping grid's dtype)
    idx_t = np.int32 if coords.shape[0] < np.iinfo(np.int32).max else np.int64
    start = np.zeros(n_keep + 1, dtype=idx_t)
    np.cumsum(counts, out=start[1:])
    lines = EdgeLines(
        coords,
        start,
        np.zeros(0, dtype=np.intp),
        np.zeros(0, dtype=np.uint8),
        np.zeros(1, dtype=np.int64),
    )
    return WalkNetwork(
        node_id=np.arange(node_xy.shape[0], dtype=np.int64),
        x=node_xy[:, 0].copy(),
        y=node_xy[:, 1].copy(),
        u=node[:n_keep],
        v=node[n_keep:],
        length_m=length[keep],
        geometry=cast(np.ndarray, lines),  # made into LineStrings when first read
        oneway=np.zeros(n_keep, dtype=bool),
        crs=crs,
        way_id=part_row[keep],
        highway=np.full(n_keep, None, dtype=object) if highway is None else highway[keep],
    )


def _no_network(crs: pyproj.CRS) -> WalkNetwork:
    """The network without nodes or edges."""
    z = np.zeros(0)
    none = np.zeros(0, dtype=object)
    return WalkNetwork(
        node_id=z, x=z, y=z, u=z, v=z, length_m=z, geometry=none, oneway=z, crs=crs, way_id=z,
        highway=none,
    )  # fmt: skip

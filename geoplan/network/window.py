"""The part of a walking network around an area: :func:`network_window`.

An audit run area by area walks, for each area, on the streets near it only. The
window keeps every edge that comes within the box, whole and in the network's
order, so that the walking distances of the area's buildings are the whole
network's (the argument is in :func:`network_window`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np
import shapely

from geoplan._errors import InputError
from geoplan.network._lines import EdgeLines
from geoplan.network.graph import WalkNetwork

__all__ = ["edge_bounds", "network_window"]


def network_window(
    network: WalkNetwork, box: Sequence[float], *, halo_m: float = 0.0
) -> WalkNetwork:
    """The network's edges that come within ``box`` grown by ``halo_m``, as a network.

    Parameters
    ----------
    network
        The whole walking network (a loaded ``.npz`` stays memory-mapped: only the
        window's arrays are copied, and no edge geometry of the whole is built).
    box
        ``(minx, miny, maxx, maxy)`` in the network's CRS: an area's bounds.
    halo_m
        Metres added on every side of ``box`` (>= 0).

    Returns
    -------
    WalkNetwork
        Every edge whose bounding box meets the grown box (so every edge whose
        geometry does, and a few whose corners only do), whole, with its length,
        geometry, direction and source ids, in the network's edge order; the nodes
        those edges use, in the network's node order, renumbered from 0. The
        connected components are the whole network's (labels and sizes), so a
        point's ``component`` and ``component_nodes`` and the island warnings of
        :func:`geoplan.network.snap_points` are what the whole network gives, not
        those of the pieces a window cuts.

    Notes
    -----
    **Why distances in the window are the whole network's.** Take a point ``p``
    inside ``box`` and a walk from it that is at most ``L`` long: the access leg to
    the street, the streets walked, the leg to the destination. Every point of that
    walk lies within ``L`` of ``p`` in a straight line, because a straight line is
    never longer than a walk between the same ends (Euclidean distance <= network
    distance). So with ``halo_m >= L`` every edge the walk uses meets the grown box
    and is in the window, whole; the window is a subgraph of the network, so it
    offers no shorter walk either. A shortest walk of at most ``L`` therefore has
    the same length in both, summed over the same edges of the same lengths, and a
    Dijkstra pass bounded by ``L`` gives the same number in floating point too (a
    node's distance is the minimum over its in-neighbours on shortest walks, all of
    which are in the window).

    A destination (a facility) whose walk counts lies within ``L`` of ``p``; it
    must snap to the same edge as in the whole network, and its nearest edge lies
    within ``max_snap_m`` of it (farther, it is unreachable in both). So an area's
    window is its bounds grown by the walking limit + ``max_snap_m`` (+ a margin
    against rounding), and the facilities read for it those within the limit of
    the area. Edges keep the network's relative order, so among equally near edges
    the lowest index wins in both (:func:`geoplan.network.nearest_edges` breaks ties
    so) and a point snaps to the same edge at the same offset.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)]),
    ...     LineString([(5000, 0), (5100, 0)])], crs=32650))
    >>> win = network_window(net, (0, -10, 50, 10), halo_m=60)
    >>> win.n_edges, win.node_id.tolist() == net.node_id[:3].tolist()
    (2, True)
    >>> win.components()[1].tolist()  # each node's component size: the whole network's
    [3, 3, 3]
    """
    if not (np.isfinite(halo_m) and halo_m >= 0):
        raise InputError("halo_m must be a finite number >= 0", column="halo_m")
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise InputError(f"box must be (minx, miny, maxx, maxy), not {box!r}") from exc
    if not all(np.isfinite([x0, y0, x1, y1])) or x0 > x1 or y0 > y1:
        raise InputError(f"box must be finite (minx, miny, maxx, maxy), not {box!r}")
    x0, y0, x1, y1 = x0 - halo_m, y0 - halo_m, x1 + halo_m, y1 + halo_m
    b = edge_bounds(network)
    sel = np.flatnonzero((b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0))
    return _subnetwork(network, sel)


def edge_bounds(network: WalkNetwork) -> np.ndarray:
    """``(n_edges, 4)`` minx, miny, maxx, maxy of each edge's geometry and end nodes.

    A loaded network answers from its stored vertices (no shapely geometry is
    built); an edge without geometry has the box of its two nodes.
    """
    u, v = network.u, network.v
    nx, ny = network.x, network.y
    out = np.column_stack(
        [
            np.minimum(nx[u], nx[v]),
            np.minimum(ny[u], ny[v]),
            np.maximum(nx[u], nx[v]),
            np.maximum(ny[u], ny[v]),
        ]
    )
    lines = network.__dict__["_geometry"]
    if isinstance(lines, EdgeLines):
        coords, start = np.asarray(lines.coords), np.asarray(lines.start, dtype=np.int64)
        counts = np.diff(start)
        has = np.flatnonzero(counts > 0)
        if has.size:  # each edge's stored vertices (non-finite ones only widen the box)
            at = start[has]
            for k, (col, fn) in enumerate(((0, np.fmin), (1, np.fmin), (0, np.fmax), (1, np.fmax))):
                out[has, k] = fn(out[has, k], fn.reduceat(coords[:, col], at))
        odd = np.asarray(lines.wkb_edge, dtype=np.int64)
        if odd.size:  # edges kept as WKB: from their geometry
            _widen(out, odd, shapely.bounds(network.geometry[odd]))
    elif network.n_edges:
        _widen(out, np.arange(network.n_edges), shapely.bounds(network.geometry))
    return out


def _widen(out: np.ndarray, rows: np.ndarray, gb: np.ndarray) -> None:
    """Grow ``out[rows]`` by the geometry boxes ``gb`` (NaN for missing ones)."""
    ok = np.isfinite(gb).all(axis=1)
    r = rows[ok]
    out[r, 0] = np.minimum(out[r, 0], gb[ok, 0])
    out[r, 1] = np.minimum(out[r, 1], gb[ok, 1])
    out[r, 2] = np.maximum(out[r, 2], gb[ok, 2])
    out[r, 3] = np.maximum(out[r, 3], gb[ok, 3])


def _subnetwork(net: WalkNetwork, sel: np.ndarray) -> WalkNetwork:
    """The edges ``sel`` (sorted positions) and their nodes, renumbered in order."""
    u, v = net.u[sel], net.v[sel]
    keep = np.zeros(net.n_nodes, dtype=bool)
    keep[u] = True
    keep[v] = True
    nodes = np.flatnonzero(keep)
    new = np.full(net.n_nodes, -1, dtype=np.int64)
    new[nodes] = np.arange(nodes.size)
    lines = net.__dict__["_geometry"]
    geometry = _lines_subset(lines, sel) if isinstance(lines, EdgeLines) else lines[sel]
    win = WalkNetwork(
        node_id=net.node_id[nodes],
        x=net.x[nodes],
        y=net.y[nodes],
        u=new[u],
        v=new[v],
        length_m=net.length_m[sel],
        geometry=cast(np.ndarray, geometry),
        oneway=net.oneway[sel],
        crs=net.crs,
        way_id=net.way_id[sel],
        highway=net.highway[sel],
    )
    label, size = net._components  # the whole network's: stored in a loaded one
    # what the cached property would hold (as load_network sets it)
    win.__dict__["_components"] = (
        np.asarray(label)[nodes].copy(),
        np.asarray(size)[nodes].copy(),
    )
    return win


def _lines_subset(lines: EdgeLines, sel: np.ndarray) -> EdgeLines:
    """The flat edge lines of the edges ``sel``, in order."""
    start = np.asarray(lines.start, dtype=np.int64)
    counts = np.diff(start)[sel]
    new_start = np.zeros(sel.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new_start[1:])
    rows = np.repeat(start[sel] - new_start[:-1], counts) + np.arange(int(new_start[-1]))
    coords = np.ascontiguousarray(np.asarray(lines.coords)[rows], dtype=np.float64)
    wkb_edge = np.asarray(lines.wkb_edge, dtype=np.int64)
    pos = np.searchsorted(sel, wkb_edge)
    inside = (pos < sel.size) & (sel[np.minimum(pos, max(sel.size - 1, 0))] == wkb_edge)
    if sel.size == 0:
        inside = np.zeros(wkb_edge.size, dtype=bool)
    off = np.asarray(lines.wkb_offsets, dtype=np.int64)
    blob = np.asarray(lines.wkb)
    k = np.flatnonzero(inside)
    lens = off[k + 1] - off[k]
    new_off = np.zeros(k.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_off[1:])
    take = np.repeat(off[k] - new_off[:-1], lens) + np.arange(int(new_off[-1]))
    out = EdgeLines(
        coords.reshape(-1, 2),
        new_start,
        pos[inside].astype(np.int64),
        blob[take].astype(np.uint8, copy=False),
        new_off,
    )
    out.check()
    return out

"""The reach matrix: every origin to every source within a limit, in spatial windows.

Each source runs its own single-source Dijkstra pass, confined to the subgraph of
a window around it (exact: see the note above :func:`_chord_factor`); a network
whose edges can be shorter than their chords without bound is run by
whole-graph passes (:func:`_reach_global`) instead. Distances include both access
legs, as in :mod:`geoplan.reach.nearest`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geoplan.network import Snapped, WalkNetwork
from geoplan.reach._augment import CELL_BUDGET, Augmented, augment, locate, row_dist
from geoplan.reach._inputs import check_limit

__all__ = ["reach_matrix"]


def reach_matrix(
    network: WalkNetwork,
    origins_snapped: Snapped,
    sources_snapped: Snapped,
    *,
    limit_m: float,
) -> sp.csr_matrix:
    """Distances from every origin to every source within a limit, as a sparse matrix.

    Returns a CSR matrix of shape ``(n_sources, n_origins)``: entry ``(s, o)`` is
    the walking distance (metres, both access legs included) from origin ``o`` to
    source ``s`` when it is within ``limit_m``. Entries are **stored even when
    0.0** (an origin at the source): test membership with the sparsity pattern,
    not with ``!= 0``.

    The work is confined to **spatial windows** (exact, not an approximation).
    A walk is never shorter than the straight line between its ends when every
    edge is at least as long as the chord between its nodes; with ``k`` the
    largest chord/length ratio of the network (1 for polylines, a little over 1
    when lengths come from another projection), a point within ``limit_m`` of a
    source lies within ``k * limit_m`` of one of the source's access positions.
    Sources are binned into square cells of side ``k * limit_m``; each cell's
    sources run one single-source Dijkstra pass each on the subgraph of the
    nodes in the cell's window (the cell grown by ``k * limit_m``, roughly 3 x 3
    cells) and evaluate only the origins in that window. The cost is then about
    ``n_sources x window size`` instead of ``n_sources x n_nodes``. A network
    with a zero-length edge between two distinct positions (``k`` infinite) is
    run by whole-graph passes instead.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines, snap_points
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650))
    >>> o = snap_points(net, gpd.GeoSeries([Point(0, 0), Point(90, 0)], crs=32650),
    ...                 max_snap_m=50)
    >>> s = snap_points(net, gpd.GeoSeries([Point(20, 0)], crs=32650), max_snap_m=50)
    >>> reach_matrix(net, o, s, limit_m=50).toarray().tolist()
    [[20.0, 0.0]]
    """
    check_limit(limit_m)
    aug = augment(network, sources_snapped)
    o = origins_snapped
    piece, off = locate(aug, network, o)
    n_s, n_o = sources_snapped.n, o.n
    if piece.size == 0 or not (aug.doors >= 0).any():
        return sp.csr_matrix((n_s, n_o))
    k = _chord_factor(network)
    if not np.isfinite(k):
        return _reach_global(aug, o, piece, off, n_s, limit_m)
    return _reach_windowed(aug, network, o, sources_snapped, piece, off, k, limit_m)


def _reach_global(
    aug: Augmented,
    o: Snapped,
    piece: np.ndarray,
    off: np.ndarray,
    n_s: int,
    limit_m: float,
) -> sp.csr_matrix:
    """Chunks of single-source Dijkstra passes over the whole augmented graph."""
    # access rows are sorted by point: group starts for reduceat
    ap = o.access_point
    starts = np.flatnonzero(np.r_[True, ap[1:] != ap[:-1]])
    pts = ap[starts]
    src_pos = np.flatnonzero(aug.doors >= 0)
    chunk = max(1, CELL_BUDGET // max(aug.n_nodes, 4 * piece.size, 1))
    ri: list[np.ndarray] = []
    ci: list[np.ndarray] = []
    vv: list[np.ndarray] = []
    for k in range(0, src_pos.size, chunk):
        pos = src_pos[k : k + chunk]
        d = dijkstra(aug.csr_rev, directed=True, indices=aug.doors[pos], limit=limit_m)
        d = np.atleast_2d(d)
        vals = row_dist(aug, piece, off, d)[0] + o.access_leg_m[None, :]
        best = np.minimum.reduceat(vals, starts, axis=1)
        r, c = np.nonzero(best <= limit_m)
        ri.append(pos[r])
        ci.append(pts[c])
        vv.append(best[r, c])
    return sp.csr_matrix(
        (np.concatenate(vv), (np.concatenate(ri), np.concatenate(ci))), shape=(n_s, o.n)
    )


# ----------------------------------------------------------------- spatial windows
#
# Why the windows are exact. Give every node of the augmented graph (but the
# doors) a position: a network node its x/y; a point at offset ``t`` of an edge
# u -> v of length L the point at t / L of the way along the chord from u to v
# (the same rule for virtual nodes, source access positions and origin access
# rows). Let k be the largest chord / length ratio over the edges. Two positions
# t1, t2 on one edge are then |t1 - t2| * chord / L <= k * |t1 - t2| apart, so
# every edge and every piece of a split edge joins nodes at most k times its
# weight apart, and by the triangle inequality any walk of length d between two
# non-door nodes joins positions at most k * d apart.
# A door has outgoing edges only (in the reversed graph), to its source's access
# positions a_j with weights leg_j, so a shortest path from source s's door to a
# node t within the limit starts door -> a_j and then
# |pos(a_j) - pos(t)| <= k * (d(t) - leg_j) <= k * (limit - leg_j); the same holds
# for every node of that path (its prefixes are no longer). An origin access row
# at offset ``t`` of a piece with ends e reaches s with value
# d(e) + |t - t_e| + leg_row <= limit only if
# |pos(a_j) - pos(row)| <= k * (limit - leg_j - leg_row). Hence, with
# R_s = the bounding box of the discs (pos(a_j), k * (limit - leg_j)) over s's
# access rows with leg_j <= limit: the subgraph induced by the nodes positioned
# in R_s (plus s's door) holds every shortest path of length <= limit from s,
# so Dijkstra on it gives the same distances within the limit (and nothing
# beyond it: a subgraph never shortens a path), and the origin rows outside R_s
# all exceed the limit. A piece end outside the window counts as unreached,
# which it is. Windows are padded against rounding of the positions.

# relative padding of the windows against rounding in the positions
_WINDOW_PAD = 1e-7
# at most this many grid cells along one axis (keeps cell keys small)
_MAX_CELLS_PER_AXIS = 1 << 20


def _chord_factor(net: WalkNetwork) -> float:
    """Largest chord / length ratio over the edges (inf for a zero-length edge with a chord)."""
    if net.n_edges == 0:
        return 0.0
    u, v = net.u, net.v
    chord = np.hypot(net.x[v] - net.x[u], net.y[v] - net.y[u])
    length = net.length_m
    if not np.isfinite(chord).all() or bool(((chord > 0) & (length <= 0)).any()):
        return float("inf")
    pos = length > 0
    return float((chord[pos] / length[pos]).max()) if pos.any() else 0.0


def _edge_position(
    net: WalkNetwork, edge: np.ndarray, off: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Position along the chord of ``edge`` at ``off`` metres from its u node."""
    length = net.length_m[edge]
    f = np.divide(off, length, out=np.zeros(edge.size), where=length > 0)
    xu, yu = net.x[net.u[edge]], net.y[net.u[edge]]
    xv, yv = net.x[net.v[edge]], net.y[net.v[edge]]
    return xu + f * (xv - xu), yu + f * (yv - yu)


@dataclass(frozen=True, eq=False)
class _Grid:
    """Items binned into square cells: one argsort, then range look-ups per window."""

    x0: float
    y0: float
    side: float
    nx: int
    ny: int
    keys: np.ndarray  # sorted cell keys
    items: np.ndarray  # item ids in key order
    x: np.ndarray  # positions, per item id
    y: np.ndarray

    def cell(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ix = np.clip(np.floor((x - self.x0) / self.side), 0, self.nx - 1).astype(np.int64)
        iy = np.clip(np.floor((y - self.y0) / self.side), 0, self.ny - 1).astype(np.int64)
        return ix, iy

    def binned(self, x: np.ndarray, y: np.ndarray, items: np.ndarray) -> _Grid:
        """Another grid with the same cells over other items."""
        ix, iy = self.cell(x, y)
        keys = iy * self.nx + ix
        order = np.argsort(keys, kind="stable")
        xs = np.zeros(int(items.max()) + 1 if items.size else 0)
        ys = np.zeros_like(xs)
        xs[items], ys[items] = x, y
        return _Grid(
            self.x0, self.y0, self.side, self.nx, self.ny, keys[order], items[order], xs, ys
        )

    def query(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """Ids of the items positioned inside ``box`` (xmin, ymin, xmax, ymax)."""
        ix0, iy0 = self.cell(np.array([box[0]]), np.array([box[1]]))
        ix1, iy1 = self.cell(np.array([box[2]]), np.array([box[3]]))
        rows = np.arange(iy0[0], iy1[0] + 1, dtype=np.int64) * self.nx
        lo = np.searchsorted(self.keys, rows + ix0[0], side="left")
        hi = np.searchsorted(self.keys, rows + ix1[0], side="right")
        cnt = hi - lo
        if cnt.sum() == 0:
            return np.zeros(0, dtype=np.int64)
        at = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
        got = self.items[at]
        x, y = self.x[got], self.y[got]
        inside = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
        return got[inside]


def _make_grid(x: np.ndarray, y: np.ndarray, side: float) -> _Grid:
    """Cells of at least ``side`` over the extent of ``x``/``y``, holding items 0..n-1."""
    x0, x1 = float(x.min()), float(x.max())
    y0, y1 = float(y.min()), float(y.max())
    side = max(side, (x1 - x0) / _MAX_CELLS_PER_AXIS, (y1 - y0) / _MAX_CELLS_PER_AXIS)
    nx = int((x1 - x0) // side) + 1
    ny = int((y1 - y0) // side) + 1
    empty = np.zeros(0, dtype=np.int64)
    grid = _Grid(x0, y0, side, nx, ny, empty, empty, np.zeros(0), np.zeros(0))
    return grid.binned(x, y, np.arange(x.size, dtype=np.int64))


def _subgraph(csr: sp.csr_matrix, nodes: np.ndarray, loc: np.ndarray) -> sp.csr_matrix:
    """The subgraph induced by ``nodes`` (local ids from ``loc``) plus one isolated node.

    ``loc`` maps graph nodes to local ids (-1: outside); the extra last node is
    the stand-in for every node outside, and is never reached.
    """
    m = nodes.size
    starts = csr.indptr[nodes]
    cnt = csr.indptr[nodes + 1] - starts
    at = np.repeat(starts - (np.cumsum(cnt) - cnt), cnt) + np.arange(int(cnt.sum()))
    cols = loc[csr.indices[at]]
    keep = cols >= 0
    row = np.repeat(np.arange(m), cnt)[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(row, minlength=m + 1))])
    return sp.csr_matrix((csr.data[at][keep], cols[keep], indptr), shape=(m + 1, m + 1))


def _reach_windowed(
    aug: Augmented,
    net: WalkNetwork,
    o: Snapped,
    s: Snapped,
    piece: np.ndarray,
    off: np.ndarray,
    k: float,
    limit_m: float,
) -> sp.csr_matrix:
    """:func:`reach_matrix` cell by cell on window subgraphs (see the note above)."""
    n_base = net.n_nodes
    n_pos = n_base + aug.split_edge.size  # positioned nodes: base, then virtual
    vx, vy = _edge_position(net, aug.split_edge, aug.split_off)
    px = np.concatenate([net.x, vx])
    py = np.concatenate([net.y, vy])
    # source access rows within the limit, and the radius left after their leg
    sr = np.flatnonzero((aug.doors[s.access_point] >= 0) & (s.access_leg_m <= limit_m))
    # origin rows within the limit
    orow = np.flatnonzero(o.access_leg_m <= limit_m)
    n_s, n_o = s.n, o.n
    if sr.size == 0 or orow.size == 0:
        return sp.csr_matrix((n_s, n_o))
    se = s.access_edge[sr].astype(np.int64)
    sx, sy = _edge_position(net, se, np.clip(s.access_offset_m[sr], 0.0, net.length_m[se]))
    ox, oy = _edge_position(net, o.access_edge[orow].astype(np.int64), off[orow])
    scale = max(float(np.abs(a).max()) for a in (px, py, sx, sy, ox, oy))
    pad = _WINDOW_PAD * (k * limit_m + scale + 1.0)
    if not (np.isfinite(scale) and np.isfinite(pad)):
        return _reach_global(aug, o, piece, off, n_s, limit_m)
    side = k * limit_m + 2.0 * pad
    rad = k * (limit_m - s.access_leg_m[sr]) + pad
    # per source: bounding box of its discs
    sp_ = s.access_point[sr]
    bx0 = np.full(n_s, np.inf)
    by0 = np.full(n_s, np.inf)
    bx1 = np.full(n_s, -np.inf)
    by1 = np.full(n_s, -np.inf)
    np.minimum.at(bx0, sp_, sx - rad)
    np.minimum.at(by0, sp_, sy - rad)
    np.maximum.at(bx1, sp_, sx + rad)
    np.maximum.at(by1, sp_, sy + rad)
    src = np.unique(sp_)
    allx = np.concatenate([px, sx, ox])
    ally = np.concatenate([py, sy, oy])
    grid = _make_grid(allx, ally, side)
    nodes = grid.binned(px, py, np.arange(n_pos, dtype=np.int64))
    rows = grid.binned(ox, oy, orow)
    # group sources by the cell of their box centre; boxes wider than a cell
    # (gated sources with far-apart gates) go in groups of their own kind
    cx, cy = grid.cell((bx0[src] + bx1[src]) / 2, (by0[src] + by1[src]) / 2)
    wide = np.maximum(bx1[src] - bx0[src], by1[src] - by0[src]) > 2.0 * grid.side
    key = (cy * grid.nx + cx) * 2 + wide
    order = np.argsort(key, kind="stable")
    src, key = src[order], key[order]
    bounds = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    loc = np.full(aug.n_nodes, -1, dtype=np.int64)
    ap = o.access_point
    ri: list[np.ndarray] = []
    ci: list[np.ndarray] = []
    vv: list[np.ndarray] = []
    for g in range(bounds.size - 1):
        grp = src[bounds[g] : bounds[g + 1]]
        box = (
            float(bx0[grp].min()),
            float(by0[grp].min()),
            float(bx1[grp].max()),
            float(by1[grp].max()),
        )
        r = np.sort(rows.query(box))
        if r.size == 0:
            continue
        sub_nodes = np.concatenate([nodes.query(box), aug.doors[grp]])
        m = sub_nodes.size
        loc[sub_nodes] = np.arange(m)
        graph = _subgraph(aug.csr_rev, sub_nodes, loc)
        pc = piece[r]
        la = loc[aug.seg_a[pc]]
        lb = loc[aug.seg_b[pc]]
        la[la < 0] = m
        lb[lb < 0] = m
        loc[sub_nodes] = -1
        # the same arithmetic as row_dist, on local ids
        to_a = np.where(aug.seg_oneway[pc], np.inf, off[r] - aug.seg_start[pc])
        to_b = aug.seg_end[pc] - off[r]
        leg = o.access_leg_m[r]
        rp = ap[r]
        starts = np.flatnonzero(np.r_[True, rp[1:] != rp[:-1]])
        pts = rp[starts]
        chunk = max(1, CELL_BUDGET // max(m + 1, 4 * r.size))
        doors_local = np.arange(m - grp.size, m)
        for c0 in range(0, grp.size, chunk):
            d = np.atleast_2d(
                dijkstra(graph, directed=True, indices=doors_local[c0 : c0 + chunk], limit=limit_m)
            )
            via_a = d[:, la] + to_a
            via_b = d[:, lb] + to_b
            vals = np.where(via_b < via_a, via_b, via_a) + leg
            best = np.minimum.reduceat(vals, starts, axis=1)
            i, j = np.nonzero(best <= limit_m)
            ri.append(grp[c0 + i])
            ci.append(pts[j])
            vv.append(best[i, j])
    if not vv:
        return sp.csr_matrix((n_s, n_o))
    return sp.csr_matrix(
        (np.concatenate(vv), (np.concatenate(ri), np.concatenate(ci))), shape=(n_s, n_o)
    )

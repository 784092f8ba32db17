"""Walking reach: bounded multi-source shortest paths and service areas.

Snapped points (:func:`geoplan.network.snap_points`) become **virtual nodes**:
every edge that carries snapped points is split at them (several points on one
edge are sorted by offset and chained), so distances between two points on the
same edge are exact. Each source (facility) gets a "door" node joined to its
access positions by its access legs, so that one scipy
``dijkstra(indices=doors, min_only=True, limit=...)`` pass gives, for every node,
the distance to the nearest source and which source it is.

Distances are measured **from each origin to a facility** (the pass runs on the
reversed graph, which equals the walking graph unless ``oneway:foot`` ways exist)
and include both access legs: origin -> street (``snap_m``, or through a
compound gate) and street -> facility.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from geoplan._augment import _augment, _Augmented, _locate, _row_dist
from geoplan._errors import DataQualityWarning, InputError
from geoplan.network import Snapped, WalkNetwork, snap_points

__all__ = [
    "multi_source_distances",
    "nearest_facilities",
    "reach_matrix",
    "service_areas",
]

# dense cells (float64) one chunk of single-source Dijkstra rows may allocate
_CELL_BUDGET = 20_000_000


def _check_limit(limit_m: float) -> None:
    if not (np.isfinite(limit_m) and limit_m >= 0):
        raise InputError("limit_m must be a finite number >= 0", column="limit_m")


@dataclass(frozen=True, eq=False)
class _Rows:
    """Access rows located on pieces: both piece ends and the walk to each (once per run)."""

    a: np.ndarray
    b: np.ndarray
    to_a: np.ndarray  # inf where the piece is one-way (no walking back to a)
    to_b: np.ndarray
    single: bool  # one access row per point, in point order


def _rows(aug: _Augmented, net: WalkNetwork, targets: Snapped) -> _Rows:
    # an unsplit edge is its own piece: its ends and lengths come straight from the
    # network; only rows on split edges look up their cut piece
    e = targets.access_edge.astype(np.int64)
    length = net.length_m[e]
    o = np.clip(targets.access_offset_m, 0.0, length)
    oneway = net.oneway[e]
    a = net.u[e].astype(np.int64)
    b = net.v[e].astype(np.int64)
    to_a = np.where(oneway, np.inf, o)
    to_b = length - o
    sp_ = np.flatnonzero(aug.is_split(e))
    if sp_.size:
        k = aug.cut_piece(e[sp_], o[sp_])
        a[sp_] = aug.cut_a[k]
        b[sp_] = aug.cut_b[k]
        to_a[sp_] = np.where(oneway[sp_], np.inf, o[sp_] - aug.cut_start[k])
        to_b[sp_] = aug.cut_end[k] - o[sp_]
    ap = targets.access_point
    return _Rows(
        single=ap.size < 2 or bool((ap[1:] > ap[:-1]).all()),
        a=a,
        b=b,
        to_a=to_a,
        to_b=to_b,
    )


def _point_min(
    snapped: Snapped,
    rows: _Rows,
    dist: np.ndarray,
    src_node: np.ndarray,
    aug: _Augmented,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per point: min over its access rows of distance + leg (inf beyond limit).

    Returns the distance and the source point position (-1 beyond the limit).
    """
    out_d = np.full(snapped.n, np.inf)
    out_s = np.full(snapped.n, -1, dtype=np.int64)
    if snapped.access_point.size == 0:
        return out_d, out_s
    # the arithmetic of _row_dist on the precomputed rows
    vals = dist[rows.b]
    vals += rows.to_b
    via_a = dist[rows.a]
    via_a += rows.to_a
    use_a = via_a <= vals
    np.copyto(vals, via_a, where=use_a)
    vals += snapped.access_leg_m
    end = np.where(use_a, rows.a, rows.b)
    if rows.single:  # one access row per point (no gated compounds): nothing to reduce
        ok = np.flatnonzero(vals <= limit_m)
        pts = snapped.access_point[ok]
        out_d[pts] = vals[ok]
        out_s[pts] = _source_point(aug, src_node[end[ok]])
        return out_d, out_s
    order = np.lexsort((vals, snapped.access_point))
    ap = snapped.access_point[order]
    first = np.ones(ap.size, dtype=bool)
    first[1:] = ap[1:] != ap[:-1]
    best = order[first]
    d = vals[best]
    ok = d <= limit_m
    pts = snapped.access_point[best][ok]
    out_d[pts] = d[ok]
    out_s[pts] = _source_point(aug, src_node[end[best][ok]])
    return out_d, out_s


def _run(aug: _Augmented, doors: np.ndarray, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
    """min_only Dijkstra from doors: (distance per node, door node per node, -1 if none).

    Map door nodes to source points with :func:`_source_point`.
    """
    if doors.size == 0:
        return np.full(aug.n_nodes, np.inf), np.full(aug.n_nodes, -1, dtype=np.int32)
    dist, _, src_node = dijkstra(
        aug.csr_rev,
        directed=True,
        indices=doors,
        min_only=True,
        limit=limit_m,
        return_predecessors=True,
    )
    return dist, src_node


def _source_point(aug: _Augmented, src_node: np.ndarray) -> np.ndarray:
    """Source point position of each door node in ``src_node`` (-1 stays -1).

    Mapped only where asked (the rows' piece ends), not over the whole graph.
    """
    return np.where(src_node >= 0, aug.door_point[np.maximum(src_node - aug.first_door, 0)], -1)


def multi_source_distances(
    network: WalkNetwork,
    sources: Snapped,
    *,
    limit_m: float,
    targets: Snapped | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Walking distance from each target (or node) to the nearest source, within a limit.

    Parameters
    ----------
    network
        The walking network.
    sources
        Snapped sources (facilities); unreachable ones are ignored.
    limit_m
        Search radius: farther distances are ``inf`` (source index -1).
    targets
        Snapped targets (origins). When None, distances are per network node.

    Returns
    -------
    dist, source_index
        Arrays aligned to ``targets`` (or to the network nodes): metres, and the
        position of the nearest source in ``sources``. Target distances include
        both access legs.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650))
    >>> src = snap_points(net, gpd.GeoSeries([Point(10, 0)], crs=32650), max_snap_m=50)
    >>> tgt = snap_points(net, gpd.GeoSeries([Point(70, 3)], crs=32650), max_snap_m=50)
    >>> d, s = multi_source_distances(net, src, limit_m=500, targets=tgt)
    >>> d.tolist(), s.tolist()
    ([63.0], [0])
    """
    _check_limit(limit_m)
    aug = _augment(network, sources)
    dist, src_node = _run(aug, aug.doors[aug.doors >= 0], limit_m)
    if targets is None:
        n = network.n_nodes
        return dist[:n], _source_point(aug, src_node[:n]).astype(np.int64, copy=False)
    return _point_min(targets, _rows(aug, network, targets), dist, src_node, aug, limit_m)


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
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650))
    >>> o = snap_points(net, gpd.GeoSeries([Point(0, 0), Point(90, 0)], crs=32650),
    ...                 max_snap_m=50)
    >>> s = snap_points(net, gpd.GeoSeries([Point(20, 0)], crs=32650), max_snap_m=50)
    >>> reach_matrix(net, o, s, limit_m=50).toarray().tolist()
    [[20.0, 0.0]]
    """
    _check_limit(limit_m)
    aug = _augment(network, sources_snapped)
    o = origins_snapped
    piece, off = _locate(aug, network, o)
    n_s, n_o = sources_snapped.n, o.n
    if piece.size == 0 or not (aug.doors >= 0).any():
        return sp.csr_matrix((n_s, n_o))
    k = _chord_factor(network)
    if not np.isfinite(k):
        return _reach_global(aug, o, piece, off, n_s, limit_m)
    return _reach_windowed(aug, network, o, sources_snapped, piece, off, k, limit_m)


def _reach_global(
    aug: _Augmented,
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
    chunk = max(1, _CELL_BUDGET // max(aug.n_nodes, 4 * piece.size, 1))
    ri: list[np.ndarray] = []
    ci: list[np.ndarray] = []
    vv: list[np.ndarray] = []
    for k in range(0, src_pos.size, chunk):
        pos = src_pos[k : k + chunk]
        d = dijkstra(aug.csr_rev, directed=True, indices=aug.doors[pos], limit=limit_m)
        d = np.atleast_2d(d)
        vals = _row_dist(aug, piece, off, d)[0] + o.access_leg_m[None, :]
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
    aug: _Augmented,
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
        # the same arithmetic as _row_dist, on local ids
        to_a = np.where(aug.seg_oneway[pc], np.inf, off[r] - aug.seg_start[pc])
        to_b = aug.seg_end[pc] - off[r]
        leg = o.access_leg_m[r]
        rp = ap[r]
        starts = np.flatnonzero(np.r_[True, rp[1:] != rp[:-1]])
        pts = rp[starts]
        chunk = max(1, _CELL_BUDGET // max(m + 1, 4 * r.size))
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


def _categories(facilities: gpd.GeoDataFrame, category_col: str) -> pd.Series:
    if category_col not in facilities.columns:
        raise InputError(f"facilities have no {category_col!r} column", column=category_col)
    cat = facilities[category_col]
    return cat.where(cat.isna(), cat.astype(str))


def _warn_unreachable(s: Snapped, what: str, max_snap_m: float) -> None:
    bad = ~s.reachable
    if bad.any():
        ids = ", ".join(str(i) for i in s.index[bad][:5])
        more = " ..." if bad.sum() > 5 else ""
        warnings.warn(
            f"{int(bad.sum())} {what} farther than max_snap_m={max_snap_m} m from the walk "
            f"network are left out: {ids}{more}",
            DataQualityWarning,
            stacklevel=3,
        )


def nearest_facilities(
    network: WalkNetwork,
    origins: gpd.GeoDataFrame | gpd.GeoSeries | Snapped,
    facilities: gpd.GeoDataFrame,
    *,
    limit_m: float,
    max_snap_m: float,
    walk_speed_m_per_min: float,
    category_col: str = "category",
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
    min_component_nodes: int | None = None,
) -> pd.DataFrame:
    """Walking distance from each origin to the nearest facility of each category.

    One bounded multi-source Dijkstra pass per category on one augmented graph
    (origins and facilities as virtual nodes).

    Parameters
    ----------
    network
        The walking network.
    origins
        Buildings or points, in the network's CRS, or a :class:`Snapped` made
        by :func:`geoplan.network.snap_points` (snap once, reuse for many runs;
        ``compounds``/``gates`` then apply to the facilities only).
    facilities
        Facilities with a category column; the index gives ``facility_id``.
    limit_m
        Search radius in metres (from a profile).
    max_snap_m
        Points farther from the network are unreachable (from a profile).
    walk_speed_m_per_min
        Walking speed for ``walk_min__c`` (from a profile).
    category_col
        Column of ``facilities`` with the category id.
    compounds, gates, gate_tolerance_m, min_component_nodes
        Passed to :func:`geoplan.network.snap_points` for origins and facilities.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``origins.index``: ``snap_m``, ``reachable``, ``gated``,
        ``component``, ``component_nodes``, and for each category ``c``:
        ``walk_m__c`` (inf beyond the limit or unreachable), ``walk_min__c`` and
        ``facility_id__c`` (None when none within the limit).

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=32650))
    >>> homes = gpd.GeoDataFrame(geometry=[Point(100, 10)], index=["b1"], crs=32650)
    >>> shops = gpd.GeoDataFrame({"category": ["convenience_store"]},
    ...     geometry=[Point(400, -5)], index=["f1"], crs=32650)
    >>> r = nearest_facilities(net, homes, shops, limit_m=1000, max_snap_m=300,
    ...                        walk_speed_m_per_min=75)
    >>> row = r.loc["b1"]
    >>> float(row["walk_m__convenience_store"]), row["facility_id__convenience_store"]
    (315.0, 'f1')
    """
    _check_limit(limit_m)
    if not (np.isfinite(walk_speed_m_per_min) and walk_speed_m_per_min > 0):
        raise InputError("walk_speed_m_per_min must be > 0", column="walk_speed_m_per_min")
    cats = _categories(facilities, category_col)
    snap = functools.partial(
        snap_points,
        network,
        max_snap_m=max_snap_m,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
        min_component_nodes=min_component_nodes,
    )
    o = origins if isinstance(origins, Snapped) else snap(origins)
    f = snap(facilities)
    _warn_unreachable(f, "facilities", max_snap_m)
    aug = _augment(network, f)
    rows = _rows(aug, network, o)
    index = o.index.copy()
    columns: dict[str, object] = {
        "snap_m": o.snap_m.copy(),
        "reachable": o.reachable.copy(),
        "gated": o.gated.copy(),
        "component": o.component.copy(),
        "component_nodes": o.component_nodes.copy(),
    }
    fac_ids = np.asarray(facilities.index.astype(str), dtype=object)
    cat_values = cats.to_numpy(dtype=object)
    for c in sorted({str(c) for c in cat_values if isinstance(c, str)}):
        sel = (cat_values == c) & (aug.doors >= 0)
        dist, src_node = _run(aug, aug.doors[sel], limit_m)
        d, s = _point_min(o, rows, dist, src_node, aug, limit_m)
        ids = np.full(o.n, None, dtype=object)
        ids[s >= 0] = fac_ids[s[s >= 0]]
        columns[f"walk_m__{c}"] = d
        columns[f"walk_min__{c}"] = d / walk_speed_m_per_min
        columns[f"facility_id__{c}"] = pd.Series(ids, index=index, dtype=object, copy=False)
    # every column is a fresh array of its own: no copy into consolidated blocks
    # (pandas does that later, if an operation needs it)
    return pd.DataFrame(columns, index=index, copy=False)


def _substrings(
    geometry: np.ndarray, which: np.ndarray, f0: np.ndarray, f1: np.ndarray
) -> np.ndarray:
    """Vectorised ``substring(geometry[which], f0, f1, normalized=True)`` for f0 < f1."""
    if which.size == 0:
        return np.zeros(0, dtype=object)
    uniq, inv = np.unique(which, return_inverse=True)
    ul = geometry[uniq]
    lines = geometry[which]
    coords, ci = shapely.get_coordinates(ul, return_index=True)
    counts = np.bincount(ci, minlength=ul.size)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    seg = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    seg[np.cumsum(counts)[:-1] - 1] = 0.0  # no segment across lines
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    cum = cum - np.repeat(cum[starts], counts)
    total = np.repeat(cum[starts + counts - 1], counts)
    pos = np.divide(cum, total, out=np.zeros_like(cum), where=total > 0)
    r = np.arange(lines.size)
    n_v = counts[inv]
    rep = np.repeat(r, n_v)
    vid = np.repeat(starts[inv], n_v) + (
        np.arange(n_v.sum()) - np.repeat(np.cumsum(n_v) - n_v, n_v)
    )
    vpos = pos[vid]
    inside = (vpos > f0[rep]) & (vpos < f1[rep])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(lines, f0, normalized=True))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(lines, f1, normalized=True))
    req = np.concatenate([r, rep[inside], r])
    key = np.concatenate([f0, vpos[inside], f1])
    xy = np.concatenate([p0, coords[vid[inside]], p1])
    o = np.lexsort((key, req))
    return shapely.linestrings(xy[o], indices=req[o])


def _reach_pieces(
    aug: _Augmented,
    net: WalkNetwork,
    seg: np.ndarray,
    da: np.ndarray,
    db: np.ndarray,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Reachable parts of segments ``seg`` with end distances ``da``/``db``.

    Returns (piece index into the inputs, edge, start fraction, end fraction).
    """
    w = aug.seg_end[seg] - aug.seg_start[seg]
    from_a = (da <= limit_m) & ~aug.seg_oneway[seg]
    from_b = db <= limit_m
    a1 = np.where(from_a, np.minimum(w, limit_m - np.where(from_a, da, 0.0)), 0.0)
    b0 = np.where(from_b, np.maximum(0.0, w - (limit_m - np.where(from_b, db, 0.0))), w)
    merged = from_a & from_b & (a1 >= b0)
    # piece 1: from a (or the whole segment when merged); piece 2: from b
    p1 = from_a
    p1_end = np.where(merged, w, a1)
    p2 = from_b & ~merged
    idx = np.concatenate([np.flatnonzero(p1), np.flatnonzero(p2)])
    q0 = np.concatenate([np.zeros(int(p1.sum())), b0[p2]])
    q1 = np.concatenate([p1_end[p1], w[p2]])
    edge = aug.seg_edge[seg[idx]]
    length = net.length_m[edge]
    ok = (q1 > q0) & (length > 0)
    idx, edge, q0, q1, length = idx[ok], edge[ok], q0[ok], q1[ok], length[ok]
    s0 = aug.seg_start[seg[idx]]
    f0 = np.clip((s0 + q0) / length, 0.0, 1.0)
    f1 = np.clip((s0 + q1) / length, 0.0, 1.0)
    good = f1 > f0
    return idx[good], edge[good], f0[good], f1[good]


def _areas(
    net: WalkNetwork,
    group: np.ndarray,
    edge: np.ndarray,
    f0: np.ndarray,
    f1: np.ndarray,
    n_groups: int,
    buffer_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Buffered union of pieces per group, and reachable street length per group."""
    pieces = _substrings(net.geometry, edge, f0, f1)
    reach_m = np.bincount(group, weights=(f1 - f0) * net.length_m[edge], minlength=n_groups)
    geoms = np.array([shapely.Polygon() for _ in range(n_groups)], dtype=object)
    if pieces.size:
        order = np.argsort(group, kind="stable")
        g = group[order]
        present = np.unique(g)
        multi = shapely.multilinestrings(pieces[order], indices=np.searchsorted(present, g))
        geoms[present] = shapely.buffer(multi, buffer_m)
    return geoms, reach_m


def service_areas(
    network: WalkNetwork,
    facilities: gpd.GeoDataFrame,
    *,
    limit_m: float,
    buffer_m: float,
    max_snap_m: float,
    by: str = "category",
    category_col: str = "category",
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
) -> gpd.GeoDataFrame:
    """Walking service areas: buffered street segments within ``limit_m`` of facilities.

    Streets are cut where the limit falls (partial edges included), then
    buffered by ``buffer_m``; no convex hulls.

    Parameters
    ----------
    network
        The walking network.
    facilities
        Facilities (points or polygons) in the network's CRS.
    limit_m
        Walking distance (metres) from a street point to the facility, including
        the facility's access leg.
    buffer_m
        Buffer around the reachable street segments.
    max_snap_m
        Facilities farther from the network get an empty area.
    by
        ``"category"``: one area per category (union over its facilities, one
        multi-source pass); ``"facility"``: one area per facility (single-source
        passes in chunks).
    category_col
        Column with the category id.
    compounds, gates, gate_tolerance_m
        As in :func:`geoplan.network.snap_points`.

    Returns
    -------
    geopandas.GeoDataFrame
        Indexed by ``category`` or ``facility_id``, with ``reach_m`` (reachable
        street length, metres), ``n_facilities`` (by category) or ``category``
        and ``reachable`` (by facility), and the polygon geometry.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=32650))
    >>> fac = gpd.GeoDataFrame({"category": ["pharmacy"]}, geometry=[Point(500, 0)],
    ...     index=["f1"], crs=32650)
    >>> sa = service_areas(net, fac, limit_m=200, buffer_m=50, max_snap_m=300)
    >>> round(float(sa.loc["pharmacy", "reach_m"]), 6)
    400.0
    """
    _check_limit(limit_m)
    if by not in {"category", "facility"}:
        raise InputError(f"by must be 'category' or 'facility', got {by!r}", column="by")
    if not (np.isfinite(buffer_m) and buffer_m > 0):
        raise InputError("buffer_m must be > 0", column="buffer_m")
    need_cat = by == "category" or category_col in facilities.columns
    cats = _categories(facilities, category_col) if need_cat else None
    f = snap_points(
        network,
        facilities,
        max_snap_m=max_snap_m,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
    )
    _warn_unreachable(f, "facilities", max_snap_m)
    aug = _augment(network, f)
    n_seg = aug.seg_a.size
    all_seg = np.arange(n_seg)
    groups: list[np.ndarray] = []
    edges: list[np.ndarray] = []
    f0s: list[np.ndarray] = []
    f1s: list[np.ndarray] = []
    if by == "category":
        assert cats is not None
        cat_values = cats.to_numpy(dtype=object)
        names = sorted({str(c) for c in cat_values if isinstance(c, str)})
        counts = []
        for k, c in enumerate(names):
            sel = (cat_values == c) & (aug.doors >= 0)
            counts.append(int((cat_values == c).sum()))
            dist, _ = _run(aug, aug.doors[sel], limit_m)
            idx, e, a, b = _reach_pieces(
                aug, network, all_seg, dist[aug.seg_a], dist[aug.seg_b], limit_m
            )
            groups.append(np.full(idx.size, k, dtype=np.int64))
            edges.append(e)
            f0s.append(a)
            f1s.append(b)
        index: pd.Index = pd.Index(names, name="category", dtype=object)
        extra: dict[str, object] = {"n_facilities": np.asarray(counts, dtype=np.int64)}
    else:
        src_pos = np.flatnonzero(aug.doors >= 0)
        chunk = max(1, _CELL_BUDGET // max(aug.n_nodes, 2 * n_seg, 1))
        for k in range(0, src_pos.size, chunk):
            pos = src_pos[k : k + chunk]
            d = np.atleast_2d(
                dijkstra(aug.csr_rev, directed=True, indices=aug.doors[pos], limit=limit_m)
            )
            da, db = d[:, aug.seg_a], d[:, aug.seg_b]
            r, sidx = np.nonzero((da <= limit_m) | (db <= limit_m))
            idx, e, a, b = _reach_pieces(aug, network, sidx, da[r, sidx], db[r, sidx], limit_m)
            groups.append(pos[r[idx]])
            edges.append(e)
            f0s.append(a)
            f1s.append(b)
        index = pd.Index(facilities.index.astype(str), name="facility_id", dtype=object)
        extra = {"reachable": f.reachable}
        if cats is not None:
            extra["category"] = cats.to_numpy(dtype=object)
    n_groups = len(index)
    cat0 = np.zeros(0, dtype=np.int64)
    geoms, reach_m = _areas(
        network,
        np.concatenate(groups) if groups else cat0,
        np.concatenate(edges) if edges else cat0,
        np.concatenate(f0s) if f0s else np.zeros(0),
        np.concatenate(f1s) if f1s else np.zeros(0),
        n_groups,
        buffer_m,
    )
    data: dict[str, object] = {"reach_m": reach_m, **extra}
    return gpd.GeoDataFrame(data, geometry=geoms, index=index, crs=network.crs)

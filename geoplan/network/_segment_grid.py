"""Exact nearest-edge snapping on a uniform grid of edge segments (private).

Used by :mod:`geoplan.network` (:func:`nearest_edges`): every edge polyline is
split into straight segments once per network (:func:`segment_grid`, kept on the
network), binned into square cells, and each point checks the segments of the
cells around it, widening the block until the answer is provably the nearest; far
points fall back to shapely's STRtree. Ties go to the lowest edge index. A saved
network file stores the grid (:func:`grid_arrays`, :func:`grid_from_arrays`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
import shapely

if TYPE_CHECKING:
    from geoplan.network.graph import WalkNetwork


def _spread_bits(v: np.ndarray) -> np.ndarray:
    v = v & 0xFFFF
    v = (v | (v << 8)) & 0x00FF00FF
    v = (v | (v << 4)) & 0x0F0F0F0F
    v = (v | (v << 2)) & 0x33333333
    return (v | (v << 1)) & 0x55555555


def _morton(xy: np.ndarray) -> np.ndarray:
    """Z-order keys of 2-D points on a 65536 x 65536 grid over their bounds."""
    if xy.size == 0:
        return np.zeros(0, dtype=np.int64)
    lo = xy.min(axis=0)
    span = np.maximum(xy.max(axis=0) - lo, 1e-9)
    g = np.minimum((xy - lo) / span * 65535, 65535).astype(np.int64)
    return _spread_bits(g[:, 0]) | (_spread_bits(g[:, 1]) << 1)


def bucket_order(keys: np.ndarray, n_buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of ``keys`` (ints in ``[0, n_buckets)``) and each bucket's start.

    A counting sort: scipy's compiled COO -> CSR conversion with the keys as rows
    and the positions as columns, about four times faster than ``np.argsort`` on
    millions of keys. ``starts`` has ``n_buckets + 1`` entries.

    Examples
    --------
    >>> order, starts = bucket_order(np.array([2, 0, 2, 1]), 3)
    >>> order.tolist(), starts.tolist()
    ([1, 3, 0, 2], [0, 1, 2, 4])
    """
    n = int(keys.size)
    idx_t = np.int32 if max(n, n_buckets) < np.iinfo(np.int32).max else np.int64
    m = sp.csr_matrix(
        (np.ones(n, dtype=np.int8), (keys.astype(idx_t, copy=False), np.arange(n, dtype=idx_t))),
        shape=(n_buckets, max(n, 1)),
    )
    return m.indices.astype(np.intp, copy=False), m.indptr.astype(np.int64, copy=False)


# Tuning of the segment grid behind nearest_edges (algorithm constants, not planning
# thresholds). The cell side is this percentile of the segment lengths, clipped to
# [min, max] metres; segments longer than a cell side are binned as several pieces.
# The grid has at most this many cells per segment (a network spread thinly over
# a large area gets bigger cells rather than a huge grid).
_GRID_CELL_PERCENTILE = 95.0
_GRID_CELL_MIN_M = 20.0
_GRID_CELL_MAX_M = 200.0
_GRID_CELLS_PER_SEGMENT = 4
# Widths (in cells) of the square blocks searched around the points still
# unsettled, pass after pass; a block of width w settles at least every point
# whose nearest segment lies within (w - 2) / 2 cell sides.
_GRID_PASS_WIDTHS = (3, 5, 9)
# Candidate (point, segment) pairs evaluated per numpy step: bounds memory and keeps
# the working arrays in cache.
_GRID_PAIR_CHUNK = 1 << 15
# Safety margin, relative to the cell side, on every exactness radius.
_GRID_MARGIN = 1e-6
# The widest block a capped search (nearest_edges' max_distance_m) may scan; beyond
# it the points left over go to the STRtree as without a cap.
_GRID_CAP_MAX_WIDTH = 129
# The scan runs in float32 when its rounding bound stays below this share of a cell.
_GRID_FLOAT32_MAX_TOL = 0.01


@dataclass(frozen=True, eq=False)
class SegmentGrid:
    """The straight segments of a network's edges, binned into a uniform grid.

    ``coords`` holds the vertices of every edge, edge after edge (as
    :func:`shapely.get_coordinates` returns them); segment ``k`` of edge
    ``seg_edge[k]`` joins vertices ``seg_v[k]`` and ``seg_v[k] + 1``, so segments
    are numbered in edge-major order and the lowest number wins a tie. For binning,
    each segment is cut into pieces no longer than ``2 * half_piece_m`` and each
    piece is an **entry** in the cell of its midpoint. Entries are stored cell by
    cell (row-major, ``nx`` cells a row from ``(x0, y0)``; cell ``k`` holds entries
    ``cell_start[k]:cell_start[k + 1]``) with what the distance scan reads: the
    segment ``e_seg``, its start ``e_ax``/``e_ay`` relative to ``(x0, y0)``,
    ``e_dx``/``e_dy`` and ``e_inv_len2`` (1 / squared length; 0 for a segment
    shorter than a quarter of ``tol_m``, taken as its start point). The scan runs
    in float32 when that keeps its rounding error, bounded by ``tol_m``, far below
    a cell side. ``edge_v`` holds the first vertex of every edge (and the vertex
    count at the end); ``odd_edges`` the MultiLineString edges, whose parts the
    segments wrongly join: points nearest to one go to the STRtree. ``complete``
    is False when the edges have no segment, non-finite coordinates or a
    non-lineal geometry; :func:`nearest_edges` then uses the STRtree for every point.
    """

    complete: bool
    cell_m: float
    half_piece_m: float
    tol_m: float
    x0: float
    y0: float
    nx: int
    ny: int
    cell_start: np.ndarray
    e_seg: np.ndarray
    e_ax: np.ndarray
    e_ay: np.ndarray
    e_dx: np.ndarray
    e_dy: np.ndarray
    e_inv_len2: np.ndarray
    coords: np.ndarray
    edge_v: np.ndarray
    seg_v: np.ndarray
    seg_edge: np.ndarray
    odd_edges: np.ndarray


# The arrays of a grid that a network file stores (prefixed ``grid_``); ``coords`` and
# ``edge_v`` are the file's edge lines, stored once for the geometries and the grid.
_GRID_ARRAYS = ("cell_start", "e_seg", "e_ax", "e_ay", "e_dx", "e_dy", "e_inv_len2",
                "seg_v", "seg_edge", "odd_edges")  # fmt: skip


def grid_arrays(g: SegmentGrid) -> dict[str, np.ndarray]:
    """The arrays a network file keeps of ``g`` (all but ``coords`` and ``edge_v``).

    ``shape`` is ``[complete, nx, ny]`` and ``params`` the float scalars; an
    incomplete grid is ``shape`` alone. :func:`grid_from_arrays` reverses it.
    """
    if not g.complete:
        return {"shape": np.zeros(3, dtype=np.int64)}
    out = {
        "shape": np.array([1, g.nx, g.ny], dtype=np.int64),
        "params": np.array([g.cell_m, g.half_piece_m, g.tol_m, g.x0, g.y0], dtype=np.float64),
    }
    out.update((name, getattr(g, name)) for name in _GRID_ARRAYS)
    return out


def grid_from_arrays(
    arrays: Mapping[str, np.ndarray], coords: np.ndarray, edge_v: np.ndarray
) -> SegmentGrid:
    """The :class:`SegmentGrid` that :func:`grid_arrays` stored, on the edge lines given.

    Checks sizes and the few values that index other arrays' ends (cheap: nothing
    city-sized is read); raises ValueError when they disagree.
    """
    shape = np.asarray(arrays["shape"])
    if shape.shape != (3,) or shape.dtype.kind not in "iu":
        raise ValueError("grid_shape is not three integers")
    if not shape[0]:
        return _incomplete_grid()
    nx, ny = int(shape[1]), int(shape[2])
    params = np.asarray(arrays["params"], dtype=np.float64)
    a = {name: np.asarray(arrays[name]) for name in _GRID_ARRAYS}
    n_entries, n_segments = a["e_seg"].shape, a["seg_v"].shape
    fine = (
        nx > 0
        and ny > 0
        and params.shape == (5,)
        and a["cell_start"].shape == (nx * ny + 1,)
        and int(a["cell_start"][0]) == 0
        and int(a["cell_start"][-1]) == n_entries[0]
        and all(a[k].shape == n_entries for k in ("e_ax", "e_ay", "e_dx", "e_dy", "e_inv_len2"))
        and a["e_ax"].dtype.kind == "f"
        and a["seg_edge"].shape == n_segments
        and coords.ndim == 2
        and coords.shape[1] == 2
        and edge_v.ndim == 1
        and edge_v.size >= 1
        and int(edge_v[-1]) == coords.shape[0]
    )
    if not fine:
        raise ValueError("the stored snapping grid does not fit the network's edges")
    cell_m, half_piece_m, tol_m, x0, y0 = (float(p) for p in params)
    return SegmentGrid(True, cell_m, half_piece_m, tol_m, x0, y0, nx, ny, a["cell_start"],
                       a["e_seg"], a["e_ax"], a["e_ay"], a["e_dx"], a["e_dy"], a["e_inv_len2"],
                       coords, edge_v, a["seg_v"], a["seg_edge"], a["odd_edges"])  # fmt: skip


def _incomplete_grid() -> SegmentGrid:
    z = np.zeros(0)
    zi = np.zeros(0, dtype=np.int64)
    return SegmentGrid(False, 1.0, 0.0, 0.0, 0.0, 0.0, 0, 0, np.zeros(1, np.int64),
                        zi, z, z, z, z, z, np.zeros((0, 2)), zi, zi, zi, zi)  # fmt: skip


def _sequential_starts(seg_m: np.ndarray, first: np.ndarray, nseg: np.ndarray) -> np.ndarray:
    """Distance along its line of each segment's start, summed in order.

    GEOS adds segment lengths one after the other (``LengthIndexOfPoint``,
    ``Length::ofLine``); a global cumulative sum minus each line's base would
    differ by rounding. Position k of every line is done in one vectorised step
    while many lines are that long; the few longest finish with a sequential
    ``np.cumsum`` each.
    """
    start = np.zeros(seg_m.size)
    active = np.flatnonzero(nseg > 1)
    k = 1
    while active.size > 32:
        at = first[active] + k
        start[at] = start[at - 1] + seg_m[at - 1]
        k += 1
        active = active[nseg[active] > k]
    for e in active.tolist():
        a, b = int(first[e]) + k - 1, int(first[e] + nseg[e])
        start[a:b] = np.cumsum(np.concatenate([start[a : a + 1], seg_m[a : b - 1]]))
    return start


def segment_grid(geometry: np.ndarray) -> SegmentGrid:
    """Build the :class:`SegmentGrid` of an array of edge geometries."""
    if geometry.size == 0:
        return _incomplete_grid()
    kinds = shapely.get_type_id(geometry)
    # LineString, LinearRing; None and empty lines have no segment; a MultiLineString's
    # parts are wrongly joined, so points nearest to one go to the STRtree
    usual = (kinds == 1) | (kinds == 2) | (kinds == -1)
    if not (usual | (kinds == 5)).all():
        return _incomplete_grid()
    coords, owner = shapely.get_coordinates(geometry, return_index=True)
    segments = _edge_segments(owner, int(geometry.size), coords.shape[0])
    del owner
    return _grid_of(coords, segments, np.flatnonzero(~usual))


def segment_grid_of_lines(coords: np.ndarray, start: np.ndarray) -> SegmentGrid:
    """:func:`segment_grid` of the LineStrings through ``coords[start[e]:start[e + 1]]``.

    The same grid, without making the LineStrings (each of two vertices or more, as
    the plain edges of :class:`~geoplan.network._lines.EdgeLines`); ``coords`` is kept.
    """
    n = int(start.size) - 1
    if n <= 0:
        return _incomplete_grid()
    owner = np.repeat(np.arange(n), np.diff(start))
    segments = _edge_segments(owner, n, coords.shape[0])
    del owner
    return _grid_of(coords, segments, np.zeros(0, dtype=np.intp))


def _edge_segments(owner: np.ndarray, n_edges: int, n_coords: int) -> tuple[np.ndarray, ...]:
    """``(v, seg_edge, edge_v)`` of the vertices of edges ``owner`` (see :class:`SegmentGrid`)."""
    v = np.flatnonzero(owner[1:] == owner[:-1])  # segment k joins vertices v[k], v[k] + 1
    # index arrays kept in int32 where they fit: on a city network every byte kept
    # here is memory to fault in, which costs time on a small machine
    idx_t = np.int32 if n_coords < np.iinfo(np.int32).max else np.int64
    edge_v = np.zeros(n_edges + 1, dtype=idx_t)  # first vertex of every edge
    np.cumsum(np.bincount(owner, minlength=n_edges), out=edge_v[1:])
    return v, owner[v].astype(idx_t), edge_v


def _grid_of(coords: np.ndarray, segments: tuple[np.ndarray, ...], odd: np.ndarray) -> SegmentGrid:
    """The grid of the edges' vertices ``coords`` and ``segments`` (:func:`_edge_segments`)."""
    v, seg_edge, edge_v = segments
    if v.size == 0:
        return _incomplete_grid()
    n_s = v.size
    idx_t = seg_edge.dtype.type
    # (numpy gathers fastest with intp indices and, for rows, with np.take)
    a = np.take(coords, v, axis=0)
    d = np.take(coords, v + 1, axis=0)
    d -= a
    ax, ay, dx, dy = a[:, 0], a[:, 1], d[:, 0], d[:, 1]
    mx, my = ax + 0.5 * dx, ay + 0.5 * dy  # segment midpoints
    # the grid covers the midpoints (pieces beyond them go to the border cells)
    xmin, xmax, ymin, ymax = float(mx.min()), float(mx.max()), float(my.min()), float(my.max())
    if not np.isfinite([xmin, xmax, ymin, ymax]).all():  # NaN and inf propagate
        return _incomplete_grid()
    w, h = xmax - xmin, ymax - ymin
    len2 = dx * dx + dy * dy
    seg_m = np.sqrt(len2)
    sample = seg_m[:: max(1, n_s // 8192)]  # a percentile of a fixed subsample is enough
    cell = float(np.clip(np.percentile(sample, _GRID_CELL_PERCENTILE),
                         _GRID_CELL_MIN_M, _GRID_CELL_MAX_M))  # fmt: skip
    cap = _GRID_CELLS_PER_SEGMENT * n_s + 4096
    while True:
        nx, ny = int(w / cell) + 1, int(h / cell) + 1
        if nx * ny <= cap:
            break
        cell *= 1.01 * float(np.sqrt(nx * ny / cap))
    inv = 1.0 / cell
    cell_t = np.int32 if nx * ny < 2**31 else np.int64

    def to_cells(px: np.ndarray, py: np.ndarray, out: np.ndarray) -> None:
        # cell of each midpoint, clipped to the grid (px and py are overwritten)
        px -= xmin
        px *= inv
        np.clip(px, 0.0, nx - 1, out=px)
        py -= ymin
        py *= inv
        np.clip(py, 0.0, ny - 1, out=py)
        np.copyto(out, py, casting="unsafe")  # truncation, as astype
        np.multiply(out, nx, out=out)
        out += px.astype(cell_t)

    # pieces no longer than a cell side, each binned at its midpoint: a segment's
    # first piece at position k < n_s, the others after (written straight into
    # the arrays of all pieces: no concatenation of city-sized arrays)
    npc = np.ceil(seg_m * inv)
    np.maximum(npc, 1.0, out=npc)
    long = np.flatnonzero(npc > 1.0)
    k = npc[long]
    more = (k - 1.0).astype(np.intp)
    n_p = n_s + int(more.sum())
    cell_id = np.empty(n_p, dtype=cell_t)
    piece_seg = np.empty(n_p, dtype=idx_t)
    piece_seg[:n_s] = np.arange(n_s, dtype=idx_t)
    if long.size:
        lax, lay, ldx, ldy = ax[long], ay[long], dx[long], dy[long]
        mx[long] = lax + (0.5 / k) * ldx
        my[long] = lay + (0.5 / k) * ldy
        rep = np.repeat(np.arange(long.size), more)
        f = (np.arange(rep.size) - np.repeat(np.cumsum(more) - more, more) + 1.5) / k[rep]
        to_cells(lax[rep] + f * ldx[rep], lay[rep] + f * ldy[rep], cell_id[n_s:])
        piece_seg[n_s:] = long[rep]
    to_cells(mx, my, cell_id[:n_s])
    del mx, my
    order, cell_start = bucket_order(cell_id, nx * ny)
    e = piece_seg[order]  # the segment of every entry, cell by cell
    del order, piece_seg, cell_id
    np.divide(seg_m, npc, out=npc)  # piece lengths
    half_piece_m = 0.5 * float(npc.max())
    # the scan's rounding bound: inputs rounded to the dtype (coordinates relative to
    # (xmin, ymin), at most `scale` in size) and a few operations on them, with a
    # wide margin; float32 when that stays far below a cell side
    scale = 2.0 * (max(w, h) + (max(_GRID_PASS_WIDTHS) + 2) * cell + float(seg_m.max()))
    dtype: type[np.floating[Any]] = np.float32
    if 16.0 * float(np.finfo(np.float32).eps) * scale > _GRID_FLOAT32_MAX_TOL * cell:
        dtype = np.float64
    tol = 16.0 * float(np.finfo(dtype).eps) * scale

    buf = np.empty(n_s, dtype=dtype)

    def entries(values: np.ndarray, shift: float = 0.0) -> np.ndarray:
        np.subtract(values, shift, out=buf, casting="unsafe")  # in float64, then cast
        return buf[e]

    inv_len2 = np.divide(1.0, len2, out=np.zeros_like(len2), where=len2 > (0.25 * tol) ** 2)
    return SegmentGrid(
        complete=True,
        cell_m=cell,
        half_piece_m=half_piece_m,
        tol_m=tol,
        x0=xmin,
        y0=ymin,
        nx=nx,
        ny=ny,
        cell_start=cell_start,
        e_seg=e,
        e_ax=entries(ax, xmin),
        e_ay=entries(ay, ymin),
        e_dx=entries(dx),
        e_dy=entries(dy),
        e_inv_len2=entries(inv_len2),
        coords=coords,
        edge_v=edge_v,
        seg_v=v.astype(idx_t),
        seg_edge=seg_edge,
        odd_edges=odd,
    )


def _point_segment_distance(
    px: np.ndarray, py: np.ndarray, g: SegmentGrid, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each point to segment ``s`` and the projection factor on it.

    Both as GEOS computes them: the distance as ``Distance::pointToSegment``; the
    factor as ``LineSegment::projectionFactor`` (0 at the start point, 1 at the
    end point, NaN on a zero-length segment), unclamped.
    """
    v = g.seg_v[s]
    a, b = np.take(g.coords, v, axis=0), np.take(g.coords, v + 1, axis=0)
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    deg = len2 <= 0.0  # equal ends (or a length that underflows): the start point
    safe = np.where(deg, 1.0, len2)
    r = ((px - ax) * dx + (py - ay) * dy) / safe
    sc = ((ay - py) * dx - (ax - px) * dy) / safe
    da = np.sqrt((px - ax) ** 2 + (py - ay) ** 2)
    db = np.sqrt((px - bx) ** 2 + (py - by) ** 2)
    d = np.where(deg | (r <= 0.0), da, np.where(r >= 1.0, db, np.abs(sc) * np.sqrt(len2)))
    at_a = (px == ax) & (py == ay)
    r = np.where(at_a, 0.0, np.where((px == bx) & (py == by), 1.0, np.where(deg, np.nan, r)))
    return d, r


def _project_on_edges(
    g: SegmentGrid, s: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Edge of segment ``s`` and a point's position on it as a fraction of its length.

    ``r`` is the point's projection factor on the segment. As GEOS
    ``line_locate_point(..., normalized=True)`` computes it: the distance along the
    line to the projection (lengths of the earlier segments summed in order, plus
    the clamped factor times the segment's length) over the line's length (summed
    in order; 0 for a zero-length line). Work is proportional to the vertices of
    the edges concerned, not of the network.
    """
    v = g.seg_v[s]
    edge = g.seg_edge[s].astype(np.int64)
    fv = g.edge_v[edge]
    nseg = g.edge_v[edge + 1] - 1 - fv
    a, b = np.take(g.coords, v, axis=0), np.take(g.coords, v + 1, axis=0)
    dx, dy = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    sl = np.sqrt(dx * dx + dy * dy)
    s0 = np.zeros(s.size)
    line_m = sl.copy()
    multi = np.flatnonzero(nseg > 1)
    if multi.size:  # edges of several segments: sum their segments' lengths in order
        ue, which = np.unique(edge[multi], return_inverse=True)
        ufv = g.edge_v[ue]
        un = g.edge_v[ue + 1] - 1 - ufv
        first = np.cumsum(un) - un
        sv = np.repeat(ufv - first, un) + np.arange(int(un.sum()))
        pa, pb = np.take(g.coords, sv, axis=0), np.take(g.coords, sv + 1, axis=0)
        ddx, ddy = pb[:, 0] - pa[:, 0], pb[:, 1] - pa[:, 1]
        lengths = np.sqrt(ddx * ddx + ddy * ddy)
        start = _sequential_starts(lengths, first, un)
        last = first + un - 1
        s0[multi] = start[first[which] + (v[multi] - fv[multi])]
        line_m[multi] = (start[last] + lengths[last])[which]
    # GEOS: factor <= 0 the segment's start, <= 1 start + factor * length, else
    # (or NaN) its end
    m = np.where(r <= 0.0, s0, np.where(r <= 1.0, s0 + r * sl, s0 + sl))
    frac = np.divide(m, line_m, out=np.zeros_like(m), where=line_m > 0.0)
    return edge, frac


def _grid_nearest(
    g: SegmentGrid, x: np.ndarray, y: np.ndarray, widths: tuple[int, ...] = _GRID_PASS_WIDTHS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The points settled, their nearest segment, distance and projection factor.

    Returns positions into ``x``/``y`` (of the points settled, in scan order) and
    per such point the segment, the GEOS distance and projection factor.

    Pass after pass (``widths``, :data:`_GRID_PASS_WIDTHS` by default), each
    unsettled point looks at the
    segments binned in a square block of cells placed around it. Its nearest one
    there is its nearest of all when no farther than the point's distance to the
    block's border less half a piece (and a rounding margin): every piece that
    close has its midpoint inside the block. Distances are then recomputed with
    GEOS's formula for the few candidates within the scan's rounding bound of the
    minimum, and among segments at the same distance the lowest number wins
    (lowest edge, then first segment along it, as GEOS ``line_locate_point``
    does within a line).
    """
    inv = 1.0 / g.cell_m
    sx = (x - g.x0) * inv
    sy = (y - g.y0) * inv
    # visit points cell by cell: neighbours read the same segments
    kx = np.clip(sx, -1.0, g.nx).astype(np.int64)
    todo = np.argsort(np.clip(sy, -1.0, g.ny).astype(np.int64) * (g.nx + 2) + kx)
    lx = (x - g.x0).astype(g.e_ax.dtype)
    ly = (y - g.y0).astype(g.e_ax.dtype)
    found_p: list[np.ndarray] = []
    found_s: list[np.ndarray] = []
    for width in widths:
        if todo.size == 0:
            break
        todo = _grid_pass(g, lx, ly, sx, sy, todo, width, found_p, found_s)
    p = np.concatenate(found_p) if found_p else np.zeros(0, dtype=np.int64)
    s = np.concatenate(found_s).astype(np.int64) if found_s else p
    if p.size == 0:
        return p, s, np.zeros(0), np.zeros(0)
    d, r = _point_segment_distance(x[p], y[p], g, s)
    # near ties: the exact minimum, then the lowest segment (pairs come grouped by point)
    head = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    if head.size < p.size:
        size = np.diff(np.r_[head, p.size])
        dmin = np.minimum.reduceat(d, head)
        rk = np.where(d == np.repeat(dmin, size), s, np.iinfo(np.int64).max)
        win = np.flatnonzero(rk == np.repeat(np.minimum.reduceat(rk, head), size))
        first = np.r_[True, p[win][1:] != p[win][:-1]]
        head = win[first]
    return p[head], s[head], d[head], r[head]


def _grid_pass(
    g: SegmentGrid,
    x: np.ndarray,
    y: np.ndarray,
    sx: np.ndarray,
    sy: np.ndarray,
    todo: np.ndarray,
    width: int,
    found_p: list[np.ndarray],
    found_s: list[np.ndarray],
) -> np.ndarray:
    """One pass of :func:`_grid_nearest` over ``todo``; returns those still unsettled."""
    nx, ny = g.nx, g.ny
    px, py = sx[todo], sy[todo]
    c0 = np.floor(px - (width - 1) / 2.0)
    r0 = np.floor(py - (width - 1) / 2.0)
    border = np.minimum(np.minimum(px - c0, c0 + width - px), np.minimum(py - r0, r0 + width - py))
    radius = (border - _GRID_MARGIN) * g.cell_m - g.half_piece_m - g.tol_m
    # the block, clipped to the grid (cells outside it hold no segments)
    lo_c = np.clip(c0, 0, nx).astype(np.int64)
    hi_c = np.clip(c0 + width, 0, nx).astype(np.int64)
    lo_r = np.clip(r0, 0, ny).astype(np.int64)
    hi_r = np.clip(r0 + width, 0, ny).astype(np.int64)
    rows = lo_r[:, None] + np.arange(width, dtype=np.int64)[None, :]
    valid = (rows < hi_r[:, None]) & (hi_c > lo_c)[:, None]
    rows = np.minimum(rows, ny - 1) * nx
    lo = g.cell_start[rows + lo_c[:, None]]
    cnt = np.where(valid, g.cell_start[rows + hi_c[:, None]] - lo, 0)
    per_point = cnt.sum(axis=1)
    ends = np.cumsum(per_point)
    settled = np.zeros(todo.size, dtype=bool)
    a = 0
    while a < todo.size:
        b = int(np.searchsorted(ends, ends[a] - per_point[a] + _GRID_PAIR_CHUNK, side="right"))
        b = max(b, a + 1)
        _grid_chunk(g, x, y, todo[a:b], lo[a:b].ravel(), cnt[a:b].ravel(), per_point[a:b],
                    radius[a:b], settled[a:b], found_p, found_s)  # fmt: skip
        a = b
    return todo[~settled]


def _grid_chunk(
    g: SegmentGrid,
    x: np.ndarray,
    y: np.ndarray,
    pts: np.ndarray,
    lo: np.ndarray,
    cnt: np.ndarray,
    per_point: np.ndarray,
    radius: np.ndarray,
    settled: np.ndarray,
    found_p: list[np.ndarray],
    found_s: list[np.ndarray],
) -> None:
    """Candidates of the points ``pts`` among the segments of their blocks (in place)."""
    total = int(cnt.sum())
    if total == 0:
        return
    ent = np.repeat(lo - (np.cumsum(cnt) - cnt), cnt)
    ent += np.arange(total, dtype=np.int64)
    # squared distances, cheaply
    wx = np.repeat(x[pts], per_point)
    wx -= g.e_ax[ent]
    wy = np.repeat(y[pts], per_point)
    wy -= g.e_ay[ent]
    sdx, sdy = g.e_dx[ent], g.e_dy[ent]
    t = wx * sdx
    t += wy * sdy
    t *= g.e_inv_len2[ent]
    np.clip(t, 0.0, 1.0, out=t)
    sdx *= t
    sdy *= t
    wx -= sdx
    wy -= sdy
    wx *= wx
    wy *= wy
    wx += wy
    d2 = wx
    has = np.flatnonzero(per_point)
    starts = (np.cumsum(per_point) - per_point)[has]
    m = np.minimum.reduceat(d2, starts)
    # settled: the nearest candidate lies within the point's exactness radius (which
    # allows for the scan's rounding, tol_m)
    dm = np.sqrt(m.astype(np.float64))
    ok = dm <= radius[has]
    settled[has[ok]] = True
    # every candidate that may be the nearest (within twice the rounding bound of
    # the minimum) goes to the exact comparison
    lim = np.where(ok, (dm + 2.0 * g.tol_m) ** 2, -1.0).astype(d2.dtype)
    near = np.flatnonzero(d2 <= np.repeat(lim, per_point[has]))
    who = has[np.searchsorted(starts, near, side="right") - 1]
    found_p.append(pts[who])
    found_s.append(g.e_seg[ent[near]])


def _cap_width(g: SegmentGrid, max_distance_m: float | None) -> int | None:
    """Block width that settles every point within ``max_distance_m`` of a segment.

    A pass of width ``w`` settles a point whose nearest segment lies within
    ``((w - 1) / 2 - margin) * cell_m - half_piece_m - 2 * tol_m`` (see
    :func:`_grid_nearest`). None: no cap, or a block wider than
    :data:`_GRID_CAP_MAX_WIDTH`.
    """
    if max_distance_m is None or not math.isfinite(max_distance_m) or max_distance_m < 0:
        return None
    half = (max_distance_m + g.half_piece_m + 2.0 * g.tol_m) / g.cell_m + _GRID_MARGIN
    width = 2 * math.ceil(half) + 3
    return width if width <= _GRID_CAP_MAX_WIDTH else None


def nearest_edges(
    net: WalkNetwork, pts: np.ndarray, *, max_distance_m: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge, offset (m) and distance for every point (-1/nan/inf if empty).

    Exact, two ways. Points are first looked up in the network's segment grid
    (:class:`SegmentGrid`, built once per network: vectorised point-to-segment
    distances over blocks of cells around each point, :func:`_grid_nearest`),
    which settles every point within a few cell sides (tens to hundreds of
    metres) of the network. The rest (far points, non-point geometries, points
    nearest to a MultiLineString edge, networks with non-lineal or non-finite
    edges) go through the edges' STRtree. Distances are GEOS's point-to-segment
    distances (as ``shapely.distance``) and offsets GEOS's
    ``line_locate_point(normalized=True)`` times ``length_m``. Among equally near
    edges the lowest edge index wins, on both paths.

    With ``max_distance_m`` (for callers that cap the distances anyway), a point
    farther than that from every edge may come back as -1/nan/inf instead; every
    nearer point is answered exactly as without it. The grid then scans one more
    block, wide enough to settle every point within ``max_distance_m``, and the
    points it leaves go nowhere else: no STRtree (nor, for a loaded network, its
    geometries) is built for them.
    """
    n = pts.size
    edge = np.full(n, -1, dtype=np.int64)
    off = np.full(n, np.nan)
    dist = np.full(n, np.inf)
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    if net.n_edges == 0 or not ok.any():
        return edge, off, dist
    cand = np.flatnonzero(ok)
    g = net._segments
    if g.complete:
        is_pt = shapely.get_type_id(pts[cand]) == 0
        on = cand[is_pt]
        xy = shapely.get_coordinates(pts[on])
        x, y = xy[:, 0], xy[:, 1]
        fin = np.isfinite(x) & np.isfinite(y)
        on, x, y = on[fin], x[fin], y[fin]
        cap_w = _cap_width(g, max_distance_m)
        widths: tuple[int, ...] = _GRID_PASS_WIDTHS
        if cap_w is not None and cap_w > widths[-1]:
            widths = (*widths, cap_w)
        p, seg, d, r = _grid_nearest(g, x, y, widths)
        scanned = on
        on = on[p]
        e, frac = _project_on_edges(g, seg, r)
        if g.odd_edges.size:  # MultiLineStrings: their points go to the STRtree
            fine = ~np.isin(e, g.odd_edges)
            on, e, d, frac = on[fine], e[fine], d[fine], frac[fine]
        edge[on] = e
        dist[on] = d
        off[on] = frac * net.length_m[e]
        settled = np.zeros(n, dtype=bool)
        settled[on] = True
        if cap_w is not None:  # left by the grid: farther than max_distance_m
            left = np.ones(scanned.size, dtype=bool)
            left[p] = False
            settled[scanned[left]] = True
        cand = cand[~settled[cand]]
    if cand.size:
        _tree_nearest(net, pts, cand, edge, off, dist)
    return edge, off, dist


def _tree_nearest(
    net: WalkNetwork,
    pts: np.ndarray,
    cand: np.ndarray,
    edge: np.ndarray,
    off: np.ndarray,
    dist: np.ndarray,
) -> None:
    """The STRtree path of :func:`nearest_edges` for the points ``cand`` (in place)."""
    # query in Morton (Z-order) order: neighbouring points hit the same tree nodes,
    # which is about twice as fast for buildings that arrive in arbitrary order
    cand = cand[np.argsort(_morton(shapely.get_coordinates(pts[cand])), kind="stable")]
    (qi, ei), d = net.edge_tree.query_nearest(pts[cand], return_distance=True, all_matches=True)
    # all equally near edges are returned: keep the lowest edge index
    o = np.lexsort((ei, qi))
    qi, ei, d = qi[o], ei[o], d[o]
    head = np.ones(qi.size, dtype=bool)
    head[1:] = qi[1:] != qi[:-1]
    qi, ei, d = qi[head], ei[head], d[head]
    idx = cand[qi]
    edge[idx] = ei
    dist[idx] = d
    frac = shapely.line_locate_point(net.geometry[ei], pts[idx], normalized=True)
    off[idx] = np.nan_to_num(frac) * net.length_m[ei]

"""Service areas: the streets within walking reach of facilities, cut and buffered.

Per category (one multi-source pass on the augmented graph) or per facility
(single-source passes in chunks): each street piece is cut where the limit falls
and the reachable parts are buffered; no convex hulls.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from geoplan._errors import InputError
from geoplan.network import WalkNetwork, snap_points
from geoplan.reach._augment import CELL_BUDGET, Augmented, augment, run
from geoplan.reach._inputs import categories, check_limit, warn_unreachable

__all__ = ["service_areas"]


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
    aug: Augmented,
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
    check_limit(limit_m)
    if by not in {"category", "facility"}:
        raise InputError(f"by must be 'category' or 'facility', got {by!r}", column="by")
    if not (np.isfinite(buffer_m) and buffer_m > 0):
        raise InputError("buffer_m must be > 0", column="buffer_m")
    need_cat = by == "category" or category_col in facilities.columns
    cats = categories(facilities, category_col) if need_cat else None
    f = snap_points(
        network,
        facilities,
        max_snap_m=max_snap_m,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
    )
    warn_unreachable(f, "facilities", max_snap_m)
    aug = augment(network, f)
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
            dist, _ = run(aug, aug.doors[sel], limit_m)
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
        chunk = max(1, CELL_BUDGET // max(aug.n_nodes, 2 * n_seg, 1))
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

"""Point geometry for snapping, and access through compound gates (private).

Used by :func:`geoplan.network.snap_points`: points (or polygons, by a point on
their surface) in the network's CRS (:func:`as_points`), and for points inside
gated compounds the access rows through the compound's gates or internal roads
(:func:`gated_access`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geoplan._errors import InputError
from geoplan.network._segment_grid import nearest_edges

if TYPE_CHECKING:
    from geoplan.network.graph import WalkNetwork


def as_points(points: gpd.GeoDataFrame | gpd.GeoSeries, net: WalkNetwork, what: str) -> np.ndarray:
    geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
    if geoms.crs is None:
        raise InputError(f"{what} have no CRS", column="geometry")
    if not pyproj.CRS(geoms.crs).equals(net.crs):
        raise InputError(
            f"{what} CRS {pyproj.CRS(geoms.crs).name} differs from the network's "
            f"{net.crs.name}; reproject with .to_crs(network.crs)",
            column="geometry",
        )
    values = np.asarray(geoms.values, dtype=object)
    pts = values.copy()
    notpt = ~shapely.is_missing(values) & (shapely.get_type_id(values) != 0)
    if notpt.any():
        pts[notpt] = shapely.point_on_surface(values[notpt])
    return pts


def gated_access(
    net: WalkNetwork,
    pts: np.ndarray,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None,
    *,
    max_snap_m: float,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Access rows for points inside compounds that have gates or internal roads."""
    n = pts.size
    polys = _as_points_raw(compounds, net, "compounds")
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
    if polys.size == 0:
        return (*empty, np.zeros(n, dtype=bool))
    ctree = shapely.STRtree(polys)
    # the compound of each point (the smallest containing one)
    pi, ci = ctree.query(pts, predicate="within")
    area = shapely.area(polys)
    order = np.lexsort((area[ci], pi))
    pi, ci = pi[order], ci[order]
    first = np.ones(pi.size, dtype=bool)
    first[1:] = pi[1:] != pi[:-1]
    pi, ci = pi[first], ci[first]
    rows: list[tuple[np.ndarray, ...]] = []
    has_exit = np.zeros(polys.size, dtype=bool)
    # gates: straight line from the point to each gate of its compound
    if gates is not None and len(gates):
        gpts = as_points(gates, net, "gates")
        g_edge, g_off, g_dist = nearest_edges(net, gpts)
        gi, gc = (
            ctree.query(gpts, predicate="dwithin", distance=tol)
            if tol > 0
            else ctree.query(gpts, predicate="intersects")
        )
        usable = g_dist[gi] <= max_snap_m
        gi, gc = gi[usable], gc[usable]
        has_exit[gc] = True
        p_rep, g_rep = _pair_by_group(pi, ci, gi, gc)
        leg = shapely.distance(pts[p_rep], gpts[g_rep]) + g_dist[g_rep]
        rows.append((p_rep, g_edge[g_rep], g_off[g_rep], leg))
    # internal roads: edges covered by the compound
    cover = polys if tol <= 0 else shapely.buffer(polys, tol)
    cc, ee = net.edge_tree.query(cover, predicate="covers")
    if cc.size:
        has_exit[cc] = True
        p_rep, e_rep = _pair_by_group(pi, ci, ee, cc)
        d = shapely.distance(pts[p_rep], net.geometry[e_rep])
        o = np.lexsort((d, p_rep))
        p_rep, e_rep, d = p_rep[o], e_rep[o], d[o]
        f = np.ones(p_rep.size, dtype=bool)
        f[1:] = p_rep[1:] != p_rep[:-1]
        p_rep, e_rep, d = p_rep[f], e_rep[f], d[f]
        near = d <= max_snap_m
        p_rep, e_rep, d = p_rep[near], e_rep[near], d[near]
        frac = shapely.line_locate_point(net.geometry[e_rep], pts[p_rep], normalized=True)
        rows.append((p_rep, e_rep, np.nan_to_num(frac) * net.length_m[e_rep], d))
    gated = np.zeros(n, dtype=bool)
    gated[pi[has_exit[ci]]] = True
    if not rows:
        return (*empty, gated)
    return (
        np.concatenate([r[0] for r in rows]).astype(np.int64),
        np.concatenate([r[1] for r in rows]).astype(np.int64),
        np.concatenate([r[2] for r in rows]).astype(np.float64),
        np.concatenate([r[3] for r in rows]).astype(np.float64),
        gated,
    )


def _as_points_raw(
    layer: gpd.GeoDataFrame | gpd.GeoSeries, net: WalkNetwork, what: str
) -> np.ndarray:
    geoms = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
    if geoms.crs is None or not pyproj.CRS(geoms.crs).equals(net.crs):
        raise InputError(f"{what} must be in the network's CRS {net.crs.name}", column="geometry")
    return np.asarray(geoms.values, dtype=object)


def _pair_by_group(
    a_item: np.ndarray, a_group: np.ndarray, b_item: np.ndarray, b_group: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """All (a, b) pairs with equal group (a many-to-many join, vectorised)."""
    if a_item.size == 0 or b_item.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ob = np.argsort(b_group, kind="stable")
    bg, bi = b_group[ob], b_item[ob]
    lo = np.searchsorted(bg, a_group, side="left")
    hi = np.searchsorted(bg, a_group, side="right")
    cnt = hi - lo
    a_rep = np.repeat(a_item, cnt)
    start = np.repeat(lo, cnt)
    within = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return a_rep.astype(np.int64), bi[start + within].astype(np.int64)

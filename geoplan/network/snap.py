"""Snapping points onto a network's edges: :class:`Snapped` and :func:`snap_points`.

:func:`snap_points` puts points onto the nearest **edge** (not node), records the
snap distance, refuses points farther than ``max_snap_m``, reports points that
land on small islands, and routes residents of gated compounds through their
gates (:mod:`geoplan.network._gates`). The exact nearest-edge search itself,
:func:`nearest_edges`, is the segment grid of :mod:`geoplan.network._segment_grid`.
See ``docs/network.md``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.network._gates import as_points, gated_access
from geoplan.network._segment_grid import nearest_edges
from geoplan.network.graph import WalkNetwork

__all__ = ["Snapped", "nearest_edges", "snap_points"]


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points placed on a network's edges.

    Per point (aligned to ``index``): ``edge`` (nearest usable edge, -1 when
    none), ``offset_m`` (metres along the edge from its ``u`` node), ``snap_m``
    (shortest access leg: straight distance to the network, or to the network
    through a gate), ``reachable``, ``gated`` (inside a compound with gates),
    ``component`` and ``component_nodes`` of the entry edge.

    Access positions (one row per way onto the network, sorted by point): a
    plain point has one, a point in a gated compound one per usable gate plus
    its compound's internal roads. ``access_point`` (position of the point),
    ``access_edge``, ``access_offset_m``, ``access_leg_m`` (metres walked off the
    network before reaching that position).
    """

    index: pd.Index
    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray
    reachable: np.ndarray
    gated: np.ndarray
    component: np.ndarray
    component_nodes: np.ndarray
    access_point: np.ndarray
    access_edge: np.ndarray
    access_offset_m: np.ndarray
    access_leg_m: np.ndarray

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.index)

    def to_frame(self) -> pd.DataFrame:
        """Per-point columns as a DataFrame aligned to ``index``."""
        return pd.DataFrame(
            {
                "snap_m": self.snap_m,
                "reachable": self.reachable,
                "gated": self.gated,
                "component": self.component,
                "component_nodes": self.component_nodes,
                "edge": self.edge,
                "offset_m": self.offset_m,
            },
            index=self.index,
        )


def snap_points(
    network: WalkNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
    min_component_nodes: int | None = None,
) -> Snapped:
    """Snap points (or polygons, by a point on their surface) onto the nearest edges.

    Parameters
    ----------
    network
        The walking network.
    points
        Points or polygons in the network's CRS.
    max_snap_m
        Points farther than this from every edge are ``reachable=False`` (their
        ``snap_m`` is still recorded); never silently snapped.
    compounds
        Polygons of gated compounds. A point inside a compound that has gates or
        internal roads enters the network only through its gates (straight line
        inside the compound to the gate, then the gate's snapped position) or
        through the compound's internal roads (edges covered by the polygon).
    gates
        Gate points (OSM ``entrance`` / ``barrier=gate`` nodes). A gate belongs to
        every compound within ``gate_tolerance_m`` of it.
    gate_tolerance_m
        How far from a compound polygon a gate may lie (0: on or inside it).
    min_component_nodes
        Points whose entry edge lies in a component with fewer nodes are
        reported with a :class:`DataQualityWarning`; None: every component but
        the largest counts as an island.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650))
    >>> s = snap_points(net, gpd.GeoSeries([Point(30, 5), Point(50, 900)], crs=32650),
    ...                 max_snap_m=300)
    >>> s.offset_m.tolist(), s.snap_m.tolist(), s.reachable.tolist()
    ([30.0, 50.0], [5.0, 900.0], [True, False])
    """
    if not np.isfinite(max_snap_m) or max_snap_m < 0:
        raise InputError("max_snap_m must be a finite number >= 0", column="max_snap_m")
    pts = as_points(points, network, "points")
    index = (points.index if points is not None else pd.RangeIndex(0)).copy()
    n = pts.size
    edge, off, dist = nearest_edges(network, pts)
    ok = dist <= max_snap_m
    rows_p = [np.flatnonzero(ok)]
    rows_e = [edge[ok]]
    rows_o = [off[ok]]
    rows_l = [dist[ok]]
    gated = np.zeros(n, dtype=bool)
    if compounds is not None and n:
        gp, ge, go, gl, gated = gated_access(
            network, pts, compounds, gates, max_snap_m=max_snap_m, tol=gate_tolerance_m
        )
        plain = ~gated[rows_p[0]]
        rows_p = [rows_p[0][plain], gp]
        rows_e = [rows_e[0][plain], ge]
        rows_o = [rows_o[0][plain], go]
        rows_l = [rows_l[0][plain], gl]
    ap = np.concatenate(rows_p).astype(np.int64)
    ae = np.concatenate(rows_e).astype(np.int64)
    ao = np.concatenate(rows_o).astype(np.float64)
    al = np.concatenate(rows_l).astype(np.float64)
    if ap.size > 1 and not bool((ap[1:] > ap[:-1]).all()):  # gated rows: sort by point
        order = np.lexsort((al, ap))
        ap, ae, ao, al = ap[order], ae[order], ao[order], al[order]
    # per point: the access with the shortest leg
    first = np.ones(ap.size, dtype=bool)
    first[1:] = ap[1:] != ap[:-1]
    best = np.flatnonzero(first)
    reachable = np.zeros(n, dtype=bool)
    reachable[ap[best]] = True
    out_edge = np.where(reachable, -1, edge)
    out_off = np.where(reachable, np.nan, off)
    out_snap = dist.copy()
    out_edge[ap[best]] = ae[best]
    out_off[ap[best]] = ao[best]
    out_snap[ap[best]] = al[best]
    label, size = network._components
    comp = np.full(n, -1, dtype=np.int64)
    comp_n = np.zeros(n, dtype=np.int64)
    has = out_edge >= 0
    if has.any():
        nodes = network.u[out_edge[has]]
        comp[has] = label[nodes]
        comp_n[has] = size[nodes]
    snapped = Snapped(
        index=index,
        edge=out_edge,
        offset_m=out_off,
        snap_m=out_snap,
        reachable=reachable,
        gated=gated,
        component=comp,
        component_nodes=comp_n,
        access_point=ap,
        access_edge=ae,
        access_offset_m=ao,
        access_leg_m=al,
    )
    _warn_islands(snapped, min_component_nodes)
    return snapped


def _warn_islands(s: Snapped, min_component_nodes: int | None) -> None:
    if min_component_nodes is None:
        small = s.reachable & (s.component > 0)
        rule = "outside the largest component"
    else:
        small = s.reachable & (s.component_nodes < min_component_nodes)
        rule = f"on components with fewer than {min_component_nodes} nodes"
    if small.any():
        ids = ", ".join(str(i) for i in s.index[small][:5])
        more = " ..." if small.sum() > 5 else ""
        warnings.warn(
            f"{int(small.sum())} point(s) snapped {rule} (islands of the walk network; "
            f"see columns component/component_nodes): {ids}{more}",
            DataQualityWarning,
            stacklevel=3,
        )

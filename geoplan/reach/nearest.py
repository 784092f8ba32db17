"""Nearest facility: distance from each origin to the nearest source, one pass per set.

Snapped points (:func:`geoplan.network.snap_points`) become **virtual nodes** of
the augmented graph (:mod:`geoplan.reach._augment`): every edge that carries
snapped sources is split at them, so distances between two points on the same
edge are exact. Each source gets a "door" node joined to its access positions by
its access legs, so that one scipy ``dijkstra(indices=doors, min_only=True,
limit=...)`` pass gives, for every node, the distance to the nearest source and
which source it is; each origin then takes the minimum over its access rows.

Distances are measured **from each origin to a facility** (the pass runs on the
reversed graph, which equals the walking graph unless ``oneway:foot`` ways exist)
and include both access legs: origin -> street (``snap_m``, or through a
compound gate) and street -> facility.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import InputError
from geoplan._timing import phase
from geoplan.network import Snapped, WalkNetwork, snap_points
from geoplan.reach._augment import Augmented, augment, run, source_point
from geoplan.reach._inputs import categories, check_limit, warn_unreachable
from geoplan.reach._parallel import resolve_jobs, run_tasks

__all__ = ["multi_source_distances", "nearest_facilities"]


@dataclass(frozen=True, eq=False)
class _Rows:
    """Access rows located on pieces: both piece ends and the walk to each (once per run)."""

    a: np.ndarray
    b: np.ndarray
    to_a: np.ndarray  # inf where the piece is one-way (no walking back to a)
    to_b: np.ndarray
    single: bool  # one access row per point, in point order


def _rows(aug: Augmented, net: WalkNetwork, targets: Snapped) -> _Rows:
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
    aug: Augmented,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Per point: min over its access rows of distance + leg (inf beyond limit).

    Returns the distance and the source point position (-1 beyond the limit).
    """
    out_d = np.full(snapped.n, np.inf)
    out_s = np.full(snapped.n, -1, dtype=np.int64)
    if snapped.access_point.size == 0:
        return out_d, out_s
    # the arithmetic of row_dist on the precomputed rows
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
        out_s[pts] = source_point(aug, src_node[end[ok]])
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
    out_s[pts] = source_point(aug, src_node[end[best][ok]])
    return out_d, out_s


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
    check_limit(limit_m)
    aug = augment(network, sources)
    dist, src_node = run(aug, aug.doors[aug.doors >= 0], limit_m)
    if targets is None:
        n = network.n_nodes
        return dist[:n], source_point(aug, src_node[:n]).astype(np.int64, copy=False)
    return _point_min(targets, _rows(aug, network, targets), dist, src_node, aug, limit_m)


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
    jobs: int | None = 1,
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
    jobs
        Processes for the per-category passes (forked, sharing the graph; Linux):
        1 runs them here, None or 0 on every available core. The results are the
        same bit for bit whatever ``jobs`` is.

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
    check_limit(limit_m)
    if not (np.isfinite(walk_speed_m_per_min) and walk_speed_m_per_min > 0):
        raise InputError("walk_speed_m_per_min must be > 0", column="walk_speed_m_per_min")
    cats = categories(facilities, category_col)
    snap = functools.partial(
        snap_points,
        network,
        max_snap_m=max_snap_m,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
        min_component_nodes=min_component_nodes,
    )
    with phase("snap"):  # origins and facilities onto the edges
        o = origins if isinstance(origins, Snapped) else snap(origins)
        f = snap(facilities)
        warn_unreachable(f, "facilities", max_snap_m)
    with phase("reach"):  # the augmented graph, one Dijkstra pass per category, the frame
        aug = augment(network, f)
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
        names = sorted({str(c) for c in cat_values if isinstance(c, str)})

        def one_pass(k: int) -> tuple[np.ndarray, np.ndarray]:
            sel = (cat_values == names[k]) & (aug.doors >= 0)
            dist, src_node = run(aug, aug.doors[sel], limit_m)
            return _point_min(o, rows, dist, src_node, aug, limit_m)

        # one pass per category, on up to `jobs` forked processes (the same bits)
        passes = run_tasks(one_pass, len(names), jobs=resolve_jobs(jobs))
        for c, (d, s) in zip(names, passes, strict=True):
            ids = np.full(o.n, None, dtype=object)
            ids[s >= 0] = fac_ids[s[s >= 0]]
            columns[f"walk_m__{c}"] = d
            columns[f"walk_min__{c}"] = d / walk_speed_m_per_min
            columns[f"facility_id__{c}"] = pd.Series(ids, index=index, dtype=object, copy=False)
        # every column is a fresh array of its own: no copy into consolidated blocks
        # (pandas does that later, if an operation needs it)
        return pd.DataFrame(columns, index=index, copy=False)

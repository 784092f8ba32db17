"""Siting on walking distances: coverage matrices from a network, candidate sites,
and :func:`suggest_sites`, which takes the target, limit and scope from a profile."""

from __future__ import annotations

import warnings
from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geoplan._errors import DataQualityWarning, InputError
from geoplan.siting._inputs import as_coverage
from geoplan.siting.solvers import Method, SitingResult, max_cover, set_cover

if TYPE_CHECKING:
    from geoplan.households import Areas
    from geoplan.network import Snapped, WalkNetwork
    from geoplan.profiles import Catchment, Profile

__all__ = [
    "candidates_from_buildings",
    "candidates_from_network",
    "coverage_matrix_from_network",
    "coverage_threshold",
    "default_candidates",
    "suggest_sites",
]


# --------------------------------------------------------------------------- from a network


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"profile parameter {name!r} must be a number", column=name)
    return float(value)


def coverage_threshold(
    profile: Profile | str, *, category: str, target_id: str | None = None, elderly: bool = False
) -> tuple[float, float, str]:
    """Walking limit (metres) and target share of a category's coverage target.

    Looks for the profile's ``coverage`` target with measure ``coverage_share``
    for ``category`` (or the target ``target_id``). The limit is
    :meth:`geoplan.profiles.Target.walk_limit_m` (``within_m``, or
    ``within_min`` at the profile's walking speed; the elderly speed with
    ``elderly=True``), the same rule the coverage audit uses.

    Returns
    -------
    limit_m, target_share, target_id

    Examples
    --------
    >>> limit_m, share, target_id = coverage_threshold("tianjin-2025", category="wet_market")
    >>> target_id, share, limit_m > 0
    ('wet_market_coverage', 0.95, True)
    """
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    if target_id is not None:
        t = p.target(target_id)
    else:
        found = [
            t
            for t in p.targets_for("coverage")
            if t.measure == "coverage_share" and t.category == category
        ]
        if not found:
            from geoplan.profiles import list_profiles

            def sited(q: Profile) -> list[str]:
                return sorted(
                    {
                        str(x.category)
                        for x in q.targets_for("coverage")
                        if x.measure == "coverage_share" and x.category
                    }
                )

            others = [n for n in list_profiles() if category in sited(load_profile(n))]
            raise InputError(
                f"profile {p.name!r} has no coverage_share target for category {category!r} "
                f"(its sited categories: {', '.join(sited(p)) or 'none'}; profiles with a "
                f"target for {category!r}: {', '.join(others) or 'none'}); "
                "pass target_id or limit_m and target_share",
                column="category",
            )
        t = found[0]
    limit = t.walk_limit_m(p, elderly=elderly)
    if not isinstance(t.threshold, float):
        raise InputError(f"target {t.id!r} needs a single threshold", column=t.id)
    return limit, float(t.threshold), t.id


def coverage_matrix_from_network(
    network: WalkNetwork,
    demand: gpd.GeoDataFrame | gpd.GeoSeries,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    limit_m: float,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
) -> sp.csr_matrix:
    """Boolean coverage (candidates x demand): walking distance within ``limit_m``.

    Snaps both layers onto the network (gated compounds enter through their
    gates) and runs :func:`geoplan.reach.reach_matrix`.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=32650))
    >>> homes = gpd.GeoSeries([Point(0, 5), Point(500, 5), Point(990, 5)], crs=32650)
    >>> sites = gpd.GeoSeries([Point(100, 0), Point(900, 0)], crs=32650)
    >>> coverage_matrix_from_network(net, homes, sites, limit_m=350,
    ...                              max_snap_m=50).toarray().astype(int).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    from geoplan.reach import reach_matrix

    o, s = _snap_quietly(
        network,
        demand,
        candidates,
        max_snap_m=max_snap_m,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
    )
    return as_coverage(reach_matrix(network, o, s, limit_m=limit_m))


def _snap_quietly(
    network: WalkNetwork,
    *frames: gpd.GeoDataFrame | gpd.GeoSeries,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None,
    gate_tolerance_m: float,
) -> tuple[Snapped, ...]:
    """Each frame snapped with :func:`geoplan.network.snap_points` (the keywords are
    its own), without island warnings: islands are reported once by the caller's own
    audit; here they simply reach what they reach."""
    from geoplan.network import snap_points

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return tuple(
            snap_points(
                network,
                f,
                max_snap_m=max_snap_m,
                compounds=compounds,
                gates=gates,
                gate_tolerance_m=gate_tolerance_m,
            )
            for f in frames
        )


def _covered_by_existing(
    network: WalkNetwork,
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    limit_m: float,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None,
    gate_tolerance_m: float,
) -> np.ndarray:
    from geoplan.reach import multi_source_distances

    if len(existing) == 0:
        return np.zeros(len(demand), dtype=bool)
    o, f = _snap_quietly(
        network,
        demand,
        existing,
        max_snap_m=max_snap_m,
        compounds=compounds,
        gates=gates,
        gate_tolerance_m=gate_tolerance_m,
    )
    dist, _ = multi_source_distances(network, f, limit_m=limit_m, targets=o)
    return np.asarray(dist <= limit_m, dtype=bool)


def _catchment(
    p: Profile, target_id: str | None, planned_size: float | None
) -> tuple[Catchment | None, float | None]:
    """The catchment of the sited target (None without one) and the walking limit of
    the planned size under it (None without a planned size), the size checked."""
    cid = p.target(target_id).catchment if target_id is not None else None
    if cid is None:
        if planned_size is not None:
            raise InputError(
                "planned_size goes with a target that has a size-dependent catchment; "
                + (f"{target_id!r} has none" if target_id else "no target was looked up"),
                column="planned_size",
            )
        return None, None
    c = p.catchment(str(cid))
    if planned_size is None:
        return c, None
    planned_m = float(c.limits_m([planned_size], p)[0])
    if not np.isfinite(planned_m):
        bands = ", ".join(r.band_text(c.unit) for r in c.rules)
        raise InputError(
            f"planned size {planned_size:g} {c.unit} matches no rule of catchment {c.id!r} "
            f"({bands}): a site of that size would serve no one",
            column="planned_size",
        )
    return c, planned_m


def _covered_by_catchment(
    network: WalkNetwork,
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    catchment: Catchment,
    p: Profile,
    *,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None,
    gate_tolerance_m: float,
) -> np.ndarray:
    """Demand some existing facility covers within its own size's limit (as the audit)."""
    from geoplan.audit.coverage import catchment_cover

    if len(existing) == 0:
        return np.zeros(len(demand), dtype=bool)
    with warnings.catch_warnings():  # islands: reported once by the caller's own audit
        warnings.filterwarnings("ignore", message=".*snapped outside", category=DataQualityWarning)
        cover = catchment_cover(
            network, demand, existing, [catchment], profile=p, max_snap_m=max_snap_m,
            walk_speed_m_per_min=p.walk_speed(), compounds=compounds, gates=gates,
            gate_tolerance_m=gate_tolerance_m,
        )  # fmt: skip
    return cover[catchment.id].covered


def candidates_from_network(
    network: WalkNetwork, *, min_degree: int = 3, spacing_m: float | None = None
) -> gpd.GeoDataFrame:
    """Candidate sites at street junctions: nodes with at least ``min_degree`` streets.

    Parameters
    ----------
    network
        A :class:`geoplan.network.WalkNetwork`.
    min_degree
        Minimum number of distinct neighbouring nodes (3: junctions, not bends).
    spacing_m
        Thin the junctions to at most one per square cell of this size (the one
        nearest the cell centre); None keeps all.

    Returns
    -------
    geopandas.GeoDataFrame
        Points indexed ``candidate_id`` (``node:<node id>``) with ``node_id``,
        ``degree`` and ``source`` (``network_node``), in the network's CRS.

    Examples
    --------
    >>> from shapely import LineString
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)]),
    ...     LineString([(100, 0), (100, 100)])], crs=32650))
    >>> candidates_from_network(net).index.tolist()
    ['node:1']
    """
    u = np.asarray(network.u, dtype=np.int64)
    v = np.asarray(network.v, dtype=np.int64)
    keep = u != v
    pairs = np.unique(np.sort(np.c_[u[keep], v[keep]], axis=1), axis=0)
    degree = np.bincount(pairs.ravel(), minlength=network.n_nodes)
    sel = np.flatnonzero(degree >= min_degree)
    x, y = network.x[sel], network.y[sel]
    if spacing_m is not None and sel.size:
        if not (np.isfinite(spacing_m) and spacing_m > 0):
            raise InputError("spacing_m must be > 0", column="spacing_m")
        cx, cy = np.floor(x / spacing_m), np.floor(y / spacing_m)
        d = np.hypot(x - (cx + 0.5) * spacing_m, y - (cy + 0.5) * spacing_m)
        order = np.lexsort((d, cy, cx))
        key = np.c_[cx, cy][order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (key[1:] != key[:-1]).any(axis=1)
        pick = np.sort(order[first])
        sel, x, y = sel[pick], x[pick], y[pick]
    node_ids = network.node_id[sel]
    return gpd.GeoDataFrame(
        {"node_id": node_ids, "degree": degree[sel], "source": "network_node"},
        geometry=shapely.points(x, y),
        index=pd.Index([f"node:{i}" for i in node_ids], name="candidate_id", dtype=object),
        crs=network.crs,
    )


def candidates_from_buildings(
    buildings: gpd.GeoDataFrame, *, uses: Collection[str] = ("vacant",), use_col: str = "use"
) -> gpd.GeoDataFrame:
    """Candidate sites in buildings whose use says they are free (default ``vacant``).

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"use": ["residential", "vacant"]},
    ...     geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], index=["b1", "b2"], crs=32650)
    >>> candidates_from_buildings(b).index.tolist()
    ['b2']
    """
    if use_col not in buildings.columns:
        raise InputError(f"buildings have no {use_col!r} column", column=use_col)
    wanted = {u.lower() for u in uses}
    mask = buildings[use_col].astype("string").str.lower().isin(wanted).fillna(False)
    out = buildings.loc[mask.to_numpy(dtype=bool)].copy()
    out["source"] = "building"
    out.index = pd.Index(out.index.astype(str), name="candidate_id", dtype=object)
    return out


def default_candidates(network: WalkNetwork, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The candidates used when none are given: street junctions
    (:func:`candidates_from_network`) and, when buildings carry ``use``, vacant
    buildings (:func:`candidates_from_buildings`).

    Examples
    --------
    >>> from shapely import LineString, box
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (200, 0)]), LineString([(100, -100), (100, 100)])],
    ...     crs=32650))
    >>> b = gpd.GeoDataFrame({"use": ["vacant", "residential"]},
    ...     geometry=[box(10, 10, 30, 30), box(40, 10, 60, 30)], index=["b1", "b2"], crs=32650)
    >>> len(default_candidates(net, b)) == len(candidates_from_network(net)) + 1
    True
    """
    parts = [candidates_from_network(network)]
    if "use" in buildings.columns:
        parts.append(candidates_from_buildings(buildings))
    return pd.concat(parts)


def _demand(
    buildings: gpd.GeoDataFrame, profile: Profile, *, areas: Areas | None = None
) -> gpd.GeoDataFrame:
    from geoplan.households import SOURCE_COL, estimate_households, needs_estimate

    if "households" not in buildings.columns:
        raise InputError("buildings have no 'households' column", column="households")
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    if needs_estimate(buildings):
        buildings = estimate_households(buildings, params=profile, areas=areas)
        hh = pd.to_numeric(buildings["households"], errors="coerce")
        if hh.isna().any():
            bad = ", ".join(str(i) for i in hh.index[hh.isna()][:5])
            warnings.warn(
                f"{int(hh.isna().sum())} buildings without a household count are left out: {bad}",
                DataQualityWarning,
                stacklevel=3,
            )
    keep = [c for c in (SOURCE_COL, "building_class") if c in buildings.columns]
    out = buildings[[buildings.geometry.name, *keep]].copy()
    out["households"] = hh.fillna(0.0).to_numpy(dtype=np.float64)
    return out


def suggest_sites(
    network: WalkNetwork,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    category: str,
    profile: Profile | str,
    target_id: str | None = None,
    limit_m: float | None = None,
    target_share: float | None = None,
    k: int | None = None,
    method: Method = "auto",
    category_col: str = "category",
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_tolerance_m: float = 0.0,
    time_limit_s: float | None = None,
    communities: gpd.GeoDataFrame | None = None,
    check_layers: bool = True,
    planned_size: float | None = None,
) -> SitingResult:
    """Recommend new sites for ``category`` on walking distances over ``network``.

    Households are those of ``buildings``; those reaching an existing facility
    of the category within the limit count as covered already. When the
    profile's coverage target is scoped to central districts (Tianjin's wet
    markets) and ``communities`` carry the ``central_district`` flag, only the
    households of central communities count toward the target, as in
    :func:`geoplan.audit.coverage.audit_coverage`; the others still get the
    sites' coverage in ``covered_after`` but weigh nothing.

    Parameters
    ----------
    network
        A :class:`geoplan.network.WalkNetwork` in the buildings' CRS.
    buildings
        Canonical buildings (``households``; missing counts are estimated with
        the profile's parameters).
    facilities
        Canonical facilities; only those of ``category`` are used.
    candidates
        Candidate sites (points or polygons), e.g. from
        :func:`candidates_from_network`, :func:`candidates_from_buildings`, or
        user parcels; the index gives the site ids.
    category
        Category id (``wet_market``, ...).
    profile
        A profile (or its name): the coverage target of ``category`` gives the
        walking limit and the target share; ``max_snap_m`` and the walking speed
        come from its parameters.
    target_id
        Use this coverage target instead of looking one up by category.
    limit_m, target_share
        Override the profile's walking limit (metres) and target share.
    k
        When given, choose the best ``k`` sites (max cover) instead of the fewest
        sites reaching the target (set cover).
    method
        ``"auto"`` (default): the exact minimum (HiGHS) whenever it is proven
        within ``time_limit_s``, the greedy answer beyond it (the result's
        ``method`` and ``method_reason`` say which); ``"exact"`` or
        ``"greedy"`` (city scale) by name.
    category_col, compounds, gates, gate_tolerance_m
        Facility category column; gated compounds and their gates for snapping.
    time_limit_s
        Seconds the exact solver may take. Default: with ``"auto"``, the
        profile's ``siting_time_limit_s``; with ``"exact"``, no limit.
    communities
        Communities (``central_district`` flag) giving the target's scope; the
        buildings' ``community_id`` or their position assigns them.
    check_layers
        Check first that the layers line up with the network
        (:func:`geoplan.alignment.check_alignment`); False when the caller has just
        checked them (the command line does, to name the files in its message).
    planned_size
        For a target with a size-dependent ``catchment`` (parks: 5,000 m2 or more
        serve 500 m, 2,000-5,000 m2 serve 300 m): the size new sites are planned at,
        in the catchment's unit; their walking limit is that size's rule. Default:
        the largest limit of any rule (sites planned at the largest size band).
        Existing facilities always count with their own size's limit.

    Returns
    -------
    SitingResult
        ``sites`` is a GeoDataFrame (candidate geometry) with ``site_id``,
        ``order``, ``added_households``, ``households_covered``,
        ``coverage_share``, ``category`` and ``lon``/``lat`` (WGS84, a point
        on the site); ``covered_before``/``covered_after``
        are aligned to ``buildings.index``.

    Examples
    --------
    >>> import warnings
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.network import network_from_lines
    >>> d = make_sample_district(seed=0)
    >>> net = network_from_lines(d.streets)
    >>> cands = candidates_from_network(net)
    >>> with warnings.catch_warnings():  # the sample leaves households to estimate
    ...     warnings.simplefilter("ignore")
    ...     r = suggest_sites(net, d.buildings, d.facilities, cands, category="wet_market",
    ...                       profile="tianjin-2025", compounds=d.compounds, gates=d.gates,
    ...                       communities=d.communities)
    >>> r.parameters["scope"], f"{r.coverage_before:.1%}", f"{r.coverage_after:.1%}", r.n_sites
    ('central_district', '89.1%', '99.7%', 1)
    >>> r.method, r.method_reason, r.optimal, r.time_limit_s
    ('exact', 'solved_in_time', True, 10.0)
    """
    from geoplan.households import households_summary
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    limit_given = limit_m is not None
    need_target = limit_m is None or (target_share is None and k is None)
    t_id = None
    if need_target:
        lim, share, t_id = coverage_threshold(p, category=category, target_id=target_id)
        limit_m = lim if limit_m is None else limit_m
        target_share = share if target_share is None else target_share
    assert limit_m is not None
    max_snap_m = _number(p.parameter("max_snap_m"), "max_snap_m")
    if time_limit_s is None and method == "auto":
        time_limit_s = _number(p.parameter("siting_time_limit_s"), "siting_time_limit_s")
    crs = buildings.crs
    for name, frame in (("facilities", facilities), ("candidates", candidates)):
        if frame.crs is None or crs is None or not frame.crs.equals(crs):
            raise InputError(
                f"{name} CRS differs from the buildings' CRS; reproject first", column="geometry"
            )
    if category_col not in facilities.columns:
        raise InputError(f"facilities have no {category_col!r} column", column=category_col)
    from geoplan.alignment import check_alignment

    # layers that do not line up with the network are bad input, not a siting answer
    if check_layers:
        check_alignment(
            network, profile=p, buildings=buildings, facilities=facilities, communities=communities
        )
    demand = _demand(buildings, p, areas=[compounds, communities])
    scope = p.target(t_id).scope if t_id is not None else "all"
    counted = np.ones(len(demand), dtype=bool)
    if scope == "central_district":
        from geoplan.audit.coverage import in_scope, unflagged_centre

        if communities is None or unflagged_centre(communities):
            scope = "all (no central_district flags given)"
        else:
            counted = in_scope(buildings, communities.to_crs(crs), scope)
    existing = facilities.loc[
        (facilities[category_col].astype("string") == category).fillna(False).to_numpy(dtype=bool)
    ]
    snap_kw: dict[str, Any] = {
        "max_snap_m": max_snap_m,
        "compounds": compounds,
        "gates": gates,
        "gate_tolerance_m": gate_tolerance_m,
    }
    catchment, planned_m = _catchment(p, t_id, planned_size)
    if catchment is not None:  # existing facilities each within their own limit
        covered0 = _covered_by_catchment(network, demand, existing, catchment, p, **snap_kw)
        if planned_m is not None and not limit_given:  # the planned size's rule
            limit_m = planned_m
    else:
        covered0 = _covered_by_existing(network, demand, existing, limit_m=limit_m, **snap_kw)
    cov = coverage_matrix_from_network(network, demand, candidates, limit_m=limit_m, **snap_kw)
    w = np.where(counted, demand["households"].to_numpy(dtype=np.float64), 0.0)
    common: dict[str, Any] = {
        "already_covered": covered0,
        "method": method,
        "candidate_ids": candidates.index,
        "demand_index": buildings.index,
        "time_limit_s": time_limit_s,
    }
    if k is not None:
        result = max_cover(cov, w, k=k, **common)
    else:
        assert target_share is not None
        result = set_cover(cov, w, target_share=target_share, **common)
    chosen = list(result.sites.index)
    pos = candidates.index.astype(str).get_indexer(chosen)
    sites = gpd.GeoDataFrame(
        result.sites.assign(category=category),
        geometry=candidates.geometry.to_numpy()[pos] if chosen else [],
        crs=candidates.crs,
    )
    sites.index.name = "site_id"
    if len(sites) and sites.crs is not None:
        # where to build, readable without a GIS: WGS84 lon/lat of each site
        lonlat = sites.geometry.representative_point().to_crs(4326)
        sites["lon"] = lonlat.x.round(6).to_numpy()
        sites["lat"] = lonlat.y.round(6).to_numpy()
    else:
        sites["lon"] = pd.Series(dtype=float)
        sites["lat"] = pd.Series(dtype=float)
    params: dict[str, Any] = {
        "profile": p.name,
        "target_id": t_id,
        "limit_m": float(limit_m),
        "max_snap_m": max_snap_m,
        "n_candidates": len(candidates),
        "n_existing": len(existing),
        "scope": scope,
        **({"catchment": catchment.id, "planned_size": planned_size} if catchment else {}),
        "buildings_counted": int(counted.sum()),
        "households": float(demand["households"].sum()),
        **households_summary(demand),
    }
    return replace(
        result, sites=sites, category=category, limit_m=float(limit_m), parameters=params
    )

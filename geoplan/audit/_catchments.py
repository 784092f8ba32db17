"""Size-dependent catchments: a facility serves within its own walking limit.

A profile's ``[[catchments]]`` table gives per-facility limits from rules on a size
column (公园绿地服务半径: parks of 5,000 m2 or more serve 500 m, parks of
2,000-5,000 m2 serve 300 m; :class:`geoplan.profiles.Catchment`). A building is
covered when some facility ``j`` of the category lies within ``d_ij <= r_j``.

How it is walked: the category's facilities are split into one class per limit
(the derived categories ``<catchment id>@<limit>m``), one nearest pass is made per
class (:func:`geoplan.reach.nearest_facilities`), and a building is covered when
any class lies within its limit. That equals the definition: the nearest facility
of a class is within the class's limit exactly when some facility of it is.

Polygons of a category with ``edge_access_m`` in ``categories.toml`` (parks) are
walked to points along their outer edge, that many metres apart at most, all with
the polygon's facility id (:func:`edge_access_points`): a big park's centroid can
lie hundreds of metres inside it. Private to :mod:`geoplan.audit` (the coverage
audit, and siting through :mod:`geoplan.audit.coverage`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import DataQualityWarning, InputError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from geoplan.network import Snapped, WalkNetwork
    from geoplan.profiles import Catchment, Profile, Target

__all__ = [
    "CatchmentCover",
    "catchment_classes",
    "catchment_cover",
    "catchment_zero_cause",
    "catchments_of",
    "coverage_reach",
    "edge_access_points",
    "snap_buildings",
    "with_rule_text",
]


def edge_access_points(
    facilities: gpd.GeoDataFrame, *, category_col: str = "category"
) -> gpd.GeoDataFrame:
    """The points facilities are walked to: polygons of edge-access categories by their edge.

    A polygon whose category has ``edge_access_m`` (``categories.toml``: parks)
    becomes points evenly spaced along each outer ring, at most that many metres
    apart, plus its point on surface (a path through the park may reach that first:
    it is where a plain pass walks to), each row keeping the polygon's index (its
    facility id) and columns. Every other row is kept as it is (a polygon of another
    category is walked to a point on its surface, as before). Rows keep their order.

    Examples
    --------
    >>> from shapely import Point, box
    >>> f = gpd.GeoDataFrame({"category": ["park", "wet_market"]},
    ...     geometry=[box(0, 0, 100, 100), Point(500, 0)], index=["p1", "m1"], crs=32650)
    >>> pts = edge_access_points(f)
    >>> pts.index.value_counts().to_dict(), sorted(set(pts.geom_type))
    ({'p1': 9, 'm1': 1}, ['Point'])
    """
    from geoplan.categories import load_categories

    spacing = {c.id: c.edge_access_m for c in load_categories().categories if c.edge_access_m}
    if not len(facilities) or category_col not in facilities.columns or not spacing:
        return facilities
    cat = facilities[category_col].astype(object).to_numpy()
    step = np.array([spacing.get(c, np.nan) if isinstance(c, str) else np.nan for c in cat])
    geoms = np.asarray(facilities.geometry.array, dtype=object)
    poly = np.isfinite(step) & np.isin(shapely.get_type_id(geoms), (3, 6))  # (Multi)Polygon
    if not poly.any():
        return facilities
    where = np.flatnonzero(poly)
    parts, owner = shapely.get_parts(geoms[poly], return_index=True)  # owner: non-decreasing
    rings = shapely.get_exterior_ring(parts)
    length = shapely.length(rings)
    n = np.maximum(np.ceil(length / step[where[owner]]).astype(np.int64), 1)
    ring = np.repeat(np.arange(rings.size), n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
    along = shapely.line_interpolate_point(rings[ring], k * (length[ring] / n[ring]))
    # per facility: its edge points, then its point on surface (where a path inside the
    # park leads; a plain pass walks to it), one after another in the facilities' order
    inner = shapely.point_on_surface(geoms[poly])
    per = np.bincount(owner, weights=n, minlength=where.size).astype(np.int64)
    last = np.cumsum(per + 1) - 1  # the slot of each facility's inner point
    points = np.empty(int(per.sum()) + where.size, dtype=object)
    is_inner = np.zeros(points.size, dtype=bool)
    is_inner[last] = True
    points[is_inner] = inner
    points[~is_inner] = along
    reps = np.ones(len(facilities), dtype=np.int64)
    reps[where] = per + 1
    take = np.repeat(np.arange(len(facilities)), reps)
    expanded = poly[take]
    out_geom = np.empty(take.size, dtype=object)
    out_geom[expanded] = points
    out_geom[~expanded] = geoms[take[~expanded]]
    out = facilities.iloc[take].copy()
    return out.set_geometry(gpd.GeoSeries(out_geom, index=out.index, crs=facilities.crs))


def snap_buildings(
    network: WalkNetwork,
    buildings: gpd.GeoDataFrame,
    *,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> Snapped:
    """The buildings snapped as the coverage passes walk from them (compounds left
    through their gates): made once, for :func:`coverage_reach` and :func:`catchment_cover`.
    """
    from geoplan._timing import phase
    from geoplan.network import snap_points

    with phase("snap"):
        return snap_points(
            network, buildings, max_snap_m=max_snap_m, compounds=compounds, gates=gates
        )


def coverage_reach(
    network: WalkNetwork,
    buildings: gpd.GeoDataFrame | Snapped,
    facilities: gpd.GeoDataFrame,
    *,
    limit_m: float,
    max_snap_m: float,
    walk_speed_m_per_min: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    jobs: int | None = 1,
) -> pd.DataFrame:
    """The coverage audit's walking passes: :func:`geoplan.reach.nearest_facilities`,
    with the categories walked to their edge (parks) walked to it.

    One pass over the facilities as they are, then, when some facility is a polygon
    of an ``edge_access_m`` category, one more over those categories' facilities as
    :func:`edge_access_points` gives them, whose columns replace theirs. The other
    categories' columns are those of the plain call, bit for bit (the park points
    do not split their edges). The buildings are snapped once (or given snapped, as
    :func:`snap_buildings` snaps them). Aligned to ``buildings.index``, the columns of
    :func:`geoplan.reach.nearest_facilities`.
    """
    from geoplan.network import Snapped
    from geoplan.reach import nearest_facilities

    origins = (
        buildings
        if isinstance(buildings, Snapped)
        else snap_buildings(
            network, buildings, max_snap_m=max_snap_m, compounds=compounds, gates=gates
        )
    )
    kw: dict[str, Any] = {
        "limit_m": limit_m,
        "max_snap_m": max_snap_m,
        "walk_speed_m_per_min": walk_speed_m_per_min,
        "compounds": compounds,
        "gates": gates,
        "jobs": jobs,
    }
    reach = nearest_facilities(network, origins, facilities, **kw)
    edge = _edge_categories(facilities)
    if not edge:  # no polygon of a category walked to its edge
        return reach
    cat = facilities["category"].astype("string").isin(edge).fillna(False)
    mine = edge_access_points(facilities.loc[cat.to_numpy(dtype=bool)])
    with warnings.catch_warnings():  # the first pass has said which facilities are off
        warnings.simplefilter("ignore", DataQualityWarning)
        walked = nearest_facilities(network, origins, mine, **kw)
    for c in sorted(edge):
        for k in ("walk_m", "walk_min", "facility_id"):
            reach[f"{k}__{c}"] = walked[f"{k}__{c}"]
    return reach


def _edge_categories(facilities: gpd.GeoDataFrame) -> set[str]:
    """The categories of ``facilities`` that have a polygon walked to its edge."""
    from geoplan.categories import load_categories

    edge = {c.id for c in load_categories().categories if c.edge_access_m}
    geoms = np.asarray(facilities.geometry.array, dtype=object)
    poly = np.isin(shapely.get_type_id(geoms), (3, 6))
    cats = facilities["category"].astype(object).to_numpy()
    return {str(c) for c in cats[poly] if c in edge}


@dataclass(frozen=True, eq=False)
class CatchmentCover:
    """Which buildings a catchment covers, and how (one per catchment a target names)."""

    catchment_id: str
    category: str
    covered: np.ndarray  #: bool per building: some facility within its own limit
    facility_id: np.ndarray  #: the nearest facility that covers the building (None if none)
    summary: dict[str, Any] = field(default_factory=dict)  #: the rules used, in words and counts


def catchment_classes(
    facilities: gpd.GeoDataFrame,
    catchment: Catchment,
    profile: Profile,
    *,
    elderly: bool = False,
    category_col: str = "category",
) -> tuple[gpd.GeoDataFrame, dict[str, float], dict[str, Any]]:
    """The catchment's facilities as classes, one derived category per walking limit.

    Returns the facilities of ``catchment.category`` that serve (their size matches
    a rule), their category renamed ``<catchment id>@<limit>m``; the limit in metres
    of each derived category; and a summary (rules, facilities per rule, those that
    serve no one).

    Raises
    ------
    InputError
        When the facilities hold the category but no size column (exit 2): a
        catchment cannot be judged without the sizes. Facilities with a missing
        size serve no one, with a :class:`DataQualityWarning` naming them.

    Examples
    --------
    >>> from shapely import box
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("city-health-check")
    >>> c = p.catchment("park_service_radius")
    >>> f = gpd.GeoDataFrame({"category": ["park"] * 3, "area_m2": [8000.0, 3000.0, 900.0]},
    ...     geometry=[box(0, 0, 100, 80), box(0, 0, 60, 50), box(0, 0, 30, 30)],
    ...     index=["a", "b", "c"], crs=32650)
    >>> rows, limits, info = catchment_classes(f, c, p)
    >>> rows["category"].to_dict(), info["not_serving"]
    ({'a': 'park_service_radius@500m', 'b': 'park_service_radius@300m'}, 1)
    """
    is_cat = (facilities[category_col].astype("string") == catchment.category).fillna(False)
    mine = facilities.loc[is_cat.to_numpy(dtype=bool)]
    column = catchment.size_column
    if len(mine) and column not in mine.columns:
        raise InputError(
            f"catchment {catchment.id!r} needs the size of every {catchment.category} "
            f"facility in column {column!r} ({catchment.unit}); the facilities have none "
            "(OSM polygons get area_m2; give it for your own facilities)",
            file=str(facilities.attrs.get("source_file", "<facilities>")),
            column=column,
        )
    sizes = mine[column] if len(mine) else pd.Series(dtype=float)
    limits = catchment.limits_m(sizes, profile, elderly=elderly)
    missing = sizes.isna().to_numpy(dtype=bool)
    if missing.any():
        ids = ", ".join(str(i) for i in mine.index[missing][:5])
        warnings.warn(
            f"{int(missing.sum())} of {len(mine)} {catchment.category} facilities have no "
            f"{column}: they serve no one under catchment {catchment.id!r} (first: {ids})",
            DataQualityWarning,
            stacklevel=3,
        )
    label = np.array([f"{catchment.id}@{v:g}m" if np.isfinite(v) else "" for v in limits])
    serve = np.isfinite(limits)
    rows = mine.loc[serve].copy()
    rows[category_col] = label[serve]
    by_label = {f"{catchment.id}@{v:g}m": float(v) for v in limits[serve]}
    rules = []
    for r in catchment.rules:
        lim = r.limit_m(profile, elderly=elderly)
        rules.append(
            {
                "band": r.band_text(catchment.unit),
                "within": r.limit_text(),
                "within_m": round(lim, 1),
                "facilities": int(r.matches(_num(sizes)).sum()),
            }
        )
    info = {
        "id": catchment.id,
        "category": catchment.category,
        "size_column": column,
        "rules": rules,
        "facilities": len(mine),
        "not_serving": int((~serve).sum()),
        "missing_size": int(missing.sum()),
        **rule_text(catchment, rules),
        "source": catchment.source,
        "clause": catchment.clause,
        "confirmed": catchment.confirmed,
    }
    _warn_point_parks(mine, catchment, column)
    return rows, by_label, info


def _num(sizes: pd.Series) -> np.ndarray:
    return pd.to_numeric(sizes, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def rule_text(catchment: Catchment, rules: list[dict[str, Any]]) -> dict[str, str]:
    """The rules in words (``text_zh`` / ``text_en``), as findings and summaries give them."""
    zh = "；".join(f"{r['band']} 的 {r['within']} 内" for r in rules)
    en = "; ".join(f"{r['band']} within {r['within']}" for r in rules)
    return {
        "text_zh": f"按规模（{catchment.size_column}）分级服务半径：{zh}；其余不计",
        "text_en": f"service radius by {catchment.size_column}: {en}; other sizes serve no one",
    }


def _warn_point_parks(mine: gpd.GeoDataFrame, catchment: Catchment, column: str) -> None:
    """OSM ways of an edge-access category read as centroids: walked to the centroid.

    Points given as such (a park's entrance) are walked to as they are, silently; a
    point whose id is an OSM way's (``way/123``) is that way's centroid.
    """
    from geoplan.categories import load_categories

    cats = load_categories()
    if catchment.category not in cats or not cats[catchment.category].edge_access_m:
        return
    ids = pd.Index(mine.index.astype(str))
    points = ~np.isin(shapely.get_type_id(np.asarray(mine.geometry.array)), (3, 6))
    points &= ids.str.startswith("way/")
    if points.any():
        sizes = _num(mine[column])[points] if column in mine.columns else np.zeros(0)
        low = min((r.min for r in catchment.rules if r.min is not None), default=0.0)
        big = int((sizes >= low).sum())
        size = f" ({big} of them {low:g} {catchment.unit} or larger)" if sizes.size else ""
        warnings.warn(
            f"{int(points.sum())} of {len(mine)} {catchment.category} facilities are the "
            f"centroids of OSM ways{size}: they are walked to the centroid, while a park is "
            "entered from its edge, nearer by up to the park's radius (a 5,000 m2 park's is "
            "about 40 m); read them with their outlines (facilities_from_extract(..., "
            "outlines=True))",
            DataQualityWarning,
            stacklevel=4,
        )


def catchment_cover(
    network: WalkNetwork,
    buildings: gpd.GeoDataFrame | Snapped,
    facilities: gpd.GeoDataFrame,
    catchments: list[Catchment],
    *,
    profile: Profile,
    elderly: bool = False,
    max_snap_m: float,
    walk_speed_m_per_min: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
    jobs: int | None = 1,
) -> dict[str, CatchmentCover]:
    """Per catchment: the buildings some facility covers within its own limit.

    One nearest pass per class (all catchments' classes in one
    :func:`geoplan.reach.nearest_facilities` call, radius the largest limit), the
    facilities walked to as :func:`edge_access_points` gives them. ``buildings`` may
    come snapped (:func:`snap_buildings`, with the same compounds and gates).
    """
    from geoplan.network import Snapped
    from geoplan.reach import nearest_facilities as _class_reach

    frames: list[gpd.GeoDataFrame] = []
    limits: dict[str, float] = {}
    infos: dict[str, dict[str, Any]] = {}
    for c in catchments:
        rows, by_label, info = catchment_classes(facilities, c, profile, elderly=elderly)
        rows["_walked_as"] = c.category  # parks to their edge, whatever their class is called
        frames.append(edge_access_points(rows, category_col="_walked_as"))
        limits.update(by_label)
        infos[c.id] = info
    n = buildings.n if isinstance(buildings, Snapped) else len(buildings)
    reach = None
    if limits and any(len(f) for f in frames):
        rows = pd.concat([f for f in frames if len(f)])
        with warnings.catch_warnings():  # the audit's own pass has said who is off the network
            warnings.simplefilter("ignore", DataQualityWarning)
            reach = _class_reach(
                network,
                buildings,
                gpd.GeoDataFrame(rows.drop(columns="_walked_as"), crs=facilities.crs),
                limit_m=max(limits.values()),
                max_snap_m=max_snap_m,
                walk_speed_m_per_min=walk_speed_m_per_min,
                compounds=compounds,
                gates=gates,
                gate_tolerance_m=gate_tolerance_m,
                jobs=jobs,
            )
    out: dict[str, CatchmentCover] = {}
    for c in catchments:
        covered = np.zeros(n, dtype=bool)
        fid = np.full(n, None, dtype=object)
        best = np.full(n, np.inf)  # the walk to the nearest covering facility
        for label, lim in sorted(limits.items()):
            if not label.startswith(f"{c.id}@") or reach is None:
                continue
            if f"walk_m__{label}" not in reach.columns:
                continue
            d = reach[f"walk_m__{label}"].to_numpy(dtype=float)
            ok = d <= lim
            better = ok & (d < best)
            best[better] = d[better]
            fid[better] = reach[f"facility_id__{label}"].to_numpy(dtype=object)[better]
            covered |= ok
        out[c.id] = CatchmentCover(
            catchment_id=c.id,
            category=c.category,
            covered=covered,
            facility_id=fid,
            summary=infos[c.id],
        )
    return out


def catchments_of(profile: Profile, targets: Sequence[Target]) -> dict[str, Catchment]:
    """The catchments the targets name, by id (file order of the targets).

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("city-health-check")
    >>> list(catchments_of(p, p.targets_for("coverage")))
    ['park_service_radius']
    """
    out: dict[str, Catchment] = {}
    for t in targets:
        cid = getattr(t, "catchment", None)
        if cid and cid not in out:
            out[str(cid)] = profile.catchment(str(cid))
    return out


def with_rule_text(
    findings: pd.DataFrame, targets: Sequence[Target], covers: Mapping[str, CatchmentCover]
) -> pd.DataFrame:
    """Findings of catchment targets with the radius rule added to their descriptions."""
    if not covers or not len(findings) or "check_id" not in findings.columns:
        return findings
    findings = findings.copy()
    for t in targets:
        cover = covers.get(str(getattr(t, "catchment", None)))
        if cover is None:
            continue
        rows = (findings["check_id"] == t.id).to_numpy(dtype=bool)
        for lang in ("zh", "en"):
            col = f"description_{lang}"
            if col in findings.columns and rows.any():
                text = cover.summary[f"text_{lang}"]
                sep = "（" if lang == "zh" else " ("
                end = "）" if lang == "zh" else ")"
                findings.loc[rows, col] = findings.loc[rows, col].astype(str) + sep + text + end
    return findings


def catchment_zero_cause(cause: dict[str, str], cover: CatchmentCover) -> dict[str, str]:
    """Why a catchment target's share is 0.0%: ``beyond_limit`` said per size class.

    Other causes (no facility, facilities off the network, ...) are kept as they are.

    Examples
    --------
    >>> info = {"facilities": 3, "not_serving": 1, "text_zh": "…", "text_en": "…"}
    >>> c = CatchmentCover("r", "park", np.zeros(1, bool), np.full(1, None), info)
    >>> catchment_zero_cause({"code": "beyond_limit", "zh": "", "en": ""}, c)["en"]
    'no household has a park within its own service radius (…; 1 of 3 parks serve no one)'
    """
    if cause.get("code") != "beyond_limit":
        return cause
    s = cover.summary
    k, n = s.get("not_serving", 0), s.get("facilities", 0)
    return {
        "code": "beyond_limit",
        "zh": f"没有住户在{cover.category}各自的服务半径内（{s['text_zh']}；{n} 处中 {k} 处不计）",
        "en": f"no household has a {cover.category} within its own service radius "
        f"({s['text_en']}; {k} of {n} {cover.category}s serve no one)",
    }

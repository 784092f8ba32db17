"""Walking-access coverage audit: 15-minute life circle, wet markets, GB 50180 levels.

For every building, the walking distance and time over the network to the nearest
facility of each category (one compiled multi-source Dijkstra pass per category,
:func:`geoplan.reach.nearest_facilities`). Profile targets then judge it:

- ``walk_time`` (scope ``building``): a category, or every category of a group
  (``basic``, ``quality``), within ``within_min`` / ``threshold`` minutes;
  reported per building, per community (share of households) and overall.
- ``walk_distance`` (scope ``building``): the same with a threshold in metres
  (GB 50180 life-circle levels).
- ``coverage_share`` (scope ``district`` or ``central_district``): the share of
  households reaching a category within ``within_min`` or ``within_m``, or, for a
  target naming a ``catchment``, within each facility's own limit (its size class:
  parks of 5,000 m2 serve 500 m, ...; :mod:`geoplan.audit._catchments`).

Polygons of edge-access categories (parks) are walked to points along their edge.

Coverage is reported by households and by residents.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan._timing import phase
from geoplan.alignment import check_alignment, snap_distances
from geoplan.audit._catchments import (
    catchment_cover,
    catchment_zero_cause,
    catchments_of,
    coverage_reach,
    edge_access_points,
    snap_buildings,
    with_rule_text,
)
from geoplan.audit._community_findings import (
    CommunityGroups,
    community_groups,
    community_of,
    findings_frame,
    lacking_categories,
    per_community,
    rounded,
    target_findings,
    with_missing,
)
from geoplan.audit.results import AuditResult, as_geodataframe, check_summary
from geoplan.network import WalkNetwork

if TYPE_CHECKING:
    from geoplan.network import Snapped
    from geoplan.profiles import Profile, Target

__all__ = [
    "REACH_COLUMNS",
    "CoverageSearch",
    "audit_coverage",
    "catchment_cover",
    "coverage_reach",
    "coverage_search",
    "coverage_targets",
    "edge_access_points",
    "in_scope",
    "unflagged_centre",
]

_MEASURES = ("walk_time", "walk_distance", "coverage_share")


def coverage_targets(profile: Profile) -> list[Target]:
    """The profile's coverage targets that this audit measures."""
    return [t for t in profile.targets_for("coverage") if t.measure in _MEASURES]


@dataclass(frozen=True)
class CoverageSearch:
    """What the coverage audit asks of the walking passes (from the profile)."""

    limit_m: float  #: the search radius: ``search_factor`` x the longest walk of a target
    max_snap_m: float  #: points farther from a street are unreachable
    walk_speed_m_per_min: float  #: the walking speed of ``walk_min__`` columns
    categories: tuple[str, ...]  #: the categories the targets name


def _categories_of(t: Target) -> list[str]:
    """The categories a coverage target names: its category, or its group's."""
    from geoplan.categories import categories_in_group

    if getattr(t, "category", None):
        return [str(t.category)]
    if getattr(t, "group", None):
        return list(categories_in_group(str(t.group)))
    raise InputError(f"coverage target {t.id} names neither category nor group", column="category")


def coverage_search(
    profile: Profile | str, *, elderly: bool = False, search_factor: float = 2.0
) -> CoverageSearch:
    """The search radius, snapping distance and speed :func:`audit_coverage` walks with.

    A caller that computes the walking passes itself, area by area
    (``audit_coverage(..., reach=)``), walks with these so the results are the same.

    Examples
    --------
    >>> s = coverage_search("mofcom-15min")
    >>> s.limit_m, s.max_snap_m, s.walk_speed_m_per_min
    (2250.0, 300.0, 75.0)
    """
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    speed = prof.walk_speed(elderly=elderly)
    targets = coverage_targets(prof)
    walks = [float(t.walk_limit_m(prof, elderly=elderly)) for t in targets]
    cats = {c for t in targets for c in _categories_of(t)}
    return CoverageSearch(
        limit_m=max(walks, default=15.0 * speed) * search_factor,
        max_snap_m=float(prof.number("max_snap_m")),
        walk_speed_m_per_min=float(speed),
        categories=tuple(sorted(cats)),
    )


def audit_coverage(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    profile: Profile | str,
    communities: gpd.GeoDataFrame | None = None,
    elderly: bool = False,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    search_factor: float = 2.0,
    jobs: int | None = 1,
    check_layers: bool = True,
    reach: pd.DataFrame | None = None,
) -> AuditResult:
    """Audit walking access of households to services against a profile.

    Parameters
    ----------
    buildings
        Canonical buildings with ``households``, in the network's CRS. Missing
        counts are estimated with the profile's parameters
        (:func:`geoplan.households.estimate_households`: footprint x levels, the
        compounds and communities as residential areas) unless the frame carries
        ``households_source`` already; buildings that cannot be estimated count
        as 0, with a warning naming them. The summary gives
        ``households_estimated_share`` and the households and buildings per
        ``households_source``.
    facilities
        Canonical facilities with ``category``.
    network
        The walking network (:mod:`geoplan.network`).
    profile
        A :class:`geoplan.profiles.Profile` or a name (``mofcom-15min``,
        ``tianjin-2025``, ``gb50180-2018``).
    communities
        Optional: per-community results, and the ``central_district`` flag for
        central-district targets. Buildings are matched by their
        ``community_id`` column, else by location.
    elderly
        Use the profile's elderly walking speed.
    compounds, gates
        Gated compounds and their gates: residents leave a compound through its gates.
    search_factor
        Distances are searched up to this multiple of the largest threshold, so
        a report can say how far the nearest facility is for those not covered.
    jobs
        Processes for the walking passes (see :func:`geoplan.reach.nearest_facilities`):
        1 here, None or 0 every available core; the results do not depend on it.
    check_layers
        Check first that the layers line up with the network
        (:func:`geoplan.alignment.check_alignment`); False when the caller has just
        checked them (the command line does, to name the files in its message).
    reach
        The walking passes already made, as :func:`coverage_reach` (or, where no park
        is a polygon, :func:`geoplan.reach.nearest_facilities`) returns them for
        ``buildings`` and ``facilities`` with the radius, snapping distance and speed
        of :func:`coverage_search` (e.g. merged from areas computed apart): aligned
        to ``buildings.index``, with ``walk_m__``, ``walk_min__`` and
        ``facility_id__`` columns for each category of the facilities. None walks here.

    Returns
    -------
    AuditResult
        ``table`` aligned to ``buildings.index`` with ``walk_m__<c>``,
        ``walk_min__<c>``, ``facility_id__<c>``, ``covered__<c>`` per category
        (for a catchment's category also ``covered_by__<c>``, the covering facility) and
        ``<target>__value`` / ``<target>__pass`` per target; ``extra["communities"]``
        with shares per community; findings per community and for the whole area.

    Examples
    --------
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.network import network_from_lines
    >>> import warnings; warnings.simplefilter("ignore")
    >>> d = make_sample_district(seed=0)
    >>> net = network_from_lines(d.streets)
    >>> from geoplan.households import estimate_households
    >>> from geoplan.profiles import load_profile
    >>> b = estimate_households(d.buildings, params=load_profile("mofcom-15min"))
    >>> r = audit_coverage(b, d.facilities, net, profile="mofcom-15min", communities=d.communities)
    >>> 0 < r.summary["coverage"]["wet_market"]["households_share"] <= 1
    True
    """
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    if buildings.crs is None or buildings.crs != network.crs or facilities.crs != network.crs:
        raise InputError(
            f"buildings ({buildings.crs}), facilities ({facilities.crs}) and the network "
            f"({network.crs}) must share one projected CRS",
            file=str(buildings.attrs.get("source_file", "<buildings>")),
        )
    # layers that do not line up with the network are bad input, not an audit result
    if check_layers:
        with phase("prepare"):
            check_alignment(
                network,
                profile=prof,
                buildings=buildings,
                facilities=facilities,
                communities=communities,
            )
    speed_name = "walk_speed_elderly_m_per_min" if elderly else "walk_speed_m_per_min"
    speed = prof.walk_speed(elderly=elderly)
    max_snap = prof.number("max_snap_m")
    targets = coverage_targets(prof)

    def metres_of(t: Target) -> float:  # the one rule: Target.walk_limit_m
        return float(t.walk_limit_m(prof, elderly=elderly))

    present = sorted(set(facilities["category"].dropna().astype(str)))
    needed = sorted({c for t in targets for c in _categories_of(t)} | set(present))
    limit_m = coverage_search(prof, elderly=elderly, search_factor=search_factor).limit_m

    from geoplan.households import (
        estimate_households,
        households_summary,
        needs_estimate,
        residents_of,
    )

    if needs_estimate(buildings):
        with phase("prepare"):
            buildings = estimate_households(buildings, params=prof, areas=[compounds, communities])
    hh, weighted_by = _households(buildings)
    residents = residents_of(
        buildings, hh, persons_per_household=prof.number("persons_per_household")
    )
    origins: gpd.GeoDataFrame | Snapped = buildings  # snapped once for every pass below
    if reach is None:
        origins = snap_buildings(
            network, buildings, max_snap_m=max_snap, compounds=compounds, gates=gates
        )
        reach = coverage_reach(  # nearest_facilities, parks walked to their edge
            network,
            origins,
            facilities,
            limit_m=limit_m,
            max_snap_m=max_snap,
            walk_speed_m_per_min=speed,
            compounds=compounds,
            gates=gates,
            jobs=jobs,
        )
    else:
        reach = _given_reach(reach, buildings, present)
    catchments = catchments_of(prof, targets)  # per-facility limits: one pass per size class
    covers = catchment_cover(
        network, origins, facilities, list(catchments.values()), profile=prof,
        elderly=elderly, max_snap_m=max_snap, walk_speed_m_per_min=speed,
        compounds=compounds, gates=gates, jobs=jobs,
    ) if catchments else {}  # fmt: skip
    with phase("aggregate.buildings"):  # the per-building columns
        cols: dict[str, Any] = {c: reach[c] for c in reach.columns}
        for c in needed:  # categories with no facility at all: nobody reaches them
            if f"walk_m__{c}" not in cols:
                cols[f"walk_m__{c}"] = np.full(len(buildings), np.inf)
                cols[f"walk_min__{c}"] = np.full(len(buildings), np.inf)
                cols[f"facility_id__{c}"] = np.full(len(buildings), None, dtype=object)
        cols["households"] = hh
        cols["residents"] = residents

        # covered__c at the threshold of the first target that names c (else its group's)
        threshold_of: dict[str, float] = {}
        catchment_of: dict[str, str | None] = {}  # the catchment of that first target
        for t in targets:
            if getattr(t, "category", None):
                threshold_of.setdefault(str(t.category), metres_of(t))
                catchment_of.setdefault(str(t.category), getattr(t, "catchment", None))
        for t in targets:
            if getattr(t, "group", None):
                for c in _categories_of(t):
                    threshold_of.setdefault(c, metres_of(t))
        for c in needed:
            if c in threshold_of:
                cols[f"covered__{c}"] = np.asarray(cols[f"walk_m__{c}"], float) <= threshold_of[c]
            if catchment_of.get(c):  # within the facility's own limit; by which one
                cols[f"covered__{c}"] = covers[str(catchment_of[c])].covered
                cols[f"covered_by__{c}"] = covers[str(catchment_of[c])].facility_id

        comm_id = community_of(buildings, communities)
        central = _central(comm_id, communities)
        unflagged = unflagged_centre(communities)
        central_ids = [t.id for t in targets if t.scope == "central_district"]
        if central_ids and unflagged:  # an assumption the verdict rests on: say it
            warnings.warn(
                f"{', '.join(central_ids)}: no community is flagged central_district, so the "
                "whole area is taken as the central district (中心城区); give "
                "communities with a central_district column (--communities) to audit only "
                "the centre",
                DataQualityWarning,
                stacklevel=2,
            )
        blocks: list[dict[str, list[Any]]] = []  # the findings, as runs of rows
        target_summary: dict[str, Any] = {}
        # categories whose every facility is farther than max_snap_m from the network
        fac_cat = facilities["category"].astype("string").to_numpy(dtype=object, na_value=None)
        fac_on = snap_distances(network, facilities) <= max_snap
        off_network = {c for c in present if not fac_on[fac_cat == c].any()}
        lacking: dict[str, dict[str, list[str]]] = {}
        groups: dict[bool, CommunityGroups] = {}  # the communities in scope, per kind of scope
        names: dict[tuple[type, Any], str] = {}  # community names, looked up once
    with phase("aggregate.findings"):  # per target: shares, findings per community and overall
        for t in targets:
            cats = _categories_of(t)
            worst = np.max(
                np.column_stack([np.asarray(cols[f"walk_m__{c}"], float) for c in cats]), axis=1
            )
            ok = worst <= metres_of(t)
            bad = {c: np.asarray(cols[f"walk_m__{c}"], float) > metres_of(t) for c in cats}
            if getattr(t, "catchment", None):  # some facility within its own limit
                ok = covers[str(t.catchment)].covered
                bad = {c: ~ok for c in cats}
            absent = [c for c in cats if c not in present]  # no facility of c at all
            cols[f"{t.id}__value"] = worst / speed if t.walk_minutes() is not None else worst
            cols[f"{t.id}__pass"] = ok
            scope_mask = central if t.scope == "central_district" else np.ones(len(hh), bool)
            share_hh = _share(ok, hh, scope_mask)
            share_res = _share(ok, residents, scope_mask)
            uncovered = float(hh[scope_mask & ~ok].sum())
            far = worst[scope_mask & ~ok & np.isfinite(worst)]
            target_summary[t.id] = {
                "categories": cats,
                "within_m": round(metres_of(t), 1),
                "households_share": rounded(share_hh),
                "residents_share": rounded(share_res),
                "households_uncovered": uncovered,
                "nearest_m_of_uncovered_median": (
                    rounded(float(np.median(far))) if len(far) else None
                ),
                "absent_categories": absent,
            }
            if getattr(t, "catchment", None):
                target_summary[t.id]["catchment"] = covers[str(t.catchment)].summary
            if not scope_mask.any():  # nothing in scope: say why the target has no verdict
                target_summary[t.id]["not_applicable"] = {
                    "zh": "不适用：社区表中没有中心城区社区（central_district 均为否）"
                    if t.scope == "central_district"
                    else "不适用：范围内没有建筑",
                    "en": "not applicable: no community is flagged central_district"
                    if t.scope == "central_district"
                    else "not applicable: no building in scope",
                }
            if share_hh == 0.0:  # a 0% never goes out without its cause
                target_summary[t.id]["zero_cause"] = _zero_cause(
                    cats=cats,
                    absent=absent,
                    off_network=[c for c in cats if c in off_network],
                    any_reachable=bool(np.asarray(cols["reachable"], bool)[scope_mask].any()),
                    far=far,
                    within_m=metres_of(t),
                    search_m=limit_m,
                    max_snap_m=max_snap,
                )
                if getattr(t, "catchment", None):  # "beyond" is per facility here
                    cover = covers[str(t.catchment)]
                    target_summary[t.id]["zero_cause"] = catchment_zero_cause(
                        target_summary[t.id]["zero_cause"], cover
                    )
            central_scope = t.scope == "central_district"
            if central_scope not in groups:
                groups[central_scope] = community_groups(comm_id, scope_mask)
            lacking[t.id] = lacking_categories(bad, groups[central_scope])
            found = target_findings(
                t,
                ok,
                hh,
                groups[central_scope],
                communities,
                scope_mask,
                share_hh,
                uncovered,
                names=names,
            )
            graded = bool(getattr(t, "catchment", None))  # each facility's own limit
            blocks += with_missing(
                found, t, absent, bad, scope_mask, lacking[t.id], metres_of(t), size_graded=graded
            )
        findings = with_rule_text(findings_frame(blocks), targets, covers)
    with phase("aggregate.buildings"):
        new = pd.DataFrame(
            {
                k: np.asarray(v) if not isinstance(v, pd.Series) else v.to_numpy()
                for k, v in cols.items()
            },
            index=buildings.index,
        )
        table = pd.concat(
            [buildings.drop(columns=[c for c in new.columns if c in buildings.columns]), new],
            axis=1,
        )
        coverage = {
            c: {
                "households_share": rounded(
                    _share(table[f"covered__{c}"].to_numpy(bool), hh, None)
                ),
                "residents_share": rounded(
                    _share(table[f"covered__{c}"].to_numpy(bool), residents, None)
                ),
                "within_m": round(threshold_of[c], 1),
                "facilities": int((facilities["category"] == c).sum()),
                **({"catchment": catchment_of[c]} if catchment_of.get(c) else {}),
            }
            for c in needed
            if c in threshold_of
        }
        unreachable = ~table["reachable"].to_numpy(bool)
        summary: dict[str, Any] = {
            "buildings": len(table),
            "households": float(hh.sum()),
            "households_estimated_buildings": (
                int(table["households_estimated"].fillna(False).astype(bool).sum())
                if "households_estimated" in table.columns
                else 0
            ),
            **households_summary(buildings),
            "residents": float(residents.sum()),
            "walk_speed_m_per_min": speed,
            "elderly": elderly,
            "weighted_by": weighted_by,
            "unreachable_buildings": int(unreachable.sum()),
            "unreachable_households": float(hh[unreachable].sum()),
            "coverage": coverage,
            "targets": target_summary,
            "checks": check_summary(findings) if len(findings) else {},
        }
    extra: dict[str, pd.DataFrame] = {"facilities": facilities.copy()}
    if communities is not None:
        with phase("aggregate.communities"):
            extra["communities"] = per_community(
                table, comm_id, communities, coverage, targets, hh, lacking
            )
    with phase("aggregate.buildings"):
        frame = as_geodataframe(table, buildings)
    with phase("aggregate.findings"):  # the result writes the text of every finding
        result = AuditResult(
            name="coverage",
            table=frame,
            findings=findings,
            summary=summary,
            profile=prof.name,
            parameters={speed_name: speed, "max_snap_m": max_snap, "search_limit_m": limit_m},
            extra=extra,
        )
    return result


#: The per-building columns of a reach frame before the per-category ones.
REACH_COLUMNS = ("snap_m", "reachable", "gated", "component", "component_nodes")


def _given_reach(
    reach: pd.DataFrame, buildings: gpd.GeoDataFrame, present: list[str]
) -> pd.DataFrame:
    """``reach=`` checked: one row per building, in the buildings' order, every column."""
    if len(reach) != len(buildings) or not reach.index.equals(buildings.index):
        raise InputError(
            f"reach= has {len(reach):,} rows that are not the {len(buildings):,} buildings "
            "in their order (align it to buildings.index)",
            column="reach",
        )
    wanted = list(REACH_COLUMNS) + [
        f"{k}__{c}" for c in present for k in ("walk_m", "walk_min", "facility_id")
    ]
    missing = [c for c in wanted if c not in reach.columns]
    if missing:
        raise InputError(
            f"reach= lacks {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}",
            column="reach",
        )
    return reach


def _share(ok: np.ndarray, weight: np.ndarray, mask: np.ndarray | None) -> float:
    if mask is not None:
        ok, weight = ok[mask], weight[mask]
    total = float(weight.sum())
    return float(weight[ok].sum()) / total if total > 0 else math.nan


def _households(b: gpd.GeoDataFrame) -> tuple[np.ndarray, str]:
    """Household weights, or one per building when no household is known at all."""
    if "households" not in b.columns:
        hh = pd.Series(np.nan, index=b.index)
    else:
        hh = b["households"].astype(float)
    if not (hh.fillna(0) > 0).any():
        warnings.warn(
            "no building has households (none given, none estimable): coverage shares "
            "are shares of buildings, not of households; give households or floors",
            DataQualityWarning,
            stacklevel=3,
        )
        return np.ones(len(b)), "buildings"
    if hh.isna().any():
        ids = [str(i) for i in hh.index[hh.isna().to_numpy()][:5]]
        warnings.warn(
            f"{int(hh.isna().sum())} buildings have no households (first: {', '.join(ids)}); "
            "counted as 0: estimate them with geoplan.households.estimate_households",
            DataQualityWarning,
            stacklevel=3,
        )
    return hh.fillna(0.0).to_numpy(), "households"


def in_scope(
    buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None, scope: str
) -> np.ndarray:
    """Which buildings a coverage target's ``scope`` counts (bool, aligned to rows).

    ``central_district``: buildings in communities flagged ``central_district``
    (by ``community_id`` or by position); with no communities or no flags, the
    whole area counts as the centre, as in :func:`audit_coverage`. Any other
    scope counts every building.

    Examples
    --------
    >>> from shapely import Point, box
    >>> comm = gpd.GeoDataFrame({"central_district": [True, False]},
    ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], index=["c1", "c2"], crs=32650)
    >>> b = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(15, 5)], crs=32650)
    >>> in_scope(b, comm, "central_district").tolist()
    [True, False]
    """
    if scope != "central_district":
        return np.ones(len(buildings), dtype=bool)
    return _central(community_of(buildings, communities), communities)


#: :func:`community_of` under this module's former private name (the tests use it).
_community_of = community_of


def unflagged_centre(communities: gpd.GeoDataFrame | None) -> bool:
    """True when the communities say nothing about the central district: none given,
    no ``central_district`` column, or one a reader filled in (``attrs
    ["defaulted_columns"]``). Central-district targets then cover the whole area,
    and say so; flags given as false mean "not central" (the target does not apply).

    Examples
    --------
    >>> import pandas as pd
    >>> unflagged_centre(None), unflagged_centre(pd.DataFrame({"central_district": [False]}))
    (True, False)
    >>> filled = pd.DataFrame({"central_district": [False]})
    >>> filled.attrs["defaulted_columns"] = ["central_district"]
    >>> unflagged_centre(filled)
    True
    """
    if communities is None or "central_district" not in communities.columns:
        return True
    return "central_district" in communities.attrs.get("defaulted_columns", ())


def _central(comm_id: np.ndarray, communities: gpd.GeoDataFrame | None) -> np.ndarray:
    if communities is None or unflagged_centre(communities):
        return np.ones(len(comm_id), bool)  # no flags given: the whole area is the centre
    flags = communities["central_district"].fillna(False).astype(bool)
    flags.index = flags.index.astype(str)
    return np.array([bool(flags.get(c, False)) if c is not None else False for c in comm_id])


def _zero_cause(
    *,
    cats: list[str],
    absent: list[str],
    off_network: list[str],
    any_reachable: bool,
    far: np.ndarray,
    within_m: float,
    search_m: float,
    max_snap_m: float,
) -> dict[str, str]:
    """Why a coverage share is 0.0%: ``code`` and the reason in ``zh`` / ``en``.

    Codes: ``no_facility`` (a category has no facility at all),
    ``facilities_off_network`` (every facility of a category is farther than
    ``max_snap_m`` from the streets), ``buildings_off_network`` (no building
    reaches a street), ``beyond_limit`` (facilities exist and are reachable, but
    none within the walking limit).

    Examples
    --------
    >>> _zero_cause(cats=["wet_market"], absent=["wet_market"], off_network=[],
    ...             any_reachable=True, far=np.array([]), within_m=600, search_m=2250,
    ...             max_snap_m=300)["en"]
    'no wet_market among the facilities'
    """
    from geoplan.categories import load_categories

    known = load_categories()

    def zh(c: str) -> str:
        return f"{c}（{known[c].zh}）" if c in known else c

    if absent:
        return {
            "code": "no_facility",
            "zh": "设施中没有 " + "、".join(zh(c) for c in absent),
            "en": "no " + ", ".join(absent) + " among the facilities",
        }
    if off_network:
        return {
            "code": "facilities_off_network",
            "zh": "、".join(zh(c) for c in off_network)
            + f" 的设施都距步行网络超过 max_snap_m = {max_snap_m:g} 米，无法到达",
            "en": f"every {', '.join(off_network)} facility lies farther than max_snap_m = "
            f"{max_snap_m:g} m from the walking network",
        }
    if not any_reachable:
        return {
            "code": "buildings_off_network",
            "zh": f"没有建筑在步行网络 {max_snap_m:g} 米以内",
            "en": f"no building lies within {max_snap_m:g} m of the walking network",
        }
    what_zh = "、".join(zh(c) for c in cats[:4]) + ("等" if len(cats) > 4 else "")
    what_en = ", ".join(cats[:4]) + (" ..." if len(cats) > 4 else "")
    if len(far):
        med = float(np.median(far))
        if len(cats) > 1:  # the share counts households that reach every category
            return {
                "code": "beyond_limit",
                "zh": f"没有住户在 {within_m:,.0f} 米内同时到达{what_zh}（未覆盖住户到其中最远"
                f"一类的距离中位数 {med:,.0f} 米）",
                "en": f"no household has all of {what_en} within {within_m:,.0f} m (median "
                f"distance to the farthest of them {med:,.0f} m)",
            }
        return {
            "code": "beyond_limit",
            "zh": f"所有住户到{what_zh}都超过 {within_m:,.0f} 米（未覆盖住户的最近距离中位数 "
            f"{med:,.0f} 米）",
            "en": f"every household is beyond {within_m:,.0f} m of {what_en} (median nearest "
            f"{med:,.0f} m for those not covered)",
        }
    return {
        "code": "beyond_limit",
        "zh": f"所有住户在 {search_m:,.0f} 米步行范围内都到不了{what_zh}",
        "en": f"no household reaches {what_en} within {search_m:,.0f} m of walking",
    }

"""Floor-area audit: service floor area per 100 households, village minimum,
resident-activity share, new commercial + service share, developer service rooms,
and the embedded-services complex (area and functions of each service facility).

Which checks run, their thresholds and their sources come from the profile's
targets with ``audit = "floor_area"``; the code knows only how each *measure*
is computed (``docs/profiles.md``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning
from geoplan.audit._complex import COMPLEX_MEASURES, complex_check
from geoplan.audit.assign import assign_facilities
from geoplan.audit.results import (
    AuditResult,
    Check,
    applicable_mask,
    as_geodataframe,
    check_summary,
    evaluate,
    numeric_column,
)

if TYPE_CHECKING:
    from geoplan.profiles import Profile, Target

__all__ = ["audit_floor_area"]

_AUDITS = ("floor_area", "development")
_MEASURES = {
    "area_per_100_households",
    "area_total",
    "activity_share",
    "commercial_service_share",
    "area_per_household",
    *COMPLEX_MEASURES,
}


def audit_floor_area(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    *,
    profile: Profile | str,
    assignment: pd.DataFrame | None = None,
) -> AuditResult:
    """Audit community service floor area against a standards profile.

    Parameters
    ----------
    communities
        Canonical communities (``docs/architecture.md``), projected.
    facilities
        Canonical facilities; those whose category is in the profile's
        ``service_facility_categories`` count as community service floor area
        and are the facilities the complex checks (``complex_area``,
        ``functions_count``, ``key_functions_count``) are made on; the
        function checks read a ``functions`` column (names separated by 、,;/),
        and a facility without one is no data.
    profile
        A :class:`geoplan.profiles.Profile` or a profile name.
    assignment
        Optional precomputed :func:`~geoplan.audit.assign.assign_facilities` result.

    Returns
    -------
    AuditResult
        ``table`` aligned to ``communities.index``; ``extra["facilities"]``
        aligned to ``facilities.index`` (assignment and per-facility checks).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> comm = gpd.GeoDataFrame(
    ...     {"name": ["和平社区"], "kind": ["urban"], "households": [2000.0]},
    ...     geometry=[box(0, 0, 500, 500)], crs=32650,
    ...     index=pd.Index(["C1"], name="community_id"))
    >>> fac = gpd.GeoDataFrame(
    ...     {"name": ["党群服务中心"], "category": ["community_service_centre"],
    ...      "floor_area_m2": [480.0], "activity_area_m2": [300.0]},
    ...     geometry=[Point(250, 250)], crs=32650,
    ...     index=pd.Index(["F1"], name="facility_id"))
    >>> r = audit_floor_area(comm, fac, profile="tianjin-2025")
    >>> float(r.table.loc["C1", "service_area_per_100_households__required_m2"])
    600.0
    >>> float(r.table.loc["C1", "service_area_per_100_households__shortfall_m2"])
    120.0
    """
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    # development targets measured on floor area (developer rooms, commercial share)
    # belong here too: a new community is audited on them like any other
    targets = [t for t in prof.targets if t.audit in _AUDITS and t.measure in _MEASURES]
    service_cats = set(prof.names("service_facility_categories"))
    max_m = prof.number("facility_assign_max_m")
    if assignment is None:
        # only the facilities whose floor area counts need a community: a shop
        # outside every community is no finding of this audit
        counted = facilities["category"].isin(service_cats).to_numpy()
        assignment = assign_facilities(
            facilities[counted], communities, max_distance_m=max_m
        ).reindex(facilities.index)
        assignment.loc[~counted, "assign_method"] = "not_counted"
    fac = facilities.join(assignment.drop(columns="community_id", errors="ignore"))
    fac["community_id"] = assignment["community_id"]
    is_service = fac["category"].isin(service_cats)
    fac["counts_as_service_area"] = is_service
    svc = fac[is_service & fac["community_id"].notna()]
    area = numeric_column(svc, "floor_area_m2")
    activity = numeric_column(svc, "activity_area_m2")
    missing_area = svc.index[area.isna().to_numpy()]
    if len(missing_area):
        warnings.warn(
            f"{len(missing_area)} community service facilities have no floor_area_m2 "
            f"(first: {', '.join(map(str, missing_area[:5]))}); counted as 0 m2",
            DataQualityWarning,
            stacklevel=2,
        )
    by_comm = pd.DataFrame(
        {"area": area.fillna(0.0), "activity": activity, "cid": svc["community_id"]}
    ).groupby("cid")
    svc_area = by_comm["area"].sum().reindex(communities.index.astype(str)).fillna(0.0)
    svc_area.index = communities.index
    act_sum = by_comm["activity"].sum(min_count=1).reindex(communities.index.astype(str))
    act_sum.index = communities.index
    n_fac = by_comm.size().reindex(communities.index.astype(str)).fillna(0).astype(int)
    n_fac.index = communities.index

    households = communities["households"].astype(float)
    checks: list[Check] = []
    fac_checks: list[Check] = []
    not_measured: dict[str, list[str]] = {}
    for t in targets:
        if t.measure in COMPLEX_MEASURES:  # one facility at a time: no community value
            keys = prof.names("key_functions") if t.measure == "key_functions_count" else ()
            applies = is_service & t.applies_mask(fac) if t.applies_if else is_service
            fac_checks.append(complex_check(t, fac, applies, key_functions=keys))
            continue
        needs = _columns_needed(t)
        absent = [c for c in needs if c not in communities.columns]
        applicable = applicable_mask(communities, t)
        if absent:
            if bool(applicable.any()):  # a target no community falls under needs nothing
                not_measured[t.id] = absent
            continue
        thr = float(t.threshold) if not isinstance(t.threshold, list | tuple) else np.nan
        if t.measure == "area_per_100_households":
            with np.errstate(divide="ignore", invalid="ignore"):
                value = svc_area / households * 100.0
            value = value.where(households > 0)
            required = households * thr / 100.0
            checks.append(
                Check(
                    t,
                    value,
                    applicable,
                    (required - svc_area).clip(lower=0),
                    required,
                    have=svc_area,
                    base=households,
                    base_unit="households",
                )
            )
        elif t.measure == "area_total":
            required = pd.Series(thr, index=communities.index)
            checks.append(
                Check(t, svc_area, applicable, (required - svc_area).clip(lower=0), required)
            )
        elif t.measure == "activity_share":
            # community level: all its service facilities together
            with np.errstate(divide="ignore", invalid="ignore"):
                share = act_sum / svc_area
            share = share.where(svc_area > 0)
            required = svc_area * thr
            no_activity = "activity_area_m2" not in facilities.columns
            missing = "activity_area_m2@facilities"
            checks.append(
                Check(
                    t,
                    share,
                    applicable & n_fac.gt(0),
                    (required - act_sum).clip(lower=0),
                    required,
                    have=act_sum,
                    base=svc_area,
                    base_unit="m2",
                    missing=missing if no_activity else None,
                )
            )
            # facility level: every community service facility
            f_area, f_act = (
                numeric_column(fac, "floor_area_m2"),
                numeric_column(fac, "activity_area_m2"),
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                f_share = (f_act / f_area).where(f_area > 0)
            f_req = f_area * thr
            fac_checks.append(
                Check(
                    t,
                    f_share,
                    is_service,
                    (f_req - f_act).clip(lower=0),
                    f_req,
                    have=f_act,
                    base=f_area,
                    base_unit="m2",
                    missing=missing if no_activity else None,
                )
            )
        elif t.measure == "commercial_service_share":
            have = numeric_column(communities, "commercial_service_area_m2")
            total = numeric_column(communities, "total_floor_area_m2")
            checks.append(_ratio_check(t, applicable, have, total, thr, base_unit="m2"))
        elif t.measure == "area_per_household":
            have = numeric_column(communities, t.column or "developer_service_rooms_m2")
            checks.append(
                _ratio_check(t, applicable, have, households, thr, base_unit="households")
            )
    table, findings = evaluate(checks, communities)
    # a facility-scoped target measured on a community is the aggregate of its
    # facilities: say so, so that summaries do not count communities as facilities
    agg = findings["check_id"].isin(
        [c.target.id for c in fac_checks if c.target.measure not in COMPLEX_MEASURES]
    )
    findings.loc[agg, "scope"] = "community"
    table.insert(0, "service_area_m2", svc_area)
    table.insert(1, "service_facilities", n_fac)
    fac_table, fac_findings = evaluate(fac_checks, fac)
    fac_table = as_geodataframe(fac_table, facilities)
    unassigned = fac.index[fac["assign_method"].eq("unassigned").to_numpy()]
    summary: dict[str, Any] = {
        "communities": len(communities),
        "urban_communities": int(communities["kind"].eq("urban").sum()),
        "villages": int(communities["kind"].eq("village").sum()),
        "households": float(households.sum()),
        "service_area_m2": float(svc_area.sum()),
        "facilities": len(facilities),
        "service_facilities": int(is_service.sum()),
        "unassigned_facilities": [str(i) for i in unassigned],
        "checks": check_summary(findings),
        "facility_checks": check_summary(fac_findings),
        "not_measured": not_measured,
        "communities_failing": int(
            findings.loc[findings["passed"] == False, "entity_id"].nunique()  # noqa: E712
        ),
    }
    return AuditResult(
        name="floor_area",
        table=as_geodataframe(table, communities),
        findings=pd.concat([findings, fac_findings.assign(scope="facility")], ignore_index=True)
        if len(fac_findings)
        else findings,
        summary=summary,
        profile=prof.name,
        parameters={
            "service_facility_categories": sorted(service_cats),
            "facility_assign_max_m": max_m,
        },
        extra={"facilities": fac_table},
    )


def _ratio_check(
    t: Target,
    applicable: pd.Series,
    have: pd.Series,
    base: pd.Series,
    thr: float,
    *,
    base_unit: str,
) -> Check:
    """A check of ``have / base >= thr``, its required m2 (``base x thr``) and shortfall."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (have / base).where(base > 0)
    required = base * thr
    return Check(
        t,
        value,
        applicable,
        (required - have).clip(lower=0),
        required,
        have=have,
        base=base,
        base_unit=base_unit,
    )


def _columns_needed(t: Target) -> list[str]:
    if t.measure == "commercial_service_share":
        return ["total_floor_area_m2", "commercial_service_area_m2"]
    if t.measure == "area_per_household":
        return [t.column or "developer_service_rooms_m2"]
    return []

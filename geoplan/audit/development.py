"""New-development audit: a plan (site, buildings, service rooms, commercial space,
proposed facilities) checked against one or more standards profiles in one pass.

The plan format is documented (and versioned) in ``docs/development-audit.md``.
Every threshold comes from the profiles; several profiles may be given and a
target that two profiles state identically (same measure, comparator, threshold,
scope and options) runs once, citing every source. Checks:

- ``floor_area`` targets (service floor area per 100 households, resident
  activity share, ...) through :func:`geoplan.audit.floor_area.audit_floor_area`,
  the plan's service rooms and proposed facilities counting for the site;
- ``development`` targets (new commercial + service share, developer service
  rooms per household, ...) measured on the site;
- ``coverage`` targets (15-minute life circle, wet-market reach) through
  :func:`geoplan.audit.coverage.audit_coverage` over the context's walking
  network, with the existing facilities plus the plan's own;
- ``coverage`` targets with measure ``walk_distance`` (GB 50180 life-circle
  levels): every category of the level's group within the distance.

Each finding carries a concrete remedy in Chinese and English.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.audit import _remedies
from geoplan.audit.plans import (
    PLAN_SCHEMA_VERSION,
    Context,
    Plan,
    empty_frame,
    has_existing_layers,
    read_context,
    read_plan,
)
from geoplan.audit.results import (
    FINDING_COLUMNS,
    AuditResult,
    check_summary,
)

if TYPE_CHECKING:
    from geoplan.profiles import Profile, Target

__all__ = [
    "PLAN_SCHEMA_VERSION",
    "Context",
    "Plan",
    "audit_development",
    "has_existing_layers",
    "merge_profiles",
    "read_context",
    "read_plan",
]

_TARGET_AUDITS = ("floor_area", "development", "coverage")


# --------------------------------------------------------------------------- profiles


def _target_key(t: Target) -> tuple[Any, ...]:
    return (
        t.audit,
        t.measure,
        t.comparator,
        t.threshold,
        t.scope,
        t.column,
        t.columns,
        t.category,
        t.group,
        t.within_min,
        t.within_m,
        tuple(sorted(t.applies_if.items())),
    )


@dataclass(frozen=True)
class _Run:
    """One profile's share of a combined audit: the targets it runs, renamed on clash."""

    profile: Any
    rename: dict[str, str]
    cited: dict[str, list[dict[str, Any]]]  # check id -> every (profile, source) citing it


def merge_profiles(profiles: Sequence[Profile | str | Path]) -> list[_Run]:
    """Split the targets of several profiles so that each distinct target runs once.

    Targets are compared by content (audit, measure, comparator, threshold,
    scope, column(s), category/group, distances, applies_if), not by id. The
    first profile that states a target runs it with its own parameters; later
    identical ones only add their source to its citations. A later target with
    the same id but a different content runs as ``<id>@<profile>``.

    Examples
    --------
    >>> runs = merge_profiles(["tianjin-2025", "ningxia-2025"])
    >>> ids = [t.id for r in runs for t in r.profile.targets]
    >>> ids.count("new_commercial_service_share")
    1
    >>> [c["profile"] for c in runs[0].cited["new_commercial_service_share"]]
    ['tianjin-2025', 'ningxia-2025']
    """
    from geoplan.profiles import load_profile

    loaded = [load_profile(p) if isinstance(p, str | Path) else p for p in profiles]
    if not loaded:
        raise InputError("give at least one profile", column="profile")
    seen: dict[tuple[Any, ...], tuple[int, str]] = {}
    used_ids: set[str] = set()
    runs: list[_Run] = []
    for n, prof in enumerate(loaded):
        drop: list[str] = []
        rename: dict[str, str] = {}
        cited: dict[str, list[dict[str, Any]]] = {}
        for t in prof.targets:
            src = prof.sources[t.source]
            cite = {
                "profile": prof.name,
                "source": t.source,
                "title_zh": src.title_zh,
                "title_en": src.title_en,
                "clause": t.clause,
                "confirmed": bool(t.confirmed),
            }
            if t.audit not in _TARGET_AUDITS:
                drop.append(t.id)
                continue
            key = _target_key(t)
            if key in seen:
                run_no, check_id = seen[key]
                target_runs = runs[run_no].cited if run_no < n else cited
                target_runs[check_id].append(cite)
                drop.append(t.id)
                continue
            check_id = t.id if t.id not in used_ids else f"{t.id}@{prof.name}"
            used_ids.add(check_id)
            if check_id != t.id:
                rename[t.id] = check_id
            seen[key] = (n, check_id)
            cited[check_id] = [cite]
        derived = prof.derive(prof.name, drop=drop) if drop else prof
        runs.append(_Run(derived, rename, cited))
    return runs


# --------------------------------------------------------------------------- audit


def audit_development(
    plan: Plan,
    context: Context,
    *,
    profiles: Sequence[Profile | str | Path],
) -> AuditResult:
    """Audit one development plan against one or more standards profiles.

    Parameters
    ----------
    plan
        From :func:`read_plan`.
    context
        From :func:`read_context` (in the plan's CRS).
    profiles
        Profile names, paths or :class:`~geoplan.profiles.Profile` objects. Targets
        of the ``floor_area``, ``development`` and ``coverage`` audits run; each
        distinct target once (:func:`merge_profiles`).

    Returns
    -------
    AuditResult
        ``name='development'``; ``table``: the site (one row) with
        ``<check>__value/__threshold/__pass/__shortfall``; ``findings``: one row
        per (entity, check) with ``audit``, ``profile``, ``cited`` (every source
        stating the target), ``remedy_zh`` / ``remedy_en``; ``summary``: the
        development's figures, per-check verdicts and coverage; ``extra``:
        ``checks`` (one row per check, for reports), ``buildings`` (walking
        access per building), ``facilities`` (existing and proposed), ``site``.

    Examples
    --------
    >>> plan = read_plan("data/plans/pass.gpkg")
    >>> ctx = read_context("data/plans/context.gpkg", metric_crs=plan.site.crs)
    >>> audit_development(plan, ctx, profiles=["ningxia-2025"]).passed
    True
    """
    from geoplan.audit.coverage import audit_coverage
    from geoplan.audit.floor_area import audit_floor_area

    if not plan.site.crs.equals(context.network.crs):
        raise InputError(
            f"the plan ({plan.site.crs.name}) and the context ({context.network.crs.name}) "
            "must share one metric CRS: read the context with metric_crs=plan.site.crs",
            file=context.path,
        )
    runs = merge_profiles(profiles)
    _check_site_in_context(plan, context, runs[0].profile)
    site = plan.site
    sid = plan.site_id
    svc_fac = _service_facilities(plan)
    own_fac = _own_facilities(plan)
    all_fac = _combined_facilities(context.facilities, own_fac)
    buildings = plan.buildings.copy()
    buildings["community_id"] = sid

    parts: list[pd.DataFrame] = []
    tables: list[pd.DataFrame] = []
    access: list[gpd.GeoDataFrame] = []
    coverage_summary: dict[str, Any] = {}
    not_applicable: list[dict[str, Any]] = []
    speeds: dict[str, float] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for run in runs:
            prof = run.profile
            speed = prof.walk_speed()
            speeds[prof.name] = speed
            not_applicable += [
                _na_entry(t, run)
                for t in prof.targets
                if t.audit != "coverage" and not bool(t.applies_mask(site).iloc[0])
            ]
            if any(t.audit in ("floor_area", "development") for t in prof.targets):
                # floor_area measures development targets too (rooms, commercial share)
                assignment = pd.DataFrame(
                    {"community_id": sid, "assign_method": "given", "assign_distance_m": 0.0},
                    index=svc_fac.index,
                )
                fa = audit_floor_area(site, svc_fac, profile=prof, assignment=assignment)
                parts.append(_tag(fa.findings, run))
                tables.append(_check_columns(fa.table))
            if prof.targets_for("coverage"):
                cov = audit_coverage(
                    buildings, all_fac, context.network, profile=prof, communities=site
                )
                f = cov.findings
                f = f[f["entity_id"].astype(str).eq(sid)] if len(f) else f
                parts.append(_tag(_remedies.access_remedies(f, cov.table, prof), run))
                access.append(cov.table)
                for cat, entry in cov.summary.get("coverage", {}).items():
                    coverage_summary.setdefault(cat, entry)
    _warn_once(caught)
    access_table = _merge_access(access, buildings)
    findings = _finish_findings(parts, site)
    table = site.copy()
    for t in tables:
        table = table.join(t[[c for c in t.columns if c not in table.columns]])
    checks = _checks_frame(findings, sid)
    summary = _summary(plan, findings, checks, coverage_summary, not_applicable, runs, speeds)
    sites = gpd.GeoDataFrame(table, geometry="geometry", crs=site.crs)
    return AuditResult(
        name="development",
        table=sites,
        findings=findings,
        summary=summary,
        profile="+".join(r.profile.name for r in runs),
        parameters={"profiles": [r.profile.name for r in runs], "walk_speed_m_per_min": speeds},
        extra={
            "checks": checks,
            "buildings": access_table,
            "facilities": all_fac,
            "site": sites[["name", "households", "geometry"]],
        },
    )


def _na_entry(t: Target, run: _Run) -> dict[str, Any]:
    cid = run.rename.get(t.id, t.id)
    return {
        "check_id": cid,
        "description_zh": t.description_zh,
        "description_en": t.description_en,
        "scope": t.scope,
        "profile": run.profile.name,
    }


def _check_site_in_context(plan: Plan, context: Context, prof: Profile) -> None:
    max_snap = prof.number("max_snap_m")
    reach = shapely.buffer(context.area, max_snap)
    poly = plan.site.geometry.iloc[0]
    if not shapely.within(poly, reach):
        where = "outside" if not shapely.intersects(poly, reach) else "partly outside"
        raise InputError(
            f"the site lies {where} the context area ({context.path}: the streets' extent "
            f"plus max_snap_m = {max_snap:g} m); give a context that covers the site, or "
            "check the plan's CRS",
            file=plan.site.attrs.get("source_file", plan.path),
            row=plan.site_id,
            column="geometry",
        )


def _service_facilities(plan: Plan) -> gpd.GeoDataFrame:
    """Service rooms and proposed facilities, all assigned to the site."""
    frames = []
    for frame in (plan.service_rooms, plan.facilities):
        if len(frame):
            cols = [
                c
                for c in ("name", "category", "floor_area_m2", "activity_area_m2")
                if c in frame.columns
            ]
            frames.append(frame[[*cols, "geometry"]])
    if not frames:
        out = empty_frame(plan.site.crs, "facility_id")
        out["activity_area_m2"] = pd.Series(dtype=float)
    else:
        out = gpd.GeoDataFrame(pd.concat(frames), geometry="geometry", crs=plan.site.crs)
    out = out[~out.index.duplicated(keep="first")]
    return out


def _own_facilities(plan: Plan) -> gpd.GeoDataFrame:
    frames = []
    for frame in (plan.service_rooms, plan.commercial, plan.facilities):
        if len(frame):
            sub = frame[frame["category"].notna()]
            frames.append(
                sub[["name", "category", "geometry"]]
                if "name" in sub.columns
                else sub[["category", "geometry"]]
            )
    if not frames:
        return empty_frame(plan.site.crs, "facility_id")[["name", "category", "geometry"]]
    out = gpd.GeoDataFrame(pd.concat(frames), geometry="geometry", crs=plan.site.crs)
    return out[~out.index.duplicated(keep="first")]


def _combined_facilities(existing: gpd.GeoDataFrame, own: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    ex = existing[[c for c in ("name", "category") if c in existing.columns] + ["geometry"]].copy()
    ex["origin"] = "existing"
    new = own.copy()
    new.index = pd.Index([f"plan/{i}" for i in new.index], name="facility_id")
    new["origin"] = "proposed"
    ex.index = ex.index.astype(str)
    ex.index.name = "facility_id"
    out = gpd.GeoDataFrame(pd.concat([ex, new]), geometry="geometry", crs=existing.crs)
    out["category"] = out["category"].astype(object)
    out["name"] = out["name"].astype(object) if "name" in out.columns else None
    # points on the map and in the reach engine: polygons by a point on their surface
    out["geometry"] = out.geometry.representative_point()
    return out


def _check_columns(table: pd.DataFrame) -> pd.DataFrame:
    return table[[c for c in table.columns if "__" in str(c)]]


def _tag(findings: pd.DataFrame, run: _Run) -> pd.DataFrame:
    if findings is None or len(findings) == 0:
        return pd.DataFrame(columns=[*FINDING_COLUMNS, "audit", "profile", "cited"])
    f = findings.copy()
    by_id = {t.id: t for t in run.profile.targets}
    f["measure"] = [by_id[c].measure if c in by_id else None for c in f["check_id"]]
    f["column"] = [by_id[c].column if c in by_id else None for c in f["check_id"]]
    f["audit"] = [by_id[c].audit if c in by_id else None for c in f["check_id"]]
    f["check_id"] = f["check_id"].map(lambda c: run.rename.get(c, c))
    f["profile"] = run.profile.name
    f["cited"] = pd.Series(
        [run.cited.get(c, []) for c in f["check_id"]], index=f.index, dtype=object
    )
    return f


# -- remedies ---------------------------------------------------------------------


def _merge_access(tables: list[gpd.GeoDataFrame], buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = pd.DataFrame(tables[0] if tables else buildings).copy()
    for table in tables[1:]:
        new = [c for c in table.columns if c not in out.columns]
        out = out.join(table[new]) if new else out
    return gpd.GeoDataFrame(out, geometry="geometry", crs=buildings.crs)


def _warn_once(caught: list[warnings.WarningMessage]) -> None:
    """Re-issue recorded warnings once each: every profile's run repeats the same ones."""
    seen: set[tuple[type, str]] = set()
    for w in caught:
        key = (w.category, str(w.message))
        if key not in seen:
            seen.add(key)
            warnings.warn(str(w.message), w.category, stacklevel=3)


# -- putting it together -----------------------------------------------------------


def _finish_findings(parts: list[pd.DataFrame], site: pd.DataFrame) -> pd.DataFrame:
    cols = [
        *FINDING_COLUMNS,
        "audit",
        "profile",
        "measure",
        "column",
        "cited",
        "remedy_zh",
        "remedy_en",
        "households_failing",
        "nearest_m",
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols)
    f = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
    f["passed"] = pd.Series(
        [
            None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else bool(v)
            for v in f["passed"]
        ],
        index=f.index,
        dtype=object,
    )
    for col in ("remedy_zh", "remedy_en"):
        f[col] = f[col].astype(object).where(f[col].notna(), "")
    area = f["audit"].ne("coverage") & f["passed"].map(lambda v: v is False)
    for i in f.index[area.to_numpy()]:
        zh, en = _remedies.area_remedy(f.loc[i].to_dict(), site)
        f.loc[i, "remedy_zh"], f.loc[i, "remedy_en"] = zh, en
    order = {"floor_area": 1, "development": 0, "coverage": 2}
    f["_o"] = f["audit"].map(order)
    f = f.sort_values(["_o", "check_id", "scope", "entity_id"], kind="stable")
    return f.drop(columns="_o").reset_index(drop=True)


def _checks_frame(findings: pd.DataFrame, site_id: str) -> pd.DataFrame:
    """One row per check: the verdict over its entities, for reports."""
    rows = []
    for cid, grp in findings.groupby("check_id", sort=False):
        passed = grp["passed"]
        fails = grp[passed.map(lambda v: v is False)]
        site_rows = grp[grp["scope"].ne("facility")]
        head = site_rows.iloc[0] if len(site_rows) else grp.iloc[0]
        verdict: bool | None
        if len(fails):
            verdict = False
        elif passed.map(lambda v: v is True).any():
            verdict = True
        else:
            verdict = None
        if len(site_rows) == 0 and len(fails):  # facility checks: show the worst facility
            head = fails.sort_values("shortfall", ascending=False).iloc[0]
        remedy_zh, remedy_en = _remedies.check_remedies(fails, str(site_id))
        own = fails[fails["entity_id"].astype(str).eq(site_id)]
        sm2 = (own if len(own) else fails)["shortfall_m2"].astype(float)
        rows.append(
            {
                "check_id": cid,
                "audit": head["audit"],
                "profile": head["profile"],
                "description_zh": head["description_zh"],
                "description_en": head["description_en"],
                "scope": head["scope"],
                "entities": len(grp),
                "failed": len(fails),
                "value": head["value"],
                "threshold": head["threshold"],
                "comparator": head["comparator"],
                "unit": head["unit"],
                "passed": verdict,
                "shortfall": head["shortfall"],
                "shortfall_m2": float(sm2.sum()) if sm2.notna().any() else math.nan,
                "households_failing": head.get("households_failing", math.nan),
                "nearest_m": head.get("nearest_m", math.nan),
                "source": head["source"],
                "clause": head["clause"],
                "confirmed": bool(head["confirmed"]),
                "cited": head["cited"],
                "remedy_zh": remedy_zh,
                "remedy_en": remedy_en,
            }
        )
    out = pd.DataFrame(rows)
    if len(out):  # Python True/False/None, never numpy bools
        out["passed"] = pd.Series(list(out["passed"]), index=out.index, dtype=object)
    return out


def _summary(
    plan: Plan,
    findings: pd.DataFrame,
    checks: pd.DataFrame,
    coverage: dict[str, Any],
    not_applicable: list[dict[str, Any]],
    runs: list[_Run],
    speeds: dict[str, float],
) -> dict[str, Any]:
    s = plan.site.iloc[0]

    def num(col: str) -> float | None:
        v = s.get(col)
        return None if v is None or pd.isna(v) else round(float(v), 3)

    ran = set(checks["check_id"]) if len(checks) else set()
    na = sorted({e["check_id"] for e in not_applicable} - ran)
    verdicts = {str(r.check_id): r.passed for r in checks.itertuples()}
    return {
        "plan_schema_version": PLAN_SCHEMA_VERSION,
        "development": {
            "id": plan.site_id,
            "name": plan.name,
            "stage": plan.stage or "proposed",
            "kind": str(s.get("kind")),
            "district_code": None
            if pd.isna(s.get("district_code"))
            else str(s.get("district_code")),
            "new_development": bool(s.get("new_development", False)),
            "renovation": bool(s.get("renovation", False)),
            "old_estate": bool(s.get("old_estate", False)),
            "central_district": bool(s.get("central_district", False)),
            "buildings": len(plan.buildings),
            "households": num("households"),
            "total_floor_area_m2": num("total_floor_area_m2"),
            "commercial_service_area_m2": num("commercial_service_area_m2"),
            "developer_service_rooms_m2": num("developer_service_rooms_m2"),
            "elderly_care_area_m2": num("elderly_care_area_m2"),
            "site_area_m2": round(float(plan.site.geometry.area.iloc[0]), 1),
            "proposed_facilities": len(plan.facilities),
        },
        "profiles": [r.profile.name for r in runs],
        "walk_speed_m_per_min": speeds,
        "verdicts": verdicts,
        "checks_passed": sum(1 for v in verdicts.values() if v is True),
        "checks_failed": sum(1 for v in verdicts.values() if v is False),
        "checks_not_measured": sum(1 for v in verdicts.values() if v is None),
        "not_applicable": na,
        "checks": check_summary(findings) if len(findings) else {},
        "coverage": coverage,
    }

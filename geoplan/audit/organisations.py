"""Organisation and staffing audit from a community attribute table.

Workers per 10,000 residents, social organisations by community size and kind,
licensed social workers, volunteer organisations and stations, self-service
terminals, opening hours, "double report", grid staffing, ... Every check is a
profile target with ``audit = "organisations"``; district-level targets (shares of
communities or facilities) are reported once for the whole area.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoplan.audit.facts import missing_key
from geoplan.audit.results import (
    AuditResult,
    Check,
    applicable_mask,
    as_geodataframe,
    check_summary,
    evaluate,
)

if TYPE_CHECKING:
    from geoplan.profiles import Profile, Target

__all__ = ["audit_organisations"]

_COMMUNITY_MEASURES = {"per_10000_residents", "count", "flag", "rate", "range_columns", "per_grid"}
_DISTRICT_MEASURES = {"share_of_communities", "share_of_facilities"}


@dataclass(frozen=True)
class _DistrictRow:
    """A district-level target measured once for the whole area: the share found
    over ``n`` communities (or facilities), and whether it passes."""

    target: Target
    value: float
    n: int
    passed: bool


def audit_organisations(
    communities: pd.DataFrame,
    *,
    profile: Profile | str,
    facilities: pd.DataFrame | None = None,
    area_id: str | None = None,
) -> AuditResult:
    """Audit organisation and staffing targets.

    Parameters
    ----------
    communities
        Canonical communities (a plain DataFrame works: no geometry is needed).
    profile
        A :class:`geoplan.profiles.Profile` or a profile name.
    facilities
        Facilities, for facility-share targets (volunteer stations in service
        facilities); those targets are skipped when absent.
    area_id
        Name of the audited area for district-level findings; default: the
        communities' ``district_code`` when unique, else ``"all"``.

    Returns
    -------
    AuditResult
        ``table`` aligned to ``communities.index``. A column the input lacks
        makes its check "not measured" (listed in ``summary["not_measured"]``),
        never a silent pass.

    Examples
    --------
    >>> import pandas as pd
    >>> comm = pd.DataFrame({"name": ["A社区"], "kind": ["urban"], "households": [3000.0],
    ...     "residents": [10000.0], "workers": [15.0]},
    ...     index=pd.Index(["C1"], name="community_id"))
    >>> r = audit_organisations(comm, profile="tianjin-2025")
    >>> value, ok = r.table.loc["C1", ["workers_per_10k__value", "workers_per_10k__pass"]]
    >>> float(value), bool(ok)
    (15.0, False)
    """
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    targets = prof.targets_for("organisations")
    checks: list[Check] = []
    not_measured: dict[str, list[str]] = {}
    district_rows: list[_DistrictRow] = []
    area = area_id or _area_name(communities)
    for t in targets:
        cols = list(t.columns or ([t.column] if t.column else []))
        if t.measure == "per_grid":
            cols = [*cols, "grids"]
        if t.measure == "share_of_facilities":
            missing = [c for c in cols if facilities is None or c not in facilities.columns]
        else:
            missing = [c for c in cols if c not in communities.columns]
        if t.measure in _COMMUNITY_MEASURES:
            applicable = applicable_mask(communities, t)
            if missing:
                if bool(applicable.any()):  # a target no community falls under needs nothing
                    not_measured[t.id] = missing
                continue
            value = _community_value(communities, t, cols)
            blank = _blank_column(communities, [*cols, "residents"] if t.measure ==
                                  "per_10000_residents" else cols)  # fmt: skip
            if t.measure == "per_10000_residents" and "residents" in communities.columns:
                # the persons and residents behind the rate, so findings say how many
                # persons are missing (6 of 9 workers), not only the rate
                have, base = _num(communities, cols[0]), _num(communities, "residents")
                checks.append(
                    Check(t, value, applicable, have=have, base=base, base_unit="residents",
                          have_unit="persons", missing=blank)
                )  # fmt: skip
            else:
                checks.append(Check(t, value, applicable, missing=blank))
        elif t.measure in _DISTRICT_MEASURES:
            if missing:
                not_measured[t.id] = missing
                continue
            share, n = _district_value(communities, facilities, t, cols, prof)
            if n == 0:
                continue
            district_rows.append(_DistrictRow(t, share, n, bool(t.passes(share))))
    table, findings = evaluate(checks, communities)
    district = _district_findings(district_rows, area)
    all_findings = pd.concat([findings, district], ignore_index=True) if len(district) else findings
    summary: dict[str, Any] = {
        "communities": len(communities),
        "checks": check_summary(findings),
        "district_checks": {
            row.target.id: {
                "value": round(float(row.value), 6),
                "threshold": row.target.threshold,
                "passed": row.passed,
                "over": row.n,
            }
            for row in district_rows
        },
        "not_measured": not_measured,
        "communities_failing": int(
            findings.loc[findings["passed"] == False, "entity_id"].nunique()  # noqa: E712
        ),
    }
    return AuditResult(
        name="organisations",
        table=as_geodataframe(table, communities),
        findings=all_findings,
        summary=summary,
        profile=prof.name,
        parameters={"area_id": area},
    )


def _area_name(communities: pd.DataFrame) -> str:
    if "district_code" in communities.columns:
        codes = communities["district_code"].dropna().astype(str).unique()
        if len(codes) == 1:
            return str(codes[0])
    return "all"


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    s = frame[col]
    if s.dtype == bool:
        return s.astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


def _blank_column(communities: pd.DataFrame, cols: list[str]) -> str | None:
    """``"column@communities:empty"`` when exactly one of the columns a check reads has
    blank cells (so an unmeasured community's finding can say which cell to fill), else
    None (the generic "no data" wording)."""
    blanks = [c for c in cols if c in communities.columns and communities[c].isna().any()]
    return missing_key(blanks[0], "communities", communities) if len(blanks) == 1 else None


def _community_value(frame: pd.DataFrame, t: Target, cols: list[str]) -> pd.Series:
    m = t.measure
    if m == "per_10000_residents":
        residents = _num(frame, "residents") if "residents" in frame.columns else None
        if residents is None:
            return pd.Series(np.nan, index=frame.index)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_num(frame, cols[0]) / residents * 10_000.0).where(residents > 0)
    if m in {"count", "rate"}:
        return _num(frame, cols[0])
    if m == "flag":
        s = frame[cols[0]]
        return s.map(lambda v: np.nan if v is None or v is pd.NA else float(bool(v))).astype(float)
    if m == "per_grid":
        grids = _num(frame, "grids")
        with np.errstate(divide="ignore", invalid="ignore"):
            return (_num(frame, cols[0]) / grids).where(grids > 0)
    if m == "range_columns":
        assert isinstance(t.threshold, tuple)  # the profile check: range_columns is 'between'
        lo, hi = float(t.threshold[0]), float(t.threshold[1])
        vmin, vmax = _num(frame, cols[0]), _num(frame, cols[1])
        # report the worst member: the one farthest outside the range
        below, above = (lo - vmin).clip(lower=0), (vmax - hi).clip(lower=0)
        return vmin.where(below >= above, vmax)
    raise ValueError(f"unknown measure {m!r} for target {t.id}")


def _district_value(
    communities: pd.DataFrame,
    facilities: pd.DataFrame | None,
    t: Target,
    cols: list[str],
    prof: Profile,
) -> tuple[float, int]:
    if t.measure == "share_of_communities":
        mask = applicable_mask(communities, t)
        vals = communities.loc[mask, cols[0]].fillna(False).astype(bool)
        return (float(vals.mean()) if len(vals) else float("nan")), len(vals)
    assert facilities is not None
    service = set(prof.names("service_facility_categories"))
    fac = facilities[facilities["category"].isin(service)]
    vals = fac[cols[0]].fillna(False).astype(bool)
    return (float(vals.mean()) if len(vals) else float("nan")), len(vals)


def _district_findings(rows: list[_DistrictRow], area: str) -> pd.DataFrame:
    out = []
    for row in rows:
        t = row.target
        out.append(
            {
                "entity_id": area,
                "entity_name": area,
                "check_id": t.id,
                "scope": "district",
                "value": float(row.value),
                "threshold": t.threshold,
                "comparator": t.comparator,
                "unit": t.unit,
                "passed": row.passed,
                "shortfall": float(t.shortfall(row.value)),
                "shortfall_m2": np.nan,
                "source": t.source,
                "clause": t.clause,
                "confirmed": bool(t.confirmed),
                "description_zh": t.description_zh,
                "description_en": t.description_en,
            }
        )
    return pd.DataFrame(out)

"""The report as data: the JSON document (``report_dict``, schema
``REPORT_SCHEMA_VERSION`` of ``docs/development-audit.md``) and the check comparison
of a renovation.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult

REPORT_SCHEMA_VERSION = "1.0"
"""Version of the report JSON schema (``docs/development-audit.md``)."""


def _clean(value: object) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    return str(value)


def _check_entries(result: AuditResult) -> list[dict[str, Any]]:
    checks: pd.DataFrame = result.extra["checks"]
    f: pd.DataFrame = result.findings
    out = []
    for row in checks.to_dict(orient="records"):
        ent = f[f["check_id"] == row["check_id"]]
        out.append(
            {
                "check_id": row["check_id"],
                "audit": row["audit"],
                "profile": row["profile"],
                "description": {"zh": row["description_zh"], "en": row["description_en"]},
                "sources": list(row["cited"]) if isinstance(row["cited"], list) else [],
                "value": row["value"],
                "threshold": row["threshold"],
                "comparator": row["comparator"],
                "unit": row["unit"],
                "passed": row["passed"],
                "shortfall": row["shortfall"],
                "shortfall_m2": row["shortfall_m2"],
                "households_failing": row["households_failing"],
                "nearest_m": row["nearest_m"],
                "remedy": {"zh": row["remedy_zh"], "en": row["remedy_en"]},
                "entities": [
                    {
                        "entity_id": e["entity_id"],
                        "entity_name": e["entity_name"],
                        "scope": e["scope"],
                        "value": e["value"],
                        "passed": e["passed"],
                        "shortfall": e["shortfall"],
                    }
                    for e in ent.to_dict(orient="records")
                ],
            }
        )
    return out


def _one(result: AuditResult) -> dict[str, Any]:
    s = result.summary
    return {
        "development": s["development"],
        "passed": bool(result.passed),
        "counts": {
            "passed": s["checks_passed"],
            "failed": s["checks_failed"],
            "not_measured": s["checks_not_measured"],
        },
        "checks": _check_entries(result),
        "not_applicable": s["not_applicable"],
        "coverage": s["coverage"],
        "walk_speed_m_per_min": s["walk_speed_m_per_min"],
    }


def _pbool(value: object) -> bool | None:
    """True, False or None from a pass cell (numpy bools and NA included)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def compare_checks(result: AuditResult, before: AuditResult) -> list[dict[str, Any]]:
    a = result.extra["checks"].set_index("check_id")
    b = before.extra["checks"].set_index("check_id")
    rows = []
    for cid in list(dict.fromkeys([*b.index, *a.index])):
        ra = a.loc[cid] if cid in a.index else None
        rb = b.loc[cid] if cid in b.index else None
        src = ra if ra is not None else rb
        assert src is not None
        rows.append(
            {
                "check_id": cid,
                "description": {"zh": src["description_zh"], "en": src["description_en"]},
                "unit": src["unit"],
                "comparator": src["comparator"],
                "threshold": src["threshold"],
                "before": None
                if rb is None
                else {
                    "value": rb["value"],
                    "passed": _pbool(rb["passed"]),
                    "shortfall_m2": rb["shortfall_m2"],
                },
                "after": None
                if ra is None
                else {
                    "value": ra["value"],
                    "passed": _pbool(ra["passed"]),
                    "shortfall_m2": ra["shortfall_m2"],
                },
            }
        )
    return rows


def report_dict(result: AuditResult, *, before: AuditResult | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict (schema in ``docs/development-audit.md``).

    Parameters
    ----------
    result
        A development :class:`~geoplan.audit.results.AuditResult` (the proposal).
    before
        For a renovation: the result of the estate as it is.

    Examples
    --------
    >>> import warnings
    >>> from geoplan.audit.development import audit_development, read_context, read_plan
    >>> plan = read_plan("data/plans/fail.gpkg")
    >>> ctx = read_context("data/plans/context.gpkg", metric_crs=plan.site.crs)
    >>> with warnings.catch_warnings():  # one context facility lies off the streets
    ...     warnings.simplefilter("ignore")
    ...     result = audit_development(plan, ctx, profiles=["tianjin-2025"])
    >>> d = report_dict(result)
    >>> d["schema_version"], d["passed"], d["counts"]["failed"]
    ('1.0', False, 3)
    """
    out: dict[str, Any] = {
        "schema_version": REPORT_SCHEMA_VERSION,
        "plan_schema_version": result.summary.get("plan_schema_version"),
        "mode": "renovation" if before is not None else "development",
        "profiles": list(result.parameters.get("profiles", [])),
        **_one(result),
        "before": None if before is None else _one(before),
        "comparison": None if before is None else compare_checks(result, before),
    }
    cleaned: dict[str, Any] = _clean(out)
    return cleaned


def json_text(result: AuditResult, before: AuditResult | None) -> str:
    return (
        json.dumps(report_dict(result, before=before), ensure_ascii=False, indent=2, sort_keys=True)
        + "\n"
    )

"""The result every audit returns, and the shared machinery that fills it.

An :class:`AuditResult` carries a table aligned to the audited frame (value,
threshold, pass and shortfall columns per check), the same findings in long form
for reports, a JSON-ready summary, and the profile and parameters used.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["AuditResult", "Check", "applicable_mask", "evaluate", "save_result"]

FINDING_COLUMNS = [
    "entity_id",
    "entity_name",
    "check_id",
    "scope",
    "value",
    "threshold",
    "comparator",
    "unit",
    "passed",
    "shortfall",
    "shortfall_m2",
    "source",
    "clause",
    "confirmed",
    "description_zh",
    "description_en",
]


@dataclass(frozen=True)
class Check:
    """One evaluated target over many entities (aligned to the audited index)."""

    target: Any  # geoplan.profiles.Target
    value: pd.Series
    applicable: pd.Series
    shortfall_m2: pd.Series | None = None
    required_m2: pd.Series | None = None

    @property
    def passed(self) -> pd.Series:
        """Boolean with NA where the check does not apply or the value is missing."""
        ok = pd.Series(
            [self.target.passes(v) if not _isnan(v) else None for v in self.value],
            index=self.value.index,
            dtype="boolean",
        )
        return ok.where(self.applicable, pd.NA)

    @property
    def shortfall(self) -> pd.Series:
        out = pd.Series(
            [self.target.shortfall(v) if not _isnan(v) else math.nan for v in self.value],
            index=self.value.index,
            dtype=float,
        )
        return out.where(self.applicable)


def _isnan(v: Any) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def applicable_mask(frame: pd.DataFrame, target: Any) -> pd.Series:
    """Rows of ``frame`` (communities) that a target applies to, from scope and applies_if."""
    mask = pd.Series(True, index=frame.index)
    kind = frame["kind"] if "kind" in frame.columns else pd.Series("urban", index=frame.index)
    scope = target.scope
    if scope == "urban_community":
        mask &= kind.eq("urban")
    elif scope == "village":
        mask &= kind.eq("village")
    elif scope == "new_development":
        mask &= _flag(frame, "new_development")
    elif scope == "central_district":
        mask &= _flag(frame, "central_district")
    cond: Mapping[str, Any] = target.applies_if or {}
    for key, want in cond.items():
        if key == "kind":
            mask &= kind.eq(want)
        elif key == "min_households":
            mask &= frame["households"].ge(float(want)).fillna(False).astype(bool)
        elif key == "max_households":
            mask &= frame["households"].le(float(want)).fillna(False).astype(bool)
        else:
            mask &= _flag(frame, key).eq(bool(want))
    return mask


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[col].fillna(False).astype(bool)


def evaluate(
    checks: list[Check],
    frame: pd.DataFrame,
    *,
    name_col: str = "name",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the wide table and the long findings from evaluated checks."""
    table = frame.copy()
    rows: list[pd.DataFrame] = []
    names = frame[name_col] if name_col in frame.columns else pd.Series("", index=frame.index)
    for chk in checks:
        t = chk.target
        k = t.id
        passed = chk.passed
        shortfall = chk.shortfall
        thr = t.threshold
        thr_text = f"{thr[0]:g}-{thr[1]:g}" if isinstance(thr, list | tuple) else thr
        table[f"{k}__value"] = chk.value.where(chk.applicable)
        table[f"{k}__threshold"] = pd.Series(
            [thr_text] * len(frame), index=frame.index, dtype=object
        ).where(chk.applicable)
        table[f"{k}__pass"] = passed
        table[f"{k}__shortfall"] = shortfall
        if chk.shortfall_m2 is not None:
            table[f"{k}__shortfall_m2"] = chk.shortfall_m2.where(chk.applicable)
        if chk.required_m2 is not None:
            table[f"{k}__required_m2"] = chk.required_m2.where(chk.applicable)
        sel = chk.applicable.to_numpy()
        if not sel.any():
            continue
        idx = frame.index[sel]
        rows.append(
            pd.DataFrame(
                {
                    "entity_id": [str(i) for i in idx],
                    "entity_name": names[idx].astype(object).to_numpy(),
                    "check_id": k,
                    "scope": t.scope,
                    "value": chk.value[idx].to_numpy(dtype=float),
                    "threshold": [thr_text] * len(idx),
                    "comparator": t.comparator,
                    "unit": t.unit,
                    "passed": passed[idx].to_numpy(dtype=object),
                    "shortfall": shortfall[idx].to_numpy(dtype=float),
                    "shortfall_m2": (
                        chk.shortfall_m2[idx].to_numpy(dtype=float)
                        if chk.shortfall_m2 is not None
                        else np.full(len(idx), np.nan)
                    ),
                    "source": t.source,
                    "clause": t.clause,
                    "confirmed": bool(t.confirmed),
                    "description_zh": t.description_zh,
                    "description_en": t.description_en,
                }
            )
        )
    findings = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=FINDING_COLUMNS)
    return table, findings


def check_summary(findings: pd.DataFrame) -> dict[str, Any]:
    """Per-check counts from findings: applicable, passed, failed, not measured, shortfall."""
    out: dict[str, Any] = {}
    for check_id, grp in findings.groupby("check_id", sort=True):
        passed = grp["passed"]
        n_pass = int((passed == True).sum())  # noqa: E712  (object column with None)
        n_fail = int((passed == False).sum())  # noqa: E712
        entry: dict[str, Any] = {
            "applicable": len(grp),
            "passed": n_pass,
            "failed": n_fail,
            "not_measured": len(grp) - n_pass - n_fail,
            "unit": str(grp["unit"].iloc[0]),
            "threshold": _jsonable(grp["threshold"].iloc[0]),
            "source": str(grp["source"].iloc[0]),
            "clause": str(grp["clause"].iloc[0]),
        }
        sm2 = grp["shortfall_m2"].astype(float)
        if sm2.notna().any():
            entry["total_shortfall_m2"] = round(float(sm2.fillna(0).sum()), 3)
        out[str(check_id)] = entry
    return out


@dataclass(frozen=True)
class AuditResult:
    """Everything an audit found.

    Attributes
    ----------
    name
        ``floor_area``, ``organisations``, ``coverage`` or ``development``.
    table
        The audited frame (same index) with ``<check>__value``, ``__threshold``,
        ``__pass`` and ``__shortfall`` columns (and ``__shortfall_m2`` for area checks).
    findings
        One row per (entity, check) that applies: the long form reports read.
    summary
        Plain JSON values: counts and shares per check, overall pass.
    profile
        Name of the standards profile used.
    parameters
        Parameters used (from the profile, or given).
    extra
        Further tables keyed by name (e.g. ``facilities`` with assignments).
    """

    name: str
    table: pd.DataFrame
    findings: pd.DataFrame
    summary: dict[str, Any]
    profile: str
    parameters: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True when no applicable check failed."""
        if self.findings.empty:
            return True
        return not bool((self.findings["passed"] == False).any())  # noqa: E712

    @property
    def failures(self) -> pd.DataFrame:
        """The findings that failed, largest shortfall first."""
        f = self.findings[self.findings["passed"] == False]  # noqa: E712
        return f.sort_values(["check_id", "shortfall"], ascending=[True, False])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: name, profile, passed, summary, parameters, findings."""
        findings = [
            {k: _jsonable(v) for k, v in row.items()}
            for row in self.findings.to_dict(orient="records")
        ]
        return {
            "audit": self.name,
            "profile": self.profile,
            "passed": self.passed,
            "summary": _jsonable(self.summary),
            "parameters": _jsonable(self.parameters),
            "findings": findings,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text, UTF-8 with Chinese kept readable, keys sorted (stable reruns)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, sort_keys=True)

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        head = f"<b>{self.name}</b> audit, profile <code>{self.profile}</code>: "
        head += (
            "<b style='color:green'>PASS</b>" if self.passed else "<b style='color:#c00'>FAIL</b>"
        )
        cols = ["entity_id", "entity_name", "check_id", "value", "threshold", "passed", "shortfall"]
        body = self.failures[[c for c in cols if c in self.findings.columns]].head(20)
        return head + body.to_html(index=False, float_format=lambda v: f"{v:,.2f}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return None
        return round(value, 6)
    if value is pd.NA or value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    return str(value)


def as_geodataframe(table: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Keep GeoDataFrame-ness of the audited input."""
    if isinstance(like, gpd.GeoDataFrame) and not isinstance(table, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(table, geometry=like.geometry.name, crs=like.crs)
    return table


def save_result(
    result: AuditResult,
    folder: str | os.PathLike[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write an audit's outputs into ``folder``, each file atomically.

    Files: ``<name>.json`` (the full result), ``<name>_findings.csv`` (long form),
    ``<name>.csv`` (the table without geometry) and, when the table has
    geometry, ``<name>.gpkg`` with the table and every extra spatial table as
    layers. CSVs are UTF-8 with a BOM so Excel shows Chinese.

    Examples
    --------
    >>> import tempfile
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.audit import audit_organisations
    >>> d = make_sample_district(seed=0)
    >>> r = audit_organisations(d.communities, profile="ningxia-2025")
    >>> [p.name for p in save_result(r, tempfile.mkdtemp())]
    ['organisations.json', 'organisations_findings.csv', 'organisations.csv', 'organisations.gpkg']
    """
    from geoplan.io.write import write_csv, write_gpkg, write_text

    folder = Path(folder)
    paths = [
        write_text(folder / f"{result.name}.json", result.to_json() + "\n", protect=protect),
        write_csv(
            folder / f"{result.name}_findings.csv",
            result.findings.set_index("entity_id"),
            protect=protect,
        ),
        write_csv(folder / f"{result.name}.csv", result.table, protect=protect),
    ]
    layers: dict[str, gpd.GeoDataFrame] = {}
    if isinstance(result.table, gpd.GeoDataFrame):
        layers[result.name] = result.table
    for key, extra in result.extra.items():
        if isinstance(extra, gpd.GeoDataFrame):
            layers[key] = extra
    if layers:
        paths.append(write_gpkg(folder / f"{result.name}.gpkg", layers, protect=protect))
    return paths

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
from typing import TYPE_CHECKING, Any, SupportsFloat, SupportsIndex

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from geoplan.profiles import Target

__all__ = [
    "AuditResult",
    "Check",
    "applicable_mask",
    "evaluate",
    "fact_text",
    "missing_text",
    "save_result",
    "with_text",
]

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
    "text_zh",
    "text_en",
]
#: Optional detail columns of findings that the fact text reads (when a check has them).
DETAIL_COLUMNS = ["have", "have_unit", "base", "base_unit", "required_m2", "missing"]


@dataclass(frozen=True)
class Check:
    """One evaluated target over many entities (aligned to the audited index)."""

    target: Any  # geoplan.profiles.Target
    value: pd.Series
    applicable: pd.Series
    shortfall_m2: pd.Series | None = None
    required_m2: pd.Series | None = None
    #: the measured amount and what it is divided by (480 m2 of 2,000 households),
    #: for the fact text; ``base_unit`` is ``"households"`` or ``"m2"``
    have: pd.Series | None = None
    base: pd.Series | None = None
    base_unit: str = ""
    #: what ``have`` counts: ``"m2"`` (floor area) or ``"persons"`` (workers)
    have_unit: str = "m2"
    #: what to add when a value is missing: ``"<column>@<layer>"`` (layer
    #: ``communities`` or ``facilities``), e.g. ``"activity_area_m2@facilities"``
    missing: str | None = None

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


def _isnan(v: object) -> bool:
    """True for None and a missing scalar (NaN, NA, NaT); False for anything else,
    such as a finding's list of citations or a (low, high) threshold."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    return False


def applicable_mask(frame: pd.DataFrame, target: Target) -> pd.Series:
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
                    "have": _values(chk.have, idx),
                    "base": _values(chk.base, idx),
                    "base_unit": chk.base_unit,
                    "have_unit": chk.have_unit,
                    "required_m2": _values(chk.required_m2, idx),
                    "missing": chk.missing,
                }
            )
        )
    findings = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=[*FINDING_COLUMNS, *DETAIL_COLUMNS])
    )
    return table, with_text(findings)


def _values(series: pd.Series | None, idx: pd.Index) -> np.ndarray:
    if series is None:
        return np.full(len(idx), np.nan)
    return series.reindex(idx).to_numpy(dtype=float)


# --------------------------------------------------------------------------- fact text

_COMPARATORS = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
# profile unit -> (zh, en) as printed after a number
_UNITS = {
    "m2/100 households": ("m²/百户", "m²/100 households"),
    "m2/household": ("m²/户", "m²/household"),
    "m2/dwelling": ("m²/套", "m²/dwelling"),
    "m2": ("m²", "m²"),
    "m": ("米", "m"),
    "min": ("分钟", "min"),
    "households": ("户", "households"),
    "dwellings": ("套", "dwellings"),
    "residents": ("人", "residents"),
    "persons": ("人", "persons"),
    "members": ("人", "members"),
    "organisations": ("个", "organisations"),
    "workers/10,000 residents": ("人/万人", "workers/10,000 residents"),
    "places/10,000 residents": ("个/万人", "places/10,000 residents"),
    "workers/grid": ("人/网格", "workers/grid"),
    "branches/grid": ("个/网格", "branches/grid"),
    "h/day": ("小时/天", "h/day"),
    "patrols/day": ("次/天", "patrols/day"),
    "visits/month": ("次/月", "visits/month"),
    "visits/household/year": ("次/户/年", "visits/household/year"),
    "persons/household": ("人/户", "persons/household"),
}
_LAYERS = {
    "communities": ("社区表", "communities table"),
    "facilities": ("设施表", "facilities table"),
}


def _is_share(unit: str) -> bool:
    return unit == "share" or unit.startswith("share ")


def _number(x: float, unit: str) -> str:
    """A value as a planner reads it: ratios keep 3 figures, counts none."""
    if "/" not in unit and float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.3g}"


def _threshold_text(thr: object, comparator: str, unit: str, *, zh: bool) -> str:
    share = _is_share(unit)

    def one(v: str | SupportsFloat | SupportsIndex) -> str:
        return f"{float(v):.0%}" if share else f"{float(v):g}"

    if isinstance(thr, str) and "-" in thr and comparator == "between":
        lo, hi = thr.split("-", 1)
        return f"应在 {one(lo)}–{one(hi)} 之间" if zh else f"should be {one(lo)}–{one(hi)}"
    if isinstance(thr, list | tuple):
        return (
            f"应在 {one(thr[0])}–{one(thr[1])} 之间"
            if zh
            else f"should be {one(thr[0])}–{one(thr[1])}"
        )
    sym = _COMPARATORS.get(comparator, comparator)
    try:
        shown = (
            one(thr) if isinstance(thr, float | str | SupportsFloat | SupportsIndex) else str(thr)
        )
    except (TypeError, ValueError):
        shown = str(thr)
    return f"应 {sym} {shown}" if zh else f"should be {sym} {shown}"


def missing_text(column: str, layer: str, *, zh: bool) -> str:
    """What to add so a check can be measured, e.g. "缺 activity_area_m2 列（设施表，活动面积）".

    Examples
    --------
    >>> missing_text("activity_area_m2", "facilities", zh=True)
    '未测：缺 activity_area_m2 列（设施表，活动面积）'
    >>> missing_text("sanitary_village", "communities", zh=False)
    'not measured: add a sanitary_village column (communities table)'
    """
    from geoplan.io.columns import ALIASES

    where_zh, where_en = _LAYERS.get(layer, (layer, layer))
    aliases = [a for a in ALIASES.get(column, ()) if a != column]
    cn = next((a for a in aliases if any("\u4e00" <= ch <= "\u9fff" for ch in a)), None)
    if zh:
        return f"未测：缺 {column} 列（{where_zh}{'，' + cn if cn else ''}）"
    return f"not measured: add a {column} column ({where_en})"


def fact_text(row: Mapping[str, object] | pd.Series, *, lang: str = "zh") -> str:
    """One finding as a sentence of facts: value, its parts, the target, the gap.

    ``row`` is a findings row (a dict or Series) with ``value``, ``threshold``,
    ``comparator``, ``unit``, ``passed`` and, when known, ``have``, ``base``,
    ``base_unit``, ``required_m2``, ``shortfall_m2``, ``missing`` and
    ``households_uncovered``.

    Examples
    --------
    >>> row = {"value": 24.0, "threshold": 30.0, "comparator": ">=",
    ...        "unit": "m2/100 households", "passed": False, "have": 480.0, "base": 2000.0,
    ...        "base_unit": "households", "required_m2": 600.0, "shortfall_m2": 120.0}
    >>> fact_text(row)
    '24.0 m²/百户（480 m² / 2,000 户），应 ≥ 30，需 600 m²，缺 120 m²'
    >>> fact_text(row, lang="en")
    '24.0 m²/100 households (480 m² / 2,000 households), should be ≥ 30, needs 600 m², short 120 m²'
    """
    zh = lang == "zh"
    get = row.get
    value = _float(get("value"))
    unit = str(get("unit") or "")
    comparator = str(get("comparator") or "")
    thr = get("threshold")
    if value is None:
        missing = get("missing")
        if isinstance(missing, str) and "@" in missing:
            column, layer = missing.split("@", 1)
            return missing_text(column, layer, zh=zh)
        return "未测：缺数据" if zh else "not measured: no data"
    passed = get("passed")
    walk = isinstance(thr, str) and _is_share(unit) and unit != "share"
    if walk:  # walking access: share of households within a time or distance
        limit = str(thr)
        for sym in _COMPARATORS:
            if limit.startswith(sym + " "):
                limit = limit[len(sym) + 1 :]
                break
        limit = limit.replace(" min", " 分钟" if zh else " min").replace(
            " m", " 米" if zh else " m"
        )
        text = (
            f"{value:.1%} 的住户步行 {limit}内可达，应为全部"
            if zh
            else f"{value:.1%} of households within {limit} on foot, should be all"
        )
        lost = _float(get("households_uncovered"))
        if passed is False and lost is not None and lost > 0:
            text += f"，缺 {lost:,.0f} 户" if zh else f", {lost:,.0f} households short"
        return text
    if unit == "flag":
        shown = ("是" if value else "否") if zh else ("yes" if value else "no")
        return f"{shown}，应为是" if zh else f"{shown}, should be yes"
    if _is_share(unit):
        shown = f"{value:.1%}"
    else:
        uz, ue = _UNITS.get(unit, (unit, unit))
        u = uz if zh else ue
        shown = f"{_number(value, unit)} {u}".strip()
    have, base = _float(get("have")), _float(get("base"))
    hunit = str(get("have_unit") or "m2")
    hu = "m²" if hunit == "m2" else _UNITS.get(hunit, (hunit, hunit))[0 if zh else 1]
    if have is not None and base is not None:
        bunit = str(get("base_unit") or "")
        bu = "m²" if bunit == "m2" else _UNITS.get(bunit, (bunit, bunit))[0 if zh else 1]
        sep = "（" if zh else " ("
        end = "）" if zh else ")"
        shown += f"{sep}{have:,.0f} {hu} / {base:,.0f} {bu}{end}"
    parts = [shown, _threshold_text(thr, comparator, unit, zh=zh)]
    need, short = _float(get("required_m2")), _float(get("shortfall_m2"))
    threshold = _float(thr)
    if need is None and hunit != "m2" and have is not None and base is not None and threshold:
        # a rate per 10,000 residents is met by whole persons: say how many
        per = 10_000.0 if "/10,000" in unit else 1.0
        need = float(math.ceil(threshold * base / per - 1e-9))
        short = max(need - have, 0.0)
        if passed is False:
            parts.append(f"需 {need:,.0f} {hu}" if zh else f"needs {need:,.0f} {hu}")
            if short > 0:
                parts.append(f"缺 {short:,.0f} {hu}" if zh else f"short {short:,.0f} {hu}")
    elif passed is False and need is not None:
        parts.append(f"需 {need:,.0f} m²" if zh else f"needs {need:,.0f} m²")
    if hunit != "m2":
        pass
    elif passed is False and short is not None and short > 0:
        parts.append(f"缺 {short:,.0f} m²" if zh else f"short {short:,.0f} m²")
    elif passed is False and short is None:
        gap = _float(get("shortfall"))
        if gap is not None and gap > 0:
            if _is_share(unit):  # a gap between two shares is in percentage points
                pts = f"{gap * 100:.1f}"
                parts.append(f"差 {pts} 个百分点" if zh else f"{pts} percentage points short")
            else:
                gap_text = _number(gap, unit)
                parts.append(f"差 {gap_text}" if zh else f"short {gap_text}")
    elif passed is True:
        parts.append("达标" if zh else "met")
    lost = _float(get("households_uncovered"))
    if passed is False and lost is not None and lost > 0:
        parts.append(f"未覆盖 {lost:,.0f} 户" if zh else f"{lost:,.0f} households not covered")
    return ("，" if zh else ", ").join(parts)


def _float(v: object) -> float | None:
    if v is None or v is pd.NA or isinstance(v, str | bool):
        return None
    # float and int first: they are the usual values, and a protocol check is slow
    if not isinstance(v, float | int | SupportsFloat | SupportsIndex):
        return None  # float() would raise TypeError
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) or math.isinf(x) else x


def with_text(findings: pd.DataFrame) -> pd.DataFrame:
    """``findings`` with ``text_zh`` / ``text_en`` filled where missing (see :func:`fact_text`)."""
    f = findings.copy()
    for col in ("text_zh", "text_en"):
        if col not in f.columns:
            f[col] = pd.Series([None] * len(f), index=f.index, dtype=object)
    if len(f) == 0:
        return f
    todo = f["text_zh"].isna() | f["text_en"].isna()
    for i in f.index[todo.to_numpy()]:
        row = {k: (None if _isnan(v) else v) for k, v in f.loc[i].to_dict().items()}
        f.at[i, "text_zh"] = fact_text(row, lang="zh")
        f.at[i, "text_en"] = fact_text(row, lang="en")
    return f


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

    def __post_init__(self) -> None:
        # every finding reads as a fact, whichever audit built it
        f = self.findings
        if "text_zh" not in f.columns or bool(f["text_zh"].isna().any()):
            object.__setattr__(self, "findings", with_text(f))

    @property
    def passed(self) -> bool:
        """True when every applicable check was measured and none failed.

        A check that could not run (a column missing from the input, a value
        missing for one community: :attr:`unmeasured`) is never a pass.
        """
        if self.unmeasured:
            return False
        if self.findings.empty:
            return True
        return not bool((self.findings["passed"] == False).any())  # noqa: E712

    @property
    def unmeasured(self) -> int:
        """How many applicable checks could not be measured: the targets skipped for
        a missing column (``summary["not_measured"]``) and the findings without a
        verdict."""
        skipped = len(self.summary.get("not_measured") or {})
        if self.findings.empty or "passed" not in self.findings.columns:
            return skipped
        return skipped + int(self.findings["passed"].isna().sum())

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


def _jsonable(value: object) -> Any:
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

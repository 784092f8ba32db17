"""The fact sentences of findings, in Chinese and English: what was measured, against what.

:func:`fact_text` writes one finding's sentence; :func:`with_text` writes them for a
whole findings frame at once (each check's shared wording worked out once);
:func:`missing_text` says which column or layer a check could not find.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import SupportsFloat, SupportsIndex

import numpy as np
import pandas as pd

from geoplan.profiles._units import COMPARATOR_SIGNS, UNIT_LABELS

__all__ = ["fact_text", "isnan", "missing_key", "missing_text", "with_text"]


def isnan(v: object) -> bool:
    """True for None and a missing scalar (NaN, NA, NaT); False for anything else,
    such as a finding's list of citations or a (low, high) threshold."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(v)
    if isinstance(v, np.datetime64 | np.timedelta64):
        return bool(np.isnat(v))
    return False


_UNITS = UNIT_LABELS  # profile unit -> (zh, en): geoplan.profiles._units
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
    sym = COMPARATOR_SIGNS.get(comparator, comparator)
    try:
        shown = (
            one(thr) if isinstance(thr, float | str | SupportsFloat | SupportsIndex) else str(thr)
        )
    except (TypeError, ValueError):
        shown = str(thr)
    return f"应 {sym} {shown}" if zh else f"should be {sym} {shown}"


def missing_text(column: str, layer: str, *, zh: bool, empty: bool = False) -> str:
    """What to add so a check can be measured, e.g. "缺 activity_area_m2 列（设施表，活动面积）".

    ``empty=True``: the column is there but this row's cell is blank.

    Examples
    --------
    >>> missing_text("activity_area_m2", "facilities", zh=True)
    '未测：缺 activity_area_m2 列（设施表，活动面积）'
    >>> missing_text("sanitary_village", "communities", zh=False)
    'not measured: add a sanitary_village column (communities table)'
    >>> missing_text("functions", "facilities", zh=True, empty=True)
    '未测：functions 列为空（设施表，服务功能），请填写'
    """
    from geoplan.io.columns import ALIASES

    where_zh, where_en = _LAYERS.get(layer, (layer, layer))
    aliases = [a for a in ALIASES.get(column, ()) if a != column]
    cn = next((a for a in aliases if any("\u4e00" <= ch <= "\u9fff" for ch in a)), None)
    if empty:
        if zh:
            return f"未测：{column} 列为空（{where_zh}{'，' + cn if cn else ''}），请填写"
        return f"not measured: the {column} cell is empty ({where_en}); fill it in"
    if zh:
        return f"未测：缺 {column} 列（{where_zh}{'，' + cn if cn else ''}）"
    return f"not measured: add a {column} column ({where_en})"


def missing_key(column: str, layer: str, frame: pd.DataFrame) -> str:
    """The ``missing`` of a check that reads ``column`` of ``frame`` (the ``layer`` table):
    ``"column@layer"`` when the column is absent, ``"column@layer:empty"`` when it is there
    (a row whose value is then unknown has a blank cell).

    Examples
    --------
    >>> missing_key("functions", "facilities", pd.DataFrame({"functions": [None]}))
    'functions@facilities:empty'
    """
    return f"{column}@{layer}" + ("" if column not in frame.columns else ":empty")


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
            layer, _, how = layer.partition(":")
            return missing_text(column, layer, zh=zh, empty=how == "empty")
        return "未测：缺数据" if zh else "not measured: no data"
    passed = get("passed")
    if _is_walk(thr, unit):  # walking access: share of households within a time or distance
        lost = _float(get("households_uncovered"))
        return _walk_fact(value, _walk_limit(thr, zh=zh), passed, lost, zh=zh)
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
    bare = have is None and base is None and need is None and short is None
    if bare and _is_share(unit) and hunit == "m2":
        # a share with no parts (the coverage audit's): the sentence _fact_texts writes in bulk
        gap, lost = _float(get("shortfall")), _float(get("households_uncovered"))
        return _share_fact(value, parts[1], passed, gap, lost, zh=zh)
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


def _is_walk(thr: object, unit: str) -> bool:
    """A walking-access finding: a share of households within a time or distance."""
    return isinstance(thr, str) and _is_share(unit) and unit != "share"


def _walk_limit(thr: object, *, zh: bool) -> str:
    """The walk of a walking-access threshold: ``"<= 10 min"`` -> ``"10 分钟"``."""
    limit = str(thr)
    for sym in COMPARATOR_SIGNS:
        if limit.startswith(sym + " "):
            limit = limit[len(sym) + 1 :]
            break
    return limit.replace(" min", " 分钟" if zh else " min").replace(" m", " 米" if zh else " m")


def _walk_fact(value: float, limit: str, passed: object, lost: float | None, *, zh: bool) -> str:
    text = (
        f"{value:.1%} 的住户步行 {limit}内可达，应为全部"
        if zh
        else f"{value:.1%} of households within {limit} on foot, should be all"
    )
    if passed is False and lost is not None and lost > 0:
        text += f"，缺 {lost:,.0f} 户" if zh else f", {lost:,.0f} households short"
    return text


def _share_fact(
    value: float, target: str, passed: object, gap: float | None, lost: float | None, *, zh: bool
) -> str:
    """A share with no parts: the value, the target, the gap in points or "met", the
    households not covered."""
    parts = [f"{value:.1%}", target]
    if passed is False:
        if gap is not None and gap > 0:
            pts = f"{gap * 100:.1f}"
            parts.append(f"差 {pts} 个百分点" if zh else f"{pts} percentage points short")
    elif passed is True:
        parts.append("达标" if zh else "met")
    if passed is False and lost is not None and lost > 0:
        parts.append(f"未覆盖 {lost:,.0f} 户" if zh else f"{lost:,.0f} households not covered")
    return ("，" if zh else ", ").join(parts)


#: The columns of a findings row that :func:`fact_text` reads.
_FACT_KEYS = (
    "value",
    "unit",
    "comparator",
    "threshold",
    "missing",
    "passed",
    "households_uncovered",
    "have",
    "base",
    "have_unit",
    "base_unit",
    "required_m2",
    "shortfall_m2",
    "shortfall",
)


def _fact_texts(columns: Mapping[str, list[object]], n: int) -> tuple[list[str], list[str]]:
    """:func:`fact_text` in Chinese and English of ``n`` findings rows given as columns of
    plain values (None where missing; an absent column is all None).

    The shares of walking access and coverage, the many rows of a city, are written with
    what a check's rows share (its target in words) worked out once; any other row goes
    through :func:`fact_text`.
    """
    none: list[object] = [None] * n

    def col(k: str) -> list[object]:
        return columns.get(k, none)

    # rows without parts: no have, base, required_m2 or shortfall_m2
    parts = [columns[k] for k in ("have", "base", "required_m2", "shortfall_m2") if k in columns]
    bare = [all(v is None for v in row) for row in zip(*parts, strict=True)] if parts else None
    plans: dict[tuple[object, ...], tuple[str, str, str] | None] = {}
    zh_out: list[str] = []
    en_out: list[str] = []
    finite = math.isfinite
    for i, (value, unit, comparator, thr, passed, lost, gap, hunit) in enumerate(
        zip(
            col("value"),
            col("unit"),
            col("comparator"),
            col("threshold"),
            col("passed"),
            col("households_uncovered"),
            col("shortfall"),
            col("have_unit"),
            strict=True,
        )
    ):
        plan = None
        if (
            type(value) is float
            and finite(value)
            and (lost is None or (type(lost) is float and finite(lost)))
            and (gap is None or (type(gap) is float and finite(gap)))
            and (bare is None or bare[i])
        ):
            key = (thr, unit, comparator, hunit)
            try:
                plan = plans[key]
            except KeyError:
                plan = plans[key] = _fact_plan(thr, unit, comparator, hunit)
            except TypeError:  # a (low, high) threshold as a list
                plan = None
        if plan is None:
            row = {k: v[i] for k, v in columns.items()}
            zh_out.append(fact_text(row, lang="zh"))
            en_out.append(fact_text(row, lang="en"))
        elif plan[0] == "walk":
            zh_out.append(_walk_fact(value, plan[1], passed, lost, zh=True))
            en_out.append(_walk_fact(value, plan[2], passed, lost, zh=False))
        else:
            zh_out.append(_share_fact(value, plan[1], passed, gap, lost, zh=True))
            en_out.append(_share_fact(value, plan[2], passed, gap, lost, zh=False))
    return zh_out, en_out


def _fact_plan(
    thr: object, unit: object, comparator: object, have_unit: object
) -> tuple[str, str, str] | None:
    """How :func:`fact_text` writes a measured row with no parts (no have, base,
    required_m2 or shortfall_m2) of this check: ``("walk", limit_zh, limit_en)``,
    ``("share", target_zh, target_en)``, or None (another sentence)."""
    unit_text = str(unit or "")
    if _is_walk(thr, unit_text):
        return ("walk", _walk_limit(thr, zh=True), _walk_limit(thr, zh=False))
    if _is_share(unit_text) and str(have_unit or "m2") == "m2":
        cmp_text = str(comparator or "")
        return (
            "share",
            _threshold_text(thr, cmp_text, unit_text, zh=True),
            _threshold_text(thr, cmp_text, unit_text, zh=False),
        )
    return None


def _plain(values: pd.Series) -> list[object]:
    """A column's values as a findings row gives them to :func:`fact_text`: Python
    scalars, None for a missing one (NaN, NA, NaT)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "fc":
        return [None if v != v else v for v in values.to_numpy().tolist()]
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biu":
        return values.to_numpy().tolist()
    if isinstance(values.dtype, pd.StringDtype):  # text, mostly a check's few words: once each
        codes, uniques = pd.factorize(values)
        words: list[object] = [*uniques.tolist(), None]  # code -1 (missing): None
        return [words[c] for c in codes.tolist()]
    return [
        v
        if type(v) is str
        else None
        if isnan(v)
        else (v.item() if isinstance(v, np.number | np.bool_) else v)
        for v in values.tolist()
    ]


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
    todo = (f["text_zh"].isna() | f["text_en"].isna()).to_numpy()
    if not todo.any():
        return f
    rows = f.iloc[np.flatnonzero(todo)]
    columns = {k: _plain(rows[k]) for k in _FACT_KEYS if k in rows.columns}
    text_zh, text_en = _fact_texts(columns, len(rows))
    f.loc[todo, "text_zh"] = text_zh
    f.loc[todo, "text_en"] = text_en
    return f

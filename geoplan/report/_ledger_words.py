"""The words of a problem ledger (问题台账): units, targets as text, and the measure to
take for a failed check when its audit computed none.

Every function takes one findings row as a plain dict (``value``, ``threshold``,
``comparator``, ``unit``, ``shortfall``, ``shortfall_m2``, ...) and returns Chinese
and English text; nothing here knows a threshold: they all come with the row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from geoplan.profiles._units import COMPARATOR_SIGNS, UNIT_LABELS, unit_label
from geoplan.report.texts import as_number

__all__ = [
    "display_unit",
    "display_value",
    "is_share",
    "number",
    "remedy_text",
    "target_text",
    "walk_limit",
]

#: access measures -> (zh, en) of "per" in the remedy
_PER = {
    "supply_per_1000_residents": ("每千人", "per 1,000 residents"),
    "supply_per_100_households": ("每百户", "per 100 households"),
}


def as_float(v: object) -> float | None:
    """A finite number, or None (None, NaN, NA, text that is no number, inf)."""
    x = None if isinstance(v, bool) else as_number(v)
    return x if x is not None and math.isfinite(x) else None


def is_share(unit: str) -> bool:
    """A fraction 0-1 (``share``, ``share of households``, ...), shown in per cent.

    Examples
    --------
    >>> is_share("share of households"), is_share("m2")
    (True, False)
    """
    return unit == "share" or unit.startswith("share ")


def display_unit(unit: str, *, lang: str) -> str:
    """The 单位 of a row: ``%`` for shares, ``""`` for yes/no checks.

    Examples
    --------
    >>> display_unit("m2/100 households", lang="zh"), display_unit("share", lang="en")
    ('m²/百户', '%')
    """
    if is_share(unit):
        return "%"
    if unit == "flag":
        return ""
    return unit_label(unit, lang)


def display_value(value: object, unit: str, *, lang: str) -> float | str | None:
    """现状值 / 缺口 as the ledger holds them: shares in per cent (0.856 -> 85.6), a
    yes/no check as 是/否, other numbers as they are; None when missing.

    Examples
    --------
    >>> display_value(0.856, "share", lang="zh"), display_value(0.0, "flag", lang="zh")
    (85.6, '否')
    >>> display_value(0.8461538, "share", lang="zh"), display_value(14.3833, "persons", lang="zh")
    (84.615, 14.383)
    """
    x = as_float(value)
    if x is None:
        return None
    if unit == "flag":
        yes = x >= 0.5
        return ("是" if yes else "否") if lang == "zh" else ("yes" if yes else "no")
    if is_share(unit):
        x *= 100.0
    shown = round(x, 3)
    return shown if shown != 0 or x == 0 else x  # a strict comparator's tiny gap stays


def number(x: float) -> str:
    """A number as a planner reads it: whole numbers bare, others to 3 figures.

    Examples
    --------
    >>> number(30.0), number(0.476636), number(1234.5)
    ('30', '0.477', '1,234.5')
    """
    if float(x).is_integer():
        return f"{x:,.0f}"
    return f"{x:,.1f}" if abs(x) >= 10 else f"{x:.3g}"


def walk_limit(threshold: str, *, lang: str) -> str:
    """A walking threshold in words: ``"<= 10 min"`` -> ``"≤ 10 分钟"``.

    Examples
    --------
    >>> walk_limit("<= 500 m", lang="zh"), walk_limit("<= 5 min", lang="en")
    ('≤ 500 米', '≤ 5 min')
    """
    text = str(threshold)
    for sym, shown in COMPARATOR_SIGNS.items():
        if text.startswith(sym + " "):
            text = shown + text[len(sym) :]
            break
    if lang == "zh":
        text = text.replace(" min", " 分钟").replace(" m", " 米")
    return text


def _is_walk(row: Mapping[str, object]) -> bool:
    """A walking-access row: a share of households within a time or distance."""
    thr = row.get("threshold")
    return isinstance(thr, str) and as_float(thr) is None and is_share(str(row.get("unit") or ""))


def target_text(row: Mapping[str, object], *, lang: str) -> str:
    """目标值 in words: ``≥ 30``, ``≥ 95%``, ``3–9``, ``全部住户（步行 ≤ 5 分钟）``.

    Examples
    --------
    >>> target_text({"threshold": 0.95, "comparator": ">=", "unit": "share"}, lang="zh")
    '≥ 95%'
    >>> target_text({"threshold": "<= 5 min", "comparator": ">=",
    ...     "unit": "share of households"}, lang="zh")
    '全部住户（步行 ≤ 5 分钟）'
    >>> target_text({"threshold": "3-9", "comparator": "between", "unit": "members"}, lang="en")
    '3–9'
    """
    thr = row.get("threshold")
    unit = str(row.get("unit") or "")
    comparator = str(row.get("comparator") or "")
    if _is_walk(row):
        limit = walk_limit(str(thr), lang=lang)
        return f"全部住户（步行 {limit}）" if lang == "zh" else f"all households ({limit} on foot)"
    if unit == "flag":
        return "是" if lang == "zh" else "yes"

    def one(v: object) -> str:
        x = as_float(v)
        if x is None:
            return str(v)
        return f"{x * 100:g}%" if is_share(unit) else f"{x:g}"

    if isinstance(thr, list | tuple) and len(thr) == 2:
        return f"{one(thr[0])}–{one(thr[1])}"
    if isinstance(thr, str) and as_float(thr) is None and "-" in thr:
        lo, hi = thr.split("-", 1)
        return f"{one(lo)}–{one(hi)}"
    return f"{COMPARATOR_SIGNS.get(comparator, comparator)} {one(thr)}".strip()


def _ceil(x: float) -> int:
    return math.ceil(x - 1e-9)


def _labels(ids: str, categories: Mapping[str, tuple[str, str]], lang: str) -> list[str]:
    out = []
    for c in (s.strip() for s in ids.split(",")):
        if c:
            zh, en = categories.get(c, (c, c))
            out.append(zh if lang == "zh" else en)
    return out


def _walk_remedy(
    row: Mapping[str, object], categories: Mapping[str, tuple[str, str]], lang: str
) -> str:
    zh = lang == "zh"
    missing = row.get("missing_categories")
    absent = row.get("absent_categories")
    absent_ids = {s.strip() for s in absent.split(",")} if isinstance(absent, str) else set()
    cats = [c.strip() for c in missing.split(",")] if isinstance(missing, str) else []
    gone = _labels(", ".join(c for c in cats if c in absent_ids), categories, lang)
    far = _labels(", ".join(c for c in cats if c not in absent_ids), categories, lang)
    parts = []
    if gone:
        parts.append(
            "新建" + "、".join(gone) + "（现有设施中没有）"
            if zh
            else "build " + ", ".join(gone) + " (none among the facilities)"
        )
    if far:
        parts.append(
            "增设" + "、".join(far) + "服务网点或调整布点"
            if zh
            else "add outlets of " + ", ".join(far) + " or move existing ones"
        )
    if not parts:
        parts.append("增设服务网点" if zh else "add outlets")
    lost = as_float(row.get("households_uncovered"))
    thr = row.get("threshold")
    if lost is not None and lost > 0:
        if _is_walk(row):
            limit = walk_limit(str(thr), lang=lang)
            parts.append(
                f"使未覆盖的 {lost:,.0f} 户步行 {limit}内可达"
                if zh
                else f"so that the {lost:,.0f} households left out reach one within {limit}"
            )
        else:
            left = f"{lost:,.0f}"
            parts.append(
                f"覆盖目前未覆盖的 {left} 户" if zh else f"reach the {left} households left out"
            )
    return ("，" if zh else "; ").join(parts)


def remedy_text(
    row: Mapping[str, object],
    *,
    lang: str,
    measure: str | None = None,
    categories: Mapping[str, tuple[str, str]] | None = None,
    site: Mapping[str, object] | None = None,
    category: str | None = None,
) -> str:
    """建议措施 of a failed row: the audit's own remedy (``remedy_zh`` / ``remedy_en``)
    when it wrote one, else the shortfall in words.

    Parameters
    ----------
    row
        A findings row as a dict.
    lang
        ``zh`` or ``en``.
    measure
        The target's measure (``area_per_100_households``, ``activity_share``, ...),
        when the profile is known.
    categories
        Facility categories' (zh, en) names, for walking-access rows.
    site
        The audited community's row (``total_floor_area_m2``,
        ``commercial_service_area_m2``), for the commercial-share remedy.
    category
        The target's category, for access (capacity within reach) rows.

    Examples
    --------
    >>> row = {"value": 14.9, "threshold": 30.0, "comparator": ">=", "scope": "urban_community",
    ...        "unit": "m2/100 households", "shortfall": 15.1, "shortfall_m2": 126.7}
    >>> remedy_text(row, lang="zh", measure="area_per_100_households")
    '增加社区综合服务设施建筑面积 127 平方米'
    >>> row = {"value": 0.856, "threshold": 1.0, "comparator": ">=", "unit": "share",
    ...        "shortfall": 0.144}
    >>> remedy_text(row, lang="en")
    'raise by 14.4 percentage points to 100%'
    >>> row = {"value": 17.5, "threshold": 18.0, "comparator": ">=", "have": 3.0,
    ...        "base": 1712.0, "have_unit": "persons", "unit": "workers/10,000 residents",
    ...        "shortfall": 0.48}
    >>> remedy_text(row, lang="zh")
    '增配 1 人，达到 18 人/万人'
    >>> row = {"value": 42.7, "threshold": 50.0, "comparator": ">=", "shortfall": 7.3,
    ...        "unit": "m2/1000 residents"}
    >>> remedy_text(row, lang="zh", measure="supply_per_1000_residents", category="wet_market",
    ...             categories={"wet_market": ("菜市场", "wet market")})
    '在步行可达范围内增加菜市场建筑面积，每千人再增 7.3 m²'
    """
    zh = lang == "zh"
    own = row.get("remedy_zh" if zh else "remedy_en")
    if isinstance(own, str) and own.strip():
        return own.strip()
    if _is_walk(row) or (
        "missing_categories" in row and isinstance(row.get("missing_categories"), str)
    ):
        return _walk_remedy(row, categories or {}, lang)
    unit = str(row.get("unit") or "")
    target = target_text(row, lang=lang).removeprefix("≥ ").removeprefix("≤ ")
    need_m2 = as_float(row.get("shortfall_m2"))
    if need_m2 is not None and need_m2 > 0:
        return _area_remedy(row, need_m2, measure, site, lang)
    gap = as_float(row.get("shortfall")) or 0.0
    if measure in _PER:  # capacity within walking reach (2SFCA): the supply to add
        per_zh, per_en = _PER[measure]
        cat = str(category or "")
        cz, ce = (categories or {}).get(cat, (cat, cat))
        what_m2 = unit.startswith("m2")
        amount = (
            f"{number(gap)} m²" if what_m2 else f"{number(gap)} {display_unit(unit, lang=lang)}"
        )
        return (
            f"在步行可达范围内增加{cz}{'建筑面积' if what_m2 else '供给'}，{per_zh}再增 {amount}"
            if zh
            else f"add {ce} {'floor area' if what_m2 else 'supply'} within walking reach: "
            f"{amount} more {per_en}"
        )
    if unit == "flag":
        what = str(row.get("description_zh" if zh else "description_en") or "")
        return f"落实：{what}" if zh else f"put in place: {what}"
    raise_word = "降低" if str(row.get("comparator")) in ("<=", "<") else "提高"
    raise_en = "lower" if raise_word == "降低" else "raise"
    if is_share(unit):
        pts = f"{gap * 100:.1f}"
        return (
            f"{raise_word} {pts} 个百分点，达到 {target}"
            if zh
            else f"{raise_en} by {pts} percentage points to {target}"
        )
    u = display_unit(unit, lang=lang)
    if row.get("comparator") == "between":
        return f"调整至 {target} {u}" if zh else f"bring to {target} {u}"
    have, base, thr = (
        as_float(row.get("have")),
        as_float(row.get("base")),
        as_float(row.get("threshold")),
    )
    hunit = str(row.get("have_unit") or "m2")
    if hunit != "m2" and have is not None and base is not None and thr is not None:
        per = 10_000.0 if "/10,000" in unit else 1.0
        n = max(_ceil(thr * base / per) - have, 0)
        hu = display_unit(hunit, lang=lang)
        return (
            f"增配 {n:,.0f} {hu}，达到 {target} {u}"
            if zh
            else f"add {n:,.0f} {hu} to reach {target} {u}"
        )
    if "/" not in unit and unit in UNIT_LABELS:
        n = _ceil(gap)
        return f"增加 {n:,} {u}，达到 {target}" if zh else f"add {n:,} {u} to reach {target}"
    return (
        f"{raise_word} {number(gap)} {u}，达到 {target} {u}".replace("  ", " ")
        if zh
        else f"{raise_en} by {number(gap)} {u} to {target} {u}"
    )


def _area_remedy(
    row: Mapping[str, object],
    need: float,
    measure: str | None,
    site: Mapping[str, object] | None,
    lang: str,
) -> str:
    """Square metres to add (or convert) for a floor-area check, by measure."""
    zh = lang == "zh"
    m2 = f"{_ceil(need):,}"
    if measure == "activity_share":
        return (
            f"将 {m2} 平方米办公或辅助用房改为居民活动用房"
            if zh
            else f"turn {m2} m² of office or ancillary space into resident activity rooms"
        )
    if measure == "commercial_service_share":
        total = as_float((site or {}).get("total_floor_area_m2"))
        have = as_float((site or {}).get("commercial_service_area_m2"))
        thr = as_float(row.get("threshold"))
        text = (
            f"将 {m2} 平方米住宅建筑面积改为商业或服务用途"
            if zh
            else f"convert {m2} m² of residential floor area to commercial or service use"
        )
        if total is not None and have is not None and thr is not None and thr < 1:
            added = f"{_ceil(max(0.0, (thr * total - have) / (1.0 - thr))):,}"
            text += (
                f"，或新增商业和综合服务设施 {added} 平方米"
                if zh
                else f", or add {added} m² of new commercial and service floor area"
            )
        return text
    if measure == "area_per_household":
        return f"增加社区服务用房 {m2} 平方米" if zh else f"add {m2} m² of community service rooms"
    village = row.get("scope") == "village"
    if zh:
        return f"增加{'村级' if village else '社区'}综合服务设施建筑面积 {m2} 平方米"
    return f"add {m2} m² of {'village' if village else 'community'} service floor area"

"""Label tables (Chinese and English) and the classes and colours every map shares.

The interactive maps (:mod:`geoplan.render.interactive`) and the static maps
(:mod:`geoplan.render.static`) both read the classes, colours and labels from
here, so a "fail" community is the same red, with the same words, on both.

Everything here is presentation: no planning threshold lives in this module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "ACCESS_CLASSES",
    "BUILDING_CLASSES",
    "CELL_BREAKS",
    "CELL_CLASSES",
    "COMMUNITY_CLASSES",
    "GRID_CLASS",
    "NETWORK_CLASS",
    "SERVICE_AREA_CLASS",
    "SITE_CLASS",
    "UNREACHABLE_CLASS",
    "CategoryStyle",
    "Lang",
    "StyleClass",
    "category_style",
    "check_label",
    "check_per_households",
    "check_unit",
    "text",
    "validate_lang",
]

Lang = Literal["zh", "en"]


@dataclass(frozen=True)
class StyleClass:
    """One class drawn on a map: its key, colours and zh/en labels."""

    key: str
    color: str
    fill: str
    label_zh: str
    label_en: str

    def label(self, lang: Lang) -> str:
        """The label in ``lang``."""
        return self.label_zh if lang == "zh" else self.label_en


@dataclass(frozen=True)
class CategoryStyle:
    """How facilities of one category are drawn: colour, a one-letter symbol, labels."""

    category: str
    color: str
    char_zh: str
    char_en: str
    label_zh: str
    label_en: str

    def label(self, lang: Lang) -> str:
        """The label in ``lang``."""
        return self.label_zh if lang == "zh" else self.label_en

    def char(self, lang: Lang) -> str:
        """The symbol drawn inside the marker in ``lang``."""
        return self.char_zh if lang == "zh" else self.char_en


# Community compliance. A palette of its own (blue / purple areas, drawn with a
# thick outline), so that a community is never read as a building (green / red).
COMMUNITY_CLASSES: dict[str, StyleClass] = {
    "pass": StyleClass("pass", "#08519c", "#9ecae1", "社区达标", "community meets target"),
    "fail": StyleClass("fail", "#6a1b9a", "#c994c7", "社区未达标", "community below target"),
    "na": StyleClass("na", "#777777", "#e0e0e0", "不适用", "not applicable"),
}

# Building coverage by one facility category.
BUILDING_CLASSES: dict[str, StyleClass] = {
    "covered": StyleClass("covered", "#1a7f37", "#4dac26", "建筑已覆盖", "building covered"),
    "not_covered": StyleClass(
        "not_covered", "#b2182b", "#e34a33", "建筑未覆盖", "building not covered"
    ),
    "unknown": StyleClass("unknown", "#777777", "#bdbdbd", "无数据", "no data"),
    # a school, an office, or a building of unknown use left out: drawn, not counted
    "no_households": StyleClass(
        "no_households", "#9e9e9e", "#eeeeee", "无住户（不计入）", "no households (not counted)"
    ),
}

# Capacity within reach (geoplan access), worst first: none within reach, then shares of
# the mark (a target, or with none the household-weighted median or mean), and buildings
# without households.
ACCESS_CLASSES: dict[str, StyleClass] = {
    "none": StyleClass("none", "#7f0000", "#b30000", "步行范围内没有", "none within reach"),
    "low": StyleClass("low", "#b35806", "#f1a340", "不足一半", "under half"),
    "short": StyleClass("short", "#d8b365", "#fee0b6", "一半到达标", "half to the mark"),
    "met": StyleClass("met", "#1b7837", "#7fbf7b", "达到及以上", "at or above the mark"),
    "no_households": StyleClass(
        "no_households", "#9e9e9e", "#d9d9d9", "无住户（不计入）", "no households (not counted)"
    ),
}

# Aggregated cells, by the share of households not covered. The bin edges are
# legend breaks (presentation), not planning thresholds.
CELL_BREAKS: tuple[float, ...] = (0.0, 0.05, 0.2, 0.5, 1.0)
CELL_CLASSES: dict[str, StyleClass] = {
    "c0": StyleClass("c0", "#1a7f37", "#4dac26", "未覆盖户 < 5%", "uncovered < 5%"),
    "c1": StyleClass("c1", "#a6611a", "#dfc27d", "未覆盖户 5-20%", "uncovered 5-20%"),
    "c2": StyleClass("c2", "#d95f02", "#fdae61", "未覆盖户 20-50%", "uncovered 20-50%"),
    "c3": StyleClass("c3", "#b2182b", "#d7191c", "未覆盖户 ≥ 50%", "uncovered ≥ 50%"),
    "empty": StyleClass("empty", "#777777", "#bdbdbd", "无住户", "no households"),
}

UNREACHABLE_CLASS = StyleClass(
    "unreachable", "#4a1486", "#807dba", "不可达/未分配", "unreachable / unassigned"
)
SITE_CLASS = StyleClass("site", "#7f4f00", "#ffd700", "建议选址", "suggested site")
GRID_CLASS = StyleClass("grid", "#1f4e9c", "#9ecae1", "网格", "grid")
NETWORK_CLASS = StyleClass("network", "#8c8c8c", "#8c8c8c", "步行路网", "walking network")
SERVICE_AREA_CLASS = StyleClass("service_area", "#3182bd", "#6baed6", "服务范围", "service area")

# Colours for ids the category table does not know (a user's own category, or a
# table without colours), chosen by a stable hash of the id. Every packaged
# category has its colour, symbol and names in geoplan/categories/categories.toml.
_FALLBACK_COLORS = (
    "#8dd3c7",
    "#bebada",
    "#fb8072",
    "#80b1d3",
    "#fdb462",
    "#b3de69",
    "#fccde5",
    "#bc80bd",
    "#ccebc5",
    "#ffed6f",
)

_TEXT: dict[str, tuple[str, str]] = {
    "communities": ("社区（面）达标", "Communities (areas)"),
    "buildings": ("建筑步行覆盖", "Buildings: walking access"),
    "uncovered_buildings": ("未覆盖建筑", "Buildings not covered"),
    "network": ("步行路网", "Walking network"),
    "failing_checks": ("未达标指标", "checks failed"),
    "buildings_cells": ("建筑覆盖（网格汇总）", "Building coverage (aggregated cells)"),
    "facilities": ("设施", "Facilities"),
    "service_areas": ("服务范围", "Service areas"),
    "unreachable": ("不可达/未分配点", "Unreachable / unassigned points"),
    "sites": ("建议选址", "Suggested sites"),
    "grids": ("网格", "Grids"),
    "legend": ("图例", "Legend"),
    "summary": ("概况", "Summary"),
    "id": ("编号", "id"),
    "name": ("名称", "name"),
    "category": ("类别", "category"),
    "status": ("状态", "status"),
    "value": ("现状值", "value"),
    "threshold": ("目标值", "target"),
    "shortfall": ("差额", "shortfall"),
    "shortfall_total": ("约需补足", "about"),
    "households": ("户数", "households"),
    "buildings_n": ("建筑数", "buildings"),
    "walk_min": ("步行至最近（分钟）", "walk to nearest (min)"),
    "none_within": ("范围内没有", "none within the limit"),
    "uncovered_share": ("未覆盖户占比", "uncovered households"),
    "uncovered_households": ("未覆盖户数", "households not covered"),
    "city_scale": ("城市尺度显示", "City-scale view"),
    "city_scale_why": ("{n} 个要素，超过 {limit}", "{n} features, over {limit}"),
    "note_cells": (
        "{n} 栋建筑按 {cell} 米网格汇总（{cells} 格）",
        "{n} buildings aggregated into {cell} m cells ({cells})",
    ),
    "note_facilities": (
        "设施 {n} 处按类别分图层，默认显示：{shown}",
        "{n} facilities, one layer per category; shown: {shown}",
    ),
    "note_thinned": ("设施 {n} 处，抽稀显示 {kept} 处", "{n} facilities, {kept} of them drawn"),
    "note_communities": (
        "{n} 个社区边界按 {tol} 米简化",
        "{n} community outlines simplified to {tol} m",
    ),
    "note_network_skipped": (
        "步行路网 {n} 段无道路等级，城市尺度不绘制",
        "walking network of {n} edges without road classes: not drawn at city scale",
    ),
    "note_network_major": (
        "步行路网仅绘制主次干路（{k} / {n} 段）",
        "walking network: arterial roads only ({k} of {n} edges)",
    ),
    "reason": ("原因", "reason"),
    "code": ("网格编码", "grid code"),
    "facility": ("设施", "facility"),
    "check": ("指标", "check"),
}

_CHECKS: dict[str, tuple[str, str, str, float | None]] = {
    # check id: (label zh, label en, unit, households the value is "per" (a unit
    # conversion: shortfall x households / per = floor area to add), or None)
    "service_area_per_100_households": (
        "每百户社区综合服务设施面积",
        "service floor area per 100 households",
        "m²/100户",
        100.0,
    ),
    "activity_share": ("居民活动用房占比", "resident activity share", "", None),
}


def validate_lang(lang: str) -> Lang:
    """Return ``lang`` when it is ``'zh'`` or ``'en'``; raise ValueError otherwise.

    Examples
    --------
    >>> validate_lang("en")
    'en'
    """
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    return lang  # type: ignore[return-value]


def text(key: str, lang: Lang) -> str:
    """A user-interface string in ``lang``.

    Examples
    --------
    >>> text("legend", "zh"), text("legend", "en")
    ('图例', 'Legend')
    """
    zh, en = _TEXT[key]
    return zh if lang == "zh" else en


def check_label(check: str, lang: Lang) -> str:
    """A readable name of an audit check id (the id itself when unknown).

    Examples
    --------
    >>> check_label("service_area_per_100_households", "en")
    'service floor area per 100 households'
    """
    entry = _CHECKS.get(check)
    if entry is None:
        return check
    return entry[0] if lang == "zh" else entry[1]


def check_unit(check: str, lang: Lang) -> str:
    """The unit of a known check id ('' when unknown).

    Examples
    --------
    >>> check_unit("service_area_per_100_households", "en")
    'm²/100 households'
    """
    entry = _CHECKS.get(check)
    if entry is None:
        return ""
    return entry[2] if lang == "zh" else entry[2].replace("户", " households")


def check_per_households(check: str) -> float | None:
    """For a per-households area check, the household count its unit is "per".

    The tooltip turns a shortfall of such a check into floor area to add:
    ``shortfall x households / per``.

    Examples
    --------
    >>> check_per_households("service_area_per_100_households")
    100.0
    >>> check_per_households("unknown_check") is None
    True
    """
    entry = _CHECKS.get(check)
    return None if entry is None else entry[3]


def category_style(category: str) -> CategoryStyle:
    """The drawing style of a facility category id, from ``categories.toml``.

    The colour, the symbol and the names are the category table's
    (``geoplan/categories/categories.toml``). Ids it does not know get a colour
    picked by a stable hash and their first letter as the symbol, so the same id
    looks the same on every map.

    Examples
    --------
    >>> category_style("wet_market").char("zh"), category_style("wet_market").label("en")
    ('菜', 'wet market')
    >>> category_style("bakery_x").char("en")
    'B'
    """
    digest = hashlib.sha1(category.encode("utf-8")).digest()
    fallback = _FALLBACK_COLORS[digest[0] % len(_FALLBACK_COLORS)]
    char = (category.strip()[:1] or "?").upper()
    entry = _category_entry(category)
    if entry is None:
        return CategoryStyle(category, fallback, char, char, category, category)
    zh, en = entry.zh, entry.en
    return CategoryStyle(
        category,
        entry.color or fallback,
        entry.symbol_zh or zh[:1] or char,
        entry.symbol_en or (en.strip()[:1] or char).upper(),
        zh,
        en,
    )


def _category_entry(category: str) -> Any:
    """The packaged table's entry of ``category`` (None when unknown or unreadable)."""
    try:
        from geoplan.categories import load_categories

        table = load_categories()
    except Exception:  # a broken table must not break a map
        return None
    if category not in table:
        return None
    return table[category]

"""Label tables (Chinese and English) and the classes and colours every map shares.

The interactive maps (:mod:`geoplan.render.interactive`) and the static maps
(:mod:`geoplan.render.static`) both read the classes, colours and labels from
here, so a "fail" community is the same red, with the same words, on both.

Everything here is presentation: no planning threshold lives in this module.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BUILDING_CLASSES",
    "CELL_BREAKS",
    "CELL_CLASSES",
    "COMMUNITY_CLASSES",
    "GRID_CLASS",
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


# Community compliance with one check.
COMMUNITY_CLASSES: dict[str, StyleClass] = {
    "pass": StyleClass("pass", "#1a7f37", "#4dac26", "达标", "meets target"),
    "fail": StyleClass("fail", "#b2182b", "#e34a33", "未达标", "below target"),
    "na": StyleClass("na", "#777777", "#bdbdbd", "不适用", "not applicable"),
}

# Building coverage by one facility category.
BUILDING_CLASSES: dict[str, StyleClass] = {
    "covered": StyleClass("covered", "#1a7f37", "#4dac26", "已覆盖", "covered"),
    "not_covered": StyleClass("not_covered", "#b2182b", "#e34a33", "未覆盖", "not covered"),
    "unknown": StyleClass("unknown", "#777777", "#bdbdbd", "无数据", "no data"),
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
SERVICE_AREA_CLASS = StyleClass("service_area", "#3182bd", "#6baed6", "服务范围", "service area")

_KNOWN_CATEGORIES: dict[str, CategoryStyle] = {
    c.category: c
    for c in (
        CategoryStyle(
            "community_service_centre", "#1b9e77", "服", "S", "社区综合服务设施", "service centre"
        ),
        CategoryStyle("wet_market", "#d95f02", "菜", "M", "菜市场", "wet market"),
        CategoryStyle("convenience_store", "#7570b3", "便", "C", "便利店", "convenience store"),
        CategoryStyle("supermarket", "#e7298a", "超", "U", "超市", "supermarket"),
        CategoryStyle("fresh_food", "#66a61e", "鲜", "F", "生鲜店", "fresh food store"),
        CategoryStyle("pharmacy", "#e6ab02", "药", "P", "药店", "pharmacy"),
        CategoryStyle("breakfast", "#a6761d", "早", "B", "早餐店", "breakfast"),
        CategoryStyle("laundry", "#1f78b4", "洗", "L", "洗衣店", "laundry"),
        CategoryStyle("hair", "#b15928", "发", "H", "美发店", "hairdresser"),
        CategoryStyle("post_express", "#6a3d9a", "邮", "E", "快递驿站", "post / express point"),
        CategoryStyle("recycling", "#33a02c", "收", "R", "回收点", "recycling point"),
        CategoryStyle("childcare", "#fb9a99", "幼", "K", "托育幼儿园", "childcare"),
        CategoryStyle(
            "elderly_service_station",
            "#cab2d6",
            "养",
            "N",
            "社区养老服务站",
            "elderly service station",
        ),
        CategoryStyle("elderly_care", "#8c510a", "老", "O", "养老服务", "elderly care"),
        CategoryStyle("health_station", "#c51b7d", "医", "D", "卫生服务站", "health station"),
        CategoryStyle("dining", "#01665e", "食", "T", "餐饮", "dining"),
        CategoryStyle("school", "#4d4d4d", "学", "A", "学校", "school"),
    )
}

# Colours for categories not in the table above, chosen by a stable hash of the id.
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
    "communities": ("社区达标情况", "Community compliance"),
    "buildings": ("建筑覆盖", "Building coverage"),
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
    """The drawing style of a facility category id.

    Unknown ids get a colour picked by a stable hash and their first letter as
    the symbol, so the same id looks the same on every map.

    Examples
    --------
    >>> category_style("wet_market").char("zh")
    '菜'
    >>> category_style("bakery").char("en")
    'B'
    """
    known = _KNOWN_CATEGORIES.get(category)
    if known is not None:
        return known
    digest = hashlib.sha1(category.encode("utf-8")).digest()
    color = _FALLBACK_COLORS[digest[0] % len(_FALLBACK_COLORS)]
    char = (category.strip()[:1] or "?").upper()
    zh, en = _category_names(category)
    return CategoryStyle(category, color, (zh[:1] or char), char, zh, en)


def _category_names(category: str) -> tuple[str, str]:
    """Chinese and English names from the packaged categories (the id when unknown)."""
    try:
        from geoplan.categories import list_categories

        table = list_categories()
    except Exception:  # a broken user table must not break a map
        return category, category
    if category in table.index:
        return str(table.loc[category, "zh"]), str(table.loc[category, "en"])
    return category, category

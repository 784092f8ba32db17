"""Remedies: what a failed development check asks for, in Chinese and English.

Floor-area and development findings get the square metres to add or convert; access
findings the households without a category in reach and how far the nearest is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoplan.audit.results import FINDING_COLUMNS

if TYPE_CHECKING:
    from geoplan.profiles import Profile, Target

__all__ = ["access_remedies", "area_remedy", "check_remedies"]

_MAX_LISTED = 3  # categories spelt out in one remedy; the rest are named


def _m2(v: float) -> str:
    return f"{math.ceil(v - 1e-9):,}"


def area_remedy(row: dict[str, Any], site: pd.DataFrame) -> tuple[str, str]:
    """(zh, en) remedy for a failed floor-area or development finding, by measure."""
    need = float(row.get("shortfall_m2") or 0.0)
    measure, column = row.get("measure"), row.get("column")
    if measure == "commercial_service_share":
        total = float(site["total_floor_area_m2"].iloc[0])
        have = float(site["commercial_service_area_m2"].iloc[0])
        thr = float(row["threshold"])
        added = max(0.0, (thr * total - have) / (1.0 - thr)) if thr < 1 else math.inf
        return (
            f"将 {_m2(need)} 平方米住宅建筑面积改为商业或服务用途，或新增商业和综合服务设施 "
            f"{_m2(added)} 平方米",
            f"convert {_m2(need)} m2 of residential floor area to commercial or service use, "
            f"or add {_m2(added)} m2 of new commercial and service floor area",
        )
    if measure == "activity_share":
        return (
            f"将 {_m2(need)} 平方米办公或辅助用房改为居民活动用房",
            f"turn {_m2(need)} m2 of office or ancillary space into resident activity rooms",
        )
    if measure == "area_per_household" and column == "elderly_care_area_m2":
        return (f"增加养老服务用房 {_m2(need)} 平方米", f"add {_m2(need)} m2 of elderly-care rooms")
    if measure == "area_per_household" and column != "developer_service_rooms_m2":
        return (f"增加 {column} {_m2(need)} 平方米", f"add {_m2(need)} m2 of {column}")
    return (
        f"增加社区服务用房 {_m2(need)} 平方米",
        f"add {_m2(need)} m2 of community service rooms",
    )


def _cat_label(cat: str) -> tuple[str, str]:
    from geoplan.categories import load_categories

    cats = load_categories()
    if cat in cats:
        c = cats[cat]
        return c.zh, c.en
    return cat, cat


def _km(m: float, lang: str) -> str:
    if m < 1000:
        step = round(m / 10.0) * 10
        return f"{step:,.0f}米" if lang == "zh" else f"{step:,.0f} m"
    return f"{m / 1000.0:.1f}公里" if lang == "zh" else f"{m / 1000.0:.1f} km"


def _access_lines(
    cats: Sequence[str], table: pd.DataFrame, limit_m: float, minutes: float | None
) -> tuple[str, str, float, float]:
    """Remedy text for categories not reached within limit_m; households failing; nearest."""
    hh = (
        table["households"].astype(float).to_numpy()
        if "households" in table.columns
        else np.zeros(len(table))
    )
    rows = []
    for c in cats:
        col = f"walk_m__{c}"
        d = table[col].to_numpy(float) if col in table.columns else np.full(len(table), np.inf)
        bad = d > limit_m
        n = float(hh[bad].sum())
        if n <= 0:
            continue
        far = d[bad]
        w = hh[bad]
        order = np.argsort(far, kind="stable")
        cum = np.cumsum(w[order])
        med = float(far[order][np.searchsorted(cum, cum[-1] / 2.0)])
        rows.append((n, c, med))
    rows.sort(key=lambda r: (-r[0], r[1]))
    if minutes is not None:
        lim_zh = f"步行 {minutes:g} 分钟（{_km(limit_m, 'zh')}）"
        lim_en = f"{minutes:g} minutes' walk ({_km(limit_m, 'en')})"
    else:
        lim_zh = f"步行 {_km(limit_m, 'zh')}"
        lim_en = f"{_km(limit_m, 'en')} on foot"
    zh, en = [], []
    for n, c, med in rows[:_MAX_LISTED]:
        czh, cen = _cat_label(c)
        if math.isfinite(med):
            near_zh = f"最近的在 {_km(med, 'zh')} 外"
            near_en = f"the nearest is {_km(med, 'en')} away"
        else:
            near_zh, near_en = "附近（搜索范围内）也没有", "there is none within the search radius"
        zh.append(f"{n:,.0f} 户{lim_zh}内没有{czh}，{near_zh}，应在地块内或周边增设")
        en.append(
            f"{n:,.0f} households have no {cen} within {lim_en}: {near_en}; "
            "provide one on or near the site"
        )
    if len(rows) > _MAX_LISTED:
        more = [_cat_label(c) for _, c, _ in rows[_MAX_LISTED:]]
        zh.append("另缺：" + "、".join(m[0] for m in more))
        en.append("also missing: " + ", ".join(m[1] for m in more))
    total = 0.0
    if rows:
        worst = np.zeros(len(table), dtype=bool)
        for c in cats:
            col = f"walk_m__{c}"
            d = table[col].to_numpy(float) if col in table.columns else np.full(len(table), np.inf)
            worst |= d > limit_m
        total = float(hh[worst].sum())
    nearest = rows[0][2] if rows else math.nan
    return "；".join(zh), "; ".join(en), total, nearest


def _target_cats(t: Target) -> list[str]:
    from geoplan.categories import categories_in_group

    if t.category:
        return [str(t.category)]
    return list(categories_in_group(str(t.group)))


def access_remedies(findings: pd.DataFrame, table: pd.DataFrame, prof: Profile) -> pd.DataFrame:
    if findings is None or len(findings) == 0:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    f = findings.copy()
    zh, en, n_fail, near = [], [], [], []
    for _, row in f.iterrows():
        t = prof.target(str(row["check_id"]))
        limit, minutes = t.walk_limit_m(prof), t.walk_minutes()
        a, b, n, d = _access_lines(_target_cats(t), table, limit, minutes)
        ok = row["passed"] is True or row["passed"] is np.True_
        zh.append("" if ok else a)
        en.append("" if ok else b)
        n_fail.append(n)
        near.append(d)
    f["remedy_zh"] = zh
    f["remedy_en"] = en
    f["households_failing"] = n_fail
    f["nearest_m"] = near
    return f


def check_remedies(fails: pd.DataFrame, site_id: str) -> tuple[str, str]:
    """The site's remedy; for facility-level checks, each failing room's."""
    own = fails[fails["entity_id"].astype(str).eq(site_id)]
    rows = own if len(own) else fails
    zh: list[str] = []
    en: list[str] = []
    for r in rows.to_dict(orient="records"):
        own_row = str(r["entity_id"]) == site_id
        who = str(r["entity_name"] or r["entity_id"])
        if r["remedy_zh"]:
            zh.append(str(r["remedy_zh"]) if own_row else f"{who}：{r['remedy_zh']}")
        if r["remedy_en"]:
            en.append(str(r["remedy_en"]) if own_row else f"{who}: {r['remedy_en']}")
    return "；".join(zh), "; ".join(en)

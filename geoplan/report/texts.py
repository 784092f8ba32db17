"""The words of a report: the zh / en phrase table, units, and how values,
thresholds, shortfalls and verdicts are written.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any, SupportsFloat, SupportsIndex

import pandas as pd

from geoplan.profiles._units import COMPARATOR_SIGNS

TEXTS: dict[str, dict[str, str]] = {
    "title": {"zh": "新建住区配套设施审查报告", "en": "New-development audit report"},
    "title_renovation": {
        "zh": "老旧小区改造审查报告（改造前后对比）",
        "en": "Estate renovation audit report (before and after)",
    },
    "verdict": {"zh": "结论", "en": "Verdict"},
    "pass": {"zh": "达标", "en": "PASS"},
    "fail": {"zh": "不达标", "en": "FAIL"},
    "na": {"zh": "未测", "en": "not measured"},
    "facts": {"zh": "项目概况", "en": "The development"},
    "site": {"zh": "地块", "en": "Site"},
    "households": {"zh": "户数", "en": "Households"},
    "floor_area": {"zh": "总建筑面积", "en": "Total floor area"},
    "comm_service": {"zh": "商业和综合服务设施面积", "en": "Commercial and service floor area"},
    "rooms": {"zh": "社区服务用房", "en": "Community service rooms"},
    "elderly": {"zh": "养老服务用房", "en": "Elderly-care rooms"},
    "profiles": {"zh": "审查依据（标准配置）", "en": "Standards profiles"},
    "checks": {"zh": "逐项审查结果", "en": "Checks"},
    "check": {"zh": "审查项", "en": "Check"},
    "source": {"zh": "依据与条款", "en": "Source and clause"},
    "measured": {"zh": "实测值", "en": "Measured"},
    "threshold": {"zh": "标准值", "en": "Threshold"},
    "result": {"zh": "结果", "en": "Result"},
    "shortfall": {"zh": "差距", "en": "Shortfall"},
    "remedy": {"zh": "整改建议", "en": "Remedy"},
    "map": {"zh": "缺口地图", "en": "Gap map"},
    "summary_line": {
        "zh": "{p} 项达标，{f} 项不达标，{n} 项未测",
        "en": "{p} checks pass, {f} fail, {n} not measured",
    },
    "not_applicable": {"zh": "不适用的目标", "en": "Targets that do not apply"},
    "before_after": {"zh": "改造前后对比", "en": "Before and after"},
    "before": {"zh": "改造前", "en": "Before"},
    "after": {"zh": "改造后", "en": "After"},
    "unconfirmed": {"zh": "（数值未经原文核实）", "en": " (figure not confirmed from the source)"},
    "all_households": {"zh": "全部住户", "en": "all households"},
    "households_short": {"zh": "户", "en": "households"},
    "footer": {
        "zh": "由 geoplan 生成；报告格式版本 {v}。",
        "en": "Made by geoplan; report schema version {v}.",
    },
    "batch_title": {"zh": "批量审查汇总", "en": "Batch audit summary"},
    "plan": {"zh": "规划文件", "en": "Plan"},
    "error": {"zh": "输入错误", "en": "Input error"},
    "failed_checks": {"zh": "不达标项", "en": "Failed checks"},
    "also": {"zh": "同见", "en": "also"},
}


UNITS: dict[str, dict[str, str]] = {
    "m2/household": {"zh": "平方米/户", "en": "m²/household"},
    "m2/100 households": {"zh": "平方米/百户", "en": "m²/100 households"},
    "m2": {"zh": "平方米", "en": "m²"},
    "min": {"zh": "分钟", "en": "min"},
    "m": {"zh": "米", "en": "m"},
}


_SHARE_UNITS = ("share", "share of households", "share of residents")
#: A profile's comparator -> the sign a report prints (``between`` has none).


def phrase(key: str, lang: str) -> str:
    return TEXTS[key][lang]


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def as_number(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    # what float() takes; float and str first (the usual values: a protocol check is slow)
    if not isinstance(value, float | str | int | SupportsFloat | SupportsIndex):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def fmt_value(value: object, unit: str, lang: str) -> str:
    v = as_number(value)
    if v is None:
        return "—"
    if math.isinf(v):
        return "∞"
    if unit in _SHARE_UNITS:
        return f"{v:.1%}"
    u = UNITS.get(unit, {}).get(lang, unit)
    if abs(v) >= 100:
        return f"{v:,.0f} {u}"
    return f"{v:,.2f} {u}".replace(".00 ", " ")


def fmt_threshold(row: Mapping[str, object], lang: str) -> str:
    thr = row.get("threshold")
    unit = str(row.get("unit") or "")
    comp = COMPARATOR_SIGNS.get(str(row.get("comparator")), str(row.get("comparator")))
    if isinstance(thr, str) and as_number(thr) is None:  # access checks: "<= 10 min" for everyone
        text = thr.replace("<=", "≤").replace(">=", "≥")
        for k, names in UNITS.items():
            text = re.sub(rf"(?<=\d) {re.escape(k)}$", f" {names[lang]}", text)
        return f"{phrase('all_households', lang)} {text}"
    return f"{comp} {fmt_value(thr, unit, lang)}"


def fmt_shortfall(row: Mapping[str, object], lang: str) -> str:
    if row.get("passed") is not False:
        return ""
    sm2 = as_number(row.get("shortfall_m2"))
    if sm2 is not None and sm2 > 0:
        return fmt_value(sm2, "m2", lang)
    hh = as_number(row.get("households_failing"))
    if hh is not None and hh > 0:
        return f"{hh:,.0f} {phrase('households_short', lang)}"
    return fmt_value(row.get("shortfall"), str(row.get("unit") or ""), lang)


def counts_line(summary: Mapping[str, object], lang: str) -> str:
    return phrase("summary_line", lang).format(
        p=summary["checks_passed"], f=summary["checks_failed"], n=summary["checks_not_measured"]
    )


def verdict_text(passed: bool | None, lang: str) -> str:
    if passed is True:
        return phrase("pass", lang)
    if passed is False:
        return phrase("fail", lang)
    return phrase("na", lang)


def sources_text(row: Mapping[str, object], lang: str) -> list[str]:
    cited = row.get("cited")  # a list of {title_zh, title_en, clause, confirmed} tables
    out = []
    for c in cited if isinstance(cited, list) else []:
        title = c["title_zh"] if lang == "zh" else c["title_en"]
        note = "" if c.get("confirmed", True) else phrase("unconfirmed", lang)
        out.append(
            f"{title}，{c['clause']}{note}" if lang == "zh" else f"{title}, {c['clause']}{note}"
        )
    return out


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts keyed by column name (a report's check rows).

    Examples
    --------
    >>> records(pd.DataFrame({"check_id": ["a"], "passed": [True]}))
    [{'check_id': 'a', 'passed': True}]
    """
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict(orient="records")]


def check_lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        from geoplan._errors import InputError

        raise InputError(f"unknown language {lang!r}: use 'zh' or 'en'", column="lang")
    return lang

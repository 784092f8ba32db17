"""Report documents from development audit results: HTML, Markdown and JSON, zh / en.

A report says, for every check: the target and where it comes from (profile,
source document, clause), the measured value, the threshold, pass or fail, the
shortfall, and a concrete remedy. The HTML report embeds the gap map (the map's
self-contained offline HTML in an ``iframe srcdoc``), so one file opens with no
network; the Markdown report links a static PNG map. The JSON report follows the
schema of ``docs/development-audit.md`` (``schema_version``).

Outputs are byte-identical on reruns: no timestamps, sorted JSON keys, fixed
float formatting, and folium's random element ids replaced by counters.
Every user string is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from geoplan.io.write import write_csv, write_text

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "batch_summary",
    "map_html",
    "render_html",
    "render_markdown",
    "report_dict",
    "write_batch_summary",
    "write_report",
]

REPORT_SCHEMA_VERSION = "1.0"
"""Version of the report JSON schema (``docs/development-audit.md``)."""

_T: dict[str, dict[str, str]] = {
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

_UNITS: dict[str, dict[str, str]] = {
    "m2/household": {"zh": "平方米/户", "en": "m²/household"},
    "m2/100 households": {"zh": "平方米/百户", "en": "m²/100 households"},
    "m2": {"zh": "平方米", "en": "m²"},
    "min": {"zh": "分钟", "en": "min"},
    "m": {"zh": "米", "en": "m"},
}
_SHARE_UNITS = ("share", "share of households", "share of residents")
_FOLIUM_ID = re.compile(r"(?<=_)([0-9a-f]{32})(?![0-9a-f])")


def _t(key: str, lang: str) -> str:
    return _T[key][lang]


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _num(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _fmt_value(value: Any, unit: str, lang: str) -> str:
    v = _num(value)
    if v is None:
        return "—"
    if math.isinf(v):
        return "∞"
    if unit in _SHARE_UNITS:
        return f"{v:.1%}"
    u = _UNITS.get(unit, {}).get(lang, unit)
    if abs(v) >= 100:
        return f"{v:,.0f} {u}"
    return f"{v:,.2f} {u}".replace(".00 ", " ")


def _fmt_threshold(row: Mapping[str, Any], lang: str) -> str:
    thr = row.get("threshold")
    unit = str(row.get("unit") or "")
    comp = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}.get(
        str(row.get("comparator")), str(row.get("comparator"))
    )
    if isinstance(thr, str) and _num(thr) is None:  # access checks: "<= 10 min" for everyone
        text = thr.replace("<=", "≤").replace(">=", "≥")
        for k, names in _UNITS.items():
            text = re.sub(rf"(?<=\d) {re.escape(k)}$", f" {names[lang]}", text)
        return f"{_t('all_households', lang)} {text}"
    return f"{comp} {_fmt_value(thr, unit, lang)}"


def _fmt_shortfall(row: Mapping[str, Any], lang: str) -> str:
    if row.get("passed") is not False:
        return ""
    sm2 = _num(row.get("shortfall_m2"))
    if sm2 is not None and sm2 > 0:
        return _fmt_value(sm2, "m2", lang)
    hh = _num(row.get("households_failing"))
    if hh is not None and hh > 0:
        return f"{hh:,.0f} {_t('households_short', lang)}"
    return _fmt_value(row.get("shortfall"), str(row.get("unit") or ""), lang)


def _summary_line(summary: Mapping[str, Any], lang: str) -> str:
    return _t("summary_line", lang).format(
        p=summary["checks_passed"], f=summary["checks_failed"], n=summary["checks_not_measured"]
    )


def _verdict(passed: Any, lang: str) -> str:
    if passed is True:
        return _t("pass", lang)
    if passed is False:
        return _t("fail", lang)
    return _t("na", lang)


# --------------------------------------------------------------------------- JSON


def _clean(value: Any) -> Any:
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


def _check_entries(result: Any) -> list[dict[str, Any]]:
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


def _one(result: Any) -> dict[str, Any]:
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


def _pbool(value: Any) -> bool | None:
    """True, False or None from a pass cell (numpy bools and NA included)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _comparison(result: Any, before: Any) -> list[dict[str, Any]]:
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


def report_dict(result: Any, *, before: Any | None = None) -> dict[str, Any]:
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
        "comparison": None if before is None else _comparison(result, before),
    }
    cleaned: dict[str, Any] = _clean(out)
    return cleaned


def _json_text(result: Any, before: Any | None) -> str:
    return (
        json.dumps(report_dict(result, before=before), ensure_ascii=False, indent=2, sort_keys=True)
        + "\n"
    )


# --------------------------------------------------------------------------- map


def _headline(result: Any) -> tuple[str | None, str | None]:
    """(category, community check) the map shows: the worst access gap, the first failure."""
    b = result.extra.get("buildings")
    category = None
    if b is not None:
        hh = b["households"].astype(float) if "households" in b.columns else None
        missing: dict[str, float] = {}
        for col in sorted(c for c in b.columns if str(c).startswith("covered__")):
            cat = str(col).removeprefix("covered__")
            missing[cat] = float(hh[~b[col].astype(bool)].sum()) if hh is not None else 0.0
        # wet markets are the headline service when they leave anyone out (or all is well)
        if missing.get("wet_market", 0.0) > 0 or (
            "wet_market" in missing and max(missing.values()) <= 0
        ):
            category = "wet_market"
        elif missing:
            category = max(sorted(missing), key=lambda c: missing[c])
    table = result.table
    check = None
    checks = result.extra["checks"]
    for row in checks.itertuples():
        if f"{row.check_id}__pass" in table.columns and (check is None or row.passed is False):
            check = str(row.check_id)
            if row.passed is False:
                break
    return category, check


def _stable_ids(text: str) -> str:
    """Replace folium's random element ids by counters (byte-identical reruns)."""
    seen: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in seen:
            seen[key] = f"{len(seen):032d}"
        return seen[key]

    return _FOLIUM_ID.sub(sub, text)


def _map_layers(result: Any, lang: str = "zh") -> dict[str, Any]:
    category, check = _headline(result)
    b = result.extra.get("buildings")
    fac = result.extra.get("facilities")
    if fac is not None and b is not None:
        # the plan's own facilities and the nearest existing one of each category
        nearest = set()
        for col in (c for c in b.columns if str(c).startswith("facility_id__")):
            nearest |= {str(v) for v in b[col] if isinstance(v, str)}
        own = fac["origin"].eq("proposed") if "origin" in fac.columns else False
        fac = fac[own | fac.index.astype(str).isin(sorted(nearest))]
    layers: dict[str, Any] = {"facilities": fac}
    if check is not None:
        layers["communities"] = result.table
        layers["check"] = check
        # named by the profile's own text of the target, not its id
        checks = result.extra["checks"]
        row = checks[checks["check_id"] == check]
        if len(row) and isinstance(row[f"description_{lang}"].iloc[0], str):
            layers["check_label"] = row[f"description_{lang}"].iloc[0]
    if category is not None and b is not None:
        keep = [
            c
            for c in ("households", f"covered__{category}", f"walk_min__{category}", "geometry")
            if c in b.columns
        ]
        layers["buildings"] = b[keep]
        layers["category"] = category
    return layers


def map_html(result: Any, *, lang: str = "zh") -> str:
    """The gap map of a development as one self-contained offline HTML page."""
    from geoplan.render import gap_map
    from geoplan.render.offline import offline_html

    name = result.summary["development"]["name"]
    m = gap_map(
        title=f"{name}：{_t('map', lang)}" if lang == "zh" else f"{name}: gap map",
        summary=_map_summary(result, lang),
        lang=lang,
        fit_facilities=True,  # the nearest existing facility of each category in view
        **_map_layers(result, lang),
    )
    return _stable_ids(offline_html(m))


def _map_summary(result: Any, lang: str) -> dict[str, str]:
    s = result.summary
    return {
        _t("verdict", lang): _verdict(bool(result.passed), lang),
        _t("checks", lang): _t("summary_line", lang).format(
            p=s["checks_passed"], f=s["checks_failed"], n=s["checks_not_measured"]
        ),
    }


def _static_map(result: Any, path: Path, lang: str) -> Path:
    from geoplan.render import static_gap_map

    name = result.summary["development"]["name"]
    return static_gap_map(
        path,
        title=name,
        summary=_map_summary(result, lang),
        lang=lang,
        figsize=(8.0, 8.0),
        dpi=110,
        **_map_layers(result, lang),
    )


# --------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",
"WenQuanYi Micro Hei",sans-serif;margin:0;color:#222;background:#f6f7f9;line-height:1.5}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 10px;
border-bottom:2px solid #dde;padding-bottom:4px}
.badge{display:inline-block;white-space:nowrap;padding:3px 12px;border-radius:4px;color:#fff;
font-weight:bold}
.pass{background:#2e7d32}.fail{background:#c62828}.na{background:#757575}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9em}
th,td{border:1px solid #d8dbe0;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#eef1f5}td.num{text-align:right;white-space:nowrap}
tr.failrow td{background:#fff5f5}.muted{color:#666;font-size:.85em}
.facts td:first-child{width:240px;color:#555}
iframe{width:100%;height:560px;border:1px solid #ccd;background:#fff}
.remedy{color:#8a1c1c;width:30%}td.check{width:20%}td.src{width:18%;font-size:.9em}
.lead{font-size:1.05em;margin:8px 0}
"""


def _facts_html(result: Any, lang: str) -> str:
    d = result.summary["development"]
    rows = [
        (_t("site", lang), f"{d['name']} ({d['id']})"),
        (_t("households", lang), _fmt_value(d.get("households"), "", lang)),
        (_t("floor_area", lang), _fmt_value(d.get("total_floor_area_m2"), "m2", lang)),
        (_t("comm_service", lang), _fmt_value(d.get("commercial_service_area_m2"), "m2", lang)),
        (_t("rooms", lang), _fmt_value(d.get("developer_service_rooms_m2"), "m2", lang)),
        (_t("elderly", lang), _fmt_value(d.get("elderly_care_area_m2"), "m2", lang)),
        (_t("profiles", lang), ", ".join(result.parameters.get("profiles", []))),
    ]
    body = "".join(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def _sources_text(row: Mapping[str, Any], lang: str) -> list[str]:
    cited = row.get("cited") or []
    out = []
    for c in cited:
        title = c["title_zh"] if lang == "zh" else c["title_en"]
        note = "" if c.get("confirmed", True) else _t("unconfirmed", lang)
        out.append(
            f"{title}，{c['clause']}{note}" if lang == "zh" else f"{title}, {c['clause']}{note}"
        )
    return out


def _checks_html(result: Any, lang: str) -> str:
    head = "".join(
        f"<th>{_esc(_t(k, lang))}</th>"
        for k in ("check", "source", "measured", "threshold", "result", "shortfall", "remedy")
    )
    rows = []
    for row in result.extra["checks"].to_dict(orient="records"):
        ok = row["passed"]
        cls = "pass" if ok is True else ("fail" if ok is False else "na")
        desc = row["description_zh"] if lang == "zh" else row["description_en"]
        sources = "<br>".join(_esc(s) for s in _sources_text(row, lang))
        remedy = row["remedy_zh"] if lang == "zh" else row["remedy_en"]
        sep = "；" if lang == "zh" else "; "
        remedy_html = "<br>".join(_esc(r) for r in str(remedy).split(sep) if r)
        rows.append(
            f'<tr class="{"failrow" if ok is False else ""}">'
            f'<td class="check">{_esc(desc)}<div class="muted">{_esc(row["check_id"])} · '
            f"{_esc(row['profile'])}</div></td>"
            f'<td class="src">{sources}</td>'
            f'<td class="num">{_esc(_fmt_value(row["value"], row["unit"], lang))}</td>'
            f'<td class="num">{_esc(_fmt_threshold(row, lang))}</td>'
            f'<td><span class="badge {cls}">{_esc(_verdict(ok, lang))}</span></td>'
            f'<td class="num">{_esc(_fmt_shortfall(row, lang))}</td>'
            f'<td class="remedy">{remedy_html}</td></tr>'
        )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _comparison_html(result: Any, before: Any, lang: str) -> str:
    head = "".join(
        f"<th>{_esc(x)}</th>"
        for x in (_t("check", lang), _t("threshold", lang), _t("before", lang), _t("after", lang))
    )
    rows = []
    for c in _comparison(result, before):
        cells = []
        for side in ("before", "after"):
            v = c[side]
            if v is None:
                cells.append("<td>—</td>")
                continue
            cls = "pass" if v["passed"] is True else ("fail" if v["passed"] is False else "na")
            cells.append(
                f'<td class="num">{_esc(_fmt_value(v["value"], c["unit"], lang))} '
                f'<span class="badge {cls}">{_esc(_verdict(v["passed"], lang))}</span></td>'
            )
        rows.append(
            f"<tr><td>{_esc(c['description'][lang])}</td>"
            f'<td class="num">{_esc(_fmt_threshold(c, lang))}</td>{"".join(cells)}</tr>'
        )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_html(
    result: Any,
    *,
    lang: str = "zh",
    before: Any | None = None,
    embedded_map: str | None = None,
) -> str:
    """The report as one self-contained HTML page (works offline).

    Parameters
    ----------
    result
        A development audit result.
    lang
        ``'zh'`` or ``'en'``.
    before
        For a renovation: the estate as it is; adds a before/after table.
    embedded_map
        The map page (:func:`map_html`) to embed in an ``iframe srcdoc``; None
        leaves the map out.

    Examples
    --------
    >>> from geoplan.audit.development import audit_development, read_context, read_plan
    >>> plan = read_plan("data/plans/pass.gpkg")
    >>> ctx = read_context("data/plans/context.gpkg", metric_crs=plan.site.crs)
    >>> result = audit_development(plan, ctx, profiles=["ningxia-2025"])
    >>> page = render_html(result, lang="en")
    >>> page.startswith("<!DOCTYPE html>"), "PASS" in page
    (True, True)
    """
    lang = _lang(lang)
    s = result.summary
    verdict_cls = "pass" if result.passed else "fail"
    title = _t("title_renovation" if before is not None else "title", lang)
    name = s["development"]["name"]
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{_esc(title)}: {_esc(name)}</title><style>{_CSS}</style></head><body><main>",
        f'<h1>{_esc(title)}</h1><div class="lead">{_esc(name)} · '
        f'{_esc(_t("verdict", lang))}: <span class="badge {verdict_cls}">'
        f"{_esc(_verdict(bool(result.passed), lang))}</span> · "
        f"{_esc(_summary_line(s, lang))}"
        "</div>",
        f"<h2>{_esc(_t('facts', lang))}</h2>{_facts_html(result, lang)}",
    ]
    if embedded_map is not None:
        parts.append(
            f"<h2>{_esc(_t('map', lang))}</h2>"
            f'<iframe title="{_esc(_t("map", lang))}" loading="eager" sandbox="allow-scripts" '
            f'srcdoc="{html.escape(embedded_map, quote=True)}"></iframe>'
        )
    if before is not None:
        parts.append(
            f"<h2>{_esc(_t('before_after', lang))}</h2>{_comparison_html(result, before, lang)}"
        )
    heading = _t("checks", lang) + (f" ({_t('after', lang)})" if before is not None else "")
    parts.append(f"<h2>{_esc(heading)}</h2>{_checks_html(result, lang)}")
    na = s.get("not_applicable") or []
    if na:
        parts.append(
            f'<h2>{_esc(_t("not_applicable", lang))}</h2><p class="muted">{_esc(", ".join(na))}</p>'
        )
    parts.append(
        f'<p class="muted">{_esc(_t("footer", lang).format(v=REPORT_SCHEMA_VERSION))}'
        "</p></main></body></html>\n"
    )
    return "".join(parts)


# --------------------------------------------------------------------------- Markdown


def _md(text: object) -> str:
    """Markdown table cell: no pipes or line breaks; HTML-escaped (renderers allow HTML)."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def render_markdown(
    result: Any,
    *,
    lang: str = "zh",
    before: Any | None = None,
    map_image: str | None = None,
) -> str:
    """The report as Markdown (GitHub tables), with an optional link to a map image.

    Examples
    --------
    >>> from geoplan.audit.development import audit_development, read_context, read_plan
    >>> plan = read_plan("data/plans/pass.gpkg")
    >>> ctx = read_context("data/plans/context.gpkg", metric_crs=plan.site.crs)
    >>> result = audit_development(plan, ctx, profiles=["ningxia-2025"])
    >>> text = render_markdown(result, lang="zh")
    >>> text.splitlines()[0]
    '# 新建住区配套设施审查报告'
    """
    lang = _lang(lang)
    s = result.summary
    title = _t("title_renovation" if before is not None else "title", lang)
    d = s["development"]
    lines = [
        f"# {_md(title)}",
        "",
        f"**{_md(d['name'])}** ({_md(d['id'])}) · {_t('verdict', lang)}: "
        f"**{_verdict(bool(result.passed), lang)}** · "
        + _t("summary_line", lang).format(
            p=s["checks_passed"], f=s["checks_failed"], n=s["checks_not_measured"]
        ),
        "",
        f"## {_t('facts', lang)}",
        "",
        f"| | |\n|---|---|\n| {_t('households', lang)} | "
        f"{_fmt_value(d.get('households'), '', lang)} |\n"
        f"| {_t('floor_area', lang)} | {_fmt_value(d.get('total_floor_area_m2'), 'm2', lang)} |\n"
        f"| {_t('comm_service', lang)} | "
        f"{_fmt_value(d.get('commercial_service_area_m2'), 'm2', lang)} |\n"
        f"| {_t('rooms', lang)} | {_fmt_value(d.get('developer_service_rooms_m2'), 'm2', lang)} |\n"
        f"| {_t('elderly', lang)} | {_fmt_value(d.get('elderly_care_area_m2'), 'm2', lang)} |\n"
        f"| {_t('profiles', lang)} | {_md(', '.join(result.parameters.get('profiles', [])))} |",
        "",
    ]
    if before is not None:
        lines += [
            f"## {_t('before_after', lang)}",
            "",
            f"| {_t('check', lang)} | {_t('threshold', lang)} | {_t('before', lang)} | "
            f"{_t('after', lang)} |",
            "|---|---|---|---|",
        ]
        for c in _comparison(result, before):
            cells = []
            for side in ("before", "after"):
                v = c[side]
                cells.append(
                    "—"
                    if v is None
                    else f"{_fmt_value(v['value'], c['unit'], lang)} "
                    f"({_verdict(v['passed'], lang)})"
                )
            lines.append(
                f"| {_md(c['description'][lang])} | {_md(_fmt_threshold(c, lang))} | "
                f"{_md(cells[0])} | {_md(cells[1])} |"
            )
        lines.append("")
    if map_image is not None:
        lines += [f"## {_t('map', lang)}", "", f"![{_t('map', lang)}]({map_image})", ""]
    lines += [
        f"## {_t('checks', lang)}",
        "",
        "| "
        + " | ".join(
            _t(k, lang)
            for k in ("check", "source", "measured", "threshold", "result", "shortfall", "remedy")
        )
        + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in result.extra["checks"].to_dict(orient="records"):
        desc = row["description_zh"] if lang == "zh" else row["description_en"]
        remedy = row["remedy_zh"] if lang == "zh" else row["remedy_en"]
        lines.append(
            f"| {_md(desc)} (`{_md(row['check_id'])}`) "
            f"| {_md('; '.join(_sources_text(row, lang)))} "
            f"| {_md(_fmt_value(row['value'], row['unit'], lang))} "
            f"| {_md(_fmt_threshold(row, lang))} | **{_verdict(row['passed'], lang)}** "
            f"| {_md(_fmt_shortfall(row, lang))} | {_md(remedy)} |"
        )
    na = s.get("not_applicable") or []
    if na:
        lines += ["", f"## {_t('not_applicable', lang)}", "", _md(", ".join(na))]
    lines += ["", "---", _t("footer", lang).format(v=REPORT_SCHEMA_VERSION), ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- files


def _lang(lang: str) -> str:
    if lang not in ("zh", "en"):
        from geoplan._errors import InputError

        raise InputError(f"unknown language {lang!r}: use 'zh' or 'en'", column="lang")
    return lang


def write_report(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    langs: Sequence[str] = ("zh",),
    before: Any | None = None,
    with_map: bool = True,
    static_map: bool = True,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write the report files into ``folder``, each atomically; return their paths.

    Files: ``report.json`` (both languages), and per language ``report.<lang>.html``
    (map embedded), ``report.<lang>.md``, ``map.<lang>.html`` (the map alone) and
    ``map.<lang>.png`` (linked from the Markdown). Reruns give the same bytes.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from geoplan.audit.development import audit_development, read_context, read_plan
    >>> plan = read_plan("data/plans/pass.gpkg")
    >>> ctx = read_context("data/plans/context.gpkg", metric_crs=plan.site.crs)
    >>> result = audit_development(plan, ctx, profiles=["ningxia-2025"])
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> sorted(p.name for p in write_report(result, out, langs=("zh", "en")))[-5:]
    ['report.en.html', 'report.en.md', 'report.json', 'report.zh.html', 'report.zh.md']
    """
    folder = Path(folder)
    protect = list(protect)
    paths = [write_text(folder / "report.json", _json_text(result, before), protect=protect)]
    for lang in langs:
        lang = _lang(lang)
        page = map_html(result, lang=lang) if with_map else None
        if page is not None:
            paths.append(write_text(folder / f"map.{lang}.html", page, protect=protect))
        image = None
        if with_map and static_map:
            image = f"map.{lang}.png"
            paths.append(_static_map(result, folder / image, lang))
        paths.append(
            write_text(
                folder / f"report.{lang}.html",
                render_html(result, lang=lang, before=before, embedded_map=page),
                protect=protect,
            )
        )
        paths.append(
            write_text(
                folder / f"report.{lang}.md",
                render_markdown(result, lang=lang, before=before, map_image=image),
                protect=protect,
            )
        )
    return paths


# --------------------------------------------------------------------------- batch


def batch_summary(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per development from ``{"plan", "result"}`` or ``{"plan", "error"}`` items.

    Columns: ``plan``, ``development_id``, ``name``, ``households``, ``verdict``
    (``pass``, ``fail`` or ``error``), ``checks_failed``, ``failed_checks``,
    ``shortfall_m2`` (floor area missing in all), ``error``.

    Examples
    --------
    >>> batch_summary([{"plan": "bad.gpkg", "error": "no site layer"}])["verdict"].tolist()
    ['error']
    """
    out = []
    for item in rows:
        res = item.get("result")
        if res is None:
            out.append(
                {
                    "plan": str(item["plan"]),
                    "development_id": "",
                    "name": "",
                    "households": math.nan,
                    "verdict": "error",
                    "checks_failed": math.nan,
                    "failed_checks": "",
                    "shortfall_m2": math.nan,
                    "error": str(item.get("error", "")),
                }
            )
            continue
        d = res.summary["development"]
        checks = res.extra["checks"]
        failed = checks[checks["passed"].map(lambda v: v is False)]
        sm2 = failed["shortfall_m2"].astype(float)
        out.append(
            {
                "plan": str(item["plan"]),
                "development_id": d["id"],
                "name": d["name"],
                "households": d.get("households"),
                "verdict": "pass" if res.passed else "fail",
                "checks_failed": len(failed),
                "failed_checks": " ".join(failed["check_id"]),
                "shortfall_m2": round(float(sm2.max()), 1) if sm2.notna().any() else math.nan,
                "error": "",
            }
        )
    frame = pd.DataFrame(
        out,
        columns=[
            "plan",
            "development_id",
            "name",
            "households",
            "verdict",
            "checks_failed",
            "failed_checks",
            "shortfall_m2",
            "error",
        ],
    )
    return frame.set_index("plan")


def write_batch_summary(
    summary: pd.DataFrame,
    folder: str | os.PathLike[str],
    *,
    lang: str = "zh",
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write ``summary.csv`` and ``summary.<lang>.html`` (atomically)."""
    lang = _lang(lang)
    folder = Path(folder)
    protect = list(protect)
    csv = write_csv(folder / "summary.csv", summary, protect=protect)
    head = "".join(
        f"<th>{_esc(x)}</th>"
        for x in (
            _t("plan", lang),
            _t("site", lang),
            _t("households", lang),
            _t("verdict", lang),
            _t("failed_checks", lang),
            _t("error", lang),
        )
    )
    rows = []
    for plan, r in summary.iterrows():
        v = r["verdict"]
        cls = {"pass": "pass", "fail": "fail"}.get(v, "na")
        label = {"pass": _t("pass", lang), "fail": _t("fail", lang)}.get(v, _t("error", lang))
        link = f"{Path(str(plan)).stem}/report.{lang}.html"
        site = f"{r['name']} ({r['development_id']})" if r["development_id"] else ""
        rows.append(
            f'<tr><td><a href="{_esc(link)}">{_esc(plan)}</a></td><td>{_esc(site)}</td>'
            f'<td class="num">{_esc(_fmt_value(r["households"], "", lang))}</td>'
            f'<td><span class="badge {cls}">{_esc(label)}</span></td>'
            f"<td>{_esc(r['failed_checks'])}</td><td>{_esc(r['error'])}</td></tr>"
        )
    page = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
        f"{_esc(_t('batch_title', lang))}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_esc(_t('batch_title', lang))}</h1><table><tr>{head}</tr>{''.join(rows)}"
        f"</table></main></body></html>\n"
    )
    return [csv, write_text(folder / f"summary.{lang}.html", page, protect=protect)]

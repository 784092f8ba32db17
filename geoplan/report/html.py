"""The HTML report: one self-contained page with the gap map embedded
(``iframe srcdoc``); every user string escaped.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from geoplan.report.document import REPORT_SCHEMA_VERSION, compare_checks
from geoplan.report.texts import (
    check_lang,
    counts_line,
    esc,
    fmt_shortfall,
    fmt_threshold,
    fmt_value,
    phrase,
    records,
    sources_text,
    verdict_text,
)

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult

CSS = """
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


def _facts_html(result: AuditResult, lang: str) -> str:
    d = result.summary["development"]
    rows = [
        (phrase("site", lang), f"{d['name']} ({d['id']})"),
        (phrase("households", lang), fmt_value(d.get("households"), "", lang)),
        (phrase("floor_area", lang), fmt_value(d.get("total_floor_area_m2"), "m2", lang)),
        (phrase("comm_service", lang), fmt_value(d.get("commercial_service_area_m2"), "m2", lang)),
        (phrase("rooms", lang), fmt_value(d.get("developer_service_rooms_m2"), "m2", lang)),
        (phrase("elderly", lang), fmt_value(d.get("elderly_care_area_m2"), "m2", lang)),
        (phrase("profiles", lang), ", ".join(result.parameters.get("profiles", []))),
    ]
    body = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="facts">{body}</table>'


def _checks_html(result: AuditResult, lang: str) -> str:
    head = "".join(
        f"<th>{esc(phrase(k, lang))}</th>"
        for k in ("check", "source", "measured", "threshold", "result", "shortfall", "remedy")
    )
    rows = []
    for row in records(result.extra["checks"]):
        ok = row["passed"]
        cls = "pass" if ok is True else ("fail" if ok is False else "na")
        desc = row["description_zh"] if lang == "zh" else row["description_en"]
        sources = "<br>".join(esc(s) for s in sources_text(row, lang))
        remedy = row["remedy_zh"] if lang == "zh" else row["remedy_en"]
        sep = "；" if lang == "zh" else "; "
        remedy_html = "<br>".join(esc(r) for r in str(remedy).split(sep) if r)
        rows.append(
            f'<tr class="{"failrow" if ok is False else ""}">'
            f'<td class="check">{esc(desc)}<div class="muted">{esc(row["check_id"])} · '
            f"{esc(row['profile'])}</div></td>"
            f'<td class="src">{sources}</td>'
            f'<td class="num">{esc(fmt_value(row["value"], row["unit"], lang))}</td>'
            f'<td class="num">{esc(fmt_threshold(row, lang))}</td>'
            f'<td><span class="badge {cls}">{esc(verdict_text(ok, lang))}</span></td>'
            f'<td class="num">{esc(fmt_shortfall(row, lang))}</td>'
            f'<td class="remedy">{remedy_html}</td></tr>'
        )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _comparison_html(result: AuditResult, before: AuditResult, lang: str) -> str:
    head = "".join(
        f"<th>{esc(x)}</th>"
        for x in (
            phrase("check", lang),
            phrase("threshold", lang),
            phrase("before", lang),
            phrase("after", lang),
        )
    )
    rows = []
    for c in compare_checks(result, before):
        cells = []
        for side in ("before", "after"):
            v = c[side]
            if v is None:
                cells.append("<td>—</td>")
                continue
            cls = "pass" if v["passed"] is True else ("fail" if v["passed"] is False else "na")
            cells.append(
                f'<td class="num">{esc(fmt_value(v["value"], c["unit"], lang))} '
                f'<span class="badge {cls}">{esc(verdict_text(v["passed"], lang))}</span></td>'
            )
        rows.append(
            f"<tr><td>{esc(c['description'][lang])}</td>"
            f'<td class="num">{esc(fmt_threshold(c, lang))}</td>{"".join(cells)}</tr>'
        )
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def render_html(
    result: AuditResult,
    *,
    lang: str = "zh",
    before: AuditResult | None = None,
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
    lang = check_lang(lang)
    s = result.summary
    verdict_cls = "pass" if result.passed else "fail"
    title = phrase("title_renovation" if before is not None else "title", lang)
    name = s["development"]["name"]
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{esc(title)}: {esc(name)}</title><style>{CSS}</style></head><body><main>",
        f'<h1>{esc(title)}</h1><div class="lead">{esc(name)} · '
        f'{esc(phrase("verdict", lang))}: <span class="badge {verdict_cls}">'
        f"{esc(verdict_text(bool(result.passed), lang))}</span> · "
        f"{esc(counts_line(s, lang))}"
        "</div>",
        f"<h2>{esc(phrase('facts', lang))}</h2>{_facts_html(result, lang)}",
    ]
    if embedded_map is not None:
        parts.append(
            f"<h2>{esc(phrase('map', lang))}</h2>"
            f'<iframe title="{esc(phrase("map", lang))}" loading="eager" sandbox="allow-scripts" '
            f'srcdoc="{html.escape(embedded_map, quote=True)}"></iframe>'
        )
    if before is not None:
        parts.append(
            f"<h2>{esc(phrase('before_after', lang))}</h2>{_comparison_html(result, before, lang)}"
        )
    heading = phrase("checks", lang) + (f" ({phrase('after', lang)})" if before is not None else "")
    parts.append(f"<h2>{esc(heading)}</h2>{_checks_html(result, lang)}")
    na = s.get("not_applicable") or []
    if na:
        parts.append(
            f"<h2>{esc(phrase('not_applicable', lang))}</h2>"
            f'<p class="muted">{esc(", ".join(na))}</p>'
        )
    parts.append(
        f'<p class="muted">{esc(phrase("footer", lang).format(v=REPORT_SCHEMA_VERSION))}'
        "</p></main></body></html>\n"
    )
    return "".join(parts)

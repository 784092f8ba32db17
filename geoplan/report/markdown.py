"""The Markdown report, linking the static PNG map."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from geoplan.report.document import REPORT_SCHEMA_VERSION, compare_checks
from geoplan.report.texts import (
    check_lang,
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


def _md(text: object) -> str:
    """Markdown table cell: no pipes or line breaks; HTML-escaped (renderers allow HTML)."""
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def render_markdown(
    result: AuditResult,
    *,
    lang: str = "zh",
    before: AuditResult | None = None,
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
    lang = check_lang(lang)
    s = result.summary
    title = phrase("title_renovation" if before is not None else "title", lang)
    d = s["development"]
    lines = [
        f"# {_md(title)}",
        "",
        f"**{_md(d['name'])}** ({_md(d['id'])}) · {phrase('verdict', lang)}: "
        f"**{verdict_text(bool(result.passed), lang)}** · "
        + phrase("summary_line", lang).format(
            p=s["checks_passed"], f=s["checks_failed"], n=s["checks_not_measured"]
        ),
        "",
        f"## {phrase('facts', lang)}",
        "",
        f"| | |\n|---|---|\n| {phrase('households', lang)} | "
        f"{fmt_value(d.get('households'), '', lang)} |\n"
        f"| {phrase('floor_area', lang)} | "
        f"{fmt_value(d.get('total_floor_area_m2'), 'm2', lang)} |\n"
        f"| {phrase('comm_service', lang)} | "
        f"{fmt_value(d.get('commercial_service_area_m2'), 'm2', lang)} |\n"
        f"| {phrase('rooms', lang)} | "
        f"{fmt_value(d.get('developer_service_rooms_m2'), 'm2', lang)} |\n"
        f"| {phrase('elderly', lang)} | {fmt_value(d.get('elderly_care_area_m2'), 'm2', lang)} |\n"
        f"| {phrase('profiles', lang)} | {_md(', '.join(result.parameters.get('profiles', [])))} |",
        "",
    ]
    if before is not None:
        lines += [
            f"## {phrase('before_after', lang)}",
            "",
            f"| {phrase('check', lang)} | {phrase('threshold', lang)} | {phrase('before', lang)} | "
            f"{phrase('after', lang)} |",
            "|---|---|---|---|",
        ]
        for c in compare_checks(result, before):
            cells = []
            for side in ("before", "after"):
                v = c[side]
                cells.append(
                    "—"
                    if v is None
                    else f"{fmt_value(v['value'], c['unit'], lang)} "
                    f"({verdict_text(v['passed'], lang)})"
                )
            lines.append(
                f"| {_md(c['description'][lang])} | {_md(fmt_threshold(c, lang))} | "
                f"{_md(cells[0])} | {_md(cells[1])} |"
            )
        lines.append("")
    if map_image is not None:
        lines += [f"## {phrase('map', lang)}", "", f"![{phrase('map', lang)}]({map_image})", ""]
    lines += [
        f"## {phrase('checks', lang)}",
        "",
        "| "
        + " | ".join(
            phrase(k, lang)
            for k in ("check", "source", "measured", "threshold", "result", "shortfall", "remedy")
        )
        + " |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in records(result.extra["checks"]):
        desc = row["description_zh"] if lang == "zh" else row["description_en"]
        remedy = row["remedy_zh"] if lang == "zh" else row["remedy_en"]
        lines.append(
            f"| {_md(desc)} (`{_md(row['check_id'])}`) "
            f"| {_md('; '.join(sources_text(row, lang)))} "
            f"| {_md(fmt_value(row['value'], row['unit'], lang))} "
            f"| {_md(fmt_threshold(row, lang))} | **{verdict_text(row['passed'], lang)}** "
            f"| {_md(fmt_shortfall(row, lang))} | {_md(remedy)} |"
        )
    na = s.get("not_applicable") or []
    if na:
        lines += ["", f"## {phrase('not_applicable', lang)}", "", _md(", ".join(na))]
    lines += ["", "---", phrase("footer", lang).format(v=REPORT_SCHEMA_VERSION), ""]
    return "\n".join(lines)

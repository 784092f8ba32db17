"""The batch summary of many plans: one row per plan (``summary.csv``) and one HTML page."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from geoplan.io.write import write_csv, write_text
from geoplan.report.html import CSS
from geoplan.report.texts import check_lang, esc, fmt_value, phrase

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult


def batch_summary(rows: Sequence[Mapping[str, AuditResult | str]]) -> pd.DataFrame:
    """One row per development from ``{"plan", "result"}`` or ``{"plan", "error"}`` items.

    ``plan`` is the plan's name, ``result`` its :class:`~geoplan.audit.results.AuditResult`,
    ``error`` the message of the input error that stopped its audit.

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
        if res is None or isinstance(res, str):
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
    lang = check_lang(lang)
    folder = Path(folder)
    protect = list(protect)
    csv = write_csv(folder / "summary.csv", summary, protect=protect)
    head = "".join(
        f"<th>{esc(x)}</th>"
        for x in (
            phrase("plan", lang),
            phrase("site", lang),
            phrase("households", lang),
            phrase("verdict", lang),
            phrase("failed_checks", lang),
            phrase("error", lang),
        )
    )
    rows = []
    for plan, r in summary.iterrows():
        v = r["verdict"]
        cls = {"pass": "pass", "fail": "fail"}.get(v, "na")
        label = {"pass": phrase("pass", lang), "fail": phrase("fail", lang)}.get(
            v, phrase("error", lang)
        )
        link = f"{Path(str(plan)).stem}/report.{lang}.html"
        site = f"{r['name']} ({r['development_id']})" if r["development_id"] else ""
        rows.append(
            f'<tr><td><a href="{esc(link)}">{esc(plan)}</a></td><td>{esc(site)}</td>'
            f'<td class="num">{esc(fmt_value(r["households"], "", lang))}</td>'
            f'<td><span class="badge {cls}">{esc(label)}</span></td>'
            f"<td>{esc(r['failed_checks'])}</td><td>{esc(r['error'])}</td></tr>"
        )
    page = (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>'
        f"{esc(phrase('batch_title', lang))}</title><style>{CSS}</style></head><body><main>"
        f"<h1>{esc(phrase('batch_title', lang))}</h1><table><tr>{head}</tr>{''.join(rows)}"
        f"</table></main></body></html>\n"
    )
    return [csv, write_text(folder / f"summary.{lang}.html", page, protect=protect)]

"""A development's report folder: JSON, and per language HTML, Markdown and the maps,
each written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from geoplan.io.write import write_text
from geoplan.report.document import json_text
from geoplan.report.html import render_html
from geoplan.report.maps import map_html, write_static_map
from geoplan.report.markdown import render_markdown
from geoplan.report.texts import check_lang

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult


def write_report(
    result: AuditResult,
    folder: str | os.PathLike[str],
    *,
    langs: Sequence[str] = ("zh",),
    before: AuditResult | None = None,
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
    paths = [write_text(folder / "report.json", json_text(result, before), protect=protect)]
    for lang in langs:
        lang = check_lang(lang)
        page = map_html(result, lang=lang) if with_map else None
        if page is not None:
            paths.append(write_text(folder / f"map.{lang}.html", page, protect=protect))
        image = None
        if with_map and static_map:
            image = f"map.{lang}.png"
            paths.append(write_static_map(result, folder / image, lang))
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

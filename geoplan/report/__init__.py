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

One module per job: ``texts`` (the zh / en words and number formats), ``document``
(the JSON), ``maps`` (gap maps from audit results, for the commands and the reports),
``html``, ``markdown``, ``write`` (a report folder) and ``batch`` (many plans).
"""

from __future__ import annotations

from geoplan.report.batch import batch_summary, write_batch_summary
from geoplan.report.document import REPORT_SCHEMA_VERSION, report_dict
from geoplan.report.html import render_html
from geoplan.report.maps import map_html
from geoplan.report.markdown import render_markdown
from geoplan.report.write import write_report

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

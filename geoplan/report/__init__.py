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
``html``, ``markdown``, ``write`` (a report folder), ``batch`` (many plans),
``ledger`` (the problem ledger 问题台账 of any audits' findings) and ``access_map``
(the map of a capacity-aware access audit).
"""

from __future__ import annotations

from geoplan.report.batch import batch_summary, write_batch_summary
from geoplan.report.document import REPORT_SCHEMA_VERSION, report_dict
from geoplan.report.html import render_html
from geoplan.report.ledger import problem_ledger, unmeasured_checks, write_ledger
from geoplan.report.maps import map_html
from geoplan.report.markdown import render_markdown
from geoplan.report.write import write_report

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "batch_summary",
    "map_html",
    "problem_ledger",
    "render_html",
    "render_markdown",
    "report_dict",
    "unmeasured_checks",
    "write_batch_summary",
    "write_ledger",
    "write_report",
]

"""Reports: JSON schema, HTML escaping and offline map, Markdown, stable reruns, batch."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from geoplan._errors import InputError
from geoplan.audit.development import audit_development, read_context, read_plan
from geoplan.render import external_asset_urls
from geoplan.report import (
    REPORT_SCHEMA_VERSION,
    batch_summary,
    map_html,
    render_html,
    render_markdown,
    report_dict,
    write_batch_summary,
    write_report,
)

PLANS = Path(__file__).resolve().parents[1] / "data" / "plans"
PROFILES = ["ningxia-2025", "tianjin-2025", "mofcom-15min"]
EVIL = '<img src=x onerror="alert(1)"></script>'
pytestmark = pytest.mark.filterwarnings("ignore::geoplan._errors.DataQualityWarning")


@pytest.fixture(scope="module")
def fail_result():
    plan = read_plan(PLANS / "fail.gpkg")
    ctx = read_context(PLANS / "context.gpkg", metric_crs=plan.site.crs)
    return audit_development(plan, ctx, profiles=PROFILES)


@pytest.fixture(scope="module")
def evil_result():
    plan = read_plan(PLANS / "fail.gpkg")
    site = plan.site.copy()
    site["name"] = EVIL
    rooms = plan.service_rooms.copy()
    rooms["name"] = EVIL
    plan = replace(plan, site=site, service_rooms=rooms)
    ctx = read_context(PLANS / "context.gpkg", metric_crs=plan.site.crs)
    return audit_development(plan, ctx, profiles=["tianjin-2025"])


def test_report_dict_schema(fail_result):
    d = report_dict(fail_result)
    assert d["schema_version"] == REPORT_SCHEMA_VERSION
    assert d["mode"] == "development" and d["before"] is None
    assert d["profiles"] == PROFILES
    assert d["passed"] is False
    assert d["counts"]["failed"] == sum(c["passed"] is False for c in d["checks"])
    for c in d["checks"]:
        assert {
            "check_id",
            "description",
            "sources",
            "value",
            "threshold",
            "passed",
            "shortfall",
            "remedy",
            "entities",
        } <= set(c)
        assert c["sources"] and all(s["clause"] for s in c["sources"])
        assert bool(c["remedy"]["en"]) == (c["passed"] is False)
        assert bool(c["remedy"]["zh"]) == (c["passed"] is False)
    merged = next(c for c in d["checks"] if c["check_id"] == "new_commercial_service_share")
    assert [s["profile"] for s in merged["sources"]] == ["ningxia-2025", "tianjin-2025"]
    json.dumps(d, allow_nan=False)  # no NaN or Infinity


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_report_reads_in_both_languages(fail_result, lang):
    page = render_html(fail_result, lang=lang, embedded_map=map_html(fail_result, lang=lang))
    assert page.startswith("<!DOCTYPE html>")
    assert external_asset_urls(page) == []
    if lang == "zh":
        assert "不达标" in page and "增加社区服务用房" in page and "整改建议" in page
    else:
        assert "FAIL" in page and "m2 of community service rooms" in page
        assert "have no wet market within 8 minutes" in page
    assert "宁夏" in page or "Ningxia" in page  # the source document is named
    assert "<iframe" in page and "srcdoc=" in page


def test_markdown_report(fail_result):
    text = render_markdown(fail_result, lang="en", map_image="map.en.png")
    assert "![Gap map](map.en.png)" in text
    assert "| Check | Source and clause | Measured |" in text
    assert "**FAIL**" in text
    rows = [ln for ln in text.splitlines() if ln.startswith("| ") and "`" in ln]
    assert len(rows) == len(fail_result.extra["checks"])
    assert all(ln.count(" | ") == 6 for ln in rows)  # no cell breaks the table


def test_user_strings_are_escaped(evil_result):
    page = render_html(evil_result, lang="zh", embedded_map=map_html(evil_result, lang="zh"))
    assert "<img" not in page
    assert "&lt;img" in page
    text = render_markdown(evil_result, lang="en")
    assert "<img" not in text
    assert "<img" not in map_html(evil_result, lang="en")


def test_write_report_is_stable_and_atomic(tmp_path, fail_result):
    a = write_report(fail_result, tmp_path / "a", langs=("zh", "en"), static_map=False)
    b = write_report(fail_result, tmp_path / "b", langs=("zh", "en"), static_map=False)
    assert [p.name for p in a] == [p.name for p in b]
    assert {p.name for p in a} == {
        "report.json",
        "map.zh.html",
        "report.zh.html",
        "report.zh.md",
        "map.en.html",
        "report.en.html",
        "report.en.md",
    }
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]


def test_write_report_refuses_to_overwrite_an_input(tmp_path, fail_result):
    guard = tmp_path / "report.json"
    guard.write_text("input", encoding="utf-8")
    with pytest.raises(InputError, match="overwrite"):
        write_report(fail_result, tmp_path, with_map=False, protect=[guard])
    assert guard.read_text(encoding="utf-8") == "input"


def test_unknown_language(fail_result):
    with pytest.raises(InputError, match="language"):
        render_html(fail_result, lang="fr")


def test_batch_summary(tmp_path, fail_result, evil_result):
    table = batch_summary(
        [
            {"plan": "fail.gpkg", "result": fail_result},
            {"plan": "evil.gpkg", "result": evil_result},
            {"plan": "bad.gpkg", "error": "bad.gpkg: row B3: column households: missing"},
        ]
    )
    assert table["verdict"].tolist() == ["fail", "fail", "error"]
    assert "developer_service_rooms" in table.loc["fail.gpkg", "failed_checks"]
    paths = write_batch_summary(table, tmp_path, lang="en")
    page = paths[1].read_text(encoding="utf-8")
    assert "<img" not in page and "column households" in page


def _fit_bounds(page: str) -> tuple[float, float, float, float]:
    import re

    m = re.search(
        r"fitBounds\(\s*\[\[([-\d.]+),\s*([-\d.]+)\],\s*\[([-\d.]+),\s*([-\d.]+)\]\]", page
    )
    assert m is not None, "no fitBounds in the page"
    s, w, n, e = (float(v) for v in m.groups())
    return w, s, e, n


def test_report_map_shows_the_nearest_facilities(fail_result):
    # the remedies name the nearest existing facility of each category: the
    # first view of the report's map includes them, not just the site
    from geoplan.render import gap_map
    from geoplan.report.maps import _map_layers

    layers = _map_layers(fail_result)
    fac = layers["facilities"].to_crs(4326)
    assert len(fac) > 1
    x, y = fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()
    w, s, e, n = _fit_bounds(map_html(fail_result, lang="zh"))
    assert ((x >= w - 1e-9) & (x <= e + 1e-9) & (y >= s - 1e-9) & (y <= n + 1e-9)).all()
    # without it, the view fits the site and some nearest facility lies outside
    w, s, e, n = _fit_bounds(gap_map(title="t", **layers).get_root().render())
    assert not ((x >= w) & (x <= e) & (y >= s) & (y <= n)).all()

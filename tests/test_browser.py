"""A saved gap map opened in real headless Chromium, with the network off."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from test_render import (
    CITY_CATEGORIES,
    CRS,
    X0,
    XSS_IMG,
    XSS_SCRIPT,
    Y0,
    make_buildings,
    make_city,
    make_communities,
    make_facilities,
)

from geoplan.render import gap_map, save_html

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

# Leaf layers per overlay of the layer control, and the names of every tooltip opened.
COUNT_JS = """() => {
  const key = Object.keys(window).find(k => /^layer_control_.*_layers$/.test(k));
  const out = {};
  for (const [name, group] of Object.entries(window[key].overlays)) {
    let n = 0;
    const walk = (l) => { if (l.getLayers) { l.getLayers().forEach(walk); } else { n += 1; } };
    walk(group);
    out[name] = n;
  }
  return out;
}"""

OPEN_TOOLTIPS_JS = """() => {
  const key = Object.keys(window).find(k => /^layer_control_.*_layers$/.test(k));
  let opened = 0;
  for (const group of Object.values(window[key].overlays)) {
    const walk = (l) => {
      if (l.getLayers) { l.getLayers().forEach(walk); return; }
      if (l.getTooltip && l.getTooltip()) { l.openTooltip(); opened += 1; l.closeTooltip(); }
    };
    walk(group);
  }
  return opened;
}"""


# The HTML of the first tooltip of each overlay, opened (packed layers make theirs then).
SAMPLE_TOOLTIPS_JS = """() => {
  const key = Object.keys(window).find(k => /^layer_control_.*_layers$/.test(k));
  const out = {};
  for (const [name, group] of Object.entries(window[key].overlays)) {
    const first = group.getLayers()[0];
    if (!first || !first.getTooltip || !first.getTooltip()) { continue; }
    first.openTooltip();
    out[name] = first.getTooltip().getElement().innerHTML;
    first.closeTooltip();
  }
  return out;
}"""


ZOOM_JS = """(z) => {
  const key = Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k));
  window[key].setZoom(z, {animate: false});
}"""


@pytest.fixture(scope="module")
def chromium():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def test_gap_map_in_chromium_offline(chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    communities = make_communities()
    buildings = make_buildings(80)
    facilities = make_facilities()
    unreachable = gpd.GeoDataFrame(
        {"reason": [XSS_IMG]}, geometry=[shapely.Point(X0 + 1100, Y0 + 1100)], crs=CRS
    )
    m = gap_map(
        communities=communities,
        buildings=buildings,
        facilities=facilities,
        unreachable=unreachable,
        title="菜市场覆盖 " + XSS_SCRIPT,
        summary={"菜市场覆盖率": "87%，目标 95%", XSS_IMG: XSS_SCRIPT},
        lang="zh",
    )
    html_path = save_html(m, tmp_path / "gap.html")

    context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.add_init_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(m);")
    page.goto(html_path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)

    counts = page.evaluate(COUNT_JS)
    assert counts == {
        "社区（面）达标: 每百户社区综合服务设施面积": 3,
        "建筑步行覆盖: 菜市场": 80,
        "不可达/未分配点": 1,
        "设施": 3,
    }
    assert page.locator(".geoplan-icon").count() == 3  # facility symbols
    assert page.locator(".geoplan-legend").count() == 1
    assert "菜市场覆盖率" in page.locator(".geoplan-summary").inner_text()
    assert XSS_SCRIPT in page.locator(".geoplan-title").inner_text()  # shown as text

    assert page.evaluate(OPEN_TOOLTIPS_JS) == 87  # every tooltip's HTML parsed once
    page.hover(".geoplan-icon >> nth=1")  # the store whose name ends in </script>...
    page.wait_for_timeout(100)

    assert page.evaluate("window.__alerts") == []
    assert dialogs == []
    assert page.locator("img[src='x']").count() == 0
    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests), requests

    shot = tmp_path / "gap.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000

    # lettered symbols shrink at city zoom (where they would hide the cells under
    # them) and are full size close up
    for zoom, scaled in ((10, True), (12, True), (16, False)):
        page.evaluate(ZOOM_JS, zoom)
        page.wait_for_timeout(100)
        transform = page.evaluate(
            "() => getComputedStyle(document.querySelector('.geoplan-icon > div')).transform"
        )
        assert (transform != "none") == scaled, (zoom, transform)
    assert errors == []
    context.close()


def test_notebook_view_draws_offline_in_a_legacy_encoded_page(chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What Jupyter shows for ``m`` (``_repr_html_``) works with no CDN, and the
    Chinese names survive a host page that is not decoded as UTF-8."""
    m = gap_map(
        communities=make_communities(),
        facilities=make_facilities(),
        title="菜市场覆盖 " + XSS_SCRIPT,
        lang="zh",
    )
    view = m._repr_html_()
    assert view.isascii() and "cdn." not in view
    host = tmp_path / "cell.html"  # no charset: Chromium decodes it as windows-1252
    host.write_bytes(("<html><body>" + view + "</body></html>").encode("ascii"))

    context = chromium.new_context(offline=True, viewport={"width": 1000, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(m);")
    page.goto(host.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(500)
    frame = page.frames[1]
    assert frame.evaluate("typeof L") == "object"  # Leaflet came inlined
    assert frame.evaluate(COUNT_JS) == {
        "社区（面）达标: 每百户社区综合服务设施面积": 3,
        "设施": 3,
    }
    assert XSS_SCRIPT in frame.locator(".geoplan-title").inner_text()
    assert "图例" in frame.locator(".geoplan-legend").inner_text()
    assert frame.evaluate("window.__alerts || []") == []
    assert errors == []


def test_city_map_opens_and_builds_its_layers_on_demand(chromium, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A city-scale map (packed layers, built when first shown) in Chromium offline."""
    from geoplan.render.cells import adaptive_cell_m, cell_grid
    from geoplan.report.maps import city_network_lines

    city = make_city(60_000, 6_000, side_m=30_000)
    b, f = city["buildings"], city["facilities"]
    lines, note = city_network_lines(city["network"], lang="zh")
    m = gap_map(
        buildings=b,
        facilities=f,
        network=lines,
        category="convenience_store",
        failing_categories=list(CITY_CATEGORIES[1:]),
        title="合成城市 " + XSS_SCRIPT,
        notes=[note] if note else [],
    )
    html_path = save_html(m, tmp_path / "city.html")
    cells = len(cell_grid(b, cell_m=adaptive_cell_m(b)))
    n_pharmacies = int((f["category"] == "pharmacy").sum())

    context = chromium.new_context(offline=True, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(html_path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(300)

    counts = page.evaluate(COUNT_JS)
    assert counts["建筑覆盖（网格汇总）: 便利店"] == cells
    assert counts["步行路网"] == 1
    assert counts["设施: 便利店"] == int((f["category"] == "convenience_store").sum())
    assert counts["未覆盖建筑: 药店"] == 0 and counts["设施: 药店"] == 0  # off: not built yet
    for name in ("未覆盖建筑: 药店", "设施: 药店"):
        page.locator(".leaflet-control-layers-overlays label", has_text=name).locator(
            "input"
        ).check()
    page.wait_for_timeout(200)
    counts = page.evaluate(COUNT_JS)
    assert 0 < counts["未覆盖建筑: 药店"] <= cells
    assert counts["设施: 药店"] == n_pharmacies
    tips = page.evaluate(SAMPLE_TOOLTIPS_JS)  # tooltips are made when they open
    assert tips["建筑覆盖（网格汇总）: 便利店"].startswith("<b>未覆盖户占比: ")
    assert "未覆盖户数: " in tips["未覆盖建筑: 药店"] and "建筑数: " in tips["未覆盖建筑: 药店"]
    assert tips["设施: 药店"].endswith("<br>类别: 药店")
    notes = page.locator(".geoplan-notes").inner_text()
    assert f"{len(b):,} 栋建筑按" in notes and "米网格汇总" in notes
    assert XSS_SCRIPT in page.locator(".geoplan-title").inner_text()
    for zoom in (9, 12, 15):  # the dots follow the zoom
        page.evaluate(ZOOM_JS, zoom)
        page.wait_for_timeout(100)
    shot = tmp_path / "city.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000
    assert errors == []
    context.close()

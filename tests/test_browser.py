"""A saved gap map opened in real headless Chromium, with the network off."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from test_render import (
    CRS,
    X0,
    XSS_IMG,
    XSS_SCRIPT,
    Y0,
    make_buildings,
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

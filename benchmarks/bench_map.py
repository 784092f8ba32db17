"""Gap map of a whole synthetic city: HTML size and page load time in headless Chromium.

Runs the coverage step on the benchmark city (``--size 100k`` or ``1m``), draws
the gap map with :func:`geoplan.render.gap_map` (buildings aggregate to cells
above the render threshold, so 200k buildings stay usable), saves it as offline
HTML, then opens it with the network off in Debian's Chromium and times the load.
The reference run in the same process is the same page with the buildings layer
left out, so the ratio shows what the buildings cost.

Usage::

    python -m benchmarks.bench_map --size 1m
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd

from benchmarks.bench_coverage import city_coverage, coverage_parameters
from benchmarks.synthetic_city import synthetic_city
from geoplan.render import gap_map, save_html

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def load_seconds(
    path: Path, *, screenshot: Path | None = None, zoom: bool = False
) -> tuple[float, list[str]]:
    """Seconds until the page's load event plus two frames, and console errors.

    With ``zoom``, the seconds of one zoom step (mouse wheel at the centre, until
    two frames are drawn) instead: how usable the page is once open.
    """
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(offline=True, viewport={"width": 1200, "height": 850}).new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load", timeout=120_000)
        page.evaluate(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        seconds = time.perf_counter() - start
        if zoom:
            page.mouse.move(600, 425)
            start = time.perf_counter()
            page.mouse.wheel(0, -120)
            page.wait_for_timeout(300)  # Leaflet's zoom animation
            page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            seconds = time.perf_counter() - start - 0.3
        if screenshot is not None:
            page.screenshot(path=str(screenshot))
        browser.close()
    return seconds, errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="100k", choices=["tiny", "100k", "1m"])
    ap.add_argument("--out", type=Path, default=None, help="Folder for the HTML and screenshot.")
    args = ap.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="geoplan-map-"))
    out.mkdir(parents=True, exist_ok=True)
    city = synthetic_city(args.size)
    p = coverage_parameters()
    t0 = time.perf_counter()
    reach = city_coverage(city, p)
    t_cov = time.perf_counter() - t0
    from geoplan.profiles import load_profile

    wet = load_profile("tianjin-2025")  # the wet-market coverage target's walk
    limit = float(wet.target("wet_market_coverage").within_min or 0) * p["walk_speed_m_per_min"]
    b = city.buildings.copy()
    b["households"] = 1.0
    b["walk_m__wet_market"] = reach["walk_m__wet_market"]
    b["walk_min__wet_market"] = reach["walk_min__wet_market"]
    b["covered__wet_market"] = reach["walk_m__wet_market"].to_numpy() <= limit
    share = float(b["covered__wet_market"].mean())
    markets = city.facilities[city.facilities["category"] == "wet_market"]
    summary = {"菜市场覆盖率": f"{share:.1%}"}
    t0 = time.perf_counter()
    full = save_html(
        gap_map(
            buildings=gpd.GeoDataFrame(b, crs=city.network.crs),
            facilities=markets,
            title=f"合成城市 {args.size}",
            summary=summary,
            category="wet_market",
        ),
        out / f"city_{args.size}.html",
    )
    t_draw = time.perf_counter() - t0
    ref = save_html(
        gap_map(facilities=markets, title=f"合成城市 {args.size}", summary=summary),
        out / f"city_{args.size}_reference.html",
    )
    # every facility of the city (20,000 at 1m): symbols give way to canvas dots
    every = save_html(
        gap_map(facilities=city.facilities, title=f"合成城市 {args.size}: 全部设施"),
        out / f"city_{args.size}_facilities.html",
    )
    t_full, err_full = load_seconds(full, screenshot=out / f"city_{args.size}.png")
    t_ref, err_ref = load_seconds(ref)
    t_every, err_every = load_seconds(every)
    t_every_zoom, _ = load_seconds(every, zoom=True)
    t_ref_zoom, _ = load_seconds(ref, zoom=True)
    mb = full.stat().st_size / 1e6
    print(
        f"city {args.size}: {city.network.n_nodes:,} nodes, {len(b):,} buildings, "
        f"{len(markets):,} wet markets; coverage step {t_cov:.2f} s"
    )
    print(f"gap map: {mb:.2f} MB, drawn and saved in {t_draw:.2f} s")
    print(
        f"load in Chromium (offline): {t_full:.2f} s; reference page without buildings "
        f"{t_ref:.2f} s; ratio {t_full / t_ref:.2f}x"
    )
    print(
        f"all {len(city.facilities):,} facilities: {every.stat().st_size / 1e6:.2f} MB, "
        f"load {t_every:.2f} s ({t_every / t_ref:.2f}x the reference); one zoom step "
        f"{t_every_zoom:.2f} s ({t_every_zoom / max(t_ref_zoom, 1e-3):.2f}x the reference's "
        f"{t_ref_zoom:.2f} s)"
    )
    errors = err_full + err_ref + err_every
    print(f"console errors: {len(errors)}; files in {out}")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())

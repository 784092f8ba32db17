"""Every failing check visible: gap maps, the CLI printout, fact texts, clean CSVs,
sites with lon/lat, one file name per output (issue 10, item 4; item 7's categories)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Point, box

from geoplan._errors import DataQualityWarning
from geoplan.cli._main import main

TIANJIN = "tianjin-2025"
MOFCOM = "mofcom-15min"


def _quiet(fn: Any, *args: Any, **kw: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return fn(*args, **kw)


def _layers(m: Any) -> dict[str, tuple[bool, list[dict[str, Any]]]]:
    """Layer name -> (shown when the map opens, GeoJSON features) of a geoplan map."""
    import html

    import folium

    out = {}
    for child in m._children.values():
        if isinstance(child, folium.FeatureGroup):
            for sub in child._children.values():
                if hasattr(sub, "data_js"):
                    data = json.loads(sub.data_js)
                    out[html.unescape(child.layer_name)] = (bool(child.show), data["features"])
    return out


@pytest.fixture(scope="module")
def district() -> Any:
    from geoplan.sample import make_sample_district

    return make_sample_district(seed=0)


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    res = CliRunner().invoke(main, ["demo", "--out", str(out), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    return out


# --------------------------------------------------------------------------- maps


def test_a_failing_village_is_coloured_not_grey(district: Any) -> None:
    from geoplan.audit import audit_floor_area
    from geoplan.report.maps import community_checks, coverage_gap_map

    fa = _quiet(audit_floor_area, district.communities, district.facilities, profile=TIANJIN)
    layers, _ = community_checks(fa, lang="zh")
    assert set(layers[0]) == {"service_area_per_100_households", "village_service_area"}
    village_fails = fa.table.index[fa.table["village_service_area__pass"].eq(False).fillna(False)]
    assert len(village_fails) >= 1
    m = coverage_gap_map(floor_area=fa, lang="zh")
    shown = [(name, feats) for name, (on, feats) in _layers(m).items() if on and "社区" in name]
    assert len(shown) == 1
    feats = shown[0][1]
    for cid in village_fails:
        (f,) = [f for f in feats if f"({cid})" in f["properties"]["t"]]
        assert f["properties"]["s"] == "fail"
        assert "300" in f["properties"]["t"] and "缺" in f["properties"]["t"]  # the facts
    # no community is "not applicable" once both area checks are drawn together
    assert {f["properties"]["s"] for f in feats} <= {"pass", "fail"}
    # the other failing community checks have layers of their own, off at first
    hidden = [name for name, (on, _) in _layers(m).items() if not on and "社区" in name]
    assert len(hidden) == len(layers) - 1 >= 1


def test_one_layer_per_failing_mofcom_category(district: Any) -> None:
    from geoplan.audit.coverage import audit_coverage
    from geoplan.network import network_from_lines
    from geoplan.render._labels import category_style
    from geoplan.report.maps import coverage_gap_map, failing_categories, headline_category

    net = network_from_lines(district.streets)
    cov = _quiet(
        audit_coverage,
        district.buildings,
        district.facilities,
        net,
        profile=MOFCOM,
        communities=district.communities,
    )
    failing = failing_categories(cov)
    assert len(failing) >= 5  # the sample misses many MOFCOM walking targets
    head = headline_category(cov)
    m = coverage_gap_map(coverage=cov, facilities=district.facilities, network=net, lang="zh")
    layers = _layers(m)
    for cat in failing:
        if cat == head:
            continue
        name = f"未覆盖建筑: {category_style(cat).label('zh')}"
        on, feats = layers[name]
        assert not on  # switchable, off when the map opens
        # buildings without households (shops, schools) count in no share: not drawn
        lost = (cov.table[f"covered__{cat}"].eq(False) & cov.table["households"].gt(0)).sum()
        assert len(feats) == lost > 0
    assert layers["步行路网"][0]  # the network is on


def test_network_layer_is_simplified_and_capped() -> None:
    from geoplan.render import network_layer, simplified_network

    lines = [shapely.LineString([(x, y), (x + 10, y)]) for x in range(0, 2000, 10) for y in (0, 50)]
    lines += [shapely.LineString([(0, y), (0, y + 1), (0, y + 2)]) for y in range(0, 200, 2)]
    edges = gpd.GeoDataFrame(geometry=lines, crs=32650)
    simple = simplified_network(edges)
    assert len(simple) < len(edges)  # merged
    capped = simplified_network(edges, max_vertices=5)
    assert int(shapely.get_num_coordinates(capped.values).sum()) <= 5
    m = network_layer(edges, lang="en")
    (feats,) = [f for _, f in _layers(m).values()]
    assert len(feats) == 1 and feats[0]["geometry"]["type"] == "MultiLineString"


def test_legends_keep_communities_and_buildings_apart() -> None:
    from geoplan.render import _labels as lb

    community = {c.fill for c in lb.COMMUNITY_CLASSES.values() if c.key != "na"}
    community |= {c.color for c in lb.COMMUNITY_CLASSES.values() if c.key != "na"}
    building = {c.fill for c in lb.BUILDING_CLASSES.values()} | {
        c.color for c in lb.BUILDING_CLASSES.values()
    }
    assert not community & building
    for lang in ("zh", "en"):
        labels_c = {c.label(lang) for c in lb.COMMUNITY_CLASSES.values()}
        labels_b = {c.label(lang) for c in lb.BUILDING_CLASSES.values()}
        assert not (labels_c - {lb.COMMUNITY_CLASSES["na"].label(lang)}) & labels_b
    assert lb.text("communities", "zh") != lb.text("buildings", "zh")


def test_categories_come_from_the_toml_only() -> None:
    from geoplan.categories import load_categories
    from geoplan.render import _labels as lb

    cats = load_categories()
    for c in cats.categories:
        style = lb.category_style(c.id)
        assert c.color and style.color == c.color
        assert (style.char("zh"), style.char("en")) == (c.symbol_zh, c.symbol_en)
        assert (style.label("zh"), style.label("en")) == (c.zh, c.en)
    source = Path(lb.__file__).read_text(encoding="utf-8")
    for c in cats.categories:  # no hard-coded category names left in the map code
        assert f'"{c.zh}"' not in source


def test_geoplan_map_keeps_sites_and_draws_the_network(demo_dir: Path, tmp_path: Path) -> None:
    folder = demo_dir / TIANJIN
    sites = pd.read_csv(folder / "sites_wet_market.csv", encoding="utf-8-sig")
    out = tmp_path / "gap_map.html"
    streets = tmp_path / "streets.gpkg"
    from geoplan.sample import make_sample_district

    make_sample_district(seed=0).streets.to_file(streets, engine="pyogrio")
    res = CliRunner().invoke(
        main, ["map", str(folder), "--out", str(out), "--no-png", "--network", str(streets)]
    )
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    for sid in sites["site_id"]:
        assert sid in page
    names = json.dumps("建议选址")[1:-1]  # layer names are written as \\u escapes
    assert "建议选址" in page or names in page
    assert "步行路网" in page or json.dumps("步行路网")[1:-1] in page


# --------------------------------------------------------------------------- text


def _one_community(households: float, area: float) -> tuple[Any, Any]:
    comm = gpd.GeoDataFrame(
        {"name": ["和平社区"], "kind": ["urban"], "households": [households]},
        geometry=[box(0, 0, 500, 500)],
        crs=32650,
        index=pd.Index(["C1"], name="community_id"),
    )
    fac = gpd.GeoDataFrame(
        {
            "name": ["党群服务中心"],
            "category": ["community_service_centre"],
            "floor_area_m2": [area],
        },
        geometry=[Point(250, 250)],
        crs=32650,
        index=pd.Index(["F1"], name="facility_id"),
    )
    return comm, fac


def test_findings_read_as_facts_in_text_json_and_csv(tmp_path: Path) -> None:
    from geoplan.audit import audit_floor_area
    from geoplan.audit.results import save_result

    comm, fac = _one_community(2000.0, 480.0)
    r = audit_floor_area(comm, fac, profile=TIANJIN)
    row = r.findings.set_index("check_id").loc["service_area_per_100_households"]
    assert row["text_zh"] == "24.0 m²/百户（480 m² / 2,000 户），应 ≥ 30，需 600 m²，缺 120 m²"
    assert row["text_en"] == (
        "24.0 m²/100 households (480 m² / 2,000 households), should be ≥ 30, "
        "needs 600 m², short 120 m²"
    )
    js = r.to_dict()["findings"]
    assert any(f["text_zh"] == row["text_zh"] for f in js)
    save_result(r, tmp_path)
    csv = pd.read_csv(tmp_path / "floor_area_findings.csv", encoding="utf-8-sig")
    assert row["text_zh"] in set(csv["text_zh"])


def test_not_measured_says_what_to_add(capsys: pytest.CaptureFixture[str]) -> None:
    from geoplan.audit import audit_floor_area
    from geoplan.cli._common import print_result

    comm, fac = _one_community(2000.0, 480.0)  # no activity_area_m2 in the facilities
    comm["new_development"] = True  # the commercial-share target applies to new ones only
    r = audit_floor_area(comm, fac, profile=TIANJIN)
    texts = r.findings.loc[r.findings["check_id"] == "activity_share", "text_zh"]
    assert len(texts) and all(t.startswith("未测：缺 activity_area_m2 列（设施表") for t in texts)
    print_result(r, lang="zh")
    out = capsys.readouterr().out
    assert "未测：缺 activity_area_m2 列（设施表" in out
    # a community column the ledger lacks: named with its table
    assert "new_commercial_service_share" not in r.summary["checks"]
    assert "未测：缺 total_floor_area_m2 列（社区表" in out
    print_result(r, lang="en")
    assert "not measured: add a activity_area_m2 column (facilities table)" in (
        capsys.readouterr().out
    )


def test_cli_lists_every_failing_community_or_says_where(
    district: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from geoplan.audit import audit_floor_area
    from geoplan.cli._common import print_result

    r = _quiet(audit_floor_area, district.communities, district.facilities, profile=TIANJIN)
    f = r.findings
    failing = f[(f["check_id"] == "service_area_per_100_households") & (f["passed"] == False)]  # noqa: E712
    assert len(failing) > 3
    print_result(r, lang="zh")
    out = capsys.readouterr().out
    for cid in failing["entity_id"]:
        assert cid in out  # every one, not the worst 3
    print_result(r, lang="zh", limit=2, findings_csv="out/floor_area_findings.csv")
    out = capsys.readouterr().out
    assert f"还有 {len(failing) - 2} 个未达标，全部见 out/floor_area_findings.csv" in out
    print_result(r, lang="en", limit=2)
    assert "add --out DIR to write floor_area_findings.csv" in capsys.readouterr().out


# --------------------------------------------------------------------------- files


_NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?![\w.])")


class _Noise:
    """Finds a decimal number with more than 10 significant digits (float noise)."""

    def search(self, text: str) -> str | None:
        for m in _NUMBER.finditer(text):
            digits = m.group().lstrip("-").replace(".", "").lstrip("0")
            if len(digits) > 10:
                return m.group()
        return None


_NOISE = _Noise()


def test_csvs_carry_no_float_noise_and_no_inf(demo_dir: Path) -> None:
    csvs = sorted(demo_dir.glob("*/*.csv"))
    assert len(csvs) >= 10
    for path in csvs:
        text = path.read_text(encoding="utf-8-sig")
        assert not re.search(r"(^|,)-?inf(,|$)", text, re.M), path.name
        assert not _NOISE.search(text), (path.name, _NOISE.search(text))
    # the values survive: walking minutes are there, "none within" is empty
    cov = pd.read_csv(demo_dir / TIANJIN / "coverage.csv", encoding="utf-8-sig")
    walk = cov["walk_min__wet_market"]
    assert walk.notna().any() and walk.isna().any()


def test_write_csv_rounds_and_blanks() -> None:
    from geoplan.io.write import clean_numbers

    t = pd.DataFrame({"a": [0.1 + 0.2, float("inf")], "b": [float("-inf"), "x"]})
    out = clean_numbers(t)
    assert pd.isna(out.loc[1, "a"]) and pd.isna(out.loc[0, "b"]) and out.loc[1, "b"] == "x"


def test_sites_carry_lon_lat(demo_dir: Path) -> None:
    folder = demo_dir / TIANJIN
    sites = pd.read_csv(folder / "sites_wet_market.csv", encoding="utf-8-sig")
    assert {"lon", "lat"} <= set(sites.columns)
    assert sites["lon"].between(117.0, 117.4).all() and sites["lat"].between(38.9, 39.3).all()
    js = json.loads((folder / "sites_wet_market.json").read_text(encoding="utf-8"))
    assert all({"lon", "lat"} <= set(s) for s in js["sites"])
    gdf = gpd.read_file(folder / "sites_wet_market.gpkg", layer="sites")
    p = gdf.geometry.to_crs(4326).iloc[0]
    assert abs(p.x - sites["lon"].iloc[0]) < 1e-5 and abs(p.y - sites["lat"].iloc[0]) < 1e-5


def test_output_names_are_the_same_across_commands(
    demo_dir: Path, district: Any, tmp_path: Path
) -> None:
    for profile in (TIANJIN, MOFCOM):
        assert (demo_dir / profile / "gap_map.html").stat().st_size > 0
        assert (demo_dir / profile / "gap_map.png").stat().st_size > 0
    inputs = demo_dir / "inputs" / "sample_district.gpkg"
    cov = tmp_path / "cov"
    args = ["coverage", "--network", str(_layer(inputs, "streets", tmp_path))]
    for name in ("buildings", "facilities"):
        args += [f"--{name}", str(_layer(inputs, name, tmp_path))]
    res = CliRunner().invoke(main, [*args, "--profile", MOFCOM, "--out", str(cov)])
    assert res.exit_code in (0, 1), res.output
    assert (cov / "gap_map.html").exists() and (cov / "gap_map.png").exists()
    assert not (cov / "coverage_map.html").exists()


def _layer(gpkg: Path, name: str, tmp: Path) -> Path:
    out = tmp / f"{name}.gpkg"
    if not out.exists():
        gpd.read_file(gpkg, layer=name, engine="pyogrio").to_file(out, engine="pyogrio")
    return out


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_haidian_gap_map_shows_every_failing_category(shared_data: Path, tmp_path: Path) -> None:
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    out = tmp_path / "hd"
    args = ["coverage", "--network", str(osm), "--profile", MOFCOM, "--out", str(out)]
    res = CliRunner().invoke(main, [*args, "--format", "gpkg,csv"])
    assert res.exit_code == 1, res.output
    page = (out / "gap_map.html").read_text(encoding="utf-8")
    summary = json.loads((out / "coverage.json").read_text(encoding="utf-8"))["summary"]
    from geoplan.render._labels import category_style
    from geoplan.report.maps import headline_category

    failing = [
        info["categories"][0]
        for tid, info in summary["targets"].items()
        if len(info["categories"]) == 1 and summary["checks"][tid]["failed"]
    ]
    assert len(failing) >= 5
    head = headline_category(type("R", (), {"summary": summary, "profile": MOFCOM})())
    for cat in failing:
        if cat != head:
            name = f"未覆盖建筑: {category_style(cat).label('zh')}"
            assert json.dumps(name)[1:-1] in page or name in page
    assert json.dumps("步行路网")[1:-1] in page or "步行路网" in page
    assert len(page) < 3_000_000  # the network is simplified, the page stays small
    text = (out / "coverage.csv").read_text(encoding="utf-8-sig")
    assert ",inf" not in text and not _NOISE.search(text)
    assert "的住户步行" in res.output  # facts, not bare numbers


# --------------------------------------------------------------------------- browser


@pytest.mark.browser
def test_failing_layers_draw_in_chromium(demo_dir: Path) -> None:
    from test_browser import ARGS, CHROMIUM, COUNT_JS

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            ctx = browser.new_context(offline=True)
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((demo_dir / MOFCOM / "gap_map.html").as_uri())
            page.wait_for_timeout(500)
            counts = page.evaluate(COUNT_JS)
            assert counts["步行路网"] == 1
            uncovered = [k for k in counts if k.startswith("未覆盖建筑: ")]
            assert len(uncovered) >= 5 and all(counts[k] > 0 for k in uncovered)
            # a hidden layer switches on from the layer control
            label = page.locator(".leaflet-control-layers-overlays label", has_text=uncovered[0])
            label.locator("input").check()
            assert label.locator("input").is_checked()
            page.goto((demo_dir / TIANJIN / "gap_map.html").as_uri())
            page.wait_for_timeout(500)
            counts = page.evaluate(COUNT_JS)
            assert any(k.startswith("社区（面）达标") for k in counts)
            assert counts["建议选址"] >= 1
            assert not errors
        finally:
            browser.close()


def test_life_circle_levels_are_map_layers(district: Any) -> None:
    """GB 50180 checks levels over several categories: the map opens on the first
    level (a building is covered when it reaches every category) and each other
    failing level has its layer of not-covered buildings."""
    from geoplan.audit.coverage import audit_coverage
    from geoplan.network import network_from_lines
    from geoplan.report.maps import coverage_gap_map

    gb = "gb50180-2018"
    cov = _quiet(
        audit_coverage,
        district.buildings,
        district.facilities,
        network_from_lines(district.streets),
        profile=gb,
        communities=district.communities,
    )
    m = coverage_gap_map(coverage=cov, facilities=district.facilities, lang="zh")
    layers = _layers(m)
    level15 = "十五分钟生活圈居住区配套设施步行距离不超过1000米"
    on, feats = layers[f"建筑步行覆盖: {level15}"]
    assert on
    passed = cov.table["life_circle_15min_walk__pass"]
    has_hh = cov.table["households"].gt(0)
    assert sum(f["properties"]["s"] == "covered" for f in feats) == int((passed & has_hh).sum())
    hidden = [n for n, (shown, _) in layers.items() if not shown and n.startswith("未覆盖建筑")]
    assert any("500米" in n for n in hidden) and any("300米" in n for n in hidden), hidden
    assert f"步行可达缺口图：{level15}" in m.get_root().render()  # the title names the level

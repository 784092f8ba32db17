"""Households for real (OSM) buildings: types, residential areas, levels, height and
default levels, ``households_source``, the summaries and the CLI switches."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.cli import main
from geoplan.households import (
    SOURCES,
    describe_households,
    estimate_households,
    households_summary,
    needs_estimate,
)
from geoplan.io.osm import buildings_from_extract, read_osm
from geoplan.profiles import load_profile

PARAMS = {
    "net_to_gross": 0.75,
    "dwelling_floor_area_m2": 90.0,
    "floor_height_m": 3.0,
    "default_levels": {"residential": 6, "apartments": 6, "house": 2, "dormitory": 5, "yes": 4},
}
NON_RESIDENTIAL = (
    "school",
    "university",
    "office",
    "hospital",
    "commercial",
    "retail",
    "industrial",
    "transportation",
    "church",
    "kindergarten",
)
RESIDENTIAL = ("residential", "apartments", "house", "detached", "dormitory", "terrace")
RESIDENTIAL += ("semidetached_house", "bungalow")


def _osm_like(kinds: list[str | None], **columns: list) -> gpd.GeoDataFrame:
    """Buildings of 1000 m2 (25 x 40 m), as buildings_from_extract shapes them."""
    n = len(kinds)
    frame = {"osm_building": kinds, "use": kinds, **columns}
    geoms = [box(100.0 * i, 0.0, 100.0 * i + 25.0, 40.0) for i in range(n)]
    index = pd.Index([f"way/{i}" for i in range(n)], name="building_id")
    return gpd.GeoDataFrame(frame, geometry=geoms, index=index, crs=32650)


# --------------------------------------------------------------------------------------
# which buildings hold households


@pytest.mark.parametrize("kind", NON_RESIDENTIAL)
def test_non_residential_types_hold_no_households(kind: str) -> None:
    b = _osm_like([kind], floors=[6.0])
    out = estimate_households(b, params=load_profile("tianjin-2025"))
    assert out["households"].tolist() == [0.0]
    assert out["households_source"].tolist() == ["none"]
    assert out["building_class"].tolist() == ["non_residential"]
    assert not out["households_estimated"].any()


@pytest.mark.parametrize("kind", RESIDENTIAL)
def test_residential_types_hold_households_with_every_packaged_profile(kind: str) -> None:
    for name in ("tianjin-2025", "ningxia-2025", "mofcom-15min", "gb50180-2018"):
        profile = load_profile(name)
        out = estimate_households(_osm_like([kind]), params=profile)
        levels = profile.parameter("default_levels")[kind]
        expected = np.floor(1000.0 * levels * profile.number("net_to_gross") / 90.0)
        assert out["households"].tolist() == [expected], name
        assert out["households"].iloc[0] > 0
        assert out["households_source"].tolist() == ["default_levels"]
        assert out["building_class"].tolist() == ["residential"]


def test_unknown_type_counts_only_inside_a_residential_area() -> None:
    # way/0 and way/1: building=yes; way/2: no use at all; way/3 inside landuse=residential
    b = _osm_like(["yes", "yes", None, "yes"], in_residential_landuse=[False, False, False, True])
    compound = gpd.GeoDataFrame(geometry=[box(90, -10, 140, 50)], crs=32650)  # holds way/1
    with pytest.warns(DataQualityWarning, match=r"2 building\(s\) of unknown type.*way/0, way/2"):
        out = estimate_households(b, params=PARAMS, areas=[compound, None])
    # 1000 m2 x 4 floors (default for 'yes') x 0.75 / 90 = 33.3
    assert out["households"].tolist() == [0.0, 33.0, 0.0, 33.0]
    assert out["building_class"].tolist() == [
        "unknown_outside",
        "unknown_in_area",
        "unknown_outside",
        "unknown_in_area",
    ]
    assert out["households_source"].tolist() == ["none", "default_levels", "none", "default_levels"]
    s = households_summary(out)
    assert s["buildings_unknown_outside"] == 2
    assert "2 栋类型不明的建筑" in describe_households({"households": 66.0, **s})


def test_areas_in_another_crs_and_community_polygons() -> None:
    b = _osm_like(["yes"])
    community = gpd.GeoDataFrame(geometry=[box(-5, -5, 30, 45)], crs=32650).to_crs(4326)
    out = estimate_households(b, params=PARAMS, areas=community)
    assert out["households"].tolist() == [33.0]


def test_residential_name_words_rescue_unknown_types_outside_areas() -> None:
    b = _osm_like(["yes", "yes"], name=["学生公寓二号楼", "教学楼"])
    params = dict(PARAMS, residential_name_words=["公寓"])
    with pytest.warns(DataQualityWarning, match=r"1 building\(s\) of unknown type.*way/1"):
        out = estimate_households(b, params=params)
    assert out["households"].tolist() == [50.0, 0.0]  # the 'residential' default, 6 floors
    assert out["building_class"].tolist() == ["residential", "unknown_outside"]


# --------------------------------------------------------------------------------------
# levels: tag, else height, else default levels


def test_levels_then_height_then_default_levels_and_sources() -> None:
    b = _osm_like(
        ["residential", "residential", "house", "residential", "school", "residential"],
        floors=[3.0, np.nan, np.nan, np.nan, np.nan, np.nan],
        height_m=[99.0, 12.0, np.nan, np.nan, np.nan, np.nan],
        households=[np.nan, np.nan, np.nan, np.nan, np.nan, 7.0],
    )
    out = estimate_households(b, params=PARAMS)
    # 1000 x 3 x 0.75 / 90 = 25; height 12 m / 3 m = 4 floors -> 33; house: 2 floors -> 16;
    # residential default 6 floors -> 50; school 0; a given 7 is kept
    assert out["households"].tolist() == [25.0, 33.0, 16.0, 50.0, 0.0, 7.0]
    assert out["households_source"].tolist() == [
        "levels",
        "height",
        "default_levels",
        "default_levels",
        "none",
        "given",
    ]
    assert set(out["households_source"]) <= set(SOURCES)
    assert out["households_estimated"].tolist() == [True, True, True, True, False, False]
    s = households_summary(out)
    assert s["households_by_source"] == {
        "given": 7.0,
        "levels": 25.0,
        "height": 33.0,
        "default_levels": 66.0,
        "none": 0.0,
    }
    assert s["buildings_by_source"]["default_levels"] == 2
    assert s["households_estimated_share"] == pytest.approx(124.0 / 131.0, abs=1e-6)
    # re-running changes nothing, and needs_estimate says so
    assert not needs_estimate(out)
    again = estimate_households(out, params=PARAMS)
    pd.testing.assert_frame_equal(again.drop(columns="geometry"), out.drop(columns="geometry"))


def test_osm_height_tag_feeds_the_height_fallback(tmp_path: Path) -> None:
    osm = _write_osm(tmp_path / "高度.osm", heights={"1": "12 m", "2": "40 ft"})
    b = buildings_from_extract(read_osm(osm))
    assert b.loc["way/101", "height_m"] == 12.0
    assert b.loc["way/102", "height_m"] == pytest.approx(12.192)
    with pytest.warns(DataQualityWarning, match="way/103"):  # building=yes, no compound
        out = estimate_households(b, params=PARAMS)
    assert out.loc["way/101", "households_source"] == "height"
    assert out.loc["way/102", "households_source"] == "height"


def test_default_levels_override_and_no_estimation() -> None:
    b = _osm_like(["house", "residential", "yes", "office"], in_residential_landuse=[0, 0, 1, 0])
    out = estimate_households(b, params=PARAMS, default_levels=3)
    assert out["households"].tolist() == [25.0, 25.0, 25.0, 0.0]  # 3 floors for every type
    off = estimate_households(b, params=PARAMS, estimate=False)
    assert off["households"].isna().tolist() == [True, True, True, False]
    assert off["households"].iloc[3] == 0.0  # not residential: 0 even without estimates
    assert off["households_source"].tolist() == ["none"] * 4
    assert not off["households_estimated"].any()
    assert households_summary(off)["households_estimated_share"] is None
    assert not needs_estimate(off)  # the library entry points leave it as it is
    with pytest.raises(ValueError, match="default_levels must be a positive number"):
        estimate_households(b, params=PARAMS, default_levels=0)


def test_without_a_default_levels_table_levels_stay_unknown() -> None:
    b = _osm_like(["residential"])
    params = {k: v for k, v in PARAMS.items() if k != "default_levels"}
    with pytest.warns(DataQualityWarning, match="without floors or height and no default_levels"):
        out = estimate_households(b, params=params)
    assert np.isnan(out["households"].iloc[0])
    assert out["households_source"].iloc[0] == "none"


# --------------------------------------------------------------------------------------
# the profile parameter


def test_default_levels_is_a_table_parameter_that_round_trips(tmp_path: Path) -> None:
    profile = load_profile("tianjin-2025")
    par = profile.parameters["default_levels"]
    assert par.source == "geoplan-defaults" and par.confirmed is False and par.note
    assert par.value["house"] == 2.0 and par.value["residential"] == 6.0
    text = profile.to_toml()
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    assert load_profile(path).parameters == profile.parameters
    derived = profile.derive("mine", parameters={"default_levels": {"residential": 9}})
    assert derived.parameter("default_levels") == {"residential": 9.0}
    bad = text.replace("residential = 6.0,", "residential = 0,", 1)
    assert bad != text
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError, match=r"row default_levels: column value: .*positive number"):
        load_profile(path)


# --------------------------------------------------------------------------------------
# library entry point and CLI on a small OSM file


def _write_osm(path: Path, *, heights: dict[str, str] | None = None) -> Path:
    """A street, a wet market and buildings: 101 residential, 102 yes in a compound,
    103 yes outside, 104 school (lon/lat near Haidian)."""
    heights = heights or {}
    lat0, lon0 = 39.990, 116.300
    nodes: list[str] = []
    ways: list[str] = []
    nid = 1000

    def node(lat: float, lon: float, tags: str = "") -> int:
        nonlocal nid
        nid += 1
        nodes.append(f'<node id="{nid}" lat="{lat:.6f}" lon="{lon:.6f}">{tags}</node>')
        return nid

    street = [node(lat0, lon0 + 0.001 * i) for i in range(8)]
    ways.append(
        '<way id="1">' + "".join(f'<nd ref="{n}"/>' for n in street) + '<tag k="highway" '
        'v="footway"/></way>'
    )
    node(lat0 + 0.0002, lon0 + 0.0065, '<tag k="amenity" v="marketplace"/><tag k="name" v="菜场"/>')

    def ring(wid: int, lon: float, tags: dict[str, str], size: float = 0.0003) -> None:
        la, lo = lat0 + 0.0003, lon
        pts = [(la, lo), (la, lo + size), (la + size, lo + size), (la + size, lo)]
        ids = [node(a, o) for a, o in pts]
        refs = "".join(f'<nd ref="{n}"/>' for n in [*ids, ids[0]])
        tagx = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        ways.append(f'<way id="{wid}">{refs}{tagx}</way>')

    for i, kind in enumerate(["residential", "yes", "yes", "school"], start=1):
        tags = {"building": kind}
        if str(i) in heights:
            tags["height"] = heights[str(i)]
        ring(100 + i, lon0 + 0.0015 * i, tags)
    # the compound around building 102
    lat_c = lat0 + 0.0001
    lon_c = lon0 + 0.0015 * 2 - 0.0002
    ids = [
        node(lat_c, lon_c),
        node(lat_c, lon_c + 0.0008),
        node(lat_c + 0.0008, lon_c + 0.0008),
        node(lat_c + 0.0008, lon_c),
    ]
    refs = "".join(f'<nd ref="{n}"/>' for n in [*ids, ids[0]])
    ways.append(f'<way id="200">{refs}<tag k="landuse" v="residential"/></way>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">'
        + "".join(nodes)
        + "".join(ways)
        + "</osm>",
        encoding="utf-8",
    )
    return path


def test_osm_buildings_know_their_landuse_and_coverage_estimates_them(tmp_path: Path) -> None:
    from geoplan.audit.coverage import audit_coverage
    from geoplan.network import network_from_osm

    osm = _write_osm(tmp_path / "小区.osm")
    ext = read_osm(osm)
    b = buildings_from_extract(ext)
    assert b["in_residential_landuse"].to_dict() == {
        "way/101": False,
        "way/102": True,
        "way/103": False,
        "way/104": False,
    }
    from geoplan.io.osm import facilities_from_extract

    fac = facilities_from_extract(ext)[["name", "category", "geometry"]]
    net = network_from_osm(osm, to_crs=ext.crs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        result = audit_coverage(b, fac, net, profile="tianjin-2025")
    assert any("1 building(s) of unknown type" in str(w.message) for w in caught)
    table = result.table
    assert table.loc["way/101", "households_source"] == "default_levels"
    assert table.loc["way/102", "households_source"] == "default_levels"
    assert table.loc["way/103", "households"] == 0.0
    assert table.loc["way/104", "building_class"] == "non_residential"
    s = result.summary
    assert s["households_estimated_share"] == 1.0
    assert s["buildings_unknown_outside"] == 1
    assert s["households"] == pytest.approx(s["households_by_source"]["default_levels"])


def _coverage_json(osm: Path, *extra: str) -> dict:
    res = CliRunner().invoke(
        main, ["coverage", "--network", str(osm), "--profile", "tianjin-2025", "--json", *extra]
    )
    assert res.exit_code in (0, 1), res.output
    return json.loads(res.stdout)


def test_cli_switches_estimation_off_and_sets_default_levels(tmp_path: Path) -> None:
    osm = _write_osm(tmp_path / "街道.osm")
    base = _coverage_json(osm)["summary"]
    assert base["households_estimated_share"] == 1.0
    assert base["buildings_by_source"]["default_levels"] == 2
    more = _coverage_json(osm, "--default-levels", "12")["summary"]
    assert more["households"] == pytest.approx(2 * base["households"], abs=2)  # 12 vs 6 floors
    off = _coverage_json(osm, "--no-estimate-households")
    assert off["summary"]["households_estimated_share"] is None
    assert off["summary"]["buildings_by_source"]["default_levels"] == 0
    assert off["summary"]["weighted_by"] == "buildings"  # nothing given, nothing estimated
    bad = CliRunner().invoke(
        main,
        ["coverage", "--network", str(osm), "--profile", "tianjin-2025", "--default-levels", "0"],
    )
    assert bad.exit_code == 2 and "--default-levels" in bad.output
    text = CliRunner().invoke(
        main, ["coverage", "--network", str(osm), "--profile", "tianjin-2025", "--no-map"]
    )
    assert text.exit_code in (0, 1), text.output
    assert "户，其中 100% 为估算（按默认层数 100%）" in text.stdout
    assert "1 栋类型不明的建筑不在居住用地、小区或社区内" in text.stdout


@pytest.mark.parametrize("command", ["coverage", "site", "grids", "demo"])
def test_every_estimating_command_has_the_switches(command: str) -> None:
    res = CliRunner().invoke(main, [*command.split(), "--help"])
    assert res.exit_code == 0
    assert "--no-estimate-households" in res.output
    assert "--default-levels" in res.output


# --------------------------------------------------------------------------------------
# Haidian: every building tagged residential, house, apartments or dormitory


@pytest.mark.shared_data
def test_haidian_residential_buildings_all_carry_households(shared_data: Path) -> None:
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    ext = read_osm(osm)
    b = buildings_from_extract(ext)
    assert len(b) == 255
    profile = load_profile("tianjin-2025")
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always", DataQualityWarning)
        out = estimate_households(b, params=profile, areas=ext.compounds)
    tagged = out[out["osm_building"].isin(["residential", "house", "apartments", "dormitory"])]
    assert len(tagged) == 58
    assert (tagged["households"] > 0).all(), tagged.index[~(tagged["households"] > 0)].tolist()
    assert tagged["households_source"].isin(["levels", "default_levels"]).all()
    # non-residential types hold none; building=yes only inside compounds (or named 公寓)
    other = out[out["building_class"] == "non_residential"]
    assert (other["households"] == 0).all()
    assert {"school", "university", "hospital", "office"} <= set(other["osm_building"])
    outside = out["building_class"] == "unknown_outside"
    assert (out.loc[outside, "households"] == 0).all()
    assert out.loc["way/154827373", "households"] == 465.0  # 学生公寓二号楼, 14 levels

    # the CLI states the estimated share as a planner reads it
    res = CliRunner().invoke(
        main, ["coverage", "--network", str(osm), "--profile", "tianjin-2025", "--json"]
    )
    assert res.exit_code in (0, 1), res.output
    s = json.loads(res.stdout)["summary"]
    assert s["households"] == pytest.approx(out["households"].sum())
    assert s["households"] > 7 * 670  # was 670 before estimates by type
    assert 0.9 < s["households_estimated_share"] <= 1.0
    assert s["buildings_unknown_outside"] == int(outside.sum()) > 0
    text = CliRunner().invoke(
        main, ["coverage", "--network", str(osm), "--profile", "tianjin-2025", "--no-map"]
    )
    assert "户，其中 100% 为估算（按层数 12%，按默认层数 88%）" in text.stdout

"""Inputs that do not line up are bad input (exit 2), never an audit result."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from osm_layers import osm_layers
from shapely.geometry import LineString, Point

from geoplan.alignment import (
    ChineseCrsSuspected,
    LayersApart,
    OffNetwork,
    check_alignment,
)
from geoplan.cli import main
from geoplan.network import network_from_lines

HAIDIAN = ("osm", "beijing_haidian_cau.osm.bz2")


def _digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _refused(res: Result, *names: str) -> str:
    """Exit 2 with a message naming ``names``, and no traceback."""
    out = res.output
    assert res.exit_code == 2, out
    assert isinstance(res.exception, SystemExit)
    assert "Traceback" not in out
    for name in names:
        assert name in out, (name, out)
    return out


@pytest.fixture(scope="module")
def haidian(shared_data: Path) -> dict[str, object]:
    """The Haidian OSM network, and its buildings and facilities in the network's CRS."""
    osm = shared_data.joinpath(*HAIDIAN)
    net, _, bld, fac = osm_layers(osm)
    return {"osm": osm, "net": net, "buildings": bld, "facilities": fac}


def _facilities_csv(fac: gpd.GeoDataFrame, path: Path, *, system: str) -> Path:
    """The OSM POIs as a lon/lat CSV, in WGS84 or converted to GCJ-02 / BD-09."""
    from geoplan.crs import wgs84_to_bd09, wgs84_to_gcj02

    pts = fac.geometry.representative_point().to_crs(4326)
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    if system == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    elif system == "bd09":
        lon, lat = wgs84_to_bd09(lon, lat)
    table = pd.DataFrame(
        {
            "facility_id": fac.index.astype(str),
            "name": fac["name"].to_numpy(),
            "category": fac["category"].to_numpy(),
            "lon": lon,
            "lat": lat,
        }
    )
    table.to_csv(path, index=False)
    return path


# --------------------------------------------------------------------------- library


@pytest.mark.shared_data
def test_real_osm_layers_line_up(haidian: dict) -> None:
    rep = check_alignment(
        haidian["net"],
        profile="mofcom-15min",
        buildings=haidian["buildings"],
        facilities=haidian["facilities"],
    )
    b, f = rep.layer("buildings"), rep.layer("facilities")
    assert b.snapped_share == 1.0 and f.snapped_share == 1.0
    assert b.median_snap_m is not None and b.median_snap_m < 50
    # WGS84 data read as GCJ-02 moves away from the streets
    assert b.rms_ratio["gcj02"] > 2 and f.rms_ratio["gcj02"] > 2


@pytest.mark.shared_data
@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_chinese_offsets_named_library(haidian: dict, tmp_path: Path, system: str) -> None:
    from geoplan.io.readers import read_facilities

    net = haidian["net"]
    path = _facilities_csv(haidian["facilities"], tmp_path / f"poi_{system}.csv", system=system)
    fac = read_facilities(path, metric_crs=net.crs)
    with pytest.raises(ChineseCrsSuspected) as err:
        check_alignment(net, profile="mofcom-15min", facilities=fac)
    assert err.value.system == system
    assert f"--crs {system}" in str(err.value) and path.name in str(err.value)
    # the same file read with the right --crs lines up
    fixed = read_facilities(path, source_crs=system, metric_crs=net.crs)
    assert check_alignment(net, profile="mofcom-15min", facilities=fixed).layer("facilities")
    # a stated CRS is not second-guessed; the snapping rule still holds
    fac.attrs["crs_stated"] = "wgs84"
    if system == "gcj02":  # about 550 m off: most POIs still have a street within 300 m
        check_alignment(net, profile="mofcom-15min", facilities=fac)
    else:  # BD-09 is farther off
        with pytest.raises(OffNetwork, match="median distance to the nearest street"):
            check_alignment(net, profile="mofcom-15min", facilities=fac)


@pytest.mark.shared_data
def test_amap_district_boundary_is_gcj02(haidian: dict, shared_data: Path) -> None:
    """The AMap boundaries call themselves WGS84 but are GCJ-02."""
    from geoplan.crs import convert_geometries

    net = haidian["net"]
    path = shared_data / "boundaries" / "110108.geojson"
    raw = gpd.read_file(path)
    comm = raw.to_crs(net.crs)
    comm.attrs["source_file"] = str(path)
    with pytest.raises(ChineseCrsSuspected, match=r"110108\.geojson: communities look like GCJ-02"):
        check_alignment(net, profile="tianjin-2025", communities=comm)
    fixed = convert_geometries(raw, source="gcj02", target="wgs84").to_crs(net.crs)
    entry = check_alignment(net, profile="tianjin-2025", communities=fixed).layer("communities")
    assert entry.rms_ratio["gcj02"] > 1  # converting again would move it off


def test_layers_apart_and_off_network() -> None:
    net = network_from_lines(
        gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=32650)
    )
    far = gpd.GeoDataFrame(geometry=[Point(100, 1_000_000)], crs=32650)
    far.attrs["source_file"] = "远方.gpkg"
    with pytest.raises(LayersApart, match=r"远方.gpkg: buildings .* 1,000.0 km apart"):
        check_alignment(net, profile="mofcom-15min", buildings=far, network_file="街道.gpkg")
    # inside the extent's reach, but most points farther than max_snap_m (300 m)
    pts = [Point(x, 200 + 40 * i) for i, x in enumerate(range(0, 1000, 50))]
    off = gpd.GeoDataFrame(geometry=pts, crs=32650)
    off.attrs["source_file"] = "楼.csv"
    with pytest.raises(OffNetwork) as err:
        check_alignment(net, profile="mofcom-15min", buildings=off)
    text = str(err.value)
    assert "楼.csv: buildings" in text and "median distance to the nearest street" in text
    assert "max_snap_m = 300 m" in text
    assert "建筑" in err.value.localized("zh") and "中位数" in err.value.localized("zh")


def test_city_wide_facilities_are_fine() -> None:
    """Facilities far outside the network are irrelevant, not misaligned."""
    net = network_from_lines(
        gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=32650)
    )
    pts = [Point(500, 10)] + [Point(5000 + 100 * i, 3000) for i in range(30)]
    fac = gpd.GeoDataFrame({"category": ["wet_market"] * len(pts)}, geometry=pts, crs=32650)
    rep = check_alignment(net, profile="mofcom-15min", facilities=fac)
    assert rep.layer("facilities").n_points == 1


# --------------------------------------------------------------------------- CLI


@pytest.mark.shared_data
def test_cli_gcj02_facilities_named(haidian: dict, tmp_path: Path) -> None:
    """Done-when: a GCJ-02 POI CSV over the Haidian OSM network without --crs."""
    path = _facilities_csv(haidian["facilities"], tmp_path / "高德POI.csv", system="gcj02")
    before = _digest([path])
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["coverage", "--network", str(haidian["osm"]), "--facilities", str(path)]
    res = runner.invoke(main, [*args, "--profile", "mofcom-15min", "--out", str(out)])
    text = _refused(res, "高德POI.csv", "GCJ-02", "--crs gcj02")
    assert "错误" in text
    assert not out.exists()  # no partial output
    assert _digest([path]) == before
    res = runner.invoke(main, [*args, "--lang", "en", "--json", "--no-map", "--crs", "gcj02"])
    assert res.exit_code == 1, res.output  # a real verdict once --crs is given
    summary = json.loads(res.stdout)["summary"]
    assert summary["buildings"] > 200
    assert 0 < summary["targets"]["walk_convenience_store"]["households_share"] < 1


@pytest.mark.shared_data
def test_cli_gcj02_communities_named(haidian: dict, shared_data: Path, tmp_path: Path) -> None:
    raw = gpd.read_file(shared_data / "boundaries" / "110108.geojson")
    raw["社区编码"], raw["社区名称"], raw["社区类型"], raw["户数"] = "110108", "海淀区", "城市", 1
    path = tmp_path / "海淀区.geojson"
    raw.to_file(path)
    res = CliRunner().invoke(
        main,
        ["coverage", "--network", str(haidian["osm"]), "--communities", str(path), "--lang", "en"],
    )
    _refused(res, "海淀区.geojson", "communities look like GCJ-02", "--crs gcj02")


@pytest.mark.shared_data
def test_cli_buildings_1000_km_away(haidian: dict, shared_data: Path, tmp_path: Path) -> None:
    """Suzhou footprints over the Beijing network: bad input, not a failed audit."""
    bld = shared_data / "buildings" / "suzhou_gusu_buildings.geojson"
    fac = _facilities_csv(haidian["facilities"], tmp_path / "poi.csv", system="wgs84")
    before = _digest([bld, fac])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "coverage",
            "--network",
            str(haidian["osm"]),
            "--buildings",
            str(bld),
            "--row-ids",
            "--facilities",
            str(fac),
            "--lang",
            "en",
            "--out",
            str(out),
        ],
    )
    text = _refused(res, "suzhou_gusu_buildings.geojson", "do not overlap", "km apart")
    assert "beijing_haidian_cau.osm.bz2" in text
    assert not out.exists()
    assert _digest([bld, fac]) == before


@pytest.mark.shared_data
def test_cli_site_refuses_misaligned(haidian: dict, tmp_path: Path) -> None:
    fac = _facilities_csv(haidian["facilities"], tmp_path / "poi.csv", system="bd09")
    bld = tmp_path / "buildings.gpkg"
    haidian["buildings"].to_crs(4326).to_file(bld, engine="pyogrio")
    res = CliRunner().invoke(
        main,
        [
            "site",
            "--network",
            str(haidian["osm"]),
            "--buildings",
            str(bld),
            "--facilities",
            str(fac),
            "--category",
            "wet_market",
            "--profile",
            "tianjin-2025",
            "--lang",
            "en",
        ],
    )
    _refused(res, "poi.csv", "BD-09", "--crs bd09")


@pytest.mark.shared_data
def test_zero_coverage_says_why(haidian: dict) -> None:
    """A 0.0% share always carries its cause (in the summary and on screen)."""
    res = CliRunner().invoke(
        main,
        ["coverage", "--network", str(haidian["osm"]), "--lang", "en", "--json", "--no-map"],
    )
    assert res.exit_code == 1, res.output
    targets = json.loads(res.stdout)["summary"]["targets"]
    zero = {k: v for k, v in targets.items() if v["households_share"] == 0.0}
    assert zero, "the campus extract has 0% targets (no wet market within 8 min)"
    for info in zero.values():
        assert info["zero_cause"]["code"] in {
            "no_facility",
            "facilities_off_network",
            "buildings_off_network",
            "beyond_limit",
        }
        assert info["zero_cause"]["en"] and info["zero_cause"]["zh"]
    res = CliRunner().invoke(
        main, ["coverage", "--network", str(haidian["osm"]), "--lang", "en", "--no-map"]
    )
    zero_lines = [ln for ln in res.stdout.splitlines() if ": 0.0% (" in ln]
    assert len(zero_lines) == len(zero)
    for line in zero_lines:  # the cause follows the share and its limit
        assert " m): " in line, line

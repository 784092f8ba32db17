"""``geoplan access``: exit codes, bad input named, outputs written (demo district, Haidian)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geoplan.cli._main import main

HAIDIAN = ("osm", "beijing_haidian_cau.osm.bz2")


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from geoplan.sample import make_sample_district

    folder = tmp_path_factory.mktemp("demo")
    make_sample_district(seed=0).to_files(folder, fmt="geojson")
    return {
        k: folder / f"{k}.geojson" for k in ("buildings", "facilities", "communities", "streets")
    }


def _run(args: list[str]) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(main, ["access", *args])


def _demo_args(files: dict[str, Path], out: Path, *extra: str) -> list[str]:
    return [
        "--network",
        str(files["streets"]),
        "--buildings",
        str(files["buildings"]),
        "--facilities",
        str(files["facilities"]),
        "--communities",
        str(files["communities"]),
        "--out",
        str(out),
        *extra,
    ]


def test_failing_target_exit_1_and_outputs(demo_files: dict[str, Path], tmp_path: Path) -> None:
    # city-health-check: wet-market floor area >= 50 m2 per 1,000 residents within 10 min
    res = _run(
        _demo_args(
            demo_files,
            tmp_path,
            "--category",
            "wet_market",
            "--within-min",
            "10",
            "--population",
            "residents",
            "--profile",
            "city-health-check",
            "--format",
            "csv",
            "--format",
            "parquet",
            "--format",
            "gpkg",
            "--map",
            "--lang",
            "en",
        )
    )
    assert res.exit_code == 1, res.output
    for name in (
        "access.json",
        "access_findings.csv",
        "access_communities.csv",
        "access.csv",
        "access.parquet",
        "access.gpkg",
        "access_map.html",
        "access_map.png",
    ):
        assert (tmp_path / name).is_file(), name
    data = json.loads((tmp_path / "access.json").read_text(encoding="utf-8"))
    assert data["audit"] == "access" and data["passed"] is False
    checks = data["summary"]["checks"]["wet_market_floor_area_per_1000"]
    assert checks["failed"] > 0 and checks["passed"] > 0
    comm = pd.read_csv(tmp_path / "access_communities.csv", encoding="utf-8-sig")
    col = "supply_per_1000_residents__wet_market"
    assert {"community_id", f"{col}__mean", f"{col}__min", "households"} <= set(comm.columns)
    table = pd.read_csv(tmp_path / "access.csv", encoding="utf-8-sig")
    assert table.columns[0] == "building_id" and col in table.columns
    # the per-community findings are the community table's means
    f = pd.read_csv(tmp_path / "access_findings.csv", encoding="utf-8-sig")
    merged = f.merge(comm, left_on="entity_id", right_on="community_id")
    np.testing.assert_allclose(merged["value"], merged[f"{col}__mean"], rtol=1e-9)
    assert "wet_market_floor_area_per_1000" in res.output
    # the map outlines the communities, coloured by their verdict, and its legend gives
    # the target with its unit and each class's range
    html = (tmp_path / "access_map.html").read_text(encoding="utf-8")
    assert "community below target" in html and "community meets target" in html
    assert "target ≥ 50 m²/1,000 residents" in html
    assert "at or above the mark (≥ 50)" in html and "none within reach (0)" in html
    for text in f.loc[f["passed"].astype(str).eq("False"), "text_en"].head(3):
        assert text.split(",")[0] in html  # each community's fact sentence, in its tooltip


def test_passing_target_exit_0(demo_files: dict[str, Path], tmp_path: Path) -> None:
    from geoplan.profiles import load_profile

    prof = load_profile("city-health-check").derive(
        "lenient", thresholds={"wet_market_floor_area_per_1000": 0.0}
    )
    path = tmp_path / "lenient.toml"
    path.write_text(prof.to_toml(), encoding="utf-8")
    res = _run(
        _demo_args(
            demo_files,
            tmp_path / "out",
            "--category",
            "wet_market",
            "--within-min",
            "10",
            "--population",
            "residents",
            "--profile",
            str(path),
            "--json",
        )
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload["passed"] is True
    assert payload["summary"]["targets"]["wet_market_floor_area_per_1000"]["passed"] is True


def test_no_target_exit_0_figures(demo_files: dict[str, Path], tmp_path: Path) -> None:
    res = _run(
        _demo_args(
            demo_files,
            tmp_path,
            "--category",
            "community_service_centre",
            "--within-m",
            "1000",
            "--decay",
            "gaussian",
            "--lang",
            "zh",
        )
    )
    assert res.exit_code == 0, res.output
    assert "每百户" in res.output and "只报告数值" in res.output
    s = json.loads((tmp_path / "access.json").read_text(encoding="utf-8"))["summary"]
    assert s["decay"] == "gaussian"
    assert s["supply_conserved"]["sum_p_a"] == pytest.approx(s["supply_conserved"]["served_supply"])


def test_missing_supply_column_exit_2_names_file_and_column(
    demo_files: dict[str, Path], tmp_path: Path
) -> None:
    res = _run(
        _demo_args(
            demo_files,
            tmp_path,
            "--category",
            "wet_market",
            "--within-m",
            "800",
            "--supply-column",
            "places",
            "--lang",
            "en",
        )
    )
    assert res.exit_code == 2, res.output
    assert "facilities.geojson" in res.output and "places" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "access.json").exists()


def test_missing_supply_value_exit_2_names_row(demo_files: dict[str, Path], tmp_path: Path) -> None:
    fac = gpd.read_file(demo_files["facilities"])
    row = fac.index[fac["category"] == "wet_market"][1]
    fid = str(fac.loc[row, "facility_id"])
    fac.loc[row, "floor_area_m2"] = np.nan
    path = tmp_path / "设施.geojson"
    fac.to_file(path, driver="GeoJSON")
    files = dict(demo_files, facilities=path)
    res = _run(_demo_args(files, tmp_path / "o", "--category", "wet_market", "--within-m", "800"))
    assert res.exit_code == 2, res.output
    assert "设施.geojson" in res.output and fid in res.output and "floor_area_m2" in res.output
    ok = _run(
        _demo_args(
            files,
            tmp_path / "o2",
            "--category",
            "wet_market",
            "--within-m",
            "800",
            "--missing-supply",
            "exclude",
        )
    )
    assert ok.exit_code == 0, ok.output
    assert fid in ok.output  # the warning names the facility left out


def test_unknown_category_exit_2(demo_files: dict[str, Path], tmp_path: Path) -> None:
    res = _run(_demo_args(demo_files, tmp_path, "--category", "wetmarket", "--within-m", "800"))
    assert res.exit_code == 2, res.output
    assert "wetmarket" in res.output and "wet_market" in res.output


def test_two_limits_exit_2(demo_files: dict[str, Path], tmp_path: Path) -> None:
    res = _run(
        _demo_args(
            demo_files,
            tmp_path,
            "--category",
            "wet_market",
            "--within-m",
            "800",
            "--within-min",
            "10",
            "--lang",
            "en",
        )
    )
    assert res.exit_code == 2, res.output
    assert "one walking limit" in res.output


def test_osm_network_alone(shared_data: Path, tmp_path: Path) -> None:
    osm = shared_data.joinpath(*HAIDIAN)
    # OSM POIs carry no floor area: the supply column is bad input, named
    res = _run(
        [
            "--network",
            str(osm),
            "--category",
            "convenience_store",
            "--within-m",
            "500",
            "--out",
            str(tmp_path / "a"),
            "--lang",
            "en",
        ]
    )
    assert res.exit_code == 2, res.output
    assert "floor_area_m2" in res.output and "beijing_haidian_cau" in res.output
    # the facilities given as a file, buildings and gates from the OSM file
    from geoplan.io.osm import facilities_from_extract, read_osm
    from geoplan.network import network_from_osm

    net = network_from_osm(osm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fac = facilities_from_extract(read_osm(osm, to_crs=net.crs)).reset_index()
    fac = fac[["facility_id", "name", "category", "geometry"]].copy()
    fac["floor_area_m2"] = 100.0
    path = tmp_path / "poi.gpkg"
    fac.to_crs(4326).to_file(path)
    res = _run(
        [
            "--network",
            str(osm),
            "--facilities",
            str(path),
            "--category",
            "convenience_store",
            "--within-m",
            "500",
            "--out",
            str(tmp_path / "b"),
            "--json",
        ]
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    s = payload["summary"]
    assert s["facilities"] == int((fac["category"] == "convenience_store").sum())
    assert s["households_estimated_share"] == pytest.approx(1.0)  # OSM: every count estimated
    assert s["supply_conserved"]["sum_p_a"] == pytest.approx(s["supply_served"])
    assert (tmp_path / "b" / "access.gpkg").is_file()


def test_osm_alone_parks_by_catchment(shared_data: Path, tmp_path: Path) -> None:
    """An OSM file alone: parks and their polygon area from it, limits from the
    profile's size-dependent catchment (no --within-m)."""
    osm = shared_data.joinpath(*HAIDIAN)
    res = _run(
        [
            "--network", str(osm), "--category", "park", "--supply-column", "area_m2",
            "--population", "residents", "--profile", "city-health-check",
            "--out", str(tmp_path), "--format", "csv", "--json",
        ]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    s = json.loads(res.output)["summary"]
    assert s["limit"] == "catchment:park_service_radius"
    assert s["within_m"] == 500.0
    assert s["facilities"] >= 5
    table = pd.read_csv(tmp_path / "access.csv", encoding="utf-8-sig")
    assert (table["supply_per_1000_residents__park"] > 0).any()

"""The CLI: exit codes 0/1/2, JSON output, atomic outputs, inputs never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from geoplan.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _write_pair(folder: Path, *, area: float) -> tuple[Path, Path]:
    comm = gpd.GeoDataFrame(
        {"社区编码": ["C1"], "社区名称": ["和平社区"], "社区类型": ["城市"], "户数": [2000]},
        geometry=[box(117.20, 39.12, 117.21, 39.13)],
        crs=4326,
    )
    fac = pd.DataFrame(
        {
            "设施编号": ["F1"],
            "设施名称": ["党群服务中心"],
            "类别": ["community_service_centre"],
            "建筑面积": [area],
            "活动面积": [area * 0.7],
            "经度": [117.205],
            "纬度": [39.125],
        }
    )
    cpath, fpath = folder / "社区.gpkg", folder / "设施.csv"
    comm.to_file(cpath, layer="communities", driver="GPKG", engine="pyogrio")
    fac.to_csv(fpath, index=False, encoding="utf-8")
    return cpath, fpath


def test_profiles_list_and_show(runner: CliRunner) -> None:
    res = runner.invoke(main, ["profiles", "list", "--json"])
    assert res.exit_code == 0, res.output
    names = {p["name"] for p in json.loads(res.output)}
    assert {"tianjin-2025", "ningxia-2025", "gb50180-2018", "mofcom-15min"} <= names
    res = runner.invoke(main, ["profiles", "show", "tianjin-2025"])
    assert res.exit_code == 0
    assert "service_area_per_100_households" in res.output
    res = runner.invoke(main, ["profiles", "show", "tianjin-2025", "--toml"])
    assert res.exit_code == 0 and "[[targets]]" in res.output


def test_unknown_profile_is_exit_2_listing_valid_names(runner: CliRunner) -> None:
    res = runner.invoke(main, ["profiles", "show", "beijing-2099"])
    assert res.exit_code == 2
    assert "tianjin-2025" in res.output


def test_usage_error_is_exit_2(runner: CliRunner) -> None:
    res = runner.invoke(main, ["audit", "floor-area"])
    assert res.exit_code == 2


def test_floor_area_fail_exit_1_and_outputs(runner: CliRunner, tmp_path: Path) -> None:
    cpath, fpath = _write_pair(tmp_path, area=480.0)
    out = tmp_path / "结果"
    res = runner.invoke(
        main,
        [
            "audit",
            "floor-area",
            "--communities",
            str(cpath),
            "--facilities",
            str(fpath),
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert data["passed"] is False
    row = next(f for f in data["findings"] if f["check_id"] == "service_area_per_100_households")
    assert row["shortfall_m2"] == 120.0 and row["value"] == 24.0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "floor_area.csv",
        "floor_area.gpkg",
        "floor_area.json",
        "floor_area_findings.csv",
    ]
    assert json.loads((out / "floor_area.json").read_text(encoding="utf-8")) == data


def test_floor_area_pass_exit_0(runner: CliRunner, tmp_path: Path) -> None:
    cpath, fpath = _write_pair(tmp_path, area=700.0)
    res = runner.invoke(
        main,
        [
            "audit",
            "floor-area",
            "--communities",
            str(cpath),
            "--facilities",
            str(fpath),
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "PASS" in res.output


def test_bad_input_exit_2_names_file_row_column(runner: CliRunner, tmp_path: Path) -> None:
    cpath, fpath = _write_pair(tmp_path, area=480.0)
    df = pd.read_csv(fpath, dtype=str)
    df.loc[0, "建筑面积"] = "很大"
    df.to_csv(fpath, index=False)
    res = runner.invoke(
        main, ["audit", "floor-area", "--communities", str(cpath), "--facilities", str(fpath)]
    )
    assert res.exit_code == 2
    assert "设施.csv" in res.output and "row F1" in res.output and "建筑面积" in res.output


def test_input_never_overwritten(runner: CliRunner, tmp_path: Path) -> None:
    cpath, _ = _write_pair(tmp_path, area=480.0)
    # a facilities file that happens to carry the name of an output in --out
    fpath = tmp_path / "floor_area.csv"
    pd.DataFrame(
        {
            "id": ["F1"],
            "category": ["community_service_centre"],
            "floor_area_m2": [480],
            "lon": [117.205],
            "lat": [39.125],
        }
    ).to_csv(fpath, index=False)
    before = fpath.read_bytes()
    res = runner.invoke(
        main,
        [
            "audit",
            "floor-area",
            "--communities",
            str(cpath),
            "--facilities",
            str(fpath),
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 2, res.output
    assert "refusing to overwrite" in res.output
    assert fpath.read_bytes() == before


def test_organisations_from_plain_csv(runner: CliRunner, tmp_path: Path) -> None:
    p = tmp_path / "台账.csv"
    pd.DataFrame(
        {
            "社区编码": ["C1", "C2"],
            "社区名称": ["甲社区", "乙社区"],
            "社区类型": ["城市", "城市"],
            "户数": [2000, 600],
            "常住人口": [5000, 1500],
            "社区工作者": [9, 1],
        }
    ).to_csv(p, index=False, encoding="utf-8-sig")
    res = runner.invoke(
        main,
        ["audit", "organisations", "--communities", str(p), "--profile", "tianjin-2025", "--json"],
    )
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    vals = {
        f["entity_id"]: f["passed"] for f in data["findings"] if f["check_id"] == "workers_per_10k"
    }
    assert vals == {"C1": True, "C2": False}


def test_demo_runs_and_writes(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = runner.invoke(main, ["demo", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["communities"] >= 25
    assert (out / "tianjin-2025" / "floor_area.json").exists()
    assert (out / "ningxia-2025" / "organisations.csv").exists()
    fa = data["profiles"]["tianjin-2025"]["floor_area"]["checks"]["service_area_per_100_households"]
    assert fa["passed"] > 0 and fa["failed"] > 0
    # the wet-market gap is closed on paper: sites counted like the coverage target
    tj = data["profiles"]["tianjin-2025"]
    wet = tj["sites"]["wet_market"]
    audited = tj["coverage"]["targets"]["wet_market_coverage"]["households_share"]
    assert wet["scope"] == "central_district"
    assert wet["coverage_before"] == pytest.approx(audited, abs=1e-3)
    assert wet["coverage_before"] < wet["target_share"] <= wet["coverage_after"]
    assert len(wet["sites"]) >= 1
    assert (out / "tianjin-2025" / "sites_wet_market.gpkg").exists()
    assert "建议选址" in (out / "tianjin-2025" / "gap_map.html").read_text(encoding="utf-8")
    # and the Ningxia grids are delineated, every one in range or explained
    grids = json.loads((out / "ningxia-2025" / "grids.json").read_text(encoding="utf-8"))
    assert data["profiles"]["ningxia-2025"]["grids"]["n_grids"] == len(grids["grids"]) > 100
    assert all(g["in_range"] or g["reason"] for g in grids["grids"])
    page = (out / "ningxia-2025" / "gap_map.html").read_text(encoding="utf-8")
    assert f"<b>网格</b> {len(grids['grids'])} 个" in page


@pytest.mark.shared_data
def test_network_build_and_coverage_on_haidian(
    runner: CliRunner, tmp_path: Path, shared_data: Path
) -> None:
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    net = tmp_path / "海淀.npz"
    res = runner.invoke(main, ["network", "build", str(osm), "--out", str(net), "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    assert stats["nodes"] > 100 and stats["components"] >= 1
    out = tmp_path / "cov"
    res = runner.invoke(main, ["coverage", "--network", str(osm), "--out", str(out), "--json"])
    # real data: the MOFCOM targets are not all met in this campus extract
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert data["summary"]["buildings"] > 200
    assert 0 < data["summary"]["targets"]["walk_convenience_store"]["households_share"] < 1
    for name in (
        "coverage.gpkg",
        "coverage.json",
        "coverage_findings.csv",
        "gap_map.html",
        "gap_map.png",
    ):
        assert (out / name).stat().st_size > 0
    assert not (out / "coverage.csv").exists()  # the per-building CSV only when asked
    # the saved network gives the same answer as reading OSM again
    res2 = runner.invoke(
        main,
        [
            "coverage",
            "--network",
            str(net),
            "--buildings",
            str(out / "coverage.gpkg"),
            "--facilities",
            str(out / "coverage.gpkg"),
            "--json",
            "--no-map",
        ],
    )
    assert res2.exit_code == 2  # a GeoPackage with several layers needs naming: clear error
    assert "layer" in res2.output


def test_coverage_needs_layers_without_osm(runner: CliRunner, tmp_path: Path) -> None:
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    lines = tmp_path / "streets.gpkg"
    d.streets.to_file(lines, engine="pyogrio")
    res = runner.invoke(main, ["coverage", "--network", str(lines)])
    assert res.exit_code == 2
    assert "--buildings and --facilities" in res.output


def test_map_from_results_folder(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    res = runner.invoke(
        main, ["demo", "--out", str(out), "--profile", "tianjin-2025", "--no-map", "--json"]
    )
    assert res.exit_code == 0, res.output
    folder = out / "tianjin-2025"
    res = runner.invoke(main, ["map", str(folder), "--lang", "en"])
    assert res.exit_code == 0, res.output
    html = (folder / "gap_map.html").read_text(encoding="utf-8")
    assert "wet market" in html and '<script src="http' not in html
    assert (folder / "gap_map.png").stat().st_size > 10_000
    res = runner.invoke(main, ["map", str(tmp_path)])
    assert res.exit_code == 2
    assert "no coverage.json" in res.output


# --------------------------------------------------------------------------- output formats


@pytest.fixture(scope="module")
def district_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from geoplan.sample import make_sample_district

    [gpkg] = make_sample_district(seed=0).to_files(tmp_path_factory.mktemp("district"))
    return gpkg


def _cov_args(gpkg: Path, out: Path, *extra: str) -> list[str]:
    return [
        "coverage",
        "--network",
        str(gpkg),
        "--buildings",
        str(gpkg),
        "--facilities",
        str(gpkg),
        "--profile",
        "tianjin-2025",
        "--out",
        str(out),
        "--no-map",
        *extra,
    ]


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_coverage_writes_a_geopackage_by_default_and_csv_only_when_asked(
    runner: CliRunner, tmp_path: Path, district_gpkg: Path
) -> None:
    res = runner.invoke(main, _cov_args(district_gpkg, tmp_path / "default"))
    assert res.exit_code in (0, 1), res.output
    assert _names(tmp_path / "default") == [
        "coverage.gpkg",
        "coverage.json",
        "coverage_findings.csv",
    ]
    # repeated and comma-separated mean the same; the order does not matter
    for out, extra in (
        ("commas", ["--format", "csv,parquet"]),
        ("repeated", ["--format", "parquet", "--format", "CSV", "--format", "csv"]),
    ):
        res = runner.invoke(main, _cov_args(district_gpkg, tmp_path / out, *extra))
        assert res.exit_code in (0, 1), res.output
        assert _names(tmp_path / out) == [
            "coverage.csv",
            "coverage.json",
            "coverage.parquet",
            "coverage_facilities.parquet",
            "coverage_findings.csv",
        ]
    same = (tmp_path / "commas" / "coverage.csv").read_bytes()
    assert (tmp_path / "repeated" / "coverage.csv").read_bytes() == same


def test_unknown_format_is_a_usage_error(
    runner: CliRunner, tmp_path: Path, district_gpkg: Path
) -> None:
    res = runner.invoke(main, _cov_args(district_gpkg, tmp_path / "out", "--format", "gpkg,xlsx"))
    assert res.exit_code == 2
    assert "'xlsx' is not a table format" in res.output and "gpkg, parquet, csv" in res.output
    assert not (tmp_path / "out").exists()


def test_lean_table_keeps_the_targeted_categories(
    runner: CliRunner, tmp_path: Path, district_gpkg: Path
) -> None:
    """Tianjin targets wet markets only: the per-building table has their columns,
    not those of the 30-odd other categories in the facilities (--all-categories
    has them all, as before)."""

    def per_category(out: Path) -> set[str]:
        table = gpd.read_file(out / "coverage.gpkg", layer="coverage", engine="pyogrio")
        return {c.split("__", 1)[1] for c in table.columns if c.startswith("walk_m__")}

    lean, full = tmp_path / "lean", tmp_path / "full"
    res = runner.invoke(main, _cov_args(district_gpkg, lean))
    assert res.exit_code in (0, 1), res.output
    res = runner.invoke(main, _cov_args(district_gpkg, full, "--all-categories"))
    assert res.exit_code in (0, 1), res.output
    assert per_category(lean) == {"wet_market"}
    assert len(per_category(full)) > 20
    a = gpd.read_file(lean / "coverage.gpkg", layer="coverage", engine="pyogrio")
    b = gpd.read_file(full / "coverage.gpkg", layer="coverage", engine="pyogrio")
    pd.testing.assert_frame_equal(a, b[a.columns], check_exact=True)  # same values
    assert (lean / "coverage.json").read_bytes() == (full / "coverage.json").read_bytes()
    # the gap map needs nothing the lean table left out
    res = runner.invoke(main, ["map", str(lean), "--no-png"])
    assert res.exit_code == 0, res.output


def test_long_table_in_each_format(runner: CliRunner, tmp_path: Path, district_gpkg: Path) -> None:
    out = tmp_path / "long"
    res = runner.invoke(
        main, _cov_args(district_gpkg, out, "--long", "--format", "gpkg,parquet,csv")
    )
    assert res.exit_code in (0, 1), res.output
    wide = gpd.read_parquet(out / "coverage.parquet").set_index("building_id")
    long = pd.read_parquet(out / "coverage_long.parquet")
    assert long.columns.tolist() == ["building_id", "category", "walk_m", "facility_id", "covered"]
    assert len(long) == len(wide) and set(long["category"]) == {"wet_market"}
    row = long.set_index("building_id").loc[wide.index]
    assert row["walk_m"].tolist() == wide["walk_m__wet_market"].tolist()
    assert row["covered"].tolist() == wide["covered__wet_market"].tolist()
    layer = gpd.read_file(out / "coverage.gpkg", layer="long", engine="pyogrio")
    assert layer["building_id"].tolist() == long["building_id"].tolist()
    csv = pd.read_csv(out / "coverage_long.csv", encoding="utf-8-sig")
    assert csv.columns.tolist() == long.columns.tolist() and len(csv) == len(long)
    assert ",inf" not in (out / "coverage_long.csv").read_text(encoding="utf-8-sig")

"""The CLI boundary: no tracebacks, warnings as lines, --crs as the input CRS,
no vacuous verdicts, correct component counts."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import click
import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from shapely.geometry import box

from geoplan._errors import DataQualityWarning
from geoplan.cli import main
from geoplan.cli._common import EXIT_INTERNAL, cli_text, handle_errors
from geoplan.cli._options import lang_option


def _digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def _refused(res: Result, *names: str) -> str:
    out = res.output
    assert res.exit_code == 2, out
    assert isinstance(res.exception, SystemExit)
    assert "Traceback" not in out
    for name in names:
        assert name in out, (name, out)
    return out


def _pair(folder: Path) -> tuple[Path, Path]:
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
            "建筑面积": [480.0],
            "活动面积": [300.0],
            "经度": [117.205],
            "纬度": [39.125],
        }
    )
    cpath, fpath = folder / "社区.gpkg", folder / "设施.csv"
    comm.to_file(cpath, layer="communities", driver="GPKG", engine="pyogrio")
    fac.to_csv(fpath, index=False, encoding="utf-8")
    return cpath, fpath


# ------------------------------------------------------------------ --crs on OSM files


@pytest.mark.shared_data
def test_network_build_refuses_crs_on_osm(shared_data: Path, tmp_path: Path) -> None:
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    out = tmp_path / "net.npz"
    before = _digest([osm])
    res = CliRunner().invoke(
        main, ["network", "build", str(osm), "--out", str(out), "--crs", "gcj02"]
    )
    _refused(res, "beijing_haidian_cau.osm.bz2", "--crs gcj02", "WGS84")
    assert not out.exists()
    assert _digest([osm]) == before


@pytest.mark.shared_data
def test_network_build_counts_connected_pieces(shared_data: Path, tmp_path: Path) -> None:
    """Haidian: 527 nodes in 13 connected pieces (not 527 pieces)."""
    import networkx as nx

    from geoplan.network import load_network

    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    out = tmp_path / "海淀.npz"
    res = CliRunner().invoke(main, ["network", "build", str(osm), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    stats = json.loads(res.stdout)
    net = load_network(out)
    independent = nx.number_connected_components(net.to_networkx().to_undirected())
    assert stats["components"] == independent == 13
    assert stats["nodes"] == 527
    assert stats["largest_component_nodes"] == int(net.component_sizes()[0]) == 469
    res = CliRunner().invoke(main, ["network", "build", str(osm), "--out", str(out)])
    assert "13 connected pieces (largest 469 nodes)" in res.output


@pytest.mark.shared_data
def test_site_with_crs_and_osm_network_is_no_traceback(shared_data: Path, tmp_path: Path) -> None:
    """--crs describes the buildings/facilities; an OSM --network is left alone."""
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    cpath, fpath = _pair(tmp_path)  # Tianjin layers: they do not overlap the Beijing network
    res = CliRunner().invoke(
        main,
        [
            "site",
            "--network",
            str(osm),
            "--buildings",
            str(cpath),
            "--facilities",
            str(fpath),
            "--category",
            "wet_market",
            "--profile",
            "tianjin-2025",
            "--crs",
            "gcj02",
            "--lang",
            "en",
        ],
    )
    _refused(res, "do not overlap")


# ------------------------------------------------------------------ errors at the boundary


def test_bad_crs_string_is_exit_2(tmp_path: Path) -> None:
    cpath, fpath = _pair(tmp_path)
    before = _digest([cpath, fpath])
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "audit",
            "floor-area",
            "--communities",
            str(cpath),
            "--facilities",
            str(fpath),
            "--crs",
            "EPSG:99999999",
            "--out",
            str(out),
        ],
    )
    _refused(res, "99999999")
    assert "错误" in res.output
    assert not out.exists()
    assert _digest([cpath, fpath]) == before


def _probe(exc: Exception) -> click.Command:
    @click.command()
    @lang_option
    @handle_errors
    def cmd(lang: str) -> None:
        raise exc

    return cmd


@pytest.mark.parametrize(
    ("exc", "code", "text"),
    [
        (ValueError("could not convert '很大' to float"), 2, "error: could not convert"),
        (PermissionError(13, "Permission denied", "/out/x.csv"), 2, "Permission denied"),
        (KeyError("households"), EXIT_INTERNAL, "internal error (a bug in geoplan"),
    ],
)
def test_exceptions_become_messages(exc: Exception, code: int, text: str) -> None:
    res = CliRunner().invoke(_probe(exc), ["--lang", "en"])
    assert res.exit_code == code, res.output
    assert isinstance(res.exception, SystemExit)
    assert text in res.output and "Traceback" not in res.output
    if code == EXIT_INTERNAL:
        assert "-v" in res.output  # how a developer gets the traceback


def test_pyproj_error_is_bad_input() -> None:
    import pyproj

    def fail() -> None:
        pyproj.CRS("not-a-crs")

    @click.command()
    @handle_errors
    def cmd() -> None:
        fail()

    res = CliRunner().invoke(cmd, [])
    _refused(res, "not-a-crs")


def test_debug_env_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEOPLAN_DEBUG", "1")
    res = CliRunner().invoke(_probe(KeyError("households")), [])
    assert isinstance(res.exception, KeyError)  # propagates for developers


def test_messages_name_cli_flags() -> None:
    assert cli_text("give it with crs=") == "give it with --crs"
    assert cli_text("e.g. crs=4326, crs='gcj02'") == "e.g. --crs 4326, --crs gcj02"


def test_missing_crs_message_names_the_flag(tmp_path: Path) -> None:
    _, fpath = _pair(tmp_path)
    plain = tmp_path / "no_crs.shp"  # a shapefile without .prj: no CRS at all
    comm = gpd.GeoDataFrame(
        {"id": ["C1"], "name": ["A"], "kind": ["urban"], "households": [2000]},
        geometry=[box(117.20, 39.12, 117.21, 39.13)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio: "'crs' was not provided"
        comm.to_file(plain, engine="pyogrio")
    res = CliRunner().invoke(
        main,
        [
            "audit",
            "floor-area",
            "--communities",
            str(plain),
            "--facilities",
            str(fpath),
            "--lang",
            "en",
        ],
    )
    text = _refused(res, "no_crs.shp", "--crs")
    assert "crs=" not in text.replace("(source_crs= in Python)", "")


# ------------------------------------------------------------------ warnings as lines


@pytest.mark.parametrize(("lang", "prefix"), [("zh", "警告: "), ("en", "warning: ")])
def test_warnings_print_as_lines(lang: str, prefix: str) -> None:
    @click.command()
    @lang_option
    @handle_errors
    def cmd(lang: str) -> None:
        warnings.warn("3 buildings have no floors; give crs=4326", DataQualityWarning, stacklevel=1)
        warnings.warn("3 buildings have no floors; give crs=4326", DataQualityWarning, stacklevel=1)
        click.echo("done")

    res = CliRunner().invoke(cmd, ["--lang", lang])
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if "no floors" in ln]
    assert lines == [f"{prefix}3 buildings have no floors; give --crs 4326"]
    assert ".py:" not in res.output and "DataQualityWarning" not in res.output


@pytest.mark.shared_data
def test_coverage_warnings_have_no_source_path(shared_data: Path, tmp_path: Path) -> None:
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    res = CliRunner().invoke(
        main, ["coverage", "--network", str(osm), "--out", str(tmp_path / "o"), "--lang", "en"]
    )
    assert res.exit_code == 1, res.output
    assert ".py:" not in res.output and "Warning:" not in res.output
    assert any(ln.startswith("warning: ") for ln in res.output.splitlines())


# ------------------------------------------------------------------ no vacuous verdicts


def test_floor_area_without_targets_is_exit_2(tmp_path: Path) -> None:
    cpath, fpath = _pair(tmp_path)
    res = CliRunner().invoke(
        main,
        [
            "audit",
            "floor-area",
            "--communities",
            str(cpath),
            "--facilities",
            str(fpath),
            "--profile",
            "mofcom-15min",
        ],
    )
    text = _refused(res, "mofcom-15min", "tianjin-2025", "ningxia-2025", "gb50180-2018")
    assert "通过" not in text


def test_organisations_without_targets_is_exit_2(tmp_path: Path) -> None:
    cpath, _ = _pair(tmp_path)
    res = CliRunner().invoke(
        main,
        ["audit", "organisations", "--communities", str(cpath), "--profile", "mofcom-15min"],
    )
    _refused(res, "mofcom-15min", "tianjin-2025")


def test_coverage_without_targets_is_exit_2(tmp_path: Path) -> None:
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    streets = tmp_path / "streets.gpkg"
    d.streets.to_file(streets, engine="pyogrio")
    cpath, fpath = _pair(tmp_path)
    res = CliRunner().invoke(
        main,
        [
            "coverage",
            "--network",
            str(streets),
            "--buildings",
            str(cpath),
            "--facilities",
            str(fpath),
            "--profile",
            "ningxia-2025",
            "--lang",
            "en",
        ],
    )
    _refused(res, "ningxia-2025", "mofcom-15min", "gb50180-2018", "tianjin-2025")

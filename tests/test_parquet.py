"""GeoParquet in and out: every reader takes .parquet, the tables are written as
GeoParquet a row group at a time, ``geoplan map`` reads them back, and a bad
.parquet is a clear input error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString, MultiPolygon, Point, box

from geoplan._errors import InputError
from geoplan.cli import main
from geoplan.io.readers import read_aux_layer, read_buildings, read_communities, read_facilities
from geoplan.io.write import write_gpkg, write_parquet
from geoplan.network import read_network


@pytest.fixture(scope="module")
def district(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample district as one GeoPackage and as one GeoParquet file per layer."""
    from geoplan.sample import make_sample_district

    folder = tmp_path_factory.mktemp("district")
    [gpkg] = make_sample_district(seed=0).to_files(folder)
    files = {"gpkg": gpkg}
    for layer in ("streets", "buildings", "facilities", "communities"):
        frame = gpd.read_file(gpkg, layer=layer, engine="pyogrio")
        frame.to_parquet(folder / f"{layer}.parquet")  # as geopandas writes it
        files[layer] = folder / f"{layer}.parquet"
    return files


def _coverage(files: dict[str, Path], out: Path, *extra: str, ext: str = "gpkg") -> list[str]:
    def src(layer: str) -> str:
        return str(files["gpkg"] if ext == "gpkg" else files[layer])

    return [
        "coverage",
        "--network",
        src("streets"),
        "--buildings",
        src("buildings"),
        "--facilities",
        src("facilities"),
        "--communities",
        src("communities"),
        "--profile",
        "tianjin-2025",
        "--out",
        str(out),
        "--no-map",
        *extra,
    ]


# --------------------------------------------------------------------------- reading


def test_readers_take_geoparquet_as_the_geopackage(district: dict[str, Path]) -> None:
    for reader, layer in (
        (read_buildings, "buildings"),
        (read_facilities, "facilities"),
        (read_communities, "communities"),
    ):
        from_pq = reader(district[layer])
        from_gpkg = reader(district["gpkg"], layer=layer)
        from_pq.attrs.clear()
        from_gpkg.attrs.clear()
        pd.testing.assert_frame_equal(from_pq, from_gpkg, check_exact=True)


def test_network_from_a_parquet_line_layer_is_the_geopackage_one(
    district: dict[str, Path], tmp_path: Path
) -> None:
    a = read_network(district["streets"])
    b = read_network(district["gpkg"])
    assert a.save(tmp_path / "a.npz").read_bytes() == b.save(tmp_path / "b.npz").read_bytes()


def test_plain_parquet_tables_read_like_a_csv(tmp_path: Path) -> None:
    lonlat = tmp_path / "fac.parquet"
    pd.DataFrame(
        {
            "设施编号": ["F1", "F2"],
            "类别": ["菜市场", "便利店"],
            "经度": [117.2, 117.21],
            "纬度": [39.1, 39.11],
        }
    ).to_parquet(lonlat)
    fac = read_facilities(lonlat)
    assert fac.index.tolist() == ["F1", "F2"]
    assert fac["category"].tolist() == ["wet_market", "convenience_store"]
    assert fac.crs.is_projected
    wkt, wkb = tmp_path / "wkt.parquet", tmp_path / "wkb.parquet"
    polys = [box(117.20, 39.12, 117.21, 39.13), box(117.21, 39.12, 117.22, 39.13)]
    base = {
        "社区编码": ["C1", "C2"],
        "社区名称": ["甲", "乙"],
        "社区类型": ["城市"] * 2,
        "户数": [100, 200],
    }
    pd.DataFrame({**base, "geometry": shapely.to_wkt(polys)}).to_parquet(wkt)
    pd.DataFrame({**base, "geometry": shapely.to_wkb(polys)}).to_parquet(wkb)
    a, b = read_communities(wkt), read_communities(wkb)
    assert a.crs == b.crs and a.crs.is_projected
    assert bool(a.geometry.geom_equals_exact(b.geometry, tolerance=1e-6).all())


def test_geoparquet_without_crs_key_is_lon_lat_and_says_nothing(tmp_path: Path) -> None:
    """The GeoParquet spec: no ``crs`` means OGC:CRS84, which, like GeoJSON, says nothing
    about an AMap export converted to Parquet (its GCJ-02 is still recognised)."""
    p = tmp_path / "amap.parquet"
    g = gpd.GeoDataFrame(
        {"name": ["菜场"], "typecode": ["060705"]}, geometry=[Point(117.2, 39.12)], crs=4326
    )
    g.to_parquet(p)
    table = pq.read_table(p)
    geo = json.loads(table.schema.metadata[b"geo"])
    del geo["columns"]["geometry"]["crs"]
    pq.write_table(
        table.replace_schema_metadata({**table.schema.metadata, b"geo": json.dumps(geo)}), p
    )
    with pytest.warns(UserWarning, match="GCJ-02"):
        fac = read_facilities(p, row_ids=True)
    assert fac["category"].tolist() == ["wet_market"]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: p.write_text("building_id,lon,lat\nB1,117.2,39.1\n"), "not a Parquet file"),
        (lambda p: p.write_bytes(b"PAR1" + bytes(100) + b"PAR1"), "not a Parquet file"),
        (
            lambda p: pd.DataFrame({"building_id": ["B1"], "floors": [3]}).to_parquet(p),
            "no geometry",
        ),
        (
            lambda p: gpd.GeoDataFrame(
                {"building_id": ["B1"]}, geometry=[Point(500_000, 4_300_000)], crs=None
            ).to_parquet(p),
            "no CRS",
        ),
        (
            lambda p: gpd.GeoDataFrame(
                {"building_id": pd.Series([], dtype=str)}, geometry=[], crs=4326
            ).to_parquet(p),
            "no buildings in the file",
        ),
        (
            lambda p: pd.DataFrame({"building_id": ["B1"], "geometry": [b"\x01\x01"]}).to_parquet(
                p
            ),
            "not valid WKB",
        ),
    ],
    ids=["csv-text", "broken", "no-geometry", "no-crs", "empty", "bad-wkb"],
)
def test_bad_parquet_is_an_input_error_naming_the_file(tmp_path: Path, make, says: str) -> None:
    p = tmp_path / "建筑.parquet"
    make(p)
    with pytest.raises(InputError, match=says) as err:
        read_buildings(p)
    assert err.value.file == str(p)


def test_geoparquet_metadata_naming_a_missing_column(tmp_path: Path) -> None:
    p = tmp_path / "streets.parquet"
    gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=32650).to_parquet(p)
    table = pq.read_table(p)
    renamed = table.rename_columns(["geom"]).replace_schema_metadata(table.schema.metadata)
    pq.write_table(renamed, p)  # the metadata still names "geometry"
    with pytest.raises(InputError, match="'geometry', which the file does not have") as err:
        read_aux_layer(p, preferred=("streets",), geom_types=("LineString",))
    assert err.value.file == str(p)
    with pytest.raises(InputError, match="one table"):
        read_buildings(p, layer="buildings")


# --------------------------------------------------------------------------- writing


def _awkward() -> gpd.GeoDataFrame:
    """Types that trip writers: inf, NaN, nullable booleans, empty text, mixed objects."""
    n = 5
    return gpd.GeoDataFrame(
        {
            "walk_m": [1.5, np.inf, np.nan, 0.1 + 0.2, 7.0],
            "covered": [True, False, True, False, True],
            "maybe": pd.array([True, None, False, None, True], dtype="boolean"),
            "facility_id": ["F1", None, None, "F4", None],
            "empty": [None] * n,
            "mixed": [1, "a", 2.5, None, "中文"],
            "n": np.arange(n),
        },
        geometry=[
            box(0, 0, 1, 1),
            MultiPolygon([box(2, 2, 3, 3), box(4, 4, 5, 5)]),
            box(1, 1, 2, 2),
            box(3, 0, 4, 1),
            box(0, 3, 1, 4),
        ],
        crs=32650,
        index=pd.Index([f"B{i}" for i in range(n)], name="building_id"),
    )


def test_write_parquet_round_trip_in_row_groups(tmp_path: Path) -> None:
    g = _awkward()
    p = write_parquet(tmp_path / "t.parquet", g, row_group_rows=2)
    assert pq.ParquetFile(p).metadata.num_row_groups == 3
    back = gpd.read_parquet(p)
    assert back.columns.tolist() == ["building_id", *g.columns]
    assert back.crs == g.crs
    assert back["walk_m"].tolist()[:2] == [1.5, np.inf] and np.isnan(back["walk_m"][2])
    assert back["walk_m"][3] == 0.1 + 0.2  # stored exactly, unlike the CSV
    assert back["maybe"].dtype == "boolean" and back["maybe"].isna().sum() == 2
    assert back["facility_id"].tolist()[:2] == ["F1", None] or back["facility_id"].isna()[1]
    assert back["mixed"].tolist()[1] == "a" and back["mixed"].tolist()[0] == "1"
    assert bool(back.geometry.geom_equals_exact(g.geometry.reset_index(drop=True), 0).all())
    geo = json.loads(pq.read_schema(p).metadata[b"geo"])
    column = geo["columns"]["geometry"]
    assert geo["version"] == "1.0.0" and column["encoding"] == "WKB"
    assert column["geometry_types"] == ["MultiPolygon", "Polygon"]
    assert column["bbox"] == [0.0, 0.0, 5.0, 5.0]
    assert gpd.GeoSeries.from_wkb([b""] * 0, crs=column["crs"]).crs.to_epsg() == 32650


def test_write_parquet_columns_and_empty_frames(tmp_path: Path) -> None:
    g = _awkward()
    p = write_parquet(tmp_path / "some.parquet", g, columns=["walk_m", "geometry"])
    assert gpd.read_parquet(p).columns.tolist() == ["building_id", "walk_m", "geometry"]
    empty = write_parquet(tmp_path / "empty.parquet", g.iloc[:0])
    assert len(gpd.read_parquet(empty)) == 0
    plain = write_parquet(tmp_path / "plain.parquet", pd.DataFrame({"a": [1, 2]}))
    assert pd.read_parquet(plain)["a"].tolist() == [1, 2]


def test_write_gpkg_holds_what_write_dataframe_writes(tmp_path: Path) -> None:
    """The Arrow stream writes the file pyogrio's classic writer wrote (the demo's
    GeoPackages are compared against it): the same fields, types and values."""
    import pyogrio

    g = _awkward()
    ours = write_gpkg(tmp_path / "ours.gpkg", {"b": g, "t": pd.DataFrame({"x": [1.0]})})
    classic = tmp_path / "classic.gpkg"
    out = g.reset_index()
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object:
            out[col] = out[col].astype("string")
    out.to_file(classic, layer="b", driver="GPKG", engine="pyogrio")
    a, b = pyogrio.read_info(ours, layer="b"), pyogrio.read_info(classic, layer="b")
    for key in ("fields", "dtypes", "ogr_types", "ogr_subtypes", "geometry_type", "features"):
        assert np.array_equal(a[key], b[key]) if key != "geometry_type" else a[key] == b[key]
    pd.testing.assert_frame_equal(
        gpd.read_file(ours, layer="b"), gpd.read_file(classic, layer="b"), check_exact=True
    )
    assert gpd.read_file(ours, layer="t")["x"].tolist() == [1.0]


def test_writers_never_write_over_an_input(tmp_path: Path) -> None:
    p = tmp_path / "buildings.parquet"
    p.write_bytes(b"input")
    with pytest.raises(InputError, match="refusing to overwrite"):
        write_parquet(p, _awkward(), protect=[p])
    assert p.read_bytes() == b"input"


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    def parts():
        yield pd.DataFrame({"a": [1]})
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_parquet(tmp_path / "x.parquet", parts())
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- commands


def test_coverage_from_parquet_inputs_to_parquet_outputs(
    district: dict[str, Path], tmp_path: Path
) -> None:
    runner = CliRunner()
    by_gpkg, by_pq = tmp_path / "gpkg", tmp_path / "pq"
    res = runner.invoke(main, _coverage(district, by_gpkg, "--format", "csv"))
    assert res.exit_code in (0, 1), res.output
    res = runner.invoke(main, _coverage(district, by_pq, "--format", "parquet,csv", ext="parquet"))
    assert res.exit_code in (0, 1), res.output
    # the same answer from GeoParquet inputs, to the byte
    for name in ("coverage.csv", "coverage.json", "coverage_findings.csv"):
        assert (by_pq / name).read_bytes() == (by_gpkg / name).read_bytes(), name
    names = sorted(p.name for p in by_pq.iterdir())
    assert names == [
        "coverage.csv",
        "coverage.json",
        "coverage.parquet",
        "coverage_communities.parquet",
        "coverage_facilities.parquet",
        "coverage_findings.csv",
    ]
    table = gpd.read_parquet(by_pq / "coverage.parquet").set_index("building_id")
    csv = pd.read_csv(by_pq / "coverage.csv", encoding="utf-8-sig", index_col="building_id")
    walk = table["walk_m__wet_market"].replace(np.inf, np.nan)
    assert np.allclose(walk, csv["walk_m__wet_market"], rtol=1e-9, equal_nan=True)
    # geoplan map reads the GeoParquet tables back, as it reads a GeoPackage
    res = runner.invoke(main, ["map", str(by_pq), "--no-png", "--lang", "en"])
    assert res.exit_code == 0, res.output
    assert "wet market" in (by_pq / "gap_map.html").read_text(encoding="utf-8")


def test_map_from_parquet_draws_what_the_geopackage_draws(
    district: dict[str, Path], tmp_path: Path
) -> None:
    import re

    runner = CliRunner()
    pages = []
    for fmt in ("gpkg", "parquet"):
        out = tmp_path / fmt
        res = runner.invoke(main, _coverage(district, out, "--format", fmt))
        assert res.exit_code in (0, 1), res.output
        res = runner.invoke(main, ["map", str(out), "--no-png", "--lang", "en"])
        assert res.exit_code == 0, res.output
        page = (out / "gap_map.html").read_text(encoding="utf-8")
        pages.append(re.sub(r"_[0-9a-f]{32}", "_ID", page))  # folium's random ids
    assert pages[0] == pages[1]


def test_network_build_from_parquet(district: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    res = runner.invoke(main, ["network", "build", str(district["streets"]), "--out", str(a)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(main, ["network", "build", str(district["gpkg"]), "--out", str(b)])
    assert res.exit_code == 0, res.output
    assert a.read_bytes() == b.read_bytes()


def test_bad_parquet_on_the_command_line_is_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "streets.parquet"
    bad.write_text("not parquet")
    res = CliRunner().invoke(main, ["network", "build", str(bad), "--out", str(tmp_path / "n.npz")])
    assert res.exit_code == 2
    assert "streets.parquet" in res.output and "not a Parquet file" in res.output


def test_arrow_table_types_match_the_schema(tmp_path: Path) -> None:
    """Object columns are typed from the whole column: one that is empty in the
    first row group and text later is text in every row group."""
    g = pd.DataFrame({"facility_id": [None, None, "F3", None]}).astype(object)
    assert g["facility_id"].dtype == object
    p = write_parquet(tmp_path / "late.parquet", g, row_group_rows=2)
    assert pq.read_schema(p).names == ["facility_id"]  # row numbers are not a column
    assert pq.read_schema(p).field("facility_id").type == pa.string()
    assert pd.read_parquet(p)["facility_id"].tolist()[2] == "F3"

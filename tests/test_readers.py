"""Readers: Chinese headers, formats, and every bad input named by file, row and column."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io.readers import prepare_layer, read_buildings, read_communities, read_facilities
from geoplan.io.write import atomic_path, write_text

LON0, LAT0 = 117.20, 39.12  # Tianjin


def _comm_frame(n: int = 3) -> gpd.GeoDataFrame:
    geoms = [box(LON0 + i * 0.01, LAT0, LON0 + i * 0.01 + 0.009, LAT0 + 0.009) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "社区编码": [f"C{i}" for i in range(n)],
            "社区名称": [f"和平{i}社区" for i in range(n)],
            "社区类型": ["城市"] * (n - 1) + ["村"],
            "户数": [2000, 1500, 400][:n],
            "常住人口": [5200, 3900, 1000][:n],
        },
        geometry=geoms,
        crs=4326,
    )


def _write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str = "communities") -> Path:
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    return path


def _comm_csv(tmp_path: Path, rows: list[dict[str, object]], name: str = "社区.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False, encoding="utf-8")
    return path


def _base_rows() -> list[dict[str, object]]:
    out = []
    for i in range(3):
        x0, y0 = LON0 + i * 0.01, LAT0
        wkt = box(x0, y0, x0 + 0.009, y0 + 0.009).wkt
        out.append(
            {
                "编号": f"C{i}",
                "名称": f"社区{i}",
                "社区类型": "城市",
                "户数": 1000 + i,
                "geometry": wkt,
            }
        )
    return out


# ----------------------------------------------------------------------------- good input


def test_chinese_headers_gpkg_round_trip(tmp_path: Path) -> None:
    path = _write_gpkg(_comm_frame(), tmp_path / "天津社区.gpkg")
    comm = read_communities(path)
    assert comm.index.name == "community_id"
    assert list(comm.index) == ["C0", "C1", "C2"]
    assert comm.loc["C2", "kind"] == "village"
    assert comm.loc["C0", "name"] == "和平0社区"
    assert comm.loc["C1", "households"] == 1500.0
    assert comm.crs.is_projected and "UTM zone 50N" in comm.crs.name
    assert comm.attrs["source_file"].endswith("天津社区.gpkg")
    assert not comm["old_estate"].any()


def test_csv_with_lonlat_points_and_gbk_encoding(tmp_path: Path) -> None:
    path = tmp_path / "设施.csv"
    pd.DataFrame(
        {
            "设施编号": ["F1", "F2"],
            "设施名称": ["菜市场", "便利店"],
            "类别": ["wet_market", "convenience_store"],
            "经度": [LON0, LON0 + 0.001],
            "纬度": [LAT0, LAT0 + 0.001],
            "建筑面积": ["1,200", ""],
        }
    ).to_csv(path, index=False, encoding="gb18030")
    fac = read_facilities(path)
    assert list(fac.index) == ["F1", "F2"]
    assert fac.loc["F1", "floor_area_m2"] == 1200.0
    assert np.isnan(fac.loc["F2", "floor_area_m2"])
    assert fac.geom_type.eq("Point").all()


def test_user_column_mapping(tmp_path: Path) -> None:
    gdf = _comm_frame().rename(columns={"户数": "HH_TOTAL"})
    path = _write_gpkg(gdf, tmp_path / "c.gpkg")
    comm = read_communities(path, columns={"HH_TOTAL": "households"})
    assert comm["households"].tolist() == [2000.0, 1500.0, 400.0]


def test_gcj02_input_is_shifted_to_wgs84(tmp_path: Path) -> None:
    path = _write_gpkg(_comm_frame(), tmp_path / "c.gpkg")
    plain = read_communities(path)
    fixed = read_communities(path, source_crs="gcj02", metric_crs=plain.crs)
    shift = plain.centroid.distance(fixed.centroid)
    assert ((shift > 100) & (shift < 800)).all(), shift.tolist()


def test_prepare_layer_does_not_mutate_input() -> None:
    raw = _comm_frame()
    before = raw.copy()
    prepare_layer(raw, "communities")
    pd.testing.assert_frame_equal(
        pd.DataFrame(raw.drop(columns="geometry")), pd.DataFrame(before.drop(columns="geometry"))
    )


def test_buildings_without_ids_get_row_numbers(tmp_path: Path) -> None:
    gdf = gpd.GeoDataFrame(
        {"层数": [3, 6]},
        geometry=[
            box(LON0, LAT0, LON0 + 1e-4, LAT0 + 1e-4),
            box(LON0 + 1e-3, LAT0, LON0 + 1.1e-3, LAT0 + 1e-4),
        ],
        crs=4326,
    )
    path = tmp_path / "b.geojson"
    gdf.to_file(path, driver="GeoJSON", engine="pyogrio")
    b = read_buildings(path)
    assert list(b.index) == ["1", "2"]
    assert b["floors"].tolist() == [3.0, 6.0]


# ----------------------------------------------------------------------------- bad input


def _expect(
    exc: pytest.ExceptionInfo[InputError], *, file: str, row: object, column: object
) -> None:
    err = exc.value
    assert err.file is not None and err.file.endswith(file), str(err)
    assert err.row == row, str(err)
    assert err.column == column, str(err)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as e:
        read_communities(tmp_path / "无此文件.gpkg")
    _expect(e, file="无此文件.gpkg", row=None, column=None)


def test_unsupported_suffix(tmp_path: Path) -> None:
    p = tmp_path / "c.docx"  # Excel workbooks are read (tests/test_readers_ledgers.py)
    p.write_bytes(b"PK")
    with pytest.raises(InputError, match="unsupported file type"):
        read_communities(p)


def test_empty_csv(tmp_path: Path) -> None:
    p = tmp_path / "empty.csv"
    p.write_text("")
    with pytest.raises(InputError, match="empty"):
        read_communities(p)


def test_csv_without_geometry(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "geometry"} for r in _base_rows()]
    with pytest.raises(InputError, match="no geometry"):
        read_communities(_comm_csv(tmp_path, rows))


def test_bad_wkt(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[1]["geometry"] = "POLYGON((1 2, 3"
    with pytest.raises(InputError, match="WKT") as e:
        read_communities(_comm_csv(tmp_path, rows))
    assert e.value.column == "geometry"


def test_non_numeric_coordinate(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame(
        {
            "id": ["F1", "F2"],
            "category": ["wet_market"] * 2,
            "lon": [LON0, "东经117"],
            "lat": [LAT0, LAT0],
        }
    ).to_csv(p, index=False)
    with pytest.raises(InputError, match="not a coordinate") as e:
        read_facilities(p)
    _expect(e, file="f.csv", row="F2", column="lon")


def test_no_crs(tmp_path: Path) -> None:
    gdf = _comm_frame().set_crs(None, allow_override=True)
    p = tmp_path / "nocrs.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.rename(
            columns={
                "社区编码": "id",
                "社区名称": "name",
                "社区类型": "kind",
                "户数": "households",
                "常住人口": "residents",
            }
        ).to_file(p, engine="pyogrio")
    with pytest.raises(InputError, match="no CRS") as e:
        read_communities(p)
    _expect(e, file="nocrs.shp", row=None, column=None)


def test_duplicate_ids(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[2]["编号"] = "C0"
    with pytest.raises(InputError, match="duplicate id 'C0'") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C0", column="编号")


def test_empty_id(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[1]["编号"] = ""
    with pytest.raises(InputError, match="empty id") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="#2", column="编号")


def test_missing_required_column(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "户数"} for r in _base_rows()]
    with pytest.raises(InputError, match="required column 'households'"):
        read_communities(_comm_csv(tmp_path, rows))


def test_missing_households_value(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[1]["户数"] = ""
    with pytest.raises(InputError, match="households is missing") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C1", column="户数")


def test_negative_households(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[2]["户数"] = -5
    with pytest.raises(InputError, match="negative") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C2", column="户数")


def test_non_numeric_households(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[0]["户数"] = "两千"
    with pytest.raises(InputError, match="'两千' is not a number") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C0", column="户数")


def test_infinite_value(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[0]["户数"] = "inf"
    with pytest.raises(InputError, match="infinite") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C0", column="户数")


def test_unknown_kind(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[1]["社区类型"] = "郊区"
    with pytest.raises(InputError, match="unknown kind '郊区'") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C1", column="社区类型")


def test_bad_boolean(tmp_path: Path) -> None:
    rows = _base_rows()
    for r in rows:
        r["老旧小区"] = "是"
    rows[2]["老旧小区"] = "也许"
    with pytest.raises(InputError, match="not yes/no") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C2", column="老旧小区")


def test_empty_geometry(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[1]["geometry"] = "POLYGON EMPTY"
    with pytest.raises(InputError, match="empty or missing geometry") as e:
        read_communities(_comm_csv(tmp_path, rows))
    _expect(e, file="社区.csv", row="C1", column="geometry")


def test_wrong_geometry_type(tmp_path: Path) -> None:
    rows = _base_rows()
    rows[0]["geometry"] = Point(LON0, LAT0).wkt
    with pytest.raises(InputError, match="geometry is a Point") as e:
        read_communities(_comm_csv(tmp_path, rows), source_crs=4326)
    _expect(e, file="社区.csv", row="C0", column="geometry")


def test_lat_lon_swapped(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame(
        {
            "id": ["F1", "F2"],
            "category": ["wet_market"] * 2,
            "lon": [LON0, LAT0],
            "lat": [LAT0, LON0],
        }
    ).to_csv(p, index=False)
    with pytest.raises(InputError, match="swapped") as e:
        read_facilities(p)
    _expect(e, file="f.csv", row="F2", column="geometry")


def test_projected_coordinates_labelled_as_lonlat(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame(
        {"id": ["F1"], "category": ["wet_market"], "lon": [500000.0], "lat": [4330000.0]}
    ).to_csv(p, index=False)
    with pytest.raises(InputError, match="outside the longitude/latitude range") as e:
        read_facilities(p)
    _expect(e, file="f.csv", row="F1", column="geometry")


def test_unknown_category(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame(
        {
            "id": ["F1", "F2"],
            "类别": ["菜市场", "spaceport"],
            "lon": [LON0, LON0],
            "lat": [LAT0, LAT0],
        }
    ).to_csv(p, index=False)
    with pytest.raises(InputError, match="spaceport") as e:
        read_facilities(p, strict=True)  # without strict=True: left out with a warning
    _expect(e, file="f.csv", row="F2", column="类别")


def test_chinese_category_alias(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame({"id": ["F1"], "类别": ["菜市场"], "lon": [LON0], "lat": [LAT0]}).to_csv(
        p, index=False
    )
    assert read_facilities(p).loc["F1", "category"] == "wet_market"


def test_mapped_column_absent(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="mapped column 'HH'"):
        read_communities(_comm_csv(tmp_path, _base_rows()), columns={"HH": "households"})


def test_gpkg_with_several_layers_needs_a_name(tmp_path: Path) -> None:
    p = tmp_path / "multi.gpkg"
    _write_gpkg(_comm_frame(), p, layer="a")
    _write_gpkg(_comm_frame(), p, layer="b")
    with pytest.raises(InputError, match="name one with layer="):
        read_communities(p)
    assert len(read_communities(p, layer="b")) == 3


def test_invalid_bow_tie_is_repaired_with_a_warning(tmp_path: Path) -> None:
    gdf = _comm_frame()
    x, y, d = LON0, LAT0, 0.005
    bow = Polygon([(x, y), (x + d, y + d), (x + d, y), (x, y + d)])
    gdf.loc[1, "geometry"] = bow
    p = _write_gpkg(gdf, tmp_path / "c.gpkg")
    with pytest.warns(DataQualityWarning, match="rows C1") as rec:
        comm = read_communities(p)
    assert "make_valid" in str(rec[0].message)
    assert comm.loc["C1"].geometry.is_valid
    # both halves kept: area is the bow tie's full area, not half and not zero
    full = gpd.GeoSeries([bow.buffer(0), bow], crs=4326).to_crs(comm.crs).area
    assert comm.loc["C1"].geometry.area > 1.9 * full.iloc[0] * 0.5


def test_residents_fewer_than_households_warns(tmp_path: Path) -> None:
    gdf = _comm_frame()
    gdf.loc[0, "常住人口"] = 10
    p = _write_gpkg(gdf, tmp_path / "c.gpkg")
    with pytest.warns(DataQualityWarning, match="fewer residents than households"):
        read_communities(p)


def test_never_overwrites_an_input(tmp_path: Path) -> None:
    src = tmp_path / "input.csv"
    src.write_text("keep me", encoding="utf-8")
    with pytest.raises(InputError, match="refusing to overwrite"):
        write_text(src, "gone", protect=[src])
    assert src.read_text(encoding="utf-8") == "keep me"


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path) -> None:
    dest = tmp_path / "out.json"
    dest.write_text("old", encoding="utf-8")

    def write_then_fail() -> None:
        with atomic_path(dest) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert dest.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


# --------------------------------------------------------------------------- Arrow reads


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_arrow_reads_give_the_classic_frame(tmp_path: Path, suffix: str) -> None:
    """pyogrio's Arrow read is used only where it gives the classic read's frame:
    numbers, text and booleans alike; dates and booleans with empty cells (typed
    differently by the two reads) fall back to the classic read."""
    import datetime as dt

    from geoplan.io._files import plain_columns as _plain_columns
    from geoplan.io._files import read_ogr as _read_ogr

    frame = gpd.GeoDataFrame(
        {
            "id": ["B1", "B2", "B3"],
            "n": pd.array([1, None, 3], dtype="Int64"),
            "x": [1.5, np.nan, 2.0],
            "flag": [True, False, True],
            "name": ["甲", None, "丙"],
        },
        geometry=[Point(LON0, LAT0), Point(LON0 + 0.01, LAT0), Point(LON0, LAT0 + 0.01)],
        crs=4326,
    )
    plain = frame.copy()
    dated = frame.assign(
        maybe=pd.array([True, None, False], dtype="boolean"),
        day=[dt.date(2024, 1, 2), None, dt.date(2024, 3, 4)],
    )
    driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".shp": "ESRI Shapefile"}[suffix]
    for name, data in (("plain", plain), ("dated", dated)):
        path = tmp_path / f"{name}{suffix}"
        data.to_file(path, driver=driver, engine="pyogrio")
        classic = gpd.read_file(path, engine="pyogrio")
        pd.testing.assert_frame_equal(_read_ogr(path, layer=None), classic, check_exact=True)
        arrow = gpd.read_file(path, engine="pyogrio", use_arrow=True)
        assert _plain_columns(arrow) == (name == "plain")  # the Arrow read is kept


def test_readers_take_source_crs_and_warn_on_the_old_crs_keyword(tmp_path: Path) -> None:
    import warnings

    from geoplan import read_facilities

    p = tmp_path / "设施.csv"
    p.write_text("id,name,category,lon,lat\nF1,菜市场,wet_market,117.20,39.12\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new keyword warns about nothing
        new = read_facilities(p, source_crs="gcj02")
    with pytest.warns(DeprecationWarning, match="source_crs"):
        old = read_facilities(p, crs="gcj02")
    assert new.geometry.equals(old.geometry)
    with pytest.raises(InputError, match="source_crs= only"):
        read_facilities(p, source_crs="gcj02", crs="gcj02")


# --- ids read fast (issue 12): the vectorised reading equals the row-by-row rule ---

_ID_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list("0123456789.０１２ abcx-_社区\t")), max_size=8),
    st.from_regex(r"\A ?[0-9０-９a]{0,4}\.0 ?\Z"),  # ids a driver read as floats
)


def _row_by_row_ids(values: list[object]) -> list[str] | None:
    """The reader's rule, one row at a time (None where an id is empty)."""
    out = []
    for value in values:
        text = "" if pd.isna(value) else str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]
        if not text:
            return None
        out.append(text)
    return out


@given(
    st.one_of(
        st.lists(_ID_TEXT, min_size=1, max_size=30),
        st.lists(st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=30),
        st.lists(
            st.one_of(_ID_TEXT, st.integers(0, 99), st.floats(0, 99)), min_size=1, max_size=30
        ),
    ),
    st.sampled_from(["object", "string", "native"]),
)
@example(["12.0", "a.0", ".0 ", "１２.0"], "object")
def test_ids_vectorised_equal_row_by_row(values: list[object], how: str) -> None:
    from geoplan.io._validate import RowLabels, unique_ids

    if how == "native" or (how == "string" and not all(isinstance(v, str) for v in values)):
        col = pd.Series(values)
    else:
        col = pd.Series(values, dtype=how)
    gdf = gpd.GeoDataFrame({"building_id": col}, geometry=[Point(0, 0)] * len(values))
    want = _row_by_row_ids(list(col))
    unique = want is not None and len(set(want)) == len(want)
    kw = {"id_col": "building_id", "kind": "buildings", "file": "b.gpkg", "original": {}}
    if unique:
        assert unique_ids(gdf, rows=RowLabels.of(gdf), **kw) == want
    else:
        with pytest.raises(InputError):
            unique_ids(gdf, rows=RowLabels.of(gdf), **kw)

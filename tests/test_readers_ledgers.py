"""Where bureaus keep their data: Excel ledgers, AMap / Baidu POI exports, --columns,
--strict, duplicate headers, ledgers without polygons, footprints whose ids repeat."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from geoplan._errors import DataQualityWarning, InputError
from geoplan.cli import main
from geoplan.crs import bd09_to_wgs84, gcj02_to_wgs84
from geoplan.io.readers import read_buildings, read_communities, read_facilities, read_table

openpyxl = pytest.importorskip("openpyxl")

LON0, LAT0 = 117.2000, 39.1200  # Tianjin Heping


def _box_wkt(lon: float, lat: float, d: float = 0.004) -> str:
    return f"POLYGON(({lon} {lat},{lon + d} {lat},{lon + d} {lat + d},{lon} {lat + d},{lon} {lat}))"


def _ledger_xlsx(path: Path, rows: list[list[object]], *, title: bool = True) -> Path:
    """A workbook as a bureau keeps it: an empty notes sheet first, a merged title row."""
    wb = openpyxl.Workbook()
    wb.active.title = "填表说明"  # empty: the reader takes the first sheet with data
    ws = wb.create_sheet("社区台账")
    start = 1
    if title:
        ws.cell(row=1, column=1, value="和平区社区基本情况台账（2025年）")
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
        start = 3  # title, a blank row, then the header
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            ws.cell(row=start + r, column=c + 1, value=value)
    wb.save(path)
    return path


_HEADER = ["社区编码", "社区名称", "社区类型", "户数（户）", "社区工作者", "geometry"]


def _communities_xlsx(tmp_path: Path, *, households: object = "2,000") -> Path:
    rows: list[list[object]] = [
        _HEADER,
        ["C1", "和平社区", "城市社区", households, 16, _box_wkt(LON0, LAT0)],
        [1002, "新兴社区", "城市社区", "１５００", "9", _box_wkt(LON0 + 0.005, LAT0)],
        ["合计", None, None, 3500, 25, None],
    ]
    return _ledger_xlsx(tmp_path / "社区台账.xlsx", rows)


def _facilities_xlsx(tmp_path: Path) -> Path:
    rows: list[list[object]] = [
        ["设施编号", "设施名称", "类别", "建筑面积", "活动面积", "经度", "纬度", "所属社区编码"],
        ["F1", "和平党群服务中心", "党群服务中心", 480, 300, LON0 + 0.002, LAT0 + 0.002, "C1"],
        ["F2", "新兴社区服务站", "社区服务站", "520", "330", LON0 + 0.007, LAT0 + 0.002, 1002],
        ["F3", "菜市场", "农贸市场", 900, None, LON0 + 0.003, LAT0 + 0.001, "C1"],
    ]
    return _ledger_xlsx(tmp_path / "设施台账.xlsx", rows, title=False)


# --------------------------------------------------------------------- Excel ledgers


def test_excel_ledger_title_row_units_text_numbers_and_total_row(tmp_path: Path) -> None:
    path = _communities_xlsx(tmp_path)
    with pytest.warns(DataQualityWarning, match=r"total row left out \(Excel row 6"):
        comm = read_communities(path, source_crs=4326)  # WKT says nothing of its CRS
    assert comm.index.tolist() == ["C1", "1002"]  # a numeric id cell reads as 1002
    assert comm["households"].tolist() == [2000.0, 1500.0]  # "2,000" and full-width "１５００"
    assert comm["workers"].tolist() == [16.0, 9.0]
    assert comm.crs.is_projected and comm.geometry.area.gt(100_000).all()


def test_excel_error_names_file_sheet_excel_row_and_column(tmp_path: Path) -> None:
    path = _communities_xlsx(tmp_path, households="约两千")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        with pytest.raises(InputError, match="'约两千' is not a number") as e:
            read_communities(path, source_crs=4326)
    assert e.value.file == f"{path}, sheet 社区台账"
    assert e.value.row == "C1 (Excel row 4)"  # title row 1, blank row 2, header row 3
    assert e.value.column == "户数（户）"


def test_excel_sheet_option_and_bad_sheet(tmp_path: Path) -> None:
    path = _communities_xlsx(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        assert len(read_communities(path, sheet="社区台账", source_crs=4326)) == 2
        assert len(read_communities(path, sheet=1, source_crs=4326)) == 2
    with pytest.raises(
        InputError, match="no sheet named '社区'; the sheets are: 填表说明, 社区台账"
    ):
        read_communities(path, sheet="社区")
    with pytest.raises(InputError, match="every sheet of the workbook is empty"):
        read_communities(_ledger_xlsx(tmp_path / "e.xlsx", [[None]], title=False))


def test_broken_workbook_is_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "台账.xlsx"
    p.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match="cannot read the workbook") as e:
        read_table(p, "communities")
    assert e.value.file == str(p)


def test_repeated_header_in_excel_names_both_columns(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["社区编码", "社区名称", "社区类型", "户数", "户数"],
        ["C1", "和平", "城市", 10, 20],
    ]
    path = _ledger_xlsx(tmp_path / "dup.xlsx", rows, title=False)
    with pytest.raises(InputError, match=r"'户数' appears twice \(columns D and E\)"):
        read_table(path, "communities")


def test_excel_floor_area_audits_end_to_end(tmp_path: Path) -> None:
    comm, fac = _communities_xlsx(tmp_path), _facilities_xlsx(tmp_path)
    before = comm.read_bytes(), fac.read_bytes()
    out = tmp_path / "out"
    args = ["audit", "floor-area", "--communities", str(comm), "--facilities", str(fac)]
    res = CliRunner().invoke(main, [*args, "--crs", "4326", "--json", "--out", str(out)])
    assert res.exit_code in (0, 1), res.output
    payload = json.loads(res.stdout)
    summary = payload["summary"]
    assert summary["communities"] == 2 and summary["households"] == 3500.0
    assert summary["service_area_m2"] == 1000.0  # 480 + 520; the wet market is no service room
    assert summary["unassigned_facilities"] == []
    assert (comm.read_bytes(), fac.read_bytes()) == before
    assert "Traceback" not in res.output
    # the tianjin-2025 minimum of 30 m2 per 100 households: C1 has 24, 1002 has 34.7
    table = pd.read_csv(out / "floor_area.csv", dtype={"community_id": str})
    per100 = table.set_index("community_id")["service_area_per_100_households__value"]
    assert per100.round(1).to_dict() == {"C1": 24.0, "1002": 34.7}
    assert res.exit_code == 1


def test_excel_organisations_audit_from_a_ledger_without_polygons(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["社区编码", "社区名称", "社区类型", "户数", "常住人口", "社区工作者", "社区社会组织"],
        ["C1", "和平社区", "城市社区", "2000", "6000", "16", "12"],
        ["C2", "新兴社区", "城市社区", "1500", "4800", "9", "3"],
    ]
    path = _ledger_xlsx(tmp_path / "社区台账.xlsx", rows)
    res = CliRunner().invoke(main, ["audit", "organisations", "--communities", str(path), "--json"])
    assert res.exit_code in (0, 1), res.output
    assert json.loads(res.stdout)["summary"]["communities"] == 2


def test_excel_bad_cell_exits_2_naming_the_excel_row(tmp_path: Path) -> None:
    comm = _communities_xlsx(tmp_path, households="-5")
    fac = _facilities_xlsx(tmp_path)
    args = ["audit", "floor-area", "--communities", str(comm), "--facilities", str(fac)]
    res = CliRunner().invoke(main, [*args, "--crs", "4326"])
    assert res.exit_code == 2
    assert "社区台账.xlsx, sheet 社区台账: row C1 (Excel row 4): column 户数（户）" in res.output
    assert "Traceback" not in res.output


# --------------------------------------------------------------------- ledger without polygons


def test_ledger_without_polygons_assigns_by_community_id(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    pd.DataFrame(
        {
            "社区编码": ["C1", "C2"],
            "社区名称": ["和平", "新兴"],
            "社区类型": ["城市", "村"],
            "户数": [2000, 300],
        }
    ).to_csv(ledger, index=False)
    fac = tmp_path / "fac.csv"
    pd.DataFrame(
        {
            "设施编号": ["F1", "F2", "F3"],
            "类别": ["社区服务中心", "社区服务中心", "社区服务中心"],
            "建筑面积": [700, 200, 100],
            "经度": [LON0, LON0 + 0.01, LON0 + 0.02],
            "纬度": [LAT0, LAT0, LAT0],
            "所属社区编码": ["C1", "C2", "C9"],
        }
    ).to_csv(fac, index=False)
    args = ["audit", "floor-area", "--communities", str(ledger), "--facilities", str(fac)]
    res = CliRunner().invoke(main, [*args, "--json"])
    assert res.exit_code in (0, 1), res.output
    summary = json.loads(res.stdout)["summary"]
    assert summary["service_area_m2"] == 900.0
    assert summary["unassigned_facilities"] == ["F3"]  # C9 is in no ledger row
    assert "C9" in res.stderr and "F3" in res.stderr  # and it is said, not only listed


def test_ledger_without_polygons_needs_community_ids(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.csv"
    pd.DataFrame({"id": ["C1"], "name": ["和平"], "kind": ["urban"], "households": [10]}).to_csv(
        ledger, index=False
    )
    fac = tmp_path / "fac.csv"
    pd.DataFrame(
        {"id": ["F1"], "category": ["community_service_centre"], "lon": [LON0], "lat": [LAT0]}
    ).to_csv(fac, index=False)
    args = ["audit", "floor-area", "--communities", str(ledger), "--facilities", str(fac)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2
    assert "need a community_id column" in res.output


# --------------------------------------------------------------------- AMap and Baidu exports


def test_amap_export_is_recognised_mapped_and_converted(tmp_path: Path) -> None:
    p = tmp_path / "amap_poi.csv"
    pd.DataFrame(
        {
            "id": ["B0FFG1", "B0FFG2", "B0FFG3", "B0FFG4"],
            "name": ["好邻居", "水产市场", "同仁堂", "公交站"],
            "type": [
                "购物服务;便民商店/便利店;便民商店/便利店",
                "购物服务;综合市场;水产海鲜市场",
                "医疗保健服务;医药保健销售店;药房",
                "交通设施服务;公交车站;公交车站相关",
            ],
            "typecode": ["060200", "", "090601", "150700"],
            "location": [
                f"{LON0},{LAT0}",
                f"{LON0 + 0.001},{LAT0}",
                f"{LON0 + 0.002},{LAT0}",
                f"{LON0 + 0.003},{LAT0}",
            ],
        }
    ).to_csv(p, index=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fac = read_facilities(p).to_crs(4326)
    texts = [str(w.message) for w in seen]
    assert any("AMap" in t and "GCJ-02" in t and "--crs 4326" in t for t in texts), texts
    assert any("1 of 4 rows have an unknown category" in t and "B0FFG4" in t for t in texts)
    assert fac["category"].to_dict() == {
        "B0FFG1": "convenience_store",
        "B0FFG2": "wet_market",  # no code: the type name 水产海鲜市场 maps
        "B0FFG3": "pharmacy",
    }
    lon, lat = gcj02_to_wgs84(LON0, LAT0)
    got = fac.geometry["B0FFG1"]
    assert abs(got.x - lon) < 1e-6 and abs(got.y - lat) < 1e-6
    assert abs(got.x - LON0) > 1e-4  # really moved (about 500 m in Tianjin)
    # given --crs, nothing is assumed
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        same = read_facilities(p, source_crs=4326).to_crs(4326)
    assert not any("GCJ-02" in str(w.message) for w in seen)
    assert abs(same.geometry["B0FFG1"].x - LON0) < 1e-9


def test_baidu_export_is_recognised_mapped_and_converted(tmp_path: Path) -> None:
    p = tmp_path / "baidu.xlsx"
    rows: list[list[object]] = [
        ["uid", "名称", "类别", "lng", "lat"],
        ["u1", "物美", "购物;超市", LON0, LAT0],
        ["u2", "庆丰包子", "美食;小吃快餐店", LON0 + 0.001, LAT0],
        ["u3", "加油站", "汽车服务;加油站", LON0 + 0.002, LAT0],
    ]
    _ledger_xlsx(p, rows, title=False)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fac = read_facilities(p, row_ids=True).to_crs(4326)
    texts = [str(w.message) for w in seen]
    assert any("Baidu" in t and "BD-09" in t for t in texts), texts
    assert any("'汽车服务;加油站'" in t and "3 (Excel row 4)" in t for t in texts), texts
    assert fac["category"].tolist() == ["supermarket", "breakfast"]
    assert fac["uid"].tolist() == ["u1", "u2"]  # Baidu's uid is kept as a column
    lon, lat = bd09_to_wgs84(LON0, LAT0)
    assert np.allclose([fac.geometry.iloc[0].x, fac.geometry.iloc[0].y], [lon, lat], atol=1e-6)


# --------------------------------------------------------------------- --strict


def _mixed_facilities(tmp_path: Path) -> tuple[Path, Path]:
    comm = tmp_path / "c.csv"
    pd.DataFrame(
        {
            "id": ["C1"],
            "name": ["和平"],
            "kind": ["urban"],
            "households": [1000],
            "geometry": [_box_wkt(LON0, LAT0, 0.01)],
        }
    ).to_csv(comm, index=False)
    fac = tmp_path / "f.csv"
    pd.DataFrame(
        {
            "id": ["F1", "F2", "F3"],
            "类别": ["社区服务中心", "spaceport", "spaceport"],
            "建筑面积": [400, 1, 1],
            "lon": [LON0 + 0.005] * 3,
            "lat": [LAT0 + 0.005] * 3,
        }
    ).to_csv(fac, index=False)
    return comm, fac


def test_unknown_categories_are_left_out_with_a_warning(tmp_path: Path) -> None:
    comm, fac = _mixed_facilities(tmp_path)
    with pytest.warns(DataQualityWarning) as seen:
        out = read_facilities(fac)
    text = " ".join(str(w.message) for w in seen)
    assert "column 类别: 2 of 3 rows have an unknown category" in text
    assert "first: F2, F3" in text and "'spaceport' ×2" in text and "--strict" in text
    assert out.index.tolist() == ["F1"]
    args = ["audit", "floor-area", "--communities", str(comm), "--facilities", str(fac)]
    args += ["--crs", "4326"]
    res = CliRunner().invoke(main, [*args, "--json"])
    assert res.exit_code in (0, 1), res.output
    assert json.loads(res.stdout)["summary"]["facilities"] == 1
    strict = CliRunner().invoke(main, [*args, "--strict"])
    assert strict.exit_code == 2
    assert "f.csv: row F2: column 类别: unknown category 'spaceport'" in strict.output


def test_no_known_category_at_all_is_bad_input(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    pd.DataFrame({"id": ["F1"], "类别": ["spaceport"], "lon": [LON0], "lat": [LAT0]}).to_csv(
        p, index=False
    )
    with pytest.raises(InputError, match="no row has a known category"):
        read_facilities(p)


# --------------------------------------------------------------------- --columns


def test_columns_option_maps_headers_for_every_file(tmp_path: Path) -> None:
    comm, fac = _mixed_facilities(tmp_path)
    frame = pd.read_csv(comm).rename(columns={"households": "住户总量", "name": "小区"})
    frame.to_csv(comm, index=False)
    args = ["audit", "floor-area", "--communities", str(comm), "--facilities", str(fac)]
    args += ["--crs", "4326"]
    missing = CliRunner().invoke(main, args)
    assert missing.exit_code == 2
    assert "--columns" in missing.output and "columns=)" not in missing.output
    ok = CliRunner().invoke(
        main, [*args, "--columns", "住户总量=households", "--columns", "小区=name", "--json"]
    )
    assert ok.exit_code in (0, 1), ok.output
    assert json.loads(ok.stdout)["summary"]["households"] == 1000.0
    both = CliRunner().invoke(main, [*args, "--columns", "住户总量=households,小区=name"])
    assert both.exit_code in (0, 1), both.output
    typo = CliRunner().invoke(
        main, [*args, "--columns", "住户总量=households,小区=name,小qu=district_code"]
    )
    assert typo.exit_code == 2 and "--columns: no input file has a column '小qu'" in typo.output
    bad = CliRunner().invoke(main, [*args, "--columns", "住户总量=hh_total"])
    assert bad.exit_code == 2 and "'hh_total' is not a canonical column name" in bad.output


def test_python_columns_mapping_still_refuses_an_absent_header(tmp_path: Path) -> None:
    comm, _ = _mixed_facilities(tmp_path)
    with pytest.raises(InputError, match="mapped column 'HH'"):
        read_communities(comm, columns={"HH": "households"})


# --------------------------------------------------------------------- duplicate headers


def test_two_headers_meaning_one_column_name_both(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    pd.DataFrame(
        {
            "id": ["C1"],
            "name": ["和平"],
            "kind": ["urban"],
            "户数": [10],
            "households": [12],
            "geometry": [_box_wkt(LON0, LAT0)],
        }
    ).to_csv(p, index=False)
    with pytest.raises(InputError, match="columns '户数' and 'households' both mean") as e:
        read_communities(p)
    assert e.value.column == "households"


def test_repeated_header_in_csv_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("id,name,kind,户数,户数\nC1,和平,urban,10,12\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"'户数' appears twice \(columns 4 and 5\)"):
        read_table(p, "communities")


# --------------------------------------------------------------------- repeated ids


@pytest.mark.shared_data
def test_real_footprints_whose_ids_repeat_read_with_row_numbers(shared_data: Path) -> None:
    path = shared_data / "buildings" / "suzhou_gusu_buildings.geojson"
    with pytest.raises(InputError, match="duplicate id '0'") as e:
        read_buildings(path)
    assert "3075 repeated ids" in str(e.value) and "--row-ids" in str(e.value)
    bld = read_buildings(path, row_ids=True)
    assert len(bld) == 3076 and bld.index[0] == "1" and bld.index.is_unique
    assert set(bld["source_id"]) == {"0"}
    assert bld["floors"].between(1, 28).all()


@pytest.mark.shared_data
def test_row_ids_option_on_the_cli(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "buildings" / "suzhou_gusu_buildings.geojson"
    comm = tmp_path / "c.csv"
    pd.DataFrame(
        {
            "id": ["320508001001"],  # a 12-digit community code
            "name": ["姑苏"],
            "kind": ["urban"],
            "households": [3000],
            "geometry": [_box_wkt(120.596, 31.289, 0.022)],
        }
    ).to_csv(comm, index=False)
    args = ["grids", "--buildings", str(path), "--communities", str(comm), "--crs", "4326"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2 and "--row-ids" in refused.output
    res = CliRunner().invoke(main, [*args, "--row-ids", "--json"])
    assert res.exit_code in (0, 1), res.output
    assert "Traceback" not in res.output

"""The problem ledger (问题台账): built from audit results, written as .xlsx and .csv.

The demo district's ledger is read back with openpyxl and pandas and checked against
the audits' own findings files (what ``geoplan demo`` writes beside it), never against
the ledger code's own helpers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner
from pyproj import Transformer

from geoplan.cli import main

HEADERS = [
    "序号",
    "区",
    "街道",
    "社区",
    "社区编码",
    "对象",
    "指标",
    "依据",
    "问题描述",
    "现状值",
    "目标值",
    "缺口",
    "单位",
    "建议措施",
    "坐标",
    "是否确认",
    "数据说明",
    "标准",
    "审计",
    "指标编号",
    "对象编码",
]
UNMEASURED_HEADERS = [
    "序号",
    "区",
    "街道",
    "社区",
    "社区编码",
    "对象",
    "指标",
    "依据",
    "原因",
    "标准",
    "审计",
    "指标编号",
    "对象编码",
]
PROFILES = ("tianjin-2025", "ningxia-2025", "gb50180-2018", "mofcom-15min")
KEY = ["标准", "审计", "指标编号", "对象编码"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ledger") / "demo"
    # the four original profiles (the demo's own default adds the two of issue 14)
    four = ["tianjin-2025", "ningxia-2025", "gb50180-2018", "mofcom-15min"]
    args = [a for p in four for a in ("--profile", p)]
    res = CliRunner().invoke(main, ["demo", "--out", str(out), "--no-map", "--json", *args])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["ledger"]["files"] == [
        str(out / "问题台账.xlsx"),
        str(out / "问题台账.csv"),
        str(out / "问题台账_无法判定.csv"),
    ]
    return out


def _read(path: Path, sheet: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=sheet, dtype=str, engine="openpyxl").fillna("")


def _findings(demo: Path) -> pd.DataFrame:
    """Every finding the demo's audits wrote, with the profile and audit they came from."""
    parts = []
    for profile in PROFILES:
        for path in sorted((demo / profile).glob("*_findings.csv")):
            f = pd.read_csv(path, dtype={"entity_id": str}, encoding="utf-8-sig")
            f["标准"] = profile
            f["审计"] = path.name.removesuffix("_findings.csv")
            parts.append(f)
    return pd.concat(parts, ignore_index=True)


def test_demo_ledger_opens_with_exact_headers(demo: Path) -> None:
    wb = openpyxl.load_workbook(demo / "问题台账.xlsx")
    assert wb.sheetnames == ["问题台账", "无法判定", "说明"]
    ws = wb["问题台账"]
    assert [c.value for c in ws[1]] == HEADERS
    assert ws.freeze_panes == "A2"  # the header row stays in view
    assert ws.max_row > 100
    for letter in ("B", "G", "N"):  # 区, 指标, 建议措施 have widths set
        assert ws.column_dimensions[letter].width >= 6
    assert ws.column_dimensions["N"].width == 40
    assert [c.value for c in wb["无法判定"][1]] == UNMEASURED_HEADERS
    about = {str(r[0].value): str(r[1].value) for r in wb["说明"].iter_rows(min_row=2)}
    assert about["生成日期 (date)"][:4].isdigit()
    assert about["数据来源 (input)"].endswith("sample_district.gpkg")
    shown = [
        v for k, v in wb["说明"].iter_rows(min_row=2, values_only=True) if k == "标准 (profile)"
    ]
    assert [s.split("：")[0] for s in shown] == list(PROFILES)


def test_every_failing_finding_appears_once_with_the_audits_shortfall(demo: Path) -> None:
    ledger = _read(demo / "问题台账.xlsx", "问题台账")
    f = _findings(demo)
    failed = f[f["passed"].astype(str).eq("False")].rename(
        columns={"check_id": "指标编号", "entity_id": "对象编码"}
    )
    assert len(failed) > 400
    assert not ledger.duplicated(KEY).any()
    both = failed.merge(ledger, on=KEY, how="outer", indicator=True, validate="one_to_one")
    assert set(both["_merge"]) <= {"both", "left_only"}  # no row without its finding
    # a finding with no row of its own is a facility's, folded into its community's row
    # of the same check, which says the same and names the facility
    folded = both[both["_merge"].eq("left_only")]
    assert len(folded) > 0
    fac = gpd.read_file(demo / "inputs" / "sample_district.gpkg", layer="facilities")
    community_of = dict(zip(fac["facility_id"], fac["community_id"], strict=True))
    for r in folded.itertuples():
        assert r.scope == "facility"
        host = ledger[
            ledger["标准"].eq(r.标准)
            & ledger["指标编号"].eq(r.指标编号)
            & ledger["对象编码"].eq(community_of[r.对象编码])
        ]
        assert len(host) == 1 and host["对象"].iloc[0].endswith(f"（{r.对象编码}）")
        assert host["问题描述"].iloc[0] == r.text_zh
    assert len(ledger) == len(failed) - len(folded)
    both = both[both["_merge"].eq("both")]
    for row in both.itertuples():
        unit = str(row.unit)
        if unit == "flag":
            assert row.缺口 == "" and row.现状值 == "否" and row.目标值 == "是"
            continue
        scale = 100.0 if unit == "share" or unit.startswith("share ") else 1.0
        assert float(row.缺口) == pytest.approx(float(row.shortfall) * scale, abs=1e-3)
        assert float(row.现状值) == pytest.approx(float(row.value) * scale, abs=1e-3)
        assert float(row.缺口) > 0
    # the passing findings are no rows
    passed = f[f["passed"].astype(str).eq("True")]
    keys = set(map(tuple, ledger[KEY].to_numpy().tolist()))
    assert not any(
        (p.标准, p.审计, p.check_id, str(p.entity_id)) in keys for p in passed.itertuples()
    )


def test_ledger_is_sorted_by_district_street_community(demo: Path) -> None:
    ledger = _read(demo / "问题台账.xlsx", "问题台账")
    assert set(ledger["区"]) == {"南开区(样例片区)"}  # the communities' district_name
    streets = ledger.loc[ledger["社区编码"].ne(""), "街道"]
    assert set(streets) == {"水上公园街道", "王顶堤街道", "华苑街道", "西营门街道"}
    assert set(ledger.loc[ledger["社区编码"].eq(""), "街道"]) == {""}  # area-wide rows
    order = list(zip(ledger["区"], ledger["街道"], ledger["社区编码"], strict=True))
    assert order == sorted(order)
    # area-wide rows (no community) come first in their district
    area = ledger["社区编码"].eq("")
    assert area.any() and not area.iloc[int(area.sum()) :].any()
    assert set(ledger.loc[area, "对象"]) <= {"全区", "中心城区"}
    # a facility's row sits with its community
    fac = ledger[ledger["对象编码"].str.startswith("F")]
    assert len(fac) > 0 and fac["社区编码"].ne("").all()


def test_places_remedies_and_notes(demo: Path) -> None:
    ledger = _read(demo / "问题台账.xlsx", "问题台账")
    comm = gpd.read_file(demo / "inputs" / "sample_district.gpkg", layer="communities")
    comm = comm.set_index("community_id").to_crs(32650)
    to_wgs = Transformer.from_crs(32650, 4326, always_xy=True)
    rows = ledger[ledger["对象"].eq("社区")]
    for cid, lonlat in rows.groupby("社区编码")["坐标"].first().items():
        p = comm.loc[cid].geometry.representative_point()
        lon, lat = to_wgs.transform(p.x, p.y)
        assert lonlat == f"{lon:.6f},{lat:.6f}"
        assert rows.loc[rows["社区编码"].eq(cid), "社区"].eq(comm.loc[cid, "name"]).all()
    # the floor area to add, from the audit's own m2
    f = _findings(demo)
    fa = f[
        (f["check_id"] == "service_area_per_100_households") & (f["passed"].astype(str) == "False")
    ]
    mine = ledger[ledger["指标编号"].eq("service_area_per_100_households")]
    for r in fa.itertuples():
        got = mine[mine["标准"].eq(r.标准) & mine["对象编码"].eq(r.entity_id)]["建议措施"]
        need = math.ceil(float(r.shortfall_m2) - 1e-9)
        assert got.tolist() == [f"增加社区综合服务设施建筑面积 {need:,} 平方米"]
    # a shortfall against an unconfirmed figure says so
    unconfirmed = f[(f["confirmed"].astype(str) == "False") & (f["passed"].astype(str) == "False")]
    assert len(unconfirmed) > 0
    flagged = ledger[ledger["是否确认"].str.startswith("否")]
    assert set(zip(flagged["标准"], flagged["指标编号"], strict=True)) == set(
        zip(unconfirmed["标准"], unconfirmed["check_id"], strict=True)
    )
    # estimated households are named where a coverage row rests on them
    cov = pd.read_csv(demo / "tianjin-2025" / "coverage.csv", dtype={"community_id": str})
    est = cov[cov["households_estimated"].astype(str).eq("True")]
    estimated = set(est.loc[est["households"] > 0, "community_id"])
    rows = ledger[ledger["审计"].eq("coverage") & ledger["社区编码"].ne("")]
    noted = set(rows.loc[rows["数据说明"].str.contains("为估算"), "社区编码"])
    assert noted and noted <= estimated
    assert rows.loc[~rows["社区编码"].isin(estimated), "数据说明"].eq("").all()


def test_unmeasurable_checks_are_listed_not_passed(demo: Path) -> None:
    sheet = _read(demo / "问题台账.xlsx", "无法判定")
    expected = set()
    for profile in PROFILES:
        for path in (demo / profile).glob("*.json"):
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            for tid in data.get("summary", {}).get("not_measured") or {}:
                expected.add((profile, data["audit"], tid))
    assert len(expected) >= 5
    got = set(zip(sheet["标准"], sheet["审计"], sheet["指标编号"], strict=True))
    assert got == expected
    assert sheet["原因"].str.startswith("未测").all()
    ledger = _read(demo / "问题台账.xlsx", "问题台账")
    assert not set(sheet["指标编号"]) & set(ledger["指标编号"])


def test_csv_round_trip(demo: Path) -> None:
    raw = (demo / "问题台账.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Chinese
    csv = pd.read_csv(demo / "问题台账.csv", dtype=str, encoding="utf-8-sig").fillna("")
    xlsx = _read(demo / "问题台账.xlsx", "问题台账")
    assert list(csv.columns) == HEADERS
    text = ["区", "社区", "社区编码", "对象", "指标", "依据", "建议措施", "坐标", *KEY]
    pd.testing.assert_frame_equal(csv[text], xlsx[text])
    for col in ("现状值", "缺口"):
        a = pd.to_numeric(csv[col], errors="coerce")
        b = pd.to_numeric(xlsx[col], errors="coerce")
        assert a.isna().equals(b.isna())
        assert (a - b).abs().max() < 1e-6
    un = pd.read_csv(demo / "问题台账_无法判定.csv", dtype=str, encoding="utf-8-sig")
    assert list(un.columns) == UNMEASURED_HEADERS


def test_passing_audit_gives_an_empty_ledger_with_headers(tmp_path: Path) -> None:
    from geoplan.audit.development import audit_development, read_context, read_plan
    from geoplan.report.ledger import problem_ledger, write_ledger

    plan = read_plan("data/plans/pass.gpkg")
    ctx = read_context("data/plans/context.gpkg", metric_crs=plan.site.crs)
    result = audit_development(plan, ctx, profiles=["ningxia-2025"])
    assert result.passed
    ledger = problem_ledger(result)
    assert len(ledger) == 0 and list(ledger.columns) == HEADERS[1:]
    write_ledger(ledger, tmp_path / "l.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "l.xlsx")["问题台账"]
    assert [c.value for c in ws[1]] == HEADERS and ws.max_row == 1
    assert pd.read_csv(tmp_path / "l.csv", encoding="utf-8-sig").columns.tolist() == HEADERS


def test_names_streets_and_a_missing_value(tmp_path: Path) -> None:
    """District and street names come from the communities; a missing value is no
    failure and no pass: it is listed as not measurable."""
    from geoplan.audit import audit_organisations
    from geoplan.report.ledger import problem_ledger
    from geoplan.sample import make_sample_district

    comm = make_sample_district(seed=0).communities.copy()
    n = len(comm)
    comm["district_name"] = ["西区" if i % 2 else "东区" for i in range(n)]
    comm["district_code"] = ["120199" if i % 2 else "120101" for i in range(n)]
    comm["street_name"] = [f"第{i % 3}街道" for i in range(n)]
    lost = comm.index[0]
    comm.loc[lost, "workers"] = float("nan")
    result = audit_organisations(comm, profile="ningxia-2025")
    ledger = problem_ledger(result)
    assert set(ledger["区"]) == {"东区", "西区"}
    # sorted by district (its code: 东区 120101 before 西区 120199), street, community
    codes = ledger["区"].map({"东区": "120101", "西区": "120199"})
    order = list(zip(codes, ledger["街道"], ledger["社区编码"], strict=True))
    assert order == sorted(order)
    named = ledger[ledger["社区编码"].ne("")]
    assert (named["街道"] == comm.loc[named["社区编码"], "street_name"].to_numpy()).all()
    un = ledger.attrs["unmeasured"]
    row = un[un["对象编码"].eq(str(lost)) & un["指标编号"].eq("workers_per_10k")]
    assert len(row) == 1 and row["原因"].iloc[0].startswith("未测")
    mine = ledger[ledger["对象编码"].eq(str(lost)) & ledger["指标编号"].eq("workers_per_10k")]
    assert len(mine) == 0
    en = problem_ledger(result, lang="en")
    assert list(en.columns[:3]) == ["district", "street", "community"]
    assert en["remedy"].str.len().gt(0).all() and len(en) == len(ledger)


def test_audit_commands_write_the_ledger(tmp_path: Path) -> None:
    from geoplan.sample import make_sample_district

    [gpkg] = make_sample_district(seed=0).to_files(tmp_path / "in")
    runner = CliRunner()
    args = ["audit", "floor-area", "--communities", str(gpkg), "--facilities", str(gpkg)]
    res = runner.invoke(main, [*args, "--ledger", str(tmp_path / "fa.xlsx")])
    assert res.exit_code == 1, res.output  # the sample district fails some checks
    assert "问题台账" in res.output
    ledger = _read(tmp_path / "fa.xlsx", "问题台账")
    assert set(ledger["审计"]) == {"floor_area"} and len(ledger) > 10
    assert (tmp_path / "fa.csv").exists() and (tmp_path / "fa_无法判定.csv").exists()
    res = runner.invoke(main, [*args, "--ledger", str(tmp_path / "fa.txt")])
    assert res.exit_code == 2 and ".xlsx or .csv" in res.output
    res = runner.invoke(
        main,
        ["audit", "organisations", "--communities", str(gpkg), "--ledger", str(tmp_path / "o.csv")],
    )
    assert res.exit_code == 1, res.output
    org = pd.read_csv(tmp_path / "o.csv", dtype=str, encoding="utf-8-sig")
    assert set(org["审计"]) == {"organisations"}


def test_access_rows_and_building_checks_folded_per_community() -> None:
    """Capacity within reach (2SFCA) becomes ledger rows like any audit; a
    building-scoped target is folded into one row per community and check."""
    import dataclasses

    from geoplan.audit.access import audit_access
    from geoplan.households import estimate_households
    from geoplan.network import network_from_lines
    from geoplan.profiles import load_profile
    from geoplan.report.ledger import problem_ledger
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    comm = d.communities
    net = network_from_lines(d.streets.to_crs(comm.crs)).prepare()
    prof = load_profile("city-health-check")
    tid = "wet_market_floor_area_per_1000"
    b = estimate_households(d.buildings, params=prof, areas=[d.compounds, comm])
    args = {"category": "wet_market", "supply_column": "floor_area_m2", "within_min": 10.0}
    r = audit_access(b, d.facilities, net, profile=prof, communities=comm, **args)
    failed = r.findings[r.findings["passed"].eq(False) & r.findings["check_id"].eq(tid)]
    assert 0 < len(failed) < len(comm)
    ledger = problem_ledger(r, communities=comm)
    mine = ledger[ledger["指标编号"].eq(tid)].set_index("对象编码")
    assert sorted(mine.index) == sorted(failed["entity_id"].astype(str))
    for f in failed.itertuples():
        assert float(mine.loc[str(f.entity_id), "缺口"]) == pytest.approx(f.shortfall, abs=1e-3)
    assert mine["建议措施"].str.startswith("在步行可达范围内增加菜市场建筑面积").all()
    # the same target judged building by building
    t = dataclasses.replace(prof.target(tid), scope="building")
    per_building = dataclasses.replace(
        prof, targets=tuple(t if x.id == tid else x for x in prof.targets)
    )
    r2 = audit_access(b, d.facilities, net, profile=per_building, communities=comm, **args)
    bad = r2.findings[r2.findings["passed"].eq(False) & r2.findings["check_id"].eq(tid)]
    assert len(bad) > 50
    folded = problem_ledger(r2, communities=comm, profiles=[per_building])
    rows = folded[folded["指标编号"].eq(tid)]
    where = r2.table.loc[bad["entity_id"], "community_id"].fillna("")
    assert sorted(rows["社区编码"]) == sorted(set(where))
    counts = rows["对象"].str.extract(r"^(\d+) 栋建筑$")[0].astype(int)
    assert int(counts.sum()) == len(bad)
    for cid, row in rows.set_index("社区编码").iterrows():
        mask = where.eq(cid).to_numpy()
        assert float(row["缺口"]) == pytest.approx(
            bad["shortfall"].to_numpy()[mask].max(), abs=1e-3
        )


def test_development_ledger_places_rooms_on_their_site(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        main,
        [
            "audit",
            "development",
            "data/plans/fail.gpkg",
            "--context",
            "data/plans/context.gpkg",
            "--profile",
            "tianjin-2025",
            "--ledger",
            str(tmp_path / "dev.xlsx"),
        ],
    )
    assert res.exit_code == 1, res.output
    ledger = _read(tmp_path / "dev.xlsx", "问题台账")
    assert len(ledger) > 0 and ledger["社区"].ne("").all()
    assert set(ledger["社区编码"]) == {"DEV-F01"}
    assert "地块" in set(ledger["对象"])
    # a development's remedies are the audit's own
    assert ledger["建议措施"].str.contains("平方米").any()

"""The embedded-services complex checks (城市社区嵌入式服务设施建设导则（试行）, 2024):
complex floor area, number of functions and of key functions, per facility."""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit import audit_floor_area
from geoplan.audit._complex import FUNCTION_NAMES, function_ids, parse_functions
from geoplan.audit.results import AuditResult
from geoplan.cli import main
from geoplan.io.columns import alias_lookup, normalise_name
from geoplan.profiles import Parameter, load_profile
from geoplan.sample import make_sample_district

PROFILE = "embedded-services-2024"
CRS = 32650
COMPLEX = (
    "embedded_complex_area",
    "embedded_complex_area_possible",
    "embedded_complex_functions",
    "embedded_complex_key_functions",
)
KEY = {"elderly_care", "infant_care", "after_school_care", "meals"}


def _frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    comm = gpd.GeoDataFrame(
        {
            "name": ["和平社区", "新苑社区"],
            "kind": ["urban", "urban"],
            "households": [2000.0, 900.0],
        },
        geometry=[box(0, 0, 500, 500), box(500, 0, 1000, 500)],
        crs=CRS,
        index=pd.Index(["C1", "C2"], name="community_id"),
    )
    fac = gpd.GeoDataFrame(
        {
            "name": ["和平中心", "新苑中心", "新苑二部", "超市", "空白中心"],
            "category": [
                "community_service_centre",
                "community_service_centre",
                "community_service_centre",
                "supermarket",
                "community_service_centre",
            ],
            "floor_area_m2": [820.0, 600.0, 350.0, 1200.0, np.nan],
            "functions": [
                "养老服务、婴幼儿托育、社区助餐、文化活动",  # 4 functions, 3 key
                "养老，养老服务; Elderly Care/health",  # one function named 3 ways + health
                "儿童托管",  # 1 and 1
                "养老服务、托育、助餐",  # a supermarket is no complex
                "",  # no data
            ],
        },
        geometry=[
            Point(100, 100),
            Point(600, 100),
            Point(700, 200),
            Point(800, 300),
            Point(200, 300),
        ],
        crs=CRS,
        index=pd.Index(["F1", "F2", "F3", "F4", "F5"], name="facility_id"),
    )
    return comm, fac


def _verdict(value: object) -> bool | None:
    return None if value is None or value is pd.NA or value != value else bool(value)


def _audit(comm: gpd.GeoDataFrame, fac: gpd.GeoDataFrame, profile: object = PROFILE) -> AuditResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return audit_floor_area(comm, fac, profile=profile)  # type: ignore[arg-type]


# ------------------------------------------------------------------ reading functions


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        ("养老服务、婴幼儿托育", ("养老服务", "婴幼儿托育")),
        ("养老服务，婴幼儿托育；社区助餐", ("养老服务", "婴幼儿托育", "社区助餐")),
        ("elderly care, meals;health / culture", ("elderly care", "meals", "health", "culture")),
        ("托育／托管|助餐", ("托育", "托管", "助餐")),
        (["养老", "托育"], ("养老", "托育")),
        (("  助餐 ",), ("助餐",)),
        ("", None),
        ("、 ,", None),
        ([], None),
        (None, None),
        (math.nan, None),
        (pd.NA, None),
    ],
)
def test_parse_functions(raw: object, names: tuple[str, ...] | None) -> None:
    assert parse_functions(raw) == names


def test_a_number_is_not_a_functions_entry() -> None:
    with pytest.raises(InputError, match="text or a list") as err:
        parse_functions(3)
    assert err.value.column == "functions"


def test_function_names_map_to_ids_in_both_languages() -> None:
    assert function_ids(["养老服务", "ELDERLY CARE", "elderly_care", "日间照料"]) == {
        "elderly_care"
    }
    assert function_ids(["婴幼儿托育", "托育", "Infant care"]) == {"infant_care"}
    assert function_ids(["儿童托管", "四点半课堂", "after-school care"]) == {"after_school_care"}
    assert function_ids(["社区助餐", "老年食堂", "Meals"]) == {"meals"}
    assert function_ids(["书法班", "书法班 "]) == {"书法班"}
    # every name belongs to one function only
    seen: dict[str, str] = {}
    for fid, names in FUNCTION_NAMES.items():
        for n in names:
            key = normalise_name(n)
            assert seen.setdefault(key, fid) == fid, (n, fid, seen[key])


def test_the_functions_column_has_chinese_aliases() -> None:
    lookup = alias_lookup()
    for header in ("functions", "服务功能", "功能业态", "服务内容"):
        assert lookup[normalise_name(header)] == "functions"
    assert lookup[normalise_name("功能")] == "use"  # a building's use, as before


# ------------------------------------------------------------------ the audit, small frame


def test_complex_checks_on_a_small_frame() -> None:
    comm, fac = _frames()
    r = _audit(comm, fac)
    t = r.extra["facilities"]
    # independent: counts written out by hand from the entries above
    assert t.loc["F1", "embedded_complex_functions__value"] == 4.0
    assert t.loc["F1", "embedded_complex_key_functions__value"] == 3.0
    assert t.loc["F2", "embedded_complex_functions__value"] == 2.0
    assert t.loc["F2", "embedded_complex_key_functions__value"] == 1.0
    assert t.loc["F3", "embedded_complex_functions__value"] == 1.0
    assert t.loc["F3", "embedded_complex_key_functions__value"] == 1.0
    passed = {c: {k: _verdict(v) for k, v in t[f"{c}__pass"].items()} for c in COMPLEX}
    assert passed["embedded_complex_area"] == {
        "F1": True,
        "F2": True,  # 600 m2 meets ">= 600"
        "F3": False,
        "F4": None,  # a supermarket is not checked
        "F5": None,  # no floor area: no data
    }
    assert passed["embedded_complex_area_possible"]["F1"] is True
    assert passed["embedded_complex_area_possible"]["F2"] is False
    assert passed["embedded_complex_functions"] == {
        "F1": True,
        "F2": False,
        "F3": False,
        "F4": None,
        "F5": None,  # an empty entry is no data, never a pass
    }
    assert passed["embedded_complex_key_functions"]["F1"] is True
    assert passed["embedded_complex_key_functions"]["F2"] is False
    assert t.loc["F3", "embedded_complex_area__shortfall_m2"] == 250.0
    assert t.loc["F3", "embedded_complex_area_possible__shortfall_m2"] == 450.0
    # findings: one row per service facility and check, at facility scope
    f = r.findings[r.findings["check_id"].isin(COMPLEX)]
    assert set(f["scope"]) == {"facility"}
    assert set(f["entity_id"]) == {"F1", "F2", "F3", "F5"}
    fc = r.summary["facility_checks"]
    assert fc["embedded_complex_functions"] == fc["embedded_complex_functions"] | {
        "applicable": 4,
        "passed": 1,
        "failed": 2,
        "not_measured": 1,
    }
    # the complex checks are no community checks
    assert not set(COMPLEX) & set(r.summary["checks"])
    # the community checks of the same profile still run: 30 m2 per 100 households
    assert r.table.loc["C1", "embedded_area_per_100_households__value"] == pytest.approx(41.0)
    assert r.table.loc["C2", "embedded_area_per_100_households__value"] == pytest.approx(
        (600 + 350) / 900 * 100
    )
    no_data = f[(f["entity_id"] == "F5") & (f["check_id"] == "embedded_complex_functions")]
    assert no_data["passed"].iloc[0] is None or pd.isna(no_data["passed"].iloc[0])
    # it says which cell to fill: the column is there, F5's entry is empty
    assert no_data["text_zh"].iloc[0] == "未测：functions 列为空（设施表，服务功能），请填写"
    assert "the functions cell is empty" in no_data["text_en"].iloc[0]


def test_without_a_functions_column_the_function_checks_are_no_data() -> None:
    comm, fac = _frames()
    r = _audit(comm, fac.drop(columns="functions"))
    fc = r.summary["facility_checks"]
    for c in ("embedded_complex_functions", "embedded_complex_key_functions"):
        assert (fc[c]["passed"], fc[c]["failed"], fc[c]["not_measured"]) == (0, 0, 4)
    f = r.findings[r.findings["check_id"] == "embedded_complex_functions"]
    assert f["text_en"].str.contains("functions").all()
    assert f["text_zh"].str.contains("functions 列").all()
    assert fc["embedded_complex_area"]["failed"] == 1  # area is still measured


def test_the_key_functions_come_from_the_profile() -> None:
    comm, fac = _frames()
    p = load_profile(PROFILE)
    par = p.parameters["key_functions"]
    only_meals = dataclasses.replace(
        p,
        parameters={**p.parameters, "key_functions": dataclasses.replace(par, value=("meals",))},
    )
    t = _audit(comm, fac, only_meals).extra["facilities"]
    assert t["embedded_complex_key_functions__value"].to_dict() == pytest.approx(
        {"F1": 1.0, "F2": 0.0, "F3": 0.0, "F4": np.nan, "F5": np.nan}, nan_ok=True
    )
    bad = dataclasses.replace(
        p,
        parameters={
            **p.parameters,
            "key_functions": Parameter("key_functions", ("karaoke",), "ids", "ndrc-2024-embedded"),
        },
    )
    with pytest.raises(InputError, match="unknown function ids karaoke") as err:
        _audit(comm, fac, bad)
    assert err.value.column == "key_functions"


def test_the_threshold_is_the_profiles() -> None:
    comm, fac = _frames()
    p = load_profile(PROFILE).derive("strict", thresholds={"embedded_complex_area": 900.0})
    t = _audit(comm, fac, p).extra["facilities"]
    assert _verdict(t.loc["F1", "embedded_complex_area__pass"]) is False
    assert t.loc["F1", "embedded_complex_area__shortfall_m2"] == 80.0


# ------------------------------------------------------------------ the demo sample

_OPTIONS = (
    ("养老服务、婴幼儿托育、社区助餐", 3, 3),
    ("养老服务，文化活动", 2, 1),
    ("elderly care; meals; health", 3, 2),
    ("儿童托管/托育/助餐/卫生服务", 4, 3),
    ("", None, None),
)


def _demo_with_functions() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, dict[str, tuple]]:
    d = make_sample_district(seed=0)
    fac = d.facilities.copy()
    centres = fac.index[fac["category"].eq("community_service_centre").to_numpy()]
    expected = {}
    fac["functions"] = None
    for i, fid in enumerate(centres):
        text, n, k = _OPTIONS[i % len(_OPTIONS)]
        fac.loc[fid, "functions"] = text
        expected[str(fid)] = (n, k)
    return d.communities, fac, expected


def test_complex_checks_on_the_demo_sample() -> None:
    comm, fac, expected = _demo_with_functions()
    r = _audit(comm, fac)
    t = r.extra["facilities"]
    centres = [str(i) for i in fac.index[fac["category"].eq("community_service_centre")]]
    assert len(centres) >= 20
    n_values = t["embedded_complex_functions__value"].astype(float)
    k_values = t["embedded_complex_key_functions__value"].astype(float)
    for fid in centres:
        n, k = expected[fid]
        got_n, got_k = float(n_values[fid]), float(k_values[fid])
        if n is None:
            assert math.isnan(got_n) and math.isnan(got_k)
            assert _verdict(t.loc[fid, "embedded_complex_functions__pass"]) is None
        else:
            assert (got_n, got_k) == (n, k), fid
            assert bool(t.loc[fid, "embedded_complex_functions__pass"]) == (n >= 3)
            assert bool(t.loc[fid, "embedded_complex_key_functions__pass"]) == (k >= 2)
        # area: the facility's own floor area against 600 and 800 m2
        area = float(fac.loc[fid, "floor_area_m2"])
        assert bool(t.loc[fid, "embedded_complex_area__pass"]) == (area >= 600.0)
        assert bool(t.loc[fid, "embedded_complex_area_possible__pass"]) == (area >= 800.0)
        assert t.loc[fid, "embedded_complex_area__shortfall_m2"] == pytest.approx(
            max(600.0 - area, 0.0)
        )
    others = t.index[~t.index.isin(centres)]
    assert t.loc[others, "embedded_complex_area__pass"].isna().all()
    fc = r.summary["facility_checks"]
    assert fc["embedded_complex_area"]["applicable"] == len(centres)
    n_blank = sum(1 for fid in centres if expected[fid][0] is None)
    assert fc["embedded_complex_functions"]["not_measured"] == n_blank > 0
    # the sample district as generated has no functions column: no data, never a pass
    plain = _audit(comm, fac.drop(columns="functions")).summary["facility_checks"]
    assert plain["embedded_complex_functions"]["passed"] == 0
    assert plain["embedded_complex_functions"]["not_measured"] == len(centres)
    assert plain["embedded_complex_area"] == fc["embedded_complex_area"]


def test_cli_audits_the_demo_files_with_the_embedded_profile(tmp_path: Path) -> None:
    comm, fac, expected = _demo_with_functions()
    cpath = tmp_path / "communities.gpkg"
    fpath = tmp_path / "facilities.gpkg"
    comm.to_file(cpath, layer="communities", driver="GPKG", engine="pyogrio")
    fac.rename(columns={"functions": "服务功能"}).to_file(
        fpath, layer="facilities", driver="GPKG", engine="pyogrio"
    )
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
            "--profile",
            PROFILE,
            "--out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 1, res.output  # failures found
    data = json.loads(res.output[res.output.index("{") :])
    fc = data["summary"]["facility_checks"] if "summary" in data else data["facility_checks"]
    n_fail = sum(1 for n, k in expected.values() if n is not None and n < 3)
    assert fc["embedded_complex_functions"]["failed"] == n_fail
    findings = pd.read_csv(out / "floor_area_findings.csv")
    rows = findings[findings["check_id"] == "embedded_complex_key_functions"]
    assert len(rows) == len(expected)

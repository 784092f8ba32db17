"""Floor-area audit: the figures of the issue come out exactly; thresholds come from profiles."""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit import assign_facilities, audit_floor_area
from geoplan.profiles import load_profile

CRS = 32650


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["和平社区", "新苑社区", "李庄村", "光华社区"],
            "kind": ["urban", "urban", "village", "urban"],
            "households": [2000.0, 1000.0, 400.0, 800.0],
            "residents": [5200.0, 2600.0, 1100.0, 2000.0],
            "new_development": [False, True, False, False],
            "total_floor_area_m2": [np.nan, 100_000.0, np.nan, np.nan],
            "commercial_service_area_m2": [np.nan, 8_000.0, np.nan, np.nan],
            "developer_service_rooms_m2": [np.nan, 240.0, np.nan, np.nan],
        },
        geometry=[
            box(0, 0, 500, 500),
            box(500, 0, 1000, 500),
            box(0, 500, 500, 1000),
            box(500, 500, 1000, 1000),
        ],
        crs=CRS,
        index=pd.Index(["C1", "C2", "V1", "C3"], name="community_id"),
    )


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": ["和平党群服务中心", "新苑服务中心", "李庄村服务站", "菜市场", "光华服务站"],
            "category": [
                "community_service_centre",
                "community_service_centre",
                "community_service_centre",
                "wet_market",
                "community_service_centre",
            ],
            "floor_area_m2": [480.0, 400.0, 320.0, 1500.0, 300.0],
            "activity_area_m2": [300.0, 260.0, 150.0, np.nan, 200.0],
        },
        geometry=[
            Point(250, 250),
            Point(750, 250),
            Point(250, 750),
            Point(260, 260),
            Point(1020, 750),
        ],  # the last is 20 m outside C3: assigned as nearby
        crs=CRS,
        index=pd.Index(["F1", "F2", "F3", "F4", "F5"], name="facility_id"),
    )


def test_issue_example_2000_households_480_m2() -> None:
    r = audit_floor_area(_communities(), _facilities(), profile="tianjin-2025")
    t = r.table
    k = "service_area_per_100_households"
    assert t.loc["C1", f"{k}__value"] == pytest.approx(24.0)
    assert t.loc["C1", f"{k}__required_m2"] == 600.0
    assert t.loc["C1", f"{k}__shortfall_m2"] == 120.0
    assert not t.loc["C1", f"{k}__pass"]
    # C2: 400 m2 for 1000 households = 40 per 100: passes, no shortfall
    assert t.loc["C2", f"{k}__pass"]
    assert t.loc["C2", f"{k}__shortfall_m2"] == 0.0
    # a village is not judged per 100 households but on its 300 m2 minimum
    assert pd.isna(t.loc["V1", f"{k}__pass"])
    assert t.loc["V1", "village_service_area__value"] == 320.0
    assert t.loc["V1", "village_service_area__pass"]
    # the wet market does not count as community service floor area
    assert t.loc["C1", "service_area_m2"] == 480.0


def test_new_development_checks() -> None:
    r = audit_floor_area(_communities(), _facilities(), profile="ningxia-2025")
    t = r.table
    # 8,000 of 100,000 m2 = 8% < 10%: short 2,000 m2
    assert t.loc["C2", "new_commercial_service_share__value"] == pytest.approx(0.08)
    assert t.loc["C2", "new_commercial_service_share__shortfall_m2"] == pytest.approx(2000.0)
    # 240 m2 of rooms for 1,000 households = 0.24 m2 < 0.3: short 60 m2
    assert t.loc["C2", "developer_service_rooms__value"] == pytest.approx(0.24)
    assert t.loc["C2", "developer_service_rooms__shortfall_m2"] == pytest.approx(60.0)
    # not a new development: not applicable
    assert pd.isna(t.loc["C1", "developer_service_rooms__pass"])


def test_activity_share_per_facility_and_community() -> None:
    r = audit_floor_area(_communities(), _facilities(), profile="tianjin-2025")
    fac = r.extra["facilities"]
    # F3: 150 / 320 = 0.469 < 0.6: short 42 m2 of activity area
    assert fac.loc["F3", "activity_share__value"] == pytest.approx(150 / 320)
    assert fac.loc["F3", "activity_share__shortfall_m2"] == pytest.approx(0.6 * 320 - 150)
    assert fac.loc["F1", "activity_share__pass"]
    assert pd.isna(fac.loc["F4", "activity_share__pass"])  # a wet market is not a service facility
    assert r.table.loc["V1", "activity_share__pass"] == False  # noqa: E712
    # findings keep the two levels apart: communities (their facilities together)
    # and each facility, so a summary never counts a community as a facility
    rows = r.findings[r.findings["check_id"] == "activity_share"]
    by_scope = rows.groupby("scope")["entity_id"].apply(set).to_dict()
    assert by_scope["facility"] == set(fac.index[fac["activity_share__pass"].notna()])
    assert by_scope["community"] <= set(r.table.index)
    assert not by_scope["facility"] & by_scope["community"]


def test_nearby_facility_assigned_and_far_one_reported() -> None:
    fac = _facilities()
    fac.loc["F6"] = ["远处服务站", "community_service_centre", 100.0, 80.0, Point(5000, 5000)]
    with pytest.warns(DataQualityWarning, match="F6"):
        r = audit_floor_area(_communities(), fac, profile="tianjin-2025")
    f = r.extra["facilities"]
    assert f.loc["F5", "assign_method"] == "nearby"
    assert f.loc["F5", "assign_distance_m"] == pytest.approx(20.0)
    assert f.loc["F5", "community_id"] == "C3"
    assert f.loc["F6", "assign_method"] == "unassigned"
    assert r.summary["unassigned_facilities"] == ["F6"]
    assert len(f) == len(fac)  # nothing dropped


def test_threshold_from_profile_not_code() -> None:
    base = load_profile("tianjin-2025")
    strict = base.derive(name="strict", thresholds={"service_area_per_100_households": 50.0})
    r = audit_floor_area(_communities(), _facilities(), profile=strict)
    # C2 had 40 per 100 households: passes at 30, fails at 50, short 100 m2
    assert not r.table.loc["C2", "service_area_per_100_households__pass"]
    assert r.table.loc["C2", "service_area_per_100_households__shortfall_m2"] == 100.0
    assert r.profile == "strict"


def test_result_aligned_json_and_not_mutating() -> None:
    comm, fac = _communities(), _facilities()
    before = comm.copy()
    r = audit_floor_area(comm, fac, profile="tianjin-2025")
    assert r.table.index.equals(comm.index)
    assert r.extra["facilities"].index.equals(fac.index)
    pd.testing.assert_frame_equal(comm, before)
    data = json.loads(r.to_json())
    assert data["passed"] is False
    assert data["summary"]["checks"]["service_area_per_100_households"]["failed"] >= 1
    assert "和平社区" in r.to_json()
    assert r.to_json() == audit_floor_area(comm, fac, profile="tianjin-2025").to_json()


def test_assign_unknown_community_id_is_reported_and_placed_by_location() -> None:
    fac = _facilities()
    fac["community_id"] = ["C1", "C2", "NOPE", None, None]
    with pytest.warns(DataQualityWarning, match=r"F3 \(NOPE\)"):
        out = assign_facilities(fac, _communities(), max_distance_m=50)
    assert out.loc["F3", "assign_method"] != "given"


def test_assign_requires_same_crs() -> None:
    with pytest.raises(InputError, match="CRS"):
        assign_facilities(_facilities().to_crs(4326), _communities(), max_distance_m=50)


def test_missing_floor_area_counts_as_zero_with_warning() -> None:
    fac = _facilities()
    fac.loc["F1", "floor_area_m2"] = np.nan
    with pytest.warns(DataQualityWarning, match="no floor_area_m2"):
        r = audit_floor_area(_communities(), fac, profile="tianjin-2025")
    assert r.table.loc["C1", "service_area_per_100_households__shortfall_m2"] == 600.0


def test_sample_district_mixes_pass_and_fail() -> None:
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        r = audit_floor_area(d.communities, d.facilities, profile="tianjin-2025")
    col = r.table["service_area_per_100_households__pass"].dropna()
    assert col.sum() >= 3 and (~col.astype(bool)).sum() >= 3
    # independent recomputation of the figure with plain geopandas
    svc = d.facilities[
        d.facilities["category"].isin(
            load_profile("tianjin-2025").parameter("service_facility_categories")
        )
    ]
    polys = d.communities.reset_index()[["community_id", "geometry"]].rename(
        columns={"community_id": "cid"}
    )
    joined = gpd.sjoin(svc[["floor_area_m2", "geometry"]], polys, predicate="within")
    area = joined.groupby("cid")["floor_area_m2"].sum()
    urban = d.communities[d.communities["kind"] == "urban"]
    expected = area.reindex(urban.index).fillna(0) / urban["households"] * 100
    got = r.table.loc[urban.index, "service_area_per_100_households__value"]
    # facilities given a community_id or lying just outside may differ: most agree exactly
    agree = np.isclose(got, expected)
    assert agree.mean() > 0.8

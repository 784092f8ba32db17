"""Tests of geoplan.households: household estimates from footprints and floors."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.crs import from_user_crs, to_metric
from geoplan.households import estimate_households, estimate_residents

PARAMS = {"net_to_gross": 0.75, "dwelling_floor_area_m2": 90.0, "floor_height_m": 3.0}


def _buildings(**columns) -> gpd.GeoDataFrame:
    """Buildings of 1000 m2 (25 x 40 m boxes) in UTM 50N, one per value."""
    n = len(next(iter(columns.values())))
    geoms = [box(100.0 * i, 0.0, 100.0 * i + 25.0, 40.0) for i in range(n)]
    index = pd.Index([f"B{i}" for i in range(n)], name="building_id")
    return gpd.GeoDataFrame(columns, geometry=geoms, index=index, crs=32650)


class FakeProfile:
    """Duck-typed stand-in for geoplan.profiles.Profile."""

    def __init__(self, values: dict[str, float]) -> None:
        self._values = values

    def parameter(self, name: str) -> float:
        return self._values[name]


# --------------------------------------------------------------------------------------
# the formula


def test_formula_1000m2_6_floors():
    b = _buildings(use=["residential"], floors=[6.0])
    out = estimate_households(b, params=PARAMS)
    # 1000 m2 x 6 floors x 0.75 / 90 m2 = 50 households
    assert out.loc["B0", "footprint_m2"] == pytest.approx(1000.0)
    assert out.loc["B0", "households"] == 50.0
    assert bool(out.loc["B0", "households_estimated"]) is True
    assert out["households"].dtype == float
    assert out["households_estimated"].dtype == bool


def test_rounding_is_down_and_robust_to_float_error():
    b = _buildings(use=["residential"] * 3, floors=[1.0, 2.0, 7.0])
    # 1000 x 1 x 0.75 / 90 = 8.33 -> 8; 1000 x 2 x 0.75 / 90 = 16.67 -> 16
    out = estimate_households(b, params=PARAMS)
    assert out["households"].tolist()[:2] == [8.0, 16.0]
    # 100 x 7 x 0.7 / 70 is 6.9999999999 in floating point; it must give 7
    small = b.iloc[[2]].copy()
    small["geometry"] = [box(0, 0, 10, 10)]
    params = {"net_to_gross": 0.7, "dwelling_floor_area_m2": 70.0}
    assert 100 * 7 * 0.7 / 70 < 7
    assert estimate_households(small, params=params)["households"].iloc[0] == 7.0


def test_more_floors_more_households():
    b = _buildings(use=["residential"] * 4, floors=[1.0, 3.0, 6.0, 18.0])
    out = estimate_households(b, params=PARAMS)
    assert out["households"].is_monotonic_increasing
    assert out["households"].tolist() == [8.0, 25.0, 50.0, 150.0]


def test_height_fallback_when_floors_missing():
    b = _buildings(
        use=["residential"] * 5,
        floors=[np.nan, np.nan, np.nan, 0.0, 4.0],
        height_m=[30.0, 4.4, 1.0, 16.0, 99.0],
    )
    out = estimate_households(b, params=PARAMS)
    # 30 m / 3 m = 10 floors -> 83; 4.4 m -> 1 floor -> 8; 1 m -> at least 1 floor -> 8;
    # floors 0 is not a floor count: 16 m -> 5 floors -> 41; given floors beat height
    assert out["households"].tolist() == [83.0, 8.0, 8.0, 41.0, 33.0]
    assert out["households_estimated"].all()
    # another height column name, and the fallback switched off
    renamed = b.rename(columns={"height_m": "高度"})
    out = estimate_households(renamed, params=PARAMS, height_col="高度")
    assert out["households"].iloc[0] == 83.0
    with pytest.warns(DataQualityWarning, match="4 residential"):
        out = estimate_households(b, params=PARAMS, height_col=None)
    assert out["households"].isna().sum() == 4  # floors 0 counts as missing


def test_floor_height_only_needed_for_the_fallback():
    b = _buildings(use=["residential"], floors=[6.0], height_m=[18.0])
    params = {"net_to_gross": 0.75, "dwelling_floor_area_m2": 90.0}
    assert estimate_households(b, params=params)["households"].iloc[0] == 50.0
    b2 = _buildings(use=["residential"], floors=[np.nan], height_m=[18.0])
    with pytest.raises(KeyError, match="floor_height_m"):
        estimate_households(b2, params=params)


def test_missing_floors_and_height_warns_with_count_and_ids():
    b = _buildings(
        use=["residential"] * 8,
        floors=[6.0] + [np.nan] * 7,
        height_m=[np.nan] * 8,
    )
    with pytest.warns(DataQualityWarning) as record:
        out = estimate_households(b, params=PARAMS)
    assert len(record) == 1
    message = str(record[0].message)
    assert "7 residential building(s)" in message
    assert "7 without floors or height" in message
    assert "B1, B2, B3, B4, B5" in message
    assert "B6" not in message  # only the first few ids
    assert out["households"].iloc[0] == 50.0
    assert out["households"].iloc[1:].isna().all()
    assert not out["households_estimated"].iloc[1:].any()


def test_non_residential_get_zero_only_where_missing():
    b = _buildings(
        use=["commercial", "commercial", "residential", "Residential "],
        floors=[6.0, 6.0, 6.0, 6.0],
        households=[np.nan, 12.0, 30.0, np.nan],
    )
    out = estimate_households(b, params=PARAMS)
    assert out["households"].tolist() == [0.0, 12.0, 30.0, 50.0]
    assert out["households_estimated"].tolist() == [False, False, False, True]


def test_given_counts_are_kept_and_earlier_estimates_stay_flagged():
    b = _buildings(use=["residential"] * 3, floors=[6.0] * 3, households=[7.0, np.nan, 40.0])
    b["households_estimated"] = [False, False, True]
    out = estimate_households(b, params=PARAMS)
    assert out["households"].tolist() == [7.0, 50.0, 40.0]
    assert out["households_estimated"].tolist() == [False, True, True]
    # re-running on the result changes nothing
    again = estimate_households(out, params=PARAMS)
    pd.testing.assert_frame_equal(again.drop(columns="geometry"), out.drop(columns="geometry"))


def test_input_is_never_mutated_and_index_is_preserved():
    b = _buildings(use=["residential", "commercial"], floors=[6.0, np.nan])
    b = b.iloc[::-1]  # a non-sorted index
    before = b.copy()
    out = estimate_households(b, params=PARAMS)
    pd.testing.assert_frame_equal(b.drop(columns="geometry"), before.drop(columns="geometry"))
    assert b.geometry.geom_equals_exact(before.geometry, tolerance=0).all()
    assert list(b.columns) == ["use", "floors", "geometry"]
    assert out.index.equals(b.index)
    assert out.index.name == "building_id"
    assert out is not b


def test_chinese_column_names_values_and_ids():
    b = gpd.GeoDataFrame(
        {"用途": ["住宅", "商业", "住宅"], "层数": [6, 3, None], "户数": [None, None, 20]},
        geometry=[box(0, 0, 25, 40), box(100, 0, 120, 20), box(200, 0, 210, 10)],
        index=pd.Index(["一号楼", "二号楼", "三号楼"], name="建筑编号"),
        crs=4548,  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
    )
    out = estimate_households(
        b,
        params=PARAMS,
        floors_col="层数",
        households_col="户数",
        use_col="用途",
        residential_uses=["住宅"],
    )
    assert out.loc["一号楼", "户数"] == 50.0
    assert out.loc["二号楼", "户数"] == 0.0
    assert out.loc["三号楼", "户数"] == 20.0
    assert out["households_estimated"].tolist() == [True, False, False]
    assert list(out.index) == ["一号楼", "二号楼", "三号楼"]


def test_profile_objects_and_parameter_objects():
    b = _buildings(use=["residential"], floors=[6.0])
    assert estimate_households(b, params=FakeProfile(PARAMS))["households"].iloc[0] == 50.0
    wrapped = {k: SimpleNamespace(value=v) for k, v in PARAMS.items()}
    assert estimate_households(b, params=wrapped)["households"].iloc[0] == 50.0
    doubled = dict(PARAMS, dwelling_floor_area_m2=45.0)
    assert estimate_households(b, params=doubled)["households"].iloc[0] == 100.0
    with pytest.raises(ValueError, match="positive"):
        estimate_households(b, params=dict(PARAMS, dwelling_floor_area_m2=0.0))
    with pytest.raises(ValueError, match="at most 1"):
        estimate_households(b, params=dict(PARAMS, net_to_gross=1.5))
    with pytest.raises(TypeError, match="Profile or a mapping"):
        estimate_households(b, params=[0.75, 90.0])  # type: ignore[arg-type]


def test_with_a_packaged_profile():
    profiles = pytest.importorskip("geoplan.profiles")
    profile = profiles.load_profile("tianjin-2025")
    b = _buildings(
        use=["residential", "residential"], floors=[6.0, np.nan], height_m=[np.nan, 30.0]
    )
    out = estimate_households(b, params=profile)
    ntg = profile.parameter("net_to_gross")
    dwelling = profile.parameter("dwelling_floor_area_m2")
    floors_2 = np.floor(30.0 / profile.parameter("floor_height_m") + 0.5)
    expected = np.floor(np.array([1000.0 * 6 * ntg / dwelling, 1000.0 * floors_2 * ntg / dwelling]))
    np.testing.assert_array_equal(out["households"].to_numpy(), expected)


def test_needs_a_projected_metric_crs():
    b = _buildings(use=["residential"], floors=[6.0]).to_crs(4326)
    b.attrs["source_file"] = "楼栋.geojson"
    with pytest.raises(InputError, match=r"楼栋\.geojson: .*WGS 84"):
        estimate_households(b, params=PARAMS)
    bare = b.set_crs(None, allow_override=True)
    with pytest.raises(InputError, match="no CRS"):
        estimate_households(bare, params=PARAMS)


def test_points_need_a_given_footprint():
    b = gpd.GeoDataFrame(
        {
            "use": ["residential"] * 3,
            "floors": [6.0, 6.0, 2.0],
            "footprint_m2": [1000.0, np.nan, 450.0],
        },
        geometry=[Point(0, 0), Point(10, 0), box(0, 0, 10, 10)],  # given footprint wins
        index=["p1", "p2", "poly"],
        crs=32650,
    )
    with pytest.warns(DataQualityWarning, match=r"1 without a footprint\).*p2"):
        out = estimate_households(b, params=PARAMS)
    assert out.loc["p1", "households"] == 50.0
    assert np.isnan(out.loc["p2", "households"])
    assert out.loc["poly", "footprint_m2"] == 450.0
    assert out.loc["poly", "households"] == 7.0  # 450 x 2 x 0.75 / 90 = 7.5


def test_invalid_polygon_area_is_not_zero():
    bow_tie = Polygon([(0, 0), (40, 40), (40, 0), (0, 40)])  # area 0 as given
    b = gpd.GeoDataFrame(
        {"use": ["residential"], "floors": [6.0]}, geometry=[bow_tie], index=["x"], crs=32650
    )
    out = estimate_households(b, params=PARAMS)
    assert out.loc["x", "footprint_m2"] == pytest.approx(800.0)
    assert out.loc["x", "households"] == 40.0


def test_bad_cells_name_row_and_column():
    b = _buildings(use=["residential"] * 2, floors=["6", "six"])
    with pytest.raises(InputError, match="row B1: column floors: not a number"):
        estimate_households(b, params=PARAMS)
    b = _buildings(use=["residential"] * 2, floors=[6.0, 6.0], households=[3.0, -1.0])
    with pytest.raises(InputError, match="row B1: column households: households is negative"):
        estimate_households(b, params=PARAMS)


def test_missing_use_column_counts_as_residential_missing_values_as_unknown():
    b = _buildings(floors=[6.0, 6.0])
    with pytest.warns(DataQualityWarning, match="no 'use' column"):
        out = estimate_households(b, params=PARAMS)
    assert out["households"].tolist() == [50.0, 50.0]
    # a missing use is an unknown type: it counts only inside a residential area
    b = _buildings(use=["commercial", None], floors=[6.0, 6.0])
    with pytest.warns(DataQualityWarning, match=r"1 building\(s\) of unknown type.*B1"):
        out = estimate_households(b, params=PARAMS)
    assert out["households"].tolist() == [0.0, 0.0]
    out = estimate_households(b, params=PARAMS, areas=gpd.GeoSeries([box(90, -5, 130, 45)]))
    assert out["households"].tolist() == [0.0, 50.0]


# --------------------------------------------------------------------------------------
# residents


def test_estimate_residents():
    hh = pd.Series([100.0, 0.0, np.nan], index=pd.Index(["甲", "乙", "丙"], name="community_id"))
    res = estimate_residents(hh, persons_per_household=2.62)
    assert res.name == "residents"
    assert res.index.equals(hh.index)
    assert res.iloc[0] == pytest.approx(262.0)
    assert res.iloc[1] == 0.0
    assert np.isnan(res.iloc[2])
    assert hh.name is None  # input untouched
    assert estimate_residents([10, 20], persons_per_household=3.0).tolist() == [30.0, 60.0]
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="persons_per_household"):
            estimate_residents(hh, persons_per_household=bad)


# --------------------------------------------------------------------------------------
# real data: 3,076 footprints of Suzhou Gusu with floors and heights


@pytest.fixture(scope="module")
def suzhou(shared_data: Path) -> gpd.GeoDataFrame:
    raw = gpd.read_file(shared_data / "buildings" / "suzhou_gusu_buildings.geojson")
    raw.attrs["source_file"] = "suzhou_gusu_buildings.geojson"
    raw.index = pd.Index([f"SZ{i:04d}" for i in range(len(raw))], name="building_id")
    return raw


@pytest.mark.shared_data
def test_suzhou_estimates_match_an_independent_computation(suzhou: gpd.GeoDataFrame):
    assert len(suzhou) == 3076
    metric = to_metric(from_user_crs(suzhou, "gcj02"))
    assert metric.crs.to_epsg() == 32651
    metric["use"] = "residential"
    out = estimate_households(metric, params=PARAMS, floors_col="Floor", height_col="height")
    assert out["households_estimated"].all()
    assert out["households"].notna().all()

    # independent: areas in an equal-area projection centred on the data
    laea = "+proj=laea +lat_0=31.3 +lon_0=120.607 +datum=WGS84 +units=m"
    area = from_user_crs(suzhou, "gcj02").to_crs(laea).area.to_numpy()
    gross = area * suzhou["Floor"].to_numpy() * 0.75 / 90.0
    expected = np.floor(gross)
    got = out["households"].to_numpy()
    assert np.abs(got - expected).max() <= 1  # UTM scale differs from LAEA by ~0.05%
    # the total lies in the range the formula gives for +-0.1% area
    low = np.floor(gross * 0.999).sum()
    high = np.floor(gross * 1.001).sum()
    total = got.sum()
    assert low <= total <= high, f"total {total:.0f} outside [{low:.0f}, {high:.0f}]"
    # plausible for an old-town district: tens of households per hectare
    hectares = metric.union_all().convex_hull.area / 1e4
    density = total / hectares
    assert 20 < density < 300, f"{total:.0f} households on {hectares:.0f} ha"
    # floors alone and height / 3 m give the same answer on this data (height = 3 x floors)
    no_floors = metric.drop(columns="Floor")
    by_height = estimate_households(
        no_floors, params=PARAMS, floors_col="Floor", height_col="height"
    )
    np.testing.assert_array_equal(by_height["households"].to_numpy(), got)


@pytest.mark.shared_data
def test_suzhou_high_rises_hold_more_households_than_houses(suzhou: gpd.GeoDataFrame):
    metric = to_metric(suzhou)
    metric["use"] = "residential"
    out = estimate_households(metric, params=PARAMS, floors_col="Floor", height_col="height")
    high = out[out["Floor"] >= 10]
    low = out[out["Floor"] == 1]
    assert len(high) > 5
    assert len(low) > 50
    compared = 0
    for _, tower in high.iterrows():
        similar = low[
            (low["footprint_m2"] - tower["footprint_m2"]).abs() <= 0.1 * tower["footprint_m2"]
        ]
        if similar.empty:
            continue
        compared += 1
        assert (tower["households"] > similar["households"]).all(), tower.name
    assert compared >= 5
    per_m2_high = (high["households"] / high["footprint_m2"]).median()
    per_m2_low = (low["households"] / low["footprint_m2"]).median()
    assert per_m2_high > 8 * per_m2_low

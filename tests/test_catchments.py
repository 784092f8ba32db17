"""Size-dependent catchments (公园绿地服务半径): coverage, areas and siting, and parks from OSM.

A building is covered when some park j lies within d_ij <= r_j, r_j from the profile's
rules on the park's ``area_m2`` (city-health-check: >= 5,000 m2 serve 500 m, 2,000-5,000
m2 serve 300 m). Parks are walked to points along their edge. Checked by hand on a
straight street, and against networkx on the Haidian extract.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from nx_oracle import nearest_distances
from osm_layers import osm_layers
from shapely import LineString, Point, Polygon

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit._catchments import catchment_classes, edge_access_points
from geoplan.audit.coverage import audit_coverage, coverage_reach, coverage_search
from geoplan.categories import category_of_osm_tags, load_categories
from geoplan.households import estimate_households
from geoplan.network import WalkNetwork, network_from_lines, snap_points
from geoplan.profiles import load_profile
from geoplan.siting import suggest_sites

PROFILE = "city-health-check"
TARGET = "park_service_radius_coverage"
CRS = 32650


def _radius(area: float) -> float:
    """The rule, written out independently of the profile code (NaN: serves no one)."""
    if area >= 5000.0:
        return 500.0
    if area >= 2000.0:
        return 300.0
    return np.nan


# ----------------------------------------------------------------------- a straight street


def _street() -> WalkNetwork:
    return network_from_lines(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (2000, 0)])], crs=CRS))


def _homes() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"use": ["residential"], "households": [100.0]},
        geometry=[Point(0, 4)],
        index=pd.Index(["home"], name="building_id"),
        crs=CRS,
    )


def _ring_from(x0: float, y0: float, dx: float, dy: float) -> Polygon:
    """A rectangle whose ring starts at (x0, y0), the corner nearest the home: an edge
    point lies exactly there, so the walk to the park's edge is known exactly."""
    return Polygon([(x0, y0), (x0 + dx, y0), (x0 + dx, y0 + dy), (x0, y0 + dy)])


#: 3,000 m2 north of the street, its near corner 400 m from home (4 + 395 + 1);
#: 6,000 m2 south of it, 450 m (4 + 445 + 1); 1,500 m2 at 104 m (too small to serve)
PARKS = {
    "small": (_ring_from(395, 1, 60, 50), 400.0),
    "big": (_ring_from(445, -1, 100, -60), 450.0),
    "tiny": (_ring_from(99, 1, 30, 50), 104.0),
}


def _parks(*names: str, area: bool = True) -> gpd.GeoDataFrame:
    geoms = [PARKS[n][0] for n in names]
    cols: dict[str, object] = {"category": ["park"] * len(names)}
    if area:
        cols["area_m2"] = [g.area for g in geoms]
    return gpd.GeoDataFrame(
        cols, geometry=geoms, index=pd.Index(list(names), name="facility_id"), crs=CRS
    )


def _audit(parks: gpd.GeoDataFrame):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return audit_coverage(_homes(), parks, _street(), profile=PROFILE, check_layers=False)


def test_the_parks_are_the_sizes_the_test_says() -> None:
    assert [round(PARKS[n][0].area) for n in ("small", "big", "tiny")] == [3000, 6000, 1500]


def test_a_small_park_at_400_m_does_not_cover_a_big_one_at_450_m_does() -> None:
    small = _audit(_parks("small"))
    row = small.table.loc["home"]
    assert row["walk_m__park"] == pytest.approx(400.0, abs=1e-9)  # to the edge
    assert not row["covered__park"] and not row[f"{TARGET}__pass"]
    assert small.summary["targets"][TARGET]["households_share"] == 0.0
    cause = small.summary["targets"][TARGET]["zero_cause"]
    assert cause["code"] == "beyond_limit" and "own service radius" in cause["en"]
    big = _audit(_parks("big"))
    row = big.table.loc["home"]
    assert row["walk_m__park"] == pytest.approx(450.0, abs=1e-9)
    assert row["covered__park"] and row[f"{TARGET}__pass"]
    assert big.summary["targets"][TARGET]["households_share"] == 1.0
    # both: the nearest park is the small one, the big one covers
    both = _audit(_parks("small", "big", "tiny"))
    row = both.table.loc["home"]
    assert row["facility_id__park"] == "tiny" and row["walk_m__park"] == pytest.approx(104.0)
    assert row["covered__park"] and row["covered_by__park"] == "big"
    assert small.table.loc["home", "covered_by__park"] is None
    info = both.summary["targets"][TARGET]["catchment"]
    assert info["not_serving"] == 1 and [r["facilities"] for r in info["rules"]] == [1, 1]
    assert "500 m" in info["text_en"] and "300 m" in info["text_en"]
    found = both.findings[both.findings["check_id"] == TARGET]
    assert len(found) and found["description_en"].str.contains("within 300 m").all()
    assert found["description_zh"].str.contains("300 m").all()


def test_a_tiny_park_next_door_serves_no_one() -> None:
    r = _audit(_parks("tiny"))
    assert r.table.loc["home", "walk_m__park"] == pytest.approx(104.0)
    assert not r.table.loc["home", "covered__park"]


def test_the_park_is_walked_to_its_edge_not_its_centroid() -> None:
    pts = edge_access_points(_parks("small", "big"))
    assert set(pts.geom_type) == {"Point"} and set(pts.index) == {"small", "big"}
    for name in ("small", "big"):
        ring = PARKS[name][0].exterior
        mine = np.asarray(pts.loc[[name]].geometry.array)
        assert mine[-1].equals(PARKS[name][0].point_on_surface())  # and one inside
        mine = mine[:-1]
        assert np.all(shapely.distance(mine, ring) < 1e-6)  # on the edge
        along = np.sort(shapely.line_locate_point(ring, mine))
        gaps = np.diff(np.r_[along, along[0] + ring.length])
        assert gaps.max() <= 50.0 + 1e-9  # categories.toml: edge_access_m = 50
    # the centroid of the 3,000 m2 park is 455 m away, its edge 400 m
    c = PARKS["small"][0].centroid
    assert 4 + c.x + c.y == pytest.approx(455.0)


def test_missing_sizes_are_bad_input_or_serve_no_one() -> None:
    with pytest.raises(InputError, match="area_m2") as err:
        _audit(_parks("big", area=False))
    assert err.value.column == "area_m2"
    parks = _parks("big", "small")
    parks.loc["big", "area_m2"] = np.nan
    prof = load_profile(PROFILE)
    with pytest.warns(DataQualityWarning, match="1 of 2 park facilities have no area_m2"):
        rows, limits, info = catchment_classes(parks, prof.catchment("park_service_radius"), prof)
    assert rows.index.tolist() == ["small"] and info["missing_size"] == 1
    assert limits == {"park_service_radius@300m": 300.0}
    r = _audit(parks)
    assert not r.table.loc["home", "covered__park"]


def test_parks_given_as_points_are_walked_to_the_point() -> None:
    parks = _parks("big")
    parks["geometry"] = [Point(445, -1)]  # its entrance, say
    prof = load_profile(PROFILE)
    catchment_classes(parks, prof.catchment("park_service_radius"), prof)  # no warning
    assert _audit(parks).table.loc["home", "walk_m__park"] == pytest.approx(450.0)
    parks.index = pd.Index(["way/1"], name="facility_id")  # an OSM way's centroid: said
    with pytest.warns(DataQualityWarning, match="1 of 1 park facilities are the centroids"):
        catchment_classes(parks, prof.catchment("park_service_radius"), prof)


# ----------------------------------------------------------------------- categories, OSM


def test_park_and_infant_care_categories() -> None:
    cats = load_categories()
    assert cats["park"].zh == "公园绿地" and cats["park"].edge_access_m == 50.0
    assert category_of_osm_tags({"leisure": "park"}) == "park"
    assert category_of_osm_tags({"leisure": "garden"}) is None  # often a compound's own
    assert category_of_osm_tags({"leisure": "garden", "access": "yes"}) == "park"
    assert category_of_osm_tags({"amenity": "childcare"}) == "infant_care"
    assert category_of_osm_tags({"amenity": "kindergarten", "name": "阳光托育园"}) == "infant_care"
    assert category_of_osm_tags({"amenity": "kindergarten", "name": "实验幼儿园"}) == "childcare"
    assert cats["infant_care"].group == "community_service"
    from geoplan.categories import categories_in_group, validate_categories

    for group in ("quality", "gb50180_5min"):  # the group targets do not start requiring it
        assert "infant_care" not in categories_in_group(group)
    names = pd.Series(["托儿所", "托育", "公园", "幼儿园"])
    assert validate_categories(names).tolist() == [
        "infant_care",
        "infant_care",
        "park",
        "childcare",
    ]


@pytest.fixture(scope="module")
def haidian(shared_data: Path) -> dict:
    osm = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    prof = load_profile(PROFILE)
    net, ex, bld, fac = osm_layers(osm, columns=("name", "category", "area_m2"), outlines=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bld = estimate_households(bld, params=prof, areas=[ex.compounds])
    return {"net": net, "profile": prof, "buildings": bld, "facilities": fac, "extract": ex}


def test_haidian_parks_are_polygons_with_their_area(haidian: dict) -> None:
    ex, fac = haidian["extract"], haidian["facilities"]
    parks = fac[fac["category"] == "park"]
    assert len(parks) == 9 and set(parks.geom_type) == {"Polygon"}
    # area_m2 is the projected area of the OSM way's polygon
    np.testing.assert_allclose(parks["area_m2"], parks.geometry.area, rtol=1e-9)
    assert parks["area_m2"].min() > 1500 and parks["area_m2"].max() < 40000
    assert (parks["area_m2"] >= 5000).sum() == 5
    assert ((parks["area_m2"] >= 2000) & (parks["area_m2"] < 5000)).sum() == 2
    # POIs mapped as nodes have no area; others mapped as ways stay centroids
    pois = ex.pois
    assert pois.loc[pois.index.str.startswith("node/"), "area_m2"].isna().all()
    others = fac[(fac["category"] != "park") & fac["area_m2"].notna()]
    assert len(others) and set(others.geom_type) == {"Point"}
    # without outlines=True every facility is a point (the centroid), area_m2 kept
    from geoplan.io.osm import facilities_from_extract

    plain = facilities_from_extract(ex)
    assert set(plain.geom_type) == {"Point"}
    pd.testing.assert_series_equal(plain.loc[parks.index, "area_m2"], parks["area_m2"])


def test_parks_as_centroids_are_audited_with_a_warning(haidian: dict) -> None:
    from geoplan.io.osm import facilities_from_extract

    net, bld, prof = haidian["net"], haidian["buildings"], haidian["profile"]
    fac = facilities_from_extract(haidian["extract"]).to_crs(net.crs)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", DataQualityWarning)
        r = audit_coverage(bld, fac, net, profile=prof, check_layers=False)
    said = [str(w.message) for w in seen if "centroids of OSM ways" in str(w.message)]
    assert len(said) == 1 and "9 of 9 park facilities" in said[0]
    assert "(7 of them 2000 m2 or larger)" in said[0]
    edge = audit_coverage_quietly(bld, haidian["facilities"], net, prof)
    share = r.summary["targets"][TARGET]["households_share"]
    assert share < edge.summary["targets"][TARGET]["households_share"]  # centroids: farther


def audit_coverage_quietly(bld, fac, net, prof):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return audit_coverage(bld, fac, net, profile=prof, check_layers=False)


def test_covered_flags_match_networkx_on_haidian(haidian: dict) -> None:
    net, bld, fac, prof = (haidian[k] for k in ("net", "buildings", "facilities", "profile"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        r = audit_coverage(bld, fac, net, profile=prof, check_layers=False)
    max_snap = prof.number("max_snap_m")
    o = snap_points(net, bld, max_snap_m=max_snap, min_component_nodes=1)
    parks = fac[fac["category"] == "park"]
    covered = np.zeros(len(bld), dtype=bool)
    nearest = np.full(len(bld), np.inf)
    for fid in parks.index:  # each park on its own: distance to its edge points
        one = parks.loc[[fid]]
        d = nearest_distances(net, snap_points(net, edge_access_points(one), max_snap_m=max_snap,
                                           min_component_nodes=1), o)  # fmt: skip
        nearest = np.minimum(nearest, d)
        covered |= d <= _radius(float(one["area_m2"].iloc[0]))
    got = r.table["covered__park"].to_numpy(dtype=bool)
    assert 0 < covered.sum() < len(bld)  # a real test: some covered, some not
    np.testing.assert_array_equal(got, covered)
    np.testing.assert_array_equal(r.table[f"{TARGET}__pass"].to_numpy(dtype=bool), covered)
    walk = r.table["walk_m__park"].to_numpy(dtype=float)
    near = nearest <= coverage_search(prof).limit_m
    np.testing.assert_allclose(walk[near], nearest[near], rtol=0, atol=1e-6)
    assert np.isinf(walk[~near]).all()
    hh = r.table["households"].to_numpy(dtype=float)
    share = float(hh[covered].sum() / hh.sum())
    assert r.summary["targets"][TARGET]["households_share"] == pytest.approx(share, abs=1e-6)
    # the centroid would be farther for some buildings than the edge is
    cen = nearest_distances(
        net,
        snap_points(net, parks.geometry.centroid, max_snap_m=max_snap, min_component_nodes=1),
        o,
    )
    ok = np.isfinite(cen) & np.isfinite(nearest)
    assert (cen[ok] - nearest[ok]).max() > 20.0


def test_tiles_are_the_single_run(haidian: dict, tmp_path: Path) -> None:
    from geoplan.areas import coverage_by_areas, dask_client, tile_areas
    from geoplan.areas.layout import building_points

    net, bld, fac, prof = (haidian[k] for k in ("net", "buildings", "facilities", "profile"))
    ex = haidian["extract"]
    kw = {"compounds": ex.compounds, "gates": ex.entrances}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        single = audit_coverage(bld, fac, net, profile=prof, check_layers=False, **kw)
        pts = building_points(bld)
        areas = tile_areas(tuple(shapely.total_bounds(pts)), (2, 2), crs=net.crs)
        with dask_client(workers=1) as client:
            run = coverage_by_areas(
                bld, fac, net, network_file=net.save(tmp_path / "walk.npz"), areas=areas,
                profile=prof, client=client, stage_dir=tmp_path / "staged", **kw,
            )  # fmt: skip
    assert run.result is not None and not run.failed
    cols = ["walk_m__park", "facility_id__park", "covered__park", f"{TARGET}__pass"]
    pd.testing.assert_frame_equal(run.result.table[cols], single.table[cols], check_exact=True)
    assert single.table["covered__park"].any()
    assert run.result.summary["targets"][TARGET] == single.summary["targets"][TARGET]
    pd.testing.assert_frame_equal(run.result.findings, single.findings)


def test_coverage_reach_changes_only_the_parks(haidian: dict) -> None:
    from geoplan.reach import nearest_facilities

    net, bld, fac, prof = (haidian[k] for k in ("net", "buildings", "facilities", "profile"))
    s = coverage_search(prof)
    kw: dict[str, Any] = {"limit_m": s.limit_m, "max_snap_m": s.max_snap_m}
    kw["walk_speed_m_per_min"] = 75.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        plain = nearest_facilities(net, bld, fac, **kw)
        ours = coverage_reach(net, bld, fac, **kw)
    assert list(ours.columns) == list(plain.columns)
    for c in plain.columns:
        same = plain[c].astype(object).equals(ours[c].astype(object))
        assert same == (not c.endswith("__park")), c  # the others bit for bit
    gain = (plain["walk_m__park"] - ours["walk_m__park"]).to_numpy()
    assert (gain[np.isfinite(gain)] >= -1e-6).all()  # never farther than the inner point
    assert np.nanmax(gain[np.isfinite(gain)]) > 100.0  # and the edge often much nearer


# ----------------------------------------------------------------------- siting


def test_siting_counts_existing_parks_with_their_own_radius() -> None:
    net = _street()
    homes = gpd.GeoDataFrame(
        {"use": ["residential"] * 2, "households": [100.0, 100.0]},
        geometry=[Point(0, 4), Point(1900, 4)],
        index=pd.Index(["west", "east"], name="building_id"),
        crs=CRS,
    )
    cands = gpd.GeoDataFrame(
        geometry=[Point(1750, 0), Point(1550, 0)], index=["c300", "c450"], crs=CRS
    )
    kw = {"category": "park", "profile": PROFILE, "check_layers": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        # the 3,000 m2 park at 400 m does not cover the west home: it stays to be served
        r = suggest_sites(net, homes, _parks("small"), cands, k=1, **kw)  # type: ignore[arg-type]
        assert r.covered_before.tolist() == [False, False]
        r = suggest_sites(net, homes, _parks("big"), cands, k=1, **kw)  # type: ignore[arg-type]
        assert r.covered_before.tolist() == [True, False]
        assert r.parameters["catchment"] == "park_service_radius"
        # a new park at the largest size serves 500 m: both sites reach the east home
        assert r.limit_m == 500.0 and r.covered_after.tolist() == [True, True]
        # planned at 3,000 m2 it serves 300 m: only the site 150 m away does (350 m: not)
        r = suggest_sites(net, homes, _parks("big"), cands, k=1, planned_size=3000.0, **kw)  # type: ignore[arg-type]
        assert r.limit_m == 300.0 and list(r.sites.index) == ["c300"]
        with pytest.raises(InputError, match="matches no rule"):
            suggest_sites(net, homes, _parks("big"), cands, k=1, planned_size=900.0, **kw)  # type: ignore[arg-type]

"""Tests of the seeded sample district (geoplan.sample)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal, assert_series_equal
from scipy.spatial import cKDTree

from geoplan._errors import InputError
from geoplan.profiles import list_profiles
from geoplan.sample import SampleDistrict, make_sample_district

LAYERS = ("study_area", "communities", "compounds", "gates", "buildings", "streets", "facilities")
HAN = re.compile(r"[\u4e00-\u9fff]")
CATEGORIES = {
    "community_service_centre",
    "elderly_service_station",
    "health_station",
    "convenience_store",
    "supermarket",
    "wet_market",
    "fresh_food",
    "breakfast",
    "laundry",
    "hair",
    "printing",
    "housekeeping",
    "repair",
    "pharmacy",
    "post_express",
    "recycling",
    "elderly_care",
    "childcare",
    "dining",
    "bakery",
    "bookstore",
    "gym",
    "training",
    "wellness",
    "florist",
    "tea_coffee",
    "pet",
    # GB 50180 life-circle facilities
    "primary_school",
    "middle_school",
    "police",
    "mall",
    "bank",
    "toilets",
    # issue 14: the urban health check and the embedded-services guideline
    "park",
    "infant_care",
}
ORG_COLUMNS = [
    "workers",
    "social_orgs",
    "licensed_social_workers",
    "volunteer_orgs",
    "volunteer_station",
    "self_service_terminal",
    "opening_hours_per_day",
    "double_report_rate",
    "cadre_rotation_rate",
    "owners_rep_party_share",
    "owners_committee_party_share",
    "subcommittee_min_size",
    "subcommittee_max_size",
    "disaster_info_officers",
    "micro_fire_station",
    "emergency_team",
    "online_service_24h",
    "party_org",
    "selfgov_org",
    "grids",
    "grid_workers",
]


@pytest.fixture(scope="module")
def district() -> SampleDistrict:
    return make_sample_district(seed=0)


def _graph(streets: gpd.GeoDataFrame) -> nx.Graph:
    g = nx.Graph()
    for geom, length in zip(streets.geometry, streets["length_m"], strict=True):
        c = shapely.get_coordinates(geom)
        g.add_edge(tuple(c[0]), tuple(c[-1]), weight=length)
    return g


def _assert_same(a: SampleDistrict, b: SampleDistrict) -> None:
    for name in LAYERS:
        x, y = getattr(a, name), getattr(b, name)
        assert_frame_equal(x.drop(columns="geometry"), y.drop(columns="geometry"))
        assert list(shapely.to_wkb(x.geometry.values)) == list(shapely.to_wkb(y.geometry.values))
    assert_series_equal(a.households_true, b.households_true)


def test_same_seed_same_district(district: SampleDistrict) -> None:
    _assert_same(district, make_sample_district(seed=0))


def test_other_seed_other_district(district: SampleDistrict) -> None:
    other = make_sample_district(seed=1)
    assert other.seed == 1
    with pytest.raises(AssertionError):
        _assert_same(district, other)
    assert not district.buildings.geometry.values[:50].equals(other.buildings.geometry.values[:50])


def test_sizes_crs_and_indexes(district: SampleDistrict) -> None:
    c, b, f = district.communities, district.buildings, district.facilities
    assert 25 <= len(c) <= 35
    assert (c["kind"] == "village").sum() == 4
    assert 1500 <= len(b) <= 3000
    assert 300 <= len(f) <= 420
    for name in LAYERS:
        gdf = getattr(district, name)
        assert gdf.crs.to_epsg() == 32650, name
        assert gdf.index.is_unique, name
    assert (c.index.name, b.index.name, f.index.name) == (
        "community_id",
        "building_id",
        "facility_id",
    )
    assert all(re.fullmatch(r"120104\d{6}", i) for i in c.index)
    assert (c["district_code"] == "120104").all()
    lon, lat = district.study_area.to_crs(4326).geometry.iloc[0].centroid.coords[0]
    assert abs(lon - 117.20) < 0.05
    assert abs(lat - 39.12) < 0.05


def test_community_columns(district: SampleDistrict) -> None:
    c = district.communities
    for col in (
        "name",
        "kind",
        "households",
        "residents",
        "old_estate",
        "new_development",
        "central_district",
        "total_floor_area_m2",
        "commercial_service_area_m2",
        "developer_service_rooms_m2",
        *ORG_COLUMNS,
    ):
        assert col in c.columns, col
    for col in (
        "old_estate",
        "new_development",
        "central_district",
        "volunteer_station",
        "self_service_terminal",
        "micro_fire_station",
        "emergency_team",
        "online_service_24h",
        "party_org",
        "selfgov_org",
    ):
        assert c[col].dtype == bool, col
    assert set(c["kind"]) == {"urban", "village"}
    assert c["name"].map(lambda s: bool(HAN.search(s))).all()
    assert c.loc[c["kind"] == "village", "name"].str.endswith("村").all()
    assert c.loc[c["kind"] == "urban", "name"].str.endswith("社区").all()
    assert c["name"].is_unique
    assert not c.loc[c["kind"] == "village", "central_district"].any()
    assert 0 < c["central_district"].sum() < (c["kind"] == "urban").sum() + 1
    for col in (
        "double_report_rate",
        "cadre_rotation_rate",
        "owners_rep_party_share",
        "owners_committee_party_share",
    ):
        assert c[col].between(0, 1).all(), col
    # a realistic mix: neither all passing nor all failing
    assert 0 < (c["owners_rep_party_share"] > 0.5).sum() < len(c)
    assert 0 < c["volunteer_station"].sum() < len(c)
    assert (c["subcommittee_max_size"] >= c["subcommittee_min_size"]).all()
    new = c["new_development"]
    assert new.any()
    assert (~new).any()
    dev_cols = ["total_floor_area_m2", "commercial_service_area_m2", "developer_service_rooms_m2"]
    assert c.loc[new, dev_cols].notna().all().all()
    assert c.loc[~new, dev_cols].isna().all().all()
    share = c.loc[new, "commercial_service_area_m2"] / c.loc[new, "total_floor_area_m2"]
    assert share.between(0.03, 0.2).all()


def test_households_consistent(district: SampleDistrict) -> None:
    c, b, truth = district.communities, district.buildings, district.households_true
    assert truth.index.equals(b.index)
    by_comm = truth.groupby(b["community_id"]).sum()
    assert_series_equal(c["households"], by_comm.reindex(c.index), check_names=False)
    known = b["households"].notna()
    assert (b.loc[known, "households"] == truth[known]).all()
    resid = b["use"] == "residential"
    nan_share = (~known & resid).sum() / resid.sum()
    assert 0.02 < nan_share < 0.1
    assert not (~known & ~resid).any()
    assert b["floors"].notna().all()
    assert (b["floors"] >= 1).all()
    assert (truth[~resid] == 0).all()
    assert (truth[resid] >= 1).all()
    assert (c["residents"] >= c["households"]).all()
    assert (c["households"] > 0).all()
    assert set(b["use"]) == {"residential", "commercial", "service", "public"}
    assert resid.mean() > 0.85
    old = b["compound_id"].map(district.compounds["old_estate"])
    assert b.loc[resid & (old == True), "floors"].between(5, 7).all()  # noqa: E712
    assert b.loc[resid & (old == False), "floors"].between(18, 33).all()  # noqa: E712
    village = b["community_id"].map(c["kind"]) == "village"
    assert b.loc[village & resid, "floors"].between(1, 3).all()
    assert b.loc[village, "compound_id"].isna().all()


def test_geometries_valid_nested_and_disjoint(district: SampleDistrict) -> None:
    for name in LAYERS:
        assert shapely.is_valid(getattr(district, name).geometry.values).all(), name
    c, b = district.communities, district.buildings
    own = c.geometry.reindex(b["community_id"]).values
    assert shapely.within(b.geometry.values, own).all()
    in_compound = b["compound_id"].notna()
    fence = district.compounds.geometry.reindex(b.loc[in_compound, "compound_id"]).values
    assert shapely.within(b.geometry.values[in_compound.values], fence).all()
    tree = shapely.STRtree(b.geometry.values)
    i, j = tree.query(b.geometry.values, predicate="intersects")
    assert (i == j).all(), "buildings overlap or touch"
    # buildings keep clear of the streets
    streets = shapely.STRtree(district.streets.geometry.values)
    assert streets.query(b.geometry.values, predicate="intersects").size == 0


def test_communities_tile_the_district(district: SampleDistrict) -> None:
    c = district.communities
    area = district.study_area.geometry.iloc[0].area
    assert c.area.sum() == pytest.approx(area, rel=1e-9)
    assert shapely.union_all(c.geometry.values).area == pytest.approx(area, rel=1e-9)
    assert district.compounds.within(district.study_area.geometry.iloc[0]).all()


def test_streets_noded_and_connected(district: SampleDistrict) -> None:
    s = district.streets
    assert set(s["highway"]) <= {
        "primary",
        "secondary",
        "tertiary",
        "unclassified",
        "residential",
        "service",
        "footway",
    }
    assert {"primary", "secondary", "residential", "service", "footway"} <= set(s["highway"])
    assert not s["oneway"].any()
    assert (s.geom_type == "LineString").all()
    assert (s["length_m"] > 0).all()
    named = s[s["highway"].isin(["primary", "secondary", "tertiary", "residential"])]
    assert named["name"].map(lambda n: bool(HAN.search(n))).all()
    assert "卫津路" in set(s["name"].dropna())
    assert nx.number_connected_components(_graph(s)) == 1
    # lines meet only at shared end points
    geoms = s.geometry.values
    ends = [{tuple(p) for p in shapely.get_coordinates(g)[[0, -1]]} for g in geoms]
    i, j = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = i < j
    i, j = i[pairs], j[pairs]
    inter = shapely.intersection(geoms[i], geoms[j])
    assert (shapely.get_type_id(inter) == 0).all()  # single points, no overlaps
    for a, bb, pt in zip(i, j, shapely.get_coordinates(inter), strict=True):
        assert tuple(pt) in ends[a]
        assert tuple(pt) in ends[bb]


def test_gates_on_compound_boundaries_and_network(district: SampleDistrict) -> None:
    g, comp = district.gates, district.compounds
    assert set(g["compound_id"]) == set(comp.index)
    assert (g.groupby("compound_id").size() >= 2).all()
    fence = comp.geometry.reindex(g["compound_id"]).boundary.values
    assert (shapely.distance(g.geometry.values, fence) < 1e-6).all()
    nodes = set(_graph(district.streets).nodes)
    assert all(tuple(p) in nodes for p in shapely.get_coordinates(g.geometry.values))
    assert comp["name"].map(lambda n: bool(HAN.search(n))).all()
    assert comp["old_estate"].any()
    assert (~comp["old_estate"]).any()


def test_service_floor_area_mix(district: SampleDistrict) -> None:
    c, f = district.communities, district.facilities
    centres = f[f["category"] == "community_service_centre"]
    area = centres.groupby("community_id")["floor_area_m2"].sum().reindex(c.index, fill_value=0)
    urban = c["kind"] == "urban"
    per_100 = area[urban] / c.loc[urban, "households"] * 100
    assert (per_100 >= 30).sum() >= 5
    assert (per_100 < 30).sum() >= 5
    n_centres = centres.groupby("community_id").size().reindex(c.index[urban], fill_value=0)
    assert set(n_centres) == {0, 1, 2}
    assert (n_centres == 1).mean() > 0.6
    village = area[~urban]
    assert (village >= 300).any()
    assert (village < 300).any()
    assert village.between(150, 500).all()
    share = centres["activity_area_m2"] / centres["floor_area_m2"]
    assert (share >= 0.6).sum() >= 5
    assert (share < 0.6).sum() >= 5
    # each centre lies in its own community
    own = c.geometry.reindex(centres["community_id"].dropna()).values
    assert shapely.within(centres.loc[centres["community_id"].notna()].geometry.values, own).all()


def test_facilities(district: SampleDistrict) -> None:
    f, c = district.facilities, district.communities
    assert set(f["category"]) == CATEGORIES
    assert f["name"].map(lambda n: bool(HAN.search(n))).all()
    assert 4 <= (f["category"] == "wet_market").sum() <= 6
    has_id = f["community_id"].notna()
    assert set(f.loc[has_id, "category"]) <= {"community_service_centre", "elderly_service_station"}
    assert f.loc[has_id, "community_id"].isin(c.index).all()
    service = f["category"].isin(["community_service_centre", "elderly_service_station"])
    assert f.loc[service, "activity_area_m2"].notna().all()
    assert f.loc[~service, "activity_area_m2"].isna().all()
    # parks have a land area (area_m2) and no floor area; every other facility the reverse
    park = f["category"] == "park"
    assert (f.loc[~park, "floor_area_m2"] > 0).all()
    assert f.loc[park, "floor_area_m2"].isna().all()
    assert (f.loc[park, "area_m2"] > 0).all()
    assert f.loc[~park, "area_m2"].isna().all()
    assert (f.geom_type == "Point").all()
    assert f["opening_hours_per_day"].between(1, 24).all()
    assert f["volunteer_station"].dtype == bool
    assert f["self_service_terminal"].dtype == bool
    # exactly one facility just outside the district and one far away, both unassigned
    dist = f.distance(district.study_area.geometry.iloc[0])
    near, far = f[(dist > 0) & (dist < 100)], f[dist >= 100]
    assert len(near) == 1
    assert 20 < dist[near.index[0]] < 40
    assert len(far) == 1
    assert dist[far.index[0]] > 1000
    assert near["community_id"].isna().all()
    assert far["community_id"].isna().all()
    # the village fringe is poorly served
    inside = gpd.sjoin(f[dist == 0], c[["kind", "geometry"]], predicate="within")
    assert (inside["kind"] == "village").sum() <= 8
    assert (
        not inside.loc[inside["kind"] == "village", "category"]
        .isin(["wet_market", "supermarket", "pharmacy"])
        .any()
    )


def test_wet_market_walk_coverage(district: SampleDistrict) -> None:
    """Good but not complete within a 750 m network walk (10 min at 75 m/min)."""
    c, b, truth = district.communities, district.buildings, district.households_true
    g = _graph(district.streets)
    nodes = list(g.nodes)
    tree = cKDTree(np.array(nodes))
    markets = district.facilities[district.facilities["category"] == "wet_market"]
    _, mi = tree.query(shapely.get_coordinates(markets.geometry.values))
    walk = nx.multi_source_dijkstra_path_length(g, {nodes[k] for k in mi}, cutoff=1000)
    snap, bi = tree.query(shapely.get_coordinates(b.geometry.centroid.values))
    metres = np.array([walk.get(nodes[k], np.inf) for k in bi]) + snap
    covered = pd.Series(metres <= 750, index=b.index)
    kind = b["community_id"].map(c["kind"])
    central = b["community_id"].map(c["central_district"])
    central_share = truth[central & covered].sum() / truth[central].sum()
    assert 0.5 < central_share < 0.95
    village_share = truth[(kind == "village") & covered].sum() / truth[kind == "village"].sum()
    assert village_share < 0.3
    per_comm = (truth * covered).groupby(b["community_id"]).sum() / truth.groupby(
        b["community_id"]
    ).sum()
    assert (per_comm[c.index[c["central_district"]]] < 0.5).any()


def test_to_files_gpkg(district: SampleDistrict, tmp_path: Path) -> None:
    paths = district.to_files(tmp_path)
    assert [p.name for p in paths] == ["sample_district.gpkg"]
    for name in LAYERS:
        back = gpd.read_file(paths[0], layer=name)
        assert len(back) == len(getattr(district, name)), name
        assert back.crs.to_epsg() == 32650
    comm = gpd.read_file(paths[0], layer="communities")
    assert list(comm["community_id"]) == list(district.communities.index)
    assert comm["name"].iloc[0] == district.communities["name"].iloc[0]
    # the reader keeps the parks' land area and the centres' functions
    from geoplan.io.readers import read_facilities

    fac = read_facilities(paths[0], layer="facilities")
    want = district.facilities
    assert fac["area_m2"].tolist() == pytest.approx(want["area_m2"].tolist(), nan_ok=True)
    assert fac["functions"].fillna("").tolist() == want["functions"].fillna("").tolist()


def test_to_files_geojson_and_csv(district: SampleDistrict, tmp_path: Path) -> None:
    paths = district.to_files(tmp_path / "gj", fmt="geojson")
    assert sorted(p.name for p in paths) == sorted(f"{n}.geojson" for n in LAYERS)
    fac = gpd.read_file(tmp_path / "gj" / "facilities.geojson")
    assert fac.crs.to_epsg() == 4326
    assert len(fac) == len(district.facilities)
    assert fac["name"].iloc[0] == district.facilities["name"].iloc[0]
    paths = district.to_files(tmp_path / "csv", fmt="csv")
    assert sorted(p.name for p in paths) == sorted(f"{n}.csv" for n in LAYERS)
    table = pd.read_csv(tmp_path / "csv" / "facilities.csv", encoding="utf-8-sig")
    assert {"facility_id", "lon", "lat", "category"} <= set(table.columns)
    inside = table.drop(index=table["lon"].idxmin())  # the far-away facility lies west
    assert inside["lon"].between(117.1, 117.3).all()
    assert table["lat"].between(39.0, 39.2).all()
    comm = pd.read_csv(
        tmp_path / "csv" / "communities.csv", encoding="utf-8-sig", dtype={"community_id": str}
    )
    assert comm["wkt"].str.startswith("POLYGON").all()
    assert list(comm["community_id"]) == list(district.communities.index)
    with pytest.raises(InputError, match="unknown format"):
        district.to_files(tmp_path, fmt="shp")  # type: ignore[arg-type]


def test_layers_are_copies(district: SampleDistrict) -> None:
    layers = district.layers()
    layers["communities"]["households"] = 0.0
    assert (district.communities["households"] > 0).all()


def test_geoplan_network_builder_sees_one_network(district: SampleDistrict) -> None:
    from geoplan.network import network_from_lines

    net = network_from_lines(district.streets)
    label, _ = net.components()
    assert net.n_nodes > 500
    assert label.max() == 0


# ------------------------------------------------------------ what the profiles check


def _checked_categories(profile_name: str) -> set[str]:
    """Categories a profile's walking targets need: those of its coverage and access
    targets (a category, or every one of a group) and of its catchments."""
    from geoplan.categories import categories_in_group
    from geoplan.profiles import load_profile

    profile = load_profile(profile_name)
    out: set[str] = {c.category for c in profile.catchments}
    for t in (*profile.targets_for("coverage"), *profile.targets_for("access")):
        if t.category:
            out.add(t.category)
        if getattr(t, "group", None):
            out.update(categories_in_group(t.group))
    return out


@pytest.mark.parametrize("name", list_profiles())
def test_every_category_a_profile_checks_is_in_the_sample(
    district: SampleDistrict, name: str
) -> None:
    have = set(district.facilities["category"])
    assert _checked_categories(name) - have == set()


def test_every_packaged_profile_is_covered() -> None:
    assert set(list_profiles()) >= {
        "tianjin-2025",
        "ningxia-2025",
        "gb50180-2018",
        "mofcom-15min",
        "city-health-check",
        "embedded-services-2024",
    }
    assert {"park", "infant_care"} <= _checked_categories("city-health-check")
    d = make_sample_district(seed=0)
    have = set(d.facilities["category"])
    for name in list_profiles():
        assert _checked_categories(name) <= have, name


def test_life_circle_facilities_are_plausible(district: SampleDistrict) -> None:
    f, c = district.facilities, district.communities
    counts = f["category"].value_counts()
    urban_km2 = c.loc[c["kind"] == "urban"].area.sum() / 1e6
    residents = c.loc[c["kind"] == "urban", "residents"].sum()
    # a primary school per 10-minute circle (15,000-25,000 residents), a middle school and
    # a police station per 15-minute circle (50,000-100,000), toilets at 3-5 per km2
    assert residents / 25_000 <= counts["primary_school"] <= residents / 15_000 + 1
    assert residents / 100_000 <= counts["middle_school"] <= residents / 50_000 + 1
    assert 1 <= counts["police"] <= 3 and 1 <= counts["mall"] <= 3
    assert 3 * urban_km2 <= counts["toilets"] <= 5 * urban_km2
    assert 5 <= counts["bank"] <= 15
    schools = f[f["category"].isin(["primary_school", "middle_school"])]
    assert schools["floor_area_m2"].between(5_000, 40_000).all()
    assert f.loc[f["category"] == "toilets", "floor_area_m2"].between(20, 100).all()
    # none of them in the villages, which stay poorly served
    inside = gpd.sjoin(f, c[["kind", "geometry"]], predicate="within")
    new = ["primary_school", "middle_school", "police", "mall", "bank", "toilets"]
    assert not inside.loc[inside["kind"] == "village", "category"].isin(new).any()
    # every facility tied to a community lies in it
    tied = f[f["community_id"].notna()]
    own = c.geometry.reindex(tied["community_id"]).values
    assert shapely.within(tied.geometry.values, own).all()
    # childcare places per community: some reach 4.5 per 1,000 residents, some do not
    per_1000 = c["childcare_places"] / c["residents"] * 1000
    assert (per_1000 >= 4.5).any() and (per_1000 < 4.5).any()


def test_gb50180_levels_mix_passes_and_failures(district: SampleDistrict) -> None:
    """Before the life-circle facilities GB 50180 read 0.0% at every level."""
    import warnings

    from geoplan.audit.coverage import audit_coverage
    from geoplan.households import estimate_households
    from geoplan.network import network_from_lines
    from geoplan.profiles import load_profile

    gb = load_profile("gb50180-2018")
    net = network_from_lines(district.streets).prepare()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = estimate_households(district.buildings, params=gb)
        r = audit_coverage(
            b,
            district.facilities,
            net,
            profile=gb,
            communities=district.communities,
            compounds=district.compounds,
            gates=district.gates,
        )
    shares = {t: v["households_share"] for t, v in r.summary["targets"].items()}
    levels = ("life_circle_15min_walk", "life_circle_10min_walk", "life_circle_5min_walk")
    assert set(levels) <= set(shares)
    for level in levels:
        assert 0.0 < shares[level] < 1.0, level
        comm = r.findings[(r.findings["check_id"] == level) & (r.findings["scope"] == "community")]
        assert comm["passed"].astype(bool).any(), level
        assert (~comm["passed"].astype(bool)).any(), level
    # a longer walk, fewer facilities per level: the larger circle reaches more households
    assert shares[levels[0]] > shares[levels[1]] > shares[levels[2]]


def test_demo_mixes_passes_and_failures_for_every_profile(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from geoplan.cli import main

    res = CliRunner().invoke(main, ["demo", "--out", str(tmp_path / "demo"), "--no-map", "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert set(data["profiles"]) == {
        "tianjin-2025",
        "ningxia-2025",
        "gb50180-2018",
        "mofcom-15min",
        "city-health-check",
        "embedded-services-2024",
    }
    for name, entry in data["profiles"].items():
        checks = [
            c
            for audit in ("floor_area", "organisations", "coverage")
            if audit in entry
            for c in entry[audit]["checks"].values()
        ]
        assert sum(c["passed"] for c in checks) > 0, name
        assert sum(c["failed"] for c in checks) > 0, name
    gb = data["profiles"]["gb50180-2018"]["coverage"]["targets"]
    assert any(v["households_share"] > 0 for v in gb.values())
    # before the sample had parks and infant care, both read 0% (no such facilities)
    health = data["profiles"]["city-health-check"]["coverage"]["targets"]
    for target in ("park_service_radius_coverage", "infant_care_coverage"):
        assert 0.0 < health[target]["households_share"] < 1.0, target

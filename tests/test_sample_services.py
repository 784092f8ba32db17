"""Tests of the sample district's parks, infant care and service-centre functions
(geoplan.sample, issue 14): sizes and places, walking coverage on networkx, and what the
audits read of them."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan._errors import DataQualityWarning
from geoplan.audit import audit_floor_area
from geoplan.audit.coverage import audit_coverage
from geoplan.network import network_from_lines
from geoplan.profiles import load_profile
from geoplan.sample import SampleDistrict, make_sample_district


@pytest.fixture(scope="module")
def district() -> SampleDistrict:
    return make_sample_district(seed=0)


def _edge_graph(district: SampleDistrict, points: dict[str, np.ndarray]) -> nx.Graph:
    """The street graph with each point joined to its projection on the nearest street
    (the street split there), nodes ``(key, n)``: exact walking distances for points."""
    streets = district.streets.geometry.values
    tree = shapely.STRtree(streets)
    cuts: dict[int, list[tuple[float, tuple[str, int], float]]] = {}
    for key, pts in points.items():
        edge = tree.query_nearest(pts, all_matches=False)[1]
        along = shapely.line_locate_point(streets[edge], pts)
        off = shapely.distance(pts, streets[edge])
        for n, (e, t, s) in enumerate(zip(edge, along, off, strict=True)):
            cuts.setdefault(int(e), []).append((float(t), (key, n), float(s)))
    g = nx.Graph()
    for e, geom in enumerate(streets):
        c = shapely.get_coordinates(geom)
        prev, at = tuple(c[0]), 0.0
        for t, node, s in sorted(cuts.get(e, []), key=lambda x: x[0]):
            g.add_edge(prev, ("cut", e, t), weight=t - at)
            g.add_edge(("cut", e, t), node, weight=s)
            prev, at = ("cut", e, t), t
        g.add_edge(prev, tuple(c[-1]), weight=geom.length - at)
    return g


def _covered(g: nx.Graph, sources: list[tuple[str, int]], limit: float, n: int) -> np.ndarray:
    """Which of the n buildings ``("b", k)`` lie within ``limit`` of any source."""
    dist = nx.multi_source_dijkstra_path_length(g, set(sources), cutoff=limit)
    return np.array([dist.get(("b", k), np.inf) <= limit for k in range(n)])


def _share(district: SampleDistrict, covered: np.ndarray) -> pd.Series:
    truth, comm = district.households_true, district.buildings["community_id"]
    return (truth * covered).groupby(comm).sum() / truth.groupby(comm).sum()


def _placed_plausibly(district: SampleDistrict, f: gpd.GeoDataFrame) -> None:
    """In urban communities, outside every compound fence and building, by a street."""
    g, c = f.geometry.values, district.communities
    kind = gpd.sjoin(f, c[["kind", "geometry"]], predicate="within")["kind"]
    assert len(kind) == len(f) and (kind == "urban").all()
    for layer in (district.compounds, district.buildings):
        assert shapely.STRtree(layer.geometry.values).query(g, predicate="intersects").size == 0
    assert (shapely.distance(g, shapely.union_all(district.streets.geometry.values)) < 15).all()


def test_parks_mix_sizes_and_cover_part_of_the_district(district: SampleDistrict) -> None:
    """Parks of every size class of the 公园绿地服务半径 rules, walked as the audit does."""
    f, b = district.facilities, district.buildings
    parks = f[f["category"] == "park"]
    area = parks["area_m2"]
    assert (area >= 5000).sum() >= 2
    assert area.between(2000, 5000, inclusive="left").sum() >= 2
    assert (area < 2000).sum() >= 2  # pocket parks: no service radius, they serve no one
    assert parks["name"].str.contains("公园|游园").all()
    _placed_plausibly(district, parks)
    p = load_profile("city-health-check")
    catchment = p.catchment_for("park")
    assert catchment is not None
    limits = catchment.limits_m(area.to_numpy(), p)
    assert np.isnan(limits[(area < 2000).to_numpy()]).all()
    g = _edge_graph(
        district, {"b": shapely.centroid(b.geometry.values), "p": parks.geometry.values}
    )
    covered = np.zeros(len(b), dtype=bool)
    for n, limit in enumerate(limits):
        if np.isfinite(limit):
            covered |= _covered(g, [("p", n)], float(limit), len(b))
    truth = district.households_true
    share = truth[covered].sum() / truth.sum()
    assert 0.1 < share < 0.6  # far below the health check's 80%
    per_comm = _share(district, covered)
    assert (per_comm > 0.5).sum() >= 2
    assert (per_comm == 0).sum() >= 5
    village = (b["community_id"].map(district.communities["kind"]) == "village").to_numpy()
    assert truth[village & covered].sum() / truth[village].sum() < 0.3
    # the coverage audit (true households, no gates) walks the same catchments
    net = network_from_lines(district.streets).prepare()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = audit_coverage(b.assign(households=truth), f, net, profile=p)
    got = r.summary["targets"]["park_service_radius_coverage"]["households_share"]
    assert got == pytest.approx(share, abs=0.02)


def test_infant_care_leaves_communities_uncovered(district: SampleDistrict) -> None:
    f, b, c = district.facilities, district.buildings, district.communities
    care = f[f["category"] == "infant_care"]
    assert 3 <= len(care) <= 6
    assert care["name"].str.contains("托育").all()
    assert care["community_id"].isna().all()
    _placed_plausibly(district, care)
    p = load_profile("city-health-check")
    limit = p.target("infant_care_coverage").walk_limit_m(p)
    g = _edge_graph(district, {"b": shapely.centroid(b.geometry.values), "i": care.geometry.values})
    covered = _covered(g, [("i", n) for n in range(len(care))], limit, len(b))
    per_comm = _share(district, covered)
    urban = c.index[c["kind"] == "urban"]
    assert (per_comm[urban] > 0.95).sum() >= 3
    assert (per_comm[urban] == 0).sum() >= 2
    truth = district.households_true
    village = (b["community_id"].map(c["kind"]) == "village").to_numpy()
    assert truth[village & covered].sum() / truth[village].sum() < 0.3
    # some nurseries sit next to a service centre that lists infant care among its functions
    centres = f[f["category"] == "community_service_centre"]
    listing = centres[centres["functions"].fillna("").str.contains("托育")]
    a, z = np.asarray(care.geometry.array), np.asarray(listing.geometry.array)
    near = shapely.distance(a[:, None], z[None, :])
    assert (near.min(axis=1) < 10).sum() >= 1
    # their places (托位, 7-9 m2 each) count in the community's childcare places
    own = gpd.sjoin(care, c[["geometry"]], predicate="within")["community_id_right"]
    floor = care["floor_area_m2"].groupby(own).sum()
    assert (c.loc[floor.index, "childcare_places"] >= floor / 9 - 1).all()


# an independent vocabulary of the names the sample writes (not geoplan's FUNCTION_NAMES)
_FUNCTION_OF = {
    "党群服务": "government",
    "政务服务": "government",
    "养老服务": "elderly",
    "日间照料": "elderly",
    "居家养老": "elderly",
    "托育": "infant",
    "婴幼儿托育": "infant",
    "儿童托管": "after_school",
    "四点半课堂": "after_school",
    "助餐": "meals",
    "老年助餐": "meals",
    "长者食堂": "meals",
    "文化活动": "culture",
    "卫生服务": "health",
    "便民服务": "convenience",
}
_KEY = {"elderly", "infant", "after_school", "meals"}


def test_centre_functions_pass_and_fail_the_embedded_services_rule(
    district: SampleDistrict,
) -> None:
    f = district.facilities
    centre = f["category"] == "community_service_centre"
    assert f.loc[~centre, "functions"].isna().all()
    entries = f.loc[centre, "functions"]
    blank = entries.isna()
    assert 1 <= blank.sum() <= 5
    names = entries[~blank].str.split("、")
    assert all(n in _FUNCTION_OF for ns in names for n in ns)
    kinds = names.map(lambda ns: {_FUNCTION_OF[n] for n in ns})
    n_all = kinds.map(len)
    n_key = kinds.map(lambda k: len(k & _KEY))
    assert ((n_all >= 3) & (n_key >= 2)).sum() >= 5  # meets the guideline
    assert ((n_all >= 3) & (n_key < 2)).sum() >= 1  # enough functions, too few key ones
    assert (n_all < 3).sum() >= 3
    # the same function under two names counts once
    assert (names.map(len) > n_all).any()
    # larger centres house more
    area = f.loc[n_all.index, "floor_area_m2"]
    assert n_all[area >= area.median()].mean() > n_all[area < area.median()].mean()
    # the audit reads the same counts, and a blank entry is no data
    p = load_profile("embedded-services-2024")
    with pytest.warns(DataQualityWarning, match="F0310"):  # the centre 3 km away
        r = audit_floor_area(district.communities, f, profile=p)
    t = r.extra["facilities"]
    got_n = t.loc[entries.index, "embedded_complex_functions__value"].astype(float)
    got_k = t.loc[entries.index, "embedded_complex_key_functions__value"].astype(float)
    assert got_n[blank].isna().all() and got_k[blank].isna().all()
    assert got_n[~blank].tolist() == n_all.astype(float).tolist()
    assert got_k[~blank].tolist() == n_key.astype(float).tolist()
    fc = r.summary["facility_checks"]
    assert fc["embedded_complex_functions"]["not_measured"] == blank.sum()
    assert fc["embedded_complex_key_functions"]["passed"] == (n_key >= 2).sum()
    assert fc["embedded_complex_key_functions"]["failed"] == (n_key < 2).sum()

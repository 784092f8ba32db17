"""Coverage audit on the sample district: shares, scopes, monotonicity, independent checks."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit.coverage import audit_coverage
from geoplan.households import estimate_households
from geoplan.network import network_from_lines
from geoplan.profiles import load_profile
from geoplan.sample import make_sample_district


@pytest.fixture(scope="module")
def district():  # type: ignore[no-untyped-def]
    d = make_sample_district(seed=0)
    net = network_from_lines(d.streets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        b = estimate_households(d.buildings, params=load_profile("tianjin-2025"))
    return d, net, b


def _run(district, **kw):  # type: ignore[no-untyped-def]
    d, net, b = district
    kw.setdefault("profile", "tianjin-2025")
    kw.setdefault("communities", d.communities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return audit_coverage(kw.pop("buildings", b), kw.pop("facilities", d.facilities), net, **kw)


def test_table_aligned_and_summary_recomputed(district) -> None:  # type: ignore[no-untyped-def]
    d, _, b = district
    r = _run(district, compounds=d.compounds, gates=d.gates)
    assert r.table.index.equals(b.index)
    t = r.table
    target = load_profile("tianjin-2025").target("wet_market_coverage")
    speed = load_profile("tianjin-2025").parameter("walk_speed_m_per_min")
    limit = target.within_min * speed if target.within_min else target.within_m
    central_ids = set(d.communities.index[d.communities["central_district"]])
    central = t["community_id"].isin(central_ids).to_numpy()
    ok = t["walk_m__wet_market"].to_numpy() <= limit
    hh = t["households"].to_numpy()
    expected = hh[central & ok].sum() / hh[central].sum()
    got = r.summary["targets"]["wet_market_coverage"]["households_share"]
    assert got == pytest.approx(expected, abs=1e-6)
    row = r.findings[
        (r.findings.check_id == "wet_market_coverage") & (r.findings.scope == "district")
    ]
    assert row["value"].iloc[0] == pytest.approx(expected, abs=1e-9)
    assert bool(row["passed"].iloc[0]) == (expected >= target.threshold)


def test_walk_minutes_follow_profile_speed(district) -> None:  # type: ignore[no-untyped-def]
    r = _run(district)
    t = r.table
    speed = r.summary["walk_speed_m_per_min"]
    finite = np.isfinite(t["walk_m__pharmacy"])
    assert np.allclose(
        t.loc[finite, "walk_min__pharmacy"], t.loc[finite, "walk_m__pharmacy"] / speed
    )


def test_elderly_speed_never_covers_more(district) -> None:  # type: ignore[no-untyped-def]
    normal = _run(district, profile="mofcom-15min")
    slow = _run(district, profile="mofcom-15min", elderly=True)
    for tid, s in normal.summary["targets"].items():
        assert slow.summary["targets"][tid]["households_share"] <= s["households_share"] + 1e-12


def test_adding_a_facility_never_reduces_coverage(district) -> None:  # type: ignore[no-untyped-def]
    d, _, b = district
    base = _run(district)
    worst = base.table["walk_m__wet_market"].idxmax()
    extra = d.facilities.iloc[:1].copy()
    extra.index = ["NEW"]
    extra["category"] = "wet_market"
    extra["community_id"] = None
    extra.geometry = [b.loc[worst].geometry.centroid]
    more = _run(
        district,
        facilities=gpd.GeoDataFrame(
            __import__("pandas").concat([d.facilities, extra]), crs=d.facilities.crs
        ),
    )
    a = base.summary["targets"]["wet_market_coverage"]["households_share"]
    c = more.summary["targets"]["wet_market_coverage"]["households_share"]
    assert c >= a
    assert (more.table["walk_m__wet_market"] <= base.table["walk_m__wet_market"] + 1e-9).all()


def test_no_wet_market_means_zero_coverage_and_failure(district) -> None:  # type: ignore[no-untyped-def]
    d, _, _ = district
    r = _run(district, facilities=d.facilities[d.facilities.category != "wet_market"])
    assert r.summary["targets"]["wet_market_coverage"]["households_share"] == 0.0
    assert not r.passed
    assert np.isinf(r.table["walk_m__wet_market"]).all()


def test_life_circle_completeness_needs_every_basic_category(district) -> None:  # type: ignore[no-untyped-def]
    r = _run(district, profile="mofcom-15min")
    t = r.table
    from geoplan.categories import categories_in_group

    cats = categories_in_group("basic")
    limit = load_profile("mofcom-15min").target("basic_within_10min").threshold
    every = np.all([t[f"walk_min__{c}"].to_numpy() <= limit for c in cats], axis=0)
    assert (t["basic_within_10min__pass"].to_numpy() == every).all()
    # completeness is never higher than any single category's coverage
    share = r.summary["targets"]["basic_within_10min"]["households_share"]
    for c in cats:
        single = t["households"][t[f"walk_min__{c}"] <= limit].sum() / t["households"].sum()
        assert share <= single + 1e-12


def test_distances_match_networkx_on_node_sited_points(district) -> None:  # type: ignore[no-untyped-def]
    """Buildings and facilities placed exactly on network nodes: plain networkx agrees."""
    _, net, _ = district
    G = nx.Graph()
    for u, v, w in zip(net.u, net.v, net.length_m, strict=True):
        if not G.has_edge(u, v) or G[u][v]["w"] > w:
            G.add_edge(int(u), int(v), w=float(w))
    rng = np.random.default_rng(1)
    nodes = rng.choice(net.n_nodes, size=60, replace=False)
    fac_nodes, home_nodes = nodes[:5], nodes[5:]
    crs = net.crs
    homes = gpd.GeoDataFrame(
        {"households": 100.0},
        geometry=[Point(net.x[n], net.y[n]) for n in home_nodes],
        index=[f"b{i}" for i in range(len(home_nodes))],
        crs=crs,
    )
    fac = gpd.GeoDataFrame(
        {"category": "wet_market"},
        geometry=[Point(net.x[n], net.y[n]) for n in fac_nodes],
        index=[f"f{i}" for i in range(len(fac_nodes))],
        crs=crs,
    )
    r = _run(district, buildings=homes, facilities=fac, communities=None)
    ref = nx.multi_source_dijkstra_path_length(G, {int(n) for n in fac_nodes}, weight="w")
    limit = r.parameters["search_limit_m"]
    for i, n in enumerate(home_nodes):
        want = ref.get(int(n), np.inf)
        want = want if want <= limit else np.inf
        got = r.table.loc[f"b{i}", "walk_m__wet_market"]
        assert got == pytest.approx(want, abs=1e-6) or (np.isinf(got) and np.isinf(want))


def test_crs_mismatch_is_an_error(district) -> None:  # type: ignore[no-untyped-def]
    d, net, b = district
    with pytest.raises(InputError, match="CRS"):
        audit_coverage(b.to_crs(4326), d.facilities, net, profile="tianjin-2025")


def test_per_community_table(district) -> None:  # type: ignore[no-untyped-def]
    d, _, _ = district
    r = _run(district)
    comm = r.extra["communities"]
    assert comm.index.equals(d.communities.index)
    assert ((comm["share__wet_market"] >= 0) & (comm["share__wet_market"] <= 1)).all()


def test_missing_households_are_estimated_and_flagged(district) -> None:  # type: ignore[no-untyped-def]
    """Raw buildings (some households missing) give the same audit as pre-estimated
    ones, with the estimated buildings flagged: the library agrees with the CLI."""
    d, _, b = district
    missing = d.buildings["households"].isna()
    assert missing.any()
    raw = _run(district, buildings=d.buildings)
    pre = _run(district)
    assert raw.summary["targets"] == pre.summary["targets"]
    assert raw.summary["households"] == pytest.approx(pre.summary["households"])
    flagged = raw.table["households_estimated"].fillna(False).astype(bool)
    assert flagged[missing & b["households"].notna()].all()
    assert not flagged[~missing].any()
    assert raw.summary["households_estimated_buildings"] == int(flagged.sum()) > 0
    assert d.buildings["households"].isna().equals(missing)  # the input is not changed

"""Siting: exact and greedy set cover / max cover, network inputs, floor-area rooms."""

from __future__ import annotations

import itertools
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, Point, box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.siting import (
    candidates_from_buildings,
    candidates_from_network,
    coverage_matrix_from_network,
    coverage_threshold,
    floor_area_candidates,
    max_cover,
    set_cover,
    suggest_sites,
)

CRS = 32650


# --------------------------------------------------------------------------- brute force


def _covered_weight(a: np.ndarray, w: np.ndarray, pre: np.ndarray, rows: tuple[int, ...]) -> float:
    cov = pre.copy()
    for r in rows:
        cov |= a[r]
    return float(w[cov].sum())


def _brute_max(a: np.ndarray, w: np.ndarray, pre: np.ndarray, k: int) -> float:
    n = a.shape[0]
    return max(
        _covered_weight(a, w, pre, rows)
        for size in range(min(k, n) + 1)
        for rows in itertools.combinations(range(n), size)
    )


def _brute_min_sites(
    a: np.ndarray, w: np.ndarray, pre: np.ndarray, need: float, tol: float = 1e-9
) -> int | None:
    n = a.shape[0]
    for size in range(n + 1):
        for rows in itertools.combinations(range(n), size):
            if _covered_weight(a, w, pre, rows) >= need - tol:
                return size
    return None


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_c = draw(st.integers(1, 7))
    n_d = draw(st.integers(1, 12))
    bits = draw(st.lists(st.booleans(), min_size=n_c * n_d, max_size=n_c * n_d))
    a = np.array(bits, dtype=bool).reshape(n_c, n_d)
    w = np.array(draw(st.lists(st.integers(0, 60), min_size=n_d, max_size=n_d)), dtype=float)
    pre = np.array(draw(st.lists(st.booleans(), min_size=n_d, max_size=n_d)), dtype=bool)
    return a, w, pre


@settings(max_examples=60, deadline=None)
@given(case=cases(), k=st.integers(0, 4))
def test_max_cover_greedy_never_beats_exact_and_exact_is_optimal(case, k) -> None:
    a, w, pre = case
    exact = max_cover(sp.csr_matrix(a), w, k=k, already_covered=pre)
    greedy = max_cover(sp.csr_matrix(a), w, k=k, already_covered=pre, method="greedy")
    best = _brute_max(a, w, pre, k)
    assert exact.households_covered_after == pytest.approx(best)
    assert exact.optimal
    assert greedy.households_covered_after <= exact.households_covered_after + 1e-9
    assert greedy.households_covered_after >= (1 - 1 / math.e) * best - 1e-9 + (
        (1 / math.e) * float(w[pre].sum())
    )
    # the greedy's data-dependent bound really bounds the optimum
    assert greedy.bound is not None
    assert greedy.bound >= exact.households_covered_after - exact.households_covered_before - 1e-6
    for r in (exact, greedy):
        assert r.n_sites <= k
        assert sum(r.added_households) == pytest.approx(
            r.households_covered_after - r.households_covered_before
        )
        assert all(g > 0 for g in r.added_households)
        assert r.households_covered_after == pytest.approx(
            _covered_weight(a, w, pre, tuple(int(c) for c in r.chosen))
        )


@settings(max_examples=60, deadline=None)
@given(case=cases(), share=st.floats(0.0, 1.0))
def test_set_cover_greedy_within_log_bound_and_both_reach_target(case, share) -> None:
    a, w, pre = case
    total = float(w.sum())
    exact = set_cover(sp.csr_matrix(a), w, target_share=share, already_covered=pre)
    greedy = set_cover(
        sp.csr_matrix(a), w, target_share=share, already_covered=pre, method="greedy"
    )
    reachable = _covered_weight(a, w, pre, tuple(range(a.shape[0])))
    need = share * total
    # the solvers count a target met within 1e-9 of the total weight (float noise):
    # a share of 1e-10 asks for nothing
    tol = 1e-9 * max(total, 1.0)
    if reachable >= need - tol:
        n_opt = _brute_min_sites(a, w, pre, need, tol)
        assert n_opt is not None
        assert exact.reached and greedy.reached
        assert exact.n_sites == n_opt
        assert greedy.n_sites >= exact.n_sites
        assert greedy.n_sites <= (math.log(max(total, 1.0)) + 1) * exact.n_sites + 1e-9
        for r in (exact, greedy):
            assert r.households_covered_after >= need - 1e-6
            assert r.coverage_after >= share - 1e-9
        assert greedy.bound is not None
        assert greedy.bound <= exact.n_sites
    else:
        assert not exact.reached and not greedy.reached
        assert "cannot be reached" in exact.note
        # both cover everything the candidates can reach
        assert exact.households_covered_after == pytest.approx(reachable)
        assert greedy.households_covered_after == pytest.approx(reachable)
    for r in (exact, greedy):
        assert r.households_covered_after == pytest.approx(
            _covered_weight(a, w, pre, tuple(int(c) for c in r.chosen))
        )


def test_greedy_is_not_always_optimal_on_the_classic_trap() -> None:
    # Two rows of 7 (A, B) cover everything; greedy takes the 8-element set C2
    # first and then needs C1 and C3.
    sets = [range(0, 7), range(7, 14), (0, 1, 7, 8), (2, 3, 4, 5, 9, 10, 11, 12), (6, 13)]
    a = np.zeros((5, 14), dtype=bool)
    for r, cols in enumerate(sets):
        a[r, list(cols)] = True
    exact = set_cover(sp.csr_matrix(a), np.ones(14), target_share=1.0)
    greedy = set_cover(sp.csr_matrix(a), np.ones(14), target_share=1.0, method="greedy")
    assert set(exact.chosen) == {"0", "1"} and exact.optimal
    assert greedy.chosen == ("3", "2", "4")
    assert greedy.added_households == (8.0, 4.0, 2.0)
    assert not greedy.optimal
    assert greedy.gap is not None and greedy.gap > 0
    assert greedy.bound == 2.0  # 14 households / at most 8 per site


def test_distance_matrix_with_explicit_zeros_counts_as_covered() -> None:
    # reach_matrix stores 0.0 for a point on the source: the pattern decides
    m = sp.csr_matrix((np.array([0.0, 120.0]), (np.array([0, 0]), np.array([0, 1]))), shape=(2, 3))
    r = set_cover(m, [10.0, 5.0, 1.0], target_share=0.9, method="greedy")
    assert r.chosen == ("0",)
    assert r.covered_after.tolist() == [True, True, False]


def test_already_covered_households_add_nothing() -> None:
    a = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    r = max_cover(
        a,
        [100.0, 100.0, 10.0],
        k=1,
        already_covered=[True, True, False],
        candidate_ids=["big", "small"],
        demand_index=pd.Index(["a", "b", "c"]),
    )
    assert r.chosen == ("small",)
    assert r.added_households == (10.0,)
    assert r.coverage_before == pytest.approx(200 / 210)
    assert r.coverage_after == 1.0
    assert r.covered_after.index.tolist() == ["a", "b", "c"]
    assert list(r.sites.columns) == [
        "order",
        "added_households",
        "households_covered",
        "coverage_share",
    ]


def test_target_already_met_chooses_nothing() -> None:
    a = sp.csr_matrix(np.array([[1, 1]], dtype=bool))
    r = set_cover(a, [9.0, 1.0], target_share=0.9, already_covered=[True, False])
    assert r.n_sites == 0 and r.reached and r.optimal
    assert r.to_dict()["sites"] == []


def test_exact_orders_sites_by_marginal_gain() -> None:
    a = np.zeros((3, 30), dtype=bool)
    a[0, :4] = a[1, 4:24] = a[2, 24:] = True
    r = set_cover(sp.csr_matrix(a), np.ones(30), target_share=1.0)
    assert r.chosen == ("1", "2", "0")
    assert r.added_households == (20.0, 6.0, 4.0)
    assert r.sites["order"].tolist() == [1, 2, 3]
    assert r.sites["coverage_share"].iloc[-1] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "column"),
    [
        ({"target_share": 1.5}, "target_share"),
        ({"target_share": 0.5, "method": "magic"}, "method"),
        ({"target_share": 0.5, "already_covered": [True]}, "already_covered"),
    ],
)
def test_bad_inputs_name_the_column(kwargs, column) -> None:
    with pytest.raises(InputError) as err:
        set_cover(np.eye(2, dtype=bool), [1.0, 1.0], **kwargs)
    assert err.value.column == column


def test_negative_weights_rejected() -> None:
    with pytest.raises(InputError, match="households"):
        max_cover(np.eye(2, dtype=bool), [1.0, -1.0], k=1)


# --------------------------------------------------------------------------- network layer


def _street_network():
    from geoplan.network import network_from_lines

    xs = [0, 500, 1500, 2500, 3000]
    lines = [LineString([(a, 0), (b, 0)]) for a, b in itertools.pairwise(xs)]
    lines += [LineString([(x, 0), (x, 400)]) for x in (500, 1500, 2500)]
    return network_from_lines(gpd.GeoDataFrame(geometry=lines, crs=CRS))


def _homes() -> gpd.GeoDataFrame:
    xs = np.arange(50, 3000, 100.0)
    return gpd.GeoDataFrame(
        {"households": np.full(xs.size, 40.0), "use": "residential"},
        geometry=[Point(x, 10) for x in xs],
        index=pd.Index([f"b{i:02d}" for i in range(xs.size)], name="building_id"),
        crs=CRS,
    )


def test_candidates_from_network_degree_and_spacing() -> None:
    net = _street_network()
    cands = candidates_from_network(net)
    assert sorted(cands["degree"].tolist()) == [3, 3, 3]
    assert cands.crs == net.crs
    thinned = candidates_from_network(net, min_degree=1, spacing_m=2000)
    # one node per 2 km cell: cells x<2000 and x>=2000
    assert len(thinned) == 2
    assert len(candidates_from_network(net, min_degree=1)) == 8


def test_candidates_from_buildings_vacant_only() -> None:
    b = _homes().iloc[:3].copy()
    b["use"] = ["residential", "Vacant", None]
    assert candidates_from_buildings(b).index.tolist() == ["b01"]


def test_coverage_threshold_comes_from_the_profile() -> None:
    from geoplan.profiles import load_profile

    p = load_profile("tianjin-2025")
    t = p.target("wet_market_coverage")
    limit, share, tid = coverage_threshold(p, category="wet_market")
    expected = (
        t.within_m
        if t.within_m is not None
        else (t.within_min * p.parameter("walk_speed_m_per_min"))
    )
    assert (limit, share, tid) == (expected, t.threshold, t.id)
    # a derived profile with another walking speed changes the limit
    if t.within_m is None:
        fast = p.derive("fast", parameters={"walk_speed_m_per_min": 100.0})
        assert coverage_threshold(fast, category="wet_market")[0] == t.within_min * 100.0
    with pytest.raises(InputError, match="no coverage_share target"):
        coverage_threshold(p, category="no_such_category")


def test_suggest_sites_on_a_street_network() -> None:
    from geoplan.profiles import load_profile

    net = _street_network()
    homes = _homes()
    profile = load_profile("tianjin-2025")
    _, _, tid = coverage_threshold(profile, category="wet_market")
    p = profile.derive("test", thresholds={tid: 0.8})
    limit = 800.0  # passed as limit_m / 2: small against the 3 km street so sites matter
    fac = gpd.GeoDataFrame(
        {"category": ["wet_market", "pharmacy"]},
        geometry=[Point(0, -5), Point(3000, -5)],
        index=["f1", "f2"],
        crs=CRS,
    )
    cands = candidates_from_network(net, min_degree=1)
    exact = suggest_sites(
        net, homes, fac, cands, category="wet_market", profile=p, limit_m=limit / 2, method="exact"
    )
    greedy = suggest_sites(
        net, homes, fac, cands, category="wet_market", profile=p, limit_m=limit / 2, method="greedy"
    )
    # brute-force check on the same matrix
    cov = coverage_matrix_from_network(
        net, homes, cands, limit_m=limit / 2, max_snap_m=float(p.parameter("max_snap_m"))
    )
    pre = exact.covered_before.to_numpy()
    w = homes["households"].to_numpy()
    need = 0.8 * w.sum()
    assert exact.n_sites == _brute_min_sites(cov.toarray(), w, pre, need) == 3
    assert exact.reached and greedy.reached
    assert exact.coverage_after >= 0.8 and greedy.coverage_after >= 0.8
    assert greedy.n_sites >= exact.n_sites
    assert 0 < exact.coverage_before < 0.8
    # the wet market at x=0 covers homes within limit/2; the pharmacy counts for nothing
    xs = homes.geometry.x.to_numpy()
    assert exact.covered_before.to_numpy().tolist() == ((xs + 15) <= limit / 2).tolist()
    assert isinstance(exact.sites, gpd.GeoDataFrame)
    assert set(exact.sites.columns) >= {"order", "added_households", "category", "geometry"}
    assert exact.sites["category"].eq("wet_market").all()
    assert exact.parameters["limit_m"] == limit / 2
    # max cover with the same inputs
    best2 = suggest_sites(
        net,
        homes,
        fac,
        cands,
        category="wet_market",
        profile=p,
        limit_m=limit / 2,
        k=2,
        method="exact",
    )
    assert best2.n_sites <= 2
    assert best2.households_covered_after == pytest.approx(_brute_max(cov.toarray(), w, pre, 2))


def test_suggest_sites_rejects_crs_mismatch() -> None:
    net = _street_network()
    homes = _homes()
    cands = candidates_from_network(net).to_crs(4326)
    fac = gpd.GeoDataFrame({"category": ["wet_market"]}, geometry=[Point(0, 0)], crs=CRS)
    with pytest.raises(InputError, match="CRS"):
        suggest_sites(net, homes, fac, cands, category="wet_market", profile="tianjin-2025")


# --------------------------------------------------------------------------- sample district


@pytest.fixture(scope="module")
def sample_case():
    sample = pytest.importorskip("geoplan.sample")
    from geoplan.network import network_from_lines

    d = sample.make_sample_district(seed=0)
    net = network_from_lines(d.streets)
    return d, net


def test_sample_wet_market_sites_reach_the_target_with_the_minimum_count(sample_case) -> None:
    from geoplan.profiles import load_profile

    d, net = sample_case
    profile = load_profile("tianjin-2025")
    _, share, _ = coverage_threshold(profile, category="wet_market")
    cands = candidates_from_network(net)
    kw = {"category": "wet_market", "profile": profile, "compounds": d.compounds, "gates": d.gates}
    exact = suggest_sites(net, d.buildings, d.facilities, cands, method="exact", **kw)
    greedy = suggest_sites(net, d.buildings, d.facilities, cands, method="greedy", **kw)
    assert exact.coverage_before < share  # the sample leaves a gap on purpose
    assert exact.reached and exact.optimal
    assert exact.coverage_after >= share
    assert greedy.coverage_after >= share
    assert greedy.n_sites >= exact.n_sites >= 1
    assert greedy.bound is not None and greedy.bound <= exact.n_sites
    assert exact.covered_after.index.equals(d.buildings.index)
    assert sum(exact.added_households) == pytest.approx(
        exact.households_covered_after - exact.households_covered_before
    )


def test_sample_sites_count_the_targets_scope_like_the_coverage_audit(sample_case) -> None:
    """Tianjin's wet-market target covers central districts: siting with the
    communities starts from the audit's own figure and only central households weigh."""
    from geoplan.audit.coverage import audit_coverage, in_scope
    from geoplan.households import estimate_households
    from geoplan.profiles import load_profile

    d, net = sample_case
    profile = load_profile("tianjin-2025")
    kw = {"category": "wet_market", "profile": profile, "compounds": d.compounds, "gates": d.gates}
    cands = candidates_from_network(net)
    # the sample leaves some households to estimate: siting estimates them itself
    b = estimate_households(d.buildings, params=profile)
    with warnings.catch_warnings():  # shops and offices have no households
        warnings.simplefilter("ignore", DataQualityWarning)
        audit = audit_coverage(
            b, d.facilities, net, profile=profile, communities=d.communities,
            compounds=d.compounds, gates=d.gates,
        )  # fmt: skip
    audited = audit.summary["targets"]["wet_market_coverage"]["households_share"]
    central = in_scope(b, d.communities, "central_district")
    assert 0 < central.sum() < len(b)  # the sample has a centre and a fringe
    scoped = suggest_sites(
        net, b, d.facilities, cands, method="exact", communities=d.communities, **kw
    )
    plain = suggest_sites(net, b, d.facilities, cands, method="exact", **kw)
    assert scoped.parameters["scope"] == "central_district"
    assert scoped.parameters["buildings_counted"] == int(central.sum())
    assert scoped.coverage_before == pytest.approx(audited, abs=5e-4)
    hh = np.nan_to_num(b["households"].to_numpy(dtype=float))
    assert scoped.households_total == pytest.approx(hh[central].sum())
    assert scoped.households_total < plain.households_total
    assert scoped.reached and scoped.optimal and scoped.coverage_after >= 0.95
    # a gap that is smaller in the centre never needs more sites than the whole area
    assert 1 <= scoped.n_sites <= plain.n_sites
    greedy = suggest_sites(
        net, b, d.facilities, cands, method="greedy", communities=d.communities, **kw
    )
    assert greedy.reached and greedy.n_sites >= scoped.n_sites


# --------------------------------------------------------------------------- floor area


def test_floor_area_candidates_ranks_rooms_and_reports_the_gap() -> None:
    table = gpd.GeoDataFrame(
        {
            "service_area_per_100_households__shortfall_m2": [150.0, 0.0, np.nan],
            "village_service_area__shortfall_m2": [np.nan, np.nan, 90.0],
        },
        geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100), box(400, 0, 500, 100)],
        index=pd.Index(["C1", "C2", "V1"], name="community_id"),
        crs=CRS,
    )
    rooms = gpd.GeoDataFrame(
        {
            "available": [True, True, False, True, True, None],
            "floor_area_m2": [60.0, 200.0, 900.0, 40.0, 30.0, 500.0],
        },
        geometry=[
            Point(20, 20),
            Point(120, 50),
            Point(50, 50),
            Point(250, 50),
            Point(450, 50),
            Point(460, 50),
        ],
        index=["r1", "r2", "r3", "r4", "r5", "r6"],
        crs=CRS,
    )
    out = floor_area_candidates(table, rooms, max_distance_m=25)
    c1 = out.rooms[out.rooms["community_id"] == "C1"]
    assert c1["candidate_id"].tolist() == ["r2", "r1"]  # r2 closes more; r3 is not available
    assert c1["closes_m2"].tolist() == [150.0, 60.0]
    assert c1["inside"].tolist() == [False, True]
    assert c1["distance_m"].tolist() == [20.0, 0.0]
    assert c1["remaining_m2"].tolist() == [0.0, 0.0]
    v1 = out.rooms[out.rooms["community_id"] == "V1"]
    assert v1["candidate_id"].tolist() == ["r5"]
    assert v1["check_id"].tolist() == ["village_service_area"]
    assert v1["remaining_m2"].tolist() == [60.0]
    s = out.communities
    assert s.index.tolist() == ["C1", "C2", "V1"]
    assert s.loc["V1", "remaining_gap_m2"] == 60.0
    assert s.loc["C1", "remaining_gap_m2"] == 0.0
    assert s.loc["C2", "n_candidates"] == 0  # not short: r4 is not listed
    assert "r4" not in out.rooms["candidate_id"].tolist()


def test_floor_area_candidates_needs_the_columns() -> None:
    table = gpd.GeoDataFrame({"x": [1.0]}, geometry=[box(0, 0, 1, 1)], crs=CRS)
    rooms = gpd.GeoDataFrame(
        {"available": [True], "floor_area_m2": [1.0]}, geometry=[Point(0, 0)], crs=CRS
    )
    with pytest.raises(InputError, match="shortfall"):
        floor_area_candidates(table, rooms, max_distance_m=10)
    with pytest.raises(InputError, match="available"):
        floor_area_candidates(table, rooms.drop(columns="available"), max_distance_m=10)


# --------------------------------------------------------------------------- CLI


def test_cli_site_writes_outputs_and_sets_exit_codes(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    sample = pytest.importorskip("geoplan.sample")
    from geoplan.cli._main import main

    folder = tmp_path / "in"
    sample.make_sample_district(seed=0).to_files(folder, fmt="geojson")
    args = [
        "site",
        "--network",
        str(folder / "streets.geojson"),
        "--buildings",
        str(folder / "buildings.geojson"),
        "--facilities",
        str(folder / "facilities.geojson"),
        "--compounds",
        str(folder / "compounds.geojson"),
        "--gates",
        str(folder / "gates.geojson"),
        "--category",
        "wet_market",
    ]
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [*args, "--json", "--out", str(out)])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["reached"] is True and payload["coverage_after"] >= payload["target_share"]
    assert {"sites.gpkg", "sites.csv", "sites.json"} <= {p.name for p in out.iterdir()}
    # with the communities the target's central-district scope applies
    scoped = CliRunner().invoke(
        main, [*args, "--communities", str(folder / "communities.geojson"), "--lang", "en"]
    )
    assert scoped.exit_code == 0, scoped.output
    assert "scope: households of central-district communities" in scoped.output
    # an unknown category is bad input: exit 2
    bad = CliRunner().invoke(main, [*args, "--category", "no_such_category"])
    assert bad.exit_code == 2
    assert "no coverage_share target" in bad.output

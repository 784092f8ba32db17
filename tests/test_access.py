"""Access (2SFCA / E2SFCA): networkx and PySAL `access` on a real OSM extract, properties."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from nx_oracle import pair_distances
from osm_layers import osm_layers
from shapely.geometry import LineString

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit._access_core import decay_weights, two_step
from geoplan.audit.access import access_column, audit_access
from geoplan.network import Snapped, network_from_lines, snap_points

HAIDIAN = ("osm", "beijing_haidian_cau.osm.bz2")
CATEGORY = "convenience_store"
PROFILE = "mofcom-15min"
# the extract has islands and buildings far from streets: warned, not the subject here
pytestmark = pytest.mark.filterwarnings("ignore::geoplan._errors.DataQualityWarning")


# ------------------------------------------------------------------ the real extract


@pytest.fixture(scope="module")
def haidian(shared_data: Path) -> dict[str, object]:
    """The Haidian network, its buildings (given households), convenience stores (a
    made-up floor area each: OSM has none) and gated compounds with their gates."""
    osm = shared_data.joinpath(*HAIDIAN)
    net, ex, bld, fac = osm_layers(osm)
    rng = np.random.default_rng(14)
    bld = bld.copy()
    bld["households"] = rng.integers(0, 120, len(bld)).astype(float)
    bld.loc[bld.index[::7], "households"] = 0.0  # some buildings without households
    bld["households_source"] = "given"
    fac = fac.copy()
    fac["floor_area_m2"] = np.round(rng.uniform(20, 400, len(fac)), 1)
    return {
        "osm": osm,
        "net": net,
        "buildings": bld,
        "facilities": fac,
        "compounds": ex.compounds,
        "gates": ex.entrances,
    }


def _weight(d: float, limit: float, decay: str) -> float:
    """The decay weights of geoplan.audit.access, written out again."""
    if decay == "none":
        return 1.0
    if decay == "linear":
        return 1.0 - d / limit
    sigma = limit / 2.0
    return math.exp(-(d * d) / (2.0 * sigma * sigma))


def _plain_2sfca(
    pairs: dict[tuple[int, int], float],
    supply: list[float],
    demand: list[float],
    limits: list[float],
    decay: str,
) -> list[float]:
    """The formula in plain python, over (building, facility) pairs within the limit."""
    near = {(i, j): d for (i, j), d in pairs.items() if d <= limits[j]}
    dem = [0.0] * len(supply)
    for (i, j), d in near.items():
        dem[j] += demand[i] * _weight(d, limits[j], decay)
    a = [0.0] * len(demand)
    for (i, j), d in near.items():
        if dem[j] > 0:
            a[i] += supply[j] / dem[j] * _weight(d, limits[j], decay)
    return a


def _oracle_inputs(h: dict[str, object], *, gated: bool) -> tuple[Snapped, Snapped]:
    net = h["net"]
    fac = h["facilities"]
    stores = fac[fac["category"] == CATEGORY]
    kw = {"max_snap_m": 300.0}
    if gated:
        kw |= {"compounds": h["compounds"], "gates": h["gates"]}
    return snap_points(net, h["buildings"], **kw), snap_points(net, stores, **kw)


@pytest.mark.parametrize(
    ("decay", "within_m", "gated"),
    [("none", 600.0, True), ("linear", 450.0, True), ("gaussian", 800.0, False)],
)
def test_equals_networkx_and_plain_formula(
    haidian: dict, decay: str, within_m: float, gated: bool
) -> None:
    kw = {"compounds": haidian["compounds"], "gates": haidian["gates"]} if gated else {}
    r = audit_access(
        haidian["buildings"],
        haidian["facilities"],
        haidian["net"],
        category=CATEGORY,
        supply_column="floor_area_m2",
        profile=PROFILE,
        within_m=within_m,
        decay=decay,
        **kw,
    )
    o, f = _oracle_inputs(haidian, gated=gated)
    pairs = pair_distances(haidian["net"], f, o, within_m)
    stores = haidian["facilities"][haidian["facilities"]["category"] == CATEGORY]
    hh = haidian["buildings"]["households"].tolist()
    want = _plain_2sfca(
        pairs, stores["floor_area_m2"].tolist(), hh, [within_m] * len(stores), decay
    )
    got = r.table[access_column(CATEGORY)].to_numpy()
    assert len(pairs) > 200  # a real test: many pairs within the limit
    assert (np.array(want) > 0).sum() > 50
    np.testing.assert_allclose(got, 100.0 * np.array(want), rtol=0, atol=1e-6)
    assert list(r.table.index) == list(haidian["buildings"].index)


def test_per_facility_limits_equal_networkx(haidian: dict) -> None:
    stores = haidian["facilities"][haidian["facilities"]["category"] == CATEGORY]
    limits = np.where(np.arange(len(stores)) % 3 == 0, 300.0, 700.0)
    limits[1] = np.nan  # serves nobody
    r = audit_access(
        haidian["buildings"], haidian["facilities"], haidian["net"], category=CATEGORY,
        supply_column="floor_area_m2", profile=PROFILE, limits_m=limits,
        compounds=haidian["compounds"], gates=haidian["gates"],
    )  # fmt: skip
    o, f = _oracle_inputs(haidian, gated=True)
    pairs = pair_distances(haidian["net"], f, o, 700.0)
    lim = [x if np.isfinite(x) else -1.0 for x in limits]
    want = _plain_2sfca(pairs, stores["floor_area_m2"].tolist(),
                        haidian["buildings"]["households"].tolist(), lim, "none")  # fmt: skip
    np.testing.assert_allclose(
        r.table[access_column(CATEGORY)].to_numpy(), 100.0 * np.array(want), atol=1e-6
    )
    facs = r.extra["facilities"]
    assert not facs["served"].iloc[1]
    assert stores.index[1] in r.summary["facilities_not_reaching_demand"]
    assert r.summary["supply_not_reached"] >= float(stores["floor_area_m2"].iloc[1])


# ------------------------------------------------------------------ PySAL access


def _pysal(
    pairs: dict[tuple[int, int], float],
    supply: np.ndarray,
    demand: np.ndarray,
    within_m: float,
    gaussian: bool,
) -> np.ndarray:
    import access
    from access import weights

    cost = pd.DataFrame(
        [(i, j, d) for (i, j), d in pairs.items()], columns=["origin", "dest", "cost"]
    )
    dem = pd.DataFrame({"geoid": np.arange(demand.size), "pop": demand})
    sup = pd.DataFrame({"geoid": np.arange(supply.size), "floor": supply})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        A = access.Access(
            demand_df=dem, demand_index="geoid", demand_value="pop",
            supply_df=sup, supply_index="geoid", supply_value="floor",
            cost_df=cost, cost_origin="origin", cost_dest="dest", cost_name="cost",
        )  # fmt: skip
        if gaussian:
            out = A.enhanced_two_stage_fca(
                name="e2", weight_fn=weights.gaussian(within_m / 2.0), max_cost=within_m
            )
        else:
            out = A.two_stage_fca(name="t2", max_cost=within_m)
    col = out.columns[0]
    return out[col].reindex(np.arange(demand.size)).fillna(0.0).to_numpy(dtype=float)


@pytest.mark.parametrize(("decay", "within_m"), [("none", 500.0), ("gaussian", 900.0)])
def test_equals_pysal_access_on_the_same_costs(haidian: dict, decay: str, within_m: float) -> None:
    r = audit_access(
        haidian["buildings"], haidian["facilities"], haidian["net"], category=CATEGORY,
        supply_column="floor_area_m2", profile=PROFILE, within_m=within_m, decay=decay,
    )  # fmt: skip
    o, f = _oracle_inputs(haidian, gated=False)
    from geoplan.reach import reach_matrix

    m = reach_matrix(haidian["net"], o, f, limit_m=within_m).tocoo()
    pairs = {(int(i), int(j)): float(d) for j, i, d in zip(m.row, m.col, m.data, strict=True)}
    stores = haidian["facilities"][haidian["facilities"]["category"] == CATEGORY]
    want = _pysal(
        pairs,
        stores["floor_area_m2"].to_numpy(float),
        haidian["buildings"]["households"].to_numpy(float),
        within_m,
        gaussian=decay == "gaussian",
    )
    got = r.table[access_column(CATEGORY)].to_numpy() / 100.0
    assert (want > 0).sum() > 50
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------------ properties


@st.composite
def _matrices(draw: st.DrawFn) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray]:
    n_f = draw(st.integers(1, 6))
    n_b = draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    dense = rng.uniform(0, 1000, (n_f, n_b))
    mask = rng.uniform(size=(n_f, n_b)) < draw(st.floats(0.0, 1.0))
    dense[(~mask) & (dense > 0)] = 0.0
    # stored zeros count: a building at the door
    rows, cols = np.nonzero(mask)
    m = sp.csr_matrix((dense[rows, cols], (rows, cols)), shape=(n_f, n_b))
    supply = np.round(rng.uniform(0, 500, n_f), 1)
    demand = rng.integers(0, 50, n_b).astype(float)
    limits = rng.choice([np.nan, 200.0, 600.0, 1000.0], n_f)
    return m, supply, demand, limits


@settings(max_examples=200, deadline=None)
@given(_matrices(), st.sampled_from(["none", "linear", "gaussian"]))
def test_supply_is_conserved(
    case: tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray], decay: str
) -> None:
    m, supply, demand, limits = case
    r = two_step(m, supply=supply, demand=demand, limits_m=limits, decay=decay)
    served = r.served
    # no decay: served = some demand within reach; with decay a weight of exactly 0
    # (linear, at the limit) may serve nobody although a building stands there
    if decay == "none":
        coo = m.tocoo()
        inside = coo.data <= limits[coo.row]
        reach = np.zeros(m.shape[0], dtype=bool)
        reach[coo.row[inside & (demand[coo.col] > 0)]] = True
        assert (served == reach).all()
    assert math.isclose(
        float((demand * r.access).sum()), float(supply[served].sum()), rel_tol=1e-9, abs_tol=1e-9
    )
    assert (r.access >= 0).all()
    assert np.isnan(r.ratio[~served]).all()


@st.composite
def _layouts(draw: st.DrawFn) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    seed = draw(st.integers(0, 10_000))
    rng = np.random.default_rng(seed)
    lines = [LineString([(0, y), (800, y)]) for y in (0, 200, 400)]
    lines += [LineString([(x, 0), (x, 400)]) for x in (0, 300, 800)]
    streets = gpd.GeoDataFrame(geometry=lines, crs=32650)
    n_b, n_f = draw(st.integers(1, 25)), draw(st.integers(1, 5))
    b = gpd.GeoDataFrame(
        {"households": rng.integers(0, 80, n_b).astype(float), "households_source": "given"},
        geometry=shapely.points(rng.uniform(-20, 820, n_b), rng.uniform(-20, 420, n_b)),
        index=pd.Index([f"b{i}" for i in range(n_b)], name="building_id"),
        crs=32650,
    )
    f = gpd.GeoDataFrame(
        {"category": CATEGORY, "floor_area_m2": np.round(rng.uniform(10, 300, n_f), 1)},
        geometry=shapely.points(rng.uniform(0, 800, n_f), rng.uniform(0, 400, n_f)),
        index=pd.Index([f"f{i}" for i in range(n_f)], name="facility_id"),
        crs=32650,
    )
    return streets, b, f


@settings(max_examples=25, deadline=None)
@given(_layouts(), st.floats(50.0, 1200.0))
def test_audit_conserves_supply(
    layout: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame], within_m: float
) -> None:
    streets, b, f = layout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = audit_access(
            b, f, network_from_lines(streets), category=CATEGORY, supply_column="floor_area_m2",
            profile=PROFILE, within_m=within_m, check_layers=False,
        )  # fmt: skip
    a = r.table[access_column(CATEGORY)].to_numpy() / 100.0
    served = r.extra["facilities"]["served"].to_numpy(bool)
    total = float(f["floor_area_m2"].to_numpy()[served].sum())
    assert math.isclose(float((b["households"].to_numpy() * a).sum()), total, abs_tol=1e-9)
    assert math.isclose(r.summary["supply_served"], total, abs_tol=1e-9)
    assert math.isclose(
        r.summary["supply_served"] + r.summary["supply_not_reached"],
        float(f["floor_area_m2"].sum()),
        abs_tol=1e-9,
    )


# ------------------------------------------------------------------ the demo district


@pytest.fixture(scope="module")
def demo() -> dict[str, object]:
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    return {"d": d, "net": network_from_lines(d.streets)}


def _demo_run(demo: dict, **kw: object) -> object:
    d = demo["d"]
    args: dict[str, object] = {
        "category": "community_service_centre",
        "supply_column": "floor_area_m2",
        "profile": "tianjin-2025",
        "within_m": 1000.0,
        "communities": d.communities,
    }
    args.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return audit_access(d.buildings, d.facilities, demo["net"], **args)


def test_community_mean_and_minimum(demo: dict) -> None:
    r = _demo_run(demo)
    col = access_column("community_service_centre")
    t = r.table
    comm = r.extra["communities"]
    with_hh = t[t["households"] > 0]
    for cid, grp in with_hh.groupby("community_id"):
        mean = float((grp[col] * grp["households"]).sum() / grp["households"].sum())
        assert comm.loc[str(cid), f"{col}__mean"] == pytest.approx(mean, rel=1e-12)
        assert comm.loc[str(cid), f"{col}__min"] == pytest.approx(float(grp[col].min()))
        assert comm.loc[str(cid), "households"] == pytest.approx(float(grp["households"].sum()))
    assert comm["households_estimated_share"].between(0, 1).all()
    # matched by position when the buildings carry no community_id: the same table
    d = demo["d"]
    by_pos = _demo_run(demo, communities=d.communities)
    b = d.buildings.drop(columns="community_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        placed = audit_access(b, d.facilities, demo["net"], category="community_service_centre",
                              supply_column="floor_area_m2", profile="tianjin-2025",
                              within_m=1000.0, communities=d.communities)  # fmt: skip
    got = placed.extra["communities"]
    assert int(got["buildings"].sum()) > 0.95 * len(b)
    pd.testing.assert_series_equal(
        got[f"{col}__mean"].dropna(), by_pos.extra["communities"][f"{col}__mean"].dropna(),
        rtol=0.05, check_exact=False,
    )  # fmt: skip
    s = r.summary
    assert 0 < s["households_estimated_share"] < 1  # the demo estimates some households
    assert s["supply_conserved"]["sum_p_a"] == pytest.approx(s["supply_conserved"]["served_supply"])


def test_time_form_uses_profile_speed(demo: dict) -> None:
    from geoplan.profiles import load_profile

    speed = load_profile("tianjin-2025").walk_speed()
    by_min = _demo_run(demo, within_m=None, within_min=800.0 / speed)
    by_m = _demo_run(demo, within_m=800.0)
    col = access_column("community_service_centre")
    np.testing.assert_allclose(by_min.table[col], by_m.table[col], atol=1e-9)
    assert by_min.summary["within_m"] == pytest.approx(800.0)


def test_residents_per_1000(demo: dict) -> None:
    r = _demo_run(demo, population="residents")
    col = access_column("community_service_centre", "residents")
    res = r.table["residents"].to_numpy()
    total = float((res * r.table[col].to_numpy() / 1000.0).sum())
    assert total == pytest.approx(r.summary["supply_served"], rel=1e-9)


def test_missing_supply_is_bad_input_naming_row(demo: dict) -> None:
    d = demo["d"]
    fac = d.facilities.copy()
    fac.attrs["source_file"] = "设施.gpkg"
    first = fac.index[fac["category"] == "community_service_centre"][2]
    fac.loc[first, "floor_area_m2"] = np.nan
    with pytest.raises(InputError) as err:
        audit_access(d.buildings, fac, demo["net"], category="community_service_centre",
                     supply_column="floor_area_m2", profile="tianjin-2025",
                     within_m=800)  # fmt: skip
    assert err.value.file == "设施.gpkg"
    assert err.value.row == str(first)
    assert err.value.column == "floor_area_m2"
    with pytest.warns(DataQualityWarning, match=str(first)):
        r = audit_access(d.buildings, fac, demo["net"], category="community_service_centre",
                         supply_column="floor_area_m2", profile="tianjin-2025", within_m=800,
                         missing_supply="exclude")  # fmt: skip
    assert r.summary["facilities_excluded_no_supply"] == [str(first)]


def test_bad_arguments(demo: dict) -> None:
    d = demo["d"]
    with pytest.raises(InputError, match="supply column 'area'"):
        _demo_run(demo, supply_column="area")
    with pytest.raises(InputError, match="unknown category"):
        _demo_run(demo, category="no_such_thing")
    with pytest.raises(InputError, match="decay"):
        _demo_run(demo, decay="cubic")
    with pytest.raises(InputError, match="one walking limit"):
        _demo_run(demo, within_min=10.0)
    with pytest.raises(InputError, match="no walking limit"):
        _demo_run(demo, within_m=None)
    with pytest.raises(InputError, match="limits_m has"):
        _demo_run(demo, within_m=None, limits_m=[500.0])
    assert d is not None


def test_decay_weights_defined() -> None:
    d = np.array([0.0, 100.0, 200.0])
    lim = np.array([200.0, 200.0, 200.0])
    assert decay_weights(d, lim, "none").tolist() == [1.0, 1.0, 1.0]
    assert decay_weights(d, lim, "linear").tolist() == [1.0, 0.5, 0.0]
    g = decay_weights(d, lim, "gaussian")
    assert g[0] == 1.0 and g[2] == pytest.approx(math.exp(-2.0))
    assert g[1] == pytest.approx(math.exp(-0.5))


# ------------------------------------------------------------------ size-dependent catchments


def test_park_catchment_from_profile_equals_networkx(shared_data: Path, haidian: dict) -> None:
    """Parks of the extract (OSM polygons with area_m2) serve 500 m or 300 m by size
    (city-health-check ``park_service_radius``), smaller ones nobody."""
    from geoplan.io.osm import facilities_from_extract, read_osm
    from geoplan.io.readers import prepare_layer
    from geoplan.profiles import load_profile

    osm = shared_data.joinpath(*HAIDIAN)
    net = haidian["net"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = facilities_from_extract(read_osm(osm, to_crs=net.crs)).reset_index()
    parks = prepare_layer(
        raw[["facility_id", "name", "category", "area_m2", "geometry"]],
        "facilities",
        file=str(osm),
        metric_crs=net.crs,
    )
    parks = parks[parks["category"] == "park"]
    assert len(parks) >= 5
    prof = load_profile("city-health-check")
    rule = prof.catchment_for("park")
    assert rule is not None
    limits = rule.limits_m(parks["area_m2"].to_numpy(float), prof)
    assert np.isnan(limits).any() or (limits == 300.0).any()  # sizes differ: rules differ
    r = audit_access(
        haidian["buildings"], parks, net, category="park", supply_column="area_m2",
        profile=prof, population="residents",
    )  # fmt: skip
    assert r.summary["limit"] == f"catchment:{rule.id}"
    np.testing.assert_array_equal(r.extra["facilities"]["limit_m"].to_numpy(), limits)
    o = snap_points(net, haidian["buildings"], max_snap_m=300.0)
    f = snap_points(net, parks, max_snap_m=300.0)
    pairs = pair_distances(net, f, o, float(np.nanmax(limits)))
    res = r.table["residents"].tolist()
    lim = [x if np.isfinite(x) else -1.0 for x in limits]
    want = _plain_2sfca(pairs, parks["area_m2"].tolist(), res, lim, "none")
    got = r.table[access_column("park", "residents")].to_numpy()
    assert (np.array(want) > 0).sum() > 20
    np.testing.assert_allclose(got, 1000.0 * np.array(want), atol=1e-6)


def test_targets_use_their_own_decay_scope_and_limit(demo: dict) -> None:
    """A target is evaluated with its own limit, decay and population, whatever the run's."""
    import dataclasses

    from geoplan.profiles import load_profile

    base = load_profile("city-health-check")
    t = base.target("wet_market_floor_area_per_1000")
    mine = dataclasses.replace(t, id="wm_building", decay="gaussian", scope="building",
                               within_min=None, within_m=600.0)  # fmt: skip
    prof = base.derive("mine", add=[mine])
    r = _demo_run(demo, category="wet_market", profile=prof, within_m=900.0, decay="linear")
    same = _demo_run(demo, category="wet_market", profile=prof, within_m=600.0,
                     decay="gaussian", population="residents")  # fmt: skip
    col = access_column("wet_market", "residents")
    has = r.table["residents"].to_numpy() > 0
    np.testing.assert_allclose(
        r.table["wm_building__value"].to_numpy()[has], same.table[col].to_numpy()[has], atol=1e-9
    )
    f = r.findings[r.findings["check_id"] == "wm_building"]
    assert len(f) == int(has.sum()) and set(f["scope"]) == {"building"}
    assert (f["passed"] == (f["value"] >= 50.0)).all()
    # the community target (10 min, no decay) is there too, one row per community
    g = r.findings[r.findings["check_id"] == "wet_market_floor_area_per_1000"]
    assert set(g["scope"]) == {"community"} and len(g) == 30
    assert r.summary["targets"]["wm_building"]["decay"] == "gaussian"

"""Management grids: ranges from the profile, barriers, codes, tiling, contiguity."""

from __future__ import annotations

import itertools
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import LineString, box

from geoplan._errors import InputError
from geoplan.grids import delineate_grids, grid_code, hilbert_index
from geoplan.grids.partition import cut_runs
from geoplan.profiles import load_profile

CRS = 32650
CODE = "120104001001"


@pytest.fixture(scope="module")
def ranges() -> dict[str, tuple[float, float]]:
    p = load_profile("ningxia-2025")
    return {
        t.id: tuple(t.threshold) for t in p.targets_for("grids") if t.measure == "households_range"
    }


def _community(poly=None, **cols) -> gpd.GeoDataFrame:
    data = {"district_code": ["120104"], "old_estate": [False], **{k: [v] for k, v in cols.items()}}
    return gpd.GeoDataFrame(data, geometry=[poly or box(0, 0, 400, 200)], index=[CODE], crs=CRS)


def _buildings(xy, households, **cols) -> gpd.GeoDataFrame:
    geoms = [box(x - 8, y - 8, x + 8, y + 8) for x, y in xy]
    return gpd.GeoDataFrame(
        {"households": np.asarray(households, dtype=float), **cols},
        geometry=geoms,
        index=pd.Index([f"b{i:03d}" for i in range(len(geoms))], name="building_id"),
        crs=CRS,
    )


def _row(xs, y, hh):
    return [(x, y) for x in xs], [hh] * len(xs)


def _check_invariants(result, buildings, communities) -> None:
    g = result.grids
    m = result.membership
    assert m.index.equals(buildings.index)
    assert m.notna().all()
    assert set(m) == set(g.index)
    # households and building counts add up; a building is never split
    hh = buildings["households"].groupby(m).sum()
    assert np.allclose(hh.reindex(g.index).to_numpy(), g["households"].to_numpy())
    assert (buildings.groupby(m).size().reindex(g.index) == g["n_buildings"]).all()
    for cid, grp in g.groupby("community_id"):
        poly = communities.geometry.loc[cid]
        union = shapely.union_all(grp.geometry.to_numpy())
        assert shapely.symmetric_difference(union, poly).area < 1e-4 * poly.area  # tiles
        assert grp.geometry.area.sum() == pytest.approx(poly.area, rel=1e-4)  # no overlaps
    # every building's surface point lies in its grid polygon
    rep = buildings.geometry.representative_point()
    polys = g.geometry.reindex(m.to_numpy()).to_numpy()
    assert shapely.covers(polys, rep.to_numpy()).all()
    # in_range is exactly the profile's range test
    assert (g["in_range"] == ((g["households"] >= g["low"]) & (g["households"] <= g["high"]))).all()
    # every grid outside its range says why
    assert g.loc[~g["in_range"], "reason"].notna().all()
    assert all(re.fullmatch(r"\d{12}-\d{3}", c) for c in g.index)


def test_grid_code_format() -> None:
    assert grid_code(CODE, 7) == "120104001001-007"
    assert grid_code(CODE, 1234, width=4) == "120104001001-1234"


def test_hilbert_index_keeps_neighbours_close() -> None:
    xs, ys = np.meshgrid(np.arange(8.0), np.arange(8.0))
    d = hilbert_index(xs.ravel(), ys.ravel(), order=3)
    assert sorted(d.tolist()) == list(range(64))  # a bijection on the 8 x 8 grid
    order = np.argsort(d)
    steps = np.hypot(np.diff(xs.ravel()[order]), np.diff(ys.ravel()[order]))
    assert np.allclose(steps, 1.0)  # consecutive cells are always neighbours


def _objective(h, ends, low, high):
    exc = out = dev = 0.0
    start = 0
    for e in ends:
        s = float(sum(h[start:e]))
        start = e
        if s < low or s > high:
            exc += max(low - s, s - high)
            out += 1
            dev += 0.25
        else:
            dev += ((s - (low + high) / 2) / (high - low)) ** 2
    return (round(exc, 6), out, dev)


@settings(max_examples=80, deadline=None)
@given(h=st.lists(st.integers(0, 400), min_size=1, max_size=9))
def test_cut_is_optimal_against_brute_force(h, ranges) -> None:
    low, high = ranges["grid_households"]
    arr = np.asarray(h, dtype=float)
    n = arr.size
    best = min(
        _objective(arr, [*cuts, n], low, high)
        for k in range(n)
        for cuts in itertools.combinations(range(1, n), k)
    )
    got = _objective(arr, cut_runs(arr, low, high), low, high)
    assert got[:2] == best[:2]
    assert got[2] == pytest.approx(best[2])


def test_simple_split_into_two_grids(ranges) -> None:
    low, high = ranges["grid_households"]
    per = (low + high) / 4  # two buildings make a mid-range grid
    xy, hh = _row([50, 150, 250, 350], 100, per)
    b = _buildings(xy, hh)
    c = _community()
    r = delineate_grids(b, c, profile="ningxia-2025")
    _check_invariants(r, b, c)
    assert r.grids["households"].tolist() == [2 * per, 2 * per]
    assert r.grids["in_range"].all() and r.passed
    assert r.grids.index.tolist() == [f"{CODE}-001", f"{CODE}-002"]
    assert r.membership.tolist() == [f"{CODE}-001"] * 2 + [f"{CODE}-002"] * 2


def test_major_road_separates_grids_when_avoidable(ranges) -> None:
    low, high = ranges["grid_households"]
    per = (low + high) / 8
    # four buildings each side of a primary road at x = 200, staggered so that a
    # road-blind Hilbert cut would mix sides
    xy = [(x, y) for x in (60, 140, 260, 340) for y in (50, 150)]
    b = _buildings(xy, [per] * 8)
    c = _community()
    roads = gpd.GeoDataFrame(
        {"highway": ["primary", "footway"]},
        geometry=[LineString([(200, -50), (200, 250)]), LineString([(0, 100), (400, 100)])],
        crs=CRS,
    )
    r = delineate_grids(b, c, profile="ningxia-2025", streets=roads)
    _check_invariants(r, b, c)
    assert len(r.grids) == 2 and r.grids["in_range"].all()
    assert not r.grids["crosses_road"].any()
    left = b.geometry.centroid.x < 200
    assert r.membership[left].nunique() == 1 and r.membership[~left].nunique() == 1
    assert r.membership[left].iloc[0] != r.membership[~left].iloc[0]
    for geom in r.grids.geometry:  # each grid stays on its side of the road
        assert geom.geom_type == "Polygon"
        xmin, _, xmax, _ = geom.bounds
        assert xmax <= 200 + 1e-6 or xmin >= 200 - 1e-6


def test_small_block_joins_its_neighbour_across_the_road(ranges) -> None:
    low, _ = ranges["grid_households"]
    xy = [(60, 100), (260, 60), (340, 140)]
    hh = [low / 3, low * 0.6, low * 0.6]  # left alone is far below the minimum
    b = _buildings(xy, hh)
    c = _community()
    roads = gpd.GeoDataFrame(
        {"highway": ["secondary"]}, geometry=[LineString([(200, -50), (200, 250)])], crs=CRS
    )
    r = delineate_grids(b, c, profile="ningxia-2025", streets=roads)
    _check_invariants(r, b, c)
    assert len(r.grids) == 1
    row = r.grids.iloc[0]
    assert row["crosses_road"] and row["in_range"]


def test_big_building_is_its_own_grid_with_a_reason(ranges) -> None:
    low, high = ranges["grid_households"]
    xy, hh = _row([40, 120, 200, 280, 360], 100, (low + high) / 4)
    hh[0] = 2 * high
    b = _buildings(xy, hh)
    c = _community()
    r = delineate_grids(b, c, profile="ningxia-2025")
    _check_invariants(r, b, c)
    bad = r.problems
    assert len(bad) == 1
    assert bad["reason"].iloc[0].startswith(f"one building of {2 * high:,.0f} households")
    assert r.grids.loc[bad.index[0], "n_buildings"] == 1
    assert not r.passed


def test_tiny_community_is_explained(ranges) -> None:
    low, _ = ranges["grid_households"]
    b = _buildings([(100, 100), (300, 100)], [low / 4, low / 4])
    c = _community()
    r = delineate_grids(b, c, profile="ningxia-2025")
    _check_invariants(r, b, c)
    assert len(r.grids) == 1
    assert r.grids["reason"].iloc[0] == (
        f"community has only {low / 2:,.0f} households (fewer than {low:,.0f})"
    )


@pytest.mark.parametrize("where", ["community", "building_special", "community_special"])
def test_old_estates_and_special_groups_use_the_reduced_range(ranges, where) -> None:
    low_o, high_o = ranges["grid_households_old_estate"]
    _, high_n = ranges["grid_households"]
    per = (low_o + high_o) / 4  # two per reduced grid
    xy, hh = _row([50, 150, 250, 350], 100, per)
    b = _buildings(xy, hh)
    c = _community()
    if where == "community":
        c["old_estate"] = True
    elif where == "community_special":
        c["special_groups"] = True
    else:
        b["special_groups"] = True
    r = delineate_grids(b, c, profile="ningxia-2025")
    _check_invariants(r, b, c)
    assert r.grids["target_id"].eq("grid_households_old_estate").all()
    assert (r.grids["low"] == low_o).all() and (r.grids["high"] == high_o).all()
    assert r.grids["in_range"].all() and len(r.grids) == 2
    # the same buildings without the flag make one normal grid
    plain = delineate_grids(_buildings(xy, hh), _community(), profile="ningxia-2025")
    assert plain.grids["target_id"].eq("grid_households").all()
    assert len(plain.grids) == (1 if 4 * per <= high_n else 2)


def test_commercial_building_can_be_its_own_exempt_grid(ranges) -> None:
    low, high = ranges["grid_households"]
    xy, hh = _row([50, 150, 250, 350], 100, (low + high) / 4)
    xy.append((200, 180))
    hh.append(0.0)
    b = _buildings(xy, hh, use=["residential"] * 4 + ["commercial"])
    c = _community()
    plain = delineate_grids(b, c, profile="ningxia-2025")
    assert len(plain.grids) == 2 and plain.passed  # the mall joins a residential grid
    own = delineate_grids(b, c, profile="ningxia-2025", own_grid_uses=["commercial"])
    _check_invariants(own, b, c)
    assert own.grids["exempt"].sum() == 1
    ex = own.grids[own.grids["exempt"]].iloc[0]
    assert ex["n_buildings"] == 1 and "grid of its own" in ex["reason"]
    assert own.passed  # exempt grids are not problems


def test_result_does_not_change_inputs_and_checks_crs() -> None:
    b = _buildings([(100, 100)], [np.nan], use=["residential"], floors=[6.0])
    c = _community()
    before = b.copy()
    r = delineate_grids(b, c, profile="ningxia-2025")
    pd.testing.assert_frame_equal(b, before)
    assert r.grids["households"].iloc[0] > 0  # estimated from footprint and floors
    with pytest.raises(InputError, match="share a CRS"):
        delineate_grids(b.to_crs(4326), c, profile="ningxia-2025")


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 40),
    road=st.booleans(),
)
def test_random_layouts_tile_and_stay_connected(seed, n, road) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform([15, 15], [385, 185], size=(n, 2))
    keep = np.ones(n, dtype=bool)
    for i in range(n):  # no overlapping footprints, none on the road
        close = np.hypot(*(xy[:i] - xy[i]).T) < 20
        keep[i] = not (close & keep[:i]).any() and abs(xy[i, 0] - 200) > 10
    c = _community(
        poly=shapely.Polygon(
            [(0, 0), (400, 0), (400, 200), (250, 200), (200, 120), (150, 200), (0, 200)]
        )
    )
    b = _buildings([tuple(p) for p in xy[keep]], rng.integers(0, 160, size=int(keep.sum())))
    b = b[b.within(c.geometry.iloc[0])]  # none in the notch
    if b.empty:
        return
    streets = None
    if road:
        streets = gpd.GeoDataFrame(
            {"highway": ["trunk"]}, geometry=[LineString([(200, -10), (200, 260)])], crs=CRS
        )
    r = delineate_grids(b, c, profile="ningxia-2025", streets=streets)
    _check_invariants(r, b, c)
    single = r.grids.loc[~r.grids["crosses_road"]]
    assert (single.geometry.geom_type == "Polygon").all()


# --------------------------------------------------------------------------- sample district


def test_sample_district_every_grid_in_range_or_explained() -> None:
    sample = pytest.importorskip("geoplan.sample")
    d = sample.make_sample_district(seed=0)
    r = delineate_grids(
        d.buildings, d.communities, profile="ningxia-2025", streets=d.streets, compounds=d.compounds
    )
    b = d.buildings
    m = r.membership
    assert m.index.equals(b.index)
    g = r.grids
    in_comm = m.notna()
    assert in_comm.all()
    for cid, grp in g.groupby("community_id"):
        poly = d.communities.geometry.loc[cid]
        union = shapely.union_all(grp.geometry.to_numpy())
        assert shapely.symmetric_difference(union, poly).area < 1e-4 * poly.area
    assert g.loc[~g["in_range"], "reason"].notna().all()
    assert all(re.fullmatch(r"\d{12}-\d{3}", c) for c in g.index)
    assert (g.loc[~g["crosses_road"]].geometry.geom_type == "Polygon").all()
    # most grids are within range; the exceptions carry a reason each
    assert g["in_range"].mean() > 0.9
    summary = r.to_dict()["summary"]
    assert summary["n_grids"] == len(g)


def test_cli_grids(tmp_path) -> None:
    import json

    from click.testing import CliRunner

    sample = pytest.importorskip("geoplan.sample")
    from geoplan.cli._main import main

    folder = tmp_path / "in"
    sample.make_sample_district(seed=0).to_files(folder, fmt="geojson")
    out = tmp_path / "out"
    res = CliRunner().invoke(
        main,
        [
            "grids",
            "--buildings",
            str(folder / "buildings.geojson"),
            "--communities",
            str(folder / "communities.geojson"),
            "--streets",
            str(folder / "streets.geojson"),
            "--json",
            "--out",
            str(out),
        ],
    )
    payload = json.loads(res.stdout)
    assert res.exit_code == (0 if payload["passed"] else 1)
    assert payload["summary"]["n_grids"] == len(payload["grids"]) > 0
    assert all(g["in_range"] or g["reason"] for g in payload["grids"])
    assert {"grids.gpkg", "grids.csv", "grids.json"} <= {p.name for p in out.iterdir()}

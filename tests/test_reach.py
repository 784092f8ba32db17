"""Reach: exact agreement with networkx, properties, reach matrix, service areas."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from nx_oracle import nearest_distances
from reach_oracle import reach_matrix_global
from shapely.geometry import LineString, Point

from geoplan._errors import DataQualityWarning, InputError
from geoplan.network import WalkNetwork, network_from_lines, network_from_osm, snap_points
from geoplan.reach import multi_source_distances, nearest_facilities, reach_matrix, service_areas

CRS = "EPSG:32650"
OSM_FILES = [
    "beijing_haidian_cau.osm.bz2",
    "West-Oakland.osm.bz2",
    "aguascalientes.osm.bz2",
    "aguascalientes.osm.pbf",
    "munich_no_pois.osm",
]


# ----------------------------------------------------------------------- helpers


def _random_points(net: WalkNetwork, n: int, seed: int, pad: float = 30.0) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    x = rng.uniform(net.x.min() - pad, net.x.max() + pad, n)
    y = rng.uniform(net.y.min() - pad, net.y.max() + pad, n)
    return gpd.GeoSeries(shapely.points(x, y), index=[f"p{i}" for i in range(n)], crs=net.crs)


def _near_edges(net: WalkNetwork, n: int, seed: int, jitter: float = 40.0) -> gpd.GeoSeries:
    rng = np.random.default_rng(seed)
    e = rng.integers(0, net.n_edges, n)
    p = shapely.line_interpolate_point(net.geometry[e], rng.uniform(0, 1, n), normalized=True)
    xy = shapely.get_coordinates(p) + rng.uniform(-jitter, jitter, (n, 2))
    return gpd.GeoSeries(shapely.points(xy), index=[f"q{i}" for i in range(n)], crs=net.crs)


# ----------------------------------------------------------------- networkx agreement


@pytest.mark.parametrize("name", OSM_FILES)
def test_distances_match_networkx_on_real_osm(shared_data: Path, name: str) -> None:
    net = network_from_osm(shared_data / "osm" / name)
    origins = pd.concat([_random_points(net, 20, seed=1), _near_edges(net, 150, seed=3)])
    # facilities: random points plus two that share an edge with each other
    fpts = list(_near_edges(net, 6, seed=2))
    g0 = net.geometry[int(np.argmax(net.length_m))]
    fpts += [g0.interpolate(0.3, normalized=True), g0.interpolate(0.7, normalized=True)]
    fac = gpd.GeoDataFrame(
        {"category": ["a", "b", "a", "b", "a", "b", "a", "b"]},
        geometry=fpts,
        index=[f"f{i}" for i in range(8)],
        crs=net.crs,
    )
    # origins on the same edge as the facilities, too
    origins = pd.concat(
        [
            origins,
            gpd.GeoSeries([g0.interpolate(0.5, normalized=True)], index=["same"], crs=net.crs),
        ]
    )
    max_snap, limit = 150.0, 1e9
    kw = {"max_snap_m": max_snap, "min_component_nodes": 1}
    o = snap_points(net, origins, **kw)  # type: ignore[arg-type]
    res = nearest_facilities(
        net,
        origins,
        fac,
        limit_m=limit,
        walk_speed_m_per_min=80.0,
        **kw,  # type: ignore[arg-type]
    )
    assert o.reachable.sum() > 10
    for cat in ("a", "b"):
        sub = fac[fac["category"] == cat]
        s = snap_points(net, sub, **kw)  # type: ignore[arg-type]
        exp = nearest_distances(net, s, o)
        got = res[f"walk_m__{cat}"].to_numpy()
        finite = np.isfinite(exp)
        assert finite.sum() > 0
        np.testing.assert_array_equal(np.isfinite(got), finite)
        np.testing.assert_allclose(got[finite], exp[finite], rtol=0, atol=1e-6)
        np.testing.assert_allclose(res[f"walk_min__{cat}"], got / 80.0)
        # the named facility is at that distance
        fid = res[f"facility_id__{cat}"]
        assert fid[finite].isin(sub.index).all()
        assert fid[~finite].isna().all()
    # same-edge pair: exact along-edge distance (both on the longest edge)
    L = float(net.length_m[int(np.argmax(net.length_m))])
    same = res.loc["same", "walk_m__b"]
    assert same <= 0.2 * L + 1e-6


def test_node_distances_match_networkx(shared_data: Path) -> None:
    net = network_from_osm(shared_data / "osm" / "West-Oakland.osm.bz2")
    nodes = gpd.GeoSeries(shapely.points(net.x[:5], net.y[:5]), crs=net.crs)
    s = snap_points(net, nodes, max_snap_m=1.0, min_component_nodes=1)
    dist, src = multi_source_distances(net, s, limit_m=400.0)
    G = nx.Graph()
    for e in range(net.n_edges):
        a, b, w = int(net.u[e]), int(net.v[e]), float(net.length_m[e])
        if a != b and (not G.has_edge(a, b) or G[a][b]["weight"] > w):
            G.add_edge(a, b, weight=w)
    exp = nx.multi_source_dijkstra_path_length(G, set(range(5)), cutoff=400.0, weight="weight")
    e = np.full(net.n_nodes, np.inf)
    e[list(exp)] = list(exp.values())
    np.testing.assert_array_equal(np.isfinite(dist), np.isfinite(e))
    np.testing.assert_allclose(dist[np.isfinite(e)], e[np.isfinite(e)], atol=1e-6, rtol=0)
    assert (dist[:5] == 0).all()
    assert (src[:5] == np.arange(5)).all()


# ------------------------------------------------------------------------ properties


def _grid(n: int, weights: np.ndarray, spacing: float = 100.0) -> WalkNetwork:
    """An n x n grid whose edges bend by a random amount (random lengths)."""
    geoms = []
    k = 0
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a = (i * spacing, j * spacing)
                    b = ((i + di) * spacing, (j + dj) * spacing)
                    bend = weights[k % weights.size] * spacing
                    mid = ((a[0] + b[0]) / 2 + dj * bend, (a[1] + b[1]) / 2 + di * bend)
                    geoms.append(LineString([a, mid, b]))
                    k += 1
    return network_from_lines(gpd.GeoDataFrame(geometry=geoms, crs=CRS))


grid_cases = st.tuples(
    st.integers(2, 5),
    st.lists(st.floats(0.0, 1.5), min_size=1, max_size=40),
    st.integers(0, 10_000),
)


@settings(max_examples=25, deadline=None)
@given(grid_cases, st.floats(50.0, 600.0), st.floats(0.0, 400.0))
def test_coverage_grows_with_cutoff_and_facilities(
    case: tuple[int, list[float], int], cutoff: float, extra: float
) -> None:
    n, w, seed = case
    net = _grid(n, np.asarray(w))
    pts = _random_points(net, 30, seed, pad=0.0)
    o = snap_points(net, pts, max_snap_m=1e6, min_component_nodes=1)
    f_all = snap_points(net, pts.iloc[:3], max_snap_m=1e6, min_component_nodes=1)
    f_one = snap_points(net, pts.iloc[:1], max_snap_m=1e6, min_component_nodes=1)
    d1, _ = multi_source_distances(net, f_one, limit_m=cutoff, targets=o)
    d2, _ = multi_source_distances(net, f_one, limit_m=cutoff + extra, targets=o)
    d3, _ = multi_source_distances(net, f_all, limit_m=cutoff, targets=o)
    assert (np.isfinite(d2) >= np.isfinite(d1)).all()
    assert (np.isfinite(d3) >= np.isfinite(d1)).all()
    assert (d3 <= d1 + 1e-9).all()
    # a source reaches itself over its own access leg, twice
    if 2 * o.snap_m[0] <= cutoff:
        assert d1[0] == pytest.approx(2 * o.snap_m[0])
    else:
        assert d1[0] == np.inf


@settings(max_examples=20, deadline=None)
@given(grid_cases)
def test_distance_is_symmetric(case: tuple[int, list[float], int]) -> None:
    n, w, seed = case
    net = _grid(n, np.asarray(w))
    pts = _random_points(net, 12, seed, pad=0.0)
    s = snap_points(net, pts, max_snap_m=1e6, min_component_nodes=1)
    m = reach_matrix(net, s, s, limit_m=1e7).toarray()
    np.testing.assert_allclose(m, m.T, atol=1e-6, rtol=0)
    np.testing.assert_allclose(np.diag(m), 2 * s.snap_m, atol=1e-9)
    # a point at the exact spot of a source node is at distance 0
    nodes = gpd.GeoSeries(shapely.points(net.x[:2], net.y[:2]), crs=CRS)
    sn = snap_points(net, nodes, max_snap_m=1.0, min_component_nodes=1)
    d, src = multi_source_distances(net, sn, limit_m=1e7)
    assert d[0] == 0.0
    assert d[1] == 0.0
    assert src[:2].tolist() == [0, 1]


@settings(max_examples=20, deadline=None)
@given(st.floats(1.0, 100.0), st.floats(1.0, 100.0))
def test_parallel_edges_keep_the_shorter_in_reach(a: float, b: float) -> None:
    lines = gpd.GeoDataFrame(
        geometry=[
            LineString([(0, 0), (50, a), (100, 0)]),
            LineString([(0, 0), (50, -b), (100, 0)]),
        ],
        crs=CRS,
    )
    net = network_from_lines(lines)
    nodes = gpd.GeoSeries([Point(0, 0)], crs=CRS)
    s = snap_points(net, nodes, max_snap_m=1.0, min_component_nodes=1)
    d, _ = multi_source_distances(net, s, limit_m=1e6)
    assert d.max() == pytest.approx(min(net.length_m))


# ---------------------------------------------------------- API behaviour and edge cases


def test_limits_unreachable_and_warnings() -> None:
    net = network_from_lines(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1000, 0)])], crs=CRS))
    homes = gpd.GeoDataFrame(
        geometry=[Point(0, 5), Point(600, 0), Point(500, 800)], index=["h1", "h2", "far"], crs=CRS
    )
    fac = gpd.GeoDataFrame(
        {"category": ["wet_market", "pharmacy", "pharmacy"]},
        geometry=[Point(100, 0), Point(900, 0), Point(900, 900)],
        index=[1, 2, 3],
        crs=CRS,
    )
    with pytest.warns(DataQualityWarning, match="facilities farther than max_snap_m"):
        r = nearest_facilities(net, homes, fac, limit_m=400, max_snap_m=300,
                               walk_speed_m_per_min=75)  # fmt: skip
    assert list(r.index) == ["h1", "h2", "far"]
    assert r["walk_m__wet_market"].tolist()[:2] == [105.0, np.inf]
    assert r["facility_id__wet_market"].tolist() == ["1", None, None]
    assert r["walk_m__pharmacy"].tolist() == [np.inf, 300.0, np.inf]
    assert r.loc["far", "reachable"] == False  # noqa: E712
    assert r.loc["far", "snap_m"] == 800.0
    with pytest.raises(InputError, match="category"):
        nearest_facilities(net, homes, fac.drop(columns="category"), limit_m=1, max_snap_m=1,
                           walk_speed_m_per_min=75)  # fmt: skip


def test_reach_matrix_matches_nearest(shared_data: Path) -> None:
    net = network_from_osm(shared_data / "osm" / "aguascalientes.osm.pbf")
    o = snap_points(net, _near_edges(net, 80, 5), max_snap_m=100, min_component_nodes=1)
    s = snap_points(net, _near_edges(net, 7, 6), max_snap_m=100, min_component_nodes=1)
    m = reach_matrix(net, o, s, limit_m=600.0)
    assert m.shape == (s.n, o.n)
    dense = np.full(m.shape, np.inf)
    coo = m.tocoo()
    dense[coo.row, coo.col] = coo.data
    d, src = multi_source_distances(net, s, limit_m=600.0, targets=o)
    np.testing.assert_allclose(dense.min(axis=0), d, atol=1e-9)
    ok = np.isfinite(d)
    assert (dense[src[ok], np.flatnonzero(ok)] <= d[ok] + 1e-9).all()
    assert (coo.data <= 600.0).all()


def test_service_area_partial_edges() -> None:
    net = network_from_lines(
        gpd.GeoDataFrame(
            geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 1000)])],
            crs=CRS,
        )
    )
    fac = gpd.GeoDataFrame(
        {"category": ["a", "a", "b"]},
        geometry=[Point(500, 0), Point(1000, 900), Point(100, 0)],
        index=["f1", "f2", "f3"],
        crs=CRS,
    )
    by_cat = service_areas(net, fac, limit_m=200, buffer_m=10, max_snap_m=50)
    assert list(by_cat.index) == ["a", "b"]
    assert by_cat.loc["a", "reach_m"] == pytest.approx(400 + 300)  # f2: 200 down, 100 up
    assert by_cat.loc["b", "reach_m"] == pytest.approx(300)  # 100 west (edge end), 200 east
    assert by_cat.loc["a", "n_facilities"] == 2
    by_fac = service_areas(net, fac, limit_m=200, buffer_m=10, max_snap_m=50, by="facility")
    assert list(by_fac.index) == ["f1", "f2", "f3"]
    assert by_fac["reach_m"].tolist() == pytest.approx([400, 300, 300])
    # areas are buffered segments, not hulls: f1's area is a 400 x 20 m capsule
    assert by_fac.loc["f1"].geometry.area == pytest.approx(400 * 20 + np.pi * 100, rel=0.01)
    assert by_cat.loc["a"].geometry.covers(by_fac.loc["f1"].geometry.buffer(-0.01))
    assert not by_fac.loc["f1"].geometry.contains(Point(500, 50))


def test_service_areas_on_real_file(shared_data: Path) -> None:
    net = network_from_osm(shared_data / "osm" / "beijing_haidian_cau.osm.bz2")
    fac = gpd.GeoDataFrame(
        {"category": ["x", "y", "x"]},
        geometry=list(_near_edges(net, 3, 11)),
        index=["a", "b", "c"],
        crs=net.crs,
    )
    per = service_areas(net, fac, limit_m=300, buffer_m=25, max_snap_m=300, by="facility")
    cat = service_areas(net, fac, limit_m=300, buffer_m=25, max_snap_m=300)
    assert (per["reach_m"] > 0).all()
    union_x = per.loc[["a", "c"]].geometry.union_all()
    assert union_x.symmetric_difference(cat.loc["x"].geometry).area < 1e-3 * union_x.area
    # every network node within the limit lies inside the area; nodes beyond it
    # are not on reachable streets (farther than the buffer from all of them)
    s = snap_points(net, fac.loc[["b"]], max_snap_m=300, min_component_nodes=1)
    dist, _ = multi_source_distances(net, s, limit_m=1e6)
    inside = np.flatnonzero(dist <= 300 - 1e-6)
    assert inside.size > 0
    assert shapely.covers(per.loc["b"].geometry, shapely.points(net.x[inside], net.y[inside])).all()
    total = float(per.loc["b", "reach_m"])
    assert total <= net.length_m.sum()


def test_presnapped_origins_give_the_same_result(shared_data: Path) -> None:
    net = network_from_osm(shared_data / "osm" / "West-Oakland.osm.bz2")
    origins = _near_edges(net, 40, 9)
    fac = gpd.GeoDataFrame(
        {"category": ["a", "a"]}, geometry=list(_near_edges(net, 2, 10)), crs=net.crs
    )
    kw = {"limit_m": 800.0, "max_snap_m": 100.0, "walk_speed_m_per_min": 75.0}
    a = nearest_facilities(net, origins, fac, min_component_nodes=1, **kw)  # type: ignore[arg-type]
    o = snap_points(net, origins, max_snap_m=100.0, min_component_nodes=1)
    b = nearest_facilities(net, o, fac, min_component_nodes=1, **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(a, b)


# ------------------------------------------------- reach matrix: spatial windows


def _random_network(
    seed: int, n: int, *, short_share: float, oneway_share: float, side: float = 1000.0
) -> WalkNetwork:
    """A random geometric network: each node joined to its nearest neighbours.

    Lengths are the chord times a factor >= 1 (bent streets), except a share of
    edges shorter than their chord (lengths from another projection); some
    edges are one-way, some doubled (parallel edges), one node pair coincides
    (a zero-length edge), one edge is a self-loop.
    """
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, side, size=(n, 2))
    xy[1] = xy[0]  # two nodes at one spot
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    near = np.argsort(d, axis=1)[:, 1:4]
    u = np.repeat(np.arange(n), 3)
    v = near.ravel()
    keep = rng.random(u.size) < 0.8
    u, v = u[keep], v[keep]
    dup = rng.random(u.size) < 0.1
    u = np.concatenate([u, u[dup], [0, 2]])
    v = np.concatenate([v, v[dup], [1, 2]])
    chord = np.hypot(xy[v, 0] - xy[u, 0], xy[v, 1] - xy[u, 1])
    factor = np.where(
        rng.random(u.size) < short_share,
        rng.uniform(0.7, 1.0, u.size),
        rng.uniform(1.0, 1.4, u.size),
    )
    length = chord * factor
    length[-1] = 5.0  # the self-loop (left out of the graph)
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    return WalkNetwork(
        node_id=np.arange(n, dtype=np.int64),
        x=xy[:, 0],
        y=xy[:, 1],
        u=u,
        v=v,
        length_m=length,
        geometry=geoms,
        oneway=rng.random(u.size) < oneway_share,
        crs=pyproj.CRS(CRS),
        way_id=np.arange(u.size, dtype=np.int64),
        highway=np.full(u.size, None, dtype=object),
    )


def _points_for(net: WalkNetwork, rng: np.random.Generator, n: int) -> list[Point]:
    """Points at nodes, on edges, near edges, and far from the network."""
    kind = rng.integers(0, 4, n)
    e = rng.integers(0, net.n_edges, n)
    on = shapely.line_interpolate_point(net.geometry[e], rng.uniform(0, 1, n), normalized=True)
    node = rng.integers(0, net.n_nodes, n)
    out = []
    for k in range(n):
        if kind[k] == 0:
            out.append(Point(net.x[node[k]], net.y[node[k]]))
        elif kind[k] == 1:
            out.append(on[k])
        elif kind[k] == 2:
            c = shapely.get_coordinates(on[k])[0] + rng.uniform(-40, 40, 2)
            out.append(Point(c))
        else:
            out.append(Point(rng.uniform(-300, 1300, 2)))
    return out


def _assert_same_matrix(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    """Same stored entries (zeros included), values to 1e-9."""
    assert isinstance(a, sp.csr_matrix) and isinstance(b, sp.csr_matrix)
    assert a.shape == b.shape
    a, b = a.copy(), b.copy()
    a.sum_duplicates()
    b.sum_duplicates()
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 100_000),
    st.integers(8, 60),
    st.sampled_from([0.0, 0.0, 0.3]),
    st.sampled_from([0.0, 0.2]),
    st.floats(0.0, 700.0),
    st.booleans(),
)
def test_windowed_reach_matrix_equals_whole_graph(
    seed: int, n: int, short: float, oneway: float, limit: float, gated: bool
) -> None:

    net = _random_network(seed, n, short_share=short, oneway_share=oneway)
    rng = np.random.default_rng(seed + 1)
    src_pts = _points_for(net, rng, 12)
    org_pts = _points_for(net, rng, 40)
    # origins on the sources' own edges and spots, too
    org_pts += src_pts[:4]
    kw: dict[str, object] = {"max_snap_m": 60.0, "min_component_nodes": 1}
    if gated:
        c = rng.uniform(100, 900, 2)
        box = shapely.box(c[0] - 120, c[1] - 120, c[0] + 120, c[1] + 120)
        kw["compounds"] = gpd.GeoSeries([box], crs=CRS)
        kw["gates"] = gpd.GeoSeries(
            [Point(c[0] - 120, c[1] - 120), Point(c[0] + 120, c[1] + 120)], crs=CRS
        )
        inside = [Point(c + rng.uniform(-100, 100, 2)) for _ in range(4)]
        src_pts += inside[:2]
        org_pts += inside[2:]
    s = snap_points(net, gpd.GeoSeries(src_pts, crs=CRS), **kw)  # type: ignore[arg-type]
    o = snap_points(net, gpd.GeoSeries(org_pts, crs=CRS), **kw)  # type: ignore[arg-type]
    got = reach_matrix(net, o, s, limit_m=limit)
    _assert_same_matrix(got, reach_matrix_global(net, o, s, limit_m=limit))
    assert (got.data <= limit).all()


def test_windows_are_smaller_than_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    import geoplan.reach.matrix as reach

    net = _grid(12, np.array([0.0, 0.3, 0.1]))
    pts = _random_points(net, 60, seed=4, pad=0.0)
    o = snap_points(net, pts, max_snap_m=1e6, min_component_nodes=1)
    s = snap_points(net, pts.iloc[:20], max_snap_m=1e6, min_component_nodes=1)
    sizes: list[int] = []
    real = reach.dijkstra

    def spy(graph, *args, **kwargs):  # type: ignore[no-untyped-def]
        sizes.append(graph.shape[0])
        return real(graph, *args, **kwargs)

    monkeypatch.setattr(reach, "dijkstra", spy)
    got = reach_matrix(net, o, s, limit_m=250.0)
    assert len(sizes) > 1 and max(sizes) < net.n_nodes / 2
    sizes.clear()
    _assert_same_matrix(got, reach_matrix_global(net, o, s, limit_m=250.0))
    assert min(sizes) > net.n_nodes
    assert got.nnz > 0


def test_zero_length_edge_with_a_chord_falls_back_to_whole_graph() -> None:
    from geoplan.reach.matrix import _chord_factor

    lines = [LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)])]
    net0 = network_from_lines(gpd.GeoDataFrame(geometry=lines, crs=CRS))
    # a "teleport": the second street is recorded as 0 m long
    net = WalkNetwork(
        node_id=net0.node_id,
        x=net0.x,
        y=net0.y,
        u=net0.u,
        v=net0.v,
        length_m=np.array([100.0, 0.0]),
        geometry=net0.geometry,
        oneway=net0.oneway,
        crs=net0.crs,
        way_id=net0.way_id,
        highway=net0.highway,
    )
    assert _chord_factor(net) == np.inf
    assert _chord_factor(net0) == pytest.approx(1.0)
    o = snap_points(net, gpd.GeoSeries([Point(200, 0), Point(0, 0)], crs=CRS), max_snap_m=1)
    s = snap_points(net, gpd.GeoSeries([Point(50, 0)], crs=CRS), max_snap_m=1)
    got = reach_matrix(net, o, s, limit_m=60.0)
    # 50 m to the junction, then the 0 m street: the far end is 50 m away
    assert got.toarray().tolist() == [[50.0, 50.0]]
    _assert_same_matrix(got, reach_matrix_global(net, o, s, limit_m=60.0))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 100_000), st.floats(50.0, 500.0))
def test_reach_matrix_rows_match_networkx(seed: int, limit: float) -> None:
    net = _random_network(seed, 40, short_share=0.0, oneway_share=0.0)
    rng = np.random.default_rng(seed + 7)
    kw = {"max_snap_m": 60.0, "min_component_nodes": 1}
    src = gpd.GeoSeries(_points_for(net, rng, 4), crs=CRS)
    o = snap_points(net, gpd.GeoSeries(_points_for(net, rng, 30), crs=CRS), **kw)  # type: ignore[arg-type]
    s = snap_points(net, src, **kw)  # type: ignore[arg-type]
    m = reach_matrix(net, o, s, limit_m=limit).tocsr()
    for j in range(s.n):
        row = m.getrow(j).tocoo()
        got = dict(zip(row.col.tolist(), row.data.tolist(), strict=True))
        if not s.reachable[j]:
            assert got == {}
            continue
        sj = snap_points(net, src.iloc[[j]], **kw)  # type: ignore[arg-type]
        exp_all = nearest_distances(net, sj, o)
        exp = {int(p): float(exp_all[p]) for p in np.flatnonzero(exp_all <= limit)}
        # only a tie with the limit itself may differ by rounding
        for p in set(got) ^ set(exp):
            assert exp_all[p] == pytest.approx(limit, abs=1e-6)
        for p in set(got) & set(exp):
            assert got[p] == pytest.approx(exp[p], abs=1e-6)


def test_windowed_reach_matrix_on_real_file(shared_data: Path) -> None:
    from geoplan.reach.matrix import _chord_factor

    net = network_from_osm(shared_data / "osm" / "aguascalientes.osm.pbf")
    assert _chord_factor(net) <= 1.0 + 1e-9
    o = snap_points(net, _near_edges(net, 300, 15), max_snap_m=100, min_component_nodes=1)
    s = snap_points(net, _near_edges(net, 40, 16), max_snap_m=100, min_component_nodes=1)
    got = reach_matrix(net, o, s, limit_m=400.0)
    assert got.nnz > 50
    _assert_same_matrix(got, reach_matrix_global(net, o, s, limit_m=400.0))


def test_lengths_shorter_than_chords_widen_the_windows() -> None:
    from geoplan.reach.matrix import _chord_factor

    # a straight street of 20 blocks drawn 100 m long but recorded as 50 m each
    # (lengths measured in another projection): walks reach twice as far as the
    # straight line suggests
    xs = np.arange(21) * 100.0
    lines = [LineString([(a, 0), (a + 100.0, 0)]) for a in xs[:-1]]
    net0 = network_from_lines(gpd.GeoDataFrame(geometry=lines, crs=CRS))
    net = WalkNetwork(
        node_id=net0.node_id,
        x=net0.x,
        y=net0.y,
        u=net0.u,
        v=net0.v,
        length_m=net0.length_m / 2,
        geometry=net0.geometry,
        oneway=net0.oneway,
        crs=net0.crs,
        way_id=net0.way_id,
        highway=net0.highway,
    )
    assert _chord_factor(net) == pytest.approx(2.0)
    o = snap_points(net, gpd.GeoSeries(shapely.points(xs, np.zeros(21)), crs=CRS), max_snap_m=1)
    s = snap_points(net, gpd.GeoSeries([Point(0, 0), Point(2000, 0)], crs=CRS), max_snap_m=1)
    got = reach_matrix(net, o, s, limit_m=400.0)
    # 8 blocks (800 m on the map, 400 m walked) from each end
    assert np.diff(got.indptr).tolist() == [9, 9]
    assert got.getrow(0).toarray()[0, 8] == pytest.approx(400.0)
    _assert_same_matrix(got, reach_matrix_global(net, o, s, limit_m=400.0))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 100_000), st.integers(8, 60), st.sampled_from([0.0, 0.2]))
def test_augmented_graph_same_on_fresh_and_prepared_networks(
    seed: int, n: int, oneway: float
) -> None:
    # a fresh network gets its augmented graph written in one go; one whose
    # reversed CSR is built gets the new entries appended to a copy of it: the same
    # matrix either way (zero-length edges and legs kept, one-way edges, parallel
    # edges, a self-loop left out), and the same distances
    from geoplan.reach._augment import augment

    net = _random_network(seed, n, short_share=0.0, oneway_share=oneway)
    rng = np.random.default_rng(seed)
    fac = gpd.GeoSeries(_points_for(net, rng, 6), crs=net.crs)
    homes = gpd.GeoSeries(_points_for(net, rng, 20), crs=net.crs)
    kw = {"max_snap_m": 200.0, "min_component_nodes": 1}
    f = snap_points(net, fac, **kw)  # type: ignore[arg-type]
    fresh = augment(net, f)
    assert "csr_reverse" not in vars(net)
    net.csr_reverse  # noqa: B018 (prepares the network)
    prepared = augment(net, f)
    _assert_same_matrix(fresh.csr_rev, prepared.csr_rev)
    assert (fresh.csr_rev.data == 0).sum() == (prepared.csr_rev.data == 0).sum()
    h = snap_points(net, homes, **kw)  # type: ignore[arg-type]
    d_fresh = multi_source_distances(
        _random_network(seed, n, short_share=0.0, oneway_share=oneway), f, limit_m=900.0, targets=h
    )
    d_prep = multi_source_distances(net, f, limit_m=900.0, targets=h)
    np.testing.assert_array_equal(d_fresh[0], d_prep[0])
    np.testing.assert_array_equal(d_fresh[1], d_prep[1])

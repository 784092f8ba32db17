"""WalkNetwork builders, CSR, conversions, persistence and snapping."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from geoplan._errors import DataQualityWarning, InputError
from geoplan.network import (
    WalkNetwork,
    csr_from_edges,
    load_network,
    network_from_lines,
    network_from_networkx,
    network_from_osm,
    snap_points,
)
from geoplan.reach import nearest_facilities

CRS = "EPSG:32650"


def lines(*geoms: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs=CRS)


def test_lines_builder_nodes_at_endpoints_and_vertices() -> None:
    g = lines(
        LineString([(0, 0), (10, 0), (20, 0)]),
        LineString([(10, -5), (10, 0), (10, 5)]),
        MultiLineString([[(20, 0), (20, 10)], [(30, 0), (40, 0)]]),
    )
    net = network_from_lines(g)
    assert net.n_nodes == 7
    assert net.n_edges == 4
    assert net.length_m.sum() == pytest.approx(20 + 10 + 10 + 10)
    v = network_from_lines(g, node_at_vertices=True)
    assert v.n_nodes == 8
    assert v.n_edges == 6
    assert sorted(v.way_id.tolist()) == [0, 0, 1, 1, 2, 2]
    # geometry runs from u to v
    for e in range(v.n_edges):
        c = np.asarray(v.geometry[e].coords)
        assert tuple(c[0]) == (v.x[v.u[e]], v.y[v.u[e]])
        assert tuple(c[-1]) == (v.x[v.v[e]], v.y[v.v[e]])


def test_lines_builder_projects_geographic_and_rejects_points() -> None:
    g = gpd.GeoDataFrame(geometry=[LineString([(116.30, 40.0), (116.31, 40.0)])], crs=4326)
    net = network_from_lines(g)
    assert net.crs.to_epsg() == 32650
    assert net.length_m[0] == pytest.approx(853, abs=3)
    with pytest.raises(InputError, match="LineString"):
        network_from_lines(gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS))
    with pytest.raises(InputError, match="no CRS"):
        network_from_lines(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])]))


def test_parallel_edges_keep_the_shorter() -> None:
    net = network_from_lines(
        lines(
            LineString([(0, 0), (10, 0)]),
            LineString([(0, 0), (5, 20), (10, 0)]),
            LineString([(10, 0), (0, 0)]),
        )
    )
    assert net.n_edges == 3  # all geometries kept for snapping
    assert net.csr.nnz == 2
    assert net.csr[0, 1] == pytest.approx(10.0)
    assert net.csr[1, 0] == pytest.approx(10.0)
    m = csr_from_edges(3, np.array([0, 0, 1]), np.array([1, 1, 2]), np.array([5.0, 3.0, 0.0]))
    assert m[0, 1] == 3.0
    assert m.nnz == 2


def test_components_labels_by_size() -> None:
    net = network_from_lines(
        lines(
            LineString([(0, 0), (10, 0)]),
            LineString([(10, 0), (20, 0)]),
            LineString([(500, 500), (510, 500)]),
        )
    )
    label, size = net.components()
    assert label.tolist() == [0, 0, 0, 1, 1] or sorted(label.tolist()) == [0, 0, 0, 1, 1]
    assert sorted(size.tolist()) == [2, 2, 3, 3, 3]
    assert (size[label == 0] == 3).all()


def test_networkx_round_trip_and_save(tmp_path: Path) -> None:
    net = network_from_lines(
        lines(
            LineString([(0, 0), (10, 0), (10, 10)]),
            LineString([(10, 10), (0, 0)]),
            LineString([(10, 10), (30, 10)]),
        )
    )
    G = net.to_networkx()
    assert isinstance(G, nx.MultiDiGraph)
    assert G.number_of_edges() == 2 * net.n_edges
    for _, _, d in G.edges(data=True):
        assert d["length"] == pytest.approx(d["geometry"].length)
    back = network_from_networkx(G)
    assert back.n_edges == net.n_edges
    assert not back.oneway.any()
    assert sorted(back.length_m.round(9)) == sorted(net.length_m.round(9))
    p = net.save(tmp_path / "walk.npz")
    again = load_network(p)
    for name in ("node_id", "x", "y", "u", "v", "length_m", "oneway", "way_id"):
        np.testing.assert_array_equal(getattr(again, name), getattr(net, name))
    assert all(a.equals(b) for a, b in zip(again.geometry, net.geometry, strict=True))
    assert again.crs == net.crs
    assert not list(tmp_path.glob(".*tmp"))
    gp = net.save_gpkg(tmp_path / "walk.gpkg")
    edges = gpd.read_file(gp, layer="edges")
    assert len(edges) == net.n_edges
    with pytest.raises(InputError):
        load_network(tmp_path / "walk.gpkg")


def test_from_networkx_oneway_and_osmnx_graph(shared_data: Path) -> None:
    G = nx.MultiDiGraph(crs=CRS)
    G.add_node(1, x=0.0, y=0.0)
    G.add_node(2, x=100.0, y=0.0)
    G.add_edge(1, 2, length=100.0)
    net = network_from_networkx(G)
    assert net.oneway.tolist() == [True]
    assert net.csr.nnz == 1
    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Gx = ox.graph_from_xml(shared_data / "osm" / "West-Oakland.osm.bz2", retain_all=True)
    nx_net = network_from_networkx(Gx)
    assert nx_net.crs.to_epsg() == 32610
    assert nx_net.n_nodes == len(Gx)
    # osmnx builds both directions: they pair up into two-way edges
    assert nx_net.n_edges <= Gx.number_of_edges()
    # the geodesic `length` agrees with the projected geometry to a fraction of a percent
    rel = np.abs(shapely.length(nx_net.geometry) - nx_net.length_m) / np.maximum(
        nx_net.length_m, 1.0
    )
    assert np.median(rel) < 0.01


def test_network_invariants_on_real_file(shared_data: Path) -> None:
    net = network_from_osm(shared_data / "osm" / "West-Oakland.osm.bz2")
    assert net.u.dtype == np.int32
    assert net.node_id.dtype == np.int64
    np.testing.assert_allclose(shapely.length(net.geometry), net.length_m)
    start = shapely.get_point(net.geometry, 0)
    np.testing.assert_allclose(shapely.get_x(start), net.x[net.u])
    with pytest.raises(InputError, match="out of range"):
        WalkNetwork(
            node_id=[1], x=[0.0], y=[0.0], u=[0], v=[3], length_m=[1.0],
            geometry=[LineString([(0, 0), (1, 0)])], oneway=[False], crs=CRS,
            way_id=[-1], highway=[None],
        )  # fmt: skip


def test_snap_to_edge_not_node_and_max_snap() -> None:
    net = network_from_lines(lines(LineString([(0, 0), (1000, 0)])))
    pts = gpd.GeoDataFrame(
        geometry=[Point(500, 20), Point(10, -3), Point(500, 400)], index=["a", "b", "c"], crs=CRS
    )
    s = snap_points(net, pts, max_snap_m=300)
    assert s.offset_m.tolist()[:2] == [500.0, 10.0]
    assert s.snap_m.tolist() == [20.0, 3.0, 400.0]  # far point: distance recorded
    assert s.reachable.tolist() == [True, True, False]
    assert s.access_point.tolist() == [0, 1]
    assert list(s.to_frame().index) == ["a", "b", "c"]
    # polygons snap from a point on their surface
    poly = gpd.GeoSeries([Polygon([(90, 10), (110, 10), (110, 30), (90, 30)])], crs=CRS)
    assert snap_points(net, poly, max_snap_m=300).snap_m[0] == pytest.approx(10.0, abs=10)
    with pytest.raises(InputError, match="CRS"):
        snap_points(net, pts.to_crs(4326), max_snap_m=300)


def test_island_reporting() -> None:
    net = network_from_lines(
        lines(
            LineString([(0, 0), (100, 0)]),
            LineString([(100, 0), (200, 0)]),
            LineString([(0, 1000), (30, 1000)]),
        )
    )
    pts = gpd.GeoSeries([Point(50, 5), Point(10, 1005)], index=["main", "isle"], crs=CRS)
    with pytest.warns(DataQualityWarning, match="isle"):
        s = snap_points(net, pts, max_snap_m=50)
    assert s.component.tolist() == [0, 1]
    assert s.component_nodes.tolist() == [3, 2]
    assert s.reachable.all()
    with pytest.warns(DataQualityWarning, match="fewer than 3 nodes"):
        snap_points(net, pts, max_snap_m=50, min_component_nodes=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snap_points(net, pts, max_snap_m=50, min_component_nodes=2)


def _walled_block() -> tuple[WalkNetwork, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    # a ring of streets around a walled compound whose only gate faces north
    ring = lines(
        LineString([(0, 0), (400, 0)]),
        LineString([(400, 0), (400, 210)]),
        LineString([(400, 210), (0, 210)]),
        LineString([(0, 210), (0, 0)]),
    )
    compound = gpd.GeoDataFrame(
        geometry=[Polygon([(100, 5), (300, 5), (300, 200), (100, 200)])], crs=CRS
    )
    gates = gpd.GeoDataFrame(geometry=[Point(200, 200)], crs=CRS)
    return network_from_lines(ring), compound, gates


def test_gated_compound_goes_through_its_gate() -> None:
    net, compound, gates = _walled_block()
    home = gpd.GeoDataFrame(geometry=[Point(200, 10)], index=["b1"], crs=CRS)
    shop = gpd.GeoDataFrame({"category": ["wet_market"]}, geometry=[Point(200, -10)],
                            index=["f1"], crs=CRS)  # fmt: skip
    kw = {"limit_m": 5000.0, "max_snap_m": 300.0, "walk_speed_m_per_min": 75.0}
    naive = nearest_facilities(net, home, shop, **kw)
    gated = nearest_facilities(net, home, shop, compounds=compound, gates=gates, **kw)
    assert naive.loc["b1", "walk_m__wet_market"] == pytest.approx(20.0)
    # 190 m to the gate, 10 m to the north street, 200 + 210 + 200 m around, 10 m in
    assert gated.loc["b1", "walk_m__wet_market"] == pytest.approx(820.0)
    assert gated.loc["b1", "gated"]
    assert not naive.loc["b1", "gated"]
    s = snap_points(net, home, max_snap_m=300, compounds=compound, gates=gates)
    assert s.snap_m[0] == pytest.approx(200.0)
    # a gate just off the polygon needs a tolerance to count
    off = gpd.GeoDataFrame(geometry=[Point(200, 203)], crs=CRS)
    s_off = snap_points(net, home, max_snap_m=300, compounds=compound, gates=off)
    assert not s_off.gated[0]
    assert s_off.snap_m[0] == pytest.approx(10.0)
    s_tol = snap_points(net, home, max_snap_m=300, compounds=compound, gates=off,
                        gate_tolerance_m=5)  # fmt: skip
    assert s_tol.gated[0]
    assert s_tol.snap_m[0] == pytest.approx(193 + 7)


def test_gated_compound_internal_road() -> None:
    _net, compound, gates = _walled_block()
    # an internal road from the gate into the compound
    net2 = network_from_lines(
        lines(
            LineString([(0, 0), (400, 0), (400, 210), (200, 210), (0, 210), (0, 0)]),
            LineString([(200, 210), (200, 200)]),
            LineString([(200, 200), (200, 100)]),
        ),
        node_at_vertices=True,
    )
    home = gpd.GeoSeries([Point(210, 60)], crs=CRS)
    s = snap_points(net2, home, max_snap_m=300, compounds=compound, gates=gates)
    assert s.gated[0]
    # best access: 40 m to the end of the internal road (not 50 m to the south street)
    assert s.snap_m[0] == pytest.approx(np.hypot(10, 40))


def test_snap_matches_brute_force(shared_data: Path) -> None:
    net = network_from_osm(shared_data / "osm" / "aguascalientes.osm.bz2")
    rng = np.random.default_rng(0)
    pts = shapely.points(
        rng.uniform(net.x.min(), net.x.max(), 200), rng.uniform(net.y.min(), net.y.max(), 200)
    )
    s = snap_points(net, gpd.GeoSeries(pts, crs=net.crs), max_snap_m=1e9, min_component_nodes=1)
    brute = shapely.distance(pts[:, None], net.geometry[None, :]).min(axis=1)
    np.testing.assert_allclose(s.snap_m, brute, atol=1e-6)
    on_edge = shapely.line_interpolate_point(
        net.geometry[s.edge], s.offset_m / net.length_m[s.edge], normalized=True
    )
    np.testing.assert_allclose(shapely.distance(on_edge, pts), s.snap_m, atol=1e-6)


# --------------------------------------------------------------------------- _nearest
# The segment grid behind _nearest must give exactly what GEOS gives: the distance of
# shapely.distance, the offset of line_locate_point * length_m, and (where the
# nearest edge is unique) the same edge; among equally near edges the lowest index.


def _reference(net: WalkNetwork, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Brute force: distance from every point to every edge, and the minimum."""
    d_all = shapely.distance(pts[:, None], net.geometry[None, :])
    return d_all, d_all.min(axis=1)


def _check_nearest(net: WalkNetwork, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from geoplan.network._segment_grid import nearest_edges as _nearest

    edge, off, dist = _nearest(net, pts)
    d_all, best = _reference(net, pts)
    np.testing.assert_allclose(dist, best, rtol=0, atol=1e-9)
    assert (edge >= 0).all()
    rows = np.arange(pts.size)
    # the edge returned is at that distance
    np.testing.assert_allclose(d_all[rows, edge], best, rtol=0, atol=1e-9)
    # among edges at exactly that distance the lowest index wins
    same = d_all == dist[:, None]
    has_same = same.any(axis=1)
    np.testing.assert_array_equal(edge[has_same], same[has_same].argmax(axis=1))
    # where the nearest edge is unique it is the one found
    unique = (d_all <= best[:, None] + 1e-9).sum(axis=1) == 1
    np.testing.assert_array_equal(edge[unique], d_all[unique].argmin(axis=1))
    # offsets: GEOS line_locate_point on the chosen edge, times length_m
    frac = shapely.line_locate_point(net.geometry[edge], pts, normalized=True)
    expected = np.nan_to_num(frac) * net.length_m[edge]
    np.testing.assert_allclose(off, expected, rtol=1e-9, atol=1e-9)
    return edge, dist


@st.composite
def _networks_and_points(draw: st.DrawFn) -> tuple[WalkNetwork, np.ndarray]:
    n_lines = draw(st.integers(1, 10))
    span = draw(st.sampled_from([50.0, 400.0, 3000.0]))
    coord = st.floats(-span, span).map(lambda v: round(v, 3))  # millimetres
    grid = st.integers(-4, 4).map(lambda k: k * span / 4)  # shared vertices, ties
    origin = draw(st.sampled_from([(0.0, 0.0), (431_234.5, 4_401_987.25)]))
    geoms = []
    for _ in range(n_lines):
        n_v = draw(st.integers(2, 7))
        xy = [(draw(st.one_of(coord, grid)), draw(st.one_of(coord, grid))) for _ in range(n_v)]
        if draw(st.booleans()):
            xy.insert(1, xy[0])  # a zero-length segment
        geoms.append(LineString([(origin[0] + x, origin[1] + y) for x, y in xy]))
    net = network_from_lines(lines(*geoms), node_at_vertices=draw(st.booleans()))
    assume(net.n_edges > 0)
    vertices = shapely.get_coordinates(net.geometry)
    pts = []
    for _ in range(draw(st.integers(1, 25))):
        kind = draw(st.sampled_from(["free", "vertex", "far", "on"]))
        if kind == "vertex":
            x, y = vertices[draw(st.integers(0, len(vertices) - 1))]
        elif kind == "on":
            e = draw(st.integers(0, net.n_edges - 1))
            p = shapely.line_interpolate_point(
                net.geometry[e], draw(st.floats(0, 1)), normalized=True
            )
            x, y = p.x, p.y
        else:
            reach = span * (40.0 if kind == "far" else 1.3)
            x = origin[0] + round(draw(st.floats(-reach, reach)), 4)
            y = origin[1] + round(draw(st.floats(-reach, reach)), 4)
        pts.append(Point(x, y))
    return net, np.array(pts, dtype=object)


@settings(max_examples=120, deadline=None)
@given(_networks_and_points())
def test_nearest_matches_brute_force_hypothesis(case: tuple[WalkNetwork, np.ndarray]) -> None:
    net, pts = case
    _check_nearest(net, pts)


def test_nearest_ties_missing_far_and_degenerate() -> None:
    from geoplan.network._segment_grid import nearest_edges as _nearest

    net = network_from_lines(
        lines(
            LineString([(0, 10), (100, 10)]),  # edge 0
            LineString([(0, -10), (100, -10)]),  # edge 1: as near as edge 0 from y = 0
            LineString([(200, 0), (200, 0), (210, 0), (210, 0), (230, 0)]),  # zero-length parts
        )
    )
    pts = np.array(
        [Point(50, 0), None, Point(), Point(205, 3), Point(215, 0), Point(301, 0),
         Point(50, 25_000), Point(-9_000, -9_000)],
        dtype=object,
    )  # fmt: skip
    edge, off, dist = _nearest(net, pts)
    assert edge[0] == 0 and dist[0] == 10.0 and off[0] == 50.0  # tie: the lower edge
    assert edge[1] == edge[2] == -1
    assert np.isnan(off[1:3]).all() and np.isinf(dist[1:3]).all()
    keep = np.array([0, 3, 4, 5, 6, 7])
    _check_nearest(net, pts[keep])  # far points (the STRtree fallback) included
    # a zero-length edge (the builders drop them; a hand-made network may not)
    dot = WalkNetwork(
        node_id=[0, 1], x=[300.0, 0.0], y=[0.0, 0.0], u=[0, 1], v=[0, 1],
        length_m=[0.0, 0.0], geometry=[LineString([(300, 0), (300, 0)]),
        LineString([(0, 0), (0, 0)])], oneway=[False, False], crs=CRS,
        way_id=[-1, -1], highway=[None, None],
    )  # fmt: skip
    e, o, d = _nearest(dot, shapely.points([301.0, 0.0], [0.0, -2.0]))
    assert e.tolist() == [0, 1] and o.tolist() == [0.0, 0.0] and d.tolist() == [1.0, 2.0]
    # an empty network
    empty = WalkNetwork(
        node_id=[], x=[], y=[], u=[], v=[], length_m=[], geometry=np.zeros(0, dtype=object),
        oneway=[], crs=CRS, way_id=[], highway=[],
    )  # fmt: skip
    e, o, d = _nearest(empty, pts[:1])
    assert e.tolist() == [-1] and np.isnan(o).all() and np.isinf(d).all()


def test_nearest_passes_and_fallback_are_exact() -> None:
    from geoplan.network._segment_grid import _grid_nearest

    # short segments (20 m cells): points 12 m, 30 m, 70 m and 3 km south of the
    # network are settled by the first, second and third pass, and the STRtree
    rng = np.random.default_rng(3)
    geoms = [LineString([(x, 0), (x + 10, 0)]) for x in range(0, 2000, 10)]
    geoms += [LineString([(0, y), (0, y + 10)]) for y in range(0, 2000, 10)]
    net = network_from_lines(lines(*geoms))
    xs = rng.uniform(30, 1900, 400)
    ys = -np.repeat([12.0, 30.0, 70.0, 3000.0], 100)
    pts = shapely.points(xs, ys)
    _, dist = _check_nearest(net, pts)
    g = net._segments
    p, _, d, _ = _grid_nearest(g, xs, ys)
    settled = np.zeros(pts.size, dtype=bool)
    settled[p] = True
    assert settled[:300].all() and not settled[300:].any()
    np.testing.assert_array_equal(d, dist[p])
    assert g.e_ax.dtype == np.float32


def test_nearest_wide_extents_and_multilinestrings(monkeypatch: pytest.MonkeyPatch) -> None:
    import geoplan.network._segment_grid as gn
    from geoplan.network._segment_grid import nearest_edges as _nearest

    # two towns 300 km apart: a few huge cells (float32 scan, metre-sized rounding
    # bound), or small cells and a float64 scan; exact either way
    far = 300_000.0
    geoms = [
        LineString([(0, 0), (50, 0), (50, 50)]),
        LineString([(far, far), (far + 80, far + 5), (far + 90, far + 70)]),
    ]
    pts = shapely.points([10, far + 85, far / 2, far + 40], [3, far + 30, far / 2, far - 1])
    net = network_from_lines(lines(*geoms))
    assert net._segments.e_ax.dtype == np.float32 and net._segments.tol_m > 0.1
    _check_nearest(net, pts)
    monkeypatch.setattr(gn, "_GRID_CELLS_PER_SEGMENT", 500_000)  # 214 m cells
    monkeypatch.setattr(gn, "_GRID_FLOAT32_MAX_TOL", 0.0)
    net = network_from_lines(lines(*geoms))
    assert net._segments.e_ax.dtype == np.float64
    _check_nearest(net, pts)
    # a MultiLineString edge (the builders never make one): its parts are not joined
    mls = MultiLineString([[(0, 0), (10, 0)], [(100, 0), (110, 0)]])
    odd = WalkNetwork(
        node_id=[0, 1, 2, 3], x=[0.0, 110.0, 0.0, 60.0], y=[0.0, 0.0, 30.0, 30.0],
        u=[0, 2], v=[1, 3], length_m=[20.0, 60.0],
        geometry=[mls, LineString([(0, 30), (60, 30)])], oneway=[False, False], crs=CRS,
        way_id=[-1, -1], highway=[None, None],
    )  # fmt: skip
    pts = shapely.points([55, 105, 5, 30], [2, 1, 12, 29])
    edge, off, dist = _nearest(odd, pts)
    _, best = _reference(odd, pts)
    np.testing.assert_allclose(dist, best, atol=1e-9)
    assert edge.tolist() == [1, 0, 0, 1]  # (55, 2) is 28 m from edge 1, not on a fake join
    expected = np.nan_to_num(shapely.line_locate_point(odd.geometry[edge], pts, normalized=True))
    np.testing.assert_allclose(off, expected * odd.length_m[edge], atol=1e-9)


def test_nearest_offsets_on_long_polylines_and_scaled_lengths() -> None:
    # many long polylines: offsets sum segment lengths in order, as GEOS does
    rng = np.random.default_rng(5)
    geoms = []
    for k in range(60):
        n_v = 300 if k < 3 else 40
        steps = rng.normal(0, 7, size=(n_v, 2)) + np.array([5.0, 0.0])
        geoms.append(LineString(np.cumsum(steps, axis=0) + np.array([0.0, 40.0 * k])))
    net = network_from_lines(lines(*geoms))
    pts = shapely.points(rng.uniform(-50, 1600, 500), rng.uniform(-50, 2500, 500))
    _check_nearest(net, pts)
    # length_m differing from the geometry length (osmnx's geodesic lengths): the
    # offset is the same fraction of length_m
    scaled = WalkNetwork(
        node_id=net.node_id, x=net.x, y=net.y, u=net.u, v=net.v,
        length_m=net.length_m * 1.003, geometry=net.geometry, oneway=net.oneway,
        crs=net.crs, way_id=net.way_id, highway=net.highway,
    )  # fmt: skip
    _check_nearest(scaled, pts)


@pytest.mark.parametrize(
    "name", ["aguascalientes.osm.bz2", "West-Oakland.osm.bz2", "beijing_haidian_cau.osm.bz2"]
)
def test_nearest_matches_brute_force_on_real_files(shared_data: Path, name: str) -> None:
    net = network_from_osm(shared_data / "osm" / name)
    rng = np.random.default_rng(11)
    x0, x1, y0, y1 = net.x.min(), net.x.max(), net.y.min(), net.y.max()
    # random points over the extent and beyond, and points beside random edges
    free = shapely.points(
        rng.uniform(x0 - 500, x1 + 500, 300), rng.uniform(y0 - 500, y1 + 500, 300)
    )
    e = rng.integers(0, net.n_edges, 300)
    on = shapely.line_interpolate_point(net.geometry[e], rng.uniform(0, 1, 300), normalized=True)
    beside = shapely.points(shapely.get_x(on) + rng.normal(0, 15, 300),
                            shapely.get_y(on) + rng.normal(0, 15, 300))  # fmt: skip
    xy = shapely.get_coordinates(net.geometry)
    vertices = shapely.points(xy[rng.integers(0, len(xy), 50)])
    _check_nearest(net, np.concatenate([free, beside, vertices]))


# --------------------------------------------------------------------------- network files


def _odd_network(*, none: bool = True) -> WalkNetwork:
    """Every kind of edge a file must keep: plain, MultiLineString, 3-D, None geometry.

    Without ``none`` the last edge is a LineString: format 1 could not save None.
    """
    rng = np.random.default_rng(8)
    geoms = [LineString(np.cumsum(rng.normal(4, 3, (6, 2)), axis=0) + np.array([0, 20 * k]))
             for k in range(30)]  # fmt: skip
    net = network_from_lines(lines(*geoms))
    extra = [
        MultiLineString([[(0, -50), (10, -50)], [(100, -50), (110, -50)]]),
        LineString([(0, -80, 1.5), (60, -80, 2.5)]),
        None if none else LineString([(500, 500), (510, 500)]),
    ]
    n = net.n_nodes
    return WalkNetwork(
        node_id=np.r_[net.node_id, [900, 901, 902, 903, 904, 905]],
        x=np.r_[net.x, [0.0, 110.0, 0.0, 60.0, 500.0, 510.0]],
        y=np.r_[net.y, [-50.0, -50.0, -80.0, -80.0, 500.0, 500.0]],
        u=np.r_[net.u, [n, n + 2, n + 4]],
        v=np.r_[net.v, [n + 1, n + 3, n + 5]],
        length_m=np.r_[net.length_m, [20.0, 60.0, 10.0]],
        geometry=np.r_[net.geometry, np.array(extra, dtype=object)],
        oneway=np.r_[net.oneway, [True, False, False]],
        crs=CRS,
        way_id=np.r_[net.way_id, [-1, 7, 8]],
        highway=np.array(["footway", None, "steps"] * 11, dtype=object),
    )


def _assert_same_network(a: WalkNetwork, b: WalkNetwork) -> None:
    for name in ("node_id", "x", "y", "u", "v", "length_m", "oneway", "way_id"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert a.highway.dtype == b.highway.dtype == object
    assert a.highway.tolist() == b.highway.tolist()
    assert a.crs == b.crs
    assert shapely.to_wkb(a.geometry).tolist() == shapely.to_wkb(b.geometry).tolist()


def _v1_save(net: WalkNetwork, path: Path) -> None:
    """A format-1 file, as geoplan wrote them before format 2 (compressed, WKB)."""
    wkb = shapely.to_wkb(net.geometry)
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=wkb.size)
    np.savez_compressed(
        path,
        format_version=np.array(1),
        node_id=net.node_id, x=net.x, y=net.y, u=net.u, v=net.v, length_m=net.length_m,
        oneway=net.oneway, way_id=net.way_id,
        highway=np.array(["" if h is None else str(h) for h in net.highway], dtype=str),
        has_highway=np.array([h is not None for h in net.highway], dtype=bool),
        wkb=np.frombuffer(b"".join(wkb.tolist()), dtype=np.uint8),
        wkb_offsets=np.concatenate([[0], np.cumsum(sizes)]),
        crs_wkt=np.array(net.crs.to_wkt()),
    )  # fmt: skip


def test_network_file_round_trip_is_exact_and_lazy(tmp_path: Path) -> None:
    from geoplan.network._lines import EdgeLines
    from geoplan.network._segment_grid import nearest_edges, segment_grid

    net = _odd_network()
    p = net.save(tmp_path / "walk.npz")
    again = load_network(p)
    # nothing city-sized is built by loading: geometries wait, the grid comes stored
    assert isinstance(again.__dict__["_geometry"], EdgeLines)
    fresh = segment_grid(net.geometry)
    stored = again._segments
    for name in fresh.__dataclass_fields__:
        x, y = getattr(fresh, name), getattr(stored, name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        else:
            assert x == y, name
    assert stored.complete and stored.odd_edges.tolist() == [30]
    for x, y in zip(again._components, net._components, strict=True):
        np.testing.assert_array_equal(x, y)
    # saving a loaded network writes the same file without building its geometries
    q = again.save(tmp_path / "again.npz")
    assert isinstance(again.__dict__["_geometry"], EdgeLines)
    assert q.read_bytes() == p.read_bytes()
    # snapping: the same answers (far points and the MultiLineString's take the
    # STRtree, which builds the geometries)
    rng = np.random.default_rng(2)
    pts = shapely.points(rng.uniform(-100, 700, 300), rng.uniform(-120, 700, 300))
    for x, y in zip(nearest_edges(again, pts), nearest_edges(net, pts), strict=True):
        np.testing.assert_array_equal(x, y)
    _assert_same_network(again, net)  # builds the geometries
    assert again.geometry[31].has_z and again.geometry[32] is None
    assert again.geometry[30].geom_type == "MultiLineString"
    # still a plain .npz, members stored and their arrays on 64-byte boundaries
    with np.load(p) as z:
        assert int(z["format_version"]) == 2
        np.testing.assert_array_equal(z["x"], net.x)
    import zipfile

    with zipfile.ZipFile(p) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    from geoplan.network._netfile import read_npz

    assert all(a.ctypes.data % 64 == 0 for a in read_npz(p).values() if a.size)
    # the dataclass is as before: geometry required, replace works on a loaded network
    import dataclasses

    moved = dataclasses.replace(load_network(p), node_id=net.node_id + 1)
    assert moved.geometry[0].equals(net.geometry[0])
    with pytest.raises(TypeError, match="geometry"):
        WalkNetwork(node_id=[], x=[], y=[], u=[], v=[], length_m=[], oneway=[], crs=CRS,
                    way_id=[], highway=[])  # fmt: skip


def test_network_file_empty_and_incomplete_grid(tmp_path: Path) -> None:
    z, zi = np.zeros(0), np.zeros(0, dtype=np.int64)
    empty = WalkNetwork(node_id=zi, x=z, y=z, u=zi, v=zi, length_m=z, geometry=[],
                        oneway=[], crs=CRS, way_id=zi, highway=[])  # fmt: skip
    again = load_network(empty.save(tmp_path / "empty.npz"))
    assert again.n_nodes == again.n_edges == 0 and again.geometry.size == 0
    assert again.crs == empty.crs and not again._segments.complete
    s = snap_points(again, gpd.GeoSeries([Point(1, 1)], crs=CRS), max_snap_m=10)
    assert s.edge.tolist() == [-1] and not s.reachable.any()
    # a Point edge makes the grid incomplete (STRtree for every point): kept so
    bad = WalkNetwork(node_id=[0, 1], x=[0.0, 5.0], y=[0.0, 0.0], u=[0], v=[1],
                      length_m=[5.0], geometry=[Point(2, 0)], oneway=[False], crs=CRS,
                      way_id=[3], highway=["x"])  # fmt: skip
    again = load_network(bad.save(tmp_path / "bad.npz"))
    assert not again._segments.complete
    _assert_same_network(again, bad)


def test_network_file_format_1_still_loads(tmp_path: Path) -> None:
    net = _odd_network(none=False)
    _v1_save(net, tmp_path / "old.npz")
    old = load_network(tmp_path / "old.npz")
    _assert_same_network(old, net)
    rng = np.random.default_rng(4)
    pts = gpd.GeoSeries(shapely.points(rng.uniform(0, 500, 50), rng.uniform(0, 500, 50)),
                        crs=CRS)  # fmt: skip
    new = load_network(net.save(tmp_path / "new.npz"))
    a = snap_points(old, pts, max_snap_m=100, min_component_nodes=1).to_frame()
    b = snap_points(new, pts, max_snap_m=100, min_component_nodes=1).to_frame()
    assert a.equals(b)


def test_network_file_corrupt_is_input_error(tmp_path: Path) -> None:
    from geoplan.network._netfile import read_npz, write_npz

    p = _odd_network().save(tmp_path / "walk.npz")
    data = p.read_bytes()
    cut = tmp_path / "cut.npz"
    for size in (0, 10, len(data) // 2, len(data) - 1):
        cut.write_bytes(data[:size])
        with pytest.raises(InputError, match=r"cut\.npz: not a geoplan network file"):
            load_network(cut)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    with pytest.raises(InputError, match=r"junk\.npz"):
        load_network(junk)
    # a readable zip whose arrays do not make a network
    arrays = read_npz(p)
    for change in (
        {"format_version": np.array(3)},
        {"line_start": arrays["line_start"][:-1]},
        {"u": arrays["u"][:-1]},
        {"grid_cell_start": arrays["grid_cell_start"][:-1]},
        {"highway_codes": arrays["highway_codes"] + 5},
        {"component": arrays["component"][1:]},
    ):
        bad = tmp_path / "bad.npz"
        with open(bad, "wb") as fh:
            write_npz(fh, {**arrays, **change})
        with pytest.raises(InputError, match=r"bad\.npz: not a geoplan network file"):
            load_network(bad)
    del arrays["wkb"]
    with open(bad, "wb") as fh:
        write_npz(fh, arrays)
    with pytest.raises(InputError, match="missing 'wkb'"):
        load_network(bad)


def test_loaded_network_survives_its_file_being_replaced(tmp_path: Path) -> None:
    a = _odd_network()
    b = network_from_lines(lines(LineString([(0, 0), (5, 5)])))
    p = a.save(tmp_path / "walk.npz")
    loaded = load_network(p)
    b.save(p)  # atomic: a new file renamed over the mapped one
    assert load_network(p).n_edges == 1
    _assert_same_network(loaded, a)  # the old contents, geometries built after the swap
    # arrays are writable copies-on-write: changing one never reaches the file
    again = load_network(p)
    again.x[0] = 123.0
    assert load_network(p).x[0] == 0.0
    assert not list(tmp_path.glob(".*tmp*"))


def test_nearest_capped_is_exact_within_the_cap(tmp_path: Path) -> None:
    from geoplan.network._lines import EdgeLines
    from geoplan.network._segment_grid import nearest_edges

    # 10 m segments (20 m cells): the default passes settle ~70 m, the cap needs more
    geoms = [LineString([(x, 0), (x + 10, 0)]) for x in range(0, 1000, 10)]
    geoms += [LineString([(0, y), (0, y + 10)]) for y in range(0, 1000, 10)]
    net = load_network(network_from_lines(lines(*geoms)).save(tmp_path / "grid.npz"))
    rng = np.random.default_rng(6)
    pts = shapely.points(rng.uniform(-900, 1900, 2000), rng.uniform(-900, 1900, 2000))
    for cap in (0.0, 50.0, 180.0, 400.0):
        edge, off, dist = nearest_edges(net, pts, max_distance_m=cap)
        assert "edge_tree" not in net.__dict__  # no STRtree for the far points
        assert isinstance(net.__dict__["_geometry"], EdgeLines)  # nor geometries
        assert np.isinf(dist).any()
        exact = nearest_edges(network_from_lines(lines(*geoms)), pts)
        within = exact[2] <= cap
        answered = np.isfinite(dist)
        assert answered[within].all()
        for got, want in zip((edge, off, dist), exact, strict=True):
            np.testing.assert_array_equal(got[answered], want[answered])
        assert (edge[~answered] == -1).all() and np.isnan(off[~answered]).all()
    # a cap too wide for one block: the STRtree as without a cap
    e, _, d = nearest_edges(net, pts, max_distance_m=1e6)
    assert np.isfinite(d).all() and (e >= 0).all()


def test_netfile_benchmark_runs_tiny(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_netfile

    assert bench_netfile.main(["--size", "tiny", "--repeat", "1"]) == 0
    text = capsys.readouterr().out
    assert "snaps identical in both formats: True" in text and "format 2 loads" in text


def test_builders_take_to_crs_and_warn_on_the_old_crs_keyword() -> None:
    from shapely import LineString

    from geoplan._errors import InputError
    from geoplan.network import network_from_lines

    lonlat = gpd.GeoDataFrame(
        geometry=[LineString([(116.30, 39.99), (116.31, 39.99)])], crs="EPSG:4326"
    )
    new = network_from_lines(lonlat, to_crs="EPSG:32650")
    assert new.crs.to_epsg() == 32650
    with pytest.warns(DeprecationWarning, match="to_crs"):
        old = network_from_lines(lonlat, crs="EPSG:32650")
    assert np.array_equal(old.x, new.x) and np.array_equal(old.length_m, new.length_m)
    with pytest.raises(InputError, match="to_crs= only"):
        network_from_lines(lonlat, to_crs="EPSG:32650", crs="EPSG:32650")

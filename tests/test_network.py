"""WalkNetwork builders, CSR, conversions, persistence and snapping."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely
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

"""geoplan.network as a package: read_network picks the reader by the file's name,
refuses a source CRS where the file fixes it, and describe_network counts what was read.

The reader choice moved here from the CLI (``geoplan.cli.network.load_any_network``);
these tests hold the library to what the commands did, on the real Haidian extract.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import LineString

from geoplan._errors import InputError
from geoplan.network import (
    WalkNetwork,
    check_source_crs,
    describe_network,
    load_network,
    network_from_lines,
    network_from_osm,
    network_kind,
    read_network,
)

HAIDIAN = "osm/beijing_haidian_cau.osm.bz2"


@pytest.fixture(scope="module")
def haidian(shared_data: Path) -> tuple[Path, WalkNetwork]:
    path = shared_data / HAIDIAN
    return path, network_from_osm(path)


def _same(a: WalkNetwork, b: WalkNetwork) -> None:
    assert (a.n_nodes, a.n_edges) == (b.n_nodes, b.n_edges)
    assert a.crs.equals(b.crs)
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_array_equal(a.length_m, b.length_m)
    assert bool(shapely.equals_exact(a.geometry, b.geometry, 0.0).all())


def test_network_kind_by_name() -> None:
    kinds = {
        name: network_kind(name)
        for name in ("a.npz", "A.NPZ", "x.osm", "x.osm.bz2", "x.osm.gz", "x.osm.pbf", "x.pbf")
    }
    assert kinds == {
        "a.npz": "npz",
        "A.NPZ": "npz",
        **{k: "osm" for k in ("x.osm", "x.osm.bz2", "x.osm.gz", "x.osm.pbf", "x.pbf")},
    }
    for name in ("streets.gpkg", "roads.shp", "lines.geojson", "osm.gpkg", "npz.csv"):
        assert network_kind(name) == "lines"


@pytest.mark.shared_data
def test_read_network_osm_is_network_from_osm(haidian: tuple[Path, WalkNetwork]) -> None:
    path, direct = haidian
    _same(read_network(path), direct)
    stats = describe_network(direct)
    sizes = direct.component_sizes()
    assert stats == {
        "nodes": direct.n_nodes,
        "edges": direct.n_edges,
        "length_km": round(float(direct.length_m.sum()) / 1000.0, 3),
        "components": int(sizes.size),
        "largest_component_nodes": int(sizes[0]),
        "crs": "EPSG:32650",
    }
    # the Haidian extract (docs: 527 nodes, 702 edges, 64.5 km in 13 pieces)
    assert stats["nodes"] > 500 and stats["length_km"] > 60 and stats["components"] > 1


@pytest.mark.shared_data
def test_read_network_refuses_a_source_crs_for_osm_and_npz(
    haidian: tuple[Path, WalkNetwork], tmp_path: Path
) -> None:
    path, net = haidian
    with pytest.raises(InputError, match="OpenStreetMap file is always WGS84") as exc:
        read_network(path, source_crs="gcj02")
    assert exc.value.file == str(path) and "--crs gcj02" in str(exc.value)
    npz = net.save(tmp_path / "walk.npz")
    with pytest.raises(InputError, match=r"saved network \(\.npz\) keeps its own metric CRS"):
        read_network(npz, source_crs="wgs84")
    check_source_crs(tmp_path / "streets.gpkg", "gcj02")  # a line layer takes it
    check_source_crs(path, None)
    # a saved network comes back as it was, and keeps its CRS
    _same(read_network(npz), net)
    _same(read_network(npz, metric_crs=32650), net)
    with pytest.raises(InputError, match="keeps its own metric CRS") as exc:
        read_network(npz, metric_crs=32651)
    assert exc.value.file == str(npz)
    with pytest.raises(InputError, match="file not found"):
        read_network(tmp_path / "missing.osm.bz2")


@pytest.mark.shared_data
def test_read_network_line_layer_in_gcj02(
    haidian: tuple[Path, WalkNetwork], tmp_path: Path
) -> None:
    """A street layer exported from AMap (GCJ-02, labelled WGS84) is put back by
    source_crs; without it the network sits hundreds of metres off."""
    from geoplan.crs import wgs84_to_gcj02

    _, net = haidian
    edges = net.edges_gdf().to_crs(4326)
    shifted = shapely.transform(
        edges.geometry.values, lambda c: np.column_stack(wgs84_to_gcj02(c[:, 0], c[:, 1]))
    )
    layer = gpd.GeoDataFrame({"highway": edges["highway"].astype("string")}, geometry=shifted,
                             crs=4326)  # fmt: skip
    gpkg = tmp_path / "amap_streets.gpkg"
    layer.to_file(gpkg, layer="streets", driver="GPKG", engine="pyogrio")
    assert network_kind(gpkg) == "lines"
    fixed = read_network(gpkg, source_crs="gcj02", metric_crs=net.crs)
    raw = read_network(gpkg, metric_crs=net.crs)
    assert fixed.n_edges == raw.n_edges == net.n_edges
    mid = shapely.line_interpolate_point(net.geometry, 0.5, normalized=True)
    off_fixed = shapely.distance(shapely.line_interpolate_point(fixed.geometry, 0.5,
                                                                normalized=True), mid)  # fmt: skip
    off_raw = shapely.distance(
        shapely.line_interpolate_point(raw.geometry, 0.5, normalized=True), mid
    )
    assert float(np.max(off_fixed)) < 1.0  # the GCJ-02 inverse is sub-metre
    assert float(np.median(off_raw)) > 100.0  # the GCJ-02 offset, left in
    np.testing.assert_allclose(fixed.length_m.sum(), net.length_m.sum(), rtol=1e-3)


def test_read_network_line_layer_picks_the_streets_layer(tmp_path: Path) -> None:
    gpkg = tmp_path / "ctx.gpkg"
    streets = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 50)])], crs=32650
    )
    other = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (5, 5)])], crs=32650)
    other.to_file(gpkg, layer="aaa", driver="GPKG", engine="pyogrio")
    streets.to_file(gpkg, layer="streets", driver="GPKG", engine="pyogrio")
    net = read_network(gpkg)  # as the commands read it (the layer's metric CRS re-chosen)
    assert net.n_edges == 2 and float(net.length_m.sum()) == pytest.approx(150.0, rel=0.01)
    kept = read_network(gpkg, metric_crs=32650)
    assert kept.crs.to_epsg() == 32650
    np.testing.assert_allclose(kept.length_m, network_from_lines(streets).length_m, atol=1e-6)


def test_walk_network_is_built_with_keywords() -> None:
    net = network_from_lines(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (3, 4)])], crs=32650))
    arrays = (net.node_id, net.x, net.y, net.u, net.v, net.length_m, net.geometry, net.oneway)
    with pytest.raises(TypeError):
        WalkNetwork(*arrays, net.crs, net.way_id, net.highway)  # type: ignore[misc]


@pytest.mark.shared_data
def test_cli_network_build_unchanged(haidian: tuple[Path, WalkNetwork], tmp_path: Path) -> None:
    """``geoplan network build`` through read_network: same file, same counts, same refusal."""
    import json

    from geoplan.cli import main

    path, net = haidian
    out = tmp_path / "walk.npz"
    res = CliRunner().invoke(main, ["network", "build", str(path), "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.output)
    assert payload == {"source": str(path), "out": str(out), **describe_network(net)}
    _same(load_network(out), net)
    res = CliRunner().invoke(
        main, ["network", "build", str(path), "--out", str(out), "--crs", "gcj02"]
    )
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "OpenStreetMap file is always WGS84" in res.output


def test_no_command_module_reads_networks_itself() -> None:
    """Commands read networks through geoplan.network, not through one another."""
    import ast

    cli = Path(__file__).resolve().parents[1] / "geoplan" / "cli"
    for mod in sorted(cli.glob("*.py")):
        tree = ast.parse(mod.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "geoplan.cli.network":
                pytest.fail(f"{mod.name} imports geoplan.cli.network")
            if isinstance(node, ast.Name) and node.id in {"load_any_network", "network_stats"}:
                pytest.fail(f"{mod.name} uses {node.id}")

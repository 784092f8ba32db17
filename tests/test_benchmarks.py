"""Smoke tests of the benchmark generator and comparison logic (no timing assertions).

They run the benchmark's steps at the ``tiny`` size in-process, so the scripts in
``benchmarks/`` cannot rot unnoticed.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_coverage  # noqa: E402
from benchmarks.synthetic_city import (  # noqa: E402
    CATEGORY_SHARES,
    SIZES,
    street_lines,
    synthetic_city,
    write_osm_xml,
)


def test_generator_is_seeded_connected_and_off_street() -> None:
    a = synthetic_city("tiny", seed=5)
    b = synthetic_city("tiny", seed=5)
    c = synthetic_city("tiny", seed=6)
    net = a.network
    assert np.array_equal(net.x, b.network.x)
    assert not np.array_equal(net.x[:10], c.network.x[:10])
    assert net.crs.to_epsg() == 32650
    # one connected piece, close to the asked node count
    label, _ = net.components()
    assert (label == 0).all()
    assert 0.9 * SIZES["tiny"].n_nodes <= net.n_nodes <= SIZES["tiny"].n_nodes + 100
    # a realistic mix of degrees: dead ends, T junctions, crossings, diagonals
    deg = np.bincount(np.concatenate([net.u, net.v]), minlength=net.n_nodes)
    assert {1, 2, 3, 4, 5} <= set(np.unique(deg).tolist())
    assert np.allclose(
        net.length_m, np.hypot(net.x[net.v] - net.x[net.u], net.y[net.v] - net.y[net.u])
    )
    # buildings off the streets but within snapping reach; categories with their shares
    d = net.edge_tree.query_nearest(a.buildings.geometry.values, return_distance=True)[1]
    assert (d > 0).all() and (d < 60).all()
    counts = a.facilities["category"].value_counts()
    assert set(counts.index) == set(CATEGORY_SHARES)
    assert counts.sum() == SIZES["tiny"].n_facilities
    assert counts["convenience_store"] > counts["bookstore"] >= 1
    assert a.buildings.index.is_unique and a.facilities.index.name == "facility_id"


def test_street_lines_rebuild_the_same_network() -> None:
    from geoplan.network import network_from_lines

    city = synthetic_city("tiny", seed=2)
    lines = street_lines(city)
    assert (lines.geometry.count_coordinates() == 2).all()
    assert set(lines.geometry.geom_type) == {"LineString"}
    net = network_from_lines(lines)
    assert net.n_nodes == city.network.n_nodes
    assert net.n_edges == city.network.n_edges
    assert net.length_m.sum() == pytest.approx(city.network.length_m.sum())


def test_osm_xml_reads_back_with_geoplan(tmp_path: Path) -> None:
    from geoplan.network import network_from_osm

    city = synthetic_city("tiny", seed=4)
    path = write_osm_xml(city, tmp_path / "city.osm")
    root = ET.parse(path).getroot()
    ways = root.findall("way")
    assert len(root.findall("node")) == city.network.n_nodes
    assert max(len(w.findall("nd")) for w in ways) > 3  # streets chained into long ways
    net = network_from_osm(path, to_crs="EPSG:32650")
    # same streets: total length equal (to the projection round trip), junctions kept
    assert net.length_m.sum() == pytest.approx(city.network.length_m.sum(), rel=1e-6)
    assert net.n_nodes <= city.network.n_nodes


def test_benchmark_main_tiny_prints_ratios_and_matches_networkx(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    code = bench_coverage.main(
        [
            "--size",
            "tiny",
            "--in-process",
            "--skip-peers",
            "--json-out",
            str(out),
            "--osm-file",
            str(tmp_path / "absent.osm"),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "geoplan whole / bare dijkstra (tiny)" in text
    assert "networkx path / geoplan (tiny)" in text
    assert "osmnx.graph_from_xml / network_from_osm (synthetic_tiny.osm)" in text
    assert "SKIPPED real OSM file" in text
    report = json.loads(out.read_text(encoding="utf-8"))
    steps = {(s["step"], s.get("file")): s for s in report["steps"]}
    check = steps[("networkx", None)]["check_vs_geoplan"]
    assert check["equal"] and check["compared"] > 1000
    assert check["max_abs_diff_m"] <= 1e-6 and check["reach_mismatches"] == 0
    for q in report["ratios"]:
        assert q["value"] is not None and q["value"] > 0
    geo = steps[("geoplan", None)]
    assert geo["rows"] == SIZES["tiny"].n_buildings
    assert set(geo["covered_share"]) == set(CATEGORY_SHARES)
    assert all(0.0 <= v <= 1.0 for v in geo["covered_share"].values())
    assert geo["peak_rss_mb"] >= geo["base_rss_mb"] > 0
    # geoplan and bare ran three times each; the median run is the one reported
    for name in ("geoplan", "bare"):
        runs = steps[(name, None)]["runs_s"]
        assert len(runs) == 3 and steps[(name, None)]["seconds"] == sorted(runs)[1]
    # the same-process comparison: geoplan between two bare runs, its median ratio
    same = steps[("same_process", None)]
    assert same["ratio"] == sorted(same["runs_ratio"])[1]
    assert same["ratio"] == pytest.approx(same["seconds"] / same["bare_s"])
    assert "geoplan whole / bare dijkstra, same process (tiny)" in text


def test_comparison_detects_a_wrong_distance() -> None:
    """The equality check is not vacuous: a perturbed networkx result fails it."""
    city = synthetic_city("tiny", seed=1)
    p = bench_coverage.coverage_parameters()
    import networkx as nx

    G = bench_coverage._nx_graph(city)
    bnode = bench_coverage._nearest_nodes(city, bench_coverage._xy(city.buildings))
    fnode = bench_coverage._nearest_nodes(city, bench_coverage._xy(city.facilities))
    cat = city.facilities["category"].astype(str).to_numpy()
    d = bench_coverage._nx_distances(G, bnode, fnode, cat, ["pharmacy"], p["limit_m"])
    assert isinstance(G, nx.MultiDiGraph)
    good = bench_coverage.compare_with_networkx(city, d, bnode, fnode, p)
    assert good["equal"]
    k = int(np.flatnonzero(np.isfinite(d["pharmacy"]))[0])
    d["pharmacy"][k] += 1.0
    bad = bench_coverage.compare_with_networkx(city, d, bnode, fnode, p)
    assert not bad["equal"] and bad["max_abs_diff_m"] == pytest.approx(1.0)


def test_real_osm_extract_step(shared_data: Path) -> None:
    path = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    r = bench_coverage.run_step("osm_geoplan", osm_file=path)
    assert r["status"] == "ok" and r["nodes"] > 100 and r["edges"] > 100


def test_siting_benchmark_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks import bench_siting

    assert bench_siting.main(["--small", "--city", "tiny"]) in (0, None)
    text = capsys.readouterr().out
    assert "greedy set cover to 95%" in text
    assert "set cover sites greedy/exact" in text and "synthetic city tiny" in text


@pytest.mark.browser
def test_map_benchmark_runs_tiny(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if not Path("/usr/bin/chromium").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing")
    pytest.importorskip("playwright.sync_api")
    from benchmarks import bench_map

    assert bench_map.main(["--size", "tiny", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "console errors: 0" in text and "all 60 facilities" in text
    assert {"city_tiny.html", "city_tiny.png", "city_tiny_facilities.html"} <= {
        p.name for p in tmp_path.iterdir()
    }

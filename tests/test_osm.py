"""OSM reading: the pedestrian filter, clipped extracts, XML vs PBF, POIs and buildings."""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np
import pytest

from geoplan._errors import InputError
from geoplan.io.osm import WALK_HIGHWAYS, is_walkable, read_osm, read_walk_runs
from geoplan.network import network_from_osm

# A tiny hand-written extract. Nodes 1-6 run west-east along 40.0N; way 10 is a
# footway, 11 a motorway, 12 a building outline, 13 a subway in a tunnel, 14 a
# residential street that references nodes 98 and 99 missing from the file
# (a clipped extract), 15 a service road tagged access=private, 16 foot=no,
# 17 a platform. Node 7 is a shop, node 8 a gate.
_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <node id="1" lat="40.0000" lon="116.3000"/>
 <node id="2" lat="40.0000" lon="116.3010"/>
 <node id="3" lat="40.0000" lon="116.3020"/>
 <node id="4" lat="40.0010" lon="116.3020"/>
 <node id="5" lat="40.0010" lon="116.3010"/>
 <node id="6" lat="40.0020" lon="116.3010"/>
 <node id="21" lat="40.0030" lon="116.3000"/>
 <node id="22" lat="40.0030" lon="116.3010"/>
 <node id="23" lat="40.0030" lon="116.3020"/>
 <node id="31" lat="40.0040" lon="116.3000"/>
 <node id="32" lat="40.0040" lon="116.3010"/>
 <node id="33" lat="40.0040" lon="116.3020"/>
 <node id="34" lat="40.0040" lon="116.3030"/>
 <node id="35" lat="40.0040" lon="116.3040"/>
 <node id="36" lat="40.0040" lon="116.3050"/>
 <node id="7" lat="40.0005" lon="116.3005">
  <tag k="shop" v="convenience"/><tag k="name" v="便利店"/><tag k="name:zh" v="便利店"/>
 </node>
 <node id="8" lat="40.0010" lon="116.3015"><tag k="barrier" v="gate"/></node>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/></way>
 <way id="11"><nd ref="3"/><nd ref="4"/><tag k="highway" v="motorway"/></way>
 <way id="12"><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="2"/>
  <tag k="building" v="residential"/><tag k="building:levels" v="6"/><tag k="name" v="1号楼"/>
 </way>
 <way id="13"><nd ref="1"/><nd ref="5"/><nd ref="6"/>
  <tag k="railway" v="subway"/><tag k="tunnel" v="yes"/><tag k="layer" v="-2"/>
 </way>
 <way id="14"><nd ref="98"/><nd ref="21"/><nd ref="22"/><nd ref="99"/><nd ref="23"/>
  <tag k="highway" v="residential"/></way>
 <way id="15"><nd ref="31"/><nd ref="32"/><tag k="highway" v="service"/>
  <tag k="access" v="private"/></way>
 <way id="16"><nd ref="32"/><nd ref="33"/><tag k="highway" v="cycleway"/>
  <tag k="foot" v="no"/></way>
 <way id="17"><nd ref="33"/><nd ref="34"/><tag k="highway" v="platform"/></way>
 <way id="18"><nd ref="34"/><nd ref="35"/><nd ref="36"/><tag k="highway" v="trunk"/>
  <tag k="sidewalk" v="both"/></way>
</osm>
"""


@pytest.fixture
def tiny_osm(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.osm.bz2"
    p.write_bytes(bz2.compress(_XML.encode("utf-8")))
    return p


def test_is_walkable_rules() -> None:
    assert is_walkable({"highway": "footway"})
    assert is_walkable({"highway": "steps"})
    assert is_walkable({"highway": "pedestrian", "area": "yes"})
    assert not is_walkable({"highway": "motorway"})
    assert not is_walkable({"highway": "motorway_link", "foot": "yes"})
    assert not is_walkable({"highway": "construction"})
    assert not is_walkable({"highway": "platform"})
    assert not is_walkable({"railway": "subway", "tunnel": "yes"})
    assert not is_walkable({"building": "yes"})
    assert not is_walkable({"highway": "footway", "foot": "no"})
    assert not is_walkable({"highway": "cycleway", "foot": "use_sidepath"})
    assert is_walkable({"highway": "cycleway"})
    assert not is_walkable({"highway": "service", "access": "no"})
    assert is_walkable({"highway": "service", "access": "no", "foot": "yes"})
    assert is_walkable({"highway": "service", "access": "private"})
    assert not is_walkable({"highway": "service", "access": "private"}, keep_private=False)
    assert is_walkable(
        {"highway": "service", "access": "private", "foot": "permissive"}, keep_private=False
    )
    assert not is_walkable({"highway": "trunk"})
    assert is_walkable({"highway": "trunk", "sidewalk": "both"})
    assert is_walkable({"highway": "primary"})
    assert not is_walkable({"highway": "primary", "sidewalk": "no"})


def test_walk_filter_and_clipped_ways(tiny_osm: Path) -> None:
    net = network_from_osm(tiny_osm)
    ways = set(net.way_id.tolist())
    # footway, the clipped residential way, the private service road, the trunk
    # with sidewalks; not the motorway, building, subway, foot=no or platform
    assert ways == {10, 14, 15, 18}
    # the clipped way keeps only its run 21-22 (98 and 99 are missing; 23 alone)
    e14 = np.flatnonzero(net.way_id == 14)
    assert e14.size == 1
    assert {int(net.node_id[net.u[e14[0]]]), int(net.node_id[net.v[e14[0]]])} == {21, 22}
    assert 23 not in net.node_id.tolist()
    # edges keep their full polyline; lengths are projected polyline lengths
    e10 = np.flatnonzero(net.way_id == 10)
    assert e10.size == 1
    assert net.length_m[e10[0]] == pytest.approx(net.geometry[e10[0]].length)
    assert 170 < net.length_m[e10[0]] < 172  # 0.002 deg of longitude at 40N
    assert net.crs.to_epsg() == 32650
    private = network_from_osm(tiny_osm, keep_private=False)
    assert 15 not in set(private.way_id.tolist())


def test_read_osm_layers(tiny_osm: Path) -> None:
    ext = read_osm(tiny_osm)
    assert list(ext.pois.index) == ["node/7"]
    assert ext.pois.loc["node/7", "shop"] == "convenience"
    assert ext.pois.loc["node/7", "name:zh"] == "便利店"
    assert ext.pois.loc["node/7", "tags"]["name"] == "便利店"
    assert list(ext.buildings.index) == ["way/12"]
    b = ext.buildings.loc["way/12"]
    assert b["name"] == "1号楼"
    assert b["building_levels"] == 6
    assert b.geometry.geom_type == "Polygon"
    assert b.geometry.area > 0
    assert list(ext.entrances.index) == ["node/8"]
    assert ext.entrances.loc["node/8", "barrier"] == "gate"
    assert ext.pois.crs == ext.crs == ext.buildings.crs


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_osm(tmp_path / "nope.osm")


def test_beijing_walk_filter(shared_data: Path) -> None:
    """osmnx turns building outlines and a subway into edges; geoplan must not."""
    path = shared_data / "osm" / "beijing_haidian_cau.osm.bz2"
    net = network_from_osm(path)
    assert set(net.highway.tolist()) <= WALK_HIGHWAYS
    assert "motorway" not in set(net.highway.tolist())
    ext = read_osm(path)
    building_ways = {int(i.split("/")[1]) for i in ext.buildings.index}
    assert not building_ways & set(net.way_id.tolist())
    assert len(ext.buildings) > 200
    assert len(ext.pois) > 150
    assert (
        ext.pois["name:zh"].notna().any() or ext.pois["name"].str.contains("[\u4e00-\u9fff]").any()
    )
    # the walk network is mostly one piece, with the extract's small islands
    label, size = net.components()
    assert size.max() > 0.8 * net.n_nodes
    assert label.max() >= 1
    # coordinates in metres around UTM 50N
    assert net.crs.to_epsg() == 32650
    assert 4.4e6 < net.y.mean() < 4.5e6


def test_xml_and_pbf_give_the_same_network(shared_data: Path) -> None:
    a = network_from_osm(shared_data / "osm" / "aguascalientes.osm.bz2")
    b = network_from_osm(shared_data / "osm" / "aguascalientes.osm.pbf")
    assert a.n_nodes == b.n_nodes
    assert a.n_edges == b.n_edges
    np.testing.assert_array_equal(a.node_id, b.node_id)

    def edge_set(n):  # type: ignore[no-untyped-def]
        return sorted(
            zip(
                n.node_id[n.u].tolist(),
                n.node_id[n.v].tolist(),
                n.length_m.round(6).tolist(),
                strict=True,
            )
        )

    assert edge_set(a) == edge_set(b)


def test_walk_runs_only(shared_data: Path) -> None:
    runs = read_walk_runs(shared_data / "osm" / "munich_no_pois.osm")
    assert runs.offsets[-1] == runs.node_id.size
    assert np.all(np.diff(runs.offsets) >= 2)
    assert set(runs.highway.tolist()) <= WALK_HIGHWAYS

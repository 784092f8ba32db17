"""The layers a command reads from an OSM extract, as the tests load them: the walking
network, the parsed extract (compounds, gates) and its buildings and facilities prepared
in the network's CRS. One loader for the fixtures that run on the real extracts."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd

from geoplan.io.osm import OsmExtract, buildings_from_extract, facilities_from_extract, read_osm
from geoplan.io.readers import prepare_layer
from geoplan.network import WalkNetwork, network_from_osm


class OsmLayers(NamedTuple):
    net: WalkNetwork
    extract: OsmExtract
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame


def osm_layers(
    osm: Path, *, columns: Sequence[str] = ("name", "category"), outlines: bool = False
) -> OsmLayers:
    """Network, extract, buildings and the facilities' ``columns`` (plus id and geometry)
    of ``osm``; the readers' data-quality warnings are silenced."""
    net = network_from_osm(osm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = read_osm(osm, to_crs=net.crs)
        bld = prepare_layer(
            buildings_from_extract(ex).reset_index(), "buildings", file=str(osm), metric_crs=net.crs
        )
        raw = facilities_from_extract(ex, outlines=outlines).reset_index()
        fac = prepare_layer(
            raw[["facility_id", *columns, "geometry"]],
            "facilities",
            file=str(osm),
            metric_crs=net.crs,
        )
    return OsmLayers(net, ex, bld, fac)

"""The layers of a walking audit, read the one way ``coverage`` and ``access`` read them.

A walking audit takes a network (an OSM file, a saved ``.npz``, a street line
layer or a PostGIS table) and buildings, facilities and communities (files or
tables). An OSM file alone gives all of them: its buildings, its points of
interest (parks with their outlines and ``area_m2``, so a size-dependent
catchment can be measured to a park's edge) and its gated compounds and gates.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoplan.cli._options import input_label

if TYPE_CHECKING:
    import geopandas as gpd

    from geoplan.cli._common import Progress
    from geoplan.cli._options import ReadOptions
    from geoplan.network import WalkNetwork
    from geoplan.profiles import Profile

__all__ = ["WalkLayers", "read_walk_layers"]

#: The columns kept of an OSM extract's points of interest (more when asked).
_OSM_FACILITY_COLUMNS = ("facility_id", "name", "category", "area_m2", "geometry")


@dataclass
class WalkLayers:
    """What :func:`read_walk_layers` read: the network and the layers in its CRS."""

    net: WalkNetwork
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    compounds: gpd.GeoDataFrame | None  #: from an OSM file only
    gates: gpd.GeoDataFrame | None  #: from an OSM file only
    given: tuple[bool, bool, bool]  #: buildings, facilities, communities came from the user

    def lined_up(
        self,
        *,
        profile: Profile,
        crs: str | None,
        network_file: str,
        estimate: bool,
        default_levels: float | None,
    ) -> gpd.GeoDataFrame:
        """The buildings with households, once every layer lines up with the network
        (:func:`geoplan.cli._common.lined_up_buildings`; bad input otherwise)."""
        from geoplan.cli._common import lined_up_buildings

        layers = (self.buildings, self.facilities, self.communities)
        return lined_up_buildings(
            self.net,
            profile=profile,
            buildings=self.buildings,
            facilities=self.facilities,
            communities=self.communities,
            stated=[layer for layer, g in zip(layers, self.given, strict=True) if g],
            crs=crs,
            network_file=network_file,
            areas=[self.compounds, self.communities],
            estimate=estimate,
            default_levels=default_levels,
        )


def read_walk_layers(
    network_path: Path | str,
    buildings: Path | str | None,
    facilities: Path | str | None,
    communities: Path | str | None,
    *,
    crs: str | None,
    reading: ReadOptions,
    progress: Progress,
    facility_columns: tuple[str, ...] = (),
) -> WalkLayers:
    """Read the network and the layers, as ``geoplan coverage`` and ``geoplan access`` do.

    ``facility_columns`` are kept of an OSM extract's facilities beside the usual
    ones (e.g. a supply column). Raises :class:`~geoplan._errors.InputError` when
    buildings or facilities are missing and the network is not an OSM file.
    """
    from geoplan._errors import InputError
    from geoplan._timing import phase
    from geoplan.io.readers import prepare_layer, read_buildings, read_communities, read_facilities
    from geoplan.network import check_source_crs, network_kind, read_network

    osm = network_kind(network_path) == "osm"
    if buildings is None and facilities is None and communities is None:
        check_source_crs(network_path, crs)  # --crs would describe no input at all
    if not osm and (buildings is None or facilities is None):
        raise InputError(
            "--buildings and --facilities are needed unless --network is an OSM file",
            file=input_label(network_path),
        )
    compounds = gates = None
    extract: Any = None
    with progress.step(f"reading {input_label(network_path)}"):
        with phase("read.network"):  # a line layer or OSM file: read and built
            net = read_network(network_path)
        if osm and (buildings is None or facilities is None):
            from geoplan.io.osm import read_osm

            with phase("read.osm"):
                extract = read_osm(network_path, to_crs=net.crs)
            compounds, gates = extract.compounds, extract.entrances
    with progress.step("reading buildings and facilities"):
        with phase("read.buildings"):
            if buildings is not None:
                bld = read_buildings(
                    buildings, source_crs=crs, metric_crs=net.crs, **reading.buildings
                )
            else:
                from geoplan.io.osm import buildings_from_extract

                bld = prepare_layer(
                    buildings_from_extract(extract).reset_index(),
                    "buildings",
                    file=str(network_path),
                    metric_crs=net.crs,
                )
        with phase("read.facilities"):
            if facilities is not None:
                fac = read_facilities(
                    facilities, source_crs=crs, metric_crs=net.crs, **reading.facilities
                )
            else:
                from geoplan.io.osm import facilities_from_extract

                # parks keep their outlines: a park is walked to its edge
                raw = facilities_from_extract(extract, outlines=True).reset_index()
                keep = [c for c in (*_OSM_FACILITY_COLUMNS, *facility_columns) if c in raw]
                fac = prepare_layer(
                    raw[list(dict.fromkeys(keep))],
                    "facilities",
                    file=str(network_path),
                    metric_crs=net.crs,
                )
        fac.attrs["source_file"] = input_label(
            facilities if facilities is not None else network_path
        )
        comm = None
        if communities:
            with phase("read.communities"):
                comm = read_communities(
                    communities, source_crs=crs, metric_crs=net.crs, **reading.communities
                )
        reading.check_used()
    return WalkLayers(
        net=net,
        buildings=bld,
        facilities=fac,
        communities=comm,
        compounds=compounds,
        gates=gates,
        given=(buildings is not None, facilities is not None, communities is not None),
    )

"""The sample district itself: the :class:`SampleDistrict` record, writing it to files,
and :func:`make_sample_district`, which draws the layout, then the facilities.

Private to :mod:`geoplan.sample` (which re-exports the public names).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.io.write import atomic_path, write_csv
from geoplan.sample._amenities import add_infant_care, add_parks, centre_functions
from geoplan.sample._base import DISTRICT, DISTRICT_NAME, Acc, sample_frame
from geoplan.sample._facilities import FACILITY_COLUMNS, add_communities, add_shops, life_circle
from geoplan.sample._layout import grid_nodes, make_buildings, make_streets, plan_layout

__all__ = ["SampleDistrict", "make_sample_district"]

_LAYERS = ("study_area", "communities", "compounds", "gates", "buildings", "streets", "facilities")


@dataclass(frozen=True)
class SampleDistrict:
    """The layers of the sample district, all in EPSG:32650 (metres).

    Attributes
    ----------
    streets
        LineStrings split at every junction (index ``street_id``): ``highway``,
        ``name`` (missing on compound roads and footpaths), ``oneway``, ``length_m``.
    compounds
        Gated compounds (index ``compound_id``): ``name``, ``old_estate``, ``community_id``.
    gates
        Gate points on compound boundaries (index ``gate_id``): ``compound_id``.
    communities, buildings, facilities
        The canonical frames of ``docs/architecture.md``; facilities are points and
        also carry ``area_m2`` (a park's land area, NaN for the rest) and
        ``functions`` (what a community service centre houses, "党群服务、养老服务、助餐";
        missing for other facilities and for a few centres).
    study_area
        One row (index ``district_code``): the district boundary.
    households_true
        Every building's true household count (aligned to ``buildings``); the
        buildings frame hides about 5% of them as NaN.
    seed
        The seed the district was made with.
    """

    streets: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    study_area: gpd.GeoDataFrame
    households_true: pd.Series
    seed: int

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Copies of the spatial layers by name (the GeoPackage layer names).

        Examples
        --------
        >>> sorted(make_sample_district(seed=0).layers())[:3]
        ['buildings', 'communities', 'compounds']
        """
        return {name: getattr(self, name).copy() for name in _LAYERS}

    def to_files(
        self,
        folder: str | os.PathLike[str],
        *,
        fmt: Literal["gpkg", "geojson", "csv"] = "gpkg",
    ) -> list[Path]:
        """Write every layer into ``folder``, each file atomically; return the paths.

        ``gpkg``: one ``sample_district.gpkg`` with a layer per frame (EPSG:32650).
        ``geojson``: ``<layer>.geojson`` per layer, in EPSG:4326. ``csv``: ``<layer>.csv``
        per layer (UTF-8 with BOM); points get ``lon``/``lat`` columns, other layers a
        ``wkt`` column, both in EPSG:4326.

        Examples
        --------
        >>> import tempfile
        >>> d = make_sample_district(seed=0)
        >>> [p.name for p in d.to_files(tempfile.mkdtemp())]
        ['sample_district.gpkg']
        """
        folder = Path(folder)
        layers = self.layers()
        if fmt == "gpkg":
            return [_write_gpkg(folder / "sample_district.gpkg", layers)]
        paths = []
        for name, gdf in layers.items():
            wgs = gdf.to_crs(4326)
            if fmt == "geojson":
                with atomic_path(folder / f"{name}.geojson") as tmp:
                    wgs.reset_index().to_file(tmp, driver="GeoJSON", engine="pyogrio")
                paths.append(folder / f"{name}.geojson")
            elif fmt == "csv":
                table = pd.DataFrame(wgs.drop(columns="geometry"))
                if (wgs.geom_type == "Point").all():
                    table["lon"], table["lat"] = wgs.geometry.x.round(8), wgs.geometry.y.round(8)
                else:
                    table["wkt"] = shapely.to_wkt(wgs.geometry.values, rounding_precision=8)
                paths.append(write_csv(folder / f"{name}.csv", table))
            else:
                raise InputError(f"unknown format {fmt!r}; use 'gpkg', 'geojson' or 'csv'")
        return paths


def _write_gpkg(dest: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """All layers into one GeoPackage, atomically.

    GDAL warns about a GeoPackage whose name does not end in ``.gpkg`` (as the
    temporary file of :func:`geoplan.io.write.write_gpkg` does), so the layers are
    staged under a ``.gpkg`` name inside the atomic write.
    """
    with atomic_path(dest) as tmp:
        staged = tmp.with_name(tmp.name + ".gpkg")
        try:
            for name, gdf in layers.items():
                gdf.reset_index().to_file(staged, layer=name, driver="GPKG", engine="pyogrio")
            os.replace(staged, tmp)
        finally:
            staged.unlink(missing_ok=True)
    return dest


def make_sample_district(*, seed: int = 0) -> SampleDistrict:
    """Generate the sample district (deterministic for a seed).

    Parameters
    ----------
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical frames.

    Returns
    -------
    SampleDistrict
        Streets, compounds, gates, communities (26 urban 社区 and 4 villages 村),
        about 1,900 buildings, about 380 facilities and the study area, in EPSG:32650.

    Examples
    --------
    >>> d = make_sample_district(seed=0)
    >>> len(d.communities) >= 25
    True
    >>> d.communities.crs.to_epsg(), d.communities.index[0]
    (32650, '120104001001')
    """
    acc = Acc(seed)
    nodes, east = grid_nodes(acc.rng)
    layout = plan_layout(acc, nodes, east)
    buildings, truth = make_buildings(acc)
    add_communities(acc, buildings, truth, layout)
    add_shops(acc, nodes, layout)
    life_circle(acc, nodes)
    add_parks(acc, nodes)  # parks, infant care and the centres' functions come last
    functions = centre_functions(acc)
    add_infant_care(acc, nodes, functions)
    facilities = sample_frame(acc.facilities, FACILITY_COLUMNS)
    facilities["community_id"] = facilities["community_id"].astype("str")
    facilities["functions"] = pd.Series(
        [functions.get(fid) for fid in facilities.index], index=facilities.index, dtype="str"
    )
    communities = sample_frame(acc.communities)
    compounds = sample_frame(acc.compounds, "compound_id name old_estate community_id geometry")
    gates = sample_frame(acc.gates, "gate_id compound_id geometry")
    ring = np.vstack([nodes[:, 0], east, nodes[::-1, -1], nodes[0, -2::-1]])
    area = sample_frame(
        [(DISTRICT, DISTRICT_NAME, shapely.Polygon(ring))], "district_code name geometry"
    )
    return SampleDistrict(
        streets=make_streets(acc.lines),
        compounds=compounds,
        gates=gates,
        communities=communities,
        buildings=buildings,
        facilities=facilities,
        study_area=area,
        households_true=truth,
        seed=seed,
    )

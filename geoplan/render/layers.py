"""Interactive map layers (folium / Leaflet), one per kind of audit output: the index.

Every layer function takes a canonical frame (in a metric CRS), converts it to
EPSG:4326 for drawing (and to GCJ-02 when the base map is AMap), and adds one
toggleable layer to a :class:`folium.Map`, creating the map when ``m`` is None.
All user text is HTML-escaped before it reaches the page.

This module gathers them under one import path; each lives in the module of its
job:

- :mod:`geoplan.render.community_layers`: communities coloured by audit checks;
- :mod:`geoplan.render.building_layers`: buildings (or cells) coloured by coverage;
- :mod:`geoplan.render.cells`: building classes and square cells (no folium);
- :mod:`geoplan.render.point_layers`: facilities, service areas, sites, unreachable;
- :mod:`geoplan.render.network_layers`: the walking network and the grid outlines;
- :mod:`geoplan.render.city_layers`: the same at city scale (above a feature budget:
  cells for every category, facilities per category, packed and built on demand).

Examples
--------
>>> from geoplan.render.layers import community_layer, facility_layer
>>> community_layer.__module__
'geoplan.render.community_layers'
"""

from __future__ import annotations

from geoplan.render.building_layers import building_coverage_layer
from geoplan.render.cells import (
    DEFAULT_AGGREGATE_ABOVE,
    DEFAULT_CELL_M,
    DEFAULT_EXTRA_AGGREGATE_ABOVE,
    DEFAULT_MAX_CELLS,
    adaptive_cell_m,
    building_classes,
    coverage_cells,
)
from geoplan.render.city_layers import (
    DEFAULT_MAX_FEATURES,
    city_building_layers,
    city_community_layers,
    city_facility_layers,
    city_network_layer,
    city_point_layer,
    is_city_scale,
)
from geoplan.render.community_layers import community_layer
from geoplan.render.network_layers import (
    DEFAULT_NETWORK_MAX_VERTICES,
    DEFAULT_NETWORK_TOLERANCE_M,
    grids_layer,
    network_layer,
    simplified_network,
)
from geoplan.render.point_layers import (
    DEFAULT_SYMBOLS_MAX,
    facility_layer,
    service_area_layer,
    sites_layer,
    unreachable_layer,
)

__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_EXTRA_AGGREGATE_ABOVE",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_FEATURES",
    "DEFAULT_NETWORK_MAX_VERTICES",
    "DEFAULT_NETWORK_TOLERANCE_M",
    "DEFAULT_SYMBOLS_MAX",
    "adaptive_cell_m",
    "building_classes",
    "building_coverage_layer",
    "city_building_layers",
    "city_community_layers",
    "city_facility_layers",
    "city_network_layer",
    "city_point_layer",
    "community_layer",
    "coverage_cells",
    "facility_layer",
    "grids_layer",
    "is_city_scale",
    "network_layer",
    "service_area_layer",
    "simplified_network",
    "sites_layer",
    "unreachable_layer",
]

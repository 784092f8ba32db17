"""Maps of audit results: interactive (folium, offline HTML) and static (matplotlib).

Layers take canonical frames in a metric CRS and draw them in EPSG:4326 (or
GCJ-02 over AMap tiles). ``render`` depends only on ``geoplan._errors``,
``geoplan.io.write`` and, lazily, ``geoplan.crs``: never on the audits or the
reach engine, so it draws any frame that follows the documented column contracts.

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd, shapely
>>> from geoplan.render import gap_map, save_html
>>> f = gpd.GeoDataFrame({"category": ["wet_market"]},
...     geometry=[shapely.Point(0, 0)], crs=32650)
>>> m = gap_map(facilities=f, title="菜市场", summary={"菜市场覆盖率": "87%，目标 95%"})
>>> out = save_html(m, pathlib.Path(tempfile.mkdtemp()) / "map.html")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real types for mypy; at run time each loads on first use
    from geoplan.render.access_layers import access_layer
    from geoplan.render.building_layers import building_coverage_layer
    from geoplan.render.cells import (
        DEFAULT_AGGREGATE_ABOVE,
        DEFAULT_CELL_M,
        adaptive_cell_m,
        coverage_cells,
    )
    from geoplan.render.city_layers import DEFAULT_MAX_FEATURES, is_city_scale
    from geoplan.render.community_layers import community_layer
    from geoplan.render.interactive import add_legend, base_map, gap_map
    from geoplan.render.network_layers import grids_layer, network_layer, simplified_network
    from geoplan.render.offline import (
        OfflineAssetError,
        external_asset_urls,
        inline_assets,
        save_html,
        use_minimal_assets,
    )
    from geoplan.render.point_layers import (
        DEFAULT_SYMBOLS_MAX,
        facility_layer,
        service_area_layer,
        sites_layer,
        unreachable_layer,
    )
    from geoplan.render.static import find_cjk_font, static_gap_map

# Loaded on first use: an HTML map needs folium but not matplotlib, a PNG the reverse.
_LAZY = {
    "access_layer": "geoplan.render.access_layers",
    "DEFAULT_AGGREGATE_ABOVE": "geoplan.render.cells",
    "DEFAULT_CELL_M": "geoplan.render.cells",
    "DEFAULT_MAX_FEATURES": "geoplan.render.city_layers",
    "DEFAULT_SYMBOLS_MAX": "geoplan.render.point_layers",
    "is_city_scale": "geoplan.render.city_layers",
    "adaptive_cell_m": "geoplan.render.cells",
    "add_legend": "geoplan.render.interactive",
    "base_map": "geoplan.render.interactive",
    "building_coverage_layer": "geoplan.render.building_layers",
    "community_layer": "geoplan.render.community_layers",
    "coverage_cells": "geoplan.render.cells",
    "facility_layer": "geoplan.render.point_layers",
    "gap_map": "geoplan.render.interactive",
    "grids_layer": "geoplan.render.network_layers",
    "network_layer": "geoplan.render.network_layers",
    "service_area_layer": "geoplan.render.point_layers",
    "simplified_network": "geoplan.render.network_layers",
    "sites_layer": "geoplan.render.point_layers",
    "unreachable_layer": "geoplan.render.point_layers",
    "OfflineAssetError": "geoplan.render.offline",
    "external_asset_urls": "geoplan.render.offline",
    "inline_assets": "geoplan.render.offline",
    "save_html": "geoplan.render.offline",
    "use_minimal_assets": "geoplan.render.offline",
    "find_cjk_font": "geoplan.render.static",
    "static_gap_map": "geoplan.render.static",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'geoplan.render' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__


__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_MAX_FEATURES",
    "DEFAULT_SYMBOLS_MAX",
    "OfflineAssetError",
    "access_layer",
    "adaptive_cell_m",
    "add_legend",
    "base_map",
    "building_coverage_layer",
    "community_layer",
    "coverage_cells",
    "external_asset_urls",
    "facility_layer",
    "find_cjk_font",
    "gap_map",
    "grids_layer",
    "inline_assets",
    "is_city_scale",
    "network_layer",
    "save_html",
    "service_area_layer",
    "simplified_network",
    "sites_layer",
    "static_gap_map",
    "unreachable_layer",
    "use_minimal_assets",
]

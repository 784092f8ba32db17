"""Maps of audit results: interactive (folium, offline HTML) and static (matplotlib).

Layers take canonical frames in a metric CRS and draw them in EPSG:4326 (or
GCJ-02 over AMap tiles). ``render`` depends only on ``geoplan._errors``,
``geoplan.io.write`` and, lazily, ``geoplan.crs``: never on the audits or the
reach engine, so it draws any frame that follows the documented column contracts.

Examples
--------
>>> import tempfile, pathlib, geopandas as gpd, shapely
>>> f = gpd.GeoDataFrame({"category": ["wet_market"]},
...     geometry=[shapely.Point(0, 0)], crs=32650)
>>> m = gap_map(facilities=f, title="菜市场", summary={"菜市场覆盖率": "87%，目标 95%"})
>>> out = save_html(m, pathlib.Path(tempfile.mkdtemp()) / "map.html")
"""

from __future__ import annotations

from geoplan.render.interactive import (
    DEFAULT_AGGREGATE_ABOVE,
    DEFAULT_CELL_M,
    DEFAULT_SYMBOLS_MAX,
    adaptive_cell_m,
    add_legend,
    base_map,
    building_coverage_layer,
    community_layer,
    coverage_cells,
    facility_layer,
    gap_map,
    grids_layer,
    network_layer,
    service_area_layer,
    simplified_network,
    sites_layer,
    unreachable_layer,
)
from geoplan.render.offline import (
    OfflineAssetError,
    external_asset_urls,
    inline_assets,
    save_html,
    use_minimal_assets,
)
from geoplan.render.static import find_cjk_font, static_gap_map

__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_SYMBOLS_MAX",
    "OfflineAssetError",
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
    "network_layer",
    "save_html",
    "service_area_layer",
    "simplified_network",
    "sites_layer",
    "static_gap_map",
    "unreachable_layer",
    "use_minimal_assets",
]

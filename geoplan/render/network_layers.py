"""The context layers a planner reads the gaps against: the walking network
(simplified to a vertex budget) and the grid outlines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.render import _labels as lb
from geoplan.render._chains import merge_lines, merged_chains
from geoplan.render._leaflet import (
    LegendItem,
    add_layer,
    display_geometry,
    ensure_map,
    esc,
    extra_rows,
    map_state,
    require_column,
    set_legend,
    tip,
)

if TYPE_CHECKING:
    from geoplan._types import CRSLike

__all__ = [
    "DEFAULT_NETWORK_MAX_VERTICES",
    "DEFAULT_NETWORK_TOLERANCE_M",
    "grids_layer",
    "network_layer",
    "simplified_edges",
    "simplified_network",
]

#: Most vertices :func:`network_layer` draws: above it the lines are simplified
#: further, then the shortest are left out, so a city's map stays a few MB.
DEFAULT_NETWORK_MAX_VERTICES = 60_000
#: First simplification tolerance of the walking network, in metres.
DEFAULT_NETWORK_TOLERANCE_M = 2.0


def simplified_network(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_vertices: int = DEFAULT_NETWORK_MAX_VERTICES,
    tolerance_m: float = DEFAULT_NETWORK_TOLERANCE_M,
    chains: bool = False,
) -> gpd.GeoSeries:
    """The street lines merged and simplified to at most ``max_vertices`` vertices.

    Edges are merged into longer lines, simplified with ``tolerance_m`` (doubled
    until they fit, up to 32 times), and if they still do not fit the shortest
    lines are left out. Lines in a projected (metric) CRS. With ``chains`` the
    lines are merged with numpy (:func:`~geoplan.render._chains.merge_lines`: the
    same lines, in another order and direction, in a fraction of the time) instead
    of ``shapely.line_merge``: what the city-scale maps do.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> e = gpd.GeoSeries([shapely.LineString([(0, 0), (50, 0.5), (100, 0)]),
    ...     shapely.LineString([(100, 0), (200, 0)])], crs=32650)
    >>> out = simplified_network(e)
    >>> len(out), int(shapely.get_num_coordinates(out.values).sum())
    (1, 2)
    """
    geo = lines.geometry if isinstance(lines, gpd.GeoDataFrame) else lines
    if geo.crs is None or not geo.crs.is_projected:
        raise InputError("the network must be in a projected (metric) CRS", column="geometry")
    values = np.asarray(geo.values)
    values = values[~(shapely.is_missing(values) | shapely.is_empty(values))]
    if len(values) == 0:
        return gpd.GeoSeries([], crs=geo.crs)
    if chains:
        parts = merge_lines(values)
    else:
        merged = shapely.line_merge(shapely.multilinestrings(shapely.get_parts(values)))
        parts = shapely.get_parts(merged)
    return gpd.GeoSeries(
        _within_budget(parts, max_vertices=max_vertices, tolerance_m=tolerance_m), crs=geo.crs
    )


def simplified_edges(
    coords: np.ndarray,
    start: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    *,
    crs: CRSLike,
    max_vertices: int = DEFAULT_NETWORK_MAX_VERTICES,
    tolerance_m: float = DEFAULT_NETWORK_TOLERANCE_M,
) -> gpd.GeoSeries:
    """Edges given as arrays (a network's: vertices ``coords``, edge ``i`` through rows
    ``start[i]:start[i + 1]``, from node ``first[i]`` to node ``last[i]``), merged at
    their nodes and simplified as :func:`simplified_network`, without making a shapely
    object per edge.

    Examples
    --------
    >>> xy = np.array([[0, 0], [50, 0.5], [50, 0.5], [100, 0]])
    >>> out = simplified_edges(xy, np.array([0, 2, 4]), np.array([0, 1]), np.array([1, 2]),
    ...     crs=32650)
    >>> out.iloc[0].wkt
    'LINESTRING (0 0, 100 0)'
    """
    if len(start) <= 1:
        return gpd.GeoSeries([], crs=crs)
    merged, at = merged_chains(coords, start, first, last)
    parts = shapely.linestrings(merged, indices=np.repeat(np.arange(at.size - 1), np.diff(at)))
    return gpd.GeoSeries(
        _within_budget(parts, max_vertices=max_vertices, tolerance_m=tolerance_m), crs=crs
    )


def _within_budget(parts: np.ndarray, *, max_vertices: int, tolerance_m: float) -> np.ndarray:
    """Merged lines simplified to fit ``max_vertices`` (see :func:`simplified_network`)."""
    tolerances = [tolerance_m * 2**k for k in range(6)]
    if 2 * len(parts) > max_vertices:  # no tolerance fits them: straight to the last one
        tolerances = tolerances[-1:]
    for tol in tolerances:
        simple = shapely.simplify(parts, tol, preserve_topology=False)
        n = shapely.get_num_coordinates(simple)
        if int(n.sum()) <= max_vertices:
            return np.asarray(simple)
    order = np.argsort(-shapely.length(simple), kind="stable")
    keep = order[np.cumsum(n[order]) <= max_vertices]
    simple = simple[np.sort(keep)]
    return np.asarray(simple)


def network_layer(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    max_vertices: int = DEFAULT_NETWORK_MAX_VERTICES,
    show: bool = True,
    fit: bool = True,
) -> folium.Map:
    """The walking network as thin grey lines (no tooltips), so a planner sees why
    a building cannot reach a facility: no street, a detour, an island.

    The lines are merged and simplified (:func:`simplified_network`) and drawn
    as one feature; with ``fit=False`` they do not widen the map's first view (an
    OSM extract reaches far beyond the buildings audited).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> e = gpd.GeoDataFrame(geometry=[shapely.LineString([(0, 0), (100, 0)])], crs=32650)
    >>> m = network_layer(e, lang="en")
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    simple = simplified_network(lines, max_vertices=max_vertices)
    if len(simple) == 0:
        return m
    one = gpd.GeoDataFrame(
        geometry=[shapely.multilinestrings(simple.values)], crs=simple.crs, index=["network"]
    )
    geo = display_geometry(one, "network", st)
    cls = lb.NETWORK_CLASS
    style = {"color": cls.color, "weight": 1.0, "opacity": 0.7, "fill": False}
    name = lb.text("network", language)
    add_layer(
        m,
        name=name,
        geo=geo,
        style_keys=["n"],
        tips=[""],
        styles={"n": style},
        show=show,
        fit=fit,
    )
    set_legend(m, name, [LegendItem("solid", cls.color, cls.fill, cls.label(language))])
    return m


def grids_layer(
    grids: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    code_column: str | None = None,
    fields: Sequence[str] = ("households",),
) -> folium.Map:
    """Grid polygons as outlines; tooltips show the grid code (``code_column``,
    else the index) and ``fields``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"households": [320.0]}, geometry=[shapely.box(0, 0, 300, 300)],
    ...     crs=32650, index=pd.Index(["G01"], name="grid_id"))
    >>> m = grids_layer(g)
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    geo = display_geometry(grids, "grids", st)
    codes = (
        require_column(grids, code_column, "grids").astype(object)
        if code_column is not None
        else pd.Series(grids.index, index=grids.index, dtype=object)
    )
    tips = [
        tip(
            f"{lb.text('code', language)}: {esc(codes.iloc[row])}",
            extra_rows(grids, fields, row),
        )
        for row in range(len(grids))
    ]
    cls = lb.GRID_CLASS
    style = {
        "color": cls.color,
        "fillColor": cls.fill,
        "weight": 2.0,
        "dashArray": "4 3",
        "fillOpacity": 0.05,
    }
    name = lb.text("grids", language)
    add_layer(m, name=name, geo=geo, style_keys=["g"] * len(grids), tips=tips, styles={"g": style})
    set_legend(m, name, [LegendItem("line", cls.color, cls.fill, cls.label(language))])
    return m

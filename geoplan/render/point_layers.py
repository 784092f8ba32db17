"""Layers of what is or could be built: facilities, their walking service areas,
suggested sites, and the points that could not reach the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from geoplan.render import _labels as lb
from geoplan.render._leaflet import (
    LegendItem,
    add_layer,
    as_points,
    display_geometry,
    dot_style,
    ensure_map,
    esc,
    extra_rows,
    icon_style,
    map_state,
    require_column,
    row_names,
    set_legend,
    tip,
)

__all__ = [
    "DEFAULT_SYMBOLS_MAX",
    "facility_layer",
    "service_area_layer",
    "sites_layer",
    "unreachable_layer",
]

#: Above this many facilities, :func:`facility_layer` draws coloured dots on the
#: canvas instead of lettered HTML symbols: 20,000 HTML markers freeze a browser
#: (measured: 6 s to load, 30 s per zoom step), 20,000 canvas dots do not.
DEFAULT_SYMBOLS_MAX = 2_000


def facility_layer(
    facilities: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    fields: Sequence[str] = ("floor_area_m2",),
    symbols_max: int = DEFAULT_SYMBOLS_MAX,
) -> folium.Map:
    """Facilities as round symbols, one colour and one character per category.

    Polygons are drawn at a point on their surface. Reads ``category`` and, when
    present, ``name`` and the columns in ``fields``. Symbols are plain HTML (no
    icon fonts), so they work offline. Above ``symbols_max`` facilities they are
    drawn as dots of the category colour on the canvas, which stays fast with
    tens of thousands; the legend follows.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame({"name": ["一号菜场"], "category": ["wet_market"]},
    ...     geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = facility_layer(f)
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    cats = require_column(facilities, "category", "facilities").astype(object)
    geo = as_points(display_geometry(facilities, "facilities", st))
    names = row_names(facilities)
    keys: list[str] = []
    tips: list[str] = []
    order: dict[str, str] = {}
    for row, c in enumerate(cats):
        cat = "" if pd.isna(c) else str(c)
        key = order.setdefault(cat, f"k{len(order)}")
        style = lb.category_style(cat)
        rows = [(lb.text("category", language), esc(style.label(language)))]
        rows += extra_rows(facilities, fields, row)
        keys.append(key)
        tips.append(tip(names[row], rows))
    dots = len(facilities) > symbols_max
    styles = {
        key: dot_style(lb.category_style(cat).color)
        if dots
        else icon_style(lb.category_style(cat).color, lb.category_style(cat).char(language))
        for cat, key in order.items()
    }
    name = lb.text("facilities", language)
    add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles)
    set_legend(
        m,
        name,
        [
            LegendItem(
                "circle" if dots else "icon",
                "#ffffff" if dots else lb.category_style(cat).color,
                lb.category_style(cat).color,
                lb.category_style(cat).label(language),
                "" if dots else lb.category_style(cat).char(language),
            )
            for cat in sorted(order)
        ],
    )
    return m


def service_area_layer(
    polygons: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    fields: Sequence[str] = (),
) -> folium.Map:
    """Walking service areas (isochrone polygons), coloured by ``category`` when present.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> a = gpd.GeoDataFrame({"category": ["wet_market"]},
    ...     geometry=[shapely.Point(0, 0).buffer(800)], crs=32650)
    >>> m = service_area_layer(a, lang="en")
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    geo = display_geometry(polygons, "service_areas", st)
    cats = polygons["category"].astype(object) if "category" in polygons.columns else None
    names = row_names(polygons)
    keys: list[str] = []
    tips: list[str] = []
    order: dict[str, str] = {}
    for row in range(len(polygons)):
        cat = "" if cats is None or pd.isna(cats.iloc[row]) else str(cats.iloc[row])
        key = order.setdefault(cat, f"k{len(order)}")
        rows = []
        if cat:
            rows.append(
                (lb.text("category", language), esc(lb.category_style(cat).label(language)))
            )
        if "facility_id" in polygons.columns:
            rows.append((lb.text("facility", language), esc(polygons["facility_id"].iloc[row])))
        rows += extra_rows(polygons, fields, row)
        keys.append(key)
        tips.append(tip(names[row], rows))
    base = lb.SERVICE_AREA_CLASS
    styles: dict[str, dict[str, Any]] = {}
    items = []
    for cat, key in order.items():
        color = lb.category_style(cat).color if cat else base.color
        styles[key] = {
            "color": color,
            "fillColor": color,
            "weight": 1.0,
            "opacity": 0.8,
            "fillOpacity": 0.12,
        }
        label = lb.category_style(cat).label(language) if cat else base.label(language)
        items.append(LegendItem("square", color, color + "40", label))
    name = lb.text("service_areas", language)
    add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles)
    set_legend(m, name, items)
    return m


def unreachable_layer(
    points: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    fields: Sequence[str] = ("reason", "snap_m", "component"),
) -> folium.Map:
    """Points that could not reach the network or were not assigned (e.g. buildings
    snapped to an island, facilities outside every community).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"reason": ["island"]}, geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = unreachable_layer(p)
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    geo = as_points(display_geometry(points, "unreachable", st))
    names = row_names(points)
    tips = [tip(names[row], extra_rows(points, fields, row)) for row in range(len(points))]
    cls = lb.UNREACHABLE_CLASS
    style = {
        "color": cls.color,
        "fillColor": cls.fill,
        "weight": 1.5,
        "fillOpacity": 0.9,
        "radius": 4,
    }
    name = lb.text("unreachable", language)
    add_layer(m, name=name, geo=geo, style_keys=["u"] * len(points), tips=tips, styles={"u": style})
    set_legend(m, name, [LegendItem("circle", cls.color, cls.fill, cls.label(language))])
    return m


def sites_layer(
    sites: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    fields: Sequence[str] = (),
) -> folium.Map:
    """Suggested sites as star symbols; tooltips show ``name``, ``category`` and ``fields``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> s = gpd.GeoDataFrame({"category": ["wet_market"]},
    ...     geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = sites_layer(s)
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    geo = as_points(display_geometry(sites, "sites", st))
    names = row_names(sites)
    tips = []
    for row in range(len(sites)):
        rows = []
        if "category" in sites.columns and not pd.isna(sites["category"].iloc[row]):
            cat = str(sites["category"].iloc[row])
            rows.append(
                (lb.text("category", language), esc(lb.category_style(cat).label(language)))
            )
        rows += extra_rows(sites, fields, row)
        tips.append(tip(names[row], rows))
    cls = lb.SITE_CLASS
    style = icon_style(cls.fill, "★", size=22, text_color=cls.color)
    name = lb.text("sites", language)
    add_layer(m, name=name, geo=geo, style_keys=["s"] * len(sites), tips=tips, styles={"s": style})
    set_legend(m, name, [LegendItem("icon", cls.fill, cls.fill, cls.label(language), "★")])
    return m

"""The map machinery behind geoplan's Leaflet layers (private).

Per-map state (legend, bounds, GCJ-02), escaping, the offline base map, display
geometry in EPSG:4326 (or GCJ-02), and one GeoJSON layer element with a small
style table and pre-escaped tooltips. The layer modules
(:mod:`geoplan.render.layers` lists them) draw with it;
:mod:`geoplan.render.interactive` composes the layers into a gap map. The module
is private to ``geoplan.render``; the names in ``__all__`` are what its sibling
modules use.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geoplan._errors import InputError
from geoplan.render import _labels as lb
from geoplan.render._labels import Lang, StyleClass
from geoplan.render.offline import OfflineMap, use_minimal_assets

__all__ = [
    "LegendItem",
    "MapState",
    "RawElement",
    "add_layer",
    "as_points",
    "base_map",
    "display_geometry",
    "dot_style",
    "ensure_map",
    "esc",
    "extend_bounds",
    "extra_rows",
    "figure",
    "fmt",
    "icon_style",
    "js_json",
    "map_state",
    "polygon_style",
    "require_column",
    "row_names",
    "set_legend",
    "tip",
]

_COORD_DECIMALS = 6  # about 0.1 m: enough to draw, keeps city maps small
_BACKGROUND = "#f4f3ef"
_AMAP_URL = (
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
    "&x={x}&y={y}&z={z}"
)
_TIANDITU_URL = (
    "https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"
)


# --------------------------------------------------------------------------- state


@dataclass
class LegendItem:
    shape: str  # "square", "area" (outlined), "circle", "icon", "line" (dashed), "solid"
    color: str
    fill: str
    label: str
    char: str = ""


@dataclass
class MapState:
    """What geoplan keeps on a map: coordinate system, legend, bounds."""

    gcj02: bool = False
    lang: Lang = "zh"
    bounds: list[float] | None = None  # [west, south, east, north]
    legend: dict[str, list[LegendItem]] = field(default_factory=dict)
    fit: folium.FitBounds | None = None
    symbol_zoom: bool = False  # the symbol-shrinking script is on the map
    notes: list[str] = field(default_factory=list)  # what a city-scale map drew otherwise


def map_state(m: folium.Map) -> MapState:
    st = getattr(m, "_geoplan_state", None)
    if st is None:
        st = MapState()
        setattr(m, "_geoplan_state", st)  # noqa: B010 (folium.Map has no slot for it)
    return st


def figure(m: Element) -> Figure:
    root = m.get_root()
    if not isinstance(root, Figure):
        raise InputError("the map is not inside a folium Figure", column="m")
    return root


def esc(value: object) -> str:
    """HTML-escape any value shown as text.

    Braces become character references too: folium parses the text of its elements
    as Jinja templates, and a name like ``{{ 7*7 }}`` must show as written, not run.

    Examples
    --------
    >>> esc("<b>{{ x }}</b>")
    '&lt;b&gt;&#123;&#123; x &#125;&#125;&lt;/b&gt;'
    """
    text = html.escape(str(value), quote=True)
    if "{" in text or "}" in text:
        text = text.replace("{", "&#123;").replace("}", "&#125;")
    return text


class RawElement(Element):
    """Text added to the page as it is, never parsed as a Jinja template.

    ``branca.element.Element(text)`` compiles ``text`` as a template: slow for a
    layer's data (seconds for a city) and unsafe for user text (``{{ ... }}`` in a
    name would run). Every element geoplan adds with data or user text is one of these.
    """

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "RawElement"
        self.text = text

    def render(self, **kwargs: object) -> str:
        return self.text


def js_json(obj: object) -> str:
    """JSON for a ``<script>`` block: no literal ``<``, ``>`` or ``&`` anywhere."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _script_safe(text)


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def fmt(value: object, decimals: int = 1) -> str:
    if value is None or value is pd.NA:
        return "—"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return esc(value)
    if math.isnan(x):
        return "—"
    if math.isinf(x):
        return "∞"
    if x == round(x) and abs(x) < 1e15:
        return f"{round(x):,}"
    return f"{x:,.{decimals}f}"


# --------------------------------------------------------------------------- base map


def base_map(
    *,
    tiles: str | None = None,
    tiles_key: str | None = None,
    lang: str = "zh",
    prefer_canvas: bool = True,
) -> folium.Map:
    """An empty map that loads only Leaflet and jQuery.

    Parameters
    ----------
    tiles
        None (default): no base map, a plain background (works offline).
        ``'osm'``: OpenStreetMap (WGS84). ``'amap'``: AMap / 高德 (GCJ-02; every
        overlay added by geoplan is then shifted to GCJ-02 so it lines up).
        ``'tianditu'``: 天地图 vector map with labels (CGCS2000, drawn as WGS84;
        needs ``tiles_key``). Tiles always need the network.
    tiles_key
        The 天地图 key (``tk``).
    lang
        ``'zh'`` or ``'en'``: the language of the base-layer names.
    prefer_canvas
        Draw vector layers on a canvas (fast with many features).

    Examples
    --------
    >>> m = base_map()
    >>> isinstance(m, folium.Map)  # an OfflineMap: its notebook view needs no CDN
    True
    """
    language = lb.validate_lang(lang)
    m = OfflineMap(tiles=None, prefer_canvas=prefer_canvas, control_scale=True, zoom_start=2)
    use_minimal_assets(m)
    st = map_state(m)
    st.lang = language
    if tiles is None:
        figure(m).header.add_child(
            Element(f"<style>#{m.get_name()} {{ background: {_BACKGROUND}; }}</style>")
        )
    elif tiles == "osm":
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap",
            control=False,
        ).add_to(m)
    elif tiles == "amap":
        folium.TileLayer(
            tiles=_AMAP_URL,
            attr="© 高德地图 AutoNavi",
            name="高德地图" if language == "zh" else "AMap",
            subdomains="1234",
            max_zoom=18,
            control=False,
        ).add_to(m)
        st.gcj02 = True
    elif tiles == "tianditu":
        if not tiles_key:
            raise InputError("tiles='tianditu' needs tiles_key= (a 天地图 key)", column="tiles_key")
        for layer in ("vec", "cva"):
            folium.TileLayer(
                tiles=_TIANDITU_URL.format(layer=layer, key=quote(tiles_key, safe="")),
                attr="© 天地图 Tianditu",
                name=f"天地图 {layer}",
                subdomains="01234567",
                max_zoom=18,
                control=False,
            ).add_to(m)
    else:
        raise InputError(
            f"unknown tiles {tiles!r}: use None, 'osm', 'amap' or 'tianditu'", column="tiles"
        )
    return m


def ensure_map(m: folium.Map | None, lang: Lang) -> folium.Map:
    if m is None:
        return base_map(lang=lang)
    return m


# --------------------------------------------------------------------------- geometry


def display_geometry(frame: gpd.GeoDataFrame, what: str, st: MapState) -> gpd.GeoSeries:
    """Geometries of ``frame`` in lon/lat (GCJ-02 when the map needs it)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame with geometry", column="geometry")
    if frame.crs is None:
        raise InputError(f"{what} has no CRS: set one before drawing", column="geometry")
    geo = frame.geometry.to_crs(4326)
    if st.gcj02:
        from geoplan.crs import wgs84_to_gcj02

        def _shift(coords: np.ndarray) -> np.ndarray:
            lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        geo = gpd.GeoSeries(shapely.transform(geo.values, _shift), index=geo.index, crs=geo.crs)
    return geo


def _round(values: np.ndarray) -> np.ndarray:
    return shapely.transform(values, lambda c: np.round(c, _COORD_DECIMALS))


def as_points(geo: gpd.GeoSeries) -> gpd.GeoSeries:
    values = geo.values
    is_point = shapely.get_type_id(values) == 0
    if bool(np.all(is_point)):
        return geo
    return gpd.GeoSeries(
        np.where(is_point, values, shapely.point_on_surface(values)), index=geo.index, crs=geo.crs
    )


def _feature_collection(
    geo: gpd.GeoSeries, style_keys: Sequence[str], tips: Sequence[str]
) -> tuple[str, int]:
    """A GeoJSON FeatureCollection as script-safe text, and its feature count."""
    values = geo.values
    keep = ~(shapely.is_missing(values) | shapely.is_empty(values))
    geoms = shapely.to_geojson(_round(np.asarray(values[keep])))
    keys = np.asarray(style_keys, dtype=object)[keep]
    tip_arr = np.asarray(tips, dtype=object)[keep]
    parts = [
        '{"type":"Feature","geometry":'
        + g
        + ',"properties":'
        + json.dumps({"s": k, "t": t}, ensure_ascii=False, separators=(",", ":"))
        + "}"
        for g, k, t in zip(geoms, keys, tip_arr, strict=True)
    ]
    text = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    return _script_safe(text), len(parts)


def extend_bounds(m: folium.Map, st: MapState, geo: gpd.GeoSeries) -> None:
    values = geo.values
    values = values[~(shapely.is_missing(values) | shapely.is_empty(values))]
    if len(values) == 0:
        return
    w, s, e, n = (float(v) for v in shapely.total_bounds(values))
    if st.bounds is None:
        st.bounds = [w, s, e, n]
    else:
        b = st.bounds
        st.bounds = [min(b[0], w), min(b[1], s), max(b[2], e), max(b[3], n)]
    b = st.bounds
    corners = [[b[1], b[0]], [b[3], b[2]]]
    if st.fit is None:
        # room for the panels over the map: title and summary at the top, the
        # legend at the bottom right (features there would hide under it)
        st.fit = folium.FitBounds(
            corners, padding_top_left=(20, 50), padding_bottom_right=(260, 20)
        )
        st.fit.add_to(m)
    else:
        st.fit.bounds = corners


# --------------------------------------------------------------------------- layer element


class _GeoJsonLayer(MacroElement):
    """A GeoJSON layer drawn with a small style table and pre-escaped tooltips.

    ``styles`` maps a style key to Leaflet path options; a style with ``html``
    draws points as a ``divIcon`` (symbol markers), otherwise as circle markers.
    """

    _template = Template(
        """
{% macro script(this, kwargs) %}
var {{ this.get_name() }}_styles = {{ this.styles_js }};
var {{ this.get_name() }} = L.geoJSON({{ this.data_js }}, {
  style: function (f) { return {{ this.get_name() }}_styles[f.properties.s]; },
  pointToLayer: function (f, latlng) {
    var st = {{ this.get_name() }}_styles[f.properties.s];
    if (st.html) {
      return L.marker(latlng, {icon: L.divIcon({html: st.html, className: "geoplan-icon",
        iconSize: [st.size, st.size], iconAnchor: [st.size / 2, st.size / 2]})});
    }
    return L.circleMarker(latlng, st);
  },
  onEachFeature: function (f, layer) {
    if (f.properties.t) { layer.bindTooltip(f.properties.t, {sticky: true}); }
  }
}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(
        self, data_js: str, styles: Mapping[str, Mapping[str, object]], count: int
    ) -> None:
        super().__init__()
        self._name = "GeoplanGeoJson"
        self.data_js = data_js
        self.styles_js = js_json(dict(styles))
        self.count = count

    def render(self, **kwargs: object) -> None:  # type: ignore[override]  # as MacroElement
        # MacroElement.render would wrap the script in Element(...), which parses the
        # layer's data (megabytes, user text) as a template again: the same text, raw
        # (a template drops one trailing newline: so does this)
        text = str(self._template.module.__dict__["script"](self, kwargs))
        text = text[:-1] if text.endswith("\n") else text
        figure(self).script.add_child(RawElement(text), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


# Zoom levels (display constants) at and below which lettered symbols shrink: at
# city zoom a symbol 20 px wide covers a kilometre and hides the cells beneath.
_SYMBOL_ZOOM_MID = 13
_SYMBOL_ZOOM_FAR = 11


class _SymbolZoom(MacroElement):
    """Shrinks the lettered symbols when zoomed out (a class on the map container)."""

    _template = Template(
        """
{% macro header(this, kwargs) %}
<style>
.geoplan-z-mid .geoplan-icon > div { transform: scale(0.7); }
.geoplan-z-far .geoplan-icon > div { transform: scale(0.45); }
</style>
{% endmacro %}
{% macro script(this, kwargs) %}
(function (map) {
  var set = function () {
    var z = map.getZoom(), c = map.getContainer();
    c.classList.toggle("geoplan-z-far", z <= {{ this.far }});
    c.classList.toggle("geoplan-z-mid", z > {{ this.far }} && z <= {{ this.mid }});
  };
  map.on("zoomend", set);
  map.whenReady(set);
})({{ this._parent.get_name() }});
{% endmacro %}
"""
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeoplanSymbolZoom"
        self.far = _SYMBOL_ZOOM_FAR
        self.mid = _SYMBOL_ZOOM_MID


def add_layer(
    m: folium.Map,
    *,
    name: str,
    geo: gpd.GeoSeries,
    style_keys: Sequence[str],
    tips: Sequence[str],
    styles: Mapping[str, Mapping[str, object]],
    show: bool = True,
    fit: bool = True,
) -> folium.FeatureGroup:
    data_js, count = _feature_collection(geo, style_keys, tips)
    group = folium.FeatureGroup(name=esc(name), show=show)
    _GeoJsonLayer(data_js, styles, count).add_to(group)
    group.add_to(m)
    st = map_state(m)
    if not st.symbol_zoom and any("html" in v for v in styles.values()):
        _SymbolZoom().add_to(m)
        st.symbol_zoom = True
    # point layers (facilities, sites) do not widen a view that areas already set:
    # one facility kilometres away must not shrink the district to a corner
    if fit and (st.bounds is None or not geo.geom_type.eq("Point").all()):
        extend_bounds(m, st, geo)
    return group


def polygon_style(
    cls: StyleClass, *, fill_opacity: float = 0.6, weight: float = 1.0
) -> dict[str, Any]:
    return {
        "color": cls.color,
        "fillColor": cls.fill,
        "weight": weight,
        "opacity": 0.9,
        "fillOpacity": fill_opacity,
        "radius": 4,
    }


def icon_style(
    color: str, char: str, *, size: int = 20, text_color: str = "#ffffff"
) -> dict[str, Any]:
    html_ = (
        f'<div style="width:{size}px;height:{size}px;line-height:{size}px;border-radius:50%;'
        f"background:{color};color:{text_color};border:1.5px solid #ffffff;"
        f"box-shadow:0 0 2px rgba(0,0,0,.6);text-align:center;font-size:{size - 8}px;"
        f'font-weight:bold;font-family:sans-serif">{esc(char)}</div>'
    )
    return {"html": html_, "size": size}


def dot_style(color: str) -> dict[str, Any]:
    """A canvas circle marker of a category colour (many facilities)."""
    return {
        "color": "#ffffff",
        "fillColor": color,
        "weight": 1.0,
        "opacity": 0.9,
        "fillOpacity": 0.95,
        "radius": 5,
    }


def tip(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """A tooltip: ``title`` and ``rows`` must already be escaped."""
    body = "".join(f"<br>{k}: {v}" for k, v in rows)
    return f"<b>{title}</b>{body}"


def set_legend(m: folium.Map, section: str, items: list[LegendItem]) -> None:
    map_state(m).legend[section] = items


def require_column(frame: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in frame.columns:
        raise InputError(f"{what} has no column {name!r}", column=name)
    return frame[name]


def row_names(frame: pd.DataFrame) -> list[str]:
    """Escaped display names: ``name (id)`` when a name exists, else the id."""
    ids = [esc(i) for i in frame.index]
    if "name" not in frame.columns:
        return ids
    out = []
    for i, n in zip(ids, frame["name"], strict=True):
        out.append(
            i
            if n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n))
            else f"{esc(n)} ({i})"
        )
    return out


def extra_rows(frame: pd.DataFrame, fields: Sequence[str], row: int) -> list[tuple[str, str]]:
    return [(esc(f), fmt(frame[f].iloc[row])) for f in fields if f in frame.columns]

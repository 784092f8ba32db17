"""Interactive gap maps (folium / Leaflet).

Every layer function takes a canonical frame (in a metric CRS), converts it to
EPSG:4326 for drawing (and to GCJ-02 when the base map is AMap), and adds one
toggleable layer to a :class:`folium.Map`, creating the map when ``m`` is None.
:func:`gap_map` composes the layers with a layer control, a legend, a title and
a summary panel. Save with :func:`geoplan.render.save_html` (offline by default).

All user text (names, ids, categories) is HTML-escaped before it reaches the
page, and the JSON embedded in ``<script>`` blocks never contains a literal
``<``, so a name like ``</script><img src=x onerror=alert(1)>`` shows as text.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
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
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_SYMBOLS_MAX",
    "add_legend",
    "base_map",
    "building_coverage_layer",
    "community_layer",
    "coverage_cells",
    "facility_layer",
    "gap_map",
    "grids_layer",
    "service_area_layer",
    "sites_layer",
    "unreachable_layer",
]

#: Above this many buildings, :func:`building_coverage_layer` draws square cells.
DEFAULT_AGGREGATE_ABOVE = 20_000
#: Side of the aggregation cells, in metres of the buildings' CRS.
DEFAULT_CELL_M = 250.0
#: Most cells an aggregated buildings layer draws: a larger city gets larger cells,
#: so the page stays a few MB whatever the city's extent.
DEFAULT_MAX_CELLS = 10_000
#: Above this many facilities, :func:`facility_layer` draws coloured dots on the
#: canvas instead of lettered HTML symbols: 20,000 HTML markers freeze a browser
#: (measured: 6 s to load, 30 s per zoom step), 20,000 canvas dots do not.
DEFAULT_SYMBOLS_MAX = 2_000

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
class _LegendItem:
    shape: str  # "square", "circle", "icon", "line"
    color: str
    fill: str
    label: str
    char: str = ""


@dataclass
class _MapState:
    """What geoplan keeps on a map: coordinate system, legend, bounds."""

    gcj02: bool = False
    lang: Lang = "zh"
    bounds: list[float] | None = None  # [west, south, east, north]
    legend: dict[str, list[_LegendItem]] = field(default_factory=dict)
    fit: folium.FitBounds | None = None


def _state(m: folium.Map) -> _MapState:
    st = getattr(m, "_geoplan_state", None)
    if st is None:
        st = _MapState()
        setattr(m, "_geoplan_state", st)  # noqa: B010 (folium.Map has no slot for it)
    return st


def _figure(m: folium.Map) -> Figure:
    root = m.get_root()
    if not isinstance(root, Figure):
        raise InputError("the map is not inside a folium Figure", column="m")
    return root


def _esc(value: object) -> str:
    """HTML-escape any value shown as text."""
    return html.escape(str(value), quote=True)


def _js_json(obj: object) -> str:
    """JSON for a ``<script>`` block: no literal ``<``, ``>`` or ``&`` anywhere."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return _script_safe(text)


def _script_safe(text: str) -> str:
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _fmt(value: object, decimals: int = 1) -> str:
    if value is None or value is pd.NA:
        return "—"
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _esc(value)
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
    st = _state(m)
    st.lang = language
    if tiles is None:
        _figure(m).header.add_child(
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


def _ensure_map(m: folium.Map | None, lang: Lang) -> folium.Map:
    if m is None:
        return base_map(lang=lang)
    return m


# --------------------------------------------------------------------------- geometry


def _display_geometry(frame: gpd.GeoDataFrame, what: str, st: _MapState) -> gpd.GeoSeries:
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


def _as_points(geo: gpd.GeoSeries) -> gpd.GeoSeries:
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


def _extend_bounds(m: folium.Map, st: _MapState, geo: gpd.GeoSeries) -> None:
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
        st.fit = folium.FitBounds(corners, padding=(20, 20))
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

    def __init__(self, data_js: str, styles: Mapping[str, Mapping[str, Any]], count: int) -> None:
        super().__init__()
        self._name = "GeoplanGeoJson"
        self.data_js = data_js
        self.styles_js = _js_json(dict(styles))
        self.count = count


def _add_layer(
    m: folium.Map,
    *,
    name: str,
    geo: gpd.GeoSeries,
    style_keys: Sequence[str],
    tips: Sequence[str],
    styles: Mapping[str, Mapping[str, Any]],
) -> folium.FeatureGroup:
    data_js, count = _feature_collection(geo, style_keys, tips)
    group = folium.FeatureGroup(name=_esc(name), show=True)
    _GeoJsonLayer(data_js, styles, count).add_to(group)
    group.add_to(m)
    st = _state(m)
    # point layers (facilities, sites) do not widen a view that areas already set:
    # one facility kilometres away must not shrink the district to a corner
    if st.bounds is None or not geo.geom_type.eq("Point").all():
        _extend_bounds(m, st, geo)
    return group


def _polygon_style(
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


def _icon_style(
    color: str, char: str, *, size: int = 20, text_color: str = "#ffffff"
) -> dict[str, Any]:
    html_ = (
        f'<div style="width:{size}px;height:{size}px;line-height:{size}px;border-radius:50%;'
        f"background:{color};color:{text_color};border:1.5px solid #ffffff;"
        f"box-shadow:0 0 2px rgba(0,0,0,.6);text-align:center;font-size:{size - 8}px;"
        f'font-weight:bold;font-family:sans-serif">{_esc(char)}</div>'
    )
    return {"html": html_, "size": size}


def _dot_style(color: str) -> dict[str, Any]:
    """A canvas circle marker of a category colour (many facilities)."""
    return {
        "color": "#ffffff",
        "fillColor": color,
        "weight": 1.0,
        "opacity": 0.9,
        "fillOpacity": 0.95,
        "radius": 5,
    }


def _tip(title: str, rows: Sequence[tuple[str, str]]) -> str:
    """A tooltip: ``title`` and ``rows`` must already be escaped."""
    body = "".join(f"<br>{k}: {v}" for k, v in rows)
    return f"<b>{title}</b>{body}"


def _legend(m: folium.Map, section: str, items: list[_LegendItem]) -> None:
    _state(m).legend[section] = items


def _column(frame: pd.DataFrame, name: str, what: str) -> pd.Series:
    if name not in frame.columns:
        raise InputError(f"{what} has no column {name!r}", column=name)
    return frame[name]


def _names(frame: pd.DataFrame) -> list[str]:
    """Escaped display names: ``name (id)`` when a name exists, else the id."""
    ids = [_esc(i) for i in frame.index]
    if "name" not in frame.columns:
        return ids
    out = []
    for i, n in zip(ids, frame["name"], strict=True):
        out.append(
            i
            if n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n))
            else f"{_esc(n)} ({i})"
        )
    return out


def _extra_rows(frame: pd.DataFrame, fields: Sequence[str], row: int) -> list[tuple[str, str]]:
    return [(_esc(f), _fmt(frame[f].iloc[row])) for f in fields if f in frame.columns]


# --------------------------------------------------------------------------- layers


def community_layer(
    communities_result_table: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    check: str = "service_area_per_100_households",
    unit: str | None = None,
) -> folium.Map:
    """Communities coloured by compliance with one audit check.

    Parameters
    ----------
    communities_result_table
        An audit result table with geometry: ``communities[["name", "households",
        "geometry"]].join(result.table)``. Reads ``<check>__pass`` (True, False or
        NA = not applicable) and, when present, ``<check>__value``,
        ``<check>__threshold``, ``<check>__shortfall``, ``name`` and ``households``.
    m
        A map to draw on; a new one when None.
    lang
        ``'zh'`` or ``'en'``.
    check
        The check id.
    unit
        Unit shown after values; by default the known unit of ``check``.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> t = gpd.GeoDataFrame({"name": ["甲"], "households": [800.0],
    ...     "service_area_per_100_households__pass": [False],
    ...     "service_area_per_100_households__shortfall": [10.0]},
    ...     geometry=[shapely.box(0, 0, 500, 500)], crs=32650,
    ...     index=pd.Index(["C1"], name="community_id"))
    >>> m = community_layer(t)
    """
    language = lb.validate_lang(lang)
    m = _ensure_map(m, language)
    st = _state(m)
    table = communities_result_table
    passed = _column(table, f"{check}__pass", "communities_result_table")
    geo = _display_geometry(table, "communities_result_table", st)
    unit_text = unit if unit is not None else lb.check_unit(check, language)
    per_households = lb.check_per_households(check)
    names = _names(table)
    cols = {k: f"{check}__{k}" for k in ("value", "threshold", "shortfall")}
    keys: list[str] = []
    tips: list[str] = []
    for row, ok in enumerate(passed):
        key = "na" if pd.isna(ok) else ("pass" if bool(ok) else "fail")
        cls = lb.COMMUNITY_CLASSES[key]
        rows = [
            (lb.text("check", language), _esc(lb.check_label(check, language))),
            (lb.text("status", language), _esc(cls.label(language))),
        ]
        for k in ("value", "threshold"):
            if cols[k] in table.columns:
                rows.append(
                    (lb.text(k, language), f"{_fmt(table[cols[k]].iloc[row])} {_esc(unit_text)}")
                )
        if key == "fail" and cols["shortfall"] in table.columns:
            short = table[cols["shortfall"]].iloc[row]
            line = f"{_fmt(short)} {_esc(unit_text)}"
            if per_households and "households" in table.columns:
                hh = table["households"].iloc[row]
                if not pd.isna(short) and not pd.isna(hh):
                    total = float(short) * float(hh) / per_households
                    line += f" ({lb.text('shortfall_total', language)} {_fmt(total, 0)} m²)"
            rows.append((lb.text("shortfall", language), line))
        keys.append(key)
        tips.append(_tip(names[row], rows))
    styles = {k: _polygon_style(c, fill_opacity=0.45) for k, c in lb.COMMUNITY_CLASSES.items()}
    title = f"{lb.text('communities', language)}: {lb.check_label(check, language)}"
    _add_layer(m, name=title, geo=geo, style_keys=keys, tips=tips, styles=styles)
    present = set(keys)
    _legend(
        m,
        title,
        [
            _LegendItem("square", c.color, c.fill, c.label(language))
            for k, c in lb.COMMUNITY_CLASSES.items()
            if k in present
        ],
    )
    return m


def _covered_column(buildings: pd.DataFrame, category: str) -> pd.Series:
    return _column(buildings, f"covered__{category}", "buildings")


def coverage_cells(
    buildings: gpd.GeoDataFrame,
    *,
    category: str,
    cell_m: float = DEFAULT_CELL_M,
) -> gpd.GeoDataFrame:
    """Aggregate buildings into square cells by the share of households not covered.

    Parameters
    ----------
    buildings
        Buildings in a projected (metric) CRS with ``covered__<category>`` and,
        when available, ``households`` (else each building counts once).
    category
        The facility category id.
    cell_m
        Side of a cell in metres.

    Returns
    -------
    GeoDataFrame
        One row per non-empty cell (index ``cell_id``, ``"<col>_<row>"``), in the
        buildings' CRS, with ``buildings``, ``households``, ``uncovered_households``,
        ``uncovered_share`` (NaN when no household is known) and ``cls`` (a key of
        :data:`geoplan.render._labels.CELL_CLASSES`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"households": [10.0, 30.0], "covered__wet_market": [True, False]},
    ...     geometry=[shapely.Point(10, 10), shapely.Point(20, 20)], crs=32650)
    >>> coverage_cells(b, category="wet_market")["uncovered_share"].tolist()
    [0.75]
    """
    covered = _covered_column(buildings, category)
    if buildings.crs is None or not buildings.crs.is_projected:
        raise InputError(
            "buildings must be in a projected (metric) CRS to aggregate", column="geometry"
        )
    if not cell_m > 0:
        raise InputError(f"cell_m must be positive, not {cell_m}", column="cell_m")
    pts = shapely.point_on_surface(buildings.geometry.values)
    x = shapely.get_x(pts)
    y = shapely.get_y(pts)
    ok = np.isfinite(x) & np.isfinite(y)
    ix = np.floor(x[ok] / cell_m).astype(np.int64)
    iy = np.floor(y[ok] / cell_m).astype(np.int64)
    if "households" in buildings.columns:
        hh = pd.to_numeric(buildings["households"], errors="coerce").to_numpy(dtype=float)[ok]
        hh = np.where(np.isfinite(hh), hh, 0.0)
        if hh.sum() <= 0:
            hh = np.ones_like(hh)
    else:
        hh = np.ones(int(ok.sum()))
    cov = covered.to_numpy(dtype=object)[ok]
    known = np.array([not pd.isna(v) for v in cov], dtype=bool)
    uncovered = known & np.array([not pd.isna(v) and not bool(v) for v in cov], dtype=bool)
    frame = pd.DataFrame(
        {
            "ix": ix,
            "iy": iy,
            "buildings": 1,
            "households": hh,
            "known_households": np.where(known, hh, 0.0),
            "uncovered_households": np.where(uncovered, hh, 0.0),
        }
    )
    agg = frame.groupby(["ix", "iy"], sort=True).sum()
    cx = agg.index.get_level_values("ix").to_numpy()
    cy = agg.index.get_level_values("iy").to_numpy()
    boxes = shapely.box(cx * cell_m, cy * cell_m, (cx + 1) * cell_m, (cy + 1) * cell_m)
    known_hh = agg["known_households"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(known_hh > 0, agg["uncovered_households"].to_numpy() / known_hh, np.nan)
    bins = np.digitize(np.nan_to_num(share, nan=0.0), lb.CELL_BREAKS[1:-1], right=False)
    cls = np.where(np.isnan(share), "empty", np.char.add("c", bins.astype(str)))
    out = gpd.GeoDataFrame(
        {
            "buildings": agg["buildings"].to_numpy(),
            "households": agg["households"].to_numpy(),
            "uncovered_households": agg["uncovered_households"].to_numpy(),
            "uncovered_share": share,
            "cls": cls.astype(object),
        },
        geometry=boxes,
        crs=buildings.crs,
        index=pd.Index([f"{a}_{b}" for a, b in zip(cx, cy, strict=True)], name="cell_id"),
    )
    return out


def adaptive_cell_m(
    buildings: gpd.GeoDataFrame,
    *,
    cell_m: float = DEFAULT_CELL_M,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> float:
    """The cell side for aggregating ``buildings``: ``cell_m``, or larger when the
    buildings' extent would need more than ``max_cells`` cells.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0), shapely.Point(60_000, 60_000)],
    ...     crs=32650)
    >>> adaptive_cell_m(b)
    600.0
    """
    if len(buildings) == 0:
        return cell_m
    w, s, e, n = (float(v) for v in buildings.total_bounds)
    needed = math.sqrt(max(e - w, 0.0) * max(n - s, 0.0) / max(max_cells, 1))
    return float(max(cell_m, math.ceil(needed)))


def building_coverage_layer(
    buildings: gpd.GeoDataFrame,
    *,
    category: str,
    m: folium.Map | None = None,
    lang: str = "zh",
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
    cell_m: float = DEFAULT_CELL_M,
) -> folium.Map:
    """Buildings coloured by coverage of one facility category.

    Reads ``covered__<category>`` (True / False / NA) and, when present,
    ``walk_min__<category>`` (minutes to the nearest; inf = none within the
    search limit) and ``households``. Above ``aggregate_above`` buildings the
    layer draws :func:`coverage_cells` instead (share of households not covered),
    so a city map stays small and fast.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"covered__wet_market": [True], "walk_min__wet_market": [4.0]},
    ...     geometry=[shapely.box(0, 0, 20, 20)], crs=32650)
    >>> m = building_coverage_layer(b, category="wet_market", lang="en")
    """
    language = lb.validate_lang(lang)
    m = _ensure_map(m, language)
    st = _state(m)
    covered = _covered_column(buildings, category)
    cat_label = lb.category_style(category).label(language)
    if len(buildings) > aggregate_above:
        cell = adaptive_cell_m(buildings, cell_m=cell_m)
        cells = coverage_cells(buildings, category=category, cell_m=cell)
        geo = _display_geometry(cells, "buildings", st)
        cell_tips = [
            _tip(
                f"{lb.text('uncovered_share', language)}: "
                + ("—" if math.isnan(s) else f"{s:.0%}"),
                [
                    (lb.text("households", language), _fmt(h)),
                    (lb.text("buildings_n", language), _fmt(n)),
                ],
            )
            for s, h, n in zip(
                cells["uncovered_share"], cells["households"], cells["buildings"], strict=True
            )
        ]
        name = f"{lb.text('buildings_cells', language)}: {cat_label}"
        styles = {
            k: _polygon_style(c, fill_opacity=0.6, weight=0.5) for k, c in lb.CELL_CLASSES.items()
        }
        _add_layer(
            m, name=name, geo=geo, style_keys=list(cells["cls"]), tips=cell_tips, styles=styles
        )
        present = set(cells["cls"])
        _legend(
            m,
            name,
            [
                _LegendItem("square", c.color, c.fill, c.label(language))
                for k, c in lb.CELL_CLASSES.items()
                if k in present
            ],
        )
        return m
    geo = _display_geometry(buildings, "buildings", st)
    walk_col = f"walk_min__{category}"
    walk = buildings[walk_col] if walk_col in buildings.columns else None
    hh = buildings["households"] if "households" in buildings.columns else None
    ids = _names(buildings)
    keys: list[str] = []
    tips: list[str] = []
    for row, v in enumerate(covered):
        key = "unknown" if pd.isna(v) else ("covered" if bool(v) else "not_covered")
        rows = [(lb.text("status", language), _esc(lb.BUILDING_CLASSES[key].label(language)))]
        if walk is not None:
            w = walk.iloc[row]
            shown = (
                lb.text("none_within", language)
                if not pd.isna(w) and math.isinf(float(w))
                else _fmt(w)
            )
            rows.append((f"{lb.text('walk_min', language)} {_esc(cat_label)}", shown))
        if hh is not None:
            rows.append((lb.text("households", language), _fmt(hh.iloc[row])))
        keys.append(key)
        tips.append(_tip(ids[row], rows))
    styles = {
        k: _polygon_style(c, fill_opacity=0.7, weight=0.5) for k, c in lb.BUILDING_CLASSES.items()
    }
    for s in styles.values():
        s["radius"] = 3
    name = f"{lb.text('buildings', language)}: {cat_label}"
    _add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles)
    present = set(keys)
    shape = "circle" if bool(np.all(shapely.get_type_id(geo.values) == 0)) else "square"
    _legend(
        m,
        name,
        [
            _LegendItem(shape, c.color, c.fill, c.label(language))
            for k, c in lb.BUILDING_CLASSES.items()
            if k in present
        ],
    )
    return m


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
    m = _ensure_map(m, language)
    st = _state(m)
    cats = _column(facilities, "category", "facilities").astype(object)
    geo = _as_points(_display_geometry(facilities, "facilities", st))
    names = _names(facilities)
    keys: list[str] = []
    tips: list[str] = []
    order: dict[str, str] = {}
    for row, c in enumerate(cats):
        cat = "" if pd.isna(c) else str(c)
        key = order.setdefault(cat, f"k{len(order)}")
        style = lb.category_style(cat)
        rows = [(lb.text("category", language), _esc(style.label(language)))]
        rows += _extra_rows(facilities, fields, row)
        keys.append(key)
        tips.append(_tip(names[row], rows))
    dots = len(facilities) > symbols_max
    styles = {
        key: _dot_style(lb.category_style(cat).color)
        if dots
        else _icon_style(lb.category_style(cat).color, lb.category_style(cat).char(language))
        for cat, key in order.items()
    }
    name = lb.text("facilities", language)
    _add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles)
    _legend(
        m,
        name,
        [
            _LegendItem(
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
    m = _ensure_map(m, language)
    st = _state(m)
    geo = _display_geometry(polygons, "service_areas", st)
    cats = polygons["category"].astype(object) if "category" in polygons.columns else None
    names = _names(polygons)
    keys: list[str] = []
    tips: list[str] = []
    order: dict[str, str] = {}
    for row in range(len(polygons)):
        cat = "" if cats is None or pd.isna(cats.iloc[row]) else str(cats.iloc[row])
        key = order.setdefault(cat, f"k{len(order)}")
        rows = []
        if cat:
            rows.append(
                (lb.text("category", language), _esc(lb.category_style(cat).label(language)))
            )
        if "facility_id" in polygons.columns:
            rows.append((lb.text("facility", language), _esc(polygons["facility_id"].iloc[row])))
        rows += _extra_rows(polygons, fields, row)
        keys.append(key)
        tips.append(_tip(names[row], rows))
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
        items.append(_LegendItem("square", color, color + "40", label))
    name = lb.text("service_areas", language)
    _add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles)
    _legend(m, name, items)
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
    m = _ensure_map(m, language)
    st = _state(m)
    geo = _as_points(_display_geometry(points, "unreachable", st))
    names = _names(points)
    tips = [_tip(names[row], _extra_rows(points, fields, row)) for row in range(len(points))]
    cls = lb.UNREACHABLE_CLASS
    style = {
        "color": cls.color,
        "fillColor": cls.fill,
        "weight": 1.5,
        "fillOpacity": 0.9,
        "radius": 4,
    }
    name = lb.text("unreachable", language)
    _add_layer(
        m, name=name, geo=geo, style_keys=["u"] * len(points), tips=tips, styles={"u": style}
    )
    _legend(m, name, [_LegendItem("circle", cls.color, cls.fill, cls.label(language))])
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
    m = _ensure_map(m, language)
    st = _state(m)
    geo = _as_points(_display_geometry(sites, "sites", st))
    names = _names(sites)
    tips = []
    for row in range(len(sites)):
        rows = []
        if "category" in sites.columns and not pd.isna(sites["category"].iloc[row]):
            cat = str(sites["category"].iloc[row])
            rows.append(
                (lb.text("category", language), _esc(lb.category_style(cat).label(language)))
            )
        rows += _extra_rows(sites, fields, row)
        tips.append(_tip(names[row], rows))
    cls = lb.SITE_CLASS
    style = _icon_style(cls.fill, "★", size=22, text_color=cls.color)
    name = lb.text("sites", language)
    _add_layer(m, name=name, geo=geo, style_keys=["s"] * len(sites), tips=tips, styles={"s": style})
    _legend(m, name, [_LegendItem("icon", cls.fill, cls.fill, cls.label(language), "★")])
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
    m = _ensure_map(m, language)
    st = _state(m)
    geo = _display_geometry(grids, "grids", st)
    codes = (
        _column(grids, code_column, "grids").astype(object)
        if code_column is not None
        else pd.Series(grids.index, index=grids.index, dtype=object)
    )
    tips = [
        _tip(
            f"{lb.text('code', language)}: {_esc(codes.iloc[row])}",
            _extra_rows(grids, fields, row),
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
    _add_layer(m, name=name, geo=geo, style_keys=["g"] * len(grids), tips=tips, styles={"g": style})
    _legend(m, name, [_LegendItem("line", cls.color, cls.fill, cls.label(language))])
    return m


# --------------------------------------------------------------------------- panels


_PANEL_CSS = """<style>
.geoplan-panel {{ position: absolute; z-index: 1000; background: rgba(255,255,255,.92);
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.35); padding: 6px 10px;
  font: 13px/1.45 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #222; }}
.geoplan-title {{ top: 10px; left: 50%; transform: translateX(-50%); font-size: 17px;
  font-weight: bold; max-width: 60%; text-align: center; }}
.geoplan-summary {{ top: 90px; left: 10px; max-width: 320px; }}
.geoplan-legend {{ bottom: 30px; right: 10px; max-height: 55%; overflow-y: auto; }}
.geoplan-legend h4 {{ margin: 6px 0 2px; font-size: 12px; }}
.geoplan-legend .row {{ display: flex; align-items: center; gap: 6px; margin: 1px 0; }}
.geoplan-swatch {{ width: 14px; height: 14px; display: inline-block; box-sizing: border-box;
  flex: none; }}
.geoplan-icon {{ background: none; border: none; }}
{extra}
</style>"""


def _swatch(item: _LegendItem) -> str:
    if item.shape == "square":
        return (
            f'<span class="geoplan-swatch" style="background:{item.fill};'
            f'border:1.5px solid {item.color};opacity:.85"></span>'
        )
    if item.shape == "line":
        return f'<span class="geoplan-swatch" style="border:2px dashed {item.color}"></span>'
    if item.shape == "icon":
        return (
            f'<span class="geoplan-swatch" style="background:{item.fill};border-radius:50%;'
            f"color:#fff;font-size:10px;line-height:14px;text-align:center;font-weight:bold;"
            f'text-shadow:0 0 1px #000">{_esc(item.char)}</span>'
        )
    return (
        f'<span class="geoplan-swatch" style="background:{item.fill};border-radius:50%;'
        f'border:1.5px solid {item.color}"></span>'
    )


def _css_once(m: folium.Map) -> None:
    root = _figure(m)
    if "geoplan_css" not in root.header._children:
        root.header.add_child(Element(_PANEL_CSS.format(extra="")), name="geoplan_css")


def add_legend(m: folium.Map, *, lang: str = "zh") -> folium.Map:
    """Add an HTML legend of every geoplan layer drawn on ``m`` so far; return ``m``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = add_legend(unreachable_layer(p), lang="en")
    """
    language = lb.validate_lang(lang)
    st = _state(m)
    if not st.legend:
        return m
    _css_once(m)
    parts = [f'<div class="geoplan-panel geoplan-legend" id="{m.get_name()}_legend">']
    parts.append(f"<b>{_esc(lb.text('legend', language))}</b>")
    for section, items in st.legend.items():
        parts.append(f"<h4>{_esc(section)}</h4>")
        for item in items:
            parts.append(f'<div class="row">{_swatch(item)}<span>{_esc(item.label)}</span></div>')
    parts.append("</div>")
    _figure(m).html.add_child(Element("".join(parts)), name="geoplan_legend")
    return m


def _add_title(m: folium.Map, title: str) -> None:
    _css_once(m)
    _figure(m).html.add_child(
        Element(f'<div class="geoplan-panel geoplan-title">{_esc(title)}</div>'),
        name="geoplan_title",
    )


def _add_summary(m: folium.Map, summary: Mapping[str, str], lang: Lang) -> None:
    if not summary:
        return
    _css_once(m)
    rows = "".join(f"<div><b>{_esc(k)}</b> {_esc(v)}</div>" for k, v in summary.items())
    _figure(m).html.add_child(
        Element(
            f'<div class="geoplan-panel geoplan-summary"><b>{_esc(lb.text("summary", lang))}</b>'
            f"{rows}</div>"
        ),
        name="geoplan_summary",
    )


def _single_category(buildings: pd.DataFrame) -> str:
    cats = [
        c.removeprefix("covered__") for c in buildings.columns if str(c).startswith("covered__")
    ]
    if len(cats) != 1:
        raise InputError(
            f"buildings have {len(cats)} covered__<category> columns: pass category=",
            column="covered__*",
        )
    return cats[0]


def gap_map(
    *,
    communities: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    unreachable: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    title: str,
    summary: Mapping[str, str] | None = None,
    lang: str = "zh",
    tiles: str | None = None,
    tiles_key: str | None = None,
    category: str | None = None,
    check: str = "service_area_per_100_households",
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
    cell_m: float = DEFAULT_CELL_M,
) -> folium.Map:
    """A gap map: the given layers, a layer control, a legend, a title and a summary.

    Parameters
    ----------
    communities
        Community result table with geometry (see :func:`community_layer`).
    buildings
        Buildings with ``covered__<category>`` (see :func:`building_coverage_layer`).
    facilities, service_areas, unreachable, sites, grids
        Frames for the other layers; any may be None.
    title
        Shown at the top of the map.
    summary
        Label -> text lines for the summary panel, e.g.
        ``{"菜市场覆盖率": "87%，目标 95%"}``.
    lang
        ``'zh'`` or ``'en'``.
    tiles, tiles_key
        Base map (see :func:`base_map`); None draws on a plain background offline.
    category
        The category of the building coverage; inferred when the buildings have
        a single ``covered__*`` column.
    check
        The community check to colour by.
    aggregate_above, cell_m
        Above this many buildings, draw cells of ``cell_m`` metres.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame({"category": ["wet_market"]},
    ...     geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = gap_map(facilities=f, title="菜市场", summary={"菜市场覆盖率": "87%，目标 95%"})
    """
    language = lb.validate_lang(lang)
    m = base_map(tiles=tiles, tiles_key=tiles_key, lang=language)
    steps: list[Callable[[], object]] = []
    if grids is not None:
        steps.append(lambda: grids_layer(grids, m=m, lang=language))
    if communities is not None:
        steps.append(lambda: community_layer(communities, m=m, lang=language, check=check))
    if service_areas is not None:
        steps.append(lambda: service_area_layer(service_areas, m=m, lang=language))
    if buildings is not None:
        cat = category if category is not None else _single_category(buildings)
        steps.append(
            lambda: building_coverage_layer(
                buildings,
                category=cat,
                m=m,
                lang=language,
                aggregate_above=aggregate_above,
                cell_m=cell_m,
            )
        )
    if unreachable is not None:
        steps.append(lambda: unreachable_layer(unreachable, m=m, lang=language))
    if facilities is not None:
        steps.append(lambda: facility_layer(facilities, m=m, lang=language))
    if sites is not None:
        steps.append(lambda: sites_layer(sites, m=m, lang=language))
    for step in steps:
        step()
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    add_legend(m, lang=language)
    _add_title(m, title)
    _add_summary(m, summary or {}, language)
    return m

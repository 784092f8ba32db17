"""City-scale layers: what a gap map draws when it holds more features than a browser
page should (:data:`DEFAULT_MAX_FEATURES`).

A city's map at the scale of every building weighed 30 MB and froze the browser
while showing nothing a planner could read: 20,000 facility dots over 10 layers of
cells. Above the budget, :func:`geoplan.render.gap_map` draws with these instead:

- the buildings as square cells on one grid shared by every category layer, coloured
  by the share of households not covered, with the households not covered in the
  tooltip (:func:`city_building_layers`);
- the facilities as small dots, one layer per category: the mapped category's on,
  the others off (:func:`city_facility_layers`), thinned above
  :data:`DEFAULT_MAX_POINTS`;
- every community, its outline simplified (:func:`city_community_layers`);
- the walking network as given (the caller passes the arterial roads, or nothing:
  :func:`network_note` says which) and the unreachable points, packed;

and a panel says what was aggregated ("200,000 栋建筑按 600 米网格汇总"). The data
is packed (:mod:`geoplan.render._compact`) and each layer is built when first shown.
Below the budget nothing here is used: small maps are drawn as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.render import _compact as pk
from geoplan.render import _labels as lb
from geoplan.render._leaflet import (
    LegendItem,
    MapState,
    display_geometry,
    dot_style,
    ensure_map,
    esc,
    extend_bounds,
    fmt,
    map_state,
    polygon_style,
    row_names,
    set_legend,
)
from geoplan.render.cells import (
    DEFAULT_CELL_M,
    adaptive_cell_m,
    cell_grid,
    cell_shares,
    covered_column,
)
from geoplan.render.network_layers import DEFAULT_NETWORK_MAX_VERTICES, simplified_network

__all__ = [
    "ARTERIAL_HIGHWAYS",
    "DEFAULT_MAX_FEATURES",
    "DEFAULT_MAX_POINTS",
    "DEFAULT_OUTLINE_TOLERANCE_M",
    "arterial_edges",
    "city_building_layers",
    "city_community_layers",
    "city_facility_layers",
    "city_network_layer",
    "city_point_layer",
    "feature_count",
    "is_city_scale",
    "network_note",
]

#: Above this many features (buildings, facilities, communities and the other
#: frames' rows together) a gap map is drawn at city scale.
DEFAULT_MAX_FEATURES = 20_000
#: Most facilities a city-scale map draws; above it they are thinned evenly over space.
DEFAULT_MAX_POINTS = 50_000
#: Tolerance (metres) to which a city-scale map simplifies community outlines.
DEFAULT_OUTLINE_TOLERANCE_M = 5.0
#: OSM ``highway`` values drawn as the walking network of a city-scale map.
ARTERIAL_HIGHWAYS = (
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
)

StyleLike = Mapping[str, object]

# Zoom levels at and below which the dots shrink (to 45% and 70% of their radius).
_DOT_ZOOM = (10, 12)
_CELL_LETTERS = {"c0": "0", "c1": "1", "c2": "2", "c3": "3", "empty": "e"}
_COMMUNITY_LETTERS = {"pass": "p", "fail": "f", "na": "n"}


def feature_count(*frames: pd.DataFrame | None) -> int:
    """How many features the frames would draw (rows; None counts 0).

    Examples
    --------
    >>> import pandas as pd
    >>> feature_count(pd.DataFrame({"a": [1, 2]}), None)
    2
    """
    return sum(len(f) for f in frames if f is not None)


def is_city_scale(*frames: pd.DataFrame | None, max_features: int = DEFAULT_MAX_FEATURES) -> bool:
    """Whether a map of these frames is drawn at city scale (more than ``max_features``).

    Examples
    --------
    >>> import pandas as pd
    >>> is_city_scale(pd.DataFrame({"a": range(30_000)})), is_city_scale(None)
    (True, False)
    """
    return feature_count(*frames) > max_features


def _num(values: np.ndarray, decimals: int = 1) -> list[float | int | None]:
    """Numbers for a packed layer: rounded, integers without ``.0``, NaN as null.

    Examples
    --------
    >>> _num(np.array([1.0, 2.54, np.nan, -np.inf]))
    [1, 2.5, None, None]
    """
    v = np.round(np.asarray(values, dtype=float), decimals)
    out = v.astype(object)
    finite = np.isfinite(v)
    whole = finite & (v == np.trunc(v))
    exact = whole & (np.abs(v) < 2.0**53)  # as int64 exactly (each becomes a Python int)
    out[exact] = v[exact].astype(np.int64)
    if (whole & ~exact).any():
        out[whole & ~exact] = [int(x) for x in v[whole & ~exact]]
    out[~finite] = None
    return list(out.tolist())


def _lonlat(x: np.ndarray, y: np.ndarray, crs: object, st: MapState) -> np.ndarray:
    """Lon/lat of metric coordinates, as :func:`display_geometry` gives them (the same
    transformation, GCJ-02 when the map needs it) without a point object each."""
    from pyproj import CRS, Transformer

    lon, lat = Transformer.from_crs(CRS(crs), 4326, always_xy=True).transform(x, y)
    if st.gcj02:
        from geoplan.crs import wgs84_to_gcj02

        lon, lat = wgs84_to_gcj02(np.asarray(lon), np.asarray(lat))
    return np.column_stack([lon, lat]).astype(float)


def _group(m: folium.Map, name: str, *, show: bool) -> folium.FeatureGroup:
    group = folium.FeatureGroup(name=esc(name), show=show)
    group.add_to(m)
    return group


def _fit(m: folium.Map, lonlat: np.ndarray) -> None:
    if len(lonlat) == 0:
        return
    lo = np.nanmin(lonlat, axis=0)
    hi = np.nanmax(lonlat, axis=0)
    box = gpd.GeoSeries([shapely.box(lo[0], lo[1], hi[0], hi[1])], crs=4326)
    extend_bounds(m, map_state(m), box)


def city_building_layers(
    buildings: gpd.GeoDataFrame,
    *,
    category: str,
    m: folium.Map | None = None,
    lang: str = "zh",
    cell_m: float = DEFAULT_CELL_M,
    failing_categories: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
) -> folium.Map:
    """The buildings as cells: one layer for ``category`` (every cell, on), one per
    failing category (the cells with households not covered, off).

    Cells of at least ``cell_m`` metres, larger when the buildings' extent would
    need more than :data:`~geoplan.render.cells.DEFAULT_MAX_CELLS`; coloured by the
    share of households not covered; the tooltip gives the share, the households not
    covered, the households and the buildings. ``labels`` names layers of targets
    over several categories (as :func:`geoplan.render.gap_map`).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"covered__wet_market": [True, False], "households": [10, 20]},
    ...     geometry=[shapely.Point(0, 0), shapely.Point(900, 0)], crs=32650)
    >>> m = city_building_layers(b, category="wet_market", lang="en")
    >>> map_state(m).notes
    ['2 buildings aggregated into 250 m cells (2)']
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    names = dict(labels or {})
    covered_column(buildings, category)  # raises without it
    cell = adaptive_cell_m(buildings, cell_m=cell_m)
    grid = cell_grid(buildings, cell_m=cell)
    pk.add_runtime(m)
    x0, y0 = (int(grid.ix.min()), int(grid.iy.min())) if len(grid) else (0, 0)
    w = (int(grid.ix.max()) - x0 + 2) if len(grid) else 2
    h = (int(grid.iy.max()) - y0 + 2) if len(grid) else 2
    cx, cy = np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))
    lonlat = _lonlat(((cx.ravel() + x0) * cell), ((cy.ravel() + y0) * cell), buildings.crs, st)
    at = (grid.iy - y0) * (w - 1) + (grid.ix - x0)
    grid_name = f"geoplan_grid_{m.get_name()}"
    pk.add_script(
        m,
        grid_name,
        "",
        {
            "w": w,
            "ll": pk.packed_points(shapely.points(lonlat)),
            "c": np.diff(at, prepend=0).astype(np.int64).tolist(),
            "h": _num(grid.households),
            "b": np.asarray(grid.buildings, dtype=np.int64).tolist(),
        },
    )
    tip_labels = {
        "s": esc(lb.text("uncovered_share", language)),
        "u": esc(lb.text("uncovered_households", language)),
        "h": esc(lb.text("households", language)),
        "b": esc(lb.text("buildings_n", language)),
    }
    # filled without outlines: at city zoom outlines of hundreds of cells hatch the map,
    # and neighbouring cells of one class read as one area of the same access
    styles = {
        _CELL_LETTERS[k]: {**polygon_style(c, fill_opacity=0.6, weight=0.5), "stroke": False}
        for k, c in lb.CELL_CLASSES.items()
    }
    extra_present: set[str] = set()
    layers = [(category, False), *((c, True) for c in failing_categories if c != category)]
    for cat, only in layers:
        if f"covered__{cat}" not in buildings.columns:
            continue
        shares = cell_shares(grid, buildings, cat)
        label = names.get(cat) or lb.category_style(cat).label(language)
        if only:
            name = f"{lb.text('uncovered_buildings', language)}: {label}"
            present = set(shares.cls[shares.uncovered_households > 0])
            extra_present |= present
        else:
            name = f"{lb.text('buildings_cells', language)}: {label}"
            present = set(shares.cls)
        group = _group(m, name, show=not only)
        pct = np.where(np.isnan(shares.uncovered_share), -1, np.rint(shares.uncovered_share * 100))
        data = {
            "k": pk.class_letters(list(shares.cls), _CELL_LETTERS),
            "u": _num(shares.uncovered_households),
            "s": pct.astype(np.int64).tolist(),
            "l": tip_labels,
            "only": only,
        }
        var = f"{group.get_name()}_cells"
        call = f"geoplanCity.cells({group.get_name()}, {grid_name}, {var}, {pk.js_styles(styles)});"
        pk.add_script(group, var, call, data)
        section = lb.text("uncovered_buildings", language) if only else name
        keys = extra_present if only else present
        set_legend(
            m,
            section,
            [
                LegendItem("square", c.color, c.fill, c.label(language))
                for k, c in lb.CELL_CLASSES.items()
                if k in keys
            ],
        )
    if len(grid):
        _fit(m, lonlat)
    st.notes.append(
        lb.text("note_cells", language).format(
            n=f"{len(buildings):,}", cell=f"{cell:g}", cells=f"{len(grid):,}"
        )
    )
    return m


def _thinned(geo: gpd.GeoSeries, keep: int) -> np.ndarray:
    """Positions of ``keep`` of the points, spread evenly over space (a stride through
    the points ordered along rows of a fine grid)."""
    xy = shapely.get_coordinates(geo.values)
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    side = max(float((hi - lo).max()), 1e-9) / 512
    cell = np.floor((xy - lo) / side).astype(np.int64)
    order = np.lexsort((cell[:, 0], cell[:, 1]))
    pick = np.unique(np.linspace(0, len(order) - 1, keep).round().astype(np.int64))
    return np.sort(order[pick])


def city_facility_layers(
    facilities: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    shown: Sequence[str] | None = None,
    order: Sequence[str] = (),
    fields: Sequence[str] = ("floor_area_m2",),
    max_points: int = DEFAULT_MAX_POINTS,
) -> folium.Map:
    """Facilities as dots of their category's colour, one layer per category.

    The categories in ``shown`` are on when the map opens (all when None); the dots
    shrink when zoomed out. The layers of the categories in ``order`` come first, in
    that order (e.g. as the buildings' layers), then the others as they appear. Above
    ``max_points`` facilities an even share of them is drawn (the note says how many).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame({"category": ["wet_market", "pharmacy"]},
    ...     geometry=[shapely.Point(0, 0), shapely.Point(50, 0)], crs=32650)
    >>> m = city_facility_layers(f, shown=["pharmacy"], lang="en")
    >>> map_state(m).notes
    ['2 facilities, one layer per category; shown: pharmacy']
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    if "category" not in facilities.columns:
        from geoplan._errors import InputError

        raise InputError("facilities has no column 'category'", column="category")
    geo = display_geometry(facilities, "facilities", st)
    values = geo.values
    pts = np.where(shapely.get_type_id(values) == 0, values, shapely.point_on_surface(values))
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    rows = np.flatnonzero(ok)
    total = len(rows)
    if total > max_points:
        rows = rows[_thinned(gpd.GeoSeries(pts[rows]), max_points)]
    frame = facilities.iloc[rows]
    cats = frame["category"].astype(object).fillna("").astype(str).to_numpy()
    names = np.asarray(row_names(frame), dtype=object)
    pk.add_runtime(m)
    seen = list(dict.fromkeys(cats))
    order = [c for c in dict.fromkeys(order) if c in seen]
    order += [c for c in seen if c not in order]
    present = [f for f in fields if f in frame.columns]
    formatted = {f: np.asarray([fmt(v) for v in frame[f]], dtype=object) for f in present}
    on = [c for c in order if shown is None or c in shown]
    for cat in order:
        style_ = lb.category_style(cat)
        sel = cats == cat
        group = _group(
            m, f"{lb.text('facilities', language)}: {style_.label(language)}", show=cat in on
        )
        data = {
            "p": pk.packed_points(pts[rows][sel]),
            "t": list(names[sel]),
            "fixed": f"<br>{lb.text('category', language)}: {esc(style_.label(language))}",
            "rows": [[esc(f), list(formatted[f][sel])] for f in present],
            "zoom": list(_DOT_ZOOM),
        }
        var = f"{group.get_name()}_points"
        call = (
            f"geoplanCity.points({group.get_name()}, {m.get_name()}, {var}, "
            f"{pk.js_style(dot_style(style_.color))});"
        )
        pk.add_script(group, var, call, data)
    if st.bounds is None:  # as for the small map: points widen no view that areas set
        _fit(m, shapely.get_coordinates(pts[rows]))
    set_legend(
        m,
        lb.text("facilities", language),
        [
            LegendItem(
                "circle",
                "#ffffff",
                lb.category_style(cat).color,
                lb.category_style(cat).label(language),
            )
            for cat in sorted(order)
        ],
    )
    shown_names = "、" if language == "zh" else ", "
    st.notes.append(
        lb.text("note_facilities", language).format(
            n=f"{len(rows):,}",
            shown=shown_names.join(lb.category_style(c).label(language) for c in on) or "—",
        )
    )
    if total > len(rows):
        st.notes.append(
            lb.text("note_thinned", language).format(n=f"{total:,}", kept=f"{len(rows):,}")
        )
    return m


def city_point_layer(
    points: gpd.GeoDataFrame,
    *,
    name: str,
    style: StyleLike,
    m: folium.Map | None = None,
    lang: str = "zh",
    fields: Sequence[str] = (),
) -> folium.Map:
    """Points (e.g. the unreachable ones) as one packed layer of canvas circles, with
    a tooltip of their name and ``fields``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame({"reason": ["island"]}, geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = city_point_layer(p, name="unreachable", style={"radius": 4}, fields=["reason"])
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    geo = display_geometry(points, name, st)
    values = geo.values
    pts = np.where(shapely.get_type_id(values) == 0, values, shapely.point_on_surface(values))
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts))
    frame = points[ok]
    pk.add_runtime(m)
    group = _group(m, name, show=True)
    data = {
        "p": pk.packed_points(pts[ok]),
        "t": row_names(frame),
        "fixed": "",
        "rows": [[esc(f), [fmt(v) for v in frame[f]]] for f in fields if f in frame.columns],
        "zoom": None,
    }
    var = f"{group.get_name()}_points"
    call = f"geoplanCity.points({group.get_name()}, {m.get_name()}, {var}, {pk.js_style(style)});"
    pk.add_script(group, var, call, data)
    if st.bounds is None:
        _fit(m, shapely.get_coordinates(pts[ok]))
    return m


def city_network_layer(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    max_vertices: int = DEFAULT_NETWORK_MAX_VERTICES,
    fit: bool = False,
) -> folium.Map:
    """Street lines, merged and simplified to ``max_vertices`` as for
    :func:`~geoplan.render.network_layer`, drawn as one packed layer.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> e = gpd.GeoSeries([shapely.LineString([(0, 0), (100, 0)])], crs=32650)
    >>> m = city_network_layer(e)
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    simple = simplified_network(lines, max_vertices=max_vertices, chains=True)
    if len(simple) == 0:
        return m
    geo = display_geometry(gpd.GeoDataFrame(geometry=simple), "network", st)
    pk.add_runtime(m)
    name = lb.text("network", language)
    group = _group(m, name, show=True)
    cls = lb.NETWORK_CLASS
    style = {"color": cls.color, "weight": 1.0, "opacity": 0.7, "fill": False}
    var = f"{group.get_name()}_lines"
    pk.add_script(
        group,
        var,
        f"geoplanCity.lines({group.get_name()}, {var}, {pk.js_style(style)});",
        pk.packed_lines(np.asarray(geo.values)),
    )
    if fit:
        _fit(m, shapely.get_coordinates(geo.values))
    set_legend(m, name, [LegendItem("solid", cls.color, cls.fill, cls.label(language))])
    return m


def arterial_edges(classes: np.ndarray | None, n: int) -> np.ndarray:
    """Which of ``n`` edges are arterial roads: ``highway`` (``classes``, None: no
    road classes) in :data:`ARTERIAL_HIGHWAYS`.

    Examples
    --------
    >>> arterial_edges(np.array(["primary", None, "footway"], dtype=object), 3).tolist()
    [True, False, False]
    """
    # the few distinct values hashed, then looked up: np.isin would sort 1.7M objects
    codes, values = pd.factorize(np.asarray([] if classes is None else classes, dtype=object))
    if len(values) == 0:  # no classes, or none known
        return np.zeros(n, dtype=bool)
    major = np.isin(np.asarray(values, dtype=object), list(ARTERIAL_HIGHWAYS))
    return np.asarray(major[codes] & (codes >= 0), dtype=bool)


def network_note(*, total_edges: int, drawn_edges: int, lang: str = "zh") -> str:
    """The note of a city-scale map about its walking network: arterial roads only
    (``drawn_edges`` of ``total_edges``), or not drawn (``drawn_edges`` 0).

    Examples
    --------
    >>> network_note(total_edges=1_718_458, drawn_edges=0, lang="en")
    'walking network of 1,718,458 edges without road classes: not drawn at city scale'
    """
    language = lb.validate_lang(lang)
    if drawn_edges <= 0:
        return lb.text("note_network_skipped", language).format(n=f"{total_edges:,}")
    return lb.text("note_network_major", language).format(
        k=f"{drawn_edges:,}", n=f"{total_edges:,}"
    )


def _community_key(states: list[Any]) -> str:
    known = [bool(v) for v in states if not pd.isna(v)]
    if not known:
        return "na"
    return "pass" if all(known) else "fail"


def city_community_layers(
    communities_result_table: gpd.GeoDataFrame,
    *,
    checks: Sequence[Sequence[str]],
    m: folium.Map | None = None,
    lang: str = "zh",
    check_label: str | None = None,
    check_labels: Mapping[str, str] | None = None,
    tolerance_m: float = DEFAULT_OUTLINE_TOLERANCE_M,
) -> folium.Map:
    """Every community, its outline simplified to ``tolerance_m``, once per layer of
    ``checks`` (each a list of check ids drawn together, as
    :func:`~geoplan.render.community_layer`; the first on when the map opens).

    The outlines are sent once for every layer. The tooltip gives, per check, the
    community's status with its value and target (the fact sentences of a small
    map are left out).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> t = gpd.GeoDataFrame({"name": ["甲"], "service_area_per_100_households__pass": [False]},
    ...     geometry=[shapely.box(0, 0, 500, 500)], crs=32650)
    >>> m = city_community_layers(t, checks=[["service_area_per_100_households"]])
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    table = communities_result_table
    labels = dict(check_labels or {})
    outlines = table.geometry.simplify(tolerance_m, preserve_topology=True)
    geo = display_geometry(gpd.GeoDataFrame(geometry=outlines, crs=table.crs), "communities", st)
    pk.add_runtime(m)
    shared = f"geoplan_areas_{m.get_name()}"
    pk.add_script(
        m, shared, "", {**pk.packed_polygons(np.asarray(geo.values)), "t": row_names(table)}
    )
    status = {
        _COMMUNITY_LETTERS[k]: esc(c.label(language)) for k, c in lb.COMMUNITY_CLASSES.items()
    }
    styles = {
        _COMMUNITY_LETTERS[k]: polygon_style(c, fill_opacity=0.35, weight=2.5)
        for k, c in lb.COMMUNITY_CLASSES.items()
    }
    drawn: set[str] = set()
    first = True
    for ids in checks:
        present = [c for c in ids if f"{c}__pass" in table.columns]
        if not present:
            continue
        passes = [table[f"{c}__pass"].to_numpy(dtype=object) for c in present]
        keys = [_community_key([p[i] for p in passes]) for i in range(len(table))]
        drawn |= set(keys)
        per_check = []
        for c, p in zip(present, passes, strict=True):
            value = table.get(f"{c}__value")
            target = table.get(f"{c}__threshold")
            n = len(table)
            per_check.append(
                {
                    "l": esc(labels.get(c) or lb.check_label(c, language)),
                    "u": esc(lb.check_unit(c, language)),
                    "k": "".join("n" if pd.isna(v) else ("p" if bool(v) else "f") for v in p),
                    "v": _num(pd.to_numeric(value, errors="coerce"))
                    if value is not None
                    else [None] * n,
                    "t": _num(pd.to_numeric(target, errors="coerce"))
                    if target is not None
                    else [None] * n,
                }
            )
        if first and check_label is not None:
            label = check_label
        elif len(present) == 1:
            label = labels.get(present[0]) or lb.check_label(present[0], language)
        else:
            label = " / ".join(labels.get(c, c) for c in present)
        group = _group(m, f"{lb.text('communities', language)}: {label}", show=first)
        first = False
        var = f"{group.get_name()}_areas"
        data = {"k": pk.class_letters(keys, _COMMUNITY_LETTERS), "c": per_check, "st": status}
        call = f"geoplanCity.areas({group.get_name()}, {shared}, {var}, {pk.js_styles(styles)});"
        pk.add_script(group, var, call, data)
    _fit(m, shapely.get_coordinates(geo.values))
    set_legend(
        m,
        lb.text("communities", language),
        [
            LegendItem("area", c.color, c.fill, c.label(language))
            for k, c in lb.COMMUNITY_CLASSES.items()
            if k in drawn
        ],
    )
    st.notes.append(
        lb.text("note_communities", language).format(n=f"{len(table):,}", tol=f"{tolerance_m:g}")
    )
    return m

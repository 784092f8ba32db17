"""Interactive map layers (folium / Leaflet), one per kind of audit output.

Every function takes a canonical frame (in a metric CRS), converts it to
EPSG:4326 for drawing (and to GCJ-02 when the base map is AMap), and adds one
toggleable layer to a :class:`folium.Map`, creating the map when ``m`` is None.
All user text is HTML-escaped before it reaches the page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.render import _labels as lb
from geoplan.render._leaflet import (
    _add_layer,
    _as_points,
    _column,
    _display_geometry,
    _dot_style,
    _ensure_map,
    _esc,
    _extra_rows,
    _fmt,
    _icon_style,
    _legend,
    _LegendItem,
    _names,
    _polygon_style,
    _state,
    _tip,
)

__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_SYMBOLS_MAX",
    "adaptive_cell_m",
    "building_coverage_layer",
    "community_layer",
    "coverage_cells",
    "facility_layer",
    "grids_layer",
    "network_layer",
    "service_area_layer",
    "sites_layer",
    "unreachable_layer",
]

#: Above this many buildings, :func:`building_coverage_layer` draws square cells.
DEFAULT_AGGREGATE_ABOVE = 20_000
#: Above this many buildings, the layers of the other failing categories (one per
#: category, see :func:`geoplan.render.gap_map`) draw cells: nine layers of
#: 20,000 dots would weigh tens of MB.
DEFAULT_EXTRA_AGGREGATE_ABOVE = 5_000
#: Side of the aggregation cells, in metres of the buildings' CRS.
DEFAULT_CELL_M = 250.0
#: Most cells an aggregated buildings layer draws: a larger city gets larger cells,
#: so the page stays a few MB whatever the city's extent.
DEFAULT_MAX_CELLS = 10_000
#: Most vertices :func:`network_layer` draws: above it the lines are simplified
#: further, then the shortest are left out, so a city's map stays a few MB.
DEFAULT_NETWORK_MAX_VERTICES = 60_000
#: First simplification tolerance of the walking network, in metres.
DEFAULT_NETWORK_TOLERANCE_M = 2.0
#: Above this many facilities, :func:`facility_layer` draws coloured dots on the
#: canvas instead of lettered HTML symbols: 20,000 HTML markers freeze a browser
#: (measured: 6 s to load, 30 s per zoom step), 20,000 canvas dots do not.
DEFAULT_SYMBOLS_MAX = 2_000


# --------------------------------------------------------------------------- layers


def community_layer(
    communities_result_table: gpd.GeoDataFrame,
    *,
    m: folium.Map | None = None,
    lang: str = "zh",
    check: str | Sequence[str] = "service_area_per_100_households",
    unit: str | None = None,
    check_label: str | None = None,
    check_labels: Mapping[str, str] | None = None,
    texts: Mapping[str, pd.Series] | None = None,
    show: bool = True,
) -> folium.Map:
    """Communities coloured by compliance with one audit check, or several together.

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
        The check id, or several ids drawn as one layer: a community fails when
        any check that applies to it fails, and is "not applicable" only when none
        applies (the urban per-100-households target and the village minimum
        together colour every community).
    unit
        Unit shown after values; by default the known unit of ``check``.
    check_label
        The layer's name in ``lang`` (e.g. the profile target's text); by default
        a known name of ``check``, else the id.
    check_labels
        Names of each check in the tooltips (several checks); default: the ids.
    texts
        Per check, a fact sentence per community (aligned to the table's index,
        e.g. the findings' ``text_zh``); shown in the tooltip instead of the bare
        value and target.
    show
        Whether the layer is on when the map opens (it can be switched either way).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> t = gpd.GeoDataFrame({"name": ["甲", "乙村"], "households": [800.0, 300.0],
    ...     "service_area_per_100_households__pass": [False, None],
    ...     "service_area_per_100_households__shortfall": [10.0, None],
    ...     "village_service_area__pass": [None, False]},
    ...     geometry=[shapely.box(0, 0, 500, 500), shapely.box(500, 0, 900, 500)], crs=32650,
    ...     index=pd.Index(["C1", "V1"], name="community_id"))
    >>> m = community_layer(t)
    >>> m = community_layer(t, check=["service_area_per_100_households", "village_service_area"])
    """
    language = lb.validate_lang(lang)
    m = _ensure_map(m, language)
    st = _state(m)
    table = communities_result_table
    ids = [check] if isinstance(check, str) else list(check)
    present = [c for c in ids if f"{c}__pass" in table.columns]
    if not present:
        _column(table, f"{ids[0]}__pass", "communities_result_table")  # raises
    if len(present) > 1 or texts:
        return _communities_by_checks(
            table,
            m=m,
            st=st,
            language=language,
            checks=present,
            title_label=check_label,
            check_labels=check_labels or {},
            texts=texts or {},
            show=show,
        )
    check = present[0]
    passed = table[f"{check}__pass"]
    geo = _display_geometry(table, "communities_result_table", st)
    unit_text = unit if unit is not None else lb.check_unit(check, language)
    label = check_label if check_label is not None else lb.check_label(check, language)
    per_households = lb.check_per_households(check)
    names = _names(table)
    cols = {k: f"{check}__{k}" for k in ("value", "threshold", "shortfall")}
    keys: list[str] = []
    tips: list[str] = []
    for row, ok in enumerate(passed):
        key = "na" if pd.isna(ok) else ("pass" if bool(ok) else "fail")
        cls = lb.COMMUNITY_CLASSES[key]
        rows = [
            (lb.text("check", language), _esc(label)),
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
    _draw_communities(m, language, label, geo, keys, tips, show=show)
    return m


def _draw_communities(
    m: folium.Map,
    language: lb.Lang,
    label: str,
    geo: gpd.GeoSeries,
    keys: list[str],
    tips: list[str],
    *,
    show: bool,
) -> None:
    styles = {
        k: _polygon_style(c, fill_opacity=0.35, weight=2.5) for k, c in lb.COMMUNITY_CLASSES.items()
    }
    title = f"{lb.text('communities', language)}: {label}"
    _add_layer(m, name=title, geo=geo, style_keys=keys, tips=tips, styles=styles, show=show)
    # one legend section for every community layer (the same classes), headed as areas
    section = lb.text("communities", language)
    st = _state(m)
    shown = {item.label for item in st.legend.get(section, [])}
    present = set(keys) | {k for k, c in lb.COMMUNITY_CLASSES.items() if c.label(language) in shown}
    _legend(
        m,
        section,
        [
            _LegendItem("area", c.color, c.fill, c.label(language))
            for k, c in lb.COMMUNITY_CLASSES.items()
            if k in present
        ],
    )


def _communities_by_checks(
    table: gpd.GeoDataFrame,
    *,
    m: folium.Map,
    st: Any,
    language: lb.Lang,
    checks: list[str],
    title_label: str | None,
    check_labels: Mapping[str, str],
    texts: Mapping[str, pd.Series],
    show: bool,
) -> folium.Map:
    geo = _display_geometry(table, "communities_result_table", st)
    names = _names(table)
    label = title_label or " / ".join(check_labels.get(c, c) for c in checks)
    keys: list[str] = []
    tips: list[str] = []
    for row in range(len(table)):
        states: list[tuple[str, bool]] = []
        rows: list[tuple[str, str]] = []
        for c in checks:
            ok = table[f"{c}__pass"].iloc[row]
            if pd.isna(ok):
                continue
            states.append((c, bool(ok)))
            cls = lb.COMMUNITY_CLASSES["pass" if bool(ok) else "fail"]
            text = texts.get(c)
            fact = None if text is None else text.get(table.index[row])
            line = _esc(cls.label(language))
            if isinstance(fact, str) and fact:
                line += f"：{_esc(fact)}" if language == "zh" else f": {_esc(fact)}"
            rows.append((_esc(check_labels.get(c, c)), line))
        failed = [c for c, ok in states if not ok]
        key = "na" if not states else ("fail" if failed else "pass")
        if not states:
            rows.append(
                (lb.text("status", language), _esc(lb.COMMUNITY_CLASSES["na"].label(language)))
            )
        keys.append(key)
        tips.append(_tip(names[row], rows))
    _draw_communities(m, language, label, geo, keys, tips, show=show)
    return m


def _covered_column(buildings: pd.DataFrame, category: str) -> pd.Series:
    return _column(buildings, f"covered__{category}", "buildings")


def building_classes(buildings: pd.DataFrame, category: str) -> np.ndarray:
    """Each building's key in ``BUILDING_CLASSES`` for one category.

    ``covered`` / ``not_covered`` / ``unknown`` from ``covered__<category>``;
    ``no_households`` for a building with 0 households (non-residential, or of
    unknown use outside every residential area) when others have households:
    it counts in no share, so it is drawn neither green nor red.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"covered__wet_market": [True, False, False, None],
    ...                   "households": [40.0, 25.0, 0.0, 10.0]})
    >>> building_classes(b, "wet_market").tolist()
    ['covered', 'not_covered', 'no_households', 'unknown']
    """
    covered = _covered_column(buildings, category)
    keys = np.array(
        ["unknown" if pd.isna(v) else ("covered" if bool(v) else "not_covered") for v in covered],
        dtype=object,
    )
    if "households" in buildings.columns:
        hh = pd.to_numeric(buildings["households"], errors="coerce").to_numpy(dtype=float)
        if np.nansum(hh) > 0:
            keys[hh == 0] = "no_households"
    return keys


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
    only_not_covered: bool = False,
    show: bool = True,
    label: str | None = None,
) -> folium.Map:
    """Buildings coloured by coverage of one facility category.

    With ``only_not_covered`` the layer holds only the buildings (or cells) not
    covered, named after the category: one such switchable layer per failing
    category shows every failing check without doubling the page's size.
    ``show`` says whether the layer is on when the map opens. ``label`` names
    the layer instead of the category's name: a ``covered__<target id>`` column
    for a target over several categories (a GB 50180 life-circle level) is drawn
    the same way, under the target's text.

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
    cat_label = label or lb.category_style(category).label(language)
    aggregate = len(buildings) > aggregate_above
    if only_not_covered and not aggregate:
        lost = building_classes(buildings, category) == "not_covered"
        buildings, covered = buildings[lost], covered[lost]
    if aggregate:
        cell = adaptive_cell_m(buildings, cell_m=cell_m)
        cells = coverage_cells(buildings, category=category, cell_m=cell)
        if only_not_covered:
            cells = cells[cells["uncovered_households"].to_numpy(dtype=float) > 0]
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
        section = name
        if only_not_covered:
            name = f"{lb.text('uncovered_buildings', language)}: {cat_label}"
            section = lb.text("uncovered_buildings", language)
        styles = {
            k: _polygon_style(c, fill_opacity=0.6, weight=0.5) for k, c in lb.CELL_CLASSES.items()
        }
        _add_layer(
            m,
            name=name,
            geo=geo,
            style_keys=list(cells["cls"]),
            tips=cell_tips,
            styles=styles,
            show=show,
        )
        present = set(cells["cls"])
        _legend(
            m,
            section,
            [
                _LegendItem("square", c.color, c.fill, c.label(language))
                for k, c in lb.CELL_CLASSES.items()
                if k in present
            ],
        )
        return m
    geo = _display_geometry(buildings, "buildings", st)
    if only_not_covered:  # dots over the main layer: small pages, no hidden outlines
        geo = _as_points(geo)
    walk_col = f"walk_min__{category}"
    walk = buildings[walk_col] if walk_col in buildings.columns else None
    hh = buildings["households"] if "households" in buildings.columns else None
    ids = _names(buildings)
    keys: list[str] = []
    tips: list[str] = []
    classes = building_classes(buildings, category)
    for row, key in enumerate(classes):
        rows = (
            []
            if only_not_covered
            else [(lb.text("status", language), _esc(lb.BUILDING_CLASSES[key].label(language)))]
        )
        if walk is not None:
            w = walk.iloc[row]
            shown = (
                lb.text("none_within", language)
                if not pd.isna(w) and math.isinf(float(w))
                else _fmt(w)
            )
            rows.append((f"{lb.text('walk_min', language)} {_esc(cat_label)}", shown))
        if hh is not None and not only_not_covered:
            rows.append((lb.text("households", language), _fmt(hh.iloc[row])))
        keys.append(key)
        tips.append(_tip(ids[row], rows))
    styles = {
        k: _polygon_style(c, fill_opacity=0.7, weight=0.5) for k, c in lb.BUILDING_CLASSES.items()
    }
    for s in styles.values():
        s["radius"] = 3
    name = f"{lb.text('buildings', language)}: {cat_label}"
    section = name
    if only_not_covered:
        name = f"{lb.text('uncovered_buildings', language)}: {cat_label}"
        section = lb.text("uncovered_buildings", language)
    _add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles, show=show)
    present = set(keys)
    shape = "circle" if bool(np.all(shapely.get_type_id(geo.values) == 0)) else "square"
    _legend(
        m,
        section,
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


def simplified_network(
    lines: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_vertices: int = DEFAULT_NETWORK_MAX_VERTICES,
    tolerance_m: float = DEFAULT_NETWORK_TOLERANCE_M,
) -> gpd.GeoSeries:
    """The street lines merged and simplified to at most ``max_vertices`` vertices.

    Edges are merged into longer lines, simplified with ``tolerance_m`` (doubled
    until they fit, up to 32 times), and if they still do not fit the shortest
    lines are left out. Lines in a projected (metric) CRS.

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
    merged = shapely.line_merge(shapely.multilinestrings(shapely.get_parts(values)))
    parts = shapely.get_parts(merged)
    tol = tolerance_m
    for _ in range(6):
        simple = shapely.simplify(parts, tol, preserve_topology=False)
        n = shapely.get_num_coordinates(simple)
        if int(n.sum()) <= max_vertices:
            break
        tol *= 2
    else:
        order = np.argsort(-shapely.length(simple), kind="stable")
        keep = order[np.cumsum(n[order]) <= max_vertices]
        simple = simple[np.sort(keep)]
    return gpd.GeoSeries(simple, crs=geo.crs)


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
    m = _ensure_map(m, language)
    st = _state(m)
    simple = simplified_network(lines, max_vertices=max_vertices)
    if len(simple) == 0:
        return m
    one = gpd.GeoDataFrame(
        geometry=[shapely.multilinestrings(simple.values)], crs=simple.crs, index=["network"]
    )
    geo = _display_geometry(one, "network", st)
    cls = lb.NETWORK_CLASS
    style = {"color": cls.color, "weight": 1.0, "opacity": 0.7, "fill": False}
    name = lb.text("network", language)
    _add_layer(
        m,
        name=name,
        geo=geo,
        style_keys=["n"],
        tips=[""],
        styles={"n": style},
        show=show,
        fit=fit,
    )
    _legend(m, name, [_LegendItem("solid", cls.color, cls.fill, cls.label(language))])
    return m

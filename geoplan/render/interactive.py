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

import functools
from collections.abc import Callable, Mapping, Sequence

import folium
import geopandas as gpd
import pandas as pd

from geoplan._errors import InputError
from geoplan.render import _labels as lb
from geoplan.render._labels import Lang
from geoplan.render._leaflet import (
    LegendItem,
    RawElement,
    as_points,
    base_map,
    display_geometry,
    esc,
    extend_bounds,
    figure,
    map_state,
    set_legend,
)
from geoplan.render.city_layers import (
    DEFAULT_MAX_FEATURES,
    city_building_layers,
    city_community_layers,
    city_facility_layers,
    city_network_layer,
    city_point_layer,
    feature_count,
)
from geoplan.render.layers import (
    DEFAULT_AGGREGATE_ABOVE,
    DEFAULT_CELL_M,
    DEFAULT_EXTRA_AGGREGATE_ABOVE,
    DEFAULT_SYMBOLS_MAX,
    adaptive_cell_m,
    building_coverage_layer,
    community_layer,
    coverage_cells,
    facility_layer,
    grids_layer,
    network_layer,
    service_area_layer,
    simplified_network,
    sites_layer,
    unreachable_layer,
)

__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_MAX_FEATURES",
    "DEFAULT_SYMBOLS_MAX",
    "adaptive_cell_m",
    "add_legend",
    "base_map",
    "building_coverage_layer",
    "community_layer",
    "coverage_cells",
    "facility_layer",
    "gap_map",
    "grids_layer",
    "network_layer",
    "service_area_layer",
    "simplified_network",
    "sites_layer",
    "unreachable_layer",
]


# --------------------------------------------------------------------------- panels


_PANEL_CSS = """<style>
.geoplan-panel {{ position: absolute; z-index: 1000; background: rgba(255,255,255,.92);
  border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.35); padding: 6px 10px;
  font: 13px/1.45 "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #222; }}
.geoplan-title {{ top: 10px; left: 50%; transform: translateX(-50%); font-size: 17px;
  font-weight: bold; max-width: 60%; text-align: center; }}
.geoplan-summary {{ top: 90px; left: 10px; max-width: 320px; }}
.geoplan-legend {{ bottom: 30px; right: 10px; max-height: 55%; max-width: 240px;
  overflow-y: auto; }}
.leaflet-control-layers {{ max-width: 300px; }}
.leaflet-control-layers label {{ white-space: normal; }}
.geoplan-legend h4 {{ margin: 6px 0 2px; font-size: 12px; }}
.geoplan-legend .row {{ display: flex; align-items: center; gap: 6px; margin: 1px 0; }}
.geoplan-swatch {{ width: 14px; height: 14px; display: inline-block; box-sizing: border-box;
  flex: none; }}
.geoplan-icon {{ background: none; border: none; }}
{extra}
</style>"""


def _swatch(item: LegendItem) -> str:
    if item.shape == "square":
        return (
            f'<span class="geoplan-swatch" style="background:{item.fill};'
            f'border:1.5px solid {item.color};opacity:.85"></span>'
        )
    if item.shape == "area":
        return (
            f'<span class="geoplan-swatch" style="background:{item.fill};'
            f'border:3px solid {item.color}"></span>'
        )
    if item.shape == "solid":
        return (
            f'<span class="geoplan-swatch" style="height:0;margin:7px 0;'
            f'border-top:2px solid {item.color}"></span>'
        )
    if item.shape == "line":
        return f'<span class="geoplan-swatch" style="border:2px dashed {item.color}"></span>'
    if item.shape == "icon":
        return (
            f'<span class="geoplan-swatch" style="background:{item.fill};border-radius:50%;'
            f"color:#fff;font-size:10px;line-height:14px;text-align:center;font-weight:bold;"
            f'text-shadow:0 0 1px #000">{esc(item.char)}</span>'
        )
    return (
        f'<span class="geoplan-swatch" style="background:{item.fill};border-radius:50%;'
        f'border:1.5px solid {item.color}"></span>'
    )


def _css_once(m: folium.Map) -> None:
    root = figure(m)
    if "geoplan_css" not in root.header._children:
        root.header.add_child(RawElement(_PANEL_CSS.format(extra="")), name="geoplan_css")


def add_legend(m: folium.Map, *, lang: str = "zh") -> folium.Map:
    """Add an HTML legend of every geoplan layer drawn on ``m`` so far; return ``m``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> p = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = add_legend(unreachable_layer(p), lang="en")
    """
    language = lb.validate_lang(lang)
    st = map_state(m)
    if not st.legend:
        return m
    _css_once(m)
    parts = [f'<div class="geoplan-panel geoplan-legend" id="{m.get_name()}_legend">']
    parts.append(f"<b>{esc(lb.text('legend', language))}</b>")
    for section, items in st.legend.items():
        parts.append(f"<h4>{esc(section)}</h4>")
        for item in items:
            parts.append(f'<div class="row">{_swatch(item)}<span>{esc(item.label)}</span></div>')
    parts.append("</div>")
    figure(m).html.add_child(RawElement("".join(parts)), name="geoplan_legend")
    return m


def _add_title(m: folium.Map, title: str) -> None:
    _css_once(m)
    figure(m).html.add_child(
        RawElement(f'<div class="geoplan-panel geoplan-title">{esc(title)}</div>'),
        name="geoplan_title",
    )


def _add_summary(m: folium.Map, summary: Mapping[str, str], lang: Lang) -> None:
    if not summary:
        return
    _css_once(m)
    rows = "".join(f"<div><b>{esc(k)}</b> {esc(v)}</div>" for k, v in summary.items())
    figure(m).html.add_child(
        RawElement(
            f'<div class="geoplan-panel geoplan-summary"><b>{esc(lb.text("summary", lang))}</b>'
            f"{rows}</div>"
        ),
        name="geoplan_summary",
    )


# A city-scale map has a layer per category twice (cells, facilities): its layer list
# scrolls instead of running over the legend below it.
_CITY_CSS = """<style>
.leaflet-control-layers-list { max-height: 46vh; overflow-y: auto; }
div.geoplan-panel.geoplan-legend { max-height: 40%; }
</style>"""


def _add_notes(m: folium.Map, lines: Sequence[str], head: str) -> None:
    """The panel that says what a city-scale map aggregated, left out or thinned."""
    _css_once(m)
    rows = "".join(f"<div>{esc(line)}</div>" for line in lines)
    figure(m).html.add_child(
        RawElement(
            '<div class="geoplan-panel geoplan-notes" style="bottom: 40px; left: 10px; '
            f'max-width: 360px; font-size: 12px;"><b>{esc(head)}</b>{rows}</div>'
        ),
        name="geoplan_notes",
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
    check_label: str | None = None,
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
    cell_m: float = DEFAULT_CELL_M,
    fit_facilities: bool = False,
    network: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    community_checks: Sequence[Sequence[str]] | None = None,
    check_labels: Mapping[str, str] | None = None,
    check_texts: Mapping[str, pd.Series] | None = None,
    failing_categories: Sequence[str] = (),
    category_labels: Mapping[str, str] | None = None,
    max_features: int = DEFAULT_MAX_FEATURES,
    city_scale: bool | None = None,
    notes: Sequence[str] = (),
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
    check_label
        Its name in ``lang`` (e.g. the profile target's text); by default a
        known name of ``check``, else the id.
    aggregate_above, cell_m
        Above this many buildings, draw cells of ``cell_m`` metres.
    network
        Street lines (metric CRS) drawn as a thin grey layer under the buildings
        (see :func:`network_layer`).
    community_checks
        Community layers, each a list of check ids drawn together (see
        :func:`community_layer`): the first is on when the map opens, the others
        can be switched on. Overrides ``check``.
    check_labels, check_texts
        Names of the checks and, per check, a fact sentence per community.
    failing_categories
        Categories whose not-covered buildings get a layer of their own (off
        when the map opens): one per failing category, next to the full coverage
        layer of ``category``.
    category_labels
        Layer names for "categories" that are not facility categories: the ids
        of targets over several categories (``covered__<target id>``), named by
        the target's text.
    fit_facilities
        Widen the first view to every facility drawn. By default point layers do
        not widen a view that areas set (one facility far away must not shrink a
        district to a corner); a development's map shows the nearest facility of
        each category and wants them in view.
    max_features
        Above this many features (the rows of every frame given, together) the map
        is drawn at city scale (:mod:`geoplan.render.city_layers`): buildings as
        cells for every category, facilities as dots in one layer per category (the
        mapped category's on), community outlines simplified, everything packed and
        built when first shown, and a panel that says what was aggregated. A page
        of a few MB, whatever the city; ``aggregate_above`` is then not used.
    city_scale
        Decides instead of ``max_features`` when not None (a caller drawing the
        HTML page and the PNG of one map makes the same choice for both).
    notes
        More lines for that panel (e.g. what was left out of the network given);
        shown on a small map too when given.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame({"category": ["wet_market"]},
    ...     geometry=[shapely.Point(0, 0)], crs=32650)
    >>> m = gap_map(facilities=f, title="菜市场", summary={"菜市场覆盖率": "87%，目标 95%"})
    """
    language = lb.validate_lang(lang)
    m = base_map(tiles=tiles, tiles_key=tiles_key, lang=language)
    names = dict(category_labels or {})
    frames = (communities, buildings, facilities, service_areas, unreachable, sites, grids)
    count = feature_count(*frames)
    if (count > max_features) if city_scale is None else city_scale:
        _city_layers(
            m,
            language,
            communities=communities,
            buildings=buildings,
            facilities=facilities,
            service_areas=service_areas,
            unreachable=unreachable,
            sites=sites,
            grids=grids,
            category=category,
            check=check,
            check_label=check_label,
            cell_m=cell_m,
            network=network,
            community_checks=community_checks,
            check_labels=check_labels,
            failing_categories=failing_categories,
            names=names,
        )
        head = lb.text("city_scale", language)
        if count > max_features:
            why = lb.text("city_scale_why", language).format(
                n=f"{count:,}", limit=f"{max_features:,}"
            )
            head += f"（{why}）" if language == "zh" else f" ({why})"
        return _finish(
            m,
            language,
            facilities,
            fit_facilities,
            title,
            summary,
            [*map_state(m).notes, *notes],
            head,
        )
    steps: list[Callable[[], object]] = []
    if grids is not None:
        steps.append(lambda: grids_layer(grids, m=m, lang=language))
    if communities is not None and community_checks:
        texts_all = dict(check_texts or {})
        for i, ids in enumerate(community_checks):
            steps.append(
                functools.partial(
                    community_layer,
                    communities,
                    m=m,
                    lang=language,
                    check=list(ids),
                    check_label=check_label if i == 0 else None,
                    check_labels=check_labels,
                    texts={c: texts_all[c] for c in ids if c in texts_all},
                    show=i == 0,
                )
            )
    elif communities is not None:
        steps.append(
            lambda: community_layer(
                communities, m=m, lang=language, check=check, check_label=check_label
            )
        )
    if service_areas is not None:
        steps.append(lambda: service_area_layer(service_areas, m=m, lang=language))
    if network is not None:
        others = (communities, buildings, facilities, service_areas, grids)
        fit_network = all(f is None for f in others)
        steps.append(lambda: network_layer(network, m=m, lang=language, fit=fit_network))
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
                label=names.get(cat) if cat is not None else None,
            )
        )
    if buildings is not None:
        for other in failing_categories:
            if other == category or f"covered__{other}" not in buildings.columns:
                continue
            steps.append(
                functools.partial(
                    building_coverage_layer,
                    buildings,
                    category=other,
                    m=m,
                    lang=language,
                    aggregate_above=min(aggregate_above, DEFAULT_EXTRA_AGGREGATE_ABOVE),
                    cell_m=cell_m,
                    only_not_covered=True,
                    show=False,
                    label=names.get(other),
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
    return _finish(
        m, language, facilities, fit_facilities, title, summary, notes, lb.text("summary", language)
    )


def _finish(
    m: folium.Map,
    language: Lang,
    facilities: gpd.GeoDataFrame | None,
    fit_facilities: bool,
    title: str,
    summary: Mapping[str, str] | None,
    notes: Sequence[str],
    notes_head: str,
) -> folium.Map:
    if fit_facilities and facilities is not None and len(facilities):
        st = map_state(m)
        extend_bounds(m, st, as_points(display_geometry(facilities, "facilities", st)))
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    add_legend(m, lang=language)
    _add_title(m, title)
    _add_summary(m, summary or {}, language)
    if notes:
        _add_notes(m, notes, notes_head)
    return m


def _city_layers(
    m: folium.Map,
    language: Lang,
    *,
    communities: gpd.GeoDataFrame | None,
    buildings: gpd.GeoDataFrame | None,
    facilities: gpd.GeoDataFrame | None,
    service_areas: gpd.GeoDataFrame | None,
    unreachable: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
    grids: gpd.GeoDataFrame | None,
    category: str | None,
    check: str,
    check_label: str | None,
    cell_m: float,
    network: gpd.GeoDataFrame | gpd.GeoSeries | None,
    community_checks: Sequence[Sequence[str]] | None,
    check_labels: Mapping[str, str] | None,
    failing_categories: Sequence[str],
    names: Mapping[str, str],
) -> None:
    """The layers of :func:`gap_map` at city scale, in the same order."""
    figure(m).header.add_child(RawElement(_CITY_CSS), name="geoplan_city_css")
    if grids is not None:
        grids_layer(grids, m=m, lang=language)
    if communities is not None:
        city_community_layers(
            communities,
            checks=[list(c) for c in community_checks] if community_checks else [[check]],
            m=m,
            lang=language,
            check_label=check_label,
            check_labels=check_labels,
        )
    if service_areas is not None:
        service_area_layer(service_areas, m=m, lang=language)
    if network is not None:
        city_network_layer(network, m=m, lang=language, fit=False)
    cat = None
    if buildings is not None:
        cat = category if category is not None else _single_category(buildings)
        city_building_layers(
            buildings,
            category=cat,
            m=m,
            lang=language,
            cell_m=cell_m,
            failing_categories=list(failing_categories),
            labels=names,
        )
    if unreachable is not None:
        cls = lb.UNREACHABLE_CLASS
        city_point_layer(
            unreachable,
            name=lb.text("unreachable", language),
            style={
                "color": cls.color,
                "fillColor": cls.fill,
                "weight": 1.5,
                "fillOpacity": 0.9,
                "radius": 4,
            },
            m=m,
            lang=language,
            fields=("reason", "snap_m", "component"),
        )
        set_legend(
            m,
            lb.text("unreachable", language),
            [LegendItem("circle", cls.color, cls.fill, cls.label(language))],
        )
    if facilities is not None:
        cats = set(facilities["category"].astype(str)) if "category" in facilities else set()
        city_facility_layers(
            facilities,
            m=m,
            lang=language,
            shown=[cat] if cat is not None and cat in cats else None,
            order=[c for c in (cat, *failing_categories) if c is not None],
        )
    if sites is not None:
        sites_layer(sites, m=m, lang=language)

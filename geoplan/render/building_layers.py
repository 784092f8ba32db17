"""The buildings layer: buildings (or square cells, in a city) coloured by coverage
of one facility category.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.render import _labels as lb
from geoplan.render._leaflet import (
    LegendItem,
    add_layer,
    as_points,
    display_geometry,
    ensure_map,
    esc,
    fmt,
    map_state,
    polygon_style,
    row_names,
    set_legend,
    tip,
)
from geoplan.render.cells import (
    DEFAULT_AGGREGATE_ABOVE,
    DEFAULT_CELL_M,
    adaptive_cell_m,
    building_classes,
    coverage_cells,
    covered_column,
)

__all__ = [
    "building_coverage_layer",
]


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
    m = ensure_map(m, language)
    st = map_state(m)
    covered = covered_column(buildings, category)
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
        geo = display_geometry(cells, "buildings", st)
        cell_tips = [
            tip(
                f"{lb.text('uncovered_share', language)}: "
                + ("—" if math.isnan(s) else f"{s:.0%}"),
                [
                    (lb.text("households", language), fmt(h)),
                    (lb.text("buildings_n", language), fmt(n)),
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
            k: polygon_style(c, fill_opacity=0.6, weight=0.5) for k, c in lb.CELL_CLASSES.items()
        }
        add_layer(
            m,
            name=name,
            geo=geo,
            style_keys=list(cells["cls"]),
            tips=cell_tips,
            styles=styles,
            show=show,
        )
        present = set(cells["cls"])
        set_legend(
            m,
            section,
            [
                LegendItem("square", c.color, c.fill, c.label(language))
                for k, c in lb.CELL_CLASSES.items()
                if k in present
            ],
        )
        return m
    geo = display_geometry(buildings, "buildings", st)
    if only_not_covered:  # dots over the main layer: small pages, no hidden outlines
        geo = as_points(geo)
    walk_col = f"walk_min__{category}"
    walk = buildings[walk_col] if walk_col in buildings.columns else None
    hh = buildings["households"] if "households" in buildings.columns else None
    ids = row_names(buildings)
    keys: list[str] = []
    tips: list[str] = []
    classes = building_classes(buildings, category)
    for row, key in enumerate(classes):
        rows = (
            []
            if only_not_covered
            else [(lb.text("status", language), esc(lb.BUILDING_CLASSES[key].label(language)))]
        )
        if walk is not None:
            w = walk.iloc[row]
            shown = (
                lb.text("none_within", language)
                if not pd.isna(w) and math.isinf(float(w))
                else fmt(w)
            )
            rows.append((f"{lb.text('walk_min', language)} {esc(cat_label)}", shown))
        if hh is not None and not only_not_covered:
            rows.append((lb.text("households", language), fmt(hh.iloc[row])))
        keys.append(key)
        tips.append(tip(ids[row], rows))
    styles = {
        k: polygon_style(c, fill_opacity=0.7, weight=0.5) for k, c in lb.BUILDING_CLASSES.items()
    }
    for s in styles.values():
        s["radius"] = 3
    name = f"{lb.text('buildings', language)}: {cat_label}"
    section = name
    if only_not_covered:
        name = f"{lb.text('uncovered_buildings', language)}: {cat_label}"
        section = lb.text("uncovered_buildings", language)
    add_layer(m, name=name, geo=geo, style_keys=keys, tips=tips, styles=styles, show=show)
    present = set(keys)
    shape = "circle" if bool(np.all(shapely.get_type_id(geo.values) == 0)) else "square"
    set_legend(
        m,
        section,
        [
            LegendItem(shape, c.color, c.fill, c.label(language))
            for k, c in lb.BUILDING_CLASSES.items()
            if k in present
        ],
    )
    return m

"""The communities layer: community polygons coloured by one audit check, or several."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import folium
import geopandas as gpd
import pandas as pd

from geoplan.render import _labels as lb
from geoplan.render._leaflet import (
    LegendItem,
    MapState,
    add_layer,
    display_geometry,
    ensure_map,
    esc,
    fmt,
    map_state,
    polygon_style,
    require_column,
    row_names,
    set_legend,
    tip,
)

__all__ = [
    "community_layer",
]


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
    m = ensure_map(m, language)
    st = map_state(m)
    table = communities_result_table
    ids = [check] if isinstance(check, str) else list(check)
    present = [c for c in ids if f"{c}__pass" in table.columns]
    if not present:
        require_column(table, f"{ids[0]}__pass", "communities_result_table")  # raises
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
    geo = display_geometry(table, "communities_result_table", st)
    unit_text = unit if unit is not None else lb.check_unit(check, language)
    label = check_label if check_label is not None else lb.check_label(check, language)
    per_households = lb.check_per_households(check)
    names = row_names(table)
    cols = {k: f"{check}__{k}" for k in ("value", "threshold", "shortfall")}
    keys: list[str] = []
    tips: list[str] = []
    for row, ok in enumerate(passed):
        key = "na" if pd.isna(ok) else ("pass" if bool(ok) else "fail")
        cls = lb.COMMUNITY_CLASSES[key]
        rows = [
            (lb.text("check", language), esc(label)),
            (lb.text("status", language), esc(cls.label(language))),
        ]
        for k in ("value", "threshold"):
            if cols[k] in table.columns:
                rows.append(
                    (lb.text(k, language), f"{fmt(table[cols[k]].iloc[row])} {esc(unit_text)}")
                )
        if key == "fail" and cols["shortfall"] in table.columns:
            short = table[cols["shortfall"]].iloc[row]
            line = f"{fmt(short)} {esc(unit_text)}"
            if per_households and "households" in table.columns:
                hh = table["households"].iloc[row]
                if not pd.isna(short) and not pd.isna(hh):
                    total = float(short) * float(hh) / per_households
                    line += f" ({lb.text('shortfall_total', language)} {fmt(total, 0)} m²)"
            rows.append((lb.text("shortfall", language), line))
        keys.append(key)
        tips.append(tip(names[row], rows))
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
        k: polygon_style(c, fill_opacity=0.35, weight=2.5) for k, c in lb.COMMUNITY_CLASSES.items()
    }
    title = f"{lb.text('communities', language)}: {label}"
    add_layer(m, name=title, geo=geo, style_keys=keys, tips=tips, styles=styles, show=show)
    # one legend section for every community layer (the same classes), headed as areas
    section = lb.text("communities", language)
    st = map_state(m)
    shown = {item.label for item in st.legend.get(section, [])}
    present = set(keys) | {k for k, c in lb.COMMUNITY_CLASSES.items() if c.label(language) in shown}
    set_legend(
        m,
        section,
        [
            LegendItem("area", c.color, c.fill, c.label(language))
            for k, c in lb.COMMUNITY_CLASSES.items()
            if k in present
        ],
    )


def _communities_by_checks(
    table: gpd.GeoDataFrame,
    *,
    m: folium.Map,
    st: MapState,
    language: lb.Lang,
    checks: list[str],
    title_label: str | None,
    check_labels: Mapping[str, str],
    texts: Mapping[str, pd.Series],
    show: bool,
) -> folium.Map:
    geo = display_geometry(table, "communities_result_table", st)
    names = row_names(table)
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
            line = esc(cls.label(language))
            if isinstance(fact, str) and fact:
                line += f"：{esc(fact)}" if language == "zh" else f": {esc(fact)}"
            rows.append((esc(check_labels.get(c, c)), line))
        failed = [c for c, ok in states if not ok]
        key = "na" if not states else ("fail" if failed else "pass")
        if not states:
            rows.append(
                (lb.text("status", language), esc(lb.COMMUNITY_CLASSES["na"].label(language)))
            )
        keys.append(key)
        tips.append(tip(names[row], rows))
    _draw_communities(m, language, label, geo, keys, tips, show=show)
    return m

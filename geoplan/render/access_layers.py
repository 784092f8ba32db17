"""The access layer: buildings (or square cells, in a city) coloured by the supply they
reach per 100 households (or 1,000 residents), the column of ``geoplan access``.

Draws any frame with a numeric value column and ``households`` (the access audit's
table, or the saved ``access.gpkg``): it never calls the audit.
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan.render import _labels as lb
from geoplan.render._labels import ACCESS_CLASSES
from geoplan.render._leaflet import (
    LegendItem,
    add_layer,
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
from geoplan.render.cells import DEFAULT_AGGREGATE_ABOVE, DEFAULT_CELL_M, adaptive_cell_m

__all__ = [
    "ACCESS_CLASSES",
    "access_classes",
    "access_layer",
    "access_values",
    "class_labels",
    "default_mark",
    "legend_number",
    "mark_heading",
]


#: The two classes named after the mark, when it is a statistic and not a target.
_STAT_WORDS = {
    "median": {"short": ("一半到中位数", "half to the median"),
               "met": ("中位数及以上", "at or above the median")},
    "mean": {"short": ("一半到平均", "half to the mean"),
             "met": ("平均及以上", "at or above the mean")},
}  # fmt: skip


def class_labels(mark: float, *, lang: str = "zh", kind: str = "target") -> dict[str, str]:
    """Each class's legend label with its range of values against ``mark`` (``kind``:
    ``target``, or the statistic of :func:`default_mark`, which then names the classes).

    Examples
    --------
    >>> class_labels(50.0)["short"], class_labels(50.0, lang="en")["met"]
    ('一半到达标（25–50）', 'at or above the mark (≥ 50)')
    >>> class_labels(10.0, kind="mean")["met"]
    '平均及以上（≥ 10）'
    """
    language = lb.validate_lang(lang)
    half, full = legend_number(0.5 * mark), legend_number(mark)
    ranges = {"none": "0", "low": f"< {half}", "short": f"{half}–{full}", "met": f"≥ {full}"}
    out = {}
    for k, c in ACCESS_CLASSES.items():
        words = _STAT_WORDS.get(kind, {}).get(k)
        label = c.label(language) if words is None else words[0 if lang == "zh" else 1]
        r = ranges.get(k) if math.isfinite(mark) and mark > 0 else None
        out[k] = label if r is None else (f"{label}（{r}）" if lang == "zh" else f"{label} ({r})")
    return out


def legend_number(x: float) -> str:
    """A value as a legend reads it: 50, 74.7, 1,250.

    Examples
    --------
    >>> legend_number(50.0), legend_number(74.66), legend_number(1250.0)
    ('50', '74.7', '1,250')
    """
    return f"{x:,.1f}".removesuffix(".0")


def default_mark(value: np.ndarray, households: np.ndarray) -> tuple[float, str]:
    """The mark classes are read against when no target sets one, and what it is:
    the household-weighted median (``"median"``), or, where most households reach
    nothing and that median is 0, the household-weighted mean (``"mean"``).

    Examples
    --------
    >>> default_mark(np.array([0.0, 10.0, 20.0]), np.array([1.0, 1.0, 1.0]))
    (10.0, 'median')
    >>> default_mark(np.array([0.0, 0.0, 30.0]), np.array([1.0, 1.0, 1.0]))
    (10.0, 'mean')
    """
    v = np.asarray(value, dtype=float)
    w = np.asarray(households, dtype=float)
    has = w > 0
    if not has.any():
        return 0.0, "median"
    order = np.argsort(v[has], kind="stable")
    cum = np.cumsum(w[has][order])
    median = float(v[has][order][np.searchsorted(cum, cum[-1] / 2.0)])
    if median > 0:
        return median, "median"
    return float(np.average(v[has], weights=w[has])), "mean"


def mark_heading(mark: float, kind: str, unit: str = "", *, lang: str = "zh") -> str:
    """The legend's heading: the target, or the statistic the classes are read against.

    Examples
    --------
    >>> mark_heading(50.0, "target", "m²/千人"), mark_heading(74.66, "median", lang="en")
    ('标准 ≥ 50 m²/千人', 'household-weighted median 74.7')
    """
    shown = f"{legend_number(mark)} {unit}".strip() if math.isfinite(mark) else "-"
    words = {
        "target": ("标准 ≥", "target ≥"),
        "median": ("住户加权中位数", "household-weighted median"),
        "mean": ("住户加权平均（中位数为 0）", "household-weighted mean (the median is 0)"),
    }[kind]
    return f"{words[0] if lang == 'zh' else words[1]} {shown}"


def access_values(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The value ``column`` and the households of each row (0 where missing; 1 each when
    the frame has no ``households``)."""
    value = pd.to_numeric(frame[column], errors="coerce").fillna(0.0).to_numpy(float)
    if "households" not in frame.columns:
        return value, np.ones(len(frame))
    hh = pd.to_numeric(frame["households"], errors="coerce").fillna(0.0).to_numpy(float)
    return value, hh


def access_classes(
    value: np.ndarray, households: np.ndarray, mark: float | None
) -> tuple[np.ndarray, float, str]:
    """Each row's class key, the mark the classes are relative to and what it is:
    ``mark`` (``"target"``), or :func:`default_mark` and its statistic when None.

    Examples
    --------
    >>> keys, mark, kind = access_classes(np.array([0.0, 10.0, 20.0, 40.0]),
    ...                                   np.array([5.0, 5.0, 5.0, 0.0]), 30.0)
    >>> keys.tolist(), mark, kind
    (['none', 'low', 'short', 'no_households'], 30.0, 'target')
    """
    v = np.asarray(value, dtype=float)
    w = np.asarray(households, dtype=float)
    has = w > 0
    kind = "target"
    if mark is None:
        mark, kind = default_mark(v, w)
    keys = np.full(v.size, "met", dtype=object)
    keys[v < mark] = "short"
    keys[v < 0.5 * mark] = "low"
    keys[~(v > 0)] = "none"
    keys[~has] = "no_households"
    return keys, float(mark), kind


def _cells(
    frame: gpd.GeoDataFrame, value: np.ndarray, hh: np.ndarray, cell_m: float
) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """Square cells of ``cell_m``: household-weighted mean value and households per cell."""
    pts = shapely.get_coordinates(frame.geometry.representative_point().values)
    ix = np.floor(pts[:, 0] / cell_m).astype(np.int64)
    iy = np.floor(pts[:, 1] / cell_m).astype(np.int64)
    key = pd.factorize(pd.Series(ix * 10_000_000 + iy))[0]
    n = int(key.max()) + 1 if key.size else 0
    w = np.bincount(key, weights=hh, minlength=n)
    num = np.bincount(key, weights=np.where(hh > 0, value * hh, 0.0), minlength=n)
    first = np.unique(key, return_index=True)[1]
    x0, y0 = ix[first] * cell_m, iy[first] * cell_m
    geo = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(w > 0, num / w, 0.0)
    cells = gpd.GeoDataFrame({"value": mean, "households": w}, geometry=geo, crs=frame.crs)
    return cells, mean, w


def access_layer(
    buildings: gpd.GeoDataFrame,
    *,
    column: str,
    m: folium.Map | None = None,
    lang: str = "zh",
    mark: float | None = None,
    unit: str = "",
    label: str | None = None,
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
    cell_m: float = DEFAULT_CELL_M,
) -> folium.Map:
    """Buildings coloured by ``column`` (e.g. ``supply_per_100_households__wet_market``).

    Classes: none within reach, under half of ``mark``, half to ``mark``, at or above
    it (``mark``: a target's threshold; None: the household-weighted median), grey
    for buildings without households. Above ``aggregate_above`` buildings it draws
    square cells of ``cell_m`` (household-weighted mean; larger cells where the extent
    would need too many, :func:`geoplan.render.cells.adaptive_cell_m`) so a city map
    stays small.

    Examples
    --------
    >>> b = gpd.GeoDataFrame({"v": [0.0, 35.0], "households": [10.0, 20.0]},
    ...     geometry=[shapely.box(0, 0, 20, 20), shapely.box(30, 0, 50, 20)], crs=32650)
    >>> m = access_layer(b, column="v", mark=30.0, lang="en")
    """
    language = lb.validate_lang(lang)
    m = ensure_map(m, language)
    st = map_state(m)
    value, hh = access_values(buildings, column)
    name = label or column
    u = f" {unit}" if unit else ""
    if len(buildings) > aggregate_above:
        cell_m = adaptive_cell_m(buildings, cell_m=cell_m)  # a city: fewer, larger cells
        cells, value, hh = _cells(buildings, value, hh, cell_m)
        frame: gpd.GeoDataFrame = cells
        ids = [esc(f"{cell_m:g} m") for _ in range(len(cells))]
    else:
        frame = buildings
        ids = row_names(buildings)
    keys, mark, kind = access_classes(value, hh, mark)
    geo = display_geometry(frame, "buildings", st)
    hh_label = lb.text("households", language)
    tips = []
    for k in range(len(frame)):
        rows = [(esc(name), f"{fmt(value[k], 2)}{esc(u)}"), (hh_label, fmt(hh[k], 0))]
        tips.append(tip(ids[k], rows))
    styles = {
        k: {**polygon_style(c, fill_opacity=0.7, weight=0.5), "radius": 3}
        for k, c in ACCESS_CLASSES.items()
    }
    add_layer(m, name=name, geo=geo, style_keys=list(keys), tips=tips, styles=styles)
    present = set(keys)
    head = mark_heading(mark, kind, unit, lang=language)
    section = f"{name}（{head}）" if language == "zh" else f"{name} ({head})"
    labels = class_labels(mark, lang=language, kind=kind)
    set_legend(
        m,
        section,
        [
            LegendItem("square", c.color, c.fill, labels[k])
            for k, c in ACCESS_CLASSES.items()
            if k in present
        ],
    )
    return m

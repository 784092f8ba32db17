"""Household and resident estimates for buildings without counts.

Household counts are sparse in real building data (OpenStreetMap, footprint
datasets), but a building type, floors or a height are often known. For a
residential building whose household count is missing::

    households = floor(footprint_m2 x levels x net_to_gross / dwelling_floor_area_m2)

- ``footprint_m2`` is the polygon's area in the frame's metric CRS (a
  ``footprint_m2`` column, where given, wins; point buildings need it given);
- ``levels`` comes from the floors column (OSM ``building:levels``), else from
  the height column as ``height / floor_height_m`` rounded to the nearest whole
  floor (at least 1), else from the profile's ``default_levels`` for the
  building's type;
- ``net_to_gross`` (dwelling floor area over gross floor area),
  ``dwelling_floor_area_m2``, ``floor_height_m`` and ``default_levels`` are
  profile parameters.

**Which buildings hold households.** The building type is the
``osm_building`` column (OSM ``building=*``) where present, else ``use``:

- a type that is a key of ``default_levels`` (``residential``, ``apartments``,
  ``house``, ``detached``, ``dormitory``, ...), or a ``use`` in
  ``residential_uses``, is residential;
- an unknown type (``building=yes``, or no use) is residential only inside a
  residential area: an OSM ``landuse=residential`` polygon (column
  ``in_residential_landuse``), a compound or a community (``areas=``); or when
  its name holds one of the profile's ``residential_name_words`` (学生公寓);
- every other type (school, university, office, hospital, commercial, retail,
  industrial, transportation, ...) holds 0 households.

**Output columns.** ``households_source`` says where each count comes from
(:data:`SOURCES`):

- ``"given"``: the input's own count;
- ``"levels"``: estimated from the floors column;
- ``"height"``: estimated from the height;
- ``"default_levels"``: estimated from the type's default levels;
- ``"none"``: no count: a building that holds no households (0), or a
  residential one that could not be estimated (left empty).

``households_estimated`` is True for the three estimated sources, and kept
where the input flagged a count it gives as estimated.
``building_class`` is one of :data:`CLASSES`: ``"residential"``,
``"unknown_in_area"`` (unknown type inside a residential area, counted),
``"unknown_outside"`` (unknown type outside, left out) and
``"non_residential"``.

**Rounding.** The result is rounded *down*: a building holds whole dwellings,
and a part-dwelling of leftover floor area (stairs, a shop, a plant room) is not
a household. Totals are therefore conservative, by half a household per
building on average, and a residential building with less net floor area than
one dwelling (a shed, a garage) gets 0 households.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, SupportsFloat, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import DataQualityWarning, InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "CLASSES",
    "SOURCES",
    "describe_households",
    "estimate_households",
    "estimate_residents",
    "households_summary",
    "needs_estimate",
    "residents_of",
]

ESTIMATED_COL = "households_estimated"
SOURCE_COL = "households_source"
CLASS_COL = "building_class"
FOOTPRINT_COL = "footprint_m2"
TYPE_COL = "osm_building"
LANDUSE_COL = "in_residential_landuse"
#: Values of ``households_source``, in the order summaries list them.
SOURCES: tuple[str, ...] = ("given", "levels", "height", "default_levels", "none")
#: The sources that are estimates.
ESTIMATED_SOURCES: frozenset[str] = frozenset({"levels", "height", "default_levels"})
#: Values of ``building_class``.
CLASSES: tuple[str, ...] = ("residential", "unknown_in_area", "unknown_outside", "non_residential")
UNKNOWN_TYPE = "yes"  # OSM's own value for "a building, type unknown"
_SHOW_IDS = 5  # ids listed in a warning


class _HasParameters(Protocol):
    """A geoplan Profile, as far as this module needs one."""

    def parameter(self, name: str) -> Any: ...


Params: TypeAlias = Mapping[str, Any] | _HasParameters
Areas: TypeAlias = (
    gpd.GeoDataFrame | gpd.GeoSeries | Iterable[gpd.GeoDataFrame | gpd.GeoSeries | None]
)


def _raw_param(params: Params, name: str) -> Any:
    if hasattr(params, "parameter"):
        value = params.parameter(name)
    elif isinstance(params, Mapping):
        try:
            value = params[name]
        except (KeyError, TypeError):
            raise KeyError(
                f"the parameters have no {name!r}: pass a profile or a mapping that has it"
            ) from None
    else:
        raise TypeError(f"params must be a geoplan Profile or a mapping, got {type(params)}")
    return getattr(value, "value", value)  # a profile Parameter object


def _param(params: Params, name: str) -> float:
    """A positive number from a Profile (``.parameter(name)``) or a mapping."""
    value = _raw_param(params, name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"parameter {name!r} must be a number, got {value!r}") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"parameter {name!r} must be a positive number, got {value!r}")
    return number


def _levels_table(params: Params) -> dict[str, float] | None:
    """``default_levels`` as {type: floors} (keys casefolded), None when absent."""
    if isinstance(params, Mapping) and "default_levels" not in params:
        return None
    try:
        value = _raw_param(params, "default_levels")
    except KeyError:  # a profile without the parameter (ProfileNotFound is a KeyError)
        return None
    if not isinstance(value, Mapping):
        raise ValueError(
            f"parameter 'default_levels' must be a table of type = floors, got {value!r}"
        )
    table: dict[str, float] = {}
    for key, floors in value.items():
        number = float(floors)
        if not math.isfinite(number) or number <= 0:
            raise ValueError(f"default_levels[{key!r}] must be a positive number, got {floors!r}")
        table[str(key).strip().casefold()] = number
    return table


def _name_words(params: Params, name: str = "residential_name_words") -> tuple[str, ...]:
    """A profile's list of name words, e.g. ``residential_name_words`` (empty when absent)."""
    if isinstance(params, Mapping) and name not in params:
        return ()
    try:
        value = _raw_param(params, name)
    except KeyError:
        return ()
    if isinstance(value, str):
        value = (value,)
    return tuple(str(w).casefold() for w in value if str(w).strip())


def _numeric(frame: pd.DataFrame, column: str, *, file: str | None) -> pd.Series:
    """``frame[column]`` as floats; text that is not a number is an InputError."""
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = values.isna() & raw.notna()
    if bad.any():
        row = frame.index[bad.to_numpy()][0]
        raise InputError(f"not a number: {raw[bad].iloc[0]!r}", file=file, row=row, column=column)
    return values


def _positive(frame: pd.DataFrame, column: str | None, *, file: str | None) -> pd.Series:
    """A numeric column with non-positive values as NaN; all NaN if absent."""
    if column is None or column not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    values = _numeric(frame, column, file=file)
    return values.where(values > 0)


def _footprint(frame: gpd.GeoDataFrame, *, file: str | None) -> pd.Series:
    """Given ``footprint_m2`` where present, else polygon area (NaN for non-polygons)."""
    geoms = np.asarray(frame.geometry.array)
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])  # Polygon, MultiPolygon
    invalid = polygonal & ~shapely.is_valid(geoms)
    fixed = geoms.copy()
    fixed[invalid] = shapely.make_valid(geoms[invalid])  # a bow tie has area 0 otherwise
    area = np.where(polygonal, shapely.area(fixed), np.nan)
    computed = pd.Series(area, index=frame.index, dtype=float)
    if FOOTPRINT_COL in frame.columns:
        given = _numeric(frame, FOOTPRINT_COL, file=file)
        if (given < 0).any():
            row = frame.index[(given < 0).to_numpy()][0]
            raise InputError("footprint is negative", file=file, row=row, column=FOOTPRINT_COL)
        return given.fillna(computed)
    return computed


def _text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    """A column as stripped, casefolded text; "" where missing or absent."""
    if column is None or column not in frame.columns:
        return pd.Series("", index=frame.index, dtype=object)
    values = frame[column]
    missing = values.isna().to_numpy()
    text = values.astype(object).where(~missing, "").map(lambda v: str(v).strip().casefold())
    return text.astype(object)


def _inside(frame: gpd.GeoDataFrame, areas: Areas | None) -> np.ndarray:
    """True where a building lies in a residential area (its representative point)."""
    inside = np.zeros(len(frame), dtype=bool)
    if LANDUSE_COL in frame.columns:
        inside |= frame[LANDUSE_COL].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if areas is None:
        return inside
    layers = [areas] if isinstance(areas, gpd.GeoDataFrame | gpd.GeoSeries) else list(areas)
    polygons: list[Any] = []
    for layer in layers:
        if layer is None or len(layer) == 0:
            continue
        geo = layer.geometry if isinstance(layer, gpd.GeoDataFrame) else layer
        if geo.crs is not None and frame.crs is not None and not geo.crs.equals(frame.crs):
            geo = geo.to_crs(frame.crs)
        geoms = np.asarray(geo.array)
        keep = np.isin(shapely.get_type_id(geoms), [3, 6])
        polygons.extend(shapely.make_valid(geoms[keep]))
    if not polygons or not len(frame):
        return inside
    points = shapely.point_on_surface(np.asarray(frame.geometry.array))
    tree = shapely.STRtree(np.asarray(polygons, dtype=object))
    hit, _ = tree.query(points, predicate="within")
    inside[np.unique(hit)] = True
    return inside


def _ids(index: pd.Index, mask: ArrayLike) -> str:
    return ", ".join(str(i) for i in index[np.asarray(mask, dtype=bool)][:_SHOW_IDS])


def needs_estimate(buildings: pd.DataFrame, *, households_col: str = "households") -> bool:
    """Whether :func:`estimate_households` has yet to run on ``buildings``.

    True when there is no ``households_source`` column, or a missing household
    count has no source recorded. The library entry points (coverage, siting,
    grids) estimate exactly then, so a frame estimated by the caller (with its
    own options, or with estimation off) is used as it is.

    Examples
    --------
    >>> import pandas as pd
    >>> needs_estimate(pd.DataFrame({"households": [10.0, None]}))
    True
    >>> needs_estimate(pd.DataFrame({"households": [10.0, None],
    ...                              "households_source": ["given", "none"]}))
    False
    """
    if SOURCE_COL not in buildings.columns:
        return True
    if households_col not in buildings.columns:
        return True
    return bool((buildings[households_col].isna() & buildings[SOURCE_COL].isna()).any())


def estimate_households(
    buildings: gpd.GeoDataFrame,
    *,
    params: Params,
    floors_col: str = "floors",
    households_col: str = "households",
    use_col: str = "use",
    type_col: str | None = TYPE_COL,
    height_col: str | None = "height_m",
    name_col: str | None = "name",
    residential_uses: Collection[str] = ("residential",),
    areas: Areas | None = None,
    estimate: bool = True,
    default_levels: float | None = None,
) -> gpd.GeoDataFrame:
    """Fill missing household counts of buildings from footprint and levels.

    Parameters
    ----------
    buildings
        Buildings (polygons, or points with a ``footprint_m2`` column) in a
        projected CRS in metres. ``buildings.attrs['source_file']``, when
        present, names the file in errors and warnings. Not modified.
    params
        A geoplan ``Profile`` (anything with ``.parameter(name)``) or a mapping
        of name to value, carrying ``net_to_gross``, ``dwelling_floor_area_m2``,
        ``floor_height_m`` (when a height stands in for floors) and
        ``default_levels`` (a table of building type = floors; without it,
        buildings with neither floors nor height are not estimated and only
        ``residential_uses`` are residential). ``residential_name_words`` is
        optional.
    floors_col, households_col, use_col, type_col, height_col, name_col
        Column names (any language). Missing columns count as all-missing;
        without ``use_col`` and ``type_col`` every building is residential
        (with a :class:`DataQualityWarning`). ``height_col=None`` disables the
        height fallback.
    residential_uses
        Values of ``use_col`` that mean residential (compared case-insensitively),
        besides the keys of ``default_levels``.
    areas
        Residential areas (polygons: compounds, communities; one frame or a
        list, ``None`` items skipped, reprojected to the buildings' CRS): a
        building of unknown type counts only inside one of them or inside an
        OSM ``landuse=residential`` (column ``in_residential_landuse``).
    estimate
        False: keep the given counts only (residential buildings without one
        stay empty, source ``"none"``); buildings that hold no households still
        get 0.
    default_levels
        Floors for every residential type whose floors and height are unknown,
        instead of the profile's ``default_levels`` table.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``households_col`` filled (float) where it was missing: the
        formula of the module docstring for residential buildings, 0 for the
        others. Adds ``households_source``, ``households_estimated``,
        ``building_class`` and ``footprint_m2`` (see the module docstring).
        Residential rows that cannot be estimated (no levels at all, or no
        footprint) stay NaN, with one :class:`DataQualityWarning` giving their
        number and first ids; buildings of unknown type outside every
        residential area get 0, with one warning giving their number.

    Raises
    ------
    InputError
        The frame is not in a projected metric CRS, or a count, floor, height
        or footprint cell is not a number, or a household count is negative.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame(
    ...     {"use": ["residential", "residential", "commercial", "residential"],
    ...      "floors": [6, None, 2, None], "height_m": [None, 30.0, None, None]},
    ...     geometry=[box(0, 0, 25, 40), box(100, 0, 120, 50), box(200, 0, 220, 20),
    ...               box(300, 0, 325, 40)],
    ...     index=["B1", "B2", "B3", "B4"], crs=32650)
    >>> params = {"net_to_gross": 0.75, "dwelling_floor_area_m2": 90.0, "floor_height_m": 3.0,
    ...           "default_levels": {"residential": 3}}
    >>> out = estimate_households(b, params=params)
    >>> out[["footprint_m2", "households", "households_source", "households_estimated"]]
        footprint_m2  households households_source  households_estimated
    B1        1000.0        50.0            levels                  True
    B2        1000.0        83.0            height                  True
    B3         400.0         0.0              none                 False
    B4        1000.0        25.0    default_levels                  True
    """
    file = buildings.attrs.get("source_file")
    prefix = f"{file}: " if file else ""
    crs = buildings.crs
    units = {axis.unit_name for axis in crs.axis_info} if crs is not None else set()
    if crs is None or not crs.is_projected or not units <= {"metre", "meter"}:
        what = "no CRS" if crs is None else f"the CRS {pyproj.CRS(crs).name}"
        raise InputError(
            f"household estimates need footprints in square metres, but the buildings have "
            f"{what}; project them first (geoplan.crs.to_metric)",
            file=file,
        )
    if default_levels is not None:
        override = float(default_levels)
        if not math.isfinite(override) or override <= 0:
            raise ValueError(f"default_levels must be a positive number, got {default_levels!r}")
    out = buildings.copy()
    index = out.index

    if households_col in out.columns:
        households = _numeric(out, households_col, file=file)
        negative = households < 0
        if negative.any():
            row = index[negative.to_numpy()][0]
            raise InputError("households is negative", file=file, row=row, column=households_col)
    else:
        households = pd.Series(np.nan, index=index, dtype=float)
    if ESTIMATED_COL in out.columns:
        was_estimated = out[ESTIMATED_COL].astype("boolean").fillna(False).to_numpy(dtype=bool)
    else:
        was_estimated = np.zeros(len(out), dtype=bool)
    given_source = out[SOURCE_COL].astype(object).to_numpy() if SOURCE_COL in out.columns else None
    missing = households.isna().to_numpy()

    # --- which buildings hold households
    table = _levels_table(params)
    types = set(table or {}) - {UNKNOWN_TYPE}
    has_use = use_col in out.columns
    has_type = type_col is not None and type_col in out.columns
    use = _text(out, use_col)
    kind = _text(out, type_col).where(lambda k: k != "", use).to_numpy(dtype=object)
    wanted = {str(u).strip().casefold() for u in residential_uses}
    by_use = use.isin(wanted).to_numpy()
    if not (has_use or has_type):
        if missing.any():  # said only when it decides a count
            warnings.warn(
                f"{prefix}no {use_col!r} column: every building is treated as residential",
                DataQualityWarning,
                stacklevel=2,
            )
        residential = np.ones(len(out), dtype=bool)
        unknown = np.zeros(len(out), dtype=bool)
    else:
        residential = np.isin(kind, list(types)) | by_use
        unknown = ~residential & np.isin(kind, ["", UNKNOWN_TYPE])
    words = _name_words(params)
    not_words = _name_words(params, "non_residential_name_words")
    named = np.zeros(len(out), dtype=bool)
    if (words or not_words) and unknown.any():
        names = [str(n).casefold() for n in _text(out, name_col).to_numpy(dtype=object)]
        named = unknown & np.array([any(w in n for w in words) for n in names], dtype=bool)
        # a canteen or an activity centre inside a compound is no home (食堂, 活动中心)
        named_not = (
            unknown & ~named & np.array([any(w in n for w in not_words) for n in names], dtype=bool)
        )
        residential |= named
        unknown &= ~(named | named_not)
    inside = _inside(out, areas) if unknown.any() else np.zeros(len(out), dtype=bool)
    in_area = unknown & inside
    outside = unknown & ~inside
    counts = residential | in_area
    cls = np.full(len(out), "non_residential", dtype=object)
    cls[residential] = "residential"
    cls[in_area] = "unknown_in_area"
    cls[outside] = "unknown_outside"

    # --- levels: tag, else height, else the type's default
    footprint = _footprint(out, file=file)
    todo = missing & counts if estimate else np.zeros(len(out), dtype=bool)
    floors = _positive(out, floors_col, file=file).to_numpy(dtype=float)
    source = np.full(len(out), "none", dtype=object)
    source[todo & ~np.isnan(floors)] = "levels"
    need_height = todo & np.isnan(floors)
    if need_height.any():
        height = _positive(out, height_col, file=file).to_numpy(dtype=float)
        use_height = need_height & ~np.isnan(height)
        if use_height.any():
            floor_height = _param(params, "floor_height_m")
            from_height = np.maximum(1.0, np.floor(height / floor_height + 0.5))
            floors = np.where(use_height, from_height, floors)
            source[use_height] = "height"
    need_default = todo & np.isnan(floors)
    if need_default.any() and (default_levels is not None or table is not None):
        if default_levels is not None:
            defaults = np.full(len(out), float(default_levels))
        else:
            assert table is not None
            key = np.where(in_area, UNKNOWN_TYPE, np.where(named, "residential", kind))
            key = np.where(np.isin(key, list(table)), key, "residential")
            defaults = np.array([table.get(str(k), np.nan) for k in key], dtype=float)
        use_default = need_default & ~np.isnan(defaults)
        floors = np.where(use_default, defaults, floors)
        source[use_default] = "default_levels"

    net_to_gross = _param(params, "net_to_gross") if todo.any() else 1.0
    if net_to_gross > 1:
        raise ValueError(
            f"net_to_gross is dwelling floor area over gross floor area, at most 1; "
            f"got {net_to_gross}"
        )
    dwelling = _param(params, "dwelling_floor_area_m2") if todo.any() else 1.0
    # round to 1e-9 of a household first, so 49.999999999 from float error gives 50
    gross = footprint.to_numpy(dtype=float) * floors * net_to_gross / dwelling
    estimate_hh = np.floor(np.round(gross, 9))

    filled = households.to_numpy(dtype=float).copy()
    ok = todo & ~np.isnan(estimate_hh)
    filled[ok] = estimate_hh[ok]
    filled[missing & ~counts] = 0.0
    source[~ok] = "none"
    given = ~missing
    source[given] = "given"
    if given_source is not None:  # a re-run keeps the recorded source of earlier counts
        keep = given & pd.Series(given_source).isin(SOURCES).to_numpy()
        source[keep] = given_source[keep]
    estimated = np.isin(source, list(ESTIMATED_SOURCES))
    estimated |= was_estimated & given  # an input's own flag is kept

    if estimate:
        failed = todo & ~ok
        if failed.any():
            no_floors = failed & np.isnan(floors)
            no_footprint = failed & footprint.isna().to_numpy()
            warnings.warn(
                f"{prefix}{int(failed.sum())} residential building(s) "
                f"have no household count and cannot be estimated "
                f"({int(no_floors.sum())} without floors or height"
                f"{' and no default_levels' if table is None and default_levels is None else ''}, "
                f"{int(no_footprint.sum())} without a footprint); households left empty "
                f"(first ids: {_ids(index, failed)})",
                DataQualityWarning,
                stacklevel=2,
            )
    left_out = outside & missing
    if left_out.any():
        warnings.warn(
            f"{prefix}{int(left_out.sum())} building(s) of unknown type (building=yes or no "
            f"{use_col!r}) lie outside every residential area (landuse=residential, compound "
            f"or community): counted as 0 households (first ids: {_ids(index, left_out)})",
            DataQualityWarning,
            stacklevel=2,
        )

    out[households_col] = filled.astype(float)
    out[ESTIMATED_COL] = estimated.astype(bool)
    out[SOURCE_COL] = pd.Series(source, index=index, dtype=object)
    out[CLASS_COL] = pd.Series(cls, index=index, dtype=object)
    out[FOOTPRINT_COL] = footprint.astype(float)
    return out


def households_summary(
    buildings: pd.DataFrame, *, households_col: str = "households"
) -> dict[str, Any]:
    """Where the households of a frame come from, for a result's summary.

    Returns ``households_estimated_share`` (estimated households over all,
    None when there are none), ``households_by_source`` and
    ``buildings_by_source`` (keys :data:`SOURCES`), and the numbers of buildings
    left out: ``buildings_unknown_outside`` (type unknown, outside every
    residential area) and ``buildings_non_residential``.

    Examples
    --------
    >>> import pandas as pd
    >>> b = pd.DataFrame({"households": [30.0, 70.0, 0.0],
    ...                   "households_source": ["given", "default_levels", "none"],
    ...                   "building_class": ["residential", "residential", "unknown_outside"]})
    >>> s = households_summary(b)
    >>> s["households_estimated_share"], s["households_by_source"]["default_levels"]
    (0.7, 70.0)
    >>> s["buildings_unknown_outside"]
    1
    """
    if households_col in buildings.columns:
        hh = pd.to_numeric(buildings[households_col], errors="coerce").astype(float)
    else:
        hh = pd.Series(np.nan, index=buildings.index, dtype=float)
    if SOURCE_COL in buildings.columns:
        src = buildings[SOURCE_COL].astype(object).where(buildings[SOURCE_COL].notna(), "none")
    else:
        src = pd.Series(np.where(hh.notna(), "given", "none"), index=buildings.index)
    weights = hh.fillna(0.0)
    by_hh = {s: float(weights[(src == s).to_numpy()].sum()) for s in SOURCES}
    by_n = {s: int((src == s).sum()) for s in SOURCES}
    total = float(weights.sum())
    est = sum(by_hh[s] for s in ESTIMATED_SOURCES)
    cls = buildings[CLASS_COL] if CLASS_COL in buildings.columns else pd.Series(dtype=object)
    return {
        "households_estimated_share": round(est / total, 6) if total > 0 else None,
        "households_by_source": by_hh,
        "buildings_by_source": by_n,
        "buildings_unknown_outside": int((cls == "unknown_outside").sum()),
        "buildings_non_residential": int((cls == "non_residential").sum()),
    }


def _pct(x: float) -> str:
    text = f"{x:.0%}"
    if (text == "0%" and x > 0) or (text == "100%" and x < 1):
        text = f"{x:.1%}"
    return text


_SOURCE_LABELS = {
    "levels": ("按层数", "from levels"),
    "height": ("按高度", "from height"),
    "default_levels": ("按默认层数", "from default levels"),
}


def _summary_number(summary: Mapping[str, object], key: str) -> float | None:
    """``summary[key]`` as a float; None when absent or not a number."""
    value = summary.get(key)
    return float(value) if isinstance(value, float | int | SupportsFloat) else None


def describe_households(summary: Mapping[str, object], *, lang: str = "zh") -> str:
    """Total households and the estimated share, as a planner reads them.

    ``summary`` holds ``households`` and the keys of :func:`households_summary`.

    Examples
    --------
    >>> s = {"households": 670.0, "households_estimated_share": 0.95,
    ...      "households_by_source": {"given": 33.5, "levels": 20.1, "height": 0.0,
    ...                               "default_levels": 616.4, "none": 0.0},
    ...      "buildings_unknown_outside": 12}
    >>> print(describe_households(s).split("；")[0])
    670 户，其中 95% 为估算（按层数 3%，按默认层数 92%）
    >>> print(describe_households(s, lang="en").split("; ")[0])
    670 households, 95% of them estimated (3% from levels, 92% from default levels)
    >>> "12 栋类型不明的建筑" in describe_households(s)
    True
    """
    zh = lang == "zh"
    total = _summary_number(summary, "households") or 0.0
    share = _summary_number(summary, "households_estimated_share")
    by = summary.get("households_by_source")
    by = by if isinstance(by, Mapping) else {}
    text = f"{total:,.0f} 户" if zh else f"{total:,.0f} households"
    if share:
        parts = [
            (
                f"{_SOURCE_LABELS[s][0]} {_pct(by[s] / total)}"
                if zh
                else f"{_pct(by[s] / total)} {_SOURCE_LABELS[s][1]}"
            )
            for s in ("levels", "height", "default_levels")
            if by.get(s) and total > 0
        ]
        inner = ("，" if zh else ", ").join(parts)
        text += (
            f"，其中 {_pct(share)} 为估算（{inner}）"
            if zh
            else f", {_pct(share)} of them estimated ({inner})"
        )
    elif total > 0:
        text += "（均为给定户数）" if zh else " (all given)"
    left = int(_summary_number(summary, "buildings_unknown_outside") or 0)
    if left:
        text += (
            f"；{left} 栋类型不明的建筑不在居住用地、小区或社区内，未计户数"
            if zh
            else f"; {left} buildings of unknown type outside every residential area, "
            "compound or community are not counted"
        )
    return text


def estimate_residents(
    households: pd.Series | ArrayLike, *, persons_per_household: float
) -> pd.Series:
    """Residents from household counts: ``households x persons_per_household``.

    Parameters
    ----------
    households
        A Series (its index is kept) or array-like of household counts; NaN stays
        NaN.
    persons_per_household
        Average household size, from a profile (``persons_per_household``).

    Returns
    -------
    pandas.Series
        Float series named ``residents`` (not rounded).

    Examples
    --------
    >>> import pandas as pd
    >>> estimate_residents(pd.Series([100.0, 0.0], index=["C1", "C2"]),
    ...                    persons_per_household=2.62).round(1).tolist()
    [262.0, 0.0]
    """
    pph = float(persons_per_household)
    if not np.isfinite(pph) or pph <= 0:
        raise ValueError(
            f"persons_per_household must be a positive number, got {persons_per_household!r}"
        )
    if isinstance(households, pd.Series):
        counts = pd.to_numeric(households, errors="raise").astype(float)
    else:
        counts = pd.Series(np.asarray(households, dtype=float))
    return (counts * pph).rename("residents")


def residents_of(
    buildings: pd.DataFrame, households: np.ndarray, *, persons_per_household: float
) -> np.ndarray:
    """Residents per building (the audits' weights by residents): the ``residents``
    column where it has a number, else ``households`` (aligned to the rows) x
    ``persons_per_household`` (from a profile).

    Examples
    --------
    >>> b = pd.DataFrame({"residents": [50.0, None]})
    >>> residents_of(b, np.array([10.0, 10.0]), persons_per_household=2.5).tolist()
    [50.0, 25.0]
    """
    estimated = households * persons_per_household
    if "residents" not in buildings.columns:
        return estimated
    given = pd.to_numeric(buildings["residents"], errors="coerce").astype(float).to_numpy()
    return np.where(np.isnan(given), estimated, given)

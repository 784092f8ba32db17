"""Household and resident estimates for buildings without counts.

Household counts are sparse in real building data (OpenStreetMap, footprint
datasets), but floors or heights are often known. For a residential building
whose household count is missing::

    households = floor(footprint_m2 x floors x net_to_gross / dwelling_floor_area_m2)

- ``footprint_m2`` is the polygon's area in the frame's metric CRS (a
  ``footprint_m2`` column, where given, wins; point buildings need it given);
- ``floors`` comes from the floors column, else from the height column as
  ``height / floor_height_m`` rounded to the nearest whole floor (at least 1);
- ``net_to_gross`` (dwelling floor area over gross floor area),
  ``dwelling_floor_area_m2`` and ``floor_height_m`` are profile parameters.

**Rounding.** The result is rounded *down*: a building holds whole dwellings,
and a part-dwelling of leftover floor area (stairs, a shop, a plant room) is not
a household. Totals are therefore conservative, by half a household per
building on average, and a residential building with less net floor area than
one dwelling (a shed, a garage) gets 0 households.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping
from typing import Any, Protocol, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import DataQualityWarning, InputError

__all__ = ["estimate_households", "estimate_residents"]

ESTIMATED_COL = "households_estimated"
FOOTPRINT_COL = "footprint_m2"
_SHOW_IDS = 5  # ids listed in a warning


class _HasParameters(Protocol):
    """A geoplan Profile, as far as this module needs one."""

    def parameter(self, name: str) -> Any: ...


Params: TypeAlias = Mapping[str, Any] | _HasParameters


def _param(params: Params, name: str) -> float:
    """A positive number from a Profile (``.parameter(name)``) or a mapping."""
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
    value = getattr(value, "value", value)  # a profile Parameter object
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"parameter {name!r} must be a number, got {value!r}") from None
    if not np.isfinite(number) or number <= 0:
        raise ValueError(f"parameter {name!r} must be a positive number, got {value!r}")
    return number


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


def _residential(
    frame: pd.DataFrame, use_col: str, residential_uses: Collection[str], *, file: str | None
) -> pd.Series:
    """True for residential buildings; a missing use counts as residential (warned)."""
    if use_col not in frame.columns:
        warnings.warn(
            f"{file + ': ' if file else ''}no {use_col!r} column: every building is "
            "treated as residential",
            DataQualityWarning,
            stacklevel=3,
        )
        return pd.Series(True, index=frame.index, dtype=bool)
    wanted = {str(u).strip().casefold() for u in residential_uses}
    use = frame[use_col]
    missing = use.isna().to_numpy()
    names = use.astype(object).where(~missing, "").map(lambda u: str(u).strip().casefold())
    residential = names.isin(wanted).to_numpy() | missing
    if missing.any():
        ids = ", ".join(str(i) for i in frame.index[missing][:_SHOW_IDS])
        warnings.warn(
            f"{file + ': ' if file else ''}{int(missing.sum())} building(s) have no "
            f"{use_col!r}; treated as residential (first ids: {ids})",
            DataQualityWarning,
            stacklevel=3,
        )
    return pd.Series(residential, index=frame.index, dtype=bool)


def estimate_households(
    buildings: gpd.GeoDataFrame,
    *,
    params: Params,
    floors_col: str = "floors",
    households_col: str = "households",
    use_col: str = "use",
    height_col: str | None = "height_m",
    residential_uses: Collection[str] = ("residential",),
) -> gpd.GeoDataFrame:
    """Fill missing household counts of buildings from footprint and floors.

    Parameters
    ----------
    buildings
        Buildings (polygons, or points with a ``footprint_m2`` column) in a
        projected CRS in metres. ``buildings.attrs['source_file']``, when
        present, names the file in errors and warnings. Not modified.
    params
        A geoplan ``Profile`` (anything with ``.parameter(name)``) or a mapping
        of name to value, carrying ``net_to_gross``, ``dwelling_floor_area_m2``
        and, when a height has to stand in for floors, ``floor_height_m``.
    floors_col, households_col, use_col, height_col
        Column names (any language). Missing columns count as all-missing,
        except ``use_col``: without it every building is residential (with a
        :class:`DataQualityWarning`). ``height_col=None`` disables the height
        fallback.
    residential_uses
        Values of ``use_col`` that mean residential (compared case-insensitively).
        Buildings with no use value count as residential (warned).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``households_col`` filled (float) where it was missing:
        the formula of the module docstring for residential buildings, 0 for
        the others. Adds ``households_estimated`` (True where the count was
        estimated by the formula; kept True where the input already said so)
        and ``footprint_m2``. Residential rows that cannot be estimated (no
        floors and no height, or no footprint) stay NaN, with one
        :class:`DataQualityWarning` giving their number and first ids.

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
    ...     {"use": ["residential", "residential", "commercial"], "floors": [6, None, 2],
    ...      "height_m": [None, 30.0, None]},
    ...     geometry=[box(0, 0, 25, 40), box(100, 0, 120, 50), box(200, 0, 220, 20)],
    ...     index=["B1", "B2", "B3"], crs=32650)
    >>> params = {"net_to_gross": 0.75, "dwelling_floor_area_m2": 90.0, "floor_height_m": 3.0}
    >>> out = estimate_households(b, params=params)
    >>> out[["footprint_m2", "households", "households_estimated"]]
        footprint_m2  households  households_estimated
    B1        1000.0        50.0                  True
    B2        1000.0        83.0                  True
    B3         400.0         0.0                 False
    """
    file = buildings.attrs.get("source_file")
    crs = buildings.crs
    units = {axis.unit_name for axis in crs.axis_info} if crs is not None else set()
    if crs is None or not crs.is_projected or not units <= {"metre", "meter"}:
        what = "no CRS" if crs is None else f"the CRS {pyproj.CRS(crs).name}"
        raise InputError(
            f"household estimates need footprints in square metres, but the buildings have "
            f"{what}; project them first (geoplan.crs.to_metric)",
            file=file,
        )
    out = buildings.copy()

    if households_col in out.columns:
        households = _numeric(out, households_col, file=file)
        negative = households < 0
        if negative.any():
            row = out.index[negative.to_numpy()][0]
            raise InputError("households is negative", file=file, row=row, column=households_col)
    else:
        households = pd.Series(np.nan, index=out.index, dtype=float)
    if ESTIMATED_COL in out.columns:
        was_estimated = out[ESTIMATED_COL].astype("boolean").fillna(False).astype(bool)
    else:
        was_estimated = pd.Series(False, index=out.index, dtype=bool)

    missing = households.isna()
    residential = _residential(out, use_col, residential_uses, file=file)
    footprint = _footprint(out, file=file)
    floors = _positive(out, floors_col, file=file)
    todo = missing & residential

    need_height = todo & floors.isna()
    if need_height.any():
        height = _positive(out, height_col, file=file)
        if height[need_height].notna().any():
            floor_height = _param(params, "floor_height_m")
            from_height = np.maximum(1.0, np.floor(height / floor_height + 0.5))
            floors = floors.fillna(from_height)

    net_to_gross = _param(params, "net_to_gross")
    if net_to_gross > 1:
        raise ValueError(
            f"net_to_gross is dwelling floor area over gross floor area, at most 1; "
            f"got {net_to_gross}"
        )
    dwelling = _param(params, "dwelling_floor_area_m2")
    # round to 1e-9 of a household first, so 49.999999999 from float error gives 50
    estimate = np.floor((footprint * floors * net_to_gross / dwelling).round(9))

    filled = households.copy()
    filled[todo] = estimate[todo]
    filled[missing & ~residential] = 0.0
    estimated = (todo & estimate.notna()) | (was_estimated & ~missing)

    failed = todo & estimate.isna()
    if failed.any():
        no_floors = failed & floors.isna()
        no_footprint = failed & footprint.isna()
        ids = ", ".join(str(i) for i in out.index[failed.to_numpy()][:_SHOW_IDS])
        warnings.warn(
            f"{file + ': ' if file else ''}{int(failed.sum())} residential building(s) "
            f"have no household count and cannot be estimated "
            f"({int(no_floors.sum())} without floors or height, "
            f"{int(no_footprint.sum())} without a footprint); households left empty "
            f"(first ids: {ids})",
            DataQualityWarning,
            stacklevel=2,
        )

    out[households_col] = filled.astype(float)
    out[ESTIMATED_COL] = estimated.astype(bool)
    out[FOOTPRINT_COL] = footprint.astype(float)
    return out


def estimate_residents(households: Any, *, persons_per_household: float) -> pd.Series:
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

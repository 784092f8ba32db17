"""Buildings sorted into coverage classes and aggregated into square cells.

The data behind every buildings layer, interactive or static: each building's
class for one category (:func:`building_classes`), the share of households not
covered per square cell (:func:`coverage_cells`) and the cell side that keeps a
city's page small (:func:`adaptive_cell_m`). No folium here: a static map needs
none of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.render import _labels as lb

__all__ = [
    "DEFAULT_AGGREGATE_ABOVE",
    "DEFAULT_CELL_M",
    "DEFAULT_EXTRA_AGGREGATE_ABOVE",
    "DEFAULT_MAX_CELLS",
    "CellGrid",
    "CellShares",
    "adaptive_cell_m",
    "building_classes",
    "cell_grid",
    "cell_shares",
    "coverage_cells",
    "covered_column",
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


def covered_column(buildings: pd.DataFrame, category: str) -> pd.Series:
    """The buildings' ``covered__<category>`` column; an :class:`InputError` without it.

    Examples
    --------
    >>> import pandas as pd
    >>> covered_column(pd.DataFrame({"covered__wet_market": [True]}), "wet_market").tolist()
    [True]
    """
    name = f"covered__{category}"
    if name not in buildings.columns:
        raise InputError(f"buildings has no column {name!r}", column=name)
    return buildings[name]


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
    covered = covered_column(buildings, category)
    keys = np.array(
        ["unknown" if pd.isna(v) else ("covered" if bool(v) else "not_covered") for v in covered],
        dtype=object,
    )
    if "households" in buildings.columns:
        hh = pd.to_numeric(buildings["households"], errors="coerce").to_numpy(dtype=float)
        if np.nansum(hh) > 0:
            keys[hh == 0] = "no_households"
    return keys


def _binned(
    buildings: gpd.GeoDataFrame, cell_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(located, cell column, cell row, households) of each building, for the cells.

    A building sits at its point on the surface (a point is its own); buildings
    without households count one each when none has any.
    """
    if buildings.crs is None or not buildings.crs.is_projected:
        raise InputError(
            "buildings must be in a projected (metric) CRS to aggregate", column="geometry"
        )
    if not cell_m > 0:
        raise InputError(f"cell_m must be positive, not {cell_m}", column="cell_m")
    pts = np.asarray(buildings.geometry.values).copy()
    areas = shapely.get_type_id(pts) != 0  # a point is its own point on the surface
    if areas.any():
        pts[areas] = shapely.point_on_surface(pts[areas])
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
    return ok, ix, iy, hh


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
    covered = covered_column(buildings, category)
    ok, ix, iy, hh = _binned(buildings, cell_m)
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


@dataclass(frozen=True)
class CellGrid:
    """Buildings binned once into square cells, for the shares of several categories.

    ``ix``, ``iy``: the column and row of each non-empty cell (a cell spans
    ``[ix * cell_m, (ix + 1) * cell_m)``), sorted by row then column; ``households``
    and ``buildings`` per cell; ``cell_of``: each located building's cell (position in
    ``ix``); ``located``: which buildings have a location (a point on their surface);
    ``weights``: each located building's households, as :func:`coverage_cells` counts
    them (missing households: 0; none known at all: 1 per building).
    """

    cell_m: float
    crs: object
    ix: np.ndarray
    iy: np.ndarray
    households: np.ndarray
    buildings: np.ndarray
    cell_of: np.ndarray
    located: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.ix)


@dataclass(frozen=True)
class CellShares:
    """One category's coverage per cell of a :class:`CellGrid` (arrays in its order):
    households with a known coverage, those not covered, their share (NaN when none
    is known) and the class (a key of :data:`geoplan.render._labels.CELL_CLASSES`)."""

    known_households: np.ndarray
    uncovered_households: np.ndarray
    uncovered_share: np.ndarray
    cls: np.ndarray


def cell_grid(buildings: gpd.GeoDataFrame, *, cell_m: float) -> CellGrid:
    """The buildings binned into square cells of ``cell_m`` metres (see :class:`CellGrid`).

    The cells and their households are those of :func:`coverage_cells`; the
    binning is done once, however many categories are then counted on it.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"households": [10.0, 30.0, 5.0]},
    ...     geometry=[shapely.Point(10, 10), shapely.Point(20, 20), shapely.Point(300, 10)],
    ...     crs=32650)
    >>> g = cell_grid(b, cell_m=250)
    >>> g.ix.tolist(), g.households.tolist(), g.cell_of.tolist()
    ([0, 1], [40.0, 5.0], [0, 0, 1])
    """
    ok, ix, iy, hh = _binned(buildings, cell_m)
    if len(ix):
        x0, y0 = int(ix.min()), int(iy.min())
        width = int(ix.max()) - x0 + 1
        key = (iy - y0) * width + (ix - x0)
    else:
        x0 = y0 = width = 0
        key = np.zeros(0, dtype=np.int64)
    keys, cell_of = np.unique(key, return_inverse=True)
    n = len(keys)
    return CellGrid(
        cell_m=float(cell_m),
        crs=buildings.crs,
        ix=(keys % max(width, 1) + x0).astype(np.int64),
        iy=(keys // max(width, 1) + y0).astype(np.int64),
        households=np.bincount(cell_of, weights=hh, minlength=n),
        buildings=np.bincount(cell_of, minlength=n).astype(np.int64),
        cell_of=cell_of.astype(np.int64),
        located=ok,
        weights=hh,
    )


def cell_shares(grid: CellGrid, buildings: pd.DataFrame, category: str) -> CellShares:
    """The share of households not covered by ``category``, per cell of ``grid``
    (made by :func:`cell_grid` from the same ``buildings``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> b = gpd.GeoDataFrame({"households": [10.0, 30.0], "covered__wet_market": [True, False]},
    ...     geometry=[shapely.Point(10, 10), shapely.Point(20, 20)], crs=32650)
    >>> s = cell_shares(cell_grid(b, cell_m=250), b, "wet_market")
    >>> s.uncovered_share.tolist(), s.cls.tolist()
    ([0.75], ['c3'])
    """
    covered = covered_column(buildings, category)
    if covered.dtype == bool or isinstance(covered.dtype, pd.BooleanDtype):
        known = covered.notna().to_numpy(dtype=bool)[grid.located]  # (no objects made)
        uncovered = known & ~covered.fillna(True).to_numpy(dtype=bool)[grid.located]
    else:
        values = covered.to_numpy(dtype=object)[grid.located]
        known = ~pd.isna(values)
        uncovered = known.copy()
        uncovered[known] = ~values[known].astype(bool)
    n = len(grid)
    known_hh = np.bincount(grid.cell_of, weights=np.where(known, grid.weights, 0.0), minlength=n)
    uncovered_hh = np.bincount(
        grid.cell_of, weights=np.where(uncovered, grid.weights, 0.0), minlength=n
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(known_hh > 0, uncovered_hh / known_hh, np.nan)
    bins = np.digitize(np.nan_to_num(share, nan=0.0), lb.CELL_BREAKS[1:-1], right=False)
    cls = np.where(np.isnan(share), "empty", np.char.add("c", bins.astype(str)))
    return CellShares(
        known_households=known_hh,
        uncovered_households=uncovered_hh,
        uncovered_share=share,
        cls=cls.astype(object),
    )

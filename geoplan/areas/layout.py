"""The areas a run is cut into, and which area answers for each building.

Areas come from a polygon layer (district or 街道 boundaries: :func:`read_areas`)
or are a regular grid of tiles over the buildings (:func:`tile_areas`). Each
building belongs to exactly one area: the first, in the areas' order, that
contains its representative point (the point it is snapped by,
``shapely.point_on_surface``), boundary included (:func:`assign_areas`). A
building in no area is answered by none.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError

if TYPE_CHECKING:
    from geoplan._types import CRSLike

__all__ = [
    "AREA_ID",
    "assign_areas",
    "assign_points",
    "building_points",
    "read_areas",
    "tile_areas",
]

#: The index name of an areas frame, and the column of the per-area table.
AREA_ID = "area_id"


def read_areas(
    path: str | os.PathLike[str],
    *,
    id_column: str | None = None,
    layer: str | None = None,
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
) -> gpd.GeoDataFrame:
    """Area polygons from a file, indexed by ``area_id``, in ``metric_crs``.

    Parameters
    ----------
    path
        A polygon layer (GeoPackage, GeoJSON, Shapefile, GeoParquet ...): district
        or 街道 boundaries. In a GeoPackage of several layers, ``areas`` is taken
        unless ``layer`` names one.
    id_column
        The column of area ids (unique, none empty); default the rows numbered
        ``1, 2, ...`` in file order.
    source_crs, metric_crs
        As for :func:`geoplan.io.readers.read_communities` (``source_crs="gcj02"``
        for AMap boundaries).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import box
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "areas.gpkg"
    >>> gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 1000, 1000),
    ...     box(1000, 0, 2000, 1000)], crs=32650).to_file(p)
    >>> read_areas(p, id_column="code").index.tolist()
    ['A', 'B']
    """
    from geoplan.io.readers import read_aux_layer

    gdf = read_aux_layer(
        path,
        preferred=("areas",),
        geom_types=("Polygon", "MultiPolygon"),
        layer=layer,
        source_crs=source_crs,
        metric_crs=metric_crs,
    )
    label = str(path)
    if id_column is None:
        ids = [str(i + 1) for i in range(len(gdf))]
    else:
        if id_column not in gdf.columns:
            cols = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
            raise InputError(
                f"no column {id_column!r} for --area-id (its columns: {cols or 'none'})",
                file=label,
                column=id_column,
            )
        raw = gdf[id_column]
        ids = ["" if pd.isna(v) else str(v).strip() for v in raw.tolist()]
        ids = [t[:-2] if t.endswith(".0") and t[:-2].isdigit() else t for t in ids]
        empty = [k for k, t in enumerate(ids) if not t]
        if empty:
            raise InputError("empty area id", file=label, row=f"#{empty[0] + 1}", column=id_column)
        seen: dict[str, int] = {}
        for k, t in enumerate(ids):
            if t in seen:
                raise InputError(
                    f"area id {t!r} repeats (rows #{seen[t] + 1} and #{k + 1}); area ids "
                    "must be unique",
                    file=label,
                    column=id_column,
                )
            seen[t] = k
    keep = [c for c in ("name",) if c in gdf.columns and c != id_column]
    out = gpd.GeoDataFrame(
        {c: gdf[c].to_numpy() for c in keep},
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
        index=pd.Index(ids, name=AREA_ID),
    )
    out.attrs["source_file"] = label
    return out


def tile_areas(
    bounds: tuple[float, float, float, float] | np.ndarray,
    n: int | tuple[int, int],
    *,
    crs: CRSLike,
) -> gpd.GeoDataFrame:
    """A regular grid of tiles over ``bounds``, as area polygons.

    ``n`` tiles: ``nx`` columns by ``ny`` rows with ``nx * ny`` close to ``n`` and
    tiles as square as the extent allows (``9`` over a square: 3 x 3); or ``(nx,
    ny)`` exactly. Neighbouring tiles share their edges exactly, and the outer
    edges are ``bounds`` exactly, so every point within ``bounds`` lies in a tile.
    Ids ``r1c1``, ``r1c2`` ... from the south-west corner, row by row.

    Examples
    --------
    >>> t = tile_areas((0.0, 0.0, 3000.0, 3000.0), 9, crs=32650)
    >>> len(t), t.index[:3].tolist(), t.total_bounds.tolist()
    (9, ['r1c1', 'r1c2', 'r1c3'], [0.0, 0.0, 3000.0, 3000.0])
    >>> len(tile_areas((0.0, 0.0, 4000.0, 1000.0), 4, crs=32650))  # 4 x 1
    4
    >>> tile_areas((0.0, 0.0, 4000.0, 1000.0), (3, 3), crs=32650).index[-1]
    'r3c3'
    """
    x0, y0, x1, y1 = (float(v) for v in bounds)
    if not all(math.isfinite(v) for v in (x0, y0, x1, y1)) or x0 > x1 or y0 > y1:
        raise InputError(f"no extent to tile: {tuple(bounds)!r}")
    if isinstance(n, tuple):
        if len(n) != 2 or not all(_whole(k) for k in n):
            raise InputError(f"tiles must be N or (columns, rows) >= 1, not {n!r}")
        nx, ny = int(n[0]), int(n[1])
    else:
        if not _whole(n):
            raise InputError(f"the number of tiles must be a whole number >= 1, not {n!r}")
        w, h = max(x1 - x0, 1e-9), max(y1 - y0, 1e-9)
        nx = max(1, min(int(n), round(math.sqrt(n * w / h))))
        ny = max(1, round(n / nx))
    xs = np.linspace(x0, x1, nx + 1)
    ys = np.linspace(y0, y1, ny + 1)
    if x1 == x0:
        xs[:] = x0
    if y1 == y0:
        ys[:] = y0
    boxes, ids = [], []
    for r in range(ny):
        for c in range(nx):
            boxes.append(shapely.box(xs[c], ys[r], xs[c + 1], ys[r + 1]))
            ids.append(f"r{r + 1}c{c + 1}")
    return gpd.GeoDataFrame(geometry=boxes, crs=crs, index=pd.Index(ids, name=AREA_ID))


def _whole(k: object) -> bool:
    return isinstance(k, int | np.integer) and not isinstance(k, bool) and int(k) >= 1


def building_points(buildings: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """The point of each building that places it in an area (and on the streets).

    ``shapely.point_on_surface`` of polygons, the point itself of points, None
    for a missing or empty geometry.
    """
    geoms = buildings.geometry if isinstance(buildings, gpd.GeoDataFrame) else buildings
    values = np.asarray(geoms.array, dtype=object)
    out = values.copy()
    ok = ~(shapely.is_missing(values) | shapely.is_empty(values))
    out[~ok] = None
    poly = ok & (shapely.get_type_id(values) != 0)
    if poly.any():
        out[poly] = shapely.point_on_surface(values[poly])
    return out


def assign_areas(
    buildings: gpd.GeoDataFrame | gpd.GeoSeries, areas: gpd.GeoDataFrame | gpd.GeoSeries
) -> np.ndarray:
    """The position in ``areas`` of each building's area, -1 for none.

    The first area, in order, that contains the building's representative point
    (:func:`building_points`); a point on an edge two areas share goes to the
    first of them.

    Examples
    --------
    >>> from shapely import Point, box
    >>> a = gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=32650)
    >>> b = gpd.GeoSeries([Point(5, 5), Point(10, 5), Point(15, 5), Point(50, 5)], crs=32650)
    >>> assign_areas(b, a).tolist()
    [0, 0, 1, -1]
    """
    return assign_points(building_points(buildings), areas)


def assign_points(points: np.ndarray, areas: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """:func:`assign_areas` of points already made (:func:`building_points`; None: none)."""
    pts = np.asarray(points, dtype=object)
    polys = np.asarray(
        (areas.geometry if isinstance(areas, gpd.GeoDataFrame) else areas).array, dtype=object
    )
    out = np.full(pts.size, -1, dtype=np.int64)
    ok = np.flatnonzero(~shapely.is_missing(pts))
    if ok.size == 0 or polys.size == 0:
        return out
    pi, ai = shapely.STRtree(polys).query(pts[ok], predicate="intersects")
    if pi.size:
        first = np.full(ok.size, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, pi, ai.astype(np.int64))
        has = first < np.iinfo(np.int64).max
        out[ok[has]] = first[has]
    return out

"""A layer's geometry: built from a table, checked, and projected to metres.

One job: the geometry column of an input layer. A CSV or workbook gets points
from lon/lat columns or shapes from a WKT column; empty, wrongly typed and
invalid geometries are refused or repaired (with a warning); the coordinates
are checked (swapped lon/lat, projected data without a CRS), GCJ-02 / BD-09 are
converted, and the layer is projected to a local metric CRS. Private to
:mod:`geoplan.io.readers`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io._validate import (
    COLUMNS_HINT,
    MAX_LISTED,
    RowLabels,
    numeric_text,
    row_label,
)

if TYPE_CHECKING:
    from geoplan._types import CRSLike

#: Header names of a WKT geometry column in a table (compared case-insensitively).
WKT_COLUMNS = frozenset({"geometry", "wkt", "geom", "the_geom", "几何", "空间信息"})


def points_from_lonlat(
    df: pd.DataFrame,
    *,
    file: str,
    original: Mapping[str, str],
    crs: CRSLike | None,
    rows: RowLabels | None = None,
) -> gpd.GeoDataFrame:
    rows = rows or RowLabels(None, "")
    wkt_col = next((c for c in df.columns if str(c).strip().casefold() in WKT_COLUMNS), None)
    if wkt_col is not None:  # WKT in a CSV or a workbook; WKB in a plain Parquet table
        raw = df[wkt_col].to_numpy(dtype=object)
        given = pd.notna(raw)
        wkb = bool(given.any()) and all(isinstance(v, bytes | bytearray) for v in raw[given])
        if wkb:
            geom = shapely.from_wkb(raw, on_invalid="ignore")
        else:
            text = df[wkt_col].astype("string").fillna("").str.strip()
            geom = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="ignore")
            given = (text != "").to_numpy()
        bad = pd.isna(geom) & given
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            shown = (
                f"WKB: {bytes(raw[pos][:16]).hex()}..." if wkb else f"WKT: {text.iloc[pos][:60]!r}"
            )
            raise InputError(
                f"not valid {shown}",
                file=file,
                row=row_label(df, pos, rows),
                column=original.get(str(wkt_col), str(wkt_col)),
            )
        df = df.drop(columns=wkt_col)
        # like lon/lat columns: coordinates in degrees are WGS84 unless told otherwise;
        # anything else needs --crs
        bounds = shapely.total_bounds(geom)
        degrees = bool(
            np.isfinite(bounds).all()
            and -180 <= bounds[0] <= bounds[2] <= 180
            and -90 <= bounds[1] <= bounds[3] <= 90
        )
        return gpd.GeoDataFrame(df, geometry=geom, crs=4326 if crs is not None or degrees else None)
    if "lon" not in df.columns or "lat" not in df.columns:
        raise InputError(
            "no geometry: a table needs lon/lat (经度/纬度) columns or a WKT geometry column "
            f"(or {COLUMNS_HINT})",
            file=file,
        )
    xy = {}
    for col in ("lon", "lat"):
        values = pd.to_numeric(numeric_text(df[col]), errors="coerce")
        bad = values.isna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{df[col][bad].iloc[0]!r} is not a coordinate",
                file=file,
                row=row_label(df, pos, rows),
                column=original.get(col, col),
            )
        xy[col] = values.to_numpy(dtype=float)
    df = df.drop(columns=["lon", "lat"])
    # lon/lat in a CSV are WGS84 unless the caller says otherwise (e.g. source_crs="gcj02")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy["lon"], xy["lat"]), crs=4326)


def check_geometry(
    gdf: gpd.GeoDataFrame,
    *,
    geom_types: tuple[str, ...],
    file: str,
    row_name: Callable[[object], object] | None = None,
) -> None:
    """Refuse empty and wrongly typed geometries; repair invalid ones, with a warning.

    Rows are named by their index label, or by ``row_name(label)`` when given (a
    layer kept with a plain row position names its rows ``#1, #2 ...``).
    """
    name = row_name or (lambda label: label)
    geom = gdf.geometry
    values = np.asarray(geom.array, dtype=object)
    empty = shapely.is_missing(values) | shapely.is_empty(values)
    if empty.any():
        rid = geom.index[empty][0]
        raise InputError(
            f"empty or missing geometry ({int(empty.sum())} rows)",
            file=file,
            row=name(rid),
            column="geometry",
        )
    wanted = [_TYPE_IDS[t] for t in geom_types if t in _TYPE_IDS]
    wrong = ~np.isin(shapely.get_type_id(values), wanted)
    if wrong.any():
        pos = int(np.flatnonzero(wrong)[0])
        raise InputError(
            f"geometry is a {values[pos].geom_type}; expected {' or '.join(geom_types)}",
            file=file,
            row=name(geom.index[pos]),
            column="geometry",
        )
    invalid = ~shapely.is_valid(values)
    if invalid.any():
        ids = [str(name(i)) for i in geom.index[invalid][:MAX_LISTED]]
        reasons = shapely.is_valid_reason(values[invalid])
        warnings.warn(
            f"{file}: column geometry: {int(invalid.sum())} invalid geometries repaired with "
            f"make_valid (rows {', '.join(ids)}: {reasons[0]})",
            DataQualityWarning,
            stacklevel=4,
        )
        fixed = shapely.make_valid(values[invalid])
        if "Polygon" in geom_types[0]:
            fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        gdf.loc[invalid, "geometry"] = fixed


#: shapely's type id of each geometry type name
_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "LinearRing": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    if g.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else g
    return g


def layer_to_metric(
    gdf: gpd.GeoDataFrame,
    *,
    crs: CRSLike | None,
    metric_crs: CRSLike | None,
    file: str,
    row_name: Callable[[object], object] | None = None,
) -> gpd.GeoDataFrame:
    """Set the CRS the caller says the data is in, check lon/lat, project to metres.

    ``row_name`` as in :func:`check_geometry`.
    """
    from geoplan import crs as gcrs

    if crs is not None:
        if isinstance(crs, str) and crs.lower() in {"gcj02", "gcj-02", "bd09", "bd-09"}:
            if gdf.crs is None:
                gdf = gdf.set_crs(4326)
            _check_lonlat(gdf, file=file, row_name=row_name)
            gdf = gcrs.from_user_crs(gdf, crs)
        else:
            gdf = gdf.set_crs(pyproj.CRS.from_user_input(crs), allow_override=True)
    if gdf.crs is None:
        raise InputError(
            "the data has no CRS; say what the coordinates are with --crs (source_crs= in "
            "Python), e.g. 4326 for WGS84 lon/lat, gcj02 for AMap, bd09 for Baidu",
            file=file,
        )
    if gdf.crs.is_geographic:
        _check_lonlat(gdf, file=file, row_name=row_name)
    return gdf.to_crs(gcrs.local_metric_crs(gdf, zone=metric_crs))


def _check_lonlat(
    gdf: gpd.GeoDataFrame, *, file: str, row_name: Callable[[object], object] | None = None
) -> None:
    from geoplan.crs import looks_swapped

    name = row_name or (lambda label: label)
    pts = gdf.geometry.representative_point()
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    swapped = np.asarray(looks_swapped(lon, lat), dtype=bool)
    if swapped.any():
        rid = name(gdf.index[swapped][0])
        raise InputError(
            f"longitude and latitude look swapped (x={lon[swapped][0]:.4f}, "
            f"y={lat[swapped][0]:.4f}); swap the columns or the coordinate order",
            file=file,
            row=rid,
            column="geometry",
        )
    outside = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if outside.any():
        rid = name(gdf.index[outside][0])
        raise InputError(
            "coordinates are outside the longitude/latitude range: the data is probably "
            "projected; give its CRS with --crs (source_crs= in Python)",
            file=file,
            row=rid,
            column="geometry",
        )

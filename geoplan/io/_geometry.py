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
from collections.abc import Mapping
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
    if wkt_col is not None:  # WKT in a CSV or a workbook
        text = df[wkt_col].astype("string").fillna("").str.strip()
        geom = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="ignore")
        bad = pd.isna(geom) & (text != "").to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"not valid WKT: {text.iloc[pos][:60]!r}",
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
    # lon/lat in a CSV are WGS84 unless the caller says otherwise (e.g. crs="gcj02")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy["lon"], xy["lat"]), crs=4326)


def check_geometry(gdf: gpd.GeoDataFrame, *, geom_types: tuple[str, ...], file: str) -> None:
    geom = gdf.geometry
    empty = geom.isna() | geom.is_empty
    if empty.any():
        rid = empty.index[empty.to_numpy()][0]
        raise InputError(
            f"empty or missing geometry ({int(empty.sum())} rows)",
            file=file,
            row=rid,
            column="geometry",
        )
    types = geom.geom_type
    wrong = ~types.isin(geom_types)
    if wrong.any():
        rid = wrong.index[wrong.to_numpy()][0]
        raise InputError(
            f"geometry is a {types[rid]}; expected {' or '.join(geom_types)}",
            file=file,
            row=rid,
            column="geometry",
        )
    invalid = ~geom.is_valid
    if invalid.any():
        ids = [str(i) for i in invalid.index[invalid.to_numpy()][:MAX_LISTED]]
        reasons = shapely.is_valid_reason(geom[invalid].to_numpy())
        warnings.warn(
            f"{file}: column geometry: {int(invalid.sum())} invalid geometries repaired with "
            f"make_valid (rows {', '.join(ids)}: {reasons[0]})",
            DataQualityWarning,
            stacklevel=4,
        )
        fixed = shapely.make_valid(geom[invalid].to_numpy())
        if "Polygon" in geom_types[0]:
            fixed = np.array([_polygonal(g) for g in fixed], dtype=object)
        gdf.loc[invalid, "geometry"] = fixed


def _polygonal(g: shapely.Geometry) -> shapely.Geometry:
    if g.geom_type == "GeometryCollection":
        parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else g
    return g


def layer_to_metric(
    gdf: gpd.GeoDataFrame, *, crs: CRSLike | None, metric_crs: CRSLike | None, file: str
) -> gpd.GeoDataFrame:
    from geoplan import crs as gcrs

    if crs is not None:
        if isinstance(crs, str) and crs.lower() in {"gcj02", "gcj-02", "bd09", "bd-09"}:
            if gdf.crs is None:
                gdf = gdf.set_crs(4326)
            _check_lonlat(gdf, file=file)
            gdf = gcrs.from_user_crs(gdf, crs)
        else:
            gdf = gdf.set_crs(pyproj.CRS.from_user_input(crs), allow_override=True)
    if gdf.crs is None:
        raise InputError(
            "the data has no CRS; say what the coordinates are with --crs (crs= in "
            "Python), e.g. 4326 for WGS84 lon/lat, gcj02 for AMap, bd09 for Baidu",
            file=file,
        )
    if gdf.crs.is_geographic:
        _check_lonlat(gdf, file=file)
    return gdf.to_crs(gcrs.local_metric_crs(gdf, zone=metric_crs))


def _check_lonlat(gdf: gpd.GeoDataFrame, *, file: str) -> None:
    from geoplan.crs import looks_swapped

    pts = gdf.geometry.representative_point()
    lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
    swapped = np.asarray(looks_swapped(lon, lat), dtype=bool)
    if swapped.any():
        rid = gdf.index[swapped][0]
        raise InputError(
            f"longitude and latitude look swapped (x={lon[swapped][0]:.4f}, "
            f"y={lat[swapped][0]:.4f}); swap the columns or the coordinate order",
            file=file,
            row=rid,
            column="geometry",
        )
    outside = (np.abs(lat) > 90) | (np.abs(lon) > 180)
    if outside.any():
        rid = gdf.index[outside][0]
        raise InputError(
            "coordinates are outside the longitude/latitude range: the data is probably "
            "projected; give its CRS with --crs (crs= in Python)",
            file=file,
            row=rid,
            column="geometry",
        )

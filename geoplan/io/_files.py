"""The raw frame of each kind of file: GDAL vector layers (Arrow where it gives the same
frame), GeoParquet or plain Parquet tables, and CSV in UTF-8 or GB18030."""

from __future__ import annotations

import csv
import json
import logging
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplan._errors import InputError
from geoplan.io._validate import check_unique_headers

__all__ = [
    "CSV_ENCODINGS",
    "arrow_reads",
    "plain_columns",
    "read_csv_file",
    "read_ogr",
    "read_parquet_file",
]

log = logging.getLogger(__name__)

CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def read_ogr(path: Path, *, layer: str | None) -> gpd.GeoDataFrame | pd.DataFrame:
    """A layer as ``geopandas.read_file`` gives it, through pyogrio's Arrow stream.

    The Arrow read (GDAL >= 3.6 with pyarrow) is several times faster on a city's
    street layer. It is kept only when every column came out as numbers, booleans
    or text, the types both reads give alike; a layer with dates, lists, or
    booleans with empty cells (which the two reads type differently) is read again
    the classic way, so the frame is always the classic read's.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if arrow_reads():
            try:
                frame = gpd.read_file(path, layer=layer, engine="pyogrio", use_arrow=True)
            except Exception:  # e.g. text not in UTF-8: the classic read recodes it
                frame = None
            if frame is not None and plain_columns(frame):
                return frame
        return gpd.read_file(path, layer=layer, engine="pyogrio")


def arrow_reads() -> bool:
    try:
        import pyarrow  # noqa: F401
        import pyogrio
    except ImportError:
        return False
    return tuple(pyogrio.__gdal_version__) >= (3, 6, 0)


def plain_columns(frame: pd.DataFrame) -> bool:
    """True when every column but the geometry is numeric, boolean or text."""
    geometry = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return all(
        col == geometry
        or frame[col].dtype.kind in "biuf"
        or isinstance(frame[col].dtype, pd.StringDtype)
        for col in frame.columns
    )


def read_parquet_file(path: Path) -> gpd.GeoDataFrame | pd.DataFrame:
    """A GeoParquet file as a GeoDataFrame; a plain Parquet table as a DataFrame.

    A plain table's geometry comes from lon/lat columns or a WKT or WKB geometry
    column, as in a CSV (:func:`~geoplan.io._geometry.points_from_lonlat`). An index
    stored in the file (geopandas writes the frame's index) becomes columns again,
    so the id column is found as in any file.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    label = str(path)
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"not a Parquet file ({exc})", file=label) from exc
    meta = schema.metadata or {}
    try:
        if b"geo" in meta:
            geo = json.loads(meta[b"geo"])
            primary = str(geo.get("primary_column", "geometry"))
            if primary not in schema.names:
                raise InputError(
                    f"the GeoParquet metadata names the geometry column {primary!r}, which "
                    f"the file does not have (its columns: {', '.join(schema.names)})",
                    file=label,
                )
            frame: gpd.GeoDataFrame | pd.DataFrame = gpd.read_parquet(path)
            if "crs" not in (geo.get("columns", {}).get(primary) or {}):
                # no CRS in the file means lon/lat (OGC:CRS84), which says nothing about
                # an AMap or Baidu export converted to Parquet: as for GeoJSON
                frame.attrs["crs_says_nothing"] = True
        else:
            frame = pd.read_parquet(path, engine="pyarrow")
    except InputError:
        raise
    except Exception as exc:  # pyarrow, geopandas and shapely raise several types
        raise InputError(f"cannot read the Parquet file: {exc}", file=label) from exc
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    check_unique_headers([str(c) for c in frame.columns], file=label)
    return frame


def read_csv_file(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in CSV_ENCODINGS:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except pd.errors.EmptyDataError as exc:
            raise InputError("the CSV file is empty", file=str(path)) from exc
        with path.open(encoding=enc, newline="") as fh:  # pandas renames a repeated header
            header = next(csv.reader(fh), [])
        check_unique_headers([h.strip() for h in header], file=str(path))
        return frame
    raise InputError(f"cannot decode the CSV as UTF-8 or GB18030: {last}", file=str(path))

"""A street line layer read straight into flat coordinate arrays (private).

:func:`read_line_parts` is what :func:`geoplan.network.read_network` tries first for
a line layer: a GDAL file through pyogrio's Arrow stream, or a GeoParquet file
through pyarrow, batch by batch, with the WKB of every line parsed by numpy
(little-endian 2-D LineStrings: a 9-byte header, then float64 pairs; anything
else through shapely, one batch at a time), so a city's 1.7M lines never exist as
shapely objects. It gives the same coordinates, row numbers, ``highway`` values
and CRS as :func:`geoplan.io.readers.read_aux_layer` followed by what
:func:`~geoplan.network.network_from_lines` takes of its frame, or None whenever
the layer is anything but plain: missing, empty, invalid, 3-D or measured lines,
other geometry types, columns the Arrow read types differently (dates, lists,
booleans), text not in UTF-8, no CRS, a GCJ-02 / BD-09 source, longitude and
latitude that look wrong. The caller then reads it the classic way, which gives
the same frame, errors and warnings as always.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyproj
import shapely

if TYPE_CHECKING:
    import pyarrow as pa

    from geoplan._types import CRSLike

__all__ = ["LineParts", "read_line_parts"]

#: File endings read through GDAL (a subset of what the readers take; others: classic).
_OGR_SUFFIXES = (".gpkg", ".shp", ".fgb", ".geojson")
_PARQUET_SUFFIXES = (".parquet", ".geoparquet")
#: Field types whose Arrow read gives the classic read's column (text, integers, reals).
_PLAIN_FIELDS = {"OFTString", "OFTInteger", "OFTInteger64", "OFTReal"}
_PLAIN_SUBTYPES = {"OFSTNone", "OFSTInt16", "OFSTFloat32"}
#: Features per Arrow batch: bounds the memory of the raw WKB held at once.
_BATCH = 1 << 16
#: Points per pyproj call when projecting (PROJ projects each point on its own).
_PROJ_CHUNK = 1 << 20


@dataclass(frozen=True, eq=False)
class LineParts:
    """The lines of a layer as flat arrays, in a metric CRS.

    Part ``k`` (a LineString, or one part of a MultiLineString of row
    ``part_row[k]``) runs through ``coords[offsets[k]:offsets[k + 1]]``; ``highway``
    holds the layer's ``highway`` value of every row (None: no such column).
    """

    coords: np.ndarray
    offsets: np.ndarray
    part_row: np.ndarray
    highway: np.ndarray | None
    crs: pyproj.CRS


def read_line_parts(
    path: Path, *, preferred: tuple[str, ...], source_crs: CRSLike | None
) -> LineParts | None:
    """The lines of ``path`` as :func:`read_aux_layer` reads them, or None (see the module).

    ``preferred`` are the GeoPackage layers tried in order, ``source_crs`` what
    the coordinates really are (as for :func:`read_aux_layer`).
    """
    suffix = path.suffix.lower()
    if suffix not in (*_OGR_SUFFIXES, *_PARQUET_SUFFIXES):
        return None
    if isinstance(source_crs, str) and source_crs.strip().lower() in {
        "gcj02", "gcj-02", "bd09", "bd-09"
    }:  # fmt: skip
        return None
    from geoplan.io._files import arrow_reads

    if suffix in _OGR_SUFFIXES and not arrow_reads():
        return None
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            if suffix in _OGR_SUFFIXES:
                read = _read_ogr(path, preferred=preferred, source_crs=source_crs)
            else:
                read = _read_parquet(path, source_crs=source_crs)
        except Exception:  # whatever the fast read cannot take, the classic read reports
            read = None
    if read is None:
        return None
    for w in seen:  # the read's warnings, but RuntimeWarnings (read_ogr ignores them)
        if not issubclass(w.category, RuntimeWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    lines, highway = read
    return lines.parts(highway)


class _Lines:
    """The parts of the lines of a layer, batch after batch, in the layer's CRS."""

    def __init__(self, crs: pyproj.CRS) -> None:
        self.crs = crs
        self.coords: list[np.ndarray] = []
        self.counts: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self.n_rows = 0
        self.lo, self.hi = np.full(2, np.inf), np.full(2, -np.inf)  # the lines' bounds

    def add(self, geom: pa.Array) -> bool:
        """Take the WKB lines of the next rows; False when they are not plain."""
        parsed = _parse_wkb(geom)
        if parsed is None or (self.crs.is_geographic and not _lonlat_ok(geom)):
            return False
        xy, n_part, part_row = parsed
        if xy.size:
            self.lo = np.minimum(self.lo, xy.min(axis=0))
            self.hi = np.maximum(self.hi, xy.max(axis=0))
        self.coords.append(xy)
        self.counts.append(n_part)
        self.rows.append(part_row + self.n_rows)
        self.n_rows += len(geom)
        return True

    def parts(self, highway: np.ndarray | None) -> LineParts:
        """All the parts, projected as ``layer_to_metric`` projects the frame."""
        xy = np.concatenate(self.coords) if len(self.coords) > 1 else self.coords[0]
        self.coords = []
        offsets = np.zeros(sum(c.size for c in self.counts) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(self.counts), out=offsets[1:])
        crs = _to_metric(xy, self.crs, self.lo, self.hi)
        return LineParts(xy, offsets, np.concatenate(self.rows), highway, crs)


def _read_ogr(
    path: Path, *, preferred: tuple[str, ...], source_crs: CRSLike | None
) -> tuple[_Lines, np.ndarray | None] | None:
    """The lines and ``highway`` of a GDAL vector file, as ``read_ogr`` reads it by Arrow."""
    import pyogrio
    from pyogrio.raw import open_arrow

    layer = None
    if path.suffix.lower() == ".gpkg":  # the layer read_aux_layer picks
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        layer = next((n for n in preferred if n in names), None)
        if layer is None and len(names) > 1:
            return None
    attrs: list[pa.RecordBatch] = []
    with open_arrow(path, layer=layer, use_pyarrow=True, batch_size=_BATCH) as (meta, reader):
        fields = [str(f) for f in meta["fields"]]
        geom_name = meta["geometry_name"] or "wkb_geometry"
        crs = _layer_crs(meta["crs"], source_crs)
        if (
            crs is None
            or not set(meta["ogr_types"]) <= _PLAIN_FIELDS
            or not set(meta["ogr_subtypes"]) <= _PLAIN_SUBTYPES
            or len(set(fields)) != len(fields)
            or "geometry" in fields
            or geom_name in fields
        ):
            return None
        lines = _Lines(crs)
        for batch in reader:
            if geom_name not in batch.schema.names:
                return None
            if not lines.add(batch.column(batch.schema.get_field_index(geom_name))):
                return None
            attrs.append(batch.drop_columns([geom_name]))
    if lines.n_rows == 0:
        return None
    import pyarrow as pa

    from geoplan.io._files import plain_columns

    kwargs: dict[str, Any] = {"self_destruct": True}  # the attributes as pyogrio makes them
    if int(pd.__version__.split(".")[0]) >= 3 and int(pa.__version__.split(".")[0]) < 19:
        na = pd.StringDtype(na_value=np.nan)
        kwargs["types_mapper"] = {pa.string(): na, pa.large_string(): na}.get
    frame = pa.Table.from_batches(attrs).to_pandas(**kwargs)
    del attrs
    # read_ogr keeps the Arrow read only when every column is numbers, booleans or text
    if list(frame.columns) != fields or not plain_columns(frame):
        return None
    return lines, _highway(frame)


def _read_parquet(
    path: Path, *, source_crs: CRSLike | None
) -> tuple[_Lines, np.ndarray | None] | None:
    """The lines and ``highway`` of a GeoParquet file, as ``geopandas.read_parquet`` reads it.

    One WKB geometry column (no covering bounding boxes), a default index; the
    attributes made into a frame as geopandas does.
    """
    import json

    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    meta = schema.metadata or {}
    if b"geo" not in meta:
        return None  # a plain table: lon/lat or WKT columns, the classic read
    geo = json.loads(meta[b"geo"])
    primary = str(geo.get("primary_column", "geometry"))
    column = (geo.get("columns") or {}).get(primary)
    if (
        list(geo.get("columns") or {}) != [primary]
        or not isinstance(column, dict)
        or column.get("encoding") != "WKB"
        or "covering" in column
        or len(set(schema.names)) != len(schema.names)
        or primary not in schema.names
    ):
        return None
    file_crs = column.get("crs", "OGC:CRS84")  # none given: lon/lat, as the spec says
    if isinstance(file_crs, dict):
        _drop_member_ids(file_crs)
    crs = _layer_crs(file_crs, source_crs)
    if crs is None:
        return None
    table = pq.read_table(path, use_pandas_metadata=True)
    geom = table.column(primary)
    frame = table.drop_columns([primary]).to_pandas()
    del table
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        return None  # read_parquet_file makes the index columns again
    lines = _Lines(crs)
    for chunk in geom.chunks:
        for a in range(0, len(chunk), _BATCH):
            if not lines.add(chunk.slice(a, _BATCH)):
                return None
    del geom
    if lines.n_rows == 0:
        return None
    return lines, _highway(frame)


def _drop_member_ids(crs: dict[str, Any]) -> None:
    """PROJJSON without the ids of datum ensemble members, as geopandas reads it."""
    for key, value in crs.items():
        if isinstance(value, dict):
            _drop_member_ids(value)
        elif key == "members" and isinstance(value, list):
            for member in value:
                member.pop("id", None)


def _layer_crs(
    file_crs: str | dict[str, Any] | None, source_crs: CRSLike | None
) -> pyproj.CRS | None:
    """The layer's CRS as ``layer_to_metric`` sets it (None: no CRS, the classic read says)."""
    if source_crs is not None:
        return pyproj.CRS.from_user_input(source_crs)
    if file_crs is None:
        return None
    return pyproj.CRS.from_user_input(file_crs)


def _parse_wkb(geom: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(coords, vertex count of every part, row of every part)`` of a batch, or None.

    None when a line is missing, empty, invalid (a non-finite coordinate, fewer
    than two distinct points), 3-D or measured, or not a (Multi)LineString.
    """
    import pyarrow as pa

    if isinstance(geom, pa.ExtensionArray):
        geom = geom.storage
    binary = pa.types.is_binary(geom.type) or pa.types.is_large_binary(geom.type)
    if geom.null_count or not binary:
        return None
    n = len(geom)
    if n == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, off_buf, data_buf = geom.buffers()
    off_t = np.int64 if pa.types.is_large_binary(geom.type) else np.int32
    off = np.frombuffer(off_buf, dtype=off_t)[geom.offset : geom.offset + n + 1].astype(np.int64)
    if data_buf is None:
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)[int(off[0]) : int(off[-1])]
    off -= off[0]
    starts, size = off[:-1], np.diff(off)
    plain = bool((size >= 9).all()) and bool((data[starts] == 1).all())  # little-endian
    if plain:
        typ = _uint32(data, starts + 1)
        count = _uint32(data, starts + 5).astype(np.int64)
        plain = bool((typ == 2).all()) and bool((size == 9 + 16 * count).all())
    if not plain:  # MultiLineStrings, big-endian, 3-D ...: through shapely
        return _parse_with_shapely(geom)
    # the 16 bytes of vertex k of line i start 9 + 16 k bytes into the line's WKB
    first = np.cumsum(count) - count
    at = np.repeat(starts + 9 - 16 * first, count)
    at += 16 * np.arange(at.size)
    pairs = np.lib.stride_tricks.as_strided(data, shape=(max(data.size - 15, 0), 16),
                                            strides=(1, 1), writeable=False)  # fmt: skip
    xy = pairs[at].view("<f8").astype(np.float64, copy=False)
    if not _valid_lines(xy, count):
        return None
    return xy, count, np.arange(n, dtype=np.int64)


def _uint32(data: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The little-endian uint32 at each byte position ``at`` of ``data``."""
    quads = np.lib.stride_tricks.as_strided(data, shape=(max(data.size - 3, 0), 4),
                                            strides=(1, 1), writeable=False)  # fmt: skip
    return quads[at].view("<u4").ravel()


def _valid_lines(xy: np.ndarray, count: np.ndarray) -> bool:
    """True when every line is valid to GEOS: at least 2 points, finite, not all equal."""
    if not bool((count >= 2).all()) or not bool(np.isfinite(xy).all()):
        return False
    moved = (xy[1:] != xy[:-1]).any(axis=1)  # vertex k differs from vertex k + 1
    inside = np.ones(moved.size, dtype=bool)  # ... and both are of one line
    inside[np.cumsum(count)[:-1] - 1] = False
    line = np.repeat(np.arange(count.size), count - 1)
    return bool((np.bincount(line, weights=moved[inside], minlength=count.size) > 0).all())


def _parse_with_shapely(geom: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_parse_wkb` of a batch that is not all plain LineStrings."""
    g = shapely.from_wkb(np.asarray(geom.to_numpy(zero_copy_only=False), dtype=object))
    kinds = shapely.get_type_id(g)
    has_m = getattr(shapely, "has_m", None)  # shapely >= 2.1
    if (
        not bool(np.isin(kinds, [1, 5]).all())
        or bool(shapely.is_empty(g).any())
        or bool(shapely.has_z(g).any())
        or (has_m is not None and bool(has_m(g).any()))
        or not bool(shapely.is_valid(g).all())
    ):
        return None
    parts, part_row = shapely.get_parts(g, return_index=True)
    xy, owner = shapely.get_coordinates(parts, return_index=True)
    count = np.bincount(owner, minlength=parts.size).astype(np.int64)
    if not bool((count >= 2).all()):
        return None
    return xy, count, part_row.astype(np.int64)


def _lonlat_ok(geom: pa.Array) -> bool:
    """False where the classic read refuses lon/lat: swapped, or outside their range.

    As ``layer_to_metric`` checks it, on the representative point of every line.
    """
    from geoplan.crs import looks_swapped

    g = shapely.from_wkb(np.asarray(geom.to_numpy(zero_copy_only=False), dtype=object))
    pts = shapely.point_on_surface(g)
    lon, lat = shapely.get_x(pts), shapely.get_y(pts)
    bad = looks_swapped(lon, lat) | (np.abs(lat) > 90) | (np.abs(lon) > 180)
    return not bool(bad.any())


def _highway(frame: pd.DataFrame) -> np.ndarray | None:
    """The ``highway`` of every row as ``frame["highway"].to_numpy(dtype=object)`` gives it.

    Text is looked up from its distinct values (the rows that hold one share it),
    not made into a Python string per row. None: no ``highway`` column.
    """
    if "highway" not in frame.columns:
        return None
    col = frame["highway"]
    if not isinstance(col.dtype, pd.StringDtype):
        return np.asarray(col.to_numpy(dtype=object), dtype=object)
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    lookup = pd.Series(uniques, dtype=col.dtype).to_numpy(dtype=object)
    return np.asarray(lookup[codes], dtype=object)


def _to_metric(xy: np.ndarray, crs: pyproj.CRS, lo: np.ndarray, hi: np.ndarray) -> pyproj.CRS:
    """Project ``xy`` in place as ``layer_to_metric`` projects the frame; its new CRS.

    The local metric CRS of the lines' extent (``geoplan.crs.local_metric_crs``,
    given the extent's corners ``lo`` and ``hi``, which have the lines' bounds), and
    no transformation when it is exactly the layer's (as geopandas skips it).
    """
    import geopandas as gpd

    from geoplan import crs as gcrs

    corners = gpd.GeoSeries(shapely.points([lo, hi]), crs=crs)
    target = gcrs.local_metric_crs(corners, zone=None)
    return project(xy, crs, target)


def project(xy: np.ndarray, src: pyproj.CRS, dst: pyproj.CRS) -> pyproj.CRS:
    """Project the points ``xy`` in place from ``src`` to ``dst`` as ``GeoSeries.to_crs``.

    Nothing is done when the two are exactly the same (``src`` is returned, as
    geopandas keeps it); else every point is transformed as geopandas does
    (``Transformer.from_crs(src, dst, always_xy=True)``), in chunks. Returns the
    CRS the points are in.
    """
    if src.is_exact_same(dst):
        return src
    transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    for a in range(0, xy.shape[0], _PROJ_CHUNK):
        block = xy[a : a + _PROJ_CHUNK]
        tx, ty = transformer.transform(block[:, 0].copy(), block[:, 1].copy())
        block[:, 0] = tx
        block[:, 1] = ty
    return dst

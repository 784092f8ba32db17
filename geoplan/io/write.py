"""Atomic writers: a failure never leaves a half-written file behind.

Every output goes to a temporary file in the destination folder, then replaces
the destination with :func:`os.replace` (atomic on one file system). Writers
refuse to write over a file that was given as an input.

City-sized tables are written a slice of rows at a time (:data:`CHUNK_ROWS`):
GeoParquet through :class:`pyarrow.parquet.ParquetWriter`, one row group per
slice; GeoPackage through pyogrio's Arrow stream; CSV slice after slice into one
file. Only one slice is ever converted at once, never a copy of the whole table.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "CHUNK_ROWS",
    "Table",
    "atomic_path",
    "clean_numbers",
    "write_bytes",
    "write_csv",
    "write_gpkg",
    "write_parquet",
    "write_text",
]

#: Rows converted and written at a time (a Parquet row group, a GeoPackage batch).
CHUNK_ROWS = 65_536


@contextlib.contextmanager
def atomic_path(
    dest: str | os.PathLike[str], *, protect: Iterable[str | os.PathLike[str]] = ()
) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` on success.

    Parameters
    ----------
    dest
        The final path.
    protect
        Input paths that must never be overwritten; naming one as ``dest`` raises
        :class:`InputError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("你好", encoding="utf-8")
    >>> (d / "out.txt").read_text(encoding="utf-8")
    '你好'
    """
    dest = Path(dest)
    resolved = dest.resolve()
    for p in protect:
        if Path(p).resolve() == resolved:
            raise InputError("refusing to overwrite an input file", file=str(dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    # keep the real suffix last: GDAL picks drivers (and warns) by extension
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}", dir=dest.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # Some writers (GDAL) refuse to write into an existing empty file.
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_with(
    dest: str | os.PathLike[str],
    writer: Callable[[Path], object],
    protect: Iterable[str | os.PathLike[str]],
) -> Path:
    with atomic_path(dest, protect=protect) as tmp:
        writer(tmp)
    return Path(dest)


def write_text(
    dest: str | os.PathLike[str],
    text: str | Iterable[str],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
    encoding: str = "utf-8",
    newline: str | None = None,
) -> Path:
    """Write text (UTF-8 unless ``encoding`` says otherwise) atomically and return the path.

    ``text`` may be an iterable of pieces, written as they come (a city's JSON is never
    held as one string). ``newline`` is :func:`open`'s: None writes the platform's line
    ending, as :meth:`pathlib.Path.write_text` does; ``""`` writes ``"\\n"`` as it is.
    """

    def _write(p: Path) -> None:
        with p.open("w", encoding=encoding, newline=newline) as fh:
            for piece in [text] if isinstance(text, str) else text:
                fh.write(piece)

    return _write_with(dest, _write, protect)


def write_bytes(
    dest: str | os.PathLike[str], data: bytes, *, protect: Iterable[str | os.PathLike[str]] = ()
) -> Path:
    """Write bytes atomically and return the path."""
    return _write_with(dest, lambda p: p.write_bytes(data), protect)


def write_csv(
    dest: str | os.PathLike[str],
    frame: Table,
    *,
    columns: Sequence[str] | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write a table as UTF-8 CSV with a BOM (so Excel shows Chinese), atomically.

    Geometry columns are dropped; the index is written as the first column.
    Numbers are written as a person reads them: at most 10 significant digits
    (``0.1 + 0.2`` is ``0.3``, not ``0.30000000000000004``), and infinite values
    (e.g. "no facility within the search limit") as an empty cell, never ``inf``.

    ``frame`` may also be an iterable of frames with the same columns (a long table
    made a piece at a time), written one after the other; ``columns`` writes only
    those columns. The rows are cleaned and written :data:`CHUNK_ROWS` at a time
    into one file: the same bytes as one piece, without a copy of the table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t = pd.DataFrame({"share": [0.1 + 0.2], "walk_m": [float("inf")]},
    ...     index=pd.Index(["B1"], name="building_id"))
    >>> print(write_csv(d / "t.csv", t).read_text(encoding="utf-8-sig"), end="")
    building_id,share,walk_m
    B1,0.3,
    """

    def _write(p: Path) -> None:
        # one handle: the BOM is written once, before the header
        with p.open("w", encoding="utf-8-sig", newline="") as fh:
            for i, part in enumerate(_pieces(frame, CHUNK_ROWS, columns, empty=True)):
                plain = pd.DataFrame(part.drop(columns="geometry", errors="ignore"))
                clean_numbers(plain).to_csv(
                    fh, header=i == 0, lineterminator="\n", float_format=_FLOAT_FORMAT
                )

    return _write_with(dest, _write, protect)


_FLOAT_FORMAT = "%.10g"


def clean_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose floats carry no noise and no infinities.

    Float columns keep their dtype (infinities become NaN, written empty); floats
    inside object columns are rounded to 10 significant digits, infinities become
    None.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [0.1 + 0.2, float("-inf")], "b": [0.1 + 0.2, "x"]})
    >>> clean_numbers(t).to_dict("list")
    {'a': [0.30000000000000004, nan], 'b': [0.3, 'x']}
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s.dtype):
            out[col] = s.where(~np.isinf(s.to_numpy(dtype=float, na_value=np.nan)))
        elif s.dtype == object:
            out[col] = s.map(_clean_scalar)
    return out


def _clean_scalar(value: object) -> object:
    if isinstance(value, float | np.floating) and not isinstance(value, bool):
        x = float(value)
        if math.isinf(x):
            return None
        return x if math.isnan(x) else float(f"{x:.10g}")
    return value


def write_gpkg(
    dest: str | os.PathLike[str],
    layers: Mapping[str, Table],
    *,
    columns: Mapping[str, Sequence[str]] | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write one or more layers to a GeoPackage atomically (all layers or none).

    Each layer is the frame with its index as the first column(s) and text in
    object columns; a frame without geometry (or an iterable of such frames, see
    :func:`write_csv`) becomes a table without geometry, which QGIS lists beside
    the layers. ``columns`` names the columns to write of some layers. The rows go
    to GDAL through pyogrio's Arrow stream :data:`CHUNK_ROWS` at a time, so no copy
    of a city-sized table is made; the layer's geometry type is inferred as
    pyogrio's ``write_dataframe`` infers it (Polygons mixed with MultiPolygons are
    written as MultiPolygons), and the file holds what ``write_dataframe`` writes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely.geometry import Point
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> g = gpd.GeoDataFrame({"name": ["甲"]}, geometry=[Point(0, 0)], crs=32650,
    ...     index=pd.Index(["B1"], name="building_id"))
    >>> p = write_gpkg(d / "out.gpkg", {"buildings": g, "notes": pd.DataFrame({"n": [1]})})
    >>> back = gpd.read_file(p, layer="buildings")
    >>> back.columns.tolist(), back.crs.to_epsg()
    (['building_id', 'name', 'geometry'], 32650)
    """

    def _write(p: Path) -> None:
        from pyogrio.raw import write_arrow

        for name, table in layers.items():
            stream = _ArrowStream(table, target="gpkg", columns=(columns or {}).get(name))
            write_arrow(
                stream.reader(),
                p,
                layer=name,
                driver="GPKG",
                geometry_name=stream.geometry,
                geometry_type=stream.geometry_type,
                crs=stream.gdal_crs,
                append=p.exists(),
            )

    return _write_with(dest, _write, protect)


def write_parquet(
    dest: str | os.PathLike[str],
    frame: Table,
    *,
    columns: Sequence[str] | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
    row_group_rows: int = CHUNK_ROWS,
) -> Path:
    """Write a table as (Geo)Parquet atomically, one row group of rows at a time.

    The columns are those of the GeoPackage layer :func:`write_gpkg` writes: the
    index first, then the frame's columns (or ``columns``; ``frame`` may be an
    iterable of frames, as for :func:`write_csv`). A GeoDataFrame's geometry is
    stored as WKB with GeoParquet 1.0 metadata (CRS as PROJJSON, bounding box,
    geometry types): ``geopandas.read_parquet``, QGIS (with GDAL 3.5 or newer)
    and DuckDB read it. Numbers are stored exactly as computed (an
    infinite distance stays ``inf``: no facility within the search limit); text
    and booleans keep their types; object columns pyarrow cannot type are written
    as text. Compressed with Snappy.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely.geometry import Point
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> g = gpd.GeoDataFrame({"walk_m": [12.5, float("inf")]},
    ...     geometry=[Point(0, 0), Point(1, 1)], crs=32650,
    ...     index=pd.Index(["B1", "B2"], name="building_id"))
    >>> back = gpd.read_parquet(write_parquet(d / "b.parquet", g))
    >>> back["building_id"].tolist(), back["walk_m"].tolist(), back.crs.to_epsg()
    (['B1', 'B2'], [12.5, inf], 32650)
    """
    if row_group_rows < 1:
        raise ValueError(f"row_group_rows must be at least 1, not {row_group_rows}")

    def _write(p: Path) -> None:
        import pyarrow.parquet as pq

        stream = _ArrowStream(frame, target="parquet", rows=row_group_rows, columns=columns)
        with pq.ParquetWriter(p, stream.schema, compression="snappy") as writer:
            for batch in stream.batches():
                writer.write_batch(batch, row_group_size=row_group_rows)

    return _write_with(dest, _write, protect)


#: A table to write: a frame, or frames with the same columns written one after another.
Table = pd.DataFrame | Iterable[pd.DataFrame]


def _pieces(
    table: Table, rows: int, columns: Sequence[str] | None, *, empty: bool = False
) -> Iterator[pd.DataFrame]:
    """Row slices of at most ``rows`` rows of ``table`` (of each frame in turn), with
    only ``columns``; with ``empty``, one empty slice for a table without rows."""
    frames: Iterable[pd.DataFrame] = [table] if isinstance(table, pd.DataFrame) else table
    keep = None if columns is None else list(columns)
    seen = False
    last: pd.DataFrame | None = None
    for frame in frames:
        last = frame
        for start in range(0, len(frame), rows):
            part = frame.iloc[start : start + rows]
            seen = True
            yield part if keep is None else part[keep]
    if empty and not seen and last is not None:
        yield last.iloc[:0] if keep is None else last.iloc[:0][keep]


class _ArrowStream:
    """A table as Arrow record batches of ``rows`` rows, converted one at a time.

    The columns are the table's index (reset, as ``DataFrame.reset_index`` makes
    it; for Parquet not an unnamed RangeIndex) and its columns, the geometry as ISO
    WKB. One schema holds for every batch:
    a frame's object columns are typed from the whole column (a slice of only empty
    cells would say nothing), and written as text where pyarrow cannot type them
    (mixed values), where every cell is empty, or for ``target="gpkg"`` always (as
    GeoPackages have always been written here: text columns). An iterable of frames
    is typed from its first frame.
    """

    def __init__(
        self,
        table: Table,
        *,
        target: Literal["gpkg", "parquet"],
        rows: int = CHUNK_ROWS,
        columns: Sequence[str] | None = None,
    ) -> None:
        import pyarrow as pa

        if isinstance(table, pd.DataFrame):
            frame = table
            self._parts: Iterator[pd.DataFrame] = _pieces(table, rows, columns, empty=True)
        else:
            frames = iter(table)
            head = next(frames, None)
            if head is None:
                raise ValueError("nothing to write: no frame given")
            frame = head
            self._parts = _pieces(itertools.chain([head], frames), rows, columns, empty=True)
        self.target = target
        geo = isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame
        self.geometry: str | None = str(frame.geometry.name) if geo else None
        if geo and columns is not None and self.geometry not in columns:
            self.geometry = None
        values = (
            np.asarray(frame.geometry.array, dtype=object) if self.geometry else np.empty(0, object)
        )
        self.geometry_type = _geometry_type(values, target=target) if self.geometry else None
        self.promote = ""  # the single type promoted to its Multi type, if any
        kind = self.geometry_type or ""
        if target == "gpkg" and kind.startswith("Multi"):  # GeoParquet takes mixed types
            single = kind.removeprefix("Multi").removesuffix(" Z")
            if bool((shapely.get_type_id(values) == _TYPE_IDS[single]).any()):
                self.promote = single
        self.crs = frame.crs if self.geometry else None
        self.gdal_crs: str | None = None
        if self.crs is not None:
            epsg = self.crs.to_epsg()
            self.gdal_crs = f"EPSG:{epsg}" if epsg else self.crs.to_wkt("WKT1_GDAL")
        # an unnamed RangeIndex is row numbers: a GeoPackage has always got them as a
        # column ``index``; GeoParquet, like pandas, leaves them out
        index = frame.index
        numbers = isinstance(index, pd.RangeIndex) and index.name is None
        self.drop_index = target == "parquet" and numbers
        names = list(frame.columns) if columns is None else list(columns)
        self.as_text: list[str] = []
        typed: dict[str, pa.DataType] = {}
        for col in names:
            if col == self.geometry or frame[col].dtype != object:
                continue
            if target == "gpkg":
                self.as_text.append(col)
                continue
            try:
                kind = pa.array(frame[col].to_numpy(dtype=object), from_pandas=True).type
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                self.as_text.append(col)
                continue
            if pa.types.is_null(kind):
                self.as_text.append(col)
            else:
                typed[str(col)] = kind
        self._first = next(self._parts)
        schema = pa.Table.from_pandas(self._prepared(self._first), preserve_index=False).schema
        for i, field in enumerate(schema):
            if field.name in typed:
                schema = schema.set(i, field.with_type(typed[field.name]))
            elif field.name == self.geometry:
                schema = schema.set(i, pa.field(field.name, pa.binary()))
            elif pa.types.is_null(field.type):
                schema = schema.set(i, field.with_type(pa.string()))
            elif target == "gpkg" and pa.types.is_dictionary(field.type):
                schema = schema.set(i, field.with_type(field.type.value_type))
        if self.geometry is not None and target == "parquet":
            geo_meta = _geoparquet_metadata(values, column=self.geometry, crs=self.crs)
            meta = dict(schema.metadata or {})
            meta[b"geo"] = json.dumps(geo_meta).encode("utf-8")
            schema = schema.with_metadata(meta)
        self.schema = schema

    def _prepared(self, part: pd.DataFrame) -> pd.DataFrame:
        """A slice as a plain frame: index reset, text columns, WKB geometry."""
        plain = pd.DataFrame(part, copy=False).reset_index(drop=self.drop_index)
        for col in self.as_text:
            plain[col] = plain[col].astype("string")
        if self.geometry is not None:
            geoms = np.asarray(part[self.geometry].array, dtype=object)
            if self.promote:
                geoms = _promoted(geoms, self.promote)
            plain[self.geometry] = shapely.to_wkb(geoms, flavor="iso")
        return plain

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The record batches, once (the table is converted as they are taken)."""
        import pyarrow as pa

        for part in itertools.chain([self._first], self._parts):
            table = pa.Table.from_pandas(
                self._prepared(part), schema=self.schema, preserve_index=False
            )
            yield from table.to_batches()

    def reader(self) -> pa.RecordBatchReader:
        import pyarrow as pa

        return pa.RecordBatchReader.from_batches(self.schema, self.batches())


# shapely's type ids and GeoParquet's names of them ("Point Z" for 3D)
_TYPE_IDS = {
    "Point": 0,
    "LineString": 1,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}
_TYPE_NAMES = {v: k for k, v in _TYPE_IDS.items()} | {2: "LineString"}  # 2: LinearRing


def _geometry_types(values: np.ndarray) -> list[str]:
    """The distinct geometry types, 3D ones as ``"Point Z"`` (GeoParquet's names)."""
    kinds = shapely.get_type_id(values)
    present = kinds >= 0
    codes = kinds[present] + 8 * shapely.has_z(values[present]).astype(kinds.dtype)
    names = {_TYPE_NAMES[int(c) % 8] + (" Z" if c >= 8 else "") for c in np.unique(codes)}
    return sorted(names)


def _geometry_type(values: np.ndarray, *, target: str) -> str:
    """The layer's geometry type as pyogrio's ``write_dataframe`` infers it."""
    if values.size == 0:
        return "Unknown"
    present = ~shapely.is_missing(values) & ~shapely.is_empty(values)
    z = shapely.has_z(values[present])
    if target == "gpkg" and bool(z.any()) and not bool(z.all()):
        raise ValueError("Mixed 2D and 3D coordinates are not supported by GPKG")
    kinds = {_TYPE_NAMES[int(k)] for k in np.unique(shapely.get_type_id(values)) if k >= 0}
    kind = "Unknown"
    if len(kinds) == 1:
        kind = next(iter(kinds))
    elif len(kinds) == 2:
        for single in ("Polygon", "LineString", "Point"):
            if kinds == {single, f"Multi{single}"}:
                kind = f"Multi{single}"
    if bool(z.any()) and kind != "Unknown":
        kind += " Z"
    return kind


def _promoted(values: np.ndarray, single: str) -> np.ndarray:
    """``values`` with every ``single`` geometry made its one-part Multi geometry."""
    out = values.copy()
    mask = shapely.get_type_id(values) == _TYPE_IDS[single]
    if mask.any():
        make = {
            "Point": shapely.multipoints,
            "LineString": shapely.multilinestrings,
            "Polygon": shapely.multipolygons,
        }[single]
        out[mask] = make(np.atleast_2d(values[mask]), axis=0)
    return out


def _geoparquet_metadata(
    values: np.ndarray, *, column: str, crs: object | None
) -> dict[str, object]:
    """The ``geo`` metadata of a GeoParquet 1.0 file with one WKB geometry column."""
    from importlib import metadata

    try:
        version = metadata.version("geoplan")
    except metadata.PackageNotFoundError:  # run from a source tree
        version = ""
    projjson = None
    if crs is not None:
        projjson = crs.to_json_dict()  # type: ignore[attr-defined]
        _drop_member_ids(projjson)
    entry: dict[str, object] = {
        "encoding": "WKB",
        "crs": projjson,
        "geometry_types": _geometry_types(values),
    }
    present = values[~shapely.is_missing(values)] if values.size else values
    bounds = [float(v) for v in shapely.total_bounds(present)] if present.size else []
    if bounds and all(math.isfinite(v) for v in bounds):
        entry["bbox"] = bounds
    return {
        "version": "1.0.0",
        "primary_column": column,
        "columns": {column: entry},
        "creator": {"library": "geoplan", "version": version},
    }


def _drop_member_ids(node: dict[str, object]) -> None:
    """Leave out the ids of datum ensemble members, which older PROJ versions do not
    know (what GDAL and geopandas write too)."""
    for key, value in node.items():
        if isinstance(value, dict):
            _drop_member_ids(value)
        elif key == "members" and isinstance(value, list):
            for member in value:
                if isinstance(member, dict):
                    member.pop("id", None)

"""Readers for communities, facilities and buildings, with validation.

Each reader takes a GeoPackage, GeoJSON, Shapefile, CSV or Excel workbook (.xlsx,
.xls; points from lon/lat columns, or a WKT ``geometry`` column), renames Chinese or
English headers to the canonical names of ``docs/architecture.md``, checks every
row, and returns a GeoDataFrame indexed by id in a local metric CRS. A bad row
raises :class:`~geoplan._errors.InputError` naming the file (and sheet), the row id
(with its Excel row number) and the column.

AMap and Baidu POI exports are recognised by their columns (``typecode``/``type``/
``location`` for AMap, ``tag``/``uid`` or Baidu tags such as ``美食;中餐厅`` in the
category column for Baidu): their type codes and tags map to categories through
``geoplan/categories/categories.toml``, and their coordinates are converted from
GCJ-02 / BD-09 when the caller gave no ``crs``, with a warning that says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import os
import unicodedata
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io import columns as C

__all__ = [
    "prepare_layer",
    "read_aux_layer",
    "read_buildings",
    "read_communities",
    "read_facilities",
    "read_layer",
    "read_table",
]

log = logging.getLogger(__name__)

_VECTOR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb", ".zip"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_MAX_LISTED = 5
_HEADER_SCAN_ROWS = 30
# how to fix what a reader refuses; worded for both the CLI and Python
_COLUMNS_HINT = "map it with --columns 'their header=canonical' (columns= in Python)"
_ROW_IDS_HINT = (
    "if the ids really repeat (e.g. building footprints), number the rows instead "
    "with --row-ids (row_ids=True in Python)"
)
_STRICT_HINT = "--strict (strict=True in Python) makes this an error"


def read_communities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
    row_ids: bool = False,
) -> gpd.GeoDataFrame:
    """Read and validate community polygons.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, CSV (with a WKT ``geometry`` column) or
        Excel workbook (.xlsx, .xls; a WKT ``geometry`` column). A ledger without
        polygons is read with :func:`read_table`.
    layer
        Layer name inside a GeoPackage; default ``communities`` when present.
    sheet
        Sheet of an Excel workbook (name, or 0-based position); default the first
        sheet that holds data. The header row may sit below a title row.
    columns
        Extra header mapping ``{"their header": "canonical name"}``.
    crs
        What the coordinates really are, when the file says nothing or says
        something wrong: ``"gcj02"`` or ``"bd09"`` for AMap / Baidu data, or any
        pyproj CRS.
    metric_crs
        Projected CRS for the output; default: the local UTM zone.
    row_ids
        Number the rows ``1, 2, ...`` instead of reading an id column (the
        column, if any, is kept as ``source_id``).

    Returns
    -------
    GeoDataFrame indexed by ``community_id`` in a metric CRS.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geoplan.sample import make_sample_district
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> [path] = make_sample_district(seed=0).to_files(folder)  # one GeoPackage
    >>> comm = read_communities(path)
    >>> comm.index.name, comm.crs.is_projected
    ('community_id', True)
    """
    return read_layer(
        path,
        "communities",
        layer=layer,
        sheet=sheet,
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        row_ids=row_ids,
    )


def read_facilities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
    strict: bool = False,
    row_ids: bool = False,
) -> gpd.GeoDataFrame:
    """Read and validate facilities (points or polygons); see :func:`read_communities`.

    Chinese category names (``菜市场``) and aliases are mapped to category ids
    (``wet_market``); so are AMap type codes and type names and Baidu tags of a
    POI export. Rows whose category is unknown are counted, named in a
    :class:`~geoplan._errors.DataQualityWarning` and left out; with
    ``strict=True`` they are an error.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> import pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "amap.csv"
    >>> pd.DataFrame({"name": ["菜场", "公交站"], "typecode": ["060705", "150700"],
    ...     "location": ["117.2001,39.1201", "117.2002,39.1202"]}).to_csv(p, index=False)
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     fac = read_facilities(p, row_ids=True)
    >>> fac["category"].tolist(), len(seen)  # the bus stop is left out; GCJ-02 said
    (['wet_market'], 2)
    """
    return read_layer(
        path,
        "facilities",
        layer=layer,
        sheet=sheet,
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        strict=strict,
        row_ids=row_ids,
    )


def read_buildings(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
    row_ids: bool = False,
) -> gpd.GeoDataFrame:
    """Read and validate buildings (polygons or points); see :func:`read_communities`.

    Missing households are allowed (estimate them with
    :func:`geoplan.households.estimate_households`); negative ones are not. A file
    without ids gets row numbers (``1``, ``2``, ...) as ids; so does a file whose
    ids repeat when ``row_ids=True`` (real footprints often carry one id for all).
    """
    return read_layer(
        path,
        "buildings",
        layer=layer,
        sheet=sheet,
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        row_ids=row_ids,
    )


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
    strict: bool = False,
    row_ids: bool = False,
) -> gpd.GeoDataFrame:
    """Read one input layer of ``kind`` (``communities``, ``facilities``, ``buildings``)."""
    if kind not in C.LAYERS:
        raise ValueError(f"unknown layer kind {kind!r}; expected one of {sorted(C.LAYERS)}")
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    raw = _read_raw(path, kind=kind, layer=layer, sheet=sheet, columns=columns)
    return prepare_layer(
        raw,
        kind,
        file=str(raw.attrs.get("source_label", path)),
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        strict=strict,
        row_ids=row_ids,
    )


def read_table(
    path: str | os.PathLike[str],
    kind: str,
    *,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
    strict: bool = False,
    row_ids: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read a layer whose geometry is optional (an attribute table: CSV or Excel).

    With geometry it is :func:`read_layer`; a table with neither lon/lat nor WKT
    (a community ledger: id, name, kind, households, ...) is validated the same
    way and returned as a DataFrame indexed by id.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ledger.csv"
    >>> pd.DataFrame({"社区编码": ["C1"], "社区名称": ["和平"], "社区类型": ["城市社区"],
    ...               "户数（户）": ["2,000"]}).to_csv(p, index=False)
    >>> table = read_table(p, "communities")
    >>> type(table).__name__, float(table.loc["C1", "households"])
    ('DataFrame', 2000.0)
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    raw = _read_raw(path, kind=kind, layer=None, sheet=sheet, columns=columns)
    return prepare_layer(
        raw,
        kind,
        file=str(raw.attrs.get("source_label", path)),
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        geometry_required=False,
        strict=strict,
        row_ids=row_ids,
    )


def prepare_layer(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    kind: str,
    *,
    file: str = "<frame>",
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
    geometry_required: bool = True,
    strict: bool = False,
    row_ids: bool = False,
) -> Any:
    """Validate an in-memory frame exactly as the file readers do.

    Useful in notebooks: a GeoDataFrame built by hand gets the same checks,
    renaming, id index and projection as one read from a file.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> raw = gpd.GeoDataFrame(
    ...     {"编号": ["C1"], "社区名称": ["和平社区"], "社区类型": ["城市"], "户数": [2000]},
    ...     geometry=[box(117.20, 39.12, 117.21, 39.13)], crs=4326)
    >>> out = prepare_layer(raw, "communities")
    >>> row = out.loc["C1"]
    >>> row["name"], row["kind"], float(row["households"])
    ('和平社区', 'urban', 2000.0)
    """
    id_col, required, geom_types = C.LAYERS[kind]
    rows = _RowLabels.of(frame)
    implied_ok = getattr(frame, "crs", None) is None or bool(frame.attrs.get("crs_says_nothing"))
    df = frame.copy()
    original = _rename(df, id_col=id_col, kind=kind, user=columns or {}, file=file)
    df = df.rename(columns={orig: canon for canon, orig in original.items()})
    source = _poi_source(df, kind=kind) if kind == "facilities" else None
    evidence = [original.get(c, c) for c in _SOURCE_EVIDENCE.get(source or "", ()) if c in df]
    if source is not None and "location" in df.columns and not {"lon", "lat"} <= set(df.columns):
        _split_location(df, file=file, rows=rows, column=original.get("location", "location"))
    if source is not None and crs is None and implied_ok:
        crs = _IMPLIED_CRS[source]
        warnings.warn(
            f"{file}: looks like {_SOURCE_NAMES[source]} (columns {', '.join(evidence)}); "
            f"coordinates taken as {_CRS_NAMES[crs]} and converted to WGS84 "
            f"(坐标按 {_CRS_NAMES[crs]} 换算为 WGS84); if they are already WGS84 give "
            "--crs 4326 (crs=4326 in Python)",
            DataQualityWarning,
            stacklevel=3,
        )
    has_lonlat = "lon" in df.columns and "lat" in df.columns
    has_wkt = any(str(c).strip().casefold() in _WKT_COLUMNS for c in df.columns)
    tabular = not geometry_required and not has_wkt and not has_lonlat
    if tabular:
        gdf: Any = pd.DataFrame(df)
    else:
        if "geometry" not in df.columns or not isinstance(df, gpd.GeoDataFrame):
            df = _points_from_lonlat(
                pd.DataFrame(df), file=file, original=original, crs=crs, rows=rows
            )
        gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=getattr(df, "crs", None))
    if len(gdf) == 0:
        raise InputError(f"no {kind} in the file", file=file)

    if row_ids:
        ids = [str(i + 1) for i in range(len(gdf))]
        kept = next((c for c in (id_col, "id") if c in gdf.columns), None)
        if kept is not None:
            gdf["source_id"] = gdf[kept].astype("string").str.strip().astype(object)
    else:
        ids = _ids(gdf, id_col=id_col, kind=kind, file=file, original=original, rows=rows)
    gdf.index = pd.Index(ids, name=id_col)
    gdf = gdf.drop(columns=[c for c in (id_col, "id") if c in gdf.columns])
    rows = rows.keyed(gdf.index)

    def where(canon: str) -> str:
        return original.get(canon, canon)

    try:
        poi_columns = any(c in gdf.columns for c in ("typecode", "poi_type", "tag"))
        if kind == "facilities" and "category" not in gdf.columns and poi_columns:
            gdf["category"] = None
        for col in required:
            if col not in gdf.columns:
                raise InputError(
                    f"required column {col!r} is missing (accepted headers: "
                    f"{', '.join(C.ALIASES.get(col, (col,)))}; or {_COLUMNS_HINT})",
                    file=file,
                )
        _coerce_numeric(gdf, file=file, where=where)
        _coerce_bool(gdf, file=file, where=where)
        _coerce_text(gdf)
        if kind == "communities":
            _check_communities(gdf, file=file, where=where)
        if kind == "facilities":
            gdf = _resolve_categories(gdf, file=file, where=where, strict=strict, rows=rows)
        if kind == "buildings" and "households_estimated" not in gdf.columns:
            gdf["households_estimated"] = False
        if not tabular:
            _check_geometry(gdf, geom_types=geom_types, file=file)
            gdf = _to_metric(gdf, crs=crs, metric_crs=metric_crs, file=file)
    except InputError as exc:
        label = rows.label_of(exc.row)
        if label is None or exc.file != file:
            raise
        raise InputError(exc.message, file=exc.file, row=label, column=exc.column) from None
    gdf.attrs["source_file"] = file
    if source is not None:
        gdf.attrs["poi_source"] = source
    return gdf


def read_aux_layer(
    path: str | os.PathLike[str],
    *,
    preferred: tuple[str, ...],
    geom_types: tuple[str, ...],
    layer: str | None = None,
    crs: Any = None,
    metric_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read a supporting layer (streets, compounds, gates, candidates) as given.

    Columns are kept as they are. In a GeoPackage with several layers the first
    of ``preferred`` that exists is taken (``streets`` for a street layer); the
    geometry must be of ``geom_types``; ``crs`` and ``metric_crs`` work as in
    :func:`read_communities` (``crs="gcj02"`` converts AMap data).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geoplan.sample import make_sample_district
    >>> path = make_sample_district(seed=0).to_files(pathlib.Path(tempfile.mkdtemp()))[0]
    >>> streets = read_aux_layer(path, preferred=("streets",), geom_types=("LineString",))
    >>> streets.geom_type.unique().tolist()
    ['LineString']
    """
    path = Path(path)
    label = str(path)
    if not path.exists():
        raise InputError("file not found", file=label)
    if layer is None and path.suffix.lower() == ".gpkg":
        import pyogrio

        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        layer = next((n for n in preferred if n in names), None)
        if layer is None and len(names) > 1:
            raise InputError(
                f"the GeoPackage has layers {names} but none named {' or '.join(preferred)}",
                file=label,
            )
    raw = _read_raw(path, kind=preferred[0], layer=layer)
    if not isinstance(raw, gpd.GeoDataFrame):
        raw = _points_from_lonlat(
            pd.DataFrame(raw), file=label, original={}, crs=crs, rows=_RowLabels.of(raw)
        )
    if len(raw) == 0:
        raise InputError(f"no {preferred[0]} in the file", file=label)
    gdf = gpd.GeoDataFrame(raw, geometry=raw.geometry.name, crs=raw.crs)
    gdf.index = pd.Index([f"#{i + 1}" for i in range(len(gdf))])
    _check_geometry(gdf, geom_types=geom_types, file=label)
    gdf = _to_metric(gdf, crs=crs, metric_crs=metric_crs, file=label)
    gdf = gdf.reset_index(drop=True)
    gdf.attrs["source_file"] = label
    return gdf


# --------------------------------------------------------------------------- reading


class _RowLabels:
    """How a user finds a row: its position, and in a workbook its Excel row number."""

    def __init__(self, lines: list[int] | None, word: str) -> None:
        self.lines = lines
        self.word = word
        self.by_id: dict[str, int] = {}

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _RowLabels:
        lines = frame.attrs.get("source_rows")
        if lines is not None and len(lines) != len(frame):
            lines = None
        return cls(None if lines is None else list(lines), str(frame.attrs.get("row_word", "")))

    def pos(self, pos: int) -> str:
        """``#3`` (CSV, GeoPackage), or ``#3 (Excel row 7)`` (workbook)."""
        if self.lines is None:
            return f"#{pos + 1}"
        return f"#{pos + 1} ({self.word} {self.lines[pos]})"

    def keyed(self, index: pd.Index) -> _RowLabels:
        out = _RowLabels(self.lines, self.word)
        if self.lines is not None:
            out.by_id = {str(i): line for i, line in zip(index, self.lines, strict=True)}
        return out

    def label_of(self, row: object) -> str | None:
        """``C3 (Excel row 7)`` for a row id of a workbook; None when nothing to add."""
        if row is None or not self.by_id or str(row) not in self.by_id:
            return None
        return f"{row} ({self.word} {self.by_id[str(row)]})"

    def with_lines(self, ids: pd.Index) -> list[str]:
        """Row ids with their Excel rows (``C3 (Excel row 7)``) for lists in messages."""
        return [self.label_of(i) or str(i) for i in ids]


def _read_raw(
    path: Path,
    *,
    kind: str,
    layer: str | None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    suffix = path.suffix.lower()
    label = str(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return _read_csv(path)
    if suffix in _EXCEL_SUFFIXES:
        return _read_excel(path, sheet=sheet, columns=columns or {})
    if suffix not in _VECTOR_SUFFIXES:
        raise InputError(
            f"unsupported file type {suffix!r}; use GeoPackage, GeoJSON, Shapefile, CSV "
            "or Excel (.xlsx, .xls)",
            file=label,
        )
    if suffix == ".gpkg" and layer is None:
        import pyogrio

        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        if kind in names:
            layer = kind
        elif len(names) > 1:
            raise InputError(f"the GeoPackage has layers {names}; name one with layer=", file=label)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the file: {exc}", file=label) from exc
    if suffix in {".geojson", ".json"}:
        # GeoJSON is WGS84 by definition: its CRS says nothing about an AMap export
        gdf.attrs["crs_says_nothing"] = True
    _check_unique_headers([str(c) for c in gdf.columns], file=label)
    return gdf


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in _CSV_ENCODINGS:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError as exc:
            last = exc
            continue
        except pd.errors.EmptyDataError as exc:
            raise InputError("the CSV file is empty", file=str(path)) from exc
        with path.open(encoding=enc, newline="") as fh:  # pandas renames a repeated header
            header = next(csv.reader(fh), [])
        _check_unique_headers([h.strip() for h in header], file=str(path))
        return frame
    raise InputError(f"cannot decode the CSV as UTF-8 or GB18030: {last}", file=str(path))


def _check_unique_headers(headers: list[str], *, file: str, letters: bool = False) -> None:
    seen: dict[str, int] = {}
    for pos, h in enumerate(headers):
        if not h:
            continue
        if h in seen:
            where = (
                f"columns {_letter(seen[h])} and {_letter(pos)}"
                if letters
                else f"columns {seen[h] + 1} and {pos + 1}"
            )
            raise InputError(
                f"the header {h!r} appears twice ({where}); rename or delete one",
                file=file,
                column=h,
            )
        seen[h] = pos


def _letter(pos: int) -> str:
    """Excel column letter of a 0-based position: 0 -> A, 26 -> AA."""
    out = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        out = chr(65 + rem) + out
    return out


def _read_excel(path: Path, *, sheet: str | int | None, columns: Mapping[str, str]) -> pd.DataFrame:
    """A sheet as a frame of text cells (like a CSV), with the Excel row of every row."""
    from python_calamine import CalamineWorkbook

    label = str(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            grids = ((n, book.get_sheet_by_name(n).to_python(skip_empty_area=False)) for n in names)
            found = next(((n, g) for n, g in grids if any(_has_text(r) for r in g)), None)
            if found is None:
                raise InputError("every sheet of the workbook is empty", file=label)
            name, grid = found
        else:
            if isinstance(sheet, int) and not isinstance(sheet, bool):
                if not 0 <= sheet < len(names):
                    raise InputError(
                        f"the workbook has {len(names)} sheets ({', '.join(names)}); "
                        f"sheet {sheet} does not exist (sheets count from 0)",
                        file=label,
                    )
                name = names[sheet]
            elif str(sheet) in names:
                name = str(sheet)
            else:
                raise InputError(
                    f"no sheet named {sheet!r}; the sheets are: {', '.join(names)}", file=label
                )
            grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own errors for broken or locked files
        raise InputError(f"cannot read the workbook: {exc}", file=label) from exc
    where = f"{label}, sheet {name}" if len(names) > 1 or sheet is not None else label
    cells = [[_cell_text(v) for v in row] for row in grid]
    head = _header_row(cells, columns)
    if head is None:
        raise InputError("the sheet is empty", file=where)
    headers = [" ".join(h.split()) for h in cells[head]]
    _check_unique_headers(headers, file=where, letters=True)
    keep = [i for i, h in enumerate(headers) if h]
    body: list[list[str]] = []
    lines: list[int] = []
    totals: list[int] = []
    for r in range(head + 1, len(cells)):
        row = cells[r]
        values = [row[i] if i < len(row) else "" for i in keep]
        if not any(v.strip() for v in values):
            continue
        texts = {v.strip().casefold() for v in values if v.strip()}
        if texts & C.TOTAL_ROW_LABELS and not any(_is_id_like(v) for v in values[:1]):
            totals.append(r + 1)
            continue
        body.append(values)
        lines.append(r + 1)  # Excel rows count from 1
    if totals:
        warnings.warn(
            f"{where}: total row left out (Excel row {', '.join(map(str, totals))}: "
            f"{'/'.join(sorted(C.TOTAL_ROW_LABELS & {'合计', '总计', '小计'}))})",
            DataQualityWarning,
            stacklevel=5,
        )
    frame = pd.DataFrame(body, columns=[headers[i] for i in keep], dtype=object)
    frame.attrs.update(
        source_rows=lines, row_word="Excel row", source_label=where, source_sheet=name
    )
    return frame


def _has_text(row: list[Any]) -> bool:
    return any(_cell_text(v).strip() for v in row)


def _is_id_like(value: str) -> bool:
    text = value.strip()
    return bool(text) and text.casefold() not in C.TOTAL_ROW_LABELS


def _cell_text(value: Any) -> str:
    """A cell as the text a CSV would hold: 2000.0 -> "2000", dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not np.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _header_row(cells: list[list[str]], columns: Mapping[str, str]) -> int | None:
    """The header row: among the first rows, the one with the most known headers.

    A title row above the header (often merged across the table) holds one cell;
    it is skipped. With no known header at all, the first row with two or more
    cells is the header.
    """
    lookup = C.alias_lookup()

    def known(text: str) -> bool:
        text = " ".join(text.split())
        return bool(text) and (
            text in columns
            or C.normalise_name(text) in lookup
            or C.normalise_name(C.without_unit(text)) in lookup
        )

    best, best_score = None, 0
    for r, row in enumerate(cells[:_HEADER_SCAN_ROWS]):
        score = sum(known(v) for v in row)
        if score > best_score:
            best, best_score = r, score
    if best is not None:
        return best
    return next(
        (r for r, row in enumerate(cells) if sum(bool(v.strip()) for v in row) >= 2),
        next((r for r, row in enumerate(cells) if any(v.strip() for v in row)), None),
    )


# --------------------------------------------------------------------------- columns


def _rename(
    df: pd.DataFrame, *, id_col: str, kind: str, user: Mapping[str, str], file: str
) -> dict[str, str]:
    """Return {canonical: original header} for the columns that map.

    Two headers that map to one canonical name are an error naming both (a
    header mapped by the user wins over a recognised alias).
    """
    lookup = C.alias_lookup()
    if isinstance(user, C.ColumnMap):  # one mapping for all files of a command
        present = {orig: canon for orig, canon in user.items() if orig in df.columns}
        user.used.update(present)
        user = present
    for orig, canon in user.items():
        if orig not in df.columns:
            raise InputError(
                f"mapped column {orig!r} (-> {canon!r}) is not in the file; its headers are: "
                f"{', '.join(str(c) for c in df.columns if c != 'geometry')}",
                file=file,
            )
    found: dict[str, str] = {}
    for orig, canon in user.items():
        if canon in found:
            raise InputError(
                f"columns {found[canon]!r} and {orig!r} are both mapped to {canon!r}; map only one",
                file=file,
                column=orig,
            )
        found[canon] = str(orig)
    by_user = set(found)
    for orig in df.columns:
        if orig == "geometry" or orig in user:
            continue
        text = str(orig)
        canon = lookup.get(C.normalise_name(text)) or lookup.get(
            C.normalise_name(C.without_unit(text)), ""
        )
        if not canon or (canon in C.POI_COLUMNS and kind != "facilities"):
            continue
        if canon in by_user:
            log.info("%s: column %r also maps to %r; keeping %r", file, orig, canon, found[canon])
            continue
        if canon in found:
            raise InputError(
                f"columns {found[canon]!r} and {text!r} both mean {canon!r}; delete or "
                f"rename one, or {_COLUMNS_HINT}",
                file=file,
                column=text,
            )
        found[canon] = text
    # the layer's own id wins over a generic id column
    if id_col in found and "id" in found:
        del found["id"]
    return found


_IMPLIED_CRS = {"amap": "gcj02", "baidu": "bd09"}
_CRS_NAMES = {"gcj02": "GCJ-02", "bd09": "BD-09"}
_SOURCE_NAMES = {"amap": "an AMap (高德) POI export", "baidu": "a Baidu (百度) POI export"}
_SOURCE_EVIDENCE = {
    "amap": ("typecode", "poi_type", "location"),
    "baidu": ("tag", "uid", "category"),
}


def _is_path(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("")
    return text.str.contains(r"[;；]", regex=True)


def _poi_source(df: pd.DataFrame, *, kind: str) -> str | None:
    """``amap`` or ``baidu`` when the columns are those of a map provider's POI export."""
    amap = "typecode" in df.columns or "location" in df.columns
    if "poi_type" in df.columns and len(df) and _is_path(df["poi_type"]).mean() >= 0.5:
        amap = True
    baidu = "tag" in df.columns or "uid" in df.columns
    if "category" in df.columns and len(df) and _is_path(df["category"]).mean() >= 0.5:
        baidu = True
    if amap and baidu:
        return None  # both kinds of columns: say nothing rather than guess
    return "amap" if amap else "baidu" if baidu else None


_NUMBER = r"-?\d+(?:\.\d+)?"


def _split_location(df: pd.DataFrame, *, file: str, rows: _RowLabels, column: str) -> None:
    """AMap's ``location`` ("116.31,39.99") or Baidu's {"lng": .., "lat": ..} into lon/lat."""
    text = df["location"].astype("string").fillna("").str.strip()
    lng = text.str.extract(r"lng\W+(" + _NUMBER + ")", expand=False)
    lat = text.str.extract(r"lat\W+(" + _NUMBER + ")", expand=False)
    pair = text.str.extract(r"^\s*(" + _NUMBER + r")\s*[,，\s]\s*(" + _NUMBER + r")\s*$")
    lon_t = lng.fillna(pair[0])
    lat_t = lat.fillna(pair[1])
    bad = lon_t.isna() | lat_t.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{text.iloc[pos]!r} is not a location 'longitude,latitude'",
            file=file,
            row=_row_label(df, pos, rows),
            column=column,
        )
    df["lon"] = lon_t.astype(str).to_numpy()
    df["lat"] = lat_t.astype(str).to_numpy()
    del df["location"]


#: Header names of a WKT geometry column in a table (compared case-insensitively).
_WKT_COLUMNS = frozenset({"geometry", "wkt", "geom", "the_geom", "几何", "空间信息"})


def _points_from_lonlat(
    df: pd.DataFrame,
    *,
    file: str,
    original: Mapping[str, str],
    crs: Any,
    rows: _RowLabels | None = None,
) -> gpd.GeoDataFrame:
    rows = rows or _RowLabels(None, "")
    wkt_col = next((c for c in df.columns if str(c).strip().casefold() in _WKT_COLUMNS), None)
    if wkt_col is not None:  # WKT in a CSV or a workbook
        text = df[wkt_col].astype("string").fillna("").str.strip()
        geom = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="ignore")
        bad = pd.isna(geom) & (text != "").to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"not valid WKT: {text.iloc[pos][:60]!r}",
                file=file,
                row=_row_label(df, pos, rows),
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
            f"(or {_COLUMNS_HINT})",
            file=file,
        )
    xy = {}
    for col in ("lon", "lat"):
        values = pd.to_numeric(_numeric_text(df[col]), errors="coerce")
        bad = values.isna()
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"{df[col][bad].iloc[0]!r} is not a coordinate",
                file=file,
                row=_row_label(df, pos, rows),
                column=original.get(col, col),
            )
        xy[col] = values.to_numpy(dtype=float)
    df = df.drop(columns=["lon", "lat"])
    # lon/lat in a CSV are WGS84 unless the caller says otherwise (e.g. crs="gcj02")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy["lon"], xy["lat"]), crs=4326)


def _row_label(df: pd.DataFrame, pos: int, rows: _RowLabels | None = None) -> str:
    line = "" if rows is None or rows.lines is None else f" ({rows.word} {rows.lines[pos]})"
    for col in ("community_id", "facility_id", "building_id", "id"):
        if col in df.columns:
            value = df[col].iloc[pos]
            if pd.notna(value) and str(value).strip():
                return str(value).strip() + line
    if rows is not None and rows.lines is not None:
        return rows.pos(pos)
    return f"#{pos + 1} (line {pos + 2})"


def _ids(
    gdf: gpd.GeoDataFrame,
    *,
    id_col: str,
    kind: str,
    file: str,
    original: Mapping[str, str],
    rows: _RowLabels,
) -> list[str]:
    col = id_col if id_col in gdf.columns else "id" if "id" in gdf.columns else None
    if col is None:
        if kind == "buildings":
            return [str(i + 1) for i in range(len(gdf))]
        # communities keep their own ids (facilities and ledgers refer to them), so
        # numbering rows is offered only for the other layers
        numbered = (
            ""
            if kind == "communities"
            else ", or number the rows with --row-ids, row_ids=True in Python"
        )
        raise InputError(
            f"no id column: expected one of {', '.join(C.ALIASES[id_col] + C.ALIASES['id'])} "
            f"(or {_COLUMNS_HINT}{numbered})",
            file=file,
        )
    raw = gdf[col]
    ids = []
    for pos, value in enumerate(raw):
        text = "" if pd.isna(value) else str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]  # ids read as floats by a driver
        if not text:
            raise InputError(
                "empty id", file=file, row=rows.pos(pos), column=original.get(col, col)
            )
        ids.append(text)
    series = pd.Series(ids)
    dup = series[series.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        positions = dup.index[dup == first]
        listed = ", ".join(rows.pos(int(i)) for i in positions[:_MAX_LISTED])
        repeated = int(series.duplicated().sum())
        hint = (
            "every community needs its own id (facilities refer to it)"
            if kind == "communities"
            else _ROW_IDS_HINT
        )
        raise InputError(
            f"duplicate id {first!r} (rows {listed}; {repeated} repeated ids in all); {hint}",
            file=file,
            row=first,
            column=original.get(col, col),
        )
    return ids


def _numeric_text(raw: pd.Series) -> pd.Series:
    """Numbers stored as text: full-width digits, thousands separators, spaces."""
    text = raw.astype("string").str.strip()
    text = text.map(lambda v: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v)
    return text.astype("string").str.replace(r"[,，\s]", "", regex=True)


def _coerce_numeric(gdf: gpd.GeoDataFrame, *, file: str, where: Any) -> None:
    for col in sorted(C.NUMERIC_COLUMNS & set(gdf.columns)):
        raw = gdf[col]
        text = _numeric_text(raw)
        empty = text.isna() | text.eq("") | text.str.lower().isin(["nan", "none", "null", "<na>"])
        values = pd.to_numeric(text.mask(empty), errors="coerce")
        bad = values.isna() & ~empty
        if bad.any():
            rid = bad.index[bad.to_numpy()][0]
            raise InputError(f"{raw[rid]!r} is not a number", file=file, row=rid, column=where(col))
        values = values.astype(float)
        if col in C.NONNEGATIVE:
            neg = values < 0
            if neg.any():
                rid = neg.index[neg.to_numpy()][0]
                raise InputError(
                    f"{col} is negative ({values[rid]:g})", file=file, row=rid, column=where(col)
                )
        inf = pd.Series(np.isinf(values.to_numpy(dtype=float)).astype(bool), index=values.index)
        if inf.any():
            rid = inf.index[inf.to_numpy()][0]
            raise InputError(f"{col} is infinite", file=file, row=rid, column=where(col))
        gdf[col] = values


def _coerce_bool(gdf: gpd.GeoDataFrame, *, file: str, where: Any) -> None:
    for col in sorted(C.BOOL_COLUMNS & set(gdf.columns)):
        raw = gdf[col]
        if raw.dtype == bool:
            continue
        text = raw.astype("string").str.strip().str.lower().fillna("")
        is_true = text.isin(C.TRUE_VALUES)
        is_false = text.isin(C.FALSE_VALUES)
        bad = ~(is_true | is_false)
        if bad.any():
            rid = bad.index[bad.to_numpy()][0]
            raise InputError(
                f"{raw[rid]!r} is not yes/no (use true/false, 是/否, 1/0)",
                file=file,
                row=rid,
                column=where(col),
            )
        gdf[col] = is_true.astype(bool)


def _coerce_text(gdf: gpd.GeoDataFrame) -> None:
    for col in sorted(C.TEXT_COLUMNS & set(gdf.columns)):
        values = gdf[col].astype("string").str.strip()
        if col in {"district_code", "community_id"}:
            values = values.str.replace(r"\.0$", "", regex=True)
        gdf[col] = values.astype(object).where(values.notna() & values.ne(""), None)


def _check_communities(gdf: gpd.GeoDataFrame, *, file: str, where: Any) -> None:
    kinds = gdf["kind"].map(lambda v: C.KIND_VALUES.get(str(v).strip().lower()) if v else None)
    bad = kinds.isna()
    if bad.any():
        rid = bad.index[bad.to_numpy()][0]
        raise InputError(
            f"unknown kind {gdf.loc[rid, 'kind']!r}: use urban (城市社区) or village (村)",
            file=file,
            row=rid,
            column=where("kind"),
        )
    gdf["kind"] = kinds.astype(object)
    missing = gdf["households"].isna()
    if missing.any():
        rid = missing.index[missing.to_numpy()][0]
        raise InputError(
            "households is missing (a community needs its household count; "
            "estimate it from buildings with geoplan.households)",
            file=file,
            row=rid,
            column=where("households"),
        )
    defaulted = [f for f in ("old_estate", "new_development", "central_district") if f not in gdf]
    for flag in defaulted:
        gdf[flag] = False
    # a flag the file did not have is no statement: audits can tell "not central"
    # from "not said" (central-district targets then cover the whole area, and say so)
    gdf.attrs["defaulted_columns"] = defaulted
    if "residents" in gdf.columns:
        fewer = gdf["residents"] < gdf["households"]
        if fewer.any():
            ids = [str(i) for i in fewer.index[fewer.to_numpy()][:_MAX_LISTED]]
            warnings.warn(
                f"{file}: column {where('residents')}: fewer residents than households in "
                f"{int(fewer.sum())} rows (first: {', '.join(ids)}); check the columns",
                DataQualityWarning,
                stacklevel=4,
            )


def _resolve_categories(
    gdf: gpd.GeoDataFrame, *, file: str, where: Any, strict: bool, rows: _RowLabels
) -> gpd.GeoDataFrame:
    """Category ids from the category column, AMap type codes / names or Baidu tags.

    In that order: a geoplan id, name or alias in ``category``; an AMap
    ``typecode``; a Baidu tag in ``tag`` or in ``category``; an AMap type name
    path in ``poi_type``. Rows that none of these place are unknown: left out
    with a warning, or an error with ``strict``.
    """
    from geoplan.categories import (
        category_of_amap,
        category_of_amap_type,
        category_of_baidu,
        match_categories,
    )

    def column(name: str) -> pd.Series | None:
        if name not in gdf.columns:
            return None
        values = gdf[name].astype(object)
        return values.where(values.notna(), None)

    result = pd.Series([None] * len(gdf), index=gdf.index, dtype=object)
    category = column("category")
    steps: list[tuple[pd.Series | None, Any]] = [
        (category, None),
        (column("typecode"), category_of_amap),
        (column("tag"), category_of_baidu),
        (category, category_of_baidu),
        (column("poi_type"), category_of_amap_type),
    ]
    for values, convert in steps:
        if values is None:
            continue
        todo = result.isna() & values.notna()
        if not todo.any():
            continue
        if convert is None:
            found = match_categories(values[todo])
        else:
            found = values[todo].map(lambda v, f=convert: f(str(v)))
        result[todo] = found
    col = next(
        (
            c
            for c in ("category", "typecode", "tag", "poi_type")
            if c in gdf.columns and gdf[c].notna().any()
        ),
        "category",
    )
    unknown = result.isna()
    if unknown.any():
        shown = _shown_value(gdf, unknown)
        first = unknown.index[unknown.to_numpy()][0]
        n = int(unknown.sum())
        counts = shown[unknown].value_counts()
        listed = ", ".join(
            f"{v!r} ×{k}" if k > 1 else repr(v) for v, k in counts.head(_MAX_LISTED).items()
        )
        more = f" and {len(counts) - _MAX_LISTED} more" if len(counts) > _MAX_LISTED else ""
        if strict or n == len(gdf):
            from geoplan.categories import load_categories

            what = "no row has a known category" if n == len(gdf) else f"{n} rows"
            raise InputError(
                f"unknown category {shown[first]!r} ({what}; values: {listed}{more}); valid "
                f"ids: {', '.join(load_categories().ids)} (Chinese names, aliases, AMap "
                "type codes and Baidu tags are accepted too)",
                file=file,
                row=first,
                column=where(col),
            )
        ids = ", ".join(rows.with_lines(unknown.index[unknown.to_numpy()][:_MAX_LISTED]))
        warnings.warn(
            f"{file}: column {where(col)}: {n} of {len(gdf)} rows have an unknown category "
            f"and are left out (first: {ids}; values: {listed}{more}); {_STRICT_HINT}",
            DataQualityWarning,
            stacklevel=4,
        )
    out = gdf.loc[~unknown].copy()
    out["category"] = result[~unknown].astype(str)
    out.attrs["unknown_category_rows"] = int(unknown.sum())
    return out


def _shown_value(gdf: gpd.GeoDataFrame, mask: pd.Series) -> pd.Series:
    """What a user wrote for each row's category (category, else type code, tag, type)."""
    shown = pd.Series([""] * len(gdf), index=gdf.index, dtype=object)
    for col in reversed(("category", "typecode", "tag", "poi_type")):
        if col in gdf.columns:
            values = gdf[col].astype("string").fillna("").str.strip()
            shown = values.where(values.ne(""), shown).astype(object)
    return shown


def _check_geometry(gdf: gpd.GeoDataFrame, *, geom_types: tuple[str, ...], file: str) -> None:
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
        ids = [str(i) for i in invalid.index[invalid.to_numpy()][:_MAX_LISTED]]
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


# --------------------------------------------------------------------------- CRS


def _to_metric(gdf: gpd.GeoDataFrame, *, crs: Any, metric_crs: Any, file: str) -> gpd.GeoDataFrame:
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

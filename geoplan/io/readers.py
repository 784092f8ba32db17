"""Readers for communities, facilities and buildings, with validation.

Each reader takes a GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV or Excel workbook
(.xlsx, .xls; points from lon/lat columns, or a WKT ``geometry`` column; a plain
Parquet table is read like a CSV), renames Chinese or
English headers to the canonical names of ``docs/architecture.md``, checks every
row, and returns a GeoDataFrame indexed by id in a local metric CRS. A bad row
raises :class:`~geoplan._errors.InputError` naming the file (and sheet), the row id
(with its Excel row number) and the column.

AMap and Baidu POI exports are recognised by their columns (``typecode``/``type``/
``location`` for AMap, ``tag``/``uid`` or Baidu tags such as ``美食;中餐厅`` in the
category column for Baidu): their type codes and tags map to categories through
``geoplan/categories/categories.toml``, and their coordinates are converted from
GCJ-02 / BD-09 when the caller gave no ``crs``, with a warning that says so.

This module holds the public readers and the reading of files; the parts live in
private siblings it imports (never the reverse): :mod:`geoplan.io._excel`
(workbooks), :mod:`geoplan.io._poi` (POI exports and categories),
:mod:`geoplan.io._validate` (ids, values, row labels) and
:mod:`geoplan.io._geometry` (geometry and CRS).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io import columns as C
from geoplan.io._excel import EXCEL_SUFFIXES, read_excel
from geoplan.io._files import read_csv_file, read_ogr, read_parquet_file
from geoplan.io._geometry import WKT_COLUMNS, check_geometry, layer_to_metric, points_from_lonlat
from geoplan.io._poi import (
    IMPLIED_CRS,
    SOURCE_EVIDENCE,
    detect_poi_source,
    implied_crs_message,
    resolve_categories,
    split_location,
)
from geoplan.io._validate import (
    COLUMNS_HINT,
    RowLabels,
    check_communities,
    check_unique_headers,
    coerce_bool,
    coerce_numeric,
    coerce_text,
    unique_ids,
)
from geoplan.io.postgis import is_postgis_uri, read_postgis_layer
from geoplan.io.renamed import renamed_source_crs

if TYPE_CHECKING:
    from geoplan._types import CRSLike

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
_PARQUET_SUFFIXES = {".parquet", ".geoparquet"}


def read_communities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    row_ids: bool = False,
    crs: CRSLike | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate community polygons.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile, GeoParquet, CSV (with a WKT ``geometry``
        column) or Excel workbook (.xlsx, .xls; a WKT ``geometry`` column). A
        Parquet file without GeoParquet metadata is a table like a CSV (lon/lat,
        WKT or WKB ``geometry``). A ledger without polygons is read with
        :func:`read_table`.
    layer
        Layer name inside a GeoPackage; default ``communities`` when present.
    sheet
        Sheet of an Excel workbook (name, or 0-based position); default the first
        sheet that holds data. The header row may sit below a title row.
    columns
        Extra header mapping ``{"their header": "canonical name"}``.
    source_crs
        What the coordinates really are, when the file says nothing or says
        something wrong: ``"gcj02"`` or ``"bd09"`` for AMap / Baidu data, or any
        pyproj CRS. (``crs=`` is its old name, deprecated.)
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
    crs = renamed_source_crs(source_crs, crs, where="read_communities")
    return read_layer(
        path,
        "communities",
        layer=layer,
        sheet=sheet,
        columns=columns,
        source_crs=crs,
        metric_crs=metric_crs,
        row_ids=row_ids,
    )


def read_facilities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    strict: bool = False,
    row_ids: bool = False,
    crs: CRSLike | None = None,
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
    crs = renamed_source_crs(source_crs, crs, where="read_facilities")
    return read_layer(
        path,
        "facilities",
        layer=layer,
        sheet=sheet,
        columns=columns,
        source_crs=crs,
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
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    row_ids: bool = False,
    crs: CRSLike | None = None,
) -> gpd.GeoDataFrame:
    """Read and validate buildings (polygons or points); see :func:`read_communities`.

    Missing households are allowed (estimate them with
    :func:`geoplan.households.estimate_households`); negative ones are not. A file
    without ids gets row numbers (``1``, ``2``, ...) as ids; so does a file whose
    ids repeat when ``row_ids=True`` (real footprints often carry one id for all).
    """
    crs = renamed_source_crs(source_crs, crs, where="read_buildings")
    return read_layer(
        path,
        "buildings",
        layer=layer,
        sheet=sheet,
        columns=columns,
        source_crs=crs,
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
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    strict: bool = False,
    row_ids: bool = False,
    crs: CRSLike | None = None,
) -> gpd.GeoDataFrame:
    """Read one input layer of ``kind`` (``communities``, ``facilities``, ``buildings``)."""
    crs = renamed_source_crs(source_crs, crs, where="read_layer")
    if kind not in C.LAYERS:
        raise ValueError(f"unknown layer kind {kind!r}; expected one of {sorted(C.LAYERS)}")
    return _read_prepared(
        path,
        kind,
        layer=layer,
        sheet=sheet,
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        strict=strict,
        row_ids=row_ids,
        geometry_required=True,
    )


def read_table(
    path: str | os.PathLike[str],
    kind: str,
    *,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    strict: bool = False,
    row_ids: bool = False,
    crs: CRSLike | None = None,
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
    crs = renamed_source_crs(source_crs, crs, where="read_table")
    return _read_prepared(
        path,
        kind,
        layer=None,
        sheet=sheet,
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        strict=strict,
        row_ids=row_ids,
        geometry_required=False,
    )


def _read_prepared(
    path: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None,
    sheet: str | int | None,
    columns: Mapping[str, str] | None,
    crs: CRSLike | None,
    metric_crs: CRSLike | None,
    strict: bool,
    row_ids: bool,
    geometry_required: bool,
) -> Any:
    """Read ``path`` and validate it as :func:`prepare_layer` does (both readers' body)."""
    source = str(path) if is_postgis_uri(path) else Path(path)
    if isinstance(source, Path) and not source.exists():
        raise InputError("file not found", file=str(source))
    raw = _read_raw(source, kind=kind, layer=layer, sheet=sheet, columns=columns)
    return prepare_layer(
        raw,
        kind,
        file=str(raw.attrs.get("source_label", source)),
        columns=columns,
        source_crs=crs,
        metric_crs=metric_crs,
        geometry_required=geometry_required,
        strict=strict,
        row_ids=row_ids,
    )


def prepare_layer(
    frame: gpd.GeoDataFrame | pd.DataFrame,
    kind: str,
    *,
    file: str = "<frame>",
    columns: Mapping[str, str] | None = None,
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    geometry_required: bool = True,
    strict: bool = False,
    row_ids: bool = False,
    crs: CRSLike | None = None,
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
    crs = renamed_source_crs(source_crs, crs, where="prepare_layer")
    id_col, required, geom_types = C.LAYERS[kind]
    rows = RowLabels.of(frame)
    implied_ok = getattr(frame, "crs", None) is None or bool(frame.attrs.get("crs_says_nothing"))
    df = frame.copy()
    original = _rename(df, id_col=id_col, kind=kind, user=columns or {}, file=file)
    df = df.rename(columns={orig: canon for canon, orig in original.items()})
    source = detect_poi_source(df, kind=kind) if kind == "facilities" else None
    evidence = [original.get(c, c) for c in SOURCE_EVIDENCE.get(source or "", ()) if c in df]
    if source is not None and "location" in df.columns and not {"lon", "lat"} <= set(df.columns):
        split_location(df, file=file, rows=rows, column=original.get("location", "location"))
    if source is not None and crs is None and implied_ok:
        crs = IMPLIED_CRS[source]
        warnings.warn(implied_crs_message(file, source, evidence), DataQualityWarning, stacklevel=3)
    has_lonlat = "lon" in df.columns and "lat" in df.columns
    has_wkt = any(str(c).strip().casefold() in WKT_COLUMNS for c in df.columns)
    tabular = not geometry_required and not has_wkt and not has_lonlat
    if tabular:
        gdf: Any = pd.DataFrame(df)
    else:
        if "geometry" not in df.columns or not isinstance(df, gpd.GeoDataFrame):
            df = points_from_lonlat(
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
        ids = unique_ids(gdf, id_col=id_col, kind=kind, file=file, original=original, rows=rows)
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
                    f"{', '.join(C.ALIASES.get(col, (col,)))}; or {COLUMNS_HINT})",
                    file=file,
                )
        coerce_numeric(gdf, file=file, where=where)
        coerce_bool(gdf, file=file, where=where)
        coerce_text(gdf)
        if kind == "communities":
            check_communities(gdf, file=file, where=where)
        if kind == "facilities":
            gdf = resolve_categories(gdf, file=file, where=where, strict=strict, rows=rows)
        if kind == "buildings" and "households_estimated" not in gdf.columns:
            gdf["households_estimated"] = False
        if not tabular:
            check_geometry(gdf, geom_types=geom_types, file=file)
            gdf = layer_to_metric(gdf, crs=crs, metric_crs=metric_crs, file=file)
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
    source_crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
    crs: CRSLike | None = None,
) -> gpd.GeoDataFrame:
    """Read a supporting layer (streets, compounds, gates, candidates) as given.

    Columns are kept as they are. In a GeoPackage with several layers the first
    of ``preferred`` that exists is taken (``streets`` for a street layer); the
    geometry must be of ``geom_types``; ``source_crs`` and ``metric_crs`` work as in
    :func:`read_communities` (``source_crs="gcj02"`` converts AMap data).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geoplan.sample import make_sample_district
    >>> path = make_sample_district(seed=0).to_files(pathlib.Path(tempfile.mkdtemp()))[0]
    >>> streets = read_aux_layer(path, preferred=("streets",), geom_types=("LineString",))
    >>> streets.geom_type.unique().tolist()
    ['LineString']
    """
    crs = renamed_source_crs(source_crs, crs, where="read_aux_layer")
    if is_postgis_uri(path):  # a table: the first of ``preferred`` without table=
        raw: gpd.GeoDataFrame | pd.DataFrame = read_postgis_layer(
            str(path), layer=layer, preferred=preferred
        )
        return _aux_layer(raw, raw.attrs["source_label"], preferred, geom_types, crs, metric_crs)
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
    return _aux_layer(raw, label, preferred, geom_types, crs, metric_crs)


def _aux_layer(
    raw: gpd.GeoDataFrame | pd.DataFrame,
    label: str,
    preferred: tuple[str, ...],
    geom_types: tuple[str, ...],
    crs: CRSLike | None,
    metric_crs: CRSLike | None,
) -> gpd.GeoDataFrame:
    """:func:`read_aux_layer`'s checks of the raw frame of a file or table."""
    if not isinstance(raw, gpd.GeoDataFrame):
        raw = points_from_lonlat(
            pd.DataFrame(raw), file=label, original={}, crs=crs, rows=RowLabels.of(raw)
        )
    if len(raw) == 0:
        raise InputError(f"no {preferred[0]} in the file", file=label)
    gdf = gpd.GeoDataFrame(raw, geometry=raw.geometry.name, crs=raw.crs)
    gdf = gdf.reset_index(drop=True)
    check_geometry(gdf, geom_types=geom_types, file=label, row_name=_position)
    gdf = layer_to_metric(gdf, crs=crs, metric_crs=metric_crs, file=label, row_name=_position)
    gdf.attrs["source_file"] = label
    return gdf


def _position(label: object) -> str:
    """``#3``: a row of a supporting layer, named by its position from 1."""
    return f"#{int(str(label)) + 1}"


# --------------------------------------------------------------------------- reading


def _read_raw(
    path: Path | str,
    *,
    kind: str,
    layer: str | None,
    sheet: str | int | None = None,
    columns: Mapping[str, str] | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    if is_postgis_uri(path):  # a PostGIS table; without table=, the one named ``kind``
        return read_postgis_layer(str(path), layer=layer, preferred=(kind,))
    path = Path(path)
    suffix = path.suffix.lower()
    label = str(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return read_csv_file(path)
    if suffix in EXCEL_SUFFIXES:
        return read_excel(path, sheet=sheet, columns=columns or {})
    if suffix in _PARQUET_SUFFIXES:
        if layer is not None:
            raise InputError(
                f"a Parquet file holds one table; leave out the layer ({layer!r})", file=label
            )
        return read_parquet_file(path)
    if suffix not in _VECTOR_SUFFIXES:
        raise InputError(
            f"unsupported file type {suffix!r}; use GeoPackage, GeoJSON, Shapefile, "
            "GeoParquet, CSV or Excel (.xlsx, .xls)",
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
        gdf = read_ogr(path, layer=layer)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the file: {exc}", file=label) from exc
    if suffix in {".geojson", ".json"}:
        # GeoJSON is WGS84 by definition: its CRS says nothing about an AMap export
        gdf.attrs["crs_says_nothing"] = True
    check_unique_headers([str(c) for c in gdf.columns], file=label)
    return gdf


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
                f"rename one, or {COLUMNS_HINT}",
                file=file,
                column=text,
            )
        found[canon] = text
    # the layer's own id wins over a generic id column
    if id_col in found and "id" in found:
        del found["id"]
    return found

"""Readers for communities, facilities and buildings, with validation.

Each reader takes a GeoPackage, GeoJSON, Shapefile or CSV (points from lon/lat
columns, or a WKT ``geometry`` column), renames Chinese or English headers to the
canonical names of ``docs/architecture.md``, checks every row, and returns a
GeoDataFrame indexed by id in a local metric CRS. A bad row raises
:class:`~geoplan._errors.InputError` naming the file, the row id and the column.
"""

from __future__ import annotations

import logging
import os
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
_CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_MAX_LISTED = 5


def read_communities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read and validate community polygons.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile or CSV (with a WKT ``geometry`` column).
    layer
        Layer name inside a GeoPackage; default ``communities`` when present.
    columns
        Extra header mapping ``{"their header": "canonical name"}``.
    crs
        What the coordinates really are, when the file says nothing or says
        something wrong: ``"gcj02"`` or ``"bd09"`` for AMap / Baidu data, or any
        pyproj CRS.
    metric_crs
        Projected CRS for the output; default: the local UTM zone.

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
        path, "communities", layer=layer, columns=columns, crs=crs, metric_crs=metric_crs
    )


def read_facilities(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read and validate facilities (points or polygons); see :func:`read_communities`.

    Unknown categories are an error naming the row; Chinese category names
    (``菜市场``) are accepted and mapped to category ids (``wet_market``).
    """
    return read_layer(
        path, "facilities", layer=layer, columns=columns, crs=crs, metric_crs=metric_crs
    )


def read_buildings(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read and validate buildings (polygons or points); see :func:`read_communities`.

    Missing households are allowed (estimate them with
    :func:`geoplan.households.estimate_households`); negative ones are not. A file
    without ids gets row numbers (``1``, ``2``, ...) as ids.
    """
    return read_layer(
        path, "buildings", layer=layer, columns=columns, crs=crs, metric_crs=metric_crs
    )


def read_layer(
    path: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
) -> gpd.GeoDataFrame:
    """Read one input layer of ``kind`` (``communities``, ``facilities``, ``buildings``)."""
    if kind not in C.LAYERS:
        raise ValueError(f"unknown layer kind {kind!r}; expected one of {sorted(C.LAYERS)}")
    path = Path(path)
    label = str(path)
    if not path.exists():
        raise InputError("file not found", file=label)
    raw = _read_raw(path, kind=kind, layer=layer, crs=crs)
    return prepare_layer(raw, kind, file=label, columns=columns, crs=crs, metric_crs=metric_crs)


def read_table(
    path: str | os.PathLike[str],
    kind: str,
    *,
    columns: Mapping[str, str] | None = None,
    crs: Any = None,
    metric_crs: Any = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Read a layer whose geometry is optional (an attribute table as plain CSV).

    With geometry it is :func:`read_layer`; a CSV with neither lon/lat nor WKT is
    validated the same way and returned as a DataFrame indexed by id.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", file=str(path))
    raw = _read_raw(path, kind=kind, layer=None, crs=crs)
    return prepare_layer(
        raw,
        kind,
        file=str(path),
        columns=columns,
        crs=crs,
        metric_crs=metric_crs,
        geometry_required=False,
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
    df = frame.copy()
    original = _rename(df, id_col=id_col, user=columns or {}, file=file)
    df = df.rename(columns={orig: canon for canon, orig in original.items()})
    has_lonlat = "lon" in df.columns and "lat" in df.columns
    tabular = not geometry_required and "geometry" not in df.columns and not has_lonlat
    if tabular:
        gdf: Any = pd.DataFrame(df)
    else:
        if "geometry" not in df.columns or not isinstance(df, gpd.GeoDataFrame):
            df = _points_from_lonlat(pd.DataFrame(df), file=file, original=original, crs=crs)
        gdf = gpd.GeoDataFrame(df, geometry="geometry", crs=getattr(df, "crs", None))
    if len(gdf) == 0:
        raise InputError(f"no {kind} in the file", file=file)

    ids = _ids(gdf, id_col=id_col, kind=kind, file=file, original=original)
    gdf.index = pd.Index(ids, name=id_col)
    gdf = gdf.drop(columns=[c for c in (id_col, "id") if c in gdf.columns])

    def where(canon: str) -> str:
        return original.get(canon, canon)

    for col in required:
        if col not in gdf.columns:
            raise InputError(
                f"required column {col!r} is missing (accepted headers: "
                f"{', '.join(C.ALIASES.get(col, (col,)))}; or map yours with columns=)",
                file=file,
            )
    _coerce_numeric(gdf, file=file, where=where)
    _coerce_bool(gdf, file=file, where=where)
    _coerce_text(gdf)
    if kind == "communities":
        _check_communities(gdf, file=file, where=where)
    if kind == "facilities":
        _check_categories(gdf, file=file, where=where)
    if kind == "buildings" and "households_estimated" not in gdf.columns:
        gdf["households_estimated"] = False
    if not tabular:
        _check_geometry(gdf, geom_types=geom_types, file=file)
        gdf = _to_metric(gdf, crs=crs, metric_crs=metric_crs, file=file)
    gdf.attrs["source_file"] = file
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
    raw = _read_raw(path, kind=preferred[0], layer=layer, crs=crs)
    if not isinstance(raw, gpd.GeoDataFrame):
        raw = _points_from_lonlat(pd.DataFrame(raw), file=label, original={}, crs=crs)
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


def _read_raw(
    path: Path, *, kind: str, layer: str | None, crs: Any
) -> gpd.GeoDataFrame | pd.DataFrame:
    suffix = path.suffix.lower()
    label = str(path)
    if suffix in {".csv", ".txt", ".tsv"}:
        return _read_csv(path)
    if suffix not in _VECTOR_SUFFIXES:
        raise InputError(
            f"unsupported file type {suffix!r}; use GeoPackage, GeoJSON, Shapefile or CSV",
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
    return gdf


def _read_csv(path: Path) -> pd.DataFrame:
    last: Exception | None = None
    for enc in _CSV_ENCODINGS:
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc)
        except UnicodeDecodeError as exc:
            last = exc
        except pd.errors.EmptyDataError as exc:
            raise InputError("the CSV file is empty", file=str(path)) from exc
    raise InputError(f"cannot decode the CSV as UTF-8 or GB18030: {last}", file=str(path))


# --------------------------------------------------------------------------- columns


def _rename(df: pd.DataFrame, *, id_col: str, user: Mapping[str, str], file: str) -> dict[str, str]:
    """Return {canonical: original header} for the columns that map."""
    lookup = C.alias_lookup()
    found: dict[str, str] = {}
    for orig in df.columns:
        if orig == "geometry":
            continue
        if orig in user:
            canon = user[orig]
        else:
            canon = lookup.get(C.normalise_name(str(orig)), "")
            if not canon:
                continue
        if canon in found and canon not in user.values():
            log.info("%s: column %r also maps to %r; keeping %r", file, orig, canon, found[canon])
            continue
        found[canon] = str(orig)
    for orig, canon in user.items():
        if orig not in df.columns:
            raise InputError(f"mapped column {orig!r} (-> {canon!r}) is not in the file", file=file)
    # the layer's own id wins over a generic id column
    if id_col in found and "id" in found:
        del found["id"]
    return found


def _points_from_lonlat(
    df: pd.DataFrame, *, file: str, original: Mapping[str, str], crs: Any
) -> gpd.GeoDataFrame:
    if "geometry" in df.columns:  # WKT in a CSV
        wkt = df["geometry"].astype(str)
        try:
            geom = shapely.from_wkt(wkt.to_numpy(), on_invalid="raise")
        except shapely.errors.GEOSException as exc:
            raise InputError(
                f"geometry is not valid WKT: {exc}", file=file, column="geometry"
            ) from exc
        df = df.drop(columns="geometry")
        return gpd.GeoDataFrame(df, geometry=geom, crs=None if crs is None else 4326)
    if "lon" not in df.columns or "lat" not in df.columns:
        raise InputError(
            "no geometry: a CSV needs lon/lat (经度/纬度) columns or a WKT geometry column",
            file=file,
        )
    xy = {}
    for col in ("lon", "lat"):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna()
        if bad.any():
            row = _row_label(df, int(np.flatnonzero(bad.to_numpy())[0]))
            raise InputError(
                f"{df[col][bad].iloc[0]!r} is not a coordinate",
                file=file,
                row=row,
                column=original.get(col, col),
            )
        xy[col] = values.to_numpy(dtype=float)
    df = df.drop(columns=["lon", "lat"])
    # lon/lat in a CSV are WGS84 unless the caller says otherwise (e.g. crs="gcj02")
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(xy["lon"], xy["lat"]), crs=4326)


def _row_label(df: pd.DataFrame, pos: int) -> str:
    for col in ("community_id", "facility_id", "building_id", "id"):
        if col in df.columns:
            value = df[col].iloc[pos]
            if pd.notna(value) and str(value).strip():
                return str(value).strip()
    return f"#{pos + 1} (line {pos + 2})"


def _ids(
    gdf: gpd.GeoDataFrame, *, id_col: str, kind: str, file: str, original: Mapping[str, str]
) -> list[str]:
    col = id_col if id_col in gdf.columns else "id" if "id" in gdf.columns else None
    if col is None:
        if kind == "buildings":
            return [str(i + 1) for i in range(len(gdf))]
        raise InputError(
            f"no id column: expected one of {', '.join(C.ALIASES[id_col] + C.ALIASES['id'])}",
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
                "empty id", file=file, row=f"#{pos + 1}", column=original.get(col, col)
            )
        ids.append(text)
    series = pd.Series(ids)
    dup = series[series.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        rows = [f"#{i + 1}" for i in dup.index[dup == first][:_MAX_LISTED]]
        raise InputError(
            f"duplicate id {first!r} (rows {', '.join(rows)})",
            file=file,
            row=first,
            column=original.get(col, col),
        )
    return ids


def _coerce_numeric(gdf: gpd.GeoDataFrame, *, file: str, where: Any) -> None:
    for col in sorted(C.NUMERIC_COLUMNS & set(gdf.columns)):
        raw = gdf[col]
        text = raw.astype("string").str.strip().str.replace(",", "", regex=False)
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
        inf = np.isinf(values)
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
    for flag in ("old_estate", "new_development", "central_district"):
        if flag not in gdf.columns:
            gdf[flag] = False
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


def _check_categories(gdf: gpd.GeoDataFrame, *, file: str, where: Any) -> None:
    from geoplan.categories import validate_categories

    try:
        gdf["category"] = validate_categories(gdf["category"], file=file)
    except InputError as exc:
        if exc.column == "category" and where("category") != "category":
            raise InputError(
                exc.message, file=exc.file, row=exc.row, column=where("category")
            ) from None
        raise


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
            "the data has no CRS; say what the coordinates are with crs= "
            "(e.g. crs=4326, crs='gcj02' for AMap, crs='bd09' for Baidu)",
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
            "projected; give its CRS with crs=",
            file=file,
            row=rid,
            column="geometry",
        )

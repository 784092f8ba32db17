"""Where a task of a distributed run reads its own window of an input layer.

A :class:`LayerSource` names a layer by location, never by content: a task gets the
source and a box and reads the rows in the box itself (:func:`read_window`), so
no data travels from the client to the workers. Three kinds of source:

- a vector file the user gave (GeoPackage, Shapefile, GeoJSON, FlatGeobuf): a
  pyogrio ``bbox`` read (the file's spatial index), then the same validation as
  :func:`geoplan.io.readers.read_layer` (:func:`geoplan.io.readers.prepare_layer`);
- a GeoParquet file: its bbox covering columns filter the row groups when it has
  them, else the file is read and the rows in the box kept; a PostGIS table
  (``postgresql://...``): a spatial query (:func:`geoplan.io.postgis.read_postgis_layer`);
- anything a task cannot read by box (CSV, Excel, the layers of an OSM extract,
  frames made in Python, files whose buildings are numbered by row): the client
  stages the validated layer once as GeoParquet, spatially sorted, with a bbox
  covering and small row groups (:func:`stage_layer`), and tasks read its row groups.

:func:`direct_source` says whether a file can be read by box: it must carry its own
ids (rows numbered by position would be numbered again in each window).
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

if TYPE_CHECKING:
    from geoplan._types import CRSLike

__all__ = ["KINDS", "LayerSource", "direct_source", "read_window", "stage_layer"]

#: The layers a task reads, and the id column of each (compounds and gates have none).
KINDS: Mapping[str, str | None] = {
    "buildings": "building_id",
    "facilities": "facility_id",
    "compounds": None,
    "gates": None,
}
_OGR_SUFFIXES = {".gpkg", ".geojson", ".json", ".shp", ".fgb"}
_PARQUET_SUFFIXES = {".parquet", ".geoparquet"}
_LONLAT = {"gcj02", "gcj-02", "bd09", "bd-09"}
#: Rows per row group of a staged layer: a task's box then skips most of the file.
STAGE_ROW_GROUP = 10_000


@dataclass(frozen=True)
class LayerSource:
    """One input layer as a task finds it: a location and how to read it.

    Attributes
    ----------
    location
        A file path or a PostGIS URI.
    kind
        ``buildings``, ``facilities``, ``compounds`` or ``gates``.
    layer
        The layer of a GeoPackage (or table, for PostGIS without ``table=``).
    columns
        The header mapping the client read with (``--columns``), as pairs.
    source_crs
        What the coordinates are when the file says nothing (``--crs``), as text.
    box_crs
        The CRS a window is asked in (the file's coordinates), as WKT; None for a
        staged layer (in the network's CRS).
    strict
        Unknown facility categories are an error (``--strict``).
    staged
        A GeoParquet file the client wrote (:func:`stage_layer`).
    """

    location: str
    kind: str
    layer: str | None = None
    columns: tuple[tuple[str, str], ...] = ()
    source_crs: str | None = None
    box_crs: str | None = None
    strict: bool = False
    staged: bool = False


def direct_source(
    location: str | os.PathLike[str],
    kind: str,
    *,
    layer: str | None = None,
    columns: Mapping[str, str] | None = None,
    source_crs: CRSLike | None = None,
    row_ids: bool = False,
    strict: bool = False,
) -> LayerSource | None:
    """A source tasks read by box, or None when the layer must be staged.

    Read by box: vector files, GeoParquet files and PostGIS tables whose rows carry
    their own ids (an id column, or a header the readers map to one) and are not
    renumbered (``row_ids``). ``source_crs`` must be text or None (a task gets it
    as text).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from shapely import Point
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> gpd.GeoDataFrame({"building_id": ["B1"]}, geometry=[Point(0, 0)],
    ...     crs=32650).to_file(d / "b.gpkg")
    >>> direct_source(d / "b.gpkg", "buildings").layer
    'b'
    >>> print(direct_source(d / "b.gpkg", "buildings", row_ids=True))
    None
    """
    if kind not in ("buildings", "facilities"):
        raise ValueError(f"direct sources are buildings or facilities, not {kind!r}")
    if row_ids or (source_crs is not None and not isinstance(source_crs, str)):
        return None
    text = str(location)
    mapping = tuple((str(k), str(v)) for k, v in (columns or {}).items())
    from geoplan.io.postgis import is_postgis_uri

    if is_postgis_uri(text):
        from geoplan.io.postgis import read_postgis_layer

        empty = read_postgis_layer(text, bbox=(0.0, 0.0, 0.0, 0.0), layer=layer, preferred=(kind,))
        headers = [str(c) for c in empty.columns if c != "geometry"]
        crs = empty.crs
    else:
        path = Path(text)
        suffix = path.suffix.lower()
        if suffix in _OGR_SUFFIXES:
            import pyogrio

            if suffix == ".gpkg" and layer is None:
                names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
                layer = kind if kind in names else names[0] if len(names) == 1 else None
                if layer is None:
                    return None
            info = pyogrio.read_info(path, layer=layer)
            headers = [str(f) for f in info["fields"]]
            crs = pyproj.CRS.from_user_input(info["crs"]) if info["crs"] else None
        elif suffix in _PARQUET_SUFFIXES:
            import pyarrow.parquet as pq

            schema = pq.read_schema(path)
            if b"geo" not in (schema.metadata or {}):
                return None
            geo = json.loads(schema.metadata[b"geo"])
            col = geo.get("columns", {}).get(str(geo.get("primary_column", "geometry"))) or {}
            crs = pyproj.CRS.from_user_input(col["crs"]) if col.get("crs") else pyproj.CRS(4326)
            headers = [str(n) for n in schema.names]
        else:
            return None
    if not _has_ids(headers, kind, dict(mapping)):
        return None
    if isinstance(source_crs, str):
        box_crs = (
            pyproj.CRS(4326)
            if source_crs.lower() in _LONLAT
            else pyproj.CRS.from_user_input(source_crs)
        )
    elif crs is not None:
        box_crs = crs
    else:
        return None  # no CRS at all: the client's read refused it already
    return LayerSource(
        location=text,
        kind=kind,
        layer=layer,
        columns=mapping,
        source_crs=source_crs,
        box_crs=box_crs.to_wkt(),
        strict=strict,
    )


def _has_ids(headers: Sequence[str], kind: str, mapping: Mapping[str, str]) -> bool:
    """Whether the readers find an id column among ``headers`` (as their renaming does)."""
    from geoplan.io import columns as C

    id_col = C.LAYERS[kind][0]
    wanted = {id_col, "id"}
    if any(mapping.get(h) in wanted for h in headers):
        return True
    lookup = C.alias_lookup()
    for h in headers:
        if h in mapping or h == "geometry":
            continue
        canon = lookup.get(C.normalise_name(h)) or lookup.get(
            C.normalise_name(C.without_unit(h)), ""
        )
        if canon in wanted:
            return True
    return False


def stage_layer(
    frame: gpd.GeoDataFrame | gpd.GeoSeries,
    kind: str,
    folder: str | os.PathLike[str],
) -> LayerSource:
    """Write a validated layer for tasks to read by box: ``folder/<kind>.parquet``.

    GeoParquet in the frame's CRS: the ids (the index, as text), the category of
    facilities, the geometry, a bbox covering, rows sorted along a Hilbert curve in
    row groups of :data:`STAGE_ROW_GROUP`, and each row's position in ``frame``
    (tasks put the rows back in that order). Written atomically.
    """
    from geoplan.io.write import atomic_path

    if kind not in KINDS:
        raise ValueError(f"unknown layer kind {kind!r}")
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    out = gpd.GeoDataFrame(
        {
            "_pos": np.arange(len(geoms), dtype=np.int64),
            "_id": pd.array([str(i) for i in geoms.index.tolist()], dtype=object),
        },
        geometry=geoms.to_numpy(),
        crs=geoms.crs,
    )
    if kind == "facilities":
        assert isinstance(frame, gpd.GeoDataFrame)
        cat = frame["category"]
        out.insert(2, "category", cat.where(cat.isna(), cat.astype(str)).to_numpy(dtype=object))
    if len(out) > 1:
        ok = ~(out.geometry.isna() | out.geometry.is_empty)
        key = np.zeros(len(out), dtype=np.int64)
        if ok.any():
            key[ok.to_numpy()] = out.geometry[ok].hilbert_distance().to_numpy()
        out = out.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)
    dest = Path(folder) / f"{kind}.parquet"
    with atomic_path(dest) as tmp:
        out.to_parquet(tmp, index=False, write_covering_bbox=True, row_group_size=STAGE_ROW_GROUP)
    return LayerSource(location=str(dest), kind=kind, staged=True)


#: How much wider a window is asked of a file already in the run's CRS (metres):
#: rounding only (a GeoPackage's R-tree stores its boxes as 32-bit floats, rounded
#: outwards); the rows are cut exactly afterwards.
SAME_CRS_MARGIN_M = 1.0


def read_window(
    source: LayerSource,
    box: Sequence[float],
    *,
    crs: CRSLike,
    read_margin_m: float = 2000.0,
) -> gpd.GeoDataFrame:
    """The rows of ``source`` whose geometry meets ``box``, validated, in ``crs``.

    As the client read them: the same ids (the index), geometry, categories and
    order (the file's). ``box`` is ``(minx, miny, maxx, maxy)`` in ``crs`` (the
    network's). A user's file in another CRS is asked for the box grown by
    ``read_margin_m`` in its own coordinates (a box changes shape between CRSs, and
    AMap or Baidu coordinates lie a few hundred metres off); one already in ``crs``
    for the box grown by :data:`SAME_CRS_MARGIN_M`. The rows are then cut exactly
    in ``crs``.
    """
    metric = pyproj.CRS.from_user_input(crs)
    x0, y0, x1, y1 = (float(v) for v in box)
    exact = shapely.box(x0, y0, x1, y1)
    if source.staged:
        frame = _read_staged(source, (x0, y0, x1, y1), metric)
    else:
        assert source.box_crs is not None
        file_crs = pyproj.CRS.from_wkt(source.box_crs)
        same = file_crs.equals(metric) and source.source_crs is None
        # in the run's own CRS a box keeps its shape: no margin beyond rounding
        m = SAME_CRS_MARGIN_M if same else read_margin_m
        wide = (x0 - m, y0 - m, x1 + m, y1 + m)
        if same:
            asked = wide
        else:
            tr = pyproj.Transformer.from_crs(metric, file_crs, always_xy=True)
            asked = tr.transform_bounds(*wide, densify_pts=21)
        frame = _read_direct(source, asked, metric)
    if len(frame):
        frame = frame[shapely.intersects(np.asarray(frame.geometry.array, dtype=object), exact)]
    return frame


def _read_staged(
    source: LayerSource, box: tuple[float, float, float, float], crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    frame = gpd.read_parquet(source.location, bbox=box)
    frame = frame.sort_values("_pos", kind="stable")
    id_col = KINDS[source.kind] or "id"
    index = pd.Index(frame["_id"].to_numpy(dtype=object), name=id_col)
    keep = ["category"] if source.kind == "facilities" else []
    out = gpd.GeoDataFrame(
        {c: frame[c].to_numpy(dtype=object) for c in keep},
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs if frame.crs is not None else crs,
        index=index,
    )
    if source.kind == "compounds" or source.kind == "gates":
        out.index = pd.RangeIndex(len(out))
    return out


def _read_direct(
    source: LayerSource, box: tuple[float, float, float, float], crs: pyproj.CRS
) -> gpd.GeoDataFrame:
    """The raw rows in ``box`` (file coordinates), validated as the readers do."""
    from geoplan.io.columns import ColumnMap
    from geoplan.io.postgis import is_postgis_uri
    from geoplan.io.readers import prepare_layer

    label = source.location
    raw: gpd.GeoDataFrame | pd.DataFrame
    if is_postgis_uri(source.location):
        from geoplan.io.postgis import read_postgis_layer

        raw = read_postgis_layer(
            source.location, bbox=box, layer=source.layer, preferred=(source.kind,)
        )
        label = str(raw.attrs.get("source_label", label))
    elif Path(source.location).suffix.lower() in _PARQUET_SUFFIXES:
        raw = _read_parquet_box(Path(source.location), box)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = gpd.read_file(
                source.location, layer=source.layer, engine="pyogrio", bbox=box, fid_as_index=True
            )
        raw = raw.sort_index(kind="stable").reset_index(drop=True)  # the file's order
        if Path(source.location).suffix.lower() in {".geojson", ".json"}:
            raw.attrs["crs_says_nothing"] = True  # as the readers take GeoJSON
    if len(raw) == 0:
        return _empty(source.kind, crs)
    return prepare_layer(
        raw,
        source.kind,
        file=label,
        columns=ColumnMap(dict(source.columns)),
        source_crs=source.source_crs,
        metric_crs=crs,
        strict=source.strict,
    )


def _read_parquet_box(path: Path, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """A GeoParquet file's rows in ``box``: by its bbox covering, else read and cut."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    geo = json.loads(meta[b"geo"])
    col = geo.get("columns", {}).get(str(geo.get("primary_column", "geometry"))) or {}
    if col.get("covering"):
        frame = gpd.read_parquet(path, bbox=box)
    else:
        frame = gpd.read_parquet(path)
        b = frame.geometry.bounds.to_numpy()
        inside = (
            (b[:, 0] <= box[2]) & (b[:, 2] >= box[0]) & (b[:, 1] <= box[3]) & (b[:, 3] >= box[1])
        )
        frame = frame[inside]
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()  # a stored index is columns again (as the readers)
    else:
        frame = frame.reset_index(drop=True)
    if not col.get("crs"):
        frame.attrs["crs_says_nothing"] = True
    return frame


def _empty(kind: str, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    id_col = KINDS.get(kind) or "id"
    data = {"category": pd.Series([], dtype=object)} if kind == "facilities" else {}
    return gpd.GeoDataFrame(
        data, geometry=gpd.GeoSeries([], crs=crs).to_numpy(), crs=crs,
        index=pd.Index([], dtype=object, name=id_col),
    )  # fmt: skip

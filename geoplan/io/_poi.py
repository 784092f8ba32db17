"""Facility categories, and the POI exports of AMap (高德) and Baidu (百度).

One job: make a facility table's category and coordinate columns geoplan's.
An export is recognised by its columns (``typecode``/``type``/``location`` for
AMap, ``tag``/``uid`` or tag paths such as ``美食;中餐厅`` for Baidu), which also
imply its CRS (GCJ-02 / BD-09); a ``location`` cell is split into lon/lat; and
category ids come from category names, AMap type codes and names, or Baidu
tags through ``geoplan/categories/categories.toml``. Private to
:mod:`geoplan.io.readers`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io._validate import MAX_LISTED, RowLabels, row_label

_STRICT_HINT = "--strict (strict=True in Python) makes this an error"
IMPLIED_CRS = {"amap": "gcj02", "baidu": "bd09"}
_CRS_NAMES = {"gcj02": "GCJ-02", "bd09": "BD-09"}
_SOURCE_NAMES = {"amap": "an AMap (高德) POI export", "baidu": "a Baidu (百度) POI export"}
SOURCE_EVIDENCE = {
    "amap": ("typecode", "poi_type", "location"),
    "baidu": ("tag", "uid", "category"),
}


def _is_path(values: pd.Series) -> pd.Series:
    text = values.astype("string").fillna("")
    return text.str.contains(r"[;；]", regex=True)


def detect_poi_source(df: pd.DataFrame, *, kind: str) -> str | None:
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


def implied_crs_message(file: str, source: str, evidence: list[str]) -> str:
    """The warning that an export's coordinates are taken as its provider's CRS."""
    crs = IMPLIED_CRS[source]
    return (
        f"{file}: looks like {_SOURCE_NAMES[source]} (columns {', '.join(evidence)}); "
        f"coordinates taken as {_CRS_NAMES[crs]} and converted to WGS84 "
        f"(坐标按 {_CRS_NAMES[crs]} 换算为 WGS84); if they are already WGS84 give "
        "--crs 4326 (crs=4326 in Python)"
    )


_NUMBER = r"-?\d+(?:\.\d+)?"


def split_location(df: pd.DataFrame, *, file: str, rows: RowLabels, column: str) -> None:
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
            row=row_label(df, pos, rows),
            column=column,
        )
    df["lon"] = lon_t.astype(str).to_numpy()
    df["lat"] = lat_t.astype(str).to_numpy()
    del df["location"]


def resolve_categories(
    gdf: gpd.GeoDataFrame,
    *,
    file: str,
    where: Callable[[str], str],
    strict: bool,
    rows: RowLabels,
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
    steps: list[tuple[pd.Series | None, Callable[[str], str | None] | None]] = [
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
            f"{v!r} ×{k}" if k > 1 else repr(v) for v, k in counts.head(MAX_LISTED).items()
        )
        more = f" and {len(counts) - MAX_LISTED} more" if len(counts) > MAX_LISTED else ""
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
        ids = ", ".join(rows.with_lines(unknown.index[unknown.to_numpy()][:MAX_LISTED]))
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

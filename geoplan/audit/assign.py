"""Assign facilities to communities: given ids first, then inside, then nearby.

Nothing is dropped: a facility that no community takes is returned with
``assign_method == "unassigned"`` and named in a warning. Communities without
polygons (a ledger: id, households, ...) take the facilities that name them in
``community_id``; a ``community_id`` that matches no community is named in a
warning and the facility is placed by its location, if the communities have
polygons, or left unassigned.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError

__all__ = ["assign_facilities"]


def assign_facilities(
    facilities: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
) -> pd.DataFrame:
    """Assign each facility to one community.

    Parameters
    ----------
    facilities, communities
        Canonical frames in the same projected CRS; ``communities`` may be a plain
        DataFrame (a ledger without polygons), then only ``community_id`` assigns.
    max_distance_m
        A facility outside every polygon but within this distance of one (a point
        digitised on the street just outside the boundary) goes to the nearest.

    Returns
    -------
    DataFrame aligned to ``facilities.index`` with ``community_id``,
    ``assign_method`` (``given``, ``inside``, ``nearby`` or ``unassigned``) and
    ``assign_distance_m``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point, box
    >>> comm = gpd.GeoDataFrame({"name": ["A"]}, geometry=[box(0, 0, 100, 100)],
    ...     index=pd.Index(["C1"], name="community_id"), crs=32650)
    >>> fac = gpd.GeoDataFrame({"category": ["wet_market"] * 3},
    ...     geometry=[Point(50, 50), Point(120, 50), Point(900, 900)],
    ...     index=pd.Index(["F1", "F2", "F3"], name="facility_id"), crs=32650)
    >>> import warnings; warnings.simplefilter("ignore")
    >>> assign_facilities(fac, comm, max_distance_m=50)["assign_method"].tolist()
    ['inside', 'nearby', 'unassigned']
    """
    spatial = isinstance(communities, gpd.GeoDataFrame)
    file = str(facilities.attrs.get("source_file", "<facilities>"))
    if spatial and (
        facilities.crs is None or communities.crs is None or facilities.crs != communities.crs
    ):
        raise InputError(
            f"facilities ({facilities.crs}) and communities ({communities.crs}) must share "
            "one projected CRS",
            file=str(facilities.attrs.get("source_file", "<facilities>")),
        )
    out = pd.DataFrame(
        {
            "community_id": pd.Series(
                [None] * len(facilities), index=facilities.index, dtype=object
            ),
            "assign_method": "unassigned",
            "assign_distance_m": np.nan,
        },
        index=facilities.index,
    )
    known = set(communities.index.astype(str))
    if "community_id" in facilities.columns:
        given = facilities["community_id"].astype(object)
        has = given.notna() & given.astype(str).str.strip().ne("")
        unknown = has & ~given.astype(str).isin(known)
        if unknown.any():
            rows = unknown.index[unknown.to_numpy()]
            listed = ", ".join(f"{r} ({given[r]})" for r in rows[:5])
            then = "placed by their location instead" if spatial else "left unassigned"
            warnings.warn(
                f"{file}: column community_id: {len(rows)} facilities name a community that "
                f"is not among the communities (first: {listed}); they are {then}",
                DataQualityWarning,
                stacklevel=2,
            )
            has &= ~unknown
        out.loc[has, "community_id"] = given[has].astype(str)
        out.loc[has, "assign_method"] = "given"
        out.loc[has, "assign_distance_m"] = 0.0
    elif not spatial:
        raise InputError(
            "the communities have no polygons, so the facilities need a community_id "
            "column (所属社区编码) to be assigned; or give community polygons",
            file=file,
        )
    todo = out["assign_method"].eq("unassigned")
    if todo.any() and spatial:
        pts = facilities.loc[todo, [facilities.geometry.name]].copy()
        pts["geometry"] = pts.geometry.representative_point()
        pts = gpd.GeoDataFrame(pts, geometry="geometry", crs=facilities.crs)
        pts["_pos"] = np.arange(len(pts))
        polys = gpd.GeoDataFrame(
            {"_cid": communities.index.astype(str)},
            geometry=communities.geometry.to_numpy(),
            crs=communities.crs,
        )
        inside = gpd.sjoin(pts, polys, how="left", predicate="within")
        # a point on a shared border may fall in two: keep the first, deterministically
        inside = inside[~inside.index.duplicated(keep="first")]
        hit = inside["_cid"].notna()
        ids = inside.index[hit.to_numpy()]
        out.loc[ids, "community_id"] = inside.loc[ids, "_cid"].astype(str).to_numpy()
        out.loc[ids, "assign_method"] = "inside"
        out.loc[ids, "assign_distance_m"] = 0.0
        rest = pts.loc[~pts.index.isin(ids)]
        if len(rest):
            near = gpd.sjoin_nearest(
                rest, polys, how="left", max_distance=max_distance_m, distance_col="_d"
            )
            near = near[~near.index.duplicated(keep="first")]
            ok = near["_cid"].notna()
            nid = near.index[ok.to_numpy()]
            out.loc[nid, "community_id"] = near.loc[nid, "_cid"].astype(str).to_numpy()
            out.loc[nid, "assign_method"] = "nearby"
            out.loc[nid, "assign_distance_m"] = near.loc[nid, "_d"].to_numpy(dtype=float)
    lost = out["assign_method"].eq("unassigned")
    if lost.any():
        ids = [str(i) for i in out.index[lost.to_numpy()][:5]]
        where = (
            f"lie in no community and farther than {max_distance_m:g} m from every one"
            if spatial
            else "have no community_id (所属社区编码) and the communities have no polygons"
        )
        warnings.warn(
            f"{int(lost.sum())} facilities {where} (first: {', '.join(ids)}); they are "
            "reported as unassigned",
            DataQualityWarning,
            stacklevel=2,
        )
    return out

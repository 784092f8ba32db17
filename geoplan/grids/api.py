"""The public call of the grids: :func:`delineate_grids` checks the inputs,
partitions each community and assembles the :class:`GridResult`."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.grids.codes import community_codes, grid_code
from geoplan.grids.inputs import (
    applies_frame,
    assign_communities,
    barrier_lines,
    building_ranges,
    old_compound_flags,
    prepare_buildings,
    reduced_flags,
)
from geoplan.grids.partition import community_grids
from geoplan.grids.result import GridResult

if TYPE_CHECKING:
    from geoplan.profiles import Profile

__all__ = ["delineate_grids"]


def delineate_grids(
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    profile: Profile | str,
    streets: gpd.GeoDataFrame | None = None,
    barrier_highways: Collection[str] = ("trunk", "primary", "secondary"),
    own_grid_uses: Collection[str] = (),
    compounds: gpd.GeoDataFrame | None = None,
    special_col: str = "special_groups",
    community_code_col: str | None = None,
    use_col: str = "use",
) -> GridResult:
    """Partition communities' buildings into contiguous, coded management grids.

    Parameters
    ----------
    buildings
        Canonical buildings (``households``; missing counts are estimated with
        the profile's parameters), polygons or points, projected. A
        ``community_id`` column is used when present; otherwise buildings go to
        the community holding a point on their surface. Optional bool columns
        ``special_groups`` and ``old_estate`` switch a building to the reduced
        range.
    communities
        Canonical communities (polygons): ``old_estate`` and ``special_groups``
        (bool, optional) choose the reduced range (the profile's target whose
        ``applies_if`` has ``old_estate = true``); ``district_code`` and a 12-digit
        index (or ``community_code_col``) make the grid codes.
    profile
        A profile or its name; its ``grids`` targets with measure
        ``households_range`` give the ranges.
    streets
        Street lines with ``highway``; those in ``barrier_highways`` (and their
        ``_link`` roads) cut communities into blocks. None: no barriers.
    barrier_highways
        ``highway`` values treated as barriers.
    own_grid_uses
        Building uses (``commercial``, ``market``, ...) that form grids of their
        own, flagged ``exempt``; by default none.
    compounds
        Residential compounds (小区) with ``old_estate``: buildings of an old
        compound (by the buildings' ``compound_id`` column, else by location)
        take the reduced range even in a community not flagged as old.
    special_col, community_code_col, use_col
        Column names.

    Returns
    -------
    GridResult

    Examples
    --------
    >>> import warnings
    >>> from geoplan.sample import make_sample_district
    >>> d = make_sample_district(seed=0)
    >>> with warnings.catch_warnings():  # the sample leaves households to estimate
    ...     warnings.simplefilter("ignore")
    ...     g = delineate_grids(d.buildings, d.communities, profile="ningxia-2025",
    ...                         streets=d.streets, compounds=d.compounds)
    >>> g.summary["n_grids"], g.summary["n_in_range"]
    (175, 174)
    >>> g.problems["reason"].tolist()
    ['community has only 290 households (fewer than 300)']
    """
    from geoplan.households import households_summary
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    if buildings.crs is None or communities.crs is None:
        raise InputError("buildings and communities need a CRS", column="geometry")
    if not buildings.crs.equals(communities.crs):
        raise InputError(
            "buildings and communities must share a CRS; reproject first", column="geometry"
        )
    if not buildings.crs.is_projected:
        raise InputError("grids need a projected metric CRS", column="geometry")
    if streets is not None and (streets.crs is None or not streets.crs.equals(buildings.crs)):
        raise InputError("streets must share the buildings' CRS", column="geometry")
    if buildings.index.has_duplicates or communities.index.has_duplicates:
        raise InputError("building and community ids must be unique")

    bld = prepare_buildings(buildings, p, areas=[communities, compounds])
    geoms = bld.geometry.to_numpy()
    rep = shapely.point_on_surface(geoms)
    comm_of = assign_communities(bld, communities, rep)
    flags = reduced_flags(bld, communities, comm_of, special_col)
    if compounds is not None:
        flags |= old_compound_flags(bld, compounds, rep)
    frame = applies_frame(communities, comm_of, flags)
    tid, low, high = building_ranges(p, frame)
    hh = bld["households"].to_numpy(dtype=np.float64)
    uses = (
        bld[use_col].astype("string").str.lower().fillna("").to_numpy(dtype=object)
        if use_col in bld.columns
        else np.full(len(bld), "", dtype=object)
    )
    own_set = {u.lower() for u in own_grid_uses}
    own = np.array([u in own_set for u in uses], dtype=bool)
    codes = community_codes(communities, community_code_col)
    roads = barrier_lines(streets, barrier_highways)
    road_tree = shapely.STRtree(roads) if roads.size else None

    records: list[dict[str, Any]] = []
    member = np.full(len(bld), None, dtype=object)
    for cid in communities.index:
        idx = np.flatnonzero(comm_of == cid)
        poly = communities.geometry.loc[cid]
        if idx.size == 0 or poly is None or shapely.is_empty(poly):
            continue
        near = roads[road_tree.query(poly, predicate="intersects")] if road_tree else roads
        recs, labels = community_grids(
            poly, idx, rep, geoms, hh, tid, low, high, own, uses, near, str(cid)
        )
        for seq, r in enumerate(recs, start=1):
            r["grid_code"] = grid_code(str(codes.loc[cid]), seq, width=max(3, len(str(len(recs)))))
            r["community_id"] = str(cid)
        for k, lab in zip(idx, labels, strict=True):
            member[k] = recs[lab]["grid_code"]
        records.extend(recs)

    cols = [
        "grid_code",
        "community_id",
        "households",
        "n_buildings",
        "target_id",
        "low",
        "high",
        "in_range",
        "exempt",
        "crosses_road",
        "reason",
        "geometry",
    ]
    table = pd.DataFrame(records, columns=cols) if records else pd.DataFrame(columns=cols)
    grids = gpd.GeoDataFrame(
        table.drop(columns="geometry")
        .astype(
            {
                "households": np.float64,
                "n_buildings": np.int64,
                "low": np.float64,
                "high": np.float64,
                "in_range": bool,
                "exempt": bool,
                "crosses_road": bool,
            }
        )
        .assign(reason=table["reason"].astype(object)),
        geometry=list(table["geometry"]),
        crs=buildings.crs,
    ).set_index("grid_code")
    membership = pd.Series(member, index=buildings.index, name="grid_code", dtype=object)
    bad = ~grids["in_range"] & ~grids["exempt"]
    summary = {
        "n_grids": len(grids),
        "n_in_range": int(grids["in_range"].sum()),
        "n_out_of_range": int(bad.sum()),
        "n_exempt": int(grids["exempt"].sum()),
        "n_crossing_road": int(grids["crosses_road"].sum()),
        "n_buildings_outside_communities": int(pd.isna(comm_of).sum()),
        "households_per_grid_median": (
            float(grids.loc[~grids["exempt"], "households"].median()) if len(grids) else None
        ),
        "by_target": {str(t): int(n) for t, n in grids.groupby("target_id").size().items()},
        "households": float(bld["households"].sum()),
        **households_summary(bld),
    }
    params = {"barrier_highways": sorted(barrier_highways), "own_grid_uses": sorted(own_set)}
    return GridResult(
        grids=grids, membership=membership, summary=summary, profile=p.name, parameters=params
    )

"""Rooms that could close communities' service floor-area shortfalls."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError

__all__ = ["FloorAreaCandidates", "floor_area_candidates"]

# The two floor-area checks whose shortfall rooms can close (audit table columns).
_FLOOR_AREA_SHORTFALLS = (
    "service_area_per_100_households__shortfall_m2",
    "village_service_area__shortfall_m2",
)


# --------------------------------------------------------------------------- floor area


@dataclass(frozen=True, eq=False)
class FloorAreaCandidates:
    """Rooms that could close communities' service floor-area shortfalls.

    Attributes
    ----------
    rooms
        One row per (community, candidate), sorted by community then by how much
        of the shortfall each closes: ``community_id``, ``candidate_id``,
        ``check_id``, ``shortfall_m2``, ``floor_area_m2``, ``distance_m`` (0
        inside), ``inside``, ``closes_m2`` (``min(floor_area_m2, shortfall)``),
        ``closes_share``, ``rank``, ``remaining_m2`` (gap left after taking this
        and every better-ranked room) and ``n_communities`` (how many short
        communities list the same room: they compete for it).
    communities
        Aligned to the audit table's index: ``shortfall_m2``, ``check_id``,
        ``n_candidates``, ``available_m2``, ``remaining_gap_m2`` (shortfall no
        listed room can close).
    """

    rooms: pd.DataFrame
    communities: pd.DataFrame


def floor_area_candidates(
    table: pd.DataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    communities: gpd.GeoDataFrame | None = None,
    available_col: str = "available",
    floor_area_col: str = "floor_area_m2",
) -> FloorAreaCandidates:
    """List available rooms inside or next to communities short of service floor area.

    Parameters
    ----------
    table
        The floor-area audit table (``AuditResult.table``): communities with
        ``service_area_per_100_households__shortfall_m2`` or
        ``village_service_area__shortfall_m2`` above 0 are short.
    candidates
        Buildings or rooms (points or polygons) with ``available`` (bool) and
        ``floor_area_m2``; only available ones with a floor area are listed.
    max_distance_m
        How far outside a community a room may lie and still count (e.g. the
        profile's ``facility_assign_max_m``).
    communities
        Community polygons when ``table`` has no geometry.
    available_col, floor_area_col
        Column names.

    Returns
    -------
    FloorAreaCandidates

    Examples
    --------
    >>> from shapely import box, Point
    >>> t = gpd.GeoDataFrame({"service_area_per_100_households__shortfall_m2": [120.0, 0.0]},
    ...     geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)], index=["C1", "C2"],
    ...     crs=32650)
    >>> rooms = gpd.GeoDataFrame({"available": [True, True, False],
    ...     "floor_area_m2": [80.0, 200.0, 500.0]},
    ...     geometry=[Point(50, 50), Point(110, 50), Point(40, 40)], index=["r1", "r2", "r3"],
    ...     crs=32650)
    >>> out = floor_area_candidates(t, rooms, max_distance_m=30)
    >>> out.rooms[["candidate_id", "closes_m2", "remaining_m2"]].values.tolist()
    [['r2', 120.0, 0.0], ['r1', 80.0, 0.0]]
    >>> float(out.communities.loc["C1", "remaining_gap_m2"])
    0.0
    """
    if not (np.isfinite(max_distance_m) and max_distance_m >= 0):
        raise InputError("max_distance_m must be >= 0", column="max_distance_m")
    for col in (available_col, floor_area_col):
        if col not in candidates.columns:
            raise InputError(f"candidates have no {col!r} column", column=col)
    geo = table if isinstance(table, gpd.GeoDataFrame) else communities
    if geo is None:
        raise InputError("the audit table has no geometry: pass communities=")
    if geo.crs is None or candidates.crs is None or not geo.crs.equals(candidates.crs):
        raise InputError("communities and candidates must share a projected CRS", column="geometry")
    present = [c for c in _FLOOR_AREA_SHORTFALLS if c in table.columns]
    if not present:
        raise InputError(
            "the table has no floor-area shortfall column "
            f"({' or '.join(_FLOOR_AREA_SHORTFALLS)}); run audit_floor_area first"
        )
    short = pd.DataFrame(
        {c: pd.to_numeric(table[c], errors="coerce") for c in present}, index=table.index
    ).fillna(0.0)
    shortfall = short.max(axis=1)
    check = pd.Series(
        [str(c).replace("__shortfall_m2", "") for c in short.idxmax(axis=1)],
        index=short.index,
        dtype=object,
    ).where(shortfall > 0)
    area = pd.to_numeric(candidates[floor_area_col], errors="coerce")
    avail = candidates[available_col].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ok = avail & area.notna().to_numpy() & (area.fillna(0) > 0).to_numpy()
    cand = candidates.loc[ok]
    short_ids = shortfall.index[shortfall > 0]
    polys = geo.geometry.reindex(short_ids)
    rows: list[pd.DataFrame] = []
    if len(cand) and len(short_ids):
        tree = shapely.STRtree(cand.geometry.to_numpy())
        ci, ri = tree.query(polys.to_numpy(), predicate="dwithin", distance=max_distance_m)
        dist = shapely.distance(polys.to_numpy()[ci], cand.geometry.to_numpy()[ri])
        rows.append(
            pd.DataFrame(
                {
                    "community_id": np.asarray(short_ids)[ci],
                    "candidate_id": np.asarray(cand.index.astype(str))[ri],
                    "floor_area_m2": area.to_numpy(dtype=float)[ok][ri],
                    "distance_m": dist,
                }
            )
        )
    rooms = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(
            {
                "community_id": pd.Series(dtype=object),
                "candidate_id": pd.Series(dtype=object),
                "floor_area_m2": pd.Series(dtype=float),
                "distance_m": pd.Series(dtype=float),
            }
        )
    )
    rooms["inside"] = rooms["distance_m"] <= 0
    rooms["check_id"] = check.reindex(rooms["community_id"]).to_numpy(dtype=object)
    rooms["shortfall_m2"] = shortfall.reindex(rooms["community_id"]).to_numpy(dtype=float)
    rooms["closes_m2"] = np.minimum(rooms["floor_area_m2"], rooms["shortfall_m2"])
    rooms["closes_share"] = rooms["closes_m2"] / rooms["shortfall_m2"]
    rooms = rooms.sort_values(
        ["community_id", "closes_m2", "distance_m", "candidate_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    rooms["rank"] = rooms.groupby("community_id").cumcount() + 1
    taken = rooms.groupby("community_id")["floor_area_m2"].cumsum()
    rooms["remaining_m2"] = (rooms["shortfall_m2"] - taken).clip(lower=0.0)
    rooms["n_communities"] = rooms.groupby("candidate_id")["community_id"].transform("size")
    rooms = rooms[
        [
            "community_id",
            "candidate_id",
            "check_id",
            "shortfall_m2",
            "floor_area_m2",
            "distance_m",
            "inside",
            "closes_m2",
            "closes_share",
            "rank",
            "remaining_m2",
            "n_communities",
        ]
    ].reset_index(drop=True)
    per = rooms.groupby("community_id").agg(
        n_candidates=("candidate_id", "size"), available_m2=("floor_area_m2", "sum")
    )
    summary = pd.DataFrame({"shortfall_m2": shortfall, "check_id": check}, index=table.index)
    summary["n_candidates"] = per["n_candidates"].reindex(table.index).fillna(0).astype(np.int64)
    summary["available_m2"] = per["available_m2"].reindex(table.index).fillna(0.0)
    summary["remaining_gap_m2"] = (summary["shortfall_m2"] - summary["available_m2"]).clip(lower=0)
    return FloorAreaCandidates(rooms=rooms, communities=summary)

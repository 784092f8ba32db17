"""Inputs of the grids, per building: its household count (estimated where
missing), its community, whether the reduced range applies (old estate, special
groups, old compound), the profile range that applies, and the major roads
that act as barriers."""

from __future__ import annotations

import warnings
from collections.abc import Collection
from typing import TYPE_CHECKING, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import DataQualityWarning, InputError

if TYPE_CHECKING:
    from geoplan.households import Areas
    from geoplan.profiles import Profile

__all__ = [
    "applies_frame",
    "assign_communities",
    "barrier_lines",
    "building_ranges",
    "old_compound_flags",
    "prepare_buildings",
    "reduced_flags",
]


def prepare_buildings(
    buildings: gpd.GeoDataFrame, profile: Profile, *, areas: Areas | None = None
) -> gpd.GeoDataFrame:
    from geoplan.households import estimate_households, needs_estimate

    if "households" not in buildings.columns:
        raise InputError("buildings have no 'households' column", column="households")
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    out = buildings
    if needs_estimate(buildings):
        out = estimate_households(buildings, params=profile, areas=areas)
        hh = pd.to_numeric(out["households"], errors="coerce")
        if hh.isna().any():
            bad = ", ".join(str(i) for i in hh.index[hh.isna()][:5])
            warnings.warn(
                f"{int(hh.isna().sum())} buildings without a household count count "
                f"as 0 households: {bad}",
                DataQualityWarning,
                stacklevel=3,
            )
    if (hh < 0).any():
        raise InputError("households must be >= 0", row=hh.index[hh < 0][0], column="households")
    out = out.copy()
    out["households"] = hh.fillna(0.0).astype(np.float64)
    return out


def assign_communities(
    bld: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, rep: np.ndarray
) -> np.ndarray:
    comm_of = np.full(len(bld), None, dtype=object)
    known = set(communities.index)
    if "community_id" in bld.columns:
        given = bld["community_id"].to_numpy(dtype=object)
        ok = np.array([g in known for g in given], dtype=bool)
        comm_of[ok] = given[ok]
    todo = np.flatnonzero(pd.isna(comm_of))
    if todo.size:
        tree = shapely.STRtree(communities.geometry.to_numpy())
        bi, ci = tree.query(rep[todo], predicate="within")
        first = np.unique(bi, return_index=True)[1]
        comm_of[todo[bi[first]]] = communities.index.to_numpy(dtype=object)[ci[first]]
    return comm_of


def _flag(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[col].astype("boolean").fillna(False).to_numpy(dtype=bool)


def reduced_flags(
    bld: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, comm_of: np.ndarray, special_col: str
) -> np.ndarray:
    c_flag = pd.Series(
        _flag(communities, "old_estate") | _flag(communities, special_col), index=communities.index
    )
    from_comm = c_flag.reindex(comm_of).fillna(False).to_numpy(dtype=bool)
    return from_comm | _flag(bld, special_col) | _flag(bld, "old_estate")


def old_compound_flags(
    bld: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame, rep: np.ndarray
) -> np.ndarray:
    old = pd.Series(_flag(compounds, "old_estate"), index=compounds.index)
    if "compound_id" in bld.columns:
        return (
            old.reindex(bld["compound_id"].to_numpy(dtype=object))
            .fillna(False)
            .to_numpy(dtype=bool)
        )
    if compounds.crs is None or not compounds.crs.equals(bld.crs):
        raise InputError("compounds must share the buildings' CRS", column="geometry")
    out = np.zeros(len(bld), dtype=bool)
    bi, ci = shapely.STRtree(compounds.geometry.to_numpy()).query(rep, predicate="within")
    out[bi[old.to_numpy()[ci]]] = True
    return out


def applies_frame(
    communities: gpd.GeoDataFrame, comm_of: np.ndarray, reduced: np.ndarray
) -> pd.DataFrame:
    base = pd.DataFrame(communities.drop(columns=communities.geometry.name))
    frame = base.reindex(comm_of).reset_index(drop=True)
    frame["old_estate"] = reduced
    return frame


def building_ranges(
    profile: Profile, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per building: applicable grids target id, low and high."""
    targets = [
        t
        for t in profile.targets_for("grids")
        if t.measure == "households_range" and t.comparator == "between"
    ]
    if not targets:
        raise InputError(
            f"profile {profile.name!r} has no grids target with measure households_range"
        )
    tid = np.full(len(frame), None, dtype=object)
    low = np.full(len(frame), np.nan)
    high = np.full(len(frame), np.nan)
    for t in targets:
        m = t.applies_mask(frame).to_numpy(dtype=bool) & (tid == None)  # noqa: E711
        tid[m] = t.id
        # comparator "between": the threshold is a (low, high) pair
        low[m], high[m] = cast("tuple[float, float]", t.threshold)
    if (tid == None).any():  # noqa: E711
        row = frame.index[np.flatnonzero(tid == None)[0]]  # noqa: E711
        raise InputError(f"no grids target of profile {profile.name!r} applies", row=row)
    return tid, low, high


def barrier_lines(streets: gpd.GeoDataFrame | None, kinds: Collection[str]) -> np.ndarray:
    if streets is None or len(streets) == 0:
        return np.zeros(0, dtype=object)
    if "highway" not in streets.columns:
        raise InputError("streets have no 'highway' column", column="highway")
    wanted = {k.lower() for k in kinds} | {f"{k.lower()}_link" for k in kinds}
    hw = streets["highway"].astype("string").str.lower()
    mask = hw.isin(wanted).fillna(False).to_numpy(dtype=bool)
    return np.asarray(streets.geometry.to_numpy()[mask], dtype=object)

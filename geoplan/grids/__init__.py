"""Management grids (网格化管理): partition communities into coded grids of households.

The Ningxia plan asks for grids of 300-500 households (100-300 in old estates or
where special groups live); commercial buildings, markets and large public venues
may be grids of their own, and every grid gets a unified code. The ranges come
from the profile's ``grids`` targets (measure ``households_range``), never from
the code.

Method (:func:`delineate_grids`), per community:

1. **Blocks.** The community polygon is cut by major roads (``highway`` in
   ``barrier_highways``) with :func:`shapely.polygonize`; buildings go to the
   block holding a point on their surface. A block too small to form a grid on
   its own (fewer households than the range's minimum) is merged with a touching
   block, so grids cross a major road only when that cannot be avoided; those
   grids are flagged ``crosses_road``. Blocks without buildings join a
   neighbour so that the grids tile the community.
2. **Order.** Within a block, buildings are ordered along a Hilbert curve
   (buildings of merged blocks stay together block by block).
3. **Cut.** Dynamic programming over the ordered buildings cuts the sequence
   into grids: first the fewest households outside the range (summed over the
   grids), then the fewest out-of-range grids, then sizes closest to the middle
   of the range. A building is never split.
4. **Polygons.** Each block is tessellated (Voronoi cells of points along the
   building outlines, clipped to the block); a grid's polygon is the union of
   its buildings' cells, so grids tile the community and stay inside it. A
   grid whose polygon falls apart gives the stray pieces (and their buildings)
   to the neighbouring grid it shares most border with.

Codes: ``<community code>-<sequence>``, the community code being the 12-digit
statistical code (6-digit district code + 3-digit street + 3-digit community,
e.g. ``120104001001``) and the sequence 3 digits in Hilbert order within the
community: ``120104001001-007``.

Examples
--------
>>> from shapely import box
>>> comm = gpd.GeoDataFrame({"district_code": ["120104"], "old_estate": [False]},
...     geometry=[box(0, 0, 400, 100)], index=["120104001001"], crs=32650)
>>> b = gpd.GeoDataFrame({"households": [200.0, 200.0, 200.0, 200.0]},
...     geometry=[box(x, 40, x + 20, 60) for x in (20, 120, 220, 320)],
...     index=["b1", "b2", "b3", "b4"], crs=32650)
>>> g = delineate_grids(b, comm, profile="ningxia-2025")
>>> g.grids[["households", "in_range"]].values.tolist()
[[400.0, True], [400.0, True]]
>>> g.membership.tolist()
['120104001001-001', '120104001001-001', '120104001001-002', '120104001001-002']
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import DataQualityWarning, InputError
from geoplan.grids._geometry import (
    _PRECISION_M,
    _blocks,
    _border,
    _tessellate,
    _union,
    hilbert_index,
)

__all__ = ["GridResult", "delineate_grids", "grid_code", "hilbert_index"]

_CODE_RE = re.compile(r"^\d{12}$")
_DISTRICT_RE = re.compile(r"^\d{6}$")


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class GridResult:
    """Grids of one or more communities.

    Attributes
    ----------
    grids
        GeoDataFrame indexed by ``grid_code``: ``community_id``, ``households``,
        ``n_buildings``, ``target_id`` (the profile target whose range applies),
        ``low``, ``high``, ``in_range`` (households within ``[low, high]``),
        ``exempt`` (a commercial building, market or venue forming its own
        grid), ``crosses_road`` (its buildings lie on both sides of a major
        road), ``reason`` (why the grid is outside the range, or why exempt;
        None when in range) and the polygon.
    membership
        The grid code of each building, aligned to the buildings' index (None
        for buildings in no community).
    summary
        Plain JSON values: counts of grids, in range, out of range, exempt,
        crossing a road, buildings outside every community.
    profile
        Name of the profile the ranges come from.
    """

    grids: gpd.GeoDataFrame
    membership: pd.Series
    summary: dict[str, Any]
    profile: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> pd.DataFrame:
        """Grids outside their range (exempt ones left out), with the reason."""
        g = self.grids
        bad = ~g["in_range"] & ~g["exempt"]
        return pd.DataFrame(g.loc[bad, ["community_id", "households", "low", "high", "reason"]])

    @property
    def passed(self) -> bool:
        """True when every grid is within its range or exempt."""
        return self.problems.empty

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: summary and one entry per grid (no geometry).

        Examples
        --------
        >>> from shapely import box
        >>> comm = gpd.GeoDataFrame({"district_code": ["120104"]},
        ...     geometry=[box(0, 0, 100, 100)], index=["120104001001"], crs=32650)
        >>> b = gpd.GeoDataFrame({"households": [120.0]}, geometry=[box(40, 40, 60, 60)],
        ...     crs=32650)
        >>> d = delineate_grids(b, comm, profile="ningxia-2025").to_dict()
        >>> d["grids"][0]["reason"]
        'community has only 120 households (fewer than 300)'
        """
        rows = []
        for code, r in self.grids.drop(columns=self.grids.geometry.name).iterrows():
            rows.append(
                {
                    "grid_code": str(code),
                    "community_id": str(r["community_id"]),
                    "households": float(r["households"]),
                    "n_buildings": int(r["n_buildings"]),
                    "target_id": str(r["target_id"]),
                    "low": float(r["low"]),
                    "high": float(r["high"]),
                    "in_range": bool(r["in_range"]),
                    "exempt": bool(r["exempt"]),
                    "crosses_road": bool(r["crosses_road"]),
                    "reason": None if pd.isna(r["reason"]) else str(r["reason"]),
                }
            )
        return {
            "profile": self.profile,
            "passed": self.passed,
            "summary": dict(self.summary),
            "parameters": dict(self.parameters),
            "grids": rows,
        }


# --------------------------------------------------------------------------- helpers


def grid_code(community_code: str, sequence: int, *, width: int = 3) -> str:
    """The unified grid code: community code, a hyphen, a zero-padded sequence.

    Examples
    --------
    >>> grid_code("120104001001", 7)
    '120104001001-007'
    """
    return f"{community_code}-{sequence:0{width}d}"


def _cut(h: np.ndarray, low: float, high: float) -> list[int]:
    """Cut an ordered sequence of household counts into runs (end positions).

    Lexicographic objective over runs: households outside ``[low, high]``
    (summed), then number of runs outside the range, then squared distance of
    each in-range run from the middle of the range (balance).

    Examples
    --------
    >>> _cut(np.array([100.0] * 8), 300, 500)
    [4, 8]
    """
    n = h.size
    if n == 0:
        return []
    p = np.concatenate([[0.0], np.cumsum(h)])
    mid, width = (low + high) / 2.0, max(high - low, 1e-9)
    # a run longer than 2 x high plus the largest building never helps
    window = 2.0 * high + float(h.max())
    exc = np.full(n + 1, np.inf)
    out = np.full(n + 1, np.inf)
    dev = np.full(n + 1, np.inf)
    prev = np.zeros(n + 1, dtype=np.int64)
    exc[0] = out[0] = dev[0] = 0.0
    start = 0
    for i in range(1, n + 1):
        while p[i] - p[start] > window and start < i - 1:
            start += 1
        j = np.arange(start, i)
        s = p[i] - p[j]
        below, above = s < low, s > high
        e = np.where(below, low - s, np.where(above, s - high, 0.0))
        o = (below | above).astype(np.float64)
        v = np.where(below | above, 0.25, ((s - mid) / width) ** 2)
        te, to, tv = exc[j] + e, out[j] + o, dev[j] + v
        k = np.lexsort((tv, to, np.round(te, 6)))[0]
        exc[i], out[i], dev[i], prev[i] = te[k], to[k], tv[k], j[k]
    ends = []
    i = n
    while i > 0:
        ends.append(i)
        i = int(prev[i])
    return ends[::-1]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"


def _ranges(profile: Any, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        low[m], high[m] = t.threshold
    if (tid == None).any():  # noqa: E711
        row = frame.index[np.flatnonzero(tid == None)[0]]  # noqa: E711
        raise InputError(f"no grids target of profile {profile.name!r} applies", row=row)
    return tid, low, high


def _community_codes(communities: gpd.GeoDataFrame, code_col: str | None) -> pd.Series:
    if code_col is not None:
        if code_col not in communities.columns:
            raise InputError(f"communities have no {code_col!r} column", column=code_col)
        codes = communities[code_col].astype("string")
        bad = ~codes.fillna("").str.fullmatch(r"\d{12}")
        if bad.any():
            raise InputError(
                "community code must have 12 digits", row=codes.index[bad][0], column=code_col
            )
        return pd.Series(codes.to_numpy(dtype=object), index=communities.index, dtype=object)
    ids = [str(i) for i in communities.index]
    if all(_CODE_RE.match(i) for i in ids):
        return pd.Series(ids, index=communities.index, dtype=object)
    if "district_code" not in communities.columns:
        raise InputError(
            "communities need 12-digit codes as index, a code column, or a district_code column",
            column="district_code",
        )
    out = []
    for k, (cid, dc) in enumerate(
        zip(communities.index, communities["district_code"], strict=True)
    ):
        dcs = str(dc)
        if not _DISTRICT_RE.match(dcs):
            raise InputError("district_code must have 6 digits", row=cid, column="district_code")
        # street unknown: '000', then the community's position (1-based)
        out.append(f"{dcs}000{k + 1:03d}")
    return pd.Series(out, index=communities.index, dtype=object)


def delineate_grids(
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    profile: Any,
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

    bld = _prepare_buildings(buildings, p, areas=[communities, compounds])
    geoms = bld.geometry.to_numpy()
    rep = shapely.point_on_surface(geoms)
    comm_of = _assign_communities(bld, communities, rep)
    flags = _reduced_flags(bld, communities, comm_of, special_col)
    if compounds is not None:
        flags |= _old_compound(bld, compounds, rep)
    frame = _applies_frame(communities, comm_of, flags)
    tid, low, high = _ranges(p, frame)
    hh = bld["households"].to_numpy(dtype=np.float64)
    uses = (
        bld[use_col].astype("string").str.lower().fillna("").to_numpy(dtype=object)
        if use_col in bld.columns
        else np.full(len(bld), "", dtype=object)
    )
    own_set = {u.lower() for u in own_grid_uses}
    own = np.array([u in own_set for u in uses], dtype=bool)
    codes = _community_codes(communities, community_code_col)
    roads = _barrier_lines(streets, barrier_highways)
    road_tree = shapely.STRtree(roads) if roads.size else None

    records: list[dict[str, Any]] = []
    member = np.full(len(bld), None, dtype=object)
    for cid in communities.index:
        idx = np.flatnonzero(comm_of == cid)
        poly = communities.geometry.loc[cid]
        if idx.size == 0 or poly is None or shapely.is_empty(poly):
            continue
        near = roads[road_tree.query(poly, predicate="intersects")] if road_tree else roads
        recs, labels = _community_grids(
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


def _prepare_buildings(
    buildings: gpd.GeoDataFrame, profile: Any, *, areas: Any = None
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


def _assign_communities(
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


def _reduced_flags(
    bld: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, comm_of: np.ndarray, special_col: str
) -> np.ndarray:
    c_flag = pd.Series(
        _flag(communities, "old_estate") | _flag(communities, special_col), index=communities.index
    )
    from_comm = c_flag.reindex(comm_of).fillna(False).to_numpy(dtype=bool)
    return from_comm | _flag(bld, special_col) | _flag(bld, "old_estate")


def _old_compound(
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


def _applies_frame(
    communities: gpd.GeoDataFrame, comm_of: np.ndarray, reduced: np.ndarray
) -> pd.DataFrame:
    base = pd.DataFrame(communities.drop(columns=communities.geometry.name))
    frame = base.reindex(comm_of).reset_index(drop=True)
    frame["old_estate"] = reduced
    return frame


def _barrier_lines(streets: gpd.GeoDataFrame | None, kinds: Collection[str]) -> np.ndarray:
    if streets is None or len(streets) == 0:
        return np.zeros(0, dtype=object)
    if "highway" not in streets.columns:
        raise InputError("streets have no 'highway' column", column="highway")
    wanted = {k.lower() for k in kinds} | {f"{k.lower()}_link" for k in kinds}
    hw = streets["highway"].astype("string").str.lower()
    mask = hw.isin(wanted).fillna(False).to_numpy(dtype=bool)
    return np.asarray(streets.geometry.to_numpy()[mask], dtype=object)


def _community_grids(
    poly: Any,
    idx: np.ndarray,
    rep: np.ndarray,
    geoms: np.ndarray,
    hh: np.ndarray,
    tid: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    own: np.ndarray,
    uses: np.ndarray,
    roads: np.ndarray,
    cid: str,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Grids of one community: records (in code order) and a label per building."""
    blocks = _blocks(poly, roads)
    n_b = blocks.size
    pts = rep[idx]
    tree = shapely.STRtree(blocks)
    bi, ki = tree.query(pts, predicate="intersects")
    block_of = np.full(idx.size, -1, dtype=np.int64)
    first = np.unique(bi, return_index=True)[1]
    block_of[bi[first]] = ki[first]
    lost = np.flatnonzero(block_of < 0)
    if lost.size:
        block_of[lost] = tree.query_nearest(pts[lost], all_matches=False)[1]
    # merged blocks: union-find by parent pointers
    parent = np.arange(n_b)

    def root(i: int) -> int:
        while parent[i] != i:
            i = int(parent[i])
        return i

    resid = ~own[idx]
    sub_t = tid[idx]
    classes = sorted({str(t) for t in sub_t[resid]})
    lows = {t: float(low[idx][sub_t == t][0]) for t in classes}

    def totals(r: int) -> dict[str, float]:
        members = np.isin(block_of, [b for b in range(n_b) if root(b) == r]) & resid
        return {t: float(hh[idx][members & (sub_t == t)].sum()) for t in classes}

    def has_buildings(r: int) -> bool:
        return bool(np.isin(block_of, [b for b in range(n_b) if root(b) == r]).any())

    def neighbours(r: int) -> list[tuple[float, int]]:
        geom_r = shapely.union_all(blocks[[b for b in range(n_b) if root(b) == r]])
        out = []
        for q in {root(b) for b in range(n_b)} - {r}:
            geom_q = shapely.union_all(blocks[[b for b in range(n_b) if root(b) == q]])
            length = float(_border(geom_r, geom_q))
            if length > 10 * _PRECISION_M:
                out.append((length, q))
        return out

    changed = n_b > 1
    while changed:
        changed = False
        roots = sorted({root(b) for b in range(n_b)})
        for r in roots:
            if root(r) != r:
                continue
            tot = totals(r)
            empty = not has_buildings(r)
            small = [t for t in classes if 0 < tot[t] < lows[t]]
            no_resid = (
                has_buildings(r)
                and all(tot[t] == 0 for t in classes)
                and bool(resid[np.isin(block_of, [b for b in range(n_b) if root(b) == r])].any())
            )
            if not (empty or small or no_resid):
                continue
            nbrs = neighbours(r)
            if not nbrs:
                continue
            if empty or no_resid:
                q = max(nbrs)[1]
            else:
                t = small[0]
                # prefer the neighbour with the fewest households of that class that has any
                scored = [(-(totals(q)[t] > 0), totals(q)[t], -length, q) for length, q in nbrs]
                q = min(scored)[3]
            parent[r] = q
            changed = True
            break
    group_of_block = np.array([root(b) for b in range(n_b)])
    group = group_of_block[block_of]
    # order: merged group by Hilbert of its first block, then block, then building
    hx, hy = shapely.get_x(pts), shapely.get_y(pts)
    h_b = hilbert_index(hx, hy)
    bc = shapely.point_on_surface(blocks)
    h_block = hilbert_index(shapely.get_x(bc), shapely.get_y(bc))
    h_group = {g: min(h_block[group_of_block == g]) for g in set(group_of_block.tolist())}
    comm_total = {t: float(hh[idx][resid & (sub_t == t)].sum()) for t in classes}

    labels = np.full(idx.size, -1, dtype=np.int64)
    recs: list[dict[str, Any]] = []
    groups = sorted(set(group_of_block.tolist()), key=lambda g: h_group[g])
    geom_of_group = {g: shapely.union_all(blocks[group_of_block == g]) for g in groups}
    for g in groups:
        in_g = np.flatnonzero(group == g)
        if in_g.size == 0:
            continue
        n_blocks_g = int((group_of_block == g).sum())
        key = np.lexsort((h_b[in_g], h_block[block_of[in_g]]))
        in_g = in_g[key]
        for k in in_g[own[idx][in_g]]:
            use = uses[idx[k]] or "non-residential"
            labels[k] = len(recs)
            recs.append(
                _record(
                    hh[idx[[k]]],
                    float(low[idx[k]]),
                    float(high[idx[k]]),
                    str(tid[idx[k]]),
                    exempt=True,
                    crosses=False,
                    reason=f"{use} building: may be a grid of its own "
                    "(commercial buildings, markets, large public venues)",
                )
            )
        for t in classes:
            sel = in_g[resid[in_g] & (sub_t[in_g] == t)]
            if sel.size == 0:
                continue
            lo, hi = float(low[idx[sel[0]]]), float(high[idx[sel[0]]])
            ends = _cut(hh[idx[sel]], lo, hi)
            start = 0
            for e in ends:
                run = sel[start:e]
                start = e
                labels[run] = len(recs)
                crosses = n_blocks_g > 1 and np.unique(block_of[run]).size > 1
                recs.append(
                    _record(hh[idx[run]], lo, hi, t, exempt=False, crosses=crosses, reason=None)
                )
        # non-residential buildings that are not own grids join the nearest run
        rest = in_g[(labels[in_g] < 0)]
        if rest.size:
            done = in_g[labels[in_g] >= 0]
            if done.size == 0:
                labels[rest] = len(recs)
                recs.append(
                    _record(
                        hh[idx[rest]],
                        float(low[idx[rest[0]]]),
                        float(high[idx[rest[0]]]),
                        str(tid[idx[rest[0]]]),
                        exempt=False,
                        crosses=False,
                        reason=None,
                    )
                )
            else:
                t2 = shapely.STRtree(pts[done])
                near = t2.query_nearest(pts[rest], all_matches=False)[1]
                labels[rest] = labels[done[near]]
        _polygons(geom_of_group[g], in_g, geoms[idx], pts, labels, recs, hh[idx])
    for rec in recs:
        _explain(rec, comm_total, cid)
    # order codes along the Hilbert curve of the grids' buildings
    first_pos = np.full(len(recs), np.iinfo(np.int64).max)
    np.minimum.at(first_pos, labels, _group_rank(group, groups) * (1 << 40) + h_b)
    order = np.argsort(first_pos, kind="stable")
    rank = np.empty(len(recs), dtype=np.int64)
    rank[order] = np.arange(len(recs))
    return [recs[i] for i in order], rank[labels]


def _group_rank(group: np.ndarray, groups: Sequence[int]) -> np.ndarray:
    """Rank of each building's merged block in code order (internal)."""
    pos = {g: i for i, g in enumerate(groups)}
    return np.array([pos[g] for g in group], dtype=np.int64)


def _record(
    h: np.ndarray,
    lo: float,
    hi: float,
    target: str,
    *,
    exempt: bool,
    crosses: bool,
    reason: str | None,
) -> dict[str, Any]:
    total = float(h.sum())
    return {
        "households": total,
        "n_buildings": int(h.size),
        "target_id": target,
        "low": lo,
        "high": hi,
        "in_range": bool(lo <= total <= hi),
        "exempt": exempt,
        "crosses_road": bool(crosses),
        "reason": reason,
        "max_building": float(h.max()),
        "geometry": None,
    }


def _explain(r: dict[str, Any], comm_total: dict[str, float], cid: str) -> None:
    """Fill ``reason`` for out-of-range grids; drop helper keys."""
    big = r.pop("max_building")
    area_total = r.pop("area_total", None)
    if r["exempt"] or r["in_range"]:
        return
    s, lo, hi = r["households"], r["low"], r["high"]
    t = r["target_id"]
    if s == 0:
        r["reason"] = "no households: non-residential buildings only"
    elif s > hi and r["n_buildings"] == 1:
        r["reason"] = f"one building of {_fmt(s)} households (more than {_fmt(hi)})"
    elif s > hi and big > hi:
        r["reason"] = (
            f"holds a building of {_fmt(big)} households (more than {_fmt(hi)}) "
            "and buildings next to it"
        )
    elif s < lo and comm_total.get(t, 0.0) < lo:
        r["reason"] = (
            f"community has only {_fmt(comm_total.get(t, 0.0))} households (fewer than {_fmt(lo)})"
        )
    elif s < lo and area_total is not None and area_total < lo:
        r["reason"] = (
            f"area enclosed by major roads and the community boundary has only "
            f"{_fmt(area_total)} households and no neighbouring area to join "
            f"(fewer than {_fmt(lo)})"
        )
    else:
        tot = _fmt(area_total) if area_total is not None else "its"
        r["reason"] = (
            f"the buildings of this area ({tot} households) cannot be cut into "
            f"grids of {_fmt(lo)}-{_fmt(hi)} households without splitting a building"
        )


def _polygons(
    block: Any,
    in_g: np.ndarray,
    geoms: np.ndarray,
    pts: np.ndarray,
    labels: np.ndarray,
    recs: list[dict[str, Any]],
    hh: np.ndarray,
) -> None:
    """Grid polygons of one merged block; repairs grids that fall apart."""
    cells = _tessellate(block, geoms[in_g])
    grid_ids = sorted(set(labels[in_g].tolist()))
    # area totals per class, for the reasons
    for gid in grid_ids:
        t = recs[gid]["target_id"]
        same = [g for g in grid_ids if recs[g]["target_id"] == t and not recs[g]["exempt"]]
        recs[gid]["area_total"] = float(sum(recs[g]["households"] for g in same))
    for _ in range(4):
        repaired = _repair(cells, in_g, pts, labels, recs, hh, grid_ids)
        balanced = _rebalance(cells, in_g, labels, recs, hh, grid_ids)
        if not (repaired or balanced):
            break
    polys = {gid: _union(cells[labels[in_g] == gid]) for gid in grid_ids}
    for gid in grid_ids:
        rows = in_g[labels[in_g] == gid]
        r = recs[gid]
        h = hh[rows]
        r.update(
            _record(
                h,
                r["low"],
                r["high"],
                r["target_id"],
                exempt=r["exempt"],
                crosses=r["crosses_road"],
                reason=r["reason"],
            )
            if rows.size
            else {}
        )
        r["geometry"] = polys[gid]


def _repair(
    cells: np.ndarray,
    in_g: np.ndarray,
    pts: np.ndarray,
    labels: np.ndarray,
    recs: list[dict[str, Any]],
    hh: np.ndarray,
    grid_ids: list[int],
) -> bool:
    """Give the stray pieces of a grid (and their buildings) to a neighbouring grid."""
    any_moved = False
    for _ in range(3):
        polys = {gid: _union(cells[labels[in_g] == gid]) for gid in grid_ids}
        moved = False
        for gid in grid_ids:
            parts = shapely.get_parts(polys[gid])
            if parts.size <= 1:
                continue
            mine = np.flatnonzero(labels[in_g] == gid)
            host = np.full(mine.size, -1)
            for m_i, k in enumerate(mine):
                hit = np.flatnonzero(shapely.intersects(parts, pts[in_g[k]]))
                host[m_i] = hit[0] if hit.size else -1
            weight = np.array(
                [
                    hh[in_g[mine[host == q]]].sum() + 1e-9 * (host == q).sum()
                    for q in range(parts.size)
                ]
            )
            keep = int(np.argmax(weight))
            for q in range(parts.size):
                if q == keep:
                    continue
                movers = in_g[mine[host == q]]
                moved_hh = float(hh[movers].sum())
                donor = float(hh[in_g[labels[in_g] == gid]].sum()) - moved_hh
                r0 = recs[gid]
                best, best_score = -1, (np.inf, np.inf, np.inf)
                for other in grid_ids:
                    if other == gid or recs[other]["exempt"]:
                        continue
                    length = float(_border(parts[q], polys[other]))
                    if length <= 10 * _PRECISION_M:
                        continue
                    ro = recs[other]
                    recv = float(hh[in_g[labels[in_g] == other]].sum()) + moved_hh
                    n_out = int(not r0["low"] <= donor <= r0["high"]) + int(
                        not ro["low"] <= recv <= ro["high"]
                    )
                    score = (n_out, float(ro["target_id"] != r0["target_id"]), -length)
                    if score < best_score:
                        best, best_score = other, score
                if best < 0:
                    continue
                labels[movers] = best
                moved = moved or movers.size > 0
        any_moved = any_moved or moved
        if not moved:
            break
    return any_moved


def _rebalance(
    cells: np.ndarray,
    in_g: np.ndarray,
    labels: np.ndarray,
    recs: list[dict[str, Any]],
    hh: np.ndarray,
    grid_ids: list[int],
) -> bool:
    """Move single border buildings between neighbouring grids of the same range
    while that brings a grid into range without pushing another out, keeping
    both grids in one piece."""
    lab = labels[in_g]
    tree = shapely.STRtree(cells)
    touching = tree.query(cells, predicate="dwithin", distance=_PRECISION_M)
    pairs = touching[:, touching[0] != touching[1]]
    # a shared corner does not join two grids: ask for a border longer than 10 x precision
    pairs = pairs[:, _border(cells[pairs[0]], cells[pairs[1]]) > 10 * _PRECISION_M]
    any_move = False

    def total(g: int) -> float:
        return float(hh[in_g[lab == g]].sum())

    def outside(g: int, value: float) -> float:
        lo, hi = recs[g]["low"], recs[g]["high"]
        return max(lo - value, value - hi, 0.0)

    def whole(g: int, drop: int) -> bool:
        keep = (lab == g) & (np.arange(lab.size) != drop)
        return bool(keep.any()) and shapely.get_num_geometries(_union(cells[keep])) == 1

    for _ in range(4 * len(grid_ids)):
        improved = False
        for g in grid_ids:
            if recs[g]["exempt"] or outside(g, total(g)) == 0:
                continue
            t_g = total(g)
            too_big = t_g > recs[g]["high"]
            # (building position, from grid, to grid) moves across a shared border
            a, b = pairs
            if too_big:
                sel = (lab[a] == g) & (lab[b] != g)
                moves = {(int(a[k]), g, int(lab[b[k]])) for k in np.flatnonzero(sel)}
            else:
                sel = (lab[b] == g) & (lab[a] != g)
                moves = {(int(a[k]), int(lab[a[k]]), g) for k in np.flatnonzero(sel)}
            best, best_gain = None, 0.0
            for pos, src, dst in sorted(moves):
                if recs[src]["exempt"] or recs[dst]["exempt"]:
                    continue
                if recs[src]["target_id"] != recs[dst]["target_id"]:
                    continue
                h = float(hh[in_g[pos]])
                ts, td = total(src), total(dst)
                before = outside(src, ts) + outside(dst, td)
                after = outside(src, ts - h) + outside(dst, td + h)
                gain = before - after
                if gain > best_gain + 1e-9 and whole(src, pos):
                    best, best_gain = (pos, dst), gain
            if best is not None:
                lab[best[0]] = best[1]
                improved = any_move = True
        if not improved:
            break
    labels[in_g] = lab
    return any_move

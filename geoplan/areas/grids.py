"""Management grids area by area: no grid crosses a district or 街道 boundary.

Each building goes to its area by :func:`geoplan.areas.layout.assign_areas` (the
first area containing its representative point). Within an area, the
communities are cut to the area (``community ∩ area``, its polygonal part) and
the area's buildings are partitioned into grids inside those pieces, so a grid's
buildings and polygon all lie in one area. A community that spans two areas
gives grids in each, numbered apart; grid codes are therefore prefixed with the
area id: ``<area_id>/<community code>-<sequence>`` (``jd01/120104001001-007``).

The grids of one area are the grids of a run on that area's buildings and its
cut communities alone (:func:`area_grid_inputs`), renamed with the prefix. The
grid delineation itself is passed in (``delineate``:
:func:`geoplan.grids.delineate_grids`): areas and grids are siblings on the same
floor of the import contract, so the command line (or the caller) hands it over.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import InputError
from geoplan.areas.layout import AREA_ID, assign_areas

if TYPE_CHECKING:
    from geoplan.grids import GridResult
    from geoplan.profiles import Profile

__all__ = ["OUTSIDE", "AreaGridInput", "AreasGrids", "area_grid_inputs", "grids_by_areas"]

#: The per-area table's row of the buildings in no area.
OUTSIDE = "(outside)"
#: Between the area id and the grid code in a grid code of an areas run.
SEPARATOR = "/"

_TABLE_COLUMNS = [
    AREA_ID,
    "status",
    "buildings",
    "households",
    "grids",
    "grids_in_range",
    "grids_out_of_range",
    "grids_exempt",
    "grids_crossing_road",
    "buildings_outside_communities",
]


@dataclass(frozen=True, eq=False)
class AreaGridInput:
    """What the grids of one area are cut from.

    Attributes
    ----------
    area_id
        The area.
    buildings
        The buildings whose area it is, in the buildings' order.
    communities
        The communities that overlap the area, cut to it (polygonal parts only).
    """

    area_id: str
    buildings: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame


@dataclass(frozen=True, eq=False)
class AreasGrids:
    """The grids of an areas run.

    Attributes
    ----------
    result
        The merged :class:`~geoplan.grids.GridResult`: its grids carry an
        ``area_id`` column and prefixed codes, its membership is aligned to all the
        buildings (None for a building in no area or no community), its summary
        the single run's keys over every area plus ``n_areas`` and
        ``n_buildings_outside_areas``.
    areas
        One row per area (and ``(outside)`` when buildings fall in no area):
        ``status`` (``ok``, ``no_buildings``, ``outside``), ``buildings``,
        ``households``, ``grids``, ``grids_in_range``, ``grids_out_of_range``
        (outside the profile's household range and not exempt), ``grids_exempt``,
        ``grids_crossing_road``, ``buildings_outside_communities``.
    by_area
        Each area's own result, as a run on that area alone returns it (codes not
        prefixed); areas without buildings are absent.
    area_of
        Each building's area id, aligned to the buildings (None: in no area).
    """

    result: GridResult
    areas: pd.DataFrame
    by_area: dict[str, GridResult]
    area_of: pd.Series

    def to_dict(self) -> dict[str, Any]:
        """The merged result's :meth:`~geoplan.grids.GridResult.to_dict`, each grid
        with its ``area_id``, plus the per-area rows under ``areas``."""
        out = self.result.to_dict()
        area = self.result.grids[AREA_ID]
        for row in out["grids"]:
            row[AREA_ID] = str(area.loc[row["grid_code"]])
        out["areas"] = [
            {k: (None if pd.isna(v) else v) for k, v in rec.items()}
            for rec in _plain(self.areas).to_dict(orient="records")
        ]
        return out


def area_grid_inputs(
    buildings: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> tuple[list[AreaGridInput], np.ndarray]:
    """The buildings and cut communities of each area, and each building's area.

    Returns the inputs in the areas' order (every area, even one without
    buildings) and the position in ``areas`` of each building's area (-1: none).

    Examples
    --------
    >>> from shapely import box
    >>> areas = gpd.GeoDataFrame(geometry=[box(0, 0, 50, 100), box(50, 0, 100, 100)],
    ...     index=pd.Index(["A", "B"], name="area_id"), crs=32650)
    >>> comm = gpd.GeoDataFrame({"district_code": ["120104"]},
    ...     geometry=[box(0, 0, 100, 100)], index=["120104001001"], crs=32650)
    >>> b = gpd.GeoDataFrame({"households": [1.0, 2.0, 3.0]},
    ...     geometry=[box(10, 10, 20, 20), box(60, 10, 70, 20), box(80, 80, 90, 90)],
    ...     crs=32650)
    >>> inputs, pos = area_grid_inputs(b, comm, areas)
    >>> pos.tolist(), [len(i.buildings) for i in inputs]
    ([0, 1, 1], [1, 2])
    >>> inputs[1].communities.total_bounds.tolist()
    [50.0, 0.0, 100.0, 100.0]
    """
    if areas.crs is None or buildings.crs is None or not areas.crs.equals(buildings.crs):
        raise InputError("the areas must share the buildings' CRS", column="geometry")
    if areas.index.has_duplicates:
        raise InputError("area ids must be unique", column=AREA_ID)
    pos = assign_areas(buildings, areas)
    cgeoms = np.asarray(communities.geometry.array, dtype=object)
    ctree = shapely.STRtree(cgeoms)
    out: list[AreaGridInput] = []
    for k, (aid, poly) in enumerate(zip(areas.index, areas.geometry.array, strict=True)):
        bld = buildings.iloc[np.flatnonzero(pos == k)]
        hit: np.ndarray = (
            np.sort(ctree.query(poly, predicate="intersects"))
            if poly is not None
            else np.zeros(0, dtype=np.int64)
        )
        cut = [_polygonal(shapely.intersection(cgeoms[i], poly)) for i in hit]
        keep = [j for j, g in enumerate(cut) if g is not None]
        comm = communities.iloc[[int(hit[j]) for j in keep]].copy()
        comm = comm.set_geometry(
            gpd.GeoSeries([cut[j] for j in keep], index=comm.index, crs=communities.crs)
        )
        out.append(AreaGridInput(area_id=str(aid), buildings=bld, communities=comm))
    return out, pos


def grids_by_areas(
    buildings: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    delineate: Callable[..., GridResult],
    profile: Profile | str,
    streets: gpd.GeoDataFrame | None = None,
    barrier_highways: Collection[str] = ("trunk", "primary", "secondary"),
    own_grid_uses: Collection[str] = (),
    compounds: gpd.GeoDataFrame | None = None,
    special_col: str = "special_groups",
    community_code_col: str | None = None,
    use_col: str = "use",
) -> AreasGrids:
    """Grids cut inside each area separately, merged with an ``area_id`` column.

    Parameters
    ----------
    buildings, communities
        As for :func:`geoplan.grids.delineate_grids`. Missing household counts are
        estimated once, on all the buildings, before they are split (as a single
        run estimates them), so an area's households do not depend on the cut.
    areas
        Area polygons indexed by ``area_id`` (:func:`~geoplan.areas.read_areas`),
        in the buildings' CRS.
    delineate
        The grids of one area: :func:`geoplan.grids.delineate_grids`.
    profile, streets, barrier_highways, own_grid_uses, compounds
        As for :func:`geoplan.grids.delineate_grids`, passed to ``delineate`` for
        every area whole (a community's grids query the streets along it; the
        compounds give their old-estate flags).
    special_col, community_code_col, use_col
        Column names, as for :func:`geoplan.grids.delineate_grids`.

    Returns
    -------
    AreasGrids

    Examples
    --------
    >>> import warnings
    >>> from geoplan.areas import tile_areas
    >>> from geoplan.grids import delineate_grids
    >>> from geoplan.sample import make_sample_district
    >>> d = make_sample_district(seed=0)
    >>> tiles = tile_areas(d.communities.total_bounds, (2, 1), crs=d.communities.crs)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     run = grids_by_areas(d.buildings, d.communities, tiles, delineate=delineate_grids,
    ...                          profile="ningxia-2025", streets=d.streets)
    >>> run.areas["status"].tolist(), run.result.summary["n_areas"]
    (['ok', 'ok'], 2)
    >>> run.result.grids.index[0].split("/")[0]
    'r1c1'
    """
    from geoplan.households import estimate_households, households_summary, needs_estimate
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    if buildings.index.has_duplicates:
        raise InputError("building ids must be unique")
    bld = buildings
    if "households" in bld.columns and needs_estimate(bld):
        bld = estimate_households(bld, params=p, areas=[communities, compounds])
    inputs, pos = area_grid_inputs(bld, communities, areas)
    by_area: dict[str, GridResult] = {}
    rows: list[dict[str, Any]] = []
    for item in inputs:
        if item.buildings.empty:
            rows.append(_row(item.area_id, "no_buildings", item.buildings, None))
            continue
        res = delineate(
            item.buildings,
            item.communities,
            profile=p,
            streets=streets,
            barrier_highways=barrier_highways,
            own_grid_uses=own_grid_uses,
            compounds=compounds,
            special_col=special_col,
            community_code_col=community_code_col,
            use_col=use_col,
        )
        by_area[item.area_id] = res
        rows.append(_row(item.area_id, "ok", item.buildings, res))
    outside = np.flatnonzero(pos < 0)
    if outside.size:
        import warnings

        from geoplan._errors import DataQualityWarning

        warnings.warn(
            f"{outside.size} buildings lie in no area and get no grid",
            DataQualityWarning,
            stacklevel=2,
        )
        rows.append(_row(OUTSIDE, "outside", bld.iloc[outside], None))
    area_ids = np.asarray([str(a) for a in areas.index], dtype=object)
    area_of = pd.Series(
        np.where(pos >= 0, area_ids[np.clip(pos, 0, None)] if len(area_ids) else None, None),
        index=buildings.index,
        name=AREA_ID,
        dtype=object,
    )
    merged = _merge(by_area, buildings, bld, pos, len(areas), households_summary)
    table = pd.DataFrame(rows, columns=_TABLE_COLUMNS)
    return AreasGrids(result=merged, areas=table, by_area=by_area, area_of=area_of)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygons of ``geom`` (an intersection may add lines and points), or None."""
    if geom is None or shapely.is_empty(geom):
        return None
    parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in (3, 6)]
    parts = [g for g in parts if shapely.area(g) > 0]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _row(
    area_id: str, status: str, bld: gpd.GeoDataFrame, res: GridResult | None
) -> dict[str, Any]:
    hh = pd.to_numeric(bld["households"], errors="coerce") if "households" in bld else None
    row: dict[str, Any] = {
        AREA_ID: area_id,
        "status": status,
        "buildings": len(bld),
        "households": float(hh.fillna(0.0).sum()) if hh is not None else 0.0,
    }
    s = res.summary if res is not None else {}
    row.update(
        {
            "grids": int(s.get("n_grids", 0)),
            "grids_in_range": int(s.get("n_in_range", 0)),
            "grids_out_of_range": int(s.get("n_out_of_range", 0)),
            "grids_exempt": int(s.get("n_exempt", 0)),
            "grids_crossing_road": int(s.get("n_crossing_road", 0)),
            "buildings_outside_communities": int(s.get("n_buildings_outside_communities", 0)),
        }
    )
    if res is not None:
        row["households"] = float(s.get("households", row["households"]))
    return row


def _merge(
    by_area: dict[str, GridResult],
    buildings: gpd.GeoDataFrame,
    estimated: gpd.GeoDataFrame,
    pos: np.ndarray,
    n_areas: int,
    households_summary: Callable[..., dict[str, Any]],
) -> GridResult:
    """One result of the areas' results: prefixed codes, an ``area_id`` column."""
    if not by_area:
        raise InputError("no building lies in any area: no grids to cut", column="geometry")
    frames, members = [], []
    for aid, res in by_area.items():
        g = res.grids.copy()
        g.index = pd.Index([f"{aid}{SEPARATOR}{c}" for c in g.index], name=g.index.name)
        g.insert(0, AREA_ID, aid)
        frames.append(g)
        m = res.membership
        members.append(m.map(lambda c, a=aid: None if pd.isna(c) else f"{a}{SEPARATOR}{c}"))
    first = next(iter(by_area.values()))
    grids = gpd.GeoDataFrame(pd.concat(frames), geometry=first.grids.geometry.name)
    grids = grids.set_crs(first.grids.crs, allow_override=True)
    member = pd.concat(members).astype(object)
    membership = pd.Series(
        member.reindex(buildings.index).to_numpy(dtype=object),
        index=buildings.index,
        name="grid_code",
        dtype=object,
    )
    membership = membership.where(membership.notna(), None)
    bad = ~grids["in_range"] & ~grids["exempt"]
    inside = estimated.iloc[np.flatnonzero(pos >= 0)]
    summaries = [r.summary for r in by_area.values()]
    by_target: dict[str, int] = {}
    for s in summaries:
        for t, n in s.get("by_target", {}).items():
            by_target[t] = by_target.get(t, 0) + int(n)
    summary = {
        "n_grids": len(grids),
        "n_in_range": int(grids["in_range"].sum()),
        "n_out_of_range": int(bad.sum()),
        "n_exempt": int(grids["exempt"].sum()),
        "n_crossing_road": int(grids["crosses_road"].sum()),
        "n_buildings_outside_communities": sum(
            int(s["n_buildings_outside_communities"]) for s in summaries
        ),
        "households_per_grid_median": (
            float(grids.loc[~grids["exempt"], "households"].median()) if len(grids) else None
        ),
        "by_target": dict(sorted(by_target.items())),
        "households": float(sum(float(s["households"]) for s in summaries)),
        **(households_summary(inside) if "households_source" in inside.columns else {}),
        "n_areas": n_areas,
        "n_buildings_outside_areas": int((pos < 0).sum()),
    }
    return dataclasses.replace(first, grids=grids, membership=membership, summary=summary)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Numpy scalars as Python values, for JSON."""
    return frame.astype(object).where(frame.notna(), None)

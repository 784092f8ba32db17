"""Siting area by area: each area's new sites serve its own households.

Each building and each candidate goes to its area by
:func:`geoplan.areas.layout.assign_areas` (the first area containing its
representative point). An area's problem is the single siting problem on its
own demand and its own candidates: the fewest of its candidates lifting its
households to the target share (or, with ``k``, its best ``k``). The walks are
on the whole network and every existing facility counts, wherever it stands (a
household that reaches a market across the border is covered already), so an
area's answer is :func:`geoplan.siting.suggest_sites` on that area alone. The
sites keep their candidate ids (unique: a candidate lies in one area) and get an
``area_id`` column.

The siting itself is passed in (``solve``: :func:`geoplan.siting.suggest_sites`):
areas and siting are siblings on the same floor of the import contract.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.areas.layout import AREA_ID, assign_areas

if TYPE_CHECKING:
    from geoplan.network import WalkNetwork
    from geoplan.profiles import Profile
    from geoplan.siting import SitingResult

__all__ = ["AreasSites", "sites_by_areas"]

#: The per-area table's row of the buildings in no area.
OUTSIDE = "(outside)"

_TABLE_COLUMNS = [
    AREA_ID,
    "status",
    "buildings",
    "households",
    "candidates",
    "sites",
    "coverage_before",
    "coverage_after",
    "reached",
    "method",
]


@dataclass(frozen=True, eq=False)
class AreasSites:
    """The sites of an areas run.

    Attributes
    ----------
    result
        The merged :class:`~geoplan.siting.SitingResult`: the areas' sites one
        after the other (in the areas' order, each area's in its own selection
        order) with an ``area_id`` column; households, covered households and
        bounds summed over the areas; ``reached`` and ``optimal`` true when they
        are in every area; ``covered_before``/``covered_after`` aligned to the
        buildings in an area; ``method`` the areas' methods (``exact+greedy`` when
        they differ).
    areas
        One row per area (and ``(outside)`` when buildings fall in no area):
        ``status`` (``ok``, ``no_buildings``, ``outside``), ``buildings``,
        ``households``, ``candidates``, ``sites``, ``coverage_before``,
        ``coverage_after``, ``reached``, ``method``.
    by_area
        Each area's own result, as a run on that area alone returns it.
    """

    result: SitingResult
    areas: pd.DataFrame
    by_area: dict[str, SitingResult]

    def to_dict(self) -> dict[str, Any]:
        """The merged result's ``to_dict``, each site with its ``area_id``, plus the
        per-area rows under ``areas``."""
        out = self.result.to_dict()
        area = self.result.sites[AREA_ID]
        for row in out["sites"]:
            row[AREA_ID] = str(area.loc[row["site_id"]])
        table = self.areas.astype(object).where(self.areas.notna(), None)
        out["areas"] = table.to_dict(orient="records")
        return out


def sites_by_areas(
    network: WalkNetwork,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    solve: Callable[..., SitingResult],
    category: str,
    profile: Profile | str,
    k: int | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    check_layers: bool = True,
    **options: object,
) -> AreasSites:
    """New sites chosen area by area, merged with an ``area_id`` column.

    Parameters
    ----------
    network, buildings, facilities, candidates
        As for :func:`geoplan.siting.suggest_sites`. Missing household counts are
        estimated once, on all the buildings, before they are split.
    areas
        Area polygons indexed by ``area_id`` (:func:`~geoplan.areas.read_areas`),
        in the buildings' CRS.
    solve
        The siting of one area: :func:`geoplan.siting.suggest_sites`.
    category, profile, compounds, communities
        As for :func:`geoplan.siting.suggest_sites`, passed whole to every area.
    k
        With ``k``: the best ``k`` sites of each area.
    check_layers
        Check once, on all the layers, that they line up with the network.
    options
        Passed to ``solve`` for every area (``method``, ``time_limit_s``,
        ``gates``, ``target_share``, ...).

    Returns
    -------
    AreasSites

    Examples
    --------
    >>> import warnings
    >>> from geoplan.areas import tile_areas
    >>> from geoplan.network import network_from_lines
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.siting import candidates_from_network, suggest_sites
    >>> d = make_sample_district(seed=0)
    >>> net = network_from_lines(d.streets)
    >>> tiles = tile_areas(d.buildings.total_bounds, (2, 1), crs=net.crs)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     run = sites_by_areas(net, d.buildings, d.facilities, candidates_from_network(net),
    ...                          tiles, solve=suggest_sites, category="wet_market",
    ...                          profile="tianjin-2025", communities=d.communities)
    >>> run.areas[["area_id", "status"]].values.tolist()
    [['r1c1', 'ok'], ['r1c2', 'ok']]
    """
    from geoplan.households import estimate_households, households_summary, needs_estimate
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    if areas.crs is None or buildings.crs is None or not areas.crs.equals(buildings.crs):
        raise InputError("the areas must share the buildings' CRS", column="geometry")
    if areas.index.has_duplicates:
        raise InputError("area ids must be unique", column=AREA_ID)
    if check_layers:
        from geoplan.alignment import check_alignment

        check_alignment(
            network, profile=p, buildings=buildings, facilities=facilities, communities=communities
        )
    bld = buildings
    if "households" in bld.columns and needs_estimate(bld):
        bld = estimate_households(bld, params=p, areas=[compounds, communities])
    pos = assign_areas(bld, areas)
    cpos = assign_areas(candidates, areas)
    by_area: dict[str, SitingResult] = {}
    rows: list[dict[str, Any]] = []
    for j, aid in enumerate(str(a) for a in areas.index):
        mine = bld.iloc[np.flatnonzero(pos == j)]
        cands = candidates.iloc[np.flatnonzero(cpos == j)]
        if mine.empty:
            rows.append(_row(aid, "no_buildings", mine, len(cands), None))
            continue
        res = solve(
            network,
            mine,
            facilities,
            cands,
            category=category,
            profile=p,
            k=k,
            compounds=compounds,
            communities=communities,
            check_layers=False,
            **options,
        )
        by_area[aid] = res
        rows.append(_row(aid, "ok", mine, len(cands), res))
    outside = np.flatnonzero(pos < 0)
    if outside.size:
        warnings.warn(
            f"{outside.size} buildings lie in no area and are left out of the siting",
            DataQualityWarning,
            stacklevel=2,
        )
        rows.append(_row(OUTSIDE, "outside", bld.iloc[outside], int((cpos < 0).sum()), None))
    if not by_area:
        raise InputError("no building lies in any area: nothing to site", column="geometry")
    inside = bld.iloc[np.flatnonzero(pos >= 0)]
    merged = _merge(by_area, inside, int(len(candidates) - (cpos < 0).sum()), households_summary)
    return AreasSites(
        result=merged, areas=pd.DataFrame(rows, columns=_TABLE_COLUMNS), by_area=by_area
    )


def _row(
    area_id: str, status: str, bld: gpd.GeoDataFrame, n_cands: int, res: SitingResult | None
) -> dict[str, Any]:
    hh = pd.to_numeric(bld["households"], errors="coerce") if "households" in bld else None
    return {
        AREA_ID: area_id,
        "status": status,
        "buildings": len(bld),
        "households": float(hh.fillna(0.0).sum()) if hh is not None else 0.0,
        "candidates": n_cands,
        "sites": res.n_sites if res is not None else 0,
        "coverage_before": round(res.coverage_before, 6) if res is not None else None,
        "coverage_after": round(res.coverage_after, 6) if res is not None else None,
        "reached": res.reached if res is not None else None,
        "method": res.method if res is not None else None,
    }


def _merge(
    by_area: dict[str, SitingResult],
    inside: gpd.GeoDataFrame,
    n_candidates: int,
    households_summary: Callable[..., dict[str, Any]],
) -> SitingResult:
    """One result of the areas' results."""
    results = list(by_area.values())
    first = results[0]
    frames = []
    for aid, res in by_area.items():
        s = res.sites.copy()
        s.insert(0, AREA_ID, aid)
        frames.append(s)
    sites = gpd.GeoDataFrame(pd.concat(frames), geometry=first.sites.geometry.name)
    sites = sites.set_crs(first.sites.crs, allow_override=True)
    sites.index.name = "site_id"
    total = sum(r.households_total for r in results)
    before = sum(r.households_covered_before for r in results)
    after = sum(r.households_covered_after for r in results)
    chosen = tuple(c for r in results for c in r.chosen)
    added = tuple(a for r in results for a in r.added_households)
    bounds = [r.bound for r in results]
    bound = (
        None if any(b is None for b in bounds) else float(sum(b for b in bounds if b is not None))
    )
    gap: float | None = None
    if bound is not None:
        if first.problem == "set_cover":
            gap = 0.0 if not chosen else max(0.0, (len(chosen) - bound) / len(chosen))
        else:
            gap = 0.0 if bound <= 0 else max(0.0, (bound - (after - before)) / bound)
    reached = None if first.reached is None else all(bool(r.reached) for r in results)
    notes = [f"[{a}] {r.note}" for a, r in by_area.items() if r.note]
    params = dict(first.parameters)
    params.update(
        {
            "n_candidates": n_candidates,
            "buildings_counted": sum(
                int(r.parameters.get("buildings_counted", 0)) for r in results
            ),
            "households": float(sum(float(r.parameters.get("households", 0.0)) for r in results)),
            "n_areas": len(by_area),
        }
    )
    if "households_source" in inside.columns:
        params.update(households_summary(inside))
    return dataclasses.replace(
        first,
        method="+".join(sorted({r.method for r in results})),
        method_reason="+".join(sorted({r.method_reason for r in results})),
        chosen=chosen,
        added_households=added,
        households_total=float(total),
        households_covered_before=float(before),
        households_covered_after=float(after),
        reached=reached,
        optimal=all(r.optimal for r in results),
        bound=bound,
        gap=gap,
        sites=sites,
        covered_before=pd.concat([r.covered_before for r in results]).reindex(inside.index),
        covered_after=pd.concat([r.covered_after for r in results]).reindex(inside.index),
        note=" ".join(notes),
        parameters=params,
        solve_time_s=round(sum(r.solve_time_s for r in results), 3),
    )

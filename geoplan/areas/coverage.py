"""The coverage audit area by area: the walking passes on the cluster, one audit of the merge.

:func:`coverage_by_areas` cuts the run into areas (:mod:`geoplan.areas.layout`),
sends one task per area to a dask cluster (:mod:`geoplan.areas.engine`; each task
reads its own windows and walks on its own window of the network,
:mod:`geoplan.areas.task`), merges the answers into one reach frame in the
buildings' order, each building answered by its own area, and calls
:func:`geoplan.audit.coverage.audit_coverage` once with it. Every per-building
value, community result, finding and summary is therefore the single run's (the
windows give the same distances, see :func:`geoplan.network.window.network_window`),
and the per-area table (:mod:`geoplan.areas.table`) is computed from the merged
audit.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoplan._errors import DataQualityWarning, InputError
from geoplan.areas.engine import run_areas
from geoplan.areas.layout import assign_points, building_points
from geoplan.areas.sources import LayerSource, stage_layer
from geoplan.areas.task import AreaAnswer, AreaTask, point_xy

if TYPE_CHECKING:
    from distributed import Client

    from geoplan.audit.results import AuditResult
    from geoplan.network import WalkNetwork
    from geoplan.profiles import Profile

__all__ = ["AreasCoverage", "coverage_by_areas"]

#: Building ids named in a message before "...".
_LISTED = 5


@dataclass(frozen=True, eq=False)
class AreasCoverage:
    """A coverage audit run area by area.

    Attributes
    ----------
    result
        The audit of every building answered (all of them when every area ran and
        every building lies in an area): the single run's result for them. None
        when no area answered.
    areas
        The per-area table (:func:`geoplan.areas.table.area_table`), indexed by
        ``area_id``, with the areas' polygons.
    answers
        Each area's :class:`~geoplan.areas.task.AreaAnswer`, in the areas' order
        (areas without buildings have no task and no answer).
    staged
        The layers the client wrote for the tasks to read (paths).
    notes
        What the run did with the files, for the user (the network saved, the
        layers staged).
    """

    result: AuditResult | None
    areas: gpd.GeoDataFrame
    answers: list[AreaAnswer] = field(default_factory=list)
    staged: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[AreaAnswer]:
        """The areas whose task failed (bad input or an error)."""
        return [a for a in self.answers if a.status != "ok"]


def coverage_by_areas(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    network_file: str | os.PathLike[str],
    areas: gpd.GeoDataFrame,
    profile: Profile | str,
    client: Client,
    sources: Mapping[str, LayerSource] | None = None,
    stage_dir: str | os.PathLike[str] | None = None,
    communities: gpd.GeoDataFrame | None = None,
    elderly: bool = False,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    search_factor: float = 2.0,
    retries: int = 2,
    margin_m: float = 50.0,
    progress: bool = False,
    on_area: Callable[[AreaAnswer], None] | None = None,
) -> AreasCoverage:
    """Audit walking access area by area on a dask cluster, exactly as one run.

    Parameters
    ----------
    buildings, facilities, network, profile, communities, elderly, compounds, gates, search_factor
        As for :func:`geoplan.audit.coverage.audit_coverage`: the client's layers
        (the buildings with their households), which the merged audit reads. The
        tasks read their windows of the same layers themselves.
    network_file
        The network saved as ``.npz`` (:meth:`WalkNetwork.save`), at a path every
        worker sees: tasks memory-map it and cut their windows.
    areas
        Area polygons indexed by area id (:func:`~geoplan.areas.layout.read_areas`,
        :func:`~geoplan.areas.layout.tile_areas`); reprojected to the network's CRS.
    client
        A :class:`distributed.Client` (:func:`~geoplan.areas.engine.dask_client`).
    sources
        Where tasks read ``buildings`` and ``facilities`` by box
        (:func:`~geoplan.areas.sources.direct_source`); a layer without a source
        (and the compounds and gates) is staged into ``stage_dir`` first.
    stage_dir
        Folder for staged layers (needed when something is staged), seen by every
        worker at the same path.
    retries
        Runs again of a task that raised (dask's ``retries=``).
    margin_m
        Metres added to every window beyond the walking limit and ``max_snap_m``
        (against rounding at the windows' edges; any value >= 0 gives the same
        results, larger ones only read more).
    progress
        A progress bar on stderr while the areas run.
    on_area
        Called with each area's answer as it arrives.

    Returns
    -------
    AreasCoverage
        The merged audit, the per-area table, each area's answer. Buildings in no
        area are left out, with a :class:`DataQualityWarning` giving their count
        and a row ``(outside)`` in the table; so are the buildings of an area whose
        task failed (its row says why).
    """
    from geoplan.audit.coverage import audit_coverage, coverage_search, coverage_targets
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    for name, layer in (("buildings", buildings), ("facilities", facilities)):
        if layer.crs is None or not network.crs.equals(layer.crs):
            raise InputError(f"{name} must be in the network's CRS ({network.crs.name})")
    if not isinstance(areas, gpd.GeoDataFrame) or areas.crs is None:
        raise InputError("areas must be a GeoDataFrame with a CRS")
    if not areas.index.is_unique:
        raise InputError("area ids must be unique", column="area_id")
    areas = areas.to_crs(network.crs) if not network.crs.equals(areas.crs) else areas
    search = coverage_search(prof, elderly=elderly, search_factor=search_factor)
    pts = building_points(buildings)
    pos = assign_points(pts, areas)
    outside = pos < 0
    if outside.all():
        raise InputError(
            f"none of the {len(buildings):,} buildings lies in an area: do the areas and the "
            "buildings cover the same place (and CRS)?"
        )
    if outside.any():
        ids = ", ".join(str(i) for i in buildings.index[outside][:_LISTED])
        more = " ..." if int(outside.sum()) > _LISTED else ""
        warnings.warn(
            f"{int(outside.sum()):,} buildings lie in no area and are left out of the audit "
            f"(row '(outside)' of the per-area table): {ids}{more}",
            DataQualityWarning,
            stacklevel=2,
        )
    # each area's buildings (positions), in the buildings' order
    order = np.argsort(pos, kind="stable")
    cuts = np.searchsorted(pos[order], np.arange(len(areas) + 1))
    members = [order[cuts[k] : cuts[k + 1]] for k in range(len(areas))]
    given = dict(sources or {})
    staged: list[Path] = []

    def source(kind: str, frame: gpd.GeoDataFrame | None) -> LayerSource | None:
        if frame is None or (kind in ("compounds", "gates") and len(frame) == 0):
            return None
        if kind in given:
            return given[kind]
        if stage_dir is None:
            raise InputError(f"the {kind} must be staged for the tasks: give stage_dir")
        src = stage_layer(frame, kind, stage_dir)
        staged.append(Path(src.location))
        return src

    src_b = source("buildings", buildings)
    src_f = source("facilities", facilities)
    assert src_b is not None and src_f is not None
    src_c = source("compounds", compounds)
    src_g = source("gates", gates) if src_c is not None else None
    cats = tuple(sorted({str(c) for c in facilities["category"].dropna().tolist()}))
    tasks = [
        AreaTask(
            area_id=str(areas.index[k]),
            area_wkb=shapely.to_wkb(areas.geometry.iloc[k]),
            network=str(network_file),
            crs_wkt=network.crs.to_wkt(),
            buildings=src_b,
            facilities=src_f,
            compounds=src_c,
            gates=src_g,
            limit_m=search.limit_m,
            max_snap_m=search.max_snap_m,
            walk_speed_m_per_min=search.walk_speed_m_per_min,
            categories=cats,
            margin_m=margin_m,
        )
        for k in range(len(areas))
        if members[k].size
    ]
    answers = run_areas(client, tasks, retries=retries, progress=progress, on_area=on_area)
    mine = _Layers.of(buildings, pts, facilities)
    at = {str(a): k for k, a in enumerate(areas.index)}
    answers = [_checked(a, mine, members[at[a.area_id]]) for a in answers]
    by_id = {a.area_id: a for a in answers}
    ok_area = np.array([by_id.get(str(a)) is not None and by_id[str(a)].status == "ok"
                        for a in areas.index], dtype=bool)  # fmt: skip
    keep = ~outside & ok_area[np.maximum(pos, 0)]
    result = None
    if keep.any():
        kept = buildings[keep]
        reach = _merged(answers, buildings, keep, [members[at[a.area_id]] for a in answers])
        _replay_snap_warnings(reach, facilities, network, search.max_snap_m, compounds, gates)
        result = audit_coverage(
            kept,
            facilities,
            network,
            profile=prof,
            communities=communities,
            elderly=elderly,
            compounds=compounds,
            gates=gates,
            search_factor=search_factor,
            check_layers=False,
            reach=reach,
        )
    from geoplan.areas.table import area_table

    table = area_table(
        areas,
        pos=pos,
        buildings=buildings,
        keep=keep,
        result=result,
        answers=by_id,
        communities=communities,
        scopes={t.id: str(t.scope) for t in coverage_targets(prof)},
    )
    return AreasCoverage(result=result, areas=table, answers=answers, staged=staged)


@dataclass(frozen=True, eq=False)
class _Layers:
    """What the client read, to check the tasks' reads against: building ids and points,
    facility ids (text), points and categories."""

    building_ids: pd.Index
    building_xy: np.ndarray
    facility_ids: pd.Index
    facility_xy: np.ndarray
    facility_category: np.ndarray

    @classmethod
    def of(
        cls, buildings: gpd.GeoDataFrame, pts: np.ndarray, facilities: gpd.GeoDataFrame
    ) -> _Layers:
        cat = facilities["category"]
        return cls(
            building_ids=buildings.index,
            building_xy=point_xy(pts),
            facility_ids=pd.Index([str(i) for i in facilities.index.tolist()], dtype=object),
            facility_xy=point_xy(building_points(facilities)),
            facility_category=np.asarray(
                [None if pd.isna(c) else str(c) for c in cat.tolist()], dtype=object
            ),
        )


def _checked(answer: AreaAnswer, mine: _Layers, members: np.ndarray) -> AreaAnswer:
    """The answer, or bad input when the task's layers are not the client's.

    Its buildings must include every building of the area (``members``: positions),
    at the same points, and its facilities must be the client's (same ids, points
    and categories): a file changed between the reads, or ids that are not the
    file's own, would give silently wrong distances.
    """
    if answer.status != "ok" or answer.reach is None:
        return answer
    ids = mine.building_ids[members]
    r = answer.reach
    problem = None
    where = r.index.get_indexer(ids)
    if (where < 0).any():
        miss = ", ".join(str(i) for i in ids[where < 0][:_LISTED])
        problem = (
            f"the task's read of the buildings lacks {int((where < 0).sum()):,} of the area's "
            f"{len(ids):,} buildings ({miss}): the file changed since the client read it"
        )
    elif not np.array_equal(answer.building_xy[where], mine.building_xy[members], equal_nan=True):
        problem = "the task read the area's buildings at other places than the client did"
    if problem is None and len(answer.facility_ids):
        fid = pd.Index(answer.facility_ids, dtype=object)
        at = mine.facility_ids.get_indexer(fid)
        if (at < 0).any():
            problem = (
                f"the task read facilities the client did not ({fid[at < 0][0]}): the file "
                "changed since the client read it"
            )
        else:
            same_cat = [
                a == (None if b is None or pd.isna(b) else str(b))
                for a, b in zip(mine.facility_category[at], answer.facility_category, strict=True)
            ]
            same_xy = np.array_equal(mine.facility_xy[at], answer.facility_xy, equal_nan=True)
            if not (same_xy and all(same_cat)):
                problem = "the task read the facilities at other places or with other categories"
    if problem is None:
        return answer
    return AreaAnswer(
        area_id=answer.area_id, status="bad_input", error=problem, seconds=answer.seconds
    )


def _merged(
    answers: list[AreaAnswer],
    buildings: gpd.GeoDataFrame,
    keep: np.ndarray,
    members: list[np.ndarray],
) -> pd.DataFrame:
    """One reach frame aligned to ``buildings[keep]``: each building's row from its area."""
    pieces = [
        a.reach.iloc[a.reach.index.get_indexer(buildings.index[m])]
        for a, m in zip(answers, members, strict=True)
        if a.status == "ok" and a.reach is not None
    ]
    merged = pd.concat(pieces) if len(pieces) > 1 else pieces[0]
    index = buildings.index[keep]
    merged = merged.iloc[merged.index.get_indexer(index)]
    merged.index = index.copy()
    return merged


def _replay_snap_warnings(
    reach: pd.DataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
) -> None:
    """The snapping warnings the single run gives, once (the tasks' own are dropped).

    Buildings on islands of the whole network (their ``component``, the whole
    network's, is not 0), in the words of :func:`geoplan.network.snap_points`; then
    the facilities snapped on the whole network, which warns of theirs itself, and
    those too far from it (as :func:`geoplan.reach.nearest_facilities` words it).
    """
    from geoplan.network import snap_points

    small = reach["reachable"].to_numpy(dtype=bool) & (reach["component"].to_numpy() > 0)
    if small.any():
        ids = ", ".join(str(i) for i in reach.index[small][:_LISTED])
        more = " ..." if small.sum() > _LISTED else ""
        warnings.warn(
            f"{int(small.sum())} point(s) snapped outside the largest component (islands of "
            f"the walk network; see columns component/component_nodes): {ids}{more}",
            DataQualityWarning,
            stacklevel=3,
        )
    if len(facilities) == 0:
        return
    s = snap_points(network, facilities, max_snap_m=max_snap_m, compounds=compounds, gates=gates)
    bad = ~s.reachable
    if bad.any():
        ids = ", ".join(str(i) for i in s.index[bad][:_LISTED])
        more = " ..." if bad.sum() > _LISTED else ""
        warnings.warn(
            f"{int(bad.sum())} facilities farther than max_snap_m={max_snap_m} m from the walk "
            f"network are left out: {ids}{more}",
            DataQualityWarning,
            stacklevel=3,
        )

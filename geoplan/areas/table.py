"""The per-area table of a run by areas, and the run's files.

:func:`area_table` gives one row per area, computed from the merged audit: its
buildings and households, the share of households covered for each target (of
those in the target's scope), the communities with a failing finding, the task's
status and error. Buildings in no area get a row ``(outside)``.
:func:`save_areas` writes what a single run writes
(:func:`geoplan.audit.results.save_result`), with the table as the layer
``areas`` of the GeoPackage (``coverage_areas.parquet`` for Parquet), plus
``coverage_areas.csv``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.areas.layout import AREA_ID, assign_areas

if TYPE_CHECKING:
    from geoplan.areas.coverage import AreasCoverage
    from geoplan.areas.task import AreaAnswer
    from geoplan.audit.results import AuditResult

__all__ = ["OUTSIDE", "STATUSES", "area_table", "save_areas"]

#: The row of the buildings in no area.
OUTSIDE = "(outside)"
#: What ``status`` says: the task ran; the area has no building (no task); the task
#: met bad input; it failed otherwise; the buildings in no area.
STATUSES = ("ok", "no_buildings", "bad_input", "error", "outside")
#: Failing community ids listed per area (the count is always complete).
_LISTED = 50


def area_table(
    areas: gpd.GeoDataFrame,
    *,
    pos: np.ndarray,
    buildings: gpd.GeoDataFrame,
    keep: np.ndarray,
    result: AuditResult | None,
    answers: Mapping[str, AreaAnswer],
    communities: gpd.GeoDataFrame | None,
    scopes: Mapping[str, str],
) -> gpd.GeoDataFrame:
    """One row per area (and one for the buildings in no area, when there are any).

    Columns: ``name`` (when the areas have one), ``status`` (:data:`STATUSES`),
    ``error``, ``buildings``, ``households``, ``households_estimated_share`` (the
    share of the area's households that are estimated, not counted; None where the
    audit has no such flag), ``<target>__households_share`` for
    each coverage target (None where no household of the area is in the target's
    scope, or the area was not audited), ``failing_communities`` (how many of the
    communities the area's buildings lie in have a failing finding) and
    ``failing_community_ids``, ``window_edges`` and ``window_facilities`` (what the
    task walked on), ``seconds`` (the task's time), and the area's polygon.
    ``scopes`` gives each target's scope (``central_district`` counts only the
    central district's households, as the audit does).
    """
    from geoplan.audit.coverage import in_scope

    n = len(areas)
    ids = [str(i) for i in areas.index]
    outside = pos < 0
    has_outside = bool(outside.any())
    rows = ids + ([OUTSIDE] if has_outside else [])
    group = np.where(outside, n, pos)  # the row of each building
    count = np.bincount(group, minlength=len(rows))
    hh_all = (
        buildings["households"].astype(float).fillna(0.0).to_numpy()
        if "households" in buildings.columns
        else np.zeros(len(buildings))
    )
    table: dict[str, list[object]] = {}
    if "name" in areas.columns:
        table["name"] = [*areas["name"].tolist(), *([None] if has_outside else [])]
    status: list[object] = []
    error: list[object] = []
    edges: list[object] = []
    facs: list[object] = []
    secs: list[object] = []
    for k, aid in enumerate(ids):
        a = answers.get(aid)
        if a is None:
            status.append("no_buildings" if count[k] == 0 else "error")
            error.append(None if count[k] == 0 else "no answer")
            edges.append(None)
            facs.append(None)
            secs.append(None)
        else:
            status.append(a.status)
            error.append(a.error)
            edges.append(a.window_edges if a.status == "ok" else None)
            facs.append(a.window_facilities if a.status == "ok" else None)
            secs.append(round(a.seconds, 3))
    if has_outside:
        status.append("outside")
        error.append(None)
        edges.append(None)
        facs.append(None)
        secs.append(None)
    table["status"] = status
    table["error"] = error
    table["buildings"] = list(count.tolist())
    households = np.bincount(group, weights=hh_all, minlength=len(rows))
    failing_n: list[object] = [None] * len(rows)
    failing_ids: list[object] = [None] * len(rows)
    estimated: list[object] = [None] * len(rows)
    if result is not None:
        t = result.table
        g = group[keep]
        hh = t["households"].astype(float).to_numpy()
        if "households_estimated" in t.columns:  # how much of each area's count is estimated
            est = t["households_estimated"].fillna(False).to_numpy(dtype=bool)
            tot = np.bincount(g, weights=hh, minlength=len(rows))
            part = np.bincount(g, weights=np.where(est, hh, 0.0), minlength=len(rows))
            estimated = [
                round(float(part[k] / tot[k]), 6) if tot[k] > 0 else None for k in range(len(rows))
            ]
        households[:n] = np.where(  # the audit's weights where it ran
            np.bincount(g, minlength=len(rows))[:n] > 0,
            np.bincount(g, weights=hh, minlength=len(rows))[:n],
            households[:n],
        )
        kept = buildings[keep]
        for tid in result.summary.get("targets", {}):
            col = f"{tid}__pass"
            shares: list[object] = [None] * len(rows)
            if col in t.columns:
                mask = in_scope(kept, communities, scopes.get(tid, "district"))
                ok = t[col].to_numpy(dtype=bool)
                den = np.bincount(g, weights=np.where(mask, hh, 0.0), minlength=len(rows))
                num = np.bincount(g, weights=np.where(mask & ok, hh, 0.0), minlength=len(rows))
                audited = np.bincount(g, minlength=len(rows)) > 0
                shares = [
                    round(float(num[k] / den[k]), 6) if audited[k] and den[k] > 0 else None
                    for k in range(len(rows))
                ]
            table[f"{tid}__households_share"] = shares
        comm = _community_of(t, kept, communities)
        failing = _failing_communities(result)
        if comm is not None:
            per: dict[int, set[str]] = {}
            for k, c in zip(g.tolist(), comm.tolist(), strict=True):
                if c is not None and c in failing:
                    per.setdefault(int(k), set()).add(c)
            audited = np.bincount(g, minlength=len(rows)) > 0
            for k in range(len(rows)):
                if audited[k]:
                    found = sorted(per.get(k, set()))
                    failing_n[k] = len(found)
                    failing_ids[k] = ";".join(found[:_LISTED]) + (
                        " ..." if len(found) > _LISTED else ""
                    )
    table["households"] = list(households.tolist())
    table["households_estimated_share"] = estimated
    table["failing_communities"] = failing_n
    table["failing_community_ids"] = failing_ids
    table["window_edges"] = edges
    table["window_facilities"] = facs
    table["seconds"] = secs
    order = ["name"] if "name" in table else []
    order += ["status", "error", "buildings", "households", "households_estimated_share"]
    order += [c for c in table if c.endswith("__households_share")]
    order += ["failing_communities", "failing_community_ids", "window_edges",
              "window_facilities", "seconds"]  # fmt: skip
    geoms = list(areas.geometry.to_numpy()) + ([None] if has_outside else [])
    out = gpd.GeoDataFrame(
        {c: pd.Series(table[c], dtype=object) for c in order},
        geometry=gpd.GeoSeries(geoms, crs=areas.crs).to_numpy(),
        crs=areas.crs,
    )
    for c in ("buildings",):
        out[c] = out[c].astype(np.int64)
    out["households"] = out["households"].astype(float)
    out.index = pd.Index(rows, name=AREA_ID)
    return out


def _community_of(
    table: pd.DataFrame, kept: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None
) -> np.ndarray | None:
    """Each audited building's community id (text, None for none), or None when unknown."""
    if "community_id" in table.columns and table["community_id"].notna().any():
        c = table["community_id"]
        return np.array([None if pd.isna(v) else str(v) for v in c.tolist()], dtype=object)
    if communities is None or len(communities) == 0:
        return None
    at = assign_areas(kept, communities)
    cid = np.asarray([str(i) for i in communities.index], dtype=object)
    out = np.full(at.size, None, dtype=object)
    out[at >= 0] = cid[at[at >= 0]]
    return out


def _failing_communities(result: AuditResult) -> set[str]:
    f = result.findings
    if f.empty or "scope" not in f.columns:
        return set()
    bad = f[(f["scope"] == "community") & (f["passed"] == False)]  # noqa: E712
    return {str(v) for v in bad["entity_id"].tolist()}


def save_areas(
    run: AreasCoverage,
    folder: str | os.PathLike[str],
    *,
    formats: Iterable[str] = ("gpkg", "csv"),
    lean: bool = False,
    long: bool = False,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write the run: the single run's files (with the table as layer ``areas``) and
    ``coverage_areas.csv``; only the CSV when no area answered."""
    from geoplan.audit.results import save_result
    from geoplan.io.write import write_csv

    folder = Path(folder)
    protect = list(protect)
    paths: list[Path] = []
    if run.result is not None:
        with_areas = dataclasses.replace(run.result, extra={**run.result.extra, "areas": run.areas})
        paths += save_result(
            with_areas, folder, formats=formats, lean=lean, long=long, protect=protect
        )
    plain = pd.DataFrame(run.areas.drop(columns=run.areas.geometry.name))
    paths.append(write_csv(folder / "coverage_areas.csv", plain, protect=protect))
    return paths


def area_records(table: gpd.GeoDataFrame) -> list[dict[str, object]]:
    """The per-area table as JSON-ready rows (no geometry), ``area_id`` first."""
    plain = pd.DataFrame(table.drop(columns=table.geometry.name))
    out = []
    for aid, row in plain.iterrows():
        rec: dict[str, object] = {AREA_ID: str(aid)}
        for k, v in row.items():
            rec[str(k)] = None if v is None or (isinstance(v, float) and np.isnan(v)) else v
        out.append(rec)
    return out


def describe_areas(table: gpd.GeoDataFrame, *, lang: str = "zh") -> list[str]:
    """Lines for a person: how many areas ran, and each area that did not, with why."""
    zh = lang == "zh"
    status = table["status"].astype(str)
    ran = int((status == "ok").sum())
    real = int((status != "outside").sum())
    lines = [f"分区 {real} 个：{ran} 个完成" if zh else f"{real} areas: {ran} done"]
    for aid, row in table.iterrows():
        st = str(row["status"])
        if st in ("bad_input", "error"):
            what = (
                ("输入有误" if st == "bad_input" else "出错")
                if zh
                else ("bad input" if st == "bad_input" else "failed")
            )
            lines.append(f"  {aid}: {what}: {row['error']}")
        elif st == "outside":
            n = int(row["buildings"])
            lines.append(
                f"  {n:,} 栋建筑不在任何分区内，未计入"
                if zh
                else f"  {n:,} buildings lie in no area and are not audited"
            )
    return lines

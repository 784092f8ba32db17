"""What ``grids``, ``site``, ``access`` and ``demo`` write and print: one set of writers
and printers shared by every command that produces grids, sites or access results (no
command module imports another)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import geopandas as gpd

    from geoplan.audit.results import AuditResult
    from geoplan.grids import GridResult
    from geoplan.siting import SitingResult


def json_text(payload: object) -> str:
    """Pretty, key-sorted UTF-8 JSON with a final newline (what every output file holds)."""
    import json

    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n"


_MEMBER_COLUMNS = ("households", "households_source", "households_estimated")


def write_grids(
    stem: Path, result: GridResult, buildings: gpd.GeoDataFrame, *, protect: list[Path]
) -> None:
    """``stem``.gpkg (layers ``grids`` and ``buildings`` with ``grid_code``), .csv, .json."""
    from geoplan.io.write import write_csv, write_gpkg, write_text

    # each building's grid, and the households it brings with where they come from
    kept = [c for c in _MEMBER_COLUMNS if c in buildings.columns]
    members = buildings[[*kept, buildings.geometry.name]].assign(grid_code=result.membership)
    write_gpkg(
        stem.with_suffix(".gpkg"), {"grids": result.grids, "buildings": members}, protect=protect
    )
    write_csv(stem.with_suffix(".csv"), result.grids, protect=protect)
    write_text(stem.with_suffix(".json"), json_text(result.to_dict()), protect=protect)


def print_grids(result: GridResult, *, lang: str) -> None:
    """The grid summary and every grid outside its range, with the reason."""
    s = result.summary
    if lang == "zh":
        click.echo(
            f"网格 {s['n_grids']} 个：{s['n_in_range']} 个户数达标，"
            f"{s['n_out_of_range']} 个超出范围，{s['n_exempt']} 个独立网格（商业/市场/场馆），"
            f"{s['n_crossing_road']} 个跨主干道"
        )
    else:
        click.echo(
            f"{s['n_grids']} grids: {s['n_in_range']} in range, {s['n_out_of_range']} "
            f"out of range, {s['n_exempt']} exempt, {s['n_crossing_road']} cross a "
            "major road"
        )
    if "households_estimated_share" in s:
        from geoplan.households import describe_households

        click.echo(f"  {describe_households(s, lang=lang)}")
    for code, row in result.problems.iterrows():
        click.echo(
            f"  {code}: {row['households']:,.0f} ({row['low']:,.0f}-{row['high']:,.0f}) "
            f"{row['reason']}"
        )


def write_sites(stem: Path, result: SitingResult, *, protect: list[Path]) -> None:
    """``stem``.gpkg (layer ``sites``), .csv and .json of a siting result."""
    from geoplan.io.write import write_csv, write_gpkg, write_text

    write_gpkg(stem.with_suffix(".gpkg"), {"sites": result.sites}, protect=protect)
    write_csv(stem.with_suffix(".csv"), result.sites, protect=protect)
    payload = result.to_dict()
    for entry in payload.get("sites", []):  # where to build, readable without a GIS
        sid = entry["site_id"]
        for key in ("lon", "lat"):
            if key in result.sites.columns and sid in result.sites.index:
                entry[key] = float(result.sites.loc[sid, key])
    write_text(stem.with_suffix(".json"), json_text(payload), protect=protect)


def write_access(
    out_dir: Path,
    result: AuditResult,
    *,
    communities: gpd.GeoDataFrame | None,
    formats: tuple[str, ...] = ("gpkg",),
    lang: str,
    make_map: bool,
    protect: Sequence[str | os.PathLike[str]],
) -> None:
    """An access result's files: ``access.json`` / ``_findings.csv`` / the per-building
    table in each format, ``access_communities.csv`` (per-community mean and minimum)
    and, with ``make_map``, ``access_map.html`` / ``.png`` (communities outlined)."""
    from geoplan._timing import phase
    from geoplan.audit.results import save_result
    from geoplan.io.write import write_csv

    with phase("write"):
        save_result(result, out_dir, formats=formats, protect=protect)
        if "communities" in result.extra:
            write_csv(
                out_dir / "access_communities.csv", result.extra["communities"], protect=protect
            )
    if make_map:
        from geoplan.report.access_map import write_access_map

        with phase("map"):
            write_access_map(out_dir, result, lang=lang, protect=protect, communities=communities)


def method_text(result: SitingResult, *, lang: str) -> str:
    """Which method answered, why, how long it took and how close to the optimum.

    Examples
    --------
    >>> import numpy as np
    >>> from geoplan.siting import set_cover
    >>> r = set_cover(np.eye(3, dtype=bool), [5.0, 3.0, 2.0], target_share=0.7, time_limit_s=0)
    >>> method_text(r, lang="en")  # doctest: +ELLIPSIS
    'method: greedy, the exact solver did not prove the optimum within the 0 s ...; proven optimal'
    >>> r = set_cover(np.eye(3, dtype=bool), [5.0, 3.0, 2.0], target_share=0.7)
    >>> method_text(r, lang="zh")  # doctest: +ELLIPSIS
    '方法：精确求解（HiGHS），... s 内求得，无时限；已证明最优'
    """
    zh = lang == "zh"
    secs = f"{result.solve_time_s:.1f} s"
    limit = result.time_limit_s
    if limit is None:
        limit_text = "无时限" if zh else "no time limit"
    else:
        limit_text = f"时限 {limit:g} s" if zh else f"time limit {limit:g} s"
    if result.optimal:
        quality = "已证明最优" if zh else "proven optimal"
    elif result.bound is not None and result.gap is not None:
        if result.problem == "set_cover":
            what = (
                f"下界 {result.bound:,.0f} 处" if zh else f"lower bound {result.bound:,.0f} sites"
            )
        else:
            what = (
                f"上界 {result.bound:,.0f} 户"
                if zh
                else f"upper bound {result.bound:,.0f} households"
            )
        quality = f"{what}，差距 ≤ {result.gap:.1%}" if zh else f"{what}, gap <= {result.gap:.1%}"
    else:
        quality = "未证明最优" if zh else "not proven optimal"
    names = {"exact": ("精确求解（HiGHS）", "exact (HiGHS)"), "greedy": ("贪心", "greedy")}
    used = names.get(result.method, (result.method, result.method))[0 if zh else 1]
    if result.method_reason == "solved_in_time":
        why = f"{secs} 内求得，{limit_text}" if zh else f"solved in {secs}, {limit_text}"
    elif result.method_reason == "time_limit":
        why = (
            f"精确求解未在 {limit:g} s 时限内证明最优"
            if zh
            else f"the exact solver did not prove the optimum within the {limit:g} s time limit"
        )
    else:
        why = f"按 --method 指定，用时 {secs}" if zh else f"chosen by --method, {secs}"
    return f"方法：{used}，{why}；{quality}" if zh else f"method: {used}, {why}; {quality}"

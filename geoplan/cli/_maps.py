"""Gap maps from audit results (shared by ``coverage``, ``map`` and ``demo``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd


def _category_name(category: str, lang: str) -> str:
    from geoplan.categories import list_categories

    table = list_categories()
    if category in table.index:
        return str(table.loc[category, "zh" if lang == "zh" else "en"])
    return category


def headline_category(coverage: Any) -> str | None:
    """The category a coverage map shows: the first coverage-share target's, else wet market."""
    targets = coverage.summary.get("targets", {})
    for info in targets.values():
        if len(info.get("categories", [])) == 1:
            return str(info["categories"][0])
    cats = list(coverage.summary.get("coverage", {}))
    return "wet_market" if "wet_market" in cats else (cats[0] if cats else None)


def summary_lines(coverage: Any | None, floor_area: Any | None, *, lang: str) -> dict[str, str]:
    """Label -> text for the map's summary panel."""
    zh = lang == "zh"
    out: dict[str, str] = {}
    if coverage is not None:
        from geoplan.profiles import load_profile

        prof = load_profile(coverage.profile)
        for tid, info in coverage.summary.get("targets", {}).items():
            t = prof.target(tid)
            share = info.get("households_share")
            if share is None:
                continue
            cats = info.get("categories", [])
            label = (
                _category_name(cats[0], lang)
                if len(cats) == 1
                else (t.description_zh if zh else t.description_en)
            )
            thr: Any = t.threshold  # a number for these measures
            if t.measure == "coverage_share":
                goal = f"{float(thr):.0%}"
                text = f"{share:.1%}，目标 {goal}" if zh else f"{share:.1%}, target {goal}"
            else:
                limit = f"{float(thr):g} {'min' if t.measure == 'walk_time' else 'm'}"
                text = (
                    f"{share:.1%} 户在 {limit} 内"
                    if zh
                    else f"{share:.1%} of households within {limit}"
                )
            out[f"{label}{'覆盖率' if zh and len(cats) == 1 else ''}"] = text
            if len(out) >= 6:
                break
    if floor_area is not None:
        chk = floor_area.summary.get("checks", {}).get("service_area_per_100_households")
        if chk:
            gap = chk.get("total_shortfall_m2", 0.0)
            key = "服务设施面积未达标社区" if zh else "Communities short of service area"
            out[key] = (
                f"{chk['failed']} / {chk['applicable']}，共缺 {gap:,.0f} m²"
                if zh
                else f"{chk['failed']} of {chk['applicable']}, {gap:,.0f} m2 missing"
            )
    return out


def relevant_facilities(
    facilities: gpd.GeoDataFrame, *, category: str | None, floor_area: Any | None
) -> gpd.GeoDataFrame:
    """The facilities a gap map should show: the mapped category and, with a
    floor-area audit, the community service facilities. Hundreds of unrelated
    shops only hide the gap."""
    keep: set[str] = set()
    if category is not None:
        keep.add(category)
    if floor_area is not None:
        keep.update(floor_area.parameters.get("service_facility_categories", ()))
    if not keep:
        return facilities
    return facilities[facilities["category"].isin(keep)]


def map_title(category: str | None, *, lang: str) -> str:
    """Default map title."""
    zh = lang == "zh"
    if category is None:
        return "社区服务设施缺口图" if zh else "Community service gaps"
    name = _category_name(category, lang)
    return f"{name}步行可达缺口图" if zh else f"Walking access gaps: {name}"


def coverage_gap_map(
    *,
    coverage: Any | None = None,
    floor_area: Any | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    category: str | None = None,
    title: str | None = None,
    lang: str = "zh",
    tiles: str | None = None,
    sites: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
) -> Any:
    """A folium gap map from a coverage and/or floor-area AuditResult (and, when
    given, suggested sites and management grids)."""
    from geoplan.render import gap_map

    zh = lang == "zh"
    buildings = communities = unreachable = None
    if coverage is not None:
        category = category or headline_category(coverage)
        keep = [
            c
            for c in coverage.table.columns
            if c.startswith(("covered__", "walk_min__", "walk_m__"))
        ]
        keep += [
            c
            for c in ("name", "households", "reachable", "snap_m", "component")
            if c in coverage.table
        ]
        buildings = gpd.GeoDataFrame(coverage.table[[*keep, "geometry"]], crs=coverage.table.crs)
        lost = (
            buildings[~buildings["reachable"].to_numpy(bool)] if "reachable" in buildings else None
        )
        if lost is not None and len(lost):
            unreachable = gpd.GeoDataFrame(
                {
                    "reason": "snap > max_snap_m" if not zh else "距路网过远",
                    "snap_m": lost["snap_m"],
                },
                geometry=lost.geometry.representative_point(),
                crs=lost.crs,
            )
    if floor_area is not None:
        communities = floor_area.table
    if facilities is not None:
        facilities = relevant_facilities(facilities, category=category, floor_area=floor_area)
    return gap_map(
        communities=communities,
        buildings=buildings,
        facilities=facilities,
        unreachable=unreachable,
        sites=sites,
        grids=grids,
        title=title or map_title(category, lang=lang),
        summary=_with_grids(
            _with_sites(summary_lines(coverage, floor_area, lang=lang), sites, lang=lang),
            grids,
            lang=lang,
        ),
        lang=lang,
        tiles=tiles,
        category=category,
    )


def _with_grids(
    lines: dict[str, str], grids: gpd.GeoDataFrame | None, *, lang: str
) -> dict[str, str]:
    """Add a line for management grids (how many are within their household range)."""
    if grids is None or len(grids) == 0 or "in_range" not in grids.columns:
        return lines
    ok = int((grids["in_range"].astype(bool) | grids.get("exempt", False)).sum())
    if lang == "zh":
        return {**lines, "网格": f"{len(grids)} 个，{ok} 个户数在范围内或豁免"}
    return {**lines, "grids": f"{len(grids)}, {ok} within their household range or exempt"}


def _with_sites(
    lines: dict[str, str], sites: gpd.GeoDataFrame | None, *, lang: str
) -> dict[str, str]:
    """Add a line for suggested sites (``coverage_share`` after the last one)."""
    if sites is None or len(sites) == 0 or "coverage_share" not in sites.columns:
        return lines
    after = float(sites["coverage_share"].iloc[-1])
    n = len(sites)
    if lang == "zh":
        return {**lines, "建议选址": f"{n} 处，建成后覆盖 {after:.1%}"}
    return {**lines, "suggested sites": f"{n}, coverage {after:.1%} once built"}


def write_gap_maps(
    folder: Path,
    *,
    stem: str = "gap_map",
    png: bool = True,
    protect: list[Path] | None = None,
    **kwargs: Any,
) -> list[Path]:
    """Write the offline HTML gap map (and a static PNG) into ``folder``."""
    from geoplan.render import save_html, static_gap_map

    m = coverage_gap_map(**kwargs)
    paths = [save_html(m, folder / f"{stem}.html")]
    if png:
        cov, fa = kwargs.get("coverage"), kwargs.get("floor_area")
        category = kwargs.get("category") or (headline_category(cov) if cov is not None else None)
        buildings = cov.table if cov is not None else None
        if buildings is not None and category and f"covered__{category}" not in buildings:
            category = None
        out = folder / f"{stem}.png"
        static_gap_map(
            out,
            communities=fa.table if fa is not None else None,
            buildings=buildings if category else None,
            facilities=(
                relevant_facilities(kwargs["facilities"], category=category, floor_area=fa)
                if kwargs.get("facilities") is not None
                else None
            ),
            title=kwargs.get("title") or map_title(category, lang=kwargs.get("lang", "zh")),
            summary=summary_lines(cov, fa, lang=kwargs.get("lang", "zh")),
            lang=kwargs.get("lang", "zh"),
            category=category,
        )
        paths.append(out)
    return paths

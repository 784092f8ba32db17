"""Gap maps from audit results, for the commands and the reports: the coverage
map (``coverage``, ``map`` and ``demo``: ``coverage_gap_map``, ``write_gap_maps``)
and a development report's map (``map_html``, ``write_static_map``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypedDict, Unpack

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.report.texts import phrase, verdict_text

if TYPE_CHECKING:
    import folium

    from geoplan.audit.results import AuditResult
    from geoplan.network import WalkNetwork


class SavedResult(Protocol):
    """What a coverage or floor-area gap map reads of an audit: an
    :class:`~geoplan.audit.results.AuditResult`, or the outputs of one that
    ``geoplan map`` reads back from its folder."""

    @property
    def table(self) -> pd.DataFrame: ...
    @property
    def findings(self) -> pd.DataFrame: ...
    @property
    def summary(self) -> Mapping[str, Any]: ...
    @property
    def profile(self) -> str: ...
    @property
    def parameters(self) -> Mapping[str, Any]: ...


def category_name(category: str, lang: str) -> str:
    """The category's name in ``lang`` (its id when the category table lacks it)."""
    from geoplan.categories import list_categories

    table = list_categories()
    if category in table.index:
        return str(table.loc[category, "zh" if lang == "zh" else "en"])
    return category


def _in_profile_order(coverage: SavedResult) -> dict[str, Any]:
    """The summary's targets in the profile's order (saved JSON sorts its keys), so a
    map redrawn from saved results shows the same first layer as the live one."""
    targets = dict(coverage.summary.get("targets", {}))
    prof = _load_profile(getattr(coverage, "profile", None))
    if prof is None:
        return targets
    order = [t.id for t in prof.targets if t.id in targets]
    return {**{k: targets[k] for k in order}, **targets}


def headline_category(coverage: SavedResult, *, with_groups: bool = False) -> str | None:
    """The category a coverage map shows: the first single-category target's; with
    ``with_groups``, a profile without one (GB 50180) shows its first target over
    several categories (its id); else wet market."""
    targets = _in_profile_order(coverage)
    for info in targets.values():
        if len(info.get("categories", [])) == 1:
            return str(info["categories"][0])
    if with_groups:
        for tid, info in targets.items():
            if len(info.get("categories", [])) > 1 and f"{tid}__pass" in coverage.table.columns:
                return str(tid)
    cats = list(coverage.summary.get("coverage", {}))
    return "wet_market" if "wet_market" in cats else (cats[0] if cats else None)


def summary_lines(
    coverage: SavedResult | None, floor_area: SavedResult | None, *, lang: str
) -> dict[str, str]:
    """Label -> text for the map's summary panel."""
    zh = lang == "zh"
    out: dict[str, str] = {}
    if coverage is not None:
        from geoplan.categories import group_name
        from geoplan.profiles import load_profile

        prof = load_profile(coverage.profile)
        for tid, info in coverage.summary.get("targets", {}).items():
            t = prof.target(tid)
            share = info.get("households_share")
            if share is None:
                continue
            cats = info.get("categories", [])
            label = (
                category_name(cats[0], lang)
                if len(cats) == 1
                else group_name(t.group, lang) or (t.description_zh if zh else t.description_en)
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
            cause = info.get("zero_cause")
            if cause:  # a 0.0% never goes out without its cause
                text += f"（{cause['zh']}）" if zh else f" ({cause['en']})"
            out[f"{label}{'覆盖率' if zh and len(cats) == 1 else ''}"] = text
            if len(out) >= 6:
                break
        if coverage.summary.get("households_estimated_share"):
            from geoplan.households import describe_households

            # the shares above rest on estimated households: the panel says so
            key = "户数" if zh else "Households"
            out[key] = describe_households(coverage.summary, lang=lang).split("；" if zh else "; ")[
                0
            ]
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
    facilities: gpd.GeoDataFrame,
    *,
    category: str | None,
    floor_area: SavedResult | None,
    also: list[str] | tuple[str, ...] = (),
) -> gpd.GeoDataFrame:
    """The facilities a gap map should show: the mapped category (and ``also``,
    the other failing categories) and, with a floor-area audit, the community
    service facilities. Hundreds of unrelated shops only hide the gap."""
    keep: set[str] = set(also)
    if category is not None:
        keep.add(category)
    if floor_area is not None:
        keep.update(floor_area.parameters.get("service_facility_categories", ()))
    if not keep:
        return facilities
    return facilities[facilities["category"].isin(keep)]


def map_title(category: str | None, *, lang: str, label: str | None = None) -> str:
    """Default map title (``label``: the name of a target over several categories)."""
    zh = lang == "zh"
    if category is None:
        return "社区服务设施缺口图" if zh else "Community service gaps"
    if label:
        return f"步行可达缺口图：{label}" if zh else f"Walking access gaps: {label}"
    name = category_name(category, lang)
    return f"{name}步行可达缺口图" if zh else f"Walking access gaps: {name}"


_AREA_MEASURES = ("area_per_100_households", "area_total")


def _load_profile(name: str | None) -> Any | None:
    from geoplan.profiles import load_profile

    try:
        return load_profile(str(name))
    except Exception:  # a derived profile file no longer at hand: ids instead of texts
        return None


def community_checks(
    floor_area: SavedResult, *, lang: str
) -> tuple[list[list[str]], dict[str, str]]:
    """The community layers of a floor-area gap map, and the checks' names.

    The first layer holds the service floor area checks together (the urban
    per-100-households target and the village minimum), so every community has
    its colour; each other community check that fails somewhere gets a layer.
    """
    table = floor_area.table
    ids = [c[: -len("__pass")] for c in table.columns if str(c).endswith("__pass")]
    prof = _load_profile(floor_area.profile)
    labels: dict[str, str] = {}
    area: list[str] = []
    for cid in ids:
        t = None
        if prof is not None:
            try:
                t = prof.target(cid)
            except Exception:  # not a target of this profile (renamed): its id
                t = None
        if t is not None:
            labels[cid] = str(t.description_zh if lang == "zh" else t.description_en)
            if t.measure in _AREA_MEASURES:
                area.append(cid)
    if not area and "service_area_per_100_households" in ids:
        area = ["service_area_per_100_households"]
    failing = [
        c
        for c in ids
        if c not in area and bool((table[f"{c}__pass"] == False).any())  # noqa: E712
    ]
    layers = ([area] if area else []) + [[c] for c in failing]
    if not layers and ids:
        layers = [[ids[0]]]
    return layers, labels


def community_texts(floor_area: SavedResult, *, lang: str) -> dict[str, Any]:
    """Per check, the fact sentence of each community (index: community id)."""

    f = getattr(floor_area, "findings", None)
    if f is None or len(f) == 0 or "text_zh" not in f.columns:
        return {}
    f = f[f["scope"] != "facility"]
    col = "text_zh" if lang == "zh" else "text_en"
    index = [str(i) for i in floor_area.table.index]
    out: dict[str, Any] = {}
    for cid, grp in f.groupby("check_id", sort=False):
        by_id = dict(zip(grp["entity_id"].astype(str), grp[col], strict=True))
        out[str(cid)] = pd.Series(
            [by_id.get(i) for i in index], index=floor_area.table.index, dtype=object
        )
    return out


def failing_categories(coverage: SavedResult) -> list[str]:
    """Categories of the single-category coverage targets that fail somewhere."""
    checks = coverage.summary.get("checks", {})
    out: list[str] = []
    for tid, info in _in_profile_order(coverage).items():
        cats = info.get("categories", [])
        if len(cats) == 1 and (checks.get(tid) or {}).get("failed", 0) > 0 and cats[0] not in out:
            out.append(str(cats[0]))
    return out


def group_targets(coverage: SavedResult, *, lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Coverage targets over several categories (GB 50180 life-circle levels, the
    MOFCOM basic and quality groups) as map layers: ``covered__<target id>``
    columns (a building is covered when it reaches every category of the target)
    and each target's text as its layer name.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> cov = SimpleNamespace(profile="gb50180-2018",
    ...     table=pd.DataFrame({"life_circle_15min_walk__pass": [True, False]}),
    ...     summary={"targets": {"life_circle_15min_walk": {
    ...         "categories": ["elderly_care", "dining"]}}})
    >>> cols, labels = group_targets(cov, lang="zh")
    >>> cols["covered__life_circle_15min_walk"].tolist(), labels["life_circle_15min_walk"]
    ([True, False], '十五分钟生活圈居住区配套设施步行距离不超过1000米')
    """
    prof = _load_profile(getattr(coverage, "profile", None))
    columns: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for tid, info in _in_profile_order(coverage).items():
        col = f"{tid}__pass"
        if len(info.get("categories", [])) < 2 or col not in coverage.table.columns:
            continue
        columns[f"covered__{tid}"] = coverage.table[col].astype("boolean")
        label = tid
        if prof is not None:
            try:
                t = prof.target(tid)
                label = str(t.description_zh if lang == "zh" else t.description_en)
            except Exception:  # a target the profile no longer has: its id
                label = tid
        labels[tid] = label
    return columns, labels


def network_lines(
    network: WalkNetwork | gpd.GeoDataFrame | gpd.GeoSeries | None,
) -> gpd.GeoSeries | None:
    """Street lines of a WalkNetwork (or a line layer) for drawing."""
    if network is None:
        return None
    if isinstance(network, gpd.GeoDataFrame | gpd.GeoSeries):
        return network.geometry if isinstance(network, gpd.GeoDataFrame) else network
    return gpd.GeoSeries(network.geometry, crs=network.crs)


def city_network_lines(
    network: WalkNetwork | gpd.GeoDataFrame | gpd.GeoSeries | None, *, lang: str
) -> tuple[gpd.GeoSeries | None, str | None]:
    """The street lines a city-scale gap map draws, and its note about them.

    A network that fits the map's vertex budget is drawn whole (no note). A larger
    one is drawn by its arterial roads (``highway`` in
    :data:`~geoplan.render.city_layers.ARTERIAL_HIGHWAYS`); without road classes (a
    line layer) it is not drawn. Merged with numpy; a network of straight edges makes
    no geometry per edge (their vertices are its arrays).
    """
    from geoplan.render.city_layers import arterial_edges, network_note
    from geoplan.render.network_layers import (
        DEFAULT_NETWORK_MAX_VERTICES,
        simplified_edges,
        simplified_network,
    )

    if network is None:
        return None, None
    geo = network.geometry if isinstance(network, gpd.GeoDataFrame) else network
    total = len(geo) if isinstance(geo, gpd.GeoSeries) else geo.n_edges
    classes = None if isinstance(geo, gpd.GeoSeries) else geo.highway
    if isinstance(network, gpd.GeoDataFrame) and "highway" in network.columns:
        classes = network["highway"].to_numpy(dtype=object)
    if 2 * total <= DEFAULT_NETWORK_MAX_VERTICES:
        return network_lines(network), None
    major = arterial_edges(classes, total)
    note = network_note(total_edges=total, drawn_edges=int(major.sum()), lang=lang)
    if not major.any():
        return None, note
    # merged (with numpy) and simplified once here, for the HTML and the PNG
    if isinstance(geo, gpd.GeoSeries):
        return simplified_network(gpd.GeoSeries(geo.values[major], crs=geo.crs), chains=True), note
    coords = geo.edge_coordinates()
    if len(coords) != 2 * total:  # curved edges: their LineStrings are needed
        lines = gpd.GeoSeries(geo.geometry[major], crs=geo.crs)
        return simplified_network(lines, chains=True), note
    ends = coords.reshape(total, 2, 2)[major].reshape(-1, 2)  # straight: no object per edge
    starts = np.arange(0, len(ends) + 1, 2)
    return simplified_edges(ends, starts, geo.u[major], geo.v[major], crs=geo.crs), note


class GapMapOptions(TypedDict, total=False):
    """What a gap map is drawn from (every key optional; see :func:`coverage_gap_map`).

    ``coverage`` / ``floor_area``: saved or fresh audit results; ``facilities``: the
    facilities layer; ``category``: the category mapped (default: the headline one);
    ``title``; ``lang`` (``"zh"`` or ``"en"``); ``tiles``: a tile URL template (default:
    none, the map opens offline); ``sites``: suggested sites; ``grids``: management
    grids; ``network``: the walking network or a line layer, drawn under the rest.
    """

    coverage: SavedResult | None
    floor_area: SavedResult | None
    facilities: gpd.GeoDataFrame | None
    category: str | None
    title: str | None
    lang: str
    tiles: str | None
    sites: gpd.GeoDataFrame | None
    grids: gpd.GeoDataFrame | None
    network: WalkNetwork | gpd.GeoDataFrame | gpd.GeoSeries | None


@dataclass(frozen=True)
class _GapMap:
    """What the HTML gap map and its PNG show, derived once from the results."""

    html: dict[str, Any]
    png: dict[str, Any]


def _gap_map_content(
    *,
    coverage: SavedResult | None = None,
    floor_area: SavedResult | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    category: str | None = None,
    title: str | None = None,
    lang: str = "zh",
    tiles: str | None = None,
    sites: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    network: WalkNetwork | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> _GapMap:
    """The layers of a gap map: the interactive map has every failing check, the
    PNG the headline category and the first community check."""
    zh = lang == "zh"
    buildings = communities = unreachable = png_buildings = None
    extra_cats: list[str] = []
    groups: dict[str, Any] = {}
    group_labels: dict[str, str] = {}
    if coverage is not None:
        groups, group_labels = group_targets(coverage, lang=lang)
        category = category or headline_category(coverage, with_groups=True)
        extra_cats = [c for c in failing_categories(coverage) if c != category]
        extra_cats += [
            tid
            for tid in group_labels
            if tid != category and bool((groups[f"covered__{tid}"] == False).any())  # noqa: E712
        ]
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
        buildings = gpd.GeoDataFrame(
            coverage.table[[*keep, "geometry"]].assign(**groups), crs=coverage.table.crs
        )
        png_buildings = coverage.table.assign(**groups) if groups else coverage.table
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
    layers: list[list[str]] = []
    labels: dict[str, str] = {}
    texts: dict[str, Any] = {}
    if floor_area is not None:
        communities = floor_area.table
        layers, labels = community_checks(floor_area, lang=lang)
        texts = community_texts(floor_area, lang=lang)
    # the PNG has one category: the headline one, when the buildings have it
    png_category = category
    if png_buildings is not None and category and f"covered__{category}" not in png_buildings:
        png_category = None
    html_facilities = png_facilities = None
    if facilities is not None:
        # a target over several categories shows the facilities of its categories
        members = (
            list(coverage.summary.get("targets", {}).get(category, {}).get("categories", []))
            if coverage is not None and category in group_labels
            else []
        )
        html_facilities = relevant_facilities(
            facilities, category=category, floor_area=floor_area, also=[*extra_cats, *members]
        )
        png_facilities = relevant_facilities(
            facilities, category=png_category, floor_area=floor_area
        )
    summary = summary_lines(coverage, floor_area, lang=lang)
    check_label = _area_label(lang) if layers and len(layers[0]) > 1 else None
    from geoplan.render.city_layers import is_city_scale

    # a city's map (more features than a page holds) is drawn at city scale, the HTML
    # and the PNG alike; its network is then its arterial roads, or left out
    city = is_city_scale(communities, buildings, html_facilities, unreachable, sites, grids)
    notes: list[str] = []
    if city:
        streets, note = city_network_lines(network, lang=lang)
        notes += [note] if note else []
    else:
        streets = network_lines(network)
    scale: dict[str, Any] = {"city_scale": True, "notes": notes} if city else {}
    html = {
        "communities": communities,
        "buildings": buildings,
        "facilities": html_facilities,
        "unreachable": unreachable,
        "sites": sites,
        "grids": grids,
        "title": title or map_title(category, lang=lang, label=group_labels.get(category or "")),
        "summary": _with_grids(_with_sites(summary, sites, lang=lang), grids, lang=lang),
        "lang": lang,
        "tiles": tiles,
        "category": category,
        "network": streets,
        "community_checks": layers or None,
        "check_label": check_label,
        "check_labels": labels,
        "check_texts": texts,
        "failing_categories": extra_cats,
        "category_labels": group_labels,
        **scale,
    }
    png = {
        "communities": communities,
        "buildings": png_buildings if png_category else None,
        "facilities": png_facilities,
        "sites": sites,
        "title": title
        or map_title(png_category, lang=lang, label=group_labels.get(png_category or "")),
        "summary": summary,
        "lang": lang,
        "category": png_category,
        "check": layers[0] if layers else "service_area_per_100_households",
        "check_label": check_label,
        "network": streets,
        "category_label": group_labels.get(png_category or ""),
        **scale,
    }
    return _GapMap(html=html, png=png)


def coverage_gap_map(**options: Unpack[GapMapOptions]) -> folium.Map:
    """A folium gap map from a coverage and/or floor-area AuditResult (and, when
    given, suggested sites, management grids and the walking network).

    Every failing check has a layer: the service floor area of every community
    (villages included), each other failing community check, and the buildings
    not covered by each failing category (switchable, off when the map opens).
    """
    from geoplan.render import gap_map

    return gap_map(**_gap_map_content(**options).html)


def _area_label(lang: str) -> str:
    return "社区综合服务设施面积" if lang == "zh" else "community service floor area"


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


#: The gap map's file name (without suffix), the same for every command that
#: draws one (``coverage``, ``demo``, ``map``): ``gap_map.html`` and ``gap_map.png``.
GAP_MAP_STEM = "gap_map"


def write_gap_maps(
    folder: Path,
    *,
    stem: str = GAP_MAP_STEM,
    png: bool = True,
    **options: Unpack[GapMapOptions],
) -> list[Path]:
    """Write the offline HTML gap map (and a static PNG) into ``folder``; the other
    keywords as :func:`coverage_gap_map`."""
    return write_gap_map_files(folder / f"{stem}.html", png=png, **options)


def write_gap_map_files(
    html: Path, *, png: bool = True, **options: Unpack[GapMapOptions]
) -> list[Path]:
    """Write the gap map to ``html`` (and a PNG beside it, from the same layers, drawn
    in a forked process meanwhile: :class:`~geoplan.render.forked.Forked`); the other
    keywords as :func:`coverage_gap_map`."""
    from geoplan.render import gap_map, save_html
    from geoplan.render.forked import Forked

    def draw_png() -> Path:  # matplotlib is imported where the PNG is drawn
        from geoplan.render import static_gap_map

        return static_gap_map(html.with_suffix(".png"), **content.png)

    content = _gap_map_content(**options)
    if not png:
        return [save_html(gap_map(**content.html), html)]
    with Forked(draw_png) as drawn:
        return [save_html(gap_map(**content.html), html), drawn.result()]


_FOLIUM_ID = re.compile(r"(?<=_)([0-9a-f]{32})(?![0-9a-f])")


def _headline(result: AuditResult) -> tuple[str | None, str | None]:
    """(category, community check) the map shows: the worst access gap, the first failure."""
    b = result.extra.get("buildings")
    category = None
    if b is not None:
        hh = b["households"].astype(float) if "households" in b.columns else None
        missing: dict[str, float] = {}
        for col in sorted(c for c in b.columns if str(c).startswith("covered__")):
            cat = str(col).removeprefix("covered__")
            missing[cat] = float(hh[~b[col].astype(bool)].sum()) if hh is not None else 0.0
        # wet markets are the headline service when they leave anyone out (or all is well)
        if missing.get("wet_market", 0.0) > 0 or (
            "wet_market" in missing and max(missing.values()) <= 0
        ):
            category = "wet_market"
        elif missing:
            category = max(sorted(missing), key=lambda c: missing[c])
    table = result.table
    check = None
    checks = result.extra["checks"]
    for row in checks.itertuples():
        if f"{row.check_id}__pass" in table.columns and (check is None or row.passed is False):
            check = str(row.check_id)
            if row.passed is False:
                break
    return category, check


def _stable_ids(text: str) -> str:
    """Replace folium's random element ids by counters (byte-identical reruns)."""
    seen: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in seen:
            seen[key] = f"{len(seen):032d}"
        return seen[key]

    return _FOLIUM_ID.sub(sub, text)


def _map_layers(result: AuditResult, lang: str = "zh") -> dict[str, Any]:
    category, check = _headline(result)
    b = result.extra.get("buildings")
    fac = result.extra.get("facilities")
    if fac is not None and b is not None:
        # the plan's own facilities and the nearest existing one of each category
        nearest = set()
        for col in (c for c in b.columns if str(c).startswith("facility_id__")):
            nearest |= {str(v) for v in b[col] if isinstance(v, str)}
        own = fac["origin"].eq("proposed") if "origin" in fac.columns else False
        fac = fac[own | fac.index.astype(str).isin(sorted(nearest))]
    layers: dict[str, Any] = {"facilities": fac}
    if check is not None:
        layers["communities"] = result.table
        layers["check"] = check
        # named by the profile's own text of the target, not its id
        checks = result.extra["checks"]
        row = checks[checks["check_id"] == check]
        if len(row) and isinstance(row[f"description_{lang}"].iloc[0], str):
            layers["check_label"] = row[f"description_{lang}"].iloc[0]
    if category is not None and b is not None:
        keep = [
            c
            for c in ("households", f"covered__{category}", f"walk_min__{category}", "geometry")
            if c in b.columns
        ]
        layers["buildings"] = b[keep]
        layers["category"] = category
    return layers


def map_html(result: AuditResult, *, lang: str = "zh") -> str:
    """The gap map of a development as one self-contained offline HTML page."""
    from geoplan.render import gap_map
    from geoplan.render.offline import offline_html

    name = result.summary["development"]["name"]
    m = gap_map(
        title=f"{name}：{phrase('map', lang)}" if lang == "zh" else f"{name}: gap map",
        summary=_map_summary(result, lang),
        lang=lang,
        fit_facilities=True,  # the nearest existing facility of each category in view
        **_map_layers(result, lang),
    )
    return _stable_ids(offline_html(m))


def _map_summary(result: AuditResult, lang: str) -> dict[str, str]:
    s = result.summary
    return {
        phrase("verdict", lang): verdict_text(bool(result.passed), lang),
        phrase("checks", lang): phrase("summary_line", lang).format(
            p=s["checks_passed"], f=s["checks_failed"], n=s["checks_not_measured"]
        ),
    }


def write_static_map(result: AuditResult, path: Path, lang: str) -> Path:
    from geoplan.render import static_gap_map

    name = result.summary["development"]["name"]
    return static_gap_map(
        path,
        title=name,
        summary=_map_summary(result, lang),
        lang=lang,
        figsize=(8.0, 8.0),
        dpi=110,
        **_map_layers(result, lang),
    )

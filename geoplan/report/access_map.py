"""The access map of ``geoplan access --map``: supply per 100 households per building,
as an offline HTML page (``access_map.html``) and a PNG (``access_map.png``).

Reads the access audit's result (its table, summary and facilities), never the audit
itself; the layer is :func:`geoplan.render.access_layers.access_layer`.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoplan.report.maps import category_name

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.font_manager import FontProperties

    from geoplan.audit.results import AuditResult

__all__ = ["access_map_title", "write_access_map"]


#: The supply a planner reads in a Chinese title (the column name otherwise).
_SUPPLY_ZH = {"floor_area_m2": "建筑面积 m²", "area_m2": "面积 m²", "places": "托位/床位数"}
_DECAY_ZH = {"none": "不计距离衰减", "linear": "线性距离衰减", "gaussian": "高斯距离衰减"}


def access_map_title(summary: dict[str, Any], *, lang: str = "zh") -> str:
    """The map's title: category, per what, walking limit and decay.

    Examples
    --------
    >>> access_map_title({"category": "wet_market", "population": "residents",
    ...     "supply_column": "floor_area_m2", "within_m": 750.0, "decay": "none"}, lang="en")
    'wet market floor_area_m2 per 1,000 residents within 750 m walk (decay none)'
    """
    name = category_name(str(summary["category"]), lang)
    within = summary.get("within_m")
    walk = f"{within:g}" if isinstance(within, int | float) else "-"
    graded = str(summary.get("limit") or "").startswith("catchment:")
    if lang == "zh":
        per = "每百户" if summary["population"] == "households" else "每千人"
        what = _SUPPLY_ZH.get(str(summary["supply_column"]), str(summary["supply_column"]))
        decay = _DECAY_ZH.get(str(summary["decay"]), str(summary["decay"]))
        reach = f"按规模分级的服务半径内（至多 {walk} 米）" if graded else f"步行 {walk} 米内"
        return f"{reach}可达的{name}{what}（{per}，{decay}）"
    per = "per 100 households" if summary["population"] == "households" else "per 1,000 residents"
    reach = (
        f"within each one's size-graded radius (at most {walk} m)"
        if graded
        else (f"within {walk} m walk")
    )
    return f"{name} {summary['supply_column']} {per} {reach} (decay {summary['decay']})"


def _mark(result: AuditResult) -> tuple[float | None, str]:
    """The first access target's threshold and unit, else the median (None)."""
    for chk in result.summary.get("checks", {}).values():
        thr = chk.get("threshold")
        if isinstance(thr, int | float):
            return float(thr), str(chk.get("unit", ""))
    return None, ""


def _unit(result: AuditResult, unit: str, lang: str) -> str:
    """The value's unit as a planner reads it (m²/千人): the target's, else the column's."""
    from geoplan.profiles._units import unit_label

    if not unit:
        per = (
            "1000 residents"
            if result.summary.get("population") == "residents"
            else "100 households"
        )
        supply = str(result.summary.get("supply_column", ""))
        unit = f"m2/{per}" if supply.endswith("m2") else ""
    return unit_label(unit, lang) if unit else ""


def community_access_table(
    result: AuditResult, communities: gpd.GeoDataFrame | None, *, lang: str = "zh"
) -> tuple[gpd.GeoDataFrame, str, str, pd.Series] | None:
    """The communities with the verdict of the result's first community-scoped target
    (``<check>__pass`` / ``__value`` / ``__threshold`` / ``__shortfall``), the check id,
    its name and each community's fact sentence; None without communities or such a
    target (the map then has no community layer).

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.network import network_from_lines
    >>> from geoplan.audit.access import audit_access
    >>> d = make_sample_district(seed=0)
    >>> r = audit_access(d.buildings, d.facilities, network_from_lines(d.streets),
    ...     category="wet_market", supply_column="floor_area_m2", profile="city-health-check",
    ...     communities=d.communities, within_min=10)
    >>> table, check, name, texts = community_access_table(r, d.communities)
    >>> check, int(table[f"{check}__pass"].eq(True).sum()), texts.iloc[1]
    ('wet_market_floor_area_per_1000', 18, '188.2 m²/千人，应 ≥ 50，达标')
    """
    f = result.findings
    if communities is None or len(communities) == 0 or len(f) == 0:
        return None
    ids = communities.index.astype(str)
    f = f[f["entity_id"].astype(str).isin(set(ids))]
    if len(f) == 0:
        return None
    check = str(f["check_id"].iloc[0])
    one = f[f["check_id"].eq(check)].drop_duplicates("entity_id")
    one = one.set_index(one["entity_id"].astype(str))
    keep = [c for c in ("name", "households") if c in communities.columns]
    table = communities[[*keep, "geometry"]].copy()
    table.index = ids
    for k in ("value", "threshold", "shortfall"):
        table[f"{check}__{k}"] = pd.to_numeric(one[k], errors="coerce").reindex(table.index)
    table[f"{check}__pass"] = one["passed"].reindex(table.index).astype(object)
    table[f"{check}__pass"] = table[f"{check}__pass"].where(table[f"{check}__pass"].notna(), None)
    zh = lang == "zh"
    name = str(one["description_zh" if zh else "description_en"].iloc[0] or check)
    texts = one["text_zh" if zh else "text_en"].reindex(table.index)
    return table, check, name, texts


def write_access_map(
    out_dir: str | os.PathLike[str],
    result: AuditResult,
    *,
    lang: str = "zh",
    protect: Iterable[str | os.PathLike[str]] = (),
    communities: gpd.GeoDataFrame | None = None,
) -> list[Path]:
    """Write ``access_map.html`` (offline: no CDN, no tiles) and ``access_map.png``.

    With ``communities`` (polygons, index ``community_id``), both maps outline them:
    the HTML colours each by its verdict on the access target (tooltip: its figure
    against the target), the PNG names each with its household-weighted mean.

    Examples
    --------
    >>> import tempfile, warnings; warnings.simplefilter("ignore")
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.network import network_from_lines
    >>> from geoplan.audit.access import audit_access
    >>> d = make_sample_district(seed=0)
    >>> r = audit_access(d.buildings, d.facilities, network_from_lines(d.streets),
    ...     category="wet_market", supply_column="floor_area_m2", profile="tianjin-2025",
    ...     within_m=800)
    >>> [p.name for p in write_access_map(tempfile.mkdtemp(), r, lang="en")]
    ['access_map.html', 'access_map.png']
    """
    import folium
    from branca.element import Element

    from geoplan.render import add_legend, base_map, community_layer, facility_layer, save_html
    from geoplan.render._leaflet import esc, figure
    from geoplan.render.access_layers import access_layer
    from geoplan.render.city_layers import city_community_layers, is_city_scale

    folder = Path(out_dir)
    s = result.summary
    column = str(s["column"])
    title = access_map_title(dict(s), lang=lang)
    mark, unit = _mark(result)
    unit_text = _unit(result, unit, lang)
    m = base_map(lang=lang)
    verdicts = community_access_table(result, communities, lang=lang)
    if verdicts is not None:
        table, check, name, texts = verdicts
        what = category_name(str(s["category"]), lang)  # the tooltip's name of the check
        short = {check: f"{what}（{unit_text}）" if lang == "zh" else f"{what} ({unit_text})"}
        if is_city_scale(table, result.table):  # outlines sent once, compact tooltips
            city_community_layers(
                table, checks=[[check]], m=m, lang=lang, check_label=name, check_labels=short
            )
        else:
            community_layer(
                table,
                m=m,
                lang=lang,
                check=check,
                check_label=name,
                check_labels=short,
                texts={check: texts},
            )
    access_layer(
        result.table, column=column, m=m, lang=lang, mark=mark, unit=unit_text, label=title
    )
    fac = result.extra.get("facilities")
    if fac is not None and len(fac):
        facility_layer(fac, m=m, lang=lang, fields=(str(s["supply_column"]), "ratio"))
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    add_legend(m, lang=lang)
    figure(m).html.add_child(
        Element(
            '<div style="position:fixed;top:10px;left:50px;z-index:1000;background:#fff;'
            'padding:4px 8px;font:14px sans-serif;border-radius:4px">'
            f"{esc(title)}</div>"
        ),
        name="geoplan_access_title",
    )
    html = folder / "access_map.html"
    paths = [save_html(m, html)]
    png = folder / "access_map.png"
    paths.append(_write_png(png, result, title, mark, unit_text, lang, protect, communities))
    return paths


#: Above this many communities the PNG outlines them without names (they would overlap).
_NAMED_COMMUNITIES_MAX = 80


def _write_png(
    dest: Path,
    result: AuditResult,
    title: str,
    mark: float | None,
    unit_text: str,
    lang: str,
    protect: Iterable[str | os.PathLike[str]],
    communities: gpd.GeoDataFrame | None,
) -> Path:
    """The same classes as the HTML layer, drawn with matplotlib (points above 20,000);
    communities outlined and, up to :data:`_NAMED_COMMUNITIES_MAX`, named with their
    household-weighted mean."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from geoplan.io.write import write_bytes
    from geoplan.render.access_layers import (
        ACCESS_CLASSES,
        access_classes,
        access_values,
        class_labels,
        mark_heading,
    )
    from geoplan.render.static import cjk_font_properties

    table = result.table
    column = str(result.summary["column"])
    value, hh = access_values(table, column)
    keys, used, kind = access_classes(value, hh, mark)
    font = cjk_font_properties() if lang == "zh" else None
    fig, ax = plt.subplots(figsize=(9, 9), dpi=110)
    geo = table.geometry
    big = len(table) > 20_000
    for k, c in ACCESS_CLASSES.items():
        sel = keys == k
        if not sel.any():
            continue
        part = geo[sel]
        if big or part.geom_type.isin(["Point", "MultiPoint"]).all():
            pts = part.representative_point()
            ax.scatter(pts.x, pts.y, s=2 if big else 8, c=c.fill, edgecolors="none")
        else:
            part.plot(ax=ax, color=c.fill, edgecolor=c.color, linewidth=0.2)
    if communities is not None and len(communities):
        _outline_communities(ax, communities.to_crs(table.crs), result, column, font)
    labels = class_labels(used, lang=lang, kind=kind)
    handles: list[Any] = [
        Patch(facecolor=c.fill, edgecolor=c.color, label=labels[k])
        for k, c in ACCESS_CLASSES.items()
        if (keys == k).any()
    ]
    fac = result.extra.get("facilities")
    if fac is not None and len(fac):
        p = fac.geometry.representative_point()
        ax.scatter(p.x, p.y, s=30, marker="^", c="#253494", edgecolors="white", linewidths=0.5)
        name = category_name(str(result.summary["category"]), lang)
        label = f"{name}（{len(fac)} 处）" if lang == "zh" else f"{name} ({len(fac)})"
        handles.append(
            Line2D([], [], marker="^", linestyle="", color="#253494", markersize=7, label=label)
        )
    head = mark_heading(used, kind, unit_text, lang=lang)
    ax.legend(
        handles=handles, title=head, loc="upper left", bbox_to_anchor=(1.0, 1.0),
        prop=font, title_fontproperties=font,
    )  # fmt: skip
    ax.set_title(title, fontproperties=font)
    ax.set_axis_off()
    ax.set_aspect("equal")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return write_bytes(dest, buf.getvalue(), protect=protect)


def _outline_communities(
    ax: Axes,
    communities: gpd.GeoDataFrame,
    result: AuditResult,
    column: str,
    font: FontProperties | None,
) -> None:
    """Community outlines, and each one's name with its household-weighted mean."""
    from geoplan.render.access_layers import legend_number

    communities.boundary.plot(ax=ax, color="#555555", linewidth=0.6, zorder=3)
    if len(communities) > _NAMED_COMMUNITIES_MAX:
        return
    means = result.extra.get("communities")
    mean = (
        means[f"{column}__mean"]
        if means is not None and f"{column}__mean" in means.columns
        else pd.Series(dtype=float)
    )
    mean.index = mean.index.astype(str)
    at = communities.geometry.representative_point()
    for cid, p in zip(communities.index.astype(str), at, strict=True):
        name = str(communities.loc[cid, "name"]) if "name" in communities.columns else cid
        v = mean.get(cid)
        text = name if v is None or pd.isna(v) else f"{name}\n{legend_number(float(v))}"
        ax.annotate(
            text, (p.x, p.y), ha="center", va="center", fontsize=6.5, zorder=4,
            fontproperties=font, color="#222222",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
        )  # fmt: skip

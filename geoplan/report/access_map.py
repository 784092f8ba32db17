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

if TYPE_CHECKING:
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
    from geoplan.categories import list_categories

    cat = str(summary["category"])
    table = list_categories()
    name = str(table.loc[cat, "zh" if lang == "zh" else "en"]) if cat in table.index else cat
    within = summary.get("within_m")
    walk = f"{within:g}" if isinstance(within, int | float) else "-"
    if lang == "zh":
        per = "每百户" if summary["population"] == "households" else "每千人"
        what = _SUPPLY_ZH.get(str(summary["supply_column"]), str(summary["supply_column"]))
        decay = _DECAY_ZH.get(str(summary["decay"]), str(summary["decay"]))
        return f"步行 {walk} 米内可达的{name}{what}（{per}，{decay}）"
    per = "per 100 households" if summary["population"] == "households" else "per 1,000 residents"
    return (
        f"{name} {summary['supply_column']} {per} within {walk} m walk (decay {summary['decay']})"
    )


def _mark(result: AuditResult) -> tuple[float | None, str]:
    """The first access target's threshold and unit, else the median (None)."""
    for chk in result.summary.get("checks", {}).values():
        thr = chk.get("threshold")
        if isinstance(thr, int | float):
            return float(thr), str(chk.get("unit", ""))
    return None, ""


def write_access_map(
    out_dir: str | os.PathLike[str],
    result: AuditResult,
    *,
    lang: str = "zh",
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write ``access_map.html`` (offline: no CDN, no tiles) and ``access_map.png``.

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

    from geoplan.render import add_legend, base_map, facility_layer, save_html
    from geoplan.render._leaflet import esc, figure
    from geoplan.render.access_layers import access_layer

    folder = Path(out_dir)
    s = result.summary
    column = str(s["column"])
    title = access_map_title(dict(s), lang=lang)
    mark, unit = _mark(result)
    m = base_map(lang=lang)
    access_layer(result.table, column=column, m=m, lang=lang, mark=mark, unit=unit, label=title)
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
    paths.append(_write_png(folder / "access_map.png", result, title, mark, lang, protect))
    return paths


def _write_png(
    dest: Path,
    result: AuditResult,
    title: str,
    mark: float | None,
    lang: str,
    protect: Iterable[str | os.PathLike[str]],
) -> Path:
    """The same classes as the HTML layer, drawn with matplotlib (points above 20,000)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from geoplan.io.write import write_bytes
    from geoplan.render.access_layers import ACCESS_CLASSES, access_classes
    from geoplan.render.static import cjk_font_properties

    table = result.table
    column = str(result.summary["column"])
    value = pd.to_numeric(table[column], errors="coerce").fillna(0.0).to_numpy(float)
    hh = pd.to_numeric(table["households"], errors="coerce").fillna(0.0).to_numpy(float)
    keys, used = access_classes(value, hh, mark)
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
    fac = result.extra.get("facilities")
    if fac is not None and len(fac):
        p = fac.geometry.representative_point()
        ax.scatter(p.x, p.y, s=30, marker="^", c="#253494", edgecolors="white", linewidths=0.5)
    handles = [
        Patch(facecolor=c.fill, edgecolor=c.color, label=c.label(lang))
        for k, c in ACCESS_CLASSES.items()
        if (keys == k).any()
    ]
    mark_text = f"{used:,.2f}"
    if lang == "zh":
        head = f"{'标准' if mark is not None else '住户加权中位数'} {mark_text}"
    else:
        head = f"{'target' if mark is not None else 'household-weighted median'} {mark_text}"
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

"""Static gap maps (matplotlib): PNG or SVG for reports and printed plans.

Same layers, classes, colours and labels as the interactive map (both read
:mod:`geoplan.render._labels`). Drawn in the frames' own metric CRS, without a
base map. Chinese text needs a CJK font. geoplan depends on ``mplfonts``, a
package-index wheel that ships Noto Sans CJK SC (SIL Open Font License 1.1), and
draws with that file, loaded by path at call time: static maps show Chinese on a
fresh pip install, with no system fonts and whatever matplotlib's font cache
holds. Without it, an installed family is looked up (Noto Sans CJK, Source Han
Sans, WenQuanYi, Microsoft YaHei, PingFang); without any, the class labels fall
back to English with a :class:`~geoplan._errors.DataQualityWarning`.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import math
import os
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io.write import write_bytes
from geoplan.render import _labels as lb
from geoplan.render._labels import Lang, StyleClass
from geoplan.render.cells import (
    DEFAULT_AGGREGATE_ABOVE,
    DEFAULT_CELL_M,
    CellGrid,
    adaptive_cell_m,
    building_classes,
    cell_grid,
    cell_shares,
    coverage_cells,
)
from geoplan.render.city_layers import DEFAULT_MAX_FEATURES, feature_count

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from geoplan._types import CRSLike

__all__ = ["cjk_font_properties", "find_cjk_font", "packaged_cjk_font", "static_gap_map"]

_CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
)
_FORMATS = {".png": "png", ".svg": "svg"}
_MAX_SYMBOL_TEXT = 300  # above this many facilities, draw symbols without characters


#: The Noto Sans CJK SC file inside the ``mplfonts`` wheel (its other fonts are not used).
_PACKAGED_CJK_FONT = ("fonts", "NotoSansCJKsc-Regular.otf")


@functools.cache
def packaged_cjk_font() -> Path | None:
    """The Noto Sans CJK SC font file that ships with geoplan's dependencies, or None.

    Found without importing ``mplfonts`` (whose import does work of its own).

    Examples
    --------
    >>> path = packaged_cjk_font()
    >>> path is None or path.name == "NotoSansCJKsc-Regular.otf"
    True
    """
    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder).joinpath(*_PACKAGED_CJK_FONT)
        if path.is_file():
            return path
    return None


def cjk_font_properties() -> FontProperties | None:
    """Font properties that draw Chinese: the packaged font, else an installed one.

    The packaged file is loaded by path, so neither system fonts nor matplotlib's
    font cache (which can be stale: made before a font was installed) matter.

    Examples
    --------
    >>> props = cjk_font_properties()
    >>> props is None or isinstance(props, FontProperties)
    True
    """
    path = packaged_cjk_font()
    if path is not None:
        return FontProperties(fname=path)
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for family in _CJK_FAMILIES:
        if family in installed:
            return FontProperties(family=[family, "DejaVu Sans"])
    return None


def find_cjk_font() -> str | None:
    """The family name of the font static maps draw Chinese with, or None.

    Examples
    --------
    >>> name = find_cjk_font()
    >>> name is None or isinstance(name, str)
    True
    """
    props = cjk_font_properties()
    return None if props is None else props.get_name()


def _draw_polygons(
    ax: Axes, geo: gpd.GeoSeries, cls: StyleClass, *, alpha: float, lw: float
) -> None:
    if len(geo) == 0:
        return
    geo.plot(ax=ax, facecolor=cls.fill, edgecolor=cls.color, alpha=alpha, linewidth=lw)


def _draw_cells(
    ax: Axes, grid: CellGrid, sel: np.ndarray, cls: StyleClass, *, alpha: float
) -> None:
    """The selected cells of ``grid`` as one path of squares, without outlines
    (thousands of cells: a patch each would take seconds, a path each a good part
    of one)."""
    side = grid.cell_m
    x0 = grid.ix[sel] * side
    y0 = grid.iy[sel] * side
    corners = [(x0, y0), (x0 + side, y0), (x0 + side, y0 + side), (x0, y0 + side), (x0, y0)]
    xy = np.stack([np.column_stack(c) for c in corners], axis=1).reshape(-1, 2)
    codes = np.tile(
        np.array([MplPath.MOVETO, *[MplPath.LINETO] * 3, MplPath.CLOSEPOLY], MplPath.code_type),
        len(x0),
    )
    one = PathCollection([MplPath(xy, codes)], facecolors=cls.fill, edgecolors="none", linewidths=0)
    one.set_alpha(alpha)
    ax.add_collection(one, autolim=False)  # the limits are set from the frames


def _draw_lines(
    ax: Axes, lines: gpd.GeoSeries, *, color: str, linewidth: float, alpha: float
) -> None:
    """LineStrings as one path (a move to the start of each, then lines) in one
    collection, where a collection of lines makes a path object per line."""
    xy, owner = shapely.get_coordinates(lines.values, return_index=True)
    if len(xy) == 0:
        return
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[np.r_[True, owner[1:] != owner[:-1]]] = MplPath.MOVETO
    one = PathCollection(
        [MplPath(xy, codes)],
        facecolors="none",
        edgecolors=color,
        linewidths=linewidth,
        zorder=2,  # above the cells, as GeoSeries.plot draws lines (a LineCollection)
    )
    one.set_alpha(alpha)
    ax.add_collection(one, autolim=False)  # the limits are set from the frames


def _points(geo: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    values = geo.values
    pts = np.where(shapely.get_type_id(values) == 0, values, shapely.point_on_surface(values))
    return shapely.get_x(pts), shapely.get_y(pts)


def _to(frame: gpd.GeoDataFrame, crs: CRSLike, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{what} must be a GeoDataFrame with geometry", column="geometry")
    if frame.crs is None:
        raise InputError(f"{what} has no CRS: set one before drawing", column="geometry")
    return frame if frame.crs == crs else frame.to_crs(crs)


def static_gap_map(
    path: str | os.PathLike[str],
    *,
    communities: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    service_areas: gpd.GeoDataFrame | None = None,
    unreachable: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    grids: gpd.GeoDataFrame | None = None,
    title: str,
    summary: Mapping[str, str] | None = None,
    lang: str = "zh",
    category: str | None = None,
    check: str | Sequence[str] = "service_area_per_100_households",
    check_label: str | None = None,
    aggregate_above: int = DEFAULT_AGGREGATE_ABOVE,
    cell_m: float = DEFAULT_CELL_M,
    figsize: tuple[float, float] = (10.0, 10.0),
    dpi: int = 150,
    network: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    category_label: str | None = None,
    max_features: int = DEFAULT_MAX_FEATURES,
    city_scale: bool | None = None,
    notes: Sequence[str] = (),
) -> Path:
    """Draw a gap map with matplotlib and write it (atomically) as PNG or SVG.

    Parameters
    ----------
    path
        Output file; ``.png`` or ``.svg``.
    communities, buildings, facilities, service_areas, unreachable, sites, grids
        The same frames as :func:`geoplan.render.gap_map`; any may be None.
    title, summary, lang, category, check, check_label, aggregate_above, cell_m
        As in :func:`geoplan.render.gap_map`; several ``check`` ids colour each
        community by the checks that apply to it (any failing: fail).
    network
        Street lines drawn thin and grey under the buildings.
    category_label
        The buildings' legend name when ``category`` is a target id over several
        categories (``covered__<target id>``), as for :func:`gap_map`.
    max_features, city_scale
        Above ``max_features`` features (rows of every frame, together) the map is
        drawn at city scale, as :func:`geoplan.render.gap_map`: buildings as cells
        (without outlines), facilities as dots sized to their number, the summary
        above them, and a note under the map of what was aggregated. ``city_scale``
        decides instead when not None (a map drawn with its HTML page: the same
        choice for both).
    notes
        Lines printed under the map (city scale, or whenever given).
    figsize, dpi
        Figure size in inches, and resolution of a PNG.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pathlib, geopandas as gpd, shapely
    >>> f = gpd.GeoDataFrame({"category": ["wet_market"]},
    ...     geometry=[shapely.Point(0, 0)], crs=32650)
    >>> out = static_gap_map(pathlib.Path(tempfile.mkdtemp()) / "m.png",
    ...     facilities=f, title="Wet markets", lang="en")
    >>> out.stat().st_size > 0
    True
    """
    language: Lang = lb.validate_lang(lang)
    fmt = _FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError("static maps are written as .png or .svg", file=str(path))
    cjk = cjk_font_properties()
    if cjk is None and language == "zh":
        warnings.warn(
            "no CJK font found (reinstall geoplan to get mplfonts, or install "
            "fonts-noto-cjk): drawing the static map with English labels",
            DataQualityWarning,
            stacklevel=2,
        )
        language = "en"
    font = cjk if cjk is not None else FontProperties(family=["DejaVu Sans"])
    frames = [
        f
        for f in (communities, buildings, facilities, service_areas, unreachable, sites, grids)
        if f is not None
    ]
    if not frames:
        raise InputError("static_gap_map needs at least one layer")
    crs = frames[0].crs
    city = feature_count(*frames) > max_features if city_scale is None else city_scale
    captions = list(notes)

    fig = Figure(figsize=figsize, dpi=dpi)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles: list[Artist] = []

    def square(cls: StyleClass, label: str | None = None, alpha: float = 0.85) -> None:
        handles.append(
            Patch(
                facecolor=cls.fill,
                edgecolor=cls.color,
                alpha=alpha,
                label=label or cls.label(language),
            )
        )

    def circle(color: str, edge: str, label: str, marker: str = "o", size: float = 9) -> None:
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker=marker,
                markersize=size,
                markerfacecolor=color,
                markeredgecolor=edge,
                label=label,
            )
        )

    if grids is not None:
        g = _to(grids, crs, "grids")
        cls = lb.GRID_CLASS
        g.boundary.plot(ax=ax, color=cls.color, linewidth=1.2, linestyle="--")
        handles.append(Line2D([], [], color=cls.color, linestyle="--", label=cls.label(language)))

    if communities is not None:
        c = _to(communities, crs, "communities")
        ids = [check] if isinstance(check, str) else list(check)
        cols = [f"{k}__pass" for k in ids if f"{k}__pass" in c.columns]
        if not cols:
            col = f"{ids[0]}__pass"
            raise InputError(f"communities has no column {col!r}", column=col)
        keys = np.array([_community_key(c.loc[i, cols]) for i in c.index], dtype=object)
        for key, cls in lb.COMMUNITY_CLASSES.items():
            sel = keys == key
            if sel.any():
                _draw_polygons(ax, c.geometry[sel], cls, alpha=0.35, lw=2.0)
                name = (
                    check_label
                    if check_label is not None
                    else " / ".join(lb.check_label(k, language) for k in ids)
                )
                square(cls, f"{name}: {cls.label(language)}", 0.45)

    if network is not None:
        from geoplan.render.network_layers import simplified_network

        lines = simplified_network(network, chains=city).to_crs(crs)
        if city:  # one path of every line: a city's tens of thousands, drawn as one artist
            _draw_lines(ax, lines, color=lb.NETWORK_CLASS.color, linewidth=0.5, alpha=0.7)
        else:
            lines.plot(ax=ax, color=lb.NETWORK_CLASS.color, linewidth=0.5, alpha=0.7)
        handles.append(
            Line2D([], [], color=lb.NETWORK_CLASS.color, label=lb.NETWORK_CLASS.label(language))
        )

    if service_areas is not None:
        s = _to(service_areas, crs, "service_areas")
        cats = (
            s["category"].astype(object)
            if "category" in s.columns
            else pd.Series("", index=s.index, dtype=object)
        )
        for cat in pd.unique(cats.fillna("")):
            sel = (cats.fillna("") == cat).to_numpy()
            color = lb.category_style(cat).color if cat else lb.SERVICE_AREA_CLASS.color
            s.geometry[sel].plot(ax=ax, facecolor=color, edgecolor=color, alpha=0.15, linewidth=1.0)
            label = lb.text("service_areas", language)
            if cat:
                label += f": {lb.category_style(cat).label(language)}"
            handles.append(Patch(facecolor=color, edgecolor=color, alpha=0.3, label=label))

    if buildings is not None:
        b = _to(buildings, crs, "buildings")
        cat = category
        if cat is None:
            cats_found = [str(x)[9:] for x in b.columns if str(x).startswith("covered__")]
            if len(cats_found) != 1:
                raise InputError(
                    f"buildings have {len(cats_found)} covered__<category> columns: pass category=",
                    column="covered__*",
                )
            cat = cats_found[0]
        col = f"covered__{cat}"
        if col not in b.columns:
            raise InputError(f"buildings has no column {col!r}", column=col)
        if city:
            side = adaptive_cell_m(b, cell_m=cell_m)
            grid = cell_grid(b, cell_m=side)
            classes = cell_shares(grid, b, cat).cls
            for key, cls in lb.CELL_CLASSES.items():
                sel = classes == key
                if sel.any():
                    _draw_cells(ax, grid, sel, cls, alpha=0.75)
                    square(cls)
            captions.insert(
                0,
                lb.text("note_cells", language).format(
                    n=f"{len(b):,}", cell=f"{side:g}", cells=f"{len(grid):,}"
                ),
            )
        elif len(b) > aggregate_above:
            cells = coverage_cells(b, category=cat, cell_m=adaptive_cell_m(b, cell_m=cell_m))
            for key, cls in lb.CELL_CLASSES.items():
                sel = (cells["cls"] == key).to_numpy()
                if sel.any():
                    _draw_polygons(ax, cells.geometry[sel], cls, alpha=0.75, lw=0.3)
                    square(cls)
        else:
            keys = building_classes(b, cat)
            is_point = shapely.get_type_id(b.geometry.values) == 0
            for key, cls in lb.BUILDING_CLASSES.items():
                sel = keys == key
                if not sel.any():
                    continue
                name = category_label or lb.category_style(cat).label(language)
                label = f"{name}: {cls.label(language)}"
                poly = sel & ~is_point
                if poly.any():
                    _draw_polygons(ax, b.geometry[poly], cls, alpha=0.85, lw=0.3)
                pts = sel & is_point
                if pts.any():
                    x, y = _points(b.geometry[pts])
                    ax.scatter(x, y, s=6, c=cls.fill, edgecolors=cls.color, linewidths=0.3)
                if poly.any():
                    square(cls, label)
                else:
                    circle(cls.fill, cls.color, label, size=5)

    if unreachable is not None:
        u = _to(unreachable, crs, "unreachable")
        cls = lb.UNREACHABLE_CLASS
        x, y = _points(u.geometry)
        ax.scatter(x, y, s=22, c=cls.fill, edgecolors=cls.color, linewidths=1.0, zorder=4)
        circle(cls.fill, cls.color, cls.label(language), size=6)

    if facilities is not None:
        f = _to(facilities, crs, "facilities")
        if "category" not in f.columns:
            raise InputError("facilities has no column 'category'", column="category")
        cats = f["category"].astype(object).fillna("")
        x, y = _points(f.geometry)
        with_text = len(f) <= _MAX_SYMBOL_TEXT
        size, edge = 110.0, 1.0
        if city and not with_text:  # thousands of symbols would hide every cell
            size = float(np.clip(110.0 * _MAX_SYMBOL_TEXT / len(f), 6.0, 110.0))
            edge = 0.3
        for cat in sorted(pd.unique(cats)):
            style = lb.category_style(cat)
            sel = (cats == cat).to_numpy()
            ax.scatter(
                x[sel], y[sel], s=size, c=style.color, edgecolors="white", linewidths=edge, zorder=5
            )
            if with_text:
                for xi, yi in zip(x[sel], y[sel], strict=True):
                    ax.text(
                        xi,
                        yi,
                        style.char(language),
                        color="white",
                        fontsize=6.5,
                        ha="center",
                        va="center",
                        fontproperties=font,
                        fontweight="bold",
                        zorder=6,
                    )
            circle(style.color, "white", style.label(language))

    if sites is not None:
        st = _to(sites, crs, "sites")
        cls = lb.SITE_CLASS
        x, y = _points(st.geometry)
        ax.scatter(x, y, s=200, marker="*", c=cls.fill, edgecolors=cls.color, zorder=7)
        circle(cls.fill, cls.color, cls.label(language), marker="*", size=13)

    ax.set_title(_wrap(title, 72), fontproperties=font, fontsize=15, fontweight="bold")
    for handle in handles:  # long target texts as legend entries stay inside the figure
        handle.set_label(_wrap(str(handle.get_label()), _LEGEND_WIDTH))
    if handles:
        legend = ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            prop=font,
            fontsize=8,
            title=lb.text("legend", language),
            framealpha=0.9,
        )
        legend.get_title().set_fontproperties(font)
    if summary:
        lines = "\n".join(_wrap(f"{k} {v}", _SUMMARY_WIDTH) for k, v in summary.items())
        box = ax.text(
            0.01,
            0.99,
            lines,
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontproperties=font,
            fontsize=10,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.9, "edgecolor": "#999"},
        )
        if city:  # over the facilities' dots
            box.set_zorder(10)
    if captions:
        ax.text(
            0.0,
            -0.01,
            "\n".join(_wrap(line, _CAPTION_WIDTH) for line in captions),
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontproperties=font,
            fontsize=8,
            color="#444444",
        )
    xmin, ymin, xmax, ymax = _total_bounds(frames, crs)
    if all(math.isfinite(v) for v in (xmin, ymin, xmax, ymax)):
        pad = max(xmax - xmin, ymax - ymin, 1.0) * 0.03
        ax.set_xlim(xmin - pad, xmax + pad)
        ax.set_ylim(ymin - pad, ymax + pad)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        if cjk is None:
            # Already warned once above; user text (title, names) may still hold CJK.
            warnings.filterwarnings("ignore", message="Glyph .* missing", category=UserWarning)
        if city and fmt == "png":  # zlib's default level: twice the time for a fifth less
            fig.savefig(buf, format=fmt, bbox_inches="tight", pil_kwargs={"compress_level": 1})
        else:
            fig.savefig(buf, format=fmt, bbox_inches="tight")
    return write_bytes(path, buf.getvalue())


#: Widths, in columns (a Chinese character is two), at which static-map text wraps.
_SUMMARY_WIDTH = 64
_LEGEND_WIDTH = 40
_CAPTION_WIDTH = 110


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` columns (CJK characters count 2).

    Chinese breaks between any two characters; a Latin word or a number is kept
    whole where it fits on a line.

    Examples
    --------
    >>> print(_wrap("十五分钟生活圈居住区配套设施步行距离不超过1000米", 20))
    十五分钟生活圈居住区
    配套设施步行距离不超
    过1000米
    >>> print(_wrap("步行距离不超过1000米", 16))
    步行距离不超过
    1000米
    >>> _wrap("wet market 87%", 40)
    'wet market 87%'
    """

    def cols(c: str) -> int:
        return 2 if unicodedata.east_asian_width(c) in "WF" else 1

    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            if line and sum(map(cols, line)) + cols(ch) > width:
                cut = len(line)
                if cols(ch) == 1 and not ch.isspace():  # keep a word or number whole
                    while cut > 0 and cols(line[cut - 1]) == 1 and not line[cut - 1].isspace():
                        cut -= 1
                    if cut == 0:
                        cut = len(line)
                lines.append(line[:cut].rstrip())
                line = line[cut:].lstrip()
            if line or not ch.isspace():
                line += ch
        lines.append(line)
    return "\n".join(lines)


def _total_bounds(
    frames: list[gpd.GeoDataFrame], crs: CRSLike
) -> tuple[float, float, float, float]:
    boxes = np.array([_to(f, crs, "frame").total_bounds for f in frames], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (
            float(np.nanmin(boxes[:, 0])),
            float(np.nanmin(boxes[:, 1])),
            float(np.nanmax(boxes[:, 2])),
            float(np.nanmax(boxes[:, 3])),
        )


def _community_key(states: pd.Series) -> str:
    """fail when any applicable check fails, pass when all applicable pass, else na."""
    known = [bool(v) for v in states if not pd.isna(v)]
    if not known:
        return "na"
    return "pass" if all(known) else "fail"

"""One area's walking passes: a pure function of the area's inputs (:func:`area_reach`).

A task is given locations and numbers only (:class:`AreaTask`: the area's polygon,
the saved network file, the layers' :class:`~geoplan.areas.sources.LayerSource`,
the coverage audit's search parameters). It reads its own windows, memory-maps the
network and cuts its window, reading only the window's pages of the file
(:func:`geoplan.network.window.network_window_of_file`), and
walks from the area's buildings with :func:`geoplan.audit.coverage.coverage_reach`
(:func:`geoplan.reach.nearest_facilities`, parks walked to their edge), exactly as
the single run walks from them:

- buildings: those whose representative point lies in the area (boundary
  included; the client keeps each building's answer from its first area);
- facilities and gated compounds: those within the walking limit + a margin of
  the area (a walk of at most the limit never reaches farther);
- gates: those within the compounds read (a compound's every gate counts);
- parks (polygons of an ``edge_access_m`` category): in the window when the polygon
  is (a walk within the limit reaches no edge point beyond the window);
- the network: every edge within ``max_snap_m`` + the margin of all these, so
  that each of them snaps to the edge it snaps to in the whole network.

A building farther from every street of the window than the window reaches is
snapped again on the whole network (its ``snap_m`` and component are the whole
network's; it is unreachable in both).
"""

from __future__ import annotations

import ctypes
import gc
import time
import warnings
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import InputError
from geoplan.areas.layout import building_points
from geoplan.areas.sources import LayerSource, read_window
from geoplan.audit.coverage import REACH_COLUMNS, coverage_reach

__all__ = [
    "REACH_BASE",
    "AreaAnswer",
    "AreaTask",
    "area_reach",
    "point_xy",
    "reach_columns",
]

#: The per-building columns of a reach frame before the per-category ones (the audit's).
REACH_BASE = REACH_COLUMNS


@dataclass(frozen=True)
class AreaTask:
    """Everything one area's task needs, by location and number (small to send).

    ``margin_m`` is the safety margin added to the windows (metres, against
    rounding at their edges); ``read_margin_m`` how much wider a user's file is
    asked (see :func:`geoplan.areas.sources.read_window`).
    """

    area_id: str
    area_wkb: bytes
    network: str
    crs_wkt: str
    buildings: LayerSource
    facilities: LayerSource
    compounds: LayerSource | None
    gates: LayerSource | None
    limit_m: float
    max_snap_m: float
    walk_speed_m_per_min: float
    categories: tuple[str, ...]
    margin_m: float = 50.0
    read_margin_m: float = 2000.0


@dataclass(frozen=True, eq=False)
class AreaAnswer:
    """What an area's task gives back.

    ``reach`` is the reach frame of the area's buildings (those whose point lies in
    it), as :func:`geoplan.reach.nearest_facilities` gives it, with a column for
    every category of ``AreaTask.categories``. ``building_xy`` (aligned to it),
    ``facility_ids``, ``facility_xy`` and ``facility_category`` let the client
    check that the task read the layers as it did. ``status`` is ``ok``,
    ``bad_input`` (an :class:`~geoplan._errors.InputError`: the message in
    ``error``) or ``error`` (anything else, set by the engine).
    """

    area_id: str
    status: str = "ok"
    error: str | None = None
    reach: pd.DataFrame | None = None
    building_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    facility_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    facility_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    facility_category: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    window_edges: int = 0
    window_facilities: int = 0
    seconds: float = 0.0


def reach_columns(categories: tuple[str, ...] | list[str]) -> list[str]:
    """The columns of a reach frame, in :func:`geoplan.reach.nearest_facilities`'s order."""
    cols = list(REACH_BASE)
    for c in sorted(categories):
        cols += [f"walk_m__{c}", f"walk_min__{c}", f"facility_id__{c}"]
    return cols


def area_reach(task: AreaTask) -> AreaAnswer:
    """The walking passes of one area (what a worker runs).

    Bad input met on the way (a window that does not read, a network file that
    is not one) comes back as ``status="bad_input"`` with the message; anything
    else raises (the engine retries it, then reports it). Warnings are dropped:
    the client gives the run's own, once.
    """
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answer = _walk(task)
    except InputError as exc:
        return AreaAnswer(
            area_id=task.area_id,
            status="bad_input",
            error=str(exc),
            seconds=time.perf_counter() - start,
        )
    finally:
        _release_memory()
    object.__setattr__(answer, "seconds", time.perf_counter() - start)
    return answer


def _release_memory() -> None:
    """Hand what a task freed back to the system, so the next task starts from the
    worker's floor (glibc keeps freed heap, and a worker's peak would creep up
    task after task: at 1M nodes about 20 MB over 8 tasks). A no-op off glibc."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # pragma: no cover - not glibc
        return
    libc.malloc_trim(0)


def _grow(box: tuple[float, ...] | np.ndarray, by: float) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in box)
    return (x0 - by, y0 - by, x1 + by, y1 + by)


def _union(a: tuple[float, ...], b: np.ndarray) -> tuple[float, float, float, float]:
    if not np.isfinite(b).all():
        return (float(a[0]), float(a[1]), float(a[2]), float(a[3]))
    return (
        min(float(a[0]), float(b[0])),
        min(float(a[1]), float(b[1])),
        max(float(a[2]), float(b[2])),
        max(float(a[3]), float(b[3])),
    )


def _walk(task: AreaTask) -> AreaAnswer:
    from geoplan.network.window import network_file_crs, network_window_of_file

    crs = pyproj.CRS.from_wkt(task.crs_wkt)
    area = shapely.from_wkb(task.area_wkb)
    if area is None or area.is_empty:
        raise InputError(f"area {task.area_id}: empty geometry")
    if not network_file_crs(task.network).equals(crs):
        raise InputError(f"the network is not in the run's CRS ({crs.name})", file=task.network)
    a_box = tuple(float(v) for v in area.bounds)
    margin = float(task.margin_m)

    def read(src: LayerSource, box: tuple[float, ...]) -> gpd.GeoDataFrame:
        return read_window(src, box, crs=crs, read_margin_m=float(task.read_margin_m))

    bld = read(task.buildings, a_box)
    pts = building_points(bld)
    mine = np.zeros(len(bld), dtype=bool)
    ok = ~shapely.is_missing(pts)
    mine[ok] = shapely.intersects(area, pts[ok])
    bld, pts = _as_points(bld[mine], pts[mine]), pts[mine]
    near = _grow(a_box, task.limit_m + margin)
    fac = read(task.facilities, near)
    comp = gates = None
    reach_box = near
    if task.compounds is not None:
        comp = read(task.compounds, near)
        if len(comp):
            reach_box = _union(near, comp.total_bounds)
        else:
            comp = None
    if task.gates is not None and comp is not None:
        gates = read(task.gates, reach_box)
    # only the window's pages of the mapped file are read (not the whole network's)
    win = network_window_of_file(task.network, reach_box, halo_m=task.max_snap_m + margin)
    cats = tuple(task.categories)
    if len(bld) == 0:
        reach = _empty_reach(bld.index, cats)
    else:
        reach = coverage_reach(  # as the single run walks (parks to their edge)
            win,
            bld,
            fac,
            limit_m=task.limit_m,
            max_snap_m=task.max_snap_m,
            walk_speed_m_per_min=task.walk_speed_m_per_min,
            compounds=comp,
            gates=gates,
            jobs=1,
        )
        reach = _far_from_the_window(reach, bld, task)
        reach = _with_every_category(reach, cats)
    fxy = point_xy(building_points(fac)) if len(fac) else np.zeros((0, 2))
    return AreaAnswer(
        area_id=task.area_id,
        reach=reach,
        building_xy=point_xy(pts),
        facility_ids=np.asarray([str(i) for i in fac.index.tolist()], dtype=object),
        facility_xy=fxy,
        facility_category=fac["category"].to_numpy(dtype=object)
        if "category" in fac.columns
        else np.full(len(fac), None, dtype=object),
        window_edges=win.n_edges,
        window_facilities=len(fac),
    )


def _as_points(bld: gpd.GeoDataFrame, pts: np.ndarray) -> gpd.GeoDataFrame:
    """The area's buildings as their points, with no other column: what the walk
    uses of them (it snaps a polygon's ``point_on_surface``, the point of
    :func:`building_points`), without the polygons' memory. An empty or missing
    geometry stays as it is."""
    geoms = np.asarray(bld.geometry.array, dtype=object)
    keep = shapely.is_missing(pts)
    out = np.where(keep, geoms, pts)
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries(out, index=bld.index, crs=bld.crs))


def point_xy(pts: np.ndarray) -> np.ndarray:
    """x, y of each point, NaN where it is missing."""
    out = np.full((pts.size, 2), np.nan)
    ok = ~shapely.is_missing(pts)
    if ok.any():
        out[ok] = shapely.get_coordinates(pts[ok])
    return out


def _far_from_the_window(
    reach: pd.DataFrame, bld: gpd.GeoDataFrame, task: AreaTask
) -> pd.DataFrame:
    """Buildings farther from the window's streets than it reaches: snapped on the whole.

    The window holds every edge within ``limit + max_snap + 2 margin`` of an area
    building; a building whose nearest window edge is farther may have a nearer
    one outside it. It is unreachable either way; its ``snap_m`` and component
    come from the whole network.
    """
    from geoplan.network import load_network, snap_points

    reach_m = task.limit_m + task.max_snap_m + task.margin_m
    far = ~reach["reachable"].to_numpy(dtype=bool) & (reach["snap_m"].to_numpy() > reach_m)
    if not far.any():
        return reach
    net = load_network(task.network)  # the whole, for these few buildings only
    s = snap_points(net, bld[far], max_snap_m=task.max_snap_m)
    del net
    reach = reach.copy()
    pos = np.flatnonzero(far)
    for col, values in (
        ("snap_m", s.snap_m),
        ("component", s.component),
        ("component_nodes", s.component_nodes),
    ):
        arr = reach[col].to_numpy().copy()
        arr[pos] = values
        reach[col] = arr
    return reach


def _with_every_category(reach: pd.DataFrame, cats: tuple[str, ...]) -> pd.DataFrame:
    """Columns for the categories with no facility in the window (nobody reaches them)."""
    n = len(reach)
    extra: dict[str, object] = {}
    for c in cats:
        if f"walk_m__{c}" not in reach.columns:
            extra[f"walk_m__{c}"] = np.full(n, np.inf)
            extra[f"walk_min__{c}"] = np.full(n, np.inf)
            extra[f"facility_id__{c}"] = pd.Series(
                np.full(n, None, dtype=object), index=reach.index, dtype=object
            )
    if extra:
        reach = pd.concat([reach, pd.DataFrame(extra, index=reach.index)], axis=1)
    return reach[reach_columns(cats)]


def _empty_reach(index: pd.Index, cats: tuple[str, ...]) -> pd.DataFrame:
    cols: dict[str, object] = {
        "snap_m": np.zeros(0),
        "reachable": np.zeros(0, dtype=bool),
        "gated": np.zeros(0, dtype=bool),
        "component": np.zeros(0, dtype=np.int64),
        "component_nodes": np.zeros(0, dtype=np.int64),
    }
    for c in sorted(cats):
        cols[f"walk_m__{c}"] = np.zeros(0)
        cols[f"walk_min__{c}"] = np.zeros(0)
        cols[f"facility_id__{c}"] = np.zeros(0, dtype=object)
    return pd.DataFrame(cols, index=index[:0])

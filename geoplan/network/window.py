"""The part of a walking network around an area: :func:`network_window`.

An audit run area by area walks, for each area, on the streets near it only. The
window keeps every edge that comes within the box, whole and in the network's
order, so that the walking distances of the area's buildings are the whole
network's (the argument is in :func:`network_window`).
"""

from __future__ import annotations

import mmap
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pyproj
import shapely

from geoplan._errors import InputError
from geoplan.network._lines import EdgeLines
from geoplan.network._netfile import read_npz
from geoplan.network._segment_grid import SegmentGrid, grid_from_arrays
from geoplan.network.graph import WalkNetwork

__all__ = ["edge_bounds", "network_file_crs", "network_window", "network_window_of_file"]


def network_window(
    network: WalkNetwork, box: Sequence[float], *, halo_m: float = 0.0
) -> WalkNetwork:
    """The network's edges that come within ``box`` grown by ``halo_m``, as a network.

    Parameters
    ----------
    network
        The whole walking network (a loaded ``.npz`` stays memory-mapped: only the
        window's arrays are copied, and no edge geometry of the whole is built).
    box
        ``(minx, miny, maxx, maxy)`` in the network's CRS: an area's bounds.
    halo_m
        Metres added on every side of ``box`` (>= 0).

    Returns
    -------
    WalkNetwork
        Every edge whose geometry comes within the grown box (found with the
        network's snapping grid, then kept when its bounding box meets the grown
        box; edges without a geometry by the box of their nodes), whole, with its length,
        geometry, direction and source ids, in the network's edge order; the nodes
        those edges use, in the network's node order, renumbered from 0. The
        connected components are the whole network's (labels and sizes), so a
        point's ``component`` and ``component_nodes`` and the island warnings of
        :func:`geoplan.network.snap_points` are what the whole network gives, not
        those of the pieces a window cuts.

    Notes
    -----
    **Why distances in the window are the whole network's.** Take a point ``p``
    inside ``box`` and a walk from it that is at most ``L`` long: the access leg to
    the street, the streets walked, the leg to the destination. Every point of that
    walk lies within ``L`` of ``p`` in a straight line, because a straight line is
    never longer than a walk between the same ends (Euclidean distance <= network
    distance). So with ``halo_m >= L`` every edge the walk uses meets the grown box
    and is in the window, whole; the window is a subgraph of the network, so it
    offers no shorter walk either. A shortest walk of at most ``L`` therefore has
    the same length in both, summed over the same edges of the same lengths, and a
    Dijkstra pass bounded by ``L`` gives the same number in floating point too (a
    node's distance is the minimum over its in-neighbours on shortest walks, all of
    which are in the window).

    A destination (a facility) whose walk counts lies within ``L`` of ``p``; it
    must snap to the same edge as in the whole network, and its nearest edge lies
    within ``max_snap_m`` of it (farther, it is unreachable in both). So an area's
    window is its bounds grown by the walking limit + ``max_snap_m`` (+ a margin
    against rounding), and the facilities read for it those within the limit of
    the area. Edges keep the network's relative order, so among equally near edges
    the lowest index wins in both (:func:`geoplan.network.nearest_edges` breaks ties
    so) and a point snaps to the same edge at the same offset.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import LineString
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)]),
    ...     LineString([(5000, 0), (5100, 0)])], crs=32650))
    >>> win = network_window(net, (0, -10, 50, 10), halo_m=60)
    >>> win.n_edges, win.node_id.tolist() == net.node_id[:3].tolist()
    (2, True)
    >>> win.components()[1].tolist()  # each node's component size: the whole network's
    [3, 3, 3]
    """
    return _cut(_Whole.of_network(network), _grown(box, halo_m), _no_release)


def network_window_of_file(
    path: str | os.PathLike[str], box: Sequence[float], *, halo_m: float = 0.0
) -> WalkNetwork:
    """:func:`network_window` of the network saved at ``path``, without loading it whole.

    The same window as ``network_window(load_network(path), box, halo_m=halo_m)``,
    but only the pages of the file the window needs are read (the snapping grid's
    cells around the box, then the window's edges and nodes): loading checks every
    edge of the whole network, which reads most of the file. The window itself is
    checked as any network is. A file without a stored snapping grid (format 1, or
    an incomplete grid) is loaded whole. A file that is not a network file is an
    :class:`InputError`, as for :func:`geoplan.network.load_network`.
    """
    from geoplan.network.graph import load_network

    grown = _grown(box, halo_m)
    try:
        data = read_npz(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a geoplan network file: {exc}", file=str(path)) from exc
    try:
        whole = _Whole.of_file(data)
    except (KeyError, ValueError, IndexError):
        whole = None  # load_network says what is wrong
    if whole is None:
        return _cut(_Whole.of_network(load_network(path)), grown, _no_release)
    try:
        return _cut(whole, grown, _releaser(data))
    except (KeyError, ValueError, IndexError) as exc:
        what = exc.message if isinstance(exc, InputError) else str(exc)
        raise InputError(f"not a geoplan network file ({what})", file=str(path)) from exc


def network_file_crs(path: str | os.PathLike[str]) -> pyproj.CRS:
    """The CRS of the network saved at ``path``, from its header (nothing else is read).

    A file that is not a network file is an :class:`InputError`, as for
    :func:`geoplan.network.load_network` (which reads a file of format 1 here).
    """
    from geoplan.network.graph import load_network

    try:
        data = read_npz(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a geoplan network file: {exc}", file=str(path)) from exc
    version = data.get("format_version")
    wkt = data.get("crs_wkt")
    if version is None or version.shape != () or int(version) != 2 or wkt is None:
        return load_network(path).crs
    try:
        return pyproj.CRS.from_wkt(str(wkt))
    except pyproj.exceptions.CRSError as exc:
        raise InputError(f"not a geoplan network file ({exc})", file=str(path)) from exc


def _grown(box: Sequence[float], halo_m: float) -> tuple[float, float, float, float]:
    if not (np.isfinite(halo_m) and halo_m >= 0):
        raise InputError("halo_m must be a finite number >= 0", column="halo_m")
    try:
        x0, y0, x1, y1 = (float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise InputError(f"box must be (minx, miny, maxx, maxy), not {box!r}") from exc
    if not all(np.isfinite([x0, y0, x1, y1])) or x0 > x1 or y0 > y1:
        raise InputError(f"box must be finite (minx, miny, maxx, maxy), not {box!r}")
    return (x0 - halo_m, y0 - halo_m, x1 + halo_m, y1 + halo_m)


#: Candidate edges whose bounds are computed at a time (bounds the temporaries).
_BOUNDS_CHUNK = 1 << 14


def _cut(
    whole: _Whole, box: tuple[float, float, float, float], release: Callable[[], None]
) -> WalkNetwork:
    """The window of ``whole`` in ``box``; ``release`` drops the file's pages read so far."""
    x0, y0, x1, y1 = box
    rows = _candidates(whole, box)
    release()
    meets = np.zeros(rows.size, dtype=bool)
    for at in range(0, rows.size, _BOUNDS_CHUNK):
        b = _bounds_of(whole, rows[at : at + _BOUNDS_CHUNK])
        meets[at : at + _BOUNDS_CHUNK] = (
            (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
        )
        release()
    return _subnetwork(whole, rows[meets], release)


def _no_release() -> None:
    pass


def _releaser(data: dict[str, np.ndarray]) -> Callable[[], None]:
    """A function dropping the pages of the file's map read so far (they are read
    again from the file if needed): the process then holds the window's pages of
    one array at a time, not every array's. Nothing is written to the map (it is
    copy-on-write, and only read here), so nothing is lost."""
    maps = {id(b): b for b in (_owner(a) for a in data.values()) if isinstance(b, mmap.mmap)}
    if not maps or not hasattr(mmap, "MADV_DONTNEED"):
        return _no_release

    def release() -> None:
        for mm in maps.values():
            mm.madvise(mmap.MADV_DONTNEED)

    return release


def _owner(a: np.ndarray) -> object:
    base: object = a
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return base.obj if isinstance(base, memoryview) else base


@dataclass(frozen=True, eq=False)
class _Whole:
    """What a window is cut from: a network's arrays (a file's stay mapped, unread).

    ``highway`` gives the highway values of some edges; ``grid`` is the snapping
    grid when one is at hand (None: every edge is a candidate).
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    lines: EdgeLines | np.ndarray
    oneway: np.ndarray
    way_id: np.ndarray
    highway: Callable[[np.ndarray], np.ndarray]
    crs: pyproj.CRS
    components: tuple[np.ndarray, np.ndarray]
    grid: SegmentGrid | None

    @property
    def n_edges(self) -> int:
        return int(self.u.size)

    @classmethod
    def of_network(cls, net: WalkNetwork, *, grid: bool = True) -> _Whole:
        lines = net.__dict__["_geometry"]
        segments = net.__dict__.get("_segments") if grid else None
        if grid and segments is None and not isinstance(lines, EdgeLines) and net.n_edges:
            segments = net._segments  # an in-memory network: built once (as snapping does)
        hw = net.highway
        return cls(net.node_id, net.x, net.y, net.u, net.v, net.length_m, lines, net.oneway,
                   net.way_id, lambda sel: hw[sel], net.crs, net._components, segments)  # fmt: skip

    @classmethod
    def of_file(cls, data: dict[str, np.ndarray]) -> _Whole | None:
        """The mapped arrays of a format-2 file with a complete grid, else None.

        Checks what indexes other arrays' ends (cheap); the window is checked whole.
        """
        version = data.get("format_version")
        if version is None or version.shape != () or int(version) != 2:
            return None
        lines = EdgeLines(data["line_coords"], data["line_start"], data["wkb_edge"],
                          data["wkb"], data["wkb_offsets"])  # fmt: skip
        st = lines.start
        if not (st.ndim == 1 and st.size >= 1 and int(st[0]) == 0
                and lines.coords.ndim == 2 and int(st[-1]) == lines.coords.shape[0]):  # fmt: skip
            raise ValueError("the stored edge lines are inconsistent")
        grid = grid_from_arrays(
            {k.removeprefix("grid_"): a for k, a in data.items() if k.startswith("grid_")},
            lines.coords,
            st,
        )
        if not grid.complete:
            return None
        n, e = data["node_id"].shape, data["u"].shape
        if len(n) != 1 or len(e) != 1 or st.size != e[0] + 1 or grid.seg_edge.size == 0:
            raise ValueError("the stored arrays differ in length")
        for key, want in (("x", n), ("y", n), ("component", n), ("component_nodes", n),
                          ("v", e), ("length_m", e), ("oneway", e), ("way_id", e),
                          ("highway_codes", e)):  # fmt: skip
            if data[key].shape != want:
                raise ValueError(f"the stored {key} differs in length")
        codes, values = data["highway_codes"], data["highway_values"]
        lookup = np.empty(values.size + 1, dtype=object)  # code -1: the None at the end
        lookup[: values.size] = values.tolist()

        def highway(sel: np.ndarray) -> np.ndarray:
            c = np.asarray(codes[sel])
            if c.dtype.kind not in "iu" or (
                c.size and (int(c.min()) < -1 or int(c.max()) >= values.size)
            ):
                raise ValueError("highway codes out of range")
            return cast(np.ndarray, lookup[c])

        return cls(data["node_id"], data["x"], data["y"], data["u"], data["v"], data["length_m"],
                   lines, data["oneway"], data["way_id"], highway,
                   pyproj.CRS.from_wkt(str(data["crs_wkt"])),
                   (data["component"], data["component_nodes"]), grid)  # fmt: skip


def _candidates(network: _Whole, box: tuple[float, float, float, float]) -> np.ndarray:
    """Sorted edge positions that include every edge with a point within ``box``.

    From the network's snapping grid (stored in a network file: only the cells
    around the box are read, not every edge's arrays): every straight piece of an
    edge's segments is binned in the cell of its midpoint, at most ``half_piece_m``
    from any of its points, so an edge with a point in the box has a piece whose
    midpoint lies within the box grown by ``half_piece_m`` (one cell more on every
    side against rounding; pieces beyond the grid sit in its border cells, which
    clipping keeps). Edges without segments (no geometry, or kept as WKB) are
    always candidates. Without a complete grid: every edge.
    """
    n = network.n_edges
    grid = network.grid
    if grid is None or not grid.complete:
        return np.arange(n, dtype=np.int64)
    x0, y0, x1, y1 = box
    h, cell = float(grid.half_piece_m), float(grid.cell_m)

    def span(lo: float, hi: float, origin: float, cells: int) -> tuple[int, int]:
        a = np.floor((lo - h - origin) / cell) - 1
        b = np.floor((hi + h - origin) / cell) + 1
        return int(np.clip(a, 0, cells - 1)), int(np.clip(b, 0, cells - 1))

    cx0, cx1 = span(x0, x1, float(grid.x0), int(grid.nx))
    cy0, cy1 = span(y0, y1, float(grid.y0), int(grid.ny))
    nx = int(grid.nx)
    cell_start, e_seg, seg_edge = grid.cell_start, grid.e_seg, grid.seg_edge
    hit = np.zeros(n, dtype=bool)
    for row in range(cy0, cy1 + 1):  # a row's cells hold contiguous entries
        lo, hi = int(cell_start[row * nx + cx0]), int(cell_start[row * nx + cx1 + 1])
        hit[seg_edge[e_seg[lo:hi]]] = True
    edges = np.flatnonzero(hit)
    del hit
    lines = network.lines
    if isinstance(lines, EdgeLines):
        no_segment = np.asarray(lines.wkb_edge, dtype=np.int64)
    else:
        no_segment = np.flatnonzero(np.diff(np.asarray(grid.edge_v)) < 2)
    return np.union1d(edges, no_segment).astype(np.int64, copy=False)


def edge_bounds(network: WalkNetwork) -> np.ndarray:
    """``(n_edges, 4)`` minx, miny, maxx, maxy of each edge's geometry and end nodes.

    A loaded network answers from its stored vertices (no shapely geometry is
    built); an edge without geometry has the box of its two nodes.
    """
    whole = _Whole.of_network(network, grid=False)
    return _bounds_of(whole, np.arange(network.n_edges, dtype=np.int64))


def _bounds_of(network: _Whole, rows: np.ndarray) -> np.ndarray:
    """:func:`edge_bounds` of the edges ``rows`` (sorted positions) only."""
    u, v = network.u[rows], network.v[rows]
    nx, ny = network.x, network.y
    ux, vx, uy, vy = nx[u], nx[v], ny[u], ny[v]
    out = np.column_stack(
        [np.minimum(ux, vx), np.minimum(uy, vy), np.maximum(ux, vx), np.maximum(uy, vy)]
    )
    lines = network.lines
    if isinstance(lines, EdgeLines):
        start = lines.start
        lo = np.asarray(start[rows], dtype=np.int64)
        counts = np.asarray(start[rows + 1], dtype=np.int64) - lo
        has = np.flatnonzero(counts > 0)
        if has.size:  # each edge's stored vertices (non-finite ones only widen the box)
            c = counts[has]
            new = np.zeros(has.size + 1, dtype=np.int64)
            np.cumsum(c, out=new[1:])
            take = np.repeat(lo[has] - new[:-1], c) + np.arange(int(new[-1]))
            coords = np.asarray(lines.coords)[take]
            at = new[:-1]
            for k, (col, fn) in enumerate(((0, np.fmin), (1, np.fmin), (0, np.fmax), (1, np.fmax))):
                out[has, k] = fn(out[has, k], fn.reduceat(coords[:, col], at))
            del coords, take
        odd = np.asarray(lines.wkb_edge, dtype=np.int64)
        at_odd = np.searchsorted(rows, odd)
        inside = at_odd < rows.size
        inside[inside] = rows[at_odd[inside]] == odd[inside]
        if inside.any():  # edges kept as WKB: from their geometry
            wkb_geoms = _wkb_geometries(lines, np.flatnonzero(inside))
            _widen(out, at_odd[inside], shapely.bounds(wkb_geoms))
    elif rows.size:
        _widen(out, np.arange(rows.size), shapely.bounds(lines[rows]))
    return out


def _wkb_geometries(lines: EdgeLines, k: np.ndarray) -> np.ndarray:
    """The geometries of the WKB-kept edges ``lines.wkb_edge[k]`` (None for no bytes)."""
    off = np.asarray(lines.wkb_offsets, dtype=np.int64)
    blob = np.asarray(lines.wkb)
    parts = np.empty(k.size, dtype=object)
    parts[:] = [blob[off[i] : off[i + 1]].tobytes() or None for i in k.tolist()]
    return cast(np.ndarray, shapely.from_wkb(parts))


def _widen(out: np.ndarray, rows: np.ndarray, gb: np.ndarray) -> None:
    """Grow ``out[rows]`` by the geometry boxes ``gb`` (NaN for missing ones)."""
    ok = np.isfinite(gb).all(axis=1)
    r = rows[ok]
    out[r, 0] = np.minimum(out[r, 0], gb[ok, 0])
    out[r, 1] = np.minimum(out[r, 1], gb[ok, 1])
    out[r, 2] = np.maximum(out[r, 2], gb[ok, 2])
    out[r, 3] = np.maximum(out[r, 3], gb[ok, 3])


def _subnetwork(
    net: _Whole, sel: np.ndarray, release: Callable[[], None] = _no_release
) -> WalkNetwork:
    """The edges ``sel`` (sorted positions) and their nodes, renumbered in order."""

    def take(a: np.ndarray, at: np.ndarray) -> np.ndarray:
        out = np.array(a[at])  # a copy, never a view of the file
        release()
        return out

    u = take(net.u, sel).astype(np.int64, copy=False)
    v = take(net.v, sel).astype(np.int64, copy=False)
    nodes = np.unique(np.concatenate([u, v]))
    if nodes.size and (nodes[0] < 0 or nodes[-1] >= net.node_id.size):
        raise InputError("edge node index out of range")
    lines = net.lines
    geometry = _lines_subset(lines, sel, release) if isinstance(lines, EdgeLines) else lines[sel]
    release()
    label, size = net.components  # the whole network's: stored in a loaded one
    win = WalkNetwork(
        node_id=take(net.node_id, nodes),
        x=take(net.x, nodes),
        y=take(net.y, nodes),
        u=np.searchsorted(nodes, u),
        v=np.searchsorted(nodes, v),
        length_m=take(net.length_m, sel),
        geometry=cast(np.ndarray, geometry),
        oneway=take(net.oneway, sel),
        crs=net.crs,
        way_id=take(net.way_id, sel),
        highway=net.highway(sel),
    )
    # what the cached property would hold (as load_network sets it)
    win.__dict__["_components"] = (take(np.asarray(label), nodes), take(np.asarray(size), nodes))
    release()
    return win


def _lines_subset(
    lines: EdgeLines, sel: np.ndarray, release: Callable[[], None] = _no_release
) -> EdgeLines:
    """The flat edge lines of the edges ``sel``, in order."""
    first = np.asarray(lines.start[sel], dtype=np.int64)
    counts = np.asarray(lines.start[sel + 1], dtype=np.int64) - first
    new_start = np.zeros(sel.size + 1, dtype=np.int64)
    np.cumsum(counts, out=new_start[1:])
    coords = np.empty((int(new_start[-1]), 2), dtype=np.float64)
    whole = np.asarray(lines.coords)
    for at in range(0, sel.size, _BOUNDS_CHUNK):  # in pieces: small index arrays
        end = min(at + _BOUNDS_CHUNK, sel.size)
        a, b = int(new_start[at]), int(new_start[end])
        rows = np.repeat(first[at:end] - new_start[at:end], counts[at:end]) + np.arange(a, b)
        coords[a:b] = whole[rows]
        release()
    del whole
    wkb_edge = np.asarray(lines.wkb_edge, dtype=np.int64)
    pos = np.searchsorted(sel, wkb_edge)
    inside = (pos < sel.size) & (sel[np.minimum(pos, max(sel.size - 1, 0))] == wkb_edge)
    if sel.size == 0:
        inside = np.zeros(wkb_edge.size, dtype=bool)
    off = np.asarray(lines.wkb_offsets, dtype=np.int64)
    blob = np.asarray(lines.wkb)
    k = np.flatnonzero(inside)
    lens = off[k + 1] - off[k]
    new_off = np.zeros(k.size + 1, dtype=np.int64)
    np.cumsum(lens, out=new_off[1:])
    take = np.repeat(off[k] - new_off[:-1], lens) + np.arange(int(new_off[-1]))
    out = EdgeLines(
        coords.reshape(-1, 2),
        new_start,
        pos[inside].astype(np.int64),
        blob[take].astype(np.uint8, copy=False),
        new_off,
    )
    out.check()
    return out

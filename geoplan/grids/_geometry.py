"""Geometry behind the grids (private): Hilbert order, blocks cut by major roads,
and the tessellation of a block into cells around its buildings."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import shapely

__all__ = ["hilbert_index"]

# Numerical precision of grid polygons (metres): overlays snap to this grid so that
# cells from the Voronoi diagram node cleanly.
_PRECISION_M = 0.01


def hilbert_index(x: Any, y: Any, *, order: int = 16) -> np.ndarray:
    """Position of points along a Hilbert curve over their bounding box.

    Points close on the curve are close in space, so cutting the sequence into
    runs gives compact groups.

    Examples
    --------
    >>> hilbert_index([0, 0, 1, 1], [0, 1, 1, 0], order=1).tolist()
    [0, 1, 2, 3]
    """
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    n = 1 << order
    if xa.size == 0:
        return np.zeros(0, dtype=np.int64)
    span = max(float(np.ptp(xa)), float(np.ptp(ya)), 1e-9)
    xi = np.clip(((xa - xa.min()) / span * (n - 1)).round(), 0, n - 1).astype(np.int64)
    yi = np.clip(((ya - ya.min()) / span * (n - 1)).round(), 0, n - 1).astype(np.int64)
    d = np.zeros(xa.size, dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = (xi & s) > 0
        ry = (yi & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        xi = np.where(flip, n - 1 - xi, xi)
        yi = np.where(flip, n - 1 - yi, yi)
        swap = ~ry
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


def _blocks(poly: Any, roads: np.ndarray) -> np.ndarray:
    """The community polygon cut by road lines (array of polygons)."""
    parts = shapely.get_parts(poly)
    if roads.size == 0:
        return parts
    clipped = shapely.intersection(roads, poly)
    clipped = clipped[~shapely.is_empty(clipped)]
    if clipped.size == 0:
        return parts
    lines = shapely.union_all(
        np.concatenate([shapely.get_parts(shapely.boundary(poly)), shapely.get_parts(clipped)])
    )
    cells = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    if cells.size == 0:
        return parts
    keep = shapely.contains(poly, shapely.point_on_surface(cells))
    cells = cells[keep & (shapely.area(cells) > 0)]
    return cells if cells.size else parts


def _tessellate(block: Any, geoms: np.ndarray) -> np.ndarray:
    """One cell per building, partitioning ``block`` (Voronoi on outline points)."""
    n = geoms.size
    if n == 1:
        return np.array([block], dtype=object)
    poly = shapely.get_type_id(geoms) >= 3
    size = np.sqrt(np.maximum(shapely.area(geoms[poly]), 1e-6)) if poly.any() else np.ones(1)
    seg = max(float(np.median(size)) / 4.0, 0.5)
    src = np.where(poly, shapely.boundary(geoms), geoms)
    src = shapely.segmentize(src, seg)
    xy, owner = shapely.get_coordinates(src, return_index=True)
    xy = np.round(xy, 2)
    _, first = np.unique(xy, axis=0, return_index=True)
    first = np.sort(first)
    xy, owner = xy[first], owner[first]
    if np.unique(owner).size < 2:
        cells = np.array([shapely.Polygon()] * n, dtype=object)
        cells[owner[0]] = block
        return cells
    # GEOS's Voronoi diagram breaks on many collinear points (straight building
    # walls): a fixed sub-precision jitter keeps it valid and the result repeatable.
    jitter = np.random.default_rng(0).uniform(-_PRECISION_M / 10, _PRECISION_M / 10, xy.shape)
    vor = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(xy + jitter), extend_to=block, ordered=True)
    )
    odd = np.flatnonzero(shapely.get_type_id(vor) != 3)  # GEOS may add degenerate lines
    for i in odd:
        vor[i] = _polygonal(shapely.make_valid(vor[i]))
    shapely.prepare(block)
    cut = ~shapely.contains_properly(block, vor)  # only cells crossing the edge need clipping
    vor[cut] = [_polygonal(g) for g in shapely.intersection(vor[cut], block)]
    out = np.array([shapely.Polygon()] * n, dtype=object)
    order = np.argsort(owner, kind="stable")
    bounds = np.flatnonzero(np.r_[True, owner[order][1:] != owner[order][:-1], True])
    for a, b in itertools.pairwise(bounds):
        out[owner[order[a]]] = _union(vor[order[a:b]])
    return _connect_cells(out, geoms)


def _connect_cells(cells: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Give stray pieces of a building's cell to the neighbour sharing most border."""
    multi = np.flatnonzero(shapely.get_num_geometries(cells) > 1)
    if multi.size == 0:
        return cells
    cells = cells.copy()
    tree = shapely.STRtree(cells)
    anchor = shapely.point_on_surface(geoms)
    for i in multi:
        parts = shapely.get_parts(cells[i])
        hit = np.flatnonzero(shapely.intersects(parts, geoms[i]))
        keep = (
            hit[np.argmax(shapely.area(parts[hit]))]
            if hit.size
            else int(np.argmin(shapely.distance(parts, anchor[i])))
        )
        kept = [parts[keep]]
        for q in range(parts.size):
            if q == keep:
                continue
            cand = [
                j
                for j in tree.query(parts[q], predicate="dwithin", distance=_PRECISION_M).tolist()
                if j != i
            ]
            lengths = [float(_border(parts[q], cells[j])) for j in cand]
            if not cand or max(lengths) <= 10 * _PRECISION_M:
                kept.append(parts[q])
                continue
            j = cand[int(np.argmax(lengths))]
            cells[j] = _polygonal(shapely.union(cells[j], parts[q], grid_size=_PRECISION_M))
        cells[i] = _polygonal(shapely.union_all(kept, grid_size=_PRECISION_M))
    return cells


def _union(cells: np.ndarray) -> Any:
    """Union of cells that tile without overlaps (fast coverage union, robust fallback)."""
    try:
        out = _polygonal(shapely.coverage_union_all(cells))
        if shapely.get_num_geometries(out) <= 1:
            return out
    except shapely.errors.GEOSException:
        pass
    # edges that meet only within the precision: snap them together
    return _polygonal(shapely.union_all(cells, grid_size=_PRECISION_M))


def _polygonal(geom: Any) -> Any:
    """Keep the polygons of an overlay result (drop stray lines and points)."""
    if shapely.get_type_id(geom) in (3, 6):
        return geom
    parts = shapely.get_parts(geom)
    polys = parts[shapely.get_type_id(parts) == 3]
    return (
        shapely.multipolygons(polys)
        if polys.size > 1
        else (polys[0] if polys.size else shapely.Polygon())
    )


def _border(a: Any, b: Any) -> Any:
    """Length of the border two polygons share (within the working precision)."""
    return shapely.length(
        shapely.intersection(shapely.boundary(a), shapely.buffer(b, _PRECISION_M))
    )


# --------------------------------------------------------------------------- main

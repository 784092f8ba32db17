"""Grid polygons (step 4 of the method): the tessellation of a block into cells
around its buildings, a grid's polygon as the union of its cells, and the repair
that moves buildings so that each grid stays in one piece and in range."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import shapely

from geoplan.grids.result import grid_record

__all__ = ["PRECISION_M", "border_length", "grid_polygons"]

# Numerical precision of grid polygons (metres): overlays snap to this grid so that
# cells from the Voronoi diagram node cleanly.
PRECISION_M = 0.01


def grid_polygons(
    block: shapely.Geometry,
    in_g: np.ndarray,
    geoms: np.ndarray,
    pts: np.ndarray,
    labels: np.ndarray,
    recs: list[dict[str, Any]],
    hh: np.ndarray,
) -> None:
    """Grid polygons of one merged block; repairs grids that fall apart."""
    cells = _tessellate(block, geoms[in_g])
    grid_ids = sorted(set(labels[in_g].tolist()))
    # area totals per class, for the reasons
    for gid in grid_ids:
        t = recs[gid]["target_id"]
        same = [g for g in grid_ids if recs[g]["target_id"] == t and not recs[g]["exempt"]]
        recs[gid]["area_total"] = float(sum(recs[g]["households"] for g in same))
    for _ in range(4):
        repaired = _repair(cells, in_g, pts, labels, recs, hh, grid_ids)
        balanced = _rebalance(cells, in_g, labels, recs, hh, grid_ids)
        if not (repaired or balanced):
            break
    polys = {gid: _union(cells[labels[in_g] == gid]) for gid in grid_ids}
    for gid in grid_ids:
        rows = in_g[labels[in_g] == gid]
        r = recs[gid]
        h = hh[rows]
        r.update(
            grid_record(
                h,
                r["low"],
                r["high"],
                r["target_id"],
                exempt=r["exempt"],
                crosses=r["crosses_road"],
                reason=r["reason"],
            )
            if rows.size
            else {}
        )
        r["geometry"] = polys[gid]


def _repair(
    cells: np.ndarray,
    in_g: np.ndarray,
    pts: np.ndarray,
    labels: np.ndarray,
    recs: list[dict[str, Any]],
    hh: np.ndarray,
    grid_ids: list[int],
) -> bool:
    """Give the stray pieces of a grid (and their buildings) to a neighbouring grid."""
    any_moved = False
    for _ in range(3):
        polys = {gid: _union(cells[labels[in_g] == gid]) for gid in grid_ids}
        moved = False
        for gid in grid_ids:
            parts = shapely.get_parts(polys[gid])
            if parts.size <= 1:
                continue
            mine = np.flatnonzero(labels[in_g] == gid)
            host = np.full(mine.size, -1)
            for m_i, k in enumerate(mine):
                hit = np.flatnonzero(shapely.intersects(parts, pts[in_g[k]]))
                host[m_i] = hit[0] if hit.size else -1
            weight = np.array(
                [
                    hh[in_g[mine[host == q]]].sum() + 1e-9 * (host == q).sum()
                    for q in range(parts.size)
                ]
            )
            keep = int(np.argmax(weight))
            for q in range(parts.size):
                if q == keep:
                    continue
                movers = in_g[mine[host == q]]
                moved_hh = float(hh[movers].sum())
                donor = float(hh[in_g[labels[in_g] == gid]].sum()) - moved_hh
                r0 = recs[gid]
                best, best_score = -1, (np.inf, np.inf, np.inf)
                for other in grid_ids:
                    if other == gid or recs[other]["exempt"]:
                        continue
                    length = float(border_length(parts[q], polys[other]))
                    if length <= 10 * PRECISION_M:
                        continue
                    ro = recs[other]
                    recv = float(hh[in_g[labels[in_g] == other]].sum()) + moved_hh
                    n_out = int(not r0["low"] <= donor <= r0["high"]) + int(
                        not ro["low"] <= recv <= ro["high"]
                    )
                    score = (n_out, float(ro["target_id"] != r0["target_id"]), -length)
                    if score < best_score:
                        best, best_score = other, score
                if best < 0:
                    continue
                labels[movers] = best
                moved = moved or movers.size > 0
        any_moved = any_moved or moved
        if not moved:
            break
    return any_moved


def _rebalance(
    cells: np.ndarray,
    in_g: np.ndarray,
    labels: np.ndarray,
    recs: list[dict[str, Any]],
    hh: np.ndarray,
    grid_ids: list[int],
) -> bool:
    """Move single border buildings between neighbouring grids of the same range
    while that brings a grid into range without pushing another out, keeping
    both grids in one piece."""
    lab = labels[in_g]
    tree = shapely.STRtree(cells)
    touching = tree.query(cells, predicate="dwithin", distance=PRECISION_M)
    pairs = touching[:, touching[0] != touching[1]]
    # a shared corner does not join two grids: ask for a border longer than 10 x precision
    pairs = pairs[:, border_length(cells[pairs[0]], cells[pairs[1]]) > 10 * PRECISION_M]
    any_move = False

    def total(g: int) -> float:
        return float(hh[in_g[lab == g]].sum())

    def outside(g: int, value: float) -> float:
        lo, hi = recs[g]["low"], recs[g]["high"]
        return max(lo - value, value - hi, 0.0)

    def whole(g: int, drop: int) -> bool:
        keep = (lab == g) & (np.arange(lab.size) != drop)
        return bool(keep.any()) and shapely.get_num_geometries(_union(cells[keep])) == 1

    for _ in range(4 * len(grid_ids)):
        improved = False
        for g in grid_ids:
            if recs[g]["exempt"] or outside(g, total(g)) == 0:
                continue
            t_g = total(g)
            too_big = t_g > recs[g]["high"]
            # (building position, from grid, to grid) moves across a shared border
            a, b = pairs
            if too_big:
                sel = (lab[a] == g) & (lab[b] != g)
                moves = {(int(a[k]), g, int(lab[b[k]])) for k in np.flatnonzero(sel)}
            else:
                sel = (lab[b] == g) & (lab[a] != g)
                moves = {(int(a[k]), int(lab[a[k]]), g) for k in np.flatnonzero(sel)}
            best, best_gain = None, 0.0
            for pos, src, dst in sorted(moves):
                if recs[src]["exempt"] or recs[dst]["exempt"]:
                    continue
                if recs[src]["target_id"] != recs[dst]["target_id"]:
                    continue
                h = float(hh[in_g[pos]])
                ts, td = total(src), total(dst)
                before = outside(src, ts) + outside(dst, td)
                after = outside(src, ts - h) + outside(dst, td + h)
                gain = before - after
                if gain > best_gain + 1e-9 and whole(src, pos):
                    best, best_gain = (pos, dst), gain
            if best is not None:
                lab[best[0]] = best[1]
                improved = any_move = True
        if not improved:
            break
    labels[in_g] = lab
    return any_move


def _tessellate(block: shapely.Geometry, geoms: np.ndarray) -> np.ndarray:
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
    jitter = np.random.default_rng(0).uniform(-PRECISION_M / 10, PRECISION_M / 10, xy.shape)
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
                for j in tree.query(parts[q], predicate="dwithin", distance=PRECISION_M).tolist()
                if j != i
            ]
            lengths = [float(border_length(parts[q], cells[j])) for j in cand]
            if not cand or max(lengths) <= 10 * PRECISION_M:
                kept.append(parts[q])
                continue
            j = cand[int(np.argmax(lengths))]
            cells[j] = _polygonal(shapely.union(cells[j], parts[q], grid_size=PRECISION_M))
        cells[i] = _polygonal(shapely.union_all(kept, grid_size=PRECISION_M))
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
    return _polygonal(shapely.union_all(cells, grid_size=PRECISION_M))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
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


def border_length(a: shapely.Geometry | np.ndarray, b: shapely.Geometry | np.ndarray) -> Any:
    """Length of the border two polygons share (within the working precision)."""
    return shapely.length(shapely.intersection(shapely.boundary(a), shapely.buffer(b, PRECISION_M)))

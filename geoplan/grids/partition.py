"""The partition of one community into grids (steps 1-3 of the method): blocks cut
by major roads and merged while too small, Hilbert order of the buildings, and
the dynamic-programming cut of the ordered buildings into runs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

from geoplan.grids.polygons import PRECISION_M, border_length, grid_polygons
from geoplan.grids.result import explain_grid, grid_record

__all__ = ["community_grids", "cut_runs", "hilbert_index"]


def hilbert_index(x: npt.ArrayLike, y: npt.ArrayLike, *, order: int = 16) -> np.ndarray:
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


def _blocks(poly: shapely.Geometry, roads: np.ndarray) -> np.ndarray:
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


def cut_runs(h: np.ndarray, low: float, high: float) -> list[int]:
    """Cut an ordered sequence of household counts into runs (end positions).

    Lexicographic objective over runs: households outside ``[low, high]``
    (summed), then number of runs outside the range, then squared distance of
    each in-range run from the middle of the range (balance).

    Examples
    --------
    >>> cut_runs(np.array([100.0] * 8), 300, 500)
    [4, 8]
    """
    n = h.size
    if n == 0:
        return []
    p = np.concatenate([[0.0], np.cumsum(h)])
    mid, width = (low + high) / 2.0, max(high - low, 1e-9)
    # a run longer than 2 x high plus the largest building never helps
    window = 2.0 * high + float(h.max())
    exc = np.full(n + 1, np.inf)
    out = np.full(n + 1, np.inf)
    dev = np.full(n + 1, np.inf)
    prev = np.zeros(n + 1, dtype=np.int64)
    exc[0] = out[0] = dev[0] = 0.0
    start = 0
    for i in range(1, n + 1):
        while p[i] - p[start] > window and start < i - 1:
            start += 1
        j = np.arange(start, i)
        s = p[i] - p[j]
        below, above = s < low, s > high
        e = np.where(below, low - s, np.where(above, s - high, 0.0))
        o = (below | above).astype(np.float64)
        v = np.where(below | above, 0.25, ((s - mid) / width) ** 2)
        te, to, tv = exc[j] + e, out[j] + o, dev[j] + v
        k = np.lexsort((tv, to, np.round(te, 6)))[0]
        exc[i], out[i], dev[i], prev[i] = te[k], to[k], tv[k], j[k]
    ends = []
    i = n
    while i > 0:
        ends.append(i)
        i = int(prev[i])
    return ends[::-1]


def community_grids(
    poly: shapely.Geometry,
    idx: np.ndarray,
    rep: np.ndarray,
    geoms: np.ndarray,
    hh: np.ndarray,
    tid: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    own: np.ndarray,
    uses: np.ndarray,
    roads: np.ndarray,
    cid: str,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Grids of one community: records (in code order) and a label per building."""
    blocks = _blocks(poly, roads)
    n_b = blocks.size
    pts = rep[idx]
    tree = shapely.STRtree(blocks)
    bi, ki = tree.query(pts, predicate="intersects")
    block_of = np.full(idx.size, -1, dtype=np.int64)
    first = np.unique(bi, return_index=True)[1]
    block_of[bi[first]] = ki[first]
    lost = np.flatnonzero(block_of < 0)
    if lost.size:
        block_of[lost] = tree.query_nearest(pts[lost], all_matches=False)[1]
    # merged blocks: union-find by parent pointers
    parent = np.arange(n_b)

    def root(i: int) -> int:
        while parent[i] != i:
            i = int(parent[i])
        return i

    resid = ~own[idx]
    sub_t = tid[idx]
    classes = sorted({str(t) for t in sub_t[resid]})
    lows = {t: float(low[idx][sub_t == t][0]) for t in classes}

    def totals(r: int) -> dict[str, float]:
        members = np.isin(block_of, [b for b in range(n_b) if root(b) == r]) & resid
        return {t: float(hh[idx][members & (sub_t == t)].sum()) for t in classes}

    def has_buildings(r: int) -> bool:
        return bool(np.isin(block_of, [b for b in range(n_b) if root(b) == r]).any())

    def neighbours(r: int) -> list[tuple[float, int]]:
        geom_r = shapely.union_all(blocks[[b for b in range(n_b) if root(b) == r]])
        out = []
        for q in {root(b) for b in range(n_b)} - {r}:
            geom_q = shapely.union_all(blocks[[b for b in range(n_b) if root(b) == q]])
            length = float(border_length(geom_r, geom_q))
            if length > 10 * PRECISION_M:
                out.append((length, q))
        return out

    changed = n_b > 1
    while changed:
        changed = False
        roots = sorted({root(b) for b in range(n_b)})
        for r in roots:
            if root(r) != r:
                continue
            tot = totals(r)
            empty = not has_buildings(r)
            small = [t for t in classes if 0 < tot[t] < lows[t]]
            no_resid = (
                has_buildings(r)
                and all(tot[t] == 0 for t in classes)
                and bool(resid[np.isin(block_of, [b for b in range(n_b) if root(b) == r])].any())
            )
            if not (empty or small or no_resid):
                continue
            nbrs = neighbours(r)
            if not nbrs:
                continue
            if empty or no_resid:
                q = max(nbrs)[1]
            else:
                t = small[0]
                # prefer the neighbour with the fewest households of that class that has any
                scored = [(-(totals(q)[t] > 0), totals(q)[t], -length, q) for length, q in nbrs]
                q = min(scored)[3]
            parent[r] = q
            changed = True
            break
    group_of_block = np.array([root(b) for b in range(n_b)])
    group = group_of_block[block_of]
    # order: merged group by Hilbert of its first block, then block, then building
    hx, hy = shapely.get_x(pts), shapely.get_y(pts)
    h_b = hilbert_index(hx, hy)
    bc = shapely.point_on_surface(blocks)
    h_block = hilbert_index(shapely.get_x(bc), shapely.get_y(bc))
    h_group = {g: min(h_block[group_of_block == g]) for g in set(group_of_block.tolist())}
    comm_total = {t: float(hh[idx][resid & (sub_t == t)].sum()) for t in classes}

    labels = np.full(idx.size, -1, dtype=np.int64)
    recs: list[dict[str, Any]] = []
    groups = sorted(set(group_of_block.tolist()), key=lambda g: h_group[g])
    geom_of_group = {g: shapely.union_all(blocks[group_of_block == g]) for g in groups}
    for g in groups:
        in_g = np.flatnonzero(group == g)
        if in_g.size == 0:
            continue
        n_blocks_g = int((group_of_block == g).sum())
        key = np.lexsort((h_b[in_g], h_block[block_of[in_g]]))
        in_g = in_g[key]
        for k in in_g[own[idx][in_g]]:
            use = uses[idx[k]] or "non-residential"
            labels[k] = len(recs)
            recs.append(
                grid_record(
                    hh[idx[[k]]],
                    float(low[idx[k]]),
                    float(high[idx[k]]),
                    str(tid[idx[k]]),
                    exempt=True,
                    crosses=False,
                    reason=f"{use} building: may be a grid of its own "
                    "(commercial buildings, markets, large public venues)",
                )
            )
        for t in classes:
            sel = in_g[resid[in_g] & (sub_t[in_g] == t)]
            if sel.size == 0:
                continue
            lo, hi = float(low[idx[sel[0]]]), float(high[idx[sel[0]]])
            ends = cut_runs(hh[idx[sel]], lo, hi)
            start = 0
            for e in ends:
                run = sel[start:e]
                start = e
                labels[run] = len(recs)
                crosses = n_blocks_g > 1 and np.unique(block_of[run]).size > 1
                recs.append(
                    grid_record(hh[idx[run]], lo, hi, t, exempt=False, crosses=crosses, reason=None)
                )
        # non-residential buildings that are not own grids join the nearest run
        rest = in_g[(labels[in_g] < 0)]
        if rest.size:
            done = in_g[labels[in_g] >= 0]
            if done.size == 0:
                labels[rest] = len(recs)
                recs.append(
                    grid_record(
                        hh[idx[rest]],
                        float(low[idx[rest[0]]]),
                        float(high[idx[rest[0]]]),
                        str(tid[idx[rest[0]]]),
                        exempt=False,
                        crosses=False,
                        reason=None,
                    )
                )
            else:
                t2 = shapely.STRtree(pts[done])
                near = t2.query_nearest(pts[rest], all_matches=False)[1]
                labels[rest] = labels[done[near]]
        grid_polygons(geom_of_group[g], in_g, geoms[idx], pts, labels, recs, hh[idx])
    for rec in recs:
        explain_grid(rec, comm_total, cid)
    # order codes along the Hilbert curve of the grids' buildings
    first_pos = np.full(len(recs), np.iinfo(np.int64).max)
    np.minimum.at(first_pos, labels, _group_rank(group, groups) * (1 << 40) + h_b)
    order = np.argsort(first_pos, kind="stable")
    rank = np.empty(len(recs), dtype=np.int64)
    rank[order] = np.arange(len(recs))
    return [recs[i] for i in order], rank[labels]


def _group_rank(group: np.ndarray, groups: Sequence[int]) -> np.ndarray:
    """Rank of each building's merged block in code order (internal)."""
    pos = {g: i for i, g in enumerate(groups)}
    return np.array([pos[g] for g in group], dtype=np.int64)

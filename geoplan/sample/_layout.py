"""The geometry of the sample district: arterials, superblocks, gated compounds with
their gates, roads and building rows, the village fringe, the buildings frame and the
noded streets frame.

Private to :mod:`geoplan.sample`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from geoplan.sample._base import (
    COMPOUND_PREFIX,
    CRS,
    DISTRICT,
    DISTRICT_NAME,
    EW_CLASS,
    EW_ROADS,
    GRID_M,
    NCOLS,
    NROWS,
    NS_CLASS,
    NS_ROADS,
    ORIGIN_LONLAT,
    STREET_NAMES,
    Acc,
    Arr,
    Layout,
    bilin,
    block,
    line,
    quad_part,
    quad_rects,
    quad_size,
)

# Generation parameters and names (how the made-up district is drawn, not audit thresholds).
_NAN_HOUSEHOLDS_SHARE = 0.05  # share of residential buildings whose households are hidden
_OLD_SUFFIX = ("里", "新村", "小区", "西里", "东里", "南里")
_NEW_SUFFIX = ("花园", "嘉园", "名邸", "家园", "公馆", "雅苑")
_VILLAGES = ("李七庄", "王兰庄", "大韩庄", "付村", "张窝", "小园", "西营门", "杨柳青庄")
_BRANCH_ROADS = """华坪路 雅安道 嘉陵道 王顶堤路 西湖道 黄河道 苑中路 淦江路 宜宾道 梅苑路
    兰苑路 竹苑路 居华路 久华路 天拖南道 迎水道 时代道 科研西路 凌奥路 苑东路"""
_COMMUNITY_PREFIX = """华苑 阳光 长江 王顶堤 凌宾 宜宾 迎水 日华 居华 安华 天华 碧华 地华 久华
    环宇 雅安 天塔 卫安 金平 风荷 白堤 红日 学府 体院北 水上 鹊桥 向阳 育梁 龙井 广开 万兴 黄河"""


def _households(
    rng: np.random.Generator,
    polys: NDArray[np.object_],
    floors: Arr,
    ntg: float,
    dwelling_m2: float,
) -> Arr:
    """Households from footprint x floors x net-to-gross / dwelling size, with noise."""
    gross = shapely.area(polys) * floors * ntg / dwelling_m2
    return np.maximum(1.0, np.round(gross * rng.lognormal(0.0, 0.08, len(polys))))


def _compound(acc: Acc, q: Arr, sub: tuple[float, ...], old: bool, ids: tuple[str, str]) -> None:
    """A gated compound inside part ``sub`` of superblock ``q``: roads, gates, buildings.

    ``ids`` are the compound's id and its community's id.
    """
    rng, (compound_id, community_id) = acc.rng, ids
    w_sb, h_sb = quad_size(q)
    u0, v0, u1, v1 = sub
    inset = rng.uniform(12, 16)
    cu0, cv0, cu1, cv1 = u0 + inset / w_sb, v0 + inset / h_sb, u1 - inset / w_sb, v1 - inset / h_sb
    qc = quad_part(q, cu0, cv0, cu1, cv1)
    wc, hc = quad_size(qc)

    def xy(a: ArrayLike, b: ArrayLike) -> Arr:  # metres inside the compound -> map
        return bilin(qc, np.asarray(a, dtype=float) / wc, np.asarray(b, dtype=float) / hc)

    m, corr = 8.0, 7.0  # building margin inside the fence; half-width kept free along roads
    us, vs = wc * rng.uniform(0.4, 0.6), hc * rng.uniform(0.4, 0.6)
    gated = sorted(rng.choice(4, size=int(rng.choice([3, 4, 4])), replace=False).tolist())
    # gates S, E, N, W: the very same coordinates serve the fence, the gate and the roads
    gate_xy = xy([us, wc, us, 0.0], [0.0, vs, hc, vs])
    ring = xy([0, us, wc, wc, wc, us, 0, 0, 0], [0, 0, 0, vs, hc, hc, hc, vs, 0])
    ring[[1, 3, 5, 7]] = gate_xy
    keep = [i for i in range(9) if i % 2 == 0 or (i - 1) // 2 in gated]
    fence = shapely.set_precision(shapely.Polygon(ring[keep]), GRID_M)
    prefixes = COMPOUND_PREFIX.split()
    prefix = prefixes[int(compound_id[1:]) % len(prefixes)]
    name = prefix + str(rng.choice(_OLD_SUFFIX if old else _NEW_SUFFIX))
    acc.compounds.append((compound_id, name, old, community_id, fence))
    ends = {0: xy(us, m / 2), 1: xy(wc - m / 2, vs), 2: xy(us, hc - m / 2), 3: xy(m / 2, vs)}
    uu, vv = cu0 + (cu1 - cu0) * us / wc, cv0 + (cv1 - cv0) * vs / hc
    for k in gated:
        ends[k] = gate_xy[k]
        gate = shapely.set_precision(shapely.Point(gate_xy[k]), GRID_M)
        acc.gates.append((f"{compound_id}-G{k + 1}", compound_id, gate))
        # the driveway from the gate to the road centreline (an arterial or a branch road)
        out = {0: (uu, v0), 1: (u1, vv), 2: (uu, v1), 3: (u0, vv)}[k]
        acc.lines.append((line([gate_xy[k], bilin(q, *out)]), "service", None))
        if 0.0 < (v0, u1, v1, u0)[k] < 1.0:  # inside the superblock: a branch road
            acc.branch_gates.append((community_id, gate_xy[k], bilin(q, *out)))
    acc.lines.append((line([ends[0], ends[2]]), "service", None))
    acc.lines.append((line([ends[3], ends[1]]), "service", None))

    if old:  # walk-up rows
        depth, length, gap, pitch, p_foot = (10, 12.5), (30, 60), (6, 12), (28, 34), 0.6
    else:  # towers
        depth, length, gap, pitch, p_foot = (16, 20), (20, 28), (22, 32), (55, 68), 0.8
    rects: list[tuple[float, float, float, float]] = []
    for b0, b1 in ((m, vs - corr), (vs + corr, hc - m)):
        d, p = rng.uniform(*depth), rng.uniform(*pitch)
        if b1 - b0 < d:
            continue
        n = int((b1 - b0 - d) // p) + 1
        y0 = b0 + rng.uniform(0, b1 - b0 - d - (n - 1) * p)
        for r in range(n):
            y = y0 + r * p
            if r < n - 1 and rng.random() < p_foot:  # a footpath between two rows
                yf = y + d + (p - d) / 2
                acc.lines.append((line(xy([m / 2, wc - m / 2], [yf, yf])), "footway", None))
            for a0, a1 in ((m, us - corr), (us + corr, wc - m)):
                x = a0 + rng.uniform(0, gap[1])
                while (length_m := rng.uniform(*length)) <= a1 - x:
                    if rng.random() > 0.1:
                        rects.append((x, y, x + length_m, y + d))
                    x += length_m + rng.uniform(*gap)
    polys = quad_rects(qc, np.array(rects) / [wc, hc, wc, hc])
    if old:
        floors = rng.choice([5.0, 6.0, 6.0, 6.0, 7.0], len(polys))
        hh = _households(rng, polys, floors, 0.75, 62.0)
    else:
        floors = rng.integers(18, 34, len(polys)).astype(float)
        hh = _households(rng, polys, floors, 0.72, 95.0)
    acc.bld.append((polys, floors, hh, community_id, compound_id))


def _village(acc: Acc, q: Arr, name: str, community_id: str, branch_to: float | None) -> float:
    """Village lanes and houses in quad ``q``; returns the v of the main lane's entrance."""
    rng = acc.rng
    w, h = quad_size(q)
    v_main = rng.uniform(0.35, 0.65)
    uv = np.column_stack([[0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.85], np.full(7, v_main)])
    uv[1:, 1] += rng.normal(0, 0.04, 6)
    main = bilin(q, uv[:, 0], uv[:, 1])
    lanes = [line(main)]
    acc.lines.append((lanes[0], "unclassified", f"{name}村大街"))
    starts = sorted(rng.choice(np.arange(2, 7), size=int(rng.integers(2, 4)), replace=False))
    for n, k in enumerate(starts):  # branch lanes, the first one up to the through road
        end = rng.choice([0.1, 0.9]) if n or branch_to is None else branch_to
        vs = np.linspace(uv[k, 1], end, 4)[1:]
        us = uv[k, 0] + np.r_[rng.normal(0, 0.03, 2), rng.normal(0, 0.02)]
        lanes.append(line(np.vstack([main[k], bilin(q, us, vs)])))
        acc.lines.append((lanes[-1], "residential", f"{name}村{'一二三'[n]}巷"))
    # houses on a grid of lots, kept near the lanes and clear of them
    na, nb = int(w * 0.94 // 17), int(h * 0.94 // 16)
    a, b = (g.ravel() for g in np.meshgrid(np.arange(na), np.arange(nb), indexing="ij"))
    lot_u, lot_v = 0.94 / na, 0.94 / nb
    su, sv = rng.uniform(9, 13, a.size) / w, rng.uniform(8, 11, a.size) / h
    x0 = 0.03 + a * lot_u + rng.uniform(0, 1, a.size) * (lot_u - su)
    y0 = 0.03 + b * lot_v + rng.uniform(0, 1, a.size) * (lot_v - sv)
    polys = quad_rects(q, np.column_stack([x0, y0, x0 + su, y0 + sv]))
    lane_union = shapely.union_all(lanes)
    near = shapely.distance(shapely.centroid(polys), lane_union) < 50
    clear = ~shapely.intersects(polys, shapely.buffer(lane_union, 3.5))
    polys = polys[near & clear & (rng.random(a.size) < 0.85)]
    floors = rng.choice([1.0, 1.0, 2.0, 2.0, 3.0], len(polys))
    acc.bld.append((polys, floors, _households(rng, polys, floors, 0.8, 110.0), community_id, None))
    return float(v_main)


def grid_nodes(rng: np.random.Generator) -> tuple[Arr, Arr]:
    """Jittered arterial crossings ``nodes[i, j]`` and the village fringe's east edge."""
    lon, lat = ORIGIN_LONLAT
    x0, y0 = Transformer.from_crs("EPSG:4326", CRS, always_xy=True).transform(lon, lat)
    xs = np.r_[0, np.cumsum(rng.uniform(390, 460, NCOLS))]
    ys = np.r_[0, np.cumsum(rng.uniform(420, 480, NROWS))]
    grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
    nodes = grid + rng.uniform(-15, 15, grid.shape) + np.round([x0 - xs[-1] / 2, y0 - ys[-1] / 2])
    shift = np.column_stack([rng.uniform(560, 640, NROWS + 1), rng.uniform(-10, 10, NROWS + 1)])
    return nodes, nodes[-1] + shift


def plan_layout(acc: Acc, nodes: Arr, east: Arr) -> Layout:
    """Arterials, superblocks (communities, compounds) and villages; community quads."""
    rng = acc.rng
    for i in range(NCOLS + 1):
        acc.lines.append((line(nodes[i]), NS_CLASS[i], NS_ROADS[i]))
    for j in range(NROWS + 1):
        acc.lines.append((line(nodes[:, j]), EW_CLASS[j], EW_ROADS[j]))
    mid = NROWS // 2  # the middle east-west road runs on through the village fringe
    acc.lines.append((line([nodes[-1, mid], east[mid]]), "tertiary", EW_ROADS[mid]))
    comm_names = iter(rng.permutation(_COMMUNITY_PREFIX.split()))
    branch_names = iter(rng.permutation(_BRANCH_ROADS.split()))
    kinds = rng.permutation(["split"] * 6 + ["two"] * 8 + ["one"] * 6)
    p_old = (0.9, 0.85, 0.7, 0.35, 0.15)  # old estates in the west, new ones in the east
    counter: dict[int, int] = {}
    quads: dict[str, Arr] = {}

    def community(street: int, quad: Arr, name: str, kind: str, old: bool, new: bool) -> str:
        counter[street] = counter.get(street, 0) + 1
        cid = f"{DISTRICT}{street:03d}{counter[street]:03d}"
        central = kind == "urban" and street < 3  # the western columns of superblocks
        flags = {"old_estate": old, "new_development": new, "central_district": central}
        row = {"community_id": cid, "name": name, "kind": kind, "households": np.nan}
        row |= {"residents": np.nan, "district_code": DISTRICT, "district_name": DISTRICT_NAME}
        row |= {"street_name": STREET_NAMES[street], **flags}
        acc.communities.append({**row, "geometry": shapely.Polygon(quad)})
        quads[cid] = quad
        return cid

    for k, (i, j) in enumerate((i, j) for i in range(NCOLS) for j in range(NROWS)):
        q = block(nodes, i, j)
        old = bool(rng.random() < p_old[i])
        subs: list[tuple[float, ...]] = [(0.0, 0.0, 1.0, 1.0)]
        if kinds[k] != "one":  # a public branch road splits the superblock in two
            s = rng.uniform(0.42, 0.58)
            if rng.random() < 0.5:
                subs, branch = [(0, 0, s, 1), (s, 0, 1, 1)], bilin(q, [s, s], [0, 1])
            else:
                subs, branch = [(0, 0, 1, s), (0, s, 1, 1)], bilin(q, [0, 1], [s, s])
            acc.lines.append((line(branch), "residential", str(next(branch_names))))
        for group in [[sub] for sub in subs] if kinds[k] == "split" else [subs]:
            box = (*np.min(group, axis=0)[:2], *np.max(group, axis=0)[2:])
            label = f"{next(comm_names)}社区"
            cid = community(1 + i // 2, quad_part(q, *box), label, "urban", old, not old and i >= 3)
            for sub in group:
                _compound(acc, q, sub, old, (f"C{len(acc.compounds) + 1:03d}", cid))
    village_names = rng.choice(_VILLAGES, NROWS, replace=False)
    entrances: dict[str, float] = {}
    for j in range(NROWS):
        q = np.stack([nodes[-1, j], east[j], east[j + 1], nodes[-1, j + 1]])
        cid = community(4, q, f"{village_names[j]}村", "village", False, False)
        to = 1.0 if j == mid - 1 else 0.0 if j == mid else None
        entrances[cid] = _village(acc, q, str(village_names[j]), cid, to)
    return Layout(quads, entrances)


def make_buildings(acc: Acc) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The buildings frame (some households hidden as NaN) and the true households."""
    rng = acc.rng
    polys = np.concatenate([b[0] for b in acc.bld])
    floors = np.concatenate([b[1] for b in acc.bld])
    truth = np.concatenate([b[2] for b in acc.bld])
    size = [len(b[0]) for b in acc.bld]
    comm_of = np.repeat([b[3] for b in acc.bld], size)
    compound_of = np.repeat(np.array([b[4] for b in acc.bld], dtype=object), size)
    use = np.full(len(polys), "residential", dtype=object)
    other = rng.choice(len(polys), round(0.07 * len(polys)), replace=False)
    use[other] = rng.choice(["commercial", "service", "public"], other.size, p=[0.45, 0.25, 0.3])
    floors[other] = np.minimum(floors[other], rng.integers(2, 6, other.size))
    truth[other] = 0.0
    reported = truth.copy()
    resid = np.flatnonzero(use == "residential")
    n_nan = max(1, round(_NAN_HOUSEHOLDS_SHARE * resid.size))
    reported[rng.choice(resid, n_nan, replace=False)] = np.nan
    ids = pd.Index([f"B{n:05d}" for n in range(1, len(polys) + 1)], name="building_id")
    frame = {
        "use": use.astype(str),
        "floors": floors,
        "households": reported,
        "community_id": comm_of,
        "compound_id": pd.array(compound_of, dtype="str"),
    }
    buildings = gpd.GeoDataFrame(frame, geometry=polys, index=ids, crs=CRS)
    return buildings, pd.Series(truth, index=ids, name="households")


def make_streets(lines: list[tuple[shapely.LineString, str, str | None]]) -> gpd.GeoDataFrame:
    """Node the lines on a 1 cm grid (split at every junction) and carry their attributes."""
    source = np.array([g for g, _, _ in lines], dtype=object)
    pieces = shapely.get_parts(shapely.union_all(source, grid_size=GRID_M))
    mids = shapely.line_interpolate_point(pieces, 0.5, normalized=True)
    pairs = shapely.STRtree(source).query_nearest(mids, all_matches=False)
    which = np.empty(len(pieces), dtype=int)
    which[pairs[0]] = pairs[1]
    ids = pd.Index([f"S{n:05d}" for n in range(1, len(pieces) + 1)], name="street_id")
    frame = {
        "highway": [lines[k][1] for k in which],
        "name": pd.array([lines[k][2] for k in which], dtype="str"),
        "oneway": np.zeros(len(pieces), dtype=bool),
        "length_m": shapely.length(pieces),
    }
    return gpd.GeoDataFrame(frame, geometry=pieces, index=ids, crs=CRS)

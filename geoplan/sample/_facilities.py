"""The services of the sample district: community attributes and service centres,
shops along the arterials, and the GB 50180 life-circle facilities.

Private to :mod:`geoplan.sample`.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.sample._base import (
    COMPOUND_PREFIX,
    EW_ROADS,
    NCOLS,
    NROWS,
    NS_ROADS,
    Acc,
    Arr,
    Layout,
    bilin,
    block,
    quad_size,
    stratified,
)

# Generation parameters (how the made-up district is drawn, not audit thresholds).
_CENTRE_M2_PER_100HH = (10.0, 60.0)  # community service centre floor area drawn in this range
_VILLAGE_CENTRE_M2 = (150.0, 500.0)
_ACTIVITY_SHARE = (0.45, 0.8)
_PERSONS_PER_HH = (2.45, 2.8)

# category, count in the urban area, floor area range (m2), opening hours choices, brands
_SHOPS = """
convenience_store 45 60-200 16,24 便利蜂 罗森 全家 金鼎便利 好邻居
supermarket 8 800-3000 13,14 华联超市 物美超市 永辉超市 家乐福
fresh_food 14 50-200 12,14 钱大妈 百果园 生鲜传奇 鲜丰水果
breakfast 18 30-120 6,8 狗不理包子 煎饼果子 永和豆浆 庆丰包子铺
laundry 8 30-100 11,12 福奈特洗衣 象王洗衣 荣昌洗衣
hair 14 30-150 11,12 永琪美发 丝域养发 快剪 美发沙龙
printing 5 20-80 10,12 图文快印 复印打字社
housekeeping 5 30-100 9,10 家政服务中心 阿姨来了家政
repair 7 15-60 9,10 家电维修部 修鞋配钥匙 手机维修
pharmacy 14 60-250 14,24 老百姓大药房 益丰大药房 达仁堂药店 乐仁堂
post_express 12 20-80 11,12 菜鸟驿站 中国邮政 顺丰速运 京东快递
recycling 8 20-60 8,10 再生资源回收站 废品回收点
elderly_care 4 800-3000 24 颐养院 老年公寓 康养中心
childcare 5 300-900 10,11 启蒙幼儿园 金色摇篮幼儿园
dining 24 80-500 11,12,14 家常菜馆 老边饺子馆 拉面馆 海鲜酒楼
bakery 8 40-150 12,13 桂顺斋 好利来 祥禾饽饽铺 面包坊
bookstore 3 100-600 10,11 新华书店 西西弗书店 社区书屋
gym 4 300-1200 14,15 乐刻健身 健身中心 游泳健身馆
training 9 100-500 9,10 英语培训 书法培训 少儿编程 舞蹈培训
wellness 5 80-300 12 中医推拿 足疗养生馆 艾灸馆
florist 5 20-80 11,12 鲜花店 花艺工作室
tea_coffee 8 40-200 12,14 瑞幸咖啡 茶馆 蜜雪冰城 库迪咖啡
pet 4 50-200 11,12 宠物医院 宠物店
"""
# wet markets: (superblock column, row, side); they leave gaps on purpose
_WET_MARKETS = ((1, 1, "S"), (3, 2, "W"), (0, 3, "S"), (3, 3, "W"), (0, 1, "S"))
# GB 50180 life-circle facilities (drawn after everything else, so the rest of the district
# is the same as without them): category, (superblock column, row, side) of each one,
# floor area range (m2), opening hours, name pattern ({p}: a place name, {r}: the road).
# About 116,000 urban residents: 2 15-minute circles (a middle school, a police station and
# a shopping centre each), 5-6 10-minute circles (a primary school each); public toilets
# at about 3-5 per km2 (CJJ 14-2016) along the arterials, none yet in the villages.
_LIFE_CIRCLE = (
    (
        "primary_school",
        ((0, 0, "N"), (1, 3, "E"), (2, 1, "W"), (3, 0, "E"), (4, 2, "N")),
        (9000, 15000),
        10,
        "南开区{p}小学",
    ),
    ("middle_school", ((1, 2, "N"), (3, 1, "S")), (16000, 28000), 11, "天津市{p}中学"),
    ("police", ((1, 1, "E"), (3, 2, "N")), (1800, 3500), 24, "南开公安分局{p}派出所"),
    ("mall", ((2, 2, "S"), (4, 1, "W")), (30000, 90000), 12, "{p}购物中心"),
)
_BANKS = (
    9,
    (300, 1200),
    "中国工商银行 中国建设银行 中国银行 中国农业银行 交通银行 天津银行 招商银行",
)
_TOILETS = 14, (30, 80)
# neighbourhood centres (邻里中心) of the first new developments (by community code) with a
# compound gate on a branch road, at that gate: 5-minute life-circle services under one roof
_NEIGHBOURHOOD_CENTRES = 2
_NEIGHBOURHOOD_CENTRE = (
    ("elderly_service_station", (300, 600), 10, "{n}老年人日间照料中心"),
    ("toilets", (40, 60), 24, "{n}邻里中心公共厕所"),
    ("health_station", (200, 400), 9, "{n}社区卫生服务站(邻里中心)"),
    ("supermarket", (800, 1500), 14, "{n}邻里中心超市"),
    ("childcare", (400, 900), 11, "{n}邻里中心幼儿园"),
    ("pharmacy", (80, 200), 14, "{n}邻里中心药店"),
    ("laundry", (30, 80), 12, "{n}邻里中心洗衣店"),
    ("hair", (40, 120), 12, "{n}邻里中心美发店"),
    ("recycling", (20, 50), 10, "{n}再生资源回收站"),
)
_CENTRE, _ELDERLY = "community_service_centre", "elderly_service_station"
FACILITY_COLUMNS = (
    "facility_id name category floor_area_m2 activity_area_m2 opening_hours_per_day "
    "volunteer_station self_service_terminal community_id area_m2 geometry"
)


def _organisation(rng: np.random.Generator, hh: float, residents: float) -> dict[str, Any]:
    """Organisation and staffing attributes of one community (a realistic mix)."""
    sub_min = float(rng.integers(2, 6))
    grids = float(max(1, round(hh / rng.uniform(280, 480))))
    return {
        "workers": float(max(3, round(residents / 10_000 * rng.uniform(12, 26)))),
        "social_orgs": float(rng.integers(5, 17)),
        "licensed_social_workers": float(rng.choice([0, 1, 1, 2, 3, 4])),
        "volunteer_orgs": float(rng.integers(1, 7)),
        "volunteer_station": bool(rng.random() < 0.75),
        "self_service_terminal": bool(rng.random() < 0.8),
        "opening_hours_per_day": float(rng.choice([7.0, 8.0, 8.0, 8.5, 9.0, 10.0, 12.0])),
        "double_report_rate": 1.0 if rng.random() < 0.5 else round(rng.uniform(0.82, 1.0), 3),
        "cadre_rotation_rate": 1.0 if rng.random() < 0.6 else round(rng.uniform(0.8, 1.0), 3),
        "owners_rep_party_share": round(rng.uniform(0.3, 0.72), 3),
        "owners_committee_party_share": round(rng.uniform(0.35, 0.75), 3),
        "subcommittee_min_size": sub_min,
        "subcommittee_max_size": sub_min + float(rng.integers(2, 8)),
        "disaster_info_officers": float(rng.choice([0, 1, 1, 1, 2])),
        "micro_fire_station": bool(rng.random() < 0.85),
        "emergency_team": bool(rng.random() < 0.8),
        "online_service_24h": bool(rng.random() < 0.7),
        "party_org": bool(rng.random() < 0.97),
        "selfgov_org": bool(rng.random() < 0.95),
        "grids": grids,
        "grid_workers": float(max(0, grids - rng.choice([0, 0, 0, 1, 2]))),
    }


def add_communities(acc: Acc, bld: gpd.GeoDataFrame, truth: pd.Series, layout: Layout) -> None:
    """Community attributes and their service centres, elderly and health stations."""
    rng = acc.rng
    comm_hh = truth.groupby(bld["community_id"]).sum()
    floor_area = (bld.area * bld["floors"]).groupby(bld["community_id"]).sum()
    urban = [c["community_id"] for c in acc.communities if c["kind"] == "urban"]
    rate = dict(zip(urban, stratified(rng, len(urban), *_CENTRE_M2_PER_100HH), strict=True))
    share = iter(stratified(rng, len(acc.communities) + 3, *_ACTIVITY_SHARE))
    village_area = iter(stratified(rng, NROWS, *_VILLAGE_CENTRE_M2))
    no_centre = set(rng.choice([c for c in urban if rate[c] < 25], 2, replace=False))
    two_centres = set(rng.choice([c for c in urban if c not in no_centre], 3, replace=False))
    for c in acc.communities:
        cid, n_hh, new = c["community_id"], float(comm_hh[c["community_id"]]), c["new_development"]
        residents = float(round(n_hh * rng.uniform(*_PERSONS_PER_HH)))
        c.update(households=n_hh, residents=residents, **_organisation(rng, n_hh, residents))
        total = float(floor_area[cid])
        c["total_floor_area_m2"] = round(total) if new else np.nan
        c["commercial_service_area_m2"] = round(total * rng.uniform(0.05, 0.14)) if new else np.nan
        c["developer_service_rooms_m2"] = round(n_hh * rng.uniform(0.2, 0.45)) if new else np.nan
        cq = layout.quads[cid]
        w, h = quad_size(cq)
        name, hours = c["name"], c["opening_hours_per_day"]
        flags = (c["volunteer_station"], c["self_service_terminal"])
        centre = f"{name}党群服务中心"
        if c["kind"] == "village":
            fa = round(next(village_area))
            pt = bilin(cq, 0.25, layout.entrances[cid] + 12 / h)
            acc.facility(pt, centre, _CENTRE, fa, hours, round(fa * next(share)), cid, flags)
            continue
        n_centres = 0 if cid in no_centre else 2 if cid in two_centres else 1
        for n, part in enumerate([1.0] if n_centres == 1 else [0.6, 0.4][:n_centres]):
            fa = round(rate[cid] * n_hh / 100 * part)
            pt = bilin(cq, rng.uniform(0.25, 0.75), 9 / h if n == 0 else 1 - 9 / h)
            label, act = centre + ("(二部)" if n else ""), round(fa * next(share))
            acc.facility(
                pt, label, _CENTRE, fa, hours, act, cid, flags if n == 0 else (False, False)
            )
        if rng.random() < 0.8:
            fa, hours = round(rng.uniform(120, 400)), float(rng.integers(9, 13))
            pt, act = bilin(cq, 9 / w, rng.uniform(0.3, 0.7)), round(fa * rng.uniform(0.5, 0.85))
            flags = (bool(rng.random() < 0.5), False)
            acc.facility(pt, f"{name}养老服务驿站", _ELDERLY, fa, hours, act, cid, flags)
        if rng.random() < 0.4:
            pt, fa = bilin(cq, 1 - 9 / w, rng.uniform(0.3, 0.7)), round(rng.uniform(150, 400))
            acc.facility(pt, f"{name}卫生服务站", "health_station", fa, float(rng.choice([8, 9])))


def frontage_point(
    rng: np.random.Generator, nodes: Arr, i: int, j: int, side: str, t: float
) -> tuple[Arr, str]:
    """A point 7-11 m inside side ``side`` (S, N, W, E) of superblock ``i, j``, at
    ``t`` along it, and the name of the arterial it faces."""
    q = block(nodes, i, j)
    w, h = quad_size(q)
    off = rng.uniform(7, 11)
    u, v, road = {
        "S": (t, off / h, EW_ROADS[j]),
        "N": (t, 1 - off / h, EW_ROADS[j + 1]),
        "W": (off / w, t, NS_ROADS[i]),
        "E": (1 - off / w, t, NS_ROADS[i + 1]),
    }[side]
    return bilin(q, u, v), road


def add_shops(acc: Acc, nodes: Arr, layout: Layout) -> None:
    """Shops face the arterials; the village fringe gets two small shops only."""
    rng = acc.rng

    def frontage(i: int, j: int, side: str, t: float) -> tuple[Arr, str]:
        return frontage_point(rng, nodes, i, j, side, t)

    for i, j, side in _WET_MARKETS:
        pt, road = frontage(i, j, side, rng.uniform(0.35, 0.65))
        area_m2 = round(rng.uniform(1000, 3000))
        acc.facility(pt, f"{road}菜市场", "wet_market", area_m2, float(rng.choice([12, 13])))
    cells = [(i, j) for i in range(NCOLS) for j in range(NROWS)]
    weight = np.array([1.5 if 1 <= i <= 3 and 1 <= j <= 2 else 1.0 for i, j in cells])
    for line in _SHOPS.strip().splitlines():
        category, count, sizes, hours, *brands = line.split()
        lo, hi = (float(x) for x in sizes.split("-"))
        for b in rng.choice(len(cells), int(count), p=weight / weight.sum()):
            side = str(rng.choice(list("SNWE")))
            pt, road = frontage(*cells[int(b)], side, rng.uniform(0.06, 0.94))
            branch = "园" if category == "childcare" else "店"  # a kindergarten's branch: 分园
            label, area_m2 = f"{rng.choice(brands)}({road}{branch})", round(rng.uniform(lo, hi))
            acc.facility(pt, label, category, area_m2, float(rng.choice(hours.split(","))))
    names = {c["community_id"]: c["name"] for c in acc.communities}
    for cid, v in list(layout.entrances.items())[::2]:
        pt = bilin(layout.quads[cid], 0.06, v - 0.03)
        acc.facility(pt, f"{names[cid]}小卖部", "convenience_store", round(rng.uniform(30, 80)), 14)
    # one facility 30 m outside the district (assignable with a tolerance), one far away
    q = block(nodes, 0, 1)
    w, _ = quad_size(q)
    acc.facility(bilin(q, -30 / w, 0.5), f"{NS_ROADS[0]}养老服务驿站(分站)", _ELDERLY, 160, 10, 110)
    acc.facility(bilin(q, -3000 / w, 0.5), "邻区社区党群服务中心", _CENTRE, 280, 8, 180)


def life_circle(acc: Acc, nodes: Arr) -> None:
    """Schools, police stations, shopping centres, banks and public toilets (the GB 50180
    life-circle facilities the shops do not cover), facing the arterials."""
    rng = acc.rng
    places = iter(rng.permutation(COMPOUND_PREFIX.split()))
    for category, where, (lo, hi), hours, pattern in _LIFE_CIRCLE:
        for i, j, side in where:
            pt, road = frontage_point(rng, nodes, i, j, side, rng.uniform(0.3, 0.7))
            name = pattern.format(p=next(places), r=road)
            acc.facility(pt, name, category, round(rng.uniform(lo, hi)), hours)
    cells = [(i, j) for i in range(NCOLS) for j in range(NROWS)]
    n_banks, (lo, hi), brands = _BANKS
    for b in rng.choice(len(cells), n_banks, replace=False):
        pt, road = frontage_point(rng, nodes, *cells[int(b)], str(rng.choice(list("SNWE"))), 0.5)
        label = f"{rng.choice(brands.split())}({road}支行)"
        acc.facility(pt, label, "bank", round(rng.uniform(lo, hi)), 8)
    n_toilets, (lo, hi) = _TOILETS
    for b in rng.choice(len(cells), n_toilets, replace=False):
        side = str(rng.choice(list("SNWE")))
        pt, road = frontage_point(rng, nodes, *cells[int(b)], side, rng.uniform(0.1, 0.9))
        acc.facility(pt, f"{road}公共厕所", "toilets", round(rng.uniform(lo, hi)), 24)
    comm = {c["community_id"]: c for c in acc.communities}
    new = sorted({cid for cid, _, _ in acc.branch_gates if comm[cid]["new_development"]})
    for cid in new[:_NEIGHBOURHOOD_CENTRES]:
        gate, end = next((g, e) for c, g, e in acc.branch_gates if c == cid)
        inward = (gate - end) / np.linalg.norm(gate - end)  # from the road to the gate
        along = np.array([-inward[1], inward[0]])
        name = str(comm[cid]["name"]).removesuffix("社区")
        for n, (category, (lo, hi), hours, pattern) in enumerate(_NEIGHBOURHOOD_CENTRE):
            sign = 1.0 if n % 2 else -1.0  # a row of shop fronts either side of the driveway
            pt = end + inward * rng.uniform(8, 11) + along * sign * (10.0 + 6.0 * (n // 2))
            fa = round(rng.uniform(lo, hi))
            if category == _ELDERLY:  # a community facility: its activity rooms, its community
                act = round(fa * rng.uniform(0.55, 0.8))
                acc.facility(pt, pattern.format(n=name), category, fa, hours, act, cid)
            else:
                acc.facility(pt, pattern.format(n=name), category, fa, hours)
    # childcare places for under-3s (托位): the nursery classes (托班) of the kindergartens in
    # the community (one place per 7-9 m2 of their floor area: generous, kept so the
    # district stays as it was drawn) plus places in rooms not mapped as facilities; the
    # infant-care centres drawn later (_amenities) add theirs. The national 2025 aim is 4.5
    # per 1,000 residents, which some communities reach and most do not
    care = [(f[-1], f[3]) for f in acc.facilities if f[2] == "childcare"]
    for c in acc.communities:
        inside = sum(area for pt, area in care if c["geometry"].contains(pt))
        nursery = rng.integers(0, 31) if c["kind"] == "urban" else rng.integers(0, 11)
        c["childcare_places"] = float(round(inside / rng.uniform(7, 9)) + nursery)

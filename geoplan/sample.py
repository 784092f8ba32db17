"""The seeded sample district: a realistic, deterministic Chinese urban district.

:func:`make_sample_district` builds every canonical frame of
``docs/architecture.md`` (communities, buildings, facilities, streets) plus gated
compounds, their gates and the district boundary, for a made-up part of Tianjin's
Nankai district (code 120104) in UTM zone 50N (EPSG:32650). The same seed gives
byte-identical frames. The district is built to pass some checks and fail others:

- superblocks of about 400 x 450 m between arterials, each holding one or two
  gated compounds (小区) with internal roads that end at gates on the compound
  boundary, footpaths between building rows, and a sparse village fringe (4 村)
  on the east side;
- old estates of 5-7 floor walk-ups in rows, new estates of 18-33 floor towers,
  village houses of 1-3 floors; about 5% of residential buildings have no
  household count (``households`` NaN, floors known) so estimation is exercised;
- community service centres sized between 10 and 60 m2 per 100 households,
  village centres of 150-500 m2, five wet markets that leave part of the centre
  and most of the villages beyond a 10-minute walk;
- every category a packaged profile checks: the shops of the MOFCOM lists, and for
  the GB 50180 life-circle levels primary and middle schools, police stations,
  shopping centres, banks and public toilets along the arterials, plus two
  neighbourhood centres (邻里中心) of new developments with the 5-minute services
  under one roof; so each level passes in some communities and fails in most
  (seed 0: 15 minutes 6 of 30 communities, 10 minutes 1, 5 minutes 2);
- childcare places (托位) per community, some above and most below 4.5 per 1,000
  residents;
- one facility 30 m outside the district (assignable within a tolerance) and one
  3 km away (unassignable).

Street lines are split at every junction and meet at exactly equal end points
(coordinates on a 1 cm grid), so a builder that joins lines at end points gets one
connected network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import Transformer

from geoplan._errors import InputError
from geoplan.io.write import atomic_path, write_csv

__all__ = ["SampleDistrict", "make_sample_district"]

_CRS = "EPSG:32650"
_ORIGIN_LONLAT = (117.20, 39.12)
_DISTRICT = "120104"
_GRID_M = 0.01  # coordinate grid of streets, gates and compounds (exact shared end points)
_NCOLS, _NROWS = 5, 4  # urban superblocks; the village fringe lies east of them
_LAYERS = ("study_area", "communities", "compounds", "gates", "buildings", "streets", "facilities")

# Generation parameters (how the made-up district is drawn, not audit thresholds).
_CENTRE_M2_PER_100HH = (10.0, 60.0)  # community service centre floor area drawn in this range
_VILLAGE_CENTRE_M2 = (150.0, 500.0)
_ACTIVITY_SHARE = (0.45, 0.8)
_PERSONS_PER_HH = (2.45, 2.8)
_NAN_HOUSEHOLDS_SHARE = 0.05

_NS_ROADS = ("卫津路", "白堤路", "红旗路", "华苑路", "咸阳路", "简阳路")
_EW_ROADS = ("复康路", "宾水道", "长江道", "鞍山西道", "凌宾路")
_NS_CLASS = ("secondary", "tertiary", "primary", "tertiary", "secondary", "secondary")
_EW_CLASS = ("secondary", "tertiary", "primary", "tertiary", "secondary")
_OLD_SUFFIX = ("里", "新村", "小区", "西里", "东里", "南里")
_NEW_SUFFIX = ("花园", "嘉园", "名邸", "家园", "公馆", "雅苑")
_VILLAGES = ("李七庄", "王兰庄", "大韩庄", "付村", "张窝", "小园", "西营门", "杨柳青庄")
_BRANCH_ROADS = """华坪路 雅安道 嘉陵道 王顶堤路 西湖道 黄河道 苑中路 淦江路 宜宾道 梅苑路
    兰苑路 竹苑路 居华路 久华路 天拖南道 迎水道 时代道 科研西路 凌奥路 苑东路"""
_COMMUNITY_PREFIX = """华苑 阳光 长江 王顶堤 凌宾 宜宾 迎水 日华 居华 安华 天华 碧华 地华 久华
    环宇 雅安 天塔 卫安 金平 风荷 白堤 红日 学府 体院北 水上 鹊桥 向阳 育梁 龙井 广开 万兴 黄河"""
_COMPOUND_PREFIX = """阳光 华苑 碧水 金谷 绿城 锦绣 龙湖 紫金 融创 保利 远洋 星河 时代 翠湖
    海棠 丽景 康宁 长泰 天骄 和平 宏达 兴盛 文苑 梅江 荣华 天房 新华 建设 红霞 复兴 安居 富力
    万隆 泰达 雅士 凯旋"""
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
childcare 5 300-900 10,11 托育中心 宝贝托育园
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
    ("childcare", (400, 900), 11, "{n}托育中心"),
    ("pharmacy", (80, 200), 14, "{n}邻里中心药店"),
    ("laundry", (30, 80), 12, "{n}邻里中心洗衣店"),
    ("hair", (40, 120), 12, "{n}邻里中心美发店"),
    ("recycling", (20, 50), 10, "{n}再生资源回收站"),
)

Arr = NDArray[np.float64]


@dataclass(frozen=True)
class SampleDistrict:
    """The layers of the sample district, all in EPSG:32650 (metres).

    Attributes
    ----------
    streets
        LineStrings split at every junction (index ``street_id``): ``highway``,
        ``name`` (missing on compound roads and footpaths), ``oneway``, ``length_m``.
    compounds
        Gated compounds (index ``compound_id``): ``name``, ``old_estate``, ``community_id``.
    gates
        Gate points on compound boundaries (index ``gate_id``): ``compound_id``.
    communities, buildings, facilities
        The canonical frames of ``docs/architecture.md``.
    study_area
        One row (index ``district_code``): the district boundary.
    households_true
        Every building's true household count (aligned to ``buildings``); the
        buildings frame hides about 5% of them as NaN.
    seed
        The seed the district was made with.
    """

    streets: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    study_area: gpd.GeoDataFrame
    households_true: pd.Series
    seed: int

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Copies of the spatial layers by name (the GeoPackage layer names).

        Examples
        --------
        >>> sorted(make_sample_district(seed=0).layers())[:3]
        ['buildings', 'communities', 'compounds']
        """
        return {name: getattr(self, name).copy() for name in _LAYERS}

    def to_files(
        self,
        folder: str | os.PathLike[str],
        *,
        fmt: Literal["gpkg", "geojson", "csv"] = "gpkg",
    ) -> list[Path]:
        """Write every layer into ``folder``, each file atomically; return the paths.

        ``gpkg``: one ``sample_district.gpkg`` with a layer per frame (EPSG:32650).
        ``geojson``: ``<layer>.geojson`` per layer, in EPSG:4326. ``csv``: ``<layer>.csv``
        per layer (UTF-8 with BOM); points get ``lon``/``lat`` columns, other layers a
        ``wkt`` column, both in EPSG:4326.

        Examples
        --------
        >>> import tempfile
        >>> d = make_sample_district(seed=0)
        >>> [p.name for p in d.to_files(tempfile.mkdtemp())]
        ['sample_district.gpkg']
        """
        folder = Path(folder)
        layers = self.layers()
        if fmt == "gpkg":
            return [_write_gpkg(folder / "sample_district.gpkg", layers)]
        paths = []
        for name, gdf in layers.items():
            wgs = gdf.to_crs(4326)
            if fmt == "geojson":
                with atomic_path(folder / f"{name}.geojson") as tmp:
                    wgs.reset_index().to_file(tmp, driver="GeoJSON", engine="pyogrio")
                paths.append(folder / f"{name}.geojson")
            elif fmt == "csv":
                table = pd.DataFrame(wgs.drop(columns="geometry"))
                if (wgs.geom_type == "Point").all():
                    table["lon"], table["lat"] = wgs.geometry.x.round(8), wgs.geometry.y.round(8)
                else:
                    table["wkt"] = shapely.to_wkt(wgs.geometry.values, rounding_precision=8)
                paths.append(write_csv(folder / f"{name}.csv", table))
            else:
                raise InputError(f"unknown format {fmt!r}; use 'gpkg', 'geojson' or 'csv'")
        return paths


def _write_gpkg(dest: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """All layers into one GeoPackage, atomically.

    GDAL warns about a GeoPackage whose name does not end in ``.gpkg`` (as the
    temporary file of :func:`geoplan.io.write.write_gpkg` does), so the layers are
    staged under a ``.gpkg`` name inside the atomic write.
    """
    with atomic_path(dest) as tmp:
        staged = tmp.with_name(tmp.name + ".gpkg")
        try:
            for name, gdf in layers.items():
                gdf.reset_index().to_file(staged, layer=name, driver="GPKG", engine="pyogrio")
            os.replace(staged, tmp)
        finally:
            staged.unlink(missing_ok=True)
    return dest


def _bilin(q: Arr, u: ArrayLike, v: ArrayLike) -> Arr:
    """Map unit-square coordinates onto the quadrilateral ``q`` (SW, SE, NE, NW).

    Lines of constant u or v map to straight lines, so rectangles map to quads.
    """
    uu = np.asarray(u, dtype=float)[..., None]
    vv = np.asarray(v, dtype=float)[..., None]
    out: Arr = (1 - vv) * ((1 - uu) * q[0] + uu * q[1]) + vv * (uu * q[2] + (1 - uu) * q[3])
    return out


def _sub(q: Arr, u0: float, v0: float, u1: float, v1: float) -> Arr:
    return _bilin(q, [u0, u1, u1, u0], [v0, v0, v1, v1])


def _size(q: Arr) -> tuple[float, float]:
    n = np.linalg.norm
    return float(n(q[1] - q[0]) + n(q[2] - q[3])) / 2, float(n(q[3] - q[0]) + n(q[2] - q[1])) / 2


def _rects(q: Arr, r: Arr) -> NDArray[Any]:
    """Polygons of unit-square rectangles ``r`` (n x [u0, v0, u1, v1]) mapped onto ``q``."""
    r = r.reshape(-1, 4)
    return np.asarray(shapely.polygons(_bilin(q, r[:, [0, 2, 2, 0, 0]], r[:, [1, 1, 3, 3, 1]])))


def _line(xy: ArrayLike) -> shapely.LineString:
    return shapely.LineString(np.asarray(xy).reshape(-1, 2))


def _block(nodes: Arr, i: int, j: int) -> Arr:
    """Corners (SW, SE, NE, NW) of superblock column ``i``, row ``j``."""
    return np.stack([nodes[i, j], nodes[i + 1, j], nodes[i + 1, j + 1], nodes[i, j + 1]])


_CENTRE, _ELDERLY = "community_service_centre", "elderly_service_station"
_FACILITY_COLUMNS = (
    "facility_id name category floor_area_m2 activity_area_m2 opening_hours_per_day "
    "volunteer_station self_service_terminal community_id geometry"
)


class _Acc:
    """The random generator and what the generator collects before the frames are built."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.lines: list[tuple[shapely.LineString, str, str | None]] = []
        self.bld: list[tuple[NDArray[Any], Arr, Arr, str, str | None]] = []
        self.compounds: list[tuple[str, str, bool, str, shapely.Polygon]] = []
        self.gates: list[tuple[str, str, shapely.Point]] = []
        self.communities: list[dict[str, Any]] = []
        self.facilities: list[tuple[Any, ...]] = []
        # (community id, gate, driveway end on the branch road) of gates facing a branch road
        self.branch_gates: list[tuple[str, Arr, Arr]] = []

    def facility(
        self,
        xy: Arr,
        name: str,
        category: str,
        area: float,
        hours: float,
        activity: float = np.nan,
        cid: str | None = None,
        flags: tuple[bool, bool] = (False, False),
    ) -> None:
        """Add a facility; ``flags`` are (volunteer_station, self_service_terminal)."""
        fid = f"F{len(self.facilities) + 1:04d}"
        row = (fid, name, category, float(area), float(activity), float(hours), *flags, cid)
        self.facilities.append((*row, shapely.Point(xy)))


def _households(
    rng: np.random.Generator, polys: NDArray[Any], floors: Arr, ntg: float, dwelling_m2: float
) -> Arr:
    """Households from footprint x floors x net-to-gross / dwelling size, with noise."""
    gross = shapely.area(polys) * floors * ntg / dwelling_m2
    return np.maximum(1.0, np.round(gross * rng.lognormal(0.0, 0.08, len(polys))))


def _compound(acc: _Acc, q: Arr, sub: tuple[float, ...], old: bool, ids: tuple[str, str]) -> None:
    """A gated compound inside part ``sub`` of superblock ``q``: roads, gates, buildings.

    ``ids`` are the compound's id and its community's id.
    """
    rng, (compound_id, community_id) = acc.rng, ids
    w_sb, h_sb = _size(q)
    u0, v0, u1, v1 = sub
    inset = rng.uniform(12, 16)
    cu0, cv0, cu1, cv1 = u0 + inset / w_sb, v0 + inset / h_sb, u1 - inset / w_sb, v1 - inset / h_sb
    qc = _sub(q, cu0, cv0, cu1, cv1)
    wc, hc = _size(qc)

    def xy(a: ArrayLike, b: ArrayLike) -> Arr:  # metres inside the compound -> map
        return _bilin(qc, np.asarray(a, dtype=float) / wc, np.asarray(b, dtype=float) / hc)

    m, corr = 8.0, 7.0  # building margin inside the fence; half-width kept free along roads
    us, vs = wc * rng.uniform(0.4, 0.6), hc * rng.uniform(0.4, 0.6)
    gated = sorted(rng.choice(4, size=int(rng.choice([3, 4, 4])), replace=False).tolist())
    # gates S, E, N, W: the very same coordinates serve the fence, the gate and the roads
    gate_xy = xy([us, wc, us, 0.0], [0.0, vs, hc, vs])
    ring = xy([0, us, wc, wc, wc, us, 0, 0, 0], [0, 0, 0, vs, hc, hc, hc, vs, 0])
    ring[[1, 3, 5, 7]] = gate_xy
    keep = [i for i in range(9) if i % 2 == 0 or (i - 1) // 2 in gated]
    fence = shapely.set_precision(shapely.Polygon(ring[keep]), _GRID_M)
    prefixes = _COMPOUND_PREFIX.split()
    prefix = prefixes[int(compound_id[1:]) % len(prefixes)]
    name = prefix + str(rng.choice(_OLD_SUFFIX if old else _NEW_SUFFIX))
    acc.compounds.append((compound_id, name, old, community_id, fence))
    ends = {0: xy(us, m / 2), 1: xy(wc - m / 2, vs), 2: xy(us, hc - m / 2), 3: xy(m / 2, vs)}
    uu, vv = cu0 + (cu1 - cu0) * us / wc, cv0 + (cv1 - cv0) * vs / hc
    for k in gated:
        ends[k] = gate_xy[k]
        gate = shapely.set_precision(shapely.Point(gate_xy[k]), _GRID_M)
        acc.gates.append((f"{compound_id}-G{k + 1}", compound_id, gate))
        # the driveway from the gate to the road centreline (an arterial or a branch road)
        out = {0: (uu, v0), 1: (u1, vv), 2: (uu, v1), 3: (u0, vv)}[k]
        acc.lines.append((_line([gate_xy[k], _bilin(q, *out)]), "service", None))
        if 0.0 < (v0, u1, v1, u0)[k] < 1.0:  # inside the superblock: a branch road
            acc.branch_gates.append((community_id, gate_xy[k], _bilin(q, *out)))
    acc.lines.append((_line([ends[0], ends[2]]), "service", None))
    acc.lines.append((_line([ends[3], ends[1]]), "service", None))

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
                acc.lines.append((_line(xy([m / 2, wc - m / 2], [yf, yf])), "footway", None))
            for a0, a1 in ((m, us - corr), (us + corr, wc - m)):
                x = a0 + rng.uniform(0, gap[1])
                while (length_m := rng.uniform(*length)) <= a1 - x:
                    if rng.random() > 0.1:
                        rects.append((x, y, x + length_m, y + d))
                    x += length_m + rng.uniform(*gap)
    polys = _rects(qc, np.array(rects) / [wc, hc, wc, hc])
    if old:
        floors = rng.choice([5.0, 6.0, 6.0, 6.0, 7.0], len(polys))
        hh = _households(rng, polys, floors, 0.75, 62.0)
    else:
        floors = rng.integers(18, 34, len(polys)).astype(float)
        hh = _households(rng, polys, floors, 0.72, 95.0)
    acc.bld.append((polys, floors, hh, community_id, compound_id))


def _village(acc: _Acc, q: Arr, name: str, community_id: str, branch_to: float | None) -> float:
    """Village lanes and houses in quad ``q``; returns the v of the main lane's entrance."""
    rng = acc.rng
    w, h = _size(q)
    v_main = rng.uniform(0.35, 0.65)
    uv = np.column_stack([[0.0, 0.15, 0.3, 0.45, 0.6, 0.75, 0.85], np.full(7, v_main)])
    uv[1:, 1] += rng.normal(0, 0.04, 6)
    main = _bilin(q, uv[:, 0], uv[:, 1])
    lanes = [_line(main)]
    acc.lines.append((lanes[0], "unclassified", f"{name}村大街"))
    starts = sorted(rng.choice(np.arange(2, 7), size=int(rng.integers(2, 4)), replace=False))
    for n, k in enumerate(starts):  # branch lanes, the first one up to the through road
        end = rng.choice([0.1, 0.9]) if n or branch_to is None else branch_to
        vs = np.linspace(uv[k, 1], end, 4)[1:]
        us = uv[k, 0] + np.r_[rng.normal(0, 0.03, 2), rng.normal(0, 0.02)]
        lanes.append(_line(np.vstack([main[k], _bilin(q, us, vs)])))
        acc.lines.append((lanes[-1], "residential", f"{name}村{'一二三'[n]}巷"))
    # houses on a grid of lots, kept near the lanes and clear of them
    na, nb = int(w * 0.94 // 17), int(h * 0.94 // 16)
    a, b = (g.ravel() for g in np.meshgrid(np.arange(na), np.arange(nb), indexing="ij"))
    lot_u, lot_v = 0.94 / na, 0.94 / nb
    su, sv = rng.uniform(9, 13, a.size) / w, rng.uniform(8, 11, a.size) / h
    x0 = 0.03 + a * lot_u + rng.uniform(0, 1, a.size) * (lot_u - su)
    y0 = 0.03 + b * lot_v + rng.uniform(0, 1, a.size) * (lot_v - sv)
    polys = _rects(q, np.column_stack([x0, y0, x0 + su, y0 + sv]))
    lane_union = shapely.union_all(lanes)
    near = shapely.distance(shapely.centroid(polys), lane_union) < 50
    clear = ~shapely.intersects(polys, shapely.buffer(lane_union, 3.5))
    polys = polys[near & clear & (rng.random(a.size) < 0.85)]
    floors = rng.choice([1.0, 1.0, 2.0, 2.0, 3.0], len(polys))
    acc.bld.append((polys, floors, _households(rng, polys, floors, 0.8, 110.0), community_id, None))
    return float(v_main)


def _stratified(rng: np.random.Generator, n: int, lo: float, hi: float) -> Arr:
    """n values spread over [lo, hi] in shuffled strata (so every part of the range occurs)."""
    out: Arr = lo + (hi - lo) * (rng.permutation(n) + rng.random(n)) / n
    return out


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


def _grid_nodes(rng: np.random.Generator) -> tuple[Arr, Arr]:
    """Jittered arterial crossings ``nodes[i, j]`` and the village fringe's east edge."""
    lon, lat = _ORIGIN_LONLAT
    x0, y0 = Transformer.from_crs("EPSG:4326", _CRS, always_xy=True).transform(lon, lat)
    xs = np.r_[0, np.cumsum(rng.uniform(390, 460, _NCOLS))]
    ys = np.r_[0, np.cumsum(rng.uniform(420, 480, _NROWS))]
    grid = np.stack(np.meshgrid(xs, ys, indexing="ij"), axis=-1)
    nodes = grid + rng.uniform(-15, 15, grid.shape) + np.round([x0 - xs[-1] / 2, y0 - ys[-1] / 2])
    shift = np.column_stack([rng.uniform(560, 640, _NROWS + 1), rng.uniform(-10, 10, _NROWS + 1)])
    return nodes, nodes[-1] + shift


def _layout(acc: _Acc, nodes: Arr, east: Arr) -> dict[str, Any]:
    """Arterials, superblocks (communities, compounds) and villages; community quads."""
    rng = acc.rng
    for i in range(_NCOLS + 1):
        acc.lines.append((_line(nodes[i]), _NS_CLASS[i], _NS_ROADS[i]))
    for j in range(_NROWS + 1):
        acc.lines.append((_line(nodes[:, j]), _EW_CLASS[j], _EW_ROADS[j]))
    mid = _NROWS // 2  # the middle east-west road runs on through the village fringe
    acc.lines.append((_line([nodes[-1, mid], east[mid]]), "tertiary", _EW_ROADS[mid]))
    comm_names = iter(rng.permutation(_COMMUNITY_PREFIX.split()))
    branch_names = iter(rng.permutation(_BRANCH_ROADS.split()))
    kinds = rng.permutation(["split"] * 6 + ["two"] * 8 + ["one"] * 6)
    p_old = (0.9, 0.85, 0.7, 0.35, 0.15)  # old estates in the west, new ones in the east
    counter: dict[int, int] = {}
    quads: dict[str, Any] = {}

    def community(street: int, quad: Arr, name: str, kind: str, old: bool, new: bool) -> str:
        counter[street] = counter.get(street, 0) + 1
        cid = f"{_DISTRICT}{street:03d}{counter[street]:03d}"
        central = kind == "urban" and street < 3  # the western columns of superblocks
        flags = {"old_estate": old, "new_development": new, "central_district": central}
        row = {"community_id": cid, "name": name, "kind": kind, "households": np.nan}
        row |= {"residents": np.nan, "district_code": _DISTRICT, **flags}
        acc.communities.append({**row, "geometry": shapely.Polygon(quad)})
        quads[cid] = quad
        return cid

    for k, (i, j) in enumerate((i, j) for i in range(_NCOLS) for j in range(_NROWS)):
        q = _block(nodes, i, j)
        old = bool(rng.random() < p_old[i])
        subs: list[tuple[float, ...]] = [(0.0, 0.0, 1.0, 1.0)]
        if kinds[k] != "one":  # a public branch road splits the superblock in two
            s = rng.uniform(0.42, 0.58)
            if rng.random() < 0.5:
                subs, branch = [(0, 0, s, 1), (s, 0, 1, 1)], _bilin(q, [s, s], [0, 1])
            else:
                subs, branch = [(0, 0, 1, s), (0, s, 1, 1)], _bilin(q, [0, 1], [s, s])
            acc.lines.append((_line(branch), "residential", str(next(branch_names))))
        for group in [[sub] for sub in subs] if kinds[k] == "split" else [subs]:
            box = (*np.min(group, axis=0)[:2], *np.max(group, axis=0)[2:])
            label = f"{next(comm_names)}社区"
            cid = community(1 + i // 2, _sub(q, *box), label, "urban", old, not old and i >= 3)
            for sub in group:
                _compound(acc, q, sub, old, (f"C{len(acc.compounds) + 1:03d}", cid))
    village_names = rng.choice(_VILLAGES, _NROWS, replace=False)
    entrances = {}
    for j in range(_NROWS):
        q = np.stack([nodes[-1, j], east[j], east[j + 1], nodes[-1, j + 1]])
        cid = community(4, q, f"{village_names[j]}村", "village", False, False)
        to = 1.0 if j == mid - 1 else 0.0 if j == mid else None
        entrances[cid] = _village(acc, q, str(village_names[j]), cid, to)
    return {"quads": quads, "entrances": entrances}


def _buildings(acc: _Acc) -> tuple[gpd.GeoDataFrame, pd.Series]:
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
    buildings = gpd.GeoDataFrame(frame, geometry=polys, index=ids, crs=_CRS)
    return buildings, pd.Series(truth, index=ids, name="households")


def _communities(
    acc: _Acc, bld: gpd.GeoDataFrame, truth: pd.Series, layout: dict[str, Any]
) -> None:
    """Community attributes and their service centres, elderly and health stations."""
    rng = acc.rng
    comm_hh = truth.groupby(bld["community_id"]).sum()
    floor_area = (bld.area * bld["floors"]).groupby(bld["community_id"]).sum()
    urban = [c["community_id"] for c in acc.communities if c["kind"] == "urban"]
    rate = dict(zip(urban, _stratified(rng, len(urban), *_CENTRE_M2_PER_100HH), strict=True))
    share = iter(_stratified(rng, len(acc.communities) + 3, *_ACTIVITY_SHARE))
    village_area = iter(_stratified(rng, _NROWS, *_VILLAGE_CENTRE_M2))
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
        cq = layout["quads"][cid]
        w, h = _size(cq)
        name, hours = c["name"], c["opening_hours_per_day"]
        flags = (c["volunteer_station"], c["self_service_terminal"])
        centre = f"{name}党群服务中心"
        if c["kind"] == "village":
            fa = round(next(village_area))
            pt = _bilin(cq, 0.25, layout["entrances"][cid] + 12 / h)
            acc.facility(pt, centre, _CENTRE, fa, hours, round(fa * next(share)), cid, flags)
            continue
        n_centres = 0 if cid in no_centre else 2 if cid in two_centres else 1
        for n, part in enumerate([1.0] if n_centres == 1 else [0.6, 0.4][:n_centres]):
            fa = round(rate[cid] * n_hh / 100 * part)
            pt = _bilin(cq, rng.uniform(0.25, 0.75), 9 / h if n == 0 else 1 - 9 / h)
            label, act = centre + ("(二部)" if n else ""), round(fa * next(share))
            acc.facility(
                pt, label, _CENTRE, fa, hours, act, cid, flags if n == 0 else (False, False)
            )
        if rng.random() < 0.8:
            fa, hours = round(rng.uniform(120, 400)), float(rng.integers(9, 13))
            pt, act = _bilin(cq, 9 / w, rng.uniform(0.3, 0.7)), round(fa * rng.uniform(0.5, 0.85))
            flags = (bool(rng.random() < 0.5), False)
            acc.facility(pt, f"{name}养老服务驿站", _ELDERLY, fa, hours, act, cid, flags)
        if rng.random() < 0.4:
            pt, fa = _bilin(cq, 1 - 9 / w, rng.uniform(0.3, 0.7)), round(rng.uniform(150, 400))
            acc.facility(pt, f"{name}卫生服务站", "health_station", fa, float(rng.choice([8, 9])))


def _frontage(
    rng: np.random.Generator, nodes: Arr, i: int, j: int, side: str, t: float
) -> tuple[Arr, str]:
    """A point 7-11 m inside side ``side`` (S, N, W, E) of superblock ``i, j``, at
    ``t`` along it, and the name of the arterial it faces."""
    q = _block(nodes, i, j)
    w, h = _size(q)
    off = rng.uniform(7, 11)
    u, v, road = {
        "S": (t, off / h, _EW_ROADS[j]),
        "N": (t, 1 - off / h, _EW_ROADS[j + 1]),
        "W": (off / w, t, _NS_ROADS[i]),
        "E": (1 - off / w, t, _NS_ROADS[i + 1]),
    }[side]
    return _bilin(q, u, v), road


def _shops(acc: _Acc, nodes: Arr, layout: dict[str, Any]) -> None:
    """Shops face the arterials; the village fringe gets two small shops only."""
    rng = acc.rng

    def frontage(i: int, j: int, side: str, t: float) -> tuple[Arr, str]:
        return _frontage(rng, nodes, i, j, side, t)

    for i, j, side in _WET_MARKETS:
        pt, road = frontage(i, j, side, rng.uniform(0.35, 0.65))
        area_m2 = round(rng.uniform(1000, 3000))
        acc.facility(pt, f"{road}菜市场", "wet_market", area_m2, float(rng.choice([12, 13])))
    cells = [(i, j) for i in range(_NCOLS) for j in range(_NROWS)]
    weight = np.array([1.5 if 1 <= i <= 3 and 1 <= j <= 2 else 1.0 for i, j in cells])
    for line in _SHOPS.strip().splitlines():
        category, count, sizes, hours, *brands = line.split()
        lo, hi = (float(x) for x in sizes.split("-"))
        for b in rng.choice(len(cells), int(count), p=weight / weight.sum()):
            side = str(rng.choice(list("SNWE")))
            pt, road = frontage(*cells[int(b)], side, rng.uniform(0.06, 0.94))
            label, area_m2 = f"{rng.choice(brands)}({road}店)", round(rng.uniform(lo, hi))
            acc.facility(pt, label, category, area_m2, float(rng.choice(hours.split(","))))
    names = {c["community_id"]: c["name"] for c in acc.communities}
    for cid, v in list(layout["entrances"].items())[::2]:
        pt = _bilin(layout["quads"][cid], 0.06, v - 0.03)
        acc.facility(pt, f"{names[cid]}小卖部", "convenience_store", round(rng.uniform(30, 80)), 14)
    # one facility 30 m outside the district (assignable with a tolerance), one far away
    q = _block(nodes, 0, 1)
    w, _ = _size(q)
    acc.facility(
        _bilin(q, -30 / w, 0.5), f"{_NS_ROADS[0]}养老服务驿站(分站)", _ELDERLY, 160, 10, 110
    )
    acc.facility(_bilin(q, -3000 / w, 0.5), "邻区社区党群服务中心", _CENTRE, 280, 8, 180)


def _life_circle(acc: _Acc, nodes: Arr) -> None:
    """Schools, police stations, shopping centres, banks and public toilets (the GB 50180
    life-circle facilities the shops do not cover), facing the arterials."""
    rng = acc.rng
    places = iter(rng.permutation(_COMPOUND_PREFIX.split()))
    for category, where, (lo, hi), hours, pattern in _LIFE_CIRCLE:
        for i, j, side in where:
            pt, road = _frontage(rng, nodes, i, j, side, rng.uniform(0.3, 0.7))
            name = pattern.format(p=next(places), r=road)
            acc.facility(pt, name, category, round(rng.uniform(lo, hi)), hours)
    cells = [(i, j) for i in range(_NCOLS) for j in range(_NROWS)]
    n_banks, (lo, hi), brands = _BANKS
    for b in rng.choice(len(cells), n_banks, replace=False):
        pt, road = _frontage(rng, nodes, *cells[int(b)], str(rng.choice(list("SNWE"))), 0.5)
        label = f"{rng.choice(brands.split())}({road}支行)"
        acc.facility(pt, label, "bank", round(rng.uniform(lo, hi)), 8)
    n_toilets, (lo, hi) = _TOILETS
    for b in rng.choice(len(cells), n_toilets, replace=False):
        side = str(rng.choice(list("SNWE")))
        pt, road = _frontage(rng, nodes, *cells[int(b)], side, rng.uniform(0.1, 0.9))
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
    # childcare places for under-3s (托位): the childcare centres in the community at 7-9 m2
    # per place, plus nursery classes (托班) of kindergartens; the national 2025 aim is 4.5
    # per 1,000 residents, which some communities reach and most do not
    care = [(f[-1], f[3]) for f in acc.facilities if f[2] == "childcare"]
    for c in acc.communities:
        inside = sum(area for pt, area in care if c["geometry"].contains(pt))
        nursery = rng.integers(0, 31) if c["kind"] == "urban" else rng.integers(0, 11)
        c["childcare_places"] = float(round(inside / rng.uniform(7, 9)) + nursery)


def _streets(lines: list[tuple[shapely.LineString, str, str | None]]) -> gpd.GeoDataFrame:
    """Node the lines on a 1 cm grid (split at every junction) and carry their attributes."""
    source = np.array([g for g, _, _ in lines], dtype=object)
    pieces = shapely.get_parts(shapely.union_all(source, grid_size=_GRID_M))
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
    return gpd.GeoDataFrame(frame, geometry=pieces, index=ids, crs=_CRS)


def make_sample_district(*, seed: int = 0) -> SampleDistrict:
    """Generate the sample district (deterministic for a seed).

    Parameters
    ----------
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical frames.

    Returns
    -------
    SampleDistrict
        Streets, compounds, gates, communities (26 urban 社区 and 4 villages 村),
        about 1,900 buildings, about 360 facilities and the study area, in EPSG:32650.

    Examples
    --------
    >>> d = make_sample_district(seed=0)
    >>> len(d.communities) >= 25
    True
    >>> d.communities.crs.to_epsg(), d.communities.index[0]
    (32650, '120104001001')
    """
    acc = _Acc(seed)
    nodes, east = _grid_nodes(acc.rng)
    layout = _layout(acc, nodes, east)
    buildings, truth = _buildings(acc)
    _communities(acc, buildings, truth, layout)
    _shops(acc, nodes, layout)
    _life_circle(acc, nodes)
    facilities = _frame(acc.facilities, _FACILITY_COLUMNS)
    facilities["community_id"] = facilities["community_id"].astype("str")
    communities = _frame(acc.communities)
    compounds = _frame(acc.compounds, "compound_id name old_estate community_id geometry")
    gates = _frame(acc.gates, "gate_id compound_id geometry")
    ring = np.vstack([nodes[:, 0], east, nodes[::-1, -1], nodes[0, -2::-1]])
    area = _frame(
        [(_DISTRICT, "南开区(样例片区)", shapely.Polygon(ring))], "district_code name geometry"
    )
    return SampleDistrict(
        streets=_streets(acc.lines),
        compounds=compounds,
        gates=gates,
        communities=communities,
        buildings=buildings,
        facilities=facilities,
        study_area=area,
        households_true=truth,
        seed=seed,
    )


def _frame(rows: list[Any], columns: str | None = None) -> gpd.GeoDataFrame:
    """A frame in the sample _CRS from dicts or tuples (named by ``columns``), indexed by the
    first column."""
    table = pd.DataFrame(rows, columns=None if columns is None else columns.split())
    return gpd.GeoDataFrame(table, geometry="geometry", crs=_CRS).set_index(table.columns[0])

"""The drawing kit of the sample district: its frame of reference, the quad geometry
helpers, the accumulator that collects rows while drawing, and the frame builder.

Private to :mod:`geoplan.sample`. Everything here is shared by the layout (streets,
compounds, buildings) and the facilities; nothing here draws random numbers itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike, NDArray

CRS = "EPSG:32650"
ORIGIN_LONLAT = (117.20, 39.12)
DISTRICT = "120104"
DISTRICT_NAME = "南开区(样例片区)"  # made up: a part of Nankai, not its real extent
#: The sample's streets (街道) by the 3 digits after the district code; names of
#: Nankai's streets, the communities drawn in them are made up.
STREET_NAMES = {1: "水上公园街道", 2: "王顶堤街道", 3: "华苑街道", 4: "西营门街道"}
GRID_M = 0.01  # coordinate grid of streets, gates and compounds (exact shared end points)
NCOLS, NROWS = 5, 4  # urban superblocks; the village fringe lies east of them

# the arterials (west to east, south to north) and the compound name prefixes
NS_ROADS = ("卫津路", "白堤路", "红旗路", "华苑路", "咸阳路", "简阳路")
EW_ROADS = ("复康路", "宾水道", "长江道", "鞍山西道", "凌宾路")
NS_CLASS = ("secondary", "tertiary", "primary", "tertiary", "secondary", "secondary")
EW_CLASS = ("secondary", "tertiary", "primary", "tertiary", "secondary")
COMPOUND_PREFIX = """阳光 华苑 碧水 金谷 绿城 锦绣 龙湖 紫金 融创 保利 远洋 星河 时代 翠湖
    海棠 丽景 康宁 长泰 天骄 和平 宏达 兴盛 文苑 梅江 荣华 天房 新华 建设 红霞 复兴 安居 富力
    万隆 泰达 雅士 凯旋"""

Arr = NDArray[np.float64]


def bilin(q: Arr, u: ArrayLike, v: ArrayLike) -> Arr:
    """Map unit-square coordinates onto the quadrilateral ``q`` (SW, SE, NE, NW).

    Lines of constant u or v map to straight lines, so rectangles map to quads.
    """
    uu = np.asarray(u, dtype=float)[..., None]
    vv = np.asarray(v, dtype=float)[..., None]
    out: Arr = (1 - vv) * ((1 - uu) * q[0] + uu * q[1]) + vv * (uu * q[2] + (1 - uu) * q[3])
    return out


def quad_part(q: Arr, u0: float, v0: float, u1: float, v1: float) -> Arr:
    return bilin(q, [u0, u1, u1, u0], [v0, v0, v1, v1])


def quad_size(q: Arr) -> tuple[float, float]:
    n = np.linalg.norm
    return float(n(q[1] - q[0]) + n(q[2] - q[3])) / 2, float(n(q[3] - q[0]) + n(q[2] - q[1])) / 2


def quad_rects(q: Arr, r: Arr) -> NDArray[np.object_]:
    """Polygons of unit-square rectangles ``r`` (n x [u0, v0, u1, v1]) mapped onto ``q``."""
    r = r.reshape(-1, 4)
    return np.asarray(shapely.polygons(bilin(q, r[:, [0, 2, 2, 0, 0]], r[:, [1, 1, 3, 3, 1]])))


def line(xy: ArrayLike) -> shapely.LineString:
    return shapely.LineString(np.asarray(xy).reshape(-1, 2))


def block(nodes: Arr, i: int, j: int) -> Arr:
    """Corners (SW, SE, NE, NW) of superblock column ``i``, row ``j``."""
    return np.stack([nodes[i, j], nodes[i + 1, j], nodes[i + 1, j + 1], nodes[i, j + 1]])


@dataclass(frozen=True)
class Layout:
    """What the facilities need of the layout: each community's quad (SW, SE, NE, NW)
    and each village's main-lane entrance (its ``v`` on the village's quad)."""

    quads: dict[str, Arr]
    entrances: dict[str, float]


class Acc:
    """The random generator and what the generator collects before the frames are built."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.lines: list[tuple[shapely.LineString, str, str | None]] = []
        self.bld: list[tuple[NDArray[np.object_], Arr, Arr, str, str | None]] = []
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
        *,
        land_m2: float = np.nan,
    ) -> None:
        """Add a facility; ``area`` is its floor area (NaN: none, a
        park), ``flags`` are (volunteer_station, self_service_terminal), ``land_m2`` the
        land area of a park (column ``area_m2``)."""
        fid = f"F{len(self.facilities) + 1:04d}"
        row = (fid, name, category, float(area), float(activity), float(hours), *flags, cid)
        self.facilities.append((*row, float(land_m2), shapely.Point(xy)))


def stratified(rng: np.random.Generator, n: int, lo: float, hi: float) -> Arr:
    """n values spread over [lo, hi] in shuffled strata (so every part of the range occurs)."""
    out: Arr = lo + (hi - lo) * (rng.permutation(n) + rng.random(n)) / n
    return out


def sample_frame(
    rows: Sequence[tuple[object, ...]] | Sequence[dict[str, object]], columns: str | None = None
) -> gpd.GeoDataFrame:
    """A frame in the sample CRS from dicts or tuples (named by ``columns``), indexed by the
    first column."""
    table = pd.DataFrame(rows, columns=None if columns is None else columns.split())
    return gpd.GeoDataFrame(table, geometry="geometry", crs=CRS).set_index(table.columns[0])

"""Column names: canonical names, their Chinese and English aliases, and types.

Readers rename input columns to the canonical names in ``docs/architecture.md``.
A user can pass ``columns={"their name": "canonical"}`` to map anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "ALIASES",
    "BOOL_COLUMNS",
    "LAYERS",
    "NUMERIC_COLUMNS",
    "POI_COLUMNS",
    "REQUIRED",
    "TEXT_COLUMNS",
    "TOTAL_ROW_LABELS",
    "ColumnMap",
]

# canonical name -> aliases (compared case-insensitively, spaces and underscores ignored)
_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "代码", "编码", "序号", "fid", "objectid"),
    "community_id": (
        "community_id",
        "社区编码",
        "社区代码",
        "社区编号",
        "所属社区编码",
        "所属社区",
    ),
    "facility_id": ("facility_id", "设施编号", "设施编码", "设施代码"),
    "building_id": ("building_id", "建筑编号", "楼栋编号", "楼号"),
    "name": ("name", "名称", "社区名称", "设施名称", "建筑名称", "村名", "name_zh", "name:zh"),
    "kind": ("kind", "社区类型", "类型(城市/村)", "城乡类型"),
    "households": ("households", "户数", "住户数", "居民户数", "总户数", "hh"),
    "residents": ("residents", "人口", "常住人口", "居民人数", "人数", "population"),
    "district_code": ("district_code", "区划代码", "行政区划代码", "区代码", "adcode"),
    # the ledger's 区 / 街道 columns (names; the code stays in district_code)
    "district_name": ("district_name", "区", "区名", "区县", "所属区", "所属区县"),
    "street_name": ("street_name", "街道", "街道名称", "乡镇街道", "所属街道", "街镇"),
    "old_estate": ("old_estate", "老旧小区", "是否老旧小区"),
    "new_development": ("new_development", "新建社区", "是否新建", "新建小区"),
    "central_district": ("central_district", "中心城区", "是否中心城区"),
    "total_floor_area_m2": ("total_floor_area_m2", "总建筑面积", "社区总建筑面积"),
    "commercial_service_area_m2": (
        "commercial_service_area_m2",
        "商业和综合服务设施面积",
        "商业服务面积",
        "新建商业和综合服务设施面积",
    ),
    "developer_service_rooms_m2": (
        "developer_service_rooms_m2",
        "配建社区服务用房面积",
        "社区服务用房面积",
        "服务用房面积",
    ),
    "category": ("category", "类别", "设施类别", "设施类型", "业态"),
    "floor_area_m2": ("floor_area_m2", "建筑面积", "面积", "floor_area"),
    "activity_area_m2": ("activity_area_m2", "活动面积", "居民活动面积", "活动区域面积"),
    # the services a facility houses (embedded-services complex): "养老服务、婴幼儿托育、社区助餐";
    # plain 功能 stays a building's use (below)
    "functions": (
        "functions",
        "服务功能",
        "功能业态",
        "服务内容",
        "服务项目",
        "功能设置",
        "service_functions",
    ),
    "opening_hours_per_day": ("opening_hours_per_day", "开放时长", "每日开放时长", "开放小时"),
    "volunteer_station": ("volunteer_station", "志愿服务站点", "志愿服务站"),
    "self_service_terminal": ("self_service_terminal", "自助服务终端", "政务自助终端"),
    "use": ("use", "用途", "建筑用途", "功能"),
    "floors": ("floors", "层数", "楼层数", "floor", "building:levels", "levels"),
    "height_m": ("height_m", "height", "高度", "建筑高度"),
    "footprint_m2": ("footprint_m2", "基底面积", "占地面积"),
    "workers": ("workers", "社区工作者", "社区工作者人数", "工作人员"),
    "social_orgs": ("social_orgs", "社区社会组织", "社会组织数", "社区社会组织数"),
    "licensed_social_workers": ("licensed_social_workers", "持证社会工作者", "持证社工"),
    "volunteer_orgs": ("volunteer_orgs", "志愿服务组织", "志愿者服务组织"),
    "disaster_info_officers": ("disaster_info_officers", "灾害信息员"),
    "micro_fire_station": ("micro_fire_station", "微型消防站"),
    "emergency_team": ("emergency_team", "应急救援队伍", "应急队伍"),
    "online_service_24h": ("online_service_24h", "24小时线上服务", "线上服务"),
    "party_org": ("party_org", "党组织"),
    "selfgov_org": ("selfgov_org", "自治组织", "居委会"),
    "double_report_rate": ("double_report_rate", "双报到完成率"),
    "cadre_rotation_rate": ("cadre_rotation_rate", "下沉轮值率"),
    "owners_rep_party_share": ("owners_rep_party_share", "业主代表党员比例"),
    "owners_committee_party_share": ("owners_committee_party_share", "业委会党员比例"),
    "subcommittee_min_size": ("subcommittee_min_size", "下属委员会最少人数"),
    "subcommittee_max_size": ("subcommittee_max_size", "下属委员会最多人数"),
    "grids": ("grids", "网格数"),
    "grid_workers": ("grid_workers", "专职网格员", "网格员"),
    "lon": ("lon", "lng", "longitude", "经度", "x"),
    "lat": ("lat", "latitude", "纬度", "y"),
    # columns of AMap and Baidu POI exports (facilities only, see POI_COLUMNS)
    "typecode": (
        "typecode",
        "type_code",
        "类型编码",
        "类型代码",
        "分类编码",
        "分类代码",
        "poi类型编码",
        "poi分类编码",
    ),
    "poi_type": ("type", "poi_type", "类型", "poi类型", "类型名称", "分类名称"),
    "tag": ("tag", "标签", "detail_info.tag", "detail_info_tag", "百度分类"),
    "location": ("location", "坐标", "经纬度", "lnglat", "lonlat"),
    "uid": ("uid", "百度uid"),
}
ALIASES: Mapping[str, tuple[str, ...]] = MappingProxyType(_ALIASES)

NUMERIC_COLUMNS = frozenset(
    {
        "households",
        "residents",
        "total_floor_area_m2",
        "commercial_service_area_m2",
        "developer_service_rooms_m2",
        "floor_area_m2",
        "activity_area_m2",
        "opening_hours_per_day",
        "floors",
        "height_m",
        "footprint_m2",
        "workers",
        "social_orgs",
        "licensed_social_workers",
        "volunteer_orgs",
        "disaster_info_officers",
        "double_report_rate",
        "cadre_rotation_rate",
        "owners_rep_party_share",
        "owners_committee_party_share",
        "subcommittee_min_size",
        "subcommittee_max_size",
        "grids",
        "grid_workers",
        "lon",
        "lat",
    }
)
NONNEGATIVE = NUMERIC_COLUMNS - {"lon", "lat"}
BOOL_COLUMNS = frozenset(
    {
        "old_estate",
        "new_development",
        "central_district",
        "volunteer_station",
        "self_service_terminal",
        "micro_fire_station",
        "emergency_team",
        "online_service_24h",
        "party_org",
        "selfgov_org",
    }
)
TEXT_COLUMNS = frozenset(
    {"name", "kind", "district_code", "district_name", "street_name", "category", "use"}
    | {"community_id"}
)

# POI export columns: recognised in facility files only (a building's "type" stays "type")
POI_COLUMNS = frozenset({"typecode", "poi_type", "tag", "location", "uid"})

# a ledger's total row ("合计") is not a community; Excel readers leave it out
TOTAL_ROW_LABELS = frozenset({"合计", "总计", "小计", "总数", "total", "sum"})

# layer -> (id column, required columns, allowed geometry types)
LAYERS: Mapping[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "communities": (
            "community_id",
            ("name", "kind", "households"),
            ("Polygon", "MultiPolygon"),
        ),
        "facilities": (
            "facility_id",
            ("category",),
            ("Point", "Polygon", "MultiPolygon"),
        ),
        "buildings": (
            "building_id",
            (),
            ("Point", "Polygon", "MultiPolygon"),
        ),
    }
)
REQUIRED = MappingProxyType({k: v[1] for k, v in LAYERS.items()})

KIND_VALUES: Mapping[str, str] = MappingProxyType(
    {
        "urban": "urban",
        "城市": "urban",
        "城市社区": "urban",
        "社区": "urban",
        "居委会": "urban",
        "village": "village",
        "村": "village",
        "行政村": "village",
        "农村": "village",
        "农村社区": "village",
        "村委会": "village",
    }
)

TRUE_VALUES = frozenset({"true", "t", "yes", "y", "1", "是", "有", "√", "1.0"})
FALSE_VALUES = frozenset(
    {"false", "f", "no", "n", "0", "否", "无", "", "0.0", "nan", "none", "<na>"}
)


def _norm(name: str) -> str:
    return "".join(str(name).lower().replace("_", "").replace("-", "").split())


def alias_lookup() -> dict[str, str]:
    """Return {normalised alias: canonical name} for every alias."""
    out: dict[str, str] = {}
    for canonical, aliases in _ALIASES.items():
        for alias in (canonical, *aliases):
            out.setdefault(_norm(alias), canonical)
    return out


def normalise_name(name: str) -> str:
    """Normalise a column name for alias matching (case, spaces, ``_`` and ``-``)."""
    return _norm(name)


def without_unit(name: str) -> str:
    """A header without its trailing unit in brackets: ``户数（户）`` -> ``户数``.

    Examples
    --------
    >>> without_unit("建筑面积(m²)"), without_unit("户数（户）"), without_unit("户数")
    ('建筑面积', '户数', '户数')
    """
    return re.sub(r"\s*[（(\[【][^（()）\]】]*[）)\]】]\s*$", "", str(name)).strip()


class ColumnMap(dict[str, str]):
    """A header mapping given once for several files (the CLI's ``--columns``).

    A plain ``columns={...}`` dict is checked against one file: a header that is
    not in it is an error. A ``ColumnMap`` goes to every file of a command, so a
    header may be missing from some; the readers record in :attr:`used` the
    headers they found, and :meth:`unused` names those no file had.

    Examples
    --------
    >>> m = ColumnMap({"HH": "households", "名称2": "name"})
    >>> m.used.add("HH")
    >>> m.unused()
    ['名称2']
    """

    def __init__(self, mapping: Mapping[str, str] | None = None) -> None:
        super().__init__(mapping or {})
        self.used: set[str] = set()

    def unused(self) -> list[str]:
        """Mapped headers that no file read so far had."""
        return [h for h in self if h not in self.used]

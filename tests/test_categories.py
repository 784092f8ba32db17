"""Tests of geoplan.categories: the packaged table, OSM/AMap/Baidu mapping, validation."""

from __future__ import annotations

import bz2
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoplan._errors import InputError
from geoplan.categories import (
    PRIMARY_GROUPS,
    Categories,
    categories_in_group,
    categorise_osm,
    category_of_amap,
    category_of_baidu,
    category_of_osm_tags,
    list_categories,
    load_categories,
    validate_categories,
)
from geoplan.profiles import list_profiles, load_profile

BASIC = [
    "convenience_store",
    "supermarket",
    "wet_market",
    "fresh_food",
    "breakfast",
    "laundry",
    "hair",
    "printing",
    "housekeeping",
    "repair",
    "pharmacy",
    "post_express",
    "recycling",
]
QUALITY = [
    "elderly_care",
    "childcare",
    "dining",
    "bakery",
    "bookstore",
    "gym",
    "training",
    "wellness",
    "florist",
    "tea_coffee",
    "pet",
]
COMMUNITY = ["community_service_centre", "elderly_service_station", "health_station"]


def test_list_categories_frame() -> None:
    frame = list_categories()
    assert frame.index.name == "category"
    assert frame.index.is_unique
    assert list(frame.columns) == ["zh", "en", "group", "also_groups"]
    assert set(frame["group"]) <= set(PRIMARY_GROUPS)
    assert frame.loc["wet_market", "zh"] == "菜市场"
    assert frame.loc["community_service_centre", "group"] == "community_service"
    assert frame["zh"].is_unique


def test_mofcom_groups_are_exactly_the_guides_lists() -> None:
    assert [c for c in categories_in_group("basic") if c in BASIC] == BASIC
    frame = list_categories()
    assert sorted(frame.index[frame["group"] == "basic"]) == sorted(BASIC)
    assert sorted(frame.index[frame["group"] == "quality"]) == sorted(QUALITY)
    assert set(COMMUNITY) <= set(categories_in_group("community_service"))


def test_gb50180_tiers_use_also_groups() -> None:
    assert "wet_market" in categories_in_group("gb50180_10min")
    assert "convenience_store" in categories_in_group("gb50180_block")
    assert "childcare" in categories_in_group("gb50180_5min")
    cats = load_categories()
    assert not {g.id: g for g in cats.groups}["gb50180_5min"].confirmed


def test_unknown_group() -> None:
    with pytest.raises(InputError, match="valid groups: basic, quality"):
        categories_in_group("luxury")


@pytest.mark.parametrize("name", list_profiles())
def test_profiles_only_name_known_categories_and_groups(name: str) -> None:
    cats = load_categories()
    p = load_profile(name)
    for t in p.targets:
        if t.category is not None:
            assert t.category in cats, (name, t.id)
        if t.group is not None:
            assert categories_in_group(t.group), (name, t.id)
    for cid in p.parameter("service_facility_categories"):  # type: ignore[union-attr]
        assert cid in cats


# --------------------------------------------------------------------- OSM tags


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"shop": "convenience"}, "convenience_store"),
        ({"shop": "supermarket"}, "supermarket"),
        ({"amenity": "marketplace"}, "wet_market"),
        ({"shop": "greengrocer"}, "fresh_food"),
        ({"amenity": "pharmacy"}, "pharmacy"),
        ({"healthcare": "pharmacy"}, "pharmacy"),
        ({"amenity": "social_facility", "social_facility": "nursing_home"}, "elderly_care"),
        ({"amenity": "social_facility", "social_facility": "assisted_living"}, "elderly_care"),
        ({"amenity": "social_facility", "social_facility": "day_care"}, "elderly_service_station"),
        (
            {
                "amenity": "social_facility",
                "social_facility": "day_care",
                "social_facility:for": "senior",
            },
            "elderly_service_station",
        ),
        ({"amenity": "social_facility"}, "social_facility"),
        ({"amenity": "kindergarten"}, "childcare"),
        ({"amenity": "post_office"}, "post_express"),
        ({"amenity": "post_box"}, None),
        ({"amenity": "recycling"}, "recycling"),
        ({"shop": "laundry"}, "laundry"),
        ({"shop": "dry_cleaning"}, "laundry"),
        ({"shop": "hairdresser"}, "hair"),
        ({"shop": "bakery"}, "bakery"),
        ({"amenity": "cafe"}, "tea_coffee"),
        ({"shop": "tea"}, "tea_coffee"),
        ({"shop": "books"}, "bookstore"),
        ({"leisure": "fitness_centre"}, "gym"),
        ({"leisure": "sports_centre", "sport": "fitness"}, "gym"),
        ({"leisure": "sports_centre"}, "sports_venue"),
        ({"shop": "florist"}, "florist"),
        ({"shop": "pet"}, "pet"),
        ({"amenity": "fast_food"}, "breakfast"),
        ({"amenity": "restaurant"}, "dining"),
        ({"amenity": "restaurant", "cuisine": "breakfast"}, "breakfast"),
        ({"amenity": "community_centre"}, "community_service_centre"),
        ({"office": "government", "name": "清华园街道党群服务中心"}, "community_service_centre"),
        ({"office": "government"}, "government_office"),
        ({"amenity": "clinic"}, "clinic"),
        ({"amenity": "doctors"}, "clinic"),
        ({"amenity": "clinic", "name": "二里庄社区卫生服务站"}, "health_station"),
        ({"amenity": "school", "name": "北京石油学院附属小学"}, "primary_school"),
        ({"amenity": "school", "name": "北京石油学院附属中学"}, "middle_school"),
        ({"amenity": "school"}, "school"),
        ({"shop": "kiosk"}, None),
        ({"highway": "bus_stop", "name": "社区服务中心"}, None),
        ({"shop": "convenience;hairdresser"}, "convenience_store"),
        ({"shop": "hairdresser; laundry"}, "laundry"),  # a tie: first in the file wins
        ({"office": "company", "name": "好帮手家政"}, "housekeeping"),
        ({"office": "no", "name": "家政"}, None),
        ({"shop": math.nan, "amenity": "pharmacy"}, "pharmacy"),
        ({}, None),
    ],
)
def test_category_of_osm_tags(tags: dict[str, object], expected: str | None) -> None:
    assert category_of_osm_tags(tags) == expected


def test_categorise_osm_aligns_and_handles_odd_columns() -> None:
    frame = pd.DataFrame(
        {
            "shop": ["convenience", np.nan, None, "bakery"],
            "amenity": [None, "hospital", "pharmacy", None],
            "name": [None, "东区社区卫生服务中心", "同仁堂", "味多美"],
            "levels": [1.0, 2.0, np.nan, 3.0],
        },
        index=pd.Index(["n9", "w3", "n1", "n2"], name="osm_id"),
    )
    snapshot = frame.copy()
    out = categorise_osm(frame)
    assert out.name == "category"
    assert out.index.equals(frame.index)
    assert out.tolist() == ["convenience_store", "health_station", "pharmacy", "bakery"]
    pd.testing.assert_frame_equal(frame, snapshot)
    none = categorise_osm(pd.DataFrame({"highway": ["footway"], "levels": [2.0]}))
    assert none.isna().all()
    empty = categorise_osm(pd.DataFrame(index=pd.Index([], name="osm_id")))
    assert len(empty) == 0


def _read_osm_pois(path: Path) -> pd.DataFrame:
    rows = []
    with bz2.open(path) as fh:
        for _, element in ET.iterparse(fh):
            if element.tag in ("node", "way", "relation"):
                tags = {t.get("k"): t.get("v") for t in element.findall("tag")}
                if any(k in tags for k in ("shop", "amenity", "leisure", "office", "healthcare")):
                    rows.append({"osm_id": f"{element.tag}/{element.get('id')}", **tags})
                element.clear()
    return pd.DataFrame(rows).set_index("osm_id")


@pytest.fixture(scope="module")
def haidian_pois(shared_data: Path) -> pd.DataFrame:
    return _read_osm_pois(shared_data / "osm" / "beijing_haidian_cau.osm.bz2")


def test_real_osm_pois_map_to_the_right_categories(haidian_pois: pd.DataFrame) -> None:
    pois = haidian_pois
    cats = categorise_osm(pois)
    by_tag = {
        ("shop", "convenience"): "convenience_store",
        ("shop", "supermarket"): "supermarket",
        ("amenity", "marketplace"): "wet_market",
        ("amenity", "pharmacy"): "pharmacy",
    }
    for (key, value), expected in by_tag.items():
        rows = pois[key] == value
        assert rows.sum() >= 2, (key, value)
        assert (cats[rows] == expected).all(), cats[rows].value_counts()
    # the counts the data README promises: convenience stores, supermarkets, markets, pharmacies
    counts = cats.value_counts()
    assert counts["convenience_store"] == 18  # 17 plus one "convenience;hairdresser"
    assert counts["supermarket"] == 2
    assert counts["wet_market"] == 2
    assert counts["pharmacy"] == 2
    named = dict(zip(pois["name"], cats, strict=True))
    assert named["物美"] == "supermarket"
    assert named["同仁堂"] == "pharmacy"
    assert named["中国农业大学东区社区卫生服务中心"] == "health_station"
    assert named["北京京城皮肤病医院"] == "hospital"
    assert named["中国农业大学东校区幼儿园"] == "childcare"


def test_vectorised_and_row_wise_agree_on_real_data(haidian_pois: pd.DataFrame) -> None:
    vectorised = categorise_osm(haidian_pois)
    row_wise = [
        category_of_osm_tags({k: v for k, v in row.items() if isinstance(v, str)})
        for _, row in haidian_pois.iterrows()
    ]
    assert [None if pd.isna(v) else v for v in vectorised] == row_wise
    assert vectorised.notna().sum() >= 100


# --------------------------------------------------------------------- AMap / Baidu


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("060200", "convenience_store"),
        ("060201", "convenience_store"),  # a brand subclass falls back to its medium class
        ("060400", "supermarket"),
        ("060400|060200", "supermarket"),
        ("999999|060200", "convenience_store"),
        ("061000|060400", "supermarket"),
        (60400, "supermarket"),  # leading zero lost in a CSV
        ("050301", "breakfast"),
        ("050999", "dining"),  # major class 050000
        ("090601", "pharmacy"),
        ("999999", None),
        ("abc", None),
        ("", None),
        ("0602001", None),
    ],
)
def test_category_of_amap(code: str | int, expected: str | None) -> None:
    assert category_of_amap(code) == expected


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("购物;便利店", "convenience_store"),
        ("购物;超市", "supermarket"),
        ("购物；超市", "supermarket"),
        (" 医疗 ; 药店 ", "pharmacy"),
        ("购物;市场", "wet_market"),
        ("美食;火锅店", "dining"),
        ("美食;咖啡厅", "tea_coffee"),
        ("汽车服务;加油站", None),
        ("", None),
    ],
)
def test_category_of_baidu(tag: str, expected: str | None) -> None:
    assert category_of_baidu(tag) == expected


def test_packaged_codes_are_well_formed() -> None:
    cats = load_categories()
    codes = [a.code for c in cats.categories for a in c.amap]
    assert len(codes) == len(set(codes))
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    uncertain = [a.code for c in cats.categories for a in c.amap if not a.confirmed]
    # checked against AMap's POI分类编码 table: 060705 蔬菜市场, 060703 农副产品市场;
    # a seafood market (060706) as a wet market is an approximation
    assert "060705" not in uncertain and "060703" not in uncertain
    assert "060706" in uncertain
    assert category_of_amap("060705") == "wet_market"


# --------------------------------------------------------------------- validation


def test_validate_categories_accepts_ids_chinese_names_and_aliases() -> None:
    s = pd.Series(
        ["convenience_store", "菜市场", "农贸市场", " Pharmacy ", "党群服务中心", "supermarket"],
        index=pd.Index(["f1", "f2", "f3", "f4", "f5", "f6"], name="facility_id"),
        name="category",
    )
    snapshot = s.copy()
    out = validate_categories(s)
    assert out.tolist() == [
        "convenience_store",
        "wet_market",
        "wet_market",
        "pharmacy",
        "community_service_centre",
        "supermarket",
    ]
    assert out.index.equals(s.index)
    pd.testing.assert_series_equal(s, snapshot)


def test_validate_categories_names_file_row_and_column() -> None:
    s = pd.Series(["便利店", "奶茶铺", "电影院"], index=["f1", "f2", "f3"])
    with pytest.raises(InputError) as info:
        validate_categories(s, file="facilities.csv")
    err = info.value
    assert (err.file, err.row, err.column) == ("facilities.csv", "f2", "category")
    assert "奶茶铺" in str(err)
    assert "1 more rows" in str(err)
    assert "convenience_store" in str(err)


@pytest.mark.parametrize("missing", [None, np.nan, "", "  "])
def test_validate_categories_rejects_missing(missing: object) -> None:
    s = pd.Series(["pharmacy", missing], index=["a", "b"], dtype=object)
    with pytest.raises(InputError) as info:
        validate_categories(s)
    assert info.value.row == "b"
    assert info.value.column == "category"


# --------------------------------------------------------------------- user tables

USER_TABLE = """
[groups.basic]
zh = "基本"
en = "basic"
[groups.quality]
zh = "品质"
en = "quality"
[groups.community_service]
zh = "社区"
en = "community"
[groups.other]
zh = "其他"
en = "other"

[categories.water_station]
zh = "水站"
en = "water station"
group = "basic"
aliases = ["送水站"]
osm = [{ shop = "water" }]
amap = [{ code = "061299", name = "水站" }]
baidu = [{ tag = "生活服务;送水站" }]

[categories.pharmacy]
zh = "药店"
en = "pharmacy"
group = "basic"
osm = [{ amenity = "pharmacy" }]
"""


def test_user_categories_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(USER_TABLE, encoding="utf-8")
    cats = load_categories(path)
    assert isinstance(cats, Categories)
    assert cats.ids == ("water_station", "pharmacy")
    for given in (cats, path, str(path)):
        assert category_of_osm_tags({"shop": "water"}, categories=given) == "water_station"
        assert category_of_osm_tags({"shop": "convenience"}, categories=given) is None
    assert category_of_amap("061299", categories=cats) == "water_station"
    assert category_of_baidu("生活服务;送水站", categories=cats) == "water_station"
    assert categories_in_group("basic", categories=cats) == ["water_station", "pharmacy"]
    assert validate_categories(pd.Series(["送水站"]), categories=cats).tolist() == ["water_station"]
    assert list(list_categories(categories=cats).index) == ["water_station", "pharmacy"]
    frame = pd.DataFrame({"shop": ["water", "convenience"]})
    assert categorise_osm(frame, categories=cats).tolist()[0] == "water_station"


BAD_TABLES = [
    ("syntax", 'group = "basic"\naliases', 'group = = "basic"\naliases', None, None, "TOML"),
    (
        "group",
        'group = "basic"\naliases',
        'group = "luxury"\naliases',
        "water_station",
        "group",
        "",
    ),
    (
        "also group",
        'group = "basic"\naliases',
        'group = "basic"\nalso_groups = ["x"]\naliases',
        "water_station",
        "also_groups",
        "unknown group",
    ),
    ("amap code", '"061299"', '"61299"', "water_station", "amap", "6-digit"),
    (
        "duplicate alias",
        'osm = [{ amenity = "pharmacy" }]',
        'aliases = ["送水站"]\nosm = [{ amenity = "pharmacy" }]',
        "pharmacy",
        "aliases",
        "already used",
    ),
    (
        "duplicate osm rule",
        'osm = [{ amenity = "pharmacy" }]',
        'osm = [{ shop = "water" }]',
        "pharmacy",
        "osm",
        "already mapped",
    ),
    (
        "name-only rule",
        'osm = [{ shop = "water" }]',
        'osm = [{ "name~" = "水" }]',
        "water_station",
        "osm",
        "cannot stand alone",
    ),
    ("unknown key", 'en = "pharmacy"', 'en = "pharmacy"\ncolour = "red"', "pharmacy", "colour", ""),
    ("missing zh", 'zh = "药店"\n', "", "pharmacy", "zh", "non-empty"),
]


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "match"),
    [case[1:] for case in BAD_TABLES],
    ids=[case[0] for case in BAD_TABLES],
)
def test_malformed_categories_file(
    tmp_path: Path, old: str, new: str, row: str | None, column: str | None, match: str
) -> None:
    assert old in USER_TABLE
    path = tmp_path / "bad.toml"
    path.write_text(USER_TABLE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_categories(path)
    err = info.value
    assert err.file == str(path)
    assert (err.row, err.column) == (row, column)
    assert match in str(err)


def test_missing_categories_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_categories(tmp_path / "none.toml")


def test_packaged_table_is_loaded_once_and_immutable() -> None:
    a, b = load_categories(), load_categories()
    assert a is b
    with pytest.raises(TypeError):
        a._amap["060200"] = "x"  # type: ignore[index]

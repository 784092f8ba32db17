"""Service categories as data: ids, names, groups, and OSM / AMap / Baidu mappings.

The packaged table is ``geoplan/categories/categories.toml`` (format described in
its header and in ``docs/profiles.md``). Every function takes an optional
``categories=`` argument: a :class:`Categories` from :func:`load_categories`, or
the path of a user's own TOML file; by default the packaged table is read once,
on first use, and kept (it is immutable).

Two modules, one job each: ``_model`` (the records; loading and validating the TOML
table) and ``_lookup`` (OSM tag matching, AMap / Baidu type-code mapping, name matching
and validation of a ``category`` column).

Examples
--------
>>> category_of_osm_tags({"shop": "convenience", "name": "好邻居"})
'convenience_store'
>>> category_of_amap("060201|060400")
'convenience_store'
>>> category_of_baidu("医疗;药店")
'pharmacy'
>>> import pandas as pd
>>> validate_categories(pd.Series(["菜市场", "pharmacy"], index=["f1", "f2"])).tolist()
['wet_market', 'pharmacy']
"""

from __future__ import annotations

from geoplan.categories._lookup import (
    categories_in_group,
    categorise_osm,
    category_of_amap,
    category_of_amap_type,
    category_of_baidu,
    category_of_osm_tags,
    group_name,
    list_categories,
    match_categories,
    validate_categories,
)
from geoplan.categories._model import (
    PRIMARY_GROUPS,
    AmapCode,
    BaiduTag,
    Categories,
    Category,
    Group,
    OsmRule,
    load_categories,
)

__all__ = [
    "PRIMARY_GROUPS",
    "AmapCode",
    "BaiduTag",
    "Categories",
    "Category",
    "Group",
    "OsmRule",
    "categories_in_group",
    "categorise_osm",
    "category_of_amap",
    "category_of_amap_type",
    "category_of_baidu",
    "category_of_osm_tags",
    "group_name",
    "list_categories",
    "load_categories",
    "match_categories",
    "validate_categories",
]

"""Lookups over a loaded category table: listing and groups, OSM tag matching, AMap and
Baidu type-code mapping, and matching or validating a ``category`` column.

Private to :mod:`geoplan.categories` (which re-exports the public names).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from geoplan._errors import InputError
from geoplan.categories._model import (
    ANY,
    CONTAINS,
    Categories,
    load_categories,
    normalise_baidu,
    resolve,
    value_matches,
)


def list_categories(*, categories: Categories | str | Path | None = None) -> pd.DataFrame:
    """The categories as a frame indexed by id, with ``zh``, ``en``, ``group`` and ``also_groups``.

    Examples
    --------
    >>> df = list_categories()
    >>> df.loc["wet_market", ["zh", "group"]].tolist()
    ['菜市场', 'basic']
    """
    cats = resolve(categories)
    frame = pd.DataFrame(
        {
            "zh": [c.zh for c in cats.categories],
            "en": [c.en for c in cats.categories],
            "group": [c.group for c in cats.categories],
            "also_groups": [",".join(c.also_groups) for c in cats.categories],
        },
        index=pd.Index(cats.ids, name="category"),
    )
    return frame


def categories_in_group(
    group: str, *, categories: Categories | str | Path | None = None
) -> list[str]:
    """Ids of the categories in a group (their ``group`` or one of their ``also_groups``).

    Examples
    --------
    >>> categories_in_group("basic")[:3]
    ['convenience_store', 'supermarket', 'wet_market']
    """
    cats = resolve(categories)
    if group not in cats.group_ids:
        raise InputError(
            f"unknown category group {group!r}; valid groups: {', '.join(cats.group_ids)}",
            column="group",
        )
    return [c.id for c in cats.categories if c.group == group or group in c.also_groups]


def category_of_osm_tags(
    tags: Mapping[str, object], *, categories: Categories | str | Path | None = None
) -> str | None:
    """The category of one OSM object's tags; the most specific rule wins, None if none match.

    Examples
    --------
    >>> category_of_osm_tags({"amenity": "hospital", "name": "东区社区卫生服务中心"})
    'health_station'
    >>> category_of_osm_tags({"amenity": "hospital"})
    'hospital'
    >>> category_of_osm_tags({"highway": "bus_stop"}) is None
    True
    """
    for rule, cid in resolve(categories)._rules:
        if rule.matches(tags):
            return cid
    return None


def categorise_osm(
    frame: pd.DataFrame, *, categories: Categories | str | Path | None = None
) -> pd.Series:
    """Categories of many OSM objects: one tag per column (as osmnx features give them).

    Returns a string Series named ``category`` aligned to ``frame``'s index, with
    missing values where no rule matches. Same rules as :func:`category_of_osm_tags`.

    Examples
    --------
    >>> f = pd.DataFrame({"shop": ["supermarket", None, "books"],
    ...                   "amenity": [None, "marketplace", None]}, index=[7, 8, 9])
    >>> categorise_osm(f).tolist()
    ['supermarket', 'wet_market', 'bookstore']
    """
    cats = resolve(categories)
    n = len(frame)
    result = np.full(n, None, dtype=object)
    columns: dict[str, np.ndarray] = {}
    masks: dict[tuple[str, str], np.ndarray] = {}

    def column(key: str) -> np.ndarray:
        if key not in columns:
            values = frame[key].to_numpy(dtype=object) if key in frame.columns else [None] * n
            columns[key] = np.array([v if isinstance(v, str) else None for v in values], object)
        return columns[key]

    def mask(key: str, want: str) -> np.ndarray:
        if (key, want) not in masks:
            arr = column(key.rstrip(CONTAINS))
            if key.endswith(CONTAINS) or want == ANY or any(";" in v for v in arr if v):
                hit = np.fromiter((value_matches(v, key, want) for v in arr), bool, count=n)
            else:
                hit = np.asarray(arr == want, dtype=bool)
            masks[(key, want)] = hit
        return masks[(key, want)]

    open_rows = np.ones(n, dtype=bool)
    for rule, cid in cats._rules:
        if not open_rows.any():
            break
        hit = open_rows.copy()
        for key, want in rule.conditions:
            hit &= mask(key, want)
        result[hit] = cid
        open_rows &= ~hit
    return pd.Series(result, index=frame.index, name="category", dtype="str")


def category_of_amap(
    typecode: str | int, *, categories: Categories | str | Path | None = None
) -> str | None:
    """The category of an AMap POI typecode (``"060200"``, or multi-codes ``"060200|060400"``).

    Each code is tried in turn: the exact code, then its medium class (first four
    digits + ``00``), then its major class (first two + ``0000``); the first code
    that maps wins. Integer codes that lost their leading zero in a CSV
    (``60200``) are padded back to 6 digits.

    Examples
    --------
    >>> category_of_amap(60400)
    'supermarket'
    >>> category_of_amap("050301")
    'breakfast'
    >>> category_of_amap("999999") is None
    True
    """
    cats = resolve(categories)
    text = str(typecode).replace(";", "|")
    for part in text.split("|"):
        code = part.strip()
        if not code.isdigit() or len(code) > 6:
            continue
        code = code.zfill(6)
        for candidate in (code, code[:4] + "00", code[:2] + "0000"):
            if candidate in cats._amap:
                return cats._amap[candidate]
    return None


def category_of_baidu(tag: str, *, categories: Categories | str | Path | None = None) -> str | None:
    """The category of a Baidu POI tag (``"购物;便利店"``); falls back to shorter prefixes.

    Examples
    --------
    >>> category_of_baidu("购物；超市")
    'supermarket'
    >>> category_of_baidu("美食;火锅店")
    'dining'
    """
    cats = resolve(categories)
    if not isinstance(tag, str):
        return None
    parts = normalise_baidu(tag).split(";")
    for end in range(len(parts), 0, -1):
        key = ";".join(parts[:end])
        if key in cats._baidu:
            return cats._baidu[key]
    return None


def category_of_amap_type(
    type_name: str, *, categories: Categories | str | Path | None = None
) -> str | None:
    """The category of an AMap type path (``"购物服务;便民商店/便利店;便民商店/便利店"``).

    The most specific part is tried first: against the AMap type names of the
    table (each ``amap`` entry's ``name``), then against the category ids, names
    and aliases; a part such as ``便民商店/便利店`` is also tried piece by piece.

    Examples
    --------
    >>> category_of_amap_type("购物服务;综合市场;蔬菜市场")
    'wet_market'
    >>> category_of_amap_type("医疗保健服务;医药保健销售店;药房")
    'pharmacy'
    >>> category_of_amap_type("交通设施服务;公交车站;公交车站相关") is None
    True
    """
    cats = resolve(categories)
    if not isinstance(type_name, str):
        return None
    parts = [p.strip() for p in type_name.replace("；", ";").replace("|", ";").split(";")]
    for part in reversed([p for p in parts if p]):
        for name in (part, *part.split("/")):
            name = name.strip()
            cid = cats._amap_names.get(name) or cats._names.get(name)
            if cid is not None:
                return cid
    return None


def match_categories(
    series: pd.Series, *, categories: Categories | str | Path | None = None
) -> pd.Series:
    """Category ids for a column of ids, Chinese names or aliases; missing where none match.

    The lenient form of :func:`validate_categories`: nothing is raised, unknown
    or empty values come back missing so that a reader can count and report them.

    Examples
    --------
    >>> match_categories(pd.Series(["农贸市场", "spaceport", None])).tolist()
    ['wet_market', None, None]
    """
    cats = resolve(categories)
    out: list[str | None] = []
    for value in series.tolist():
        cid = None
        if isinstance(value, str) and value.strip():
            text = value.strip()
            cid = cats._names.get(text) or cats._names.get(text.casefold())
        out.append(cid)
    return pd.Series(out, index=series.index, name=series.name or "category", dtype=object)  # type: ignore[arg-type]


def validate_categories(
    series: pd.Series,
    *,
    file: str | None = None,
    categories: Categories | str | Path | None = None,
) -> pd.Series:
    """Check a ``category`` column and normalise it to ids.

    Accepts ids (any case), Chinese names (``zh``), aliases (``农贸市场``) and
    English names. Returns a new string Series aligned to ``series``.

    Raises
    ------
    InputError
        Naming the file, the first bad row's id and the column ``category``, with
        how many other rows are bad.

    Examples
    --------
    >>> s = pd.Series(["便利店", "Supermarket", "农贸市场"], index=["a", "b", "c"])
    >>> validate_categories(s).tolist()
    ['convenience_store', 'supermarket', 'wet_market']
    """
    cats = resolve(categories)
    out: list[str] = []
    bad: list[tuple[object, object]] = []
    for row, value in series.items():
        cid = None
        if isinstance(value, str) and value.strip():
            text = value.strip()
            cid = cats._names.get(text) or cats._names.get(text.casefold())
        if cid is None:
            bad.append((row, value))
        else:
            out.append(cid)
    if bad:
        row, value = bad[0]
        what = "missing category" if not isinstance(value, str) else f"unknown category {value!r}"
        more = f" ({len(bad) - 1} more rows are bad)" if len(bad) > 1 else ""
        raise InputError(
            f"{what}{more}; valid ids: {', '.join(cats.ids)} (Chinese names and aliases "
            "are accepted too)",
            file=file,
            row=row,
            column="category",
        )
    return pd.Series(out, index=series.index, name=series.name or "category", dtype="str")


def group_name(group: str | None, lang: str = "zh") -> str | None:
    """A category group's name in ``lang``; None for no group or an unknown one.

    Examples
    --------
    >>> group_name("basic"), group_name("basic", "en"), group_name(None)
    ('基本保障类', 'basic-needs services', None)
    """
    found = [g for g in load_categories().groups if g.id == group]
    return (found[0].zh if lang == "zh" else found[0].en) if found else None

"""Service categories as data: ids, names, groups, and OSM / AMap / Baidu mappings.

The packaged table is ``geoplan/categories/categories.toml`` (format described in
its header and in ``docs/profiles.md``). Every function takes an optional
``categories=`` argument: a :class:`Categories` from :func:`load_categories`, or
the path of a user's own TOML file; by default the packaged table is read once,
on first use, and kept (it is immutable).

Examples
--------
>>> category_of_osm_tags({"shop": "convenience", "name": "好邻居"})
'convenience_store'
>>> category_of_amap("060201|060400")
'convenience_store'
>>> category_of_baidu("医疗;药店")
'pharmacy'
>>> validate_categories(pd.Series(["菜市场", "pharmacy"], index=["f1", "f2"])).tolist()
['wet_market', 'pharmacy']
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from geoplan._errors import InputError

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
    "list_categories",
    "load_categories",
    "match_categories",
    "validate_categories",
]

PRIMARY_GROUPS: tuple[str, ...] = ("basic", "quality", "community_service", "other")
"""The groups a category's ``group`` may name (``also_groups`` may name any group)."""

_GROUP_KEYS = ("zh", "en", "source", "confirmed", "note")
_CATEGORY_KEYS = (
    "zh",
    "en",
    "group",
    "also_groups",
    "aliases",
    "osm",
    "amap",
    "baidu",
    "note",
    "color",
    "symbol_zh",
    "symbol_en",
)
_ANY = "*"
_CONTAINS = "~"


@dataclass(frozen=True)
class Group:
    """A named group of categories (``basic``, ``quality``, a GB 50180 tier, ...)."""

    id: str
    zh: str
    en: str
    source: str | None = None
    confirmed: bool = True
    note: str | None = None


@dataclass(frozen=True)
class OsmRule:
    """One OSM match: every ``(key, value)`` must hold.

    ``value == "*"`` matches any value but ``"no"``; a key ending in ``~`` matches
    when the tag contains the value. Specificity: 2 per exact tag, 1 otherwise.

    Examples
    --------
    >>> OsmRule((("amenity", "hospital"), ("name~", "社区卫生服务"))).specificity
    3
    """

    conditions: tuple[tuple[str, str], ...]

    @property
    def specificity(self) -> int:
        """How specific the rule is (more specific rules win)."""
        return sum(1 if (k.endswith(_CONTAINS) or v == _ANY) else 2 for k, v in self.conditions)

    def matches(self, tags: Mapping[str, object]) -> bool:
        """Whether a dict of OSM tags satisfies the rule.

        Examples
        --------
        >>> OsmRule((("shop", "convenience"),)).matches({"shop": "convenience;hairdresser"})
        True
        """
        return all(_value_matches(tags.get(k.rstrip(_CONTAINS)), k, v) for k, v in self.conditions)


@dataclass(frozen=True)
class AmapCode:
    """An AMap POI typecode (6 digits) and its Chinese name."""

    code: str
    name: str
    confirmed: bool = True


@dataclass(frozen=True)
class BaiduTag:
    """A Baidu POI tag such as ``购物;便利店``."""

    tag: str
    confirmed: bool = True


@dataclass(frozen=True)
class Category:
    """One service category and how source data maps onto it."""

    id: str
    zh: str
    en: str
    group: str
    also_groups: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    osm: tuple[OsmRule, ...] = ()
    amap: tuple[AmapCode, ...] = ()
    baidu: tuple[BaiduTag, ...] = ()
    note: str | None = None
    #: how maps draw it: a colour (``#rrggbb``) and a one-character symbol per language
    color: str | None = None
    symbol_zh: str | None = None
    symbol_en: str | None = None


@dataclass(frozen=True)
class Categories:
    """A loaded category table (immutable) with its lookup indexes.

    Examples
    --------
    >>> cats = load_categories()
    >>> cats["wet_market"].zh
    '菜市场'
    """

    categories: tuple[Category, ...]
    groups: tuple[Group, ...]
    path: str | None = field(default=None, compare=False)
    _rules: tuple[tuple[OsmRule, str], ...] = field(default=(), compare=False, repr=False)
    _amap: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    _baidu: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    _names: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    _amap_names: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, category_id: str) -> Category:
        for c in self.categories:
            if c.id == category_id:
                return c
        raise KeyError(
            f"unknown category {category_id!r}; valid ids: {', '.join(self.ids)}"
        ) from None

    def __contains__(self, category_id: object) -> bool:
        return any(c.id == category_id for c in self.categories)

    @property
    def ids(self) -> tuple[str, ...]:
        """Category ids in file order."""
        return tuple(c.id for c in self.categories)

    @property
    def group_ids(self) -> tuple[str, ...]:
        """Group ids in file order."""
        return tuple(g.id for g in self.groups)


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def load_categories(path: str | Path | None = None) -> Categories:
    """Read a categories TOML file (default: the packaged table).

    Raises
    ------
    InputError
        For a malformed file; the message names the file, the category id (row)
        and the key (column) at fault.

    Examples
    --------
    >>> cats = load_categories()
    >>> "convenience_store" in cats, cats["convenience_store"].group
    (True, 'basic')
    """
    if path is None:
        return _packaged()
    p = Path(path)
    if not p.is_file():
        raise InputError("categories file does not exist", file=str(p))
    return _parse(p.read_text(encoding="utf-8"), file=str(p))


@functools.cache
def _packaged() -> Categories:
    entry = resources.files(__name__) / "categories.toml"
    return _parse(entry.read_text(encoding="utf-8"), file=str(entry))


def _resolve(categories: Categories | str | Path | None) -> Categories:
    if isinstance(categories, Categories):
        return categories
    return load_categories(categories)


def _str(table: Mapping[str, Any], key: str, *, file: str, row: str, required: bool) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key!r} must be a non-empty string", file=file, row=row, column=key)
    return value


def _str_list(table: Mapping[str, Any], key: str, *, file: str, row: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{key!r} must be a list of strings", file=file, row=row, column=key)
    return tuple(value)


def _tables(table: Mapping[str, Any], key: str, *, file: str, row: str) -> list[dict[str, Any]]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) and v for v in value):
        raise InputError(f"{key!r} must be a list of inline tables", file=file, row=row, column=key)
    return value


def _confirmed(item: Mapping[str, Any], *, file: str, row: str, column: str) -> bool:
    value = item.get("confirmed", True)
    if not isinstance(value, bool):
        raise InputError("'confirmed' must be true or false", file=file, row=row, column=column)
    return value


def _parse_category(cid: str, raw: object, groups: Sequence[str], *, file: str) -> Category:
    if not isinstance(raw, dict):
        raise InputError("a category must be a table", file=file, row=cid)
    for key in raw:
        if key not in _CATEGORY_KEYS:
            raise InputError(
                f"unknown key {key!r}; allowed: {', '.join(_CATEGORY_KEYS)}",
                file=file,
                row=cid,
                column=key,
            )
    group = _str(raw, "group", file=file, row=cid, required=True)
    if group not in PRIMARY_GROUPS:
        raise InputError(
            f"group {group!r} is not one of {', '.join(PRIMARY_GROUPS)}",
            file=file,
            row=cid,
            column="group",
        )
    also = _str_list(raw, "also_groups", file=file, row=cid)
    for g in also:
        if g not in groups:
            raise InputError(
                f"unknown group {g!r}; defined groups: {', '.join(groups)}",
                file=file,
                row=cid,
                column="also_groups",
            )
    rules = []
    for rule in _tables(raw, "osm", file=file, row=cid):
        if not all(isinstance(v, str) and v for v in rule.values()) or all(
            k.endswith(_CONTAINS) for k in rule
        ):
            raise InputError(
                f"OSM rule {rule!r} needs string values and at least one tag key "
                "(a text match such as 'name~' cannot stand alone)",
                file=file,
                row=cid,
                column="osm",
            )
        rules.append(OsmRule(tuple(rule.items())))
    amap = []
    for item in _tables(raw, "amap", file=file, row=cid):
        code, name = item.get("code"), item.get("name", "")
        if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
            raise InputError(
                f"AMap code must be a 6-digit string, got {code!r}",
                file=file,
                row=cid,
                column="amap",
            )
        amap.append(AmapCode(code, str(name), _confirmed(item, file=file, row=cid, column="amap")))
    baidu = []
    for item in _tables(raw, "baidu", file=file, row=cid):
        tag = item.get("tag")
        if not isinstance(tag, str) or not tag.strip():
            raise InputError("Baidu tag must be a string", file=file, row=cid, column="baidu")
        confirmed = _confirmed(item, file=file, row=cid, column="baidu")
        baidu.append(BaiduTag(_normalise_baidu(tag), confirmed))
    return Category(
        id=cid,
        zh=_str(raw, "zh", file=file, row=cid, required=True),  # type: ignore[arg-type]
        en=_str(raw, "en", file=file, row=cid, required=True),  # type: ignore[arg-type]
        group=group,
        also_groups=also,
        aliases=_str_list(raw, "aliases", file=file, row=cid),
        osm=tuple(rules),
        amap=tuple(amap),
        baidu=tuple(baidu),
        note=_str(raw, "note", file=file, row=cid, required=False),
        color=_color(raw, file=file, row=cid),
        symbol_zh=_str(raw, "symbol_zh", file=file, row=cid, required=False),
        symbol_en=_str(raw, "symbol_en", file=file, row=cid, required=False),
    )


def _color(raw: Mapping[str, Any], *, file: str, row: str) -> str | None:
    value = _str(raw, "color", file=file, row=row, required=False)
    if value is None:
        return None
    digits = value[1:]
    if not (value.startswith("#") and len(digits) == 6) or any(
        c not in "0123456789abcdefABCDEF" for c in digits
    ):
        raise InputError(
            f"colour must be '#rrggbb', got {value!r}", file=file, row=row, column="color"
        )
    return value


def _parse(text: str, *, file: str) -> Categories:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=file) from None
    raw_groups = data.get("groups", {})
    raw_cats = data.get("categories")
    if not isinstance(raw_groups, dict) or not isinstance(raw_cats, dict) or not raw_cats:
        raise InputError("needs [groups.<id>] and [categories.<id>] tables", file=file)
    groups = []
    for gid, g in raw_groups.items():
        if not isinstance(g, dict) or any(k not in _GROUP_KEYS for k in g):
            raise InputError(f"keys allowed: {', '.join(_GROUP_KEYS)}", file=file, row=gid)
        groups.append(
            Group(
                id=gid,
                zh=_str(g, "zh", file=file, row=gid, required=True),  # type: ignore[arg-type]
                en=_str(g, "en", file=file, row=gid, required=True),  # type: ignore[arg-type]
                source=_str(g, "source", file=file, row=gid, required=False),
                confirmed=_confirmed(g, file=file, row=gid, column="confirmed"),
                note=_str(g, "note", file=file, row=gid, required=False),
            )
        )
    group_ids = [g.id for g in groups]
    for needed in PRIMARY_GROUPS:
        if needed not in group_ids:
            raise InputError(f"missing [groups.{needed}]", file=file, row=needed)
    cats = tuple(_parse_category(cid, raw, group_ids, file=file) for cid, raw in raw_cats.items())

    amap: dict[str, str] = {}
    baidu: dict[str, str] = {}
    names: dict[str, str] = {}
    rule_owner: dict[frozenset[tuple[str, str]], str] = {}
    ranked: list[tuple[int, int, int, OsmRule, str]] = []
    for order, c in enumerate(cats):
        for key, index, what in (
            ((a.code for a in c.amap), amap, "amap"),
            ((b.tag for b in c.baidu), baidu, "baidu"),
        ):
            for k in key:
                if k in index:
                    raise InputError(
                        f"{k!r} is already mapped to {index[k]!r}", file=file, row=c.id, column=what
                    )
                index[k] = c.id
        for rule in c.osm:
            conditions = frozenset(rule.conditions)
            if conditions in rule_owner:
                raise InputError(
                    f"OSM rule {dict(rule.conditions)!r} is already mapped to "
                    f"{rule_owner[conditions]!r}",
                    file=file,
                    row=c.id,
                    column="osm",
                )
            rule_owner[conditions] = c.id
        ranked += [(-r.specificity, order, i, r, c.id) for i, r in enumerate(c.osm)]
    for c in cats:  # ids first, so a name can never shadow an id
        names[c.id] = c.id
    for c in cats:
        for column, name in [("zh", c.zh), ("en", c.en.casefold())] + [
            ("aliases", a) for a in c.aliases
        ]:
            if names.get(name, c.id) != c.id:
                raise InputError(
                    f"name {name!r} is already used by category {names[name]!r}",
                    file=file,
                    row=c.id,
                    column=column,
                )
            names[name] = c.id
    ranked.sort(key=lambda item: item[:3])
    # AMap type names ("便民商店/便利店", and each part of it); the first category wins
    amap_names: dict[str, str] = {}
    for c in cats:
        for a in c.amap:
            for name in (a.name, *a.name.split("/")):
                if name.strip():
                    amap_names.setdefault(name.strip(), c.id)
    return Categories(
        categories=cats,
        groups=tuple(groups),
        path=file,
        _rules=tuple((r, cid) for *_, r, cid in ranked),
        _amap=MappingProxyType(amap),
        _baidu=MappingProxyType(baidu),
        _names=MappingProxyType(names),
        _amap_names=MappingProxyType(amap_names),
    )


# ---------------------------------------------------------------------------
# Public lookups
# ---------------------------------------------------------------------------


def list_categories(*, categories: Categories | str | Path | None = None) -> pd.DataFrame:
    """The categories as a frame indexed by id, with ``zh``, ``en``, ``group`` and ``also_groups``.

    Examples
    --------
    >>> df = list_categories()
    >>> df.loc["wet_market", ["zh", "group"]].tolist()
    ['菜市场', 'basic']
    """
    cats = _resolve(categories)
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
    cats = _resolve(categories)
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
    for rule, cid in _resolve(categories)._rules:
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
    cats = _resolve(categories)
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
            arr = column(key.rstrip(_CONTAINS))
            if key.endswith(_CONTAINS) or want == _ANY or any(";" in v for v in arr if v):
                hit = np.fromiter((_value_matches(v, key, want) for v in arr), bool, count=n)
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
    cats = _resolve(categories)
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
    cats = _resolve(categories)
    if not isinstance(tag, str):
        return None
    parts = _normalise_baidu(tag).split(";")
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
    cats = _resolve(categories)
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
    cats = _resolve(categories)
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
    cats = _resolve(categories)
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


# ---------------------------------------------------------------------------
# Matching helpers
# ---------------------------------------------------------------------------


def _value_matches(value: object, key: str, want: str) -> bool:
    if not isinstance(value, str):
        return False
    if key.endswith(_CONTAINS):
        return want in value
    if want == _ANY:
        return value.strip() not in ("", "no")
    if value == want:
        return True
    return ";" in value and want in (part.strip() for part in value.split(";"))


def _normalise_baidu(tag: str) -> str:
    return ";".join(part.strip() for part in tag.replace("；", ";").split(";") if part.strip())

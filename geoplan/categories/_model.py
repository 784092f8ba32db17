"""The category records and the table they load from: ``categories.toml``, read and
validated into an immutable :class:`Categories` with its lookup indexes.

Private to :mod:`geoplan.categories` (which re-exports the public names). The
packaged table is read once, on first use (:func:`_packaged`), never at import.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Literal, overload

from geoplan._errors import InputError

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
    "edge_access_m",
)
ANY = "*"
CONTAINS = "~"


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
        return sum(1 if (k.endswith(CONTAINS) or v == ANY) else 2 for k, v in self.conditions)

    def matches(self, tags: Mapping[str, object]) -> bool:
        """Whether a dict of OSM tags satisfies the rule.

        Examples
        --------
        >>> OsmRule((("shop", "convenience"),)).matches({"shop": "convenience;hairdresser"})
        True
        """
        return all(value_matches(tags.get(k.rstrip(CONTAINS)), k, v) for k, v in self.conditions)


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
    #: polygons of the category are walked to points along their edge this many metres
    #: apart (a park is entered from its edge); None: to one point inside the polygon
    edge_access_m: float | None = None


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
    entry = resources.files("geoplan.categories") / "categories.toml"
    return _parse(entry.read_text(encoding="utf-8"), file=str(entry))


def resolve(categories: Categories | str | Path | None) -> Categories:
    if isinstance(categories, Categories):
        return categories
    return load_categories(categories)


@overload
def _str(
    table: Mapping[str, object], key: str, *, file: str, row: str, required: Literal[True]
) -> str: ...
@overload
def _str(
    table: Mapping[str, object], key: str, *, file: str, row: str, required: bool
) -> str | None: ...
def _str(
    table: Mapping[str, object], key: str, *, file: str, row: str, required: bool
) -> str | None:
    """``table[key]``, a non-blank string; None when absent and not ``required``."""
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key!r} must be a non-empty string", file=file, row=row, column=key)
    return value


def _str_list(table: Mapping[str, object], key: str, *, file: str, row: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{key!r} must be a list of strings", file=file, row=row, column=key)
    return tuple(value)


def _tables(
    table: Mapping[str, object], key: str, *, file: str, row: str
) -> list[dict[str, object]]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) and v for v in value):
        raise InputError(f"{key!r} must be a list of inline tables", file=file, row=row, column=key)
    return value


def _confirmed(item: Mapping[str, object], *, file: str, row: str, column: str) -> bool:
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
            k.endswith(CONTAINS) for k in rule
        ):
            raise InputError(
                f"OSM rule {rule!r} needs string values and at least one tag key "
                "(a text match such as 'name~' cannot stand alone)",
                file=file,
                row=cid,
                column="osm",
            )
        rules.append(OsmRule(tuple((k, str(v)) for k, v in rule.items())))  # v: str, checked
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
        baidu.append(BaiduTag(normalise_baidu(tag), confirmed))
    return Category(
        id=cid,
        zh=_str(raw, "zh", file=file, row=cid, required=True),
        en=_str(raw, "en", file=file, row=cid, required=True),
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
        edge_access_m=_edge_access(raw, file=file, row=cid),
    )


def _edge_access(raw: Mapping[str, object], *, file: str, row: str) -> float | None:
    value = raw.get("edge_access_m")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e4:
        raise InputError(
            f"edge_access_m must be a number of metres > 0, got {value!r}",
            file=file,
            row=row,
            column="edge_access_m",
        )
    return float(value)


def _color(raw: Mapping[str, object], *, file: str, row: str) -> str | None:
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
                zh=_str(g, "zh", file=file, row=gid, required=True),
                en=_str(g, "en", file=file, row=gid, required=True),
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
# Matching helpers
# ---------------------------------------------------------------------------


def value_matches(value: object, key: str, want: str) -> bool:
    if not isinstance(value, str):
        return False
    if key.endswith(CONTAINS):
        return want in value
    if want == ANY:
        return value.strip() not in ("", "no")
    if value == want:
        return True
    return ";" in value and want in (part.strip() for part in value.split(";"))


def normalise_baidu(tag: str) -> str:
    return ";".join(part.strip() for part in tag.replace("；", ";").split(";") if part.strip())

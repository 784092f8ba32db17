"""Size-dependent catchments: per-facility walking limits from rules on a size column.

One job: the ``[[catchments]]`` tables of a profile. :class:`CatchmentRule` and
:class:`Catchment` are frozen records; :func:`parse_catchments` turns the TOML
array into them, validated (every error names the file, the catchment id and the
key), and :func:`catchment_to_toml_pairs` writes one back. Example: 公园绿地服务半径
(parks of 5,000 m2 or more serve 500 m, parks of 2,000-5,000 m2 serve 300 m).
Imports run one way: ``_schema`` <- here <- ``_parse`` / ``_toml`` / ``_model``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geoplan._errors import InputError

if TYPE_CHECKING:
    from geoplan.profiles._model import Profile

CATCHMENT_REQUIRED = (
    *("id", "category", "size_column", "unit", "description_zh", "description_en"),
    *("source", "clause"),
)
CATCHMENT_KEYS = (*CATCHMENT_REQUIRED, "confirmed", "note", "rules")
RULE_KEYS = ("min", "max", "within_m", "within_min")


@dataclass(frozen=True)
class CatchmentRule:
    """One size band of a catchment: ``min <= size < max`` serves ``within_m`` (or minutes).

    Either bound may be None (open); exactly one of ``within_m`` and
    ``within_min`` is set (minutes are converted at the profile's walking speed).

    Examples
    --------
    >>> r = CatchmentRule(min=2000.0, max=5000.0, within_m=300.0, within_min=None)
    >>> r.matches(np.array([1999.0, 2000.0, 4999.9, 5000.0, np.nan])).tolist()
    [False, True, True, False, False]
    """

    min: float | None
    max: float | None
    within_m: float | None
    within_min: float | None

    def matches(self, sizes: np.ndarray) -> np.ndarray:
        """Boolean array: which ``sizes`` fall in this band (a NaN size never does)."""
        ok = ~np.isnan(sizes)
        with np.errstate(invalid="ignore"):
            if self.min is not None:
                ok &= sizes >= self.min
            if self.max is not None:
                ok &= sizes < self.max
        return ok

    def limit_m(self, profile: Profile, *, elderly: bool = False) -> float:
        """The band's walking limit in metres (minutes at the profile's walking speed)."""
        if self.within_m is not None:
            return float(self.within_m)
        assert self.within_min is not None
        return float(self.within_min) * profile.walk_speed(elderly=elderly)

    def band_text(self, unit: str) -> str:
        """The band in words, e.g. ``'2000-5000 m2'`` or ``'>= 5000 m2'``.

        Examples
        --------
        >>> CatchmentRule(min=5000.0, max=None, within_m=500.0, within_min=None).band_text("m2")
        '>= 5000 m2'
        """
        if self.min is not None and self.max is not None:
            return f"{self.min:g}-{self.max:g} {unit}"
        if self.min is not None:
            return f">= {self.min:g} {unit}"
        if self.max is not None:
            return f"< {self.max:g} {unit}"
        return f"any {unit}"

    def limit_text(self) -> str:
        """The walking limit as the profile states it, e.g. ``'500 m'`` or ``'10 min'``."""
        if self.within_m is not None:
            return f"{self.within_m:g} m"
        return f"{self.within_min:g} min"


@dataclass(frozen=True)
class Catchment:
    """Per-facility walking limits of one category, keyed on a size column.

    A facility whose size matches no rule, or whose size is missing, does not
    serve: its limit is NaN. The parser refuses overlapping rules, so each size
    has at most one limit.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("city-health-check")
    >>> c = p.catchment("park_service_radius")
    >>> c.category, c.size_column
    ('park', 'area_m2')
    >>> c.limits_m([8000.0, 5000.0, 3000.0, 1500.0, None], p).tolist()
    [500.0, 500.0, 300.0, nan, nan]
    >>> c.max_limit_m(p)
    500.0
    """

    id: str
    category: str
    size_column: str
    unit: str
    rules: tuple[CatchmentRule, ...]
    description_zh: str
    description_en: str
    source: str
    clause: str
    confirmed: bool = True
    note: str | None = None

    def limits_m(
        self,
        sizes: pd.Series | np.ndarray | Sequence[object],
        profile: Profile,
        *,
        elderly: bool = False,
    ) -> np.ndarray:
        """Walking limit in metres of each facility, a float array aligned to ``sizes``.

        NaN where the size is missing (None, NaN, ``pd.NA``) or matches no rule.
        Minutes are converted at the profile's walking speed (the elderly speed
        with ``elderly=True``); distances are used as they are.

        Raises
        ------
        InputError
            When a size is not a number.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("city-health-check")
        >>> c = p.catchment("park_service_radius")
        >>> c.limits_m(np.array([np.nan, 2000.0, 1999.99]), p).tolist()
        [nan, 300.0, nan]
        """
        arr = _as_float_array(sizes, column=self.size_column)
        out = np.full(arr.shape, np.nan, dtype="float64")
        for rule in self.rules:
            out[rule.matches(arr)] = rule.limit_m(profile, elderly=elderly)
        return out

    def max_limit_m(self, profile: Profile, *, elderly: bool = False) -> float:
        """The largest limit of any rule: the search radius that covers every facility.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("city-health-check")
        >>> p.catchment("park_service_radius").max_limit_m(p, elderly=True)
        500.0
        """
        return max(rule.limit_m(profile, elderly=elderly) for rule in self.rules)


def _as_float_array(sizes: pd.Series | np.ndarray | Sequence[object], *, column: str) -> np.ndarray:
    if isinstance(sizes, np.ndarray) and sizes.dtype.kind in "fiub":
        return np.asarray(sizes, dtype="float64").ravel()
    series = sizes if isinstance(sizes, pd.Series) else pd.Series(list(sizes), dtype=object)
    if series.dtype == object:
        series = series.where(series.notna(), np.nan)  # None and pd.NA -> NaN
    try:
        numbers = pd.to_numeric(series, errors="raise")
    except (TypeError, ValueError) as exc:
        raise InputError(f"size column {column!r} is not numeric: {exc}", column=column) from None
    return pd.Series(numbers).astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


# ---------------------------------------------------------------------------
# Parsing and writing
# ---------------------------------------------------------------------------


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _parse_rule(raw: object, i: int, *, file: str, row: str) -> CatchmentRule:
    where = f"rules[{i}]"

    def fail(message: str, key: str) -> InputError:
        return InputError(f"{where}: {message}", file=file, row=row, column=key)

    if not isinstance(raw, Mapping):
        raise fail(f"a rule must be an inline table, got {raw!r}", "rules")
    for key in raw:
        if key not in RULE_KEYS:
            raise fail(f"unknown key {key!r}; allowed keys: {', '.join(RULE_KEYS)}", key)
    bounds: dict[str, float | None] = {}
    for key in ("min", "max"):
        value = raw.get(key)
        if value is not None and not _is_number(value):
            raise fail(f"{key!r} must be a finite number, got {value!r}", key)
        bounds[key] = None if value is None else float(value)
    limits: dict[str, float | None] = {}
    for key in ("within_m", "within_min"):
        value = raw.get(key)
        if value is not None and (not _is_number(value) or value <= 0):
            raise fail(f"{key!r} must be a positive number, got {value!r}", key)
        limits[key] = None if value is None else float(value)
    if (limits["within_m"] is None) == (limits["within_min"] is None):
        raise fail("a rule needs exactly one of 'within_m' or 'within_min'", "within_m")
    low, high = bounds["min"], bounds["max"]
    if low is not None and high is not None and low >= high:
        raise fail(f"'min' ({low:g}) must be below 'max' ({high:g})", "min")
    return CatchmentRule(
        min=low, max=high, within_m=limits["within_m"], within_min=limits["within_min"]
    )


def _check_overlap(rules: Sequence[CatchmentRule], *, file: str, row: str) -> None:
    def low(r: CatchmentRule) -> float:
        return -math.inf if r.min is None else r.min

    def high(r: CatchmentRule) -> float:
        return math.inf if r.max is None else r.max

    for i, a in enumerate(rules):
        for j in range(i + 1, len(rules)):
            b = rules[j]
            if low(a) < high(b) and low(b) < high(a):  # [min, max) intervals intersect
                raise InputError(
                    f"rules[{i}] ({a.band_text('')}) and rules[{j}] ({b.band_text('')}) "
                    "overlap; a size must match at most one rule (min inclusive, max exclusive)",
                    file=file,
                    row=row,
                    column="rules",
                )


def _parse_one(raw: object, index: int, *, file: str, sources: Mapping[str, object]) -> Catchment:
    label = f"catchments[{index}]"
    if not isinstance(raw, Mapping):
        raise InputError(f"{label} must be a table, got {raw!r}", file=file, row=label)
    cid = raw.get("id")
    row = cid if isinstance(cid, str) and cid.strip() else label
    for key in raw:
        if key not in CATCHMENT_KEYS:
            raise InputError(
                f"unknown key {key!r} in a catchment; allowed keys: {', '.join(CATCHMENT_KEYS)}",
                file=file,
                row=row,
                column=key,
            )
    s: dict[str, str] = {}
    for key in CATCHMENT_REQUIRED:
        value = raw.get(key)
        if value is None:
            raise InputError(f"missing key {key!r}", file=file, row=row, column=key)
        if not isinstance(value, str) or not value.strip():
            raise InputError(
                f"{key!r} must be a non-empty string, got {value!r}",
                file=file,
                row=row,
                column=key,
            )
        s[key] = value
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise InputError(
            f"'note' must be a string, got {note!r}", file=file, row=row, column="note"
        )
    confirmed = raw.get("confirmed", True)
    if not isinstance(confirmed, bool):
        raise InputError(
            f"'confirmed' must be true or false, got {confirmed!r}",
            file=file,
            row=row,
            column="confirmed",
        )
    if s["source"] not in sources:
        raise InputError(
            f"source {s['source']!r} is not a [sources] table of this profile; "
            f"defined: {', '.join(sources) or 'none'}",
            file=file,
            row=row,
            column="source",
        )
    rules_raw = raw.get("rules")
    if not isinstance(rules_raw, list) or not rules_raw:
        raise InputError(
            "a catchment needs 'rules': a non-empty array of "
            "{ min = ..., max = ..., within_m = ... } tables",
            file=file,
            row=row,
            column="rules",
        )
    rules = tuple(_parse_rule(r, i, file=file, row=row) for i, r in enumerate(rules_raw))
    _check_overlap(rules, file=file, row=row)
    return Catchment(
        id=s["id"],
        category=s["category"],
        size_column=s["size_column"],
        unit=s["unit"],
        rules=rules,
        description_zh=s["description_zh"],
        description_en=s["description_en"],
        source=s["source"],
        clause=s["clause"],
        confirmed=confirmed,
        note=note,
    )


def parse_catchments(
    raw: object, *, file: str, sources: Mapping[str, object]
) -> tuple[Catchment, ...]:
    """The ``[[catchments]]`` array, validated: unique ids, known sources, no overlaps.

    Examples
    --------
    >>> src = {"doc": object()}
    >>> rules = [{"min": 5000, "within_m": 500}, {"min": 2000, "max": 6000, "within_m": 300}]
    >>> raw = [{"id": "p", "category": "park", "size_column": "area_m2", "unit": "m2",
    ...         "description_zh": "公园", "description_en": "park", "source": "doc",
    ...         "clause": "1", "rules": rules}]
    >>> try:
    ...     parse_catchments(raw, file="x.toml", sources=src)
    ... except InputError as err:
    ...     print(err)  # doctest: +ELLIPSIS
    x.toml: row p: column rules: rules[0] (>= 5000 ) and rules[1] (2000-6000 ) overlap; ...
    """
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError("'catchments' must be an array of tables ([[catchments]])", file=file)
    out = tuple(_parse_one(r, i, file=file, sources=sources) for i, r in enumerate(raw))
    seen: set[str] = set()
    for c in out:
        if c.id in seen:
            raise InputError(f"duplicate catchment id {c.id!r}", file=file, row=c.id, column="id")
        seen.add(c.id)
    return out


def catchment_to_toml_pairs(c: Catchment) -> list[tuple[str, object]]:
    """The (key, value) pairs of one ``[[catchments]]`` table, in schema order."""
    pairs: list[tuple[str, object]] = []
    for key in CATCHMENT_KEYS:
        if key == "rules":
            rules = [
                {k: getattr(r, k) for k in RULE_KEYS if getattr(r, k) is not None} for r in c.rules
            ]
            pairs.append((key, rules))
        else:
            pairs.append((key, getattr(c, key)))
    return pairs

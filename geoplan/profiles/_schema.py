"""The profile schema: the format's closed vocabularies and the frozen records.

One job: what a profile is made of. The vocabularies (comparators, audits and
their measures, scopes, source kinds, the keys each table may hold), the value
types, and the frozen :class:`Source`, :class:`Parameter` and :class:`Target`
with the comparisons a target makes. Nothing here parses or writes TOML: that is
``_parse`` (TOML -> these records, validated) and ``_toml`` (records -> TOML);
``_model`` assembles them into a :class:`~geoplan.profiles.Profile`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import pandas as pd

from geoplan._errors import InputError

if TYPE_CHECKING:
    from geoplan.profiles._model import Profile

# ---------------------------------------------------------------------------
# The closed vocabularies of the format (schema, not thresholds)
# ---------------------------------------------------------------------------

COMPARATORS: tuple[str, ...] = (">=", ">", "<=", "<", "==", "between")
"""Comparators a target may use; ``between`` takes ``[low, high]`` (inclusive)."""

MEASURES: Mapping[str, frozenset[str]] = {
    "floor_area": frozenset(
        [
            "area_per_100_households",
            "area_total",
            "activity_share",
            "commercial_service_share",
            "area_per_household",
            "complex_area",
            "functions_count",
            "key_functions_count",
        ]
    ),
    "development": frozenset({"commercial_service_share", "area_per_household"}),
    "organisations": frozenset(
        [
            "per_10000_residents",
            "count",
            "flag",
            "rate",
            "range_columns",
            "per_grid",
            "share_of_communities",
            "share_of_facilities",
        ]
    ),
    "coverage": frozenset({"coverage_share", "walk_time", "walk_distance"}),
    "grids": frozenset({"households_range", "residents_range", "dwellings_range"}),
    "access": frozenset({"supply_per_100_households", "supply_per_1000_residents"}),
}
"""Measures each audit implements (see ``docs/profiles.md``)."""

DECAYS: tuple[str, ...] = ("none", "linear", "gaussian")
"""Distance decays an access target may name (the weights are defined in
``geoplan.audit.access``); a target without ``decay`` means ``"none"``."""

AUDITS: tuple[str, ...] = tuple(MEASURES)
"""Audit names a target may belong to."""

SCOPES: tuple[str, ...] = tuple(
    [
        "urban_community",
        "village",
        "community",
        "new_development",
        "facility",
        "grid",
        "district",
        "central_district",
        "building",
        "life_circle",
    ]
)
"""Entities a target is measured on."""

NEEDS_COLUMN = frozenset(
    [
        "area_per_household",
        "per_10000_residents",
        "count",
        "flag",
        "rate",
        "per_grid",
        "share_of_communities",
        "share_of_facilities",
    ]
)
NEEDS_COLUMNS = frozenset({"range_columns"})
NEEDS_CATEGORY_OR_GROUP = frozenset({"coverage_share", "walk_time", "walk_distance"})
NEEDS_WITHIN = frozenset(
    {"coverage_share", "supply_per_100_households", "supply_per_1000_residents"}
)
#: Measures of one facility (the embedded-services complex): scope must be ``facility``.
FACILITY_MEASURES = frozenset({"complex_area", "functions_count", "key_functions_count"})
NEEDS_BETWEEN = frozenset(
    ["range_columns", "households_range", "residents_range", "dwellings_range"]
)
# Scope -> condition implied on a communities frame (column, value).
_SCOPE_CONDITION: Mapping[str, tuple[str, bool | str]] = {
    "urban_community": ("kind", "urban"),
    "village": ("kind", "village"),
    "new_development": ("new_development", True),
    "central_district": ("central_district", True),
}
NUMERIC_PARAMETERS = frozenset(
    [
        "walk_speed_m_per_min",
        "walk_speed_elderly_m_per_min",
        "persons_per_household",
        "net_to_gross",
        "dwelling_floor_area_m2",
        "floor_height_m",
        "facility_assign_max_m",
        "max_snap_m",
    ]
)
LIST_PARAMETERS = frozenset({"service_facility_categories", "key_functions"})
#: Parameters whose value is a table of name = positive number (e.g. floors per building type).
TABLE_PARAMETERS = frozenset({"default_levels"})

PROFILE_KEYS = ("name", "title_zh", "title_en", "description_zh", "description_en", "based_on")
SOURCE_KEYS = (
    *("title_zh", "title_en", "issuer", "year", "number"),
    *("kind", "form", "via", "via_url", "seed", "url", "note"),
)
SOURCE_KINDS: tuple[str, ...] = ("primary", "secondary", "project")
"""What a source is: the public document itself (``primary``); the document as
known only through a secondary text (``secondary``: a news report, a government
explanation page, a commentary; ``form`` says which and ``via`` gives its title);
or the geoplan authors' own choice of a value (``project``, not a standard)."""
PARAMETER_KEYS = ("value", "unit", "source", "clause", "confirmed", "note", "original_value")
TARGET_REQUIRED = tuple(
    [
        "id",
        "description_zh",
        "description_en",
        "audit",
        "measure",
        "unit",
        "comparator",
        "threshold",
        "scope",
        "source",
        "clause",
    ]
)
TARGET_KEYS = (
    *TARGET_REQUIRED,
    *[
        "confirmed",
        "column",
        "columns",
        "category",
        "group",
        "within_min",
        "within_m",
        "catchment",
        "supply_column",
        "decay",
        "applies_if",
        "note",
    ],
    "original_threshold",
)

_K = TypeVar("_K")
_V = TypeVar("_V")

Threshold = float | tuple[float, float]
ParameterValue = bool | int | float | str | tuple[str, ...] | Mapping[str, float]
AppliesValue = bool | int | float | str


class FrozenMap(Mapping[_K, _V]):
    """A read-only, hashable mapping that keeps insertion order."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[_K, _V] | Iterable[tuple[_K, _V]] = ()) -> None:
        self._data: dict[_K, _V] = dict(data)

    def __getitem__(self, key: _K) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[_K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{k!r}: {v!r}' for k, v in self._data.items())}}}"


# ---------------------------------------------------------------------------
# Dataclasses
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A source document that targets and parameters cite.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> load_profile("ningxia-2025").sources["ningxia-2023-plan"].year
    2023
    """

    key: str
    title_zh: str
    title_en: str
    issuer: str | None = None
    year: int | None = None
    number: str | None = None
    kind: str | None = None
    form: str | None = None
    via: str | None = None
    via_url: str | None = None
    seed: str | None = None
    url: str | None = None
    note: str | None = None

    @property
    def secondary(self) -> bool:
        """True when the figures were read from a secondary text, not the document.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> src = load_profile("mofcom-15min").sources["mofcom-2021-explanation"]
        >>> src.secondary, src.kind
        (True, 'secondary')
        """
        return self.kind == "secondary"

    def citation(self) -> str:
        """The source in one line: title, number, issuer, year, and what was read.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> print(load_profile("tianjin-2025").sources["census-2020"].citation())
        ... # doctest: +ELLIPSIS
        《第七次全国人口普查公报（第二号）——全国人口情况》, 国家统计局...2021 [primary]
        """
        parts = [f"《{self.title_zh}》"]
        if self.number and self.number not in self.title_zh:
            parts[0] += f" {self.number}"
        parts += [str(x) for x in (self.issuer, self.year) if x is not None]
        text = ", ".join(parts) + f" [{self.kind or 'kind not stated'}]"
        if self.secondary:
            text += f" via {self.form}: {self.via}"
        return text


@dataclass(frozen=True)
class Parameter:
    """A number (or list) the code needs, with unit, source and a note on the choice.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> load_profile("tianjin-2025").parameters["persons_per_household"].value
    2.62
    """

    name: str
    value: ParameterValue
    unit: str
    source: str
    clause: str | None = None
    confirmed: bool = True
    note: str | None = None
    original_value: ParameterValue | None = None


@dataclass(frozen=True)
class Target:
    """One checkable target: what is measured, how it is compared and where it comes from.

    ``passes`` and ``shortfall`` treat a missing value (None, NaN, ``pd.NA``) as
    *not measurable*: ``passes`` returns None and ``shortfall`` returns NaN, so
    an audit can report "no data" rather than a pass or a fail.

    The shortfall is the distance from the value to the nearest passing value,
    in the target's unit: 0 exactly when the target passes. For a strict
    comparator (``>``, ``<``) a value equal to the threshold fails by the
    smallest representable step (``numpy.nextafter``), so ``shortfall > 0`` iff
    the target fails.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> t = load_profile("ningxia-2025").target("subcommittee_size")
    >>> t.threshold, t.passes(5), t.shortfall(11), t.shortfall(2)
    ((3.0, 9.0), True, 2.0, 1.0)
    >>> t.passes(float("nan")) is None
    True
    """

    id: str
    description_zh: str
    description_en: str
    audit: str
    measure: str
    unit: str
    comparator: str
    threshold: Threshold
    scope: str
    source: str
    clause: str
    confirmed: bool = True
    column: str | None = None
    columns: tuple[str, ...] | None = None
    category: str | None = None
    group: str | None = None
    within_min: float | None = None
    within_m: float | None = None
    catchment: str | None = None
    supply_column: str | None = None
    decay: str | None = None
    applies_if: Mapping[str, AppliesValue] = field(default_factory=FrozenMap)
    note: str | None = None
    original_threshold: Threshold | None = None

    def passes(self, value: object) -> bool | None:
        """Whether ``value`` meets the target; None when the value is missing.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").target("workers_per_10k").passes(17.9)
        False
        """
        number = _scalar(value)
        if number is None:
            return None
        return bool(_passes_array(np.array([number]), self.comparator, self.threshold)[0])

    def shortfall(self, value: object) -> float:
        """Distance from ``value`` to the nearest passing value (0 when passing, NaN if missing).

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").target("workers_per_10k").shortfall(12.5)
        5.5
        """
        number = _scalar(value)
        if number is None:
            return math.nan
        return float(_shortfall_array(np.array([number]), self.comparator, self.threshold)[0])

    def evaluate(self, values: pd.Series | Sequence[object]) -> pd.DataFrame:
        """Vectorised ``passes``/``shortfall``: a frame aligned to ``values``.

        Returns columns ``value`` (float), ``pass`` (nullable boolean, NA where the
        value is missing) and ``shortfall`` (float, NaN where missing).

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> t = load_profile("tianjin-2025").target("workers_per_10k")
        >>> t.evaluate(pd.Series([20.0, 9.0, None], index=["a", "b", "c"]))["pass"].tolist()
        [True, False, <NA>]
        """
        series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
        arr = series.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        missing = np.isnan(arr)
        passed = pd.array(_passes_array(arr, self.comparator, self.threshold), dtype="boolean")
        passed[missing] = pd.NA
        return pd.DataFrame(
            {
                "value": arr,
                "pass": passed,
                "shortfall": _shortfall_array(arr, self.comparator, self.threshold),
            },
            index=series.index,
        )

    def applies_mask(self, frame: pd.DataFrame) -> pd.Series:
        """Which rows of an entity frame this target applies to (aligned boolean Series).

        Combines the condition implied by ``scope`` (``urban_community``: kind is
        ``urban``; ``village``: kind is ``village``; ``new_development`` and
        ``central_district``: that flag is true) with ``applies_if``. In
        ``applies_if`` a key ``min_<col>`` means ``col >= value``, ``max_<col>``
        means ``col <= value`` and any other key means ``col == value``. A
        missing boolean column counts as all False (the canonical default); a
        missing non-boolean column raises :class:`InputError`. Rows whose value
        is missing (NaN) do not apply.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> t = load_profile("tianjin-2025").target("social_orgs_urban")
        >>> f = pd.DataFrame({"kind": ["urban", "urban", "village"],
        ...                   "households": [800, 300, 900]}, index=["a", "b", "c"])
        >>> t.applies_mask(f).tolist()
        [True, False, False]
        """
        conditions: list[tuple[str, str, AppliesValue]] = []
        if self.scope in _SCOPE_CONDITION:
            conditions.append(("==", *_SCOPE_CONDITION[self.scope]))
        for key, val in self.applies_if.items():
            if key.startswith("min_"):
                conditions.append((">=", key[4:], val))
            elif key.startswith("max_"):
                conditions.append(("<=", key[4:], val))
            else:
                conditions.append(("==", key, val))
        mask = pd.Series(True, index=frame.index, dtype=bool)
        for op, col, value in conditions:
            if col not in frame.columns:
                if isinstance(value, bool) and op == "==":
                    mask &= value is False
                    continue
                raise InputError(
                    f"target {self.id!r} needs column {col!r} to decide where it applies",
                    column=col,
                )
            data = frame[col]
            if op in (">=", "<="):
                numbers = pd.to_numeric(data, errors="coerce")
                cond = numbers >= value if op == ">=" else numbers <= value
            elif isinstance(value, bool):
                cond = data.astype("boolean") == value
            else:
                cond = data == value
            mask &= cond.fillna(False).astype(bool)
        return mask

    def walk_minutes(self) -> float | None:
        """The walking time this coverage target states, in minutes (None for a distance).

        ``walk_time`` targets state it as their threshold, ``coverage_share``
        (and access) targets as ``within_min``; ``walk_distance`` targets and
        ``within_m`` state a distance instead, and a ``catchment`` a limit per
        facility (None here).

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").target("wet_market_coverage").walk_minutes()
        10.0
        >>> load_profile("gb50180-2018").target("life_circle_10min_walk").walk_minutes() is None
        True
        """
        if self.measure == "walk_time":
            return float(self.threshold)  # type: ignore[arg-type]
        if self.measure == "walk_distance":
            return None
        return self.within_min

    def walk_limit_m(self, profile: Profile, *, elderly: bool = False) -> float:
        """A coverage or access target's walking limit in metres: the one rule every audit uses.

        A distance the target states (``walk_distance`` threshold, ``within_m``)
        is used as is; a time (``walk_time`` threshold, ``within_min``) is
        converted at the profile's walking speed (its elderly speed with
        ``elderly=True``, see :meth:`Profile.walk_speed`). The parser refuses a
        target that states both a time and a distance, or a limit and a
        ``catchment``, so there is no precedence to get wrong. A target with a
        ``catchment`` has a limit per facility (:meth:`Catchment.limits_m`); this
        returns the catchment's largest (:meth:`Catchment.max_limit_m`), the
        radius a search must reach.

        Raises
        ------
        InputError
            For a target that states no walking limit (not a coverage target).

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("tianjin-2025")
        >>> t = p.target("wet_market_coverage")
        >>> t.walk_limit_m(p), t.walk_limit_m(p, elderly=True)
        (750.0, 600.0)
        >>> g = load_profile("gb50180-2018")
        >>> g.target("life_circle_10min_walk").walk_limit_m(g, elderly=True)
        500.0
        >>> h = load_profile("city-health-check")
        >>> h.target("park_service_radius_coverage").walk_limit_m(h)
        500.0
        """
        if self.measure == "walk_distance":
            return float(self.threshold)  # type: ignore[arg-type]
        if self.catchment is not None:  # per facility: the largest limit bounds the search
            return profile.catchment(self.catchment).max_limit_m(profile, elderly=elderly)
        minutes = self.walk_minutes()
        if minutes is not None:
            return minutes * profile.walk_speed(elderly=elderly)
        if self.within_m is not None:
            return float(self.within_m)
        raise InputError(
            f"target {self.id!r} states no walking limit (within_min or within_m)",
            row=self.id,
            column="within_min",
        )

    def threshold_text(self) -> str:
        """The comparison in words, for reports.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("ningxia-2025").target("grid_households").threshold_text()
        'between 300 and 500 households'
        """
        if self.comparator == "between":
            low, high = self.threshold  # type: ignore[misc]
            return f"between {_fmt_number(low)} and {_fmt_number(high)} {self.unit}"
        assert isinstance(self.threshold, float)
        return f"{self.comparator} {_fmt_number(self.threshold)} {self.unit}"


# ---------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------


def _scalar(value: object) -> float | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        return None if math.isnan(number) else number
    raise TypeError(f"a target compares numbers, not {type(value).__name__}: {value!r}")


def _passes_array(values: np.ndarray, comparator: str, threshold: Threshold) -> np.ndarray:
    if comparator == "between":
        low, high = threshold  # type: ignore[misc]
        return (values >= low) & (values <= high)
    t = float(threshold)  # type: ignore[arg-type]
    ops = {
        ">=": np.greater_equal,
        ">": np.greater,
        "<=": np.less_equal,
        "<": np.less,
        "==": np.equal,
    }
    return np.asarray(ops[comparator](values, t), dtype=bool)


def _shortfall_array(values: np.ndarray, comparator: str, threshold: Threshold) -> np.ndarray:
    v = np.asarray(values, dtype="float64")
    with np.errstate(over="ignore", invalid="ignore"):
        if comparator == "between":
            low, high = threshold  # type: ignore[misc]
            out = np.where(v < low, low - v, np.where(v > high, v - high, 0.0))
        else:
            t = float(threshold)  # type: ignore[arg-type]
            if comparator == ">=":
                out = np.where(v >= t, 0.0, t - v)
            elif comparator == ">":
                out = np.where(v > t, 0.0, np.nextafter(t, np.inf) - v)
            elif comparator == "<=":
                out = np.where(v <= t, 0.0, v - t)
            elif comparator == "<":
                out = np.where(v < t, 0.0, v - np.nextafter(t, -np.inf))
            else:  # "=="
                out = np.abs(v - t)
    out = np.asarray(out, dtype="float64")
    out[np.isnan(v)] = np.nan
    return out


def _fmt_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))

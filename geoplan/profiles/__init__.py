"""Standards profiles: every threshold geoplan checks, stored as data with its source.

A profile is a TOML file (format in ``docs/profiles.md``) holding the targets of
one planning document (Tianjin 14th FYP, Ningxia 2023-2025, GB 50180-2018, the
MOFCOM 15-minute life circle), the source documents and clauses they come from,
and the parameters the code needs (walking speed, household size, ...). Nothing
here reads a file at import time: packaged profiles are parsed on each
:func:`load_profile` call (they are a few kilobytes), so every call returns a new,
frozen :class:`Profile`.

Examples
--------
>>> p = load_profile("tianjin-2025")
>>> t = p.target("service_area_per_100_households")
>>> t.threshold, t.comparator, t.passes(31.0), t.shortfall(24.0)
(30.0, '>=', True, 6.0)
>>> mine = p.derive("my-city", thresholds={t.id: 35.0})
>>> mine.target(t.id).threshold, p.target(t.id).threshold
(35.0, 30.0)
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from geoplan._errors import InputError, ProfileNotFound

__all__ = [
    "AUDITS",
    "COMPARATORS",
    "MEASURES",
    "SCOPES",
    "Parameter",
    "Profile",
    "Source",
    "Target",
    "list_profiles",
    "load_profile",
]

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
}
"""Measures each audit implements (see ``docs/profiles.md``)."""

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

_NEEDS_COLUMN = frozenset(
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
_NEEDS_COLUMNS = frozenset({"range_columns"})
_NEEDS_CATEGORY_OR_GROUP = frozenset({"coverage_share", "walk_time", "walk_distance"})
_NEEDS_WITHIN = frozenset({"coverage_share"})
_NEEDS_BETWEEN = frozenset(
    ["range_columns", "households_range", "residents_range", "dwellings_range"]
)
# Scope -> condition implied on a communities frame (column, value).
_SCOPE_CONDITION: Mapping[str, tuple[str, bool | str]] = {
    "urban_community": ("kind", "urban"),
    "village": ("kind", "village"),
    "new_development": ("new_development", True),
    "central_district": ("central_district", True),
}
_NUMERIC_PARAMETERS = frozenset(
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
_LIST_PARAMETERS = frozenset({"service_facility_categories"})

_PROFILE_KEYS = ("name", "title_zh", "title_en", "description_zh", "description_en", "based_on")
_SOURCE_KEYS = ("title_zh", "title_en", "issuer", "year", "number", "seed", "url", "note")
_PARAMETER_KEYS = ("value", "unit", "source", "clause", "confirmed", "note", "original_value")
_TARGET_REQUIRED = tuple(
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
_TARGET_KEYS = (
    *_TARGET_REQUIRED,
    *[
        "confirmed",
        "column",
        "columns",
        "category",
        "group",
        "within_min",
        "within_m",
        "applies_if",
        "note",
    ],
    "original_threshold",
)

_K = TypeVar("_K")
_V = TypeVar("_V")

Threshold = float | tuple[float, float]
ParameterValue = bool | int | float | str | tuple[str, ...]
AppliesValue = bool | int | float | str


class _FrozenMap(Mapping[_K, _V]):
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
    >>> load_profile("ningxia-2025").sources["ningxia-2023-plan"].year
    2023
    """

    key: str
    title_zh: str
    title_en: str
    issuer: str | None = None
    year: int | None = None
    number: str | None = None
    seed: str | None = None
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Parameter:
    """A number (or list) the code needs, with unit, source and a note on the choice.

    Examples
    --------
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
    applies_if: Mapping[str, AppliesValue] = field(default_factory=_FrozenMap)
    note: str | None = None
    original_threshold: Threshold | None = None

    def passes(self, value: object) -> bool | None:
        """Whether ``value`` meets the target; None when the value is missing.

        Examples
        --------
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

    def threshold_text(self) -> str:
        """The comparison in words, for reports.

        Examples
        --------
        >>> load_profile("ningxia-2025").target("grid_households").threshold_text()
        'between 300 and 500 households'
        """
        if self.comparator == "between":
            low, high = self.threshold  # type: ignore[misc]
            return f"between {_fmt_number(low)} and {_fmt_number(high)} {self.unit}"
        assert isinstance(self.threshold, float)
        return f"{self.comparator} {_fmt_number(self.threshold)} {self.unit}"


@dataclass(frozen=True)
class Profile:
    """A standards profile: targets, the sources they cite and the parameters used.

    Frozen: :meth:`derive` returns a new profile; nothing here changes in place.

    Examples
    --------
    >>> p = load_profile("mofcom-15min")
    >>> [t.id for t in p.targets_for("coverage")][:2]
    ['walk_convenience_store', 'walk_breakfast']
    """

    name: str
    title_zh: str
    title_en: str
    targets: tuple[Target, ...]
    sources: Mapping[str, Source] = field(default_factory=_FrozenMap)
    parameters: Mapping[str, Parameter] = field(default_factory=_FrozenMap)
    description_zh: str | None = None
    description_en: str | None = None
    based_on: str | None = None
    path: str | None = field(default=None, compare=False)

    def target(self, target_id: str) -> Target:
        """The target with this id; :class:`ProfileNotFound` (a KeyError) lists the valid ids.

        Examples
        --------
        >>> load_profile("tianjin-2025").target("village_service_area").threshold
        300.0
        """
        for t in self.targets:
            if t.id == target_id:
                return t
        valid = ", ".join(t.id for t in self.targets)
        raise ProfileNotFound(
            f"profile {self.name!r} has no target {target_id!r}; valid ids: {valid}"
        )

    def targets_for(self, audit: str) -> tuple[Target, ...]:
        """The targets one audit checks, in file order.

        Examples
        --------
        >>> len(load_profile("ningxia-2025").targets_for("grids"))
        2
        """
        if audit not in MEASURES:
            raise ProfileNotFound(f"unknown audit {audit!r}; valid audits: {', '.join(AUDITS)}")
        return tuple(t for t in self.targets if t.audit == audit)

    def parameter(self, name: str) -> ParameterValue:
        """The value of a parameter; :class:`ProfileNotFound` lists the valid names.

        Examples
        --------
        >>> load_profile("tianjin-2025").parameter("max_snap_m")
        300.0
        """
        try:
            return self.parameters[name].value
        except KeyError:
            valid = ", ".join(self.parameters)
            raise ProfileNotFound(
                f"profile {self.name!r} has no parameter {name!r}; valid names: {valid}"
            ) from None

    def number(self, name: str) -> float:
        """A numeric parameter as ``float``; :class:`InputError` if it is not a number.

        Examples
        --------
        >>> load_profile("tianjin-2025").number("walk_speed_m_per_min")
        75.0
        """
        value = self.parameter(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                f"parameter {name!r} of profile {self.name!r} must be a number, not {value!r}",
                column=name,
            )
        return float(value)

    def names(self, name: str) -> tuple[str, ...]:
        """A list-of-names parameter (e.g. ``service_facility_categories``) as a tuple.

        Examples
        --------
        >>> "community_service_centre" in load_profile("tianjin-2025").names(
        ...     "service_facility_categories")
        True
        """
        value = self.parameter(name)
        if isinstance(value, str) or not isinstance(value, tuple | list):
            raise InputError(
                f"parameter {name!r} of profile {self.name!r} must be a list of names",
                column=name,
            )
        return tuple(str(v) for v in value)

    def source_of(self, target: Target | str) -> Source:
        """The source document a target (or target id) cites.

        Examples
        --------
        >>> p = load_profile("tianjin-2025")
        >>> p.source_of("workers_per_10k").seed
        'seeds/000_932ce8e390e76d05.txt'
        """
        t = self.target(target) if isinstance(target, str) else target
        return self.sources[t.source]

    def to_frame(self) -> pd.DataFrame:
        """One row per target (indexed by id) for display in a notebook or the CLI.

        Examples
        --------
        >>> load_profile("tianjin-2025").to_frame().loc["activity_share", "clause"]
        '主要指标 第3项 (Indicator 3); 重点任务 04 (Task 04)'
        """
        keys = (*_TARGET_REQUIRED[:4], "comparator", "threshold", "unit", "scope", "source")
        keys += ("clause", "confirmed")
        rows = [{k: getattr(t, k) for k in keys} for t in self.targets]
        return pd.DataFrame(rows).set_index("id")

    def derive(
        self,
        name: str | None = None,
        *,
        title_zh: str | None = None,
        title_en: str | None = None,
        thresholds: Mapping[str, float | Sequence[float]] | None = None,
        parameters: Mapping[str, ParameterValue | Sequence[str]] | None = None,
        drop: Iterable[str] = (),
        add: Iterable[Target] = (),
        sources: Mapping[str, Source] | None = None,
    ) -> Profile:
        """A new profile with some thresholds or parameters changed; this one is untouched.

        Changed targets keep their source and clause and record the document's
        figure in ``original_threshold`` (parameters: ``original_value``), so a
        report can say the threshold was set locally. ``drop`` removes targets by
        id; ``add`` appends targets (their sources must be in this profile or in
        ``sources``).

        Examples
        --------
        >>> base = load_profile("ningxia-2025")
        >>> mine = base.derive("yinchuan", thresholds={"grid_households": [200, 400]},
        ...                    parameters={"walk_speed_m_per_min": 70.0})
        >>> t = mine.target("grid_households")
        >>> t.threshold, t.original_threshold
        ((200.0, 400.0), (300.0, 500.0))
        >>> base.parameter("walk_speed_m_per_min"), mine.parameter("walk_speed_m_per_min")
        (75.0, 70.0)
        """
        where = f"derive({name or self.name!r})"
        thresholds = dict(thresholds or {})
        known = {t.id for t in self.targets}
        dropped = set(drop)
        for tid in list(thresholds) + sorted(dropped):
            if tid not in known:
                raise ProfileNotFound(
                    f"profile {self.name!r} has no target {tid!r}; valid ids: {', '.join(known)}"
                )
        new_targets: list[Target] = []
        for t in self.targets:
            if t.id in dropped:
                continue
            if t.id in thresholds:
                value = _parse_threshold(thresholds[t.id], t.comparator, file=where, row=t.id)
                original = t.original_threshold if t.original_threshold is not None else t.threshold
                t = dataclasses.replace(t, threshold=value, original_threshold=original)
            new_targets.append(t)
        new_targets.extend(add)
        new_parameters = dict(self.parameters)
        for pname, pvalue in (parameters or {}).items():
            if pname not in new_parameters:
                raise ProfileNotFound(
                    f"profile {self.name!r} has no parameter {pname!r}; "
                    f"valid names: {', '.join(new_parameters)}"
                )
            old = new_parameters[pname]
            checked = _parse_parameter_value(pname, pvalue, file=where)
            original_value = old.original_value if old.original_value is not None else old.value
            new_parameters[pname] = dataclasses.replace(
                old, value=checked, original_value=original_value
            )
        new_sources = dict(self.sources)
        new_sources.update(sources or {})
        derived = Profile(
            name=name or f"{self.name}-custom",
            title_zh=title_zh or self.title_zh,
            title_en=title_en or self.title_en,
            targets=tuple(new_targets),
            sources=_FrozenMap(new_sources),
            parameters=_FrozenMap(new_parameters),
            description_zh=self.description_zh,
            description_en=self.description_en,
            based_on=self.name,
        )
        _check_profile(derived, file=where)
        return derived

    def to_toml(self) -> str:
        """The profile as TOML text that :func:`load_profile` reads back to an equal profile.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> p = load_profile("gb50180-2018")
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "copy.toml"
        >>> _ = f.write_text(p.to_toml(), encoding="utf-8")
        >>> load_profile(f) == p
        True
        """
        return _profile_to_toml(self)


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def list_profiles() -> list[str]:
    """Names of the packaged profiles.

    Examples
    --------
    >>> list_profiles()
    ['gb50180-2018', 'mofcom-15min', 'ningxia-2025', 'tianjin-2025']
    """
    folder = resources.files(__name__)
    return sorted(
        entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a packaged profile by name, or a user's profile file by path.

    A :class:`~pathlib.Path`, or a string that ends in ``.toml`` or names an
    existing file, is read as a file. Every call parses afresh and returns a new
    frozen profile.

    Raises
    ------
    ProfileNotFound
        For an unknown name (the message lists the valid names) or a missing file.
    InputError
        For a malformed file: the message names the file, and the target id (row)
        and key (column) at fault.

    Examples
    --------
    >>> load_profile("tianjin-2025").target("workers_per_10k").threshold
    18.0
    >>> try:
    ...     load_profile("shanghai")
    ... except ProfileNotFound as err:
    ...     print(err)  # doctest: +NORMALIZE_WHITESPACE
    unknown profile 'shanghai'; valid names: gb50180-2018, mofcom-15min, ningxia-2025,
    tianjin-2025 (or give the path of a .toml file)
    """
    text: str
    label: str
    valid = list_profiles()
    as_str = str(name_or_path)
    is_path = (
        isinstance(name_or_path, Path)
        or as_str.endswith(".toml")
        or (as_str not in valid and Path(as_str).is_file())
    )
    if is_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileNotFound(
                f"profile file {as_str} does not exist; packaged profiles: {', '.join(valid)}"
            )
        text = path.read_text(encoding="utf-8")
        label = str(path)
    elif as_str in valid:
        entry = resources.files(__name__) / f"{as_str}.toml"
        text = entry.read_text(encoding="utf-8")
        label = str(entry)
    else:
        raise ProfileNotFound(
            f"unknown profile {as_str!r}; valid names: {', '.join(valid)} "
            "(or give the path of a .toml file)"
        )
    return _parse_profile(text, file=label)


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


# ---------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _parse_threshold(raw: object, comparator: str, *, file: str, row: str) -> Threshold:
    if comparator == "between":
        if (
            not isinstance(raw, list | tuple)
            or len(raw) != 2
            or not all(_is_number(x) and math.isfinite(x) for x in raw)
        ):
            raise InputError(
                f"comparator 'between' needs threshold = [low, high] (two numbers), got {raw!r}",
                file=file,
                row=row,
                column="threshold",
            )
        low, high = float(raw[0]), float(raw[1])
        if low > high:
            raise InputError(
                f"threshold low {low} is above high {high}", file=file, row=row, column="threshold"
            )
        return (low, high)
    if not _is_number(raw) or not math.isfinite(raw):  # type: ignore[arg-type]
        raise InputError(
            f"comparator {comparator!r} needs one finite number as threshold, got {raw!r}",
            file=file,
            row=row,
            column="threshold",
        )
    return float(raw)  # type: ignore[arg-type]


def _parse_parameter_value(name: str, raw: object, *, file: str) -> ParameterValue:
    if name in _NUMERIC_PARAMETERS:
        if not _is_number(raw) or not math.isfinite(raw) or raw <= 0:  # type: ignore[operator, arg-type]
            raise InputError(
                f"parameter {name!r} must be a positive number, got {raw!r}",
                file=file,
                row=name,
                column="value",
            )
        return float(raw)  # type: ignore[arg-type]
    if name in _LIST_PARAMETERS or isinstance(raw, list | tuple):
        if not isinstance(raw, list | tuple) or not all(isinstance(x, str) for x in raw):
            raise InputError(
                f"parameter {name!r} must be a list of strings, got {raw!r}",
                file=file,
                row=name,
                column="value",
            )
        return tuple(raw)
    if isinstance(raw, bool | int | float | str):
        return raw
    raise InputError(
        f"parameter {name!r} has an unsupported value {raw!r}", file=file, row=name, column="value"
    )


def _get_str(
    table: Mapping[str, Any], key: str, *, file: str, row: str | None, required: bool
) -> str | None:
    if key not in table:
        if required:
            raise InputError(f"missing key {key!r}", file=file, row=row, column=key)
        return None
    value = table[key]
    if not isinstance(value, str) or (required and not value.strip()):
        raise InputError(
            f"{key!r} must be a non-empty string, got {value!r}", file=file, row=row, column=key
        )
    return value


def _get_bool(table: Mapping[str, Any], key: str, *, file: str, row: str) -> bool:
    value = table.get(key, True)
    if not isinstance(value, bool):
        raise InputError(
            f"{key!r} must be true or false, got {value!r}", file=file, row=row, column=key
        )
    return value


def _get_float(table: Mapping[str, Any], key: str, *, file: str, row: str) -> float | None:
    if key not in table:
        return None
    value = table[key]
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise InputError(
            f"{key!r} must be a positive number, got {value!r}", file=file, row=row, column=key
        )
    return float(value)


def _check_unknown_keys(
    table: Mapping[str, Any], allowed: Sequence[str], *, file: str, row: str | None, what: str
) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(
                f"unknown key {key!r} in {what}; allowed keys: {', '.join(allowed)}",
                file=file,
                row=row,
                column=key,
            )


def _parse_table(raw: object, *, file: str, row: str | None, what: str) -> Mapping[str, Any]:
    if not isinstance(raw, dict):
        raise InputError(f"{what} must be a table, got {raw!r}", file=file, row=row)
    return raw


def _parse_source(key: str, raw: object, *, file: str) -> Source:
    table = _parse_table(raw, file=file, row=key, what=f"[sources.{key}]")
    _check_unknown_keys(table, _SOURCE_KEYS, file=file, row=key, what=f"[sources.{key}]")
    year = table.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise InputError(
            f"'year' must be an integer, got {year!r}", file=file, row=key, column="year"
        )
    opt = {
        k: _get_str(table, k, file=file, row=key, required=False)
        for k in _SOURCE_KEYS[2:]
        if k != "year"
    }
    return Source(
        key=key,
        title_zh=_get_str(table, "title_zh", file=file, row=key, required=True),  # type: ignore[arg-type]
        title_en=_get_str(table, "title_en", file=file, row=key, required=True),  # type: ignore[arg-type]
        year=year,
        **opt,
    )


def _parse_parameter(name: str, raw: object, *, file: str) -> Parameter:
    table = _parse_table(raw, file=file, row=name, what=f"[parameters.{name}]")
    _check_unknown_keys(table, _PARAMETER_KEYS, file=file, row=name, what=f"[parameters.{name}]")
    if "value" not in table:
        raise InputError("missing key 'value'", file=file, row=name, column="value")
    original = table.get("original_value")
    return Parameter(
        name=name,
        value=_parse_parameter_value(name, table["value"], file=file),
        unit=_get_str(table, "unit", file=file, row=name, required=True),  # type: ignore[arg-type]
        source=_get_str(table, "source", file=file, row=name, required=True),  # type: ignore[arg-type]
        clause=_get_str(table, "clause", file=file, row=name, required=False),
        confirmed=_get_bool(table, "confirmed", file=file, row=name),
        note=_get_str(table, "note", file=file, row=name, required=False),
        original_value=None
        if original is None
        else _parse_parameter_value(name, original, file=file),
    )


def _parse_target(raw: object, index: int, *, file: str) -> Target:
    label = f"targets[{index}]"
    table = _parse_table(raw, file=file, row=label, what=label)
    tid = table.get("id")
    row = tid if isinstance(tid, str) and tid.strip() else label
    _check_unknown_keys(table, _TARGET_KEYS, file=file, row=row, what="a target")
    s: dict[str, str] = {}
    for key in _TARGET_REQUIRED:
        if key == "threshold":
            if key not in table:
                raise InputError("missing key 'threshold'", file=file, row=row, column=key)
            continue
        s[key] = _get_str(table, key, file=file, row=row, required=True)  # type: ignore[assignment]
    if s["comparator"] not in COMPARATORS:
        raise InputError(
            f"unknown comparator {s['comparator']!r}; valid: {', '.join(COMPARATORS)}",
            file=file,
            row=row,
            column="comparator",
        )
    threshold = _parse_threshold(table["threshold"], s["comparator"], file=file, row=row)
    original = table.get("original_threshold")
    columns = table.get("columns")
    if columns is not None and (
        not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns)
    ):
        raise InputError(
            f"'columns' must be a list of column names, got {columns!r}",
            file=file,
            row=row,
            column="columns",
        )
    applies = table.get("applies_if", {})
    if not isinstance(applies, dict) or not all(
        isinstance(v, bool | int | float | str) for v in applies.values()
    ):
        raise InputError(
            f"'applies_if' must be an inline table of column = value, got {applies!r}",
            file=file,
            row=row,
            column="applies_if",
        )
    return Target(
        id=s["id"],
        description_zh=s["description_zh"],
        description_en=s["description_en"],
        audit=s["audit"],
        measure=s["measure"],
        unit=s["unit"],
        comparator=s["comparator"],
        threshold=threshold,
        scope=s["scope"],
        source=s["source"],
        clause=s["clause"],
        confirmed=_get_bool(table, "confirmed", file=file, row=row),
        column=_get_str(table, "column", file=file, row=row, required=False),
        columns=None if columns is None else tuple(columns),
        category=_get_str(table, "category", file=file, row=row, required=False),
        group=_get_str(table, "group", file=file, row=row, required=False),
        within_min=_get_float(table, "within_min", file=file, row=row),
        within_m=_get_float(table, "within_m", file=file, row=row),
        applies_if=_FrozenMap(applies),
        note=_get_str(table, "note", file=file, row=row, required=False),
        original_threshold=None
        if original is None
        else _parse_threshold(original, s["comparator"], file=file, row=row),
    )


def _check_target(t: Target, profile: Profile, *, file: str) -> None:
    def fail(message: str, column: str) -> None:
        raise InputError(message, file=file, row=t.id, column=column)

    if t.audit not in MEASURES:
        fail(f"unknown audit {t.audit!r}; valid: {', '.join(AUDITS)}", "audit")
    if t.measure not in MEASURES[t.audit]:
        fail(
            f"unknown measure {t.measure!r} for audit {t.audit!r}; "
            f"valid: {', '.join(sorted(MEASURES[t.audit]))}",
            "measure",
        )
    if t.scope not in SCOPES:
        fail(f"unknown scope {t.scope!r}; valid: {', '.join(SCOPES)}", "scope")
    if t.source not in profile.sources:
        fail(
            f"source {t.source!r} is not a [sources] table of this profile; "
            f"defined: {', '.join(profile.sources) or 'none'}",
            "source",
        )
    if t.comparator not in COMPARATORS:
        fail(f"unknown comparator {t.comparator!r}; valid: {', '.join(COMPARATORS)}", "comparator")
    if t.measure in _NEEDS_COLUMN and not t.column:
        fail(f"measure {t.measure!r} needs 'column'", "column")
    if t.measure in _NEEDS_COLUMNS and (t.columns is None or len(t.columns) < 2):
        fail(f"measure {t.measure!r} needs 'columns' (two or more)", "columns")
    if t.measure in _NEEDS_CATEGORY_OR_GROUP and (t.category is None) == (t.group is None):
        fail(f"measure {t.measure!r} needs exactly one of 'category' or 'group'", "category")
    if t.measure in _NEEDS_WITHIN and t.within_min is None and t.within_m is None:
        fail(f"measure {t.measure!r} needs 'within_min' or 'within_m'", "within_min")
    if t.measure in _NEEDS_BETWEEN and t.comparator != "between":
        fail(f"measure {t.measure!r} needs comparator 'between'", "comparator")


def _check_profile(profile: Profile, *, file: str) -> None:
    seen: set[str] = set()
    for t in profile.targets:
        if t.id in seen:
            raise InputError(f"duplicate target id {t.id!r}", file=file, row=t.id, column="id")
        seen.add(t.id)
        _check_target(t, profile, file=file)
    for p in profile.parameters.values():
        if p.source not in profile.sources:
            raise InputError(
                f"source {p.source!r} is not a [sources] table of this profile",
                file=file,
                row=p.name,
                column="source",
            )


def _parse_profile(text: str, *, file: str) -> Profile:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=file) from None
    _check_unknown_keys(
        data, ("profile", "sources", "parameters", "targets"), file=file, row=None, what="the file"
    )
    head = _parse_table(data.get("profile"), file=file, row=None, what="[profile]")
    _check_unknown_keys(head, _PROFILE_KEYS, file=file, row="[profile]", what="[profile]")
    sources_raw = _parse_table(data.get("sources", {}), file=file, row=None, what="[sources]")
    params_raw = _parse_table(data.get("parameters", {}), file=file, row=None, what="[parameters]")
    targets_raw = data.get("targets", [])
    if not isinstance(targets_raw, list):
        raise InputError("'targets' must be an array of tables ([[targets]])", file=file)
    profile = Profile(
        name=_get_str(head, "name", file=file, row="[profile]", required=True),  # type: ignore[arg-type]
        title_zh=_get_str(head, "title_zh", file=file, row="[profile]", required=True),  # type: ignore[arg-type]
        title_en=_get_str(head, "title_en", file=file, row="[profile]", required=True),  # type: ignore[arg-type]
        description_zh=_get_str(head, "description_zh", file=file, row="[profile]", required=False),
        description_en=_get_str(head, "description_en", file=file, row="[profile]", required=False),
        based_on=_get_str(head, "based_on", file=file, row="[profile]", required=False),
        sources=_FrozenMap(
            (key, _parse_source(key, value, file=file)) for key, value in sources_raw.items()
        ),
        parameters=_FrozenMap(
            (key, _parse_parameter(key, value, file=file)) for key, value in params_raw.items()
        ),
        targets=tuple(_parse_target(raw, i, file=file) for i, raw in enumerate(targets_raw)),
        path=file,
    )
    _check_profile(profile, file=file)
    return profile


# ---------------------------------------------------------------------------
# A minimal TOML writer (only the shapes a profile uses)
# ---------------------------------------------------------------------------

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _toml_key(key: str) -> str:
    if key and all(ch in _BARE_KEY_CHARS for ch in key):
        return key
    return _toml_string(key)


def _toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _toml_lines(pairs: Iterable[tuple[str, object]]) -> list[str]:
    return [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in pairs if v is not None]


def _profile_to_toml(p: Profile) -> str:
    lines = ["# geoplan standards profile (format: docs/profiles.md)", "", "[profile]"]
    lines += _toml_lines((k, getattr(p, k)) for k in _PROFILE_KEYS)
    for key, src in p.sources.items():
        lines += ["", f"[sources.{_toml_key(key)}]"]
        lines += _toml_lines((k, getattr(src, k)) for k in _SOURCE_KEYS)
    for name, par in p.parameters.items():
        lines += ["", f"[parameters.{_toml_key(name)}]"]
        lines += _toml_lines((k, getattr(par, k)) for k in _PARAMETER_KEYS)
    for t in p.targets:
        lines += ["", "[[targets]]"]
        pairs: list[tuple[str, object]] = []
        for k in _TARGET_KEYS:
            v = getattr(t, k)
            if k == "applies_if" and not v:
                continue
            pairs.append((k, v))
        lines += _toml_lines(pairs)
    return "\n".join(lines) + "\n"

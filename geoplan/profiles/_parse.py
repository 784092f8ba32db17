"""Parsing and validation of profile TOML (every error names file, target and key).

One job: TOML text -> the schema's records (``_schema``), validated. It builds no
:class:`~geoplan.profiles.Profile`: :func:`parse_profile_fields` returns the
checked fields and ``_model`` assembles them, so imports run one way.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypedDict, TypeGuard, overload

from geoplan._errors import InputError
from geoplan.profiles._catchment import Catchment, parse_catchments
from geoplan.profiles._schema import (
    AUDITS,
    COMPARATORS,
    DECAYS,
    FACILITY_MEASURES,
    LIST_PARAMETERS,
    MEASURES,
    NEEDS_BETWEEN,
    NEEDS_CATEGORY_OR_GROUP,
    NEEDS_COLUMN,
    NEEDS_COLUMNS,
    NEEDS_WITHIN,
    NUMERIC_PARAMETERS,
    PARAMETER_KEYS,
    PROFILE_KEYS,
    SCOPES,
    SOURCE_KEYS,
    SOURCE_KINDS,
    TABLE_PARAMETERS,
    TARGET_KEYS,
    TARGET_REQUIRED,
    FrozenMap,
    Parameter,
    ParameterValue,
    Source,
    Target,
    Threshold,
)
from geoplan.profiles._texts import restate

# ---------------------------------------------------------------------------
# Parsing and validation
# ---------------------------------------------------------------------------


def _is_number(x: object) -> TypeGuard[float]:
    """An int or float (a TOML number), not a bool."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def parse_threshold(raw: object, comparator: str, *, file: str, row: str) -> Threshold:
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
    if not _is_number(raw) or not math.isfinite(raw):
        raise InputError(
            f"comparator {comparator!r} needs one finite number as threshold, got {raw!r}",
            file=file,
            row=row,
            column="threshold",
        )
    return float(raw)


def parse_parameter_value(name: str, raw: object, *, file: str) -> ParameterValue:
    if name in NUMERIC_PARAMETERS:
        if not _is_number(raw) or not math.isfinite(raw) or raw <= 0:
            raise InputError(
                f"parameter {name!r} must be a positive number, got {raw!r}",
                file=file,
                row=name,
                column="value",
            )
        return float(raw)
    if name in TABLE_PARAMETERS or isinstance(raw, Mapping):
        bad = not isinstance(raw, Mapping) or not raw
        if not bad:
            assert isinstance(raw, Mapping)
            bad = not all(
                isinstance(k, str) and k.strip() and _is_number(v) and math.isfinite(v) and v > 0
                for k, v in raw.items()
            )
        if bad:
            raise InputError(
                f"parameter {name!r} must be a table of name = positive number, got {raw!r}",
                file=file,
                row=name,
                column="value",
            )
        assert isinstance(raw, Mapping)
        return FrozenMap((str(k).strip(), float(v)) for k, v in raw.items())
    if name in LIST_PARAMETERS or isinstance(raw, list | tuple):
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


@overload
def _get_str(
    table: Mapping[str, object], key: str, *, file: str, row: str | None, required: Literal[True]
) -> str: ...
@overload
def _get_str(
    table: Mapping[str, object], key: str, *, file: str, row: str | None, required: bool
) -> str | None: ...
def _get_str(
    table: Mapping[str, object], key: str, *, file: str, row: str | None, required: bool
) -> str | None:
    """``table[key]``, a string; a ``required`` one is there and not blank (never None)."""
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


def _get_bool(table: Mapping[str, object], key: str, *, file: str, row: str) -> bool:
    value = table.get(key, True)
    if not isinstance(value, bool):
        raise InputError(
            f"{key!r} must be true or false, got {value!r}", file=file, row=row, column=key
        )
    return value


def _get_float(table: Mapping[str, object], key: str, *, file: str, row: str) -> float | None:
    if key not in table:
        return None
    value = table[key]
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise InputError(
            f"{key!r} must be a positive number, got {value!r}", file=file, row=row, column=key
        )
    return float(value)


def _check_unknown_keys(
    table: Mapping[str, object], allowed: Sequence[str], *, file: str, row: str | None, what: str
) -> None:
    for key in table:
        if key not in allowed:
            raise InputError(
                f"unknown key {key!r} in {what}; allowed keys: {', '.join(allowed)}",
                file=file,
                row=row,
                column=key,
            )


def _parse_table(raw: object, *, file: str, row: str | None, what: str) -> Mapping[str, object]:
    if not isinstance(raw, dict):
        raise InputError(f"{what} must be a table, got {raw!r}", file=file, row=row)
    return raw


def _parse_source(key: str, raw: object, *, file: str) -> Source:
    table = _parse_table(raw, file=file, row=key, what=f"[sources.{key}]")
    _check_unknown_keys(table, SOURCE_KEYS, file=file, row=key, what=f"[sources.{key}]")
    year = table.get("year")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool)):
        raise InputError(
            f"'year' must be an integer, got {year!r}", file=file, row=key, column="year"
        )
    opt = {
        k: _get_str(table, k, file=file, row=key, required=False)
        for k in SOURCE_KEYS[2:]
        if k != "year"
    }
    kind = opt["kind"]
    if kind is not None and kind not in SOURCE_KINDS:
        raise InputError(
            f"unknown source kind {kind!r}; valid: {', '.join(SOURCE_KINDS)}",
            file=file,
            row=key,
            column="kind",
        )
    if kind == "secondary":
        for needed in ("form", "via"):
            if not opt[needed]:
                raise InputError(
                    f"a secondary source needs {needed!r}: what the text read is "
                    "(form: news report, government explanation page, ...) and its title (via)",
                    file=file,
                    row=key,
                    column=needed,
                )
    return Source(
        key=key,
        title_zh=_get_str(table, "title_zh", file=file, row=key, required=True),
        title_en=_get_str(table, "title_en", file=file, row=key, required=True),
        year=year,
        **opt,
    )


def _parse_parameter(name: str, raw: object, *, file: str) -> Parameter:
    table = _parse_table(raw, file=file, row=name, what=f"[parameters.{name}]")
    _check_unknown_keys(table, PARAMETER_KEYS, file=file, row=name, what=f"[parameters.{name}]")
    if "value" not in table:
        raise InputError("missing key 'value'", file=file, row=name, column="value")
    original = table.get("original_value")
    return Parameter(
        name=name,
        value=parse_parameter_value(name, table["value"], file=file),
        unit=_get_str(table, "unit", file=file, row=name, required=True),
        source=_get_str(table, "source", file=file, row=name, required=True),
        clause=_get_str(table, "clause", file=file, row=name, required=False),
        confirmed=_get_bool(table, "confirmed", file=file, row=name),
        note=_get_str(table, "note", file=file, row=name, required=False),
        original_value=None
        if original is None
        else parse_parameter_value(name, original, file=file),
    )


def _parse_target(raw: object, index: int, *, file: str) -> Target:
    label = f"targets[{index}]"
    table = _parse_table(raw, file=file, row=label, what=label)
    tid = table.get("id")
    row = tid if isinstance(tid, str) and tid.strip() else label
    _check_unknown_keys(table, TARGET_KEYS, file=file, row=row, what="a target")
    s: dict[str, str] = {}
    for key in TARGET_REQUIRED:
        if key == "threshold":
            if key not in table:
                raise InputError("missing key 'threshold'", file=file, row=row, column=key)
            continue
        s[key] = _get_str(table, key, file=file, row=row, required=True)
    if s["comparator"] not in COMPARATORS:
        raise InputError(
            f"unknown comparator {s['comparator']!r}; valid: {', '.join(COMPARATORS)}",
            file=file,
            row=row,
            column="comparator",
        )
    threshold = parse_threshold(table["threshold"], s["comparator"], file=file, row=row)
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
    target = Target(
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
        catchment=_get_str(table, "catchment", file=file, row=row, required=False),
        supply_column=_get_str(table, "supply_column", file=file, row=row, required=False),
        decay=_get_str(table, "decay", file=file, row=row, required=False),
        applies_if=FrozenMap(applies),
        note=_get_str(table, "note", file=file, row=row, required=False),
        original_threshold=None
        if original is None
        else parse_threshold(original, s["comparator"], file=file, row=row),
    )
    if target.original_threshold is not None:  # set locally: the texts must say so
        target = restate(target, target.original_threshold)
    return target


def _check_target(
    t: Target,
    sources: Mapping[str, Source],
    *,
    file: str,
    catchments: Sequence[Catchment] = (),
) -> None:
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
    if t.source not in sources:
        fail(
            f"source {t.source!r} is not a [sources] table of this profile; "
            f"defined: {', '.join(sources) or 'none'}",
            "source",
        )
    if t.comparator not in COMPARATORS:
        fail(f"unknown comparator {t.comparator!r}; valid: {', '.join(COMPARATORS)}", "comparator")
    if t.measure in NEEDS_COLUMN and not t.column:
        fail(f"measure {t.measure!r} needs 'column'", "column")
    if t.measure in NEEDS_COLUMNS and (t.columns is None or len(t.columns) < 2):
        fail(f"measure {t.measure!r} needs 'columns' (two or more)", "columns")
    if t.measure in NEEDS_CATEGORY_OR_GROUP and (t.category is None) == (t.group is None):
        fail(f"measure {t.measure!r} needs exactly one of 'category' or 'group'", "category")
    if t.measure in NEEDS_WITHIN and t.within_min is t.within_m is t.catchment is None:
        fail(f"measure {t.measure!r} needs 'within_min', 'within_m' or 'catchment'", "within_min")
    if t.within_min is not None and t.within_m is not None:
        fail(
            f"target gives both within_min ({t.within_min:g}) and within_m ({t.within_m:g}); "
            "keep one: a time converted at the walking speed, or a distance",
            "within_m",
        )
    if t.measure in ("walk_time", "walk_distance") and (
        t.within_min is not None or t.within_m is not None
    ):
        key = "within_min" if t.within_min is not None else "within_m"
        fail(
            f"measure {t.measure!r} takes its walking limit from 'threshold'; remove {key!r}",
            key,
        )
    if t.measure in NEEDS_BETWEEN and t.comparator != "between":
        fail(f"measure {t.measure!r} needs comparator 'between'", "comparator")
    if t.measure in FACILITY_MEASURES and t.scope != "facility":
        fail(f"measure {t.measure!r} is measured on one facility: scope = 'facility'", "scope")
    _check_access_keys(t, fail)
    if t.catchment is not None:
        _check_target_catchment(t, catchments, fail)


def _check_access_keys(t: Target, fail: Callable[[str, str], None]) -> None:
    """``supply_column`` and ``decay`` belong to access targets, which need them right."""
    if t.audit == "access":
        if not t.category or t.group is not None:
            fail(f"measure {t.measure!r} needs 'category' (one category, no 'group')", "category")
        if not t.supply_column:
            fail(
                f"measure {t.measure!r} needs 'supply_column' "
                "(the facilities' column of supply, e.g. floor_area_m2)",
                "supply_column",
            )
        if t.decay is not None and t.decay not in DECAYS:
            fail(f"unknown decay {t.decay!r}; valid: {', '.join(DECAYS)}", "decay")
        return
    for key in ("supply_column", "decay"):
        if getattr(t, key) is not None:
            fail(f"{key!r} belongs to access targets (audit = 'access'), not {t.audit!r}", key)


def _check_target_catchment(
    t: Target, catchments: Sequence[Catchment], fail: Callable[[str, str], None]
) -> None:
    """A target's ``catchment`` exists, matches its category and replaces any other limit."""
    if t.measure not in NEEDS_WITHIN:
        fail(
            f"'catchment' sets per-facility walking limits of coverage_share and access "
            f"targets, not of measure {t.measure!r}",
            "catchment",
        )
    if t.within_min is not None or t.within_m is not None:
        key = "within_min" if t.within_min is not None else "within_m"
        fail(
            f"target gives both 'catchment' ({t.catchment!r}) and {key!r}; keep one: the "
            "catchment's rules give each facility its limit",
            key,
        )
    found = next((c for c in catchments if c.id == t.catchment), None)
    if found is None:
        ids = ", ".join(c.id for c in catchments) or "none"
        fail(
            f"catchment {t.catchment!r} is not a [[catchments]] id of this profile; defined: {ids}",
            "catchment",
        )
        return
    if t.category != found.category:
        fail(
            f"catchment {found.id!r} is for category {found.category!r}, but the target "
            f"checks {'group ' + repr(t.group) if t.group else repr(t.category)}; "
            "a catchment's rules apply to its own category only",
            "catchment",
        )


def check_profile(
    targets: Sequence[Target],
    *,
    sources: Mapping[str, Source],
    parameters: Mapping[str, Parameter],
    file: str,
    catchments: Sequence[Catchment] = (),
) -> None:
    """Checks across a whole profile: unique ids, and every target and parameter valid."""
    seen: set[str] = set()
    for t in targets:
        if t.id in seen:
            raise InputError(f"duplicate target id {t.id!r}", file=file, row=t.id, column="id")
        seen.add(t.id)
        _check_target(t, sources, file=file, catchments=catchments)
        if t.measure == "key_functions_count" and "key_functions" not in parameters:
            raise InputError(
                "measure 'key_functions_count' needs the parameter 'key_functions' "
                "(the function ids that count, e.g. elderly_care, childcare)",
                file=file,
                row=t.id,
                column="measure",
            )
    for p in parameters.values():
        if p.source not in sources:
            raise InputError(
                f"source {p.source!r} is not a [sources] table of this profile",
                file=file,
                row=p.name,
                column="source",
            )


class ProfileFields(TypedDict):
    """The checked fields of a profile file, ready for ``Profile(**fields)``."""

    name: str
    title_zh: str
    title_en: str
    description_zh: str | None
    description_en: str | None
    based_on: str | None
    sources: Mapping[str, Source]
    parameters: Mapping[str, Parameter]
    targets: tuple[Target, ...]
    catchments: tuple[Catchment, ...]


def parse_profile_fields(text: str, *, file: str) -> ProfileFields:
    """Parse and check the profile in TOML ``text``; errors name ``file``, row and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", file=file) from None
    _check_unknown_keys(
        data,
        ("profile", "sources", "parameters", "catchments", "targets"),
        file=file,
        row=None,
        what="the file",
    )
    head = _parse_table(data.get("profile"), file=file, row=None, what="[profile]")
    _check_unknown_keys(head, PROFILE_KEYS, file=file, row="[profile]", what="[profile]")
    sources_raw = _parse_table(data.get("sources", {}), file=file, row=None, what="[sources]")
    params_raw = _parse_table(data.get("parameters", {}), file=file, row=None, what="[parameters]")
    targets_raw = data.get("targets", [])
    if not isinstance(targets_raw, list):
        raise InputError("'targets' must be an array of tables ([[targets]])", file=file)
    fields = ProfileFields(
        name=_get_str(head, "name", file=file, row="[profile]", required=True),
        title_zh=_get_str(head, "title_zh", file=file, row="[profile]", required=True),
        title_en=_get_str(head, "title_en", file=file, row="[profile]", required=True),
        description_zh=_get_str(head, "description_zh", file=file, row="[profile]", required=False),
        description_en=_get_str(head, "description_en", file=file, row="[profile]", required=False),
        based_on=_get_str(head, "based_on", file=file, row="[profile]", required=False),
        sources=FrozenMap(
            (key, _parse_source(key, value, file=file)) for key, value in sources_raw.items()
        ),
        parameters=FrozenMap(
            (key, _parse_parameter(key, value, file=file)) for key, value in params_raw.items()
        ),
        targets=tuple(_parse_target(raw, i, file=file) for i, raw in enumerate(targets_raw)),
        catchments=(),
    )
    fields["catchments"] = parse_catchments(
        data.get("catchments"), file=file, sources=fields["sources"]
    )
    check_profile(
        fields["targets"],
        sources=fields["sources"],
        parameters=fields["parameters"],
        file=file,
        catchments=fields["catchments"],
    )
    return fields

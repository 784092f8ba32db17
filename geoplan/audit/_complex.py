"""The embedded-services complex checks of the floor-area audit: area and functions.

One job: the facility-scope measures ``complex_area``, ``functions_count`` and
``key_functions_count`` (城市社区嵌入式服务设施建设导则（试行）, 2024: a complex of at
least 600 m2 with at least 3 functions, at least 2 of them elderly care, infant
care, after-school care or meals). The thresholds and which functions are key
come from the profile (targets and the ``key_functions`` parameter); this module
knows only how to read a facility's ``functions`` entry: a list of names
separated by 、，,;；/／ (or a real list), each mapped to a function id by
:data:`FUNCTION_NAMES` (Chinese and English variants). A facility without an
entry is *no data*, never a pass.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geoplan._errors import InputError
from geoplan.audit.facts import missing_key
from geoplan.audit.results import Check, numeric_column
from geoplan.profiles._schema import FACILITY_MEASURES

if TYPE_CHECKING:
    from geoplan.profiles import Target

__all__ = [
    "COMPLEX_MEASURES",
    "FUNCTION_NAMES",
    "complex_check",
    "function_ids",
    "parse_functions",
]

#: The measures checked here: the profile schema's measures of one facility.
COMPLEX_MEASURES = FACILITY_MEASURES

#: function id -> the names accepted for it (compared ignoring case, spaces, ``_`` and ``-``).
#: A vocabulary, not a threshold: which ids count as key is the profile's ``key_functions``.
FUNCTION_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "elderly_care": (
            *("养老服务", "养老", "社区养老", "居家养老", "居家社区养老", "日间照料"),
            *("老年日间照料", "养老驿站", "托老", "长者照护", "为老服务"),
            *("elderly care", "elderly services", "aged care", "senior care", "elderly day care"),
        ),
        "infant_care": (
            *("婴幼儿托育", "托育", "托育服务", "婴幼儿照护", "婴幼儿照护服务", "托儿所"),
            *("托班", "普惠托育", "infant care", "infant and toddler care", "nursery"),
            *("childcare", "child care", "daycare"),
        ),
        "after_school_care": (
            *("儿童托管", "托管", "课后托管", "四点半课堂", "四点半学校", "儿童之家"),
            *("after school care", "after-school care", "afterschool care", "after school"),
        ),
        "meals": (
            *("社区助餐", "助餐", "助餐服务", "老年助餐", "老年食堂", "长者食堂", "社区食堂"),
            *("爱心食堂", "meals", "meal service", "meal services", "community meals"),
            *("community canteen", "canteen", "dining"),
        ),
        "health": (
            *("卫生服务", "社区卫生", "医疗", "医疗卫生", "健康服务", "卫生服务站"),
            *("health", "health care", "healthcare", "clinic"),
        ),
        "culture_sports": (
            *("文化活动", "文体活动", "文化", "体育健身", "健身", "阅览", "图书室"),
            *("culture", "sports", "fitness", "reading room", "library"),
        ),
        "convenience": (
            *("便民服务", "便民商业", "家政", "家政服务", "维修", "便民维修"),
            *("convenience services", "housekeeping", "repair"),
        ),
        "government_services": (
            *("政务服务", "党群服务", "社区服务", "综合服务"),
            *("government services", "public services", "community services"),
        ),
    }
)

_SEPARATORS = re.compile(r"[、，,；;／/|\n]+")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", name.strip().lower())


@functools.cache
def _lookup() -> Mapping[str, str]:
    """Every accepted name (as :func:`_key` reads it) -> its function id; built once."""
    return {_key(name): fid for fid, names in FUNCTION_NAMES.items() for name in (fid, *names)}


def parse_functions(value: object) -> tuple[str, ...] | None:
    """The function names of one ``functions`` entry; None when there is none.

    Text is split on 、，,；;／/| (and line breaks); a list or tuple is taken as it
    is. Missing values, empty text and empty lists give None: no data.

    Examples
    --------
    >>> parse_functions("养老服务、婴幼儿托育，社区助餐")
    ('养老服务', '婴幼儿托育', '社区助餐')
    >>> parse_functions("elderly care; meals / health")
    ('elderly care', 'meals', 'health')
    >>> parse_functions(["托育", " "]), parse_functions(" ; "), parse_functions(float("nan"))
    (('托育',), None, None)
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        parts: Iterable[object] = _SEPARATORS.split(value)
    elif isinstance(value, list | tuple | np.ndarray):
        parts = list(value)
    else:
        raise InputError(
            f"a functions entry must be text or a list of names, got {value!r}",
            column="functions",
        )
    names = tuple(str(p).strip() for p in parts if p is not None and str(p).strip())
    return names or None


def function_ids(names: Iterable[str]) -> frozenset[str]:
    """The distinct functions of some names: known names map to their id, others to themselves.

    Examples
    --------
    >>> sorted(function_ids(["养老", "Elderly Care", "托管", "书法班"]))
    ['after_school_care', 'elderly_care', '书法班']
    """
    table = _lookup()
    return frozenset(table.get(_key(n), n.strip()) for n in names)


def _key_ids(key_functions: Iterable[str]) -> frozenset[str]:
    known = set(FUNCTION_NAMES)
    ids = frozenset(key_functions)
    unknown = sorted(ids - known)
    if unknown:
        raise InputError(
            f"parameter key_functions names unknown function ids {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}",
            column="key_functions",
        )
    return ids


def complex_check(
    t: Target,
    facilities: pd.DataFrame,
    applicable: pd.Series,
    *,
    key_functions: Iterable[str] = (),
) -> Check:
    """One facility-scope check of the embedded-services complex, aligned to ``facilities``.

    ``complex_area`` reads ``floor_area_m2`` (its shortfall in m2 is what the
    complex lacks); ``functions_count`` and ``key_functions_count`` read
    ``functions`` (see :func:`parse_functions`): a facility without an entry,
    or a frame without the column, is no data.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("embedded-services-2024")
    >>> fac = pd.DataFrame({"floor_area_m2": [650.0, 500.0],
    ...                     "functions": ["养老服务、儿童托管、文化活动", None]},
    ...                    index=["F1", "F2"])
    >>> on = pd.Series(True, index=fac.index)
    >>> chk = complex_check(p.target("embedded_complex_key_functions"), fac, on,
    ...                     key_functions=p.names("key_functions"))
    >>> chk.value.tolist(), chk.passed.tolist()
    ([2.0, nan], [True, <NA>])
    >>> complex_check(p.target("embedded_complex_area"), fac, on).shortfall_m2.tolist()
    [0.0, 100.0]
    """
    if t.measure == "complex_area":
        area = numeric_column(facilities, "floor_area_m2")
        required = pd.Series(float(t.threshold), index=facilities.index)  # type: ignore[arg-type]
        return Check(
            t,
            area,
            applicable,
            (required - area).clip(lower=0),
            required,
            missing=missing_key("floor_area_m2", "facilities", facilities),
        )
    if t.measure not in ("functions_count", "key_functions_count"):
        raise ValueError(f"not a complex measure: {t.measure!r}")
    keys = _key_ids(key_functions) if t.measure == "key_functions_count" else frozenset()
    column = (
        facilities["functions"]
        if "functions" in facilities.columns
        else pd.Series(None, index=facilities.index, dtype=object)
    )
    values = np.full(len(facilities), np.nan)
    for i, raw in enumerate(column.to_numpy(dtype=object)):
        names = parse_functions(raw)
        if names is None:
            continue
        ids = function_ids(names)
        values[i] = float(len(ids & keys) if t.measure == "key_functions_count" else len(ids))
    return Check(
        t,
        pd.Series(values, index=facilities.index),
        applicable,
        have_unit=t.unit,
        missing=missing_key("functions", "facilities", facilities),
    )

"""The result every audit returns, and the shared machinery that fills it.

An :class:`AuditResult` carries a table aligned to the audited frame (value,
threshold, pass and shortfall columns per check), the same findings in long form
for reports, a JSON-ready summary, and the profile and parameters used.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import InputError
from geoplan.audit._export import csv_pieces, json_pieces, jsonable, records
from geoplan.audit.facts import fact_text, isnan, missing_text, with_text

if TYPE_CHECKING:
    from geoplan.io.write import Table
    from geoplan.profiles import Target

__all__ = [
    "AuditResult",
    "Check",
    "applicable_mask",
    "evaluate",
    "fact_text",
    "long_table",
    "missing_text",
    "numeric_column",
    "save_result",
    "table_columns",
    "with_text",
]

FINDING_COLUMNS = [
    "entity_id",
    "entity_name",
    "check_id",
    "scope",
    "value",
    "threshold",
    "comparator",
    "unit",
    "passed",
    "shortfall",
    "shortfall_m2",
    "source",
    "clause",
    "confirmed",
    "description_zh",
    "description_en",
    "text_zh",
    "text_en",
]
#: Optional detail columns of findings that the fact text reads (when a check has them).
DETAIL_COLUMNS = ["have", "have_unit", "base", "base_unit", "required_m2", "missing"]


@dataclass(frozen=True)
class Check:
    """One evaluated target over many entities (aligned to the audited index)."""

    target: Any  # geoplan.profiles.Target
    value: pd.Series
    applicable: pd.Series
    shortfall_m2: pd.Series | None = None
    required_m2: pd.Series | None = None
    #: the measured amount and what it is divided by (480 m2 of 2,000 households),
    #: for the fact text; ``base_unit`` is ``"households"`` or ``"m2"``
    have: pd.Series | None = None
    base: pd.Series | None = None
    base_unit: str = ""
    #: what ``have`` counts: ``"m2"`` (floor area) or ``"persons"`` (workers)
    have_unit: str = "m2"
    #: what to add when a value is missing: ``"<column>@<layer>"`` (layer
    #: ``communities`` or ``facilities``), e.g. ``"activity_area_m2@facilities"``;
    #: ``"<column>@<layer>:empty"`` when the column is there and the row's cell is blank
    missing: str | None = None

    @property
    def passed(self) -> pd.Series:
        """Boolean with NA where the check does not apply or the value is missing."""
        ok = pd.Series(
            [self.target.passes(v) if not isnan(v) else None for v in self.value],
            index=self.value.index,
            dtype="boolean",
        )
        return ok.where(self.applicable, pd.NA)

    @property
    def shortfall(self) -> pd.Series:
        out = pd.Series(
            [self.target.shortfall(v) if not isnan(v) else math.nan for v in self.value],
            index=self.value.index,
            dtype=float,
        )
        return out.where(self.applicable)


def applicable_mask(frame: pd.DataFrame, target: Target) -> pd.Series:
    """Rows of ``frame`` (communities) that a target applies to, from scope and applies_if."""
    mask = pd.Series(True, index=frame.index)
    kind = frame["kind"] if "kind" in frame.columns else pd.Series("urban", index=frame.index)
    scope = target.scope
    if scope == "urban_community":
        mask &= kind.eq("urban")
    elif scope == "village":
        mask &= kind.eq("village")
    elif scope == "new_development":
        mask &= _flag(frame, "new_development")
    elif scope == "central_district":
        mask &= _flag(frame, "central_district")
    cond: Mapping[str, Any] = target.applies_if or {}
    for key, want in cond.items():
        if key == "kind":
            mask &= kind.eq(want)
        elif key == "min_households":
            mask &= frame["households"].ge(float(want)).fillna(False).astype(bool)
        elif key == "max_households":
            mask &= frame["households"].le(float(want)).fillna(False).astype(bool)
        else:
            mask &= _flag(frame, key).eq(bool(want))
    return mask


def numeric_column(frame: pd.DataFrame, col: str) -> pd.Series:
    """Column ``col`` of ``frame`` as floats; all NaN when the frame has no such column.

    Raises
    ------
    InputError
        When the column holds values that are not numbers.

    Examples
    --------
    >>> numeric_column(pd.DataFrame({"a": [1, None]}), "a").tolist()
    [1.0, nan]
    >>> numeric_column(pd.DataFrame({"a": [1]}), "b").tolist()
    [nan]
    """
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    try:
        return frame[col].astype(float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"column {col} is not numeric", column=col) from exc


def _flag(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame[col].fillna(False).astype(bool)


def evaluate(
    checks: list[Check],
    frame: pd.DataFrame,
    *,
    name_col: str = "name",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the wide table and the long findings from evaluated checks."""
    table = frame.copy()
    rows: list[pd.DataFrame] = []
    names = frame[name_col] if name_col in frame.columns else pd.Series("", index=frame.index)
    for chk in checks:
        t = chk.target
        k = t.id
        passed = chk.passed
        shortfall = chk.shortfall
        thr = t.threshold
        thr_text = f"{thr[0]:g}-{thr[1]:g}" if isinstance(thr, list | tuple) else thr
        table[f"{k}__value"] = chk.value.where(chk.applicable)
        table[f"{k}__threshold"] = pd.Series(
            [thr_text] * len(frame), index=frame.index, dtype=object
        ).where(chk.applicable)
        table[f"{k}__pass"] = passed
        table[f"{k}__shortfall"] = shortfall
        if chk.shortfall_m2 is not None:
            table[f"{k}__shortfall_m2"] = chk.shortfall_m2.where(chk.applicable)
        if chk.required_m2 is not None:
            table[f"{k}__required_m2"] = chk.required_m2.where(chk.applicable)
        sel = chk.applicable.to_numpy()
        if not sel.any():
            continue
        idx = frame.index[sel]
        rows.append(
            pd.DataFrame(
                {
                    "entity_id": [str(i) for i in idx],
                    "entity_name": names[idx].astype(object).to_numpy(),
                    "check_id": k,
                    "scope": t.scope,
                    "value": chk.value[idx].to_numpy(dtype=float),
                    "threshold": [thr_text] * len(idx),
                    "comparator": t.comparator,
                    "unit": t.unit,
                    "passed": passed[idx].to_numpy(dtype=object),
                    "shortfall": shortfall[idx].to_numpy(dtype=float),
                    "shortfall_m2": (
                        chk.shortfall_m2[idx].to_numpy(dtype=float)
                        if chk.shortfall_m2 is not None
                        else np.full(len(idx), np.nan)
                    ),
                    "source": t.source,
                    "clause": t.clause,
                    "confirmed": bool(t.confirmed),
                    "description_zh": t.description_zh,
                    "description_en": t.description_en,
                    "have": _values(chk.have, idx),
                    "base": _values(chk.base, idx),
                    "base_unit": chk.base_unit,
                    "have_unit": chk.have_unit,
                    "required_m2": _values(chk.required_m2, idx),
                    "missing": chk.missing,
                }
            )
        )
    findings = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=[*FINDING_COLUMNS, *DETAIL_COLUMNS])
    )
    return table, with_text(findings)


def _values(series: pd.Series | None, idx: pd.Index) -> np.ndarray:
    if series is None:
        return np.full(len(idx), np.nan)
    return series.reindex(idx).to_numpy(dtype=float)


def check_summary(findings: pd.DataFrame) -> dict[str, Any]:
    """Per-check counts from findings: applicable, passed, failed, not measured, shortfall."""
    out: dict[str, Any] = {}
    read = ("check_id", "passed", "unit", "threshold", "source", "clause", "shortfall_m2")
    some = findings[[c for c in read if c in findings.columns]]  # not every column per group
    for check_id, grp in some.groupby("check_id", sort=True):
        passed = grp["passed"]
        n_pass = int((passed == True).sum())  # noqa: E712  (object column with None)
        n_fail = int((passed == False).sum())  # noqa: E712
        entry: dict[str, Any] = {
            "applicable": len(grp),
            "passed": n_pass,
            "failed": n_fail,
            "not_measured": len(grp) - n_pass - n_fail,
            "unit": str(grp["unit"].iloc[0]),
            "threshold": jsonable(grp["threshold"].iloc[0]),
            "source": str(grp["source"].iloc[0]),
            "clause": str(grp["clause"].iloc[0]),
        }
        sm2 = grp["shortfall_m2"].astype(float)
        if sm2.notna().any():
            entry["total_shortfall_m2"] = round(float(sm2.fillna(0).sum()), 3)
        out[str(check_id)] = entry
    return out


@dataclass(frozen=True)
class AuditResult:
    """Everything an audit found.

    Attributes
    ----------
    name
        ``floor_area``, ``organisations``, ``coverage`` or ``development``.
    table
        The audited frame (same index) with ``<check>__value``, ``__threshold``,
        ``__pass`` and ``__shortfall`` columns (and ``__shortfall_m2`` for area checks).
    findings
        One row per (entity, check) that applies: the long form reports read.
    summary
        Plain JSON values: counts and shares per check, overall pass.
    profile
        Name of the standards profile used.
    parameters
        Parameters used (from the profile, or given).
    extra
        Further tables keyed by name (e.g. ``facilities`` with assignments).
    """

    name: str
    table: pd.DataFrame
    findings: pd.DataFrame
    summary: dict[str, Any]
    profile: str
    parameters: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # every finding reads as a fact, whichever audit built it
        f = self.findings
        if "text_zh" not in f.columns or bool(f["text_zh"].isna().any()):
            object.__setattr__(self, "findings", with_text(f))

    @property
    def passed(self) -> bool:
        """True when every applicable check was measured and none failed.

        A check that could not run (a column missing from the input, a value
        missing for one community: :attr:`unmeasured`) is never a pass.
        """
        if self.unmeasured:
            return False
        if self.findings.empty:
            return True
        return not bool((self.findings["passed"] == False).any())  # noqa: E712

    @property
    def unmeasured(self) -> int:
        """How many applicable checks could not be measured: the targets skipped for
        a missing column (``summary["not_measured"]``) and the findings without a
        verdict."""
        skipped = len(self.summary.get("not_measured") or {})
        if self.findings.empty or "passed" not in self.findings.columns:
            return skipped
        return skipped + int(self.findings["passed"].isna().sum())

    @property
    def failures(self) -> pd.DataFrame:
        """The findings that failed, largest shortfall first."""
        f = self.findings[self.findings["passed"] == False]  # noqa: E712
        return f.sort_values(["check_id", "shortfall"], ascending=[True, False])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: name, profile, passed, summary, parameters, findings."""
        return {**self._head(), "findings": records(self.findings)}

    def to_json(self, *, indent: int | None = 2) -> str:
        """JSON text, UTF-8 with Chinese kept readable, keys sorted (stable reruns)."""
        return "".join(self.json_pieces(indent=indent))

    def json_pieces(self, *, indent: int | None = 2) -> Iterator[str]:
        """The text of :meth:`to_json` in pieces, the findings a slice of rows at a time
        (a city's are 100,000s): what :func:`save_result` writes as they come."""
        return json_pieces(self._head(), "findings", self.findings, indent=indent)

    def _head(self) -> dict[str, Any]:
        return {
            "audit": self.name,
            "profile": self.profile,
            "passed": self.passed,
            "summary": jsonable(self.summary),
            "parameters": jsonable(self.parameters),
        }

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        head = f"<b>{self.name}</b> audit, profile <code>{self.profile}</code>: "
        head += (
            "<b style='color:green'>PASS</b>" if self.passed else "<b style='color:#c00'>FAIL</b>"
        )
        cols = ["entity_id", "entity_name", "check_id", "value", "threshold", "passed", "shortfall"]
        body = self.failures[[c for c in cols if c in self.findings.columns]].head(20)
        return head + body.to_html(index=False, float_format=lambda v: f"{v:,.2f}")


def as_geodataframe(table: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Keep GeoDataFrame-ness of the audited input."""
    if isinstance(like, gpd.GeoDataFrame) and not isinstance(table, gpd.GeoDataFrame):
        return gpd.GeoDataFrame(table, geometry=like.geometry.name, crs=like.crs)
    return table


#: The formats an audit's tables can be written in (see :func:`save_result`).
TABLE_FORMATS = ("gpkg", "parquet", "csv")
#: The per-category columns of a coverage table: ``walk_m__<category>`` and so on.
PER_CATEGORY = ("walk_m", "walk_min", "facility_id", "covered")


def save_result(
    result: AuditResult,
    folder: str | os.PathLike[str],
    *,
    formats: Iterable[str] = ("gpkg", "csv"),
    lean: bool = False,
    long: bool = False,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write an audit's outputs into ``folder``, each file atomically.

    Always ``<name>.json`` (the full result) and ``<name>_findings.csv`` (the
    findings, long form); then the tables in each of ``formats``:

    - ``gpkg``: ``<name>.gpkg`` with the table (when it has geometry) and every
      extra spatial table (``facilities``, ``communities``) as layers;
    - ``parquet``: the same tables as GeoParquet files, ``<name>.parquet`` and
      ``<name>_<extra>.parquet`` (``coverage_communities.parquet``);
    - ``csv``: ``<name>.csv``, the table without geometry (UTF-8 with a BOM so
      Excel shows Chinese).

    Tables are written a slice of rows at a time (:mod:`geoplan.io.write`), never
    copied whole. Parameters for the coverage audit's per-building table:

    lean
        Keep the per-category columns (``walk_m__``, ``walk_min__``,
        ``facility_id__``, ``covered__``) only of the categories the profile
        targets (``summary["coverage"]``), not of every category the facilities
        hold. The gap map needs no other.
    long
        Also write the long table, one row per building and category of the
        table: ``building_id``, ``category``, ``walk_m`` (``inf``, an empty CSV
        cell: none within the search limit), ``facility_id`` and ``covered``
        (empty for a category no target names): ``<name>_long.parquet``,
        ``<name>_long.csv`` and the layer ``long`` of the GeoPackage, one per
        format asked for.

    Examples
    --------
    >>> import tempfile
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.audit import audit_organisations
    >>> d = make_sample_district(seed=0)
    >>> r = audit_organisations(d.communities, profile="ningxia-2025")
    >>> [p.name for p in save_result(r, tempfile.mkdtemp())]
    ['organisations.json', 'organisations_findings.csv', 'organisations.csv', 'organisations.gpkg']
    >>> [p.name for p in save_result(r, tempfile.mkdtemp(), formats=["parquet"])]
    ['organisations.json', 'organisations_findings.csv', 'organisations.parquet']
    """
    from geoplan.io.write import write_csv, write_gpkg, write_parquet, write_text

    chosen = list(dict.fromkeys(str(f).lower() for f in formats))
    unknown = [f for f in chosen if f not in TABLE_FORMATS]
    if unknown:
        raise ValueError(f"unknown format {unknown[0]!r}; choose from {', '.join(TABLE_FORMATS)}")
    folder = Path(folder)
    name = result.name
    table = result.table
    columns = table_columns(result) if lean else None
    paths = [
        write_text(
            folder / f"{name}.json",
            itertools.chain(result.json_pieces(), ["\n"]),
            protect=protect,
        ),
        _write_findings(folder / f"{name}_findings.csv", result.findings, protect=protect),
    ]
    if "csv" in chosen:
        paths.append(write_csv(folder / f"{name}.csv", table, columns=columns, protect=protect))
    layers: dict[str, Table] = {}
    if isinstance(table, gpd.GeoDataFrame):
        layers[name] = table
    for key, extra in result.extra.items():
        if isinstance(extra, gpd.GeoDataFrame):
            layers[key] = extra
    picked = {name: columns} if columns is not None else {}
    categories = _categories(table, columns) if long else []
    if "gpkg" in chosen and layers:
        if long:
            layers["long"] = long_table(table, categories)
        paths.append(write_gpkg(folder / f"{name}.gpkg", layers, columns=picked, protect=protect))
        layers.pop("long", None)
    if "parquet" in chosen:
        for key, frame in layers.items():
            assert isinstance(frame, pd.DataFrame)
            stem = name if key == name else f"{name}_{key}"
            paths.append(
                write_parquet(
                    folder / f"{stem}.parquet", frame, columns=picked.get(key), protect=protect
                )
            )
    if long:
        for fmt in chosen:
            if fmt == "parquet":
                dest = folder / f"{name}_long.parquet"
                paths.append(write_parquet(dest, long_table(table, categories), protect=protect))
            elif fmt == "csv":
                dest = folder / f"{name}_long.csv"
                paths.append(write_csv(dest, long_table(table, categories), protect=protect))
    return paths


def _write_findings(
    dest: Path, findings: pd.DataFrame, *, protect: Iterable[str | os.PathLike[str]]
) -> Path:
    """The findings CSV as :func:`geoplan.io.write.write_csv` writes it, made a slice of
    rows at a time from the columns where it can be (:func:`csv_pieces`)."""
    from geoplan.io.write import write_csv, write_text

    frame = findings.set_index("entity_id")
    pieces = csv_pieces(frame)
    if pieces is None:
        return write_csv(dest, frame, protect=protect)
    return write_text(dest, pieces, encoding="utf-8-sig", newline="", protect=protect)


def table_columns(result: AuditResult) -> list[str] | None:
    """The columns of a lean coverage table: every column but the per-category ones
    (:data:`PER_CATEGORY`) of categories no target of the profile names; None for a
    table that has nothing to leave out.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame(columns=["households", "walk_m__bank", "covered__bank",
    ...     "walk_m__pet", "walk_min__pet", "facility_id__pet", "walk_bank__pass"])
    >>> r = AuditResult("coverage", t, pd.DataFrame(columns=["text_zh"]),
    ...     {"coverage": {"bank": {}}}, "mofcom-15min")
    >>> table_columns(r)
    ['households', 'walk_m__bank', 'covered__bank', 'walk_bank__pass']
    """
    targeted = result.summary.get("coverage")
    if not isinstance(targeted, Mapping):
        return None
    keep = []
    for col in result.table.columns:
        prefix, sep, category = str(col).partition("__")
        if sep and prefix in PER_CATEGORY and category not in targeted:
            continue
        keep.append(col)
    return keep if len(keep) < len(result.table.columns) else None


def _categories(table: pd.DataFrame, columns: list[str] | None) -> list[str]:
    """The categories with a ``walk_m__<category>`` column among ``columns``."""
    names = table.columns if columns is None else columns
    return [str(c).removeprefix("walk_m__") for c in names if str(c).startswith("walk_m__")]


def long_table(table: pd.DataFrame, categories: Iterable[str]) -> Iterator[pd.DataFrame]:
    """The coverage table in long form, one frame per category (made as it is read).

    Each frame is indexed like ``table`` (``building_id``) with the columns
    ``category``, ``walk_m``, ``facility_id`` and ``covered`` (a nullable boolean:
    empty where no target names the category).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"walk_m__bank": [120.0, float("inf")],
    ...     "facility_id__bank": ["F1", None], "covered__bank": [True, False]},
    ...     index=pd.Index(["B1", "B2"], name="building_id"))
    >>> long = pd.concat(long_table(t, ["bank"])).reset_index()
    >>> long[["building_id", "category", "walk_m", "covered"]].values.tolist()
    [['B1', 'bank', 120.0, True], ['B2', 'bank', inf, False]]
    >>> long["facility_id"].tolist()[0]
    'F1'
    """
    n = len(table)
    for c in categories:
        col = f"covered__{c}"
        covered = (
            pd.array(table[col].to_numpy(), dtype="boolean")
            if col in table.columns
            else pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
        )
        yield pd.DataFrame(
            {
                "category": c,
                "walk_m": table[f"walk_m__{c}"].to_numpy(dtype=float),
                "facility_id": pd.Series(
                    table[f"facility_id__{c}"].to_numpy(dtype=object),
                    index=table.index,
                    dtype=object,
                ),
                "covered": covered,
            },
            index=table.index,
        )

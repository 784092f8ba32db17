"""Row checks of the readers: ids, values and how a message names a row.

One job: turn the columns of a renamed table into checked values, and say
exactly where a bad one is. A row is named by its id and, in a workbook, its
Excel row (:class:`RowLabels`); headers must be unique; ids must be present and
unique; numbers (also full-width or with thousands separators), yes/no flags
and text are coerced; community kinds and household counts are checked.
Every failure is an :class:`~geoplan._errors.InputError` naming file, row and
column. Private to :mod:`geoplan.io.readers`.
"""

from __future__ import annotations

import unicodedata
import warnings
from collections.abc import Callable, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io import columns as C

MAX_LISTED = 5
# how to fix what a reader refuses; worded for both the CLI and Python
COLUMNS_HINT = "map it with --columns 'their header=canonical' (columns= in Python)"
_ROW_IDS_HINT = (
    "if the ids really repeat (e.g. building footprints), number the rows instead "
    "with --row-ids (row_ids=True in Python)"
)


class RowLabels:
    """How a user finds a row: its position, and in a workbook its Excel row number."""

    def __init__(self, lines: list[int] | None, word: str) -> None:
        self.lines = lines
        self.word = word
        self.by_id: dict[str, int] = {}

    @classmethod
    def of(cls, frame: pd.DataFrame) -> RowLabels:
        lines = frame.attrs.get("source_rows")
        if lines is not None and len(lines) != len(frame):
            lines = None
        return cls(None if lines is None else list(lines), str(frame.attrs.get("row_word", "")))

    def pos(self, pos: int) -> str:
        """``#3`` (CSV, GeoPackage), or ``#3 (Excel row 7)`` (workbook)."""
        if self.lines is None:
            return f"#{pos + 1}"
        return f"#{pos + 1} ({self.word} {self.lines[pos]})"

    def keyed(self, index: pd.Index) -> RowLabels:
        out = RowLabels(self.lines, self.word)
        if self.lines is not None:
            out.by_id = {str(i): line for i, line in zip(index, self.lines, strict=True)}
        return out

    def label_of(self, row: object) -> str | None:
        """``C3 (Excel row 7)`` for a row id of a workbook; None when nothing to add."""
        if row is None or not self.by_id or str(row) not in self.by_id:
            return None
        return f"{row} ({self.word} {self.by_id[str(row)]})"

    def with_lines(self, ids: pd.Index) -> list[str]:
        """Row ids with their Excel rows (``C3 (Excel row 7)``) for lists in messages."""
        return [self.label_of(i) or str(i) for i in ids]


def row_label(df: pd.DataFrame, pos: int, rows: RowLabels | None = None) -> str:
    line = "" if rows is None or rows.lines is None else f" ({rows.word} {rows.lines[pos]})"
    for col in ("community_id", "facility_id", "building_id", "id"):
        if col in df.columns:
            value = df[col].iloc[pos]
            if pd.notna(value) and str(value).strip():
                return str(value).strip() + line
    if rows is not None and rows.lines is not None:
        return rows.pos(pos)
    return f"#{pos + 1} (line {pos + 2})"


def check_unique_headers(headers: list[str], *, file: str, letters: bool = False) -> None:
    seen: dict[str, int] = {}
    for pos, h in enumerate(headers):
        if not h:
            continue
        if h in seen:
            where = (
                f"columns {_letter(seen[h])} and {_letter(pos)}"
                if letters
                else f"columns {seen[h] + 1} and {pos + 1}"
            )
            raise InputError(
                f"the header {h!r} appears twice ({where}); rename or delete one",
                file=file,
                column=h,
            )
        seen[h] = pos


def _letter(pos: int) -> str:
    """Excel column letter of a 0-based position: 0 -> A, 26 -> AA."""
    out = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        out = chr(65 + rem) + out
    return out


def unique_ids(
    gdf: gpd.GeoDataFrame,
    *,
    id_col: str,
    kind: str,
    file: str,
    original: Mapping[str, str],
    rows: RowLabels,
) -> list[str]:
    col = id_col if id_col in gdf.columns else "id" if "id" in gdf.columns else None
    if col is None:
        if kind == "buildings":
            return [str(i + 1) for i in range(len(gdf))]
        # communities keep their own ids (facilities and ledgers refer to them), so
        # numbering rows is offered only for the other layers
        numbered = (
            ""
            if kind == "communities"
            else ", or number the rows with --row-ids, row_ids=True in Python"
        )
        raise InputError(
            f"no id column: expected one of {', '.join(C.ALIASES[id_col] + C.ALIASES['id'])} "
            f"(or {COLUMNS_HINT}{numbered})",
            file=file,
        )
    raw = gdf[col]
    fast = _plain_ids(raw)
    if fast is not None:
        return _checked_unique(fast, kind=kind, file=file, column=original.get(col, col), rows=rows)
    ids = []
    for pos, value in enumerate(raw):
        text = "" if pd.isna(value) else str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]  # ids read as floats by a driver
        if not text:
            raise InputError(
                "empty id", file=file, row=rows.pos(pos), column=original.get(col, col)
            )
        ids.append(text)
    return _checked_unique(ids, kind=kind, file=file, column=original.get(col, col), rows=rows)


def _plain_ids(raw: pd.Series) -> list[str] | None:
    """The ids of a column of whole numbers or of text without gaps, vectorised.

    The same as the row-by-row rule (text stripped, a float's ``.0`` dropped), or None
    where the column holds anything else (floats, missing values, mixed objects), which
    the row-by-row rule then reads, and where it finds an empty id.
    """
    if pd.api.types.is_integer_dtype(raw.dtype) and not raw.hasnans:
        return [str(v) for v in raw.to_numpy().tolist()]
    if not (pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object):
        return None
    if raw.isna().any():
        return None
    values = raw.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(values, skipna=False) != "string":
        return None
    text = pd.Series(values, dtype=object, copy=False).str.strip()
    if text.eq("").any():
        return None
    out = text.to_numpy(dtype=object, copy=True)
    ends = np.flatnonzero(text.str.endswith(".0").to_numpy(dtype=bool))
    if len(ends):  # ids read as floats by a driver: "12.0" is "12"
        cut = pd.Series(out[ends], dtype=object).str[:-2]
        whole = cut.str.isdigit().to_numpy(dtype=bool)
        out[ends[whole]] = cut.to_numpy(dtype=object)[whole]
    return out.tolist()


def _checked_unique(
    ids: list[str], *, kind: str, file: str, column: str, rows: RowLabels
) -> list[str]:
    series = pd.Series(ids)
    dup = series[series.duplicated(keep=False)]
    if len(dup):
        first = dup.iloc[0]
        positions = dup.index[dup == first]
        listed = ", ".join(rows.pos(int(i)) for i in positions[:MAX_LISTED])
        repeated = int(series.duplicated().sum())
        hint = (
            "every community needs its own id (facilities refer to it)"
            if kind == "communities"
            else _ROW_IDS_HINT
        )
        raise InputError(
            f"duplicate id {first!r} (rows {listed}; {repeated} repeated ids in all); {hint}",
            file=file,
            row=first,
            column=column,
        )
    return ids


def numeric_text(raw: pd.Series) -> pd.Series:
    """Numbers stored as text: full-width digits, thousands separators, spaces."""
    text = raw.astype("string").str.strip()
    text = text.map(lambda v: unicodedata.normalize("NFKC", v) if isinstance(v, str) else v)
    return text.astype("string").str.replace(r"[,，\s]", "", regex=True)


def _parsed_numbers(raw: pd.Series, *, file: str, column: str) -> pd.Series:
    text = numeric_text(raw)
    empty = text.isna() | text.eq("") | text.str.lower().isin(["nan", "none", "null", "<na>"])
    values = pd.to_numeric(text.mask(empty), errors="coerce")
    bad = values.isna() & ~empty
    if bad.any():
        rid = bad.index[bad.to_numpy()][0]
        raise InputError(f"{raw[rid]!r} is not a number", file=file, row=rid, column=column)
    return values.astype(float)


def coerce_numeric(gdf: gpd.GeoDataFrame, *, file: str, where: Callable[[str], str]) -> None:
    for col in sorted(C.NUMERIC_COLUMNS & set(gdf.columns)):
        raw = gdf[col]
        if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
            values = raw.astype(float)  # numbers already: nothing to parse
        else:
            values = _parsed_numbers(raw, file=file, column=where(col))
        if col in C.NONNEGATIVE:
            neg = values < 0
            if neg.any():
                rid = neg.index[neg.to_numpy()][0]
                raise InputError(
                    f"{col} is negative ({values[rid]:g})", file=file, row=rid, column=where(col)
                )
        inf = pd.Series(np.isinf(values.to_numpy(dtype=float)).astype(bool), index=values.index)
        if inf.any():
            rid = inf.index[inf.to_numpy()][0]
            raise InputError(f"{col} is infinite", file=file, row=rid, column=where(col))
        gdf[col] = values


def coerce_bool(gdf: gpd.GeoDataFrame, *, file: str, where: Callable[[str], str]) -> None:
    for col in sorted(C.BOOL_COLUMNS & set(gdf.columns)):
        raw = gdf[col]
        if raw.dtype == bool:
            continue
        text = raw.astype("string").str.strip().str.lower().fillna("")
        is_true = text.isin(C.TRUE_VALUES)
        is_false = text.isin(C.FALSE_VALUES)
        bad = ~(is_true | is_false)
        if bad.any():
            rid = bad.index[bad.to_numpy()][0]
            raise InputError(
                f"{raw[rid]!r} is not yes/no (use true/false, 是/否, 1/0)",
                file=file,
                row=rid,
                column=where(col),
            )
        gdf[col] = is_true.astype(bool)


def coerce_text(gdf: gpd.GeoDataFrame) -> None:
    for col in sorted(C.TEXT_COLUMNS & set(gdf.columns)):
        values = gdf[col].astype("string").str.strip()
        if col in {"district_code", "community_id"}:
            values = values.str.replace(r"\.0$", "", regex=True)
        gdf[col] = values.astype(object).where(values.notna() & values.ne(""), None)


def check_communities(gdf: gpd.GeoDataFrame, *, file: str, where: Callable[[str], str]) -> None:
    kinds = gdf["kind"].map(lambda v: C.KIND_VALUES.get(str(v).strip().lower()) if v else None)
    bad = kinds.isna()
    if bad.any():
        rid = bad.index[bad.to_numpy()][0]
        raise InputError(
            f"unknown kind {gdf.loc[rid, 'kind']!r}: use urban (城市社区) or village (村)",
            file=file,
            row=rid,
            column=where("kind"),
        )
    gdf["kind"] = kinds.astype(object)
    missing = gdf["households"].isna()
    if missing.any():
        rid = missing.index[missing.to_numpy()][0]
        raise InputError(
            "households is missing (a community needs its household count; "
            "estimate it from buildings with geoplan.households)",
            file=file,
            row=rid,
            column=where("households"),
        )
    defaulted = [f for f in ("old_estate", "new_development", "central_district") if f not in gdf]
    for flag in defaulted:
        gdf[flag] = False
    # a flag the file did not have is no statement: audits can tell "not central"
    # from "not said" (central-district targets then cover the whole area, and say so)
    gdf.attrs["defaulted_columns"] = defaulted
    if "residents" in gdf.columns:
        fewer = gdf["residents"] < gdf["households"]
        if fewer.any():
            ids = [str(i) for i in fewer.index[fewer.to_numpy()][:MAX_LISTED]]
            warnings.warn(
                f"{file}: column {where('residents')}: fewer residents than households in "
                f"{int(fewer.sum())} rows (first: {', '.join(ids)}); check the columns",
                DataQualityWarning,
                stacklevel=4,
            )

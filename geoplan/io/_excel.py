"""Reading an Excel workbook into a table of text cells, as a CSV would give it.

One job: a workbook sheet as a frame. The sheet is chosen (by name, position, or
the first that holds data); the header row is found below title rows; cells
become the text a CSV would hold (``2000.0`` -> ``"2000"``, dates ISO); empty and
total rows (合计) are left out; and every row keeps its Excel row number
(``frame.attrs["source_rows"]``) for error messages. Private to
:mod:`geoplan.io.readers`.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.io import columns as C
from geoplan.io._validate import check_unique_headers

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_HEADER_SCAN_ROWS = 30


def read_excel(path: Path, *, sheet: str | int | None, columns: Mapping[str, str]) -> pd.DataFrame:
    """A sheet as a frame of text cells (like a CSV), with the Excel row of every row."""
    from python_calamine import CalamineWorkbook

    label = str(path)
    try:
        book = CalamineWorkbook.from_path(str(path))
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            grids = ((n, book.get_sheet_by_name(n).to_python(skip_empty_area=False)) for n in names)
            found = next(((n, g) for n, g in grids if any(_has_text(r) for r in g)), None)
            if found is None:
                raise InputError("every sheet of the workbook is empty", file=label)
            name, grid = found
        else:
            if isinstance(sheet, int) and not isinstance(sheet, bool):
                if not 0 <= sheet < len(names):
                    raise InputError(
                        f"the workbook has {len(names)} sheets ({', '.join(names)}); "
                        f"sheet {sheet} does not exist (sheets count from 0)",
                        file=label,
                    )
                name = names[sheet]
            elif str(sheet) in names:
                name = str(sheet)
            else:
                raise InputError(
                    f"no sheet named {sheet!r}; the sheets are: {', '.join(names)}", file=label
                )
            grid = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except InputError:
        raise
    except Exception as exc:  # calamine raises its own errors for broken or locked files
        raise InputError(f"cannot read the workbook: {exc}", file=label) from exc
    where = f"{label}, sheet {name}" if len(names) > 1 or sheet is not None else label
    cells = [[_cell_text(v) for v in row] for row in grid]
    head = _header_row(cells, columns)
    if head is None:
        raise InputError("the sheet is empty", file=where)
    headers = [" ".join(h.split()) for h in cells[head]]
    check_unique_headers(headers, file=where, letters=True)
    keep = [i for i, h in enumerate(headers) if h]
    body: list[list[str]] = []
    lines: list[int] = []
    totals: list[int] = []
    for r in range(head + 1, len(cells)):
        row = cells[r]
        values = [row[i] if i < len(row) else "" for i in keep]
        if not any(v.strip() for v in values):
            continue
        texts = {v.strip().casefold() for v in values if v.strip()}
        if texts & C.TOTAL_ROW_LABELS and not any(_is_id_like(v) for v in values[:1]):
            totals.append(r + 1)
            continue
        body.append(values)
        lines.append(r + 1)  # Excel rows count from 1
    if totals:
        warnings.warn(
            f"{where}: total row left out (Excel row {', '.join(map(str, totals))}: "
            f"{'/'.join(sorted(C.TOTAL_ROW_LABELS & {'合计', '总计', '小计'}))})",
            DataQualityWarning,
            stacklevel=5,
        )
    frame = pd.DataFrame(body, columns=[headers[i] for i in keep], dtype=object)
    frame.attrs.update(
        source_rows=lines, row_word="Excel row", source_label=where, source_sheet=name
    )
    return frame


def _has_text(row: Sequence[object]) -> bool:
    return any(_cell_text(v).strip() for v in row)


def _is_id_like(value: str) -> bool:
    text = value.strip()
    return bool(text) and text.casefold() not in C.TOTAL_ROW_LABELS


def _cell_text(value: object) -> str:
    """A cell as the text a CSV would hold: 2000.0 -> "2000", dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not np.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)


def _header_row(cells: list[list[str]], columns: Mapping[str, str]) -> int | None:
    """The header row: among the first rows, the one with the most known headers.

    A title row above the header (often merged across the table) holds one cell;
    it is skipped. With no known header at all, the first row with two or more
    cells is the header.
    """
    lookup = C.alias_lookup()

    def known(text: str) -> bool:
        text = " ".join(text.split())
        return bool(text) and (
            text in columns
            or C.normalise_name(text) in lookup
            or C.normalise_name(C.without_unit(text)) in lookup
        )

    best, best_score = None, 0
    for r, row in enumerate(cells[:_HEADER_SCAN_ROWS]):
        score = sum(known(v) for v in row)
        if score > best_score:
            best, best_score = r, score
    if best is not None:
        return best
    return next(
        (r for r, row in enumerate(cells) if sum(bool(v.strip()) for v in row) >= 2),
        next((r for r, row in enumerate(cells) if any(v.strip() for v in row)), None),
    )

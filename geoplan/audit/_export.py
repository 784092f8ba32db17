"""An audit's findings as text, a slice of rows at a time: the JSON result and the CSV.

Both are made column by column, a check's few repeated words encoded once, so a city's
100,000s of findings are never a list of dicts nor one string of the whole file:

- :func:`json_pieces` gives the text ``json.dumps`` makes of the result (sorted keys,
  indented, Chinese kept readable) in pieces;
- :func:`csv_pieces` gives the text :func:`geoplan.io.write.write_csv` writes of a
  frame (its index first, numbers to 10 significant digits, infinities empty).

:func:`jsonable` and :func:`records` are the values a finding's JSON holds.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SLICE_ROWS", "csv_pieces", "json_pieces", "jsonable", "records"]

#: Rows encoded at a time.
SLICE_ROWS = 8192

_encode: Callable[[str], str] = json.encoder.encode_basestring


def jsonable(value: object) -> Any:
    """``value`` as plain JSON values: NaN and infinities None, floats to 6 decimals,
    numpy scalars as Python ones, anything else unknown as text.

    Examples
    --------
    >>> jsonable({"a": (np.float64(0.1) + 0.2, float("inf")), 1: pd.NA})
    {'a': [0.3, None], '1': None}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return None
        return round(value, 6)
    if value is pd.NA or value is None:
        return None
    if isinstance(value, bool | int | str):
        return value
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``[{column: jsonable(value)}]`` per row, as from ``frame.to_dict("records")``,
    made a column at a time.

    Examples
    --------
    >>> records(pd.DataFrame({"a": [0.1 + 0.2, float("nan")], "b": ["x", None]}))
    [{'a': 0.3, 'b': 'x'}, {'a': None, 'b': None}]
    """
    columns: list[list[Any]] = []
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":  # no dispatch
            columns.append(
                [round(v, 6) if math.isfinite(v) else None for v in values.to_numpy().tolist()]
            )
        else:
            columns.append([jsonable(v) for v in values.tolist()])
    keys = list(frame.columns)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def json_pieces(
    head: Mapping[str, object], key: str, frame: pd.DataFrame, *, indent: int | None = 2
) -> Iterator[str]:
    """The text of ``json.dumps({**head, key: records(frame)}, ensure_ascii=False,
    indent=indent, sort_keys=True)``, in pieces of :data:`SLICE_ROWS` records.

    ``head`` holds plain JSON values already (:func:`jsonable`). Without an indent,
    or for a frame whose columns are not distinct text, the text comes in one piece.

    Examples
    --------
    >>> f = pd.DataFrame({"v": [0.5, float("nan")], "id": ["甲", None]})
    >>> text = "".join(json_pieces({"name": "x"}, "rows", f))
    >>> text == json.dumps({"name": "x", "rows": records(f)}, ensure_ascii=False,
    ...     indent=2, sort_keys=True)
    True
    >>> print(text)
    {
      "name": "x",
      "rows": [
        {
          "id": "甲",
          "v": 0.5
        },
        {
          "id": null,
          "v": null
        }
      ]
    }
    """
    columns = list(frame.columns)
    sliced = (
        type(indent) is int
        and indent > 0
        and all(type(c) is str for c in columns)
        and len(set(columns)) == len(columns)
        and len(frame) > 0
        and len(columns) > 0
    )

    def dump(value: object) -> str:
        return json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=True)

    if not sliced:
        yield dump({**head, key: records(frame)})
        return
    assert indent is not None
    text = dump({**head, key: []})
    # the key at the top level: no line deeper in holds just one indent before a quote
    marker = f"\n{' ' * indent}{_encode(key)}: []"
    at = text.index(marker) + len(marker) - 1  # at the closing bracket
    yield text[:at]
    pad, inner = "\n" + " " * (2 * indent), "\n" + " " * (3 * indent)
    keys = sorted(columns)
    fields = [f"{inner}{_encode(k)}: " for k in keys]
    for start in range(0, len(frame), SLICE_ROWS):
        part = frame.iloc[start : start + SLICE_ROWS]
        cells = [_json_cells(part[k], inner, indent) for k in keys]
        rows = _rows(cells, fields, start=pad + "{", end=pad + "}")
        if start:
            yield ","
        yield ",".join(rows)
    yield "\n" + " " * indent + text[at:]


def _rows(cells: list[list[str]], fields: list[str], *, start: str, end: str) -> list[str]:
    """The rows ``start + ",".join(field + cell) + end`` of columns of cells; a column
    with one value in every row (a check's words, in a slice of its rows) is written
    once into the row's template.

    Examples
    --------
    >>> _rows([["a", "b"], ["1", "1"]], ["x=", "y="], start="(", end=")")
    ['(x=a,y=1)', '(x=b,y=1)']
    """
    parts: list[str] = []
    varying: list[list[str]] = []
    for field, column in zip(fields, cells, strict=True):
        if column.count(column[0]) == len(column):
            parts.append((field + column[0]).replace("%", "%%"))
        else:
            parts.append(field.replace("%", "%%") + "%s")
            varying.append(column)
    template = start.replace("%", "%%") + ",".join(parts) + end.replace("%", "%%")
    if not varying:
        return [template % ()] * len(cells[0])
    return [template % row for row in zip(*varying, strict=True)]


def _json_cells(values: pd.Series, inner: str, indent: int) -> list[str]:
    """A column's values as JSON text, each as :func:`records` and ``json.dumps`` make it
    in a record at the depth ``inner`` indents."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _each_distinct(values.to_numpy(), _json_float, "null")
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return ["true" if v else "false" for v in values.to_numpy().tolist()]
    if _only_text(values):  # a check's words: each distinct one encoded once
        codes, uniques = pd.factorize(values)
        words = [_encode(u) for u in uniques.tolist()]
        return np.array([*words, "null"], dtype=object)[codes].tolist()

    def one(v: object) -> str:
        if v is None:
            return "null"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if type(v) is str:
            return _encode(v)
        if type(v) is float:
            return float.__repr__(v)
        if type(v) is int:
            return int.__repr__(v)
        text = json.dumps(v, ensure_ascii=False, indent=indent, sort_keys=True)
        return text.replace("\n", inner)  # a list or dict, one level deeper

    return [one(jsonable(v)) for v in values.tolist()]


def _json_float(v: float) -> str:
    return float.__repr__(round(v, 6)) if math.isfinite(v) else "null"


def _csv_float(v: float) -> str:
    return format(v, ".10g") if math.isfinite(v) else ""


def _each_distinct(values: np.ndarray, text: Callable[[float], str], missing: str) -> list[str]:
    """``text`` of each float of ``values`` (``missing`` for NaN), worked out once for
    each distinct value (shares and counts repeat)."""
    if bool((np.signbit(values) & (values == 0)).any()):  # -0.0 and 0.0 read differently
        return [text(v) if v == v else missing for v in values.tolist()]
    codes, uniques = pd.factorize(values)
    words = np.array([*(text(v) for v in uniques.tolist()), missing], dtype=object)
    return words[codes].tolist()


def _only_text(values: pd.Series | pd.Index) -> bool:
    """True for a column of text and missing values that JSON says null of (None, NA,
    NaN), so that its distinct values can stand for it."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype):
        return True
    if not isinstance(dtype, np.dtype) or dtype.kind != "O":
        return False
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return False
    arr = values.to_numpy()
    missing = arr[pd.isna(arr)]
    return all(v is None or v is pd.NA or isinstance(v, float | np.floating) for v in missing)


def csv_pieces(frame: pd.DataFrame) -> Iterator[str] | None:
    """The text :func:`geoplan.io.write.write_csv` writes of ``frame`` (after its BOM),
    in pieces of :data:`SLICE_ROWS` rows; None for a frame this cannot write as it does
    (a column of a kind other than numbers, booleans and text or objects, labels that
    are not distinct text, a MultiIndex).

    Examples
    --------
    >>> t = pd.DataFrame({"share": [0.1 + 0.2, float("inf")], "text": ["甲,乙", None]},
    ...     index=pd.Index(["B1", "B2"], name="building_id"))
    >>> print("".join(csv_pieces(t)), end="")
    building_id,share,text
    B1,0.3,"甲,乙"
    B2,,
    """
    plain = frame.drop(columns="geometry", errors="ignore")
    columns = list(plain.columns)
    index = plain.index
    if (
        isinstance(index, pd.MultiIndex)
        or not (index.name is None or type(index.name) is str)
        or not all(type(c) is str for c in columns)
        or len(set(columns)) != len(columns)
        or not all(_csv_kind(plain[c].dtype) for c in columns)
        or not _csv_kind(index.dtype)
    ):
        return None
    return _csv_rows(plain, columns)


def _csv_kind(dtype: object) -> bool:
    if isinstance(dtype, np.dtype):
        return dtype.kind in "fbiuO"
    return isinstance(dtype, pd.StringDtype)


def _csv_rows(frame: pd.DataFrame, columns: list[str]) -> Iterator[str]:
    label = frame.index.name
    head = [_csv_field(label if isinstance(label, str) else "")]
    head += [_csv_field(c) for c in columns]
    yield ",".join(head) + "\n"
    fields = [""] * (len(columns) + 1)
    for start in range(0, len(frame), SLICE_ROWS):
        part = frame.iloc[start : start + SLICE_ROWS]
        cells = [_csv_cells(part.index), *(_csv_cells(part[c]) for c in columns)]
        yield "".join(_rows(cells, fields, start="", end="\n"))


def _csv_field(text: str) -> str:
    """One cell's text as the csv module writes it: quoted, quotes doubled, where it
    holds a comma, a quote or a line break."""
    if "," in text or '"' in text or "\n" in text:
        if "\r" not in text and "\x00" not in text:
            return '"' + text.replace('"', '""') + '"'
    elif "\r" not in text and "\x00" not in text:
        return text
    buf = io.StringIO()  # a carriage return or NUL: the csv module decides
    csv.writer(buf, lineterminator="\n").writerow([text])
    return buf.getvalue()[:-1]


def _csv_fields(words: list[str]) -> list[str]:
    """:func:`_csv_field` of each of ``words``."""
    joined = "".join(words)
    if "\r" in joined or "\x00" in joined:
        return [_csv_field(w) for w in words]
    if "," not in joined and '"' not in joined and "\n" not in joined:
        return words
    return [
        '"' + w.replace('"', '""') + '"' if "," in w or '"' in w or "\n" in w else w for w in words
    ]


def _csv_cells(values: pd.Series | pd.Index) -> list[str]:
    """A column's cells as ``write_csv`` writes them: floats to 10 significant digits,
    missing values and infinities empty, booleans ``True`` / ``False``."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return _each_distinct(values.to_numpy(), _csv_float, "")
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return [str(v) for v in values.to_numpy().tolist()]
    if _only_text(values):
        codes, uniques = pd.factorize(values)
        words = _csv_fields(uniques.tolist())
        cells = np.array([*words, ""], dtype=object)[codes]
        cells[np.asarray(pd.isna(values))] = ""
        return cells.tolist()
    arr = values.to_numpy(dtype=object)
    missing = pd.isna(arr).tolist()
    out: list[str] = []
    for v, gone in zip(arr.tolist(), missing, strict=True):
        if gone:
            out.append("")
        elif isinstance(v, str):
            out.append(_csv_field(v))
        elif isinstance(v, float | np.floating) and not isinstance(v, bool):
            x = float(v)
            out.append("" if math.isinf(x) else repr(float(f"{x:.10g}")))
        else:
            out.append(_csv_field(str(v)))
    return out

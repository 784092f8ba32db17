"""The summary across the cities of ``geoplan batch``: one row per city, Chinese headers.

:func:`summary_table` reads each finished city's ``coverage.json``;
:func:`write_summary` writes ``batch_summary.csv`` (Chinese headers) and
``batch_summary.xlsx`` (汇总 with Chinese headers over the English names, summary in
English, 指标: what each target column measures).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoplan.areas.manifest import City

if TYPE_CHECKING:
    from geoplan.areas.batch import CityAnswer

__all__ = ["RUN_ZH", "STATUS_ZH", "SUMMARY_CSV", "SUMMARY_XLSX", "summary_table", "write_summary"]

#: The summary across cities, in the output folder.
SUMMARY_CSV = "batch_summary.csv"
SUMMARY_XLSX = "batch_summary.xlsx"

#: How the summary's statuses read in Chinese.
STATUS_ZH = {
    "pass": "通过",
    "fail": "未通过",
    "bad_input": "输入有误",
    "error": "出错",
    "pending": "未完成",
}
RUN_ZH = {"ran": "已运行", "skipped": "已跳过", "": ""}
#: The summary's columns: English name -> Chinese header (the targets' shares between).
_HEAD = {
    "city": "城市",
    "status": "状态",
    "this_run": "本次",
    "buildings": "建筑数",
    "households": "户数",
    "households_estimated_share": "估算户数占比",
    "unreachable_households": "不可达户数",
}
_TAIL = {
    "failing_targets": "未达标指标数",
    "failing_communities": "未达标社区数",
    "communities": "社区数",
    "exit_code": "退出码",
    "seconds": "用时（秒）",
    "peak_rss_mb": "峰值内存（MB）",
    "error": "错误",
    "folder": "输出目录",
}
_SHARE = "__households_share"


# --------------------------------------------------------------------------- the summary


def _city_figures(city: City) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    """From a city's ``coverage.json``: its figures, and each target's descriptions."""
    try:
        doc = json.loads((Path(city.folder) / "coverage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    s = doc.get("summary", {})
    findings = doc.get("findings") or []
    targets = s.get("targets") or {}
    order = list(dict.fromkeys([str(f.get("check_id")) for f in findings] + list(targets)))
    row: dict[str, Any] = {
        "buildings": s.get("buildings"),
        "households": s.get("households"),
        # a share that rests on estimated households says so, beside the count
        "households_estimated_share": s.get("households_estimated_share"),
        "unreachable_households": s.get("unreachable_households"),
    }
    about: dict[str, tuple[str, str]] = {}
    for f in findings:
        tid = str(f.get("check_id"))
        about.setdefault(
            tid, (str(f.get("description_zh") or ""), str(f.get("description_en") or ""))
        )
    for tid in order:
        if tid in targets:
            row[f"{tid}{_SHARE}"] = targets[tid].get("households_share")
    failing = {str(f.get("check_id")) for f in findings if f.get("passed") is False}
    comm = [f for f in findings if f.get("scope") == "community"]
    row["failing_targets"] = len(failing)
    row["failing_communities"] = (
        len({str(f.get("entity_id")) for f in comm if f.get("passed") is False}) if comm else None
    )
    row["communities"] = len({str(f.get("entity_id")) for f in comm}) if comm else None
    return row, about


def summary_table(
    cities: Sequence[City],
    answers: Mapping[str, CityAnswer],
    *,
    about: dict[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """One row per city of the manifest, in its order, English column names.

    ``status``: ``pass``, ``fail``, ``bad_input``, ``error``, or ``pending`` (not run
    yet); ``this_run``: ``ran`` or ``skipped`` (finished before). The figures come
    from each finished city's ``coverage.json``: buildings, households, the share of
    households meeting each target (``<target>__households_share``), how many
    targets failed somewhere and how many communities failed one. ``about``, when
    given, is filled with each target's Chinese and English descriptions.
    """
    rows: list[dict[str, Any]] = []
    for c in cities:
        a = answers.get(c.name)
        row: dict[str, Any] = {
            "city": c.name,
            "status": "pending" if a is None else a.status,
            "this_run": "" if a is None else ("skipped" if a.skipped else "ran"),
        }
        if a is not None and a.status in ("pass", "fail"):
            figures, seen = _city_figures(c)
            row.update(figures)
            if about is not None:
                for k, v in seen.items():
                    about.setdefault(k, v)
        row.update(
            exit_code=None if a is None else a.exit_code,
            seconds=None if a is None else a.seconds,
            peak_rss_mb=None if a is None else a.peak_rss_mb,
            error=None if a is None else a.error,
            folder=c.folder,
        )
        rows.append(row)
    cols = list(_HEAD)
    cols += list(dict.fromkeys(k for r in rows for k in r if k.endswith(_SHARE)))
    cols += list(_TAIL)
    return pd.DataFrame(rows, columns=cols, dtype=object).replace({float("nan"): None})


def _zh_header(col: str) -> str:
    if col.endswith(_SHARE):
        return f"{col.removesuffix(_SHARE)} 达标率"
    return {**_HEAD, **_TAIL}[col]


def _zh_values(table: pd.DataFrame) -> pd.DataFrame:
    zh = table.copy()
    zh["status"] = zh["status"].map(lambda v: STATUS_ZH.get(str(v), v))
    zh["this_run"] = zh["this_run"].map(lambda v: RUN_ZH.get(str(v), v))
    return zh


def write_summary(
    cities: Sequence[City],
    answers: Mapping[str, CityAnswer],
    out_dir: str | os.PathLike[str],
    *,
    notes: list[str],
) -> list[Path]:
    """Write ``batch_summary.csv`` (Chinese headers) and ``batch_summary.xlsx``, atomically.

    The workbook's sheet ``汇总`` has the Chinese headers with the English names in a
    second header row, ``summary`` the English names only, ``指标`` each target's
    descriptions. The shares are fractions (0-1; shown as percentages in the
    workbook). Without openpyxl the workbook is left out and ``notes`` says so.
    """
    from geoplan.io.write import write_csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    about: dict[str, tuple[str, str]] = {}
    table = summary_table(cities, answers, about=about)
    zh = _zh_values(table)
    zh.columns = pd.Index([_zh_header(str(c)) for c in table.columns])
    zh = zh.set_index(_HEAD["city"])
    paths = [write_csv(out / SUMMARY_CSV, zh)]
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        notes.append(f"{SUMMARY_XLSX} is not written: install openpyxl (pip install openpyxl)")
        return paths
    paths.append(_write_xlsx(out / SUMMARY_XLSX, table, about))
    return paths


def _write_xlsx(dest: Path, table: pd.DataFrame, about: Mapping[str, tuple[str, str]]) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from geoplan.io.write import atomic_path

    cols = [str(c) for c in table.columns]
    shares = [k for k, c in enumerate(cols, start=1) if c.endswith(_SHARE)]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "汇总"
    ws.append([_zh_header(c) for c in cols])
    ws.append(cols)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for cell in ws[2]:
        cell.font = Font(italic=True, color="666666")
    for row in _zh_values(table).itertuples(index=False):
        ws.append([_cell(v) for v in row])
    ws.freeze_panes = "B3"
    en = wb.create_sheet("summary")
    en.append(cols)
    for cell in en[1]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        en.append([_cell(v) for v in row])
    en.freeze_panes = "B2"
    for sheet, first in ((ws, 3), (en, 2)):
        for k in shares:
            for r in range(first, sheet.max_row + 1):
                sheet.cell(row=r, column=k).number_format = "0.0%"
        for k, c in enumerate(cols, start=1):
            width = max(len(_zh_header(c)) * 2, len(c)) + 2
            letter = sheet.cell(row=1, column=k).column_letter
            sheet.column_dimensions[letter].width = min(max(width, 8), 40)
    targets = wb.create_sheet("指标")
    targets.append(["指标", "说明", "description", "列 (column)"])
    for cell in targets[1]:
        cell.font = Font(bold=True)
    for c in cols:
        if c.endswith(_SHARE):
            tid = c.removesuffix(_SHARE)
            zh_text, en_text = about.get(tid, ("", ""))
            targets.append([tid, zh_text, en_text, c])
    with atomic_path(dest) as tmp:
        wb.save(tmp)
    return dest


def _cell(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

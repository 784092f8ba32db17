"""A problem ledger's files: the Excel workbook (问题台账 / 无法判定 / 说明) and its CSVs,
each written atomically (:mod:`geoplan.io.write`)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = ["SHEETS", "About", "AuditCounts", "ProfileAbout", "about_rows", "write_csvs",
           "write_workbook"]  # fmt: skip


class ProfileAbout(TypedDict):
    """A profile on the sheet 说明: its name, title and the sources its rows cite."""

    name: str
    title: str
    sources: list[str]


class AuditCounts(TypedDict):
    """One audit's findings: failed, passed and not measurable."""

    profile: str
    audit: str
    passed: int
    failed: int
    unmeasured: int


class About(TypedDict, total=False):
    """What a ledger says about itself (``ledger.attrs["about"]``)."""

    lang: str
    profiles: list[ProfileAbout]
    audits: list[AuditCounts]


#: Sheet names by language: the ledger, the checks not measurable, the notes.
SHEETS = {
    "zh": ("问题台账", "无法判定", "说明"),
    "en": ("ledger", "not measurable", "about"),
}
#: Columns shown wrapped in a wide cell (long text).
_WIDE = {"指标", "依据", "问题描述", "建议措施", "原因", "indicator", "basis", "finding", "remedy"}
_NUMBERS = {"现状值", "缺口", "value", "shortfall"}
_COLUMN_NOTES = {
    "区": "区（区名，无区名时为区划代码）",
    "街道": "街道（输入中有街道名称时）",
    "社区": "社区名称",
    "社区编码": "社区编码（community_id）",
    "对象": "检查对象：社区、设施（名称与编号）或全区",
    "指标": "指标（标准中的表述）",
    "依据": "依据：文件名称、文号与条款",
    "问题描述": "实测情况",
    "现状值": "现状值，单位见“单位”列（比例以百分数表示）",
    "目标值": "目标值",
    "缺口": "缺口，与现状值同单位（比例为百分点）",
    "单位": "单位",
    "建议措施": "建议措施",
    "坐标": "社区（或设施）代表点坐标，WGS84 经度,纬度",
    "是否确认": "目标值是否已由原文核实",
    "数据说明": "数据说明（如户数为估算）",
    "标准": "标准配置（profile）",
    "审计": "审计项目",
    "指标编号": "指标编号（profile 中的 id）",
    "对象编码": "检查对象编号",
}


def _cell(v: object) -> object:
    """A value openpyxl writes: Python scalars; None for a missing one."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _width(values: Iterable[object]) -> float:
    """Display width of the longest value (a CJK character counts two)."""
    best = 0
    for v in values:
        s = "" if v is None else str(v)
        best = max(best, sum(2 if ord(ch) > 0x2E80 else 1 for ch in s))
    return float(best)


def _sheet(wb: Workbook, title: str, frame: pd.DataFrame, *, first: bool) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill

    ws = wb.active if first else wb.create_sheet(title)
    ws.title = title
    header = [str(frame.index.name or ""), *[str(c) for c in frame.columns]]
    ws.append(header)
    for k, row in enumerate(frame.itertuples(index=False), start=1):
        ws.append([frame.index[k - 1], *[_cell(v) for v in row]])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDDDDD")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = fill
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"  # the header row stays in view
    if len(frame):
        ws.auto_filter.ref = ws.dimensions
    for j, name in enumerate(header, start=1):
        letter = ws.cell(row=1, column=j).column_letter
        values = frame[name] if name in frame.columns else frame.index
        if name in _WIDE:
            ws.column_dimensions[letter].width = 40
            for r in range(2, len(frame) + 2):
                ws.cell(row=r, column=j).alignment = Alignment(wrap_text=True, vertical="top")
        else:
            width = max(_width([name]), _width(values.tolist())) + 2
            ws.column_dimensions[letter].width = min(max(width, 6.0), 30.0)
        if name in _NUMBERS:
            for r in range(2, len(frame) + 2):
                ws.cell(row=r, column=j).number_format = "#,##0.0##"


def about_rows(
    about: About,
    *,
    rows: int,
    unmeasured: int,
    inputs: Sequence[str],
    date: str,
    columns: Sequence[str],
) -> list[tuple[str, str]]:
    """The 说明 sheet as (item, text) pairs: date, profiles, inputs, counts, sources,
    and what each column holds.

    Examples
    --------
    >>> about = {"profiles": [{"name": "p", "title": "T", "sources": ["《S》"]}],
    ...          "audits": [{"profile": "p", "audit": "floor_area", "passed": 3,
    ...                      "failed": 1, "unmeasured": 0}]}
    >>> about_rows(about, rows=1, unmeasured=0, inputs=["a.gpkg"], date="2026-01-01",
    ...            columns=["区"])[:3]
    [('生成日期 (date)', '2026-01-01'), ('标准 (profile)', 'p：T'), ('数据来源 (input)', 'a.gpkg')]
    """
    out: list[tuple[str, str]] = [("生成日期 (date)", date)]
    for p in about.get("profiles", []):
        out.append(("标准 (profile)", f"{p['name']}：{p['title']}"))
    for path in inputs:
        out.append(("数据来源 (input)", str(path)))
    out.append(("问题台账行数 (ledger rows)", str(rows)))
    out.append(("无法判定项数 (not measurable)", str(unmeasured)))
    for a in about.get("audits", []):
        out.append(
            (
                f"审计 (audit) {a['profile']} / {a['audit']}",
                f"未达标 {a['failed']}，达标 {a['passed']}，无法判定 {a['unmeasured']} "
                f"(failed {a['failed']}, passed {a['passed']}, "
                f"not measurable {a['unmeasured']})",
            )
        )
    for p in about.get("profiles", []):
        for s in p.get("sources", []):
            out.append((f"依据文件 (source) {p['name']}", str(s)))
    for c in columns:
        if c in _COLUMN_NOTES:
            out.append((f"列 (column) {c}", _COLUMN_NOTES[c]))
    return out


def write_workbook(
    dest: Path,
    ledger: pd.DataFrame,
    unmeasured: pd.DataFrame,
    notes: list[tuple[str, str]],
    *,
    lang: str,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """The .xlsx: sheets 问题台账 (frozen header, widths, filter), 无法判定 and 说明."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from geoplan.io.write import atomic_path

    names = SHEETS.get(lang, SHEETS["zh"])
    wb = Workbook()
    _sheet(wb, names[0], ledger, first=True)
    _sheet(wb, names[1], unmeasured, first=False)
    ws = wb.create_sheet(names[2])
    ws.append(["项目 (item)", "内容 (text)"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for item, text in notes:
        ws.append([item, text])
    ws.column_dimensions["A"].width = 36
    ws.column_dimensions["B"].width = 100
    for r in range(2, len(notes) + 2):
        ws.cell(row=r, column=2).alignment = Alignment(wrap_text=True, vertical="top")
    with atomic_path(dest, protect=protect) as tmp:
        wb.save(tmp)
    return dest


def write_csvs(
    stem: Path,
    ledger: pd.DataFrame,
    unmeasured: pd.DataFrame,
    *,
    lang: str,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """``<stem>.csv`` (the ledger) and ``<stem>_<无法判定>.csv``, UTF-8 with a BOM."""
    from geoplan.io.write import write_csv

    second = SHEETS.get(lang, SHEETS["zh"])[1].replace(" ", "_")
    return [
        write_csv(stem.with_suffix(".csv"), ledger, protect=protect),
        write_csv(stem.with_name(f"{stem.stem}_{second}.csv"), unmeasured, protect=protect),
    ]

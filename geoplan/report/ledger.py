"""The problem ledger (问题台账) of a 城市体检: one row per community and failing check.

:func:`problem_ledger` turns audit results (:class:`~geoplan.audit.results.AuditResult`
objects: floor area, organisations, coverage, development, access) into a table a
city's health check files: where (区 / 街道 / 社区 and a WGS84 point), which indicator,
on what basis (document, number, clause), the value, the target, the gap, and what to
do. Checks that could not be measured are no failures and no passes: they are listed
apart (:func:`unmeasured_checks`, the sheet 无法判定). :func:`write_ledger` writes the
Excel workbook and the CSVs (docs/ledger.md).

The module takes results as objects and imports no audit: everything it shows comes
from the findings, the tables the results carry and the profiles they name.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from geoplan.report._ledger_places import (
    Profiles,
    Row,
    basis_text,
    common,
    estimated_shares,
    facility_places,
    fold_buildings,
    is_community_table,
    place_table,
    result_places,
)
from geoplan.report._ledger_words import (
    as_float,
    display_unit,
    display_value,
    remedy_text,
    target_text,
)
from geoplan.report._ledger_write import About, AuditCounts, ProfileAbout
from geoplan.report.texts import check_lang

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult
    from geoplan.profiles import Profile

__all__ = [
    "LEDGER_COLUMNS",
    "UNMEASURED_COLUMNS",
    "problem_ledger",
    "unmeasured_checks",
    "write_ledger",
]

#: The ledger's columns: Chinese header -> English header (``lang="en"``).
LEDGER_COLUMNS: dict[str, str] = {
    "区": "district",
    "街道": "street",
    "社区": "community",
    "社区编码": "community_id",
    "对象": "entity",
    "指标": "indicator",
    "依据": "basis",
    "问题描述": "finding",
    "现状值": "value",
    "目标值": "target",
    "缺口": "shortfall",
    "单位": "unit",
    "建议措施": "remedy",
    "坐标": "lonlat",
    "是否确认": "confirmed",
    "数据说明": "data_note",
    "标准": "profile",
    "审计": "audit",
    "指标编号": "check_id",
    "对象编码": "entity_id",
}
#: The columns of the checks that could not be measured (sheet 无法判定).
UNMEASURED_COLUMNS: dict[str, str] = {
    "区": "district",
    "街道": "street",
    "社区": "community",
    "社区编码": "community_id",
    "对象": "entity",
    "指标": "indicator",
    "依据": "basis",
    "原因": "reason",
    "标准": "profile",
    "审计": "audit",
    "指标编号": "check_id",
    "对象编码": "entity_id",
}
#: The index of both tables: the row number a ledger is discussed by.
INDEX_NAME = {"zh": "序号", "en": "no"}

_AUDIT_ORDER = {"floor_area": 0, "organisations": 1, "coverage": 2, "access": 3, "development": 4}
_AREA_NAMES = {"all": ("全区", "whole area"), "central_district": ("中心城区", "central district")}
#: The community columns the commercial-share remedy reads.
_SITE_COLUMNS = ("total_floor_area_m2", "commercial_service_area_m2")
#: Where a row sorts: no district last, district, street, community, audit, its order.
SortKey = tuple[bool, str, str, str, str, int]
Keyed = tuple[SortKey, Row]
_HOUSEHOLD_UNITS = ("m2/100 households", "m2/household", "share of households")


@dataclass(frozen=True)
class _Where:
    """Where a row belongs: the community's place, and the entity's own point."""

    community_id: str
    district: str
    district_key: str
    street: str
    community: str
    entity: str
    lonlat: str
    note: str


# --------------------------------------------------------------------------- rows


def _flag(v: object) -> bool | None:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, str):
        return {"true": True, "false": False}.get(v.strip().lower())
    return bool(v)


def _records(findings: pd.DataFrame) -> list[dict[str, Any]]:
    if findings is None or len(findings) == 0:
        return []
    return [
        {str(k): (None if not isinstance(v, list | tuple) and pd.isna(v) else v)
         for k, v in row.items()}
        for row in findings.to_dict(orient="records")
    ]  # fmt: skip


def _where(
    r: Mapping[str, object],
    places: pd.DataFrame,
    facilities: pd.DataFrame,
    shares: Mapping[str, float],
    area_district: tuple[str, str],
    *,
    development: bool,
    lang: str,
) -> _Where:
    zh = lang == "zh"
    eid = str(r.get("entity_id"))
    scope = str(r.get("scope") or "")
    name = str(r.get("entity_name") or eid)
    point = ""
    if scope == "facility" or (eid in facilities.index and eid not in places.index):
        fac = facilities.loc[eid] if eid in facilities.index else None
        cid = str(fac["community_id"]) if fac is not None and fac["community_id"] else ""
        entity = str(fac["name"]) if fac is not None and fac["name"] else name
        entity = f"{entity}（{eid}）" if zh else f"{entity} ({eid})"
        point = str(fac["lonlat"]) if fac is not None and fac["lonlat"] else ""
        if not cid and development and len(places) == 1:  # a plan's rooms: its site's
            cid = str(places.index[0])
    elif eid in places.index:
        cid = eid
        entity = ("地块" if zh else "site") if development else ("社区" if zh else "community")
        entity = str(r.get("_entity") or entity)
    else:  # an area-wide check (the district, the central district)
        zh_name, en_name = _AREA_NAMES.get(eid, (name, name))
        if r.get("_entity"):
            zh_name = en_name = str(r["_entity"])
        district, key = area_district
        of = places[places["district_key"].astype(object).eq(eid)]
        if len(of):  # a check of one district (its code is the entity)
            zh_name, en_name = _AREA_NAMES["all"]
            district, key = str(of["district"].iloc[0]), eid
        return _Where("", district, key, "", "", zh_name if zh else en_name, "", "")
    place = places.loc[cid] if cid in places.index else None

    def get(k: str) -> str:
        if place is None:
            return ""
        v = place[k]
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)

    community = get("name") or (name if scope != "facility" else "")
    note = ""
    share = shares.get(cid)
    if share is not None and share > 0:
        note = f"户数 {share:.0%} 为估算" if zh else f"{share:.0%} of households estimated"
    elif place is not None and place["estimated"] is True:
        note = "户数为估算" if zh else "households estimated"
    return _Where(
        cid,
        get("district"),
        get("district_key"),
        get("street"),
        community,
        entity,
        point or get("lonlat"),
        note,
    )


def _rests_on_households(r: Mapping[str, object]) -> bool:
    unit = str(r.get("unit") or "")
    return unit in _HOUSEHOLD_UNITS or str(r.get("base_unit") or "") == "households"


def _categories() -> dict[str, tuple[str, str]]:
    from geoplan.categories import load_categories

    cats = load_categories()
    return {c.id: (c.zh, c.en) for c in cats.categories}


@dataclass
class _Context:
    """What every result's rows read: the communities given, profiles, words."""

    places: pd.DataFrame
    profiles: Profiles
    lang: str
    categories: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class _Prepared:
    """One result and what its rows read, computed once (places are reprojected)."""

    result: AuditResult
    places: pd.DataFrame
    facilities: pd.DataFrame
    shares: dict[str, float]
    #: The district (name, sort key) all its communities share, else blank.
    area: tuple[str, str]
    #: Per community (or site): its ``_SITE_COLUMNS``, for the commercial-share remedy.
    site_rows: dict[str, dict[str, Any]]
    est_share: float | None
    #: Each finding's verdict (True, False, None: not measured), in findings order.
    verdicts: list[bool | None]


def _prepare(result: AuditResult, ctx: _Context) -> _Prepared:
    places = result_places(result, ctx.places)
    table = result.table
    site_rows: dict[str, dict[str, Any]] = {}
    site_cols = [c for c in _SITE_COLUMNS if c in table.columns]
    if site_cols and (is_community_table(table, result.name) or result.name == "development"):
        for k, values in zip(table.index, table[site_cols].to_numpy().tolist(), strict=True):
            site_rows[str(k)] = dict(zip(site_cols, values, strict=True))
    f = result.findings
    return _Prepared(
        result=result,
        places=places,
        facilities=facility_places(result),
        shares=estimated_shares(result),
        area=(common(places["district"]), common(places["district_key"])),
        site_rows=site_rows,
        est_share=as_float(result.summary.get("households_estimated_share")),
        verdicts=[_flag(v) for v in f["passed"].tolist()] if len(f) else [],
    )


def _result_rows(prep: _Prepared, ctx: _Context, *, failing: bool) -> list[Keyed]:
    """(sort key, row) of each failing (or unmeasured) finding of one result."""
    zh = ctx.lang == "zh"
    result = prep.result
    development = result.name == "development"
    est_share = prep.est_share
    out = []
    f = result.findings
    if len(f):  # the verdicts first: a city's findings are mostly passes
        keep = [(v is False) if failing else (v is None) for v in prep.verdicts]
        f = f[np.asarray(keep, dtype=bool)]
    picked = _records(f)
    for n, r in enumerate(fold_buildings(picked, result.table, lang=ctx.lang)):
        pname = str(r.get("profile") or result.profile)
        prof = ctx.profiles.get(pname)
        target = ctx.profiles.target(pname, str(r.get("check_id")))
        audit = str(r.get("audit") or result.name)
        w = _where(
            r,
            prep.places,
            prep.facilities,
            prep.shares,
            prep.area,
            development=development,
            lang=ctx.lang,
        )
        note = w.note
        if not note and not w.community_id and est_share:
            note = (
                f"户数 {est_share:.0%} 为估算" if zh else f"{est_share:.0%} of households estimated"
            )
        if not _rests_on_households(r):
            note = ""
        unit = str(r.get("unit") or "")
        row: dict[str, Any] = {
            "区": w.district,
            "街道": w.street,
            "社区": w.community,
            "社区编码": w.community_id,
            "对象": w.entity,
            "指标": str(r.get("description_zh" if zh else "description_en") or r.get("check_id")),
            "依据": basis_text(
                prof, str(r.get("source") or ""), str(r.get("clause") or ""), lang=ctx.lang
            ),
            "标准": pname,
            "审计": audit,
            "指标编号": str(r.get("check_id")),
            "对象编码": str(r.get("entity_id")),
        }
        if failing:
            confirmed = _flag(r.get("confirmed")) is not False
            row.update(
                {
                    "问题描述": str(r.get("text_zh" if zh else "text_en") or ""),
                    "现状值": display_value(r.get("value"), unit, lang=ctx.lang),
                    "目标值": target_text(r, lang=ctx.lang),
                    "缺口": None
                    if unit == "flag"
                    else display_value(r.get("shortfall"), unit, lang=ctx.lang),
                    "单位": display_unit(unit, lang=ctx.lang),
                    "建议措施": remedy_text(
                        r,
                        lang=ctx.lang,
                        measure=target.measure if target is not None else r.get("measure"),
                        categories=ctx.categories,
                        site=prep.site_rows.get(w.community_id),
                        category=target.category if target is not None else None,
                    ),
                    "坐标": w.lonlat,
                    "是否确认": ("是" if zh else "yes")
                    if confirmed
                    else ("否（目标值未经原文核实）" if zh else "no (figure not confirmed)"),
                    "数据说明": note,
                }
            )
        else:
            row["原因"] = str(r.get("text_zh" if zh else "text_en") or "")
        key = (w.district_key == "", w.district_key, w.street, w.community_id, audit, n)
        out.append((key, row))
    return _fold_same_as_community(out, zh=zh) if failing else out


def _fold_same_as_community(keyed: list[Keyed], *, zh: bool) -> list[Keyed]:
    """One row for one problem: a facility's failing row that says what its community's
    row of the same check says (the community's only centre, say: 58.6% against 60% in
    both) is folded into the community's row, which then names the facility and takes its
    point (the rooms to change are there). Facilities whose figures differ from their
    community's keep their own rows."""
    hosts = {
        (row["标准"], row["指标编号"], row["社区编码"], row["问题描述"]): row
        for _, row in keyed
        if row["社区编码"] and row["对象编码"] == row["社区编码"]
    }
    out = []
    for key, row in keyed:
        cid = row["社区编码"]
        host = hosts.get((row["标准"], row["指标编号"], cid, row["问题描述"]))
        if host is None or not cid or row["对象编码"] == cid:
            out.append((key, row))
            continue
        host["对象"] = f"{host['对象']}：{row['对象']}" if zh else f"{host['对象']}: {row['对象']}"
        host["坐标"] = row["坐标"] or host["坐标"]
    return out


def _skipped_rows(prep: _Prepared, ctx: _Context) -> list[Keyed]:
    """Targets an audit could not run at all (``summary["not_measured"]``: columns missing)."""
    zh = ctx.lang == "zh"
    result = prep.result
    skipped = result.summary.get("not_measured") or {}
    if not isinstance(skipped, Mapping) or not skipped:
        return []
    district, key = prep.area
    prof = ctx.profiles.get(result.profile)
    out = []
    for n, (tid, cols) in enumerate(skipped.items()):
        target = ctx.profiles.target(result.profile, str(tid))
        names = ", ".join(str(c) for c in cols) if isinstance(cols, list | tuple) else str(cols)
        desc = (target.description_zh if zh else target.description_en) if target else str(tid)
        basis = basis_text(prof, target.source, target.clause, lang=ctx.lang) if target else ""
        row = {
            "区": district,
            "街道": "",
            "社区": "",
            "社区编码": "",
            "对象": "全部社区" if zh else "all communities",
            "指标": desc,
            "依据": basis,
            "原因": f"未测：输入中缺少 {names} 列" if zh else f"not measured: no {names} column",
            "标准": result.profile,
            "审计": result.name,
            "指标编号": str(tid),
            "对象编码": "",
        }
        out.append(((key == "", key, "", "", result.name, -1 - len(skipped) + n), row))
    return out


def _frame(
    keyed: list[Keyed],
    columns: Mapping[str, str],
    order: Mapping[str, int],
    lang: str,
) -> pd.DataFrame:
    def rank(i: int) -> tuple[bool | str | int, ...]:
        k, row = keyed[i]
        return (*k[:4], order.get(row["标准"], 0), _AUDIT_ORDER.get(k[4], 9), k[5], i)

    rows = [keyed[i][1] for i in sorted(range(len(keyed)), key=rank)]
    frame = pd.DataFrame(rows, columns=list(columns))
    frame.index = pd.RangeIndex(1, len(frame) + 1, name=INDEX_NAME["zh"])
    if lang == "en":
        frame = frame.rename(columns=dict(columns))
        frame.index.name = INDEX_NAME["en"]
    return frame


def _profile_order(results: Sequence[AuditResult]) -> dict[str, int]:
    order: dict[str, int] = {}
    for r in results:
        names = [r.profile]
        if "profile" in r.findings.columns and len(r.findings):  # a development's profiles
            names = [str(p) for p in pd.unique(r.findings["profile"].dropna())]
        for name in names:
            order.setdefault(str(name), len(order))
    return order


def _context(communities: pd.DataFrame | None, profiles: Iterable[Profile], lang: str) -> _Context:
    return _Context(place_table(communities), Profiles(profiles), check_lang(lang), _categories())


def _unmeasured(
    batch: Sequence[_Prepared], ctx: _Context, order: Mapping[str, int]
) -> pd.DataFrame:
    """The table of :func:`unmeasured_checks`: skipped targets and findings without a verdict."""
    keyed: list[Keyed] = []
    for p in batch:
        keyed += _skipped_rows(p, ctx) + _result_rows(p, ctx, failing=False)
    return _frame(keyed, UNMEASURED_COLUMNS, order, ctx.lang)


def unmeasured_checks(
    results: AuditResult | Iterable[AuditResult],
    *,
    communities: pd.DataFrame | None = None,
    lang: str = "zh",
    profiles: Iterable[Profile] = (),
) -> pd.DataFrame:
    """The checks that could not be measured (sheet 无法判定): neither pass nor failure.

    One row per finding without a verdict (a value missing for one community, no
    household in scope) and one per target an audit skipped because its input lacks
    a column (``summary["not_measured"]``), with the reason and what to add. Columns:
    :data:`UNMEASURED_COLUMNS`; sorted like :func:`problem_ledger`.

    Examples
    --------
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.audit import audit_organisations
    >>> d = make_sample_district(seed=0)
    >>> r = audit_organisations(d.communities, profile="ningxia-2025")
    >>> u = unmeasured_checks(r)
    >>> sorted(set(u["指标编号"]))[:2], u["原因"].iloc[0].startswith("未测")
    (['grid_elderly_visit_rate', 'grid_key_visits'], True)
    """
    batch = _batch(results)
    ctx = _context(communities, profiles, lang)
    return _unmeasured([_prepare(r, ctx) for r in batch], ctx, _profile_order(batch))


def _batch(results: AuditResult | Iterable[AuditResult]) -> list[AuditResult]:
    """One result or many, as a list (a result is told by its findings and summary)."""
    if hasattr(results, "findings") and hasattr(results, "summary"):
        return [cast("AuditResult", results)]
    return list(results)


def problem_ledger(
    results: AuditResult | Iterable[AuditResult],
    *,
    communities: pd.DataFrame | None = None,
    lang: str = "zh",
    profiles: Iterable[Profile] = (),
) -> pd.DataFrame:
    """The problem ledger (问题台账): one row per community and failing check.

    Parameters
    ----------
    results
        One audit result or several (floor area, organisations, coverage,
        development, access; any profiles): every finding that failed becomes a row,
        and one per facility (facility-scoped checks) and per failing area-wide check
        (the district, the central district). A facility's row that says what its
        community's row of the same check says is that row (对象 "社区：中心名（F1）",
        the facility's 坐标), not a second one. Findings without a verdict are no rows
        here: see :func:`unmeasured_checks` (kept in ``ledger.attrs["unmeasured"]``).
    communities
        The canonical communities (index ``community_id``): 区 from ``district_name``
        (or the ``district_code`` when no name is given), 街道 from ``street_name`` /
        ``街道``, the point of 坐标. Without them the results' own community tables are
        read; a field no table has stays blank (never guessed).
    lang
        ``zh`` (Chinese headers and texts) or ``en`` (:data:`LEDGER_COLUMNS`' English
        names and the English texts).
    profiles
        Profile objects the results were run with, for 依据 (titles and numbers of
        the sources); a profile not given is loaded by the name the result records.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`LEDGER_COLUMNS` (Chinese headers), index 序号 from 1, sorted by
        district, street and community (area-wide rows first in their district, rows
        without a district last), then profile, audit and the audit's own order.
        现状值 / 缺口 are in the 单位 shown: shares in per cent (85.6 for 0.856),
        yes/no checks as 是/否 (缺口 empty). ``attrs["unmeasured"]`` holds
        :func:`unmeasured_checks`, ``attrs["about"]`` the profiles and the counts
        per audit (what :func:`write_ledger` writes in
        the sheets 无法判定 and 说明).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd
    >>> from shapely.geometry import Point, box
    >>> from geoplan.audit import audit_floor_area
    >>> comm = gpd.GeoDataFrame(
    ...     {"name": ["和平社区"], "kind": ["urban"], "households": [2000.0],
    ...      "district_code": ["120104"], "street_name": ["王顶堤街道"]},
    ...     geometry=[box(516000, 4329000, 516500, 4329500)], crs=32650,
    ...     index=pd.Index(["C1"], name="community_id"))
    >>> fac = gpd.GeoDataFrame(
    ...     {"name": ["党群服务中心"], "category": ["community_service_centre"],
    ...      "floor_area_m2": [480.0], "activity_area_m2": [300.0]},
    ...     geometry=[Point(516250, 4329250)], crs=32650,
    ...     index=pd.Index(["F1"], name="facility_id"))
    >>> ledger = problem_ledger(audit_floor_area(comm, fac, profile="tianjin-2025"))
    >>> row = ledger.iloc[0]
    >>> row["区"], row["街道"], row["社区"], row["目标值"], float(row["现状值"]), float(row["缺口"])
    ('120104', '王顶堤街道', '和平社区', '≥ 30', 24.0, 6.0)
    >>> row["建议措施"], row["坐标"]
    ('增加社区综合服务设施建筑面积 120 平方米', '117.187959,39.112250')
    """
    batch = _batch(results)
    ctx = _context(communities, profiles, lang)
    prepared = [_prepare(r, ctx) for r in batch]
    keyed: list[Keyed] = []
    for p in prepared:
        keyed += _result_rows(p, ctx, failing=True)
    order = _profile_order(batch)
    ledger = _frame(keyed, LEDGER_COLUMNS, order, ctx.lang)
    ledger.attrs["unmeasured"] = _unmeasured(prepared, ctx, order)
    ledger.attrs["about"] = _about(prepared, ctx, order)
    return ledger


def _about(prepared: Sequence[_Prepared], ctx: _Context, order: Mapping[str, int]) -> About:
    """Profiles (name, title, sources cited) and per audit: failed, passed, unmeasured."""
    zh = ctx.lang == "zh"
    audits: list[AuditCounts] = []
    cited: dict[str, set[str]] = {}
    for prep in prepared:
        r, verdicts = prep.result, prep.verdicts
        f = r.findings
        skipped = r.summary.get("not_measured") or {}
        audits.append(
            {
                "profile": r.profile,
                "audit": r.name,
                "passed": sum(v is True for v in verdicts),
                "failed": sum(v is False for v in verdicts),
                "unmeasured": sum(v is None for v in verdicts)
                + (len(skipped) if isinstance(skipped, Mapping) else 0),
            }
        )
        if len(f) and "source" in f.columns:
            names = f["profile"] if "profile" in f.columns else pd.Series(r.profile, f.index)
            for p, s in zip(names.astype(str), f["source"].astype(str), strict=True):
                cited.setdefault(p, set()).add(s)
    profiles: list[ProfileAbout] = []
    for name in order:
        prof = ctx.profiles.get(name)
        title = (prof.title_zh if zh else prof.title_en) if prof is not None else name
        sources = []
        for key in sorted(cited.get(name, ())):
            src = prof.sources.get(key) if prof is not None else None
            sources.append(src.citation() if src is not None else key)
        profiles.append({"name": name, "title": title, "sources": sources})
    return {"lang": ctx.lang, "profiles": profiles, "audits": audits}


def write_ledger(
    ledger: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    unmeasured: pd.DataFrame | None = None,
    inputs: Sequence[str | os.PathLike[str]] = (),
    date: str | None = None,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> list[Path]:
    """Write a :func:`problem_ledger` as Excel and CSV, each file atomically.

    ``path`` ending in ``.xlsx`` writes the workbook, sheets 问题台账 (Chinese header
    row frozen, column widths, a filter), 无法判定 (the checks not measurable) and 说明
    (date, profiles, ``inputs``, counts per audit, the documents cited, what each
    column holds), and beside it the same tables as CSV. ``path`` ending in ``.csv``
    writes the CSVs only: ``<stem>.csv`` (the ledger) and ``<stem>_无法判定.csv``
    (``_not_measurable`` for an English ledger), UTF-8 with a BOM so Excel shows
    Chinese. Returns the paths written.

    Parameters
    ----------
    ledger
        From :func:`problem_ledger`.
    path
        ``*.xlsx`` or ``*.csv``.
    unmeasured
        The checks not measurable; default ``ledger.attrs["unmeasured"]``.
    inputs
        The input files, named on the sheet 说明.
    date
        The date written on 说明 (ISO); default today.
    protect
        Inputs never to overwrite.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.audit import audit_organisations
    >>> d = make_sample_district(seed=0)
    >>> ledger = problem_ledger(audit_organisations(d.communities, profile="tianjin-2025"))
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "问题台账.xlsx"
    >>> [p.name for p in write_ledger(ledger, out, date="2026-01-01")]
    ['问题台账.xlsx', '问题台账.csv', '问题台账_无法判定.csv']
    """
    import datetime

    from geoplan._errors import InputError
    from geoplan.report._ledger_write import about_rows, write_csvs, write_workbook

    dest = Path(path)
    suffix = dest.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise InputError("a ledger is written as .xlsx or .csv", file=str(dest))
    lang = "en" if ledger.index.name == INDEX_NAME["en"] else "zh"
    if unmeasured is None:
        unmeasured = ledger.attrs.get("unmeasured")
    if not isinstance(unmeasured, pd.DataFrame):
        columns = UNMEASURED_COLUMNS if lang == "zh" else list(UNMEASURED_COLUMNS.values())
        unmeasured = pd.DataFrame(columns=list(columns))
        unmeasured.index.name = INDEX_NAME[lang]
    protect = [*protect, *inputs]
    paths: list[Path] = []
    if suffix == ".xlsx":
        back = {en: zh for zh, en in LEDGER_COLUMNS.items()}  # the notes name zh headers
        about = cast("About", ledger.attrs.get("about") or {})
        notes = about_rows(
            about,
            rows=len(ledger),
            unmeasured=len(unmeasured),
            inputs=[str(p) for p in inputs],
            date=date or datetime.date.today().isoformat(),
            columns=[back.get(str(c), str(c)) for c in ledger.columns],
        )
        paths.append(write_workbook(dest, ledger, unmeasured, notes, lang=lang, protect=protect))
    paths += write_csvs(dest, ledger, unmeasured, lang=lang, protect=protect)
    return paths

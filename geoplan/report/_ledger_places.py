"""Where a ledger row belongs: communities' districts, streets and points, facilities'
communities, the estimated households, and the profiles results name (for 依据).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.report._ledger_words import as_float

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult
    from geoplan.profiles import Profile, Target

__all__ = [
    "DISTRICT_NAMES",
    "STREET_NAMES",
    "Profiles",
    "Row",
    "basis_text",
    "common",
    "estimated_shares",
    "facility_places",
    "fold_buildings",
    "is_community_table",
    "lonlat",
    "merge_places",
    "place_table",
    "result_places",
]

#: A findings row as a dict (values of any type: numbers, text, lists of citations).
Row = dict[str, Any]
#: Columns of communities read as the district's name (else its ``district_code``).
DISTRICT_NAMES = ("district_name", "区", "区名", "区县", "县区")
#: Columns of communities read as the street (街道).
STREET_NAMES = ("street_name", "街道", "街道名称", "乡镇街道", "street", "subdistrict")


# --------------------------------------------------------------------------- places


def text_column(frame: pd.DataFrame, names: Sequence[str]) -> pd.Series | None:
    for n in names:
        if n in frame.columns:
            col = frame[n]
            return col.astype(object).where(col.notna(), None)
    return None


def lonlat(frame: pd.DataFrame) -> pd.Series:
    """``"lon,lat"`` (WGS84, 6 decimals) of each row's representative point, or ""."""
    values = np.full(len(frame), "", dtype=object)
    if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None and len(frame):
        geom = frame.geometry
        ok = (geom.notna() & ~geom.is_empty).to_numpy()
        if ok.any():
            pts = gpd.GeoSeries(geom[ok].representative_point(), crs=frame.crs).to_crs(4326)
            values[ok] = [f"{p.x:.6f},{p.y:.6f}" for p in pts]
    return pd.Series(values, index=frame.index, dtype=object)


def place_table(frame: pd.DataFrame | None) -> pd.DataFrame:
    """Per community id (text): district, its sort key, street, name, point, estimate flag.

    Missing fields are None, so that :meth:`DataFrame.combine_first` fills them from
    another frame of the same communities.
    """
    cols = ["district", "district_key", "street", "name", "lonlat", "estimated"]
    if frame is None or len(frame) == 0:
        return pd.DataFrame(columns=cols)
    idx = pd.Index([str(i) for i in frame.index])
    out = pd.DataFrame(index=idx, columns=cols, dtype=object)
    code = text_column(frame, ("district_code",))
    dname = text_column(frame, DISTRICT_NAMES)
    street = text_column(frame, STREET_NAMES)
    name = text_column(frame, ("name",))

    def text(s: pd.Series | None) -> list[Any]:
        if s is None:
            return [None] * len(frame)
        return [None if v is None or str(v).strip() == "" else str(v).strip() for v in s]

    codes, dnames = text(code), text(dname)
    out["district"] = [n if n is not None else c for n, c in zip(dnames, codes, strict=True)]
    out["district_key"] = [c if c is not None else n for n, c in zip(dnames, codes, strict=True)]
    out["street"] = text(street)
    out["name"] = text(name)
    pts = lonlat(frame).to_numpy()
    out["lonlat"] = [p if p else None for p in pts]
    if "households_estimated" in frame.columns:
        est = frame["households_estimated"].astype(object).to_numpy()
        out["estimated"] = [None if v is None or v is pd.NA else bool(v) for v in est]
    return out


def merge_places(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    merged: pd.DataFrame | None = None
    for f in frames:
        if len(f) == 0:
            continue
        f = f[~f.index.duplicated()]
        merged = f if merged is None else merged.combine_first(f)
    return merged if merged is not None else place_table(None)


def is_community_table(table: pd.DataFrame, name: str) -> bool:
    return table.index.name == "community_id" or name in ("floor_area", "organisations")


def result_places(result: AuditResult, given: pd.DataFrame) -> pd.DataFrame:
    frames = [given]
    if is_community_table(result.table, result.name) or result.name == "development":
        frames.append(place_table(result.table))
    for key in ("communities", "site"):
        extra = result.extra.get(key)
        if isinstance(extra, pd.DataFrame):
            frames.append(place_table(extra))
    return merge_places(frames)


def facility_places(result: AuditResult) -> pd.DataFrame:
    """Per facility id: its community, name and point (from ``extra["facilities"]``)."""
    fac = result.extra.get("facilities")
    if not isinstance(fac, pd.DataFrame) or len(fac) == 0:
        return pd.DataFrame(columns=["community_id", "name", "lonlat"])
    out = pd.DataFrame(index=pd.Index([str(i) for i in fac.index]))
    cid = fac["community_id"] if "community_id" in fac.columns else pd.Series(None, fac.index)
    out["community_id"] = [None if v is None or v != v else str(v) for v in cid.astype(object)]
    name = fac["name"] if "name" in fac.columns else pd.Series(None, fac.index)
    out["name"] = [None if v is None or v != v else str(v) for v in name.astype(object)]
    out["lonlat"] = lonlat(fac).to_numpy()
    return out[~out.index.duplicated()]


def estimated_shares(result: AuditResult) -> dict[str, float]:
    """Per community: the share of its households that are estimated (coverage tables)."""
    t = result.table
    need = {"households_estimated", "households", "community_id"}
    if not need <= set(t.columns):
        return {}
    hh = pd.to_numeric(t["households"], errors="coerce").fillna(0.0)
    est = t["households_estimated"].fillna(False).astype(bool)
    frame = pd.DataFrame({"cid": t["community_id"], "hh": hh, "est": hh.where(est, 0.0)})
    sums = frame.dropna(subset=["cid"]).groupby("cid")[["hh", "est"]].sum()
    sums = sums[sums["hh"] > 0]
    return {str(k): float(v) for k, v in (sums["est"] / sums["hh"]).items()}


def common(values: Iterable[object]) -> str:
    seen = {v for v in values if v is not None}
    return str(next(iter(seen))) if len(seen) == 1 else ""


# --------------------------------------------------------------------------- profiles


class Profiles:
    """The profiles results name, loaded once each; None for one that cannot be found."""

    def __init__(self, given: Iterable[Profile]) -> None:
        self._by: dict[str, Profile | None] = {p.name: p for p in given}

    def get(self, name: str) -> Profile | None:
        if name not in self._by:
            from geoplan._errors import GeoplanError
            from geoplan.profiles import load_profile

            try:
                self._by[name] = load_profile(name)
            except (GeoplanError, OSError, ValueError):
                self._by[name] = None
        return self._by[name]

    def target(self, name: str, target_id: str) -> Target | None:
        """Target ``target_id`` of profile ``name``; None when either cannot be found."""
        prof = self.get(name)
        if prof is None:
            return None
        from geoplan._errors import GeoplanError

        try:
            return prof.target(target_id)
        except (GeoplanError, KeyError):
            return None


def basis_text(profile: Profile | None, source: str, clause: str, *, lang: str) -> str:
    """依据: the document's title and number, and the clause (from the profile's sources).

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("gb50180-2018")
    >>> t = p.targets[0]
    >>> basis_text(p, t.source, t.clause, lang="zh").startswith("《城市居住区规划设计标准")
    True
    >>> basis_text(None, "some-doc", "art. 3", lang="en")
    'some-doc, art. 3'
    """
    zh = lang == "zh"
    src = profile.sources.get(source) if profile is not None else None
    if src is None:
        head = source
    else:
        title = src.title_zh if zh else src.title_en
        head = f"《{title}》" if zh else title
        if src.number and src.number not in title:
            head += f"（{src.number}）" if zh else f" ({src.number})"
    text = f"{head}，{clause}" if zh else f"{head}, {clause}"
    if src is not None and src.secondary:
        text += "（据二手资料转述，原文未核）" if zh else " (read from a secondary source)"
    return text


def fold_buildings(rows: list[Row], table: pd.DataFrame, *, lang: str) -> list[Row]:
    """``rows`` with the rows of building-scoped checks folded into one per community
    and check (a building is no unit of a ledger): the worst value, the largest gap,
    how many buildings and households, in the place of the first of them."""
    zh = lang == "zh"
    groups: dict[tuple[str, str], list[Row]] = {}
    out: list[Row] = []
    cid = table["community_id"] if "community_id" in table.columns else None
    hh = table["households"] if "households" in table.columns else None
    for r in rows:
        if str(r.get("scope")) != "building":
            out.append(r)
            continue
        bid = r.get("entity_id")
        comm = cid.get(bid) if cid is not None else None
        key = (str(r.get("check_id")), "" if comm is None or comm != comm else str(comm))
        if key not in groups:
            groups[key] = []
            out.append({"_group": key})
        groups[key].append(r)
    folded: list[Row] = []
    for r in out:
        if "_group" not in r:
            folded.append(r)
            continue
        members = groups[r["_group"]]
        comm = r["_group"][1]
        values = [v for v in (as_float(m.get("value")) for m in members) if v is not None]
        gaps = [v for v in (as_float(m.get("shortfall")) for m in members) if v is not None]
        low = str(members[0].get("comparator")) in (">=", ">")
        households = sum(
            as_float(hh.get(m.get("entity_id"))) or 0.0 for m in members
        ) if hh is not None else 0.0  # fmt: skip
        n = len(members)
        entity = f"{n} 栋建筑" if zh else f"{n} buildings"
        worst = (min(values) if low else max(values)) if values else None
        head = dict(members[0])
        head.update(
            entity_id=comm or "all",
            entity_name=comm or "all",
            scope="community" if comm else "district",
            value=worst,
            shortfall=max(gaps) if gaps else None,
            households_uncovered=households,
            _entity=entity,
            text_zh=f"{n} 栋建筑（{households:,.0f} 户）未达标，最差 {worst:.3g}"
            if worst is not None
            else f"{n} 栋建筑未测",
            text_en=f"{n} buildings ({households:,.0f} households) short, worst {worst:.3g}"
            if worst is not None
            else f"{n} buildings not measured",
        )
        folded.append(head)
    return folded

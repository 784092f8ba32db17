"""The coverage audit's per-community findings, vectorised over communities.

Households are grouped by community once (:class:`CommunityGroups`); each target's
value, pass and shortfall per community come from group sums (exact in any order for
whole households), and the categories a community lacks are named once per distinct set.
Which community each building lies in (:func:`community_of`) and the rounding of
summary figures (:func:`rounded`) serve the access audit too.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from geoplan.profiles import Target

__all__ = [
    "CommunityGroups",
    "community_groups",
    "community_of",
    "findings_frame",
    "lacking_categories",
    "per_community",
    "rounded",
    "target_findings",
    "with_missing",
]


def community_of(b: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> np.ndarray:
    """Each building's community id (None when none): its ``community_id`` column as
    given, else the id (as text) of the community polygon its representative point
    lies in (the first, where polygons overlap).

    Examples
    --------
    >>> from shapely import Point, box
    >>> comm = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], index=["c1"], crs=32650)
    >>> b = gpd.GeoDataFrame(geometry=[Point(5, 5), Point(15, 5)], crs=32650)
    >>> community_of(b, comm).tolist()
    ['c1', None]
    """
    if "community_id" in b.columns and b["community_id"].notna().any():
        return b["community_id"].astype(object).where(b["community_id"].notna(), None).to_numpy()
    if communities is None:
        return np.full(len(b), None, dtype=object)
    pts = gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=b.crs)
    pts["_pos"] = np.arange(len(b))
    polys = gpd.GeoDataFrame(
        {"_cid": communities.index.astype(str)},
        geometry=communities.geometry.to_numpy(),
        crs=communities.crs,
    )
    j = gpd.sjoin(pts, polys, how="left", predicate="within")
    j = j[~j["_pos"].duplicated(keep="first")].sort_values("_pos")
    return j["_cid"].astype(object).where(j["_cid"].notna(), None).to_numpy()


def rounded(v: float | None) -> float | None:
    """A summary figure rounded to 6 decimals; None for None or NaN.

    Examples
    --------
    >>> rounded(1 / 3), rounded(float("nan"))
    (0.333333, None)
    """
    return None if v is None or math.isnan(v) else round(float(v), 6)


@dataclass(frozen=True)
class CommunityGroups:
    """The buildings in scope that lie in a community, grouped by community as
    ``DataFrame.groupby("cid", sort=True)`` groups them."""

    #: positions of those buildings
    rows: np.ndarray
    #: their community: a position in ``keys``
    codes: np.ndarray
    #: the communities, in groupby's (sorted) order
    keys: list[Any]
    #: and as text (``entity_id``)
    labels: list[str]


def community_groups(comm_id: np.ndarray, scope_mask: np.ndarray) -> CommunityGroups:
    inside = scope_mask & pd.notna(comm_id)
    cid = pd.Series(comm_id)[inside]  # the dtype a frame column would infer, as groupby saw it
    codes, keys = pd.factorize(cid, sort=True)
    return CommunityGroups(
        rows=np.flatnonzero(inside),
        codes=codes,
        keys=list(keys),
        labels=[str(k) for k in keys],
    )


def group_sums(values: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Per group (``codes`` 0 .. n-1) the sum of its ``values``, to the bit as pandas sums
    each group's values in their order (numpy's pairwise summation).

    Whole numbers (households counted, the usual case) sum exactly in any order, so
    :func:`numpy.bincount` gives the same; other values are summed group by group.

    Examples
    --------
    >>> group_sums(np.array([1.0, 2.0, 4.0]), np.array([1, 0, 1]), 3).tolist()
    [2.0, 5.0, 0.0]
    >>> group_sums(np.array([0.1, 0.2, 0.3]), np.array([0, 0, 0]), 1).tolist()
    [0.6000000000000001]
    """
    values = np.asarray(values, dtype=float)
    if sums_exactly(values):
        return np.bincount(codes, weights=values, minlength=n)
    order = np.argsort(codes, kind="stable")
    ordered = values[order]
    bounds = np.searchsorted(codes[order], np.arange(n + 1)).tolist()
    return np.array([ordered[a:b].sum() for a, b in itertools.pairwise(bounds)], dtype=float)


def sums_exactly(values: np.ndarray) -> bool:
    """True when every partial sum of ``values`` is exact, whatever the order: whole
    numbers (no -0.0) whose absolute sum stays below 2**52."""
    if len(values) == 0:
        return True
    if not np.isfinite(values).all() or not (values == np.floor(values)).all():
        return False
    if (np.signbit(values) & (values == 0)).any():
        return False
    return bool(np.abs(values).sum() < 2.0**52)


def target_findings(
    t: Target,
    ok: np.ndarray,
    hh: np.ndarray,
    groups: CommunityGroups,
    communities: gpd.GeoDataFrame | None,
    scope_mask: np.ndarray,
    share: float,
    uncovered: float,
    *,
    names: dict[tuple[type, Any], str],
) -> list[dict[str, list[Any]]]:
    """District row (and one per community) for a target, judged on household shares.

    The rows come as runs of rows with the same fields (a dict of columns each): the
    district row, then the communities in order. ``names`` keeps the community names
    looked up, for the next target.
    """
    assert not isinstance(t.threshold, tuple)  # coverage targets are not 'between'
    if t.measure == "coverage_share":
        need = float(t.threshold)
        threshold_text: Any = t.threshold
        unit = t.unit
    else:  # walk_time / walk_distance: every household within the time or distance
        need = 1.0
        unit_text = "m" if t.measure == "walk_distance" else "min"
        threshold_text = f"{t.comparator} {float(t.threshold):g} {unit_text}"
        unit = "share of households"
    base = {
        "check_id": t.id,
        "comparator": ">=",
        "unit": unit,
        "threshold": threshold_text,
        "source": t.source,
        "clause": t.clause,
        "confirmed": bool(t.confirmed),
        "description_zh": t.description_zh,
        "description_en": t.description_en,
        "shortfall_m2": np.nan,
    }
    blocks: list[dict[str, list[Any]]] = []
    area = "central_district" if t.scope == "central_district" else "all"
    if math.isnan(share) and not scope_mask.any():
        pass  # no building in scope (no central community): the target does not apply
    elif math.isnan(share):  # buildings in scope, none with households: never a pass
        row: dict[str, Any] = {
            **base,
            "entity_id": area,
            "entity_name": area,
            "scope": "district",
            "value": np.nan,
            "passed": None,
            "shortfall": np.nan,
            "households_uncovered": 0.0,
            "text_zh": "未测：范围内的建筑都没有户数",
            "text_en": "not measured: no building in scope has households",
        }
        blocks.append({k: [v] for k, v in row.items()})
    else:
        row = {
            **base,
            "entity_id": area,
            "entity_name": area,
            "scope": "district",
            "value": share,
            "passed": share >= need,
            "shortfall": max(0.0, need - share),
            "households_uncovered": uncovered,
        }
        blocks.append({k: [v] for k, v in row.items()})
    if communities is not None and len(groups.keys):
        n = len(groups.keys)
        ok_in, hh_in, codes = ok[groups.rows], hh[groups.rows], groups.codes
        total = group_sums(hh_in, codes, n)
        covered = group_sums(hh_in[ok_in], codes[ok_in], n)
        left = group_sums(hh_in[~ok_in], codes[~ok_in], n)
        keep = np.flatnonzero(~(total <= 0))  # a community without households has no share
        s = covered[keep] / total[keep]
        gap = need - s
        keys = [groups.keys[i] for i in keep.tolist()]
        col = communities["name"] if "name" in communities.columns else None
        for k in keys:
            if (type(k), k) not in names:
                names[(type(k), k)] = str(col.get(k, k)) if col is not None else str(k)
        m = len(keys)
        blocks.append(
            {
                **{field: [v] * m for field, v in base.items()},
                "entity_id": [groups.labels[i] for i in keep.tolist()],
                "entity_name": [names[(type(k), k)] for k in keys],
                "scope": ["community"] * m,
                "value": s.tolist(),
                "passed": (s >= need).tolist(),
                "shortfall": np.where(gap > 0.0, gap, 0.0).tolist(),
                "households_uncovered": left[keep].tolist(),
            }
        )
    return [b for b in blocks if b["scope"]]


def findings_frame(blocks: list[dict[str, list[Any]]]) -> pd.DataFrame:
    """The findings frame of runs of rows: what ``pd.DataFrame`` makes of the rows as
    dicts (fields in order of first appearance, NaN where a run lacks one), built by
    column.

    The runs are emptied as they are read, so a city's rows are not held twice.

    Examples
    --------
    >>> runs = [{"scope": ["district"], "value": [0.5]}, {"scope": ["community"] * 2}]
    >>> findings_frame(runs).to_dict("list"), runs
    ({'scope': ['district', 'community', 'community'], 'value': [0.5, nan, nan]}, [{}, {}])
    """
    if not blocks:
        return pd.DataFrame([])
    fields = list(dict.fromkeys(k for b in blocks for k in b))
    sizes = [len(b["scope"]) for b in blocks]
    columns: dict[str, list[Any]] = {}
    for k in fields:
        values: list[Any] = []
        for b, size in zip(blocks, sizes, strict=True):
            run = b.pop(k, None)
            values += run if run is not None else [np.nan] * size
        columns[k] = values
    return pd.DataFrame(columns)


def per_community(
    table: pd.DataFrame,
    comm_id: np.ndarray,
    communities: gpd.GeoDataFrame,
    coverage: dict[str, Any],
    targets: list[Target],
    hh: np.ndarray,
    lacking: dict[str, dict[str, list[str]]],
) -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"cid": comm_id, "hh": hh}, index=table.index)
    cols = {f"covered__{c}": f"share__{c}" for c in coverage}
    cols.update({f"{t.id}__pass": f"{t.id}__share" for t in targets})
    for src in cols:
        frame[src] = table[src].to_numpy(bool) * hh
    grouped = frame.dropna(subset=["cid"]).groupby("cid")
    sums = grouped.sum(numeric_only=True)
    out = (
        communities[["name", "geometry"]].copy()
        if "name" in communities.columns
        else communities[["geometry"]].copy()
    )
    idx = out.index.astype(str)
    out["households_in_buildings"] = sums["hh"].reindex(idx).fillna(0).to_numpy()
    for src, dst in cols.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            out[dst] = (sums[src] / sums["hh"]).reindex(idx).to_numpy()
    none: list[str] = []
    for t in targets:  # which categories each community lacks for this check
        of = lacking[t.id]
        named = {id(none): ""}
        for v in of.values():  # lists shared by communities lacking the same: joined once
            if id(v) not in named:
                named[id(v)] = ", ".join(v)
        out[f"{t.id}__lacking"] = [named[id(of.get(c, none))] for c in idx]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=communities.crs)


def lacking_categories(bad: dict[str, np.ndarray], groups: CommunityGroups) -> dict[str, list[str]]:
    """Per community: the categories some of its buildings do not reach within the limit.

    Communities that lack the same categories share one list (communities lack few
    combinations): read it, do not change it.

    Examples
    --------
    >>> g = community_groups(np.array(["c1", "c1", "c2", None], dtype=object), np.ones(4, bool))
    >>> bad = {"bank": np.array([True, False, False, True]), "park": np.zeros(4, bool)}
    >>> lacking_categories(bad, g)
    {'c1': ['bank'], 'c2': []}
    """
    n = len(groups.keys)
    if n == 0:
        return {}
    cats = list(bad)
    if not cats:
        return {label: [] for label in groups.labels}
    hit = np.zeros((n, len(cats)), dtype=bool)
    for j, c in enumerate(cats):
        hit[groups.codes[bad[c][groups.rows]], j] = True
    combos, which = np.unique(hit, axis=0, return_inverse=True)
    listed = [[c for c, h in zip(cats, row, strict=True) if h] for row in combos.tolist()]
    return dict(zip(groups.labels, [listed[i] for i in which.ravel().tolist()], strict=True))


def with_missing(
    blocks: list[dict[str, list[Any]]],
    t: Target,
    absent: list[str],
    bad: dict[str, np.ndarray],
    scope_mask: np.ndarray,
    by_community: dict[str, list[str]],
    limit_m: float,
    *,
    size_graded: bool = False,
) -> list[dict[str, list[Any]]]:
    """Findings rows (runs of rows as columns) with the categories each entity lacks,
    and why in words.

    A category with no facility at all is named as such ("设施中没有 middle_school
    （中学）" / "no middle_school among the facilities"), so a 0% is never
    read as a walking problem; other lacking categories are those some
    households do not reach within the limit. ``size_graded`` (a catchment target) says
    the limit depends on each facility's size, so no single distance is named.
    """
    from geoplan.categories import load_categories

    cats = load_categories()

    def zh(c: str) -> str:
        return f"{c}（{cats[c].zh}）" if c in cats else c

    said: dict[tuple[str, ...], tuple[str, str, str, str]] = {}

    def words(miss: list[str]) -> tuple[str, str, str, str]:
        key = tuple(miss)
        if key not in said:
            gone = [c for c in miss if c in absent]
            far = [c for c in miss if c not in absent]
            zh_parts = ["设施中没有 " + "、".join(zh(c) for c in gone)] if gone else []
            en_parts = ["no " + ", ".join(gone) + " among the facilities"] if gone else []
            if far and size_graded:  # each facility's own radius, not the largest
                # (the rule itself is in the target's description, beside these words)
                zh_parts.append(
                    "部分住户不在任何一处按规模分级的服务半径内：" + "、".join(zh(c) for c in far)
                )
                en_parts.append(
                    "some households are within no facility's size-graded radius: " + ", ".join(far)
                )
            elif far:
                zh_parts.append(
                    f"部分住户 {limit_m:,.0f} 米内到不了：" + "、".join(zh(c) for c in far)
                )
                en_parts.append(
                    f"some households have none within {limit_m:,.0f} m: " + ", ".join(far)
                )
            said[key] = (", ".join(miss), ", ".join(gone), "；".join(zh_parts), "; ".join(en_parts))
        return said[key]

    district = [c for c, b in bad.items() if bool((b & scope_mask).any())]
    for block in blocks:
        said_of = [
            words(district if scope == "district" else by_community.get(entity, []))
            for scope, entity in zip(block["scope"], block["entity_id"], strict=True)
        ]
        for j, name in enumerate(
            ("missing_categories", "absent_categories", "missing_zh", "missing_en")
        ):
            block[name] = [w[j] for w in said_of]
    return blocks

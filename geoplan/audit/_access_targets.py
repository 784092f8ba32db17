"""The access audit's per-community figures and the findings of its profile targets.

Private to :mod:`geoplan.audit.access`. Everything is vectorised over buildings and
communities (group sums with :func:`numpy.bincount`), so a city of a million
buildings costs a few array passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan.audit._community_findings import rounded
from geoplan.audit.results import DETAIL_COLUMNS, FINDING_COLUMNS, with_text

if TYPE_CHECKING:
    from geoplan.profiles import Target

__all__ = [
    "MEASURE_POPULATION",
    "community_table",
    "target_findings",
    "weighted_stats",
]

#: What each access measure divides by, and per how many: (population, factor).
MEASURE_POPULATION: dict[str, tuple[str, float]] = {
    "supply_per_100_households": ("households", 100.0),
    "supply_per_1000_residents": ("residents", 1000.0),
}


def weighted_stats(value: np.ndarray, weight: np.ndarray) -> dict[str, float | None]:
    """Weighted mean, minimum, median and maximum of ``value`` over rows with weight > 0.

    Examples
    --------
    >>> weighted_stats(np.array([10.0, 40.0, 99.0]), np.array([3.0, 1.0, 0.0]))["mean"]
    17.5
    """
    w = np.asarray(weight, dtype=float)
    v = np.asarray(value, dtype=float)
    sel = w > 0
    if not sel.any():
        return {"mean": None, "min": None, "median": None, "max": None}
    v, w = v[sel], w[sel]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    med = float(v[order][np.searchsorted(cum, cum[-1] / 2.0)])
    return {
        "mean": rounded(float((v * w).sum() / w.sum())),
        "min": rounded(float(v.min())),
        "median": rounded(med),
        "max": rounded(float(v.max())),
    }


def community_table(
    *,
    comm_id: np.ndarray,
    communities: gpd.GeoDataFrame | None,
    values: dict[str, np.ndarray],
    weight: np.ndarray,
    households: np.ndarray,
    estimated: np.ndarray,
    reachable: np.ndarray,
) -> pd.DataFrame:
    """One row per community (index ``community_id``): for each ``values`` column its
    weighted mean (``<col>__mean``) and minimum (``<col>__min``) over the buildings
    with demand, the households, their estimated share and the buildings.

    Communities of the ``communities`` frame without buildings are kept (NaN
    figures, 0 households); buildings in no community are left out.
    """
    inside = pd.notna(comm_id)
    codes, keys = pd.factorize(pd.Series(comm_id[inside], dtype=object), sort=True)
    labels = [str(k) for k in keys]
    if communities is not None:
        seen = set(labels)
        labels += [c for c in communities.index.astype(str) if c not in seen]
    n = len(labels)
    w = np.asarray(weight, dtype=float)[inside]
    hh = np.asarray(households, dtype=float)[inside]
    est = np.asarray(estimated, dtype=bool)[inside]
    has = w > 0
    cols: dict[str, Any] = {}
    if communities is not None and "name" in communities.columns:
        names = communities["name"].copy()
        names.index = names.index.astype(str)
        cols["name"] = [names.get(c) for c in labels]
    cols["buildings"] = np.bincount(codes, minlength=n)
    cols["buildings_with_demand"] = np.bincount(codes, weights=has.astype(float), minlength=n)
    cols["households"] = np.bincount(codes, weights=hh, minlength=n)
    hh_est = np.bincount(codes, weights=np.where(est, hh, 0.0), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["households_estimated_share"] = np.where(
            cols["households"] > 0, hh_est / cols["households"], np.nan
        )
    cols["unreachable_buildings"] = np.bincount(
        codes, weights=(~np.asarray(reachable, dtype=bool)[inside]).astype(float), minlength=n
    )
    wsum = np.bincount(codes, weights=w, minlength=n)
    for name, v in values.items():
        vv = np.asarray(v, dtype=float)[inside]
        num = np.bincount(codes, weights=np.where(has, vv * w, 0.0), minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            cols[f"{name}__mean"] = np.where(wsum > 0, num / wsum, np.nan)
        low = np.full(n, np.inf)
        np.minimum.at(low, codes[has], vv[has])
        cols[f"{name}__min"] = np.where(np.isfinite(low), low, np.nan)
    frame = pd.DataFrame(cols, index=pd.Index(labels, name="community_id"))
    for c in ("buildings", "buildings_with_demand", "unreachable_buildings"):
        frame[c] = frame[c].astype(int)
    return frame


def _objects(passed: pd.Series) -> np.ndarray:
    """A nullable boolean column as objects: True, False or None."""
    out = passed.to_numpy(dtype=object)
    out[pd.isna(out)] = None
    return out


def target_findings(
    t: Target,
    *,
    value: np.ndarray,
    weight: np.ndarray,
    building_ids: pd.Index,
    comm_id: np.ndarray,
    communities: gpd.GeoDataFrame | None,
    names: pd.Series | None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The findings of one access target and its per-building columns.

    ``scope`` building: one row per building with demand; ``community``: one per
    community, its weighted mean; any other scope (``district``): one row for the
    whole area (``entity_id`` ``all``), its weighted mean. Returns the findings and
    the per-building ``<id>__value`` / ``<id>__pass`` / ``<id>__shortfall`` columns.
    """
    w = np.asarray(weight, dtype=float)
    v = np.asarray(value, dtype=float)
    has = w > 0
    ev = t.evaluate(pd.Series(np.where(has, v, np.nan)))
    columns: dict[str, np.ndarray] = {
        f"{t.id}__value": np.where(has, v, np.nan),
        f"{t.id}__pass": _objects(ev["pass"]),
        f"{t.id}__shortfall": ev["shortfall"].to_numpy(dtype=float),
    }
    if t.scope == "building":
        sel = np.flatnonzero(has)
        ids = [str(i) for i in building_ids[sel]]
        ent_names = (
            names.to_numpy(dtype=object)[sel] if names is not None else np.array(ids, dtype=object)
        )
        vals = v[sel]
    elif t.scope == "community":
        table = community_table(
            comm_id=comm_id,
            communities=communities,
            values={"v": v},
            weight=w,
            households=w,
            estimated=np.zeros(len(w), dtype=bool),
            reachable=np.ones(len(w), dtype=bool),
        )
        table = table[table["buildings_with_demand"] > 0]
        ids = [str(i) for i in table.index]
        ent_names = (
            table["name"].to_numpy(dtype=object)
            if "name" in table.columns
            else np.array(ids, dtype=object)
        )
        vals = table["v__mean"].to_numpy(dtype=float)
    else:
        ids = ["all"]
        ent_names = np.array(["all"], dtype=object)
        vals = np.array([float((v[has] * w[has]).sum() / w[has].sum()) if has.any() else np.nan])
    res = t.evaluate(pd.Series(vals))
    n = len(ids)
    thr = t.threshold
    thr_text = f"{thr[0]:g}-{thr[1]:g}" if isinstance(thr, list | tuple) else thr
    findings = pd.DataFrame(
        {
            "entity_id": ids,
            "entity_name": ent_names,
            "check_id": t.id,
            "scope": t.scope,
            "value": vals,
            "threshold": [thr_text] * n,
            "comparator": t.comparator,
            "unit": t.unit,
            "passed": _objects(res["pass"]),
            "shortfall": res["shortfall"].to_numpy(dtype=float),
            "shortfall_m2": np.full(n, np.nan),
            "source": t.source,
            "clause": t.clause,
            "confirmed": bool(t.confirmed),
            "description_zh": t.description_zh,
            "description_en": t.description_en,
            **{c: np.full(n, np.nan) for c in ("have", "base", "required_m2")},
            "base_unit": "",
            "have_unit": "m2",
            "missing": None,
        },
        columns=[*FINDING_COLUMNS[:-2], *DETAIL_COLUMNS],
    )
    return with_text(findings), columns

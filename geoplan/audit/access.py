"""Capacity-aware walking access: the two-step floating catchment (2SFCA / E2SFCA).

Coverage asks "is there one within reach"; this audit asks "how much, for how
many": the floor area (or any supply) of a category's facilities shared out among
the households that can walk to them, over the exact walking distances of
:func:`geoplan.reach.reach_matrix`.

Definition (Luo & Wang 2003; enhanced form Luo & Qi 2009, Dai 2010). With ``d_ij``
the walking distance from building ``i`` to facility ``j`` (both access legs
included), ``D_j`` the facility's walking limit, ``S_j`` its supply (e.g.
``floor_area_m2``), ``P_k`` the households (or residents) of building ``k`` and
``w`` the decay weight::

    R_j = S_j / sum_k { P_k w(d_kj, D_j) : d_kj <= D_j }
    A_i = sum_j     { R_j w(d_ij, D_j) : d_ij <= D_j }

and per building ``supply_per_100_households__<C> = 100 A_i`` (or, with
``population="residents"``, ``supply_per_1000_residents__<C> = 1000 A_i``).

Decay weights (``decay=``), for ``d <= D`` (0 beyond):

- ``none``: ``w = 1`` (the classic 2SFCA);
- ``linear``: ``w = 1 - d / D``;
- ``gaussian``: ``w = exp(-d**2 / (2 sigma**2))`` with ``sigma = D / 2``, i.e.
  PySAL ``access.weights.gaussian(sigma=D/2)`` cut at ``max_cost=D``; the weight is
  1 at the door and ``exp(-2) = 0.135`` at the limit.

The same weight is used in both steps, so supply is conserved: ``sum_i P_i A_i``
equals the total supply of the facilities that reach any demand. A facility with
no demand within its limit has ``R_j`` undefined: its supply serves nobody, and the
summary lists it (``supply_not_reached``). Facilities missing their supply value
are bad input (file, row id and column named) unless ``missing_supply="exclude"``
leaves them out with a warning naming them.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan._timing import phase
from geoplan.alignment import check_alignment
from geoplan.audit._access_core import (
    DECAYS,
    GAUSSIAN_SIGMA_PER_LIMIT,
    FloatingCatchment,
    two_step,
)
from geoplan.audit._access_targets import (
    MEASURE_POPULATION,
    community_table,
    target_findings,
    weighted_stats,
)
from geoplan.audit._community_findings import community_of
from geoplan.audit.results import AuditResult, as_geodataframe, check_summary
from geoplan.network import WalkNetwork, snap_points
from geoplan.reach import reach_matrix

if TYPE_CHECKING:
    from collections.abc import Sequence

    from geoplan.profiles import Profile, Target

__all__ = [
    "DECAYS",
    "POPULATIONS",
    "access_column",
    "access_targets",
    "audit_access",
    "check_category",
]

#: What ``population=`` may divide the supply by.
POPULATIONS = ("households", "residents")

_FACTOR = {"households": 100.0, "residents": 1000.0}


def check_category(category: str, *, column: str = "category") -> None:
    """Raise :class:`~geoplan._errors.InputError` naming the known ids when ``category``
    is not one (the command checks ``--category`` before reading any file).

    Examples
    --------
    >>> check_category("wet_market")
    >>> check_category("wet market")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    geoplan._errors.InputError: column category: unknown category 'wet market'; ...
    """
    from geoplan.categories import load_categories

    known = load_categories()
    if category not in known.ids:
        raise InputError(
            f"unknown category {category!r}; categories: {', '.join(known.ids)}", column=column
        )


def access_column(category: str, population: str = "households") -> str:
    """The per-building column of the result: ``supply_per_100_households__<C>`` or
    ``supply_per_1000_residents__<C>``.

    Examples
    --------
    >>> access_column("wet_market", "residents")
    'supply_per_1000_residents__wet_market'
    """
    if population == "households":
        return f"supply_per_100_households__{category}"
    if population == "residents":
        return f"supply_per_1000_residents__{category}"
    raise InputError(
        f"population must be one of {', '.join(POPULATIONS)}, not {population!r}",
        column="population",
    )


def access_targets(profile: Profile, category: str | None = None) -> list[Target]:
    """The profile's access targets (of ``category`` when given)."""
    return [
        t
        for t in profile.targets
        if t.audit == "access" and (category is None or t.category == category)
    ]


def _file(frame: pd.DataFrame, default: str) -> str:
    return str(frame.attrs.get("source_file") or default)


def _supply(
    fac: gpd.GeoDataFrame, column: str, *, missing: str, file: str
) -> tuple[np.ndarray, list[str]]:
    """The supply column as floats; missing values are bad input or excluded."""
    if column not in fac.columns:
        raise InputError(
            f"facilities have no supply column {column!r} (give it, or --supply-column NAME)",
            file=file,
            column=column,
        )
    raw = fac[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad_text = raw.notna() & values.isna()
    if bad_text.any():
        row = fac.index[bad_text.to_numpy()][0]
        raise InputError(f"{raw[row]!r} is not a number", file=file, row=row, column=column)
    neg = values < 0
    if neg.any():
        row = fac.index[neg.to_numpy()][0]
        raise InputError(f"supply {values[row]:g} is negative", file=file, row=row, column=column)
    gone = values.isna().to_numpy()
    excluded: list[str] = []
    if gone.any():
        ids = [str(i) for i in fac.index[gone]]
        if missing == "error":
            more = f" (and {len(ids) - 1} more)" if len(ids) > 1 else ""
            raise InputError(
                f"the facility has no supply value{more}: give it, or leave such facilities "
                "out (missing_supply='exclude', --missing-supply exclude)",
                file=file,
                row=ids[0],
                column=column,
            )
        excluded = ids
        warnings.warn(
            f"{len(ids)} facilities have no {column} and are left out of the supply: "
            + ", ".join(ids[:5])
            + (" ..." if len(ids) > 5 else ""),
            DataQualityWarning,
            stacklevel=3,
        )
    return values.to_numpy(), excluded


def _limits(
    fac: gpd.GeoDataFrame,
    prof: Profile,
    *,
    category: str,
    within_m: float | None,
    within_min: float | None,
    limits_m: Sequence[float] | np.ndarray | pd.Series | None,
    elderly: bool,
    file: str,
) -> tuple[np.ndarray, str]:
    """Per facility the walking limit D_j (NaN: serves nobody) and how it was set."""
    given = [k for k, v in (("within_m", within_m), ("within_min", within_min)) if v is not None]
    if limits_m is not None:
        given.append("limits_m")
    if len(given) > 1:
        raise InputError(f"give one walking limit, not {' and '.join(given)}", column=given[1])
    n = len(fac)
    if within_m is not None or within_min is not None:
        metres = (
            float(within_m)
            if within_m is not None
            else float(within_min) * prof.walk_speed(elderly=elderly)  # type: ignore[arg-type]
        )
        if not (math.isfinite(metres) and metres >= 0):
            raise InputError("the walking limit must be a number >= 0", column=given[0])
        return np.full(n, metres), "within_m" if within_m is not None else "within_min"
    if limits_m is not None:
        if isinstance(limits_m, pd.Series):
            lim = limits_m.copy()
            lim.index = lim.index.astype(str)
            arr = lim.reindex(fac.index.astype(str)).to_numpy(dtype=float)
        else:
            arr = np.asarray(limits_m, dtype=float)
            if arr.shape != (n,):
                raise InputError(
                    f"limits_m has {arr.size} values for {n} {category} facilities "
                    "(give one per facility, or a Series by facility_id)",
                    column="limits_m",
                )
        if (arr[np.isfinite(arr)] < 0).any() or np.isinf(arr).any():
            raise InputError("limits_m must be finite numbers >= 0 (NaN: serves nobody)")
        return arr, "limits_m"
    catchment = prof.catchment_for(category)
    if catchment is None:
        raise InputError(
            f"no walking limit for {category}: give within_m, within_min or limits_m "
            f"(--within-m / --within-min), or use a profile with a catchment for {category}",
            column="within_m",
        )
    size = catchment.size_column
    if size not in fac.columns:
        raise InputError(
            f"catchment {catchment.id} needs the facility size column {size!r}",
            file=file,
            column=size,
        )
    sizes = pd.to_numeric(fac[size], errors="coerce").to_numpy(dtype=float)
    return np.asarray(catchment.limits_m(sizes, prof, elderly=elderly), float), (
        f"catchment:{catchment.id}"
    )


def _target_limits(
    t: Target, fac: gpd.GeoDataFrame, prof: Profile, *, elderly: bool, file: str
) -> np.ndarray:
    """A target's per-facility limits: its catchment's rules, else its within_m/min."""
    cid = t.catchment
    if cid:
        c = prof.catchment(cid)
        if c.size_column not in fac.columns:
            raise InputError(
                f"target {t.id}: catchment {cid} needs the facility size column {c.size_column!r}",
                file=file,
                column=c.size_column,
            )
        sizes = pd.to_numeric(fac[c.size_column], errors="coerce").to_numpy(dtype=float)
        return np.asarray(c.limits_m(sizes, prof, elderly=elderly), float)
    return np.full(len(fac), float(t.walk_limit_m(prof, elderly=elderly)))


def audit_access(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    category: str,
    supply_column: str,
    profile: Profile | str,
    within_m: float | None = None,
    within_min: float | None = None,
    limits_m: Sequence[float] | np.ndarray | pd.Series | None = None,
    decay: str = "none",
    population: str | None = None,
    communities: gpd.GeoDataFrame | None = None,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    elderly: bool = False,
    missing_supply: str = "error",
    gaussian_sigma_share: float = GAUSSIAN_SIGMA_PER_LIMIT,
    check_layers: bool = True,
) -> AuditResult:
    """Supply of a category within walking reach, per 100 households (or 1,000 residents).

    The two-step floating catchment of the module note on exact walking distances.

    Parameters
    ----------
    buildings
        Canonical buildings in the network's CRS; missing household counts are
        estimated with the profile's parameters (as the coverage audit does) and the
        summary says which share is estimated.
    facilities
        Canonical facilities with ``category``; those of ``category`` supply.
    network
        The walking network.
    category
        The category whose facilities supply (a category id of categories.toml).
    supply_column
        The facilities' column with the supply, e.g. ``floor_area_m2``.
    profile
        Profile or its name: walking speed, ``max_snap_m``, household parameters,
        the ``access`` targets of ``category`` (evaluated, each with its own limit
        and decay) and the catchments.
    within_m, within_min, limits_m
        The walking limit D: metres, minutes at the profile's walking speed, or
        one limit per facility of ``category`` (in their order, or a Series by
        facility id; NaN: the facility serves nobody). With none of them, the
        profile's catchment for ``category`` (size-dependent limits) is used.
    decay
        ``none``, ``linear`` or ``gaussian`` (module note).
    population
        ``households`` (per 100 households) or ``residents`` (per 1,000 residents).
        Default: what the profile's first access target for ``category`` divides by
        (Beijing's wet markets: per 1,000 residents), else households; the column and
        the map then speak in the target's unit.
    communities
        Optional: per-community household-weighted mean and minimum.
    compounds, gates
        Gated compounds and their gates: residents leave a compound through its gates
        (the snapping of :func:`geoplan.reach.nearest_facilities`).
    elderly
        Use the profile's elderly walking speed (``within_min`` and targets).
    missing_supply
        ``error`` (default): a facility of ``category`` without a supply value is bad
        input; ``exclude``: it is left out, with a warning naming it.
    gaussian_sigma_share
        sigma of the gaussian decay as a share of the limit.
    check_layers
        Check first that the layers line up with the network.

    Returns
    -------
    AuditResult
        ``name="access"``; ``table`` aligned to ``buildings.index`` with the access
        column (:func:`access_column`), ``facilities_in_reach__<C>``, ``households``,
        ``residents``, ``snap_m``, ``reachable`` and the targets' columns;
        ``extra["facilities"]`` (supply, limit, demand in reach, ratio, served) and
        ``extra["communities"]`` (mean, minimum, households, estimated share).

    Examples
    --------
    >>> import warnings; warnings.simplefilter("ignore")
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.network import network_from_lines
    >>> d = make_sample_district(seed=0)
    >>> r = audit_access(d.buildings, d.facilities, network_from_lines(d.streets),
    ...     category="community_service_centre", supply_column="floor_area_m2",
    ...     profile="tianjin-2025", within_m=1000, communities=d.communities)
    >>> s = r.summary
    >>> abs(s["supply_conserved"]["served_supply"] - s["supply_conserved"]["sum_p_a"]) < 1e-6
    True
    """
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    if decay not in DECAYS:
        raise InputError(f"decay must be one of {', '.join(DECAYS)}, not {decay!r}", column="decay")
    if population is None:  # speak in the unit of the category's target
        firsts = access_targets(prof, category)
        population = MEASURE_POPULATION[firsts[0].measure][0] if firsts else "households"
    col = access_column(category, population)
    if missing_supply not in ("error", "exclude"):
        raise InputError("missing_supply must be 'error' or 'exclude'", column="missing_supply")
    if buildings.crs is None or buildings.crs != network.crs or facilities.crs != network.crs:
        raise InputError(
            f"buildings ({buildings.crs}), facilities ({facilities.crs}) and the network "
            f"({network.crs}) must share one projected CRS",
            file=_file(buildings, "<buildings>"),
        )
    fac_file = _file(facilities, "<facilities>")
    if "category" not in facilities.columns:
        raise InputError("facilities have no 'category' column", file=fac_file, column="category")
    check_category(category, column="category")
    if check_layers:
        with phase("prepare"):
            check_alignment(
                network, profile=prof, buildings=buildings, facilities=facilities,
                communities=communities,
            )  # fmt: skip
    fac = facilities[facilities["category"].astype("string").eq(category).fillna(False).to_numpy()]
    supply, excluded = _supply(fac, supply_column, missing=missing_supply, file=fac_file)
    lim, how = _limits(
        fac, prof, category=category, within_m=within_m, within_min=within_min,
        limits_m=limits_m, elderly=elderly, file=fac_file,
    )  # fmt: skip
    keep = ~np.isnan(supply)
    fac, supply, lim = fac[keep], supply[keep], lim[keep]
    if len(fac) == 0:
        warnings.warn(
            f"no {category} facility (with a {supply_column}) among the facilities: "
            "every building gets 0",
            DataQualityWarning,
            stacklevel=2,
        )
    from geoplan.households import (
        estimate_households,
        households_summary,
        needs_estimate,
        residents_of,
    )

    if needs_estimate(buildings):
        with phase("prepare"):
            buildings = estimate_households(buildings, params=prof, areas=[compounds, communities])
    hh = (
        pd.to_numeric(buildings["households"], errors="coerce").fillna(0.0).to_numpy(float)
        if "households" in buildings.columns
        else np.zeros(len(buildings))
    )
    res = residents_of(buildings, hh, persons_per_household=prof.number("persons_per_household"))
    pops = {"households": hh, "residents": res}
    targets = access_targets(prof, category)
    tlims = {t.id: _target_limits(t, fac, prof, elderly=elderly, file=fac_file) for t in targets}
    finite = [x[np.isfinite(x)] for x in (lim, *tlims.values())]
    search_m = max((float(x.max()) for x in finite if x.size), default=0.0)
    max_snap = prof.number("max_snap_m")
    with phase("snap"):
        snap = {"max_snap_m": max_snap, "compounds": compounds, "gates": gates}
        o = snap_points(network, buildings, **snap)  # type: ignore[arg-type]
        f = snap_points(network, fac, **snap)  # type: ignore[arg-type]
    off = ~f.reachable
    if off.any():
        warnings.warn(
            f"{int(off.sum())} {category} facilities are farther than max_snap_m={max_snap:g} m "
            f"from the walk network and serve nobody: "
            + ", ".join(str(i) for i in fac.index[off][:5])
            + (" ..." if off.sum() > 5 else ""),
            DataQualityWarning,
            stacklevel=2,
        )
    with phase("reach"):
        dist = reach_matrix(network, o, f, limit_m=search_m)
    with phase("aggregate.buildings"):
        run = two_step(
            dist, supply=supply, demand=pops[population], limits_m=lim, decay=decay,
            sigma_share=gaussian_sigma_share,
        )  # fmt: skip
        factor = _FACTOR[population]
        value = factor * run.access
        cols: dict[str, Any] = {
            col: value,
            f"facilities_in_reach__{category}": run.facilities_in_reach,
            "households": hh,
            "residents": res,
            "snap_m": o.snap_m,
            "reachable": o.reachable,
        }
        blocks: list[pd.DataFrame] = []
        target_summary: dict[str, Any] = {}
        comm_id = _community_ids(buildings, communities)
        names = buildings["name"] if "name" in buildings.columns else None
    with phase("aggregate.findings"):
        for t in targets:
            t_pop, t_factor = MEASURE_POPULATION.get(t.measure, (population, _FACTOR[population]))
            t_decay = t.decay or "none"
            t_col = t.supply_column or supply_column
            t_supply = supply
            if t_col != supply_column:
                t_supply, _ = _supply(fac, t_col, missing=missing_supply, file=fac_file)
                t_supply = np.nan_to_num(t_supply, nan=0.0)
            tr = two_step(
                dist, supply=t_supply, demand=pops[t_pop], limits_m=tlims[t.id], decay=t_decay,
                sigma_share=gaussian_sigma_share,
            )  # fmt: skip
            found, tcols = target_findings(
                t, value=t_factor * tr.access, weight=pops[t_pop], building_ids=buildings.index,
                comm_id=comm_id, communities=communities, names=names,
            )  # fmt: skip
            cols.update(tcols)
            blocks.append(found)
            finite_t = tlims[t.id][np.isfinite(tlims[t.id])]
            target_summary[t.id] = {
                "measure": t.measure,
                "scope": t.scope,
                "decay": t_decay,
                "supply_column": t_col,
                "within_m": round(float(finite_t.max()), 1) if finite_t.size else None,
                "value": weighted_stats(t_factor * tr.access, pops[t_pop]),
                "passed": bool(found["passed"].eq(False).sum() == 0),
            }
        findings = pd.concat(blocks, ignore_index=True) if blocks else _no_findings()
    with phase("aggregate.buildings"):
        new = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()}, index=buildings.index)
        table = pd.concat(
            [buildings.drop(columns=[c for c in new.columns if c in buildings.columns]), new],
            axis=1,
        )
        est = (
            buildings["households_estimated"].fillna(False).astype(bool).to_numpy()
            if "households_estimated" in buildings.columns
            else np.zeros(len(buildings), dtype=bool)
        )
        fac_table = fac.copy()
        fac_table["supply"] = supply
        fac_table["limit_m"] = lim
        fac_table["demand_in_reach"] = run.demand_in_reach
        fac_table["buildings_in_reach"] = run.buildings_in_reach
        fac_table["ratio"] = run.ratio
        fac_table["served"] = run.served
        fac_table["reachable"] = f.reachable
        not_serving = _why_not_serving(run.served, f.reachable, lim)
        fac_table["not_serving"] = not_serving
        summary = _summary(
            buildings=buildings, value=value, weight=pops[population], hh=hh, res=res,
            run=run, supply=supply, fac=fac, reachable=o.reachable, excluded=excluded,
            households_summary=households_summary(buildings), not_serving=not_serving,
        )  # fmt: skip
        summary.update(
            category=category,
            supply_column=supply_column,
            population=population,
            column=col,
            decay=decay,
            limit=how,
            within_m=_largest(lim),
            search_limit_m=round(search_m, 3),
            walk_speed_m_per_min=prof.walk_speed(elderly=elderly),
            elderly=elderly,
            targets=target_summary,
            checks=check_summary(findings) if len(findings) else {},
        )
    extra: dict[str, pd.DataFrame] = {"facilities": fac_table}
    if communities is not None or pd.notna(comm_id).any():
        with phase("aggregate.communities"):
            extra["communities"] = community_table(
                comm_id=comm_id, communities=communities, values={col: value},
                weight=pops[population], households=hh, estimated=est, reachable=o.reachable,
            )  # fmt: skip
    return AuditResult(
        name="access",
        table=as_geodataframe(table, buildings),
        findings=findings,
        summary=summary,
        profile=prof.name,
        parameters={
            "max_snap_m": max_snap,
            "search_limit_m": search_m,
            "decay": decay,
            "gaussian_sigma_share": gaussian_sigma_share,
        },
        extra=extra,
    )


def _community_ids(b: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> np.ndarray:
    """Each building's community id as text (None when none); no buildings, no lookup."""
    if len(b) == 0:
        return np.full(0, None, dtype=object)
    return np.array(
        [str(c) if c is not None else None for c in community_of(b, communities)], dtype=object
    )


def _why_not_serving(served: np.ndarray, reachable: np.ndarray, limits: np.ndarray) -> list[Any]:
    """Per facility why it serves nobody: ``off_network`` (farther than max_snap_m from
    every street), ``no_limit`` (no catchment rule for its size), ``no_demand_in_reach``
    (no household within its limit); None when it serves."""
    out: list[Any] = []
    for ok, on, lim in zip(served, reachable, limits, strict=True):
        if ok:
            out.append(None)
        elif not on:
            out.append("off_network")
        elif not np.isfinite(lim):
            out.append("no_limit")
        else:
            out.append("no_demand_in_reach")
    return out


def _largest(limits: np.ndarray) -> float | None:
    """The largest finite limit (None when no facility has one)."""
    finite = limits[np.isfinite(limits)]
    return round(float(finite.max()), 3) if finite.size else None


def _no_findings() -> pd.DataFrame:
    from geoplan.audit.results import DETAIL_COLUMNS, FINDING_COLUMNS

    return pd.DataFrame(columns=[*FINDING_COLUMNS, *DETAIL_COLUMNS])


def _summary(
    *,
    buildings: gpd.GeoDataFrame,
    value: np.ndarray,
    weight: np.ndarray,
    hh: np.ndarray,
    res: np.ndarray,
    run: FloatingCatchment,
    supply: np.ndarray,
    fac: gpd.GeoDataFrame,
    reachable: np.ndarray,
    excluded: list[str],
    households_summary: dict[str, Any],
    not_serving: list[Any],
) -> dict[str, Any]:
    """The run's figures: demand, supply served and not reached, the value's spread;
    ``not_serving`` is :func:`_why_not_serving` per facility."""
    ids = [str(i) for i in fac.index]
    why = [w for w in not_serving if w is not None]
    not_reached = np.flatnonzero(~run.served)
    served_supply = float(supply[run.served].sum())
    sum_pa = float((weight * run.access).sum())
    unreach = ~np.asarray(reachable, dtype=bool)
    return {
        "buildings": len(buildings),
        "households": float(hh.sum()),
        "residents": float(res.sum()),
        **households_summary,
        "unreachable_buildings": int(unreach.sum()),
        "unreachable_households": float(hh[unreach].sum()),
        "facilities": len(fac),
        "facilities_serving": int(run.served.sum()),
        "facilities_excluded_no_supply": excluded,
        "supply_total": float(supply.sum()),
        "supply_served": served_supply,
        "supply_not_reached": float(supply[~run.served].sum()),
        "facilities_not_reaching_demand": [ids[k] for k in not_reached[:50]],
        "facilities_not_reaching_demand_count": int(not_reached.size),
        "facilities_not_serving_by_reason": {
            k: int(v) for k, v in pd.Series(why).value_counts().sort_index().items()
        },
        "supply_conserved": {"served_supply": served_supply, "sum_p_a": sum_pa},
        "value": weighted_stats(value, weight),
        "demand_without_access": float(weight[(run.access <= 0) & (weight > 0)].sum()),
    }

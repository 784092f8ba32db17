"""Siting new facilities where a category's walking coverage falls short.

Two questions, on one **coverage matrix** (candidate sites x demand points,
True where a household building reaches the candidate on foot within the
profile's threshold):

- :func:`set_cover`: the fewest new sites that lift coverage to a target share
  of households (partial set cover);
- :func:`max_cover`: the ``k`` sites that cover the most households (maximal
  covering).

Households already covered by existing facilities count as covered; candidates
only add uncovered ones. Each problem is solved either **exactly** (a mixed
integer programme solved by HiGHS through :func:`scipy.optimize.milp`, so no
extra dependency) or by a **lazy greedy** (priority queue over sparse coverage
rows) that scales to city size and reports a data-dependent bound on how far
from the optimum it can be.

The solvers only see matrices (spopt style). :func:`coverage_matrix_from_network`
and :func:`suggest_sites` prepare them from a walk network, buildings, existing
facilities and candidate sites, taking the walking threshold from a standards
profile. Candidate generators: :func:`candidates_from_network` (street
junctions) and :func:`candidates_from_buildings` (vacant buildings). Floor-area
gaps: :func:`floor_area_candidates` lists available rooms near communities short
of service floor area.

Examples
--------
>>> import numpy as np, scipy.sparse as sp
>>> cov = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
>>> r = set_cover(cov, np.array([10.0, 10.0, 10.0, 10.0]), target_share=1.0)
>>> r.chosen, r.n_sites, r.coverage_after
(('0', '2'), 2, 1.0)
"""

from __future__ import annotations

import heapq
import math
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from geoplan._errors import DataQualityWarning, InputError

__all__ = [
    "FloorAreaCandidates",
    "SitingResult",
    "candidates_from_buildings",
    "candidates_from_network",
    "coverage_matrix_from_network",
    "coverage_threshold",
    "floor_area_candidates",
    "max_cover",
    "set_cover",
    "suggest_sites",
]

Method = Literal["exact", "greedy"]
_METHODS = ("exact", "greedy")
# The two floor-area checks whose shortfall rooms can close (audit table columns).
_FLOOR_AREA_SHORTFALLS = (
    "service_area_per_100_households__shortfall_m2",
    "village_service_area__shortfall_m2",
)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, eq=False)
class SitingResult:
    """What a siting run chose and what it achieves.

    Attributes
    ----------
    problem
        ``"set_cover"`` (fewest sites reaching a target share) or ``"max_cover"``
        (best ``k`` sites).
    method
        ``"exact"`` (HiGHS MILP) or ``"greedy"``.
    chosen
        Candidate ids in selection order (for the exact method: ordered by
        marginal gain, largest first).
    added_households
        Households each chosen site adds, in selection order (marginal gains;
        they sum to ``households_covered_after - households_covered_before``).
    households_total
        Households of all demand points (the denominator of coverage shares).
    households_covered_before, households_covered_after
        Households covered by existing facilities, and with the new sites too.
    target_share
        The coverage target (set cover), or None.
    k
        The number of sites asked for (max cover), or None.
    reached
        Set cover: whether the target share is reached (False when even every
        candidate together cannot reach it). Max cover: None.
    optimal
        True when the answer is proven optimal (exact method, solved to
        optimality, or nothing to choose).
    bound
        Best known bound on the optimum: set cover, a lower bound on the number
        of sites; max cover, an upper bound on the households the new sites can
        add. None when unknown.
    gap
        Relative optimality gap implied by ``bound`` (0 when optimal).
    sites
        One row per chosen site, indexed ``site_id`` in selection order:
        ``order`` (1-based), ``added_households``, ``households_covered``
        (cumulative), ``coverage_share`` (after adding the site), ``category``
        and, when the candidates had geometry, a GeoDataFrame with it.
    covered_before, covered_after
        Boolean Series aligned to the demand points: covered by existing
        facilities, and after adding the chosen sites.
    category, limit_m
        What was sited and the walking threshold (metres), when known.
    note
        Plain-language remarks (e.g. why a target cannot be reached).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> cov = sp.csr_matrix(np.array([[1, 0], [1, 1]], dtype=bool))
    >>> r = max_cover(cov, np.array([5.0, 7.0]), k=1)
    >>> r.chosen, r.added_households, r.coverage_before, r.coverage_after
    (('1',), (12.0,), 0.0, 1.0)
    """

    problem: str
    method: str
    chosen: tuple[str, ...]
    added_households: tuple[float, ...]
    households_total: float
    households_covered_before: float
    households_covered_after: float
    target_share: float | None
    k: int | None
    reached: bool | None
    optimal: bool
    bound: float | None
    gap: float | None
    sites: pd.DataFrame
    covered_before: pd.Series
    covered_after: pd.Series
    category: str | None = None
    limit_m: float | None = None
    note: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        """Number of chosen sites."""
        return len(self.chosen)

    @property
    def coverage_before(self) -> float:
        """Share of households covered by existing facilities."""
        return _share(self.households_covered_before, self.households_total)

    @property
    def coverage_after(self) -> float:
        """Share of households covered with the chosen sites added."""
        return _share(self.households_covered_after, self.households_total)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: the figures and one entry per chosen site.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> r = set_cover(sp.csr_matrix(np.eye(2, dtype=bool)), np.array([1.0, 3.0]),
        ...               target_share=0.7)
        >>> r.to_dict()["sites"]
        [{'site_id': '1', 'order': 1, 'added_households': 3.0, 'coverage_share': 0.75}]
        """
        return {
            "problem": self.problem,
            "method": self.method,
            "category": self.category,
            "limit_m": self.limit_m,
            "target_share": self.target_share,
            "k": self.k,
            "reached": self.reached,
            "optimal": self.optimal,
            "bound": self.bound,
            "gap": self.gap,
            "n_sites": self.n_sites,
            "households_total": self.households_total,
            "households_covered_before": self.households_covered_before,
            "households_covered_after": self.households_covered_after,
            "coverage_before": round(self.coverage_before, 6),
            "coverage_after": round(self.coverage_after, 6),
            "note": self.note,
            "parameters": dict(self.parameters),
            "sites": [
                {
                    "site_id": str(sid),
                    "order": int(row["order"]),
                    "added_households": float(row["added_households"]),
                    "coverage_share": round(float(row["coverage_share"]), 6),
                }
                for sid, row in self.sites.iterrows()
            ],
        }


def _share(part: float, total: float) -> float:
    return float(part / total) if total > 0 else 1.0


# --------------------------------------------------------------------------- input checks


def _as_coverage(coverage: Any) -> sp.csr_matrix:
    """A boolean CSR from a sparse or dense matrix; stored entries mean covered.

    Numeric matrices (e.g. walking distances from :func:`geoplan.reach.reach_matrix`,
    which stores 0.0 for a point at the source) count by their sparsity pattern;
    boolean matrices by their True entries.
    """
    if sp.issparse(coverage):
        m = sp.csr_matrix(coverage, copy=True)
        if m.dtype == bool:
            m.eliminate_zeros()
    else:
        arr = np.asarray(coverage)
        if arr.ndim != 2:
            raise InputError("coverage must be a 2-D matrix (candidates x demand)")
        m = sp.csr_matrix(arr.astype(bool))
    m.sum_duplicates()
    out = sp.csr_matrix(
        (np.ones(m.indices.size, dtype=bool), m.indices.copy(), m.indptr.copy()), shape=m.shape
    )
    out.sort_indices()
    return out


def _weights(weights: Any, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != n:
        raise InputError(
            f"weights has {w.size} values but the coverage matrix has {n} demand columns",
            column="households",
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights (households) must be finite and >= 0", column="households")
    return w


def _mask(values: Any, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    a = np.asarray(values, dtype=bool).ravel()
    if a.size != n:
        raise InputError(f"{name} has {a.size} values, expected {n}", column=name)
    return a


def _ids(candidate_ids: Sequence[Any] | pd.Index | None, n: int) -> np.ndarray:
    if candidate_ids is None:
        return np.array([str(i) for i in range(n)], dtype=object)
    ids = np.array([str(i) for i in candidate_ids], dtype=object)
    if ids.size != n:
        raise InputError(f"candidate_ids has {ids.size} ids, expected {n}", column="candidate_id")
    if pd.Index(ids).has_duplicates:
        raise InputError("candidate ids must be unique", column="candidate_id")
    return ids


def _check_method(method: str) -> None:
    if method not in _METHODS:
        raise InputError(f"method must be one of {_METHODS}, got {method!r}", column="method")


# --------------------------------------------------------------------------- greedy


def _row_gain(cov: sp.csr_matrix, j: int, w_open: np.ndarray) -> float:
    a, b = cov.indptr[j], cov.indptr[j + 1]
    return float(w_open[cov.indices[a:b]].sum())


def _lazy_greedy(
    cov: sp.csr_matrix,
    w: np.ndarray,
    covered: np.ndarray,
    *,
    need: float,
    k: int | None,
) -> tuple[list[int], list[float], float]:
    """Lazy greedy (Minoux): pick the largest marginal gain until ``need`` or ``k``.

    Gains only shrink as demand gets covered, so a candidate whose recomputed gain
    still tops the queue is the true best. ``w_open`` holds the weight of demand
    not yet covered (0 once covered). Returns chosen rows, their gains, and the
    largest gain seen at each step's start (for the set-cover lower bound).

    Returns
    -------
    chosen, gains, lower_bound
        ``lower_bound`` is a lower bound on the number of sites any solution
        needs (set cover); 0 when ``need`` is not finite.
    """
    w_open = np.where(covered, 0.0, w)
    gains0 = np.asarray(cov @ w_open, dtype=np.float64).ravel()
    heap = [(-g, int(j)) for j, g in enumerate(gains0.tolist()) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[float] = []
    got = 0.0
    lower = 0.0
    tol = 1e-9 * max(float(w.sum()), 1.0)
    limit = k if k is not None else cov.shape[0]
    while heap and len(chosen) < limit and got < need - tol:
        _, j = heapq.heappop(heap)
        g = _row_gain(cov, j, w_open)
        if g <= 0:
            continue
        if heap and g < -heap[0][0] - tol:
            heapq.heappush(heap, (-g, j))
            continue
        # g is the largest marginal gain now: no solution adds more per site.
        if math.isfinite(need):
            lower = max(lower, (need - got) / g)
        a, b = cov.indptr[j], cov.indptr[j + 1]
        w_open[cov.indices[a:b]] = 0.0
        chosen.append(j)
        gains.append(g)
        got += g
    return chosen, gains, lower


# --------------------------------------------------------------------------- exact (HiGHS)


def _aggregate_columns(cov: sp.csr_matrix, w: np.ndarray) -> tuple[sp.csr_matrix, np.ndarray]:
    """Merge demand columns covered by the same set of candidates (weights summed)."""
    at = cov.T.tocsr()
    at.sort_indices()
    keys = [at.indices[at.indptr[i] : at.indptr[i + 1]].tobytes() for i in range(at.shape[0])]
    codes, uniques = pd.factorize(pd.Series(keys, dtype=object))
    n_groups = len(uniques)
    agg_w = np.bincount(codes, weights=w, minlength=n_groups)
    first = np.full(n_groups, -1, dtype=np.int64)
    first[codes[::-1]] = np.arange(codes.size)[::-1]
    return sp.csr_matrix(at[first].T), agg_w


def _milp(
    cov: sp.csr_matrix,
    w: np.ndarray,
    *,
    need: float | None,
    k: int | None,
    time_limit_s: float | None,
) -> tuple[np.ndarray, bool, float | None]:
    """Solve set cover (``need``) or max cover (``k``) exactly on reduced inputs.

    Variables: x (one per candidate, binary), y (one per demand group, in [0, 1],
    y <= sum of x of the candidates covering it). Set cover minimises the number
    of sites, then (with a weight below one site) maximises coverage; max cover
    maximises covered weight with at most ``k`` sites.

    Returns
    -------
    x, optimal, bound
        Chosen candidate mask, whether proven optimal, and the dual bound in the
        problem's own terms (sites for set cover, weight for max cover).
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    n_c, n_d = cov.shape
    total = float(w.sum())
    a = sp.csr_matrix(cov, dtype=np.float64)
    # y_d - sum_j A[j, d] x_j <= 0
    link = sp.hstack([-a.T.tocsr(), sp.identity(n_d, format="csr")], format="csr")
    cons = [LinearConstraint(link, -np.inf, 0.0)]
    if need is not None:
        c = np.concatenate([np.ones(n_c), -0.5 * w / total])
        cons.append(LinearConstraint(sp.csr_matrix(np.r_[np.zeros(n_c), w][None, :]), need, np.inf))
    else:
        assert k is not None
        c = np.concatenate([np.zeros(n_c), -w / total])
        cons.append(
            LinearConstraint(
                sp.csr_matrix(np.r_[np.ones(n_c), np.zeros(n_d)][None, :]), -np.inf, float(k)
            )
        )
    integrality = np.r_[np.ones(n_c), np.zeros(n_d)]
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    res = milp(
        c, integrality=integrality, bounds=Bounds(0.0, 1.0), constraints=cons, options=options
    )
    if res.x is None:
        raise InputError(f"the exact solver found no solution: {res.message}")
    x = res.x[:n_c] > 0.5
    optimal = res.status == 0
    dual = getattr(res, "mip_dual_bound", None)
    bound: float | None = None
    if dual is not None and np.isfinite(dual):
        bound = float(math.ceil(dual - 1e-6)) if need is not None else float(-dual * total)
    return x, optimal, bound


# --------------------------------------------------------------------------- solvers


def _order_by_gain(
    cov: sp.csr_matrix, w: np.ndarray, covered: np.ndarray, rows: np.ndarray
) -> tuple[list[int], list[float]]:
    """Order a fixed set of rows greedily (largest marginal gain first)."""
    sub = cov[rows]
    chosen, gains, _ = _lazy_greedy(sub, w, covered, need=math.inf, k=None)
    order = [int(rows[j]) for j in chosen]
    rest = [int(r) for r in rows if int(r) not in set(order)]
    return order + rest, gains + [0.0] * len(rest)


def _solve(
    coverage: Any,
    weights: Any,
    *,
    problem: str,
    target_share: float | None,
    k: int | None,
    already_covered: Any,
    method: str,
    candidate_ids: Sequence[Any] | pd.Index | None,
    demand_index: pd.Index | None,
    time_limit_s: float | None,
) -> SitingResult:
    _check_method(method)
    cov = _as_coverage(coverage)
    n_c, n_d = cov.shape
    w = _weights(weights, n_d)
    covered0 = _mask(already_covered, n_d, "already_covered")
    ids = _ids(candidate_ids, n_c)
    didx = demand_index if demand_index is not None else pd.RangeIndex(n_d)
    if len(didx) != n_d:
        raise InputError(f"demand index has {len(didx)} entries, expected {n_d}")
    total = float(w.sum())
    before = float(w[covered0].sum())
    tol = 1e-9 * max(total, 1.0)
    need = math.inf
    notes: list[str] = []
    if problem == "set_cover":
        assert target_share is not None
        need = max(0.0, target_share * total - before)
    # Only uncovered demand with households, and candidates that reach some, matter.
    open_cols = np.flatnonzero(~covered0 & (w > 0))
    sub = cov[:, open_cols].tocsr()
    w_sub = w[open_cols]
    useful = np.flatnonzero(np.diff(sub.indptr) > 0)
    sub = sub[useful]
    reachable_w = float(w_sub[np.unique(sub.indices)].sum()) if sub.nnz else 0.0
    reached: bool | None = None
    goal = need
    if problem == "set_cover":
        reached = need <= reachable_w + tol
        if not reached:
            goal = reachable_w
            notes.append(
                f"target {target_share:.1%} cannot be reached: every candidate together "
                f"covers {_share(before + reachable_w, total):.1%} of households"
            )
    optimal = False
    bound: float | None = None
    if sub.shape[0] == 0 or (problem == "set_cover" and goal <= tol) or k == 0:
        rows: list[int] = []
        gains: list[float] = []
        optimal = True
        bound = 0.0
    elif method == "greedy":
        picked, gains, lower = _lazy_greedy(
            sub, w_sub, np.zeros(w_sub.size, dtype=bool), need=goal, k=k
        )
        rows = [int(useful[j]) for j in picked]
        if problem == "set_cover":
            bound = float(math.ceil(lower - 1e-9))
            optimal = bound >= len(rows)
        else:
            # Upper bound (Minoux): f(S) + the k largest marginal gains w.r.t. S.
            w_left = w_sub.copy()
            for j in picked:
                w_left[sub.indices[sub.indptr[j] : sub.indptr[j + 1]]] = 0.0
            rest = np.sort(np.asarray(sub @ w_left).ravel())[::-1][: k or 0]
            bound = float(sum(gains) + rest.sum())
            optimal = bound <= sum(gains) + tol
    else:
        agg, agg_w = _aggregate_columns(sub, w_sub)
        x, optimal, bound = _milp(
            agg,
            agg_w,
            need=goal if problem == "set_cover" else None,
            k=k,
            time_limit_s=time_limit_s,
        )
        picked_rows = np.flatnonzero(x)
        order, gains = _order_by_gain(sub, w_sub, np.zeros(w_sub.size, dtype=bool), picked_rows)
        keep = [i for i, g in enumerate(gains) if g > 0]  # drop sites that add nothing
        rows = [int(useful[order[i]]) for i in keep]
        gains = [gains[i] for i in keep]
    added = float(sum(gains))
    after = before + added
    if problem == "set_cover" and bound is not None:
        gap = 0.0 if not rows else max(0.0, (len(rows) - bound) / len(rows))
    elif bound is not None:
        gap = 0.0 if bound <= 0 else max(0.0, (bound - added) / bound)
    else:
        gap = None
    covered1 = covered0.copy()
    for r in rows:
        covered1[cov.indices[cov.indptr[r] : cov.indptr[r + 1]]] = True
    cum = before + np.cumsum(gains) if gains else np.zeros(0)
    sites = pd.DataFrame(
        {
            "order": np.arange(1, len(rows) + 1, dtype=np.int64),
            "added_households": np.asarray(gains, dtype=np.float64),
            "households_covered": cum,
            "coverage_share": cum / total if total > 0 else np.ones(len(rows)),
        },
        index=pd.Index(
            ids[rows] if rows else np.zeros(0, dtype=object), name="site_id", dtype=object
        ),
    )
    return SitingResult(
        problem=problem,
        method=method,
        chosen=tuple(str(i) for i in sites.index),
        added_households=tuple(float(g) for g in gains),
        households_total=total,
        households_covered_before=before,
        households_covered_after=after,
        target_share=target_share,
        k=k,
        reached=reached,
        optimal=bool(optimal),
        bound=bound,
        gap=gap,
        sites=sites,
        covered_before=pd.Series(covered0, index=didx, name="covered_before"),
        covered_after=pd.Series(covered1, index=didx, name="covered_after"),
        note="; ".join(notes),
    )


def set_cover(
    coverage: Any,
    weights: Any,
    *,
    target_share: float,
    already_covered: Any = None,
    method: Method = "exact",
    candidate_ids: Sequence[Any] | pd.Index | None = None,
    demand_index: pd.Index | None = None,
    time_limit_s: float | None = None,
) -> SitingResult:
    """The fewest candidate sites that lift coverage to ``target_share`` of households.

    Partial weighted set cover: choose candidates so that the households of
    demand points covered (already, or by a chosen candidate) reach
    ``target_share`` of all households, with as few candidates as possible. The
    exact method breaks ties between minimum-size answers by coverage.

    Parameters
    ----------
    coverage
        Sparse or dense matrix, candidates x demand points; a stored entry (or
        True) means the candidate covers the point. A distance matrix from
        :func:`geoplan.reach.reach_matrix` works as is (its pattern is used).
    weights
        Households per demand point.
    target_share
        Coverage target in [0, 1] (from a profile, e.g. ``wet_market_coverage``).
    already_covered
        Boolean per demand point: covered by existing facilities.
    method
        ``"exact"``: HiGHS MILP (proven minimum); ``"greedy"``: lazy greedy
        (at most ``ln(n) + 1`` times the minimum, usually within one site).
    candidate_ids, demand_index
        Labels for the result (default: positions).
    time_limit_s
        Exact method only: stop after this long and report the best answer found
        with its gap (``optimal`` False).

    Returns
    -------
    SitingResult
        ``reached`` is False (and ``note`` says why) when all candidates together
        cannot reach the target; the answer then covers all they can.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> cov = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool))
    >>> r = set_cover(cov, [100.0, 50.0, 30.0], target_share=0.8, already_covered=[0, 0, 1])
    >>> r.chosen, r.added_households, round(r.coverage_after, 3)
    (('0',), (150.0,), 1.0)
    """
    if not (0.0 <= float(target_share) <= 1.0):
        raise InputError("target_share must lie in [0, 1]", column="target_share")
    return _solve(
        coverage,
        weights,
        problem="set_cover",
        target_share=float(target_share),
        k=None,
        already_covered=already_covered,
        method=method,
        candidate_ids=candidate_ids,
        demand_index=demand_index,
        time_limit_s=time_limit_s,
    )


def max_cover(
    coverage: Any,
    weights: Any,
    *,
    k: int,
    already_covered: Any = None,
    method: Method = "exact",
    candidate_ids: Sequence[Any] | pd.Index | None = None,
    demand_index: pd.Index | None = None,
    time_limit_s: float | None = None,
) -> SitingResult:
    """The ``k`` candidate sites that add the most covered households.

    Maximal covering location problem. Sites that would add nothing are left
    out, so fewer than ``k`` may be chosen.

    Parameters
    ----------
    coverage, weights, already_covered, candidate_ids, demand_index, time_limit_s
        As in :func:`set_cover`.
    k
        Number of new sites.
    method
        ``"exact"`` (HiGHS MILP) or ``"greedy"`` (lazy greedy, within
        ``1 - 1/e`` of the optimum; ``bound`` gives a tighter data-dependent
        upper bound).

    Returns
    -------
    SitingResult

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> cov = sp.csr_matrix(np.array([[1, 1, 1, 0, 0], [1, 0, 0, 1, 0],
    ...                                [0, 1, 0, 0, 1]], dtype=bool))
    >>> exact = max_cover(cov, np.ones(5), k=2)
    >>> greedy = max_cover(cov, np.ones(5), k=2, method="greedy")
    >>> exact.households_covered_after, greedy.households_covered_after
    (4.0, 4.0)
    """
    if int(k) != k or k < 0:
        raise InputError("k must be a whole number >= 0", column="k")
    return _solve(
        coverage,
        weights,
        problem="max_cover",
        target_share=None,
        k=int(k),
        already_covered=already_covered,
        method=method,
        candidate_ids=candidate_ids,
        demand_index=demand_index,
        time_limit_s=time_limit_s,
    )


# --------------------------------------------------------------------------- from a network


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"profile parameter {name!r} must be a number", column=name)
    return float(value)


def coverage_threshold(
    profile: Any, *, category: str, target_id: str | None = None
) -> tuple[float, float, str]:
    """Walking limit (metres) and target share of a category's coverage target.

    Looks for the profile's ``coverage`` target with measure ``coverage_share``
    for ``category`` (or the target ``target_id``). The limit is ``within_m``,
    or ``within_min`` x the profile's ``walk_speed_m_per_min``.

    Returns
    -------
    limit_m, target_share, target_id

    Examples
    --------
    >>> limit_m, share, target_id = coverage_threshold("tianjin-2025", category="wet_market")
    >>> target_id, share, limit_m > 0
    ('wet_market_coverage', 0.95, True)
    """
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    if target_id is not None:
        t = p.target(target_id)
    else:
        found = [
            t
            for t in p.targets_for("coverage")
            if t.measure == "coverage_share" and t.category == category
        ]
        if not found:
            raise InputError(
                f"profile {p.name!r} has no coverage_share target for category {category!r}; "
                "pass target_id or limit_m and target_share",
                column="category",
            )
        t = found[0]
    if t.within_m is not None:
        limit = float(t.within_m)
    elif t.within_min is not None:
        limit = float(t.within_min) * _number(
            p.parameter("walk_speed_m_per_min"), "walk_speed_m_per_min"
        )
    else:
        raise InputError(f"target {t.id!r} has neither within_m nor within_min", column=t.id)
    if not isinstance(t.threshold, float):
        raise InputError(f"target {t.id!r} needs a single threshold", column=t.id)
    return limit, float(t.threshold), t.id


def coverage_matrix_from_network(
    network: Any,
    demand: gpd.GeoDataFrame | gpd.GeoSeries,
    candidates: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    limit_m: float,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
) -> sp.csr_matrix:
    """Boolean coverage (candidates x demand): walking distance within ``limit_m``.

    Snaps both layers onto the network (gated compounds enter through their
    gates) and runs :func:`geoplan.reach.reach_matrix`.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=32650))
    >>> homes = gpd.GeoSeries([Point(0, 5), Point(500, 5), Point(990, 5)], crs=32650)
    >>> sites = gpd.GeoSeries([Point(100, 0), Point(900, 0)], crs=32650)
    >>> coverage_matrix_from_network(net, homes, sites, limit_m=350,
    ...                              max_snap_m=50).toarray().astype(int).tolist()
    [[1, 0, 0], [0, 0, 1]]
    """
    from geoplan.network import snap_points
    from geoplan.reach import reach_matrix

    kw: dict[str, Any] = {
        "max_snap_m": max_snap_m,
        "compounds": compounds,
        "gates": gates,
        "gate_tolerance_m": gate_tolerance_m,
    }
    with warnings.catch_warnings():
        # islands are reported once by the caller's own audit; here they simply
        # reach what they reach
        warnings.simplefilter("ignore", DataQualityWarning)
        o = snap_points(network, demand, **kw)
        s = snap_points(network, candidates, **kw)
    return _as_coverage(reach_matrix(network, o, s, limit_m=limit_m))


def _covered_by_existing(
    network: Any,
    demand: gpd.GeoDataFrame,
    existing: gpd.GeoDataFrame,
    *,
    limit_m: float,
    max_snap_m: float,
    compounds: Any,
    gates: Any,
    gate_tolerance_m: float,
) -> np.ndarray:
    from geoplan.network import snap_points
    from geoplan.reach import multi_source_distances

    if len(existing) == 0:
        return np.zeros(len(demand), dtype=bool)
    kw: dict[str, Any] = {
        "max_snap_m": max_snap_m,
        "compounds": compounds,
        "gates": gates,
        "gate_tolerance_m": gate_tolerance_m,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        o = snap_points(network, demand, **kw)
        f = snap_points(network, existing, **kw)
    dist, _ = multi_source_distances(network, f, limit_m=limit_m, targets=o)
    return np.asarray(dist <= limit_m, dtype=bool)


def candidates_from_network(
    network: Any, *, min_degree: int = 3, spacing_m: float | None = None
) -> gpd.GeoDataFrame:
    """Candidate sites at street junctions: nodes with at least ``min_degree`` streets.

    Parameters
    ----------
    network
        A :class:`geoplan.network.WalkNetwork`.
    min_degree
        Minimum number of distinct neighbouring nodes (3: junctions, not bends).
    spacing_m
        Thin the junctions to at most one per square cell of this size (the one
        nearest the cell centre); None keeps all.

    Returns
    -------
    geopandas.GeoDataFrame
        Points indexed ``candidate_id`` (``node:<node id>``) with ``node_id``,
        ``degree`` and ``source`` (``network_node``), in the network's CRS.

    Examples
    --------
    >>> from shapely import LineString
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)]),
    ...     LineString([(100, 0), (100, 100)])], crs=32650))
    >>> candidates_from_network(net).index.tolist()
    ['node:1']
    """
    u = np.asarray(network.u, dtype=np.int64)
    v = np.asarray(network.v, dtype=np.int64)
    keep = u != v
    pairs = np.unique(np.sort(np.c_[u[keep], v[keep]], axis=1), axis=0)
    degree = np.bincount(pairs.ravel(), minlength=network.n_nodes)
    sel = np.flatnonzero(degree >= min_degree)
    x, y = network.x[sel], network.y[sel]
    if spacing_m is not None and sel.size:
        if not (np.isfinite(spacing_m) and spacing_m > 0):
            raise InputError("spacing_m must be > 0", column="spacing_m")
        cx, cy = np.floor(x / spacing_m), np.floor(y / spacing_m)
        d = np.hypot(x - (cx + 0.5) * spacing_m, y - (cy + 0.5) * spacing_m)
        order = np.lexsort((d, cy, cx))
        key = np.c_[cx, cy][order]
        first = np.ones(order.size, dtype=bool)
        first[1:] = (key[1:] != key[:-1]).any(axis=1)
        pick = np.sort(order[first])
        sel, x, y = sel[pick], x[pick], y[pick]
    node_ids = network.node_id[sel]
    return gpd.GeoDataFrame(
        {"node_id": node_ids, "degree": degree[sel], "source": "network_node"},
        geometry=shapely.points(x, y),
        index=pd.Index([f"node:{i}" for i in node_ids], name="candidate_id", dtype=object),
        crs=network.crs,
    )


def candidates_from_buildings(
    buildings: gpd.GeoDataFrame, *, uses: Collection[str] = ("vacant",), use_col: str = "use"
) -> gpd.GeoDataFrame:
    """Candidate sites in buildings whose use says they are free (default ``vacant``).

    Examples
    --------
    >>> from shapely import box
    >>> b = gpd.GeoDataFrame({"use": ["residential", "vacant"]},
    ...     geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], index=["b1", "b2"], crs=32650)
    >>> candidates_from_buildings(b).index.tolist()
    ['b2']
    """
    if use_col not in buildings.columns:
        raise InputError(f"buildings have no {use_col!r} column", column=use_col)
    wanted = {u.lower() for u in uses}
    mask = buildings[use_col].astype("string").str.lower().isin(wanted).fillna(False)
    out = buildings.loc[mask.to_numpy(dtype=bool)].copy()
    out["source"] = "building"
    out.index = pd.Index(out.index.astype(str), name="candidate_id", dtype=object)
    return out


def _demand(buildings: gpd.GeoDataFrame, profile: Any) -> gpd.GeoDataFrame:
    if "households" not in buildings.columns:
        raise InputError("buildings have no 'households' column", column="households")
    hh = pd.to_numeric(buildings["households"], errors="coerce")
    if hh.isna().any():
        from geoplan.households import estimate_households

        buildings = estimate_households(buildings, params=profile)
        hh = pd.to_numeric(buildings["households"], errors="coerce")
        if hh.isna().any():
            bad = ", ".join(str(i) for i in hh.index[hh.isna()][:5])
            warnings.warn(
                f"{int(hh.isna().sum())} buildings without a household count are left out: {bad}",
                DataQualityWarning,
                stacklevel=3,
            )
    out = buildings[[buildings.geometry.name]].copy()
    out["households"] = hh.fillna(0.0).to_numpy(dtype=np.float64)
    return out


def suggest_sites(
    network: Any,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    category: str,
    profile: Any,
    target_id: str | None = None,
    limit_m: float | None = None,
    target_share: float | None = None,
    k: int | None = None,
    method: Method = "greedy",
    category_col: str = "category",
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    gate_tolerance_m: float = 0.0,
    time_limit_s: float | None = None,
    communities: gpd.GeoDataFrame | None = None,
) -> SitingResult:
    """Recommend new sites for ``category`` on walking distances over ``network``.

    Households are those of ``buildings``; those reaching an existing facility
    of the category within the limit count as covered already. When the
    profile's coverage target is scoped to central districts (Tianjin's wet
    markets) and ``communities`` carry the ``central_district`` flag, only the
    households of central communities count toward the target, as in
    :func:`geoplan.audit.coverage.audit_coverage`; the others still get the
    sites' coverage in ``covered_after`` but weigh nothing.

    Parameters
    ----------
    network
        A :class:`geoplan.network.WalkNetwork` in the buildings' CRS.
    buildings
        Canonical buildings (``households``; missing counts are estimated with
        the profile's parameters).
    facilities
        Canonical facilities; only those of ``category`` are used.
    candidates
        Candidate sites (points or polygons), e.g. from
        :func:`candidates_from_network`, :func:`candidates_from_buildings`, or
        user parcels; the index gives the site ids.
    category
        Category id (``wet_market``, ...).
    profile
        A profile (or its name): the coverage target of ``category`` gives the
        walking limit and the target share; ``max_snap_m`` and the walking speed
        come from its parameters.
    target_id
        Use this coverage target instead of looking one up by category.
    limit_m, target_share
        Override the profile's walking limit (metres) and target share.
    k
        When given, choose the best ``k`` sites (max cover) instead of the fewest
        sites reaching the target (set cover).
    method
        ``"greedy"`` (default, city scale) or ``"exact"``.
    category_col, compounds, gates, gate_tolerance_m
        Facility category column; gated compounds and their gates for snapping.
    time_limit_s
        Exact method: time limit.
    communities
        Communities (``central_district`` flag) giving the target's scope; the
        buildings' ``community_id`` or their position assigns them.

    Returns
    -------
    SitingResult
        ``sites`` is a GeoDataFrame (candidate geometry) with ``site_id``,
        ``order``, ``added_households``, ``households_covered``,
        ``coverage_share`` and ``category``; ``covered_before``/``covered_after``
        are aligned to ``buildings.index``.

    Examples
    --------
    >>> import warnings
    >>> from geoplan.sample import make_sample_district
    >>> from geoplan.network import network_from_lines
    >>> d = make_sample_district(seed=0)
    >>> net = network_from_lines(d.streets)
    >>> cands = candidates_from_network(net)
    >>> with warnings.catch_warnings():  # the sample leaves households to estimate
    ...     warnings.simplefilter("ignore")
    ...     r = suggest_sites(net, d.buildings, d.facilities, cands, category="wet_market",
    ...                       profile="tianjin-2025", compounds=d.compounds, gates=d.gates,
    ...                       communities=d.communities)
    >>> r.parameters["scope"], f"{r.coverage_before:.1%}", f"{r.coverage_after:.1%}", r.n_sites
    ('central_district', '89.1%', '99.7%', 1)
    """
    from geoplan.profiles import load_profile

    p = load_profile(profile) if isinstance(profile, str) else profile
    need_target = limit_m is None or (target_share is None and k is None)
    t_id = None
    if need_target:
        lim, share, t_id = coverage_threshold(p, category=category, target_id=target_id)
        limit_m = lim if limit_m is None else limit_m
        target_share = share if target_share is None else target_share
    assert limit_m is not None
    max_snap_m = _number(p.parameter("max_snap_m"), "max_snap_m")
    crs = buildings.crs
    for name, frame in (("facilities", facilities), ("candidates", candidates)):
        if frame.crs is None or crs is None or not frame.crs.equals(crs):
            raise InputError(
                f"{name} CRS differs from the buildings' CRS; reproject first", column="geometry"
            )
    if category_col not in facilities.columns:
        raise InputError(f"facilities have no {category_col!r} column", column=category_col)
    demand = _demand(buildings, p)
    scope = p.target(t_id).scope if t_id is not None else "all"
    counted = np.ones(len(demand), dtype=bool)
    if scope == "central_district":
        from geoplan.audit.coverage import in_scope

        if communities is None or "central_district" not in communities.columns:
            scope = "all (no central_district flags given)"
        else:
            counted = in_scope(buildings, communities.to_crs(crs), scope)
    existing = facilities.loc[
        (facilities[category_col].astype("string") == category).fillna(False).to_numpy(dtype=bool)
    ]
    snap_kw: dict[str, Any] = {
        "max_snap_m": max_snap_m,
        "compounds": compounds,
        "gates": gates,
        "gate_tolerance_m": gate_tolerance_m,
    }
    covered0 = _covered_by_existing(network, demand, existing, limit_m=limit_m, **snap_kw)
    cov = coverage_matrix_from_network(network, demand, candidates, limit_m=limit_m, **snap_kw)
    w = np.where(counted, demand["households"].to_numpy(dtype=np.float64), 0.0)
    common: dict[str, Any] = {
        "already_covered": covered0,
        "method": method,
        "candidate_ids": candidates.index,
        "demand_index": buildings.index,
        "time_limit_s": time_limit_s,
    }
    if k is not None:
        result = max_cover(cov, w, k=k, **common)
    else:
        assert target_share is not None
        result = set_cover(cov, w, target_share=target_share, **common)
    chosen = list(result.sites.index)
    pos = candidates.index.astype(str).get_indexer(chosen)
    sites = gpd.GeoDataFrame(
        result.sites.assign(category=category),
        geometry=candidates.geometry.to_numpy()[pos] if chosen else [],
        crs=candidates.crs,
    )
    sites.index.name = "site_id"
    params: dict[str, Any] = {
        "profile": p.name,
        "target_id": t_id,
        "limit_m": float(limit_m),
        "max_snap_m": max_snap_m,
        "n_candidates": len(candidates),
        "n_existing": len(existing),
        "scope": scope,
        "buildings_counted": int(counted.sum()),
    }
    return replace(
        result, sites=sites, category=category, limit_m=float(limit_m), parameters=params
    )


# --------------------------------------------------------------------------- floor area


@dataclass(frozen=True, eq=False)
class FloorAreaCandidates:
    """Rooms that could close communities' service floor-area shortfalls.

    Attributes
    ----------
    rooms
        One row per (community, candidate), sorted by community then by how much
        of the shortfall each closes: ``community_id``, ``candidate_id``,
        ``check_id``, ``shortfall_m2``, ``floor_area_m2``, ``distance_m`` (0
        inside), ``inside``, ``closes_m2`` (``min(floor_area_m2, shortfall)``),
        ``closes_share``, ``rank``, ``remaining_m2`` (gap left after taking this
        and every better-ranked room) and ``n_communities`` (how many short
        communities list the same room: they compete for it).
    communities
        Aligned to the audit table's index: ``shortfall_m2``, ``check_id``,
        ``n_candidates``, ``available_m2``, ``remaining_gap_m2`` (shortfall no
        listed room can close).
    """

    rooms: pd.DataFrame
    communities: pd.DataFrame


def floor_area_candidates(
    table: pd.DataFrame,
    candidates: gpd.GeoDataFrame,
    *,
    max_distance_m: float,
    communities: gpd.GeoDataFrame | None = None,
    available_col: str = "available",
    floor_area_col: str = "floor_area_m2",
) -> FloorAreaCandidates:
    """List available rooms inside or next to communities short of service floor area.

    Parameters
    ----------
    table
        The floor-area audit table (``AuditResult.table``): communities with
        ``service_area_per_100_households__shortfall_m2`` or
        ``village_service_area__shortfall_m2`` above 0 are short.
    candidates
        Buildings or rooms (points or polygons) with ``available`` (bool) and
        ``floor_area_m2``; only available ones with a floor area are listed.
    max_distance_m
        How far outside a community a room may lie and still count (e.g. the
        profile's ``facility_assign_max_m``).
    communities
        Community polygons when ``table`` has no geometry.
    available_col, floor_area_col
        Column names.

    Returns
    -------
    FloorAreaCandidates

    Examples
    --------
    >>> from shapely import box, Point
    >>> t = gpd.GeoDataFrame({"service_area_per_100_households__shortfall_m2": [120.0, 0.0]},
    ...     geometry=[box(0, 0, 100, 100), box(200, 0, 300, 100)], index=["C1", "C2"],
    ...     crs=32650)
    >>> rooms = gpd.GeoDataFrame({"available": [True, True, False],
    ...     "floor_area_m2": [80.0, 200.0, 500.0]},
    ...     geometry=[Point(50, 50), Point(110, 50), Point(40, 40)], index=["r1", "r2", "r3"],
    ...     crs=32650)
    >>> out = floor_area_candidates(t, rooms, max_distance_m=30)
    >>> out.rooms[["candidate_id", "closes_m2", "remaining_m2"]].values.tolist()
    [['r2', 120.0, 0.0], ['r1', 80.0, 0.0]]
    >>> float(out.communities.loc["C1", "remaining_gap_m2"])
    0.0
    """
    if not (np.isfinite(max_distance_m) and max_distance_m >= 0):
        raise InputError("max_distance_m must be >= 0", column="max_distance_m")
    for col in (available_col, floor_area_col):
        if col not in candidates.columns:
            raise InputError(f"candidates have no {col!r} column", column=col)
    geo = table if isinstance(table, gpd.GeoDataFrame) else communities
    if geo is None:
        raise InputError("the audit table has no geometry: pass communities=")
    if geo.crs is None or candidates.crs is None or not geo.crs.equals(candidates.crs):
        raise InputError("communities and candidates must share a projected CRS", column="geometry")
    present = [c for c in _FLOOR_AREA_SHORTFALLS if c in table.columns]
    if not present:
        raise InputError(
            "the table has no floor-area shortfall column "
            f"({' or '.join(_FLOOR_AREA_SHORTFALLS)}); run audit_floor_area first"
        )
    short = pd.DataFrame(
        {c: pd.to_numeric(table[c], errors="coerce") for c in present}, index=table.index
    ).fillna(0.0)
    shortfall = short.max(axis=1)
    check = pd.Series(
        [str(c).replace("__shortfall_m2", "") for c in short.idxmax(axis=1)],
        index=short.index,
        dtype=object,
    ).where(shortfall > 0)
    area = pd.to_numeric(candidates[floor_area_col], errors="coerce")
    avail = candidates[available_col].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ok = avail & area.notna().to_numpy() & (area.fillna(0) > 0).to_numpy()
    cand = candidates.loc[ok]
    short_ids = shortfall.index[shortfall > 0]
    polys = geo.geometry.reindex(short_ids)
    rows: list[pd.DataFrame] = []
    if len(cand) and len(short_ids):
        tree = shapely.STRtree(cand.geometry.to_numpy())
        ci, ri = tree.query(polys.to_numpy(), predicate="dwithin", distance=max_distance_m)
        dist = shapely.distance(polys.to_numpy()[ci], cand.geometry.to_numpy()[ri])
        rows.append(
            pd.DataFrame(
                {
                    "community_id": np.asarray(short_ids)[ci],
                    "candidate_id": np.asarray(cand.index.astype(str))[ri],
                    "floor_area_m2": area.to_numpy(dtype=float)[ok][ri],
                    "distance_m": dist,
                }
            )
        )
    rooms = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(
            {
                "community_id": pd.Series(dtype=object),
                "candidate_id": pd.Series(dtype=object),
                "floor_area_m2": pd.Series(dtype=float),
                "distance_m": pd.Series(dtype=float),
            }
        )
    )
    rooms["inside"] = rooms["distance_m"] <= 0
    rooms["check_id"] = check.reindex(rooms["community_id"]).to_numpy(dtype=object)
    rooms["shortfall_m2"] = shortfall.reindex(rooms["community_id"]).to_numpy(dtype=float)
    rooms["closes_m2"] = np.minimum(rooms["floor_area_m2"], rooms["shortfall_m2"])
    rooms["closes_share"] = rooms["closes_m2"] / rooms["shortfall_m2"]
    rooms = rooms.sort_values(
        ["community_id", "closes_m2", "distance_m", "candidate_id"],
        ascending=[True, False, True, True],
        kind="stable",
    )
    rooms["rank"] = rooms.groupby("community_id").cumcount() + 1
    taken = rooms.groupby("community_id")["floor_area_m2"].cumsum()
    rooms["remaining_m2"] = (rooms["shortfall_m2"] - taken).clip(lower=0.0)
    rooms["n_communities"] = rooms.groupby("candidate_id")["community_id"].transform("size")
    rooms = rooms[
        [
            "community_id",
            "candidate_id",
            "check_id",
            "shortfall_m2",
            "floor_area_m2",
            "distance_m",
            "inside",
            "closes_m2",
            "closes_share",
            "rank",
            "remaining_m2",
            "n_communities",
        ]
    ].reset_index(drop=True)
    per = rooms.groupby("community_id").agg(
        n_candidates=("candidate_id", "size"), available_m2=("floor_area_m2", "sum")
    )
    summary = pd.DataFrame({"shortfall_m2": shortfall, "check_id": check}, index=table.index)
    summary["n_candidates"] = per["n_candidates"].reindex(table.index).fillna(0).astype(np.int64)
    summary["available_m2"] = per["available_m2"].reindex(table.index).fillna(0.0)
    summary["remaining_gap_m2"] = (summary["shortfall_m2"] - summary["available_m2"]).clip(lower=0)
    return FloorAreaCandidates(rooms=rooms, communities=summary)

"""The siting solvers: partial set cover and maximal covering (candidates x demand).

Exact answers by a mixed integer programme solved with HiGHS through
:func:`scipy.optimize.milp`; city-scale answers by a lazy greedy over sparse
coverage rows, with a data-dependent bound on its distance from the optimum.
``method="auto"`` (the default) solves exactly whenever HiGHS proves the optimum
within ``time_limit_s`` and falls back to the greedy beyond it; the result says
which method was used and why (``method``, ``method_reason``, ``solve_time_s``).
The solvers see only matrices and weights (spopt style); :mod:`geoplan.siting.sites`
builds the matrices from a walking network;
:mod:`geoplan.siting.result` holds what they return.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geoplan._errors import InputError
from geoplan.siting import _inputs
from geoplan.siting.result import Method, MethodReason, SitingResult, share

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from scipy.optimize import LinearConstraint

    from geoplan.siting._inputs import CoverageLike

__all__ = ["Method", "MethodReason", "SitingResult", "max_cover", "set_cover"]


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


def _highs(
    c: np.ndarray,
    cons: list[LinearConstraint],
    n_c: int,
    time_limit_s: float | None,
) -> tuple[np.ndarray | None, bool, float | None]:
    """One HiGHS run over x (binary, ``n_c``) then y (continuous): the x mask (None
    when no solution was found), whether it is proven optimal, the dual bound."""
    from scipy.optimize import Bounds, milp

    if time_limit_s is not None and time_limit_s <= 0:
        return None, False, None
    n = c.size
    options: dict[str, Any] = {"mip_rel_gap": 0.0, "presolve": True}
    if time_limit_s is not None:
        options["time_limit"] = float(time_limit_s)
    integrality = np.r_[np.ones(n_c), np.zeros(n - n_c)]
    res = milp(
        c, integrality=integrality, bounds=Bounds(0.0, 1.0), constraints=cons, options=options
    )
    dual = getattr(res, "mip_dual_bound", None)
    bound = float(dual) if dual is not None and np.isfinite(dual) else None
    x = None if res.x is None else np.asarray(res.x[:n_c] > 0.5)
    return x, res.status == 0, bound


def _milp(
    cov: sp.csr_matrix,
    w: np.ndarray,
    *,
    need: float | None,
    k: int | None,
    time_limit_s: float | None,
) -> tuple[np.ndarray | None, bool, float | None]:
    """Solve set cover (``need``) or max cover (``k``) exactly on reduced inputs.

    Variables: x (one per candidate, binary), y (one per demand group, in [0, 1],
    y <= sum of x of the candidates covering it). Max cover maximises covered
    weight with at most ``k`` sites. Set cover runs in two phases (lexicographic,
    much faster than one weighted objective): the fewest sites reaching ``need``,
    then, with that many sites, the most covered weight. ``time_limit_s`` is the
    budget of both phases together; when the second phase does not finish, the
    first phase's answer stands (the number of sites is still the minimum).

    Returns
    -------
    x, optimal, bound
        Chosen candidate mask (None when no solution was found in time), whether
        proven optimal (set cover: the number of sites), and the dual bound in
        the problem's own terms (sites for set cover, weight for max cover).
    """
    from scipy.optimize import LinearConstraint

    start = time.perf_counter()
    n_c, n_d = cov.shape
    total = float(w.sum())
    a = sp.csr_matrix(cov, dtype=np.float64)
    # y_d - sum_j A[j, d] x_j <= 0
    link = sp.hstack([-a.T.tocsr(), sp.identity(n_d, format="csr")], format="csr")
    count_row = sp.csr_matrix(np.r_[np.ones(n_c), np.zeros(n_d)][None, :])
    weight_obj = np.concatenate([np.zeros(n_c), -w / total])
    if need is None:
        assert k is not None
        cons = [
            LinearConstraint(link, -np.inf, 0.0),
            LinearConstraint(count_row, -np.inf, float(k)),
        ]
        x, optimal, dual = _highs(weight_obj, cons, n_c, time_limit_s)
        return x, optimal, None if dual is None else -dual * total
    reach = sp.csr_matrix(np.r_[np.zeros(n_c), w][None, :])
    cons = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(reach, need, np.inf)]
    x, optimal, dual = _highs(np.r_[np.ones(n_c), np.zeros(n_d)], cons, n_c, time_limit_s)
    bound = None if dual is None else float(math.ceil(dual - 1e-6))
    if x is None or not optimal:
        return x, optimal, bound
    n_min = int(x.sum())
    left = None if time_limit_s is None else time_limit_s - (time.perf_counter() - start)
    cons2 = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(count_row, -np.inf, n_min)]
    x2, optimal2, _ = _highs(weight_obj, cons2, n_c, left)
    if x2 is not None and optimal2 and int(x2.sum()) <= n_min:
        x = x2
    return x, True, float(n_min)


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


def _greedy_rows(
    sub: sp.csr_matrix,
    w_sub: np.ndarray,
    useful: np.ndarray,
    *,
    problem: str,
    goal: float,
    k: int | None,
    tol: float,
) -> tuple[list[int], list[float], bool, float | None]:
    """Lazy greedy on the reduced problem: rows (of the full matrix), gains,
    whether its own bound proves it optimal, and that bound."""
    picked, gains, lower = _lazy_greedy(
        sub, w_sub, np.zeros(w_sub.size, dtype=bool), need=goal, k=k
    )
    rows = [int(useful[j]) for j in picked]
    if problem == "set_cover":
        bound = float(math.ceil(lower - 1e-9))
        return rows, gains, bound >= len(rows), bound
    # Upper bound (Minoux): f(S) + the k largest marginal gains w.r.t. S.
    w_left = w_sub.copy()
    for j in picked:
        w_left[sub.indices[sub.indptr[j] : sub.indptr[j + 1]]] = 0.0
    rest = np.sort(np.asarray(sub @ w_left).ravel())[::-1][: k or 0]
    upper = float(sum(gains) + rest.sum())
    return rows, gains, upper <= sum(gains) + tol, upper


def _exact_rows(
    sub: sp.csr_matrix,
    w_sub: np.ndarray,
    useful: np.ndarray,
    *,
    problem: str,
    goal: float,
    k: int | None,
    time_limit_s: float | None,
) -> tuple[list[int], list[float], bool, float | None] | None:
    """HiGHS on the reduced problem: rows ordered by gain, gains, optimal, bound;
    None when no solution was found within ``time_limit_s``."""
    agg, agg_w = _aggregate_columns(sub, w_sub)
    x, optimal, bound = _milp(
        agg,
        agg_w,
        need=goal if problem == "set_cover" else None,
        k=k,
        time_limit_s=time_limit_s,
    )
    if x is None:
        return None
    order, gains = _order_by_gain(sub, w_sub, np.zeros(w_sub.size, dtype=bool), np.flatnonzero(x))
    keep = [i for i, g in enumerate(gains) if g > 0]  # drop sites that add nothing
    return [int(useful[order[i]]) for i in keep], [gains[i] for i in keep], optimal, bound


def _solve(
    coverage: CoverageLike,
    weights: ArrayLike,
    *,
    problem: str,
    target_share: float | None,
    k: int | None,
    already_covered: ArrayLike | None,
    method: str,
    candidate_ids: Sequence[object] | pd.Index | None,
    demand_index: pd.Index | None,
    time_limit_s: float | None,
) -> SitingResult:
    _inputs.check_method(method, time_limit_s)
    cov = _inputs.as_coverage(coverage)
    n_c, n_d = cov.shape
    w = _inputs.weights(weights, n_d)
    covered0 = _inputs.mask(already_covered, n_d, "already_covered")
    ids = _inputs.ids(candidate_ids, n_c)
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
                f"covers {share(before + reachable_w, total):.1%} of households"
            )
    optimal = False
    bound: float | None = None
    used, reason = ("exact" if method == "auto" else method), "requested"
    if method == "auto":
        reason = "solved_in_time"
    start = time.perf_counter()
    if sub.shape[0] == 0 or (problem == "set_cover" and goal <= tol) or k == 0:
        rows: list[int] = []
        gains: list[float] = []
        optimal = True
        bound = 0.0
    else:
        exact: tuple[list[int], list[float], bool, float | None] | None = None
        if method != "greedy":
            exact = _exact_rows(
                sub, w_sub, useful, problem=problem, goal=goal, k=k, time_limit_s=time_limit_s
            )
            if exact is None and method == "exact":
                within = "" if time_limit_s is None else f" within {time_limit_s:g} s"
                raise InputError(
                    f"the exact solver found no solution{within}; "
                    "allow more time or use the greedy method",
                    column="time_limit_s",
                )
            if method == "auto" and (exact is None or not exact[2]):
                exact = None  # not proven within the budget: the greedy answers
                used, reason = "greedy", "time_limit"
        if exact is not None:
            rows, gains, optimal, bound = exact
        else:
            rows, gains, optimal, bound = _greedy_rows(
                sub, w_sub, useful, problem=problem, goal=goal, k=k, tol=tol
            )
    solve_time = round(time.perf_counter() - start, 3)
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
        method=used,
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
        requested_method=method,
        method_reason=reason,
        time_limit_s=None if time_limit_s is None else float(time_limit_s),
        solve_time_s=solve_time,
    )


def set_cover(
    coverage: CoverageLike,
    weights: ArrayLike,
    *,
    target_share: float,
    already_covered: ArrayLike | None = None,
    method: Method = "auto",
    candidate_ids: Sequence[object] | pd.Index | None = None,
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
        ``"auto"`` (default): the exact answer whenever HiGHS proves it within
        ``time_limit_s``, else the greedy one (``method_reason`` says which and
        why); ``"exact"``: HiGHS MILP (proven minimum); ``"greedy"``: lazy greedy
        (at most ``ln(n) + 1`` times the minimum, usually within one site).
    candidate_ids, demand_index
        Labels for the result (default: positions).
    time_limit_s
        Seconds the exact solver may take (None: no limit, so ``"auto"`` always
        solves exactly). ``"auto"`` falls back to the greedy when the optimum is
        not proven in time (0: at once); ``"exact"`` stops and reports the best
        answer found with its gap (``optimal`` False). :func:`suggest_sites`
        and ``geoplan site`` take it from the profile's ``siting_time_limit_s``.

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
    >>> r.method, r.method_reason
    ('exact', 'solved_in_time')
    >>> late = set_cover(cov, [100.0, 50.0, 30.0], target_share=0.8, time_limit_s=0)
    >>> late.method, late.method_reason, late.chosen
    ('greedy', 'time_limit', ('0',))
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
    coverage: CoverageLike,
    weights: ArrayLike,
    *,
    k: int,
    already_covered: ArrayLike | None = None,
    method: Method = "auto",
    candidate_ids: Sequence[object] | pd.Index | None = None,
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
        ``"auto"`` (default: exact when proven within ``time_limit_s``, else
        greedy), ``"exact"`` (HiGHS MILP) or ``"greedy"`` (lazy greedy, within
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

"""What a siting run returns: :class:`SitingResult`, its method and the reason for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

__all__ = ["Method", "MethodReason", "SitingResult", "share"]

Method = Literal["auto", "exact", "greedy"]
#: Why a result used its method (``SitingResult.method_reason``).
MethodReason = Literal["requested", "solved_in_time", "time_limit"]


@dataclass(frozen=True, eq=False)
class SitingResult:
    """What a siting run chose and what it achieves.

    Attributes
    ----------
    problem
        ``"set_cover"`` (fewest sites reaching a target share) or ``"max_cover"``
        (best ``k`` sites).
    method
        The method used: ``"exact"`` (HiGHS MILP) or ``"greedy"``.
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
    parameters
        Inputs of a network run (profile, limit, candidates, scope).
    requested_method
        The method asked for: ``"auto"``, ``"exact"`` or ``"greedy"``.
    method_reason
        Why ``method`` was used: ``"requested"`` (asked for by name),
        ``"solved_in_time"`` (auto: HiGHS proved the optimum within
        ``time_limit_s``) or ``"time_limit"`` (auto: it did not, so the greedy
        answered).
    time_limit_s
        The exact solver's time budget in seconds (None: no limit).
    solve_time_s
        Seconds spent solving (exact attempt and greedy together), rounded to
        milliseconds; the only figure that differs between identical runs.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from geoplan.siting import max_cover
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
    requested_method: str = ""
    method_reason: str = "requested"
    time_limit_s: float | None = None
    solve_time_s: float = 0.0

    @property
    def n_sites(self) -> int:
        """Number of chosen sites."""
        return len(self.chosen)

    @property
    def coverage_before(self) -> float:
        """Share of households covered by existing facilities."""
        return share(self.households_covered_before, self.households_total)

    @property
    def coverage_after(self) -> float:
        """Share of households covered with the chosen sites added."""
        return share(self.households_covered_after, self.households_total)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values: the figures and one entry per chosen site.

        Examples
        --------
        >>> import numpy as np, scipy.sparse as sp
        >>> from geoplan.siting import set_cover
        >>> r = set_cover(sp.csr_matrix(np.eye(2, dtype=bool)), np.array([1.0, 3.0]),
        ...               target_share=0.7)
        >>> r.to_dict()["sites"]
        [{'site_id': '1', 'order': 1, 'added_households': 3.0, 'coverage_share': 0.75}]
        """
        return {
            "problem": self.problem,
            "method": self.method,
            "requested_method": self.requested_method or self.method,
            "method_reason": self.method_reason,
            "time_limit_s": self.time_limit_s,
            "solve_time_s": self.solve_time_s,
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


def share(part: float, total: float) -> float:
    return float(part / total) if total > 0 else 1.0

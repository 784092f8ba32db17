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

from geoplan.siting.floor_area import FloorAreaCandidates, floor_area_candidates
from geoplan.siting.sites import (
    candidates_from_buildings,
    candidates_from_network,
    coverage_matrix_from_network,
    coverage_threshold,
    default_candidates,
    suggest_sites,
)
from geoplan.siting.solvers import Method, SitingResult, max_cover, set_cover

__all__ = [
    "FloorAreaCandidates",
    "Method",
    "SitingResult",
    "candidates_from_buildings",
    "candidates_from_network",
    "coverage_matrix_from_network",
    "coverage_threshold",
    "default_candidates",
    "floor_area_candidates",
    "max_cover",
    "set_cover",
    "suggest_sites",
]

"""The two-step floating catchment on a sparse distance matrix: weights and the two sums.

Private to :mod:`geoplan.audit.access`, which documents the method; this module
holds the arithmetic only, on plain arrays, so the tests can check it against an
independent computation.

The distance matrix is the CSR matrix :func:`geoplan.reach.reach_matrix` returns:
shape ``(n_facilities, n_buildings)``, entry ``(j, i)`` the walking distance from
building ``i`` to facility ``j``, **stored even when 0.0** (membership is the
sparsity pattern, never ``!= 0``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# the distance-decay forms (``--decay``), as the profile names them (``Target.decay``)
from geoplan.profiles._schema import DECAYS

__all__ = ["DECAYS", "GAUSSIAN_SIGMA_PER_LIMIT", "FloatingCatchment", "decay_weights", "two_step"]

#: The width of the gaussian weight as a share of the limit: sigma = D / 2, so the
#: weight falls to exp(-2) = 0.135 at the limit. Part of the form's definition (the
#: Gaussian of Dai 2010 with PySAL ``access.weights.gaussian(sigma)``), not a planning
#: threshold; ``audit_access(gaussian_sigma_share=)`` changes it.
GAUSSIAN_SIGMA_PER_LIMIT = 0.5


def decay_weights(
    d: np.ndarray, limit: np.ndarray, decay: str, *, sigma_share: float = GAUSSIAN_SIGMA_PER_LIMIT
) -> np.ndarray:
    """The weight of each distance ``d`` within its limit (``d <= limit`` assumed).

    - ``none``: 1;
    - ``linear``: ``1 - d / D`` (1 at the door, 0 at the limit; 1 when D = 0);
    - ``gaussian``: ``exp(-d**2 / (2 * sigma**2))`` with ``sigma = sigma_share * D``
      (1 at the door, ``exp(-2)`` at the limit with the default share 0.5; 1 when D = 0).

    Examples
    --------
    >>> d = np.array([0.0, 250.0, 500.0]); D = np.full(3, 500.0)
    >>> decay_weights(d, D, "linear").tolist()
    [1.0, 0.5, 0.0]
    >>> np.round(decay_weights(d, D, "gaussian"), 4).tolist()
    [1.0, 0.6065, 0.1353]
    """
    d = np.asarray(d, dtype=float)
    limit = np.broadcast_to(np.asarray(limit, dtype=float), d.shape)
    if decay == "none":
        return np.ones_like(d)
    pos = limit > 0
    if decay == "linear":
        ratio = np.divide(d, limit, out=np.zeros_like(d), where=pos)
        return np.clip(1.0 - ratio, 0.0, 1.0)
    if decay == "gaussian":
        sigma = sigma_share * limit
        z = np.divide(d, sigma, out=np.zeros_like(d), where=pos)
        return np.exp(-0.5 * z * z)
    raise ValueError(f"unknown decay {decay!r}; choose from {', '.join(DECAYS)}")


@dataclass(frozen=True, eq=False)
class FloatingCatchment:
    """The two sums of one run (arrays aligned to the facilities / the buildings)."""

    access: np.ndarray  #: A_i per building: supply per unit of demand (0 when none in reach)
    ratio: np.ndarray  #: R_j per facility: S_j over weighted demand in reach (NaN: none)
    demand_in_reach: np.ndarray  #: per facility: sum of P_k w(d_kj) over its catchment
    buildings_in_reach: np.ndarray  #: per facility: buildings within its limit (int)
    facilities_in_reach: np.ndarray  #: per building: facilities whose limit it is within (int)
    served: np.ndarray  #: per facility: True when some demand lies in its catchment


def two_step(
    dist: sp.csr_matrix,
    *,
    supply: np.ndarray,
    demand: np.ndarray,
    limits_m: np.ndarray,
    decay: str = "none",
    sigma_share: float = GAUSSIAN_SIGMA_PER_LIMIT,
) -> FloatingCatchment:
    """R_j = S_j / sum_k P_k w(d_kj) and A_i = sum_j R_j w(d_ij), both over d <= D_j.

    ``dist`` is ``(n_facilities, n_buildings)`` (see the module note); ``limits_m``
    the limit D_j of each facility (NaN: the facility serves nobody). A facility
    with no demand within its limit has R_j = NaN and adds to no building.

    Examples
    --------
    Two buildings of 10 and 30 households, one facility of 400 m2 at 100 m and
    300 m: R = 400 / 40 = 10 m2 per household, both buildings get A = 10.

    >>> m = sp.csr_matrix(np.array([[100.0, 300.0]]))
    >>> r = two_step(m, supply=np.array([400.0]), demand=np.array([10.0, 30.0]),
    ...              limits_m=np.array([500.0]))
    >>> r.access.tolist(), r.ratio.tolist()
    ([10.0, 10.0], [10.0])
    """
    n_f, n_b = dist.shape
    coo = dist.tocoo()
    rows, cols, d = coo.row, coo.col, coo.data
    lim = np.asarray(limits_m, dtype=float)[rows]
    keep = d <= lim  # NaN limits keep nothing
    rows, cols, d, lim = rows[keep], cols[keep], d[keep], lim[keep]
    w = decay_weights(d, lim, decay, sigma_share=sigma_share)
    demand = np.asarray(demand, dtype=float)
    supply = np.asarray(supply, dtype=float)
    dem = np.bincount(rows, weights=demand[cols] * w, minlength=n_f)
    served = dem > 0
    ratio = np.full(n_f, np.nan)
    ratio[served] = supply[served] / dem[served]
    r_entry = np.where(served[rows], ratio[rows], 0.0)
    access = np.bincount(cols, weights=r_entry * w, minlength=n_b)
    return FloatingCatchment(
        access=access,
        ratio=ratio,
        demand_in_reach=dem,
        buildings_in_reach=np.bincount(rows, minlength=n_f),
        facilities_in_reach=np.bincount(cols, minlength=n_b),
        served=served,
    )

"""Checks of what the siting solvers are given: coverage matrix, weights, masks, ids, method."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pandas as pd
import scipy.sparse as sp

from geoplan._errors import InputError

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["METHODS", "CoverageLike", "as_coverage", "check_method", "ids", "mask", "weights"]

#: A coverage matrix (candidates x demand): sparse, or anything 2-D numpy takes.
CoverageLike: TypeAlias = "sp.spmatrix | sp.sparray | ArrayLike"
METHODS = ("auto", "exact", "greedy")


def as_coverage(coverage: CoverageLike) -> sp.csr_matrix:
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


def weights(weights: ArrayLike, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size != n:
        raise InputError(
            f"weights has {w.size} values but the coverage matrix has {n} demand columns",
            column="households",
        )
    if not np.isfinite(w).all() or (w < 0).any():
        raise InputError("weights (households) must be finite and >= 0", column="households")
    return w


def mask(values: ArrayLike | None, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    a = np.asarray(values, dtype=bool).ravel()
    if a.size != n:
        raise InputError(f"{name} has {a.size} values, expected {n}", column=name)
    return a


def ids(candidate_ids: Sequence[object] | pd.Index | None, n: int) -> np.ndarray:
    if candidate_ids is None:
        return np.array([str(i) for i in range(n)], dtype=object)
    ids = np.array([str(i) for i in candidate_ids], dtype=object)
    if ids.size != n:
        raise InputError(f"candidate_ids has {ids.size} ids, expected {n}", column="candidate_id")
    if pd.Index(ids).has_duplicates:
        raise InputError("candidate ids must be unique", column="candidate_id")
    return ids


def check_method(method: str, time_limit_s: float | None) -> None:
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}", column="method")
    if time_limit_s is not None and (
        isinstance(time_limit_s, bool)
        or not isinstance(time_limit_s, numbers.Real)
        or not (math.isfinite(time_limit_s) and time_limit_s >= 0)
    ):
        raise InputError(
            f"time_limit_s must be a number of seconds >= 0, got {time_limit_s!r}",
            column="time_limit_s",
        )

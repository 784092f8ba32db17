"""The reach matrix by whole-graph Dijkstra passes, without spatial windows: the
reference the windowed production code is checked against (a test oracle, so it
lives with the tests, not in ``geoplan.reach``)."""

from __future__ import annotations

import scipy.sparse as sp

from geoplan.network import Snapped, WalkNetwork
from geoplan.reach._augment import augment, locate
from geoplan.reach._inputs import check_limit
from geoplan.reach.matrix import _reach_global


def reach_matrix_global(
    network: WalkNetwork,
    origins_snapped: Snapped,
    sources_snapped: Snapped,
    *,
    limit_m: float,
) -> sp.csr_matrix:
    """:func:`geoplan.reach.reach_matrix` by whole-graph Dijkstra passes (no windows)."""
    check_limit(limit_m)
    aug = augment(network, sources_snapped)
    piece, off = locate(aug, network, origins_snapped)
    n_s = sources_snapped.n
    if piece.size == 0 or not (aug.doors >= 0).any():
        return sp.csr_matrix((n_s, origins_snapped.n))
    return _reach_global(aug, origins_snapped, piece, off, n_s, limit_m)

"""The walking graph with sources added, for one reach run, and the pass from its doors.

Edges that carry sources' access positions are split there (several positions on
one edge chained by offset) into virtual nodes, each source gets a door node
joined to its positions by its access legs, and the whole is written as one
reversed CSR (rows are the walk's ends) for ``scipy.sparse.csgraph.dijkstra``.
Origins are not added: :func:`locate` finds the piece each one lies on.
:func:`run` is the multi-source ``min_only`` pass from a set of doors that
:mod:`geoplan.reach.nearest` and :mod:`geoplan.reach.areas` share. Private to
:mod:`geoplan.reach`; its names are public to the package's modules only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from geoplan.network import Snapped, WalkNetwork, csr_from_edges

__all__ = [
    "CELL_BUDGET",
    "Augmented",
    "augment",
    "locate",
    "row_dist",
    "run",
    "source_point",
]

# dense cells (float64) one chunk of single-source Dijkstra rows may allocate
CELL_BUDGET = 20_000_000


@dataclass(frozen=True, eq=False)
class Augmented:
    """The network with the sources' positions as extra nodes, reversed for reach-to-source.

    Pieces: every unsplit edge is one piece; a split edge is cut at its virtual
    positions into a chain of pieces. Only the cut pieces are stored (``cut_*``:
    the piece ending at each virtual position, then the last piece of each split
    edge); the full piece arrays ``seg_*`` (whole edges first, then the cut pieces)
    are built on first use, since on a city network they are seven arrays of
    millions of entries that the coverage query never needs.
    """

    net: WalkNetwork
    csr_rev: sp.csr_matrix
    n_nodes: int
    doors: np.ndarray  # per source point: door node, -1 if unreachable
    first_door: int  # graph node of the first door; doors are the last nodes
    door_point: np.ndarray  # per door (node - first_door): its source point position
    split_edge: np.ndarray  # sorted unique virtual positions: edge, offset
    split_off: np.ndarray
    split_edges: np.ndarray  # sorted unique split edges (one last piece each)
    cut_a: np.ndarray
    cut_b: np.ndarray
    cut_edge: np.ndarray
    cut_start: np.ndarray
    cut_end: np.ndarray
    cut_oneway: np.ndarray

    @functools.cached_property
    def whole(self) -> np.ndarray:
        """The unsplit edges, in order (pieces ``0 .. whole.size - 1``)."""
        split = np.zeros(self.net.n_edges, dtype=bool)
        split[self.split_edges] = True
        return np.flatnonzero(~split)

    def _pieces(self, of_edges: np.ndarray, cut: np.ndarray) -> np.ndarray:
        return np.concatenate([of_edges[self.whole], cut])

    @functools.cached_property
    def seg_a(self) -> np.ndarray:
        return self._pieces(self.net.u.astype(np.int64), self.cut_a)

    @functools.cached_property
    def seg_b(self) -> np.ndarray:
        return self._pieces(self.net.v.astype(np.int64), self.cut_b)

    @functools.cached_property
    def seg_edge(self) -> np.ndarray:
        return np.concatenate([self.whole, self.cut_edge])

    @functools.cached_property
    def seg_start(self) -> np.ndarray:
        return np.concatenate([np.zeros(self.whole.size), self.cut_start])

    @functools.cached_property
    def seg_end(self) -> np.ndarray:
        return self._pieces(self.net.length_m, self.cut_end)

    @functools.cached_property
    def seg_oneway(self) -> np.ndarray:
        return self._pieces(self.net.oneway, self.cut_oneway)

    def cut_piece(self, e: np.ndarray, o: np.ndarray) -> np.ndarray:
        """The cut piece (index into ``cut_*``) holding offset ``o`` of split edge ``e``.

        A position at a virtual node belongs to the piece ending there.
        """
        nv = self.split_edge.size
        keys_e = np.concatenate([self.split_edge, e])
        keys_o = np.concatenate([self.split_off, o])
        flag = np.concatenate([np.zeros(nv, np.int8), np.ones(e.size, np.int8)])
        order = np.lexsort((flag, keys_o, keys_e))
        is_v = flag[order] == 0
        before = np.cumsum(is_v) - is_v  # virtual positions sorted before each item
        gc = np.empty(e.size, dtype=np.int64)
        gc[order[~is_v] - nv] = before[~is_v]
        nxt = np.minimum(gc, nv - 1)
        on_edge = (gc < nv) & (self.split_edge[nxt] == e)
        return np.where(on_edge, gc, nv + np.searchsorted(self.split_edges, e))

    def is_split(self, e: np.ndarray) -> np.ndarray:
        """Whether each edge in ``e`` is split."""
        if self.split_edges.size == 0:
            return np.zeros(e.shape, dtype=bool)
        pos = np.minimum(np.searchsorted(self.split_edges, e), self.split_edges.size - 1)
        return self.split_edges[pos] == e


def augment(net: WalkNetwork, sources: Snapped) -> Augmented:
    """Split edges at the sources' access positions; add one door node per source.

    Targets (origins) are not added as nodes: :func:`locate` finds the piece
    each one lies on, which is exact because no node lies inside a piece.
    """
    n = net.n_nodes
    edges = sources.access_edge.astype(np.int64)
    length = net.length_m[edges]
    offs = np.clip(sources.access_offset_m, 0.0, length)
    at_u = offs <= 0.0
    at_v = ~at_u & (offs >= length)
    virt = ~(at_u | at_v)
    node = np.where(at_u, net.u[edges], net.v[edges]).astype(np.int64)
    ve, vo = edges[virt], offs[virt]
    order = np.lexsort((vo, ve))
    ve_s, vo_s = ve[order], vo[order]
    new = np.ones(ve_s.size, dtype=bool)
    new[1:] = (ve_s[1:] != ve_s[:-1]) | (vo_s[1:] != vo_s[:-1])
    rank = np.cumsum(new) - 1
    vnode = np.empty(ve.size, dtype=np.int64)
    vnode[order] = n + rank
    node[virt] = vnode
    ue, uo = ve_s[new], vo_s[new]
    uid = n + np.arange(ue.size, dtype=np.int64)
    first = np.ones(ue.size, dtype=bool)
    first[1:] = ue[1:] != ue[:-1]
    last = np.ones(ue.size, dtype=bool)
    last[:-1] = ue[1:] != ue[:-1]
    prev_node = np.where(first, net.u[ue], np.roll(uid, 1))
    prev_off = np.where(first, 0.0, np.roll(uo, 1))
    # the cut pieces: ending at each virtual position, then each split edge's last
    cut_a = np.concatenate([prev_node, uid[last]]).astype(np.int64)
    cut_b = np.concatenate([uid, net.v[ue[last]]]).astype(np.int64)
    cut_edge = np.concatenate([ue, ue[last]]).astype(np.int64)
    cut_start = np.concatenate([prev_off, uo[last]])
    cut_end = np.concatenate([uo, net.length_m[ue[last]]])
    cut_oneway = net.oneway[cut_edge]
    # doors: position -> door (walking into the facility), one per reachable source
    n_aug = n + ue.size
    doors = np.full(sources.n, -1, dtype=np.int64)
    reach = np.flatnonzero(sources.reachable)
    doors[reach] = n_aug + np.arange(reach.size)
    n_aug += reach.size
    first_door = n_aug - reach.size
    # new directed edges: pieces of split edges and door legs (they never repeat a
    # pair of the base graph, whose own edges stay: a split edge's chain has the
    # same length as the edge)
    w = cut_end - cut_start
    two = ~cut_oneway
    i = np.concatenate([cut_a, cut_b[two], node])
    j = np.concatenate([cut_b, cut_a[two], doors[sources.access_point]])
    ww = np.concatenate([w, w[two], sources.access_leg_m])
    keep = i != j
    # the reversed graph (rows are the walk's ends). The new entries never repeat a
    # pair of the base graph; csr_from_edges keeps the shorter of parallel edges.
    if "csr_reverse" in vars(net):
        # the network's reversed CSR is built (a prepared network): copy it once,
        # with the new entries appended to their rows
        extra = csr_from_edges(n_aug, j[keep], i[keep], ww[keep])
        csr_rev = _with_entries(net.csr_reverse, extra)
    else:
        csr_rev = _reversed_csr(net, n_aug, i[keep], j[keep], ww[keep])
    return Augmented(
        net=net,
        csr_rev=csr_rev,
        n_nodes=n_aug,
        doors=doors,
        first_door=first_door,
        door_point=reach,
        split_edge=ue,
        split_off=uo,
        split_edges=ue[last],
        cut_a=cut_a,
        cut_b=cut_b,
        cut_edge=cut_edge,
        cut_start=cut_start,
        cut_end=cut_end,
        cut_oneway=cut_oneway,
    )


def _reversed_csr(
    net: WalkNetwork, n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray
) -> sp.csr_matrix:
    """The reversed CSR of the network's edges plus the directed edges ``i -> j``.

    Written in one concatenation per array, in the node dtype, and not kept on
    the network: on a city network every copy is tens of MB, and fresh memory is
    what costs on a small machine. Self-loops are left out.
    """
    idx_t = np.int32 if n < np.iinfo(np.int32).max else np.int64
    u, v, length = net.u, net.v, net.length_m
    fwd = u != v
    back = fwd & ~net.oneway
    whole_f = bool(fwd.all())
    whole_b = whole_f and bool(back.all())
    return csr_from_edges(
        n,
        np.concatenate(
            [v if whole_f else v[fwd], u if whole_b else u[back], j.astype(idx_t)]
        ).astype(idx_t, copy=False),
        np.concatenate(
            [u if whole_f else u[fwd], v if whole_b else v[back], i.astype(idx_t)]
        ).astype(idx_t, copy=False),
        np.concatenate(
            [length if whole_f else length[fwd], length if whole_b else length[back], w]
        ),
    )


def _with_entries(base: sp.csr_matrix, extra: sp.csr_matrix) -> sp.csr_matrix:
    """``base`` grown to the shape of ``extra`` with ``extra``'s entries added to it.

    No ``(row, col)`` pair may be in both. Unlike scipy's ``base + extra``, explicit
    zero weights (zero-length edges and legs) stay edges; and the base arrays are
    copied once, each new entry going to the end of its row.
    """
    n, m = base.shape[0], extra.shape[0]
    counts = np.diff(extra.indptr)
    rows = np.repeat(np.arange(m, dtype=np.int64), counts)
    end = np.empty(m + 1, dtype=np.int64)  # base's indptr, padded with empty rows
    end[: n + 1] = base.indptr
    end[n + 1 :] = base.indptr[-1]
    at = end[rows + 1]
    idx_t = np.int32 if end[-1] + extra.nnz < np.iinfo(np.int32).max else np.int64
    indices = np.insert(base.indices.astype(idx_t, copy=False), at, extra.indices)
    data = np.insert(base.data, at, extra.data)
    indptr = end
    indptr[1:] += np.cumsum(counts)
    return sp.csr_matrix((data, indices, indptr.astype(idx_t, copy=False)), shape=(m, m))


def locate(aug: Augmented, net: WalkNetwork, targets: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """The piece each access row of ``targets`` lies on, and its offset on the edge."""
    e = targets.access_edge.astype(np.int64)
    o = np.clip(targets.access_offset_m, 0.0, net.length_m[e])
    # an unsplit edge is piece number "its rank among the unsplit edges"
    piece = e - np.searchsorted(aug.split_edges, e)
    sp_ = np.flatnonzero(aug.is_split(e))
    if sp_.size:
        n_whole = aug.net.n_edges - aug.split_edges.size
        piece[sp_] = n_whole + aug.cut_piece(e[sp_], o[sp_])
    return piece, o


def row_dist(
    aug: Augmented, piece: np.ndarray, off: np.ndarray, dist: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each located row to the nearest source and the piece end used.

    ``dist`` is per node (1-D) or per (source, node) (2-D).
    """
    a, b = aug.seg_a[piece], aug.seg_b[piece]
    to_a = off - aug.seg_start[piece]
    to_b = aug.seg_end[piece] - off
    via_a = dist[..., a] + np.where(aug.seg_oneway[piece], np.inf, to_a)
    via_b = dist[..., b] + to_b
    use_b = via_b < via_a
    return np.where(use_b, via_b, via_a), np.where(use_b, b, a)


def run(aug: Augmented, doors: np.ndarray, limit_m: float) -> tuple[np.ndarray, np.ndarray]:
    """min_only Dijkstra from doors: (distance per node, door node per node, -1 if none).

    Map door nodes to source points with :func:`source_point`.
    """
    if doors.size == 0:
        return np.full(aug.n_nodes, np.inf), np.full(aug.n_nodes, -1, dtype=np.int32)
    dist, _, src_node = dijkstra(
        aug.csr_rev,
        directed=True,
        indices=doors,
        min_only=True,
        limit=limit_m,
        return_predecessors=True,
    )
    return dist, src_node


def source_point(aug: Augmented, src_node: np.ndarray) -> np.ndarray:
    """Source point position of each door node in ``src_node`` (-1 stays -1).

    Mapped only where asked (the rows' piece ends), not over the whole graph.
    """
    return np.where(src_node >= 0, aug.door_point[np.maximum(src_node - aug.first_door, 0)], -1)

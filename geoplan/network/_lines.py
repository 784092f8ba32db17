"""Edge geometries kept as flat arrays until something reads them.

:class:`EdgeLines` is what a network file holds instead of shapely objects;
:class:`GeometryField` is the descriptor behind :attr:`WalkNetwork.geometry` that
builds the LineStrings on first use (seconds at a city's size) and keeps them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import numpy as np
import shapely
from numpy.typing import ArrayLike

from geoplan.network._segment_grid import SegmentGrid

if TYPE_CHECKING:
    from geoplan.network.graph import WalkNetwork

__all__ = ["EdgeLines", "GeometryField"]


@dataclass(frozen=True, eq=False)
class EdgeLines:
    """Edge geometries as flat arrays: what a network file holds instead of shapely objects.

    ``coords`` holds the 2-D vertices of every edge, edge after edge (as
    :func:`shapely.get_coordinates` returns them, which is also the snapping
    grid's ``coords``); edge ``e`` owns rows ``start[e]:start[e + 1]`` and is the
    LineString through them. The edges ``wkb_edge`` (anything else: None, empty,
    3-D or measured lines, non-finite coordinates, MultiLineStrings, other
    types) are kept as WKB instead, ``wkb[wkb_offsets[k]:wkb_offsets[k + 1]]``
    for ``wkb_edge[k]`` (no bytes: None).
    """

    coords: np.ndarray
    start: np.ndarray
    wkb_edge: np.ndarray
    wkb: np.ndarray
    wkb_offsets: np.ndarray

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return int(self.start.size) - 1

    @classmethod
    def of_geometry(cls, geometry: np.ndarray, grid: SegmentGrid) -> EdgeLines:
        """The flat form of ``geometry``; the vertices are the grid's when it has them."""
        n = int(geometry.size)
        if grid.complete:
            coords, start = grid.coords, grid.edge_v
            counts = np.diff(start)
        else:
            coords, owner = shapely.get_coordinates(geometry, return_index=True)
            counts = np.bincount(owner, minlength=n)
            start = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(counts, out=start[1:])
        plain = (shapely.get_type_id(geometry) == 1) & (counts >= 2) & ~shapely.has_z(geometry)
        has_m = getattr(shapely, "has_m", None)  # shapely >= 2.1
        if has_m is not None:
            plain &= ~has_m(geometry)
        bad = ~np.isfinite(coords).all(axis=1)
        if bad.any():
            plain[np.repeat(np.arange(n), counts)[bad]] = False
        wkb_edge = np.flatnonzero(~plain)
        blobs = [b"" if b is None else b for b in shapely.to_wkb(geometry[wkb_edge]).tolist()]
        offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in blobs], out=offsets[1:])
        wkb = np.frombuffer(b"".join(blobs), dtype=np.uint8)
        return cls(coords, start, wkb_edge, wkb, offsets)

    def check(self) -> None:
        """ValueError when the arrays do not describe edge lines (sizes, ends, order)."""
        c, st, we, off = self.coords, self.start, self.wkb_edge, self.wkb_offsets
        n = st.size - 1
        fine = (
            c.ndim == 2
            and c.shape[1] == 2
            and c.dtype == np.float64
            and st.ndim == 1
            and n >= 0
            and st.dtype.kind in "iu"
            and int(st[0]) == 0
            and int(st[-1]) == c.shape[0]
            and bool((np.diff(st) >= 0).all())
            and we.ndim == 1
            and we.dtype.kind in "iu"
            and (we.size == 0 or (int(we[0]) >= 0 and int(we[-1]) < n))
            and bool((np.diff(we) > 0).all())
            and off.shape == (we.size + 1,)
            and int(off[0]) == 0
            and int(off[-1]) == self.wkb.size
            and bool((np.diff(off) >= 0).all())
        )
        if not fine:
            raise ValueError("the stored edge lines are inconsistent")

    def build(self) -> np.ndarray:
        """The object array of shapely geometries, one per edge."""
        n = self.n_edges
        out = np.empty(n, dtype=object)
        counts = np.diff(self.start)
        if self.wkb_edge.size == 0:
            if n:
                shapely.linestrings(self.coords, indices=np.repeat(np.arange(n), counts), out=out)
            return out
        plain = np.ones(n, dtype=bool)
        plain[self.wkb_edge] = False
        if plain.any():
            rows = np.repeat(plain, counts)
            idx = np.repeat(np.flatnonzero(plain), counts[plain])
            shapely.linestrings(self.coords[rows], indices=idx, out=out)
        blob, off = self.wkb.tobytes(), self.wkb_offsets.tolist()
        parts = np.empty(self.wkb_edge.size, dtype=object)
        parts[:] = [blob[a:b] or None for a, b in itertools.pairwise(off)]
        out[self.wkb_edge] = shapely.from_wkb(parts)
        return out


class GeometryField:
    """:attr:`WalkNetwork.geometry`: the edge geometries, built on first use if lazy.

    A network read from a file is constructed with :class:`EdgeLines` for its
    geometry; the shapely objects (seconds at a city's size) are made when first
    read, then kept. Any other value is stored as an object array.
    """

    def __get__(self, net: WalkNetwork | None, owner: type | None = None) -> np.ndarray:
        if net is None:  # on the class: no default (a required field for dataclasses)
            raise AttributeError("geometry")
        value = net.__dict__["_geometry"]
        if isinstance(value, EdgeLines):
            value = value.build()
            net.__dict__["_geometry"] = value
        return cast(np.ndarray, value)

    def __set__(self, net: WalkNetwork, value: ArrayLike | EdgeLines) -> None:
        if not isinstance(value, EdgeLines):
            value = np.asarray(value, dtype=object)
        net.__dict__["_geometry"] = value

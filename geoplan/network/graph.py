"""The walking network itself: :class:`WalkNetwork`, its CSR matrices, components, save/load.

A :class:`WalkNetwork` holds nodes (OSM ids, x/y in metres) and edges (node
indices ``u``/``v``, ``length_m``, a LineString from ``u`` to ``v``, a
``oneway`` flag for the rare ``oneway:foot`` ways) in a projected metric CRS.
Its :attr:`WalkNetwork.csr` is a directed scipy CSR matrix with both walking
directions, reduced to the shortest edge per node pair. :func:`load_network`
reads what :meth:`WalkNetwork.save` wrote; :func:`describe_network` gives the
counts a user wants to see. Building a network is :mod:`geoplan.network.build`,
snapping points onto it :mod:`geoplan.network.snap`.

A saved network (format 2) is an uncompressed ``.npz`` that :func:`load_network`
memory-maps (:mod:`geoplan.network._netfile`): the edge geometries are stored as
flat coordinates (:class:`EdgeLines`) and become shapely LineStrings only when
something reads :attr:`WalkNetwork.geometry`; the snapping grid and the
components are stored too, so snapping after a load builds nothing.
"""

from __future__ import annotations

import functools
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from numpy.typing import DTypeLike
from scipy.sparse.csgraph import connected_components

from geoplan._errors import InputError
from geoplan.network._lines import EdgeLines, GeometryField
from geoplan.network._netfile import read_npz, write_npz
from geoplan.network._segment_grid import (
    SegmentGrid,
    grid_arrays,
    grid_from_arrays,
    segment_grid,
    segment_grid_of_lines,
)

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["WalkNetwork", "csr_from_edges", "describe_network", "load_network"]

# 1: compressed, WKB geometries (read, no longer written); 2: stored members for a
# memory map, flat edge coordinates, the snapping grid and the components
_FORMAT_VERSION = 2


def csr_from_edges(n: int, i: np.ndarray, j: np.ndarray, w: np.ndarray) -> sp.csr_matrix:
    """A directed CSR matrix keeping the **minimum** weight per ``(i, j)`` pair.

    scipy constructors add duplicate entries (two parallel edges of 5 m and 3 m
    would become one of 8 m); this keeps 3 m. Zero weights stay explicit edges.

    Examples
    --------
    >>> m = csr_from_edges(2, np.array([0, 0]), np.array([1, 1]), np.array([5.0, 3.0]))
    >>> float(m[0, 1])
    3.0
    """
    i, j = np.asarray(i), np.asarray(j)
    w = np.asarray(w, dtype=np.float64)
    if i.size and n < np.iinfo(np.int32).max:
        # scipy's COO -> CSR is a compiled counting sort that *adds* duplicates: when
        # no (i, j) pair repeats (nnz unchanged, the usual case) the sums are the
        # weights themselves, ten times faster than sorting the keys below
        m = sp.coo_matrix(
            (w, (i.astype(np.int32, copy=False), j.astype(np.int32, copy=False))),
            shape=(n, n),
        ).tocsr()
        if m.nnz == i.size:
            m.sort_indices()
            return m
    i = i.astype(np.int64, copy=False)
    j = j.astype(np.int64, copy=False)
    nn = np.int64(max(n, 1))
    key = i * nn + j
    # one stable sort by (row, col), the minimum per run of equal keys, and the CSR
    # arrays written directly: no COO round trip, no second sort
    order = np.argsort(key, kind="stable")
    key_s, w_s = key[order], w[order]
    if key_s.size:
        start = np.flatnonzero(np.r_[True, key_s[1:] != key_s[:-1]])
        w_min = np.minimum.reduceat(w_s, start)
        key_u = key_s[start]
    else:
        w_min, key_u = w_s, key_s
    rows = key_u // nn
    cols = key_u - rows * nn
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    m = sp.csr_matrix((w_min, cols, indptr), shape=(n, n))
    m.has_sorted_indices = True
    return m


@dataclass(frozen=True, eq=False, kw_only=True)
class WalkNetwork:
    """A walking network held as arrays (metric CRS).

    Attributes
    ----------
    node_id
        int64 node ids (OSM node ids, or sequential ids for line layers).
    x, y
        float64 node coordinates in metres.
    u, v
        int32 node indices of each edge; the geometry runs from ``u`` to ``v``.
    length_m
        float64 edge lengths (metres).
    geometry
        object array of shapely LineStrings (of a loaded network: made on first
        use).
    oneway
        bool: pedestrians may walk only from ``u`` to ``v`` (``oneway:foot``).
    crs
        the projected CRS.
    way_id
        int64 source id per edge: the OSM way id, the row position of a line
        layer, or -1.
    highway
        object array of ``highway`` values (or None).

    Examples
    --------
    >>> from geoplan.network import network_from_lines
    >>> from shapely import LineString
    >>> lines = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (100, 0)]),
    ...     LineString([(100, 0), (100, 50)])], crs=32650)
    >>> net = network_from_lines(lines)
    >>> net.n_nodes, net.n_edges, float(net.length_m.sum())
    (3, 2, 150.0)
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    length_m: np.ndarray
    if TYPE_CHECKING:  # to type checkers a plain required field, as it always was
        geometry: np.ndarray
    else:
        geometry: GeometryField = GeometryField()
    oneway: np.ndarray
    crs: pyproj.CRS
    way_id: np.ndarray
    highway: np.ndarray

    def __post_init__(self) -> None:
        def fix(name: str, dtype: DTypeLike) -> None:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))

        for name, dtype in (
            ("node_id", np.int64),
            ("x", np.float64),
            ("y", np.float64),
            ("u", np.int32),
            ("v", np.int32),
            ("length_m", np.float64),
            ("oneway", bool),
            ("way_id", np.int64),
            ("highway", object),
        ):
            fix(name, dtype)
        object.__setattr__(self, "crs", pyproj.CRS(self.crs))
        n, e = self.node_id.size, self.u.size
        if self.x.size != n or self.y.size != n:
            raise InputError("node arrays differ in length")
        geometry = self.__dict__["_geometry"]  # (not built here when lazy)
        n_geometry = geometry.n_edges if isinstance(geometry, EdgeLines) else geometry.size
        for name in ("v", "length_m", "geometry", "oneway", "way_id", "highway"):
            size = n_geometry if name == "geometry" else getattr(self, name).size
            if size != e:
                raise InputError(f"edge array {name} differs in length from u")
        if e and (min(self.u.min(), self.v.min()) < 0 or max(self.u.max(), self.v.max()) >= n):
            raise InputError("edge node index out of range")
        if e and not (np.isfinite(self.length_m).all() and (self.length_m >= 0).all()):
            raise InputError("edge lengths must be finite and >= 0", column="length_m")

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_id.size)

    @property
    def n_edges(self) -> int:
        """Number of edges (each walkable both ways unless ``oneway``)."""
        return int(self.u.size)

    def directed_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(i, j, w)`` of every walkable direction, self-loops left out."""
        # the node dtype (int32) is kept and copies are avoided where nothing is
        # left out: on a city network these arrays are tens of MB each
        if self.oneway.any():
            two = ~self.oneway
            i = np.concatenate([self.u, self.v[two]])
            j = np.concatenate([self.v, self.u[two]])
            w = np.concatenate([self.length_m, self.length_m[two]])
        else:
            i = np.concatenate([self.u, self.v])
            j = np.concatenate([self.v, self.u])
            w = np.concatenate([self.length_m, self.length_m])
        keep = i != j
        if keep.all():
            return i, j, w
        return i[keep], j[keep], w[keep]

    @functools.cached_property
    def csr(self) -> sp.csr_matrix:
        """Directed CSR (n_nodes x n_nodes) of walking directions, min per pair."""
        i, j, w = self.directed_edges()
        return csr_from_edges(self.n_nodes, i, j, w)

    @functools.cached_property
    def csr_reverse(self) -> sp.csr_matrix:
        """The transposed CSR (walking directions reversed); ``csr`` itself when symmetric."""
        if not self.oneway.any():
            return self.csr
        return self.csr.T.tocsr()

    @functools.cached_property
    def _components(self) -> tuple[np.ndarray, np.ndarray]:
        # topology only: no need to build (and dedupe) the weighted matrix
        g = sp.coo_matrix(
            (np.ones(self.n_edges, dtype=np.int8), (self.u, self.v)),
            shape=(self.n_nodes, self.n_nodes),
        )
        _, raw = connected_components(g, directed=False)
        uniq, inv, counts = np.unique(raw, return_inverse=True, return_counts=True)
        rank = np.empty(uniq.size, dtype=np.int32)
        rank[np.argsort(-counts, kind="stable")] = np.arange(uniq.size, dtype=np.int32)
        label = rank[inv]
        return label, counts[inv].astype(np.int64)

    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """Weakly connected component per node: ``(label, size)``.

        Labels are ordered by size: 0 is the largest component. ``size`` is the
        node count of each node's component.
        """
        label, size = self._components
        return label.copy(), size.copy()

    def component_sizes(self) -> np.ndarray:
        """Node count of each weakly connected component, largest first.

        Its length is the number of connected pieces of the network (the
        per-node ``size`` of :meth:`components` has one entry per node).

        Examples
        --------
        >>> from geoplan.network import network_from_lines
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
        ...     LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 50)]),
        ...     LineString([(500, 0), (600, 0)])], crs=32650))
        >>> net.component_sizes().tolist()
        [3, 2]
        """
        label, size = self._components
        if label.size == 0:
            return np.zeros(0, dtype=np.int64)
        out = np.zeros(int(label.max()) + 1, dtype=np.int64)
        out[label] = size  # every node of a component carries the same size
        return out

    def prepare(self) -> WalkNetwork:
        """Build what every walking audit on this network uses, once, and return it.

        The snapping index, the connected components and the reversed CSR are
        built on first use anyway and kept on the network. Preparing pays for them
        up front: worth it when one network serves several audits (profiles,
        developments, siting runs); a single audit on a fresh network builds them
        more frugally itself (the reversed CSR then only as part of its own
        graph). Returns the network itself.

        Examples
        --------
        >>> from geoplan.network import network_from_lines
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650)).prepare()
        >>> net.csr_reverse.nnz
        2
        """
        _ = self._segments, self._components, self.csr_reverse
        return self

    def edge_coordinates(self) -> np.ndarray:
        """``(n, 2)`` x, y of every edge vertex, edge after edge.

        As ``shapely.get_coordinates(net.geometry)`` gives them, but a network
        loaded from a file answers from its stored vertices without building its
        geometries (bounds, extents: no shapely objects needed).

        Examples
        --------
        >>> from geoplan.network import network_from_lines
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (3, 4), (6, 4)])], crs=32650))
        >>> net.edge_coordinates().tolist()
        [[0.0, 0.0], [3.0, 4.0], [6.0, 4.0]]
        """
        lines = self.__dict__["_geometry"]
        if isinstance(lines, EdgeLines):
            return lines.coords.copy()
        return shapely.get_coordinates(self.geometry)

    @functools.cached_property
    def edge_tree(self) -> shapely.STRtree:
        """STRtree over the edge geometries (built once)."""
        return shapely.STRtree(self.geometry)

    @functools.cached_property
    def _segments(self) -> SegmentGrid:
        # straight segments of every edge, binned into a uniform grid (see nearest_edges)
        return self._segment_grid()

    def _segment_grid(self) -> SegmentGrid:
        """A new :class:`SegmentGrid` of the edges; of flat edge lines, without shapely."""
        lines = self.__dict__["_geometry"]
        if isinstance(lines, EdgeLines) and lines.wkb_edge.size == 0:
            return segment_grid_of_lines(lines.coords, lines.start)
        return segment_grid(self.geometry)

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as points, indexed by ``node_id``, with ``component``, ``component_nodes``."""
        label, size = self._components
        return gpd.GeoDataFrame(
            {"component": label, "component_nodes": size},
            geometry=shapely.points(self.x, self.y),
            index=pd.Index(self.node_id, name="node_id"),
            crs=self.crs,
        )

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as LineStrings, indexed by edge position ``edge``."""
        return gpd.GeoDataFrame(
            {
                "u": self.node_id[self.u],
                "v": self.node_id[self.v],
                "length_m": self.length_m,
                "oneway": self.oneway,
                "way_id": self.way_id,
                "highway": pd.Series(self.highway, dtype=object),
            },
            geometry=self.geometry,
            index=pd.RangeIndex(self.n_edges, name="edge"),
            crs=self.crs,
        )

    def to_networkx(self) -> nx.MultiDiGraph:
        """An osmnx-style MultiDiGraph (x, y, length, geometry; both directions).

        Examples
        --------
        >>> from geoplan.network import network_from_lines
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (3, 4)])], crs=32650))
        >>> G = net.to_networkx()
        >>> G.number_of_edges(), G.graph["crs"].to_epsg()
        (2, 32650)
        """
        import networkx as nx

        G = nx.MultiDiGraph(crs=self.crs)
        ids = self.node_id.tolist()
        G.add_nodes_from(
            (nid, {"x": float(x), "y": float(y)})
            for nid, x, y in zip(ids, self.x.tolist(), self.y.tolist(), strict=True)
        )
        rev = shapely.reverse(self.geometry)
        for e in range(self.n_edges):
            a, b = ids[self.u[e]], ids[self.v[e]]
            attrs = {
                "length": float(self.length_m[e]),
                "geometry": self.geometry[e],
                "osmid": int(self.way_id[e]),
                "highway": self.highway[e],
                "oneway": bool(self.oneway[e]),
                "reversed": False,
            }
            G.add_edge(a, b, **attrs)
            if not self.oneway[e]:
                G.add_edge(b, a, **{**attrs, "geometry": rev[e], "reversed": True})
        return G

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to a reusable ``.npz`` file, atomically; :func:`load_network` reads it.

        Format 2: uncompressed arrays (memory-mapped when loaded), the edge
        geometries as flat coordinates, the snapping grid and the components
        (built here if not yet on the network). A network loaded from a file is
        saved without building its geometries.

        Examples
        --------
        >>> from geoplan.network import network_from_lines
        >>> import tempfile, pathlib
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (3, 4)])], crs=32650))
        >>> p = net.save(pathlib.Path(tempfile.mkdtemp()) / "walk.npz")
        >>> load_network(p).n_edges
        1
        """
        from geoplan.io.write import atomic_path

        # the grid is not kept on the network when saving built it (memory as before)
        grid = self.__dict__.get("_segments")
        if grid is None:
            grid = self._segment_grid()
        lines = self.__dict__["_geometry"]
        if not isinstance(lines, EdgeLines):
            lines = EdgeLines.of_geometry(self.geometry, grid)
        label, size = self._components
        # highway as codes into its distinct values (-1: None), as str like format 1
        highway = np.array([None if h is None else str(h) for h in self.highway.tolist()],
                           dtype=object)  # fmt: skip
        codes, values = pd.factorize(highway)
        members = {
            "format_version": np.array(_FORMAT_VERSION),
            "crs_wkt": np.array(self.crs.to_wkt()),
            "node_id": self.node_id,
            "x": self.x,
            "y": self.y,
            "u": self.u,
            "v": self.v,
            "length_m": self.length_m,
            "oneway": self.oneway,
            "way_id": self.way_id,
            "highway_codes": codes.astype(np.int32),
            "highway_values": np.array([str(h) for h in values], dtype=str),
            "line_coords": lines.coords,
            "line_start": lines.start,
            "wkb_edge": lines.wkb_edge,
            "wkb": lines.wkb,
            "wkb_offsets": lines.wkb_offsets,
            "component": label,
            "component_nodes": size,
        }
        members.update((f"grid_{k}", a) for k, a in grid_arrays(grid).items())
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            write_npz(fh, members)
        return Path(path)

    def save_gpkg(self, path: str | os.PathLike[str]) -> Path:
        """Write ``edges`` and ``nodes`` layers to a GeoPackage for viewing, atomically."""
        from geoplan.io.write import atomic_path

        with atomic_path(path) as tmp:
            # GDAL wants a .gpkg extension: write beside the temporary name, then move
            gpkg = tmp.with_name(tmp.name + ".gpkg")
            try:
                for name, gdf in (("edges", self.edges_gdf()), ("nodes", self.nodes_gdf())):
                    out = gdf.reset_index()
                    if "highway" in out.columns:
                        out["highway"] = out["highway"].astype("string")
                    out.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
                os.replace(gpkg, tmp)
            finally:
                if gpkg.exists():
                    gpkg.unlink()
        return Path(path)


def load_network(path: str | os.PathLike[str]) -> WalkNetwork:
    """Load a network written by :meth:`WalkNetwork.save`.

    A file of format 2 is memory-mapped: the arrays are read from disk as they
    are used (copy-on-write: changing one never changes the file), the edge
    geometries are built when first read, and the snapping grid and components
    come with it. Replacing the file (``save`` renames a new file over it) leaves
    a network already loaded intact. Files of format 1 (geoplan before format 2:
    compressed, WKB geometries) are read whole, as before. Anything else is an
    :class:`InputError` naming the file.

    Examples
    --------
    >>> from geoplan.network import network_from_lines
    >>> import pathlib, tempfile
    >>> from shapely import LineString
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (30, 40)])], crs=32650))
    >>> again = load_network(net.save(pathlib.Path(tempfile.mkdtemp()) / "walk.npz"))
    >>> again.n_nodes, float(again.length_m[0]), again.crs.to_epsg()
    (2, 50.0, 32650)
    """
    path = Path(path)
    try:
        data = read_npz(path)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a geoplan network file: {exc}", file=str(path)) from exc
    version = data.get("format_version")
    if version is None or version.shape != () or version.dtype.kind not in "iu":
        raise InputError("not a geoplan network file (format version)", file=str(path))
    if int(version) not in (1, _FORMAT_VERSION):
        raise InputError(
            f"not a geoplan network file (format version {int(version)}; this geoplan "
            f"reads 1 and {_FORMAT_VERSION})",
            file=str(path),
        )
    try:
        return _network_v1(data) if int(version) == 1 else _network_v2(data)
    except (KeyError, ValueError, IndexError) as exc:
        what = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        if isinstance(exc, InputError):
            what = exc.message
        raise InputError(f"not a geoplan network file ({what})", file=str(path)) from exc


def _network_v1(data: dict[str, np.ndarray]) -> WalkNetwork:
    """A network from the arrays of a format-1 file (WKB geometries)."""
    blob = data["wkb"].tobytes()
    off = data["wkb_offsets"]
    wkb = np.array([blob[off[k] : off[k + 1]] for k in range(off.size - 1)], dtype=object)
    highway = np.asarray(data["highway"], dtype=object)
    highway[~data["has_highway"]] = None
    return WalkNetwork(
        node_id=data["node_id"],
        x=data["x"],
        y=data["y"],
        u=data["u"],
        v=data["v"],
        length_m=data["length_m"],
        geometry=shapely.from_wkb(wkb) if wkb.size else np.zeros(0, dtype=object),
        oneway=data["oneway"],
        crs=pyproj.CRS.from_wkt(str(data["crs_wkt"])),
        way_id=data["way_id"],
        highway=highway,
    )


def _network_v2(data: dict[str, np.ndarray]) -> WalkNetwork:
    """A network from the (mapped) arrays of a format-2 file; geometries left lazy."""
    lines = EdgeLines(data["line_coords"], data["line_start"], data["wkb_edge"],
                       data["wkb"], data["wkb_offsets"])  # fmt: skip
    lines.check()
    codes, values = data["highway_codes"], data["highway_values"]
    if codes.dtype.kind not in "iu" or (
        codes.size and (int(codes.min()) < -1 or int(codes.max()) >= values.size)
    ):
        raise ValueError("highway codes out of range")
    lookup = np.empty(values.size + 1, dtype=object)  # code -1: the None at the end
    lookup[: values.size] = values.tolist()
    net = WalkNetwork(
        node_id=data["node_id"],
        x=data["x"],
        y=data["y"],
        u=data["u"],
        v=data["v"],
        length_m=data["length_m"],
        geometry=cast(np.ndarray, lines),  # made into LineStrings when first read
        oneway=data["oneway"],
        crs=pyproj.CRS.from_wkt(str(data["crs_wkt"])),
        way_id=data["way_id"],
        highway=lookup[codes],
    )
    grid = grid_from_arrays(
        {k.removeprefix("grid_"): a for k, a in data.items() if k.startswith("grid_")},
        lines.coords,
        lines.start,
    )
    label, size = data["component"], data["component_nodes"]
    if label.shape != (net.n_nodes,) or size.shape != (net.n_nodes,):
        raise ValueError("the stored components do not fit the nodes")
    # what the cached properties would build, ready (as functools.cached_property keeps it)
    net.__dict__["_segments"] = grid
    net.__dict__["_components"] = (label, size)
    return net


def describe_network(net: WalkNetwork) -> dict[str, Any]:
    """The counts a user wants to see after building or reading a network.

    Nodes, edges, total length (km, 3 decimals), the number of connected pieces,
    the node count of the largest one, and the CRS.

    Examples
    --------
    >>> from shapely import LineString
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(geometry=[
    ...     LineString([(0, 0), (100, 0)]), LineString([(500, 0), (600, 0)])], crs=32650))
    >>> stats = describe_network(net)
    >>> stats["nodes"], stats["edges"], stats["length_km"], stats["components"]
    (4, 2, 0.2, 2)
    >>> stats["largest_component_nodes"], stats["crs"]
    (2, 'EPSG:32650')
    """
    sizes = net.component_sizes()
    return {
        "nodes": int(net.n_nodes),
        "edges": int(net.n_edges),
        "length_km": round(float(net.length_m.sum()) / 1000.0, 3),
        "components": int(sizes.size),
        "largest_component_nodes": int(sizes[0]) if sizes.size else 0,
        "crs": net.crs.to_string() if net.crs is not None else None,
    }

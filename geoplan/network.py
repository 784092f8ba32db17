"""Walking networks as compact arrays, and snapping points onto their edges.

A :class:`WalkNetwork` holds nodes (OSM ids, x/y in metres) and edges (node
indices ``u``/``v``, ``length_m``, a LineString from ``u`` to ``v``, a
``oneway`` flag for the rare ``oneway:foot`` ways) in a projected metric CRS.
Its :attr:`WalkNetwork.csr` is a directed scipy CSR matrix with both walking
directions, reduced to the shortest edge per node pair.

Builders: :func:`network_from_osm` (XML, bz2, PBF; one pyosmium pass),
:func:`network_from_lines` (a GeoDataFrame of LineStrings),
:func:`network_from_networkx` (osmnx-style MultiDiGraph), :func:`load_network`.

:func:`snap_points` puts points onto the nearest **edge** (not node), records the
snap distance, refuses points farther than ``max_snap_m``, reports points that
land on small islands, and routes residents of gated compounds through their
gates. See ``docs/network.md``.
"""

from __future__ import annotations

import functools
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from geoplan._errors import DataQualityWarning, InputError
from geoplan._gates import _as_points, _gated_access
from geoplan._snap import _nearest, _segment_grid, _SegmentGrid
from geoplan.io.osm import WalkRuns, local_utm_crs, read_walk_runs

__all__ = [
    "Snapped",
    "WalkNetwork",
    "csr_from_edges",
    "load_network",
    "network_from_lines",
    "network_from_networkx",
    "network_from_osm",
    "snap_points",
]

_FORMAT_VERSION = 1


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


@dataclass(frozen=True, eq=False)
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
        object array of shapely LineStrings.
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
    geometry: np.ndarray
    oneway: np.ndarray
    crs: pyproj.CRS
    way_id: np.ndarray
    highway: np.ndarray

    def __post_init__(self) -> None:
        def fix(name: str, dtype: Any) -> None:
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=dtype))

        for name, dtype in (
            ("node_id", np.int64),
            ("x", np.float64),
            ("y", np.float64),
            ("u", np.int32),
            ("v", np.int32),
            ("length_m", np.float64),
            ("geometry", object),
            ("oneway", bool),
            ("way_id", np.int64),
            ("highway", object),
        ):
            fix(name, dtype)
        object.__setattr__(self, "crs", pyproj.CRS(self.crs))
        n, e = self.node_id.size, self.u.size
        if self.x.size != n or self.y.size != n:
            raise InputError("node arrays differ in length")
        for name in ("v", "length_m", "geometry", "oneway", "way_id", "highway"):
            if getattr(self, name).size != e:
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
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650)).prepare()
        >>> net.csr_reverse.nnz
        2
        """
        _ = self._segments, self._components, self.csr_reverse
        return self

    @functools.cached_property
    def edge_tree(self) -> shapely.STRtree:
        """STRtree over the edge geometries (built once)."""
        return shapely.STRtree(self.geometry)

    @functools.cached_property
    def _segments(self) -> _SegmentGrid:
        # straight segments of every edge, binned into a uniform grid (see _nearest)
        return _segment_grid(self.geometry)

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
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (3, 4)])], crs=32650))
        >>> G = net.to_networkx()
        >>> G.number_of_edges(), G.graph["crs"].to_epsg()
        (2, 32650)
        """
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
        """Save to a reusable ``.npz`` file (arrays, WKB geometries, CRS WKT), atomically.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from shapely import LineString
        >>> net = network_from_lines(gpd.GeoDataFrame(
        ...     geometry=[LineString([(0, 0), (3, 4)])], crs=32650))
        >>> p = net.save(pathlib.Path(tempfile.mkdtemp()) / "walk.npz")
        >>> load_network(p).n_edges
        1
        """
        from geoplan.io.write import atomic_path

        wkb = shapely.to_wkb(self.geometry)
        sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=wkb.size)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        blob = np.frombuffer(b"".join(wkb.tolist()), dtype=np.uint8)
        highway = np.array(["" if h is None else str(h) for h in self.highway], dtype=str)
        has_highway = np.array([h is not None for h in self.highway], dtype=bool)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                format_version=np.array(_FORMAT_VERSION),
                node_id=self.node_id,
                x=self.x,
                y=self.y,
                u=self.u,
                v=self.v,
                length_m=self.length_m,
                oneway=self.oneway,
                way_id=self.way_id,
                highway=highway,
                has_highway=has_highway,
                wkb=blob,
                wkb_offsets=offsets,
                crs_wkt=np.array(self.crs.to_wkt()),
            )
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

    Examples
    --------
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
        # our own handle: numpy leaks the one it opens when the zip is corrupt
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"not a geoplan network file: {exc}", file=str(path)) from exc
    if "format_version" not in data or int(data["format_version"]) != _FORMAT_VERSION:
        raise InputError("not a geoplan network file (format version)", file=str(path))
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


# --------------------------------------------------------------------------- builders


def _network_from_runs(runs: WalkRuns, *, split_shared: bool) -> WalkNetwork:
    """Cut runs of vertices into edges at junctions (vectorised)."""
    ids, x, y, off = runs.node_id, runs.x, runs.y, runs.offsets
    nv = ids.size
    lengths = np.diff(off)
    good = lengths >= 2
    if not good.all():  # drop runs with fewer than 2 vertices
        keepv = np.repeat(good, lengths)
        ids, x, y = ids[keepv], x[keepv], y[keepv]
        off = np.concatenate([[0], np.cumsum(lengths[good])])
        runs = WalkRuns(
            ids, x, y, off, runs.way_id[good], runs.highway[good], runs.oneway[good], runs.crs
        )
        nv = ids.size
    n_runs = off.size - 1
    if n_runs == 0:
        return _empty_network(runs.crs)
    run_of = np.repeat(np.arange(n_runs), np.diff(off))
    is_start = np.zeros(nv, dtype=bool)
    is_start[off[:-1]] = True
    is_end = np.zeros(nv, dtype=bool)
    is_end[off[1:] - 1] = True
    junction = is_start | is_end
    if split_shared:
        _, inv, counts = np.unique(ids, return_inverse=True, return_counts=True)
        junction |= counts[inv] >= 2
    starts_edge = junction & ~is_end
    seg = np.flatnonzero(~is_end)  # segment seg[k] joins vertex seg[k] and seg[k] + 1
    seg_edge = np.cumsum(starts_edge)[seg] - 1
    n_e = int(starts_edge.sum())
    last = np.ones(seg.size, dtype=bool)
    last[:-1] = seg_edge[1:] != seg_edge[:-1]
    start_v = np.flatnonzero(starts_edge)
    end_v = seg[last] + 1
    seg_len = np.hypot(x[seg + 1] - x[seg], y[seg + 1] - y[seg])
    length = np.bincount(seg_edge, weights=seg_len, minlength=n_e)
    vidx = np.concatenate([seg, end_v])
    vkey = np.concatenate([seg_edge, np.arange(n_e)])
    order = np.lexsort((vidx, vkey))
    geom = shapely.linestrings(x[vidx[order]], y[vidx[order]], indices=vkey[order])
    u_id, v_id = ids[start_v], ids[end_v]
    edge_run = run_of[start_v]
    keep = ~((u_id == v_id) & (length <= 0))
    node_ids, first = np.unique(np.concatenate([u_id[keep], v_id[keep]]), return_index=True)
    vert_of_end = np.concatenate([start_v[keep], end_v[keep]])[first]
    return WalkNetwork(
        node_id=node_ids,
        x=x[vert_of_end],
        y=y[vert_of_end],
        u=np.searchsorted(node_ids, u_id[keep]),
        v=np.searchsorted(node_ids, v_id[keep]),
        length_m=length[keep],
        geometry=geom[keep],
        oneway=runs.oneway[edge_run[keep]],
        crs=runs.crs,
        way_id=runs.way_id[edge_run[keep]],
        highway=runs.highway[edge_run[keep]],
    )


def _empty_network(crs: Any) -> WalkNetwork:
    z = np.zeros(0)
    return WalkNetwork(
        z, z, z, z, z, z, np.zeros(0, dtype=object), z, crs, z, np.zeros(0, dtype=object)
    )


def network_from_osm(
    path: str | os.PathLike[str], *, crs: Any = None, keep_private: bool = True
) -> WalkNetwork:
    """Build the walking network of an OSM XML (``.osm``, ``.osm.bz2``) or PBF file.

    Only walkable ways are kept (:func:`geoplan.io.osm.is_walkable`); ways that
    reference nodes missing from a clipped extract keep their runs of existing
    nodes. Nodes are way ends and nodes shared by two ways (or visited twice);
    each edge keeps the full polyline between them.

    Parameters
    ----------
    path
        The OSM file.
    crs
        Target metric CRS; default the local UTM zone.
    keep_private
        Keep ``access=private`` ways (compound roads); see ``docs/network.md``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> osm = pathlib.Path(tempfile.mkdtemp()) / "街道.osm"
    >>> _ = osm.write_text(
    ...     '<osm version="0.6"><node id="1" lat="39.99" lon="116.30"/>'
    ...     '<node id="2" lat="39.99" lon="116.31"/><node id="3" lat="39.991" lon="116.305">'
    ...     '<tag k="shop" v="convenience"/><tag k="name" v="便利店"/></node>'
    ...     '<way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way>'
    ...     "</osm>", encoding="utf-8")
    >>> net = network_from_osm(osm)  # or .osm.bz2, .osm.pbf
    >>> net.n_nodes, net.n_edges, round(float(net.length_m[0]), 1), net.crs.to_epsg()
    (2, 1, 853.8, 32650)
    """
    runs = read_walk_runs(path, crs=crs, keep_private=keep_private)
    return _network_from_runs(runs, split_shared=True)


def _target_crs(gdf_crs: Any, crs: Any, bounds: np.ndarray, what: str) -> pyproj.CRS | None:
    """Pick the metric CRS: the one asked for, the data's if projected, else UTM."""
    if crs is not None:
        target = pyproj.CRS(crs)
        if not target.is_projected:
            raise InputError(f"crs must be a projected metric CRS, got {target.name}", file=what)
        return target
    if gdf_crs is None:
        raise InputError("the layer has no CRS; set one (e.g. EPSG:4326)", file=what)
    src = pyproj.CRS(gdf_crs)
    if src.is_projected:
        return None
    lon = (bounds[0] + bounds[2]) / 2.0
    lat = (bounds[1] + bounds[3]) / 2.0
    return local_utm_crs(float(lon), float(lat))


def network_from_lines(
    gdf: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    crs: Any = None,
    node_at_vertices: bool = False,
) -> WalkNetwork:
    """Build a network from a line layer (LineStrings / MultiLineStrings).

    Nodes are where lines meet at their end points (exactly equal coordinates);
    with ``node_at_vertices`` also at vertices shared by two lines. Geographic
    data are projected to the local UTM zone (or to ``crs``). ``way_id`` holds
    the row position of each line; a ``highway`` column is carried over.

    Examples
    --------
    >>> from shapely import LineString
    >>> g = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (10, 0), (20, 0)]),
    ...     LineString([(10, -5), (10, 0), (10, 5)])], crs=32650)
    >>> network_from_lines(g).n_nodes, network_from_lines(g, node_at_vertices=True).n_nodes
    (4, 5)
    """
    geoms = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    values = np.asarray(geoms.values, dtype=object)
    kinds = shapely.get_type_id(values)
    bad = ~np.isin(kinds, [1, 5]) & ~shapely.is_missing(values)
    if bad.any():
        row = geoms.index[np.flatnonzero(bad)[0]]
        raise InputError("only LineString/MultiLineString rows allowed", row=row, column="geometry")
    target = _target_crs(geoms.crs, crs, np.asarray(geoms.total_bounds), "line layer")
    out_crs = target if target is not None else pyproj.CRS(geoms.crs)
    if target is not None:
        geoms = geoms.to_crs(target)
        values = np.asarray(geoms.values, dtype=object)
    parts, part_row = shapely.get_parts(values, return_index=True)
    parts = shapely.force_2d(parts)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    counts = np.bincount(cidx, minlength=parts.size)
    _, node_ids = np.unique(coords, axis=0, return_inverse=True)
    highway = np.full(parts.size, None, dtype=object)
    if isinstance(gdf, gpd.GeoDataFrame) and "highway" in gdf.columns:
        highway = np.asarray(gdf["highway"].to_numpy(dtype=object)[part_row], dtype=object)
    runs = WalkRuns(
        node_id=node_ids.ravel().astype(np.int64),
        x=coords[:, 0].copy(),
        y=coords[:, 1].copy(),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        way_id=part_row.astype(np.int64),
        highway=highway,
        oneway=np.zeros(parts.size, dtype=bool),
        crs=out_crs,
    )
    if not node_at_vertices:
        # only end points are junctions: make interior ids unique to their run
        is_end = np.zeros(runs.node_id.size, dtype=bool)
        is_end[runs.offsets[:-1]] = True
        is_end[runs.offsets[1:] - 1] = True
        ids = runs.node_id.copy()
        n_ids = int(ids.max()) + 1 if ids.size else 0
        ids[~is_end] = n_ids + np.arange(int((~is_end).sum()))
        runs = WalkRuns(
            ids, runs.x, runs.y, runs.offsets, runs.way_id, runs.highway, runs.oneway, runs.crs
        )
    net = _network_from_runs(runs, split_shared=True)
    # renumber node ids 0..n-1 (they are coordinate keys, not meaningful ids)
    return WalkNetwork(
        node_id=np.arange(net.n_nodes, dtype=np.int64),
        x=net.x,
        y=net.y,
        u=net.u,
        v=net.v,
        length_m=net.length_m,
        geometry=net.geometry,
        oneway=net.oneway,
        crs=net.crs,
        way_id=net.way_id,
        highway=net.highway,
    )


def network_from_networkx(G: nx.MultiDiGraph | nx.MultiGraph | nx.Graph) -> WalkNetwork:
    """Build a network from an osmnx-style graph (node ``x``/``y``, edge ``length``).

    A pair of opposite directed edges with the same length becomes one two-way
    edge; an unpaired directed edge becomes a ``oneway`` edge (undirected graphs
    give two-way edges). Unprojected graphs (``crs`` EPSG:4326 or missing with
    lon/lat-like values) are projected to the local UTM zone; ``length`` is then
    taken as metres. Missing ``length`` is computed from the geometry.

    Examples
    --------
    >>> G = nx.MultiDiGraph(crs="EPSG:32650")
    >>> G.add_node(1, x=0.0, y=0.0); G.add_node(2, x=30.0, y=40.0)
    >>> _ = G.add_edge(1, 2, length=50.0); _ = G.add_edge(2, 1, length=50.0)
    >>> net = network_from_networkx(G)
    >>> net.n_edges, bool(net.oneway[0])
    (1, False)
    """
    node_list = list(G.nodes)
    try:
        node_ids = np.asarray(node_list, dtype=np.int64)
    except (TypeError, ValueError):
        node_ids = np.arange(len(node_list), dtype=np.int64)
    pos = {n: k for k, n in enumerate(node_list)}
    try:
        nx_x = np.array([G.nodes[n]["x"] for n in node_list], dtype=np.float64)
        nx_y = np.array([G.nodes[n]["y"] for n in node_list], dtype=np.float64)
    except KeyError as exc:
        raise InputError("graph nodes need 'x' and 'y' attributes", column=str(exc)) from exc
    crs_attr = G.graph.get("crs")
    if crs_attr is None:
        raise InputError("graph has no 'crs' attribute (G.graph['crs'])")
    src = pyproj.CRS(crs_attr)
    directed = G.is_directed()
    edges = (
        list(G.edges(keys=True, data=True))
        if G.is_multigraph()
        else [(a, b, 0, d) for a, b, d in G.edges(data=True)]
    )
    ea = np.array([pos[a] for a, _, _, _ in edges], dtype=np.int64)
    eb = np.array([pos[b] for _, b, _, _ in edges], dtype=np.int64)
    geom = np.array([d.get("geometry") for *_, d in edges] if edges else [], dtype=object)
    missing = shapely.is_missing(geom) if geom.size else np.zeros(0, dtype=bool)
    if missing.any():
        geom[missing] = shapely.linestrings(
            np.stack(
                [
                    np.column_stack([nx_x[ea[missing]], nx_y[ea[missing]]]),
                    np.column_stack([nx_x[eb[missing]], nx_y[eb[missing]]]),
                ],
                axis=1,
            )
        )
    if src.is_projected:
        target = src
        x, y = nx_x, nx_y
    else:
        target = local_utm_crs(float(nx_x.mean()), float(nx_y.mean()))
        tr = pyproj.Transformer.from_crs(src, target, always_xy=True)
        x, y = (np.asarray(a, dtype=np.float64) for a in tr.transform(nx_x, nx_y))
        if geom.size:
            geom = shapely.transform(
                geom, lambda c: np.column_stack(tr.transform(c[:, 0], c[:, 1]))
            )
    # orient each geometry from its u node
    if geom.size:
        first = shapely.get_point(geom, 0)
        du = shapely.distance(first, shapely.points(x[ea], y[ea]))
        dv = shapely.distance(first, shapely.points(x[eb], y[eb]))
        flip = dv < du
        geom[flip] = shapely.reverse(geom[flip])
    length = np.array(
        [d.get("length", np.nan) for *_, d in edges] if edges else [], dtype=np.float64
    )
    nolen = ~np.isfinite(length)
    length[nolen] = shapely.length(geom[nolen])
    osmid = np.array([_int_or_minus1(d.get("osmid")) for *_, d in edges], dtype=np.int64)
    highway = np.array([_first(d.get("highway")) for *_, d in edges], dtype=object)
    # pair opposite directions
    keep: list[int] = []
    oneway: list[bool] = []
    slot: dict[int, int] = {}
    pending: dict[tuple[int, int, float], list[int]] = {}
    for k in range(len(edges)):
        a, b = int(ea[k]), int(eb[k])
        if directed:
            waiting = pending.get((b, a, round(float(length[k]), 6)))
            if waiting:
                oneway[slot[waiting.pop()]] = False
                continue
        slot[k] = len(keep)
        keep.append(k)
        oneway.append(directed)
        if directed:
            pending.setdefault((a, b, round(float(length[k]), 6)), []).append(k)
    kk = np.asarray(keep, dtype=np.int64)
    return WalkNetwork(
        node_id=node_ids,
        x=x,
        y=y,
        u=ea[kk],
        v=eb[kk],
        length_m=length[kk],
        geometry=geom[kk] if kk.size else np.zeros(0, dtype=object),
        oneway=np.asarray(oneway, dtype=bool),
        crs=target,
        way_id=osmid[kk],
        highway=highway[kk],
    )


def _first(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _int_or_minus1(value: Any) -> int:
    value = _first(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# --------------------------------------------------------------------------- snapping


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points placed on a network's edges.

    Per point (aligned to ``index``): ``edge`` (nearest usable edge, -1 when
    none), ``offset_m`` (metres along the edge from its ``u`` node), ``snap_m``
    (shortest access leg: straight distance to the network, or to the network
    through a gate), ``reachable``, ``gated`` (inside a compound with gates),
    ``component`` and ``component_nodes`` of the entry edge.

    Access positions (one row per way onto the network, sorted by point): a
    plain point has one, a point in a gated compound one per usable gate plus
    its compound's internal roads. ``access_point`` (position of the point),
    ``access_edge``, ``access_offset_m``, ``access_leg_m`` (metres walked off the
    network before reaching that position).
    """

    index: pd.Index
    edge: np.ndarray
    offset_m: np.ndarray
    snap_m: np.ndarray
    reachable: np.ndarray
    gated: np.ndarray
    component: np.ndarray
    component_nodes: np.ndarray
    access_point: np.ndarray
    access_edge: np.ndarray
    access_offset_m: np.ndarray
    access_leg_m: np.ndarray

    @property
    def n(self) -> int:
        """Number of points."""
        return len(self.index)

    def to_frame(self) -> pd.DataFrame:
        """Per-point columns as a DataFrame aligned to ``index``."""
        return pd.DataFrame(
            {
                "snap_m": self.snap_m,
                "reachable": self.reachable,
                "gated": self.gated,
                "component": self.component,
                "component_nodes": self.component_nodes,
                "edge": self.edge,
                "offset_m": self.offset_m,
            },
            index=self.index,
        )


def snap_points(
    network: WalkNetwork,
    points: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    max_snap_m: float,
    compounds: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gates: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    gate_tolerance_m: float = 0.0,
    min_component_nodes: int | None = None,
) -> Snapped:
    """Snap points (or polygons, by a point on their surface) onto the nearest edges.

    Parameters
    ----------
    network
        The walking network.
    points
        Points or polygons in the network's CRS.
    max_snap_m
        Points farther than this from every edge are ``reachable=False`` (their
        ``snap_m`` is still recorded); never silently snapped.
    compounds
        Polygons of gated compounds. A point inside a compound that has gates or
        internal roads enters the network only through its gates (straight line
        inside the compound to the gate, then the gate's snapped position) or
        through the compound's internal roads (edges covered by the polygon).
    gates
        Gate points (OSM ``entrance`` / ``barrier=gate`` nodes). A gate belongs to
        every compound within ``gate_tolerance_m`` of it.
    gate_tolerance_m
        How far from a compound polygon a gate may lie (0: on or inside it).
    min_component_nodes
        Points whose entry edge lies in a component with fewer nodes are
        reported with a :class:`DataQualityWarning`; None: every component but
        the largest counts as an island.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650))
    >>> s = snap_points(net, gpd.GeoSeries([Point(30, 5), Point(50, 900)], crs=32650),
    ...                 max_snap_m=300)
    >>> s.offset_m.tolist(), s.snap_m.tolist(), s.reachable.tolist()
    ([30.0, 50.0], [5.0, 900.0], [True, False])
    """
    if not np.isfinite(max_snap_m) or max_snap_m < 0:
        raise InputError("max_snap_m must be a finite number >= 0", column="max_snap_m")
    pts = _as_points(points, network, "points")
    index = (points.index if points is not None else pd.RangeIndex(0)).copy()
    n = pts.size
    edge, off, dist = _nearest(network, pts)
    ok = dist <= max_snap_m
    rows_p = [np.flatnonzero(ok)]
    rows_e = [edge[ok]]
    rows_o = [off[ok]]
    rows_l = [dist[ok]]
    gated = np.zeros(n, dtype=bool)
    if compounds is not None and n:
        gp, ge, go, gl, gated = _gated_access(
            network, pts, compounds, gates, max_snap_m=max_snap_m, tol=gate_tolerance_m
        )
        plain = ~gated[rows_p[0]]
        rows_p = [rows_p[0][plain], gp]
        rows_e = [rows_e[0][plain], ge]
        rows_o = [rows_o[0][plain], go]
        rows_l = [rows_l[0][plain], gl]
    ap = np.concatenate(rows_p).astype(np.int64)
    ae = np.concatenate(rows_e).astype(np.int64)
    ao = np.concatenate(rows_o).astype(np.float64)
    al = np.concatenate(rows_l).astype(np.float64)
    if ap.size > 1 and not bool((ap[1:] > ap[:-1]).all()):  # gated rows: sort by point
        order = np.lexsort((al, ap))
        ap, ae, ao, al = ap[order], ae[order], ao[order], al[order]
    # per point: the access with the shortest leg
    first = np.ones(ap.size, dtype=bool)
    first[1:] = ap[1:] != ap[:-1]
    best = np.flatnonzero(first)
    reachable = np.zeros(n, dtype=bool)
    reachable[ap[best]] = True
    out_edge = np.where(reachable, -1, edge)
    out_off = np.where(reachable, np.nan, off)
    out_snap = dist.copy()
    out_edge[ap[best]] = ae[best]
    out_off[ap[best]] = ao[best]
    out_snap[ap[best]] = al[best]
    label, size = network._components
    comp = np.full(n, -1, dtype=np.int64)
    comp_n = np.zeros(n, dtype=np.int64)
    has = out_edge >= 0
    if has.any():
        nodes = network.u[out_edge[has]]
        comp[has] = label[nodes]
        comp_n[has] = size[nodes]
    snapped = Snapped(
        index=index,
        edge=out_edge,
        offset_m=out_off,
        snap_m=out_snap,
        reachable=reachable,
        gated=gated,
        component=comp,
        component_nodes=comp_n,
        access_point=ap,
        access_edge=ae,
        access_offset_m=ao,
        access_leg_m=al,
    )
    _warn_islands(snapped, min_component_nodes)
    return snapped


def _warn_islands(s: Snapped, min_component_nodes: int | None) -> None:
    if min_component_nodes is None:
        small = s.reachable & (s.component > 0)
        rule = "outside the largest component"
    else:
        small = s.reachable & (s.component_nodes < min_component_nodes)
        rule = f"on components with fewer than {min_component_nodes} nodes"
    if small.any():
        ids = ", ".join(str(i) for i in s.index[small][:5])
        more = " ..." if small.sum() > 5 else ""
        warnings.warn(
            f"{int(small.sum())} point(s) snapped {rule} (islands of the walk network; "
            f"see columns component/component_nodes): {ids}{more}",
            DataQualityWarning,
            stacklevel=3,
        )

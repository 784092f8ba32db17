"""Read OpenStreetMap files (XML ``.osm``, ``.osm.bz2``, ``.osm.gz`` and PBF).

One streaming pass with pyosmium collects:

- the **walkable ways** (see :func:`is_walkable` and ``docs/network.md``) as
  runs of consecutive nodes with known locations: a way of a clipped extract that
  references nodes missing from the file keeps the runs of nodes that exist;
- **POIs**: nodes, and closed ways (as centroids), tagged ``amenity``, ``shop``,
  ``leisure``, ``office``, ``healthcare`` or ``social_facility``;
- **buildings**: closed ways tagged ``building=*`` as polygons;
- **entrances and gates**: nodes tagged ``entrance=*`` or ``barrier`` in
  :data:`GATE_BARRIERS`;
- **compounds**: closed ways tagged ``landuse=residential`` (residential
  compounds, 小区), as polygons.

Everything is projected to a metric CRS: the local UTM zone of the data unless
the caller names one. This module does not build the graph; that is
:func:`geoplan.network.network_from_osm`.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geoplan._errors import InputError
from geoplan.crs import utm_epsg
from geoplan.io.renamed import renamed_to_crs

if TYPE_CHECKING:
    import osmium.osm

    from geoplan._types import CRSLike

__all__ = [
    "DROP_HIGHWAYS",
    "GATE_BARRIERS",
    "POI_KEYS",
    "RESIDENTIAL_BUILDINGS",
    "WALK_HIGHWAYS",
    "OsmExtract",
    "WalkRuns",
    "buildings_from_extract",
    "facilities_from_extract",
    "is_walkable",
    "local_utm_crs",
    "osm_facilities",
    "read_osm",
    "read_walk_runs",
]

#: ``highway`` values pedestrians use (the whitelist; anything else is dropped).
WALK_HIGHWAYS: frozenset[str] = frozenset(
    {
        "footway",
        "path",
        "pedestrian",
        "steps",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "road",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "track",
        "corridor",
        "cycleway",
        "bridleway",
        "elevator",
        "trunk",
        "trunk_link",
    }
)

#: ``highway`` values never walked, whatever the other tags say.
DROP_HIGHWAYS: frozenset[str] = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "planned",
        "abandoned",
        "disused",
        "razed",
        "platform",
        "bus_guideway",
        "raceway",
        "escape",
        "busway",
    }
)

#: Roads walked only where a sidewalk or foot access is tagged.
_NEEDS_FOOT_TAG: frozenset[str] = frozenset({"trunk", "trunk_link"})
_FOOT_YES: frozenset[str] = frozenset({"yes", "designated", "permissive", "official"})
_FOOT_NO: frozenset[str] = frozenset({"no", "use_sidepath"})
_SIDEWALK_YES: frozenset[str] = frozenset({"both", "left", "right", "yes", "separate"})
_SIDEWALK_NO: frozenset[str] = frozenset({"no", "none"})
_NO_ACCESS: frozenset[str] = frozenset({"no"})

#: Tag keys that make a node or a closed way a point of interest.
POI_KEYS: tuple[str, ...] = (
    "amenity",
    "shop",
    "leisure",
    "office",
    "healthcare",
    "social_facility",
)

#: ``barrier`` values pedestrians pass through (gates of compounds).
GATE_BARRIERS: frozenset[str] = frozenset(
    {"gate", "lift_gate", "swing_gate", "sliding_gate", "turnstile", "kissing_gate", "entrance"}
)

_ATTR_KEYS: tuple[str, ...] = ("name", "name:zh", "name:en")
_BUILDING_KEYS: tuple[str, ...] = (
    "building",
    "building:levels",
    "building:flats",
    "height",
    "building:height",
    "name",
)


def is_walkable(tags: Mapping[str, str], *, keep_private: bool = True) -> bool:
    """Whether a way with these tags belongs to the walking network.

    The rules (``docs/network.md`` explains each choice):

    1. it needs a ``highway`` value in :data:`WALK_HIGHWAYS` (so building outlines,
       land use and railways, including subways in tunnels, never become edges);
       values in :data:`DROP_HIGHWAYS` (motorways, construction, platforms...) are
       dropped;
    2. ``foot=no`` (or ``use_sidepath``) drops the way; ``foot=yes``,
       ``designated``, ``permissive`` keeps it whatever ``access`` says;
    3. ``access=no`` drops it; ``access=private`` keeps it when ``keep_private``
       (service roads inside Chinese gated compounds are tagged private but are
       walked by the residents);
    4. ``trunk``/``trunk_link`` only with a sidewalk or explicit foot access;
       ``primary``/``secondary`` unless ``sidewalk=no|none``;
    5. ``area=yes`` highways (squares) are kept: their outline becomes a ring of
       edges that links the streets entering the square.

    Examples
    --------
    >>> is_walkable({"highway": "footway"})
    True
    >>> is_walkable({"highway": "motorway"}), is_walkable({"building": "yes"})
    (False, False)
    >>> is_walkable({"highway": "service", "access": "private"}, keep_private=False)
    False
    """
    highway = tags.get("highway")
    if highway is None or highway in DROP_HIGHWAYS or highway not in WALK_HIGHWAYS:
        return False
    foot = tags.get("foot")
    if foot in _FOOT_NO:
        return False
    if foot in _FOOT_YES:
        return True
    access = tags.get("access")
    if access in _NO_ACCESS:
        return False
    if access == "private" and not keep_private:
        return False
    sidewalk = tags.get("sidewalk")
    if highway in _NEEDS_FOOT_TAG:
        return sidewalk in _SIDEWALK_YES
    return not (highway in {"primary", "secondary"} and sidewalk in _SIDEWALK_NO)


def local_utm_crs(lon: float, lat: float = 1.0) -> pyproj.CRS:
    """The WGS84 UTM zone of a longitude (north or south by latitude).

    The zone is that of the mean longitude of the data (:func:`geoplan.crs.utm_epsg`).

    Examples
    --------
    >>> local_utm_crs(116.35, 40.0).to_epsg()
    32650
    """
    return pyproj.CRS.from_epsg(utm_epsg(float(lon), float(lat)))


@dataclass(frozen=True, eq=False, kw_only=True)
class WalkRuns:
    """Walkable ways as runs of consecutive nodes, in a metric CRS.

    ``node_id``, ``x``, ``y`` are flat per-vertex arrays; run ``r`` is
    ``offsets[r]:offsets[r+1]``. Per run: ``way_id``, ``highway``, ``oneway``
    (True when pedestrians may only walk in the direction of the nodes). Fields are
    keyword-only: ``WalkRuns(node_id=..., x=..., ..., crs=...)``.
    """

    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    offsets: np.ndarray
    way_id: np.ndarray
    highway: np.ndarray
    oneway: np.ndarray
    crs: pyproj.CRS


@dataclass(frozen=True, eq=False)
class OsmExtract:
    """Everything :func:`read_osm` takes from one OSM file (metric CRS)."""

    walk: WalkRuns
    pois: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    entrances: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    crs: pyproj.CRS


class _Collector:
    """Accumulates what one pass over the file yields (plain typed arrays)."""

    def __init__(self, keep_private: bool, walk_only: bool) -> None:
        self.keep_private = keep_private
        self.walk_only = walk_only
        self.w_ids = array("q")
        self.w_lon = array("d")
        self.w_lat = array("d")
        self.w_off = array("q", [0])
        self.w_way = array("q")
        self.w_hw: list[str] = []
        self.w_oneway = array("b")
        self.poi_rows: list[dict[str, object]] = []
        self.poi_lon = array("d")
        self.poi_lat = array("d")
        self.poly_rings: list[tuple[str, Mapping[str, object], array[float], array[float]]] = []
        self.ent_rows: list[dict[str, object]] = []
        self.ent_lon = array("d")
        self.ent_lat = array("d")

    def node(self, n: osmium.osm.Node) -> None:
        tags = n.tags
        if not n.location.valid():
            return
        if any(k in tags for k in POI_KEYS):
            row = _poi_row("node", n.id, tags)
            self.poi_rows.append(row)
            self.poi_lon.append(n.location.lon)
            self.poi_lat.append(n.location.lat)
        barrier = tags.get("barrier")
        if "entrance" in tags or barrier in GATE_BARRIERS:
            self.ent_rows.append(
                {
                    "osm_id": f"node/{n.id}",
                    "entrance": tags.get("entrance"),
                    "barrier": barrier,
                    "access": tags.get("access"),
                    "name": tags.get("name"),
                }
            )
            self.ent_lon.append(n.location.lon)
            self.ent_lat.append(n.location.lat)

    def way(self, w: osmium.osm.Way) -> None:
        tags = w.tags
        tagd = None
        if "highway" in tags:
            tagd = dict(tags)
            if is_walkable(tagd, keep_private=self.keep_private):
                self._walk_way(w, tagd)
        if self.walk_only:
            return
        is_poi = any(k in tags for k in POI_KEYS)
        is_building = "building" in tags
        is_compound = tags.get("landuse") == "residential"
        if not (is_poi or is_building or is_compound):
            return
        nodes = w.nodes
        if len(nodes) < 4 or nodes[0].ref != nodes[len(nodes) - 1].ref:
            return
        lon = array("d")
        lat = array("d")
        for nr in nodes:
            loc = nr.location
            if not loc.valid():
                return  # a clipped polygon: its shape is unknown
            lon.append(loc.lon)
            lat.append(loc.lat)
        if tagd is None:
            tagd = dict(tags)
        if is_poi:
            self.poly_rings.append(("poi", _poi_row("way", w.id, tagd), lon, lat))
        if is_building:
            row = {"osm_id": f"way/{w.id}", **{k: tagd.get(k) for k in _BUILDING_KEYS}}
            row["name:zh"] = tagd.get("name:zh")
            self.poly_rings.append(("building", row, lon, lat))
        if is_compound:
            row = {
                "osm_id": f"way/{w.id}",
                "name": tagd.get("name"),
                "name:zh": tagd.get("name:zh"),
            }
            self.poly_rings.append(("compound", row, lon, lat))

    def _walk_way(self, w: osmium.osm.Way, tags: dict[str, str]) -> None:
        oneway_foot = tags.get("oneway:foot")
        reverse = oneway_foot == "-1"
        oneway = oneway_foot in {"yes", "1", "true", "-1"}
        run_ids: list[int] = []
        run_lon: list[float] = []
        run_lat: list[float] = []
        runs: list[tuple[list[int], list[float], list[float]]] = []
        for nr in w.nodes:
            loc = nr.location
            if loc.valid():
                run_ids.append(nr.ref)
                run_lon.append(loc.lon)
                run_lat.append(loc.lat)
            else:
                if len(run_ids) >= 2:
                    runs.append((run_ids, run_lon, run_lat))
                run_ids, run_lon, run_lat = [], [], []
        if len(run_ids) >= 2:
            runs.append((run_ids, run_lon, run_lat))
        highway = tags["highway"]
        for ids, lon, lat in runs:
            if reverse:
                ids, lon, lat = ids[::-1], lon[::-1], lat[::-1]
            self.w_ids.extend(ids)
            self.w_lon.extend(lon)
            self.w_lat.extend(lat)
            self.w_off.append(len(self.w_ids))
            self.w_way.append(w.id)
            self.w_hw.append(highway)
            self.w_oneway.append(1 if oneway else 0)


def _poi_row(
    kind: str, osm_id: int, tags: osmium.osm.TagList | dict[str, str]
) -> dict[str, object]:
    """A POI's columns; ``tags`` is a node's tag list or a way's tags as a dict."""
    row: dict[str, object] = {"osm_id": f"{kind}/{osm_id}"}
    for k in POI_KEYS:
        row[k] = tags.get(k)
    for k in _ATTR_KEYS:
        row[k] = tags.get(k)
    row["tags"] = {t.k: t.v for t in tags} if not isinstance(tags, dict) else dict(tags)
    return row


def _scan(path: Path, keep_private: bool, walk_only: bool) -> _Collector:
    import osmium

    keys: tuple[str, ...] = ("highway", "building", "landuse", "entrance", "barrier", *POI_KEYS)
    if walk_only:
        keys = ("highway",)
    col = _Collector(keep_private, walk_only)
    try:
        fp = (
            osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
            .with_locations()
            .with_filter(osmium.filter.KeyFilter(*keys))
        )
        for obj in fp:
            if isinstance(obj, osmium.osm.Node):
                if not walk_only:
                    col.node(obj)
            elif isinstance(obj, osmium.osm.Way):
                col.way(obj)
    except RuntimeError as exc:  # libosmium reports parse errors as RuntimeError
        raise InputError(f"cannot read OSM data: {exc}", file=str(path)) from exc
    return col


def read_osm(
    path: str | os.PathLike[str],
    *,
    to_crs: CRSLike | None = None,
    keep_private: bool = True,
    crs: CRSLike | None = None,
) -> OsmExtract:
    """Read an OSM XML or PBF file in one pass: walk runs, POIs, buildings, gates.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` or ``.osm.pbf``.
    to_crs
        Target metric CRS; default: the local UTM zone of the walkable nodes'
        mean longitude.
    keep_private
        Keep ``access=private`` ways (see :func:`is_walkable`).
    crs
        Old name of ``to_crs`` (deprecated).

    Returns
    -------
    OsmExtract
        ``walk`` runs plus GeoDataFrames ``pois`` (column ``tags`` holds the full
        tag dict; a closed way's ``outline`` polygon and ``area_m2``, its projected
        area), ``buildings``, ``entrances`` and ``compounds``, each indexed by
        ``osm_id`` strings such as ``"way/123"``.

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
    >>> ext = read_osm(osm)
    >>> ext.crs.to_epsg(), ext.pois.index.tolist()
    (32650, ['node/3'])
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("OSM file not found", file=str(path))
    to_crs = renamed_to_crs(to_crs, crs, where="read_osm")
    col = _scan(path, keep_private, walk_only=False)
    walk, target, tr = _walk_runs(col, to_crs, path)
    polys: dict[str, tuple[list[Mapping[str, object]], list[shapely.Geometry]]] = {
        "poi": ([], []),
        "building": ([], []),
        "compound": ([], []),
    }
    for kind, row, rlon, rlat in col.poly_rings:
        px, py = tr.transform(np.asarray(rlon), np.asarray(rlat))
        polys[kind][0].append(row)
        polys[kind][1].append(shapely.polygons(np.column_stack([px, py])))
    # POIs: nodes then way centroids
    px, py = tr.transform(np.asarray(col.poi_lon), np.asarray(col.poi_lat))
    poi_geom = list(shapely.points(np.asarray(px), np.asarray(py))) if len(col.poi_lon) else []
    poi_rows = col.poi_rows + polys["poi"][0]
    outlines = shapely.make_valid(np.asarray(polys["poi"][1], dtype=object))
    poi_geom += list(shapely.centroid(np.asarray(polys["poi"][1], dtype=object)))
    poi_cols = ["osm_id", *POI_KEYS, *_ATTR_KEYS, "tags"]
    pois = _frame(poi_rows, poi_geom, poi_cols, target)
    # closed ways: the polygon and its projected area (nodes: none, NaN)
    pois["area_m2"] = np.concatenate([np.full(len(col.poi_rows), np.nan), shapely.area(outlines)])
    pois["outline"] = [None] * len(col.poi_rows) + list(outlines)
    buildings = _frame(
        polys["building"][0],
        list(shapely.make_valid(np.asarray(polys["building"][1], dtype=object))),
        ["osm_id", *_BUILDING_KEYS, "name:zh"],
        target,
    )
    for c in ("building:levels", "building:flats"):
        buildings[c.replace(":", "_")] = pd.to_numeric(buildings[c], errors="coerce")
    height = buildings["height"].where(buildings["height"].notna(), buildings["building:height"])
    buildings["height_m"] = _metres(height)
    ex, ey = tr.transform(np.asarray(col.ent_lon), np.asarray(col.ent_lat))
    entrances = _frame(
        col.ent_rows,
        list(shapely.points(np.asarray(ex), np.asarray(ey))) if len(col.ent_lon) else [],
        ["osm_id", "entrance", "barrier", "access", "name"],
        target,
    )
    compounds = _frame(
        polys["compound"][0],
        list(shapely.make_valid(np.asarray(polys["compound"][1], dtype=object))),
        ["osm_id", "name", "name:zh"],
        target,
    )
    return OsmExtract(
        walk=walk,
        pois=pois,
        buildings=buildings,
        entrances=entrances,
        compounds=compounds,
        crs=target,
    )


def _walk_runs(
    col: _Collector, crs: CRSLike | None, path: Path
) -> tuple[WalkRuns, pyproj.CRS, pyproj.Transformer]:
    lon = np.frombuffer(col.w_lon, dtype=np.float64) if len(col.w_lon) else np.zeros(0)
    lat = np.frombuffer(col.w_lat, dtype=np.float64) if len(col.w_lat) else np.zeros(0)
    if crs is None:
        all_lon = np.concatenate([lon, np.asarray(col.poi_lon), np.asarray(col.ent_lon)])
        all_lat = np.concatenate([lat, np.asarray(col.poi_lat), np.asarray(col.ent_lat)])
        if all_lon.size == 0:
            raise InputError("no walkable ways, POIs or gates with known locations", file=str(path))
        target = local_utm_crs(float(all_lon.mean()), float(all_lat.mean()))
    else:
        target = pyproj.CRS(crs)
        if not target.is_projected:
            raise InputError(
                f"crs must be a projected metric CRS, got {target.name}", file=str(path)
            )
    tr = pyproj.Transformer.from_crs(4326, target, always_xy=True)
    x, y = tr.transform(lon, lat)
    walk = WalkRuns(
        node_id=np.array(col.w_ids, dtype=np.int64),
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        offsets=np.array(col.w_off, dtype=np.int64),
        way_id=np.array(col.w_way, dtype=np.int64),
        highway=np.array(col.w_hw, dtype=object),
        oneway=np.array(col.w_oneway, dtype=bool),
        crs=target,
    )
    return walk, target, tr


def read_walk_runs(
    path: str | os.PathLike[str],
    *,
    to_crs: CRSLike | None = None,
    keep_private: bool = True,
    crs: CRSLike | None = None,
) -> WalkRuns:
    """Read only the walkable ways of an OSM file (faster than :func:`read_osm`),
    projected to ``to_crs`` (default the local UTM zone; ``crs`` is its old name).

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
    >>> runs = read_walk_runs(osm)
    >>> runs.way_id.tolist(), runs.node_id.tolist()
    ([10], [1, 2])
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("OSM file not found", file=str(path))
    to_crs = renamed_to_crs(to_crs, crs, where="read_walk_runs")
    return _walk_runs(_scan(path, keep_private, walk_only=True), to_crs, path)[0]


def _frame(
    rows: Sequence[Mapping[str, object]],
    geoms: Sequence[shapely.Geometry],
    columns: list[str],
    crs: pyproj.CRS,
) -> gpd.GeoDataFrame:
    df = pd.DataFrame(rows, columns=columns)
    gdf = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index, crs=crs), crs=crs)
    return gdf.set_index("osm_id")


def osm_facilities(
    path: str | os.PathLike[str],
    *,
    to_crs: CRSLike | None = None,
    crs: CRSLike | None = None,
    outlines: bool = False,
) -> gpd.GeoDataFrame:
    """POIs of an OSM file with a geoplan ``category`` (when one applies), projected to
    ``to_crs`` (default the local UTM zone; ``crs`` is its old name); ``outlines``: as
    :func:`facilities_from_extract`.

    Uses :func:`geoplan.categories.category_of_osm_tags`; POIs without a category
    are dropped. The index is ``facility_id`` (the ``osm_id``).

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
    >>> fac = osm_facilities(osm)
    >>> fac[["name", "category"]].values.tolist()
    [['便利店', 'convenience_store']]
    """
    ext = read_osm(path, to_crs=renamed_to_crs(to_crs, crs, where="osm_facilities"))
    return facilities_from_extract(ext, outlines=outlines)


def facilities_from_extract(extract: OsmExtract, *, outlines: bool = False) -> gpd.GeoDataFrame:
    """Canonical facilities (``category``, ``name``) from the POIs of a read OSM file.

    Chinese names (``name:zh``) win over ``name``. POIs that map to no category
    are left out. ``area_m2`` is a closed way's projected area (NaN for nodes).
    Points throughout (closed ways by their centroid), unless ``outlines``: then a
    closed way of a category walked to its edge (``edge_access_m`` in
    ``categories.toml``: parks) keeps its polygon.
    """
    from geoplan.categories import category_of_osm_tags, load_categories

    pois = extract.pois
    cats = [category_of_osm_tags(t) for t in pois["tags"]]
    out = pois.assign(category=pd.Series(cats, index=pois.index, dtype=object))
    out = out[out["category"].notna()].copy()
    out["name"] = out["name:zh"].where(out["name:zh"].notna(), out["name"])
    edge = [c.id for c in load_categories().categories if c.edge_access_m]
    if outlines and "outline" in out.columns:
        poly = (out["category"].isin(edge) & out["outline"].notna()).to_numpy()
        geom = np.where(poly, out["outline"].to_numpy(dtype=object), out.geometry.array)
        out = out.set_geometry(gpd.GeoSeries(geom, index=out.index, crs=out.crs))
    out = out.drop(columns=["tags", "outline"], errors="ignore")
    out.index.name = "facility_id"
    return out


#: OSM ``building`` values that hold homes; ``yes`` (unknown) stays unknown.
RESIDENTIAL_BUILDINGS: frozenset[str] = frozenset(
    {
        "residential",
        "apartments",
        "house",
        "detached",
        "semidetached_house",
        "terrace",
        "dormitory",
        "bungalow",
    }
)


def buildings_from_extract(extract: OsmExtract) -> gpd.GeoDataFrame:
    """Canonical buildings from a read OSM file.

    ``use`` is ``residential`` for the values in :data:`RESIDENTIAL_BUILDINGS`,
    the OSM value for other known uses, and missing for ``building=yes`` (use
    unknown); ``osm_building`` keeps the OSM value. ``floors`` comes from
    ``building:levels``, ``height_m`` from ``height`` (or ``building:height``;
    metres, ``"12 m"`` read as 12, feet converted) and ``households`` from
    ``building:flats`` where mapped. ``in_residential_landuse`` is True for a
    building inside a ``landuse=residential`` polygon (a compound), where
    :func:`geoplan.households.estimate_households` counts buildings of unknown
    type.
    """
    b = extract.buildings
    kind = b["building"].astype(object)
    use = kind.where(~kind.isin(RESIDENTIAL_BUILDINGS), "residential")
    use = use.where(use != "yes", None)
    out = gpd.GeoDataFrame(
        {
            "name": b["name:zh"].where(b["name:zh"].notna(), b["name"]).astype(object),
            "use": use,
            "osm_building": kind,
            "floors": b["building_levels"].astype(float),
            "height_m": b["height_m"].astype(float),
            "households": b["building_flats"].astype(float),
            "in_residential_landuse": _within(b, extract.compounds),
        },
        geometry=b.geometry,
        crs=b.crs,
        index=pd.Index(b.index.astype(str), name="building_id"),
    )
    out["households_estimated"] = False
    return out


def _within(buildings: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """True where a building's point on surface lies inside one of ``areas``."""
    inside = np.zeros(len(buildings), dtype=bool)
    if not len(buildings) or not len(areas):
        return inside
    tree = shapely.STRtree(np.asarray(areas.geometry.array))
    points = shapely.point_on_surface(np.asarray(buildings.geometry.array))
    hit, _ = tree.query(points, predicate="within")
    inside[np.unique(hit)] = True
    return inside


def _metres(values: pd.Series) -> pd.Series:
    """OSM lengths (``"12"``, ``"12 m"``, ``"40'"``, ``"40 ft"``) in metres; NaN if unreadable."""
    text = values.astype("string").str.strip().str.lower()
    feet = text.str.endswith(("ft", "'")).fillna(False).to_numpy(dtype=bool)
    number = text.str.replace(r"\s*(m|ft|')$", "", regex=True).str.replace(",", ".", regex=False)
    out = pd.to_numeric(number, errors="coerce").astype(float)
    out[feet] = out[feet] * 0.3048
    return out.where(out > 0)

"""Do the layers line up? Refuse inputs that do not, before any audit measures them.

An audit over layers that are in the wrong place gives a confident, wrong answer
(0.0% coverage, every household "unreachable"). :func:`check_alignment` looks at
the buildings, facilities and communities against the walking network, in the
network's metric CRS, and raises an :class:`AlignmentError` (an
:class:`~geoplan._errors.InputError`, exit code 2 in the CLI) naming the layer and
its file when:

- a layer lies away from the network (:class:`LayersApart`): its bounding box is
  farther than ``max_snap_m`` from the network's, so not one of its points can
  snap; the message gives the distance;
- most buildings or facilities have no street within ``max_snap_m``
  (:class:`OffNetwork`): fewer than the profile's ``align_min_snapped_share`` of
  them snap; the message gives the median distance to the nearest street;
- a layer is in GCJ-02 (AMap, Tencent) or BD-09 (Baidu) while the network is
  WGS84 (:class:`ChineseCrsSuspected`): reading its lon/lat as GCJ-02 (or BD-09)
  and converting to WGS84 brings it much closer to the streets. Snap distances
  are capped at ``max_snap_m`` and compared as root mean squares: the layer is
  flagged when the converted value is below ``crs_check_rms_ratio`` times the
  value as read, and the value as read is at least ``crs_check_min_rms_m``
  (the layer sits off the streets to begin with). The message names the fix,
  ``--crs gcj02`` (or ``bd09``). Buildings and facilities are compared by a
  point on each; communities by points along their boundaries inside the
  network's extent (boundaries follow streets, rivers and walls), when those are
  at least ``crs_check_min_boundary_m`` long. Layers read with a stated CRS
  (``attrs["crs_stated"]``, set by the CLI for ``--crs``) are not second-guessed:
  ``--crs wgs84`` says "really WGS84".

Every threshold is a profile parameter (``max_snap_m``, ``align_min_snapped_share``,
``crs_check_rms_ratio``, ``crs_check_min_rms_m``, ``crs_check_min_points``,
``crs_check_min_boundary_m``, ``align_sample_points``); a profile without one of
these skips the check that uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geoplan._errors import InputError
from geoplan.crs import bd09_to_wgs84, gcj02_to_wgs84, in_china
from geoplan.network import WalkNetwork
from geoplan.network.snap import nearest_edges

if TYPE_CHECKING:
    from geoplan.profiles import Profile

__all__ = [
    "AlignmentError",
    "AlignmentReport",
    "ChineseCrsSuspected",
    "LayerAlignment",
    "LayersApart",
    "OffNetwork",
    "check_alignment",
    "snap_distances",
]

_SYSTEMS = {"gcj02": ("GCJ-02", "AMap/Gaode, Tencent"), "bd09": ("BD-09", "Baidu")}
_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_LAYER_ZH = {"buildings": "建筑", "facilities": "设施", "communities": "社区"}


class AlignmentError(InputError):
    """Layers that do not line up with the walking network (bad input, exit 2).

    ``message_zh`` is the Chinese text of the message; :meth:`localized` gives
    the message in ``"zh"`` or ``"en"`` with the file in front.
    """

    def __init__(
        self, message: str, *, message_zh: str, file: str | None = None, layer: str | None = None
    ) -> None:
        self.message_zh = message_zh
        self.layer = layer
        super().__init__(message, file=file)

    def localized(self, lang: str) -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``), prefixed with the file."""
        text = self.message_zh if lang == "zh" else self.message
        return f"{self.file}: {text}" if self.file is not None else text


class LayersApart(AlignmentError):
    """A layer's extent lies farther from the network's than any point can snap."""


class OffNetwork(AlignmentError):
    """Most points of a layer have no street within ``max_snap_m``."""


class ChineseCrsSuspected(AlignmentError):
    """A layer lines up with the network only once read as GCJ-02 or BD-09.

    ``system`` is ``"gcj02"`` or ``"bd09"``: the value to pass as ``--crs``.
    """

    def __init__(
        self,
        message: str,
        *,
        system: str,
        message_zh: str,
        file: str | None = None,
        layer: str | None = None,
    ) -> None:
        self.system = system
        super().__init__(message, message_zh=message_zh, file=file, layer=layer)


@dataclass(frozen=True)
class LayerAlignment:
    """How one layer sits on the network (figures of the points sampled).

    ``snapped_share`` and ``median_snap_m`` are None for communities (their
    boundaries need not touch streets); ``rms_ratio`` maps ``"gcj02"`` and
    ``"bd09"`` to the capped RMS snap distance after that conversion over the
    value as read (empty when the check did not run: outside China, too few
    points, or a stated CRS).
    """

    layer: str
    file: str
    n_points: int
    gap_m: float
    snapped_share: float | None
    median_snap_m: float | None
    rms_snap_m: float | None
    rms_ratio: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AlignmentReport:
    """What :func:`check_alignment` measured, per layer (in the order checked)."""

    layers: tuple[LayerAlignment, ...]

    def layer(self, name: str) -> LayerAlignment:
        """The entry of layer ``name`` (``KeyError`` if it was not checked)."""
        for entry in self.layers:
            if entry.layer == name:
                return entry
        raise KeyError(name)


def snap_distances(network: WalkNetwork, frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Straight distance (m) from a point on each feature to the nearest network edge.

    ``inf`` for empty geometries or an empty network. ``frame`` must be in the
    network's CRS.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (100, 0)])], crs=32650))
    >>> snap_distances(net, gpd.GeoSeries([Point(30, 5), Point(50, 900)], crs=32650)).tolist()
    [5.0, 900.0]
    """
    geoms = np.asarray(frame.geometry.array if hasattr(frame, "geometry") else frame.array)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    pts = np.full(geoms.size, None, dtype=object)
    pts[ok] = shapely.point_on_surface(geoms[ok])
    return nearest_edges(network, pts)[2]


def check_alignment(
    network: WalkNetwork,
    *,
    profile: Profile | str,
    buildings: gpd.GeoDataFrame | None = None,
    facilities: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    network_file: str | None = None,
) -> AlignmentReport:
    """Raise an :class:`AlignmentError` unless the layers line up with ``network``.

    Parameters
    ----------
    network
        The walking network (metric CRS).
    profile
        A :class:`geoplan.profiles.Profile` (or its name): ``max_snap_m`` and the
        alignment parameters (see the module docstring).
    buildings, facilities, communities
        Layers in the network's CRS (``attrs["source_file"]`` names their file);
        None skips a layer. Only facilities within ``max_snap_m`` of the
        network's extent count for the snapping share: a city-wide facility
        layer over a district's network is fine.
    network_file
        The network's file, for messages.

    Returns
    -------
    AlignmentReport
        The figures of every layer checked.

    Raises
    ------
    LayersApart, OffNetwork, ChineseCrsSuspected
        As described in the module docstring.

    Examples
    --------
    >>> from shapely import LineString, Point
    >>> from geoplan.network import network_from_lines
    >>> net = network_from_lines(gpd.GeoDataFrame(
    ...     geometry=[LineString([(0, 0), (1000, 0)])], crs=32650))
    >>> near = gpd.GeoDataFrame(geometry=[Point(100, 20), Point(500, -30)], crs=32650)
    >>> check_alignment(net, profile="mofcom-15min", buildings=near).layer("buildings").gap_m
    0.0
    >>> far = gpd.GeoDataFrame(geometry=[Point(100, 900_000)], crs=32650)
    >>> far.attrs["source_file"] = "楼.csv"
    >>> check_alignment(net, profile="mofcom-15min", buildings=far)
    Traceback (most recent call last):
    ...
    geoplan.alignment.LayersApart: 楼.csv: buildings and the walking network do not overlap: ...
    """
    from geoplan.profiles import load_profile

    prof = load_profile(profile) if isinstance(profile, str) else profile
    max_snap = prof.number("max_snap_m")
    params = {
        name: float(prof.number(name))
        for name in (
            "align_min_snapped_share",
            "crs_check_rms_ratio",
            "crs_check_min_points",
            "crs_check_min_rms_m",
            "crs_check_min_boundary_m",
            "align_sample_points",
        )
        if name in prof.parameters
    }
    net_name = network_file or "the walking network"
    net_name_zh = network_file or "步行网络"
    if network.n_edges == 0:
        raise OffNetwork(
            "the walking network has no walkable edge",
            message_zh="步行网络没有可步行的路段",
            file=network_file,
        )
    net_box = _network_box(network)
    entries: list[LayerAlignment] = []
    for name, frame in (
        ("buildings", buildings),
        ("facilities", facilities),
        ("communities", communities),
    ):
        if not isinstance(frame, gpd.GeoDataFrame) or len(frame) == 0:
            continue  # absent, or a table without geometry (a ledger)
        if frame.geometry.is_empty.all() or frame.geometry.isna().all():
            continue
        file = str(frame.attrs.get("source_file", f"<{name}>"))
        if frame.crs is not None and not pyproj.CRS(frame.crs).equals(network.crs):
            stated = frame.attrs.get("crs_stated")
            frame = frame.to_crs(network.crs)
            frame.attrs.update(source_file=file, crs_stated=stated)
        gap = float(shapely.distance(net_box, shapely.box(*frame.total_bounds)))
        if not gap <= max_snap:
            raise LayersApart(
                f"{name} and the walking network do not overlap: their extents are "
                f"{_distance_text(gap)} apart, farther than max_snap_m = {max_snap:g} m "
                f"(the network: {net_name}); check that both cover the same place and "
                "that the coordinates are what --crs says",
                message_zh=f"{_LAYER_ZH[name]}与步行网络（{net_name_zh}）的范围不重叠：相距 "
                f"{_distance_text(gap)}，超过 max_snap_m = {max_snap:g} 米；请检查两者是否为"
                "同一地区、坐标系是否与 --crs 一致",
                file=file,
                layer=name,
            )
        entries.append(_check_layer(network, name, frame, file, gap, net_box, max_snap, params))
    if (
        isinstance(buildings, gpd.GeoDataFrame)
        and isinstance(communities, gpd.GeoDataFrame)
        and len(buildings)
        and len(communities)
    ):
        b_file = str(buildings.attrs.get("source_file", "<buildings>"))
        c_file = str(communities.attrs.get("source_file", "<communities>"))
        gap = float(
            shapely.distance(
                shapely.box(*buildings.total_bounds), shapely.box(*communities.total_bounds)
            )
        )
        if not gap <= max_snap:
            raise LayersApart(
                f"communities and buildings ({b_file}) do not overlap: their extents are "
                f"{_distance_text(gap)} apart",
                message_zh=f"社区与建筑（{b_file}）的范围不重叠：相距 {_distance_text(gap)}",
                file=c_file,
                layer="communities",
            )
    return AlignmentReport(tuple(entries))


def _check_layer(
    network: WalkNetwork,
    name: str,
    frame: gpd.GeoDataFrame,
    file: str,
    gap: float,
    net_box: shapely.Geometry,
    max_snap: float,
    params: Mapping[str, float],
) -> LayerAlignment:
    n_max = int(params.get("align_sample_points", 0)) or None
    boundary = name == "communities"
    if boundary:
        pts, length = _boundary_points(frame, net_box, n_max)
    elif name == "facilities":  # those that could serve the network's area
        pts, length = _feature_points(frame), math.inf
        reach = shapely.buffer(net_box, max_snap)
        pts = _sample(pts[shapely.intersects(reach, pts)], n_max)
    else:  # the sample's points only (a point on each polygon costs at city scale)
        pts, length = _feature_points(frame, n_max), math.inf
    dist = nearest_edges(network, pts)[2]
    snapped = median = None
    rms = _capped_rms(dist, max_snap) if dist.size else None
    if not boundary:
        snapped = float(np.mean(dist <= max_snap)) if dist.size else 0.0
        median = float(np.median(dist)) if dist.size else math.inf
    stated = frame.attrs.get("crs_stated")
    ratios: dict[str, float] = {}
    min_points = params.get("crs_check_min_points")
    if (
        not stated
        and rms is not None
        and min_points is not None
        and dist.size >= min_points
        and length >= params.get("crs_check_min_boundary_m", 0.0)
        and rms > 0
    ):
        ratios = _conversion_ratios(network, pts, max_snap, rms)
    entry = LayerAlignment(name, file, int(dist.size), gap, snapped, median, rms, ratios)
    threshold = params.get("crs_check_rms_ratio")
    misfit = params.get("crs_check_min_rms_m")
    best = min(ratios, key=lambda k: ratios[k]) if ratios else None
    suspect = None  # checked first: when it explains the misfit, it is the message
    # both: the layer as read sits off the streets, and read as GCJ-02/BD-09 it sits
    # much closer (a regular street grid can flatter a shifted layer that was on its
    # streets already; the misfit floor keeps that from counting)
    if (
        best is not None
        and threshold is not None
        and misfit is not None
        and rms is not None
        and rms >= misfit
        and ratios[best] < threshold
    ):
        suspect = best
    if suspect is not None:
        label, who = _SYSTEMS[suspect]
        assert rms is not None
        after = rms * ratios[suspect]
        raise ChineseCrsSuspected(
            f"{name} look like {label} coordinates ({who}) over a WGS84 network: read as "
            f"{label}, their distance to the nearest street drops from {rms:,.0f} m to "
            f"{after:,.0f} m (root mean square, each capped at {max_snap:g} m, "
            f"{dist.size:,} points). Give --crs {suspect}; if they really are WGS84, "
            "give --crs wgs84",
            message_zh=f"{_LAYER_ZH[name]}看起来是 {label} 坐标（{who}），而步行网络是 WGS84："
            f"按 {label} 读取后，到最近街道的距离由 {rms:,.0f} 米降到 {after:,.0f} 米"
            f"（均方根，每点最多计 {max_snap:g} 米，{dist.size:,} 个点）。请加 --crs {suspect}；"
            "若确为 WGS84，请加 --crs wgs84",
            file=file,
            layer=name,
            system=suspect,
        )
    min_share = params.get("align_min_snapped_share")
    if snapped is not None and min_share is not None and snapped < min_share:
        assert median is not None
        raise OffNetwork(
            f"{name}: {1 - snapped:.0%} of {dist.size:,} lie farther than max_snap_m = "
            f"{max_snap:g} m from the walking network (median distance to the nearest "
            f"street {_distance_text(median)}); fewer than {min_share:.0%} can reach a "
            f"street, so an audit would be meaningless",
            message_zh=f"{_LAYER_ZH[name]}：{dist.size:,} 个中有 {1 - snapped:.0%} 距步行网络超过 "
            f"max_snap_m = {max_snap:g} 米（到最近街道的距离中位数 {_distance_text(median)}）；"
            f"能接入街道的不足 {min_share:.0%}，审查没有意义",
            file=file,
            layer=name,
        )
    return entry


def _network_box(network: WalkNetwork) -> shapely.Geometry:
    xy = network.edge_coordinates()  # no shapely lines built for a loaded network
    if xy.size == 0:
        xy = np.column_stack([network.x, network.y])
    x, y = xy[:, 0], xy[:, 1]  # column by column: 15x faster than min(axis=0) on (n, 2)
    return shapely.box(x.min(), y.min(), x.max(), y.max())


def _feature_points(frame: gpd.GeoDataFrame, n_max: int | None = None) -> np.ndarray:
    """A point on each feature, or on :func:`_sample`'s ``n_max`` of them."""
    geoms = np.asarray(frame.geometry.array)
    geoms = _sample(geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))], n_max)
    return np.asarray(shapely.point_on_surface(geoms), dtype=object)


def _boundary_points(
    frame: gpd.GeoDataFrame, box: shapely.Geometry, n_max: int | None
) -> tuple[np.ndarray, float]:
    """Points along the polygons' boundaries inside ``box`` (about ``n_max``), and
    the length of those boundaries (m)."""
    geoms = np.asarray(frame.geometry.array)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    lines = shapely.intersection(shapely.boundary(geoms), box)
    length = float(shapely.length(lines).sum())
    if length <= 0:
        return np.zeros(0, dtype=object), 0.0
    step = length / float(n_max) if n_max else length / 1000.0
    xy = shapely.get_coordinates(shapely.segmentize(lines, step))
    return np.asarray(shapely.points(xy), dtype=object), length


def _sample(pts: np.ndarray, n_max: int | None) -> np.ndarray:
    """At most ``n_max`` of ``pts``, evenly spread over their order (deterministic)."""
    if n_max is None or pts.size <= n_max:
        return pts
    return pts[np.unique(np.linspace(0, pts.size - 1, n_max).round().astype(np.int64))]


def _capped_rms(dist: np.ndarray, cap: float) -> float:
    d = np.minimum(np.nan_to_num(dist, nan=cap, posinf=cap), cap)
    return float(np.sqrt(np.mean(d * d)))


def _conversion_ratios(
    network: WalkNetwork, pts: np.ndarray, cap: float, rms: float
) -> dict[str, float]:
    """Capped RMS snap distance after reading the points as GCJ-02 / BD-09, over ``rms``."""
    crs = pyproj.CRS(network.crs)
    to_lonlat = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    from_lonlat = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    xy = shapely.get_coordinates(pts)
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if not bool(np.mean(in_china(lon, lat)) > 0.5):  # the shifts exist only in China
        return {}
    out: dict[str, float] = {}
    for system, convert in _TO_WGS84.items():
        wl, wb = convert(lon, lat)
        x, y = from_lonlat.transform(np.asarray(wl), np.asarray(wb))
        moved = shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
        # beyond the cap a point counts as the cap: no exact search for it
        dist = nearest_edges(network, moved, max_distance_m=cap)[2]
        out[system] = round(_capped_rms(dist, cap) / rms, 4)
    return out


def _distance_text(m: float) -> str:
    if not math.isfinite(m):
        return "∞"
    return f"{m / 1000.0:,.1f} km" if m >= 10_000 else f"{m:,.0f} m"

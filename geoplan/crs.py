"""Coordinate reference systems: local metric CRSs and China's GCJ-02 / BD-09.

geoplan measures in metres in a projected CRS. :func:`local_metric_crs` picks one
(WGS84 UTM by default, or a CGCS2000 3-degree Gauss-Krüger zone on request) and
:func:`to_metric` projects a frame to it.

Maps and geocoders in China publish coordinates in two obfuscated systems that
PROJ will never support (PROJ#982):

- **GCJ-02** ("Mars coordinates", AMap/Gaode, Tencent, Google Maps China): WGS84
  plus a smooth, position-dependent shift of a few hundred metres (407 m on
  average over China, 707 m at most).
- **BD-09** (Baidu): GCJ-02 with a further polar-coordinate shift of a few hundred
  metres.

The forward formulas are the published ones (Krasovsky 1940 ellipsoid,
``a = 6378245.0``, ``ee = 0.00669342162296594323``). The inverses have no closed
form; the one-step inverse found in most libraries is off by 0.9 m on average and
4.8 m at worst, so this module solves them by fixed-point iteration to under
1e-10 degrees (about 1e-5 m).

Out-of-China rule
-----------------
A point is shifted only when its WGS84 coordinate lies in the rectangle
73.66-135.05 E, 3.86-53.55 N (the rule of the widely used ``coordtransform``
package; points outside are returned unchanged). The *same* test decides both
directions: forward conversions test their WGS84 input, inverse conversions test
the WGS84 point they solve for. So a WGS84 point anywhere in the rectangle,
including right at its edge, survives a round trip. Because the shift moves
points, a thin strip (under 1 km) along the rectangle's edge is ambiguous: there a
GCJ-02 coordinate is the image of both an in-rectangle point (shifted) and an
out-of-rectangle point (unchanged); the inverse returns the in-rectangle one.
GCJ-02 <-> BD-09 conversions test the GCJ-02 coordinate in the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar, overload

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import ArrayLike, NDArray

from geoplan._errors import InputError

if TYPE_CHECKING:
    from geoplan._types import CRSLike

__all__ = [
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cgcs2000_3deg_epsg",
    "convert_geometries",
    "from_user_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "local_metric_crs",
    "looks_swapped",
    "to_metric",
    "utm_epsg",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

Floats: TypeAlias = NDArray[np.float64]
Frame = TypeVar("Frame", gpd.GeoDataFrame, gpd.GeoSeries)
#: What :func:`local_metric_crs` measures: a frame or series with a CRS, or lon/lat bounds.
Extent: TypeAlias = "gpd.GeoDataFrame | gpd.GeoSeries | ArrayLike"

# Krasovsky 1940 ellipsoid used by the GCJ-02 formulas.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
# BD-09 constant: pi * 3000 / 180.
_BD_X_PI = np.pi * 3000.0 / 180.0
_BD_DLON = 0.0065
_BD_DLAT = 0.006

# The out-of-China rectangle (see the module docstring).
_GCJ_LON = (73.66, 135.05)
_GCJ_LAT = (3.86, 53.55)

# Plausible lon/lat of Chinese data, for the swapped-axes check.
_CHINA_LON = (73.0, 136.0)
_CHINA_LAT = (3.0, 54.0)

# CGCS2000 / 3-degree Gauss-Kruger CM 75E .. CM 135E are EPSG:4534 .. EPSG:4554.
_CGCS2000_3DEG_FIRST_EPSG = 4534
_CGCS2000_3DEG_CM = (75, 135)

_GEOGRAPHIC = "EPSG:4326"  # a string: no PROJ database lookup at import time
_SYSTEMS = ("wgs84", "gcj02", "bd09")
_DEFAULT_TOL_DEG = 1e-10
_DEFAULT_MAX_ITER = 30


# --------------------------------------------------------------------------------------
# local metric CRS


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS84 UTM zone holding ``(lon, lat)``.

    Zones are the regular 6-degree ones (the Norway and Svalbard exceptions are
    not applied). EPSG:326zz north of the equator, EPSG:327zz south of it.

    Examples
    --------
    >>> utm_epsg(117.2, 39.1)
    32650
    """
    zone = int(np.floor((lon + 180.0) / 6.0)) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def cgcs2000_3deg_epsg(central_meridian: float) -> int:
    """EPSG code of "CGCS2000 / 3-degree Gauss-Kruger CM {cm}E".

    Parameters
    ----------
    central_meridian
        A multiple of 3 from 75 to 135 (degrees east).

    Examples
    --------
    >>> cgcs2000_3deg_epsg(117)
    4548
    """
    low, high = _CGCS2000_3DEG_CM
    cm = float(central_meridian)
    if not (cm.is_integer() and int(cm) % 3 == 0 and low <= cm <= high):
        raise ValueError(
            f"no CGCS2000 3-degree Gauss-Kruger zone has central meridian {central_meridian}: "
            f"use a multiple of 3 from {low} to {high}"
        )
    return _CGCS2000_3DEG_FIRST_EPSG + (int(cm) - low) // 3


def _lonlat_bounds(data: Extent) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) of a frame, series or bounds tuple."""
    if isinstance(data, gpd.GeoDataFrame | gpd.GeoSeries):
        source = data.attrs.get("source_file")
        if data.crs is None:
            raise InputError(
                "the data has no CRS, so its longitude and latitude are unknown; "
                "set one (e.g. gdf.set_crs('EPSG:4326'))",
                file=source,
            )
        bounds = np.asarray(data.total_bounds, dtype=float)
        if not np.all(np.isfinite(bounds)):
            raise InputError("the data has no (non-empty) geometries", file=source)
        if not pyproj.CRS.from_user_input(data.crs).equals(_GEOGRAPHIC, ignore_axis_order=True):
            transformer = pyproj.Transformer.from_crs(data.crs, _GEOGRAPHIC, always_xy=True)
            bounds = np.asarray(transformer.transform_bounds(*bounds), dtype=float)
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        return minx, miny, maxx, maxy
    values = np.asarray(data, dtype=float).ravel()
    if values.size != 4 or not np.all(np.isfinite(values)):
        raise ValueError(
            "expected a GeoDataFrame, a GeoSeries or lon/lat bounds (minx, miny, maxx, maxy), "
            f"got {data!r}"
        )
    return float(values[0]), float(values[1]), float(values[2]), float(values[3])


def _metric(crs: pyproj.CRS) -> pyproj.CRS:
    units = {axis.unit_name for axis in crs.axis_info}
    if not crs.is_projected or not units <= {"metre", "meter"}:
        raise ValueError(f"{crs.name} is not a projected CRS in metres")
    return crs


def local_metric_crs(data: Extent, *, zone: CRSLike | np.integer | None = None) -> pyproj.CRS:
    """A projected CRS in metres suited to the data's extent.

    Parameters
    ----------
    data
        A GeoDataFrame or GeoSeries with a CRS, or lon/lat bounds
        ``(minx, miny, maxx, maxy)``.
    zone
        ``None`` or ``"utm"``: the WGS84 UTM zone (EPSG:326zz/327zz) of the centre
        of the data's lon/lat bounds. ``"cgcs2000-3deg"``: the CGCS2000 3-degree
        Gauss-Krüger zone (EPSG:4534-4554, no zone prefix on eastings) whose
        central meridian is nearest that centre. An int that is a multiple of 3
        from 75 to 135: the Gauss-Krüger zone with that central meridian. Any
        other CRS-like value (an EPSG int, ``"EPSG:32650"``, a ``pyproj.CRS``) is
        returned as a ``pyproj.CRS``; it must be projected and in metres.

    Returns
    -------
    pyproj.CRS

    Examples
    --------
    >>> local_metric_crs((117.1, 39.0, 117.3, 39.2)).to_epsg()
    32650
    >>> local_metric_crs((117.1, 39.0, 117.3, 39.2), zone="cgcs2000-3deg").to_epsg()
    4548
    >>> local_metric_crs((117.1, 39.0, 117.3, 39.2), zone=114).to_epsg()
    4547
    """
    if isinstance(zone, str) and zone.strip().lower() in {"utm", "cgcs2000-3deg"}:
        kind = zone.strip().lower()
    elif zone is None:
        kind = "utm"
    elif isinstance(zone, int | np.integer) and not isinstance(zone, bool) and zone < 1000:
        return pyproj.CRS.from_epsg(cgcs2000_3deg_epsg(int(zone)))
    elif isinstance(zone, np.integer):
        return _metric(pyproj.CRS.from_epsg(int(zone)))
    else:
        return _metric(pyproj.CRS.from_user_input(zone))
    minx, miny, maxx, maxy = _lonlat_bounds(data)
    lon, lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    if kind == "utm":
        return pyproj.CRS.from_epsg(utm_epsg(lon, lat))
    low, high = _CGCS2000_3DEG_CM
    cm = int(np.clip(3 * np.round(lon / 3.0), low, high))
    return pyproj.CRS.from_epsg(cgcs2000_3deg_epsg(cm))


def to_metric(gdf: Frame, *, crs: CRSLike | None = None) -> Frame:
    """Project a frame to a metric CRS (a new frame; the input is unchanged).

    Parameters
    ----------
    gdf
        GeoDataFrame or GeoSeries with a CRS. ``gdf.attrs['source_file']``, when
        present, names the file in errors.
    crs
        Anything :func:`local_metric_crs` takes as ``zone``: ``None`` (UTM),
        ``"cgcs2000-3deg"``, a central meridian, or a projected CRS.

    Raises
    ------
    InputError
        The frame has no CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(117.2, 39.1)], crs="EPSG:4326")
    >>> to_metric(g).crs.to_epsg()
    32650
    """
    if gdf.crs is None:
        raise InputError(
            "the data has no CRS: say which one it is in (e.g. gdf.set_crs('EPSG:4326')) "
            "before projecting it",
            file=gdf.attrs.get("source_file"),
        )
    target = local_metric_crs(gdf, zone=crs)
    return gdf.to_crs(target)


# --------------------------------------------------------------------------------------
# GCJ-02 and BD-09


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where ``(lon, lat)`` lies inside the out-of-China rectangle.

    The rectangle is 73.66-135.05 E, 3.86-53.55 N (edges excluded), the rule of
    the ``coordtransform`` package. It is a coarse rule: it includes Korea,
    Mongolia and parts of neighbouring countries, as GCJ-02 tools do.

    Examples
    --------
    >>> in_china([117.2, 2.35], [39.1, 48.85]).tolist()
    [True, False]
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    return np.asarray(
        (x > _GCJ_LON[0]) & (x < _GCJ_LON[1]) & (y > _GCJ_LAT[0]) & (y < _GCJ_LAT[1]),
        dtype=bool,
    )


def _gcj_shift(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The GCJ-02 forward formula without the out-of-China test."""
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def _bd_shift(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    """The BD-09 forward formula (from GCJ-02) without the out-of-China test."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + _BD_DLON, z * np.sin(theta) + _BD_DLAT


def _wgs_to_bd_shift(lon: Floats, lat: Floats) -> tuple[Floats, Floats]:
    return _bd_shift(*_gcj_shift(lon, lat))


Shift = Callable[[Floats, Floats], tuple[Floats, Floats]]


def _solve(
    shift: Shift, lon: Floats, lat: Floats, tol: float, max_iter: int
) -> tuple[Floats, Floats]:
    """Solve ``shift(x, y) == (lon, lat)`` by fixed-point iteration.

    ``x <- x - (shift(x) - target)`` converges because the shifts vary slowly
    (their Jacobian is within a few thousandths of the identity).
    """
    x, y = lon.copy(), lat.copy()
    active = np.isfinite(x) & np.isfinite(y)
    for _ in range(max_iter):
        if not active.any():
            break
        sx, sy = shift(x[active], y[active])
        dx = sx - lon[active]
        dy = sy - lat[active]
        x[active] -= dx
        y[active] -= dy
        done = (np.abs(dx) < tol) & (np.abs(dy) < tol)
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    if active.any():
        raise ArithmeticError(
            f"the inverse conversion did not converge to {tol} degrees within {max_iter} "
            f"iterations for {int(active.sum())} point(s); raise max_iter or tol"
        )
    return x, y


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats, tuple[int, ...]]:
    """Flat float copies of broadcast ``lon``, ``lat`` and their common shape."""
    x, y = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return x.ravel().copy(), y.ravel().copy(), x.shape


def _out(x: Floats, y: Floats, shape: tuple[int, ...]) -> Any:
    if shape == ():
        return float(x[0]), float(y[0])
    return x.reshape(shape), y.reshape(shape)


def _forward(shift: Shift, lon: ArrayLike, lat: ArrayLike) -> Any:
    x, y, shape = _as_arrays(lon, lat)
    sx, sy = shift(x, y)
    inside = in_china(x, y)
    return _out(np.where(inside, sx, x), np.where(inside, sy, y), shape)


def _inverse(shift: Shift, lon: ArrayLike, lat: ArrayLike, tol: float, max_iter: int) -> Any:
    x, y, shape = _as_arrays(lon, lat)
    sx, sy = _solve(shift, x, y, tol, max_iter)
    inside = in_china(sx, sy)
    return _out(np.where(inside, sx, x), np.where(inside, sy, y), shape)


@overload
def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]: ...
def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Any:
    """Convert WGS84 lon/lat to GCJ-02 (points outside China unchanged).

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays (broadcast together).

    Returns
    -------
    (lon, lat)
        Floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410244, 39.916404)
    """
    return _forward(_gcj_shift, lon, lat)


@overload
def gcj02_to_wgs84(
    lon: float, lat: float, *, tol: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = ..., max_iter: int = ...
) -> tuple[Floats, Floats]: ...
def gcj02_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> Any:
    """Convert GCJ-02 lon/lat to WGS84 by fixed-point iteration.

    Parameters
    ----------
    lon, lat
        Degrees; scalars or arrays (broadcast together).
    tol
        Stop when the last correction is below this many degrees in both axes
        (1e-10 degrees is about 0.01 mm).
    max_iter
        Give up (``ArithmeticError``) after this many iterations; four or five
        suffice in practice.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(116.410244, 39.916404)
    >>> round(lon, 6), round(lat, 6)
    (116.404, 39.915)
    """
    return _inverse(_gcj_shift, lon, lat, tol, max_iter)


@overload
def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]: ...
def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Any:
    """Convert GCJ-02 lon/lat to BD-09 (points outside China unchanged).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.410369, 39.921337)
    """
    return _forward(_bd_shift, lon, lat)


@overload
def bd09_to_gcj02(
    lon: float, lat: float, *, tol: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = ..., max_iter: int = ...
) -> tuple[Floats, Floats]: ...
def bd09_to_gcj02(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> Any:
    """Convert BD-09 lon/lat to GCJ-02 by fixed-point iteration.

    Examples
    --------
    >>> lon, lat = bd09_to_gcj02(116.410369, 39.921337)
    >>> round(lon, 6), round(lat, 6)
    (116.404, 39.915)
    """
    return _inverse(_bd_shift, lon, lat, tol, max_iter)


@overload
def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]: ...
@overload
def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Floats, Floats]: ...
def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Any:
    """Convert WGS84 lon/lat to BD-09 (points outside China unchanged).

    Examples
    --------
    >>> lon, lat = wgs84_to_bd09(116.404, 39.915)
    >>> round(lon, 6), round(lat, 6)
    (116.416627, 39.9227)
    """
    return _forward(_wgs_to_bd_shift, lon, lat)


@overload
def bd09_to_wgs84(
    lon: float, lat: float, *, tol: float = ..., max_iter: int = ...
) -> tuple[float, float]: ...
@overload
def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tol: float = ..., max_iter: int = ...
) -> tuple[Floats, Floats]: ...
def bd09_to_wgs84(
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    tol: float = _DEFAULT_TOL_DEG,
    max_iter: int = _DEFAULT_MAX_ITER,
) -> Any:
    """Convert BD-09 lon/lat to WGS84 by fixed-point iteration.

    Examples
    --------
    >>> lon, lat = bd09_to_wgs84(*wgs84_to_bd09(116.404, 39.915))
    >>> round(lon, 9), round(lat, 9)
    (116.404, 39.915)
    """
    return _inverse(_wgs_to_bd_shift, lon, lat, tol, max_iter)


_CONVERTERS: dict[tuple[str, str], Callable[[Floats, Floats], tuple[Floats, Floats]]] = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}


def _apply_xy(data: Frame, convert: Callable[[Floats, Floats], tuple[Floats, Floats]]) -> Frame:
    """A copy of ``data`` with ``convert`` applied to every x, y; CRS EPSG:4326."""

    def transform(coords: Floats) -> Floats:
        result = np.array(coords, dtype=float)
        result[:, 0], result[:, 1] = convert(coords[:, 0], coords[:, 1])
        return result

    geoms = shapely.transform(np.asarray(data.geometry.array), transform, include_z=None)
    series = gpd.GeoSeries(geoms, index=data.index, crs=_GEOGRAPHIC)
    if isinstance(data, gpd.GeoDataFrame):
        out = data.copy()
        out[out.geometry.name] = series
        return out.set_crs(_GEOGRAPHIC, allow_override=True)
    series.name = data.name
    series.attrs = dict(data.attrs)
    return series


def _system(name: str, role: str) -> str:
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    if key not in _SYSTEMS:
        raise ValueError(f"unknown {role} coordinate system {name!r}: use one of {_SYSTEMS}")
    return key


def convert_geometries(data: Frame, *, source: str, target: str) -> Frame:
    """Convert every coordinate between WGS84, GCJ-02 and BD-09.

    Parameters
    ----------
    data
        GeoSeries or GeoDataFrame in lon/lat (no CRS, or a geographic one; the
        declared CRS is ignored, ``source`` says what the numbers really are).
    source, target
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

    Returns
    -------
    A new GeoSeries or GeoDataFrame (same type and index as the input) with CRS
    EPSG:4326. Z values are kept.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoSeries([Point(116.410244, 39.916404)], crs="EPSG:4326")
    >>> p = convert_geometries(s, source="gcj02", target="wgs84").iloc[0]
    >>> round(p.x, 6), round(p.y, 6)
    (116.404, 39.915)
    """
    src = _system(source, "source")
    dst = _system(target, "target")
    if data.crs is not None and not pyproj.CRS.from_user_input(data.crs).is_geographic:
        raise InputError(
            f"expected longitude/latitude coordinates in {src}, but the data is in the "
            f"projected CRS {data.crs.name}",
            file=data.attrs.get("source_file"),
        )
    if src == dst:
        return data.set_crs(_GEOGRAPHIC, allow_override=True)
    return _apply_xy(data, _CONVERTERS[(src, dst)])


def from_user_crs(gdf: Frame, crs: CRSLike) -> Frame:
    """Read coordinates as being in the CRS the user names; return WGS84 lon/lat.

    Use it when a file's declared CRS is wrong, e.g. AMap data that says WGS84
    but is GCJ-02.

    Parameters
    ----------
    gdf
        GeoDataFrame or GeoSeries; its declared CRS is ignored.
    crs
        ``"gcj02"`` or ``"bd09"`` (also ``"gcj-02"``, ``"bd-09"``): the
        coordinates are lon/lat in that system. ``"wgs84"``: already WGS84.
        Anything else is given to pyproj (``"EPSG:4490"``, ``4548``, a
        ``pyproj.CRS``); coordinates are read in x = easting/longitude,
        y = northing/latitude order whatever the CRS's official axis order.

    Returns
    -------
    A new frame with CRS EPSG:4326.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoSeries([Point(117.2, 39.1)], crs="EPSG:4326")
    >>> round(from_user_crs(s, "gcj02").iloc[0].x, 4)
    117.1937
    """
    if isinstance(crs, str):
        key = crs.strip().lower().replace("-", "").replace("_", "")
        if key in _SYSTEMS:
            return convert_geometries(
                gdf.set_crs(_GEOGRAPHIC, allow_override=True), source=key, target="wgs84"
            )
    transformer = pyproj.Transformer.from_crs(
        pyproj.CRS.from_user_input(crs), _GEOGRAPHIC, always_xy=True
    )

    def convert(x: Floats, y: Floats) -> tuple[Floats, Floats]:
        tx, ty = transformer.transform(x, y)
        return np.asarray(tx, dtype=float), np.asarray(ty, dtype=float)

    return _apply_xy(gdf, convert)


def looks_swapped(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where a point of Chinese data has its longitude and latitude swapped.

    Chinese data has longitude in 73-136 and latitude in 3-54; a point with
    x in 3-54 and y in 73-136 was almost surely written (lat, lon).

    Examples
    --------
    >>> looks_swapped([117.2, 39.1], [39.1, 117.2]).tolist()
    [False, True]
    """
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    return np.asarray(
        (x >= _CHINA_LAT[0]) & (x <= _CHINA_LAT[1]) & (y >= _CHINA_LON[0]) & (y <= _CHINA_LON[1]),
        dtype=bool,
    )

"""Tests of geoplan.crs: metric CRS choice, GCJ-02 / BD-09 conversions."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon

from geoplan._errors import InputError
from geoplan.crs import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    cgcs2000_3deg_epsg,
    convert_geometries,
    from_user_crs,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    local_metric_crs,
    looks_swapped,
    to_metric,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = pyproj.Geod(ellps="WGS84")
CM = 0.01  # one centimetre, in metres

# The out-of-China rectangle of geoplan.crs (edges excluded).
LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 73.66, 135.05, 3.86, 53.55
EPS = 1e-7

TIANJIN_DISTRICTS = ["120101", "120102", "120103", "120104", "120105", "120106"]


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Geodesic distance in metres between two sets of lon/lat points."""
    _, _, dist = GEOD.inv(
        np.asarray(lon1, float),
        np.asarray(lat1, float),
        np.asarray(lon2, float),
        np.asarray(lat2, float),
    )
    return np.asarray(dist, dtype=float)


def random_china(n: int, seed: int, margin: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random points inside the rectangle, ``margin`` degrees from its edges."""
    rng = np.random.default_rng(seed)
    return (
        rng.uniform(LON_MIN + margin, LON_MAX - margin, n),
        rng.uniform(LAT_MIN + margin, LAT_MAX - margin, n),
    )


china_lon = st.floats(LON_MIN + EPS, LON_MAX - EPS, allow_nan=False)
china_lat = st.floats(LAT_MIN + EPS, LAT_MAX - EPS, allow_nan=False)


# --------------------------------------------------------------------------------------
# forward formulas


def test_forward_matches_published_coordtransform_values():
    # wandergis/coordtransform test/app.js, input (116.404, 39.915)
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx(
        (116.41024449916938, 39.91640428150164), abs=1e-12
    )
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx(
        (116.41036949371029, 39.92133699351021), abs=1e-12
    )


def test_forward_shift_is_hundreds_of_metres():
    lon, lat = random_china(10_000, seed=1)
    glon, glat = wgs84_to_gcj02(lon, lat)
    shift = metres(lon, lat, glon, glat)
    msg = f"mean {shift.mean():.1f} m, max {shift.max():.1f} m"
    assert 250 < shift.mean() < 550, msg
    assert shift.max() < 800, msg
    assert shift.min() > 0, msg
    blon, blat = wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, blon, blat).mean() > shift.mean()


def test_scalars_give_floats_and_arrays_keep_their_shape():
    lon, lat = wgs84_to_gcj02(117.2, 39.1)
    assert type(lon) is float
    assert type(lat) is float
    x, y = gcj02_to_wgs84(np.full((2, 3), 117.2), np.full((2, 3), 39.1))
    assert x.shape == (2, 3)
    assert y.shape == (2, 3)
    x, y = bd09_to_wgs84([117.2, 120.6], 31.3)  # broadcast
    assert x.shape == (2,)
    x, y = wgs84_to_bd09(np.array([]), np.array([]))
    assert x.shape == (0,)


def test_nan_coordinates_stay_nan_and_do_not_block_the_others():
    lon, lat = gcj02_to_wgs84([np.nan, 117.2], [39.1, 39.1])
    assert np.isnan(lon[0])
    assert np.isfinite(lon[1])
    assert metres(*wgs84_to_gcj02(lon[1], lat[1]), 117.2, 39.1) < CM


def test_inputs_are_not_modified():
    lon = np.array([117.2, 120.6])
    lat = np.array([39.1, 31.3])
    gcj02_to_wgs84(lon, lat)
    wgs84_to_bd09(lon, lat)
    np.testing.assert_array_equal(lon, [117.2, 120.6])
    np.testing.assert_array_equal(lat, [39.1, 31.3])


# --------------------------------------------------------------------------------------
# inverses


def test_iterative_inverse_beats_one_step_inverse():
    lon, lat = random_china(10_000, seed=2)
    glon, glat = wgs84_to_gcj02(lon, lat)
    # the common one-step inverse: w = 2 g - f(g)
    flon, flat = wgs84_to_gcj02(glon, glat)
    one_step = metres(lon, lat, 2 * glon - flon, 2 * glat - flat)
    assert one_step.mean() > 0.3, f"one-step mean {one_step.mean():.3f} m"
    assert one_step.max() > 2.0, f"one-step max {one_step.max():.3f} m"
    err = metres(lon, lat, *gcj02_to_wgs84(glon, glat))
    assert err.max() < CM, f"iterative: mean {err.mean():.2e} m, max {err.max():.2e} m"


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
        (wgs84_to_bd09, bd09_to_wgs84),
    ],
)
def test_round_trip_10k_points_under_a_centimetre(forward, inverse):
    lon, lat = random_china(10_000, seed=3)
    back = inverse(*forward(lon, lat))
    err = metres(lon, lat, *back)
    assert err.max() < CM, f"{forward.__name__}: mean {err.mean():.2e} m, max {err.max():.2e} m"
    # and the other way, from obfuscated coordinates: this holds away from the
    # rectangle's edge (within ~1 km of it some obfuscated coordinates have no
    # WGS84 preimage at all, see test_border_strip_behaviour)
    lon, lat = random_china(10_000, seed=4, margin=0.05)
    again = forward(*inverse(lon, lat))
    err = metres(lon, lat, *again)
    assert err.max() < CM, f"{inverse.__name__}: mean {err.mean():.2e} m, max {err.max():.2e} m"


@settings(max_examples=200, deadline=None)
@given(lon=china_lon, lat=china_lat)
def test_round_trip_hypothesis_points(lon, lat):
    err_gcj = metres(lon, lat, *gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat)))
    err_bd = metres(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat)))
    err_gb = metres(lon, lat, *bd09_to_gcj02(*gcj02_to_bd09(lon, lat)))
    assert err_gcj < CM, f"gcj02 round trip off by {err_gcj:.2e} m at ({lon}, {lat})"
    assert err_bd < CM, f"bd09 round trip off by {err_bd:.2e} m at ({lon}, {lat})"
    assert err_gb < CM, f"gcj02-bd09 round trip off by {err_gb:.2e} m at ({lon}, {lat})"


def test_round_trip_holds_just_inside_the_border():
    n = 200
    t = np.linspace(0, 1, n)
    lon = np.concatenate(
        [
            np.full(n, LON_MIN + EPS),
            np.full(n, LON_MAX - EPS),
            LON_MIN + EPS + t * (LON_MAX - LON_MIN - 2 * EPS),
            LON_MIN + EPS + t * (LON_MAX - LON_MIN - 2 * EPS),
        ]
    )
    lat = np.concatenate(
        [
            LAT_MIN + EPS + t * (LAT_MAX - LAT_MIN - 2 * EPS),
            LAT_MIN + EPS + t * (LAT_MAX - LAT_MIN - 2 * EPS),
            np.full(n, LAT_MIN + EPS),
            np.full(n, LAT_MAX - EPS),
        ]
    )
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert metres(lon, lat, glon, glat).min() > 1.0  # shifted: they are inside
    assert not in_china(glon, glat).all()  # some shifted points left the rectangle
    err = metres(lon, lat, *gcj02_to_wgs84(glon, glat))
    assert err.max() < CM, f"mean {err.mean():.2e} m, max {err.max():.2e} m"
    err = metres(lon, lat, *bd09_to_wgs84(*wgs84_to_bd09(lon, lat)))
    assert err.max() < CM, f"bd09: mean {err.mean():.2e} m, max {err.max():.2e} m"


@pytest.mark.parametrize(
    "func",
    [wgs84_to_gcj02, gcj02_to_wgs84, gcj02_to_bd09, bd09_to_gcj02, wgs84_to_bd09, bd09_to_wgs84],
)
def test_points_outside_china_are_unchanged(func):
    # Paris, Tokyo, Sydney, New York, (0, 0), and just outside each edge
    lon = np.array([2.3522, 139.6917, 151.2093, -74.006, 0.0, 73.6, 135.1, 100.0, 100.0])
    lat = np.array([48.8566, 35.6895, -33.8688, 40.7128, 0.0, 30.0, 30.0, 3.8, 53.6])
    out_lon, out_lat = func(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


def test_forward_leaves_the_edges_themselves_unchanged():
    lon = np.array([LON_MIN, LON_MAX, 100.0, 100.0])
    lat = np.array([30.0, 30.0, LAT_MIN, LAT_MAX])
    for func in (wgs84_to_gcj02, wgs84_to_bd09, gcj02_to_bd09):
        out_lon, out_lat = func(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_border_strip_behaviour():
    # The shift pushes points near 135.05E further east. A GCJ-02 coordinate just
    # outside the edge is then the image of an in-rectangle WGS84 point: the inverse
    # returns that point (the documented choice), so GCJ-02 -> WGS84 -> GCJ-02 holds.
    glon, glat = wgs84_to_gcj02(LON_MAX - 1e-4, 30.0)
    assert glon > LON_MAX
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert metres(wlon, wlat, LON_MAX - 1e-4, 30.0) < CM
    # Near 73.66E the shift also points east: a GCJ-02 coordinate just inside the
    # edge has no WGS84 preimage; it is treated as outside China (unchanged).
    glon0, _ = wgs84_to_gcj02(LON_MIN + 1e-6, 30.0)
    assert glon0 > LON_MIN + 1e-3
    lon, lat = gcj02_to_wgs84(LON_MIN + 1e-4, 30.0)
    assert (lon, lat) == (LON_MIN + 1e-4, 30.0)


def test_inverse_that_cannot_converge_raises():
    with pytest.raises(ArithmeticError, match="did not converge"):
        gcj02_to_wgs84(117.2, 39.1, max_iter=1)


# --------------------------------------------------------------------------------------
# geometries


def _frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": ["和平区", "线", "点"]},
        geometry=[
            Polygon([(117.20, 39.10), (117.21, 39.10), (117.21, 39.11), (117.20, 39.11)]),
            LineString([(117.2, 39.1), (117.3, 39.2)]),
            Point(117.2, 39.1, 12.5),
        ],
        index=["甲", "乙", "丙"],
        crs="EPSG:4326",
    )


def test_convert_geometries_converts_every_coordinate():
    gdf = _frame()
    before = gdf.copy()
    out = convert_geometries(gdf, source="gcj02", target="wgs84")
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.equals("EPSG:4326")
    assert list(out.index) == ["甲", "乙", "丙"]
    assert list(out["名称"]) == ["和平区", "线", "点"]
    src = shapely.get_coordinates(gdf.geometry.values)
    dst = shapely.get_coordinates(out.geometry.values)
    expected = np.column_stack(gcj02_to_wgs84(src[:, 0], src[:, 1]))
    np.testing.assert_allclose(dst, expected, rtol=0, atol=1e-12)
    assert out.geometry.iloc[2].has_z
    assert out.geometry.iloc[2].z == 12.5
    # the input frame is untouched
    assert gdf.geometry.geom_equals_exact(before.geometry, tolerance=0).all()


def test_convert_geometries_geoseries_and_identity():
    s = _frame().geometry.set_crs(None, allow_override=True)
    out = convert_geometries(s, source="BD-09", target="wgs84")
    assert s.crs is None
    assert isinstance(out, gpd.GeoSeries)
    assert out.crs.equals("EPSG:4326")
    back = convert_geometries(out, source="wgs84", target="bd09")
    err = metres(*shapely.get_coordinates(back.values).T, *shapely.get_coordinates(s.values).T)
    assert err.max() < CM
    same = convert_geometries(s, source="gcj02", target="gcj02")
    assert same.geom_equals_exact(s.set_crs(4326), tolerance=0).all()
    assert same.crs.equals("EPSG:4326")


def test_convert_geometries_rejects_projected_data_and_unknown_systems():
    projected = to_metric(_frame())
    projected.attrs["source_file"] = "小区.geojson"
    with pytest.raises(InputError, match=r"小区\.geojson"):
        convert_geometries(projected, source="gcj02", target="wgs84")
    with pytest.raises(ValueError, match="unknown source"):
        convert_geometries(_frame(), source="mars", target="wgs84")


@pytest.mark.shared_data
@pytest.mark.parametrize("code", TIANJIN_DISTRICTS)
def test_tianjin_boundaries_gcj02_to_wgs84(shared_data: Path, code: str):
    gcj = gpd.read_file(shared_data / "boundaries" / f"{code}.geojson")
    wgs = from_user_crs(gcj, "gcj02")
    src = shapely.get_coordinates(gcj.geometry.values)
    dst = shapely.get_coordinates(wgs.geometry.values)
    assert src.shape == dst.shape
    shift = metres(src[:, 0], src[:, 1], dst[:, 0], dst[:, 1])
    msg = f"{code}: shift mean {shift.mean():.1f} m, min {shift.min():.1f}, max {shift.max():.1f}"
    assert shift.min() > 100, msg
    assert shift.max() < 800, msg
    back = convert_geometries(wgs, source="wgs84", target="gcj02")
    err = metres(*src.T, *shapely.get_coordinates(back.geometry.values).T)
    assert err.max() < CM, f"{code}: round trip mean {err.mean():.2e} m, max {err.max():.2e} m"
    assert wgs.is_valid.all()
    # The area changes by the Jacobian determinant of the GCJ-02 shift, which is
    # not a pure translation (its sine terms stretch by up to ~0.3%): 0.11% for
    # Heping and Hedong. Check that the change is small and is that Jacobian.
    utm = local_metric_crs(gcj)
    area_gcj = gcj.to_crs(utm).area.sum()
    area_wgs = wgs.to_crs(utm).area.sum()
    change = area_wgs / area_gcj - 1
    centre = wgs.geometry.union_all().centroid
    h = 1e-4
    dx = np.array(wgs84_to_gcj02(centre.x + h, centre.y)) - wgs84_to_gcj02(centre.x - h, centre.y)
    dy = np.array(wgs84_to_gcj02(centre.x, centre.y + h)) - wgs84_to_gcj02(centre.x, centre.y - h)
    expected = 1 / np.linalg.det(np.column_stack([dx, dy]) / (2 * h)) - 1
    msg = (
        f"{code}: {area_gcj:.0f} vs {area_wgs:.0f} m2, change {change:.2e}, Jacobian {expected:.2e}"
    )
    assert abs(change) < 2e-3, msg
    assert abs(change - expected) < 2.5e-4, msg


def test_from_user_crs_keeps_lon_lat_order_for_cgcs2000():
    s = gpd.GeoSeries([Point(117.2, 39.1), Point(106.2, 38.5)], crs="EPSG:4326")
    out = from_user_crs(s, "EPSG:4490")  # latitude-first in PROJ
    np.testing.assert_allclose(
        shapely.get_coordinates(out.values), [[117.2, 39.1], [106.2, 38.5]], atol=1e-6
    )
    assert out.crs.equals("EPSG:4326")


def test_from_user_crs_projected_and_obfuscated():
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4548", always_xy=True)
    x, y = to_gk.transform(117.2, 39.1)
    gdf = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(x, y)], crs="EPSG:4326")  # wrong claim
    out = from_user_crs(gdf, 4548)
    assert out.geometry.iloc[0].x == pytest.approx(117.2, abs=1e-9)
    assert out.geometry.iloc[0].y == pytest.approx(39.1, abs=1e-9)
    assert gdf.geometry.iloc[0].x == x  # input untouched
    bd = gpd.GeoSeries([Point(*wgs84_to_bd09(117.2, 39.1))])
    out = from_user_crs(bd, "bd09")
    assert metres(out.iloc[0].x, out.iloc[0].y, 117.2, 39.1) < CM
    out = from_user_crs(bd, "WGS84")
    assert out.geom_equals_exact(bd.set_crs(4326), tolerance=0).all()


# --------------------------------------------------------------------------------------
# metric CRS


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (117.2, 39.1, 32650),  # Tianjin: UTM 50N
        (106.2, 38.5, 32648),  # Yinchuan: UTM 48N (102-108E)
        (120.6, 31.3, 32651),  # Suzhou: UTM 51N
        (116.3, 40.0, 32650),  # Beijing Haidian
        (151.2, -33.9, 32756),  # Sydney: southern hemisphere
    ],
)
def test_local_metric_crs_picks_utm_zone(lon, lat, epsg):
    bounds = (lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05)
    crs = local_metric_crs(bounds)
    assert crs.to_epsg() == epsg
    assert crs.is_projected
    gdf = gpd.GeoDataFrame(geometry=[Point(lon, lat)], crs="EPSG:4326")
    assert local_metric_crs(gdf).to_epsg() == epsg
    assert local_metric_crs(gdf.to_crs(3857)).to_epsg() == epsg  # from projected data too


def test_cgcs2000_zone_codes_match_pyproj_names():
    for cm in range(75, 136, 3):
        crs = pyproj.CRS.from_epsg(cgcs2000_3deg_epsg(cm))
        assert crs.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
        assert crs.geodetic_crs.to_epsg() == 4490
        lon0 = next(
            p.value for p in crs.coordinate_operation.params if "longitude" in p.name.lower()
        )
        assert lon0 == cm
    for bad in (74, 116, 138, 117.5):
        with pytest.raises(ValueError, match="central meridian"):
            cgcs2000_3deg_epsg(bad)


def test_local_metric_crs_gauss_kruger_and_pass_through():
    tianjin = (117.15, 39.05, 117.25, 39.15)
    assert local_metric_crs(tianjin, zone="cgcs2000-3deg").to_epsg() == 4548
    assert local_metric_crs((106.1, 38.4, 106.3, 38.6), zone="cgcs2000-3deg").to_epsg() == 4544
    assert local_metric_crs((120.5, 31.2, 120.7, 31.4), zone="CGCS2000-3deg").to_epsg() == 4549
    assert local_metric_crs(tianjin, zone=117).to_epsg() == 4548
    assert local_metric_crs(tianjin, zone=32650).to_epsg() == 32650
    assert local_metric_crs(tianjin, zone="EPSG:4547").to_epsg() == 4547
    assert local_metric_crs(tianjin, zone=pyproj.CRS(32650)).to_epsg() == 32650
    assert local_metric_crs(tianjin, zone="utm").to_epsg() == 32650
    with pytest.raises(ValueError, match="not a projected CRS in metres"):
        local_metric_crs(tianjin, zone=4326)
    with pytest.raises(ValueError, match="bounds"):
        local_metric_crs((1.0, 2.0))


def test_local_metric_crs_needs_a_crs_and_geometries():
    gdf = gpd.GeoDataFrame(geometry=[Point(117.2, 39.1)])
    gdf.attrs["source_file"] = "社区.gpkg"
    with pytest.raises(InputError, match=r"社区\.gpkg: the data has no CRS"):
        local_metric_crs(gdf)
    empty = gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    with pytest.raises(InputError, match="no"):
        local_metric_crs(empty)


def test_to_metric():
    gdf = _frame()
    gdf.attrs["source_file"] = "a.geojson"
    out = to_metric(gdf)
    assert out.crs.to_epsg() == 32650
    assert gdf.crs.to_epsg() == 4326  # input untouched
    assert list(out.index) == list(gdf.index)
    # a 0.01 x 0.01 degree square at 39.1N: about 1113 m x 863 m
    assert out.geometry.iloc[0].area == pytest.approx(1113.2 * 863.2, rel=0.01)
    assert to_metric(gdf, crs="cgcs2000-3deg").crs.to_epsg() == 4548
    assert to_metric(gdf.geometry, crs=4548).crs.to_epsg() == 4548
    bare = gdf.set_crs(None, allow_override=True)
    with pytest.raises(InputError, match=r"a\.geojson"):
        to_metric(bare)


def test_looks_swapped():
    lon = np.array([117.2, 39.1, 120.6, 31.3, 2.35, np.nan])
    lat = np.array([39.1, 117.2, 31.3, 120.6, 48.85, 39.1])
    np.testing.assert_array_equal(looks_swapped(lon, lat), [False, True, False, True, False, False])
    assert looks_swapped(39.1, 117.2)

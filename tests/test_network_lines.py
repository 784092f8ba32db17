"""A street line layer into a network without shapely objects, bit for bit as before.

``read_network`` reads a plain line layer through pyogrio's Arrow stream into flat
arrays (``network._line_layer``) and builds lines noded at their ends without
cutting runs (``network._line_network``); anything unusual goes the classic way
(``read_aux_layer`` + ``network_from_lines``). These tests hold both shortcuts to
the classic results: the same arrays, geometries and network file bytes.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiLineString

from geoplan.network import WalkNetwork, _line_layer, build, network_from_lines, read_network
from geoplan.network._lines import EdgeLines
from geoplan.network._segment_grid import segment_grid, segment_grid_of_lines


def _same(a: WalkNetwork, b: WalkNetwork, tmp_path: Path) -> None:
    for name in ("node_id", "x", "y", "u", "v", "length_m", "oneway", "way_id"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    assert [repr(h) for h in a.highway.tolist()] == [repr(h) for h in b.highway.tolist()]
    assert a.crs.to_wkt() == b.crs.to_wkt()
    files = [net.save(tmp_path / f"{k}.npz") for k, net in enumerate((a, b))]
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert len(digests) == 1  # the same network file, byte for byte
    assert shapely.to_wkb(a.geometry).tolist() == shapely.to_wkb(b.geometry).tolist()


def _classic(monkeypatch: pytest.MonkeyPatch, path: Path, **kw: object) -> WalkNetwork:
    with monkeypatch.context() as m:
        m.setattr(build, "read_line_parts", lambda *a, **k: None)
        return read_network(path, **kw)  # type: ignore[arg-type]


def _random_lines(rng: np.random.Generator, n: int, *, x0: float, y0: float, step: float) -> list:
    out = []
    for _ in range(n):
        k = int(rng.integers(2, 5))
        xy = rng.integers(0, 12, size=(k, 2)) * step + [x0, y0]
        if (xy == xy[0]).all():
            xy[-1, 0] += step
        out.append(LineString(xy))
    return out


@pytest.mark.parametrize(
    ("crs", "x0", "y0", "step"),
    [(32650, 440_000.0, 4_420_000.0, 10.0), (4326, 116.3, 39.95, 0.0005),
     (4547, 440_000.0, 4_420_000.0, 10.0)],
)  # fmt: skip
def test_line_layer_read_straight_into_arrays_is_the_classic_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crs: int, x0: float, y0: float, step: float
) -> None:
    rng = np.random.default_rng(crs)
    geoms: list = _random_lines(rng, 300, x0=x0, y0=y0, step=step)
    pairs = zip(geoms[:10], geoms[10:20], strict=True)
    geoms[200:210] = [MultiLineString([a, b]) for a, b in pairs]  # a batch through shapely
    layer = gpd.GeoDataFrame(
        {"highway": pd.array(rng.choice(["footway", "steps", None], 300), dtype="string"),
         "lanes": pd.array([1, None] * 150, dtype="Int64"), "width": rng.random(300)},
        geometry=geoms, crs=crs,
    )  # fmt: skip
    layer.to_file(tmp_path / "streets.gpkg", layer="streets", engine="pyogrio")
    layer.to_parquet(tmp_path / "streets.parquet", row_group_size=100)
    monkeypatch.setattr(_line_layer, "_BATCH", 64)  # several batches
    for path in (tmp_path / "streets.gpkg", tmp_path / "streets.parquet"):
        assert _line_layer.read_line_parts(path, preferred=("streets",), source_crs=None)
        fast = read_network(path)
        assert isinstance(fast.__dict__["_geometry"], EdgeLines)  # no LineStrings made
        _same(fast, _classic(monkeypatch, path), tmp_path)
        _same(read_network(path, metric_crs=32651),
              _classic(monkeypatch, path, metric_crs=32651), tmp_path)  # fmt: skip


def test_line_layer_shapefile_and_geojson_are_read_straight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(1)
    layer = gpd.GeoDataFrame(
        {"highway": ["residential"] * 50},
        geometry=_random_lines(rng, 50, x0=116.3, y0=39.95, step=0.001),
        crs=4326,
    )
    for name in ("streets.shp", "streets.geojson"):
        path = tmp_path / name
        layer.to_file(path, engine="pyogrio")
        assert _line_layer.read_line_parts(path, preferred=("streets",), source_crs=None)
        _same(read_network(path), _classic(monkeypatch, path), tmp_path)
        _same(read_network(path, source_crs=4326), _classic(monkeypatch, path, source_crs=4326),
              tmp_path)  # fmt: skip


@pytest.mark.parametrize(
    "case", ["null", "invalid", "z", "booleans", "no_crs", "gcj02", "swapped", "points",
             "parquet_index", "parquet_bbox"],
)  # fmt: skip
def test_line_layer_anything_unusual_goes_the_classic_way(tmp_path: Path, case: str) -> None:
    geoms: list = [LineString([(440_000, 4_420_000), (440_100, 4_420_000)])] * 3
    cols: dict = {}
    crs: int | None = 32650
    if case == "null":
        geoms[1] = None
    elif case == "invalid":
        geoms[1] = LineString([(440_000, 4_420_000), (440_000, 4_420_000)])
    elif case == "z":
        geoms[1] = LineString([(440_000, 4_420_000, 1), (440_100, 4_420_000, 2)])
    elif case == "booleans":
        cols = {"lit": [True, False, True]}
    elif case == "no_crs":
        crs = None
    elif case in ("gcj02", "swapped"):
        geoms = [LineString([(39.9, 116.3), (39.91, 116.3)])] * 3
        crs = 4326
    else:
        geoms = [shapely.Point(440_000, 4_420_000)] * 3
    path = tmp_path / "streets.gpkg"
    layer = gpd.GeoDataFrame(cols, geometry=geoms, crs=crs)
    if case.startswith("parquet"):
        path = path.with_suffix(".parquet")
        if case == "parquet_index":
            layer.index = pd.Index(["a", "b", "c"], name="street")  # read back as a column
        layer.to_parquet(path, write_covering_bbox=case == "parquet_bbox")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pyogrio: 'crs' was not provided
            layer.to_file(path, engine="pyogrio")
    source = "gcj02" if case == "gcj02" else None
    assert _line_layer.read_line_parts(path, preferred=("streets",), source_crs=source) is None


def _flat(geoms: list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts, row = shapely.get_parts(np.array(geoms, dtype=object), return_index=True)
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    offsets = np.zeros(parts.size + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=parts.size), out=offsets[1:])
    return coords, offsets, row.astype(np.int64)


_XY = st.sampled_from([-1.0, -0.0, 0.0, 1.0, 2.5, 7.0])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.tuples(_XY, _XY), min_size=1, max_size=5), min_size=1, max_size=12))
def test_lines_noded_at_their_ends_are_the_cut_runs(vertices: list) -> None:
    """Shared ends, -0.0 and 0.0, loops of length 0 and single vertices: as before."""
    coords = np.array([xy for line in vertices for xy in line], dtype=np.float64)
    offsets = np.zeros(len(vertices) + 1, dtype=np.int64)
    np.cumsum([len(line) for line in vertices], out=offsets[1:])
    rows = np.arange(len(vertices), dtype=np.int64)
    highway = np.array(["a", None, float("nan")] * 4, dtype=object)[: len(vertices)]
    args = (coords, offsets, rows, highway, build.pyproj.CRS(32650))
    lean = build._network_from_flat(*args, node_at_vertices=False)
    cut = build._network_from_part_runs(*args, node_at_vertices=False)
    for name in ("node_id", "x", "y", "u", "v", "length_m", "oneway", "way_id"):
        a, b = getattr(lean, name), getattr(cut, name)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), name  # -0.0 kept as is
    assert [repr(h) for h in lean.highway.tolist()] == [repr(h) for h in cut.highway.tolist()]
    assert shapely.to_wkb(lean.geometry).tolist() == shapely.to_wkb(cut.geometry).tolist()


def test_network_from_lines_keeps_its_geometries_flat_until_read(tmp_path: Path) -> None:
    g = gpd.GeoDataFrame(
        geometry=[LineString([(0, 0), (10, 0), (20, 0)]), LineString([(10, -5), (10, 0)]),
                  MultiLineString([[(20, 0), (20, 9)], [(30, 0), (31, 0)]])],
        crs=32650,
    )  # fmt: skip
    net = network_from_lines(g)
    assert isinstance(net.__dict__["_geometry"], EdgeLines)
    coords, offsets, rows = _flat(list(g.geometry))
    cut = build._network_from_part_runs(coords, offsets, rows, None, net.crs,
                                        node_at_vertices=False)  # fmt: skip
    _same(net, cut, tmp_path)
    assert net.geometry[0].equals(LineString([(0, 0), (10, 0), (20, 0)]))


def test_segment_grid_of_flat_lines_is_the_grid_of_the_linestrings() -> None:
    rng = np.random.default_rng(3)
    net = network_from_lines(gpd.GeoDataFrame(
        geometry=_random_lines(rng, 400, x0=0.0, y0=0.0, step=7.5), crs=32650))  # fmt: skip
    lines = net.__dict__["_geometry"]
    flat, made = segment_grid_of_lines(lines.coords, lines.start), segment_grid(net.geometry)
    for name, value in vars(made).items():
        other = getattr(flat, name)
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and np.array_equal(value, other), name
        else:
            assert value == other, name

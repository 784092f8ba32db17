"""PostGIS as a source and a sink, against a real PostgreSQL + PostGIS server.

The server is started by :mod:`tests._postgres` for this module and stopped at
its end. Without the binaries or the Python packages the tests skip with the
reason; under ``CI=true`` they fail (``.ci/run`` installs ``postgresql postgis``).
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from _postgres import PostgresMissing, Server, postgis_server, skip_or_fail
from click.testing import CliRunner
from shapely.geometry import box

from geoplan._errors import InputError
from geoplan.cli import main
from geoplan.sample import make_sample_district

LAYERS = ("buildings", "facilities", "communities", "streets")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with contextlib.ExitStack() as stack:
        try:
            found = stack.enter_context(postgis_server())
        except PostgresMissing as exc:
            skip_or_fail(str(exc))
            raise
        yield found


@pytest.fixture(scope="module")
def district() -> object:
    return make_sample_district(seed=0)


@pytest.fixture(scope="module")
def loaded(server: Server, district: object) -> Server:
    """The sample district's layers as tables buildings, facilities, ... of the server."""
    from geoplan.io.postgis import write_postgis_layer

    for name in LAYERS:
        write_postgis_layer(getattr(district, name), server.uri(name))
    return server


def _execute(server: Server, sql: str) -> list[tuple[object, ...]]:
    import psycopg

    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, dbname=server.database
    ) as conn:
        cur = conn.execute(sql)  # type: ignore[call-overload]
        return list(cur.fetchall()) if cur.description else []


# --------------------------------------------------------------------------- library


@pytest.mark.parametrize("name", LAYERS)
def test_round_trip_gives_the_same_frame_and_crs(
    loaded: Server, district: object, name: str
) -> None:
    from geoplan.io.postgis import read_postgis_layer

    frame = getattr(district, name)
    back = read_postgis_layer(loaded.uri(name))
    assert back.crs == frame.crs
    assert back.geometry.name == "geometry"
    back = back.set_index(frame.index.name)[list(frame.columns)]  # the index is a column
    pd.testing.assert_frame_equal(
        pd.DataFrame(back.drop(columns="geometry")), pd.DataFrame(frame.drop(columns="geometry"))
    )
    assert back.geometry.geom_equals_exact(frame.geometry, tolerance=0).all()


def test_bbox_read_returns_only_the_window(loaded: Server, district: object) -> None:
    from geoplan.io.postgis import read_postgis_layer

    b = district.buildings  # type: ignore[attr-defined]
    x0, y0, x1, y1 = b.total_bounds
    window = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    part = read_postgis_layer(loaded.uri("buildings"), bbox=window)
    expected = b.index[b.envelope.intersects(box(*window))]
    assert 0 < len(part) < len(b)
    assert sorted(part["building_id"]) == sorted(expected)
    # the same window given in WGS84 is placed in the table's SRID (a little larger)
    lonlat = gpd.GeoSeries([box(*window)], crs=b.crs).to_crs(4326).total_bounds
    wider = read_postgis_layer(loaded.uri("buildings"), bbox=lonlat, bbox_crs=4326)
    assert set(part["building_id"]) <= set(wider["building_id"])
    assert len(wider) < len(b)
    # columns= reads only those (and the geometry)
    few = read_postgis_layer(loaded.uri("buildings"), bbox=window, columns=["households"])
    assert list(few.columns) == ["households", "geometry"]


def test_write_is_atomic_and_replaces_only_when_asked(loaded: Server, district: object) -> None:
    from geoplan.io.postgis import read_postgis_layer, write_postgis_layer

    uri = loaded.uri("atomic")
    fac = district.facilities  # type: ignore[attr-defined]
    assert write_postgis_layer(fac, uri) == "public.atomic"
    with pytest.raises(InputError, match=r"table=atomic: table public\.atomic: the table exists"):
        write_postgis_layer(fac.iloc[:3], uri)
    # a write that fails half way (two columns PostgreSQL truncates to one name)
    bad = fac.iloc[:3].assign(**{"a" * 64 + "x": 1, "a" * 64 + "y": 2})
    with pytest.raises(InputError, match="cannot write the table"):
        write_postgis_layer(bad, uri, if_exists="replace")
    assert len(read_postgis_layer(uri)) == len(fac)  # the old table is whole
    write_postgis_layer(fac.iloc[:3], uri, if_exists="replace")
    assert len(read_postgis_layer(uri)) == 3
    names = {str(r[0]) for r in _execute(loaded, "SELECT relname FROM pg_class")}
    assert not any(n.startswith("_geoplan_tmp_") for n in names)  # no temporary left
    assert "idx_atomic_geometry" in names  # the spatial index, renamed with the table


def test_bad_tables_and_columns_are_input_errors_naming_them(loaded: Server) -> None:
    from geoplan.io.postgis import read_postgis_layer

    with pytest.raises(InputError, match=r"table public\.nowhere does not exist.*buildings"):
        read_postgis_layer(loaded.uri("nowhere"))
    with pytest.raises(InputError, match=r"column colour: no column 'colour'"):
        read_postgis_layer(loaded.uri("buildings"), columns=["colour"])
    with pytest.raises(InputError, match=r"column geom: no geometry column 'geom'"):
        read_postgis_layer(loaded.uri("buildings", geometry="geom"))
    _execute(loaded, "CREATE TABLE plain (id int)")
    with pytest.raises(InputError, match=r"table public\.plain: the table has no geometry column"):
        read_postgis_layer(loaded.uri("plain"))
    _execute(loaded, "CREATE TABLE mixed (id int, geom geometry)")
    _execute(
        loaded,
        "INSERT INTO mixed VALUES (1, ST_SetSRID(ST_Point(0, 0), 4326)), "
        "(2, ST_SetSRID(ST_Point(0, 0), 32650))",
    )
    with pytest.raises(InputError, match=r"several SRIDs \(4326, 32650\)"):
        read_postgis_layer(loaded.uri("mixed"))
    with pytest.raises(InputError, match=r"name the table with \?table="):
        read_postgis_layer(loaded.uri())


def test_readers_take_uris(loaded: Server, district: object) -> None:
    from geoplan.io.readers import read_aux_layer, read_buildings
    from geoplan.network import read_network

    # without table= a reader takes the table named like its layer, as in a GeoPackage
    bld = read_buildings(loaded.uri())
    assert bld.index.name == "building_id"
    assert len(bld) == len(district.buildings)  # type: ignore[attr-defined]
    assert bld.attrs["source_file"].endswith("table public.buildings")
    streets = read_aux_layer(
        loaded.uri(), preferred=("roads", "streets"), geom_types=("LineString",)
    )
    assert len(streets) == len(district.streets)  # type: ignore[attr-defined]
    net = read_network(loaded.uri("streets"))
    assert net.n_edges > 0


# --------------------------------------------------------------------------- CLI


def _coverage(network: str, layers: dict[str, str], out: Path, *extra: str) -> tuple[int, str]:
    args = ["coverage", "--network", network, "--profile", "tianjin-2025", "--jobs", "1"]
    for name, source in layers.items():
        args += [f"--{name}", source]
    res = CliRunner().invoke(main, [*args, "--out", str(out), "--no-map", "--json", *extra])
    return res.exit_code, res.output


def test_coverage_from_postgis_equals_coverage_from_files(
    loaded: Server, district: object, tmp_path: Path
) -> None:
    from geoplan.io.postgis import read_postgis_layer

    [gpkg] = district.to_files(tmp_path / "files")  # type: ignore[attr-defined]
    kinds = ("buildings", "facilities", "communities")
    code_f, out_f = _coverage(str(gpkg), dict.fromkeys(kinds, str(gpkg)), tmp_path / "f")
    sink = loaded.uri("coverage_buildings")
    code_p, out_p = _coverage(
        loaded.uri("streets"),
        {k: loaded.uri(k) for k in kinds},
        tmp_path / "p",
        "--format",
        "gpkg,csv",
        "--to-postgis",
        sink,
    )
    assert code_f in (0, 1), out_f
    assert (code_p, json.loads(out_p)["summary"]) == (code_f, json.loads(out_f)["summary"])
    by_file = gpd.read_file(tmp_path / "f" / "coverage.gpkg", layer="coverage")
    by_table = gpd.read_file(tmp_path / "p" / "coverage.gpkg", layer="coverage")
    pd.testing.assert_frame_equal(by_table, by_file)  # every building, every column
    # the same table, written to PostGIS with --to-postgis
    sunk = read_postgis_layer(sink).set_index("building_id")
    mine = by_file.set_index("building_id")
    assert list(sunk.columns) == list(mine.columns)
    pd.testing.assert_frame_equal(
        pd.DataFrame(sunk.drop(columns="geometry")),
        pd.DataFrame(mine.drop(columns="geometry")),
        check_dtype=False,
    )
    assert sunk.crs == mine.crs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_bad_uris_exit_2_naming_the_table(loaded: Server, tmp_path: Path) -> None:
    good = {k: loaded.uri(k) for k in ("buildings", "facilities")}
    streets = loaded.uri("streets")
    code, out = _coverage(streets, {**good, "buildings": loaded.uri("no_such")}, tmp_path / "a")
    assert code == 2, out
    assert "table public.no_such does not exist" in out
    assert "Traceback" not in out
    # an unreachable server: the password never shown
    dead = f"postgresql://geoplan:s3cret@127.0.0.1:{_free_port()}/x?table=streets"
    code, out = _coverage(dead, good, tmp_path / "b")
    assert code == 2, out
    assert "cannot connect to the PostgreSQL server" in out
    assert "geoplan:***@" in out
    assert "s3cret" not in out
    # --to-postgis must name a table, and never an input
    code, out = _coverage(streets, good, tmp_path / "c", "--to-postgis", loaded.uri())
    assert code == 2, out
    assert "name the table with ?table=NAME" in out
    code, out = _coverage(streets, good, tmp_path / "d", "--to-postgis", good["buildings"])
    assert code == 2, out
    assert "refusing to overwrite an input table" in out
    # a file that does not exist is still refused by the option
    code, out = _coverage(str(tmp_path / "none.gpkg"), good, tmp_path / "e")
    assert code == 2, out
    assert "does not exist" in out


def test_site_and_grids_from_postgis_equal_the_file_runs(
    loaded: Server, district: object, tmp_path: Path
) -> None:
    """``geoplan site`` and ``geoplan grids`` read PostGIS tables as they read files."""
    [gpkg] = district.to_files(tmp_path / "files")  # type: ignore[attr-defined]
    runner = CliRunner()

    def run(*args: str) -> tuple[int, dict[str, object]]:
        res = runner.invoke(main, [*args, "--json"])
        assert res.exit_code in (0, 1), res.output
        out = json.loads(res.output)
        out.pop("solve_time_s", None)  # the solver's wall time differs run to run
        return res.exit_code, out

    site = ["site", "--category", "wet_market", "--profile", "tianjin-2025", "--method", "greedy"]
    by_file = run(
        *site,
        "--network",
        str(gpkg),
        "--buildings",
        str(gpkg),
        "--facilities",
        str(gpkg),
        "--out",
        str(tmp_path / "sf"),
    )
    by_table = run(
        *site,
        "--network",
        loaded.uri("streets"),
        "--buildings",
        loaded.uri("buildings"),
        "--facilities",
        loaded.uri("facilities"),
        "--out",
        str(tmp_path / "sp"),
    )
    assert by_table == by_file
    assert (tmp_path / "sp" / "sites.csv").read_bytes() == (
        tmp_path / "sf" / "sites.csv"
    ).read_bytes()
    grids = ["grids", "--profile", "ningxia-2025"]
    g_file = run(
        *grids, "--buildings", str(gpkg), "--communities", str(gpkg), "--out", str(tmp_path / "gf")
    )
    g_table = run(
        *grids,
        "--buildings",
        loaded.uri("buildings"),
        "--communities",
        loaded.uri("communities"),
        "--out",
        str(tmp_path / "gp"),
    )
    assert g_table == g_file
    assert (tmp_path / "gp" / "grids.csv").read_bytes() == (
        tmp_path / "gf" / "grids.csv"
    ).read_bytes()

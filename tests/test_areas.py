"""Coverage area by area on dask (issue 13): every building's distances are the single run's.

The sample district and the Haidian OSM extract are cut into 3 x 3 tiles and walked on
a LocalCluster; a real ``dask scheduler`` with two ``dask worker`` processes, one of
them killed mid-run, gives the same; an area whose window does not read is reported
and the others kept; network windows keep the whole network's distances and
components. Searches shorter than the profile's (``search_factor``) make the windows
real parts of the network (at the default radius they hold nearly all of it).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from osm_layers import osm_layers

from geoplan._errors import DataQualityWarning, InputError
from geoplan.areas import (
    AreaTask,
    LayerSource,
    coverage_by_areas,
    dask_client,
    direct_source,
    read_window,
    run_areas,
    stage_layer,
    tile_areas,
)
from geoplan.areas.layout import building_points
from geoplan.areas.task import REACH_BASE
from geoplan.audit.coverage import audit_coverage, coverage_search
from geoplan.households import estimate_households
from geoplan.io.readers import read_buildings, read_communities, read_facilities
from geoplan.network import load_network, network_from_lines
from geoplan.network.window import network_window, network_window_of_file
from geoplan.profiles import load_profile
from geoplan.reach import nearest_facilities
from geoplan.sample import make_sample_district

PROFILE = "mofcom-15min"
#: A search of 0.3 x the profile's radius (675 m): 3 x 3 windows are real parts.
SHORT = 0.3


def _reach_cols(table: pd.DataFrame) -> list[str]:
    per = [c for c in table.columns if c.split("__")[0] in ("walk_m", "walk_min", "facility_id")]
    return [*REACH_BASE, *per]


def _assert_reach_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.index.equals(b.index)
    cols = _reach_cols(a)
    assert cols == _reach_cols(b)
    for c in cols:
        assert np.array_equal(_values(a[c]), _values(b[c])), c


def _values(s: pd.Series) -> np.ndarray:
    """The column's values; missing ids as None (the audit's table holds them as text)."""
    if s.dtype.kind in "biuf":
        return s.to_numpy()
    return s.to_numpy(dtype=object, na_value=None)


def _single(d: dict, factor: float):  # type: ignore[no-untyped-def, type-arg]
    """The single run: its reach (as the audit walks it) and its audit (the warnings it
    gives in ``table.attrs["warnings"]``)."""
    s = coverage_search(d["profile"], search_factor=factor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reach = nearest_facilities(
            d["net"],
            d["buildings"],
            d["facilities"],
            limit_m=s.limit_m,
            max_snap_m=s.max_snap_m,
            walk_speed_m_per_min=s.walk_speed_m_per_min,
            compounds=d.get("compounds"),
            gates=d.get("gates"),
        )
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = audit_coverage(
            d["buildings"],
            d["facilities"],
            d["net"],
            profile=d["profile"],
            communities=d.get("communities"),
            compounds=d.get("compounds"),
            gates=d.get("gates"),
            search_factor=factor,
        )
    result.table.attrs["warnings"] = sorted({str(w.message) for w in seen})
    return reach, result


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    """The sample district as files (buildings with ids, read by box), read as the CLI does,
    plus one building 3 km from every street (unreachable; snapped on the whole network)."""
    folder = tmp_path_factory.mktemp("sample")
    d = make_sample_district(seed=0)
    [gpkg] = d.to_files(folder)
    net = network_from_lines(d.streets)
    npz = net.save(folder / "walk.npz")
    prof = load_profile(PROFILE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = gpd.read_file(gpkg, layer="buildings")
        x1, y0 = raw.total_bounds[2], raw.total_bounds[1]
        far = gpd.GeoDataFrame(
            {"building_id": ["FAR1"], "use": ["residential"], "floors": [6.0]},
            geometry=[shapely.box(x1 + 3000, y0, x1 + 3040, y0 + 20)],
            crs=raw.crs,
        )
        pd.concat([raw, far], ignore_index=True).to_file(folder / "buildings.gpkg")
        comm = read_communities(gpkg, metric_crs=net.crs)
        bld = read_buildings(folder / "buildings.gpkg", metric_crs=net.crs)
        bld = estimate_households(bld, params=prof, areas=[comm])
        fac = read_facilities(gpkg, metric_crs=net.crs)
    return {
        "folder": folder,
        "gpkg": gpkg,
        "buildings_file": folder / "buildings.gpkg",
        "net": load_network(npz),
        "npz": npz,
        "profile": prof,
        "buildings": bld,
        "facilities": fac,
        "communities": comm,
    }


@pytest.fixture(scope="module")
def haidian(shared_data: Path) -> dict:  # type: ignore[type-arg]
    """Haidian (OSM): buildings, POIs, gated compounds and their gates from the extract."""
    net, ex, bld, fac = osm_layers(shared_data / "osm" / "beijing_haidian_cau.osm.bz2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bld = estimate_households(bld, params=load_profile(PROFILE), areas=[ex.compounds])
    assert ex.compounds is not None and len(ex.compounds) and ex.entrances is not None
    return {
        "net": net,
        "profile": load_profile(PROFILE),
        "buildings": bld,
        "facilities": fac,
        "compounds": ex.compounds,
        "gates": ex.entrances,
    }


@pytest.fixture(scope="module")
def local_client() -> Iterator[object]:
    """A LocalCluster of two processes, one thread each (as ``--workers 2``)."""
    with dask_client(workers=2) as client:
        yield client


def _tiles(buildings: gpd.GeoDataFrame, n: int | tuple[int, int], crs: object) -> gpd.GeoDataFrame:
    pts = building_points(buildings)
    return tile_areas(tuple(shapely.total_bounds(pts)), n, crs=crs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- windows


def test_window_keeps_the_distances_and_components(sample: dict) -> None:  # type: ignore[type-arg]
    net, b, f = sample["net"], sample["buildings"], sample["facilities"]
    s = coverage_search(PROFILE, search_factor=SHORT)
    box = np.array(b.total_bounds)
    box = (box[0], box[1], (box[0] + box[2]) / 2, (box[1] + box[3]) / 2)  # the south-west
    pts = building_points(b)
    inside = b[shapely.intersects(shapely.box(*box), pts)]
    halo = s.limit_m + s.max_snap_m + 50
    win = network_window(net, box, halo_m=halo)
    assert 0 < win.n_edges < net.n_edges
    # every edge that comes within the grown box is in, whole and in order
    grown = shapely.box(box[0] - halo, box[1] - halo, box[2] + halo, box[3] + halo)
    near = np.flatnonzero(shapely.intersects(net.geometry, grown))
    ids = net.node_id
    full_edges = set(zip(ids[net.u[near]].tolist(), ids[net.v[near]].tolist(), strict=True))
    win_edges = set(zip(win.node_id[win.u].tolist(), win.node_id[win.v].tolist(), strict=True))
    assert full_edges <= win_edges
    assert (np.diff(win.node_id) != 0).all()
    # components: the whole network's labels and sizes, node by node
    at = np.searchsorted(ids, win.node_id) if (np.diff(ids) > 0).all() else None
    if at is None:
        at = pd.Index(ids).get_indexer(win.node_id)
    assert np.array_equal(win.components()[0], net.components()[0][at])
    assert np.array_equal(win.components()[1], net.components()[1][at])
    # the same walks from the buildings inside, to the facilities within the halo
    kw = {"limit_m": s.limit_m, "max_snap_m": s.max_snap_m,
          "walk_speed_m_per_min": s.walk_speed_m_per_min}  # fmt: skip
    fac_near = f[shapely.intersects(f.geometry.to_numpy(), grown)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = nearest_facilities(net, inside, f, **kw)
        part = nearest_facilities(win, inside, fac_near, **kw)
    for c in part.columns:
        assert np.array_equal(whole[c].to_numpy(), part[c].to_numpy()), c
    # a memory-mapped network and one in memory cut the same window
    mem = network_from_lines(make_sample_district(seed=0).streets)
    again = network_window(mem, box, halo_m=halo)
    assert np.array_equal(again.node_id, win.node_id)
    assert np.array_equal(again.length_m, win.length_m)
    assert shapely.equals_exact(again.geometry, win.geometry, 0).all()


def test_window_of_the_file_is_the_loaded_networks(sample: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    """Cut from the mapped file by its snapping grid (only the window's pages read):
    the same window as from the loaded network, and bad files are bad input."""
    net, b = sample["net"], sample["buildings"]
    x0, y0, x1, y1 = b.total_bounds
    for box, halo in (((x0, y0, (x0 + x1) / 2, (y0 + y1) / 2), 300.0),
                      ((x1, y1, x1, y1), 0.0), ((x1 + 9e4, y1, x1 + 9e4, y1), 10.0)):  # fmt: skip
        a = network_window(net, box, halo_m=halo)
        w = network_window_of_file(sample["npz"], box, halo_m=halo)
        for name in ("node_id", "x", "y", "u", "v", "length_m", "oneway", "way_id", "highway"):
            assert np.array_equal(getattr(a, name), getattr(w, name)), name
        assert shapely.equals_exact(a.geometry, w.geometry, 0).all()
        assert all(
            np.array_equal(p, q) for p, q in zip(a.components(), w.components(), strict=True)
        )
        # every edge whose geometry comes within the grown box is in
        grown = shapely.box(box[0] - halo, box[1] - halo, box[2] + halo, box[3] + halo)
        assert int(shapely.intersects(net.geometry, grown).sum()) <= w.n_edges
    assert 0 < network_window_of_file(sample["npz"], (x0, y0, x1, y1)).n_edges <= net.n_edges
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    for bad in (tmp_path / "bad.npz", tmp_path / "missing.npz"):
        with pytest.raises(InputError, match="not a geoplan network file"):
            network_window_of_file(bad, (x0, y0, x1, y1))


# --------------------------------------------------------------------------- sources


def test_window_reads_give_the_clients_rows(sample: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    b = sample["buildings"]
    crs = sample["net"].crs
    x0, y0, x1, y1 = b.total_bounds
    box = (x0, y0, (x0 + x1) / 2, (y0 + y1) / 2)
    want = b[shapely.intersects(b.geometry.to_numpy(), shapely.box(*box))]
    direct = direct_source(sample["buildings_file"], "buildings")
    assert direct is not None and not direct.staged
    staged = stage_layer(b, "buildings", tmp_path)
    raw = gpd.read_file(sample["buildings_file"]).to_crs(4326)
    raw.to_parquet(tmp_path / "b_cover.parquet", write_covering_bbox=True)
    raw.to_parquet(tmp_path / "b_plain.parquet")
    sources = [direct, staged]
    for name in ("b_cover.parquet", "b_plain.parquet"):
        src = direct_source(tmp_path / name, "buildings")
        assert src is not None
        sources.append(src)
    for src in sources:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = read_window(src, box, crs=crs)
        assert got.index.equals(want.index), src
        assert shapely.equals_exact(
            shapely.point_on_surface(got.geometry.to_numpy()),
            shapely.point_on_surface(want.geometry.to_numpy()),
            1e-6 if src.location.endswith(".parquet") and not src.staged else 0.0,
        ).all()
    # rows numbered by position, and CSV, are staged: a window would number them anew
    assert direct_source(sample["buildings_file"], "buildings", row_ids=True) is None
    b.drop(columns="geometry").to_csv(tmp_path / "b.csv")
    assert direct_source(tmp_path / "b.csv", "buildings") is None


# --------------------------------------------------------------------------- LocalCluster


@pytest.mark.slow
def test_3x3_tiles_on_a_local_cluster_are_the_single_run(
    sample: dict,
    local_client: object,  # type: ignore[type-arg]
) -> None:
    reach, single = _single(sample, SHORT)
    areas = _tiles(sample["buildings"], (3, 3), sample["net"].crs)
    sources = {
        "buildings": direct_source(sample["buildings_file"], "buildings"),
        "facilities": direct_source(sample["gpkg"], "facilities"),
    }
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run = coverage_by_areas(
            sample["buildings"],
            sample["facilities"],
            sample["net"],
            network_file=sample["npz"],
            areas=areas,
            profile=PROFILE,
            client=local_client,  # type: ignore[arg-type]
            sources=sources,  # type: ignore[arg-type]
            communities=sample["communities"],
            search_factor=SHORT,
        )
    assert run.result is not None and not run.failed and not run.staged
    t = run.areas
    assert (
        len(run.answers) == int((t["buildings"] > 0).sum()) >= 6
    )  # a task per area with buildings
    edges = [a.window_edges for a in run.answers]
    assert min(edges) < max(edges) < sample["net"].n_edges or min(edges) == 0  # real windows
    assert sum(e < sample["net"].n_edges for e in edges) >= 5
    _assert_reach_equal(run.result.table[_reach_cols(reach)], reach)
    assert run.result.table.loc["FAR1", "snap_m"] == reach.loc["FAR1", "snap_m"] > 2000
    pd.testing.assert_frame_equal(run.result.table, single.table)
    pd.testing.assert_frame_equal(run.result.findings, single.findings)
    assert run.result.summary == single.summary
    # the single run's warnings, once each
    assert sorted({str(w.message) for w in seen}) == single.table.attrs["warnings"]
    # the per-area table: every building in one area, the households the audit's
    assert t.index.tolist() == areas.index.tolist()
    assert (t["status"] == np.where(t["buildings"] > 0, "ok", "no_buildings")).all()
    assert int(t["buildings"].sum()) == len(sample["buildings"])
    assert float(t["households"].sum()) == pytest.approx(float(single.table["households"].sum()))


@pytest.mark.slow
@pytest.mark.shared_data
def test_3x3_tiles_on_haidian_with_gated_compounds(
    haidian: dict,
    local_client: object,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    for factor in (SHORT, 2.0):
        reach, single = _single(haidian, factor)
        areas = _tiles(haidian["buildings"], (3, 3), haidian["net"].crs)
        npz = haidian["net"].save(tmp_path / "haidian.npz")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = coverage_by_areas(
                haidian["buildings"],
                haidian["facilities"],
                haidian["net"],
                network_file=npz,
                areas=areas,
                profile=PROFILE,
                client=local_client,  # type: ignore[arg-type]
                stage_dir=tmp_path / "staged",  # an OSM extract: staged as GeoParquet
                compounds=haidian["compounds"],
                gates=haidian["gates"],
                search_factor=factor,
            )
        assert run.result is not None and not run.failed
        assert sorted(p.stem for p in run.staged) == [
            "buildings",
            "compounds",
            "facilities",
            "gates",
        ]
        assert reach["gated"].any()
        _assert_reach_equal(run.result.table[_reach_cols(reach)], reach)
        pd.testing.assert_frame_equal(run.result.findings, single.findings)
        assert run.result.summary == single.summary


@pytest.mark.slow
def test_a_failing_area_is_reported_and_the_others_kept(
    sample: dict,
    local_client: object,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    b = sample["buildings"]
    areas = _tiles(b, (3, 3), sample["net"].crs)
    lost = areas.index[4]  # the middle tile: its buildings are gone from the file
    pos = shapely.intersects(areas.geometry.iloc[4], building_points(b))
    raw = gpd.read_file(sample["buildings_file"])
    raw[~raw["building_id"].isin(b.index[pos])].to_file(tmp_path / "changed.gpkg")
    # and buildings in no area: the tiles cover only part of the district
    from geoplan.areas import assign_areas

    counts = np.bincount(assign_areas(b, areas), minlength=len(areas))
    gone = [k for k in range(len(areas)) if counts[k] and k != 4][-1]
    part = areas.drop(index=areas.index[gone])
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        run = coverage_by_areas(
            b,
            sample["facilities"],
            sample["net"],
            network_file=sample["npz"],
            areas=part,
            profile=PROFILE,
            client=local_client,  # type: ignore[arg-type]
            sources={"buildings": direct_source(tmp_path / "changed.gpkg", "buildings")},  # type: ignore[dict-item]
            stage_dir=tmp_path,
            communities=sample["communities"],
            search_factor=SHORT,
        )
    [bad] = run.failed
    assert bad.area_id == lost and bad.status == "bad_input"
    assert "lacks" in str(bad.error)
    t = run.areas
    assert t.loc[lost, "status"] == "bad_input" and "lacks" in t.loc[lost, "error"]
    assert t.drop(index=[lost, "(outside)"])["status"].isin(["ok", "no_buildings"]).all()
    assert t.loc["(outside)", "status"] == "outside"
    n_out = int(t.loc["(outside)", "buildings"])
    assert n_out > 0
    assert any(
        issubclass(w.category, DataQualityWarning)
        and f"{n_out:,} buildings lie in no area" in str(w.message)
        for w in seen
    )
    # the other areas' buildings: exactly the single run's walks
    assert run.result is not None
    reach, _ = _single(sample, SHORT)
    kept = run.result.table.index
    assert len(kept) == len(b) - n_out - int(t.loc[lost, "buildings"])
    _assert_reach_equal(run.result.table[_reach_cols(reach)], reach.loc[kept])


@pytest.mark.slow
def test_a_task_that_raises_is_retried_then_reported(local_client: object, sample: dict) -> None:  # type: ignore[type-arg]
    s = coverage_search(PROFILE)
    src = LayerSource(location=str(sample["buildings_file"]), kind="buildings")

    def task(area_id: str, wkb: bytes, network: str) -> AreaTask:
        return AreaTask(
            area_id=area_id, area_wkb=wkb, network=network, crs_wkt=sample["net"].crs.to_wkt(),
            buildings=src, facilities=src, compounds=None, gates=None, limit_m=s.limit_m,
            max_snap_m=s.max_snap_m, walk_speed_m_per_min=s.walk_speed_m_per_min, categories=(),
        )  # fmt: skip

    good = shapely.to_wkb(shapely.box(0, 0, 1, 1))
    tasks = [
        task("no-network", good, str(sample["folder"] / "missing.npz")),  # bad input
        task("garbage", b"not a geometry", str(sample["npz"])),  # raises: retried, reported
    ]
    seen: list[str] = []
    answers = run_areas(local_client, tasks, retries=1, on_area=lambda a: seen.append(a.area_id))  # type: ignore[arg-type]
    assert [a.status for a in answers] == ["bad_input", "error"]
    assert "network" in str(answers[0].error) and answers[1].error
    assert sorted(seen) == ["garbage", "no-network"]


@pytest.mark.slow
def test_postgis_tables_are_read_by_box(sample: dict, local_client: object) -> None:  # type: ignore[type-arg]
    """Buildings and facilities from PostGIS: each task asks for its own window."""
    from _postgres import PostgresMissing, postgis_server, skip_or_fail

    from geoplan.io.postgis import write_postgis_layer

    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(postgis_server())
        except PostgresMissing as exc:
            skip_or_fail(str(exc))
            raise
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_postgis_layer(gpd.read_file(sample["buildings_file"]), server.uri("buildings"))
            write_postgis_layer(
                gpd.read_file(sample["gpkg"], layer="facilities"), server.uri("facilities")
            )
            crs = sample["net"].crs
            b = read_buildings(server.uri("buildings"), metric_crs=crs)
            b = estimate_households(b, params=sample["profile"], areas=[sample["communities"]])
            f = read_facilities(server.uri("facilities"), metric_crs=crs)
            sources = {k: direct_source(server.uri(k), k) for k in ("buildings", "facilities")}
            assert all(v is not None and v.box_crs for v in sources.values())
            run = coverage_by_areas(
                b,
                f,
                sample["net"],
                network_file=sample["npz"],
                areas=_tiles(b, (3, 3), crs),
                profile=PROFILE,
                client=local_client,  # type: ignore[arg-type]
                sources=sources,  # type: ignore[arg-type]
                communities=sample["communities"],
                search_factor=SHORT,
            )
    assert run.result is not None and not run.failed and not run.staged
    reach, single = _single(sample, SHORT)
    _assert_reach_equal(run.result.table[_reach_cols(reach)], reach)
    assert run.result.summary == single.summary


# --------------------------------------------------------------------------- a real cluster


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dask(*args: str) -> list[str]:
    exe = shutil.which("dask")
    return (
        [exe, *args]
        if exe
        else [sys.executable, "-m", "distributed.cli.dask_" + args[0], *args[1:]]
    )


@pytest.mark.slow
def test_a_real_scheduler_with_a_worker_killed_mid_run(sample: dict) -> None:  # type: ignore[type-arg]
    from distributed import Client

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [
        subprocess.Popen(
            _dask("scheduler", "--host", "127.0.0.1", "--port", str(port),
                  "--dashboard-address", ":0"), **quiet)  # type: ignore[call-overload]
    ]  # fmt: skip
    try:
        for k in range(2):
            procs.append(
                subprocess.Popen(
                    _dask("worker", address, "--nthreads", "1", "--no-nanny", "--name", f"w{k}",
                          "--dashboard-address", ":0"), **quiet)  # type: ignore[call-overload]
            )  # fmt: skip
        reach, single = _single(sample, SHORT)
        areas = _tiles(sample["buildings"], (3, 3), sample["net"].crs)
        ours = {p.pid for p in procs[1:]}
        killed: list[int] = []
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=60)
            pids = client.run(os.getpid)  # worker address -> its process

            def kill_one(answer: object) -> None:
                if killed:
                    return
                busy = [w for w, keys in client.processing().items() if keys]
                assert busy  # mid-run: the worker killed holds tasks
                pid = int(pids[busy[0]])
                assert pid in ours  # only a process this test started
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = coverage_by_areas(
                    sample["buildings"],
                    sample["facilities"],
                    sample["net"],
                    network_file=sample["npz"],
                    areas=areas,
                    profile=PROFILE,
                    client=client,
                    sources={"buildings": direct_source(sample["buildings_file"], "buildings")},  # type: ignore[dict-item]
                    stage_dir=sample["folder"] / "staged",
                    communities=sample["communities"],
                    search_factor=SHORT,
                    on_area=kill_one,
                )
            assert killed and len(client.scheduler_info()["workers"]) == 1
        # the command line on the same cluster (its one worker left): the single run's files
        from geoplan.cli import main

        g = str(sample["gpkg"])
        base = ["coverage", "--network", str(sample["npz"]), "--buildings", g,
                "--facilities", g, "--communities", g, "--no-map", "--json"]  # fmt: skip
        out = sample["folder"] / "cli-scheduler"
        runner = CliRunner()
        one = runner.invoke(main, [*base, "--out", str(out / "one")])
        by = runner.invoke(
            main, [*base, "--out", str(out / "by"), "--tiles", "3x3", "--scheduler", address]
        )
        assert one.exit_code == by.exit_code == 1, by.output
        assert (out / "one" / "coverage.json").read_bytes() == (
            out / "by" / "coverage.json"
        ).read_bytes()
        assert run.result is not None and not run.failed
        _assert_reach_equal(run.result.table[_reach_cols(reach)], reach)
        pd.testing.assert_frame_equal(run.result.findings, single.findings)
        assert run.result.summary == single.summary
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# --------------------------------------------------------------------------- command line


@pytest.mark.slow
def test_cli_areas_layer_gives_the_single_runs_files(sample: dict, tmp_path: Path) -> None:  # type: ignore[type-arg]
    from geoplan.cli import main

    g = str(sample["gpkg"])
    plain = sample["buildings"].drop(index="FAR1")  # what the sample file holds
    areas = _tiles(plain, (3, 2), sample["net"].crs)
    areas.assign(code=[f"街道{k}" for k in range(len(areas))]).to_file(tmp_path / "areas.gpkg")
    base = ["coverage", "--network", str(sample["npz"]), "--buildings", g, "--facilities", g,
            "--communities", g, "--no-map"]  # fmt: skip
    runner = CliRunner()
    one = runner.invoke(main, [*base, "--out", str(tmp_path / "one")])
    by = runner.invoke(
        main,
        [*base, "--out", str(tmp_path / "by"), "--areas", str(tmp_path / "areas.gpkg"),
         "--area-id", "code", "--workers", "2"],
    )  # fmt: skip
    assert one.exit_code == by.exit_code == 1, by.output
    for name in ("coverage.json", "coverage_findings.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "by" / name).read_bytes()
    table = pd.read_csv(tmp_path / "by" / "coverage_areas.csv", encoding="utf-8-sig")
    assert table["area_id"].tolist() == [f"街道{k}" for k in range(6)]
    assert (table["status"] == "ok").all() and table["buildings"].sum() == len(plain)
    # each area says how much of its household count is estimated (the whole count,
    # weighted as the audit weights it, equals the single run's share)
    doc = json.loads((tmp_path / "one" / "coverage.json").read_text(encoding="utf-8"))
    est = (table["households_estimated_share"] * table["households"]).sum()
    assert est / table["households"].sum() == pytest.approx(
        doc["summary"]["households_estimated_share"], abs=1e-5
    )
    assert table["households_estimated_share"].between(0, 1).all()
    layer = gpd.read_file(tmp_path / "by" / "coverage.gpkg", layer="areas")
    assert len(layer) == 6
    # --tiles without --out is refused before anything runs
    res = runner.invoke(main, [*base, "--tiles", "4"])
    assert res.exit_code == 2 and "--out" in res.output


def test_the_exit_code_is_the_worst_areas() -> None:
    from geoplan.areas import AreaAnswer, AreasCoverage
    from geoplan.cli.coverage import _exit_code

    def run(*statuses: str) -> AreasCoverage:
        answers = [AreaAnswer(area_id=str(k), status=st) for k, st in enumerate(statuses)]
        return AreasCoverage(result=None, areas=gpd.GeoDataFrame(), answers=answers)

    class Passed:
        passed = True

    assert _exit_code(Passed(), run("ok", "ok")) == 0  # type: ignore[arg-type]
    assert _exit_code(None, run("ok")) == 1
    assert _exit_code(Passed(), run("ok", "bad_input")) == 2  # type: ignore[arg-type]
    assert _exit_code(None, run("bad_input", "error", "ok")) == 3

"""The saved network file: save, load and snap-after-load, format 2 against format 1.

Builds the synthetic city (``--size``), saves its network in both formats
(format 1: compressed, WKB geometries, as geoplan wrote it before; format 2:
stored arrays, memory-mapped on load, flat coordinates, the snapping grid and
the components), then for each file runs a fresh Python process that imports
geoplan, loads the file (timed, with the process's peak RSS before and after)
and snaps the city's buildings onto the network (timed: for format 1 this
includes building the snapping grid and the components). The best of
``--repeat`` processes is shown. Both formats must give the same snaps.

Usage::

    python -m benchmarks.bench_netfile --size 1m
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

from benchmarks.synthetic_city import synthetic_city
from geoplan.network import WalkNetwork

ROOT = Path(__file__).resolve().parents[1]


def save_format_1(net: WalkNetwork, path: Path) -> None:
    """Write ``net`` as geoplan wrote networks before format 2 (compressed, WKB)."""
    wkb = shapely.to_wkb(net.geometry)
    sizes = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=wkb.size)
    np.savez_compressed(
        path,
        format_version=np.array(1),
        node_id=net.node_id,
        x=net.x,
        y=net.y,
        u=net.u,
        v=net.v,
        length_m=net.length_m,
        oneway=net.oneway,
        way_id=net.way_id,
        highway=np.array(["" if h is None else str(h) for h in net.highway], dtype=str),
        has_highway=np.array([h is not None for h in net.highway], dtype=bool),
        wkb=np.frombuffer(b"".join(wkb.tolist()), dtype=np.uint8),
        wkb_offsets=np.concatenate([[0], np.cumsum(sizes)]),
        crs_wkt=np.array(net.crs.to_wkt()),
    )


def _peak_mb() -> float:
    """The process's peak RSS (MB): VmHWM (ru_maxrss would count the parent's peak)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def child(network: Path, points: Path, snaps: Path, max_snap_m: float) -> dict[str, float]:
    """In a fresh process: load the file, then snap the points (the timed steps)."""
    import geopandas as gpd

    from geoplan.network import load_network, snap_points

    xy = np.load(points)
    base = _peak_mb()
    t0 = time.perf_counter()
    net = load_network(network)
    load_s = time.perf_counter() - t0
    after = _peak_mb()
    pts = gpd.GeoSeries(shapely.points(xy), crs=net.crs)
    t0 = time.perf_counter()
    s = snap_points(net, pts, max_snap_m=max_snap_m, min_component_nodes=1)
    snap_s = time.perf_counter() - t0
    np.savez(snaps, edge=s.edge, offset_m=s.offset_m, snap_m=s.snap_m, component=s.component)
    return {
        "load_s": load_s,
        "rss_before_mb": base,
        "rss_after_load_mb": after,
        "snap_s": snap_s,
        "rss_after_snap_mb": _peak_mb(),
    }


def _run_child(network: Path, points: Path, snaps: Path, max_snap_m: float) -> dict[str, float]:
    cmd = [sys.executable, "-m", "benchmarks.bench_netfile", "--child",
           str(network), str(points), str(snaps), str(max_snap_m)]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", default="100k", choices=["tiny", "100k", "1m"])
    ap.add_argument("--repeat", type=int, default=3, help="Fresh processes per file (best shown).")
    ap.add_argument("--max-snap-m", type=float, default=300.0)
    ap.add_argument("--work-dir", type=Path, default=None, help="Folder for the files.")
    ap.add_argument("--child", nargs=4, metavar=("NETWORK", "POINTS", "SNAPS", "MAX"),
                    help=argparse.SUPPRESS)  # fmt: skip
    args = ap.parse_args(argv)
    if args.child:
        net_p, pts_p, snaps_p, max_m = args.child
        print(json.dumps(child(Path(net_p), Path(pts_p), Path(snaps_p), float(max_m))))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        city = synthetic_city(args.size)
        net = city.network
        points = work / "buildings_xy.npy"
        np.save(points, shapely.get_coordinates(city.buildings.geometry.to_numpy()))
        print(f"{args.size}: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
              f"{len(city.buildings):,} buildings to snap")  # fmt: skip
        rows = []
        for version in (1, 2):
            path = work / f"network_v{version}.npz"
            t0 = time.perf_counter()
            if version == 1:
                save_format_1(net, path)
            else:
                net.save(path)
            save_s = time.perf_counter() - t0
            runs = [_run_child(path, points, work / f"snaps_v{version}.npz", args.max_snap_m)
                    for _ in range(max(1, args.repeat))]  # fmt: skip
            best = {k: min(r[k] for r in runs) for k in runs[0]}
            rows.append((version, path.stat().st_size / 1e6, save_s, best))
        with np.load(work / "snaps_v1.npz") as a, np.load(work / "snaps_v2.npz") as b:
            same = all(np.array_equal(a[k], b[k], equal_nan=True) for k in a.files)
    print(f"{'format':>6} {'file MB':>8} {'save s':>7} {'load s':>7} {'RSS base':>9} "
          f"{'RSS load':>9} {'snap s':>7} {'RSS snap':>9}")  # fmt: skip
    for version, mb, save_s, r in rows:
        print(f"{version:>6} {mb:>8.1f} {save_s:>7.2f} {r['load_s']:>7.3f} "
              f"{r['rss_before_mb']:>9.0f} {r['rss_after_load_mb']:>9.0f} {r['snap_s']:>7.3f} "
              f"{r['rss_after_snap_mb']:>9.0f}")  # fmt: skip
    print(f"RSS: the process's peak (MB) before the load, after it and after the snap; "
          f"snaps identical in both formats: {same}")  # fmt: skip
    load_2 = rows[1][3]["load_s"]
    note = "met" if load_2 <= 0.3 else "NOT met"
    print(f"target: format 2 loads in <= 0.3 s: {load_2:.3f} s, {note}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

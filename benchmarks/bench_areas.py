"""Time coverage by tiles on dask and a batch of cities, with the single run as yardstick.

Issue 13, item 5. On the benchmark city of :mod:`benchmarks.bench_cli` (written once
per size and seed into ``--work-dir`` and reused, with its saved network
``runs/network_build/city.npz``), each step runs as its own subprocess, as typed at a
shell:

- ``bare`` / ``bare_search_radius``: bench_cli's yardsticks, the bare Dijkstra passes
  (1,125 m and the 2,250 m the coverage command searches), before and after the
  other steps;
- ``single``: ``geoplan coverage --network city.npz --buildings buildings.gpkg
  --facilities facilities.gpkg --profile mofcom-15min --out ... --no-map``;
- ``tiles``: the same with ``--tiles 16 --workers 2`` (a LocalCluster of two
  processes, one thread each);
- ``batch``: ``geoplan batch`` of a manifest of three cities (the seeds of
  ``--batch-seeds``, each with its saved network) on ``--workers 2``, ``--force``.

For each step: wall seconds, the ratio to the single run and to the passes, and the
peak memory of every process of its tree: ``VmHWM`` (the kernel's high-water mark of
the resident set) from ``/proc/PID/status``, sampled every 0.1 s (psutil's RSS where
there is no ``/proc``), and the largest ``RssAnon`` seen (the anonymous part: not the
memory-mapped network file or the libraries), each process named by its role: the
command itself (``client``), a dask worker (``worker``), a city's coverage process in
a batch (``city``). The per-building tables (layer ``coverage`` of ``coverage.gpkg``) of the
tiled run and of the batch's first city are compared with the single run's, column
by column. The targets block: identical results, and peak memory per worker <= 1/3 of
the single run's.

Run from the repository root::

    python -m benchmarks.bench_areas --size 100k --work-dir /tmp/bcw --json-out areas-100k.json
    python -m benchmarks.bench_areas --size 1m --work-dir /tmp/bcw    # the 1M city

See ``docs/scale.md`` ("Measuring it").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bench_cli import (
    PROFILE,
    Runner,
    _geoplan,
    _machine,
    _tail,
    ensure_city,
)

__all__ = ["TARGETS", "compare_tables", "main", "measure_tree", "run"]

_MB = 1024.0 * 1024.0
NPZ = "runs/network_build/city.npz"
#: Issue 13, item 5: peak memory per worker over the single run's.
TARGETS = {"worker_over_single": 1.0 / 3.0}


# --------------------------------------------------------------------------- measuring


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                ppid = int(fh.read().rpartition(b")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _tree(root: int) -> list[int]:
    """``root`` and its descendants (``/proc``, else psutil, else ``root`` alone)."""
    if Path("/proc/self/stat").exists():
        kids = _children()
        out, todo = [], [root]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += kids.get(p, [])
        return out
    try:
        import psutil
    except ImportError:  # pragma: no cover - neither /proc nor psutil
        return [root]
    try:
        return [root, *(c.pid for c in psutil.Process(root).children(recursive=True))]
    except psutil.Error:
        return [root]


def _memory(pid: int) -> tuple[int, int | None] | None:
    """The process's peak resident set so far (VmHWM) and its anonymous part now
    (RssAnon: not the mapped files and libraries), in bytes; psutil's RSS (and no
    anonymous part) where there is no ``/proc``; None for a process gone."""
    try:
        hwm = anon = None
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
                elif line.startswith(b"RssAnon:"):
                    anon = int(line.split()[1]) * 1024
        return None if hwm is None else (hwm, anon)
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.Process(pid).memory_info().rss), None
    except Exception:
        return None


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        pass
    try:
        import psutil

        return " ".join(psutil.Process(pid).cmdline())
    except Exception:
        return ""


def role(cmdline: str, *, root: bool) -> str:
    """What a process of a step's tree is, from its command line.

    Examples
    --------
    >>> role("python -c from multiprocessing.spawn import spawn_main; spawn_main()", root=False)
    'worker'
    >>> role("python -c from multiprocessing.resource_tracker import main;main(5)", root=False)
    'tracker'
    >>> role("geoplan coverage --tiles 16", root=True)
    'client'
    """
    if root:
        return "client"
    if "resource_tracker" in cmdline:
        return "tracker"
    if "spawn_main" in cmdline or "distributed.cli.dask_worker" in cmdline:
        return "worker"
    if "from geoplan.cli import main" in cmdline:
        return "city"
    return "child"


@dataclass
class Tree:
    """What :func:`measure_tree` saw of one subprocess and its descendants."""

    returncode: int
    wall_s: float
    peak_rss_mb: float  # ru_maxrss of the child (the largest process it waited for)
    processes: list[dict[str, Any]] = field(default_factory=list)  # pid, role, peak_mb
    stdout: str = ""
    stderr: str = ""

    def peak(self, which: str, what: str = "peak_mb") -> float | None:
        """The largest peak among the processes of role ``which`` (``what``: ``peak_mb``,
        the resident set; ``anon_peak_mb``, its anonymous part)."""
        vals = [p[what] for p in self.processes if p["role"] == which]
        return max(vals) if vals else None


def measure_tree(
    argv: Sequence[str],
    *,
    cwd: Path,
    log_dir: Path,
    env: dict[str, str] | None = None,
    sample_s: float = 0.1,
) -> Tree:
    """Run ``argv`` once: wall time, and the peak memory of each process of its tree.

    Examples
    --------
    >>> t = measure_tree([sys.executable, "-c", "print('hi')"], cwd=Path.cwd(),
    ...                  log_dir=Path(tempfile.mkdtemp()))
    >>> t.returncode, t.stdout.strip(), t.peak("client") is not None or t.processes == []
    (0, 'hi', True)
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out_p, err_p = log_dir / "stdout.txt", log_dir / "stderr.txt"
    peaks: dict[int, int] = {}
    anons: dict[int, int] = {}
    names: dict[int, str] = {}
    stop = threading.Event()
    with out_p.open("wb") as out, err_p.open("wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err)

        def sample() -> None:
            while not stop.is_set():
                for pid in _tree(proc.pid):
                    got = _memory(pid)
                    if got is None:
                        continue
                    peaks[pid] = max(peaks.get(pid, 0), got[0])
                    anons[pid] = max(anons.get(pid, 0), got[1] or 0)
                    if pid not in names:
                        names[pid] = _cmdline(pid)
                stop.wait(sample_s)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            maxrss = float(usage.ru_maxrss) * (1.0 if sys.platform == "darwin" else 1024.0)
        else:  # pragma: no cover - not POSIX
            proc.wait()
            maxrss = 0.0
        wall = time.perf_counter() - t0
        stop.set()
        sampler.join()
    processes = [
        {
            "pid": pid,
            "role": role(names.get(pid, ""), root=pid == proc.pid),
            "peak_mb": round(b / _MB, 1),
            "anon_peak_mb": round(anons.get(pid, 0) / _MB, 1),
        }
        for pid, b in sorted(peaks.items())
    ]
    return Tree(
        returncode=int(proc.returncode),
        wall_s=wall,
        peak_rss_mb=maxrss / _MB,
        processes=processes,
        stdout=out_p.read_text(encoding="utf-8", errors="replace"),
        stderr=err_p.read_text(encoding="utf-8", errors="replace"),
    )


# --------------------------------------------------------------------------- comparing


def compare_tables(a: Path, b: Path, *, layer: str = "coverage") -> dict[str, Any]:
    """Compare the per-building tables of two ``coverage.gpkg`` files, column by column.

    ``identical`` when both have the same rows in the same order and every column
    (geometry included, as WKB) holds the same values; else ``differing`` names the
    columns that do not.
    """
    import numpy as np
    import pyogrio
    import shapely

    ta = pyogrio.read_dataframe(a, layer=layer)
    tb = pyogrio.read_dataframe(b, layer=layer)
    out: dict[str, Any] = {"rows": [len(ta), len(tb)], "columns": len(ta.columns)}
    if list(ta.columns) != list(tb.columns) or len(ta) != len(tb):
        only = sorted(set(ta.columns) ^ set(tb.columns))
        out.update(identical=False, differing=only or ["(rows)"])
        return out
    differing = []
    for col in ta.columns:
        if col == ta.geometry.name:
            same = bool(
                np.array_equal(
                    shapely.to_wkb(ta.geometry.values), shapely.to_wkb(tb.geometry.values)
                )
            )
        else:
            same = bool(ta[col].equals(tb[col]))
        if not same:
            differing.append(str(col))
    out.update(identical=not differing, differing=differing)
    return out


# --------------------------------------------------------------------------- the steps


def _coverage(npz: str, out: str, *extra: str) -> list[str]:
    return [
        "coverage",
        "--network",
        npz,
        "--buildings",
        "buildings.gpkg",
        "--facilities",
        "facilities.gpkg",
        "--profile",
        PROFILE,
        "--out",
        out,
        "--no-map",
        *extra,
    ]


def _ensure_npz(folder: Path, log: Callable[[str], None]) -> Path:
    """The city's saved network, built once (untimed) when bench_cli has not."""
    npz = folder / NPZ
    if npz.is_file():
        return npz
    log(f"... (building {npz} once, not timed)")
    npz.parent.mkdir(parents=True, exist_ok=True)
    tmp = npz.with_name(".city.tmp.npz")
    proc = subprocess.run(
        [*_geoplan(), "network", "build", "streets.gpkg", "--out", str(tmp)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"network build failed in {folder}:\n{_tail(proc.stderr)}")
    tmp.replace(npz)
    return npz


def _manifest(folders: Sequence[Path], size: str, seeds: Sequence[int], dest: Path) -> Path:
    lines = ["[defaults]", f'profile = "{PROFILE}"', "map = false", ""]
    for k, (f, seed) in enumerate(zip(folders, seeds, strict=True), start=1):
        lines += [
            "[[city]]",
            f'name = "city{k}-{size}-seed{seed}"',
            f'network = "{f / NPZ}"',
            f'buildings = "{f / "buildings.gpkg"}"',
            f'facilities = "{f / "facilities.gpkg"}"',
            "",
        ]
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("\n".join(lines), encoding="utf-8")
    return dest


def _record(name: str, argv: Sequence[str], t: Tree, ok: frozenset[int]) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "step": name,
        "kind": "cli",
        "argv": ["geoplan", *argv],
        "returncode": t.returncode,
        "wall_s": t.wall_s,
        "peak_rss_mb": t.peak_rss_mb,
        "processes": t.processes,
        "client_peak_mb": t.peak("client"),
        "worker_peak_mb": t.peak("worker"),
        "worker_anon_peak_mb": t.peak("worker", "anon_peak_mb"),
        "client_anon_peak_mb": t.peak("client", "anon_peak_mb"),
        "city_peak_mb": t.peak("city"),
        "workers_seen": sum(1 for p in t.processes if p["role"] == "worker"),
        "status": "ok" if t.returncode in ok else "failed",
    }
    if rec["status"] != "ok":
        rec["stderr_tail"] = _tail(t.stderr)
    return rec


def run(
    *,
    size: str,
    seed: int,
    work_dir: Path,
    tiles: str,
    workers: int,
    batch_seeds: Sequence[int] | None,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Write (or reuse) the cities, run the steps, return the report (see :func:`main`)."""
    folder = ensure_city(work_dir, size, seed, log=log)
    npz = _ensure_npz(folder, log)
    info = json.loads((folder / "city.json").read_text(encoding="utf-8"))
    runner = Runner(folder=folder)
    recs = runner.records
    bare_argv = [sys.executable, "-m", "benchmarks.bench_coverage", "--_step", "bare"]
    bare_argv += ["--_size", size, "--seed", str(seed)]
    radius_argv = [sys.executable, "-m", "benchmarks.bench_cli", "--_bare-radius"]
    radius_argv += ["--size", size, "--seed", str(seed)]

    def yardstick() -> None:
        for name, argv, what in (
            ("bare", bare_argv, "bench_coverage's bare passes, 1,125 m"),
            ("bare_search_radius", radius_argv, "the same passes at 2,250 m"),
        ):
            log(f"... {name} ({what})")
            r = runner.worker(name, argv, "yardstick", what)
            _say(r, log)
            recs.append(r)

    yardstick()
    cov = frozenset({0, 1})  # 1 is the audit's FAIL verdict
    runs = folder / "runs"
    steps: dict[str, dict[str, Any]] = {}
    plan: list[tuple[str, list[str]]] = [
        ("single", _coverage(str(npz), "runs/areas_single/out")),
        (
            "tiles",
            _coverage(
                str(npz), "runs/areas_tiles/out", "--tiles", tiles, "--workers", str(workers)
            ),
        ),
    ]
    for name, argv in plan:
        out = runs / f"areas_{name}" / "out"
        if out.exists():
            shutil.rmtree(out)
        log(f"... {name}: geoplan {' '.join(argv)}")
        t = measure_tree([*_geoplan(), *argv], cwd=folder, log_dir=runs / f"areas_{name}")
        rec = _record(name, argv, t, cov)
        _say(rec, log)
        recs.append(rec)
        steps[name] = rec
    compare: dict[str, Any] = {}
    single_gpkg = runs / "areas_single" / "out" / "coverage.gpkg"
    if steps["single"]["status"] == "ok" and steps["tiles"]["status"] == "ok":
        compare["tiles"] = compare_tables(single_gpkg, runs / "areas_tiles/out/coverage.gpkg")
        compare["tiles"]["coverage_json_equal"] = _same_json(
            runs / "areas_single/out/coverage.json", runs / "areas_tiles/out/coverage.json"
        )
        log(f"    tiles == single: {compare['tiles']['identical']}")
    batch: dict[str, Any] = {}
    if batch_seeds:
        folders = [
            folder if s == seed else ensure_city(work_dir, size, s, log=log) for s in batch_seeds
        ]
        for f in folders:
            _ensure_npz(f, log)
        manifest = _manifest(folders, size, batch_seeds, runs / "areas_batch" / "cities.toml")
        out = runs / "areas_batch" / "out"
        argv = ["batch", str(manifest), "--out", str(out), "--workers", str(workers), "--force"]
        log(f"... batch: geoplan {' '.join(argv)}")
        t = measure_tree([*_geoplan(), *argv], cwd=folder, log_dir=runs / "areas_batch")
        rec = _record("batch", argv, t, cov)
        _say(rec, log)
        recs.append(rec)
        steps["batch"] = rec
        batch = {"cities": _batch_rows(out), "manifest": str(manifest)}
        first = out / f"city1-{size}-seed{batch_seeds[0]}" / "coverage.gpkg"
        if batch_seeds[0] == seed and first.is_file() and steps["single"]["status"] == "ok":
            compare["batch_first_city"] = compare_tables(single_gpkg, first)
    yardstick()
    bare = _mean(recs, "bare")
    passes = _mean(recs, "bare_search_radius")
    single = steps["single"]
    for r in steps.values():
        if r["status"] == "ok":
            if single["status"] == "ok":
                r["ratio_to_single"] = r["wall_s"] / single["wall_s"]
            if passes:
                r["ratio_to_passes"] = r["wall_s"] / passes
            if bare:
                r["ratio_to_bare"] = r["wall_s"] / bare
    report: dict[str, Any] = {
        "benchmark": "bench_areas",
        "size": size,
        "seed": seed,
        "tiles": tiles,
        "workers": workers,
        "batch_seeds": list(batch_seeds or []),
        "city": info,
        "city_folder": str(folder),
        "profile": PROFILE,
        "bare_s": bare,
        "passes_s": passes,
        "machine": _machine(),
        "memory_measure": "per process: VmHWM (the kernel's peak resident set) from "
        "/proc/PID/status, sampled every 0.1 s over the step's process tree, and the largest "
        "RssAnon seen (its anonymous part: not mapped files such as the network's .npz or "
        "the libraries); roles: client "
        "(the command), worker (a dask worker process), city (a city's coverage process "
        "in a batch); peak_rss_mb: ru_maxrss of the command from os.wait4",
        "steps": recs,
        "compare": compare,
        "batch": batch,
    }
    report["targets"] = _targets(report)
    return report


def _same_json(a: Path, b: Path) -> bool:
    try:
        return bool(json.loads(a.read_text("utf-8")) == json.loads(b.read_text("utf-8")))
    except (OSError, ValueError):
        return False


def _batch_rows(out: Path) -> list[dict[str, Any]]:
    """The batch's summary (its CSV: Chinese headers), as records."""
    import csv

    path = out / "batch_summary.csv"
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    keep = ("城市", "状态", "建筑数", "户数", "退出码", "用时（秒）", "峰值内存（MB）", "错误")
    return [{k: r.get(k) for k in keep} for r in rows]


def _mean(records: list[dict[str, Any]], step: str) -> float | None:
    vals = [r["passes_s"] for r in records if r["step"] == step and r["status"] == "ok"]
    return statistics.fmean(vals) if vals else None


def _targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    by = {r["step"]: r for r in report["steps"] if r["kind"] == "cli"}
    out: list[dict[str, Any]] = []

    def add(
        what: str, value: float | None, limit: float | None, unit: str, met: bool | None
    ) -> None:
        out.append({"target": what, "value": value, "limit": limit, "unit": unit, "met": met})

    c = report["compare"].get("tiles")
    n_diff = None if c is None else float(len(c["differing"]))
    add(
        f"per-building results, {report['tiles']} tiles == single run",
        n_diff,
        0.0,
        "columns differing",
        None if c is None else bool(c["identical"]),
    )
    single, tiles = by.get("single"), by.get("tiles")
    ratio = None
    if single and tiles and single["status"] == tiles["status"] == "ok":
        worker = tiles.get("worker_peak_mb")
        base = max(single.get("client_peak_mb") or 0.0, single.get("peak_rss_mb") or 0.0)
        ratio = worker / base if worker and base else None
    lim = TARGETS["worker_over_single"]
    add(
        "peak memory per worker / the single run's",
        ratio,
        lim,
        "x single",
        None if ratio is None else ratio <= lim,
    )
    if tiles and tiles.get("ratio_to_single"):
        add("wall, tiles / single run", tiles["ratio_to_single"], None, "x single", None)
    b = by.get("batch")
    if b is not None:
        rows = report["batch"].get("cities", [])
        ok = b["status"] == "ok" and bool(rows) and all(r["退出码"] in ("0", "1") for r in rows)
        add(f"{len(rows)}-city batch: every city audited", float(len(rows)), None, "cities", ok)
        if b.get("ratio_to_single"):
            add("wall, batch / single run", b["ratio_to_single"], None, "x single", None)
        cf = report["compare"].get("batch_first_city")
        if cf is not None:
            add(
                "per-building results, batch's first city == single run",
                float(len(cf["differing"])),
                0.0,
                "columns differing",
                bool(cf["identical"]),
            )
    return out


def _say(r: dict[str, Any], log: Callable[[str], None]) -> None:
    if r["status"] != "ok":
        log(f"    FAILED {r['step']}: exit {r.get('returncode')}: {r.get('stderr_tail', '')}")
    elif r["kind"] == "yardstick":
        log(f"    {r['wall_s']:.2f} s (passes {r['passes_s']:.3f} s)")
    else:
        w = r.get("worker_peak_mb")
        log(
            f"    {r['wall_s']:.2f} s, client peak {r.get('client_peak_mb') or 0:.0f} MB"
            + (f", worker peak {w:.0f} MB" if w else "")
        )


# --------------------------------------------------------------------------- report


def _f(v: float | None, nd: int = 2) -> str:
    return "-" if v is None else f"{v:,.{nd}f}"


def format_report(report: dict[str, Any]) -> str:
    """The table, the comparisons and the targets block, as printed."""
    rows = report["city"].get("rows", {})
    lines = [
        "",
        f"geoplan areas benchmark  size={report['size']}  seed={report['seed']}  "
        f"tiles={report['tiles']}  workers={report['workers']}  profile={report['profile']}",
        "city: "
        + ", ".join(f"{v:,} {k}" for k, v in rows.items())
        + f"  ({report['city_folder']})",
        f"passes at 2,250 m (yardstick, 'x passes'): {_f(report['passes_s'], 3)} s; "
        f"at 1,125 m ('x bare'): {_f(report['bare_s'], 3)} s",
        "",
    ]
    head = (
        f"{'step':<20}{'wall s':>9}{'x single':>10}{'x passes':>10}{'client MB':>11}"
        f"{'worker MB':>11}{'(anon)':>8}{'city MB':>9}{'workers':>9}"
    )
    lines += [head, "-" * len(head)]
    for r in report["steps"]:
        if r["status"] != "ok":
            lines.append(f"{r['step']:<20}FAILED exit {r.get('returncode')}")
            lines += [f"    {x}" for x in str(r.get("stderr_tail", "")).splitlines()]
            continue
        if r["kind"] == "yardstick":
            lines.append(f"{r['step']:<20}{_f(r['passes_s'], 3):>9}  (the passes alone)")
            continue
        lines.append(
            f"{r['step']:<20}{_f(r['wall_s']):>9}{_f(r.get('ratio_to_single')):>10}"
            f"{_f(r.get('ratio_to_passes'), 1):>10}{_f(r.get('client_peak_mb'), 0):>11}"
            f"{_f(r.get('worker_peak_mb'), 0):>11}{_f(r.get('worker_anon_peak_mb'), 0):>8}"
            f"{_f(r.get('city_peak_mb'), 0):>9}"
            f"{r.get('workers_seen', 0):>9}"
        )
    for name, c in report["compare"].items():
        lines.append(
            f"compare {name}: rows {c['rows']}, {c['columns']} columns, identical "
            f"{c['identical']}"
            + (f", differing {c['differing']}" if c["differing"] else "")
            + (
                f"; coverage.json equal {c['coverage_json_equal']}"
                if "coverage_json_equal" in c
                else ""
            )
        )
    for r in report["batch"].get("cities", []):
        lines.append(
            f"  batch {r['城市']}: {r['状态']}, {r['建筑数']} buildings, "
            f"{r['用时（秒）']} s, peak {r['峰值内存（MB）']} MB"
            + (f", {r['错误']}" if r["错误"] else "")
        )
    lines += ["", f"targets (issue 13, item 5; size {report['size']}):"]
    for t in report["targets"]:
        val = "-" if t["value"] is None else f"{t['value']:,.2f} {t['unit']}"
        limit = "" if t["limit"] is None else f"<= {t['limit']:.3g} {t['unit']}"
        if t["limit"] is None:
            verdict = "info" if t["met"] is None else ("yes" if t["met"] else "NO")
        else:
            verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        lines.append(f"  {t['target']:<58}{val:>26}  {limit:<22} {verdict}")
    lines.append("")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns 0 (1 when a step failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--size", choices=("1m", "100k", "tiny"), default="100k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "geoplan-bench-cli",
        help="where bench_cli's cities are written once and reused (default: "
        "geoplan-bench-cli in the system temp dir); the steps write into runs/areas_*",
    )
    ap.add_argument("--tiles", default="16", help="--tiles of the tiled run (default 16)")
    ap.add_argument("--workers", type=int, default=2, help="local dask workers (default 2)")
    ap.add_argument(
        "--batch-seeds",
        default="0,1,2",
        help="the seeds of the batch's cities, comma-separated (default 0,1,2; '' for none)",
    )
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--quiet", action="store_true", help="print only the tables")
    a = ap.parse_args(argv)
    seeds = [int(s) for s in str(a.batch_seeds).split(",") if s.strip()]

    def log(text: str) -> None:
        if not a.quiet:
            print(text, flush=True)

    report = run(
        size=a.size,
        seed=a.seed,
        work_dir=a.work_dir.resolve(),
        tiles=str(a.tiles),
        workers=int(a.workers),
        batch_seeds=seeds,
        log=log,
    )
    print(format_report(report), flush=True)
    if a.json_out is not None:
        a.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if any(r["status"] != "ok" for r in report["steps"]) else 0


if __name__ == "__main__":
    sys.exit(main())

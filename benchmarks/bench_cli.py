"""Time the geoplan command line as a user runs it, on the synthetic city written to files.

The city of :mod:`benchmarks.synthetic_city` is written once per size and seed
(``streets.gpkg``: the line layer; ``buildings.gpkg`` with households;
``facilities.gpkg`` with the category; ``communities.gpkg``: 480 m squares; the
same as GeoParquet when pyarrow is installed) into ``--work-dir`` and reused. Then
each step runs as its own subprocess, exactly as typed at a shell (the ``geoplan``
console script of this Python):

- ``bare_search_radius``: the yardstick, :mod:`benchmarks.bench_coverage`'s bare
  passes (ten compiled ``scipy.sparse.csgraph.dijkstra`` passes, one per category, on
  one core, on the same streets) at the radius the coverage command searches
  (``search_factor`` x its longest walk: 2,250 m): the Dijkstra passes the command
  itself needs. Run before and after the other steps (the mean is used); the targets
  are ratios of it (``x passes``);
- ``bare``: the same passes at the profile's longest walk (1,125 m), half the radius
  the command searches: a stricter yardstick, shown beside it (``x bare``; the
  targets' ``(stricter)`` lines);
- ``help``: ``geoplan --help`` (the median of ``--help-runs``);
- ``network_build``: ``geoplan network build streets.gpkg --out city.npz``;
- ``coverage_saved``: ``geoplan coverage --network city.npz --buildings ...
  --facilities ... --profile mofcom-15min --out ... --no-map``;
- ``coverage_saved_map``: the same with the gap map;
- ``coverage_lines``: ``--network streets.gpkg`` straight from the line layer (map on,
  the command's default);
- ``coverage_communities``: as ``coverage_saved`` with ``--communities``;
- ``*_parquet``: the same from GeoParquet files, only when the installed geoplan reads
  them (a probe on the tiny city; ``SKIPPED parquet: <reason>`` otherwise).

For each step: wall seconds (start-up and imports included), the ratio to ``bare``,
peak RSS (``os.wait4``'s ``ru_maxrss`` of the child: the kernel's peak of its largest
process; and the sum of the proportional set sizes over its process tree, sampled from
``/proc`` every 0.1 s, so memory forked workers share counts once), the
phases the command reports (``GEOPLAN_PHASES``, :mod:`geoplan._timing`) and the size of
its outputs. A failing step is recorded with its stderr tail and the run goes on.

Run from the repository root::

    python -m benchmarks.bench_cli --size 100k --json-out bench-cli-100k.json
    python -m benchmarks.bench_cli --size 1m --json-out bench-cli-1m.json

See ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["STEPS", "TARGETS", "StepSpec", "main", "measure", "steps_for"]

ROOT = Path(__file__).resolve().parents[1]
PROFILE = "mofcom-15min"
PHASES_ENV = "GEOPLAN_PHASES"
_RESULT = "@@RESULT "
_CITY_FORMAT = 1  # bump when the files written change
_LAYERS = ("streets", "buildings", "facilities", "communities")
_COMMUNITY_BLOCKS = 8  # a community is 8 x 8 street blocks (480 m at 60 m spacing)
_MB = 1024.0 * 1024.0

#: Issue 12, item 2: each figure's target (ratios to the bare passes of the same run).
TARGETS = {
    "coverage_saved": 2.0,  # coverage from a saved network, no map
    "coverage_saved_map": 3.0,  # the same with the map
    "network_build": 3.0,  # network build from the GeoPackage line layer
    "peak_rss_mb": 1.5 * 1024.0,  # in every geoplan step
    "help_s": 0.5,  # geoplan --help
    "query_over_bare": 0.8,  # item 4: snap + reach of coverage_saved, over bare
    "map_html_mb": 5.0,  # item 6: the HTML gap map
}

#: The phase groups of the table, in order (a phase ``read.network`` is in ``read``),
#: with their column headings.
PHASE_GROUPS = {
    "read": "read",
    "prepare": "prep",
    "snap": "snap",
    "reach": "reach",
    "aggregate": "aggr",
    "write": "write",
    "map": "map",
    "print": "print",
}


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class StepSpec:
    """One step: what it runs (argv relative to the city folder), its accepted exits."""

    name: str
    kind: str  # "yardstick", "info" or "cli"
    argv: tuple[str, ...]
    ok_codes: frozenset[int] = frozenset({0})
    out: str | None = None  # the output folder or file, relative to the city folder
    what: str = ""
    parquet: bool = False
    needs_npz: bool = False


def _coverage(network: str, ext: str, out: str, *extra: str) -> tuple[str, ...]:
    return (
        "coverage",
        "--network",
        network,
        "--buildings",
        f"buildings.{ext}",
        "--facilities",
        f"facilities.{ext}",
        "--profile",
        PROFILE,
        "--out",
        out,
        *extra,
    )


def steps_for(npz: str = "runs/network_build/city.npz") -> list[StepSpec]:
    """The benchmark's geoplan steps, in the order they run (``bare`` excluded).

    Examples
    --------
    >>> [s.name for s in steps_for()][:3]
    ['help', 'network_build', 'coverage_saved']
    """
    cov = frozenset({0, 1})  # 1 is the audit's FAIL verdict, not a failure of the run
    run = "runs/{}/out"
    specs = [
        StepSpec("help", "cli", ("--help",), what="geoplan --help"),
        StepSpec(
            "network_build",
            "cli",
            ("network", "build", "streets.gpkg", "--out", npz),
            out=npz,
            what="network build streets.gpkg",
        ),
        StepSpec(
            "coverage_saved",
            "cli",
            _coverage(npz, "gpkg", run.format("coverage_saved"), "--no-map"),
            cov,
            run.format("coverage_saved"),
            "coverage, saved network, --no-map",
            needs_npz=True,
        ),
        StepSpec(
            "coverage_saved_map",
            "cli",
            _coverage(npz, "gpkg", run.format("coverage_saved_map")),
            cov,
            run.format("coverage_saved_map"),
            "coverage, saved network, with the map",
            needs_npz=True,
        ),
        StepSpec(
            "coverage_lines",
            "cli",
            _coverage("streets.gpkg", "gpkg", run.format("coverage_lines")),
            cov,
            run.format("coverage_lines"),
            "coverage from streets.gpkg, with the map",
        ),
        StepSpec(
            "coverage_communities",
            "cli",
            _coverage(
                npz,
                "gpkg",
                run.format("coverage_communities"),
                "--no-map",
                "--communities",
                "communities.gpkg",
            ),
            cov,
            run.format("coverage_communities"),
            "coverage, saved network, --communities, --no-map",
            needs_npz=True,
        ),
    ]
    pq_npz = "runs/network_build_parquet/city.npz"
    specs += [
        StepSpec(
            "network_build_parquet",
            "cli",
            ("network", "build", "streets.parquet", "--out", pq_npz),
            out=pq_npz,
            what="network build streets.parquet",
            parquet=True,
        ),
        StepSpec(
            "coverage_saved_parquet",
            "cli",
            _coverage(npz, "parquet", run.format("coverage_saved_parquet"), "--no-map"),
            cov,
            run.format("coverage_saved_parquet"),
            "coverage, saved network, GeoParquet layers, --no-map",
            parquet=True,
            needs_npz=True,
        ),
        StepSpec(
            "coverage_lines_parquet",
            "cli",
            _coverage("streets.parquet", "parquet", run.format("coverage_lines_parquet")),
            cov,
            run.format("coverage_lines_parquet"),
            "coverage from streets.parquet, with the map",
            parquet=True,
        ),
    ]
    return specs


#: Every step name ``--steps`` accepts (``bare`` always runs: it is the yardstick).
STEPS: tuple[str, ...] = ("bare", "bare_search_radius", *(s.name for s in steps_for()))


# --------------------------------------------------------------------------- measuring


def _tree_rss(root: int) -> int:
    """Memory of ``root`` and its descendants: the sum of their proportional set sizes
    (Linux ``/proc``; 0 elsewhere), so the graph a forked worker shares with its parent
    counts once."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for d in names:
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                rest = fh.read().rpartition(b")")[2].split()
        except OSError:
            continue
        parent[int(d)] = int(rest[1])
        rss[int(d)] = int(rest[21])
    tree, todo = set(), [root]
    while todo:
        p = todo.pop()
        if p in tree or p not in rss:
            continue
        tree.add(p)
        todo += [c for c, pp in parent.items() if pp == p]
    return sum(_pss(p, rss[p] * os.sysconf("SC_PAGE_SIZE")) for p in tree)


def _pss(pid: int, rss_bytes: int) -> int:
    """Proportional set size of ``pid`` (pages shared with forked workers are split
    between them, not counted once per process); its RSS where the kernel won't say."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return rss_bytes


@dataclass
class Measured:
    """What :func:`measure` saw of one subprocess."""

    returncode: int
    wall_s: float
    peak_rss_mb: float  # ru_maxrss of the child (its largest process)
    tree_peak_mb: float | None  # sampled sum over the process tree (None: no /proc)
    stdout: str
    stderr: str
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before, after
    extra: dict[str, Any] = field(default_factory=dict)


def measure(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    log_dir: Path | None = None,
    sample_s: float = 0.1,
) -> Measured:
    """Run ``argv`` once and measure it: wall time, peak RSS (two ways), its output.

    Wall time runs from before the spawn to the reaping (interpreter start-up and
    imports included). ``peak_rss_mb`` is ``ru_maxrss`` from ``os.wait4`` on the
    child: the kernel's exact peak of the child (or of the largest descendant it
    waited for); ``tree_peak_mb`` the peak of the summed RSS of the child's process
    tree, sampled every ``sample_s`` from ``/proc`` (None without ``/proc``).

    Examples
    --------
    >>> m = measure([sys.executable, "-c", "print('hi')"], cwd=Path.cwd())
    >>> m.returncode, m.stdout.strip(), m.peak_rss_mb > 0
    (0, 'hi', True)
    """
    with contextlib.ExitStack() as stack:
        if log_dir is None:
            log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        log_dir.mkdir(parents=True, exist_ok=True)
        out_p, err_p = log_dir / "stdout.txt", log_dir / "stderr.txt"
        has_proc = Path("/proc/self/stat").exists()
        peak = [0]
        stop = threading.Event()
        load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        with out_p.open("wb") as out, err_p.open("wb") as err:
            t0 = time.perf_counter()
            proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdout=out, stderr=err)

            def sample() -> None:
                while not stop.is_set():
                    peak[0] = max(peak[0], _tree_rss(proc.pid))
                    stop.wait(sample_s)

            sampler = threading.Thread(target=sample, daemon=True)
            if has_proc:
                sampler.start()
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
            stop.set()
            if has_proc:
                sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        maxrss = float(usage.ru_maxrss) * (1.0 if sys.platform == "darwin" else 1024.0)
        return Measured(
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_mb=maxrss / _MB,
            tree_peak_mb=peak[0] / _MB if has_proc else None,
            stdout=out_p.read_text(encoding="utf-8", errors="replace"),
            stderr=err_p.read_text(encoding="utf-8", errors="replace"),
            load=(load0, load1),
        )


def _phases(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        with contextlib.suppress(ValueError):
            rows.append(dict(json.loads(line)))
    return rows


def _sum_phases(records: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in records:
        out[str(r["phase"])] = out.get(str(r["phase"]), 0.0) + float(r["seconds"])
    return out


def _groups(phases: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, s in phases.items():
        g = name.split(".", 1)[0]
        out[g] = out.get(g, 0.0) + s
    return out


def _outputs(base: Path) -> dict[str, int]:
    if base.is_file():
        return {base.name: base.stat().st_size}
    if not base.is_dir():
        return {}
    return {
        str(p.relative_to(base)): p.stat().st_size for p in sorted(base.rglob("*")) if p.is_file()
    }


def _tail(text: str, n: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n:])


def _geoplan() -> list[str]:
    """The ``geoplan`` console script of this Python (or the same entry point via -c)."""
    script = Path(sys.executable).with_name("geoplan")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from geoplan.cli import main; sys.exit(main())"]


# --------------------------------------------------------------------------- the city


def city_folder(work_dir: Path, size: str, seed: int) -> Path:
    """Where the city of one size and seed is written (and found again)."""
    return work_dir / f"city-{size}-seed{seed}"


def _has_pyarrow() -> bool:
    import importlib.util

    return importlib.util.find_spec("pyarrow") is not None


def _communities(city: Any, buildings: Any) -> Any:
    """Squares of 8 x 8 street blocks holding buildings, with their households."""
    import geopandas as gpd
    import numpy as np
    import shapely

    net = city.network
    side = _COMMUNITY_BLOCKS * city.spacing_m
    x0, y0 = float(net.x.min()), float(net.y.min())
    xy = shapely.get_coordinates(buildings.geometry.values)
    nx_ = int(np.ceil((float(net.x.max()) - x0) / side)) + 1
    cell = np.floor((xy[:, 1] - y0) / side).astype(np.int64) * nx_ + np.floor(
        (xy[:, 0] - x0) / side
    ).astype(np.int64)
    hh = np.bincount(cell, weights=buildings["households"].to_numpy(float))
    cells = np.flatnonzero(np.bincount(cell))
    cx, cy = x0 + (cells % nx_) * side, y0 + (cells // nx_) * side
    return gpd.GeoDataFrame(
        {
            "community_id": [f"c{k}" for k in range(cells.size)],
            "name": [f"社区{k}" for k in range(cells.size)],
            "kind": "urban",
            "households": hh[cells],
        },
        geometry=shapely.box(cx, cy, cx + side, cy + side),
        crs=net.crs,
    )


def _layers(size: str, seed: int) -> dict[str, Any]:
    import numpy as np

    from benchmarks.synthetic_city import street_lines, synthetic_city

    city = synthetic_city(size, seed=seed)
    rng = np.random.default_rng(seed)  # households as in bench_siting
    b = city.buildings.assign(households=rng.integers(20, 200, len(city.buildings)).astype(float))
    return {
        "streets": street_lines(city),
        "buildings": b.reset_index(),
        "facilities": city.facilities.reset_index(),
        "communities": _communities(city, b),
    }


def write_city(size: str, seed: int, folder: Path) -> dict[str, Any]:
    """Write the city's four layers as GeoPackage (and GeoParquet with pyarrow).

    Each file is written under a temporary name and renamed; ``city.json``, written
    last, says the folder is complete (:func:`_city_ready`). Returns its content.
    """
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    layers = _layers(size, seed)
    gen_s = time.perf_counter() - t0
    arrow = _has_pyarrow()
    files: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for name, gdf in layers.items():
        t = time.perf_counter()
        tmp = folder / f".{name}.tmp.gpkg"
        tmp.unlink(missing_ok=True)
        gdf.to_file(tmp, layer=name, engine="pyogrio", **({"use_arrow": True} if arrow else {}))
        tmp.replace(folder / f"{name}.gpkg")
        seconds[f"{name}.gpkg"] = time.perf_counter() - t
        if arrow:
            t = time.perf_counter()
            tmp = folder / f".{name}.tmp.parquet"
            gdf.to_parquet(tmp)
            tmp.replace(folder / f"{name}.parquet")
            seconds[f"{name}.parquet"] = time.perf_counter() - t
    for p in sorted(folder.glob("*.gpkg")) + sorted(folder.glob("*.parquet")):
        files[p.name] = p.stat().st_size
    info = {
        "format": _CITY_FORMAT,
        "size": size,
        "seed": seed,
        "rows": {k: len(v) for k, v in layers.items()},
        "crs": str(layers["streets"].crs),
        "files": files,
        "generate_s": gen_s,
        "write_s": seconds,
        "parquet_written": arrow,
    }
    (folder / "city.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def _city_ready(folder: Path, size: str, seed: int) -> dict[str, Any] | None:
    marker = folder / "city.json"
    if not marker.is_file():
        return None
    try:
        info = dict(json.loads(marker.read_text(encoding="utf-8")))
    except ValueError:
        return None
    if (info.get("format"), info.get("size"), info.get("seed")) != (_CITY_FORMAT, size, seed):
        return None
    if not all((folder / n).is_file() for n in info.get("files", {})):
        return None
    if _has_pyarrow() and not info.get("parquet_written"):
        return None  # written before pyarrow was installed: write it again, with GeoParquet
    return info


def _self(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_cli", *args]


def ensure_city(work_dir: Path, size: str, seed: int, *, log: Callable[[str], None]) -> Path:
    """The city folder, written by a subprocess when not already complete."""
    folder = city_folder(work_dir, size, seed)
    info = _city_ready(folder, size, seed)
    if info is not None:
        log(f"city {size} (seed {seed}): reusing {folder}")
        return folder
    log(f"city {size} (seed {seed}): writing the files into {folder} ...")
    t0 = time.perf_counter()
    args = ["--_write-city", "--size", size, "--seed", str(seed), "--work-dir", str(work_dir)]
    proc = subprocess.run(_self(*args), cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or _city_ready(folder, size, seed) is None:
        raise RuntimeError(f"writing the {size} city failed:\n{_tail(proc.stderr, 30)}")
    log(f"    written in {time.perf_counter() - t0:.1f} s")
    return folder


# --------------------------------------------------------------------------- workers


def audit_search_limit(profile: str = PROFILE) -> float:
    """The radius the coverage audit searches: ``search_factor`` x its longest walk.

    Examples
    --------
    >>> audit_search_limit()
    2250.0
    """
    import inspect

    from geoplan.audit.coverage import audit_coverage, coverage_targets
    from geoplan.profiles import load_profile

    prof = load_profile(profile)
    factor = float(inspect.signature(audit_coverage).parameters["search_factor"].default)
    walks = [float(t.walk_limit_m(prof, elderly=False)) for t in coverage_targets(prof)]
    return max(walks) * factor


def _bare_radius(size: str, seed: int) -> dict[str, Any]:
    """bench_coverage's bare passes at the audit's search radius (a worker step)."""
    from benchmarks.bench_coverage import _bare_passes, coverage_parameters
    from benchmarks.synthetic_city import synthetic_city

    p = coverage_parameters()
    p["limit_m"] = audit_search_limit()
    city = synthetic_city(size, seed=seed)
    return {**_bare_passes(city, p, sources=True), "limit_m": p["limit_m"]}


# --------------------------------------------------------------------------- running


@dataclass
class Runner:
    """Runs and records the steps of one benchmark run."""

    folder: Path
    records: list[dict[str, Any]] = field(default_factory=list)

    def _record(self, name: str, kind: str, argv: list[str], what: str) -> dict[str, Any]:
        return {"step": name, "kind": kind, "what": what, "argv": argv, "status": "ok"}

    def worker(self, name: str, argv: list[str], kind: str, what: str) -> dict[str, Any]:
        """A Python worker step that prints one ``@@RESULT`` JSON line (bare passes)."""
        rec = self._record(name, kind, argv, what)
        m = measure(argv, cwd=ROOT, log_dir=self.folder / "runs" / name)
        rec.update(self._figures(m))
        res = next(
            (json.loads(x[len(_RESULT) :]) for x in m.stdout.splitlines() if x.startswith(_RESULT)),
            None,
        )
        if m.returncode != 0 or res is None:
            rec.update(status="failed", stderr_tail=_tail(m.stderr))
            return rec
        rec["result"] = res
        rec["passes_s"] = float(res["seconds"])
        # the passes are the reach; the rest is start-up, imports and the city generated
        rec["phases"] = {"reach": float(res["seconds"])}
        rec["other_s"] = m.wall_s - float(res["seconds"])
        return rec

    def _figures(self, m: Measured) -> dict[str, Any]:
        return {
            "returncode": m.returncode,
            "wall_s": m.wall_s,
            "peak_rss_mb": m.peak_rss_mb,
            "tree_peak_mb": m.tree_peak_mb,
            "load_1min": list(m.load),
        }

    def cli(self, spec: StepSpec, runs: int) -> dict[str, Any]:
        """A geoplan command, ``runs`` times; the median run by wall time is kept."""
        argv = [*_geoplan(), *spec.argv]
        rec = self._record(spec.name, spec.kind, ["geoplan", *spec.argv], spec.what)
        rec["cwd"] = str(self.folder)
        done: list[dict[str, Any]] = []
        for _ in range(runs):
            log_dir = self.folder / "runs" / spec.name
            if spec.out:  # each run writes its outputs afresh
                target = self.folder / spec.out
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
            log_dir.mkdir(parents=True, exist_ok=True)
            phases_file = log_dir / "phases.jsonl"
            phases_file.unlink(missing_ok=True)
            env = {**os.environ, PHASES_ENV: str(phases_file)}
            m = measure(argv, cwd=self.folder, env=env, log_dir=log_dir)
            one = self._figures(m)
            records = _phases(phases_file)
            one["phase_records"] = records
            one["phases"] = _sum_phases(records)
            one["other_s"] = m.wall_s - sum(one["phases"].values())
            one["outputs"] = _outputs(self.folder / spec.out) if spec.out else {}
            one["output_mb"] = sum(one["outputs"].values()) / _MB
            if m.returncode not in spec.ok_codes:
                one["status"] = "failed"
                one["stderr_tail"] = _tail(m.stderr)
            done.append(one)
            if one.get("status") == "failed":
                break
        failed = [d for d in done if d.get("status") == "failed"]
        kept = failed[0] if failed else sorted(done, key=lambda d: d["wall_s"])[len(done) // 2]
        rec.update({k: v for k, v in kept.items() if k != "status"})
        rec["status"] = "failed" if failed else "ok"
        rec["runs_s"] = [d["wall_s"] for d in done]
        return rec


def _parquet_probe(work_dir: Path, seed: int, log: Callable[[str], None]) -> tuple[bool, str]:
    """Does the installed geoplan read GeoParquet? A coverage run on the tiny city."""
    if not _has_pyarrow():
        return False, "pyarrow is not installed (writing and reading GeoParquet needs it)"
    tiny = ensure_city(work_dir, "tiny", seed, log=log)
    argv = [
        *_geoplan(),
        *_coverage("streets.parquet", "parquet", "runs/parquet_probe/out", "--no-map"),
    ]
    m = measure(argv, cwd=tiny, log_dir=tiny / "runs" / "parquet_probe")
    if m.returncode in (0, 1):
        return True, ""
    last = (m.stderr.strip().splitlines() or [f"exit {m.returncode}"])[-1]
    return False, f"geoplan coverage on .parquet files: exit {m.returncode}: {last}"


def _machine() -> dict[str, Any]:
    def version(name: str) -> str | None:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": {
            n: version(n)
            for n in ("geoplan", "numpy", "scipy", "shapely", "geopandas", "pyogrio", "pyarrow")
        },
    }


def _bare_mean(records: list[dict[str, Any]], step: str = "bare") -> float | None:
    vals = [r["passes_s"] for r in records if r["step"] == step and r["status"] == "ok"]
    return statistics.fmean(vals) if vals else None


def _targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    by = {r["step"]: r for r in report["steps"] if r["kind"] != "yardstick"}
    bare = report["bare_s"]
    passes = report.get("passes_s")
    out: list[dict[str, Any]] = []

    def add(what: str, value: float | None, target: float, unit: str, step: str | None) -> None:
        met = None if value is None else bool(value <= target)
        out.append(
            {
                "target": what,
                "value": value,
                "limit": target,
                "unit": unit,
                "met": met,
                "step": step,
            }
        )

    for name, label in (
        ("coverage_saved", "coverage from a saved network, no map"),
        ("coverage_saved_map", "coverage with the map"),
        ("network_build", "network build from the GeoPackage line layer"),
    ):
        r = by.get(name)
        ok = r is not None and r["status"] == "ok"
        for yard, unit, extra in ((passes, "x passes", ""), (bare, "x bare", " (stricter)")):
            if yard or unit == "x passes":
                value = r["wall_s"] / yard if ok and r and yard else None
                add(label + extra, value, TARGETS[name], unit, name)
    cli = [r for r in by.values() if r["kind"] == "cli"]
    worst = max(
        cli, key=lambda r: max(r.get("peak_rss_mb") or 0, r.get("tree_peak_mb") or 0), default=None
    )
    add(
        "peak RSS in every geoplan step",
        None if worst is None else max(worst["peak_rss_mb"] or 0, worst.get("tree_peak_mb") or 0),
        TARGETS["peak_rss_mb"],
        "MB",
        None if worst is None else worst["step"],
    )
    h = by.get("help")
    add(
        "geoplan --help",
        h["wall_s"] if h and h["status"] == "ok" else None,
        TARGETS["help_s"],
        "s",
        "help",
    )
    c = by.get("coverage_saved")
    query = None
    if c and c["status"] == "ok" and {"snap", "reach"} <= set(c.get("phases", {})):
        query = c["phases"]["snap"] + c["phases"]["reach"]
    for yard, unit, extra in ((passes, "x passes", ""), (bare, "x bare", " (stricter)")):
        if yard or unit == "x passes":
            add(
                "(item 4) the query alone (snap + reach)" + extra,
                query / yard if query is not None and yard else None,
                TARGETS["query_over_bare"],
                unit,
                "coverage_saved",
            )
    m = by.get("coverage_saved_map")
    html = None
    if m and m["status"] == "ok":
        sizes = [v for k, v in m.get("outputs", {}).items() if k.endswith(".html")]
        html = max(sizes) / _MB if sizes else None
    add("(item 6) the HTML gap map", html, TARGETS["map_html_mb"], "MB", "coverage_saved_map")
    return out


def run(
    *,
    size: str,
    seed: int,
    work_dir: Path,
    steps: Sequence[str] | None,
    repeat: int,
    help_runs: int,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Write (or reuse) the city, run the steps, return the report (see :func:`main`)."""
    wanted = set(steps or STEPS) | {"bare"}
    folder = ensure_city(work_dir, size, seed, log=log)
    info = _city_ready(folder, size, seed) or {}
    runner = Runner(folder=folder)
    recs = runner.records
    bare_argv = [
        sys.executable,
        "-m",
        "benchmarks.bench_coverage",
        "--_step",
        "bare",
        "--_size",
        size,
        "--seed",
        str(seed),
    ]
    bare_what = "bench_coverage bare: ten scipy dijkstra passes, 1,125 m, with sources"

    def yardstick() -> None:
        for _ in range(max(1, repeat)):
            log("... bare (bench_coverage's bare passes, own process)")
            r = runner.worker("bare", bare_argv, "yardstick", bare_what)
            _say(r, log)
            recs.append(r)
            if "bare_search_radius" in wanted:
                log("... bare_search_radius (the same passes at the audit's search radius)")
                r = runner.worker(
                    "bare_search_radius",
                    _self("--_bare-radius", "--size", size, "--seed", str(seed)),
                    "yardstick",
                    "the bare passes at the audit's search radius",
                )
                _say(r, log)
                recs.append(r)

    yardstick()
    parquet: dict[str, Any] = {"supported": None, "reason": "no parquet step asked for"}
    specs = [s for s in steps_for() if s.name in wanted]
    if any(s.parquet for s in specs):
        ok, why = _parquet_probe(work_dir, seed, log)
        if ok and not info.get("parquet_written"):
            ok, why = False, "the city's GeoParquet files were not written (no pyarrow then)"
        parquet = {"supported": ok, "reason": why}
        if not ok:
            log(f"SKIPPED parquet: {why}")
            specs = [s for s in specs if not s.parquet]
    npz_ok = (folder / "runs/network_build/city.npz").is_file()
    for spec in specs:
        if spec.needs_npz and not npz_ok and spec.name != "network_build":
            # a saved network is needed: build it once, untimed
            log("... (building city.npz for the saved-network steps, not timed)")
            setup = next(s for s in steps_for() if s.name == "network_build")
            r = runner.cli(setup, 1)
            npz_ok = r["status"] == "ok"
        log(f"... {spec.name}: geoplan {' '.join(spec.argv)}")
        r = runner.cli(spec, help_runs if spec.name == "help" else max(1, repeat))
        if spec.name == "network_build":
            npz_ok = r["status"] == "ok"
        _say(r, log)
        recs.append(r)
    yardstick()
    bare = _bare_mean(recs)
    passes = _bare_mean(recs, "bare_search_radius")
    for r in recs:
        if r["kind"] != "yardstick" and r["status"] == "ok":
            if bare:
                r["ratio_to_bare"] = r["wall_s"] / bare
            if passes:
                r["ratio_to_passes"] = r["wall_s"] / passes
    report: dict[str, Any] = {
        "benchmark": "bench_cli",
        "size": size,
        "seed": seed,
        "city": info,
        "city_folder": str(folder),
        "profile": PROFILE,
        "bare_s": bare,
        "bare_runs_s": [r["passes_s"] for r in recs if r["step"] == "bare" and "passes_s" in r],
        "passes_s": passes,
        "passes_runs_s": [
            r["passes_s"] for r in recs if r["step"] == "bare_search_radius" and "passes_s" in r
        ],
        "parquet": parquet,
        "machine": _machine(),
        "memory_measure": "peak_rss_mb: ru_maxrss from os.wait4 on the child (kernel peak of "
        "its largest process); tree_peak_mb: summed PSS (shared pages split between the "
        "processes sharing them) of the child's process tree, sampled from /proc every 0.1 s",
        "steps": recs,
    }
    report["targets"] = _targets(report)
    return report


def _say(r: dict[str, Any], log: Callable[[str], None]) -> None:
    if r["status"] != "ok":
        log(f"    FAILED {r['step']}: exit {r.get('returncode')}: {r.get('stderr_tail', '')}")
    else:
        log(f"    {r['wall_s']:.2f} s, peak {r['peak_rss_mb']:.0f} MB")


# --------------------------------------------------------------------------- report


def _f(v: float | None, nd: int = 2) -> str:
    return "-" if v is None else f"{v:,.{nd}f}"


def _ratio(v: float | None) -> str:
    return "-" if not v else f"{v:,.2f}x" if v < 100 else f"{v:,.0f}x"


def format_report(report: dict[str, Any]) -> str:
    """The tables and the targets block, as printed."""
    rows = report["city"].get("rows", {})
    lines = [
        "",
        f"geoplan CLI benchmark  size={report['size']}  seed={report['seed']}  "
        f"profile={report['profile']}",
        "city: "
        + ", ".join(f"{v:,} {k}" for k, v in rows.items())
        + f"  ({report['city_folder']})",
        "the passes the command needs (yardstick, 'x passes'; 2,250 m): "
        + " / ".join(f"{v:.3f}" for v in report.get("passes_runs_s", []))
        + f" s, mean {_f(report.get('passes_s'), 3)} s",
        "bare passes at the 1,125 m walk ('x bare', stricter): "
        + " / ".join(f"{v:.3f}" for v in report["bare_runs_s"])
        + f" s, mean {_f(report['bare_s'], 3)} s",
        "",
    ]
    head = (
        f"{'step':<24}{'wall s':>8}{'x passes':>10}{'x bare':>9}{'peak MB':>9}{'tree MB':>9}"
        f"{'out MB':>8}" + "".join(f"{h:>7}" for h in PHASE_GROUPS.values()) + f"{'other':>7}"
    )
    lines += [head, "-" * len(head)]
    for r in report["steps"]:
        if r["status"] != "ok":
            lines.append(f"{r['step']:<24}FAILED exit {r.get('returncode')}")
            lines += [f"    {x}" for x in str(r.get("stderr_tail", "")).splitlines()]
            continue
        g = _groups(r.get("phases", {}))
        lines.append(
            f"{r['step']:<24}{_f(r['wall_s']):>8}"
            f"{_ratio(r.get('ratio_to_passes')):>10}{_ratio(r.get('ratio_to_bare')):>9}"
            f"{_f(r['peak_rss_mb'], 0):>9}{_f(r.get('tree_peak_mb'), 0):>9}"
            f"{_f(r.get('output_mb'), 1) if r.get('outputs') else '-':>8}"
            + "".join(f"{_f(g.get(k)) if k in g else '':>7}" for k in PHASE_GROUPS)
            + f"{_f(r.get('other_s')):>7}"
        )
    lines += ["", "phases in detail (seconds; 'other' = wall - phases: start-up, imports):"]
    for r in report["steps"]:
        ph = r.get("phases") or {}
        if r["status"] == "ok" and r["kind"] == "cli" and ph:
            lines.append(f"  {r['step']}: " + ", ".join(f"{k} {v:.2f}" for k, v in ph.items()))
        if len(r.get("runs_s", [])) > 1:
            lines.append(
                f"  {r['step']} runs: " + " / ".join(f"{v:.2f}" for v in r["runs_s"]) + " (median)"
            )
    if report["parquet"]["supported"] is False:
        lines += ["", f"SKIPPED parquet: {report['parquet']['reason']}"]
    lines += ["", f"targets (issue 12, item 2 unless said; size {report['size']}):"]
    for t in report["targets"]:
        val = "-" if t["value"] is None else f"{t['value']:,.2f} {t['unit']}"
        verdict = {True: "met", False: "NOT met", None: "not measured"}[t["met"]]
        where = f"  [{t['step']}]" if t["step"] else ""
        lines.append(
            f"  {t['target']:<56}{val:>16}  <= {t['limit']:g} {t['unit']:<8} {verdict}{where}"
        )
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
        help="where the city files are written once and reused, and the steps' outputs go "
        "(default: geoplan-bench-cli in the system temp dir)",
    )
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument(
        "--steps",
        nargs="+",
        choices=STEPS,
        default=None,
        help="the steps to run (default: all); bare always runs, before and after",
    )
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="runs of each step (and of bare, before and after); the median is kept",
    )
    ap.add_argument("--help-runs", type=int, default=5, help="runs of geoplan --help (median)")
    ap.add_argument("--quiet", action="store_true", help="print only the tables")
    ap.add_argument("--_write-city", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_bare-radius", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    work_dir = a.work_dir.resolve()

    if a._write_city:  # worker: write the files of one city
        write_city(a.size, a.seed, city_folder(work_dir, a.size, a.seed))
        return 0
    if a._bare_radius:  # worker: the bare passes at the audit's search radius
        print(_RESULT + json.dumps(_bare_radius(a.size, a.seed)), flush=True)
        return 0

    def log(text: str) -> None:
        if not a.quiet:
            print(text, flush=True)

    report = run(
        size=a.size,
        seed=a.seed,
        work_dir=work_dir,
        steps=a.steps,
        repeat=a.repeat,
        help_runs=a.help_runs,
        log=log,
    )
    print(format_report(report), flush=True)
    if a.json_out is not None:
        a.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if any(r["status"] != "ok" for r in report["steps"]) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Time ``geoplan access`` (2SFCA) on the synthetic city against the bare shortest-path passes.

The city of :mod:`benchmarks.synthetic_city`, written to files once per size and seed
by :func:`benchmarks.bench_cli.ensure_city` (streets, buildings with households,
facilities, communities), plus ``facilities_supply.gpkg``: the same facilities with a
made-up ``floor_area_m2`` (200-3,000 m2, seeded). Each step is its own subprocess:

- ``bare`` (the yardstick of :mod:`benchmarks.bench_cli`): ten compiled
  ``scipy.sparse.csgraph.dijkstra`` multi-source passes, one per category, on one core,
  at the **same limit** as the access run. Run before and after the command; the mean
  is used;
- ``bare_matrix``: what the floating catchment needs and nothing more, bare: one
  single-source ``dijkstra`` per facility of the category from its nearest node, on
  the whole graph, at the same limit (chunks of sources), counting the nodes reached;
- ``network_build``: ``geoplan network build streets.gpkg`` (not timed against, needed
  once);
- ``access``: ``geoplan access --network city.npz --buildings buildings.gpkg
  --facilities facilities_supply.gpkg --communities communities.gpkg --category C
  --within-m D --profile P --population residents --out ...`` (gpkg, the default);
- ``access_map``: the same with ``--map``.

For each: wall seconds (start-up and imports included), peak RSS, the phases the
command reports (``GEOPLAN_PHASES``) and the ratios to both yardsticks.

Run from the repository root::

    python -m benchmarks.bench_access --size 100k --json-out bench-access-100k.json
    python -m benchmarks.bench_access --size 1m --steps access --json-out bench-access-1m.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.bench_cli import _RESULT, Runner, StepSpec, _groups, ensure_city

__all__ = ["STEPS", "bare_matrix_passes", "main", "write_supply"]

CATEGORY = "wet_market"
PROFILE = "city-health-check"
WITHIN_M = 750.0  # city-health-check: wet market within 10 min at 75 m/min
STEPS = ("bare", "bare_matrix", "network_build", "access", "access_map")
_NPZ = "runs/network_build/city.npz"
_QUERY = ("snap", "reach")  # the phases that walk: compared with the bare passes


def write_supply(folder: Path, seed: int) -> Path:
    """``facilities_supply.gpkg``: ``facilities.gpkg`` with a seeded ``floor_area_m2``."""
    import geopandas as gpd
    import numpy as np

    dest = folder / "facilities_supply.gpkg"
    if dest.is_file():
        return dest
    fac = gpd.read_file(folder / "facilities.gpkg")
    rng = np.random.default_rng(seed + 14)
    fac["floor_area_m2"] = np.round(rng.uniform(200.0, 3000.0, len(fac)), 1)
    tmp = folder / ".facilities_supply.tmp.gpkg"
    tmp.unlink(missing_ok=True)
    fac.to_file(tmp, layer="facilities", engine="pyogrio")
    tmp.replace(dest)
    return dest


def bare_matrix_passes(
    size: str, seed: int, category: str, limit_m: float, chunk: int = 64
) -> dict[str, Any]:
    """One single-source scipy Dijkstra per facility of ``category`` (its nearest node),
    whole graph, within ``limit_m``: the distances a floating catchment needs, bare.

    Examples
    --------
    >>> r = bare_matrix_passes("tiny", 1, "wet_market", 300.0)
    >>> r["sources"] > 0 and r["pairs_reached"] > 0
    True
    """
    import numpy as np
    from scipy.sparse.csgraph import dijkstra

    from benchmarks.bench_coverage import _nearest_nodes, _xy
    from benchmarks.synthetic_city import synthetic_city

    city = synthetic_city(size, seed=seed)
    fac = city.facilities[city.facilities["category"].astype(str) == category]
    nodes = _nearest_nodes(city, _xy(fac))
    csr = city.network.csr
    reached = 0
    t0 = time.perf_counter()
    for k in range(0, nodes.size, chunk):
        d = dijkstra(csr, directed=True, indices=nodes[k : k + chunk], limit=limit_m)
        reached += int(np.isfinite(d).sum())
    return {
        "seconds": time.perf_counter() - t0,
        "sources": int(nodes.size),
        "pairs_reached": reached,
        "limit_m": limit_m,
    }


def _bare_passes(size: str, seed: int, limit_m: float) -> dict[str, Any]:
    """bench_coverage's bare passes (ten categories, multi-source) at ``limit_m``."""
    from benchmarks.bench_coverage import _bare_passes as passes
    from benchmarks.bench_coverage import coverage_parameters
    from benchmarks.synthetic_city import synthetic_city

    p = coverage_parameters()
    p["limit_m"] = limit_m
    return {**passes(synthetic_city(size, seed=seed), p, sources=True), "limit_m": limit_m}


def _self(*args: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.bench_access", *args]


def _access_argv(out: str, category: str, within_m: float, *extra: str) -> tuple[str, ...]:
    return (
        "access",
        "--network", _NPZ,
        "--buildings", "buildings.gpkg",
        "--facilities", "facilities_supply.gpkg",
        "--communities", "communities.gpkg",
        "--category", category,
        "--within-m", f"{within_m:g}",
        "--profile", PROFILE,
        "--population", "residents",
        "--out", out,
        *extra,
    )  # fmt: skip


def run(
    *,
    size: str,
    seed: int,
    work_dir: Path,
    category: str,
    within_m: float,
    steps: Sequence[str] | None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Run the steps; return the report (records, yardsticks, ratios)."""
    wanted = set(steps or STEPS) | {"bare"}
    folder = ensure_city(work_dir, size, seed, log=log)
    write_supply(folder, seed)
    runner = Runner(folder)
    lim = f"{within_m:g}"
    common = ["--size", size, "--seed", str(seed), "--within-m", lim, "--category", category]

    recs = runner.records

    def bare(tag: str) -> None:
        log(f"... bare ({tag}): ten multi-source passes at {lim} m")
        r = runner.worker("bare", _self("--_bare", *common), "yardstick", f"bare passes, {lim} m")
        recs.append(r)

    bare("before")
    if "bare_matrix" in wanted:
        log(f"... bare_matrix: one pass per {category} facility at {lim} m")
        r = runner.worker(
            "bare_matrix",
            _self("--_bare-matrix", *common),
            "yardstick",
            f"single-source passes from every {category}, {lim} m",
        )
        recs.append(r)
    ok = frozenset({0, 1})  # 1: a target failed, the verdict, not a failure of the run
    specs = [
        StepSpec("network_build", "info", ("network", "build", "streets.gpkg", "--out", _NPZ),
                 out=_NPZ, what="network build streets.gpkg"),
        StepSpec("access", "cli", _access_argv("runs/access/out", category, within_m), ok,
                 "runs/access/out", "access, saved network, gpkg", needs_npz=True),
        StepSpec("access_map", "cli",
                 _access_argv("runs/access_map/out", category, within_m, "--map"), ok,
                 "runs/access_map/out", "access with --map", needs_npz=True),
    ]  # fmt: skip
    for spec in specs:
        if spec.name not in wanted and not (
            spec.name == "network_build" and not (folder / _NPZ).is_file()
        ):
            continue
        log(f"... {spec.name}: geoplan {' '.join(spec.argv[:2])} ...")
        r = runner.cli(spec, 1)
        log(f"    {r['status']}, {r['wall_s']:.1f} s")
        recs.append(r)
    bare("after")
    return _report(recs, size=size, seed=seed, category=category, within_m=within_m)


def _report(
    recs: list[dict[str, Any]], *, size: str, seed: int, category: str, within_m: float
) -> dict[str, Any]:
    bare = [r["passes_s"] for r in recs if r["step"] == "bare" and "passes_s" in r]
    matrix = [r["passes_s"] for r in recs if r["step"] == "bare_matrix" and "passes_s" in r]
    bare_s = sum(bare) / len(bare) if bare else None
    matrix_s = matrix[0] if matrix else None
    for r in recs:
        if r["kind"] in ("cli", "info") and r.get("status") == "ok":
            ph = r.get("phases") or {}
            # the walking work of the command: snapping and the reach matrix
            r["query_s"] = sum(v for k, v in _groups(ph).items() if k in _QUERY)
            if bare_s:
                r["ratio_to_bare"] = r["wall_s"] / bare_s
                r["query_over_bare"] = r["query_s"] / bare_s
            if matrix_s:
                r["ratio_to_bare_matrix"] = r["wall_s"] / matrix_s
                r["query_over_bare_matrix"] = r["query_s"] / matrix_s
    return {
        "size": size,
        "seed": seed,
        "category": category,
        "within_m": within_m,
        "bare_s": bare_s,
        "bare_runs_s": bare,
        "bare_matrix_s": matrix_s,
        "steps": recs,
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as a plain table: step, wall s, x bare, x bare_matrix, peak MB, phases."""
    lines = [
        f"geoplan access, {report['size']} city (seed {report['seed']}), "
        f"{report['category']} within {report['within_m']:g} m",
        f"bare passes (10 categories, multi-source): {report['bare_s'] or float('nan'):.2f} s "
        f"(runs {', '.join(f'{x:.2f}' for x in report['bare_runs_s'])}); "
        f"bare single-source matrix: {report['bare_matrix_s'] or float('nan'):.2f} s",
        f"{'step':<15} {'wall s':>8} {'x bare':>7} {'x matrix':>9} {'query s':>8} "
        f"{'q/bare':>7} {'q/matrix':>8} {'peak MB':>8}  phases",
    ]
    for r in report["steps"]:
        if r["kind"] == "yardstick":
            continue
        ph = r.get("phases") or {}
        top = ", ".join(f"{k} {v:.1f}" for k, v in sorted(ph.items(), key=lambda kv: -kv[1])[:6])
        status = "" if r.get("status") == "ok" else f"  FAILED: {r.get('stderr_tail', '')}"
        lines.append(
            f"{r['step']:<15} {r['wall_s']:>8.2f} {r.get('ratio_to_bare', float('nan')):>7.2f} "
            f"{r.get('ratio_to_bare_matrix', float('nan')):>9.2f} {r.get('query_s', 0.0):>8.2f} "
            f"{r.get('query_over_bare', float('nan')):>7.2f} "
            f"{r.get('query_over_bare_matrix', float('nan')):>8.2f} {r['peak_rss_mb']:>8.0f}  "
            f"{top}{status}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns 0 (1 when a step failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--size", choices=("1m", "100k", "tiny"), default="100k")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--category", default=CATEGORY)
    ap.add_argument("--within-m", type=float, default=WITHIN_M)
    ap.add_argument(
        "--work-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "geoplan-bench-cli",
        help="where the city files are (written once by bench_cli's writer, and reused)",
    )
    ap.add_argument("--steps", nargs="+", choices=STEPS, default=None)
    ap.add_argument("--json-out", type=Path, default=None)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--_bare", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_bare-matrix", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a._bare:
        print(_RESULT + json.dumps(_bare_passes(a.size, a.seed, a.within_m)), flush=True)
        return 0
    if a._bare_matrix:
        res = bare_matrix_passes(a.size, a.seed, a.category, a.within_m)
        print(_RESULT + json.dumps(res), flush=True)
        return 0

    def log(text: str) -> None:
        if not a.quiet:
            print(text, flush=True)

    report = run(
        size=a.size,
        seed=a.seed,
        work_dir=a.work_dir.resolve(),
        category=a.category,
        within_m=a.within_m,
        steps=a.steps,
        log=log,
    )
    print(format_report(report), flush=True)
    if a.json_out is not None:
        a.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return 1 if any(r.get("status") != "ok" for r in report["steps"]) else 0


if __name__ == "__main__":
    sys.exit(main())

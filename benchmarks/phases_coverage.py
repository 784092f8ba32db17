"""Where the coverage query's time goes: its phases, timed in one fresh process.

Runs :func:`benchmarks.bench_coverage.city_coverage` (the ``geoplan`` step of
``bench_coverage``) once on a fresh network of the synthetic city, with timers
around the private functions that make up the query, and prints each phase's
seconds and the resident memory it added. It patches those functions in this
process only (a diagnostic, not part of geoplan).

Run from the repository root::

    python -m benchmarks.phases_coverage --size 1m

Examples
--------
>>> rows = main(["--size", "tiny", "--quiet"])
>>> [r["phase"] for r in rows][:3]
['edge index', 'snapping (grid scan)', 'snapping (offsets)']
>>> rows[-1]["phase"], rows[-1]["seconds"] > 0
('total', True)
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from benchmarks.bench_coverage import _rss, city_coverage, coverage_parameters
from benchmarks.synthetic_city import SIZES, synthetic_city

__all__ = ["PHASES", "main"]

#: (module, function, phase label): the parts of ``nearest_facilities``.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("geoplan.network._segment_grid", "segment_grid", "edge index"),
    ("geoplan.network._segment_grid", "_grid_nearest", "snapping (grid scan)"),
    ("geoplan.network._segment_grid", "_project_on_edges", "snapping (offsets)"),
    ("geoplan.network.graph", "connected_components", "components"),
    ("geoplan.reach.nearest", "augment", "augmented graph"),
    ("geoplan.reach.nearest", "_rows", "locating buildings on pieces"),
    ("geoplan.reach.nearest", "run", "Dijkstra passes"),
    ("geoplan.reach.nearest", "_point_min", "per-building minimum"),
)


@contextmanager
def _timed(acc: dict[str, list[float]]) -> Iterator[None]:
    import importlib

    saved: list[tuple[Any, str, Callable[..., Any]]] = []

    def wrap(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            r0, t0 = _rss(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[label][0] += time.perf_counter() - t0
                acc[label][1] += (_rss() - r0) / 2**20

        return timed

    try:
        for mod_name, fn_name, label in PHASES:
            mod = importlib.import_module(mod_name)
            fn = getattr(mod, fn_name)
            acc.setdefault(label, [0.0, 0.0])
            saved.append((mod, fn_name, fn))
            setattr(mod, fn_name, wrap(label, fn))
        # the graph module holds its own reference to the grid builder
        net_mod: Any = importlib.import_module("geoplan.network.graph")
        saved.append((net_mod, "segment_grid", net_mod.segment_grid))
        net_mod.segment_grid = importlib.import_module("geoplan.network._segment_grid").segment_grid
        yield
    finally:
        for mod, fn_name, fn in reversed(saved):
            setattr(mod, fn_name, fn)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Time the phases once; print a table unless ``--quiet``; return the rows."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--size", choices=sorted(SIZES), default="1m")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    city = synthetic_city(a.size, seed=a.seed)
    p = coverage_parameters()
    import geoplan.reach  # noqa: F401 (imported before the timer)

    acc: dict[str, list[float]] = {}
    with _timed(acc):
        t0 = time.perf_counter()
        city_coverage(city, p)
        total = time.perf_counter() - t0
    rows = [{"phase": k, "seconds": v[0], "rss_added_mb": v[1]} for k, v in acc.items()]
    rows.append(
        {
            "phase": "other (frame, ids, checks)",
            "seconds": total - sum(v[0] for v in acc.values()),
            "rss_added_mb": None,
        }
    )
    rows.append({"phase": "total", "seconds": total, "rss_added_mb": None})
    if not a.quiet:
        print(f"coverage query phases, size={a.size} (one run, fresh network)")
        for r in rows:
            mb = "" if r["rss_added_mb"] is None else f"{r['rss_added_mb']:8.0f} MB"
            print(f"{r['phase']:<32}{r['seconds']:8.3f} s {mb}")
    return rows


if __name__ == "__main__":
    main()

"""The areas benchmark (issue 13, item 5) at tiny size: it runs, compares, reports.

``benchmarks/bench_areas.py`` times the single coverage run, the tiled run on a
LocalCluster and a batch, with the peak memory of every process of each step; no
wall-clock or memory figure is asserted, only that they are measured and that the
tiled and batch results are the single run's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_areas  # noqa: E402


def test_bench_areas_smoke_tiny(tmp_path: Path) -> None:
    out = tmp_path / "areas.json"
    argv = ["--size", "tiny", "--work-dir", str(tmp_path / "work"), "--tiles", "2x2"]
    code = bench_areas.main([*argv, "--batch-seeds", "0", "--json-out", str(out), "--quiet"])
    report = json.loads(out.read_text(encoding="utf-8"))
    steps = {r["step"]: r for r in report["steps"]}
    failed = {n: r.get("stderr_tail") for n, r in steps.items() if r["status"] != "ok"}
    assert code == 0 and not failed, failed
    order = [r["step"] for r in report["steps"]]
    assert order.count("bare") == 2 and order.count("bare_search_radius") == 2  # before, after
    assert {"single", "tiles", "batch"} <= set(steps)
    for name in ("single", "tiles", "batch"):
        r = steps[name]
        assert r["wall_s"] > 0 and r["client_peak_mb"] > 0, name
        assert r["ratio_to_single"] > 0 and r["ratio_to_passes"] > 0, name
    # the workers of the local cluster are seen and measured, one city process per city
    assert steps["tiles"]["workers_seen"] == 2 and steps["tiles"]["worker_peak_mb"] > 0
    assert steps["batch"]["city_peak_mb"] > 0
    assert report["compare"]["tiles"]["identical"], report["compare"]["tiles"]
    assert report["compare"]["tiles"]["coverage_json_equal"]
    assert report["compare"]["batch_first_city"]["identical"]
    [city] = report["batch"]["cities"]
    assert city["退出码"] in ("0", "1") and int(city["建筑数"]) > 0
    targets = {t["target"]: t for t in report["targets"]}
    assert targets["per-building results, 2x2 tiles == single run"]["met"] is True
    memory = targets["peak memory per worker / the single run's"]
    assert memory["value"] > 0 and memory["met"] in (True, False)
    text = bench_areas.format_report(report)
    assert "targets (issue 13, item 5; size tiny)" in text and "identical True" in text

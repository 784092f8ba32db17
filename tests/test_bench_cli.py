"""The CLI benchmark at tiny size, and the phase timings it reads (no wall-clock assertions).

``benchmarks/bench_cli.py`` runs every geoplan command as a subprocess with
``GEOPLAN_PHASES`` set; the phases come from :mod:`geoplan._timing`.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from geoplan._timing import LOGGER, PhaseFileHandler, phase
from geoplan.cli import main

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import bench_cli  # noqa: E402

_COVERAGE_PHASES = {
    "read.network",
    "read.buildings",
    "read.facilities",
    "prepare",
    "snap",
    "reach",
    "aggregate.buildings",
    "aggregate.findings",
    "write",
    "print",
}


def test_phase_logs_name_and_seconds(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        with phase("read.network"):
            pass
        with pytest.raises(ValueError, match="boom"), phase("reach"):
            raise ValueError("boom")  # a phase that fails is still reported
    got = [(r.name, r.phase, r.seconds >= 0) for r in caplog.records]  # type: ignore[attr-defined]
    assert got == [(LOGGER, "read.network", True), (LOGGER, "reach", True)]


def test_phase_file_handler_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "phases.jsonl"
    handler = PhaseFileHandler(path, command=lambda: "coverage")
    log = logging.getLogger(LOGGER)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        with phase("snap"):
            pass
        log.debug("not a phase")  # ignored: no phase attribute
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    [row] = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert set(row) == {"phase", "seconds", "command"}
    assert row["phase"] == "snap" and row["command"] == "coverage" and row["seconds"] >= 0


def _state() -> tuple[int, bool, list[logging.Handler]]:
    log = logging.getLogger(LOGGER)
    return log.level, log.propagate, list(log.handlers)


def test_geoplan_phases_on_a_tiny_cli_run(tmp_path: Path) -> None:
    from geoplan.sample import make_sample_district

    [gpkg] = make_sample_district(seed=0).to_files(tmp_path / "in")
    phases = tmp_path / "phases.jsonl"
    before = _state()
    runner = CliRunner()
    env = {"GEOPLAN_PHASES": str(phases)}
    npz = tmp_path / "walk.npz"
    res = runner.invoke(main, ["network", "build", str(gpkg), "--out", str(npz)], env=env)
    assert res.exit_code == 0, res.output
    args = ["coverage", "--network", str(npz), "--buildings", str(gpkg)]
    args += ["--facilities", str(gpkg), "--communities", str(gpkg)]
    res = runner.invoke(main, [*args, "--out", str(tmp_path / "out"), "--no-map"], env=env)
    assert res.exit_code in (0, 1), res.output
    assert _state() == before  # the handler is gone once the command is done
    rows = [json.loads(x) for x in phases.read_text(encoding="utf-8").splitlines()]
    assert all(set(r) == {"phase", "seconds", "command"} for r in rows)
    build = [r["phase"] for r in rows if r["command"] == "network build"]
    assert build == ["read.network", "write"]
    cov = {r["phase"] for r in rows if r["command"] == "coverage"}
    assert cov == _COVERAGE_PHASES | {"read.communities", "aggregate.communities"}
    assert all(r["seconds"] >= 0 for r in rows)
    # without the variable: no file, nothing attached, output as before
    phases.unlink()
    res = runner.invoke(main, [*args, "--out", str(tmp_path / "out2"), "--no-map"])
    assert res.exit_code in (0, 1), res.output
    assert not phases.exists() and _state() == before


def test_bench_cli_smoke_tiny(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = ["--size", "tiny", "--work-dir", str(tmp_path / "work"), "--json-out", str(out)]
    code = bench_cli.main([*argv, "--help-runs", "1", "--quiet"])
    report = json.loads(out.read_text(encoding="utf-8"))
    steps = {r["step"]: r for r in report["steps"]}
    failed = {n: r.get("stderr_tail") for n, r in steps.items() if r["status"] != "ok"}
    assert code == 0 and not failed, failed
    expected = set(bench_cli.STEPS)
    if not report["parquet"]["supported"]:  # the reason is said, the steps left out
        assert report["parquet"]["reason"]
        expected = {s for s in expected if not s.endswith("_parquet")}
    assert set(steps) == expected
    order = [r["step"] for r in report["steps"]]
    assert order.count("bare") == 2 and order.count("bare_search_radius") == 2  # before, after
    assert report["bare_s"] > 0 and report["passes_s"] > 0
    assert report["passes_s"] == pytest.approx(sum(report["passes_runs_s"]) / 2)
    for name, r in steps.items():
        assert "phases" in r and r["peak_rss_mb"] > 0 and r["wall_s"] > 0, name
        if name not in ("bare", "bare_search_radius"):
            assert r["ratio_to_bare"] == pytest.approx(r["wall_s"] / report["bare_s"]), name
            assert r["ratio_to_passes"] == pytest.approx(r["wall_s"] / report["passes_s"]), name
    assert set(steps["network_build"]["phases"]) == {"read.network", "write"}
    for name in ("coverage_saved", "coverage_saved_map", "coverage_lines"):
        assert set(steps[name]["phases"]) >= _COVERAGE_PHASES, name
        assert steps[name]["outputs"], name
    assert "map" in steps["coverage_saved_map"]["phases"]
    assert "map" not in steps["coverage_saved"]["phases"]
    assert {"read.communities", "aggregate.communities"} <= set(
        steps["coverage_communities"]["phases"]
    )
    # each ratio against the passes the command needs, and against the stricter 1,125 m
    assert len(report["targets"]) == 11
    assert all(t["met"] in (True, False) for t in report["targets"])
    units = [t["unit"] for t in report["targets"]]
    assert units.count("x passes") == 4 and units.count("x bare") == 4
    # the city is written once and reused
    marker = Path(report["city_folder"]) / "city.json"
    written = marker.stat().st_mtime_ns
    again = bench_cli.main([*argv, "--steps", "help", "--help-runs", "1", "--quiet"])
    assert again == 0 and marker.stat().st_mtime_ns == written
    assert {r["step"] for r in json.loads(out.read_text())["steps"]} == {"bare", "help"}

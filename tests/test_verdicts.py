"""No vacuous verdicts: derived profiles report under their own name and figures; a
life-circle check names the categories missing; one walking limit for every audit."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import LineString, Point, box

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit._remedies import access_remedies
from geoplan.audit.coverage import audit_coverage
from geoplan.cli import main
from geoplan.network import network_from_lines
from geoplan.profiles import list_profiles, load_profile
from geoplan.siting import coverage_threshold


def _write_pair(folder: Path, *, area: float) -> tuple[Path, Path]:
    comm = gpd.GeoDataFrame(
        {"社区编码": ["C1"], "社区名称": ["和平社区"], "社区类型": ["城市"], "户数": [2000]},
        geometry=[box(117.20, 39.12, 117.21, 39.13)],
        crs=4326,
    )
    fac = pd.DataFrame(
        {
            "设施编号": ["F1"],
            "设施名称": ["党群服务中心"],
            "类别": ["community_service_centre"],
            "建筑面积": [area],
            "活动面积": [area * 0.7],
            "经度": [117.205],
            "纬度": [39.125],
        }
    )
    cpath, fpath = folder / "社区.gpkg", folder / "设施.csv"
    comm.to_file(cpath, layer="communities", driver="GPKG", engine="pyogrio")
    fac.to_csv(fpath, index=False, encoding="utf-8")
    return cpath, fpath


# --------------------------------------------------------------------------- derived profiles


def test_derive_restates_descriptions_with_the_new_threshold() -> None:
    base = load_profile("tianjin-2025")
    mine = base.derive("my-city", thresholds={"service_area_per_100_households": 35.0})
    t = mine.target("service_area_per_100_households")
    assert "35平方米以上" in t.description_zh and "30" not in t.description_zh
    assert "at least 35 m2" in t.description_en
    assert t.original_threshold == 30.0
    # shares are stated in percent, per-household figures per 100 households
    share = base.derive(thresholds={"activity_share": 0.65}).target("activity_share")
    assert "65%" in share.description_zh and "60%" not in share.description_zh
    nx = load_profile("ningxia-2025").derive(thresholds={"elderly_care_area_new": 0.35})
    assert "35平方米" in nx.target("elderly_care_area_new").description_zh
    grid = load_profile("ningxia-2025").derive(thresholds={"grid_households": [500, 700]})
    assert "500户至700户" in grid.target("grid_households").description_zh
    # the base is untouched, and a round trip through TOML keeps the restated texts
    assert "30平方米" in base.target("service_area_per_100_households").description_zh
    assert load_profile_text(mine.to_toml()) == mine


def load_profile_text(text: str, tmp: Path | None = None) -> object:
    import tempfile

    folder = Path(tempfile.mkdtemp()) if tmp is None else tmp
    f = folder / "copy.toml"
    f.write_text(text, encoding="utf-8")
    return load_profile(f)


def test_description_without_the_figure_is_flagged(tmp_path: Path) -> None:
    base = load_profile("tianjin-2025")
    text = base.to_toml().replace(
        'description_en = "At least 18 community workers per 10,000 urban permanent residents"',
        'description_en = "Enough community workers"',
    )
    f = tmp_path / "flag.toml"
    f.write_text(text, encoding="utf-8")
    p = load_profile(f).derive(thresholds={"workers_per_10k": 20.0})
    t = p.target("workers_per_10k")
    assert t.description_en.endswith(
        "(local threshold >= 20 workers/10,000 residents; the document's figure: 18)"
    )
    assert "20人以上" in t.description_zh


def test_edited_copy_reports_under_its_own_name_through_the_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["profiles", "show", "tianjin-2025", "--toml"])
    assert shown.exit_code == 0
    assert shown.output.count("threshold = 30.0") == 1
    mine = tmp_path / "my.toml"
    mine.write_text(shown.output.replace("threshold = 30.0", "threshold = 35.0"), "utf-8")
    cpath, fpath = _write_pair(tmp_path, area=660.0)  # 33 m2 per 100 households
    args = ["audit", "floor-area", "--communities", str(cpath), "--facilities", str(fpath)]

    res = runner.invoke(main, [*args, "--json"])  # packaged: 33 >= 30 passes
    row = next(
        f
        for f in json.loads(res.stdout)["findings"]
        if f["check_id"] == "service_area_per_100_households"
    )
    assert row["passed"] is True

    res = runner.invoke(main, [*args, "--profile", str(mine), "--json"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.stdout)
    assert data["profile"] == "my"
    row = next(f for f in data["findings"] if f["check_id"] == "service_area_per_100_households")
    assert row["passed"] is False and row["value"] == 33.0
    assert "35平方米以上" in row["description_zh"] and "30平方米" not in row["description_zh"]
    assert "at least 35 m2" in row["description_en"]

    p = load_profile(mine)
    assert (p.name, p.based_on) == ("my", "tianjin-2025")
    assert p.target("service_area_per_100_households").original_threshold == 30.0
    # an unchanged copy is the packaged profile
    same = tmp_path / "same.toml"
    same.write_text(shown.output, "utf-8")
    assert load_profile(same).name == "tianjin-2025"


# --------------------------------------------------------------------------- one walking limit


def _coverage_limits(profile: object, *, elderly: bool) -> dict[str, float]:
    """The limit the coverage audit applies to each target (its summary's within_m)."""
    streets = gpd.GeoDataFrame(geometry=[LineString([(0, 0), (2000, 0)])], crs=32650)
    net = network_from_lines(streets)
    b = gpd.GeoDataFrame(
        {"households": [10.0], "use": ["residential"]}, geometry=[Point(0, 5)], crs=32650
    )
    f = gpd.GeoDataFrame(
        {"category": ["wet_market"]}, geometry=[Point(400, 5)], crs=32650, index=["m1"]
    )
    with warnings.catch_warnings():  # data-quality notes on this toy layer are not the point
        warnings.simplefilter("ignore", DataQualityWarning)
        r = audit_coverage(b, f, net, profile=profile, elderly=elderly)
    return {k: v["within_m"] for k, v in r.summary["targets"].items()}


def _development_limit(profile: object, target: object) -> float:
    """The limit development remedies use: the households failing flip at it."""
    from geoplan.categories import categories_in_group

    t: Any = target
    cats = [t.category] if t.category else list(categories_in_group(t.group))
    limit = t.walk_limit_m(profile)
    table = pd.DataFrame({"households": [1.0, 10.0]})
    for c in cats:
        table[f"walk_m__{c}"] = [limit - 0.5, limit + 0.5]
    findings = pd.DataFrame({"check_id": [t.id], "passed": [False]})
    out = access_remedies(findings, table, profile)
    n = float(out["households_failing"].iloc[0])
    return limit if n == 10.0 else (-1.0 if n == 0.0 else np.inf)


@pytest.mark.parametrize("name", list_profiles())
@pytest.mark.parametrize("elderly", [False, True])
def test_walk_limit_agrees_across_audits_and_siting(name: str, elderly: bool) -> None:
    p = load_profile(name)
    targets = [t for t in p.targets_for("coverage")]
    # profiles without walking targets: organisations only, floor area and complexes only
    assert targets or name in {"ningxia-2025", "embedded-services-2024"}
    audited = _coverage_limits(p, elderly=elderly) if targets else {}
    for t in targets:
        limit = t.walk_limit_m(p, elderly=elderly)
        assert audited[t.id] == pytest.approx(round(limit, 1)), t.id
        if not elderly:
            assert _development_limit(p, t) == limit, t.id
        if t.measure == "coverage_share":
            got, _, _ = coverage_threshold(p, category=t.category, target_id=t.id, elderly=elderly)
            assert got == limit, t.id


def test_walk_limit_uses_the_elderly_speed_for_times_only() -> None:
    tj = load_profile("tianjin-2025")
    wet = tj.target("wet_market_coverage")
    assert wet.walk_limit_m(tj) == 10 * tj.walk_speed() == 750.0
    assert wet.walk_limit_m(tj, elderly=True) == 10 * tj.walk_speed(elderly=True) == 600.0
    assert coverage_threshold(tj, category="wet_market", elderly=True)[0] == 600.0
    gb = load_profile("gb50180-2018")
    d = gb.target("life_circle_5min_walk")
    assert d.walk_limit_m(gb) == d.walk_limit_m(gb, elderly=True) == 300.0
    mof = load_profile("mofcom-15min")
    store = mof.target("walk_convenience_store")
    assert store.walk_limit_m(mof) == 5 * mof.walk_speed()


def test_a_target_stating_both_a_time_and_a_distance_is_refused(tmp_path: Path) -> None:
    # before: coverage used within_min (750 m), siting within_m (1000 m) for this file
    text = (
        load_profile("tianjin-2025")
        .to_toml()
        .replace("within_min = 10.0", "within_min = 10.0\nwithin_m = 1000.0")
    )
    f = tmp_path / "both.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(f)
    msg = str(err.value)
    assert "both.toml" in msg and "wet_market_coverage" in msg and "within_m" in msg
    walk = (
        load_profile("mofcom-15min")
        .to_toml()
        .replace(
            'category = "convenience_store"', 'category = "convenience_store"\nwithin_min = 3.0', 1
        )
    )
    g = tmp_path / "walk.toml"
    g.write_text(walk, encoding="utf-8")
    with pytest.raises(InputError, match="takes its walking limit from 'threshold'"):
        load_profile(g)


# --------------------------------------------------------------------------- missing categories


def test_life_circle_names_categories_with_no_facility() -> None:
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    net = network_from_lines(d.streets)
    fac = d.facilities[d.facilities["category"] != "primary_school"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = audit_coverage(d.buildings, fac, net, profile="gb50180-2018", communities=d.communities)
    assert "primary_school" in r.summary["targets"]["life_circle_10min_walk"]["absent_categories"]
    f = r.findings
    row = f[(f["check_id"] == "life_circle_10min_walk") & (f["scope"] == "district")].iloc[0]
    assert "设施中没有 primary_school（小学）" in row["missing_zh"]
    assert "no primary_school among the facilities" in row["missing_en"]
    assert "primary_school" in row["absent_categories"].split(", ")
    comm = r.extra["communities"]
    lacking = comm["life_circle_10min_walk__lacking"]
    assert len(lacking) == len(d.communities)
    assert all("primary_school" in v.split(", ") for v in lacking)
    per = f[(f["check_id"] == "life_circle_10min_walk") & (f["scope"] == "community")]
    assert (per["missing_categories"].str.contains("primary_school")).all()
    # a community that passes lacks nothing
    passing = per[per["passed"].astype(bool)]
    assert (passing["missing_categories"] == "").all()

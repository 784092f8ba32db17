"""Findings read as facts a planner acts on: persons to hire, percentage points, and
maps that neither colour nor count buildings without households."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geoplan.audit.organisations import audit_organisations
from geoplan.audit.results import fact_text
from geoplan.profiles import load_profile


def _ledger() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["王顶堤社区", "华苑社区"],
            "kind": ["urban", "urban"],
            "households": [1500.0, 2600.0],
            "residents": [3848.0, 6744.0],
            "workers": [5.0, 14.0],
            "double_report_rate": [0.835, 1.0],
        },
        index=pd.Index(["C1", "C2"], name="community_id"),
    )


@pytest.mark.parametrize(
    ("lang", "need", "short"),
    [("zh", "需 7 人", "缺 2 人"), ("en", "needs 7 persons", "short 2 persons")],
)
def test_workers_rate_says_how_many_persons_are_missing(lang: str, need: str, short: str) -> None:
    r = audit_organisations(_ledger(), profile="tianjin-2025")
    f = r.findings.set_index(["check_id", "entity_id"])
    text = f.loc[("workers_per_10k", "C1"), f"text_{lang}"]
    # 18 per 10,000 of 3,848 residents is 6.93: 7 workers, and 5 are there
    assert math.ceil(18 * 3848 / 10_000) == 7
    assert need in text and short in text, text
    assert "5" in text and "3,848" in text
    passed = f.loc[("workers_per_10k", "C2"), f"text_{lang}"]  # 14 / 6,744 = 20.8 per 10k
    assert "缺" not in passed and "short" not in passed


def test_share_gap_is_in_percentage_points() -> None:
    r = audit_organisations(_ledger(), profile="tianjin-2025")
    f = r.findings.set_index(["check_id", "entity_id"])
    assert f.loc[("double_report", "C1"), "text_zh"].endswith("差 16.5 个百分点")
    assert f.loc[("double_report", "C1"), "text_en"].endswith("16.5 percentage points short")


def test_floor_area_fact_text_is_unchanged_by_person_counts() -> None:
    row = {"value": 24.0, "threshold": 30.0, "comparator": ">=", "unit": "m2/100 households",
           "passed": False, "have": 480.0, "base": 2000.0, "base_unit": "households",
           "required_m2": 600.0, "shortfall_m2": 120.0}  # fmt: skip
    assert fact_text(row) == "24.0 m²/百户（480 m² / 2,000 户），应 ≥ 30，需 600 m²，缺 120 m²"


def test_buildings_without_households_are_grey_not_red() -> None:
    from geoplan.render.layers import building_classes

    b = gpd.GeoDataFrame(
        {"covered__wet_market": [True, False, False], "households": [40.0, 25.0, 0.0]},
        geometry=[shapely.box(i * 30, 0, i * 30 + 20, 20) for i in range(3)],
        crs=32650,
    )
    assert building_classes(b, "wet_market").tolist() == ["covered", "not_covered", "no_households"]
    # with no household count at all (weighting by building), nothing is greyed out
    b["households"] = 0.0
    assert "no_households" not in building_classes(b, "wet_market").tolist()


def test_map_summary_says_the_households_are_estimated() -> None:
    from types import SimpleNamespace

    from geoplan.report.maps import summary_lines

    cov = SimpleNamespace(
        profile="tianjin-2025",
        summary={
            "targets": {"wet_market_coverage": {"households_share": 0.358,
                                                "categories": ["wet_market"]}},
            "households": 5349.0,
            "households_estimated_share": 1.0,
            "households_by_source": {"levels": 590.0, "default_levels": 4759.0},
        },
    )  # fmt: skip
    lines = summary_lines(cov, None, lang="zh")
    assert any("100% 为估算" in v for v in lines.values()), lines
    lines = summary_lines(cov, None, lang="en")
    assert any("100% of them estimated" in v for v in lines.values()), lines


def test_named_non_housing_in_a_compound_gets_no_households() -> None:
    """building=yes inside a compound counts, unless its name says it is no home."""
    from geoplan.households import estimate_households

    compound = gpd.GeoDataFrame(geometry=[shapely.box(-10, -10, 200, 60)], crs=32650)
    b = gpd.GeoDataFrame(
        {
            "name": ["21号楼", "石科院职工食堂", "研究生公寓", "科技活动中心"],
            "osm_building": ["yes"] * 4,
            "use": [None] * 4,
        },
        geometry=[shapely.box(i * 50, 0, i * 50 + 30, 30) for i in range(4)],
        index=pd.Index(["b1", "b2", "b3", "b4"], name="building_id"),
        crs=32650,
    )
    out = estimate_households(b, params=load_profile("tianjin-2025"), areas=compound)
    assert out.loc["b1", "households"] > 0  # an unnamed-type block in a compound
    assert out.loc["b2", "households"] == 0 and out.loc["b4", "households"] == 0
    assert out.loc["b3", "households"] > 0  # residential words win (研究 + 公寓)
    assert out.loc["b2", "building_class"] == "non_residential"


def test_grid_membership_carries_households_and_their_source(tmp_path: Path) -> None:
    import pyogrio
    from click.testing import CliRunner

    from geoplan.cli import main
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    gpkg = d.to_files(tmp_path / "in")[0]
    res = CliRunner().invoke(
        main,
        ["grids", "--buildings", str(gpkg), "--communities", str(gpkg),
         "--profile", "ningxia-2025", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert res.exit_code in (0, 1), res.output
    members = pyogrio.read_dataframe(tmp_path / "out" / "grids.gpkg", layer="buildings")
    assert {"grid_code", "households", "households_source"} <= set(members.columns)
    # the sample hides about 5% of its counts: those are estimated, the rest given
    assert set(members["households_source"]) >= {"given", "levels"}


def _coverage_quietly(*args: object, **kwargs: object) -> tuple[object, list[str]]:
    import warnings

    from geoplan.audit.coverage import audit_coverage

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cov = audit_coverage(*args, **kwargs)  # type: ignore[arg-type]
    return cov, [str(w.message) for w in caught]


def test_a_coverage_target_with_no_household_in_scope_is_never_a_pass() -> None:
    """The community flagged central has buildings but none with households: the
    central-district share cannot be measured, and the audit does not pass."""
    from geoplan.network import network_from_lines
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    centre = str(d.buildings["community_id"].dropna().iloc[0])
    comm = d.communities.assign(central_district=d.communities.index.astype(str) == centre)
    bld = d.buildings.copy()
    bld.loc[bld["community_id"].astype(str) == centre, "households"] = 0.0
    cov, _ = _coverage_quietly(bld, d.facilities, network_from_lines(d.streets),
                               profile="tianjin-2025", communities=comm)  # fmt: skip
    f = cov.findings  # type: ignore[attr-defined]
    row = f[(f["check_id"] == "wet_market_coverage") & (f["scope"] == "district")].iloc[0]
    assert pd.isna(row["passed"]) and row["text_zh"].startswith("未测"), row["text_zh"]
    assert cov.unmeasured >= 1 and not cov.passed  # type: ignore[attr-defined]


def test_central_flags_not_given_mean_the_whole_area_and_say_so(tmp_path: Path) -> None:
    """A community file without a central_district column says nothing about the
    centre: the target covers the whole area, with a warning; flags given as false
    mean "not central", and the target does not apply."""
    from geoplan.io.readers import read_communities
    from geoplan.network import network_from_lines
    from geoplan.sample import make_sample_district

    d = make_sample_district(seed=0)
    path = tmp_path / "社区.gpkg"
    d.communities.drop(columns="central_district").to_file(path, layer="communities")
    comm = read_communities(path, metric_crs=d.communities.crs)
    assert "central_district" in comm.attrs["defaulted_columns"]
    net = network_from_lines(d.streets)
    cov, said = _coverage_quietly(d.buildings, d.facilities, net, profile="tianjin-2025",
                                  communities=comm)  # fmt: skip
    assert any("no community is flagged central_district" in m for m in said), said
    f = cov.findings  # type: ignore[attr-defined]
    row = f[(f["check_id"] == "wet_market_coverage") & (f["scope"] == "district")].iloc[0]
    assert row["passed"] in (True, False) and 0 < row["value"] < 1
    none_central = d.communities.assign(central_district=False)
    cov, said = _coverage_quietly(d.buildings, d.facilities, net, profile="tianjin-2025",
                                  communities=none_central)  # fmt: skip
    f = cov.findings  # type: ignore[attr-defined]
    assert f.empty or not (f["check_id"] == "wet_market_coverage").any()  # not applicable
    why = cov.summary["targets"]["wet_market_coverage"]["not_applicable"]  # type: ignore[attr-defined]
    assert "central_district" in why["en"]
    assert not any("flagged central_district" in m for m in said)

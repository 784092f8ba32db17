"""Tests of geoplan.profiles: packaged profiles, registry, derive, TOML round trip, checks."""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geoplan._errors import InputError, ProfileNotFound
from geoplan.profiles import (
    COMPARATORS,
    MEASURES,
    SCOPES,
    Profile,
    Target,
    list_profiles,
    load_profile,
)

PROFILES = [
    "city-health-check",
    "embedded-services-2024",
    "gb50180-2018",
    "mofcom-15min",
    "ningxia-2025",
    "tianjin-2025",
]
TJ, NX = "tianjin-2025", "ningxia-2025"

# STANDARDS.md sections 1, 3 and 4: id -> the profiles (documents) that carry it.
STANDARD_IDS: dict[str, tuple[str, ...]] = {
    # section 1
    "service_area_per_100_households": (TJ, NX),
    "village_service_area": (TJ,),
    "activity_share": (TJ,),
    "new_commercial_service_share": (TJ, NX),
    "developer_service_rooms": (NX,),
    # section 3
    "workers_per_10k": (TJ, NX),
    "social_orgs_urban": (TJ,),
    "social_orgs_village": (TJ,),
    "social_orgs_community": (NX,),
    "licensed_social_worker": (NX,),
    "volunteer_orgs": (NX,),
    "volunteer_station_coverage": (TJ, NX),
    "self_service_coverage": (TJ,),
    "double_report": (TJ,),
    "opening_hours": (TJ,),
    "party_and_selfgov_coverage": (NX,),
    "disaster_info_officer": (NX,),
    "emergency_units": (NX,),
    "cadre_rotation": (TJ,),
    "owners_committee_party_share": (TJ,),
    "sanitary_villages": (TJ,),
    "volunteer_station_share_2023": (NX,),
    "subcommittee_size": (NX,),
    "grid_staffing": (NX,),
    "grid_visits": (NX,),
    # section 4
    "grid_households": (NX,),
    "grid_households_old_estate": (NX,),
}

# (profile, id) -> the document's figure.
FIGURES: list[tuple[str, str, float | tuple[float, float]]] = [
    (TJ, "service_area_per_100_households", 30.0),
    (TJ, "village_service_area", 300.0),
    (TJ, "activity_share", 0.6),
    (TJ, "new_commercial_service_share", 0.1),
    (NX, "developer_service_rooms", 0.3),
    (TJ, "workers_per_10k", 18.0),
    (NX, "workers_per_10k", 18.0),
    (TJ, "social_orgs_urban", 12.0),
    (TJ, "social_orgs_village", 6.0),
    (NX, "social_orgs_community", 10.0),
    (NX, "licensed_social_worker", 1.0),
    (NX, "volunteer_orgs", 3.0),
    (TJ, "volunteer_station_coverage", 0.8),
    (TJ, "self_service_coverage", 1.0),
    (TJ, "opening_hours", 8.0),
    (TJ, "sanitary_villages", 0.85),
    (NX, "volunteer_station_share_2023", 0.6),
    (NX, "subcommittee_size", (3.0, 9.0)),
    (NX, "grid_households", (300.0, 500.0)),
    (NX, "grid_households_old_estate", (100.0, 300.0)),
    (TJ, "wet_market_coverage", 0.95),
    (TJ, "owners_committee_party_share", 0.5),
    (TJ, "owners_rep_party_share", 0.5),
    (NX, "selfgov_coverage", 1.0),
    (NX, "emergency_team", 1.0),
]

# (profile, id, text in the seed that states the figure): the seed files are the source.
SEED_TEXT = [
    (TJ, "service_area_per_100_households", "每百户居民拥有社区综合服务设施建筑面积为30平方米以上"),
    (TJ, "village_service_area", "建筑面积为300平方米以上"),
    (TJ, "activity_share", "比例为60%以上"),
    (TJ, "new_commercial_service_share", "总建筑面积的比例为10%以上"),
    (TJ, "workers_per_10k", "社区工作者为18人以上"),
    (TJ, "social_orgs_urban", "12个以上"),
    (TJ, "social_orgs_village", "6个以上"),
    (TJ, "volunteer_station_coverage", "覆盖率为80%以上"),
    (TJ, "sanitary_villages", "市级卫生村比例达85%以上"),
    (TJ, "opening_hours", "不少于每天8小时"),
    (TJ, "wet_market_coverage", "菜市场服务覆盖范围达95%以上"),
    (NX, "developer_service_rooms", "每戶0.3平方米"),
    (NX, "workers_per_10k", "社區(qū)工作者不少于18人"),
    (NX, "social_orgs_community", "不少于10個社區(qū)社會組織"),
    (NX, "volunteer_orgs", "志愿者服務(wù)組織3個"),
    (NX, "volunteer_station_share_2023", "60%以上社區(qū)設(shè)立志愿服務(wù)站點"),
    (NX, "volunteer_station_coverage", "覆蓋率達到80%以上"),
    (NX, "subcommittee_size", "由3至9人組成"),
    (NX, "grid_households", "300戶至500戶"),
    (NX, "grid_households_old_estate", "100戶至300戶"),
]

PARAMETERS = [
    "walk_speed_m_per_min",
    "walk_speed_elderly_m_per_min",
    "persons_per_household",
    "net_to_gross",
    "dwelling_floor_area_m2",
    "floor_height_m",
    "facility_assign_max_m",
    "max_snap_m",
    "service_facility_categories",
]

CJK = re.compile(r"[\u4e00-\u9fff]")


def _figure_text(threshold: float | tuple[float, float]) -> str:
    if isinstance(threshold, tuple):
        return f"{threshold[0]:g}-{threshold[1]:g}"
    return f"{threshold:g}"


# --------------------------------------------------------------------- packaged profiles


def test_list_profiles_names_the_packaged_files() -> None:
    assert list_profiles() == PROFILES


@pytest.mark.parametrize("name", PROFILES)
def test_packaged_profile_is_complete(name: str) -> None:
    p = load_profile(name)
    assert p.name == name
    assert p.targets, "a profile without targets"
    for t in p.targets:
        assert t.source in p.sources, t.id
        assert t.clause.strip(), t.id
        assert CJK.search(t.description_zh), t.id
        assert t.description_en.isascii(), t.id
        assert t.measure in MEASURES[t.audit], t.id
        assert t.scope in SCOPES, t.id
    for pname in PARAMETERS:
        par = p.parameters[pname]
        assert par.source in p.sources, pname
        assert par.unit, pname
        assert par.note, pname
    speed = p.parameter("walk_speed_m_per_min")
    # between GB 50180's implied 53 m/min and the 5 km/h (83 m/min) default
    assert isinstance(speed, float)
    assert 53.0 <= speed <= 84.0
    assert p.parameter("persons_per_household") == 2.62
    assert p.parameter("facility_assign_max_m") == 50.0
    assert p.parameter("max_snap_m") == 300.0
    assert "community_service_centre" in p.parameter("service_facility_categories")  # type: ignore[operator]


@pytest.mark.parametrize(("target_id", "profiles"), sorted(STANDARD_IDS.items()))
def test_every_standards_id_is_in_its_documents_profile(
    target_id: str, profiles: tuple[str, ...]
) -> None:
    for name in profiles:
        p = load_profile(name)
        t = p.target(target_id)
        src = p.source_of(t)
        assert t.clause
        assert src.title_zh
        assert src.title_en
    # a target belongs to the profile of its document, and nowhere else among these two
    for name in {TJ, NX} - set(profiles):
        with pytest.raises(ProfileNotFound):
            load_profile(name).target(target_id)


def test_targets_cite_each_documents_own_seed() -> None:
    tj, nx = load_profile(TJ), load_profile(NX)
    assert tj.source_of("workers_per_10k").seed == "seeds/000_932ce8e390e76d05.txt"
    assert nx.source_of("workers_per_10k").seed == "seeds/004_9d78ecd95a0ccb5b.txt"
    assert tj.target("activity_share").clause.startswith("主要指标 第3项 (Indicator 3)")
    assert "重点任务 06" in tj.target("wet_market_coverage").clause
    assert tj.target("workers_per_10k").clause != nx.target("workers_per_10k").clause


def test_every_standards_md_table_id_is_encoded(shared_data: Path) -> None:
    """Parse the id columns of STANDARDS.md sections 1 and 3: nothing may be missing."""
    text = (shared_data.parent / "STANDARDS.md").read_text(encoding="utf-8")
    ids = set(re.findall(r"^\| ([a-z0-9_]+) \|", text, flags=re.M)) - {"id"}
    assert len(ids) >= 25
    encoded = {t.id for name in (TJ, NX) for t in load_profile(name).targets}
    assert ids <= encoded, sorted(ids - encoded)


@pytest.mark.parametrize(("name", "target_id", "text"), SEED_TEXT)
def test_figures_match_the_seed_documents(
    shared_data: Path, name: str, target_id: str, text: str
) -> None:
    t = load_profile(name).target(target_id)
    seed = shared_data.parent / load_profile(name).source_of(t).seed  # type: ignore[operator]
    assert text in seed.read_text(encoding="utf-8")
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
    expected = t.threshold if isinstance(t.threshold, tuple) else (t.threshold,)
    if "%" in text:
        expected = tuple(round(x * 100, 6) for x in expected)
    assert set(expected) <= set(numbers), (target_id, expected, numbers)


@pytest.mark.parametrize(("name", "target_id", "figure"), FIGURES)
def test_figures_round_trip_through_toml(
    tmp_path: Path, name: str, target_id: str, figure: float | tuple[float, float]
) -> None:
    p = load_profile(name)
    assert p.target(target_id).threshold == figure
    copy = tmp_path / f"{name}.toml"
    copy.write_text(p.to_toml(), encoding="utf-8")
    assert load_profile(copy).target(target_id).threshold == figure


@pytest.mark.parametrize("name", PROFILES)
def test_to_toml_round_trips_whole_profile(tmp_path: Path, name: str) -> None:
    p = load_profile(name)
    path = tmp_path / "p.toml"
    path.write_text(p.to_toml(), encoding="utf-8")
    q = load_profile(path)
    assert q == p
    assert q.to_toml() == p.to_toml()
    assert q.path == str(path)


def test_to_toml_escapes_awkward_text(tmp_path: Path) -> None:
    p = load_profile(TJ)
    t = dataclasses.replace(
        p.targets[0], note='quote " backslash \\ tab \t newline \n and 中文', id="odd"
    )
    q = p.derive("odd", add=[t])
    path = tmp_path / "odd.toml"
    path.write_text(q.to_toml(), encoding="utf-8")
    assert load_profile(path) == q


def test_specific_targets_are_encoded_as_documented() -> None:
    tj, nx, mof, gb = (load_profile(n) for n in (TJ, NX, "mofcom-15min", "gb50180-2018"))
    urban = tj.target("social_orgs_urban")
    assert urban.applies_if == {"kind": "urban", "min_households": 500}
    assert tj.target("social_orgs_village").applies_if == {"kind": "village", "min_households": 300}
    assert nx.target("grid_households").applies_if == {"old_estate": False}
    assert nx.target("grid_households_old_estate").applies_if == {"old_estate": True}
    wet = tj.target("wet_market_coverage")
    assert (wet.measure, wet.scope, wet.category, wet.within_min, wet.within_m) == (
        "coverage_share",
        "central_district",
        "wet_market",
        10.0,
        None,
    )
    walk = {t.category or t.group: t.threshold for t in mof.targets_for("coverage")}
    assert walk == {
        "convenience_store": 5.0,
        "breakfast": 8.0,
        "pharmacy": 8.0,
        "laundry": 8.0,
        "hair": 8.0,
        "wet_market": 8.0,
        "supermarket": 15.0,
        "basic": 10.0,
        "quality": 15.0,
    }
    levels = {t.id: (t.threshold, t.confirmed) for t in gb.targets_for("coverage")}
    assert levels == {
        "life_circle_15min_walk": (1000.0, False),
        "life_circle_10min_walk": (500.0, True),
        "life_circle_5min_walk": (300.0, False),
    }
    assert gb.target("life_circle_15min_residents").threshold == (50000.0, 100000.0)
    assert gb.target("life_circle_15min_residents").confirmed
    assert not gb.target("life_circle_5min_dwellings").confirmed
    assert not gb.target("residential_block_dwellings").confirmed


def test_target_lookup_errors_list_valid_ids() -> None:
    p = load_profile(TJ)
    with pytest.raises(ProfileNotFound, match="valid ids: service_area_per_100_households"):
        p.target("nope")
    with pytest.raises(KeyError):
        p.target("nope")
    with pytest.raises(ProfileNotFound, match="valid names: walk_speed_m_per_min"):
        p.parameter("nope")
    with pytest.raises(ProfileNotFound, match="valid audits"):
        p.targets_for("nope")
    assert {t.audit for t in p.targets_for("organisations")} == {"organisations"}


def test_to_frame_lists_targets() -> None:
    frame = load_profile(NX).to_frame()
    assert frame.index.is_unique
    assert frame.loc["subcommittee_size", "threshold"] == (3.0, 9.0)
    assert set(frame.columns) >= {"threshold", "comparator", "source", "clause", "confirmed"}


def test_threshold_text() -> None:
    assert load_profile(TJ).target("workers_per_10k").threshold_text() == (
        ">= 18 workers/10,000 residents"
    )


# --------------------------------------------------------------------- registry


def test_unknown_profile_lists_valid_names() -> None:
    with pytest.raises(ProfileNotFound) as info:
        load_profile("shanghai-2025")
    message = str(info.value)
    assert "shanghai-2025" in message
    for name in PROFILES:
        assert name in message
    assert isinstance(info.value, KeyError)


def test_missing_profile_file() -> None:
    with pytest.raises(ProfileNotFound, match="does not exist"):
        load_profile("/nonexistent/dir/mine.toml")


def test_load_returns_fresh_frozen_copies() -> None:
    a, b = load_profile(TJ), load_profile(TJ)
    assert a == b
    assert a is not b
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.targets[0].threshold = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        a.parameters["max_snap_m"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        a.target("social_orgs_urban").applies_if["min_households"] = 1  # type: ignore[index]
    assert load_profile(TJ).target("social_orgs_urban").applies_if["min_households"] == 500
    assert hash(a) == hash(b)


def test_user_profile_file(tmp_path: Path) -> None:
    text = load_profile(TJ).to_toml().replace('name = "tianjin-2025"', 'name = "binhai"')
    text = text.replace("threshold = 30.0", "threshold = 32.5", 1)
    path = tmp_path / "binhai.toml"
    path.write_text(text, encoding="utf-8")
    for how in (path, str(path)):
        p = load_profile(how)
        assert p.name == "binhai"
        assert p.target("service_area_per_100_households").threshold == 32.5
    assert load_profile(TJ).target("service_area_per_100_households").threshold == 30.0


MINIMAL = """
[profile]
name = "mini"
title_zh = "最小"
title_en = "Minimal"

[sources.doc]
title_zh = "文件"
title_en = "Document"

[[targets]]
id = "t1"
description_zh = "测试"
description_en = "Test"
audit = "organisations"
measure = "count"
unit = "organisations"
comparator = ">="
threshold = 5
scope = "community"
source = "doc"
clause = "1"
column = "social_orgs"
"""


def test_minimal_user_profile(tmp_path: Path) -> None:
    path = tmp_path / "mini.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    p = load_profile(path)
    t = p.target("t1")
    assert t.threshold == 5.0
    assert isinstance(t.threshold, float)
    assert t.confirmed
    assert t.applies_if == {}
    assert dict(p.parameters) == {}


BAD_CASES = [
    ("syntax", "threshold = 5", "threshold = = 5", None, None, "not valid TOML"),
    ("typo key", "threshold = 5", "threshhold = 5", "t1", "threshhold", "unknown key"),
    ("no threshold", "threshold = 5\n", "", "t1", "threshold", "missing key"),
    ("comparator", 'comparator = ">="', 'comparator = "=>"', "t1", "comparator", "comparator"),
    ("measure", 'measure = "count"', 'measure = "counts"', "t1", "measure", "measure"),
    ("audit", 'audit = "organisations"', 'audit = "staff"', "t1", "audit", "audit"),
    ("scope", 'scope = "community"', 'scope = "estate"', "t1", "scope", "scope"),
    ("source", 'source = "doc"', 'source = "other"', "t1", "source", "source"),
    (
        "between scalar",
        'comparator = ">="',
        'comparator = "between"',
        "t1",
        "threshold",
        "two numbers",
    ),
    (
        "between 3",
        'comparator = ">="\nthreshold = 5',
        'comparator = "between"\nthreshold = [1, 2, 3]',
        "t1",
        "threshold",
        "two numbers",
    ),
    (
        "between reversed",
        'comparator = ">="\nthreshold = 5',
        'comparator = "between"\nthreshold = [9, 3]',
        "t1",
        "threshold",
        "above high",
    ),
    ("string threshold", "threshold = 5", 'threshold = "5"', "t1", "threshold", "finite number"),
    ("no column", 'column = "social_orgs"', "", "t1", "column", "needs 'column'"),
    ("empty clause", 'clause = "1"', 'clause = ""', "t1", "clause", "non-empty"),
    (
        "applies_if",
        'column = "social_orgs"',
        'column = "x"\napplies_if = 3',
        "t1",
        "applies_if",
        "inline table",
    ),
    (
        "duplicate id",
        'column = "social_orgs"',
        'column = "social_orgs"\n' + MINIMAL[MINIMAL.index("[[targets]]") :],
        "t1",
        "id",
        "duplicate",
    ),
    (
        "parameter",
        "[[targets]]",
        '[parameters.max_snap_m]\nvalue = "far"\nunit = "m"\nsource = "doc"\n\n[[targets]]',
        "max_snap_m",
        "value",
        "positive number",
    ),
    (
        "parameter source",
        "[[targets]]",
        '[parameters.max_snap_m]\nvalue = 300\nunit = "m"\nsource = "nope"\n\n[[targets]]',
        "max_snap_m",
        "source",
        "source",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "match"),
    [case[1:] for case in BAD_CASES],
    ids=[case[0] for case in BAD_CASES],
)
def test_malformed_profile_names_file_target_and_key(
    tmp_path: Path, old: str, new: str, row: str | None, column: str | None, match: str
) -> None:
    assert old in MINIMAL
    path = tmp_path / "broken.toml"
    path.write_text(MINIMAL.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(match)) as info:
        load_profile(path)
    err = info.value
    assert err.file == str(path)
    assert str(path) in str(err)
    assert err.row == row
    assert err.column == column
    assert isinstance(err, ValueError)


# --------------------------------------------------------------------- derive


def test_derive_overrides_one_threshold_only() -> None:
    base = load_profile(TJ)
    before = base.to_toml()
    mine = base.derive("my-city", thresholds={"workers_per_10k": 20})
    assert mine.name == "my-city"
    assert mine.based_on == TJ
    assert mine.target("workers_per_10k").threshold == 20.0
    assert mine.target("workers_per_10k").original_threshold == 18.0
    assert mine.target("workers_per_10k").clause == base.target("workers_per_10k").clause
    assert base.target("workers_per_10k").threshold == 18.0
    assert base.target("workers_per_10k").original_threshold is None
    assert base.to_toml() == before
    others = [t for t in mine.targets if t.id != "workers_per_10k"]
    assert others == [t for t in base.targets if t.id != "workers_per_10k"]
    again = mine.derive("again", thresholds={"workers_per_10k": 25})
    assert again.target("workers_per_10k").original_threshold == 18.0


def test_derive_parameters_drop_add_and_round_trip(tmp_path: Path) -> None:
    base = load_profile(NX)
    extra = dataclasses.replace(base.target("volunteer_orgs"), id="volunteer_orgs_2025")
    mine = base.derive(
        "yinchuan",
        thresholds={"grid_households": [250, 450]},
        parameters={"walk_speed_m_per_min": 70, "service_facility_categories": ["a", "b"]},
        drop=["elderly_care_area_new"],
        add=[extra],
    )
    assert mine.parameter("walk_speed_m_per_min") == 70.0
    assert mine.parameters["walk_speed_m_per_min"].original_value == 75.0
    assert mine.parameter("service_facility_categories") == ("a", "b")
    assert mine.target("grid_households").threshold == (250.0, 450.0)
    assert mine.target("volunteer_orgs_2025").threshold == 3.0
    with pytest.raises(ProfileNotFound):
        mine.target("elderly_care_area_new")
    assert base.parameter("walk_speed_m_per_min") == 75.0
    path = tmp_path / "yinchuan.toml"
    path.write_text(mine.to_toml(), encoding="utf-8")
    assert load_profile(path) == mine


def test_derive_rejects_bad_input() -> None:
    base = load_profile(NX)
    with pytest.raises(ProfileNotFound, match="no target 'nope'"):
        base.derive("x", thresholds={"nope": 1.0})
    with pytest.raises(InputError, match="two numbers") as info:
        base.derive("x", thresholds={"grid_households": 400})
    assert info.value.row == "grid_households"
    assert info.value.column == "threshold"
    with pytest.raises(InputError, match="finite number"):
        base.derive("x", thresholds={"workers_per_10k": [1, 2]})
    with pytest.raises(ProfileNotFound, match="no parameter"):
        base.derive("x", parameters={"walk_speed": 70})
    with pytest.raises(InputError, match="positive number"):
        base.derive("x", parameters={"walk_speed_m_per_min": -1})
    with pytest.raises(InputError, match="duplicate"):
        base.derive("x", add=[base.target("volunteer_orgs")])


# --------------------------------------------------------------------- comparisons


def _target(comparator: str, threshold: float | tuple[float, float]) -> Target:
    base = load_profile(TJ).target("workers_per_10k")
    return dataclasses.replace(base, comparator=comparator, threshold=threshold)


@pytest.mark.parametrize(
    ("comparator", "threshold", "value", "passes", "shortfall"),
    [
        (">=", 30.0, 30.0, True, 0.0),
        (">=", 30.0, 24.0, False, 6.0),
        (">", 0.5, 0.75, True, 0.0),
        ("<=", 10.0, 12.5, False, 2.5),
        ("<=", 10.0, 10.0, True, 0.0),
        ("<", 10.0, 9.0, True, 0.0),
        ("<", 10.0, 11.0, False, 1.0),
        ("==", 1.0, 1.0, True, 0.0),
        ("==", 1.0, 0.0, False, 1.0),
        ("between", (300.0, 500.0), 400.0, True, 0.0),
        ("between", (300.0, 500.0), 300.0, True, 0.0),
        ("between", (300.0, 500.0), 250.0, False, 50.0),
        ("between", (300.0, 500.0), 620.0, False, 120.0),
        (">=", 1.0, True, True, 0.0),
        (">=", 1.0, False, False, 1.0),
        ("<=", 15.0, math.inf, False, math.inf),
    ],
)
def test_passes_and_shortfall(
    comparator: str,
    threshold: float | tuple[float, float],
    value: float,
    passes: bool,
    shortfall: float,
) -> None:
    t = _target(comparator, threshold)
    assert t.passes(value) is passes
    assert t.shortfall(value) == pytest.approx(shortfall)


@pytest.mark.parametrize("comparator", [">", "<"])
def test_strict_comparator_fails_at_threshold_by_a_positive_shortfall(comparator: str) -> None:
    t = _target(comparator, 0.5)
    assert t.passes(0.5) is False
    assert 0.0 < t.shortfall(0.5) < 1e-15


@pytest.mark.parametrize("missing", [None, math.nan, np.nan, pd.NA, np.float64("nan")])
@pytest.mark.parametrize("comparator", COMPARATORS)
def test_missing_value_is_not_measurable(missing: object, comparator: str) -> None:
    t = _target(comparator, (1.0, 2.0) if comparator == "between" else 1.0)
    assert t.passes(missing) is None
    assert math.isnan(t.shortfall(missing))


def test_non_numeric_value_is_an_error() -> None:
    with pytest.raises(TypeError):
        _target(">=", 1.0).passes("many")


def test_evaluate_is_aligned_and_nullable() -> None:
    t = load_profile(NX).target("grid_households")
    values = pd.Series([400, 250, None, 700], index=["g1", "g2", "g3", "g4"])
    out = t.evaluate(values)
    assert out.index.tolist() == ["g1", "g2", "g3", "g4"]
    assert out["pass"].tolist() == [True, False, pd.NA, False]
    assert out["shortfall"].iloc[[0, 1, 3]].tolist() == [0.0, 50.0, 200.0]
    assert math.isnan(out["shortfall"].iloc[2])
    assert values.tolist()[:2] == [400, 250]  # input untouched
    flags = _target(">=", 1.0).evaluate(pd.Series([True, False]))
    assert flags["pass"].tolist() == [True, False]


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
values = st.floats(allow_nan=False, allow_infinity=True, width=64)


@st.composite
def targets(draw: st.DrawFn) -> Target:
    comparator = draw(st.sampled_from(COMPARATORS))
    if comparator == "between":
        a, b = sorted((draw(finite), draw(finite)))
        return _target(comparator, (a, b))
    return _target(comparator, draw(finite))


@given(targets(), values)
def test_shortfall_is_zero_exactly_when_passing(t: Target, value: float) -> None:
    passed = t.passes(value)
    gap = t.shortfall(value)
    assert gap >= 0.0
    assert (gap == 0.0) == passed
    row = t.evaluate(pd.Series([value]))
    assert bool(row["pass"].iloc[0]) == passed
    assert row["shortfall"].iloc[0] == gap


# --------------------------------------------------------------------- applies_mask


def test_applies_mask_combines_scope_and_applies_if() -> None:
    communities = pd.DataFrame(
        {
            "kind": ["urban", "urban", "village", "village", "urban"],
            "households": [800.0, 499.0, 350.0, 200.0, np.nan],
            "old_estate": [True, False, False, False, pd.NA],
        },
        index=["c1", "c2", "c3", "c4", "c5"],
    )
    tj, nx = load_profile(TJ), load_profile(NX)
    assert tj.target("social_orgs_urban").applies_mask(communities).tolist() == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert tj.target("social_orgs_village").applies_mask(communities).tolist() == [
        False,
        False,
        True,
        False,
        False,
    ]
    old = nx.target("grid_households_old_estate").applies_mask(communities)
    assert old.tolist() == [True, False, False, False, False]
    assert old.index.equals(communities.index)
    normal = nx.target("grid_households").applies_mask(communities)
    assert normal.tolist() == [False, True, True, True, False]


def test_applies_mask_defaults_missing_flag_columns_to_false() -> None:
    frame = pd.DataFrame({"kind": ["urban", "village"]}, index=["a", "b"])
    nx = load_profile(NX)
    assert nx.target("grid_households").applies_mask(frame).tolist() == [True, True]
    assert nx.target("grid_households_old_estate").applies_mask(frame).tolist() == [False, False]
    wet = load_profile(TJ).target("wet_market_coverage")
    assert wet.applies_mask(frame).tolist() == [False, False]
    with pytest.raises(InputError, match="households") as info:
        load_profile(TJ).target("social_orgs_urban").applies_mask(frame)
    assert info.value.column == "households"


# --------------------------------------------------------------------- import hygiene


def test_import_reads_no_files() -> None:
    code = (
        "import geoplan.profiles, geoplan.categories._model as c;"
        "print(c._packaged.cache_info().currsize)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "0"


def test_profile_is_a_frozen_dataclass() -> None:
    assert dataclasses.is_dataclass(Profile)
    assert Profile.__dataclass_params__.frozen  # type: ignore[attr-defined]

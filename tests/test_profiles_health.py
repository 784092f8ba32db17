"""The profile additions of issue 14: size-dependent catchments, access targets, and the
two new packaged profiles (city-health-check, embedded-services-2024)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from geoplan._errors import InputError
from geoplan.cli import main
from geoplan.profiles import (
    DECAYS,
    MEASURES,
    Catchment,
    CatchmentRule,
    list_profiles,
    load_profile,
)
from geoplan.profiles._model import parse_profile

NEW = ("city-health-check", "embedded-services-2024")

# A minimal valid profile: one source, the two walking speeds, one catchment, one target
# naming it. Each test breaks one thing.
BASE = """
[profile]
name = "t"
title_zh = "测试"
title_en = "test"

[sources.doc]
title_zh = "文件"
title_en = "document"
kind = "primary"

[parameters.walk_speed_m_per_min]
value = 80.0
unit = "m/min"
source = "doc"

[parameters.walk_speed_elderly_m_per_min]
value = 60.0
unit = "m/min"
source = "doc"

[[catchments]]
id = "park_radius"
category = "park"
size_column = "area_m2"
unit = "m2"
description_zh = "公园服务半径"
description_en = "park radius"
source = "doc"
clause = "1"
rules = [
  { min = 5000.0, within_m = 500.0 },
  { min = 2000.0, max = 5000.0, within_m = 300.0 },
]

[[targets]]
id = "parks"
description_zh = "公园覆盖"
description_en = "park coverage"
audit = "coverage"
measure = "coverage_share"
unit = "share of households"
comparator = ">="
threshold = 0.8
scope = "district"
source = "doc"
clause = "1"
category = "park"
catchment = "park_radius"
"""

ACCESS = """
[[targets]]
id = "wet_market_supply"
description_zh = "菜市场每千人建筑面积"
description_en = "wet market floor area per 1,000 residents"
audit = "access"
measure = "supply_per_1000_residents"
unit = "m2/1000 residents"
comparator = ">="
threshold = 50.0
scope = "community"
source = "doc"
clause = "2"
category = "wet_market"
supply_column = "floor_area_m2"
within_min = 10.0
"""

RULES = """rules = [
  { min = 5000.0, within_m = 500.0 },
  { min = 2000.0, max = 5000.0, within_m = 300.0 },
]"""


def _refused(text: str, *, row: str, column: str, match: str) -> InputError:
    with pytest.raises(InputError, match=match) as err:
        parse_profile(text, file="bad.toml")
    assert err.value.file == "bad.toml"
    assert (err.value.row, err.value.column) == (row, column), str(err.value)
    return err.value


# ------------------------------------------------------------------ the packaged profiles


def test_the_new_profiles_are_packaged() -> None:
    assert set(NEW) <= set(list_profiles())


@pytest.mark.parametrize("name", NEW)
def test_every_target_cites_a_document_and_a_clause(name: str) -> None:
    p = load_profile(name)
    assert p.targets
    for t in p.targets:
        src = p.sources[t.source]
        assert src.kind in ("primary", "secondary"), t.id  # a public document
        assert t.clause.strip() and t.note, t.id
        assert "STANDARDS" not in t.clause + t.note
        if src.secondary:
            assert src.form and src.via, t.source
        # no primary text of these documents was read: nothing is confirmed
        assert t.confirmed is False, t.id
    for c in p.catchments:
        assert p.sources[c.source].kind in ("primary", "secondary")
        assert c.clause.strip() and c.confirmed is False


def test_the_health_check_profile() -> None:
    p = load_profile("city-health-check")
    assert p.sources["mohurd-2023-health-check"].number == "建科〔2023〕75号"
    park = p.target("park_service_radius_coverage")
    assert (park.category, park.catchment, park.measure) == (
        "park",
        "park_service_radius",
        "coverage_share",
    )
    c = p.catchment("park_service_radius")
    assert [(r.min, r.max, r.within_m) for r in c.rules] == [
        (5000.0, None, 500.0),
        (2000.0, 5000.0, 300.0),
    ]
    assert park.walk_limit_m(p) == park.walk_limit_m(p, elderly=True) == 500.0
    # the thresholds the documents do not state say so
    assert "no target value" in str(park.note)
    assert "not a stated target" in str(p.target("convenience_commerce_coverage").note)
    ids = {t.id for t in p.targets}
    for needed in (
        "convenience_commerce_coverage",
        "complete_community_service_station",
        "complete_community_kindergarten",
        "infant_care_coverage",
        "elderly_service_station_coverage",
        "complete_community_health_station",
    ):
        assert needed in ids
    assert p.target("convenience_commerce_coverage").group == "basic"
    assert p.target("infant_care_coverage").category == "infant_care"
    wet = p.target("wet_market_floor_area_per_1000")
    assert (wet.audit, wet.measure, wet.threshold) == ("access", "supply_per_1000_residents", 50.0)
    assert wet.supply_column == "floor_area_m2" and wet.scope == "community"
    assert wet.walk_limit_m(p) == 10 * p.walk_speed()
    store = p.target("convenience_store_floor_area_per_1000")
    assert (store.threshold, store.category) == (10.0, "convenience_store")


def test_the_embedded_services_profile() -> None:
    p = load_profile("embedded-services-2024")
    thresholds = {t.id: (t.measure, t.threshold, t.scope) for t in p.targets}
    assert thresholds == {
        "embedded_area_per_100_households": (
            "area_per_100_households",
            30.0,
            "urban_community",
        ),
        "embedded_area_per_100_households_possible": (
            "area_per_100_households",
            80.0,
            "urban_community",
        ),
        "embedded_complex_area": ("complex_area", 600.0, "facility"),
        "embedded_complex_area_possible": ("complex_area", 800.0, "facility"),
        "embedded_complex_functions": ("functions_count", 3.0, "facility"),
        "embedded_complex_key_functions": ("key_functions_count", 2.0, "facility"),
    }
    assert "aspirational" in str(p.target("embedded_area_per_100_households_possible").note)
    assert p.names("key_functions") == ("elderly_care", "infant_care", "after_school_care", "meals")


@pytest.mark.parametrize("name", NEW)
def test_new_profiles_round_trip_through_toml(name: str, tmp_path: Path) -> None:
    p = load_profile(name)
    f = tmp_path / "copy.toml"
    f.write_text(p.to_toml(), encoding="utf-8")
    assert load_profile(f) == p
    mine = p.derive("mine", thresholds={p.targets[0].id: 0.5})
    assert mine.catchments == p.catchments


def test_profiles_list_shows_the_new_profiles_with_titles() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["profiles", "list"])
    assert res.exit_code == 0, res.output
    for name in NEW:
        line = next(x for x in res.output.splitlines() if x.startswith(name))
        assert load_profile(name).title_zh in line
    rows = json.loads(runner.invoke(main, ["profiles", "list", "--json"]).output)
    titles = {r["name"]: r["title_en"] for r in rows}
    assert titles["embedded-services-2024"].startswith("Guideline for community-embedded")


def test_profiles_show_prints_catchments_with_rules_source_and_clause() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["profiles", "show", "city-health-check", "--lang", "en"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "catchments:" in out and "park_service_radius" in out
    assert ">= 5000 m2 -> 500 m" in out and "2000-5000 m2 -> 300 m" in out
    assert "<mohurd-2021-indicators, 生态宜居 公园绿地服务半径覆盖率 指标解释" in out
    assert "{catchment park_service_radius}" in out
    zh = runner.invoke(main, ["profiles", "show", "city-health-check"]).output
    assert "服务半径规则:" in zh
    data = json.loads(
        runner.invoke(main, ["profiles", "show", "city-health-check", "--json"]).output
    )
    (c,) = data["catchments"]
    assert c["rules"][1] == {"min": 2000.0, "max": 5000.0, "within_m": 300.0, "within_min": None}
    assert c["source"] == "mohurd-2021-indicators" and c["confirmed"] is False
    wet = next(t for t in data["targets"] if t["id"] == "wet_market_floor_area_per_1000")
    assert wet["supply_column"] == "floor_area_m2" and wet["catchment"] is None
    # a profile without catchments prints no catchment header
    assert "catchments:" not in runner.invoke(main, ["profiles", "show", "tianjin-2025"]).output


# ------------------------------------------------------------------ catchments: limits


def test_the_minimal_profile_is_valid() -> None:
    p = parse_profile(BASE + ACCESS, file="ok.toml")
    assert p.catchment("park_radius").category == "park"
    assert p.catchment_for("park") is p.catchments[0]
    assert p.catchment_for("school") is None


def test_limits_m_on_arrays_series_and_missing_sizes() -> None:
    p = parse_profile(BASE, file="ok.toml")
    c = p.catchment("park_radius")
    sizes = [10000.0, 5000.0, 4999.5, 2000.0, 1999.0, 0.0, -1.0, np.nan, None, pd.NA]
    expected = [500.0, 500.0, 300.0, 300.0] + [math.nan] * 6
    np.testing.assert_array_equal(c.limits_m(np.array(sizes[:8], dtype=float), p), expected[:8])
    np.testing.assert_array_equal(c.limits_m(sizes, p), expected)
    series = pd.Series(sizes, index=list("abcdefghij"), dtype="Float64")
    out = c.limits_m(series, p)
    assert out.dtype == np.float64 and out.shape == (10,)
    np.testing.assert_array_equal(out, expected)
    assert c.limits_m(np.array([], dtype=float), p).shape == (0,)
    assert c.max_limit_m(p) == 500.0
    with pytest.raises(InputError, match="area_m2") as err:
        c.limits_m(["big", 3000.0], p)
    assert err.value.column == "area_m2"


def test_minutes_convert_at_the_profiles_speed_and_distances_do_not() -> None:
    text = BASE.replace("{ min = 5000.0, within_m = 500.0 }", "{ min = 5000.0, within_min = 10.0 }")
    p = parse_profile(text, file="ok.toml")
    c = p.catchment("park_radius")
    assert c.limits_m([6000.0, 3000.0], p).tolist() == [800.0, 300.0]
    assert c.limits_m([6000.0, 3000.0], p, elderly=True).tolist() == [600.0, 300.0]
    assert c.max_limit_m(p) == 800.0 and c.max_limit_m(p, elderly=True) == 600.0
    t = p.target("parks")
    assert t.walk_limit_m(p) == 800.0 and t.walk_limit_m(p, elderly=True) == 600.0
    assert t.walk_minutes() is None


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.just(math.nan),
            st.sampled_from([1999.999, 2000.0, 4999.999, 5000.0]),
            st.floats(min_value=-1e4, max_value=1e5),
        ),
        max_size=40,
    )
)
def test_limits_m_agree_with_a_plain_loop(sizes: list[float | None]) -> None:
    p = load_profile("city-health-check")
    c = p.catchment("park_service_radius")

    def one(s: float | None) -> float:
        if s is None or math.isnan(s):
            return math.nan
        if s >= 5000.0:
            return 500.0
        if 2000.0 <= s < 5000.0:
            return 300.0
        return math.nan

    np.testing.assert_array_equal(c.limits_m(sizes, p), [one(s) for s in sizes])


def test_catchment_records_are_frozen_and_exported() -> None:
    rule = CatchmentRule(min=None, max=100.0, within_m=50.0, within_min=None)
    c = Catchment(
        id="x",
        category="park",
        size_column="area_m2",
        unit="m2",
        rules=(rule,),
        description_zh="x",
        description_en="x",
        source="doc",
        clause="1",
    )
    with pytest.raises(AttributeError):
        c.id = "y"  # type: ignore[misc]
    p = parse_profile(BASE, file="ok.toml")
    assert c.limits_m([99.0, 100.0, -5.0], p).tolist()[0] == 50.0
    assert math.isnan(c.limits_m([100.0], p)[0])
    assert rule.band_text("m2") == "< 100 m2"


def test_an_unknown_catchment_id_is_an_input_error() -> None:
    p = load_profile("city-health-check")
    with pytest.raises(InputError, match="valid ids: park_service_radius") as err:
        p.catchment("green_way")
    assert err.value.column == "catchment"


# ------------------------------------------------------------------ catchments: refused


def test_overlapping_rules_are_refused() -> None:
    text = BASE.replace("{ min = 2000.0, max = 5000.0,", "{ min = 2000.0, max = 6000.0,")
    _refused(text, row="park_radius", column="rules", match=r"rules\[0\].*rules\[1\].*overlap")
    # an open lower bound overlaps everything below
    text = BASE.replace("{ min = 2000.0, max = 5000.0,", "{ max = 5001.0,")
    _refused(text, row="park_radius", column="rules", match="overlap")
    # touching bands (max exclusive, min inclusive) do not overlap
    ok = BASE.replace("{ min = 2000.0, max = 5000.0,", "{ max = 5000.0,")
    assert parse_profile(ok, file="ok.toml").catchment("park_radius").rules[1].min is None


def test_a_rule_without_a_walking_limit_or_with_two_is_refused() -> None:
    text = BASE.replace("{ min = 5000.0, within_m = 500.0 }", "{ min = 5000.0 }")
    _refused(text, row="park_radius", column="within_m", match=r"rules\[0\].*exactly one")
    text = BASE.replace(
        "{ min = 5000.0, within_m = 500.0 }", "{ min = 5000.0, within_m = 500.0, within_min = 5 }"
    )
    _refused(text, row="park_radius", column="within_m", match="exactly one")


@pytest.mark.parametrize(
    ("old", "new", "column", "match"),
    [
        ("min = 5000.0, within_m = 500.0", "min = 5000.0, within_m = -5.0", "within_m", "positive"),
        ("min = 5000.0, within_m", 'min = "big", within_m', "min", "finite number"),
        ("min = 2000.0, max = 5000.0", "min = 5000.0, max = 2000.0", "min", "below"),
        ("min = 5000.0, within_m", "min = 5000.0, radius = 1, within_m", "radius", "unknown key"),
        ('size_column = "area_m2"\n', "", "size_column", "missing key"),
        (
            'source = "doc"\nclause = "1"\nrules',
            'source = "nope"\nclause = "1"\nrules',
            "source",
            "nope",
        ),
        (RULES, "rules = []", "rules", "non-empty"),
        ('clause = "1"\nrules', 'clause = "1"\nradius = 5\nrules', "radius", "unknown key"),
    ],
)
def test_bad_catchment_keys_are_refused(old: str, new: str, column: str, match: str) -> None:
    assert old in BASE
    _refused(BASE.replace(old, new, 1), row="park_radius", column=column, match=match)


def test_duplicate_catchment_ids_are_refused() -> None:
    block = BASE[BASE.index("[[catchments]]") : BASE.index("[[targets]]")]
    text = BASE.replace("[[targets]]", block + "[[targets]]", 1)
    _refused(text, row="park_radius", column="id", match="duplicate catchment")


def test_a_target_naming_an_unknown_catchment_is_refused() -> None:
    text = BASE.replace('catchment = "park_radius"', 'catchment = "green_way"')
    _refused(text, row="parks", column="catchment", match="'green_way'.*defined: park_radius")


def test_a_catchment_of_another_category_is_refused() -> None:
    text = BASE.replace('category = "park"\ncatchment', 'category = "playground"\ncatchment')
    _refused(text, row="parks", column="catchment", match="for category 'park'.*'playground'")
    # a group never matches a catchment's category
    text = BASE.replace('category = "park"\ncatchment', 'group = "basic"\ncatchment')
    _refused(text, row="parks", column="catchment", match="group 'basic'")


def test_a_catchment_with_another_limit_is_refused() -> None:
    text = BASE.replace('catchment = "park_radius"', 'catchment = "park_radius"\nwithin_m = 500.0')
    _refused(text, row="parks", column="within_m", match="both 'catchment'")


def test_a_catchment_on_a_walk_time_target_is_refused() -> None:
    text = BASE.replace('measure = "coverage_share"', 'measure = "walk_time"').replace(
        'scope = "district"', 'scope = "building"'
    )
    _refused(text, row="parks", column="catchment", match="not of measure 'walk_time'")


def test_a_coverage_share_without_any_limit_is_refused() -> None:
    text = BASE.replace('catchment = "park_radius"\n', "")
    _refused(text, row="parks", column="within_min", match="'within_m' or 'catchment'")


# ------------------------------------------------------------------ access targets


def test_access_measures_and_decays_are_the_shared_spec() -> None:
    assert MEASURES["access"] == {"supply_per_100_households", "supply_per_1000_residents"}
    assert DECAYS == ("none", "linear", "gaussian")
    p = parse_profile(
        BASE + ACCESS.replace("within_min = 10.0", 'within_min = 10.0\ndecay = "gaussian"'),
        file="ok.toml",
    )
    t = p.target("wet_market_supply")
    assert (t.decay, t.supply_column) == ("gaussian", "floor_area_m2")
    assert t.walk_limit_m(p) == 800.0 and t.walk_limit_m(p, elderly=True) == 600.0
    assert parse_profile(BASE + ACCESS, file="ok.toml").target("wet_market_supply").decay is None


def test_an_access_target_may_use_a_catchment() -> None:
    text = BASE + ACCESS.replace('category = "wet_market"', 'category = "park"').replace(
        "within_min = 10.0", 'catchment = "park_radius"'
    )
    p = parse_profile(text, file="ok.toml")
    assert p.target("wet_market_supply").walk_limit_m(p) == 500.0


@pytest.mark.parametrize(
    ("old", "new", "column", "match"),
    [
        ('supply_column = "floor_area_m2"\n', "", "supply_column", "needs 'supply_column'"),
        ("within_min = 10.0\n", "", "within_min", "'within_min', 'within_m' or 'catchment'"),
        ("within_min = 10.0", 'within_min = 10.0\ndecay = "exponential"', "decay", "linear"),
        ('category = "wet_market"', 'group = "basic"', "category", "one category"),
        ("within_min = 10.0", "within_min = 10.0\nwithin_m = 800.0", "within_m", "both"),
    ],
)
def test_bad_access_targets_are_refused(old: str, new: str, column: str, match: str) -> None:
    assert old in ACCESS
    _refused(
        BASE + ACCESS.replace(old, new, 1), row="wet_market_supply", column=column, match=match
    )


def test_access_keys_on_other_targets_are_refused() -> None:
    text = BASE.replace('catchment = "park_radius"', 'catchment = "park_radius"\ndecay = "linear"')
    _refused(text, row="parks", column="decay", match="belongs to access targets")
    text = BASE.replace(
        'catchment = "park_radius"', 'catchment = "park_radius"\nsupply_column = "area_m2"'
    )
    _refused(text, row="parks", column="supply_column", match="belongs to access targets")


def test_facility_measures_need_facility_scope_and_key_functions() -> None:
    p = load_profile("embedded-services-2024")
    text = p.to_toml()
    head = 'measure = "complex_area"\nunit = "m2"\ncomparator = ">="\nthreshold = 600.0\nscope = '
    bad = text.replace(head + '"facility"', head + '"community"')
    assert bad != text
    _refused(bad, row="embedded_complex_area", column="scope", match="scope = 'facility'")
    start = text.index("[parameters.key_functions]")
    end = text.index("\n\n", start)
    _refused(
        text[:start] + text[end + 2 :],
        row="embedded_complex_key_functions",
        column="measure",
        match="parameter 'key_functions'",
    )

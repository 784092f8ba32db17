"""audit_coverage(reach=): the walking passes made elsewhere give the same audit."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from geoplan._errors import InputError
from geoplan.audit.coverage import audit_coverage, coverage_search
from geoplan.households import estimate_households
from geoplan.network import network_from_lines
from geoplan.profiles import load_profile
from geoplan.reach import nearest_facilities
from geoplan.sample import make_sample_district


@pytest.fixture(scope="module")
def district():  # type: ignore[no-untyped-def]
    d = make_sample_district(seed=0)
    prof = load_profile("mofcom-15min")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b = estimate_households(d.buildings, params=prof)
    return d, b, network_from_lines(d.streets), prof


def test_search_parameters_are_the_audits(district) -> None:  # type: ignore[no-untyped-def]
    prof = district[3]
    s = coverage_search(prof)
    assert s.limit_m == 2 * max(float(t.walk_limit_m(prof)) for t in _targets(prof))
    assert coverage_search(prof, search_factor=1.0).limit_m == s.limit_m / 2
    assert s.walk_speed_m_per_min == prof.walk_speed(elderly=False)
    assert coverage_search(prof, elderly=True).walk_speed_m_per_min == prof.walk_speed(elderly=True)
    assert "wet_market" in s.categories


def _targets(prof):  # type: ignore[no-untyped-def]
    from geoplan.audit.coverage import coverage_targets

    return coverage_targets(prof)


def test_given_reach_gives_the_same_audit(district) -> None:  # type: ignore[no-untyped-def]
    d, b, net, prof = district
    s = coverage_search(prof)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = audit_coverage(b, d.facilities, net, profile=prof, communities=d.communities)
        reach = nearest_facilities(
            net,
            b,
            d.facilities,
            limit_m=s.limit_m,
            max_snap_m=s.max_snap_m,
            walk_speed_m_per_min=s.walk_speed_m_per_min,
        )
        given = audit_coverage(
            b, d.facilities, net, profile=prof, communities=d.communities, reach=reach
        )
    pd.testing.assert_frame_equal(direct.table, given.table)
    pd.testing.assert_frame_equal(direct.findings, given.findings)
    assert direct.summary == given.summary


def test_a_reach_that_does_not_fit_is_bad_input(district) -> None:  # type: ignore[no-untyped-def]
    d, b, net, prof = district
    s = coverage_search(prof)
    warnings.simplefilter("ignore")  # the sample's facility off the streets (said above)
    reach = nearest_facilities(
        net,
        b,
        d.facilities,
        limit_m=s.limit_m,
        max_snap_m=s.max_snap_m,
        walk_speed_m_per_min=s.walk_speed_m_per_min,
    )
    with pytest.raises(InputError, match=r"not the .* buildings"):
        audit_coverage(b, d.facilities, net, profile=prof, reach=reach.iloc[1:])
    cat = str(d.facilities["category"].iloc[0])
    with pytest.raises(InputError, match="lacks walk_m__"):
        audit_coverage(
            b, d.facilities, net, profile=prof, reach=reach.drop(columns=f"walk_m__{cat}")
        )

"""Organisation and staffing audit against the Tianjin and Ningxia profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoplan.audit import audit_organisations


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["和平社区", "小社区", "李庄村", "大王庄村"],
            "kind": ["urban", "urban", "village", "village"],
            "households": [2000.0, 400.0, 350.0, 200.0],
            "residents": [5000.0, 1000.0, 900.0, 500.0],
            "district_code": ["120101"] * 4,
            "workers": [9.0, 1.0, 2.0, 1.0],
            "social_orgs": [12.0, 3.0, 5.0, 1.0],
            "licensed_social_workers": [1.0, 0.0, 0.0, 0.0],
            "volunteer_orgs": [3.0, 2.0, 3.0, 1.0],
            "self_service_terminal": [True, False, True, False],
            "volunteer_station": [True, True, False, False],
            "opening_hours_per_day": [8.0, 6.5, 8.0, 8.0],
            "subcommittee_min_size": [3.0, 2.0, 4.0, 3.0],
            "subcommittee_max_size": [9.0, 7.0, 11.0, 5.0],
            "grids": [5.0, 1.0, 1.0, 1.0],
            "grid_workers": [5.0, 0.0, 1.0, 1.0],
        },
        index=pd.Index(["C1", "C2", "V1", "V2"], name="community_id"),
    )


def test_workers_per_10k_and_social_orgs_tianjin() -> None:
    r = audit_organisations(_table(), profile="tianjin-2025")
    t = r.table
    # 9 workers for 5,000 residents = 18 per 10,000: exactly at the target passes
    assert t.loc["C1", "workers_per_10k__value"] == pytest.approx(18.0)
    assert t.loc["C1", "workers_per_10k__pass"]
    assert t.loc["C2", "workers_per_10k__value"] == pytest.approx(10.0)
    assert not t.loc["C2", "workers_per_10k__pass"]
    assert t.loc["C2", "workers_per_10k__shortfall"] == pytest.approx(8.0)
    # >= 12 social organisations only for urban communities of 500+ households
    assert t.loc["C1", "social_orgs_urban__pass"]
    assert pd.isna(t.loc["C2", "social_orgs_urban__pass"])
    # >= 6 for villages of 300+ households
    assert not t.loc["V1", "social_orgs_village__pass"]
    assert t.loc["V1", "social_orgs_village__shortfall"] == pytest.approx(1.0)
    assert pd.isna(t.loc["V2", "social_orgs_village__pass"])


def test_ningxia_counts_flags_and_ranges() -> None:
    r = audit_organisations(_table(), profile="ningxia-2025")
    t = r.table
    assert t.loc["C1", "social_orgs_community__value"] == 12.0
    assert t.loc["C1", "social_orgs_community__pass"]
    assert not t.loc["C2", "social_orgs_community__pass"]
    assert t.loc["C1", "licensed_social_worker__pass"]
    assert not t.loc["C2", "licensed_social_worker__pass"]
    assert t.loc["C1", "volunteer_orgs__pass"] and not t.loc["C2", "volunteer_orgs__pass"]
    # the Ningxia plan is for urban communities: villages are not judged on it
    assert pd.isna(t.loc["V1", "volunteer_orgs__pass"])
    # sub-committees of 3-9 members: C2 has one of 2 members
    assert not t.loc["C2", "subcommittee_size__pass"]
    assert t.loc["C2", "subcommittee_size__value"] == 2.0
    assert t.loc["C2", "subcommittee_size__shortfall"] == 1.0
    assert t.loc["C1", "subcommittee_size__pass"]


def test_district_level_shares() -> None:
    r = audit_organisations(_table(), profile="tianjin-2025")
    dc = r.summary["district_checks"]
    # self-service terminals in 100% of urban communities: 1 of 2
    assert dc["self_service_coverage"]["value"] == pytest.approx(0.5)
    assert dc["self_service_coverage"]["passed"] is False
    f = r.findings.set_index("check_id")
    assert f.loc["self_service_coverage", "entity_id"] == "120101"


def test_missing_columns_are_not_measured_never_passed() -> None:
    r = audit_organisations(_table().drop(columns=["workers"]), profile="tianjin-2025")
    assert "workers_per_10k" in r.summary["not_measured"]
    assert "workers_per_10k__pass" not in r.table.columns
    assert "workers_per_10k" not in set(r.findings["check_id"])


def test_missing_values_are_na_not_pass() -> None:
    t = _table()
    t.loc["C1", "workers"] = np.nan
    r = audit_organisations(t, profile="tianjin-2025")
    assert pd.isna(r.table.loc["C1", "workers_per_10k__pass"])
    # the finding names the blank cell, not only "no data"
    f = r.findings[r.findings["entity_id"].eq("C1") & r.findings["check_id"].eq("workers_per_10k")]
    assert f["text_zh"].iloc[0].startswith("未测：workers 列为空（社区表")


def test_passed_flag_and_index() -> None:
    t = _table()
    r = audit_organisations(t, profile="tianjin-2025")
    assert r.table.index.equals(t.index)
    assert r.passed is False
    assert "和平社区" in r.to_json()

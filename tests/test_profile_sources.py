"""Profiles cite public documents (title, number, clause), never the project's notes,
and mark secondary sources (news reports, explanation pages) as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from geoplan._errors import InputError
from geoplan.cli import main
from geoplan.profiles import SOURCE_KINDS, list_profiles, load_profile

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list_profiles())
def test_no_profile_cites_the_projects_notes(name: str) -> None:
    text = (ROOT / "geoplan" / "profiles" / f"{name}.toml").read_text(encoding="utf-8")
    assert "STANDARDS" not in text
    p = load_profile(name)
    for t in p.targets:
        assert "STANDARDS" not in t.clause and (t.note is None or "STANDARDS" not in t.note)
        assert t.clause.strip()


def test_docs_do_not_cite_the_projects_notes() -> None:
    assert "STANDARDS" not in (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", list_profiles())
def test_every_source_says_what_it_is(name: str) -> None:
    p = load_profile(name)
    for key, src in p.sources.items():
        assert src.kind in SOURCE_KINDS, key
        if src.secondary:
            assert src.form and src.via, key
        if src.kind == "project":
            assert src.issuer == "geoplan"
    used = {t.source for t in p.targets}
    # every target cites a public document, never geoplan's own choices
    assert all(p.sources[s].kind != "project" for s in used)


def test_known_documents_carry_their_numbers() -> None:
    mof = load_profile("mofcom-15min").sources
    assert mof["mofcom-2021-guide"].number == "商办流通函〔2021〕247号"
    assert mof["mofcom-2021-explanation"].secondary
    assert load_profile("ningxia-2025").sources["national-14fyp"].number == "国办发〔2021〕56号"
    gb = load_profile("gb50180-2018")
    assert gb.sources["gb50180-2018"].number == "GB 50180-2018"
    assert gb.sources["gb50180-2018"].secondary  # no copy of the standard was read
    assert "表3.0.4" in gb.target("life_circle_15min_residents").clause
    nx = load_profile("ningxia-2025")
    assert nx.sources["ningxia-2023-plan"].secondary  # the seed is a news report
    assert "河南省养老服务条例" in nx.target("elderly_care_area_new").clause
    assert not nx.target("elderly_care_area_new").confirmed
    tj = load_profile("tianjin-2025")
    assert tj.sources["tianjin-14fyp"].form.startswith("新闻报道")


@pytest.mark.parametrize("name", list_profiles())
def test_source_fields_round_trip(name: str, tmp_path: Path) -> None:
    p = load_profile(name)
    f = tmp_path / "copy.toml"
    f.write_text(p.to_toml(), encoding="utf-8")
    q = load_profile(f)
    assert q == p
    assert {k: (s.kind, s.form, s.via) for k, s in q.sources.items()} == {
        k: (s.kind, s.form, s.via) for k, s in p.sources.items()
    }


def test_bad_source_kinds_are_refused(tmp_path: Path) -> None:
    text = load_profile("tianjin-2025").to_toml().replace('kind = "project"', 'kind = "blog"', 1)
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(f)
    assert err.value.file == str(f) and err.value.row == "geoplan-defaults"
    assert err.value.column == "kind" and "secondary" in str(err.value)
    text = (
        load_profile("tianjin-2025").to_toml().replace('kind = "project"', 'kind = "secondary"', 1)
    )
    f.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_profile(f)
    assert err.value.column == "form" and "news report" in str(err.value)


def test_profiles_show_prints_sources_and_marks_secondary_ones() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["profiles", "show", "mofcom-15min"])
    assert res.exit_code == 0, res.output
    assert "来源:" in res.output and "商办流通函〔2021〕247号" in res.output
    line = next(x for x in res.output.splitlines() if x.startswith("  mofcom-2021-explanation "))
    assert "[二手来源]" in line
    assert "经由 新闻报道转引商务部网站" in res.output
    res = runner.invoke(main, ["profiles", "show", "gb50180-2018", "--lang", "en"])
    assert "read in" in res.output and "[secondary]" in res.output
    res = runner.invoke(main, ["profiles", "show", "ningxia-2025", "--json"])
    sources = {s["key"]: s for s in json.loads(res.output)["sources"]}
    assert sources["ningxia-2023-plan"]["secondary"] is True
    assert sources["geoplan-defaults"]["kind"] == "project"
    assert sources["yinchuan-elderly-care"]["via_url"].startswith("https://yinchuan.gov.cn/")

"""Development audit: plan reading and validation, profile merging, verdicts, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit.development import (
    audit_development,
    has_existing_layers,
    merge_profiles,
    read_context,
    read_plan,
)
from geoplan.cli.development import development_cmd
from geoplan.profiles import load_profile

PLANS = Path(__file__).resolve().parents[1] / "data" / "plans"
CONTEXT = PLANS / "context.gpkg"
FAST = ["ningxia-2025", "mofcom-15min"]
# the sample district keeps one facility 3 km outside on purpose (reported, not an error)
quiet = pytest.mark.filterwarnings("ignore::geoplan._errors.DataQualityWarning")


def _layers(path: Path) -> dict[str, gpd.GeoDataFrame]:
    names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    return {n: gpd.read_file(path, layer=n, engine="pyogrio") for n in names}


def _write(folder: Path, layers: dict[str, gpd.GeoDataFrame], name: str = "plan") -> Path:
    """A plan as a folder of GeoJSON (the other accepted form)."""
    out = folder / name
    out.mkdir()
    for layer, gdf in layers.items():
        gdf.to_file(out / f"{layer}.geojson", driver="GeoJSON", engine="pyogrio")
    return out


@pytest.fixture(scope="module")
def pass_plan():
    return read_plan(PLANS / "pass.gpkg")


@pytest.fixture(scope="module")
def context(pass_plan):
    return read_context(CONTEXT, metric_crs=pass_plan.site.crs)


# --------------------------------------------------------------------------- reading


def test_read_plan_totals(pass_plan):
    site = pass_plan.site.iloc[0]
    b = pass_plan.buildings
    assert pass_plan.site.crs.is_projected
    assert site["households"] == b["households"].sum() == 1120
    uses = ["residential_m2", "commercial_m2", "service_m2", "public_m2", "other_m2"]
    assert site["total_floor_area_m2"] == pytest.approx(b[uses].sum().sum())
    assert site["commercial_service_area_m2"] == pytest.approx(
        b["commercial_m2"].sum() + b["service_m2"].sum()
    )
    rooms = pass_plan.service_rooms
    assert site["developer_service_rooms_m2"] == rooms.loc["R1", "floor_area_m2"]
    assert site["elderly_care_area_m2"] == rooms.loc["R2", "floor_area_m2"]
    assert set(rooms["category"]) == {"community_service_centre", "elderly_service_station"}
    # plain retail space has no category; categorised shops keep theirs
    assert pass_plan.commercial.loc["S25", "category"] is None
    assert pass_plan.commercial.loc["S01", "category"] == "wet_market"


def test_renovation_layers():
    path = PLANS / "renovation.gpkg"
    assert has_existing_layers(path)
    assert not has_existing_layers(PLANS / "pass.gpkg")
    before = read_plan(path, stage="existing")
    after = read_plan(path)
    assert before.site_id == after.site_id
    assert len(before.service_rooms) < len(after.service_rooms)
    assert (
        after.site["developer_service_rooms_m2"].iloc[0]
        > before.site["developer_service_rooms_m2"].iloc[0]
    )


def test_geojson_folder_equals_gpkg(tmp_path, pass_plan):
    folder = _write(tmp_path, _layers(PLANS / "pass.gpkg"))
    plan = read_plan(folder)
    assert plan.site["households"].iloc[0] == pass_plan.site["households"].iloc[0]
    assert list(plan.buildings.index) == list(pass_plan.buildings.index)


def _drop_households(layers: dict[str, gpd.GeoDataFrame]) -> None:
    layers["buildings"] = layers["buildings"].drop(columns="households")


def _bad(tmp_path: Path, change) -> Path:
    layers = _layers(PLANS / "pass.gpkg")
    change(layers)
    return _write(tmp_path, layers, "bad")


def test_missing_households(tmp_path):
    def change(layers):
        layers["buildings"].loc[layers["buildings"]["building_id"] == "B3", "households"] = None

    with pytest.raises(InputError) as err:
        read_plan(_bad(tmp_path, change))
    assert err.value.row == "B3"
    assert err.value.column == "households"
    assert err.value.file.endswith("buildings.geojson")


def test_missing_households_column(tmp_path):
    with pytest.raises(InputError, match="households") as err:
        read_plan(_bad(tmp_path, _drop_households))
    assert err.value.column == "households"


def test_overlapping_buildings(tmp_path):
    def change(layers):
        b = layers["buildings"]
        b.loc[b["building_id"] == "B2", "geometry"] = b.loc[
            b["building_id"] == "B1", "geometry"
        ].to_numpy()

    with pytest.raises(InputError, match="overlaps building B2") as err:
        read_plan(_bad(tmp_path, change))
    assert err.value.row == "B1"
    assert err.value.column == "geometry"


def test_building_outside_site(tmp_path):
    def change(layers):
        b = layers["buildings"]
        b.loc[b["building_id"] == "B6", "geometry"] = shapely.affinity.translate(
            b.loc[b["building_id"] == "B6", "geometry"].iloc[0], xoff=0.01
        )

    with pytest.raises(InputError, match="outside the site") as err:
        read_plan(_bad(tmp_path, change))
    assert err.value.row == "B6"


def test_wrong_crs_projected_as_lonlat(tmp_path):
    """Metres labelled as longitude/latitude: named row and column, not a silent shift."""

    def change(layers):
        for name, gdf in layers.items():
            layers[name] = gdf.to_crs(32650).set_crs(4326, allow_override=True)

    with pytest.raises(InputError, match="projected") as err:
        read_plan(_bad(tmp_path, change))
    assert err.value.column == "geometry"
    assert err.value.row is not None


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_no_crs(tmp_path):
    layers = _layers(PLANS / "pass.gpkg")
    out = tmp_path / "nocrs.gpkg"
    for name, gdf in layers.items():
        gdf.set_crs(None, allow_override=True).to_file(out, layer=name, engine="pyogrio")
    with pytest.raises(InputError, match="no CRS") as err:
        read_plan(out)
    assert "nocrs.gpkg" in err.value.file


def test_missing_site_layer(tmp_path):
    layers = _layers(PLANS / "pass.gpkg")
    del layers["site"]
    with pytest.raises(InputError, match="no 'site' layer"):
        read_plan(_write(tmp_path, layers))


def test_rooms_exceeding_service_floor_area(tmp_path):
    def change(layers):
        layers["service_rooms"]["floor_area_m2"] = 9000.0
        layers["service_rooms"]["activity_area_m2"] = 100.0

    with pytest.raises(InputError, match="buildings declare only") as err:
        read_plan(_bad(tmp_path, change))
    assert err.value.column == "service_m2"


def test_activity_above_floor_area(tmp_path):
    def change(layers):
        r = layers["service_rooms"]
        r.loc[r["room_id"] == "R2", "activity_area_m2"] = 999.0

    with pytest.raises(InputError, match="exceeds the floor area") as err:
        read_plan(_bad(tmp_path, change))
    assert (err.value.row, err.value.column) == ("R2", "activity_area_m2")


@quiet
def test_site_outside_context(tmp_path, context):
    def change(layers):
        for name, gdf in layers.items():
            layers[name] = gdf.set_geometry(gdf.geometry.translate(xoff=0.2))  # ~17 km east

    plan = read_plan(_bad(tmp_path, change))
    ctx = read_context(CONTEXT, metric_crs=plan.site.crs)
    with pytest.raises(InputError, match="outside the context area") as err:
        audit_development(plan, ctx, profiles=FAST)
    assert err.value.row == "DEV-P01"
    assert err.value.column == "geometry"


# --------------------------------------------------------------------------- profiles


def test_merge_profiles_runs_each_target_once():
    runs = merge_profiles(["tianjin-2025", "ningxia-2025", "gb50180-2018"])
    ids = [t.id for r in runs for t in r.profile.targets]
    assert len(ids) == len(set(ids))
    assert ids.count("service_area_per_100_households") == 1
    cited = runs[0].cited["service_area_per_100_households"]
    assert [c["profile"] for c in cited] == ["tianjin-2025", "ningxia-2025", "gb50180-2018"]
    # gb50180's complete-community 30 m2/100 households is the same target
    assert "complete_community_service_area" not in ids
    assert {t.audit for r in runs for t in r.profile.targets} <= {
        "floor_area",
        "development",
        "coverage",
    }


def test_merge_profiles_renames_a_different_target_with_the_same_id():
    base = load_profile("tianjin-2025")
    mine = base.derive("mine", thresholds={"activity_share": 0.7})
    runs = merge_profiles([base, mine])
    assert runs[1].rename == {"activity_share": "activity_share@mine"}
    assert "activity_share@mine" in runs[1].cited


# --------------------------------------------------------------------------- audit


@quiet
def test_pass_plan_passes(pass_plan, context):
    r = audit_development(pass_plan, context, profiles=FAST)
    assert r.passed
    checks = r.extra["checks"]
    assert {"developer_service_rooms", "walk_wet_market", "basic_within_10min"} <= set(
        checks["check_id"]
    )
    assert checks["remedy_en"].eq("").all()


@quiet
def test_fail_plan_findings_and_remedies(context):
    plan = read_plan(PLANS / "fail.gpkg")
    r = audit_development(plan, context, profiles=FAST)
    assert not r.passed
    checks = r.extra["checks"].set_index("check_id")
    rooms = checks.loc["developer_service_rooms"]
    hh = plan.site["households"].iloc[0]
    have = plan.site["developer_service_rooms_m2"].iloc[0]
    need = load_profile("ningxia-2025").target("developer_service_rooms").threshold * hh - have
    assert rooms["passed"] is False
    assert rooms["shortfall_m2"] == pytest.approx(need)
    assert f"add {round(need):,} m2 of community service rooms" == rooms["remedy_en"]
    assert f"增加社区服务用房 {round(need):,} 平方米" == rooms["remedy_zh"]
    wet = checks.loc["walk_wet_market"]
    assert wet["passed"] is False
    assert wet["households_failing"] == hh
    assert "have no wet market within 8 minutes' walk (600 m)" in wet["remedy_en"]
    assert "the nearest is 1.3 km away" in wet["remedy_en"]
    assert "菜市场" in wet["remedy_zh"]
    # every finding cites its source and clause
    f = r.findings
    assert f["source"].notna().all() and f["clause"].astype(bool).all()


@quiet
def test_own_facilities_count_for_access(pass_plan, context):
    """Without its own wet market the pass plan fails wet-market reach."""
    from dataclasses import replace

    comm = pass_plan.commercial.copy()
    comm.loc[comm["category"] == "wet_market", "category"] = None
    r = audit_development(replace(pass_plan, commercial=comm), context, profiles=["mofcom-15min"])
    checks = r.extra["checks"].set_index("check_id")
    assert checks.loc["walk_wet_market", "passed"] is False


def test_unreachable_facility_warned_once(pass_plan, context):
    with pytest.warns(DataQualityWarning, match="farther than max_snap_m") as rec:
        audit_development(pass_plan, context, profiles=["mofcom-15min", "gb50180-2018"])
    assert sum("farther than max_snap_m" in str(w.message) for w in rec) == 1


# --------------------------------------------------------------------------- CLI


def _run(args: list[str]) -> tuple[int, str]:
    res = CliRunner().invoke(development_cmd, args, catch_exceptions=False)
    return res.exit_code, res.output


@quiet
@pytest.mark.parametrize(("plan", "code"), [("pass", 0), ("fail", 1)])
def test_cli_verdicts(plan, code):
    exit_code, out = _run([str(PLANS / f"{plan}.gpkg"), "--context", str(CONTEXT), "--lang", "en"])
    assert exit_code == code, out
    assert ("PASS" if code == 0 else "FAIL") in out


@quiet
def test_cli_renovation_before_after(tmp_path):
    code, out = _run(
        [
            str(PLANS / "renovation.gpkg"),
            "--context",
            str(CONTEXT),
            "--profile",
            "ningxia-2025",
            "--out",
            str(tmp_path),
            "--no-static-map",
        ]
    )
    assert code == 0, out  # the floor-area targets are met after the renovation
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["mode"] == "renovation"
    assert report["before"]["passed"] is False
    rows = {c["check_id"]: c for c in report["comparison"]}
    assert rows["service_area_per_100_households"]["before"]["passed"] is False
    assert rows["service_area_per_100_households"]["after"]["passed"] is True
    page = (tmp_path / "report.zh.html").read_text(encoding="utf-8")
    assert "改造前" in page and "改造后" in page


@quiet
def test_cli_reruns_are_byte_identical(tmp_path):
    outs = []
    for k in range(2):
        out = tmp_path / f"run{k}"
        code, _ = _run(
            [
                str(PLANS / "fail.gpkg"),
                "--context",
                str(CONTEXT),
                "--profile",
                "mofcom-15min",
                "--profile",
                "ningxia-2025",
                "--out",
                str(out),
                "--lang",
                "both",
            ]
        )
        assert code == 1
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert sorted(outs[0]) == sorted(outs[1])
    assert {
        "report.json",
        "report.zh.html",
        "report.en.md",
        "map.zh.png",
        "development.gpkg",
    } <= set(outs[0])
    for name in outs[0]:
        assert outs[0][name] == outs[1][name], name


@quiet
def test_cli_bad_plan_exit_2(tmp_path):
    bad = _bad(tmp_path, _drop_households)
    code, out = _run([str(bad), "--context", str(CONTEXT)])
    assert code == 2
    assert "households" in out


@quiet
def test_cli_batch(tmp_path):
    import shutil

    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(PLANS / "pass.gpkg", folder / "a_pass.gpkg")
    shutil.copy(PLANS / "fail.gpkg", folder / "b_fail.gpkg")
    (folder / "c_broken.gpkg").write_bytes(b"not a geopackage")
    out = tmp_path / "out"
    code, _ = _run(
        [
            str(folder),
            "--context",
            str(CONTEXT),
            "--profile",
            "ningxia-2025",
            "--out",
            str(out),
            "--no-static-map",
        ]
    )
    assert code == 2
    table = pd.read_csv(out / "summary.csv", encoding="utf-8-sig", index_col=0)
    assert table.loc["a_pass.gpkg", "verdict"] == "pass"
    assert table.loc["b_fail.gpkg", "verdict"] == "fail"
    assert table.loc["c_broken.gpkg", "verdict"] == "error"
    assert "cannot read" in table.loc["c_broken.gpkg", "error"]
    assert (out / "a_pass" / "report.zh.html").exists()
    code, _ = _run(
        [
            str(folder / "a_pass.gpkg"),
            str(folder / "b_fail.gpkg"),
            "--context",
            str(CONTEXT),
            "--profile",
            "ningxia-2025",
        ]
    )
    assert code == 1

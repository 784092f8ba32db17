"""Grids and sites area by area (issue 13, item 1): no grid crosses an area, and each
area's grids and sites are a run on that area alone."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geoplan.areas.grids import AreasGrids, area_grid_inputs, grids_by_areas
from geoplan.areas.layout import AREA_ID, assign_areas
from geoplan.areas.site import AreasSites, sites_by_areas
from geoplan.grids import delineate_grids
from geoplan.network import WalkNetwork, network_from_lines
from geoplan.sample import SampleDistrict, make_sample_district
from geoplan.siting import candidates_from_network, suggest_sites


@pytest.fixture(scope="module")
def district() -> SampleDistrict:
    return make_sample_district(seed=0)


def _cut_areas(d: SampleDistrict) -> gpd.GeoDataFrame:
    """Three areas cut across the district by two slanted lines (through communities)."""
    x0, y0, x1, y1 = d.communities.total_bounds
    x0, y0, x1, y1 = x0 - 100, y0 - 100, x1 + 100, y1 + 100
    w = x1 - x0
    a, b = x0 + 0.35 * w, x0 + 0.65 * w
    polys = [
        shapely.Polygon([(x0, y0), (a + 150, y0), (a - 150, y1), (x0, y1)]),
        shapely.Polygon([(a + 150, y0), (b - 100, y0), (b + 100, y1), (a - 150, y1)]),
        shapely.Polygon([(b - 100, y0), (x1, y0), (x1, y1), (b + 100, y1)]),
    ]
    return gpd.GeoDataFrame(
        {"name": ["west", "middle", "east"]},
        geometry=polys,
        crs=d.communities.crs,
        index=pd.Index(["jd01", "jd02", "jd03"], name=AREA_ID),
    )


@pytest.fixture(scope="module")
def run(district: SampleDistrict) -> AreasGrids:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return grids_by_areas(
            district.buildings,
            district.communities,
            _cut_areas(district),
            delineate=delineate_grids,
            profile="ningxia-2025",
            streets=district.streets,
            compounds=district.compounds,
        )


def test_the_cuts_split_communities(district: SampleDistrict) -> None:
    areas = _cut_areas(district)
    pos = assign_areas(district.buildings, areas)
    split = pd.Series(pos).groupby(district.buildings["community_id"].to_numpy()).nunique()
    assert (split > 1).sum() >= 3, "the test areas should cut through communities"
    assert (pos >= 0).all()


def test_no_grid_crosses_an_area(district: SampleDistrict, run: AreasGrids) -> None:
    areas = _cut_areas(district)
    g = run.result.grids
    assert set(g[AREA_ID]) == set(areas.index)
    # each grid's buildings all lie in the grid's own area
    member = run.result.membership
    area_of = run.area_of
    for code, aid in g[AREA_ID].items():
        assert set(area_of[member == code]) == {aid}, code
    # and its polygon lies within its area (up to a tolerance)
    for code, row in g.iterrows():
        poly = areas.geometry.loc[row[AREA_ID]]
        outside = shapely.area(shapely.difference(row.geometry, poly))
        assert outside < 1e-6 * max(1.0, row.geometry.area), code
        assert row.geometry.within(poly.buffer(1e-6)), code


def test_every_building_in_exactly_one_grid(district: SampleDistrict, run: AreasGrids) -> None:
    m = run.result.membership
    assert m.index.equals(district.buildings.index)
    assert m.notna().all()
    counts = m.value_counts()
    assert counts.reindex(run.result.grids.index).eq(run.result.grids["n_buildings"]).all()
    assert set(counts.index) == set(run.result.grids.index)
    assert run.result.grids.index.is_unique
    assert all(c.split("/", 1)[0] == a for c, a in run.result.grids[AREA_ID].items())


def test_each_area_is_a_run_on_that_area_alone(district: SampleDistrict, run: AreasGrids) -> None:
    """Independently: the area's buildings (by representative point) and the
    communities cut to it, given to delineate_grids."""
    from geoplan.households import estimate_households
    from geoplan.profiles import load_profile

    areas = _cut_areas(district)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bld = estimate_households(
            district.buildings,
            params=load_profile("ningxia-2025"),
            areas=[district.communities, district.compounds],
        )
    reps = shapely.point_on_surface(bld.geometry.to_numpy())
    for k, aid in enumerate(areas.index):
        poly = areas.geometry.iloc[k]
        earlier = shapely.union_all(areas.geometry.iloc[:k].to_numpy()) if k else None
        inside = shapely.intersects(reps, poly)
        if earlier is not None:
            inside &= ~shapely.intersects(reps, earlier)
        comm = district.communities.copy()
        comm = comm.set_geometry(comm.geometry.intersection(poly))
        comm = comm[comm.geometry.area > 0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alone = delineate_grids(
                bld[inside],
                comm,
                profile="ningxia-2025",
                streets=district.streets,
                compounds=district.compounds,
            )
        mine = run.result.grids[run.result.grids[AREA_ID] == aid]
        assert [c.split("/", 1)[1] for c in mine.index] == alone.grids.index.tolist()
        cols = ["community_id", "households", "n_buildings", "target_id", "in_range", "reason"]
        pd.testing.assert_frame_equal(
            pd.DataFrame(mine[cols]).reset_index(drop=True),
            pd.DataFrame(alone.grids[cols]).reset_index(drop=True),
        )
        assert shapely.equals_exact(
            mine.geometry.to_numpy(), alone.grids.geometry.to_numpy(), tolerance=1e-9
        ).all()
        got = run.result.membership[inside]
        assert got.str.split("/", n=1).str[1].tolist() == alone.membership.tolist()
        row = run.areas.set_index(AREA_ID).loc[aid]
        assert row["grids"] == len(alone.grids)
        assert row["grids_out_of_range"] == alone.summary["n_out_of_range"]
        assert row["households"] == pytest.approx(alone.summary["households"])


def test_summary_and_table_add_up(run: AreasGrids) -> None:
    s, t = run.result.summary, run.areas
    assert t["status"].tolist() == ["ok", "ok", "ok"]
    assert s["n_grids"] == t["grids"].sum() == len(run.result.grids)
    assert s["n_out_of_range"] == t["grids_out_of_range"].sum()
    assert s["households"] == pytest.approx(t["households"].sum())
    assert s["n_areas"] == 3 and s["n_buildings_outside_areas"] == 0
    d = run.to_dict()
    assert [a[AREA_ID] for a in d["areas"]] == ["jd01", "jd02", "jd03"]
    assert all(g[AREA_ID] == g["grid_code"].split("/")[0] for g in d["grids"])
    json.dumps(d)


def test_buildings_outside_every_area(district: SampleDistrict) -> None:
    areas = _cut_areas(district).iloc[:2]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = grids_by_areas(
            district.buildings,
            district.communities,
            areas,
            delineate=delineate_grids,
            profile="ningxia-2025",
        )
    assert any("in no area" in str(w.message) for w in caught)
    out = r.areas.set_index(AREA_ID).loc["(outside)"]
    assert out["status"] == "outside" and out["grids"] == 0
    assert out["buildings"] == int(r.area_of.isna().sum()) > 0
    assert r.result.membership[r.area_of.isna()].isna().all()
    assert r.result.summary["n_buildings_outside_areas"] == out["buildings"]


def test_inputs_keep_area_order_and_cut_communities(district: SampleDistrict) -> None:
    areas = _cut_areas(district)
    inputs, pos = area_grid_inputs(district.buildings, district.communities, areas)
    assert [i.area_id for i in inputs] == areas.index.tolist()
    assert (pos >= 0).all()
    assert sum(len(i.buildings) for i in inputs) == len(district.buildings)
    for i, poly in zip(inputs, areas.geometry, strict=True):
        assert np.all(i.communities.geometry.area > 0)
        assert all(g.within(poly.buffer(1e-6)) for g in i.communities.geometry)


def test_cli_grids_areas(tmp_path: Path, district: SampleDistrict) -> None:
    from click.testing import CliRunner

    from geoplan.cli._main import main

    folder = tmp_path / "in"
    district.to_files(folder, fmt="geojson")
    areas_file = tmp_path / "jiedao.gpkg"
    _cut_areas(district).reset_index().rename(columns={AREA_ID: "code"}).to_file(areas_file)
    out = tmp_path / "out"
    args = [
        "grids",
        "--buildings",
        str(folder / "buildings.geojson"),
        "--communities",
        str(folder / "communities.geojson"),
        "--streets",
        str(folder / "streets.geojson"),
    ]
    res = CliRunner().invoke(
        main, [*args, "--areas", str(areas_file), "--area-id", "code", "--json", "--out", str(out)]
    )
    payload = json.loads(res.stdout)
    assert res.exit_code == (0 if payload["passed"] else 1), res.output
    assert [a[AREA_ID] for a in payload["areas"]] == ["jd01", "jd02", "jd03"]
    assert payload["summary"]["n_grids"] == len(payload["grids"]) > 0
    names = {p.name for p in out.iterdir()}
    assert {"grids.gpkg", "grids.csv", "grids.json", "grids_areas.csv"} <= names
    grids = gpd.read_file(out / "grids.gpkg", layer="grids")
    assert AREA_ID in grids.columns and grids["grid_code"].is_unique
    members = gpd.read_file(out / "grids.gpkg", layer="buildings")
    assert {AREA_ID, "grid_code"} <= set(members.columns)
    table = pd.read_csv(out / "grids_areas.csv")
    assert table[AREA_ID].tolist() == ["jd01", "jd02", "jd03"]

    bad = CliRunner().invoke(main, [*args, "--tiles", "4"])
    assert bad.exit_code == 2 and "--areas" in bad.output


# --------------------------------------------------------------------------- site


@pytest.fixture(scope="module")
def site_run(district: SampleDistrict) -> tuple[AreasSites, WalkNetwork]:
    net = network_from_lines(district.streets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = sites_by_areas(
            net,
            district.buildings,
            district.facilities,
            candidates_from_network(net),
            _cut_areas(district),
            solve=suggest_sites,
            category="wet_market",
            profile="tianjin-2025",
            compounds=district.compounds,
            gates=district.gates,
            communities=district.communities,
        )
    return run, net


def test_site_each_area_is_a_run_on_that_area_alone(
    district: SampleDistrict, site_run: tuple[AreasSites, WalkNetwork]
) -> None:
    from geoplan.households import estimate_households
    from geoplan.profiles import load_profile

    run, net = site_run
    areas = _cut_areas(district)
    cands = candidates_from_network(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bld = estimate_households(
            district.buildings,
            params=load_profile("tianjin-2025"),
            areas=[district.compounds, district.communities],
        )
    reps = shapely.point_on_surface(bld.geometry.to_numpy())
    creps = shapely.point_on_surface(cands.geometry.to_numpy())
    total_sites = 0
    for k, aid in enumerate(areas.index):
        poly = areas.geometry.iloc[k]
        earlier = shapely.union_all(areas.geometry.iloc[:k].to_numpy()) if k else None
        inside, cin = shapely.intersects(reps, poly), shapely.intersects(creps, poly)
        if earlier is not None:
            inside &= ~shapely.intersects(reps, earlier)
            cin &= ~shapely.intersects(creps, earlier)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alone = suggest_sites(
                net,
                bld[inside],
                district.facilities,
                cands[cin],
                category="wet_market",
                profile="tianjin-2025",
                compounds=district.compounds,
                gates=district.gates,
                communities=district.communities,
            )
        mine = run.result.sites[run.result.sites[AREA_ID] == aid]
        assert mine.index.tolist() == alone.sites.index.tolist()
        assert mine["added_households"].tolist() == alone.sites["added_households"].tolist()
        # every site of the area stands in it and serves its households
        assert all(shapely.intersects(poly, g) for g in mine.geometry)
        row = run.areas.set_index(AREA_ID).loc[aid]
        assert row["sites"] == alone.n_sites
        assert row["coverage_after"] == pytest.approx(alone.coverage_after, abs=1e-6)
        assert row["reached"] == alone.reached
        assert run.by_area[aid].households_total == alone.households_total
        total_sites += alone.n_sites
    r = run.result
    assert r.n_sites == total_sites == len(r.sites) > 0
    assert r.households_total == pytest.approx(
        sum(x.households_total for x in run.by_area.values())
    )
    assert r.covered_after.index.equals(district.buildings.index)
    d = run.to_dict()
    assert all(s[AREA_ID] in set(areas.index) for s in d["sites"])
    json.dumps(d)


def test_cli_site_areas(tmp_path: Path, district: SampleDistrict) -> None:
    from click.testing import CliRunner

    from geoplan.cli._main import main

    folder = tmp_path / "in"
    district.to_files(folder, fmt="geojson")
    areas_file = tmp_path / "jiedao.gpkg"
    _cut_areas(district).reset_index().rename(columns={AREA_ID: "code"}).to_file(areas_file)
    out = tmp_path / "out"
    args = [
        "site",
        "--network",
        str(folder / "streets.geojson"),
        "--buildings",
        str(folder / "buildings.geojson"),
        "--facilities",
        str(folder / "facilities.geojson"),
        "--communities",
        str(folder / "communities.geojson"),
        "--category",
        "wet_market",
    ]
    res = CliRunner().invoke(
        main, [*args, "--areas", str(areas_file), "--area-id", "code", "--json", "--out", str(out)]
    )
    assert res.exit_code in (0, 1), res.output
    payload = json.loads(res.stdout)
    assert [a[AREA_ID] for a in payload["areas"]] == ["jd01", "jd02", "jd03"]
    assert payload["n_sites"] == len(payload["sites"])
    assert all(s[AREA_ID] in {"jd01", "jd02", "jd03"} for s in payload["sites"])
    saved = json.loads((out / "sites.json").read_text(encoding="utf-8"))
    assert all("lon" in s and s[AREA_ID] for s in saved["sites"])
    assert {"sites.gpkg", "sites.csv", "sites.json", "sites_areas.csv"} <= {
        p.name for p in out.iterdir()
    }
    assert AREA_ID in gpd.read_file(out / "sites.gpkg", layer="sites").columns

    bad = CliRunner().invoke(main, [*args, "--tiles", "4"])
    assert bad.exit_code == 2 and "--areas" in bad.output

"""A corpus of bad inputs across every command.

Each case is what a user could really hand geoplan: a wrong column, a lat/lon swap,
GCJ-02 data on a WGS84 network, a truncated file, a profile without the targets a
command needs. Every case asserts the same four things:

- exit code 2 (bad input), or, where the issue calls for a warning and a result,
  the ``警告:``/``warning:`` line and exit 0/1;
- the message names the file, and the row id and the column where there is one;
- no Python traceback and no partial output in ``--out``;
- the input files are byte for byte what they were.
"""

from __future__ import annotations

import bz2
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from geoplan.cli import main
from geoplan.sample import make_sample_district

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
HAIDIAN = SHARED / "osm" / "beijing_haidian_cau.osm.bz2"


@dataclass
class Case:
    """args: the command line; expect: substrings the output must hold (any case)."""

    args: list[str]
    expect: list[str]
    exit_code: int | tuple[int, ...] = 2
    warning: bool = False  # a warning line is due (the run itself goes on)
    out: Path | None = None
    notes: list[str] = field(default_factory=list)


class Workspace:
    """The sample district as user files in one folder, plus helpers to spoil them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inputs = root / "inputs"
        self.inputs.mkdir()
        d = make_sample_district(seed=0)
        d.to_files(self.inputs)
        d.to_files(self.inputs, fmt="csv")
        self.gpkg = self.inputs / "sample_district.gpkg"
        self.out = root / "out"

    def path(self, name: str) -> Path:
        return self.inputs / name

    def csv(self, layer: str) -> pd.DataFrame:
        return pd.read_csv(self.path(f"{layer}.csv"), dtype=str, keep_default_na=False)

    def write_csv(self, name: str, frame: pd.DataFrame) -> Path:
        path = self.path(name)
        frame.to_csv(path, index=False, encoding="utf-8")
        return path

    def layer(self, name: str) -> gpd.GeoDataFrame:
        return gpd.read_file(self.gpkg, layer=name, engine="pyogrio")

    def write_layer(self, name: str, frame: gpd.GeoDataFrame, *, layer: str) -> Path:
        path = self.path(name)
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
        return path

    def write_text(self, name: str, text: str | bytes) -> Path:
        path = self.path(name)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


def _spoil_cell(ws: Workspace, layer: str, row: str, column: str, value: str) -> Path:
    frame = ws.csv(layer)
    id_col = frame.columns[0]
    frame.loc[frame[id_col] == row, column] = value
    return ws.write_csv(f"{layer}_bad.csv", frame)


# ----------------------------------------------------------------------------- cases
# Each builder takes the workspace and returns a Case.

FA = ["audit", "floor-area"]
ORG = ["audit", "organisations"]


def fa_text_in_floor_area(ws: Workspace) -> Case:
    fac = _spoil_cell(ws, "facilities", "F0005", "floor_area_m2", "约五十")
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(fac), "--out", str(ws.out)],
        ["facilities_bad.csv", "F0005", "floor_area_m2"],
        out=ws.out,
    )


def fa_negative_households(ws: Workspace) -> Case:
    comm = _spoil_cell(ws, "communities", "120104001003", "households", "-40")
    return Case(
        [*FA, "--communities", str(comm), "--facilities", str(ws.gpkg), "--out", str(ws.out)],
        ["communities_bad.csv", "120104001003", "households"],
        out=ws.out,
    )


def fa_no_coordinates(ws: Workspace) -> Case:
    fac = ws.csv("facilities").drop(columns=["lon", "lat"])
    path = ws.write_csv("facilities_nolonlat.csv", fac)
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(path)],
        ["facilities_nolonlat.csv", "lon"],
    )


def fa_lat_lon_swapped(ws: Workspace) -> Case:
    fac = ws.csv("facilities").rename(columns={"lon": "lat", "lat": "lon"})
    path = ws.write_csv("facilities_swapped.csv", fac)
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(path), "--out", str(ws.out)],
        ["facilities_swapped.csv", "F0001", "lat"],
        out=ws.out,
    )


def fa_duplicate_ids(ws: Workspace) -> Case:
    fac = ws.csv("facilities")
    fac.loc[3, "facility_id"] = fac.loc[2, "facility_id"]
    path = ws.write_csv("facilities_dup.csv", fac)
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(path)],
        ["facilities_dup.csv", str(fac.loc[2, "facility_id"]), "facility_id"],
    )


def fa_duplicate_headers(ws: Workspace) -> Case:
    comm = ws.csv("communities")
    comm.insert(4, "户数", comm["households"])
    path = ws.write_csv("communities_twice.csv", comm)
    return Case(
        [*FA, "--communities", str(path), "--facilities", str(ws.gpkg)],
        ["communities_twice.csv", "户数", "households"],
    )


def fa_unknown_category_strict(ws: Workspace) -> Case:
    fac = _spoil_cell(ws, "facilities", "F0007", "category", "spaceport")
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(fac), "--strict"],
        ["facilities_bad.csv", "F0007", "category", "spaceport"],
    )


def fa_unknown_category_warns(ws: Workspace) -> Case:
    fac = _spoil_cell(ws, "facilities", "F0007", "category", "spaceport")
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(fac)],
        ["facilities_bad.csv", "spaceport"],
        exit_code=(0, 1),
        warning=True,
    )


def fa_profile_without_targets(ws: Workspace) -> Case:
    return Case(
        [
            *FA,
            "--communities",
            str(ws.gpkg),
            "--facilities",
            str(ws.gpkg),
            "--profile",
            "mofcom-15min",
            "--out",
            str(ws.out),
        ],
        ["mofcom-15min", "tianjin-2025"],
        out=ws.out,
    )


def fa_unknown_profile(ws: Workspace) -> Case:
    return Case(
        [
            *FA,
            "--communities",
            str(ws.gpkg),
            "--facilities",
            str(ws.gpkg),
            "--profile",
            "tianjin-2099",
        ],
        ["tianjin-2099", "tianjin-2025"],
    )


def fa_broken_profile_threshold(ws: Workspace) -> Case:
    from geoplan.profiles import load_profile

    text = load_profile("tianjin-2025").to_toml()
    text = text.replace("threshold = 30.0", 'threshold = "thirty"', 1)
    path = ws.write_text("my-city.toml", text)
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(ws.gpkg), "--profile", str(path)],
        ["my-city.toml", "service_area_per_100_households", "threshold"],
    )


def fa_missing_file(ws: Workspace) -> Case:
    return Case(
        [*FA, "--communities", str(ws.path("没有这个文件.gpkg")), "--facilities", str(ws.gpkg)],
        ["没有这个文件.gpkg"],
    )


def fa_bad_crs(ws: Workspace) -> Case:
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(ws.gpkg), "--crs", "epsg:999999"],
        ["--crs", "999999"],
    )


def fa_corrupt_geojson(ws: Workspace) -> Case:
    path = ws.write_text("社区.geojson", '{"type": "FeatureCollection", "features": [ {"type"')
    return Case(
        [*FA, "--communities", str(path), "--facilities", str(ws.gpkg)],
        ["社区.geojson"],
    )


def fa_header_only(ws: Workspace) -> Case:
    path = ws.write_text("facilities_empty.csv", "facility_id,name,category,lon,lat\n")
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(path)],
        ["facilities_empty.csv"],
    )


def fa_bad_wkt(ws: Workspace) -> Case:
    comm = _spoil_cell(ws, "communities", "120104001002", "wkt", "POLYGON ((117.1 39.1, 117.2")
    return Case(
        [*FA, "--communities", str(comm), "--facilities", str(ws.gpkg)],
        ["communities_bad.csv", "120104001002"],
    )


def fa_bow_tie_kept(ws: Workspace) -> Case:
    """Not bad input: a self-intersecting community polygon is repaired and said so."""
    comm = ws.layer("communities")
    b = comm.geometry.iloc[0].bounds
    comm.loc[comm.index[0], "geometry"] = shapely.Polygon(
        [(b[0], b[1]), (b[2], b[3]), (b[2], b[1]), (b[0], b[3])]
    )
    path = ws.write_layer("communities_bowtie.gpkg", comm, layer="communities")
    return Case(
        [*FA, "--communities", str(path), "--facilities", str(ws.gpkg)],
        ["communities_bowtie.gpkg"],
        exit_code=(0, 1),
        warning=True,
    )


def fa_out_is_a_file(ws: Workspace) -> Case:
    target = ws.write_text("results.txt", "not a folder")
    return Case(
        [*FA, "--communities", str(ws.gpkg), "--facilities", str(ws.gpkg), "--out", str(target)],
        ["results.txt"],
    )


def fa_excel_text_number(ws: Workspace) -> Case:
    comm = ws.csv("communities")
    comm.loc[comm["community_id"] == "120104001004", "households"] = "八百"
    path = ws.path("社区台账.xlsx")
    comm.rename(
        columns={"households": "户数", "name": "社区名称", "community_id": "社区编码"}
    ).to_excel(path, index=False)
    return Case(
        [*FA, "--communities", str(path), "--facilities", str(ws.gpkg)],
        ["社区台账.xlsx", "120104001004", "户数"],
    )


def org_text_in_workers(ws: Workspace) -> Case:
    comm = _spoil_cell(ws, "communities", "120104001002", "workers", "六")
    return Case(
        [*ORG, "--communities", str(comm), "--profile", "ningxia-2025", "--out", str(ws.out)],
        ["communities_bad.csv", "120104001002", "workers"],
        out=ws.out,
    )


def org_profile_without_targets(ws: Workspace) -> Case:
    return Case(
        [*ORG, "--communities", str(ws.gpkg), "--profile", "mofcom-15min"],
        ["mofcom-15min", "ningxia-2025"],
    )


def org_no_id_column(ws: Workspace) -> Case:
    comm = ws.csv("communities").drop(columns=["community_id"])
    path = ws.write_csv("communities_noid.csv", comm)
    return Case(
        [*ORG, "--communities", str(path), "--profile", "ningxia-2025"],
        ["communities_noid.csv", "community_id"],
    )


def org_bad_rate(ws: Workspace) -> Case:
    comm = _spoil_cell(ws, "communities", "120104001005", "double_report_rate", "很高")
    return Case(
        [*ORG, "--communities", str(comm), "--profile", "tianjin-2025"],
        ["communities_bad.csv", "120104001005", "double_report_rate"],
    )


COV = ["coverage"]


def _cov(
    ws: Workspace,
    *,
    network: Path | None = None,
    buildings: Path | None = None,
    facilities: Path | None = None,
    extra: tuple[str, ...] = (),
) -> list[str]:
    return [
        *COV,
        "--network", str(network or ws.gpkg),
        "--buildings", str(buildings or ws.gpkg),
        "--facilities", str(facilities or ws.gpkg),
        "--profile", "tianjin-2025",
        "--out", str(ws.out),
        *extra,
    ]  # fmt: skip


def cov_network_wrong_format(ws: Workspace) -> Case:
    path = ws.write_text("streets.txt", "this is not a network\n")
    return Case(_cov(ws, network=path), ["streets.txt"], out=ws.out)


def cov_buildings_far_away(ws: Workspace) -> Case:
    bld = ws.layer("buildings")
    bld["geometry"] = bld.geometry.translate(xoff=1_000_000)  # 1,000 km east
    path = ws.write_layer("buildings_far.gpkg", bld, layer="buildings")
    return Case(_cov(ws, buildings=path), ["buildings_far.gpkg"], out=ws.out)


def cov_facilities_off_network(ws: Workspace) -> Case:
    fac = ws.layer("facilities")
    fac["geometry"] = fac.geometry.translate(xoff=3_000, yoff=3_000)
    path = ws.write_layer("facilities_off.gpkg", fac, layer="facilities")
    return Case(_cov(ws, facilities=path), ["facilities_off.gpkg", "max_snap_m"], out=ws.out)


def cov_no_category_column(ws: Workspace) -> Case:
    fac = ws.csv("facilities").drop(columns=["category"])
    path = ws.write_csv("facilities_nocat.csv", fac)
    return Case(_cov(ws, facilities=path), ["facilities_nocat.csv", "category"], out=ws.out)


def cov_streets_are_polygons(ws: Workspace) -> Case:
    path = ws.write_layer("streets_poly.gpkg", ws.layer("communities"), layer="streets")
    return Case(_cov(ws, network=path), ["streets_poly.gpkg"], out=ws.out)


def cov_corrupt_npz(ws: Workspace) -> Case:
    path = ws.write_text("network.npz", b"PK\x03\x04 broken")
    return Case(_cov(ws, network=path), ["network.npz"], out=ws.out)


def cov_buildings_not_a_geopackage(ws: Workspace) -> Case:
    # GDAL cannot open it: bad input (exit 2) naming the file, not an internal error
    path = ws.write_text("楼栋.gpkg", "this is not a GeoPackage")
    return Case(_cov(ws, buildings=path), ["楼栋.gpkg"], out=ws.out)


def cov_lines_without_buildings(ws: Workspace) -> Case:
    return Case(
        [*COV, "--network", str(ws.gpkg), "--facilities", str(ws.gpkg), "--out", str(ws.out)],
        ["--buildings"],
        out=ws.out,
    )


def cov_profile_without_targets(ws: Workspace) -> Case:
    args = _cov(ws)
    args[args.index("tianjin-2025")] = "ningxia-2025"
    return Case(args, ["ningxia-2025", "mofcom-15min"], out=ws.out)


def cov_text_in_floors(ws: Workspace) -> Case:
    bld = ws.csv("buildings")
    bld.loc[bld["building_id"] == bld["building_id"].iloc[10], "floors"] = "六层"
    path = ws.write_csv("buildings_bad.csv", bld)
    return Case(
        _cov(ws, buildings=path),
        ["buildings_bad.csv", str(bld["building_id"].iloc[10]), "floors"],
        out=ws.out,
    )


def cov_buildings_wrong_crs_claim(ws: Workspace) -> Case:
    """Metric coordinates in a file that says EPSG:4326: latitude out of range."""
    bld = ws.layer("buildings").set_crs(4326, allow_override=True)
    path = ws.write_layer("buildings_liar.gpkg", bld, layer="buildings")
    return Case(_cov(ws, buildings=path), ["buildings_liar.gpkg"], out=ws.out)


@pytest.mark.shared_data
def cov_gcj02_facilities_on_osm(ws: Workspace) -> Case:
    from geoplan.crs import wgs84_to_gcj02
    from geoplan.io.osm import osm_facilities

    fac = osm_facilities(HAIDIAN).to_crs(4326)
    lon, lat = wgs84_to_gcj02(fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy())
    table = pd.DataFrame(
        {"facility_id": fac.index.astype(str), "name": fac["name"], "category": fac["category"],
         "lon": lon, "lat": lat}
    )  # fmt: skip
    path = ws.write_csv("amap_pois.csv", table)
    return Case(
        [
            *COV,
            "--network",
            str(HAIDIAN),
            "--facilities",
            str(path),
            "--profile",
            "mofcom-15min",
            "--out",
            str(ws.out),
        ],
        ["amap_pois.csv", "gcj02"],
        out=ws.out,
    )


@pytest.mark.shared_data
def cov_crs_on_osm_only(ws: Workspace) -> Case:
    return Case(
        [*COV, "--network", str(HAIDIAN), "--crs", "gcj02", "--out", str(ws.out)],
        ["--crs", "WGS84"],
        out=ws.out,
    )


NET = ["network", "build"]


@pytest.mark.shared_data
def net_osm_with_crs(ws: Workspace) -> Case:
    out = ws.root / "net.npz"
    return Case([*NET, str(HAIDIAN), "--out", str(out), "--crs", "gcj02"], ["--crs", "WGS84"])


def net_out_not_npz(ws: Workspace) -> Case:
    return Case([*NET, str(ws.gpkg), "--out", str(ws.root / "net.gpkg")], ["net.gpkg", ".npz"])


def net_truncated_osm(ws: Workspace) -> Case:
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        "<node id='1' lat='40.0' lon='116.3'/>\n<way id='9'><nd ref='1'/>"
    )
    path = ws.write_text("clip.osm.bz2", bz2.compress(xml.encode())[:-20])
    return Case([*NET, str(path), "--out", str(ws.root / "net.npz")], ["clip.osm.bz2"])


def net_osm_without_streets(ws: Workspace) -> Case:
    xml = (
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version='0.6'>\n"
        "<node id='1' lat='40.0' lon='116.3'/><node id='2' lat='40.001' lon='116.3'/>"
        "<node id='3' lat='40.001' lon='116.301'/>"
        "<way id='9'><nd ref='1'/><nd ref='2'/><nd ref='3'/><nd ref='1'/>"
        "<tag k='building' v='yes'/></way>\n</osm>\n"
    )
    path = ws.write_text("buildings_only.osm", xml)
    return Case([*NET, str(path), "--out", str(ws.root / "net.npz")], ["buildings_only.osm"])


def net_lines_without_crs(ws: Workspace) -> Case:
    streets = ws.layer("streets").set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="crs"):  # geopandas: the file will have no CRS
        path = ws.write_layer("streets_nocrs.gpkg", streets, layer="streets")
    return Case(
        [*NET, str(path), "--out", str(ws.root / "net.npz")], ["streets_nocrs.gpkg", "--crs"]
    )


SITE = ["site"]


def _site(ws: Workspace, *extra: str) -> list[str]:
    return [
        *SITE,
        "--network", str(ws.gpkg),
        "--buildings", str(ws.gpkg),
        "--facilities", str(ws.gpkg),
        "--profile", "tianjin-2025",
        "--out", str(ws.out),
        *extra,
    ]  # fmt: skip


def site_unknown_category(ws: Workspace) -> Case:
    return Case(_site(ws, "--category", "spaceport"), ["spaceport", "wet_market"], out=ws.out)


def site_bad_k(ws: Workspace) -> Case:
    return Case(_site(ws, "--category", "wet_market", "--k", "0"), ["--k"], out=ws.out)


def site_candidates_are_lines(ws: Workspace) -> Case:
    path = ws.write_layer("candidates.gpkg", ws.layer("streets"), layer="candidates")
    return Case(
        _site(ws, "--category", "wet_market", "--candidates", str(path)),
        ["candidates.gpkg"],
        out=ws.out,
    )


def site_category_without_target(ws: Workspace) -> Case:
    return Case(_site(ws, "--category", "bookstore"), ["bookstore", "tianjin-2025"], out=ws.out)


GRIDS = ["grids"]


def grids_streets_are_points(ws: Workspace) -> Case:
    path = ws.write_layer("streets_points.gpkg", ws.layer("gates"), layer="streets")
    return Case(
        [
            *GRIDS,
            "--buildings",
            str(ws.gpkg),
            "--communities",
            str(ws.gpkg),
            "--streets",
            str(path),
            "--out",
            str(ws.out),
        ],
        ["streets_points.gpkg"],
        out=ws.out,
    )


def grids_text_in_households(ws: Workspace) -> Case:
    bld = ws.csv("buildings")
    bid = str(bld["building_id"].iloc[5])
    bld.loc[bld["building_id"] == bid, "households"] = "许多"
    path = ws.write_csv("buildings_bad.csv", bld)
    return Case(
        [*GRIDS, "--buildings", str(path), "--communities", str(ws.gpkg), "--out", str(ws.out)],
        ["buildings_bad.csv", bid, "households"],
        out=ws.out,
    )


def grids_profile_without_ranges(ws: Workspace) -> Case:
    return Case(
        [
            *GRIDS,
            "--buildings",
            str(ws.gpkg),
            "--communities",
            str(ws.gpkg),
            "--profile",
            "mofcom-15min",
            "--out",
            str(ws.out),
        ],
        ["mofcom-15min", "ningxia-2025"],
        out=ws.out,
    )


DEV = ["audit", "development"]
PLANS = Path(__file__).resolve().parents[1] / "data" / "plans"


def dev_plan_missing_layer(ws: Workspace) -> Case:
    path = ws.write_layer("plan.gpkg", ws.layer("streets"), layer="streets")
    return Case(
        [*DEV, str(path), "--context", str(PLANS / "context.gpkg"), "--out", str(ws.out)],
        ["plan.gpkg"],
        out=ws.out,
    )


def dev_corrupt_context(ws: Workspace) -> Case:
    path = ws.write_text("context.gpkg", b"SQLite format 3\x00 broken")
    return Case(
        [*DEV, str(PLANS / "pass.gpkg"), "--context", str(path), "--out", str(ws.out)],
        ["context.gpkg"],
        out=ws.out,
    )


def dev_profile_missing(ws: Workspace) -> Case:
    return Case(
        [
            *DEV,
            str(PLANS / "pass.gpkg"),
            "--context",
            str(PLANS / "context.gpkg"),
            "--profile",
            "beijing-2099",
            "--out",
            str(ws.out),
        ],
        ["beijing-2099", "tianjin-2025"],
        out=ws.out,
    )


def map_empty_folder(ws: Workspace) -> Case:
    folder = ws.root / "nothing"
    folder.mkdir()
    return Case(["map", str(folder)], ["nothing"])


CASES: list[Callable[[Workspace], Case]] = [
    fa_text_in_floor_area,
    fa_negative_households,
    fa_no_coordinates,
    fa_lat_lon_swapped,
    fa_duplicate_ids,
    fa_duplicate_headers,
    fa_unknown_category_strict,
    fa_unknown_category_warns,
    fa_profile_without_targets,
    fa_unknown_profile,
    fa_broken_profile_threshold,
    fa_missing_file,
    fa_bad_crs,
    fa_corrupt_geojson,
    fa_header_only,
    fa_bad_wkt,
    fa_bow_tie_kept,
    fa_out_is_a_file,
    fa_excel_text_number,
    org_text_in_workers,
    org_profile_without_targets,
    org_no_id_column,
    org_bad_rate,
    cov_network_wrong_format,
    cov_buildings_far_away,
    cov_facilities_off_network,
    cov_no_category_column,
    cov_streets_are_polygons,
    cov_corrupt_npz,
    cov_buildings_not_a_geopackage,
    cov_lines_without_buildings,
    cov_profile_without_targets,
    cov_text_in_floors,
    cov_buildings_wrong_crs_claim,
    cov_gcj02_facilities_on_osm,
    cov_crs_on_osm_only,
    net_osm_with_crs,
    net_out_not_npz,
    net_truncated_osm,
    net_osm_without_streets,
    net_lines_without_crs,
    site_unknown_category,
    site_bad_k,
    site_candidates_are_lines,
    site_category_without_target,
    grids_streets_are_points,
    grids_text_in_households,
    grids_profile_without_ranges,
    dev_plan_missing_layer,
    dev_corrupt_context,
    dev_profile_missing,
    map_empty_folder,
]


def _params() -> list[object]:
    out = []
    for build in CASES:
        marks = list(getattr(build, "pytestmark", []))
        out.append(pytest.param(build, id=build.__name__, marks=marks))
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_corpus_is_large_and_spans_every_command() -> None:
    assert len(CASES) >= 40
    prefixes = {b.__name__.split("_")[0] for b in CASES}
    assert {"fa", "org", "cov", "net", "site", "grids", "dev"} <= prefixes


@pytest.mark.parametrize("build", _params())
def test_bad_input(
    build: Callable[[Workspace], Case], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if "HAIDIAN" in build.__code__.co_names:
        request.getfixturevalue("shared_data")  # skips, or fails under CI=true, when absent
    ws = Workspace(tmp_path)
    case = build(ws)
    before = _digest(ws.inputs)
    res = CliRunner().invoke(main, case.args)
    text = res.output
    allowed = case.exit_code if isinstance(case.exit_code, tuple) else (case.exit_code,)
    assert res.exit_code in allowed, f"exit {res.exit_code}\n{text}\n{res.exception!r}"
    assert isinstance(res.exception, SystemExit | None), repr(res.exception)
    assert "Traceback" not in text, text
    low = text.casefold()
    for piece in case.expect:
        assert piece.casefold() in low, f"{piece!r} not named in:\n{text}"
    if case.warning:
        assert "警告:" in text or "warning:" in low, text
        assert "Warning:" not in text.replace("warning:", ""), text  # no Python warning line
    if res.exit_code == 2 and case.out is not None:
        leftovers = sorted(p.name for p in case.out.rglob("*")) if case.out.exists() else []
        assert not leftovers, f"partial output after bad input: {leftovers}"
    assert _digest(ws.inputs) == before, "an input file was changed"

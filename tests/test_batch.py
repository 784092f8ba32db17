"""``geoplan batch MANIFEST.toml`` (issue 13, item 4): many cities on a LocalCluster.

Three cities made from the sample district (seeds 0, 1, 2) run as one task each on
a LocalCluster of two workers: every city's files are its single ``geoplan coverage``
run's; the summary across cities is written as CSV and Excel with Chinese headers;
a rerun skips the finished cities (their files untouched), an input changed runs
that city again, ``--force`` runs them all; a city with a broken input is reported
with its error, the others finish, and it runs again next time; a bad manifest is
bad input naming the file, the entry and the key.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from geoplan.areas.batch import MARKER, SUMMARY_CSV, SUMMARY_XLSX, read_manifest
from geoplan.cli import main
from geoplan.network import network_from_lines
from geoplan.sample import make_sample_district

#: name, seed, with communities
CITIES = (("南开", 0, True), ("河西", 1, False), ("和平", 2, True))
GPKG = "sample_district.gpkg"


def _entry(name: str, seed: int, communities: bool) -> str:
    lines = [
        "[[city]]",
        f'name = "{name}"',
        f'network = "city{seed}/walk.npz"',
        f'buildings = "city{seed}/{GPKG}"',
        f'facilities = "city{seed}/{GPKG}"',
    ]
    if communities:
        lines.append(f'communities = "city{seed}/{GPKG}"')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def cities(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three cities' files and their manifest (paths relative to it)."""
    folder = tmp_path_factory.mktemp("cities")
    for _, seed, _ in CITIES:
        d = make_sample_district(seed=seed)
        d.to_files(folder / f"city{seed}")
        network_from_lines(d.streets).save(folder / f"city{seed}" / "walk.npz")
    text = '[defaults]\nprofile = "mofcom-15min"\nmap = false\n\n'
    text += "\n".join(_entry(*c) for c in CITIES)
    (folder / "cities.toml").write_text(text, encoding="utf-8")
    return folder


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _batch(manifest: Path, out: Path, *extra: str) -> Result:
    return _invoke("batch", str(manifest), "--out", str(out), *extra)


def _single(cities: Path, name: str, seed: int, communities: bool, out: Path) -> Path:
    """The city's own ``geoplan coverage`` run, as the manifest says it."""
    f = str(cities / f"city{seed}" / GPKG)
    args = ["coverage", "--network", str(cities / f"city{seed}" / "walk.npz")]
    args += ["--buildings", f, "--facilities", f, "--profile", "mofcom-15min", "--no-map"]
    if communities:
        args += ["--communities", f]
    res = _invoke(*args, "--out", str(out / name))
    assert res.exit_code == 1, res.output  # the sample district fails some targets
    return out / name


def _mtimes(out: Path) -> dict[str, int]:
    return {
        name: (out / name / "coverage.json").stat().st_mtime_ns
        + (out / name / MARKER).stat().st_mtime_ns
        for name, _, _ in CITIES
    }


def _summary(out: Path) -> list[dict[str, str]]:
    with (out / SUMMARY_CSV).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def first_run(cities: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    out = tmp_path_factory.mktemp("batch") / "out"
    return out, _batch(cities / "cities.toml", out, "--workers", "2")


def test_every_city_is_its_single_run(
    cities: Path, first_run: tuple[Path, Result], tmp_path: Path
) -> None:
    out, res = first_run
    assert res.exit_code == 1, res.output  # the worst city's: each fails some target
    for name, seed, comm in CITIES:
        single = _single(cities, name, seed, comm, tmp_path)
        mine = out / name
        assert json.loads((mine / "coverage.json").read_text(encoding="utf-8")) == json.loads(
            (single / "coverage.json").read_text(encoding="utf-8")
        ), name
        for f in ("coverage_findings.csv",):
            assert (mine / f).read_bytes() == (single / f).read_bytes(), (name, f)
        assert (mine / "coverage.gpkg").is_file() and (mine / MARKER).is_file()
        marker = json.loads((mine / MARKER).read_text(encoding="utf-8"))
        assert marker["exit_code"] == 1 and marker["status"] == "fail"
        assert (mine / "coverage_stdout.txt").read_text(encoding="utf-8").strip()


def test_the_summary_has_chinese_headers(first_run: tuple[Path, Result]) -> None:
    out, _ = first_run
    rows = _summary(out)
    assert [r["城市"] for r in rows] == [c[0] for c in CITIES]  # the manifest's order
    head = list(rows[0])
    assert head[:7] == ["城市", "状态", "本次", "建筑数", "户数", "估算户数占比", "不可达户数"]
    assert {"walk_convenience_store 达标率", "未达标社区数", "错误", "用时（秒）"} <= set(head)
    for (name, _, comm), r in zip(CITIES, rows, strict=True):
        doc = json.loads((out / name / "coverage.json").read_text(encoding="utf-8"))
        s = doc["summary"]
        assert (r["状态"], r["本次"], r["退出码"]) == ("未通过", "已运行", "1")
        assert int(r["建筑数"]) == s["buildings"] and float(r["户数"]) == s["households"]
        # the count rests on estimates (the test cities have no counts): the share says so
        assert float(r["估算户数占比"]) == pytest.approx(s["households_estimated_share"])
        share = s["targets"]["walk_convenience_store"]["households_share"]
        assert float(r["walk_convenience_store 达标率"]) == pytest.approx(share)
        assert (r["未达标社区数"] != "") == comm and r["错误"] == ""
        if comm:
            assert 0 < int(r["未达标社区数"]) <= int(r["社区数"])
    # the workbook: Chinese headers, English in the second row and in its own sheet
    wb = openpyxl.load_workbook(out / SUMMARY_XLSX, read_only=True)
    assert wb.sheetnames == ["汇总", "summary", "指标"]
    zh = list(wb["汇总"].iter_rows(values_only=True))
    assert list(zh[0]) == head
    assert zh[1][:5] == ("city", "status", "this_run", "buildings", "households")
    assert [r[0] for r in zh[2:]] == [c[0] for c in CITIES] and zh[2][1] == "未通过"
    wb.close()
    en = pd.read_excel(out / SUMMARY_XLSX, sheet_name="summary", engine="openpyxl")
    assert list(en["city"]) == [c[0] for c in CITIES] and set(en["status"]) == {"fail"}
    assert "walk_convenience_store__households_share" in en.columns
    about = pd.read_excel(out / SUMMARY_XLSX, sheet_name="指标", engine="openpyxl")
    assert "walk_convenience_store" in set(about["指标"]) and about["说明"].notna().all()


def test_a_rerun_skips_the_finished_cities(cities: Path, first_run: tuple[Path, Result]) -> None:
    """Runs after the two above (same output folder): skip, a changed input, --force."""
    out, _ = first_run
    manifest = cities / "cities.toml"
    before = _mtimes(out)
    res = _batch(manifest, out, "--workers", "2")
    assert res.exit_code == 1, res.output  # the recorded verdicts
    assert _mtimes(out) == before  # nothing of a finished city is touched
    assert {r["本次"] for r in _summary(out)} == {"已跳过"}
    assert "跳过" in res.output
    # an input newer than the city's run: that city runs again, the others are kept
    b = cities / "city2" / GPKG
    st = b.stat()
    os.utime(b, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    res = _batch(manifest, out, "--workers", "1")
    assert res.exit_code == 1, res.output
    after = _mtimes(out)
    assert [after[n] != before[n] for n, _, _ in CITIES] == [False, False, True]
    assert [r["本次"] for r in _summary(out)] == ["已跳过", "已跳过", "已运行"]
    # --force --city: that city only
    again = _mtimes(out)
    res = _batch(manifest, out, "--workers", "1", "--force", "--city", "河西")
    assert res.exit_code == 1, res.output
    after = _mtimes(out)
    assert [after[n] != again[n] for n, _, _ in CITIES] == [False, True, False]
    res = _batch(manifest, out, "--city", "北京")
    assert res.exit_code == 2 and "北京" in res.output, res.output
    # --force runs them all again
    again = _mtimes(out)
    res = _batch(manifest, out, "--workers", "2", "--force")
    assert res.exit_code == 1, res.output
    forced = _mtimes(out)
    assert all(forced[n] != again[n] for n, _, _ in CITIES)
    assert {r["本次"] for r in _summary(out)} == {"已运行"}


def test_a_broken_city_is_reported_and_the_others_finish(cities: Path, tmp_path: Path) -> None:
    (tmp_path / "broken.csv").write_text("building_id,floors\nB1,3\n", encoding="utf-8")
    good = cities / "city1"
    text = "\n".join(
        [
            "[[city]]",
            'name = "坏"',
            f'network = "{good / "walk.npz"}"',
            'buildings = "broken.csv"',
            f'facilities = "{good / GPKG}"',
            "map = false",
            "",
            "[[city]]",
            'name = "好"',
            f'network = "{good / "walk.npz"}"',
            f'buildings = "{good / GPKG}"',
            f'facilities = "{good / GPKG}"',
            "map = false",
        ]
    )
    manifest = tmp_path / "m.toml"
    manifest.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    res = _batch(manifest, out, "--workers", "1", "--lang", "en")
    assert res.exit_code == 2, res.output  # the worst city's: bad input
    bad, ok = _summary(out)
    assert (bad["城市"], bad["状态"], bad["退出码"]) == ("坏", "输入有误", "2")
    assert "broken.csv" in bad["错误"] and "no geometry" in bad["错误"], bad["错误"]
    assert bad["建筑数"] == "" and not (out / "坏" / MARKER).exists()
    assert (ok["状态"], ok["退出码"]) == ("未通过", "1") and int(ok["建筑数"]) > 0
    assert (out / "好" / MARKER).is_file()
    assert "broken.csv" in res.output
    # the failed city runs again next time; the finished one is skipped
    res = _batch(manifest, out, "--workers", "1")
    assert res.exit_code == 2, res.output
    assert [r["本次"] for r in _summary(out)] == ["已运行", "已跳过"]


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('[[city]]\nname = "a"\nnetwork = "n.npz"\nbuildngs = "b"\n', "unknown key 'buildngs'"),
        ('[[city]]\nname = "a"\nbuildings = "b.gpkg"\n', "key 'network' is missing"),
        ('[[city]]\nname = "a"\nnetwork = "n.npz"\n', "key 'buildings' is missing"),
        ('[[city]]\nname = "a"\nnetwork = "nope.npz"\n', "key 'network': no such file"),
        ('[[city]]\nname = "a"\nnetwork = "n.npz"\nmap = "no"\n', "key 'map': 'no' is not a"),
        ('[[city]]\nname = "a/b"\nnetwork = "n.npz"\n', "key 'name'"),
        ('[[city]]\nname = "a"\nnetwork = "n.npz"\ncolumns = { x = "nope" }\n', "key 'columns'"),
        ('[[city]]\nname = "a"\nnetwork = "n.npz"\nformat = "shp"\n', "key 'format'"),
        ("[[city]\nname = 1\n", "not a valid TOML file"),
        ('cities = 3\n[[city]]\nname = "a"\n', "unknown key 'cities'"),
        ("[defaults]\nmap = false\n", "no [[city]] entries"),
    ],
)
def test_a_bad_manifest_names_the_file_entry_and_key(tmp_path: Path, body: str, said: str) -> None:
    (tmp_path / "n.npz").write_bytes(b"")
    (tmp_path / "b.gpkg").write_bytes(b"")
    manifest = tmp_path / "m.toml"
    manifest.write_text(body, encoding="utf-8")
    res = _batch(manifest, tmp_path / "out")
    assert res.exit_code == 2, res.output
    assert "m.toml" in res.output and said in res.output, res.output
    if body.startswith("[[city]]\nname"):
        assert "[[city]] 1" in res.output
    assert not (tmp_path / "out").exists()  # nothing is run or written


def test_a_name_used_twice_names_both_entries(tmp_path: Path) -> None:
    for f in ("n.npz", "b.gpkg"):
        (tmp_path / f).write_bytes(b"")
    city = '[[city]]\nname = "a"\nnetwork = "n.npz"\nbuildings = "b.gpkg"\nfacilities = "b.gpkg"\n'
    manifest = tmp_path / "m.toml"
    manifest.write_text(city + "\n" + city, encoding="utf-8")
    res = _batch(manifest, tmp_path / "out")
    assert res.exit_code == 2 and "[[city]] 2 (a): key 'name'" in res.output, res.output
    assert "[[city]] 1" in res.output


def test_the_command_lines_and_defaults(tmp_path: Path) -> None:
    for f in ("n.npz", "b.gpkg", "p.toml"):
        (tmp_path / "in" / f).parent.mkdir(exist_ok=True)
        (tmp_path / "in" / f).write_bytes(b"")
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        '[defaults]\ncrs = 4326\nmap = false\nformat = ["parquet", "csv"]\n\n'
        '[[city]]\nname = "x"\nnetwork = "in/n.npz"\nbuildings = "in/b.gpkg"\n'
        'facilities = "in/b.gpkg"\nprofile = "in/p.toml"\ncolumns = { "户数" = "households" }\n'
        'elderly = true\ncrs = "gcj02"\n',
        encoding="utf-8",
    )
    [c] = read_manifest(manifest, out_dir=tmp_path / "out", jobs=2)
    a = list(c.argv)
    assert a[0] == "coverage" and a[a.index("--network") + 1] == str(tmp_path / "in" / "n.npz")
    assert a[a.index("--profile") + 1] == str(tmp_path / "in" / "p.toml")
    assert a[a.index("--crs") + 1] == "gcj02"  # the entry's own value over the default
    assert a[a.index("--columns") + 1] == "户数=households"
    assert "--elderly" in a and "--no-map" in a and a[a.index("--format") + 1] == "parquet,csv"
    assert a[a.index("--out") + 1] == str(tmp_path / "out" / "x") == c.folder
    assert a[-4:] == ["--lang", "zh", "--jobs", "2"]
    # the key: the same for --jobs and --lang, another for a changed input
    [same] = read_manifest(manifest, out_dir=tmp_path / "out", jobs=1, lang="en")
    assert same.key == c.key
    os.utime(tmp_path / "in" / "p.toml", ns=(0, 10**9))
    [changed] = read_manifest(manifest, out_dir=tmp_path / "out", jobs=2)
    assert changed.key != c.key

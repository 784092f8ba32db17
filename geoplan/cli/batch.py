"""``geoplan batch MANIFEST.toml``: the coverage audit of many cities, one task per city."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from geoplan.cli._common import echo_json, echo_warning, handle_errors
from geoplan.cli._options import json_option, lang_option

if TYPE_CHECKING:
    from geoplan.areas.batch import CityAnswer


@click.command("batch")
@click.argument("manifest", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder: OUT/<city>/ per city (the coverage command's files) and "
    "batch_summary.csv / batch_summary.xlsx across cities.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of a local dask cluster, one city at a time each (default: "
    "one per core, at most one per city to run).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="A running dask scheduler (dask scheduler / dask worker, dask-jobqueue, "
    "dask-kubernetes) instead of a local cluster; its workers must see the inputs and "
    "--out at the same paths.",
)
@click.option(
    "--force", is_flag=True, help="Run the cities finished before again (default: skip them)."
)
@click.option(
    "--city",
    "only",
    multiple=True,
    metavar="NAME",
    help="Run only this city of the manifest (repeatable); the summary keeps every city.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Processes for each city's walking passes (0: every core of its machine; the "
    "results do not depend on it).",
)
@json_option
@lang_option
@handle_errors
def batch(
    manifest: Path,
    out_dir: Path,
    workers: int | None,
    scheduler: str | None,
    force: bool,
    only: tuple[str, ...],
    jobs: int,
    as_json: bool,
    lang: str,
) -> None:
    """Run `geoplan coverage` for every city of MANIFEST (TOML) on a dask cluster.

    One [[city]] table per city; paths are relative to the manifest, a PostGIS
    table may be given as postgresql://user@host:port/db?table=NAME. Keys: name
    (its folder and row), network, buildings, facilities, communities (optional),
    profile, and as the coverage command takes them: crs, columns (a table of
    header = canonical name), elderly, strict, row_ids, estimate_households,
    default_levels, format, long, all_categories, map. A [defaults] table gives keys
    every city takes unless it sets its own.

    \b
        [defaults]
        profile = "mofcom-15min"
        map = false
    \b
        [[city]]
        name = "银川"
        network = "yinchuan/walk.npz"
        buildings = "yinchuan/buildings.gpkg"
        facilities = "yinchuan/facilities.gpkg"
        communities = "yinchuan/communities.gpkg"
        crs = "gcj02"
        columns = { "户数" = "households" }

    Each city runs as one task (its own `geoplan coverage` process on a worker) and
    writes OUT/<name>/; batch_summary.csv and batch_summary.xlsx (Chinese headers;
    English in the second header row and the sheet "summary") hold one row per city,
    written again after each city. A city is finished when OUT/<name>/batch_done.json
    is there (written last): it is skipped on the next run unless --force or its
    command or an input file changed. A failed city is reported with its error and
    the others go on. Exit code: the worst city's (0 pass, 1 fail, 2 bad input, 3 an
    error); a bad manifest is 2, naming the entry and the key. See docs/scale.md.
    """
    from geoplan.areas.batch import read_manifest, run_batch

    cities = read_manifest(manifest, out_dir=out_dir, jobs=jobs, lang=lang)
    zh = lang == "zh"

    def said(answer: CityAnswer) -> None:
        if not as_json:
            click.echo(_city_line(answer, zh=zh))

    run = run_batch(
        cities,
        out_dir=out_dir,
        workers=workers,
        scheduler=scheduler,
        force=force,
        only=only,
        progress=not as_json,
        on_city=said,
    )
    if as_json:
        records = run.summary.to_dict(orient="records")
        echo_json(
            {
                "cities": records,
                "summary": [str(p) for p in run.paths],
                "notes": run.notes,
                "exit_code": run.exit_code,
            }
        )
    else:
        counts = run.summary["status"].value_counts().to_dict()
        order = ("pass", "fail", "bad_input", "error", "pending")
        parts = [f"{counts[s]} {_STATUS[s][0 if zh else 1]}" for s in order if counts.get(s)]
        head = f"城市 {len(cities)} 个：" if zh else f"{len(cities)} cities: "
        click.echo(head + ("，" if zh else ", ").join(parts))
        for p in run.paths:
            click.echo(f"  -> {p}")
        for note in run.notes:
            echo_warning(note, lang=lang)
    sys.exit(run.exit_code)


_STATUS = {
    "pass": ("通过", "pass"),
    "fail": ("未通过", "fail"),
    "bad_input": ("输入有误", "bad input"),
    "error": ("出错", "error"),
    "pending": ("未完成", "not run"),
}


def _city_line(a: CityAnswer, *, zh: bool) -> str:
    status = _STATUS.get(a.status, _STATUS["error"])[0 if zh else 1]
    if a.skipped:
        return (
            f"  {a.name}: {status}（此前已完成，跳过）"
            if zh
            else f"  {a.name}: {status} (done before, skipped)"
        )
    took = f"{a.seconds:.1f} s" if a.seconds is not None else ""
    text = f"  {a.name}: {status}" + (f", {took}" if took else "")
    if a.error:
        text += f": {a.error}"
    return text


COMMANDS = [batch]

"""``geoplan coverage``: walking access of households to services over the network."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAIL,
    EXIT_INTERNAL,
    EXIT_PASS,
    Progress,
    echo_json,
    echo_warning,
    handle_errors,
    print_result,
    require_targets,
)
from geoplan.cli._ledger import echo_ledger, ledger_option, save_ledger
from geoplan.cli._options import (
    InputFile,
    crs_option,
    households_options,
    input_label,
    jobs_option,
    json_option,
    lang_option,
    postgis_target,
    read_options,
    table_options,
)
from geoplan.cli._walk_layers import read_walk_layers

if TYPE_CHECKING:
    from geoplan.areas import AreasCoverage
    from geoplan.audit.results import AuditResult
    from geoplan.cli._options import ReadOptions, TableOptions


@click.command("coverage")
@click.option(
    "--network",
    "network_path",
    required=True,
    type=InputFile(),
    help="Walking network: OSM file (.osm/.osm.bz2/.pbf), a saved .npz "
    "(`geoplan network build`), or a line layer (a file, or a PostGIS table: "
    "postgresql://user@host:port/db?table=streets).",
)
@click.option(
    "--buildings",
    type=InputFile(),
    default=None,
    help="Buildings (households or floors): a file or a PostGIS table URI "
    "(postgresql://user@host:port/db?table=buildings); default: from the OSM file.",
)
@click.option(
    "--facilities",
    type=InputFile(),
    default=None,
    help="Facilities with a category; default: POIs of the OSM file.",
)
@click.option(
    "--communities",
    type=InputFile(),
    default=None,
    help="Community polygons: per-community results, central districts.",
)
@click.option(
    "--profile",
    "profile_name",
    default="mofcom-15min",
    show_default=True,
    help="Profile name or .toml file with coverage targets.",
)
@click.option("--elderly", is_flag=True, help="Use the profile's elderly walking speed.")
@crs_option
@read_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for outputs: coverage.json, coverage_findings.csv, the tables in each "
    "--format (coverage.gpkg by default) and the offline gap map.",
)
@click.option(
    "--map/--no-map",
    "make_map",
    default=True,
    show_default=True,
    help="Write the gap map (HTML, PNG) into --out.",
)
@click.option(
    "--to-postgis",
    "to_postgis",
    default=None,
    metavar="URI",
    callback=postgis_target,
    help="Also write the per-building table to this PostGIS table, replacing it "
    "(postgresql://user@host:port/db?table=NAME; never an input table).",
)
@click.option(
    "--areas",
    "areas_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Run area by area on dask: district or 街道 polygons (needs --out). The "
    "results are the single run's; coverage_areas.csv adds one row per area.",
)
@click.option("--area-id", default=None, help="Id column of --areas (default: row numbers).")
@click.option(
    "--tiles",
    default=None,
    metavar="N|CxR",
    help="Run area by area on a regular grid of about N tiles (or C columns x R rows, "
    "e.g. 3x3) over the buildings (needs --out).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="With --areas/--tiles: worker processes of a local dask cluster (one thread "
    "each; default one per core).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="With --areas/--tiles: a running dask scheduler (dask scheduler / dask worker) "
    "instead of a local cluster; its workers must see --out and the inputs.",
)
@table_options
@ledger_option
@households_options
@jobs_option
@json_option
@lang_option
@handle_errors
def coverage(
    network_path: Path | str,
    buildings: Path | str | None,
    facilities: Path | str | None,
    communities: Path | str | None,
    profile_name: str,
    elderly: bool,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    make_map: bool,
    to_postgis: str | None,
    areas_path: Path | None,
    area_id: str | None,
    tiles: str | None,
    workers: int | None,
    scheduler: str | None,
    tables: TableOptions,
    ledger_path: Path | None,
    estimate_hh: bool,
    default_levels: float | None,
    jobs: int,
    as_json: bool,
    lang: str,
) -> None:
    """Share of households (and residents) that reach each service within the
    profile's walking times, over the real street network.

    The per-building table holds, for every category a target names, the walk in
    metres and minutes, the nearest facility and whether it is covered
    (--all-categories: every category of the facilities too)."""
    from geoplan._errors import DataQualityWarning, InputError
    from geoplan._timing import phase
    from geoplan.audit.coverage import audit_coverage
    from geoplan.audit.results import save_result
    from geoplan.io.postgis import same_table
    from geoplan.network import describe_network
    from geoplan.profiles import load_profile

    progress = Progress(quiet=as_json)
    by_areas = areas_path is not None or tiles is not None
    if by_areas and out_dir is None:
        raise InputError("--areas and --tiles need --out: the workers read the run's files there")
    if not by_areas and (workers or scheduler or area_id):
        raise InputError("--workers, --scheduler and --area-id go with --areas or --tiles")
    profile = load_profile(profile_name)
    require_targets(profile, ("coverage",), command="coverage")
    inputs = [p for p in (network_path, buildings, facilities, communities) if p is not None]
    if to_postgis is not None and any(same_table(to_postgis, p) for p in inputs):
        raise InputError(
            "--to-postgis: refusing to overwrite an input table", file=input_label(to_postgis)
        )
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        layers = read_walk_layers(
            network_path, buildings, facilities, communities,
            crs=crs, reading=reading, progress=progress,
        )  # fmt: skip
        net, bld, fac, comm = layers.net, layers.buildings, layers.facilities, layers.communities
        compounds, gates = layers.compounds, layers.gates
        # the layers line up with the network; households
        with progress.step("checking the layers line up; households"), phase("prepare"):
            bld = layers.lined_up(
                profile=profile,
                crs=crs,
                network_file=input_label(network_path),
                estimate=estimate_hh,
                default_levels=default_levels,
            )
        areas_run: AreasCoverage | None = None
        result: AuditResult | None
        with progress.step(f"walking distances ({len(bld):,} buildings, {len(fac):,} facilities)"):
            if by_areas:  # the walking passes area by area on dask, one audit of the merge
                from geoplan.areas.run import run_coverage_areas

                assert out_dir is not None  # refused above
                areas_run = run_coverage_areas(
                    bld, fac, net, network_path=network_path, out_dir=out_dir, profile=profile,
                    buildings_path=buildings, facilities_path=facilities, source_crs=crs,
                    read_buildings=reading.buildings, read_facilities=reading.facilities,
                    areas_path=areas_path, area_id=area_id, tiles=tiles, workers=workers,
                    scheduler=scheduler, communities=comm, elderly=elderly,
                    compounds=compounds, gates=gates, progress=not as_json,
                )  # fmt: skip
                result = areas_run.result
            else:
                result = audit_coverage(
                    bld,
                    fac,
                    net,
                    profile=profile,
                    communities=comm,
                    elderly=elderly,
                    compounds=compounds,
                    gates=gates,
                    jobs=jobs,
                    check_layers=False,  # lined_up_buildings checked them, naming the files
                )
    notes += sorted({str(w.message) for w in caught})
    if areas_run is not None:
        notes += areas_run.notes
        if result is None:  # no area answered: the per-area table says why
            _areas_failed(areas_run, out_dir, notes, protect=inputs, lang=lang, as_json=as_json)
    assert result is not None
    if to_postgis is not None:
        from geoplan.audit.results import table_columns
        from geoplan.io.postgis import write_postgis_layer

        with progress.step(f"writing {input_label(to_postgis)}"), phase("write.postgis"):
            picked = table_columns(result) if tables.lean else None
            table = result.table if picked is None else result.table[picked]
            write_postgis_layer(table, to_postgis, if_exists="replace")
    if out_dir is not None:
        with progress.step(f"writing {out_dir}"):
            with phase("write"):
                if areas_run is not None:  # the same files, and the per-area table
                    from geoplan.areas import save_areas

                    save_areas(areas_run, out_dir, protect=inputs, **tables.save)
                else:
                    save_result(result, out_dir, protect=inputs, **tables.save)
            if make_map:
                from geoplan.report.maps import write_gap_maps

                with phase("map"):
                    write_gap_maps(out_dir, coverage=result, facilities=fac, lang=lang, network=net)
    ledger = None
    if ledger_path is not None:
        ledger = save_ledger(
            [result],
            ledger_path,
            progress=progress,
            communities=comm,
            inputs=inputs,
            profiles=[profile],
            lang=lang,
        )
    with phase("print"):
        if as_json:
            payload: dict[str, Any] = result.to_dict()
            payload["network"] = describe_network(net)
            payload["notes"] = notes
            if areas_run is not None:
                from geoplan.areas.table import area_records

                payload["areas"] = area_records(areas_run.areas)
            echo_json(payload)
        else:
            _print_coverage(result, lang=lang)
            print_result(
                result,
                lang=lang,
                findings_csv=str(out_dir / "coverage_findings.csv") if out_dir else None,
            )
            if ledger is not None:
                echo_ledger(ledger, lang=lang)
            if areas_run is not None:
                from geoplan.areas.table import describe_areas

                for line in describe_areas(areas_run.areas, lang=lang):
                    click.echo(line)
            for note in notes:
                echo_warning(note, lang=lang)
    sys.exit(_exit_code(result, areas_run))


def _exit_code(result: AuditResult | None, run: AreasCoverage | None) -> int:
    """The worst of the audit's verdict and each area's: a failed area is bad input (2)
    or an error (3)."""
    codes = [EXIT_PASS if result is not None and result.passed else EXIT_FAIL]
    if run is not None:
        codes += [EXIT_BAD_INPUT if a.status == "bad_input" else EXIT_INTERNAL for a in run.failed]
    return max(codes)


def _areas_failed(
    run: AreasCoverage,
    out_dir: Path | None,
    notes: list[str],
    *,
    protect: list[Path | str],
    lang: str,
    as_json: bool,
) -> None:
    """No area answered: write the per-area table, say why, exit with the worst code."""
    from geoplan.areas import save_areas
    from geoplan.areas.table import area_records, describe_areas

    if out_dir is not None:
        save_areas(run, out_dir, protect=protect)
    if as_json:
        echo_json({"areas": area_records(run.areas), "notes": notes, "passed": False})
    else:
        for line in describe_areas(run.areas, lang=lang):
            click.echo(line)
        for note in notes:
            echo_warning(note, lang=lang)
    sys.exit(_exit_code(None, run))


def _print_coverage(result: AuditResult, *, lang: str) -> None:
    zh = lang == "zh"
    s = result.summary
    unit = "户" if zh and s["weighted_by"] == "households" else ("栋" if zh else s["weighted_by"])
    if s["weighted_by"] == "households":
        from geoplan.households import describe_households

        counted = describe_households(s, lang=lang)
    else:
        counted = f"{s['households']:,.0f} {unit}"
    click.echo(
        f"{s['buildings']:,} 栋建筑，{counted}；不可达 {s['unreachable_buildings']} 栋"
        if zh
        else f"{s['buildings']:,} buildings, {counted}; {s['unreachable_buildings']} unreachable"
    )
    for tid, info in s["targets"].items():
        share = info["households_share"]
        text = "n/a" if share is None else f"{share:.1%}"
        why = info.get("not_applicable")
        if share is None and why:
            text = why["zh" if zh else "en"]
        cause = info.get("zero_cause")
        why = f": {cause['zh' if zh else 'en']}" if cause else ""  # never a bare 0.0%
        rule = info.get("catchment")  # a size-dependent radius: say the rule, not the largest
        reach = rule["text_zh" if zh else "text_en"] if rule else f"within {info['within_m']:g} m"
        click.echo(
            f"  {tid}: {text} ({', '.join(info['categories'][:4])}"
            f"{'...' if len(info['categories']) > 4 else ''} {reach}){why}"
        )


COMMANDS = [coverage]

"""``geoplan coverage``: walking access of households to services over the network."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    crs_option,
    echo_json,
    echo_warning,
    handle_errors,
    households_options,
    jobs_option,
    json_option,
    lang_option,
    lined_up_buildings,
    print_result,
    read_options,
    require_targets,
    table_options,
)

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult
    from geoplan.cli._common import ReadOptions, TableOptions


@click.command("coverage")
@click.option(
    "--network",
    "network_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Walking network: OSM file (.osm/.osm.bz2/.pbf), a saved .npz "
    "(`geoplan network build`), or a line layer.",
)
@click.option(
    "--buildings",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Buildings (households or floors); default: from the OSM file.",
)
@click.option(
    "--facilities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Facilities with a category; default: POIs of the OSM file.",
)
@click.option(
    "--communities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
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
@table_options
@households_options
@jobs_option
@json_option
@lang_option
@handle_errors
def coverage(
    network_path: Path,
    buildings: Path | None,
    facilities: Path | None,
    communities: Path | None,
    profile_name: str,
    elderly: bool,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    make_map: bool,
    tables: TableOptions,
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
    from geoplan.io.readers import prepare_layer, read_buildings, read_communities, read_facilities
    from geoplan.network import check_source_crs, describe_network, network_kind, read_network
    from geoplan.profiles import load_profile

    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    require_targets(profile, ("coverage",), command="coverage")
    osm = network_kind(network_path) == "osm"
    if buildings is None and facilities is None and communities is None:
        check_source_crs(network_path, crs)  # --crs would describe no input at all
    if not osm and (buildings is None or facilities is None):
        raise InputError(
            "--buildings and --facilities are needed unless --network is an OSM file",
            file=str(network_path),
        )
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        compounds = gates = None
        with progress.step(f"reading {network_path}"):
            with phase("read.network"):  # a line layer or OSM file: read and built
                net = read_network(network_path)
            extract = None
            if osm and (buildings is None or facilities is None):
                from geoplan.io.osm import buildings_from_extract, facilities_from_extract, read_osm

                with phase("read.osm"):
                    extract = read_osm(network_path, to_crs=net.crs)
                compounds, gates = extract.compounds, extract.entrances
        with progress.step("reading buildings and facilities"):
            with phase("read.buildings"):
                if buildings is not None:
                    bld = read_buildings(
                        buildings, source_crs=crs, metric_crs=net.crs, **reading.buildings
                    )
                else:
                    assert extract is not None
                    bld = prepare_layer(
                        buildings_from_extract(extract).reset_index(),
                        "buildings",
                        file=str(network_path),
                        metric_crs=net.crs,
                    )
            with phase("read.facilities"):
                if facilities is not None:
                    fac = read_facilities(
                        facilities, source_crs=crs, metric_crs=net.crs, **reading.facilities
                    )
                else:
                    assert extract is not None
                    raw = facilities_from_extract(extract).reset_index()
                    fac = prepare_layer(
                        raw[["facility_id", "name", "category", "geometry"]],
                        "facilities",
                        file=str(network_path),
                        metric_crs=net.crs,
                    )
            comm = None
            if communities:
                with phase("read.communities"):
                    comm = read_communities(
                        communities, source_crs=crs, metric_crs=net.crs, **reading.communities
                    )
            reading.check_used()
            with phase("prepare"):  # the layers line up with the network; households
                bld = lined_up_buildings(
                    net,
                    profile=profile,
                    buildings=bld,
                    facilities=fac,
                    communities=comm,
                    stated=[
                        layer
                        for layer, given in (
                            (bld, buildings),
                            (fac, facilities),
                            (comm, communities),
                        )
                        if given is not None
                    ],
                    crs=crs,
                    network_file=str(network_path),
                    areas=[compounds, comm],
                    estimate=estimate_hh,
                    default_levels=default_levels,
                )
        with progress.step(f"walking distances ({len(bld):,} buildings, {len(fac):,} facilities)"):
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
    inputs = [p for p in (network_path, buildings, facilities, communities) if p is not None]
    if out_dir is not None:
        with progress.step(f"writing {out_dir}"):
            with phase("write"):
                save_result(result, out_dir, protect=inputs, **tables.save)
            if make_map:
                from geoplan.report.maps import write_gap_maps

                with phase("map"):
                    write_gap_maps(out_dir, coverage=result, facilities=fac, lang=lang, network=net)
    with phase("print"):
        if as_json:
            payload: dict[str, Any] = result.to_dict()
            payload["network"] = describe_network(net)
            payload["notes"] = notes
            echo_json(payload)
        else:
            _print_coverage(result, lang=lang)
            print_result(
                result,
                lang=lang,
                findings_csv=str(out_dir / "coverage_findings.csv") if out_dir else None,
            )
            for note in notes:
                echo_warning(note, lang=lang)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


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
        click.echo(
            f"  {tid}: {text} ({', '.join(info['categories'][:4])}"
            f"{'...' if len(info['categories']) > 4 else ''} within {info['within_m']:g} m){why}"
        )


COMMANDS = [coverage]

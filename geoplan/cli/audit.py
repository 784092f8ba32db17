"""``geoplan audit floor-area|organisations``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    echo_json,
    handle_errors,
    print_result,
    require_targets,
)
from geoplan.cli._groups import audit
from geoplan.cli._ledger import echo_ledger, ledger_option, save_ledger
from geoplan.cli._options import crs_option, json_option, lang_option, read_options

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult
    from geoplan.cli._options import ReadOptions
    from geoplan.profiles import Profile


_PROFILE = click.option(
    "--profile",
    "profile_name",
    default="tianjin-2025",
    show_default=True,
    help="Profile name (see `geoplan profiles list`) or a .toml file.",
)
_OUT = click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for outputs (GeoPackage, CSV, JSON); nothing is written without it.",
)
_LAYER_HELP = "GeoPackage, GeoJSON, Shapefile, CSV or Excel (.xlsx, .xls)."


@audit.command("floor-area")
@click.option(
    "--communities",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Community polygons, or a ledger without polygons when the facilities carry "
    "community_id. " + _LAYER_HELP,
)
@click.option(
    "--facilities",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Facilities (points or polygons). " + _LAYER_HELP,
)
@_PROFILE
@crs_option
@read_options
@_OUT
@ledger_option
@json_option
@lang_option
@handle_errors
def floor_area_cmd(
    communities: Path,
    facilities: Path,
    profile_name: str,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    ledger_path: Path | None,
    as_json: bool,
    lang: str,
) -> None:
    """Service floor area per 100 households, village minimum, activity share, new
    commercial + service share and developer service rooms, with shortfalls in m2."""
    from geoplan.audit import audit_floor_area
    from geoplan.io.readers import read_facilities, read_table
    from geoplan.profiles import load_profile

    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    require_targets(profile, ("floor_area", "development"), command="audit floor-area")
    with progress.step(f"reading {communities}"):
        comm: Any = read_table(communities, "communities", source_crs=crs, **reading.communities)
    with progress.step(f"reading {facilities}"):
        fac = read_facilities(
            facilities, source_crs=crs, metric_crs=getattr(comm, "crs", None), **reading.facilities
        )
    reading.check_used()
    with progress.step("auditing floor area"):
        result = audit_floor_area(comm, fac, profile=profile)
    inputs = [communities, facilities]
    _finish(result, out_dir, ledger_path, inputs, as_json, lang, progress, profile)


@audit.command("organisations")
@click.option(
    "--communities",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Community table with organisation columns (polygons, or a plain CSV).",
)
@click.option(
    "--facilities",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Facilities, for the volunteer-station share of service facilities.",
)
@_PROFILE
@crs_option
@read_options
@_OUT
@ledger_option
@json_option
@lang_option
@handle_errors
def organisations_cmd(
    communities: Path,
    facilities: Path | None,
    profile_name: str,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    ledger_path: Path | None,
    as_json: bool,
    lang: str,
) -> None:
    """Staffing and organisation targets: workers per 10,000 residents, social
    organisations, social workers, volunteer stations, terminals, opening hours, ..."""
    from geoplan.audit import audit_organisations
    from geoplan.io.readers import read_facilities, read_table
    from geoplan.profiles import load_profile

    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    require_targets(profile, ("organisations",), command="audit organisations")
    with progress.step(f"reading {communities}"):
        comm: Any = read_table(communities, "communities", source_crs=crs, **reading.communities)
    fac = None
    if facilities is not None:
        with progress.step(f"reading {facilities}"):
            fac = read_facilities(
                facilities,
                source_crs=crs,
                metric_crs=getattr(comm, "crs", None),
                **reading.facilities,
            )
    reading.check_used()
    with progress.step("auditing organisations"):
        result = audit_organisations(comm, profile=profile, facilities=fac)
    inputs = [communities] + ([facilities] if facilities else [])
    _finish(result, out_dir, ledger_path, inputs, as_json, lang, progress, profile)


def _finish(
    result: AuditResult,
    out_dir: Path | None,
    ledger_path: Path | None,
    inputs: list[Path],
    as_json: bool,
    lang: str,
    progress: Progress,
    profile: Profile,
) -> None:
    from geoplan.audit.results import save_result

    if out_dir is not None:
        with progress.step(f"writing {out_dir}"):
            save_result(result, out_dir, protect=inputs)
    ledger = None
    if ledger_path is not None:
        ledger = save_ledger(
            [result], ledger_path, progress=progress, inputs=inputs, profiles=[profile], lang=lang
        )
    if as_json:
        echo_json(result.to_dict())
    else:
        print_result(
            result,
            lang=lang,
            findings_csv=str(out_dir / f"{result.name}_findings.csv") if out_dir else None,
        )
        if ledger is not None:
            echo_ledger(ledger, lang=lang)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


COMMANDS = [audit]

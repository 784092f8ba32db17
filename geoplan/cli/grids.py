"""``geoplan grids``: delineate coded management grids of 300-500 households."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from geoplan.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    echo_json,
    handle_errors,
    require_targets,
)
from geoplan.cli._options import (
    crs_option,
    households_options,
    json_option,
    lang_option,
    read_options,
)
from geoplan.cli._outputs import print_grids, write_grids

if TYPE_CHECKING:
    from geoplan.cli._options import ReadOptions

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("grids")
@click.option("--buildings", required=True, type=_FILE, help="Buildings with households.")
@click.option(
    "--communities",
    required=True,
    type=_FILE,
    help="Community polygons (old_estate, district_code, 12-digit ids).",
)
@click.option(
    "--streets",
    type=_FILE,
    default=None,
    help="Street lines with highway: major roads separate grids.",
)
@click.option(
    "--own-grid-use",
    "own_grid_uses",
    multiple=True,
    help="Building use that forms a grid of its own (repeat), e.g. commercial.",
)
@click.option(
    "--profile",
    "profile_name",
    default="ningxia-2025",
    show_default=True,
    help="Profile with the grids households ranges.",
)
@crs_option
@read_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for grids.gpkg (grids + membership), grids.csv and grids.json.",
)
@households_options
@json_option
@lang_option
@handle_errors
def grids(
    buildings: Path,
    communities: Path,
    streets: Path | None,
    own_grid_uses: tuple[str, ...],
    profile_name: str,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    estimate_hh: bool,
    default_levels: float | None,
    as_json: bool,
    lang: str,
) -> None:
    """Partition each community into contiguous grids within the profile's household
    range, with unified codes. Exit 0 when every grid is in range (or exempt), 1 if not."""

    from geoplan.grids import delineate_grids
    from geoplan.households import estimate_households
    from geoplan.io.readers import read_aux_layer, read_buildings, read_communities
    from geoplan.profiles import load_profile

    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    require_targets(profile, ("grids",), command="grids")
    with progress.step(f"reading {communities} and {buildings}"):
        comm = read_communities(communities, source_crs=crs, **reading.communities)
        bld = read_buildings(buildings, source_crs=crs, metric_crs=comm.crs, **reading.buildings)
        reading.check_used()
        bld = estimate_households(
            bld,
            params=profile,
            areas=comm,
            estimate=estimate_hh,
            default_levels=default_levels,
        )
    roads = None
    if streets is not None:
        with progress.step(f"reading {streets}"):
            roads = read_aux_layer(
                streets,
                preferred=("streets", "roads", "network", "edges"),
                geom_types=("LineString", "MultiLineString"),
                source_crs=crs,
                metric_crs=comm.crs,
            )
    with progress.step("delineating grids"):
        result = delineate_grids(
            bld, comm, profile=profile, streets=roads, own_grid_uses=own_grid_uses
        )
    inputs = [p for p in (buildings, communities, streets) if p is not None]
    if out_dir is not None:
        with progress.step(f"writing {out_dir}"):
            write_grids(out_dir / "grids", result, bld, protect=inputs)
    if as_json:
        echo_json(result.to_dict())
    else:
        print_grids(result, lang=lang)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


COMMANDS = [grids]

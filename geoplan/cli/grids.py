"""``geoplan grids``: delineate coded management grids of 300-500 households."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from geoplan._errors import InputError
from geoplan.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    echo_json,
    handle_errors,
    require_targets,
)
from geoplan.cli._options import (
    InputFile,
    crs_option,
    households_options,
    input_label,
    json_option,
    lang_option,
    read_options,
)
from geoplan.cli._outputs import print_grids, write_grids

if TYPE_CHECKING:
    import geopandas as gpd

    from geoplan.areas.grids import AreasGrids
    from geoplan.cli._options import ReadOptions

#: an input: a file, or a PostGIS table URI (postgresql://...?table=T)
_FILE = InputFile()
_MEMBER_COLUMNS = ("households", "households_source", "households_estimated")


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
@click.option(
    "--areas",
    "areas_path",
    type=_FILE,
    default=None,
    help="District or 街道 polygons: grids are cut inside each area and never cross "
    "one; grid codes become <area_id>/<code>, grids_areas.csv adds one row per area.",
)
@click.option("--area-id", default=None, help="Id column of --areas (default: row numbers).")
@click.option(
    "--tiles",
    default=None,
    metavar="N|CxR",
    help="Not for grids (tiles would cut communities at arbitrary lines); use --areas.",
)
@households_options
@json_option
@lang_option
@handle_errors
def grids(
    buildings: Path | str,
    communities: Path | str,
    streets: Path | str | None,
    own_grid_uses: tuple[str, ...],
    profile_name: str,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    areas_path: Path | str | None,
    area_id: str | None,
    tiles: str | None,
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

    if tiles is not None:
        raise InputError(
            "grids do not run on --tiles: a tile edge would cut communities and grids at "
            "an arbitrary line; give district or 街道 polygons with --areas"
        )
    if area_id is not None and areas_path is None:
        raise InputError("--area-id goes with --areas")
    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    require_targets(profile, ("grids",), command="grids")
    with progress.step(f"reading {input_label(communities)} and {input_label(buildings)}"):
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
        with progress.step(f"reading {input_label(streets)}"):
            roads = read_aux_layer(
                streets,
                preferred=("streets", "roads", "network", "edges"),
                geom_types=("LineString", "MultiLineString"),
                source_crs=crs,
                metric_crs=comm.crs,
            )
    inputs = [p for p in (buildings, communities, streets, areas_path) if isinstance(p, Path)]
    if areas_path is not None:
        from geoplan.areas import read_areas
        from geoplan.areas.grids import grids_by_areas

        areas = read_areas(areas_path, id_column=area_id, source_crs=crs, metric_crs=comm.crs)
        with progress.step(f"delineating grids in {len(areas)} areas"):
            run = grids_by_areas(
                bld,
                comm,
                areas,
                delineate=delineate_grids,
                profile=profile,
                streets=roads,
                own_grid_uses=own_grid_uses,
            )
        result = run.result
        if out_dir is not None:
            with progress.step(f"writing {out_dir}"):
                _write_area_grids(out_dir, run, bld, protect=inputs)
        if as_json:
            echo_json(run.to_dict())
        else:
            print_grids(result, lang=lang)
            for row in run.areas.to_dict(orient="records"):
                n, hh, bad = row["grids"], row["households"], row["grids_out_of_range"]
                what = (
                    f"网格 {n} 个，{hh:,.0f} 户，{bad} 个超出范围"
                    if lang == "zh"
                    else f"{n} grids, {hh:,.0f} households, {bad} out of range"
                )
                click.echo(f"  [{row['area_id']}] {what}")
        sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)
    with progress.step("delineating grids"):
        result = delineate_grids(
            bld, comm, profile=profile, streets=roads, own_grid_uses=own_grid_uses
        )
    if out_dir is not None:
        with progress.step(f"writing {out_dir}"):
            write_grids(out_dir / "grids", result, bld, protect=inputs)
    if as_json:
        echo_json(result.to_dict())
    else:
        print_grids(result, lang=lang)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


def _write_area_grids(
    out_dir: Path, run: AreasGrids, buildings: gpd.GeoDataFrame, *, protect: list[Path]
) -> None:
    """A single run's grids files, with ``area_id``, plus the ``areas`` table."""
    from geoplan.cli._outputs import json_text
    from geoplan.io.write import write_csv, write_gpkg, write_text

    stem = out_dir / "grids"
    # the columns write_grids keeps of each building, and its area
    kept = [c for c in _MEMBER_COLUMNS if c in buildings.columns]
    members = buildings[[*kept, buildings.geometry.name]].assign(
        area_id=run.area_of, grid_code=run.result.membership
    )
    table = run.areas.set_index("area_id")
    layers = {"grids": run.result.grids, "buildings": members, "areas": table}
    write_gpkg(stem.with_suffix(".gpkg"), layers, protect=protect)
    write_csv(stem.with_suffix(".csv"), run.result.grids, protect=protect)
    write_csv(out_dir / "grids_areas.csv", table, protect=protect)
    write_text(stem.with_suffix(".json"), json_text(run.to_dict()), protect=protect)


COMMANDS = [grids]

"""``geoplan map``: the gap map from the outputs of ``audit floor-area`` and ``coverage``
(GeoPackage or GeoParquet tables, whichever the command wrote)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click

from geoplan.cli._common import EXIT_PASS, Progress, handle_errors
from geoplan.cli._options import lang_option


def _load_result(folder: Path, name: str) -> Any | None:
    """An audit's saved outputs as an object with table, summary, profile, parameters.

    The table is read from ``<name>.gpkg`` (its layer ``name``, and ``facilities``)
    or, when the folder has no GeoPackage, from the GeoParquet files
    ``<name>.parquet`` and ``<name>_facilities.parquet`` (``--format parquet``).
    """
    import pandas as pd

    from geoplan._errors import InputError

    js, gpkg, parquet = (folder / f"{name}{ext}" for ext in (".json", ".gpkg", ".parquet"))
    if not js.exists():
        return None
    try:
        meta = json.loads(js.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not a geoplan result: {exc}", file=str(js)) from exc
    facilities = None
    if gpkg.exists():
        import pyogrio

        table = _read_saved(gpkg, layer=name)
        if "facilities" in [str(n) for n in pyogrio.list_layers(gpkg)[:, 0]]:
            facilities = _read_saved(gpkg, layer="facilities")
    elif parquet.exists():
        table = _read_saved(parquet)
        beside = folder / f"{name}_facilities.parquet"
        if beside.exists():
            facilities = _read_saved(beside)
    else:
        raise InputError(
            f"{gpkg.name} (or {parquet.name}) is missing beside it: write the tables with "
            "--format gpkg or --format parquet",
            file=str(js),
        )
    index = {"coverage": "building_id", "floor_area": "community_id"}[name]
    if index in table.columns:
        table = table.set_index(index)
    findings = pd.DataFrame(meta.get("findings") or [])
    return SimpleNamespace(
        name=name,
        table=table,
        findings=findings,
        summary=meta.get("summary", {}),
        profile=meta.get("profile"),
        parameters=meta.get("parameters", {}),
        facilities=facilities,
    )


def _read_saved(path: Path, *, layer: str | None = None) -> Any:
    """A table geoplan wrote (a GeoPackage layer, a GeoParquet file) as written."""
    import geopandas as gpd

    from geoplan._errors import InputError

    try:
        if path.suffix == ".parquet":
            return gpd.read_parquet(path)
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # pyogrio and pyarrow raise several types
        where = f"layer {layer}: " if layer else ""
        raise InputError(f"{where}cannot read it: {exc}", file=str(path)) from exc


def _load_layers(folder: Path, pattern: str, layer: str) -> Any | None:
    """Every ``pattern`` GeoPackage's ``layer`` in ``folder`` (sorted by name), as one frame."""
    import geopandas as gpd
    import pandas as pd

    frames = []
    for path in sorted(folder.glob(pattern)):
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
        for col in ("site_id", "grid_code"):
            if col in frame.columns:
                frame = frame.set_index(col)
                break
        frames.append(frame)
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    crs = frames[0].crs
    return gpd.GeoDataFrame(pd.concat([f.to_crs(crs) for f in frames]), crs=crs)


@click.command("map")
@click.argument("results", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write; default RESULTS/gap_map.html (a PNG beside it).",
)
@click.option("--category", default=None, help="Category whose coverage the buildings show.")
@click.option(
    "--tiles",
    type=click.Choice(["none", "osm", "amap", "tianditu"]),
    default="none",
    show_default=True,
    help="Base tiles (online only; the overlay moves to GCJ-02 "
    "for AMap). Without tiles the map opens with no network at all.",
)
@click.option(
    "--png/--no-png",
    default=True,
    show_default=True,
    help="Also write a static PNG beside the HTML.",
)
@click.option("--title", default=None, help="Map title.")
@click.option(
    "--network",
    "network_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Walking network to draw under the buildings (the file given to `geoplan coverage`).",
)
@lang_option
@handle_errors
def map_cmd(
    results: Path,
    out: Path | None,
    category: str | None,
    tiles: str,
    png: bool,
    title: str | None,
    network_path: Path | None,
    lang: str,
) -> None:
    """Draw the gap map from a RESULTS folder written by `geoplan audit floor-area --out`
    and/or `geoplan coverage --out` (self-contained HTML that opens offline).

    Suggested sites written into the folder (``sites_<category>.gpkg`` of
    `geoplan site --out` or `geoplan demo`) and management grids (``grids.gpkg``)
    are drawn too. The map is RESULTS/gap_map.html (and .png), the name every
    command uses."""
    from geoplan._errors import InputError
    from geoplan.report.maps import GAP_MAP_STEM, headline_category, write_gap_map_files

    progress = Progress()
    with progress.step(f"reading {results}"):
        coverage = _load_result(results, "coverage")
        floor = _load_result(results, "floor_area")
    if coverage is None and floor is None:
        raise InputError(
            "no coverage.json or floor_area.json here: run `geoplan coverage "
            "--out` or `geoplan audit floor-area --out` first",
            file=str(results),
        )
    facilities = next(
        (r.facilities for r in (coverage, floor) if r is not None and r.facilities is not None),
        None,
    )
    if facilities is not None and "facility_id" in facilities.columns:
        facilities = facilities.set_index("facility_id")
    out = out or results / f"{GAP_MAP_STEM}.html"
    if category is None and coverage is not None:
        category = headline_category(coverage)
    sites = _load_layers(results, "sites_*.gpkg", "sites")
    grids = _load_layers(results, "grids.gpkg", "grids")
    network = None
    if network_path is not None:
        from geoplan.network import read_network

        with progress.step(f"reading {network_path}"):
            network = read_network(network_path)
    with progress.step(f"drawing {out}"):
        write_gap_map_files(
            out,
            png=png,
            coverage=coverage,
            floor_area=floor,
            facilities=facilities,
            category=category,
            title=title,
            lang=lang,
            tiles=None if tiles == "none" else tiles,
            sites=sites,
            grids=grids,
            network=network,
        )
    click.echo(str(out))
    sys.exit(EXIT_PASS)


COMMANDS = [map_cmd]

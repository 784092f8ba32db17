"""``geoplan network build|info``: a reusable walking network from OSM or lines."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geoplan.cli._common import EXIT_PASS, Progress, echo_json, handle_errors
from geoplan.cli._options import json_option


@click.group("network")
def network() -> None:
    """Build and inspect walking networks."""


@network.command("build")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Network file to write (.npz); reuse it with --network.",
)
@click.option(
    "--gpkg",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the edges as a GeoPackage to look at in QGIS.",
)
@click.option(
    "--crs",
    default=None,
    help="What the coordinates of a line-layer SOURCE are when the file says nothing or "
    "is wrong: gcj02 (AMap, Tencent), bd09 (Baidu), wgs84 or an EPSG code. Not for OSM "
    "files: they are WGS84 by definition.",
)
@json_option
@handle_errors
def build_cmd(source: Path, out: Path, gpkg: Path | None, crs: str | None, as_json: bool) -> None:
    """Read SOURCE (OSM .osm/.osm.bz2/.pbf, or a line layer) into a walking network."""
    from geoplan._errors import InputError
    from geoplan._timing import phase
    from geoplan.network import check_source_crs, describe_network, read_network

    if out.suffix.lower() != ".npz":
        raise InputError("the network file must end in .npz", file=str(out))
    if out.resolve() == source.resolve():
        raise InputError("refusing to overwrite an input file", file=str(out))
    check_source_crs(source, crs)
    progress = Progress(quiet=as_json)
    with progress.step(f"reading {source}"), phase("read.network"):  # read and built
        net = read_network(source, source_crs=crs)
    with progress.step(f"writing {out}"):
        with phase("write"):
            net.save(out)
        if gpkg is not None:
            with phase("write.gpkg"):
                net.save_gpkg(gpkg)
    stats = describe_network(net)
    if as_json:
        echo_json({"source": str(source), "out": str(out), **stats})
    else:
        click.echo(
            f"{stats['nodes']:,} nodes, {stats['edges']:,} edges, {stats['length_km']:,} km, "
            f"{stats['components']} connected pieces (largest {stats['largest_component_nodes']:,}"
            f" nodes) -> {out}"
        )
    sys.exit(EXIT_PASS)


COMMANDS = [network]

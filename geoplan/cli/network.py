"""``geoplan network build|info``: a reusable walking network from OSM or lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from geoplan.cli._common import (
    EXIT_PASS,
    Progress,
    crs_option,
    echo_json,
    handle_errors,
    json_option,
)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")


def is_osm(path: Path) -> bool:
    """True for OSM XML or PBF file names."""
    return path.name.lower().endswith(OSM_SUFFIXES)


def load_any_network(path: Path, *, crs: Any = None) -> Any:
    """A WalkNetwork from a saved ``.npz``, an OSM file or a line layer."""
    from geoplan.network import load_network, network_from_lines, network_from_osm

    if path.suffix.lower() == ".npz":
        return load_network(path)
    if is_osm(path):
        return network_from_osm(path, crs=crs)
    from geoplan.io.readers import read_aux_layer

    lines = read_aux_layer(
        path,
        preferred=("streets", "network", "edges", "roads"),
        geom_types=("LineString", "MultiLineString"),
        crs=crs,
    )
    return network_from_lines(lines)


def network_stats(net: Any) -> dict[str, Any]:
    """Counts a user wants to see after building a network."""
    _labels, sizes = net.components()
    return {
        "nodes": int(net.n_nodes),
        "edges": int(net.n_edges),
        "length_km": round(float(net.length_m.sum()) / 1000.0, 3),
        "components": len(sizes),
        "largest_component_nodes": int(sizes.max()) if len(sizes) else 0,
        "crs": net.crs.to_string() if net.crs is not None else None,
    }


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
@crs_option
@json_option
@handle_errors
def build_cmd(source: Path, out: Path, gpkg: Path | None, crs: str | None, as_json: bool) -> None:
    """Read SOURCE (OSM .osm/.osm.bz2/.pbf, or a line layer) into a walking network."""
    from geoplan._errors import InputError

    if out.suffix.lower() != ".npz":
        raise InputError("the network file must end in .npz", file=str(out))
    if out.resolve() == source.resolve():
        raise InputError("refusing to overwrite an input file", file=str(out))
    progress = Progress(quiet=as_json)
    with progress.step(f"reading {source}"):
        net = load_any_network(source, crs=crs)
    with progress.step(f"writing {out}"):
        net.save(out)
        if gpkg is not None:
            net.save_gpkg(gpkg)
    stats = network_stats(net)
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

"""``geoplan network build|info``: a reusable walking network from OSM or lines."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from geoplan.cli._common import (
    EXIT_PASS,
    Progress,
    echo_json,
    handle_errors,
    json_option,
)

OSM_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".osm.pbf", ".pbf")


def is_osm(path: Path) -> bool:
    """True for OSM XML or PBF file names."""
    return path.name.lower().endswith(OSM_SUFFIXES)


def load_any_network(path: Path, *, crs: Any = None) -> Any:
    """A WalkNetwork from a saved ``.npz``, an OSM file or a line layer.

    ``crs`` is what the user said the *input* coordinates are (``--crs``). It
    applies to a line layer only: an OSM file is WGS84 by definition and a saved
    ``.npz`` is already metric, so for those it is ignored here (the commands that
    read nothing else refuse it, :func:`refuse_crs_for`).
    """
    from geoplan.network import load_network, network_from_lines, network_from_osm

    if path.suffix.lower() == ".npz":
        return load_network(path)
    if is_osm(path):
        # network_from_osm's crs= is the *target* metric CRS; the local UTM zone it
        # picks by default is what every command wants
        return network_from_osm(path)
    from geoplan.io.readers import read_aux_layer

    lines = read_aux_layer(
        path,
        preferred=("streets", "network", "edges", "roads"),
        geom_types=("LineString", "MultiLineString"),
        crs=crs,
    )
    return network_from_lines(lines)


def refuse_crs_for(path: Path, crs: str | None) -> None:
    """InputError when ``--crs`` is given for an input that cannot take it.

    An OSM file is WGS84 by definition (and a saved ``.npz`` network is in its
    own metric CRS), so ``--crs`` (what the input coordinates are) cannot apply.
    """
    from geoplan._errors import InputError

    if crs is None:
        return
    if is_osm(path):
        raise InputError(
            f"--crs {crs}: an OpenStreetMap file is always WGS84 (EPSG:4326), so --crs "
            "cannot apply to it; leave --crs out (geoplan picks the local UTM zone itself)",
            file=str(path),
        )
    if path.suffix.lower() == ".npz":
        raise InputError(
            f"--crs {crs}: a saved network (.npz) keeps its own metric CRS; leave --crs out",
            file=str(path),
        )


def network_stats(net: Any) -> dict[str, Any]:
    """Counts a user wants to see after building a network."""
    sizes = net.component_sizes()
    return {
        "nodes": int(net.n_nodes),
        "edges": int(net.n_edges),
        "length_km": round(float(net.length_m.sum()) / 1000.0, 3),
        "components": int(sizes.size),
        "largest_component_nodes": int(sizes[0]) if sizes.size else 0,
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

    if out.suffix.lower() != ".npz":
        raise InputError("the network file must end in .npz", file=str(out))
    if out.resolve() == source.resolve():
        raise InputError("refusing to overwrite an input file", file=str(out))
    refuse_crs_for(source, crs)
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

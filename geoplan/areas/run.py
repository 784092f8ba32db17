"""A run by areas as ``geoplan coverage --areas / --tiles`` asks for it.

:func:`run_coverage_areas` takes the layers the client has read (it audits them)
and where they came from (the tasks read their windows there), and does the
rest: the areas from a polygon layer or a grid of tiles; the network saved once
into the output folder when it is not a saved ``.npz`` already; each layer read
by box where it can be (:func:`geoplan.areas.sources.direct_source`), else
staged into the output folder; the cluster (:func:`geoplan.areas.engine.dask_client`);
and :func:`geoplan.areas.coverage.coverage_by_areas`. What it did with the files
is said in the result's ``notes``.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import shapely

from geoplan._errors import InputError
from geoplan.areas.coverage import AreasCoverage, coverage_by_areas
from geoplan.areas.engine import dask_client
from geoplan.areas.layout import building_points, read_areas, tile_areas
from geoplan.areas.sources import LayerSource, direct_source
from geoplan.areas.task import AreaAnswer

if TYPE_CHECKING:
    from geoplan.network import WalkNetwork
    from geoplan.profiles import Profile

__all__ = ["STAGE_FOLDER", "parse_tiles", "run_coverage_areas"]

#: Sub-folder of the output folder for the layers staged for the tasks.
STAGE_FOLDER = "areas_inputs"
#: The name of the network saved for the tasks, in the output folder.
NETWORK_FILE = "network.npz"


def parse_tiles(text: str | int) -> int | tuple[int, int]:
    """``--tiles``: ``9`` (about nine tiles) or ``3x3`` (columns x rows).

    Examples
    --------
    >>> parse_tiles("9"), parse_tiles("4x2"), parse_tiles(16)
    (9, (4, 2), 16)
    """
    if isinstance(text, int):
        return text
    m = re.fullmatch(r"\s*(\d+)\s*(?:[xX×*]\s*(\d+))?\s*", str(text))
    if m is None or int(m.group(1)) < 1 or (m.group(2) is not None and int(m.group(2)) < 1):
        raise InputError(f"--tiles must be N or COLUMNSxROWS (e.g. 16 or 4x4), not {text!r}")
    if m.group(2) is None:
        return int(m.group(1))
    return (int(m.group(1)), int(m.group(2)))


def run_coverage_areas(
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    network: WalkNetwork,
    *,
    network_path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    profile: Profile | str,
    buildings_path: str | os.PathLike[str] | None = None,
    facilities_path: str | os.PathLike[str] | None = None,
    read_buildings: Mapping[str, object] | None = None,
    read_facilities: Mapping[str, object] | None = None,
    source_crs: str | None = None,
    areas_path: str | os.PathLike[str] | None = None,
    area_id: str | None = None,
    tiles: str | int | tuple[int, int] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    communities: gpd.GeoDataFrame | None = None,
    elderly: bool = False,
    compounds: gpd.GeoDataFrame | None = None,
    gates: gpd.GeoDataFrame | None = None,
    retries: int = 2,
    progress: bool = False,
    on_area: Callable[[AreaAnswer], None] | None = None,
) -> AreasCoverage:
    """The coverage audit area by area, from the files of a command line.

    Parameters
    ----------
    buildings, facilities, network, communities, compounds, gates, profile, elderly
        What the client read and audits (as for
        :func:`geoplan.areas.coverage.coverage_by_areas`).
    network_path
        The ``--network`` file: a saved ``.npz`` is mapped by the tasks as it is;
        an OSM file or line layer was built by the client, which saves the network
        once as ``out_dir/network.npz`` for them.
    out_dir
        The output folder; the tasks read what is saved there, so with
        ``scheduler`` every worker must see it at the same path.
    buildings_path, facilities_path, read_buildings, read_facilities, source_crs
        The files the layers were read from and the readers' keywords
        (``columns``, ``row_ids``, ``strict``) and ``--crs``: tasks read their
        windows of them by box where the file allows it; otherwise (no file: the
        layers of an OSM extract; CSV or Excel; rows numbered) the layer is staged
        into ``out_dir/areas_inputs/``.
    areas_path, area_id
        A polygon layer of areas and its id column (``--areas``, ``--area-id``).
    tiles
        Instead: a grid of tiles over the buildings (``--tiles``: ``16``, ``4x4``).
    workers, scheduler
        A LocalCluster of that many processes, or the running cluster at
        ``tcp://HOST:PORT`` (:func:`geoplan.areas.engine.dask_client`).
    retries, progress, on_area
        As for :func:`geoplan.areas.coverage.coverage_by_areas`.
    """
    if (areas_path is None) == (tiles is None):
        raise InputError("give --areas (a polygon layer) or --tiles N, one of them")
    if area_id is not None and areas_path is None:
        raise InputError("--area-id names a column of --areas; give --areas")
    out = Path(out_dir)
    notes: list[str] = []
    if areas_path is not None:
        areas = read_areas(
            areas_path, id_column=area_id, source_crs=source_crs, metric_crs=network.crs
        )
    else:
        assert tiles is not None
        pts = building_points(buildings)
        ok = ~shapely.is_missing(pts)
        if not ok.any():
            raise InputError("no building has a geometry to tile")
        bounds = shapely.total_bounds(pts[ok])
        areas = tile_areas(tuple(float(v) for v in bounds), parse_tiles(tiles), crs=network.crs)  # type: ignore[arg-type]
    from geoplan.network import network_kind

    if network_kind(network_path) == "npz":
        network_file = Path(network_path)
    else:
        network_file = network.save(out / NETWORK_FILE)
        notes.append(
            f"the network built from {network_path} is saved as {network_file} for the "
            "areas' tasks (give it as --network next time: it is read in no time)"
        )
    sources: dict[str, LayerSource] = {}
    for kind, path, kw in (
        ("buildings", buildings_path, read_buildings or {}),
        ("facilities", facilities_path, read_facilities or {}),
    ):
        if path is None:
            continue
        src = direct_source(
            path,
            kind,
            columns=kw.get("columns"),  # type: ignore[arg-type]
            source_crs=source_crs,
            row_ids=bool(kw.get("row_ids", False)),
            strict=bool(kw.get("strict", False)),
        )
        if src is not None:
            sources[kind] = src
    stage = out / STAGE_FOLDER
    with dask_client(workers=workers, scheduler=scheduler) as client:
        run = coverage_by_areas(
            buildings,
            facilities,
            network,
            network_file=network_file,
            areas=areas,
            profile=profile,
            client=client,
            sources=sources,
            stage_dir=stage,
            communities=communities,
            elderly=elderly,
            compounds=compounds,
            gates=gates,
            retries=retries,
            progress=progress,
            on_area=on_area,
        )
    if run.staged:
        names = ", ".join(p.stem for p in run.staged)
        notes.append(
            f"{names}: staged as GeoParquet in {stage} for the areas' tasks (they read "
            "their windows there; a GeoPackage or GeoParquet input with ids is read in "
            "place)"
        )
    return dataclasses.replace(run, notes=[*run.notes, *notes])

"""The coverage audit area by area, on a dask.distributed cluster, exact at the borders.

A city (or a province) is cut into areas: district or 街道 polygons, or a regular
grid of tiles. Each area's walking passes run as one task on the cluster; a task
reads its own windows of the layers (a bbox read, GeoParquet row groups, a PostGIS
query) and of the saved network, with a halo of the walking limit + ``max_snap_m``
+ a margin, so every building's distances are the single run's. The client merges
the answers and audits once. One module per job:

- :mod:`~geoplan.areas.layout`: the areas (:func:`read_areas`, :func:`tile_areas`)
  and each building's area (:func:`assign_areas`);
- :mod:`~geoplan.areas.sources`: where a task reads its window of a layer
  (:class:`LayerSource`, :func:`direct_source`, :func:`stage_layer`,
  :func:`read_window`);
- :mod:`~geoplan.areas.task`: one area's passes, a pure function of its inputs
  (:func:`area_reach`);
- :mod:`~geoplan.areas.engine`: the dask client and the run of the tasks, with
  retries, failures kept apart and a progress bar (:func:`dask_client`,
  :func:`run_areas`);
- :mod:`~geoplan.areas.coverage`: the whole run (:func:`coverage_by_areas`);
- :mod:`~geoplan.areas.table`: the per-area table and the files
  (:func:`area_table`, :func:`save_areas`);
- :mod:`~geoplan.areas.run`: the run as the command line asks for it, from its
  files (:func:`run_coverage_areas`);
- :mod:`~geoplan.areas.grids`, :mod:`~geoplan.areas.site`: management grids and
  suggested sites area by area (a grid never crosses an area; a site serves its own);
- :mod:`~geoplan.areas.manifest`, :mod:`~geoplan.areas.batch`,
  :mod:`~geoplan.areas.batch_summary`: many cities (``geoplan batch MANIFEST.toml``),
  one task per city, resumable, with a summary across cities.

See ``docs/areas.md``.
"""

from __future__ import annotations

from geoplan.areas.coverage import AreasCoverage, coverage_by_areas
from geoplan.areas.engine import dask_client, run_areas
from geoplan.areas.layout import AREA_ID, assign_areas, read_areas, tile_areas
from geoplan.areas.run import run_coverage_areas
from geoplan.areas.sources import LayerSource, direct_source, read_window, stage_layer
from geoplan.areas.table import area_table, save_areas
from geoplan.areas.task import AreaAnswer, AreaTask, area_reach

__all__ = [
    "AREA_ID",
    "AreaAnswer",
    "AreaTask",
    "AreasCoverage",
    "LayerSource",
    "area_reach",
    "area_table",
    "assign_areas",
    "coverage_by_areas",
    "dask_client",
    "direct_source",
    "read_areas",
    "read_window",
    "run_areas",
    "run_coverage_areas",
    "save_areas",
    "stage_layer",
    "tile_areas",
]

"""Walking reach: bounded multi-source shortest paths, reach matrices and service areas.

One module per job:

- :mod:`geoplan.reach.nearest`: the nearest facility of each category per origin
  (:func:`nearest_facilities`) and the multi-source pass under it
  (:func:`multi_source_distances`);
- :mod:`geoplan.reach.matrix`: every origin to every source within a limit
  (:func:`reach_matrix`), in exact spatial windows;
- :mod:`geoplan.reach.areas`: service areas, the streets within reach cut and
  buffered (:func:`service_areas`);
- ``_augment`` (private): the walking graph with one run's sources added as
  virtual nodes and doors, and the ``min_only`` pass from its doors;
- ``_inputs`` (private): the argument checks the three share.

Distances are measured from each origin to a facility and include both access
legs (origin -> street, street -> facility).
"""

from __future__ import annotations

from geoplan.reach.areas import service_areas
from geoplan.reach.matrix import reach_matrix
from geoplan.reach.nearest import multi_source_distances, nearest_facilities

__all__ = [
    "multi_source_distances",
    "nearest_facilities",
    "reach_matrix",
    "service_areas",
]

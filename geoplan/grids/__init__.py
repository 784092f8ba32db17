"""Management grids (网格化管理): partition communities into coded grids of households.

The Ningxia plan asks for grids of 300-500 households (100-300 in old estates or
where special groups live); commercial buildings, markets and large public venues
may be grids of their own, and every grid gets a unified code. The ranges come
from the profile's ``grids`` targets (measure ``households_range``), never from
the code.

Method (:func:`delineate_grids`), per community:

1. **Blocks.** The community polygon is cut by major roads (``highway`` in
   ``barrier_highways``) with :func:`shapely.polygonize`; buildings go to the
   block holding a point on their surface. A block too small to form a grid on
   its own (fewer households than the range's minimum) is merged with a touching
   block, so grids cross a major road only when that cannot be avoided; those
   grids are flagged ``crosses_road``. Blocks without buildings join a
   neighbour so that the grids tile the community.
2. **Order.** Within a block, buildings are ordered along a Hilbert curve
   (buildings of merged blocks stay together block by block).
3. **Cut.** Dynamic programming over the ordered buildings cuts the sequence
   into grids: first the fewest households outside the range (summed over the
   grids), then the fewest out-of-range grids, then sizes closest to the middle
   of the range. A building is never split.
4. **Polygons.** Each block is tessellated (Voronoi cells of points along the
   building outlines, clipped to the block); a grid's polygon is the union of
   its buildings' cells, so grids tile the community and stay inside it. A
   grid whose polygon falls apart gives the stray pieces (and their buildings)
   to the neighbouring grid it shares most border with.

Codes: ``<community code>-<sequence>``, the community code being the 12-digit
statistical code (6-digit district code + 3-digit street + 3-digit community,
e.g. ``120104001001``) and the sequence 3 digits in Hilbert order within the
community: ``120104001001-007``.

Modules: :mod:`~geoplan.grids.api` (:func:`delineate_grids`),
:mod:`~geoplan.grids.inputs` (households, communities, ranges, barriers),
:mod:`~geoplan.grids.partition` (steps 1-3), :mod:`~geoplan.grids.polygons`
(step 4), :mod:`~geoplan.grids.codes` and :mod:`~geoplan.grids.result`.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> comm = gpd.GeoDataFrame({"district_code": ["120104"], "old_estate": [False]},
...     geometry=[box(0, 0, 400, 100)], index=["120104001001"], crs=32650)
>>> b = gpd.GeoDataFrame({"households": [200.0, 200.0, 200.0, 200.0]},
...     geometry=[box(x, 40, x + 20, 60) for x in (20, 120, 220, 320)],
...     index=["b1", "b2", "b3", "b4"], crs=32650)
>>> g = delineate_grids(b, comm, profile="ningxia-2025")
>>> g.grids[["households", "in_range"]].values.tolist()
[[400.0, True], [400.0, True]]
>>> g.membership.tolist()
['120104001001-001', '120104001001-001', '120104001001-002', '120104001001-002']
"""

from geoplan.grids.api import delineate_grids
from geoplan.grids.codes import grid_code
from geoplan.grids.partition import hilbert_index
from geoplan.grids.result import GridResult

__all__ = ["GridResult", "delineate_grids", "grid_code", "hilbert_index"]

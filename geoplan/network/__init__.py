"""Walking networks as compact arrays, and snapping points onto their edges.

The rooms of this package, each one job:

- :mod:`~geoplan.network.graph`: :class:`WalkNetwork` (nodes, edges, CSR,
  components), :func:`load_network` and :func:`describe_network`;
- :mod:`~geoplan.network.build`: the builders (:func:`network_from_osm`,
  :func:`network_from_lines`, :func:`network_from_networkx`) and
  :func:`read_network`, which picks one by the file's name;
- :mod:`~geoplan.network.snap`: :func:`snap_points` and its :class:`Snapped`;
- ``_segment_grid`` (the exact nearest-edge search), ``_gates`` (access
  through compound gates) and ``_netfile`` (the memory-mapped ``.npz`` of a
  saved network), private to the package.

Everything here imports only :mod:`geoplan.io` and the package itself. See
``docs/network.md``.
"""

from __future__ import annotations

from geoplan.network.build import (
    check_source_crs,
    network_from_lines,
    network_from_networkx,
    network_from_osm,
    network_kind,
    read_network,
)
from geoplan.network.graph import WalkNetwork, csr_from_edges, describe_network, load_network
from geoplan.network.snap import Snapped, snap_points

__all__ = [
    "Snapped",
    "WalkNetwork",
    "check_source_crs",
    "csr_from_edges",
    "describe_network",
    "load_network",
    "network_from_lines",
    "network_from_networkx",
    "network_from_osm",
    "network_kind",
    "read_network",
    "snap_points",
]

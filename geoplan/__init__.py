"""geoplan: audit Chinese community-service planning targets on real geodata.

The public API is imported lazily, so ``import geoplan`` is cheap and has no side
effects; ``geoplan.audit_floor_area`` and friends load their module on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "InputError": "geoplan._errors",
    "GeoplanError": "geoplan._errors",
    "ProfileNotFound": "geoplan._errors",
    "DataQualityWarning": "geoplan._errors",
    "list_profiles": "geoplan.profiles",
    "load_profile": "geoplan.profiles",
    "read_communities": "geoplan.io.readers",
    "read_facilities": "geoplan.io.readers",
    "read_buildings": "geoplan.io.readers",
    "prepare_layer": "geoplan.io.readers",
    "estimate_households": "geoplan.households",
    "assign_facilities": "geoplan.audit",
    "audit_floor_area": "geoplan.audit",
    "audit_organisations": "geoplan.audit",
    "AuditResult": "geoplan.audit",
    "audit_coverage": "geoplan.audit",
    "audit_development": "geoplan.audit",
    "audit_access": "geoplan.audit",
    "problem_ledger": "geoplan.report",
    "write_ledger": "geoplan.report",
    "network_from_osm": "geoplan.network",
    "network_from_lines": "geoplan.network",
    "load_network": "geoplan.network",
    "nearest_facilities": "geoplan.reach",
    "service_areas": "geoplan.reach",
    "gap_map": "geoplan.render",
    "save_html": "geoplan.render",
    "make_sample_district": "geoplan.sample",
}

__all__ = sorted([*_LAZY, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'geoplan' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
